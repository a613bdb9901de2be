//! Publishing to SNS over a fake sink: batching, per-entry failures, trimming, subjects.
#![cfg(feature = "lambda")]

#[path = "common/fakes.rs"]
mod fakes;

use fakes::*;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Duration;
use trailwatch::lambda::ingest::ingest_alert;
use trailwatch::lambda::publish::{publish_all, Backoff, Published};
use trailwatch::lambda::sns::{self, MAX_PAYLOAD};
use trailwatch::lambda::ObjectRef;
use trailwatch::redact::{self, Redacted};
use trailwatch::{Alert, Severity};

const FAST: Backoff = Backoff {
    attempts: 3,
    first: Duration::from_millis(1),
};

fn alert(n: usize) -> Alert {
    let key = format!("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/28/{n}.json.gz");
    ingest_alert(&ObjectRef::new(BUCKET, key), "corrupt", None).into_inner()
}

fn masked(a: &Alert) -> Redacted<Alert> {
    redact::alert(a.clone())
}

fn messages(n: usize) -> Vec<sns::Message> {
    (0..n)
        .map(|i| sns::message(&masked(&alert(i)), false))
        .collect()
}

#[tokio::test]
async fn batches_of_ten_and_failed_entries_retried() {
    let sink = FakeSink::new(SinkPlan {
        failing_entries_once: vec!["1".into(), "7".into()],
        ..SinkPlan::default()
    });
    let all = messages(25);
    let done = publish_all(&sink, &all, FAST).await.unwrap();
    assert_eq!(
        done,
        Published {
            sent: 25,
            rejected: 0
        }
    );
    let sizes: Vec<usize> = sink
        .batch_sizes
        .lock()
        .unwrap()
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(
        sizes,
        [10, 2, 10, 5],
        "the two failed entries of the first batch go again"
    );
    let mut ids: Vec<String> = sink.messages().iter().map(|m| m.alert_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 25, "every alert exactly once");
}

#[tokio::test]
async fn throttled_calls_are_retried_and_sender_faults_are_not() {
    let all = messages(3);
    let sink = FakeSink::new(SinkPlan {
        failing_calls: 2,
        rejected_alerts: vec![all[1].alert_id.clone()],
        ..SinkPlan::default()
    });
    let done = publish_all(&sink, &all, FAST).await.unwrap();
    assert_eq!(
        done,
        Published {
            sent: 2,
            rejected: 1
        }
    );
    assert_eq!(sink.calls.load(Ordering::SeqCst), 3);

    let down = FakeSink::new(SinkPlan {
        failing_calls: 99,
        ..SinkPlan::default()
    });
    let err = publish_all(&down, &all, FAST).await.unwrap_err();
    assert!(err.transient && err.message.contains("Throttling"));
    assert_eq!(down.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_that_never_goes_out_fails_the_object() {
    let source =
        FakeSource::default().with(BUCKET, ORG_KEY, fakes::Fake::Data(one_alert_delivery()));
    let sink = FakeSink::new(SinkPlan {
        always_failing_detector: Some("tls-outdated".into()),
        ..SinkPlan::default()
    });
    let (h, _) = handler(source, sink, config(&[]));
    let event =
        json!({"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": ORG_KEY}}}]});
    let err = h.handle(event, far_deadline()).await.unwrap_err();
    assert!(err.to_string().contains("publishing alerts"), "{err}");
}

#[test]
fn big_alerts_are_trimmed_never_dropped_and_batches_stay_under_the_limit() {
    let mut big = alert(1);
    big.event_ids = (0..20).map(|i| format!("event-{i}")).collect();
    big.evidence
        .insert("blob".into(), Value::from("x".repeat(400 * 1024)));
    big.evidence
        .insert("list".into(), json!(vec!["y".repeat(1000); 300]));
    big.summary = "é".repeat(100_000);
    let m = sns::message(&masked(&big), false);
    assert!(m.size() <= MAX_PAYLOAD, "{}", m.size());
    let doc: Value = serde_json::from_str(&m.body).unwrap();
    let trimmed: Value = serde_json::from_str(doc["default"].as_str().unwrap()).unwrap();
    assert_eq!(trimmed["truncated"], true);
    assert_eq!(trimmed["id"].as_str(), Some(big.id.as_str()));
    assert!(trimmed["event_ids"].as_array().unwrap().len() < 20);
    assert!(!trimmed["event_ids"].as_array().unwrap().is_empty());
    let small = sns::message(&masked(&alert(2)), false);
    assert!(!small.body.contains("truncated"));

    let mut mid = alert(3);
    mid.evidence
        .insert("blob".into(), Value::from("z".repeat(60 * 1024)));
    let many: Vec<sns::Message> = (0..9).map(|_| sns::message(&masked(&mid), false)).collect();
    for batch in sns::batches(&many) {
        let bytes: usize = batch.iter().map(|m| m.size()).sum();
        assert!(bytes <= MAX_PAYLOAD && batch.len() <= 10, "{bytes}");
    }
    assert!(sns::batches(&many).len() >= 3);
}

#[test]
fn subjects_are_ascii_and_short() {
    let mut a = alert(1);
    a.severity = Severity::Critical;
    a.title = "Schlüssel gelöscht\nund noch viel mehr Text, der nicht in eine Betreffzeile passt, gar nicht".repeat(2);
    let s = sns::subject(&a);
    assert!(s.len() < 100 && s.is_ascii() && !s.contains('\n'), "{s}");
    assert!(s.starts_with("[CRITICAL] Schl"), "{s}");
    assert!(s.ends_with(" - 111122223333 eu-west-1"), "{s}");
    a.environment = "prod".into();
    let m = sns::message(&masked(&a), false);
    assert!(
        m.attributes.contains(&("environment", "prod".to_owned())),
        "an account's environment is an attribute for filter policies"
    );
    a.environment.clear();
    a.account.clear();
    a.region.clear();
    a.title = "Short".into();
    assert_eq!(sns::subject(&a), "[CRITICAL] Short");
    let m = sns::message(&masked(&a), true);
    assert_eq!(m.fifo, Some(("unknown".to_owned(), a.id.clone())));
    assert!(
        m.attributes.iter().all(|(k, _)| *k != "account"),
        "empty attributes are left out"
    );
}
