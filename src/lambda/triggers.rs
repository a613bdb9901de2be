//! The events that invoke the function, parsed leniently into the objects to scan.
//!
//! Shapes: S3 event notifications (keys URL-encoded), SNS envelopes around an S3 notification
//! or around CloudTrail's own delivery notification, SQS batches whose bodies are any of those,
//! EventBridge `Object Created`, S3 Batch Operations (schema 1.0 and 2.0) and `s3:TestEvent`.
//! Envelopes are read as `serde_json::Value`: the typed events of `aws_lambda_events` reject
//! some real payloads (the test event, CloudTrail's notification); `aws_lambda_events`'s
//! SQS and Batch Operations *response* types are used for the answers.

use crate::alert::severity::Severity;
use crate::delivery::is_delivery_name;
use crate::record::str_at;
use percent_encoding::percent_decode_str;
use serde_json::Value;

/// Why an invocation event, or one of its messages or tasks, is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// A field the shape needs is missing or of another type.
    #[error("{0}")]
    Shape(&'static str),
    /// An EventBridge event of another type than `Object Created`.
    #[error("EventBridge event `{0}` is not `Object Created`")]
    DetailType(String),
    /// A text that should hold JSON does not.
    #[error("{what} is not JSON: {error}")]
    Json {
        /// Which text.
        what: &'static str,
        /// What the parser said.
        error: String,
    },
    /// An S3 key that is not URL-encoded as S3 encodes keys.
    #[error("{0}")]
    Key(&'static str),
    /// One record of the event is not understood.
    #[error("record {index}: {error}")]
    Record {
        /// The record's position.
        index: usize,
        /// Why.
        error: Box<EventError>,
    },
    /// A record that is neither an S3 nor an SNS record.
    #[error("record {0} is neither an S3 nor an SNS record")]
    NotARecord(usize),
    /// A `trailwatch` event that is not the scheduled check.
    #[error("`trailwatch: {0}` is not a trailwatch event (`scheduled-check` is)")]
    Unknown(String),
    /// A Batch Operations job's `minSeverity` argument that is not a severity.
    #[error("userArguments.minSeverity: {0}")]
    MinSeverity(String),
}

/// One object to scan (key already URL-decoded).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    /// The bucket name.
    pub bucket: String,
    /// The key, URL-decoded.
    pub key: String,
}

