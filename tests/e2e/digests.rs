//! CloudTrail's digest files end to end: moto's S3, SNS, SQS and DynamoDB, the binary under
//! the Lambda emulator, and CloudTrail's `ListPublicKeys` answered by a small server (moto
//! has no CloudTrail public keys) on the SDK's CloudTrail endpoint. Three trails over six
//! hours: one quiet but alive, one stopped after two hours (and back in the sixth), one with
//! a lost notification, a file rewritten after delivery and a forged file. Then
//! `replay --verify` on the same bucket gives the same verdicts.

use super::lambda_watch::{emulate_ready, invoke_with};
use super::state::{stack, Stack, BUCKET, TABLE};
use super::trails::{of, with_event, TrailSim, Written};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use trailwatch::correlate::time::format_time;
use trailwatch::digest::PublicKey;

/// 2026-11-28T10:00:00Z.
const T0: i64 = 1_795_860_000;
const H: i64 = 3600;

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// CloudTrail's `ListPublicKeys` (JSON 1.1) with `keys`, on a loopback port; counts calls.
fn key_server(keys: &[PublicKey]) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let list: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({"Value": base64(&k.der), "Fingerprint": k.fingerprint,
            "ValidityStartTime": T0 - 86_400, "ValidityEndTime": T0 + 86_400})
        })
        .collect();
    let body = json!({ "PublicKeyList": list }).to_string();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Ok(request) = super::http::read_message(&mut stream, false) else {
                continue;
            };
            if request
                .header("x-amz-target")
                .is_some_and(|t| t.ends_with("ListPublicKeys"))
            {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = std::io::Write::write_all(&mut stream, answer.as_bytes());
        }
    });
    (url, calls)
}

async fn put(s3: &aws_sdk_s3::Client, w: &Written) {
    let mut put = s3
        .put_object()
        .bucket(BUCKET)
        .key(&w.key)
        .body(ByteStream::from(w.bytes.clone()));
    if let Some(sig) = &w.signature {
        put = put
            .metadata("signature", sig)
            .metadata("signature-algorithm", "SHA256withRSA");
    }
    put.send().await.unwrap();
}

fn notify(keys: &[&str]) -> String {
    super::state::s3_event(keys)
}

