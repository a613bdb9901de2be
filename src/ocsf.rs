//! Alerts as OCSF 1.1.0 Detection Findings (class 2004), the schema Security Lake and most
//! SIEMs read: replay's `--format ocsf` and the Lambda's `ALERT_SCHEMA=ocsf` bodies.
//!
//! Every alert field has a place: id → `finding_info.uid`, detector → `finding_info.analytic`,
//! account and region → `cloud`, principal and source IP → `evidences[0].actor` and `src_endpoint`, event
//! names and ids → `evidences` and `finding_info.related_events`, evidence → `evidences[0].data`
//! and `resources`, source object → `metadata.log_name`; the user agent, which Detection
//! Finding has no attribute for, goes to `unmapped`. Like every sink it takes only
//! [`Redacted`] alerts and only formats.

use crate::alert::resources::resources;
use crate::alert::severity::Severity;
use crate::alert::time::epoch_millis;
use crate::alert::Alert;
use crate::redact::Redacted;
use serde_json::{json, Map, Value};
use std::io::{self, Write};
use std::net::IpAddr;

/// The OCSF schema version the findings follow.
pub const VERSION: &str = "1.1.0";
/// Detection Finding.
pub const CLASS_UID: u32 = 2004;
/// `activity_id` 1: Create.
const ACTIVITY_CREATE: u32 = 1;

/// OCSF `severity_id` and its caption.
pub fn severity(s: Severity) -> (u32, &'static str) {
    match s {
        Severity::Informational => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// Inserts `v` under `k` unless it is an empty string, array or object.
fn put(m: &mut Map<String, Value>, k: &str, v: Value) {
    let empty = match &v {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Null => true,
        _ => false,
    };
    if !empty {
        m.insert(k.to_owned(), v);
    }
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        put(&mut m, k, v.clone());
    }
    Value::Object(m)
}

/// The source endpoint: an address when the alert's source is one, else a service name
/// (CloudTrail writes `cloudformation.amazonaws.com` for calls a service made).
fn src_endpoint(source_ip: &str) -> Value {
    if source_ip.parse::<IpAddr>().is_ok() {
        obj(&[("ip", json!(source_ip))])
    } else {
        obj(&[("domain", json!(source_ip))])
    }
}

/// One alert as an OCSF Detection Finding.
pub fn detection_finding(alert: &Redacted<Alert>) -> Value {
    let a: &Alert = alert;
    let (severity_id, severity_name) = severity(a.severity);
    let first = epoch_millis(&a.first_seen);
    let last = epoch_millis(&a.last_seen).or(first).unwrap_or(0);
    let actor = obj(&[("user", obj(&[("uid", json!(a.principal))]))]);
    let endpoint = src_endpoint(&a.source_ip);
    let mut evidences: Vec<Value> = a
        .event_names
        .iter()
        .map(|name| obj(&[("api", json!({ "operation": name }))]))
        .collect();
    if evidences.is_empty() {
        evidences.push(json!({}));
    }
    if let Value::Object(e) = &mut evidences[0] {
        put(e, "actor", actor);
        put(e, "src_endpoint", endpoint);
        put(e, "data", Value::Object(a.evidence.clone()));
    }
    evidences.retain(|e| e.as_object().is_some_and(|o| !o.is_empty()));
    let resources: Vec<Value> = resources(a)
        .into_iter()
        .map(|r| {
            obj(&[
                ("uid", json!(r.id)),
                ("type", json!(r.kind)),
                (
                    "labels",
                    json!(vec![r.described]
                        .into_iter()
                        .filter(|d| !d.is_empty())
                        .collect::<Vec<_>>()),
                ),
                ("region", json!(a.region)),
                ("cloud_partition", json!(partition(&a.region))),
            ])
        })
        .collect();
    let related: Vec<Value> = a
        .event_ids
        .iter()
        .map(|id| json!({ "uid": id, "product_uid": "cloudtrail" }))
        .collect();
    let finding_info = obj(&[
        ("uid", json!(a.id)),
        ("title", json!(a.title)),
        ("desc", json!(a.summary)),
        (
            "analytic",
            json!({ "uid": a.detector, "name": a.detector, "type_id": 1, "type": "Rule" }),
        ),
        ("types", json!(a.tags)),
        (
            "src_url",
            json!(a.references.first().cloned().unwrap_or_default()),
        ),
        ("first_seen_time", json!(first)),
        ("last_seen_time", json!(last)),
        ("related_events", json!(related)),
        ("data_sources", json!(["AWS CloudTrail"])),
    ]);
    let desc = if a.remediation.is_empty() && !a.references.is_empty() {
        "See the references."
    } else {
        a.remediation.as_str()
    };
    let remediation = obj(&[("desc", json!(desc)), ("references", json!(a.references))]);
    let log_name = a.source.location();
    let metadata = obj(&[
        ("version", json!(VERSION)),
        ("uid", json!(a.id)),
        ("event_code", json!(a.detector)),
        ("log_name", json!(log_name)),
        ("log_provider", json!("AWS CloudTrail")),
        ("log_version", json!(a.schema)),
        ("profiles", json!(["cloud"])),
        (
            "labels",
            json!(if a.truncated {
                vec!["truncated"]
            } else {
                vec![]
            }),
        ),
        (
            "product",
            json!({
                "name": "trailwatch",
                "vendor_name": "trailwatch",
                "version": env!("CARGO_PKG_VERSION"),
            }),
        ),
    ]);
    let cloud = obj(&[
        ("provider", json!("AWS")),
        ("region", json!(a.region)),
        (
            "account",
            obj(&[
                ("uid", json!(a.account)),
                ("type_id", json!(10)),
                ("type", json!("AWS Account")),
            ]),
        ),
    ]);
    let mut m = Map::new();
    for (k, v) in [
        ("class_uid", json!(CLASS_UID)),
        ("class_name", json!("Detection Finding")),
        ("category_uid", json!(2)),
        ("category_name", json!("Findings")),
        ("activity_id", json!(ACTIVITY_CREATE)),
        ("activity_name", json!("Create")),
        ("type_uid", json!(CLASS_UID * 100 + ACTIVITY_CREATE)),
        ("type_name", json!("Detection Finding: Create")),
        ("severity_id", json!(severity_id)),
        ("severity", json!(severity_name)),
        ("status_id", json!(1)),
        ("status", json!("New")),
        ("time", json!(last)),
        ("start_time", json!(first)),
        ("end_time", json!(last)),
        ("count", json!(a.count)),
        ("message", json!(a.summary)),
        ("finding_info", finding_info),
        ("metadata", metadata),
        ("cloud", cloud),
        ("evidences", json!(evidences)),
        ("resources", json!(resources)),
        ("remediation", remediation),
        ("unmapped", obj(&[("user_agent", json!(a.user_agent))])),
    ] {
        put(&mut m, k, v);
    }
    Value::Object(m)
}

/// The AWS partition of a region (`aws`, `aws-us-gov`, `aws-cn`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("cn-") {
        "aws-cn"
    } else {
        "aws"
    }
}

/// One alert as an OCSF JSON line.
pub fn write_alert_ocsf(out: &mut dyn Write, alert: &Redacted<Alert>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &detection_finding(alert))?;
    out.write_all(b"\n")
}
