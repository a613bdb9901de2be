//! Helpers shared by the integration tests.
#![allow(dead_code)]

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trailwatch-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// Runs the trailwatch binary with `args` (and `stdin`, if any).
pub fn trailwatch(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailwatch"));
    cmd.args(args)
        .current_dir(repo())
        .env_remove("AWS_LAMBDA_RUNTIME_API");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// A minimal record with an event id and a TLS version.
pub fn record(id: &str, tls: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"{id}","eventTime":"2026-01-01T00:00:00Z","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","awsRegion":"us-east-1","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/t"}},"tlsDetails":{{"tlsVersion":"{tls}","clientProvidedHostHeader":"s3.amazonaws.com"}}}}"#
    )
}

pub fn delivery(records: &[String]) -> String {
    format!(r#"{{"Records":[{}]}}"#, records.join(","))
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `trailwatch args` and returns its output and its peak memory in MiB (the child's own
/// `ru_maxrss`, read by a small Python wrapper).
pub fn measured(args: &[&str]) -> (std::process::Output, f64) {
    let script = "import resource, subprocess, sys\n\
                  p = subprocess.run(sys.argv[1:], capture_output=True)\n\
                  sys.stdout.buffer.write(p.stdout)\n\
                  sys.stderr.buffer.write(p.stderr)\n\
                  print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n\
                  sys.exit(p.returncode)";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_trailwatch"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("python3 runs the measurement");
    let err = text(&out.stderr);
    let kib: f64 = err.lines().last().unwrap().trim().parse().unwrap();
    (out, kib / 1024.0)
}