/// (detector, key from `AWSLogs/` on) of every integrity verdict.
fn verdicts(alerts: &[Value]) -> BTreeSet<(String, String)> {
    let detectors = [
        "log-file-missing",
        "log-file-modified",
        "log-file-unlisted",
        "digest-invalid",
    ];
    alerts
        .iter()
        .filter(|a| detectors.contains(&a["detector"].as_str().unwrap_or("")))
        .map(|a| {
            let key = a["evidence"]["key"].as_str().unwrap_or("");
            let from = key.find("AWSLogs/").unwrap_or(0);
            (
                a["detector"].as_str().unwrap().to_owned(),
                key[from..].to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn digests_prove_silence_lost_rewritten_and_forged_files_and_replay_agrees() {
    let Stack {
        moto, s3, alerts, ..
    } = stack("digests").await;
    let account = "111122223333";
    let mut quiet = TrailSim::new(BUCKET, "", account, "eu-west-1", "quiet");
    let mut stopped = TrailSim::new(BUCKET, "", account, "eu-west-2", "stopped");
    let mut main = TrailSim::new(BUCKET, "", account, "us-east-1", "main");
    let keys = [
        quiet.public.clone(),
        stopped.public.clone(),
        main.public.clone(),
    ];
    let (keys_url, key_calls) = key_server(&keys);
    let moto_url = moto.url();
    let emulated = emulate_ready(
        "trailwatch-digests",
        &[
            ("TOPIC_ARN", alerts.topic.as_str()),
            ("AWS_ENDPOINT_URL", moto_url.as_str()),
            ("AWS_ENDPOINT_URL_CLOUDTRAIL", keys_url.as_str()),
            ("STATE_TABLE", TABLE),
        ],
    );
    let port = emulated.port;
    let deliver = |what: &str, keys: &[&str]| {
        let answer = invoke_with(port, what, &["--data-ascii", &notify(keys)]);
        assert!(answer.get("errorType").is_none(), "{what}: {answer}");
    };

    // The main trail's first hour: l2's notification is lost, l3 is rewritten after delivery
    // (S3 notifies the overwrite), f1 is written into the prefix by someone else.
    let l1 = main.log(T0 + 300, "l1", &["e1"]);
    let l2 = main.log(T0 + 900, "l2", &["e2"]);
    let l3 = main.log(T0 + 1500, "l3", &["e3"]);
    let mut rewritten = main.log(T0 + 1500, "l3", &["e3-rewritten"]);
    rewritten.key.clone_from(&l3.key);
    let forged = main.log(T0 + 2400, "f1", &["forged"]);
    for w in [&l1, &l2, &l3] {
        put(&s3, w).await;
    }
    deliver("l1 and l3", &[&l1.key, &l3.key]);
    put(&s3, &rewritten).await;
    deliver("l3 rewritten", &[&l3.key]);
    put(&s3, &forged).await;
    deliver("forged", &[&forged.key]);

    for hour in 1..=6 {
        let (start, end) = (T0 + (hour - 1) * H, T0 + hour * H);
        let files: Vec<&Written> = if hour == 1 {
            vec![&l1, &l2, &l3]
        } else {
            vec![]
        };
        let mut digests = vec![
            main.digest(start, end, &files),
            quiet.digest(start, end, &[]),
        ];
        if hour <= 2 || hour == 6 {
            digests.push(stopped.digest(start, end, &[]));
        }
        for d in &digests {
            put(&s3, d).await;
        }
        let keys: Vec<&str> = digests.iter().map(|d| d.key.as_str()).collect();
        deliver(&format!("digests of hour {hour}"), &keys);
        let check = json!({"trailwatch": "scheduled-check", "time": format_time(end + 600)});
        let answer = invoke_with(port, "check", &["--data-ascii", &check.to_string()]);
        assert_eq!(answer["scheduled"], "checked", "{answer}");
    }

    let (got, _) = alerts.take();
    let silent = of(&got, "trail-silent");
    assert_eq!(silent.len(), 1, "{silent:#?}");
    assert_eq!(silent[0]["evidence"]["trail"], "stopped");
    assert_eq!(silent[0]["severity"], "high");
    let resumed = of(&got, "trail-resumed");
    assert_eq!(resumed.len(), 1, "{resumed:#?}");
    assert_eq!(resumed[0]["region"], "eu-west-2");
    assert_eq!(
        with_event(&got, "e2"),
        1,
        "the lost notification's file, once: {got:#?}"
    );
    for id in ["e1", "e3", "e3-rewritten", "forged"] {
        assert_eq!(with_event(&got, id), 1, "{id}");
    }
    let modified = of(&got, "log-file-modified");
    assert_eq!(modified.len(), 1, "{modified:#?}");
    let unlisted = of(&got, "log-file-unlisted");
    assert_eq!(unlisted.len(), 1, "{unlisted:#?}");
    let forged_alert = got
        .iter()
        .find(|a| a["event_ids"] == json!(["forged"]))
        .unwrap();
    let named: Vec<&Value> = unlisted[0]["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert!(
        named.contains(&&forged_alert["id"]),
        "names the forged file's alert"
    );
    for d in ["digest-invalid", "log-file-missing", "trail-unverifiable"] {
        assert!(of(&got, d).is_empty(), "{d}: {:#?}", of(&got, d));
    }
    assert!(
        !got.iter().any(|a| a["region"] == "eu-west-1"),
        "nothing about the quiet trail"
    );
    // Fetched once per region, then kept.
    assert_eq!(key_calls.load(Ordering::SeqCst), 3);
    drop(emulated);

    // Replay over the same bucket: the same verdicts, every signature checked.
    let out = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["replay", "--verify", "--format", "jsonl", "--no-progress"])
        .arg(format!("s3://{BUCKET}/"))
        .env("AWS_ENDPOINT_URL", &moto_url)
        .env("AWS_ENDPOINT_URL_CLOUDTRAIL", &keys_url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let replayed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts(&replayed), verdicts(&got), "{err}");
    assert_eq!(verdicts(&got).len(), 2);
    assert!(
        err.contains("verify: 15 digest files, 3 log files listed, 3 of them read"),
        "{err}"
    );
    assert!(err.contains("signatures         15 valid"), "{err}");
}
