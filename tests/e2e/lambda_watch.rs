//! The built binary as a Lambda bootstrap: `cargo lambda watch` emulates the Runtime API,
//! `cargo lambda invoke --data-file` sends the corpus events, moto is S3 and SNS.

use super::tools::{free_port, tool, wait_for, Guard, Moto};
use super::{gzip, record, sdk, upload_corpus_objects, Alerts, BUCKET, ORG_KEY};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

const SECRET: &str = "e2eSecretAccessKeyThatMustNeverBeLogged";

fn invoke(port: u16, event: &str) -> Value {
    let file = super::corpus::corpus("triggers").join(event);
    invoke_with(port, event, &["--data-file", &file.to_string_lossy()])
}

pub fn invoke_with(port: u16, what: &str, data: &[&str]) -> Value {
    let (ok, text) = invoke_raw(port, data);
    assert!(ok, "invoke {what}: {text}");
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("invoke {what}: {e}: {text}"))
}

/// Invokes the function: whether it succeeded, and what it answered (or the error).
pub fn invoke_raw(port: u16, data: &[&str]) -> (bool, String) {
    let port = port.to_string();
    let out = Command::new(tool("cargo-lambda"))
        .args(["lambda", "invoke", "-A", "127.0.0.1", "-P", &port])
        .args(data)
        .arg("_")
        .output()
        .expect("cannot run cargo-lambda invoke");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        (true, text)
    } else {
        (false, text + &String::from_utf8_lossy(&out.stderr))
    }
}

/// The binary serving invocations under `cargo lambda watch`; both are stopped when dropped,
/// the function first.
pub struct Emulated {
    /// The function (fields drop in order: it goes first).
    pub function: Guard,
    _watch: Guard,
    /// Where the emulator listens.
    pub port: u16,
    /// The function's stdout and stderr.
    pub logs: std::path::PathBuf,
}

