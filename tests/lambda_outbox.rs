//! No alert lost or doubled between the state table and the outputs, in process: the state
//! table in memory (refusing chosen writes as DynamoDB refuses a failed condition), outputs
//! that go down and come back. The same failures against moto, under the Lambda emulator, are
//! in `tests/e2e/`.
#![cfg(feature = "lambda")]

#[path = "common/fakes.rs"]
mod fakes;

use fakes::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use trailwatch::correlate::time::format_time;
use trailwatch::lambda::outputs::{Output, OutputError, PublishFuture};
use trailwatch::lambda::state::MemoryTable;
use trailwatch::redact::Redacted;
use trailwatch::Alert;

const ACCOUNT: &str = "111122223333";

/// A log file written five minutes ago (the place's heartbeat is the minute in its name).
fn key(n: usize) -> String {
    let t = format_time(now() - 300).replace(['-', ':'], "");
    let (day, minute) = (format!("{}/{}/{}", &t[..4], &t[4..6], &t[6..8]), &t[..13]);
    format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{day}/{ACCOUNT}_CloudTrail_us-east-1_{minute}Z_{n:016}.json.gz")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `n` refusals of `user`, ten seconds apart from `start`, ids `prefix-0` on.
fn denied(prefix: &str, user: &str, start: i64, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"eventVersion":"1.09","eventTime":"{}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"{ACCOUNT}","eventID":"{prefix}-{i}","sourceIPAddress":"198.51.100.7","errorCode":"AccessDenied","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/app/{user}","accountId":"{ACCOUNT}"}}}}"#,
                format_time(start + 10 * i as i64)
            )
        })
        .collect()
}

/// A second output that records what it took, and can be down.
#[derive(Default)]
struct Recorder {
    down: AtomicBool,
    took: Mutex<Vec<String>>,
}

/// The recorder, shared with the test.
struct Shared(Arc<Recorder>);

impl Output for Shared {
    fn name(&self) -> &'static str {
        "eventbridge"
    }

    fn publish<'a>(&'a self, alerts: &'a [Redacted<Alert>]) -> PublishFuture<'a> {
        Box::pin(async move {
            if self.0.down.load(Ordering::SeqCst) {
                return Err(OutputError {
                    output: "eventbridge",
                    failed: alerts.len(),
                    retryable: true,
                    message: "InternalFailure".into(),
                });
            }
            let mut took = self.0.took.lock().unwrap();
            took.extend(alerts.iter().map(|a| a.id.clone()));
            Ok(alerts.len())
        })
    }
}

struct World {
    h: Harness,
    table: Arc<MemoryTable>,
    recorder: Arc<Recorder>,
}

fn world(source: FakeSource) -> World {
    let sink = Arc::new(FakeSink::default());
    let settings = [
        ("STATE_TABLE", "state"),
        ("UNVERIFIED_SILENCE_AFTER", "90m"),
    ];
    let (mut h, table) = with_memory_state(source, &sink, config(&settings));
    let recorder = Arc::new(Recorder::default());
    h.outputs
        .push(Box::new(Shared(Arc::clone(&recorder))), true);
    World {
        h: Harness {
            handler: Arc::new(h),
            sink,
        },
        table,
        recorder,
    }
}

fn s3_event(keys: &[&str]) -> Value {
    let records: Vec<Value> = keys
        .iter()
        .map(|k| json!({"eventSource": "aws:s3", "s3": {"bucket": {"name": BUCKET}, "object": {"key": k}}}))
        .collect();
    json!({ "Records": records })
}

