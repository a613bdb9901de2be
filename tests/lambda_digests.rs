//! The Lambda over three trails and six hours of digest files, in process over fakes: a quiet
//! trail is never silent, a stopped one is silent once and resumes once, a log file whose
//! notification was lost is analysed from its digest, a rewritten file and a forged one are
//! proven so, once each, naming the alerts already published from them.

#![cfg(feature = "lambda")]

#[path = "common/fakes.rs"]
mod fakes;
#[path = "common/trails.rs"]
mod trails;

use fakes::*;
use serde_json::{json, Value};
use std::sync::Arc;
use trails::{of, with_event, TrailSim, Written};
use trailwatch::correlate::time::format_time;
use trailwatch::digest::PublicKeys;
use trailwatch::lambda::keys::{FixedKeys, KeyCache};

/// 2026-11-28T10:00:00Z.
const T0: i64 = 1_795_860_000;
const H: i64 = 3600;
const LOGS: &str = "org-trail-logs";

fn notify(keys: &[&str]) -> Value {
    let records: Vec<Value> = keys
        .iter()
        .map(|k| json!({"eventSource": "aws:s3", "s3": {"bucket": {"name": LOGS}, "object": {"key": k}}}))
        .collect();
    json!({ "Records": records })
}

struct World {
    h: Harness,
    table: Arc<trailwatch::lambda::state::MemoryTable>,
}

impl World {
    fn put(&self, w: &Written) {
        let fake = match &w.signature {
            Some(s) => Fake::Signed(w.bytes.clone(), s.clone()),
            None => Fake::Data(w.bytes.clone()),
        };
        let mut objects = self.h.source.objects.lock().unwrap();
        objects.insert((LOGS.into(), w.key.clone()), fake);
    }

    /// Written and notified.
    async fn deliver(&self, w: &Written) {
        self.put(w);
        self.h
            .handle(notify(&[&w.key]), far_deadline())
            .await
            .unwrap();
    }

    async fn check(&self, at: i64) {
        let event = json!({"trailwatch": "scheduled-check", "time": format_time(at)});
        self.h.handle(event, far_deadline()).await.unwrap();
    }
}

/// A Lambda with a state table in memory, checking signatures with `keys`.
fn world(keys: Vec<trailwatch::digest::PublicKey>) -> World {
    world_with(keys, &[])
}