/// Starts the emulator and the binary as function `name`, with test credentials for us-east-1
/// and `env` on top.
pub fn emulate(name: &str, env: &[(&str, &str)]) -> Emulated {
    let port = free_port();
    let mut watch = Command::new(tool("cargo-lambda"));
    watch
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1"])
        .args(["-P", &port.to_string()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut watch = Guard(watch.spawn().expect("cannot start cargo lambda watch"));
    wait_for(
        SocketAddr::from(([127, 0, 0, 1], port)),
        "cargo lambda watch",
        &mut watch.0,
    );
    let logs = std::env::temp_dir().join(format!("trailwatch-e2e-{port}.log"));
    let log_file = std::fs::File::create(&logs).unwrap();
    let function = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .envs(env.iter().copied())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("cannot start the trailwatch binary");
    Emulated {
        function: Guard(function),
        _watch: watch,
        port,
        logs,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_serves_invocations_under_cargo_lambda_watch() {
    let moto = Moto::start();
    let shared = sdk(&moto.url(), 3).await;
    let (s3, sns) = trailwatch::lambda::clients(&shared, true);
    upload_corpus_objects(&s3).await;
    let alerts = Alerts::create(moto.addr, &sns, "watch").await;
    // About 53 MB of records once decompressed: streamed, the function stays far below that.
    let records: Vec<String> = (0..120_000)
        .map(|i| record(i, "TLSv1.2", "777788889999"))
        .collect();
    let big = gzip(&records);
    let (big_records, big_gz) = (records.len(), big.len());
    drop(records);
    s3.put_object()
        .bucket(BUCKET)
        .key("big/large.json.gz")
        .body(ByteStream::from(big))
        .send()
        .await
        .unwrap();

    let moto_url = moto.url();
    let emulated = emulate_ready(
        "trailwatch-e2e",
        &[
            ("TOPIC_ARN", alerts.topic.as_str()),
            ("AWS_ENDPOINT_URL", moto_url.as_str()),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
        ],
    );
    let (port, logs) = (emulated.port, emulated.logs.clone());

    let answer = invoke(port, "s3-put-cloudtrail.json");
    assert_eq!(
        answer,
        json!({"objects": 2, "skipped": 1, "alerts": 2, "ingest_errors": 0})
    );
    let answer = invoke(port, "sqs-mixed-deliveries.json");
    assert_eq!(answer, json!({"batchItemFailures": []}));
    let answer = invoke(port, "s3-test-event.json");
    assert_eq!(answer, json!({"test_event": "acknowledged"}));
    let event = json!({"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": "big/large.json.gz"}}}]});
    let before = peak_rss_kib(emulated.function.0.id());
    let started = std::time::Instant::now();
    let answer = invoke_with(port, "large object", &["--data-ascii", &event.to_string()]);
    assert_eq!(answer["objects"], 1, "{answer}");
    let peak = peak_rss_kib(emulated.function.0.id());
    eprintln!(
        "large object: {big_records} records, {big_gz} bytes gzipped, scanned in {:?}; peak RSS {} KiB before, {} KiB after",
        started.elapsed(),
        before,
        peak
    );
    assert!(
        peak < 64 * 1024,
        "peak RSS {peak} KiB: the object must be streamed, not buffered"
    );
    let (got, _) = alerts.take();
    let org: Vec<&Value> = got
        .iter()
        .filter(|a| a["source"]["key"] == ORG_KEY)
        .collect();
    assert_eq!(org.len(), 2, "twice from two invocations");
    assert_eq!(org[0]["id"], org[1]["id"], "same alert id on re-delivery");
    assert_eq!(org[0]["source"]["bucket"], BUCKET);
    drop(emulated);

    let text = std::fs::read_to_string(&logs).unwrap();
    let _ = std::fs::remove_file(&logs);
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "object scanned" && l["records"] == 2),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "trailwatch"),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l["Alerts"].as_u64().is_some()),
        "{text}"
    );
    // Lambda's log-level filter reads `level` and an RFC 3339 `timestamp` on every line.
    for l in &lines {
        let level = l["level"].as_str().unwrap_or("");
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
            "{l}"
        );
        let ts = l["timestamp"].as_str().unwrap_or("");
        assert!(
            ts.len() >= 20 && &ts[4..5] == "-" && &ts[10..11] == "T" && ts.ends_with('Z'),
            "{l}"
        );
    }
    let metrics: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert!(
        metrics
            .iter()
            .all(|l| l["FunctionName"] == "trailwatch-e2e" && l["level"] == "INFO"),
        "{text}"
    );
    assert!(!text.contains(SECRET), "a secret reached the logs");
}

/// The peak resident memory of a process (Linux `VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn init_fails_naming_the_missing_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env_remove("TOPIC_ARN")
        .env("MIN_SEVERITY", "high")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TOPIC_ARN: required"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["lambda"])
        .env("TOPIC_ARN", "arn:aws:sns:us-east-1:111122223333:a")
        .env("MAX_CONCURRENCY", "lots")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("MAX_CONCURRENCY"));
    // Configured, but not under Lambda: said, not a panic.
    let out = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["lambda"])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("TOPIC_ARN", "arn:aws:sns:us-east-1:111122223333:a")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AWS_LAMBDA_RUNTIME_API is not set"), "{err}");
    assert_ne!(out.status.code(), Some(101), "no panic: {err}");
    // A hand-made emulator that forgets the function's own variables: said, not a panic.
    let out = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env_remove("AWS_LAMBDA_FUNCTION_NAME")
        .env("TOPIC_ARN", "arn:aws:sns:us-east-1:111122223333:a")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AWS_LAMBDA_FUNCTION_NAME is not set"), "{err}");
    assert_ne!(out.status.code(), Some(101), "no panic: {err}");
}

/// [`emulate`], then waits until the function is ready; panics with its log if it exits at
/// init (an invocation would wait for it for ever).
pub fn emulate_ready(name: &str, env: &[(&str, &str)]) -> Emulated {
    let mut emulated = emulate(name, env);
    let start = std::time::Instant::now();
    loop {
        let log = std::fs::read_to_string(&emulated.logs).unwrap_or_default();
        if log.contains("trailwatch ready") {
            return emulated;
        }
        if let Ok(Some(status)) = emulated.function.0.try_wait() {
            panic!("the function exited at init ({status}): {log}");
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the function was not ready within 60 s: {log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