fn bursts(alerts: &[Value]) -> Vec<String> {
    alerts
        .iter()
        .filter(|a| a["detector"] == "access-denied-burst")
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

fn outbox(table: &MemoryTable) -> usize {
    table.rows().iter().filter(|r| r.pk == "outbox").count()
}

/// The scheduled check an hour from now: every window of the deliveries above is decided.
fn check() -> Value {
    json!({"trailwatch": "scheduled-check", "time": format_time(now() + 3600)})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_decided_before_a_failed_publish_is_published_once_by_the_retry() {
    let start = now() - 300;
    let k = key(1);
    let source = FakeSource::default().with(
        BUCKET,
        &k,
        Fake::Data(delivery(&denied("d", "eve", start, 25))),
    );
    let w = world(source);
    w.h.handle(s3_event(&[&k]), far_deadline()).await.unwrap();
    // The check decides the window, and the topic is down.
    w.h.sink.down.store(true, Ordering::SeqCst);
    let failed = w.h.handle(check(), far_deadline()).await;
    assert!(failed.is_err(), "the required output failed: retried");
    assert!(bursts(&w.h.sink.alerts()).is_empty());
    let took_first = w.recorder.took.lock().unwrap().clone();
    assert_eq!(
        took_first.len(),
        2,
        "the other output took both alerts: {took_first:?}"
    );
    assert_eq!(
        outbox(&w.table),
        1,
        "the decided window waits in the outbox"
    );

    // The next invocation (a delivery of the same file again): the topic is back.
    w.h.sink.down.store(false, Ordering::SeqCst);
    w.h.handle(s3_event(&[&k]), far_deadline()).await.unwrap();
    let got = w.h.sink.alerts();
    assert_eq!(bursts(&got).len(), 1, "published once: {got:#?}");
    assert_eq!(outbox(&w.table), 0);
    let took = w.recorder.took.lock().unwrap().clone();
    let burst = &bursts(&got)[0];
    assert_eq!(
        took.iter().filter(|id| *id == burst).count(),
        1,
        "the output that took it is not sent it again: {took:?}"
    );

    // Later invocations publish nothing more of it.
    w.h.handle(check(), far_deadline()).await.unwrap();
    w.h.handle(s3_event(&[&k]), far_deadline()).await.unwrap();
    assert_eq!(bursts(&w.h.sink.alerts()).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_write_in_the_middle_leaves_no_orphan_and_loses_nothing() {
    // Three principals in one delivery: three groups, three transactions, then the trail's.
    let start = now() - 300;
    let mut records = denied("a", "ann", start, 21);
    records.extend(denied("b", "bob", start, 22));
    records.extend(denied("c", "cid", start, 23));
    let k = key(2);
    let w = world(FakeSource::default().with(BUCKET, &k, Fake::Data(delivery(&records))));
    w.h.handle(s3_event(&[&k]), far_deadline()).await.unwrap();
    // The check writes three groups, one transaction each: the second is refused.
    let writes = w.table.writes();
    w.table.refuse.lock().unwrap().push(writes + 2);
    w.h.handle(check(), far_deadline()).await.unwrap();
    assert!(
        w.table.writes() >= writes + 4,
        "the refused group was written again"
    );
    let got = w.h.sink.alerts();
    let mut counts: Vec<u64> = got
        .iter()
        .filter(|a| a["detector"] == "access-denied-burst")
        .map(|a| a["count"].as_u64().unwrap())
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        [21, 22, 23],
        "each group once, every event once: {got:#?}"
    );
    // Every minute row has its group row; nothing waits in the outbox.
    let rows = w.table.rows();
    let groups: Vec<&str> = rows
        .iter()
        .filter(|r| r.pk.starts_with("corr#g#"))
        .map(|r| r.sk.as_str())
        .collect();
    for r in rows
        .iter()
        .filter(|r| r.pk.starts_with("corr#") && !r.pk.starts_with("corr#g#"))
    {
        let hash = &r.pk["corr#".len()..];
        assert!(
            groups.contains(&hash),
            "minute row {}/{} without its group",
            r.pk,
            r.sk
        );
    }
    assert_eq!(outbox(&w.table), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_invocations_racing_on_the_same_groups_count_each_event_once() {
    let start = now() - 300;
    let all = denied("r", "ray", start, 30);
    let (k1, k2) = (key(3), key(4));
    // Two files sharing ten records, processed at once.
    let source = FakeSource::default()
        .with(BUCKET, &k1, Fake::Data(delivery(&all[..20])))
        .with(BUCKET, &k2, Fake::Data(delivery(&all[10..])));
    let w = world(source);
    let (a, b) = tokio::join!(
        w.h.handle(s3_event(&[&k1]), far_deadline()),
        w.h.handle(s3_event(&[&k2]), far_deadline())
    );
    a.unwrap();
    b.unwrap();
    w.h.handle(check(), far_deadline()).await.unwrap();
    let got = w.h.sink.alerts();
    let counts: Vec<u64> = got
        .iter()
        .filter(|a| a["detector"] == "access-denied-burst")
        .map(|a| a["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [30], "{got:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_check_whose_publish_failed_raises_trail_silent_on_its_next_run() {
    let k = key(5);
    let source = FakeSource::default().with(BUCKET, &k, Fake::Data(one_alert_delivery()));
    let w = world(source);
    w.h.handle(s3_event(&[&k]), far_deadline()).await.unwrap();
    let later = format_time(now() + 7200);
    let check = json!({"trailwatch": "scheduled-check", "time": later});
    w.h.sink.down.store(true, Ordering::SeqCst);
    assert!(w.h.handle(check.clone(), far_deadline()).await.is_err());
    let silent = |w: &World| {
        w.h.sink
            .alerts()
            .iter()
            .filter(|a| a["detector"] == "trail-silent")
            .count()
    };
    assert_eq!(silent(&w), 0);
    w.h.sink.down.store(false, Ordering::SeqCst);
    w.h.handle(check.clone(), far_deadline()).await.unwrap();
    assert_eq!(silent(&w), 1, "the next run publishes it");
    w.h.handle(check, far_deadline()).await.unwrap();
    assert_eq!(silent(&w), 1, "once");
    // The delivery's alert, trail-silent and trail-unverifiable (log files, no digest).
    let took = w.recorder.took.lock().unwrap().clone();
    assert_eq!(
        took.len(),
        3,
        "the other output took each alert once: {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_whose_record_names_another_account_than_its_key_says_so() {
    // A record claiming account 999999999999 in a file delivered for ACCOUNT.
    let forged = denied("f", "fay", now() - 300, 1)[0].replace(
        &format!(r#""recipientAccountId":"{ACCOUNT}""#),
        r#""recipientAccountId":"999999999999""#,
    );
    let k = key(6);
    let w = world(FakeSource::default().with(BUCKET, &k, Fake::Data(delivery(&[forged]))));
    w.h.handle(s3_event(&[&k]), far_deadline()).await.unwrap();
    let got = w.h.sink.alerts();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["account"], "999999999999");
    assert_eq!(
        got[0]["evidence"]["delivered_for_account"], ACCOUNT,
        "{got:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn records_dated_ahead_of_the_clock_are_counted_and_never_correlated() {
    // 30 refusals dated 2099 next to 5 real ones: nothing of 2099 reaches the state.
    let mut records = denied("z", "zed", 4_070_908_800, 30);
    records.extend(denied("n", "zed", now() - 300, 5));
    let k = key(7);
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut w = world(FakeSource::default().with(BUCKET, &k, Fake::Data(delivery(&records))));
    let kept = Arc::clone(&lines);
    Arc::get_mut(&mut w.h.handler).unwrap().metrics =
        Box::new(move |l| kept.lock().unwrap().push(l.to_owned()));
    w.h.handle(s3_event(&[&k]), far_deadline()).await.unwrap();
    let rows = w.table.rows();
    let minutes: Vec<i64> = rows
        .iter()
        .filter(|r| r.pk.starts_with("corr#") && !r.pk.starts_with("corr#g#"))
        .map(|r| r.sk.parse().unwrap())
        .collect();
    assert!(
        !minutes.is_empty() && minutes.iter().all(|&m| m < now() + 900),
        "{minutes:?}"
    );
    let ahead: Vec<String> = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("MatchesAhead"))
        .cloned()
        .collect();
    assert!(
        ahead.iter().any(|l| l.contains(r#""MatchesAhead":30"#)),
        "{ahead:?}"
    );
}