impl ObjectRef {
    /// The object `key` of `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> ObjectRef {
        ObjectRef {
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// What an invocation asks for.
pub enum Trigger {
    /// S3 notification, SNS (S3 or CloudTrail notification), EventBridge.
    Objects(Vec<ObjectRef>),
    /// SQS messages, each carrying objects (or not understood).
    Sqs(Vec<SqsMessage>),
    /// An S3 Batch Operations job.
    Batch(BatchJob),
    /// `s3:TestEvent`: acknowledged, no work.
    Test,
    /// The scheduled check (EventBridge Scheduler, or an EventBridge rule's `Scheduled Event`):
    /// correlation windows due, silent trails. Its time (seconds since the epoch), when the
    /// event says it; else the clock's.
    Scheduled(Option<i64>),
}

/// The `trailwatch` field of the scheduled check's event (`template.yaml` sets it).
pub const SCHEDULED_CHECK: &str = "scheduled-check";

#[derive(Debug, Clone, PartialEq, Eq)]
/// One SQS message of a batch.
pub struct SqsMessage {
    /// The message id (reported back when it must be retried).
    pub id: String,
    /// The objects named by the body, or why the body is not understood.
    pub objects: Result<Vec<ObjectRef>, EventError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// An S3 Batch Operations invocation.
pub struct BatchJob {
    /// `invocationSchemaVersion`.
    pub schema: String,
    /// `invocationId`, echoed in the answer.
    pub invocation_id: String,
    /// `job.userArguments.minSeverity` (schema 2.0), or why it is not a severity.
    pub min_severity: Result<Option<Severity>, EventError>,
    /// The tasks, each one object.
    pub tasks: Vec<BatchTask>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// One task of a Batch Operations job.
pub struct BatchTask {
    /// The task id, echoed in the answer.
    pub id: String,
    /// The object, or why the task is not understood.
    pub object: Result<ObjectRef, EventError>,
}

/// Reads an invocation event; an error says why it is not understood.
pub fn parse(event: &Value) -> Result<Trigger, EventError> {
    let ours = str_at(event, &["trailwatch"]) == Some(SCHEDULED_CHECK);
    if ours || str_at(event, &["detail-type"]) == Some("Scheduled Event") {
        let time = str_at(event, &["time"]).and_then(crate::correlate::time::parse_event_time);
        return Ok(Trigger::Scheduled(time));
    }
    if let Some(other) = str_at(event, &["trailwatch"]) {
        return Err(EventError::Unknown(other.to_owned()));
    }
    if event.get("invocationSchemaVersion").is_some() && event.get("tasks").is_some() {
        return batch(event).map(Trigger::Batch);
    }
    if let Some(records) = event.get("Records").and_then(Value::as_array) {
        let sqs = records.first().is_some_and(|r| {
            r.get("eventSource").and_then(Value::as_str) == Some("aws:sqs")
                || (r.get("messageId").is_some() && r.get("body").is_some())
        });
        if sqs {
            return Ok(Trigger::Sqs(records.iter().map(sqs_message).collect()));
        }
    }
    let objects = objects(event)?;
    Ok(match objects {
        None => Trigger::Test,
        Some(list) => Trigger::Objects(list),
    })
}

/// The objects of a notification (not SQS); `None` for a test event.
fn objects(event: &Value) -> Result<Option<Vec<ObjectRef>>, EventError> {
    if event.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(None);
    }
    if let (Some(bucket), Some(keys)) = (str_at(event, &["s3Bucket"]), event.get("s3ObjectKey")) {
        // CloudTrail's own notification: keys as written, not encoded.
        let keys = keys
            .as_array()
            .ok_or(EventError::Shape("`s3ObjectKey` is not a list"))?;
        return Ok(Some(
            keys.iter()
                .filter_map(Value::as_str)
                .map(|k| ObjectRef::new(bucket, k))
                .collect(),
        ));
    }
    if event.get("detail-type").is_some() {
        let what = str_at(event, &["detail-type"]).unwrap_or_default();
        if what != "Object Created" {
            return Err(EventError::DetailType(what.to_owned()));
        }
        let bucket = str_at(event, &["detail", "bucket", "name"]);
        let key = str_at(event, &["detail", "object", "key"]);
        return match (bucket, key) {
            // EventBridge keys are not URL-encoded.
            (Some(b), Some(k)) => Ok(Some(vec![ObjectRef::new(b, k)])),
            _ => Err(EventError::Shape(
                "EventBridge event without detail.bucket.name and detail.object.key",
            )),
        };
    }
    let Some(records) = event.get("Records").and_then(Value::as_array) else {
        return Err(EventError::Shape(
            "no `Records`, `s3ObjectKey`, `detail-type` or `tasks`",
        ));
    };
    let mut found = Vec::new();
    for (index, record) in records.iter().enumerate() {
        let in_record = |e| EventError::Record {
            index,
            error: Box::new(e),
        };
        if let Some(sns) = record.get("Sns").or_else(|| record.get("sns")) {
            found.extend(sns_message(sns).map_err(in_record)?);
        } else if record.get("s3").is_some() {
            found.push(s3_record(record).map_err(in_record)?);
        } else {
            return Err(EventError::NotARecord(index));
        }
    }
    Ok(Some(found))
}

/// The objects inside an SNS envelope (`Message` holds an S3 or CloudTrail notification).
fn sns_message(envelope: &Value) -> Result<Vec<ObjectRef>, EventError> {
    let message = str_at(envelope, &["Message"])
        .ok_or(EventError::Shape("SNS envelope without `Message`"))?;
    let inner: Value = serde_json::from_str(message).map_err(|e| EventError::Json {
        what: "SNS `Message`",
        error: e.to_string(),
    })?;
    Ok(objects(&inner)?.unwrap_or_default())
}

fn s3_record(record: &Value) -> Result<ObjectRef, EventError> {
    let bucket =
        str_at(record, &["s3", "bucket", "name"]).ok_or(EventError::Shape("no s3.bucket.name"))?;
    let key =
        str_at(record, &["s3", "object", "key"]).ok_or(EventError::Shape("no s3.object.key"))?;
    Ok(ObjectRef::new(bucket, url_decode(key)?))
}

fn sqs_message(record: &Value) -> SqsMessage {
    let id = str_at(record, &["messageId"])
        .unwrap_or_default()
        .to_owned();
    let objects = (|| {
        let body = str_at(record, &["body"]).ok_or(EventError::Shape("message without a body"))?;
        let body: Value = serde_json::from_str(body).map_err(|e| EventError::Json {
            what: "body",
            error: e.to_string(),
        })?;
        if body.get("Type").and_then(Value::as_str) == Some("Notification") {
            return sns_message(&body);
        }
        Ok(objects(&body)?.unwrap_or_default())
    })();
    SqsMessage { id, objects }
}

fn batch(event: &Value) -> Result<BatchJob, EventError> {
    let schema = str_at(event, &["invocationSchemaVersion"]).ok_or(EventError::Shape(
        "`invocationSchemaVersion` is not a string",
    ))?;
    let tasks = event
        .get("tasks")
        .and_then(Value::as_array)
        .ok_or(EventError::Shape("`tasks` is not a list"))?;
    let tasks = tasks
        .iter()
        .map(|t| BatchTask {
            id: str_at(t, &["taskId"]).unwrap_or_default().to_owned(),
            object: batch_object(t),
        })
        .collect();
    let min_severity = match event.pointer("/job/userArguments/minSeverity") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            s.parse()
                .map(Some)
                .map_err(|e: crate::alert::severity::UnknownSeverity| {
                    EventError::MinSeverity(e.to_string())
                })
        }
        Some(other) => Err(EventError::MinSeverity(format!(
            "`{other}` is not a severity"
        ))),
    };
    Ok(BatchJob {
        schema: schema.to_owned(),
        min_severity,
        invocation_id: str_at(event, &["invocationId"])
            .unwrap_or_default()
            .to_owned(),
        tasks,
    })
}

/// Schema 2.0 names the bucket, 1.0 gives its ARN; keys are URL-encoded in both.
fn batch_object(task: &Value) -> Result<ObjectRef, EventError> {
    let bucket = str_at(task, &["s3Bucket"])
        .or_else(|| str_at(task, &["s3BucketArn"]).and_then(|arn| arn.rsplit(":::").next()))
        .filter(|b| !b.is_empty())
        .ok_or(EventError::Shape("task without s3Bucket or s3BucketArn"))?;
    let key = str_at(task, &["s3Key"]).ok_or(EventError::Shape("task without s3Key"))?;
    Ok(ObjectRef::new(bucket, url_decode(key)?))
}

/// Decodes an S3 notification key: `+` is a space, `%XX` a byte; the result must be UTF-8.
/// S3 escapes every `%` of a key, so a malformed escape means the event is not S3's.
pub fn url_decode(key: &str) -> Result<String, EventError> {
    let well_formed = key
        .split('%')
        .skip(1)
        .all(|rest| rest.len() >= 2 && rest.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit));
    if !well_formed {
        return Err(EventError::Key("bad escape in key"));
    }
    percent_decode_str(&key.replace('+', " "))
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| EventError::Key("key is not UTF-8 once decoded"))
}

/// Whether a key is a log file to scan: `.json.gz` or `.json`, and not a digest.
pub fn is_log_key(key: &str) -> bool {
    !key.contains("CloudTrail-Digest/") && is_delivery_name(key)
}

/// The account and region of a CloudTrail key: read from its `AWSLogs/` layout when it is in
/// it (a prefix such as `org/CloudTrail/` is only a prefix), else from the segments around
/// `.../ACCOUNT/CloudTrail/REGION/...`.
pub fn key_account_region(key: &str) -> (String, String) {
    if let Some(p) = crate::digest::KeyParts::parse(key) {
        return (p.account.to_owned(), p.region.to_owned());
    }
    let parts: Vec<&str> = key.split('/').collect();
    parts
        .iter()
        .position(|p| *p == "CloudTrail")
        .filter(|&i| i > 0 && i + 1 < parts.len())
        .map(|i| (parts[i - 1].to_owned(), parts[i + 1].to_owned()))
        .unwrap_or_default()
}
