//! `cmk-downgrade`: a resource moved off a customer managed KMS key, to the AWS managed default
//! key or to no KMS encryption at all.

use super::kms_ref::str_at;
use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::Record;
use serde_json::Value;

pub const ID: &str = "cmk-downgrade";

pub struct CmkDowngrade;

/// What one call moved off its customer managed key, and to what.
struct Downgrade {
    target: String,
    resource: &'static str,
    now: &'static str,
}

impl Detector for CmkDowngrade {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let Some(check) = check_for(record.event_source(), record.event_name()) else {
            return;
        };
        let params = Record::parse_part(record.request_parameters).unwrap_or(Value::Null);
        let Some(d) = check(&params) else {
            return;
        };
        let summary = format!(
            "{} cleared the KMS key of {} {}; now: {}",
            record.event_name(),
            d.resource,
            d.target,
            d.now
        );
        out.push(
            Finding::new(ID, Severity::Medium, record, d.target.clone(), summary)
                .with("resource", d.resource)
                .with("resource_id", &*d.target)
                .with("now", d.now),
        );
    }
}

type Check = fn(&Value) -> Option<Downgrade>;

/// The check for one call, by event source and name. Lambda names carry API versions
/// (`UpdateFunctionConfiguration20150331v2`): matched by prefix.
fn check_for(source: &str, name: &str) -> Option<Check> {
    let check: Check = match (source, name) {
        ("lambda.amazonaws.com", n) if n.starts_with("UpdateFunctionConfiguration") => lambda,
        ("logs.amazonaws.com", "DisassociateKmsKey") => logs,
        ("xray.amazonaws.com", "PutEncryptionConfig") => xray,
        ("sns.amazonaws.com", "SetTopicAttributes") => sns,
        ("s3.amazonaws.com", "DeleteBucketEncryption") => s3,
        _ => return None,
    };
    Some(check)
}

const AWS_MANAGED: &str = "the AWS managed key";
const SERVICE_OWNED: &str = "the service's own encryption (no KMS key)";
const UNENCRYPTED: &str = "no server-side encryption";

fn text(params: &Value, key: &str) -> String {
    str_at(params, &[key]).unwrap_or("").to_owned()
}

/// UpdateFunctionConfiguration that sets `kMSKeyArn` to "" (or to aws/lambda): environment
/// variables fall back to the AWS managed key. An absent `kMSKeyArn` leaves the key unchanged.
/// CreateFunction is never a downgrade: a new function was on no key before.
fn lambda(params: &Value) -> Option<Downgrade> {
    let key = params
        .get("kMSKeyArn")
        .or_else(|| params.get("kmsKeyArn"))?;
    // null (not a value anyone sends) is read like an absent key: unchanged.
    let key = key.as_str()?.trim();
    if !(key.is_empty() || is_aws_managed(key, "lambda")) {
        return None;
    }
    Some(Downgrade {
        target: text(params, "functionName"),
        resource: "Lambda function",
        now: AWS_MANAGED,
    })
}

/// DisassociateKmsKey: the log group (or query results) go back to CloudWatch Logs' own keys.
fn logs(params: &Value) -> Option<Downgrade> {
    let group = str_at(params, &["logGroupName"]).filter(|g| !g.is_empty());
    let target = group.or_else(|| str_at(params, &["resourceIdentifier"]));
    Some(Downgrade {
        target: target.unwrap_or("").to_owned(),
        resource: "log group",
        now: SERVICE_OWNED,
    })
}

/// PutEncryptionConfig with type NONE: X-Ray falls back to its default encryption.
fn xray(params: &Value) -> Option<Downgrade> {
    let kind = str_at(params, &["type"])?;
    kind.trim().eq_ignore_ascii_case("NONE").then(|| Downgrade {
        target: "encryption configuration".to_owned(),
        resource: "X-Ray",
        now: SERVICE_OWNED,
    })
}

/// SetTopicAttributes of KmsMasterKeyId to "" (encryption off) or to alias/aws/sns.
fn sns(params: &Value) -> Option<Downgrade> {
    if str_at(params, &["attributeName"])? != "KmsMasterKeyId" {
        return None;
    }
    let value = match params.get("attributeValue") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.trim(),
        Some(_) => return None,
    };
    let now = if value.is_empty() {
        UNENCRYPTED
    } else if is_aws_managed(value, "sns") {
        AWS_MANAGED
    } else {
        return None;
    };
    Some(Downgrade {
        target: text(params, "topicArn"),
        resource: "SNS topic",
        now,
    })
}

/// DeleteBucketEncryption: new objects get the S3 default, SSE-S3.
fn s3(params: &Value) -> Option<Downgrade> {
    Some(Downgrade {
        target: text(params, "bucketName"),
        resource: "S3 bucket",
        now: "SSE-S3 (no KMS key)",
    })
}

/// `alias/aws/<service>`, as an alias name or an alias ARN.
fn is_aws_managed(key: &str, service: &str) -> bool {
    key.strip_suffix(service)
        .is_some_and(|rest| rest == "alias/aws/" || rest.ends_with(":alias/aws/"))
}

#[cfg(test)]
#[path = "cmk_downgrade_tests.rs"]
mod tests;
