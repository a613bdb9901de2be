use super::*;
use crate::detectors::kms_ref::findings_on;
use serde_json::json;

const CMK: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn call(source: &str, name: &str, params: Value) -> Value {
    json!({"eventSource": source, "eventName": name, "recipientAccountId": "111122223333",
           "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
           "requestParameters": params})
}

fn fires(record: &Value) -> Option<Finding<'static>> {
    let mut found = findings_on(&mut CmkDowngrade, record);
    assert!(found.len() <= 1, "{record}");
    found.pop()
}

#[test]
fn lambda_update_clearing_the_key_fires_by_name_prefix() {
    for name in [
        "UpdateFunctionConfiguration20150331v2",
        "UpdateFunctionConfiguration20150331",
        "UpdateFunctionConfiguration",
    ] {
        for key in [
            json!(""),
            json!("arn:aws:kms:us-east-1:111122223333:alias/aws/lambda"),
        ] {
            let r = call(
                "lambda.amazonaws.com",
                name,
                json!({"functionName": "billing", "kMSKeyArn": key}),
            );
            let f = fires(&r).unwrap_or_else(|| panic!("{name} {key}"));
            assert_eq!((f.severity, &*f.target), (Severity::Medium, "billing"));
        }
    }
}

#[test]
fn lambda_near_misses() {
    let update = "UpdateFunctionConfiguration20150331v2";
    // Sets a CMK, leaves the key alone, or is another service's event of the same name.
    assert!(fires(&call(
        "lambda.amazonaws.com",
        update,
        json!({"functionName": "f", "kMSKeyArn": CMK})
    ))
    .is_none());
    assert!(fires(&call(
        "lambda.amazonaws.com",
        update,
        json!({"functionName": "f", "environment": {}})
    ))
    .is_none());
    assert!(fires(&call(
        "lambda.amazonaws.com",
        update,
        json!({"functionName": "f", "kMSKeyArn": 5})
    ))
    .is_none());
    assert!(fires(&call(
        "lambda.amazonaws.com",
        update,
        json!({"functionName": "f", "kMSKeyArn": null})
    ))
    .is_none());
    assert!(fires(&call(
        "lambda.example.com",
        update,
        json!({"kMSKeyArn": ""})
    ))
    .is_none());
    // Creating a function without a CMK moves nothing off a CMK: documented as no finding.
    let create =
        json!({"functionName": "f", "environment": {"variables": {"A": "b"}}, "kMSKeyArn": ""});
    assert!(fires(&call(
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        create
    ))
    .is_none());
    // A look-alike alias is a customer alias, not the AWS managed one.
    let own = "arn:aws:kms:us-east-1:111122223333:alias/myaws/lambda";
    assert!(fires(&call(
        "lambda.amazonaws.com",
        update,
        json!({"kMSKeyArn": own})
    ))
    .is_none());
}

#[test]
fn logs_xray_s3() {
    let f = fires(&call(
        "logs.amazonaws.com",
        "DisassociateKmsKey",
        json!({"logGroupName": "/app/audit"}),
    ))
    .unwrap();
    assert_eq!(f.target, "/app/audit");
    let arn = "arn:aws:logs:us-east-1:111122223333:query-result:*";
    let f = fires(&call(
        "logs.amazonaws.com",
        "DisassociateKmsKey",
        json!({"resourceIdentifier": arn}),
    ))
    .unwrap();
    assert_eq!(f.target, arn);
    assert!(fires(&call(
        "logs.amazonaws.com",
        "AssociateKmsKey",
        json!({"logGroupName": "/a", "kmsKeyId": CMK})
    ))
    .is_none());

    assert!(fires(&call(
        "xray.amazonaws.com",
        "PutEncryptionConfig",
        json!({"type": "NONE"})
    ))
    .is_some());
    assert!(fires(&call(
        "xray.amazonaws.com",
        "PutEncryptionConfig",
        json!({"type": "KMS", "keyId": CMK})
    ))
    .is_none());
    assert!(fires(&call(
        "xray.amazonaws.com",
        "PutEncryptionConfig",
        json!({})
    ))
    .is_none());

    let f = fires(&call(
        "s3.amazonaws.com",
        "DeleteBucketEncryption",
        json!({"bucketName": "ledger", "encryption": [""]}),
    ))
    .unwrap();
    assert_eq!(f.target, "ledger");
    assert!(fires(&call(
        "s3.amazonaws.com",
        "PutBucketEncryption",
        json!({"bucketName": "ledger"})
    ))
    .is_none());
}

#[test]
fn sns_kms_master_key_cleared_or_aws_managed() {
    let topic = "arn:aws:sns:us-east-1:111122223333:orders";
    let set = |value: Value| {
        fires(&call(
            "sns.amazonaws.com",
            "SetTopicAttributes",
            json!({"topicArn": topic, "attributeName": "KmsMasterKeyId", "attributeValue": value}),
        ))
    };
    assert_eq!(set(json!("")).unwrap().evidence["now"], UNENCRYPTED);
    assert_eq!(
        set(json!("alias/aws/sns")).unwrap().evidence["now"],
        AWS_MANAGED
    );
    assert_eq!(set(json!("alias/aws/sns")).unwrap().target, topic);
    assert!(set(Value::Null).is_some());
    assert!(set(json!(CMK)).is_none());
    assert!(set(json!("alias/orders-cmk")).is_none());
    let other = json!({"topicArn": topic, "attributeName": "DisplayName", "attributeValue": ""});
    assert!(fires(&call("sns.amazonaws.com", "SetTopicAttributes", other)).is_none());
}

#[test]
fn failed_attempt_is_low_and_junk_is_quiet() {
    let mut r = call(
        "s3.amazonaws.com",
        "DeleteBucketEncryption",
        json!({"bucketName": "b"}),
    );
    r["errorCode"] = json!("AccessDenied");
    let f = fires(&r).unwrap();
    assert_eq!(f.severity, Severity::Low);
    assert!(f.summary_text().contains("attempt failed"));
    assert!(fires(&call(
        "sns.amazonaws.com",
        "SetTopicAttributes",
        json!("junk")
    ))
    .is_none());
    assert!(fires(&call(
        "xray.amazonaws.com",
        "PutEncryptionConfig",
        json!([1])
    ))
    .is_none());
    assert_eq!(
        fires(&call(
            "s3.amazonaws.com",
            "DeleteBucketEncryption",
            Value::Null
        ))
        .unwrap()
        .target,
        ""
    );
}
