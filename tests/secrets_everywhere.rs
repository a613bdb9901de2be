//! No secret reaches any output: a team's own rule copies a URL with a password, a user agent
//! with a token URL and a role session named after a token into its alerts (`group_by`), and
//! every output of replay (pretty, jsonl, findings) and of the Lambda (the SNS message's
//! `default` and `email` bodies, `Subject` and attributes, the EMF metric lines and the log
//! lines) is searched for the secrets.
#![cfg(feature = "lambda")]

#[path = "common/fakes.rs"]
mod fakes;

use fakes::*;
use proptest::prelude::*;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use trailwatch::cli::replay::{self, Replay};
use trailwatch::detectors::Settings;
use trailwatch::output::Format;
use trailwatch::Pipeline;
use trailwatch::Severity;

/// A team's own rule that copies the webhook URL, the user agent and the principal.
const RULE: &str = include_str!("data/rules/webhook-registered.yml");

struct Secrets {
    password: String,
    agent_password: String,
    token: String,
}

impl Secrets {
    fn all(&self) -> [&str; 3] {
        [&self.password, &self.agent_password, &self.token]
    }
}

fn delivery(s: &Secrets) -> Vec<u8> {
    let rec = json!({
        "eventVersion": "1.09", "eventTime": "2026-11-28T10:10:00Z",
        "eventSource": "codepipeline.amazonaws.com", "eventName": "PutWebhook",
        "awsRegion": "eu-west-1", "eventID": "e-1", "recipientAccountId": "111122223333",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": format!("ci-bot/2.1 (+https://ci:{}@git.example.com/repo)", s.agent_password),
        "userIdentity": {
            "type": "AssumedRole", "accountId": "111122223333",
            "arn": format!("arn:aws:sts::111122223333:assumed-role/Deployer/{}", s.token),
        },
        "requestParameters": {"url": format!("https://deploy:{}@hooks.example.com/x", s.password)},
    });
    let text = json!({ "Records": [rec] }).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

fn rule_dir() -> tempdir::Dir {
    let dir = tempdir::Dir::new("secrets-everywhere");
    std::fs::write(dir.path().join("webhook-registered.yml"), RULE).unwrap();
    dir
}

/// Everything replay writes (stdout and stderr) in `format`.
fn replay_output(rules: &std::path::Path, file: &std::path::Path, format: Format) -> String {
    let catalog = trailwatch::Catalog::load(&[rules.to_path_buf()], &[]).unwrap();
    let job = Replay {
        paths: vec![file.to_path_buf()],
        format,
        min_severity: Severity::Informational,
        fail_on: None,
        pipeline: Pipeline {
            catalog,
            settings: Settings::default(),
            disabled: Vec::new(),
            limits: Default::default(),
        },
        jobs: 1,
        progress: false,
        remote: None,
        top: None,
        correlation: Default::default(),
        verify: false,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    replay::run(&job, &mut out, &mut err).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("webhook-registered"),
        "the team's rule fired ({format:?}):\n{out}"
    );
    out + &String::from_utf8(err).unwrap()
}

/// A writer for the log lines of one test.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything the Lambda publishes and writes for the delivery: message bodies, subjects,
/// attributes, metric lines and log lines.
fn lambda_output(rules: &std::path::Path, data: Vec<u8>) -> String {
    let cfg = config(&[("MIN_SEVERITY", "informational")]);
    let catalog = trailwatch::lambda::catalog(&cfg, rules).unwrap();
    let source = FakeSource::default().with(BUCKET, ORG_KEY, Fake::Data(data));
    let (h, metrics) = handler_with(source, FakeSink::default(), cfg, catalog);
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let event =
        json!({"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": ORG_KEY}}}]});
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(h.handle(event, far_deadline())).unwrap()
    });
    let messages = h.sink.messages();
    assert!(
        messages.iter().any(|m| m
            .attributes
            .iter()
            .any(|(k, v)| *k == "detector" && v == "webhook-registered")),
        "the team's rule published an alert"
    );
    let mut all = String::new();
    for m in &messages {
        all.push_str(&m.body);
        all.push_str(&m.subject);
        for (k, v) in &m.attributes {
            all.push_str(&format!("\n{k}={v}"));
        }
    }
    all.push_str(&metrics.lock().unwrap().join("\n"));
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("object scanned"), "log lines were captured");
    all + &logs
}

fn assert_hidden(what: &str, text: &str, s: &Secrets) {
    for secret in s.all() {
        assert!(
            !text.contains(secret),
            "{what}: secret {secret} leaked:\n{text}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn secrets_copied_by_a_rule_reach_no_output(
        password in "[A-Za-z][A-Za-z0-9]{13,23}",
        agent_password in "[A-Za-z][A-Za-z0-9]{13,23}",
        token in "[A-Za-z0-9]{36}",
    ) {
        let s = Secrets { password, agent_password, token: format!("ghp_{token}") };
        let rules = rule_dir();
        let data = delivery(&s);
        let file = rules.path().join("111122223333_CloudTrail_eu-west-1_20261128T1010Z_Hook.json.gz");
        std::fs::write(&file, &data).unwrap();
        for format in [Format::Pretty, Format::Jsonl, Format::Findings] {
            assert_hidden(&format!("replay {format:?}"), &replay_output(rules.path(), &file, format), &s);
        }
        assert_hidden("the Lambda", &lambda_output(rules.path(), data), &s);
    }
}

/// A temporary directory removed when dropped.
mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(name: &str) -> Dir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("trailwatch-{name}-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
