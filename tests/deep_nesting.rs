//! A record nested deeper than the parser reads is still inspected: only the too-deep subtree
//! is unread, and counted. A caller cannot hide a call from the detectors by nesting one
//! parameter a few hundred levels deep.

mod common;
use common::*;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use trailwatch::detectors::{native, Settings};
use trailwatch::scan::split::MAX_DEPTH;
use trailwatch::{Detector, Finding, Record};

/// Keeps each record's text and JSON value, as the detectors see them.
struct Capture(Arc<Mutex<Vec<(String, Value)>>>);

impl Detector for Capture {
    fn id(&self) -> &'static str {
        "capture"
    }
    fn inspect<'r>(&mut self, record: &'r Record<'_>, _out: &mut Vec<Finding<'r>>) {
        let seen = (record.raw.to_owned(), record.json().clone());
        self.0.lock().unwrap().push(seen);
    }
}

/// `n` levels of `{"a":[` ... `]}` pairs (two levels each) around `inner`.
fn nested(n: usize, inner: &str) -> String {
    format!("{}{inner}{}", r#"{"a":["#.repeat(n), "]}".repeat(n))
}

/// [`common::record`] with `requestParameters` holding a shallow field and a deep one.
fn deep_record(id: &str, tls: &str, levels: usize) -> String {
    let plain = record(id, tls);
    let params = format!(
        r#","requestParameters":{{"bucketName":"b","filter":{}}}}}"#,
        nested(levels, r#""]}\"[{""#)
    );
    format!("{}{params}", &plain[..plain.len() - 1])
}

/// The delivery scanned with `tls-outdated` and a capture: the report, the event ids of the
/// findings, and what the detectors saw.
fn scan(data: &[u8]) -> (trailwatch::ScanReport, Vec<String>, Vec<(String, Value)>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut detectors: Vec<Box<dyn Detector>> = vec![
        native("tls-outdated", &Settings::default()).unwrap(),
        Box::new(Capture(Arc::clone(&seen))),
    ];
    let mut ids = Vec::new();
    let report = trailwatch::scan(data, &mut detectors, &mut |f| {
        ids.push(f.event_id.to_string());
    });
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (report, ids, seen)
}

#[test]
fn a_deep_parameter_hides_no_call() {
    let deep = deep_record("deep", "TLSv1", 150);
    let (report, ids, seen) = scan(delivery(&[deep]).as_bytes());
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!((report.records, report.skipped), (1, 0));
    assert_eq!(report.deep_subtrees, 1);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(ids, ["deep"], "the outdated TLS is seen");
    let v = &seen[0].1;
    assert_eq!(v["eventName"], "ListBuckets");
    assert_eq!(v["userIdentity"]["arn"], "arn:aws:iam::111122223333:user/t");
    assert_eq!(v["tlsDetails"]["tlsVersion"], "TLSv1");
    assert_eq!(v["requestParameters"]["bucketName"], "b");
    // The deep parameter is read down to the limit, then `null`. The record is level 1,
    // `requestParameters` level 2, `filter` level 3.
    let mut at = &v["requestParameters"]["filter"];
    let mut level = 3;
    while let Some(inner) = at.get("a").or_else(|| at.get(0)) {
        at = inner;
        level += 1;
    }
    assert_eq!((at, level), (&Value::Null, MAX_DEPTH + 1));
}

#[test]
fn the_other_records_of_the_delivery_are_unaffected() {
    let records = [
        record("r1", "TLSv1"),
        deep_record("r2", "TLSv1", 300),
        record("r3", "TLSv1.2"),
        deep_record("r4", "TLSv1.1", 300).replace(r#""b","filter""#, r#""b","f":[1],"g""#),
        deep_record("r5", "TLSv1", 60), // down to level 122: read whole
    ];
    let data = delivery(&records);
    for data in [data.clone().into_bytes(), gzip(data.as_bytes())] {
        let (report, ids, seen) = scan(&data);
        assert!(report.error.is_none(), "{:?}", report.error);
        assert_eq!((report.records, report.skipped), (5, 0));
        assert_eq!(report.deep_subtrees, 2);
        assert_eq!(ids, ["r1", "r2", "r4", "r5"]);
        for i in [0, 2, 4] {
            assert_eq!(seen[i].0, records[i], "record {i} is seen as written");
            let written: Value = serde_json::from_str(&records[i]).unwrap();
            assert_eq!(seen[i].1, written);
        }
        assert_eq!(seen[3].1["requestParameters"]["f"], serde_json::json!([1]));
    }
}

#[test]
fn replay_alerts_on_the_deep_record_and_counts_the_cut() {
    let dir = scratch("deep-nesting");
    let records = [record("r1", "TLSv1.3"), deep_record("r2", "TLSv1", 300)];
    let f = write(&dir, "deep.json.gz", &gzip(delivery(&records).as_bytes()));
    let out = trailwatch(&["replay", "--format", "jsonl", f.to_str().unwrap()], None);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("2 records,"), "{err}");
    assert!(!err.contains("skipped"), "{err}");
    let note = format!("1 subtrees nested deeper than {MAX_DEPTH} levels not read");
    assert!(err.contains(&note), "{err}");
    let alerts: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        alerts
            .iter()
            .any(|a| a["detector"] == "tls-outdated" && a["event_ids"] == serde_json::json!(["r2"])),
        "{alerts:?}"
    );
}
