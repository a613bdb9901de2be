//! The `ingest-error` operational alert: an object (or SQS message) that could not be read.

use super::triggers::{key_account_region, ObjectRef};
use crate::alert::id::alert_id;
use crate::alert::{operational, Alert, Source};
use crate::redact::{self, Redacted};
use serde_json::{Map, Value};

pub use crate::stage::INGEST_ERROR;

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
