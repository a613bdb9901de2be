use super::*;
use crate::detectors::kms_ref::findings_on;
use serde_json::json;

fn call(source: &str, name: &str, params: Value) -> Value {
    json!({"eventSource": source, "eventName": name, "eventID": "e1",
        "recipientAccountId": "111122223333", "requestParameters": params})
}

fn found(record: &Value) -> Vec<Finding<'static>> {
    findings_on(&mut ProtectionDisabled, record)
}

#[test]
fn every_protection_turned_off_is_high() {
    let bpa_off = json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
        "BlockPublicPolicy": false, "RestrictPublicBuckets": true});
    let cases = [
        (
            "s3.amazonaws.com",
            "DeleteBucketPublicAccessBlock",
            json!({"bucketName": "b"}),
            "b",
        ),
        (
            "s3.amazonaws.com",
            "PutBucketPublicAccessBlock",
            json!({"bucketName": "b", "PublicAccessBlockConfiguration": bpa_off}),
            "b",
        ),
        (
            "s3.amazonaws.com",
            "DeleteAccountPublicAccessBlock",
            Value::Null,
            "111122223333",
        ),
        (
            "s3.amazonaws.com",
            "PutAccountPublicAccessBlock",
            json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": "false"}}),
            "111122223333",
        ),
        (
            "s3.amazonaws.com",
            "PutBucketLogging",
            json!({"bucketName": "b", "BucketLoggingStatus": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}}),
            "b",
        ),
        (
            "guardduty.amazonaws.com",
            "DeleteDetector",
            json!({"detectorId": "d1"}),
            "d1",
        ),
        (
            "guardduty.amazonaws.com",
            "UpdateDetector",
            json!({"detectorId": "d1", "enable": false}),
            "d1",
        ),
        (
            "guardduty.amazonaws.com",
            "DisassociateFromAdministratorAccount",
            json!({"detectorId": "d1"}),
            "d1",
        ),
        (
            "securityhub.amazonaws.com",
            "DisableSecurityHub",
            Value::Null,
            "111122223333",
        ),
        (
            "macie2.amazonaws.com",
            "DisableMacie",
            Value::Null,
            "111122223333",
        ),
        (
            "access-analyzer.amazonaws.com",
            "DeleteAnalyzer",
            json!({"analyzerName": "org"}),
            "org",
        ),
        (
            "ec2.amazonaws.com",
            "DeleteFlowLogs",
            json!({"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-1", "tag": 1}}}),
            "fl-1",
        ),
        (
            "ec2.amazonaws.com",
            "DisableEbsEncryptionByDefault",
            json!({}),
            "111122223333",
        ),
        (
            "route53resolver.amazonaws.com",
            "DeleteResolverQueryLogConfig",
            json!({"resolverQueryLogConfigId": "rqlc-1"}),
            "rqlc-1",
        ),
        (
            "route53resolver.amazonaws.com",
            "DisassociateResolverQueryLogConfig",
            json!({"resolverQueryLogConfigId": "rqlc-1", "resourceId": "vpc-1"}),
            "rqlc-1",
        ),
    ];
    for (source, name, params, target) in cases {
        let out = found(&call(source, name, params));
        assert_eq!(out.len(), 1, "{name}");
        assert_eq!(
            (out[0].severity, &*out[0].target),
            (Severity::High, target),
            "{name}"
        );
    }
    let weakened = found(&call(
        "s3.amazonaws.com",
        "PutBucketPublicAccessBlock",
        json!({"bucketName": "b", "PublicAccessBlockConfiguration": {"BlockPublicAcls": true}}),
    ));
    assert_eq!(
        weakened[0].evidence["settings_off"],
        json!([
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets"
        ])
    );
}

#[test]
fn turning_protections_on_and_other_calls_are_quiet() {
    let all_on = json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
        "BlockPublicPolicy": true, "RestrictPublicBuckets": true});
    let quiet = [
        (
            "s3.amazonaws.com",
            "PutBucketPublicAccessBlock",
            json!({"bucketName": "b", "PublicAccessBlockConfiguration": all_on}),
        ),
        (
            "s3.amazonaws.com",
            "PutBucketPublicAccessBlock",
            json!({"bucketName": "b"}),
        ),
        (
            "s3.amazonaws.com",
            "PutBucketLogging",
            json!({"bucketName": "b", "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": "b/"}}}),
        ),
        (
            "guardduty.amazonaws.com",
            "UpdateDetector",
            json!({"detectorId": "d1", "enable": true}),
        ),
        (
            "guardduty.amazonaws.com",
            "UpdateDetector",
            json!({"detectorId": "d1", "findingPublishingFrequency": "SIX_HOURS"}),
        ),
        (
            "guardduty.amazonaws.com",
            "CreateDetector",
            json!({"enable": true}),
        ),
        (
            "ec2.amazonaws.com",
            "EnableEbsEncryptionByDefault",
            json!({}),
        ),
        ("ec2.amazonaws.com", "CreateFlowLogs", json!({})),
        (
            "securityhub.amazonaws.com",
            "EnableSecurityHub",
            Value::Null,
        ),
        ("cloudtrail.amazonaws.com", "DeleteFlowLogs", Value::Null),
    ];
    for (source, name, params) in quiet {
        assert!(found(&call(source, name, params)).is_empty(), "{name}");
    }
    let mut failed = call(
        "guardduty.amazonaws.com",
        "DeleteDetector",
        json!({"detectorId": "d1"}),
    );
    failed["errorCode"] = json!("AccessDenied");
    assert_eq!(found(&failed)[0].severity, Severity::Medium);
}
