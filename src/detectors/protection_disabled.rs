//! `protection-disabled`: a guardrail turned off. S3 Block Public Access deleted or weakened
//! (bucket, and account through S3 Control), GuardDuty detectors deleted, disabled or
//! disassociated, Security Hub and Macie disabled, IAM Access Analyzer deleted, VPC flow logs
//! deleted, EBS encryption by default disabled, S3 server access logging removed, Route 53
//! Resolver query logging deleted or disassociated. High; turning a protection on is no
//! finding; a failed call is one step lower.

use super::kms_ref::str_at;
use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::Record;
use serde_json::Value;

pub const ID: &str = "protection-disabled";

/// The four settings of S3 Block Public Access.
const BLOCK_FLAGS: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

pub struct ProtectionDisabled;

/// What a call turned off, for a human, and the request field that names the resource.
struct Off {
    what: &'static str,
    target: &'static [&'static str],
}

const fn off(what: &'static str, target: &'static [&'static str]) -> Option<Off> {
    Some(Off { what, target })
}

/// The calls that always turn a protection off, and those that may (checked on their request).
fn protection(source: &str, name: &str) -> Option<Off> {
    match (source, name) {
        ("s3.amazonaws.com", "DeleteBucketPublicAccessBlock") => {
            off("S3 Block Public Access of the bucket", &["bucketName"])
        }
        ("s3.amazonaws.com", "PutBucketPublicAccessBlock") => off(
            "S3 Block Public Access of the bucket (weakened)",
            &["bucketName"],
        ),
        ("s3.amazonaws.com", "DeleteAccountPublicAccessBlock") => {
            off("S3 Block Public Access of the account", &[])
        }
        ("s3.amazonaws.com", "PutAccountPublicAccessBlock") => {
            off("S3 Block Public Access of the account (weakened)", &[])
        }
        ("s3.amazonaws.com", "PutBucketLogging") => {
            off("S3 server access logging", &["bucketName"])
        }
        ("guardduty.amazonaws.com", "DeleteDetector") => off("GuardDuty", &["detectorId"]),
        ("guardduty.amazonaws.com", "UpdateDetector") => {
            off("GuardDuty (disabled)", &["detectorId"])
        }
        (
            "guardduty.amazonaws.com",
            "DisassociateFromMasterAccount"
            | "DisassociateFromAdministratorAccount"
            | "DisassociateMembers"
            | "StopMonitoringMembers"
            | "DeleteMembers",
        ) => off("GuardDuty monitoring of member accounts", &["detectorId"]),
        ("securityhub.amazonaws.com", "DisableSecurityHub") => off("Security Hub", &[]),
        ("macie2.amazonaws.com", "DisableMacie") => off("Macie", &[]),
        ("access-analyzer.amazonaws.com", "DeleteAnalyzer") => {
            off("IAM Access Analyzer", &["analyzerName"])
        }
        ("ec2.amazonaws.com", "DeleteFlowLogs") => off("VPC flow logs", &[]),
        ("ec2.amazonaws.com", "DisableEbsEncryptionByDefault") => {
            off("EBS encryption by default", &[])
        }
        (
            "route53resolver.amazonaws.com",
            "DeleteResolverQueryLogConfig" | "DisassociateResolverQueryLogConfig",
        ) => off(
            "Route 53 Resolver query logging",
            &["resolverQueryLogConfigId"],
        ),
        _ => None,
    }
}

impl Detector for ProtectionDisabled {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let name = record.event_name();
        let Some(off) = protection(record.event_source(), name) else {
            return;
        };
        let params = Record::parse_part(record.request_parameters).unwrap_or(Value::Null);
        if !turned_off(name, &params) {
            return;
        }
        let target = off
            .target
            .iter()
            .find_map(|k| str_at(&params, &[k]))
            .map(str::to_owned)
            .or_else(|| flow_log_ids(&params))
            .unwrap_or_else(|| record.account().to_owned());
        let summary = format!("{name} turned off {}: {target}", off.what);
        let mut f = Finding::new(ID, Severity::High, record, target.clone(), summary)
            .with("protection", off.what)
            .with("resource", target.as_str());
        let weakened = weakened_flags(&params);
        if !weakened.is_empty() {
            f = f.with("settings_off", weakened);
        }
        out.push(f);
    }
}

/// Whether a call that may turn a protection off did: the others always do.
fn turned_off(name: &str, params: &Value) -> bool {
    match name {
        "PutBucketPublicAccessBlock" | "PutAccountPublicAccessBlock" => {
            config(params).is_some() && !weakened_flags(params).is_empty()
        }
        // Logging is removed by a status without LoggingEnabled.
        "PutBucketLogging" => params
            .get("BucketLoggingStatus")
            .is_some_and(|s| s.get("LoggingEnabled").is_none_or(Value::is_null)),
        "UpdateDetector" => matches!(params.get("enable"), Some(Value::Bool(false))),
        _ => true,
    }
}

/// The Block Public Access configuration of a request.
fn config(params: &Value) -> Option<&Value> {
    params
        .get("PublicAccessBlockConfiguration")
        .or_else(|| params.pointer("/PutPublicAccessBlockRequest/PublicAccessBlockConfiguration"))
        .filter(|c| c.is_object())
}

/// The Block Public Access settings a request leaves off (absent ones are off too).
fn weakened_flags(params: &Value) -> Vec<&'static str> {
    let Some(config) = config(params) else {
        return Vec::new();
    };
    let on = |v: &Value| v.as_bool().or_else(|| v.as_str()?.parse().ok()) == Some(true);
    BLOCK_FLAGS
        .into_iter()
        .filter(|flag| !config.get(flag).is_some_and(on))
        .collect()
}

/// The flow log ids of a DeleteFlowLogs request, in either of the forms CloudTrail records.
fn flow_log_ids(params: &Value) -> Option<String> {
    let ids: Vec<&str> = match params.pointer("/DeleteFlowLogsRequest/FlowLogId") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|i| str_at(i, &["content"]))
            .collect(),
        Some(one) => str_at(one, &["content"]).into_iter().collect(),
        None => params
            .pointer("/flowLogIds/items")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default(),
    };
    (!ids.is_empty()).then(|| ids.join(", "))
}

#[cfg(test)]
#[path = "protection_disabled_tests.rs"]
mod tests;
