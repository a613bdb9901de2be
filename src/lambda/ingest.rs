//! The `ingest-error` operational alert: an object (or SQS message) that could not be read.

use super::triggers::{key_account_region, ObjectRef};
use crate::alert::id::alert_id;
use crate::alert::severity::Severity;
use crate::alert::{Alert, Source, SCHEMA};
use crate::redact::{self, Redacted};
use serde_json::{Map, Value};

/// The id of the operational alert for an unreadable object.
pub const INGEST_ERROR: &str = "ingest-error";

/// The operational alert for an object (or SQS message) that could not be read.
pub fn ingest_alert(object: &ObjectRef, reason: &str, message_id: Option<&str>) -> Redacted<Alert> {
    let (account, region) = key_account_region(&object.key);
    let id = alert_id(&[
        INGEST_ERROR,
        &object.bucket,
        &object.key,
        message_id.unwrap_or(""),
    ]);
    let mut evidence = Map::new();
    evidence.insert("bucket".into(), Value::from(object.bucket.as_str()));
    evidence.insert("key".into(), Value::from(object.key.as_str()));
    evidence.insert("reason".into(), Value::from(reason));
    let summary = match message_id {
        Some(m) => {
            evidence.insert("sqs_message_id".into(), Value::from(m));
            format!("SQS message {m} was not understood: {reason}")
        }
        None => format!(
            "s3://{}/{} could not be read: {reason}",
            object.bucket, object.key
        ),
    };
    let source = Source::Object {
        bucket: object.bucket.clone(),
        key: object.key.clone(),
    };
    let mut alert = operational(INGEST_ERROR, id, source);
    alert.title = "CloudTrail log file could not be processed".into();
    alert.summary = summary;
    alert.account = account;
    alert.region = region;
    alert.evidence = evidence;
    alert.remediation = "Check that the object exists, that the function's role may read it (and \
                         decrypt it, for SSE-KMS), and that it is a CloudTrail log file. Records \
                         before the fault were scanned; the rest of the file was not."
        .into();
    redact::alert(alert)
}

/// An operational alert (medium, one event) with only its detector, id and source: the caller
/// fills in title, summary, evidence and the rest.
pub fn operational(detector: &str, id: String, source: Source) -> Alert {
    Alert {
        schema: SCHEMA,
        id,
        subject: String::new(),
        detector: detector.into(),
        title: String::new(),
        severity: Severity::Medium,
        summary: String::new(),
        account: String::new(),
        account_name: String::new(),
        environment: String::new(),
        region: String::new(),
        principal: String::new(),
        source_ip: String::new(),
        user_agent: String::new(),
        first_seen: String::new(),
        last_seen: String::new(),
        count: 1,
        event_ids: Vec::new(),
        event_names: Vec::new(),
        evidence: serde_json::Map::new(),
        remediation: String::new(),
        references: Vec::new(),
        source,
        tags: Vec::new(),
        calls: Default::default(),
        truncated: false,
    }
}