fn world_with(keys: Vec<trailwatch::digest::PublicKey>, vars: &[(&str, &str)]) -> World {
    let sink = Arc::new(FakeSink::default());
    let mut vars = vars.to_vec();
    vars.push(("STATE_TABLE", "state"));
    let settings = config(&vars);
    let (h, table) = with_memory_state(FakeSource::default(), &sink, settings);
    let h = h.with_keys(KeyCache::new(Box::new(FixedKeys(PublicKeys(keys)))));
    World {
        h: Harness {
            handler: Arc::new(h),
            sink,
        },
        table,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn three_trails_six_hours_of_digests() {
    let account = "111122223333";
    let mut quiet = TrailSim::new(LOGS, "", account, "eu-west-1", "quiet");
    let mut stopped = TrailSim::new(LOGS, "", account, "eu-west-2", "stopped");
    let mut main = TrailSim::new(LOGS, "", account, "us-east-1", "main");
    let w = world(vec![
        quiet.public.clone(),
        stopped.public.clone(),
        main.public.clone(),
    ]);

    // The main trail's first hour: l2's notification is lost, l3 is rewritten after delivery
    // (S3 notifies the overwrite), f1 is written into the prefix by someone else.
    let l1 = main.log(T0 + 300, "l1", &["e1"]);
    let l2 = main.log(T0 + 900, "l2", &["e2"]);
    let l3 = main.log(T0 + 1500, "l3", &["e3"]);
    w.deliver(&l1).await;
    w.put(&l2);
    w.deliver(&l3).await;
    let mut rewritten = main.log(T0 + 1500, "l3", &["e3-rewritten"]);
    rewritten.key.clone_from(&l3.key);
    w.deliver(&rewritten).await;
    let forged = main.log(T0 + 2400, "f1", &["forged"]);
    w.deliver(&forged).await;
    let before_digests = w.h.sink.alerts();
    assert!(of(&before_digests, "log-file-unlisted").is_empty());
    assert_eq!(of(&before_digests, "tls-outdated").len(), 4);

    for hour in 1..=6 {
        let (start, end) = (T0 + (hour - 1) * H, T0 + hour * H);
        let files: Vec<&Written> = if hour == 1 {
            vec![&l1, &l2, &l3]
        } else {
            vec![]
        };
        let d = main.digest(start, end, &files);
        w.deliver(&d).await;
        w.deliver(&quiet.digest(start, end, &[])).await;
        // Stopped after two hours, restarted for the sixth.
        if hour <= 2 || hour == 6 {
            w.deliver(&stopped.digest(start, end, &[])).await;
        }
        w.check(end + 600).await;
    }

    // Everything published (the sink keeps every message).
    let alerts = w.h.sink.alerts();
    assert_eq!(
        of(&alerts, "tls-outdated").len(),
        5,
        "each file's alert once, l2's from its digest"
    );
    let silent = of(&alerts, "trail-silent");
    assert_eq!(silent.len(), 1, "{silent:#?}");
    assert_eq!(silent[0]["evidence"]["trail"], "stopped");
    assert_eq!(silent[0]["severity"], "high");
    let resumed = of(&alerts, "trail-resumed");
    assert_eq!(resumed.len(), 1, "{resumed:#?}");
    assert_eq!(resumed[0]["region"], "eu-west-2");
    // The lost notification's file: analysed from its digest, its alert published once.
    assert_eq!(with_event(&alerts, "e2"), 1, "{alerts:#?}");
    let modified = of(&alerts, "log-file-modified");
    assert_eq!(modified.len(), 1, "{modified:#?}");
    assert_eq!(modified[0]["source"]["key"].as_str(), Some(l3.key.as_str()));
    assert!(
        !modified[0]["related"].as_array().unwrap().is_empty(),
        "names the alerts of the file"
    );
    let unlisted = of(&alerts, "log-file-unlisted");
    assert_eq!(unlisted.len(), 1, "{unlisted:#?}");
    assert_eq!(
        unlisted[0]["source"]["key"].as_str(),
        Some(forged.key.as_str())
    );
    let forged_alert = alerts
        .iter()
        .find(|a| {
            a["event_ids"]
                .as_array()
                .is_some_and(|e| e.contains(&json!("forged")))
        })
        .expect("the forged file's own alert");
    let named: Vec<&Value> = unlisted[0]["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert!(named.contains(&&forged_alert["id"]), "{unlisted:#?}");
    // Nothing about the quiet trail, no broken signature, no missing file.
    for d in ["digest-invalid", "log-file-missing", "trail-unverifiable"] {
        assert!(of(&alerts, d).is_empty(), "{d}: {:#?}", of(&alerts, d));
    }
    assert!(
        !alerts.iter().any(|a| a["region"] == "eu-west-1"),
        "the quiet trail"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_signature_and_a_deleted_file_are_alerts() {
    let account = "111122223333";
    let mut main = TrailSim::new(LOGS, "", account, "us-east-1", "main");
    let (impostor, _) = trailwatch::digest::sign::testing::key_pair("other");
    let w = world(vec![main.public.clone()]);
    let gone = main.log(T0 + 300, "gone", &["e1"]);
    let d1 = main.digest(T0, T0 + H, &[&gone]);
    w.deliver(&d1).await;
    // The next digest, signed by someone else's key.
    let mut d2 = main.digest(T0 + H, T0 + 2 * H, &[]);
    let body = trailwatch::digest::Digest::read(&d2.bytes[..], "d2").unwrap();
    d2.signature = Some(trailwatch::digest::sign::testing::sign(&impostor, &body));
    w.deliver(&d2).await;
    let alerts = w.h.sink.alerts();
    let missing = of(&alerts, "log-file-missing");
    assert_eq!(missing.len(), 1, "{alerts:#?}");
    assert!(missing[0]["summary"].as_str().unwrap().contains(&gone.key));
    let invalid = of(&alerts, "digest-invalid");
    assert_eq!(invalid.len(), 1, "{alerts:#?}");
    assert!(invalid[0]["summary"]
        .as_str()
        .unwrap()
        .contains("does not verify with CloudTrail's key"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_digest_whose_alerts_could_not_be_published_is_retried_and_publishes_each_once() {
    use std::sync::atomic::Ordering;
    let mut main = TrailSim::new(LOGS, "", "111122223333", "us-east-1", "main");
    let w = world(vec![main.public.clone()]);
    // A file never notified and a forged one, then their digest while the topic is down.
    let lost = main.log(T0 + 300, "lost", &["e-lost"]);
    w.put(&lost);
    w.deliver(&main.log(T0 + 600, "forged", &["e-forged"]))
        .await;
    let d = main.digest(T0, T0 + H, &[&lost]);
    w.put(&d);
    w.h.sink.down.store(true, Ordering::SeqCst);
    let failed = w.h.handle(notify(&[&d.key]), far_deadline()).await;
    assert!(failed.is_err(), "retried: nothing may be lost");
    w.h.sink.down.store(false, Ordering::SeqCst);
    w.h.handle(notify(&[&d.key]), far_deadline()).await.unwrap();
    let alerts = w.h.sink.alerts();
    assert_eq!(with_event(&alerts, "e-lost"), 1, "{alerts:#?}");
    assert_eq!(with_event(&alerts, "e-forged"), 1, "{alerts:#?}");
    assert_eq!(of(&alerts, "log-file-unlisted").len(), 1, "{alerts:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_digest_notifications_the_scheduled_check_lists_them() {
    let mut main = TrailSim::new(LOGS, "", "111122223333", "us-east-1", "main");
    let w = world_with(
        vec![main.public.clone()],
        &[("DIGEST_LISTING", "s3://org-trail-logs/")],
    );
    // The topic names log files only: l1 is notified, its place learnt; l2 never is.
    let l1 = main.log(T0 + 300, "l1", &["e1"]);
    let l2 = main.log(T0 + 900, "l2", &["e2"]);
    w.deliver(&l1).await;
    w.put(&l2);
    for hour in 1..=3 {
        let files: Vec<&Written> = if hour == 1 { vec![&l1, &l2] } else { vec![] };
        let d = main.digest(T0 + (hour - 1) * H, T0 + hour * H, &files);
        w.put(&d);
        w.check(T0 + hour * H + 600).await;
    }
    // Checked again later: every digest is listed again and none processed twice.
    w.check(T0 + 3 * H + 1200).await;
    let alerts = w.h.sink.alerts();
    assert_eq!(with_event(&alerts, "e2"), 1, "{alerts:#?}");
    assert!(of(&alerts, "trail-silent").is_empty(), "{alerts:#?}");
    assert!(of(&alerts, "trail-unverifiable").is_empty(), "{alerts:#?}");
    // Then the trail stops: its digests are overdue two hours after the last one's end.
    w.check(T0 + 5 * H + 600).await;
    let silent = of(&w.h.sink.alerts(), "trail-silent").len();
    assert_eq!(silent, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_hashing_a_digest_still_finds_its_files_analysed() {
    let mut main = TrailSim::new(LOGS, "", "111122223333", "us-east-1", "main");
    let w = world_with(vec![main.public.clone()], &[("LOG_INTEGRITY", "off")]);
    let l1 = main.log(T0 + 300, "l1", &["e1"]);
    w.deliver(&l1).await;
    let mut rewritten = main.log(T0 + 300, "l1", &["e1-rewritten"]);
    rewritten.key.clone_from(&l1.key);
    let d = main.digest(T0, T0 + H, &[&l1]);
    w.put(&rewritten);
    w.deliver(&d).await;
    let alerts = w.h.sink.alerts();
    // Not analysed again (its alert once), and not comparable: no verdict either way.
    assert_eq!(with_event(&alerts, "e1"), 1, "{alerts:#?}");
    assert_eq!(with_event(&alerts, "e1-rewritten"), 0, "{alerts:#?}");
    assert!(of(&alerts, "log-file-modified").is_empty(), "{alerts:#?}");
    assert!(of(&alerts, "log-file-missing").is_empty(), "{alerts:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_digest_never_notified_is_processed_from_the_next_and_a_deleted_one_is_an_alert() {
    let mut main = TrailSim::new(LOGS, "", "111122223333", "us-east-1", "main");
    let w = world(vec![main.public.clone()]);
    let l2 = main.log(T0 + H + 300, "l2", &["e2"]);
    let d1 = main.digest(T0, T0 + H, &[]);
    let d2 = main.digest(T0 + H, T0 + 2 * H, &[&l2]);
    let d3 = main.digest(T0 + 2 * H, T0 + 3 * H, &[]);
    let d4 = main.digest(T0 + 3 * H, T0 + 4 * H, &[]);
    let d5 = main.digest(T0 + 4 * H, T0 + 5 * H, &[]);
    w.deliver(&d1).await;
    // d2 and l2 are written, never notified; d4 is deleted before anyone read it.
    w.put(&l2);
    w.put(&d2);
    w.deliver(&d3).await;
    w.deliver(&d5).await;
    let alerts = w.h.sink.alerts();
    assert_eq!(
        with_event(&alerts, "e2"),
        1,
        "d2's file, from d2: {alerts:#?}"
    );
    let invalid = of(&alerts, "digest-invalid");
    assert_eq!(invalid.len(), 1, "{alerts:#?}");
    assert_eq!(
        invalid[0]["evidence"]["key"].as_str(),
        Some(d4.key.as_str())
    );
    assert!(of(&alerts, "log-file-missing").is_empty(), "{alerts:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_digest_met_by_a_table_that_is_down_is_retried_and_proves_everything_once() {
    let mut main = TrailSim::new(LOGS, "", "111122223333", "us-east-1", "main");
    let w = world(vec![main.public.clone()]);
    let lost = main.log(T0 + 300, "lost", &["e-lost"]);
    let gone = main.log(T0 + 600, "gone", &["e-gone"]);
    w.put(&lost);
    let d = main.digest(T0, T0 + H, &[&lost, &gone]);
    w.put(&d);
    *w.table.down.lock().unwrap() = Some("ThrottlingException".into());
    let failed = w.h.handle(notify(&[&d.key]), far_deadline()).await;
    assert!(failed.is_err(), "retried: nothing may be lost");
    assert!(
        of(&w.h.sink.alerts(), "log-file-missing").is_empty(),
        "nothing decided yet"
    );
    *w.table.down.lock().unwrap() = None;
    w.h.handle(notify(&[&d.key]), far_deadline()).await.unwrap();
    // Delivered again (S3 notifies at least once): nothing twice.
    w.h.handle(notify(&[&d.key]), far_deadline()).await.unwrap();
    let alerts = w.h.sink.alerts();
    assert_eq!(with_event(&alerts, "e-lost"), 1, "{alerts:#?}");
    assert_eq!(of(&alerts, "log-file-missing").len(), 1, "{alerts:#?}");
}
