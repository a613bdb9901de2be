//! Replay and the Lambda decide alike: the same deliveries through `trailwatch replay` (in
//! process) and through the Lambda handler (in process, the state table in memory, then the
//! scheduled check) publish the same alerts. Both call the one stage after the pipeline.
#![cfg(feature = "lambda")]

#[path = "common/fakes.rs"]
mod fakes;

use fakes::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use trailwatch::cli::correlation::CorrelationOptions;
use trailwatch::cli::replay::{self, Replay};
use trailwatch::correlate::time::format_time;
use trailwatch::detectors::Settings;
use trailwatch::lambda::state::{AnyTable, MemoryTable, State};
use trailwatch::output::Format;
use trailwatch::{Catalog, Pipeline, Severity};

/// A failed console sign-in of user `u{i % 4}` from one address, at `at`.
fn failed_login(i: usize, at: i64) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"bf-{i:03}","eventTime":"{}","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","recipientAccountId":"111122223333","sourceIPAddress":"203.0.113.9","errorMessage":"Failed authentication","responseElements":{{"ConsoleLogin":"Failure"}},"userIdentity":{{"type":"IAMUser","accountId":"111122223333","arn":"arn:aws:iam::111122223333:user/u{u}","userName":"u{u}"}}}}"#,
        format_time(at),
        u = i % 4
    )
}

/// Lowers the first two failures of `u1` (in the first delivery) to low.
const LOWER_FIRST: &str = "title: u1's first failures are a known test\nname: u1-known-test\nreason: a known test\nowner: sec\naction: lower\nset_severity: low\nfilter:\n  rules: [signin-failure-watch]\n  known:\n    eventID: [bf-001, bf-005]\n  condition: not known\n";

/// The rules: the built-in ones, `signin-failure-watch` (medium, `dedup: 60m`) and a filter.
fn catalog(dir: &std::path::Path) -> Catalog {
    let rules = repo_file("tests/data/rules/signin-failure-watch.yml");
    std::fs::copy(rules, dir.join("signin-failure-watch.yml")).unwrap();
    std::fs::write(dir.join("u1-known-test.yml"), LOWER_FIRST).unwrap();
    Catalog::load(&[dir.to_path_buf()], &[]).unwrap()
}

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Three deliveries (gzipped) of eight failures each, ending two minutes ago: a brute force (24 from one
/// address), and sign-in failures of four users, each deduplicated across the deliveries.
fn deliveries() -> Vec<Vec<u8>> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let start = now - 600;
    let all: Vec<String> = (0..24)
        .map(|i| failed_login(i, start + 20 * i as i64))
        .collect();
    all.chunks(8).map(delivery).collect()
}

/// What an alert says, less what names its delivery (id, source, the summary's ids).
fn essence(a: &Value) -> String {
    let mut ids: Vec<&str> = a["event_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    ids.sort();
    json!([
        a["detector"],
        a["severity"],
        a["principal"],
        a["count"],
        a["first_seen"],
        a["last_seen"],
        ids
    ])
    .to_string()
}

fn operational(a: &Value) -> bool {
    trailwatch::stage::OPERATIONAL.contains(&a["detector"].as_str().unwrap())
}

fn replayed(catalog: Catalog, settings: Settings, files: Vec<PathBuf>) -> Vec<Value> {
    let job = Replay {
        paths: files,
        format: Format::Jsonl,
        min_severity: Severity::Medium,
        fail_on: None,
        pipeline: Pipeline {
            catalog,
            settings,
            disabled: Vec::new(),
            limits: Default::default(),
        },
        jobs: 1,
        progress: false,
        remote: None,
        top: None,
        correlation: CorrelationOptions::default(),
        verify: false,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = replay::run(&job, &mut out, &mut err).unwrap();
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_deliveries_give_the_same_alerts_in_replay_and_in_the_lambda() {
    let dir = std::env::temp_dir().join(format!("trailwatch-stage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    let deliveries = deliveries();

    let mut files = Vec::new();
    for (n, data) in deliveries.iter().enumerate() {
        let path = dir.join(format!("d{n}.json.gz"));
        std::fs::write(&path, data).unwrap();
        files.push(path);
    }
    let config = config(&[("MIN_SEVERITY", "medium"), ("STATE_TABLE", "state")]);
    let settings = Settings {
        fips_required: config.fips_required.clone(),
        trusted_accounts: config.trusted_accounts.clone(),
    };
    let replay = replayed(catalog(&dir.join("rules")), settings, files);

    let key = |n: usize| {
        format!("AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/06/111122223333_CloudTrail_us-east-1_20261206T1000Z_d{n}.json.gz")
    };
    let mut source = FakeSource::default();
    for (n, data) in deliveries.iter().enumerate() {
        source = source.with(BUCKET, &key(n), Fake::Data(data.clone()));
    }
    let sink = Arc::new(FakeSink::default());
    let state = Arc::new(State {
        table: AnyTable::Memory(Arc::new(MemoryTable::default())),
        settings: config.state.clone().unwrap(),
    });
    let rules = catalog(&dir.join("rules"));
    let mut h = unbuilt(source, &sink, config, rules).with_state(state);
    h.metrics = Box::new(|_| {});
    let h = Arc::new(h);
    for n in 0..deliveries.len() {
        let event = json!({"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": BUCKET}, "object": {"key": key(n)}}}]});
        h.handle(event, far_deadline()).await.unwrap();
    }
    let check = json!({"trailwatch": "scheduled-check", "time": "2099-01-01T00:00:00Z"});
    h.handle(check, far_deadline()).await.unwrap();
    let lambda: Vec<Value> = sink
        .alerts()
        .into_iter()
        .filter(|a| !operational(a))
        .collect();

    let of = |alerts: &[Value]| alerts.iter().map(essence).collect::<BTreeSet<_>>();
    assert_eq!(of(&replay), of(&lambda));
    assert_eq!(replay.len(), lambda.len(), "no alert doubled");
    let detectors: BTreeSet<&str> = replay
        .iter()
        .map(|a| a["detector"].as_str().unwrap())
        .collect();
    assert!(detectors.contains("console-brute-force"), "{detectors:?}");
    // u1's failures of the first delivery were lowered below the minimum severity: they must
    // not open the window that would have held back its medium failures of the second.
    let u1: Vec<&Value> = replay
        .iter()
        .filter(|a| a["detector"] == "signin-failure-watch")
        .filter(|a| a["principal"].as_str().unwrap().ends_with("u1"))
        .collect();
    assert!(!u1.is_empty(), "{replay:#?}");
    assert!(u1.iter().all(|a| a["severity"] == "medium"), "{u1:#?}");
    assert!(
        u1.iter().any(|a| a["event_ids"][0] == "bf-009"),
        "u1's second delivery opens the window: {u1:#?}"
    );
    let summaries = replay
        .iter()
        .filter(|a| a["evidence"]["dedup"].is_object())
        .count();
    assert!(summaries >= 3, "the other users' windows held alerts back");
    let _ = std::fs::remove_dir_all(&dir);
}
