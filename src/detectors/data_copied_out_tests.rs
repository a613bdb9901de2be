use super::*;
use crate::detectors::kms_ref::findings_on;
use serde_json::{json, Value};

const OWN: &str = "111122223333";
const OTHER: &str = "444455556666";

fn call(source: &str, name: &str, params: Value) -> Value {
    json!({"eventSource": source, "eventName": name, "awsRegion": "us-east-1",
           "recipientAccountId": OWN, "eventTime": "2026-12-06T10:00:00Z",
           "userIdentity": {"type": "AssumedRole", "accountId": OWN,
                            "arn": "arn:aws:sts::111122223333:assumed-role/Admin/eve"},
           "requestParameters": params})
}

fn found(record: &Value) -> Vec<(Severity, String)> {
    let mut d = DataCopiedOut::new(TrustedAccounts::default());
    findings_on(&mut d, record)
        .into_iter()
        .map(|f| (f.severity, f.summary_text().into_owned()))
        .collect()
}

#[test]
fn replication_to_another_account_is_high_and_a_trusted_one_is_not_reported() {
    let r = call(
        "s3.amazonaws.com",
        "PutBucketReplication",
        json!({"bucketName": "payroll", "ReplicationConfiguration": {"Role": "arn:aws:iam::111122223333:role/r",
              "Rule": [{"ID": "all", "Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::drop", "Account": OTHER}}]}}),
    );
    let f = found(&r);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].0, Severity::High);
    assert!(
        f[0].1.contains("arn:aws:s3:::drop of account 444455556666"),
        "{}",
        f[0].1
    );
    let mut d = DataCopiedOut::new(OTHER.parse().unwrap());
    assert!(findings_on(&mut d, &r).is_empty(), "a trusted account");
    let same = call(
        "s3.amazonaws.com",
        "PutBucketReplication",
        json!({"bucketName": "payroll", "ReplicationConfiguration": {"Rule": {"Destination": {"Bucket": "arn:aws:s3:::dr"}}}}),
    );
    assert!(found(&same).is_empty(), "a destination in the same account");
}

#[test]
fn objects_under_another_accounts_key_or_copied_into_its_bucket() {
    let key = "arn:aws:kms:us-east-1:444455556666:key/9f1c";
    let put = call(
        "s3.amazonaws.com",
        "PutObject",
        json!({"bucketName": "payroll", "key": "a.csv", "x-amz-server-side-encryption": "aws:kms", KMS_HEADER: key}),
    );
    let f = found(&put);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].0, Severity::High);
    assert!(
        f[0].1.contains("KMS key of account 444455556666"),
        "{}",
        f[0].1
    );
    let own_key = call(
        "s3.amazonaws.com",
        "PutObject",
        json!({"bucketName": "payroll", "key": "a.csv", KMS_HEADER: "arn:aws:kms:us-east-1:111122223333:key/1"}),
    );
    assert!(found(&own_key).is_empty());
    let plain = call(
        "s3.amazonaws.com",
        "PutObject",
        json!({"bucketName": "payroll", "key": "a.csv"}),
    );
    assert!(found(&plain).is_empty());
    let mut copy = call(
        "s3.amazonaws.com",
        "CopyObject",
        json!({"bucketName": "drop", "key": "a.csv", "x-amz-copy-source": "payroll/a.csv"}),
    );
    copy["resources"] = json!([{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::drop/a.csv"},
                               {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::drop", "accountId": OTHER}]);
    let f = found(&copy);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].0, Severity::Medium);
    assert!(
        f[0].1
            .contains("copied payroll/a.csv into s3://drop/a.csv (bucket of account 444455556666)"),
        "{}",
        f[0].1
    );
    copy["resources"][1]["accountId"] = json!(OWN);
    assert!(found(&copy).is_empty(), "a copy within the account");
    copy["resources"] = Value::Null;
    assert!(
        found(&copy).is_empty(),
        "a bucket whose owner the record does not name"
    );
}

#[test]
fn table_exports_and_snapshot_copies() {
    let export = call(
        "dynamodb.amazonaws.com",
        "ExportTableToPointInTime",
        json!({"tableArn": "arn:aws:dynamodb:us-east-1:111122223333:table/users", "s3Bucket": "drop", "s3BucketOwner": OTHER}),
    );
    assert_eq!(found(&export)[0].0, Severity::High);
    let own = call(
        "dynamodb.amazonaws.com",
        "ExportTableToPointInTime",
        json!({"tableArn": "arn:aws:dynamodb:us-east-1:111122223333:table/users", "s3Bucket": "exports"}),
    );
    assert!(found(&own).is_empty());
    let keyed = call(
        "rds.amazonaws.com",
        "CopyDBSnapshot",
        json!({"sourceDBSnapshotIdentifier": "rds:prod-2026-12-06", "targetDBSnapshotIdentifier": "x",
               "kmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/9f1c"}),
    );
    assert_eq!(found(&keyed)[0].0, Severity::High);
    let regions = call(
        "rds.amazonaws.com",
        "CopyDBClusterSnapshot",
        json!({"sourceDBClusterSnapshotIdentifier": "arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:prod", "targetDBClusterSnapshotIdentifier": "x"}),
    );
    let f = found(&regions);
    assert_eq!(f[0].0, Severity::Medium);
    assert!(
        f[0].1.contains("from region eu-west-1 to region us-east-1"),
        "{}",
        f[0].1
    );
    let ebs = call(
        "ec2.amazonaws.com",
        "CopySnapshot",
        json!({"sourceRegion": "us-east-1", "sourceSnapshotId": "snap-0a1b"}),
    );
    assert!(found(&ebs).is_empty(), "a copy within the region");
    let ami = call(
        "ec2.amazonaws.com",
        "CopyImage",
        json!({"sourceRegion": "eu-central-1", "sourceImageId": "ami-1"}),
    );
    assert_eq!(found(&ami)[0].0, Severity::Medium);
    let other = call(
        "logs.amazonaws.com",
        "CopySnapshot",
        json!({"sourceRegion": "eu-central-1"}),
    );
    assert!(
        found(&other).is_empty(),
        "the same name from another service"
    );
}
