use super::*;
use crate::detectors::kms_ref::findings_on;
use serde_json::json;

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn kms(name: &str, params: Value) -> Value {
    json!({
        "eventSource": "kms.amazonaws.com", "eventName": name, "eventID": "e1",
        "recipientAccountId": "111122223333", "awsRegion": "us-east-1",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
        "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.17.20",
        "requestParameters": params
    })
}

fn put_policy(statements: Value) -> Value {
    let policy = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    kms(
        "PutKeyPolicy",
        json!({"keyId": KEY, "policyName": "default", "policy": policy}),
    )
}

fn one(record: &Value) -> Finding<'static> {
    let mut found = findings_on(&mut KmsKeyPolicy, record);
    assert_eq!(found.len(), 1, "{record}");
    found.remove(0)
}

fn none(record: &Value) {
    assert!(
        findings_on(&mut KmsKeyPolicy, record).is_empty(),
        "{record}"
    );
}

#[test]
fn public_policy_is_critical_and_failed_attempt_high() {
    let open = json!([{"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]);
    let f = one(&put_policy(open.clone()));
    assert_eq!((f.severity, &*f.target), (Severity::Critical, KEY));
    assert_eq!(f.evidence["public_statements"], json!(["Everyone"]));
    let mut failed = put_policy(open);
    failed["errorCode"] = json!("AccessDeniedException");
    let f = one(&failed);
    assert_eq!(f.severity, Severity::High);
    assert!(
        f.summary_text().contains("attempt failed"),
        "{}",
        f.summary_text()
    );
}

fn in_account() -> Value {
    json!([
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*"},
        {"Sid": "ViaS3", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"],
         "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333", "kms:ViaService": "s3.us-east-1.amazonaws.com"}}}
    ])
}

#[test]
fn conditioned_star_and_same_account_policy_are_a_low_change() {
    let f = one(&put_policy(in_account()));
    assert_eq!(f.severity, Severity::Low);
    assert_eq!(
        f.evidence["public_conditioned_statements"],
        json!(["ViaS3"])
    );
    assert!(f.summary_text().contains("within"), "{}", f.summary_text());
}

#[test]
fn create_key_is_assessed_like_put_key_policy() {
    let created = |statements: Value| {
        let policy = json!({"Statement": statements}).to_string();
        let mut r = kms(
            "CreateKey",
            json!({"policy": policy, "keyUsage": "ENCRYPT_DECRYPT"}),
        );
        r["responseElements"] = json!({"keyMetadata": {"arn": KEY, "keyId": "1234abcd"}});
        r
    };
    let f = one(&created(
        json!([{"Effect": "Allow", "Principal": "*", "Action": "kms:*"}]),
    ));
    assert_eq!((f.severity, &*f.target), (Severity::Critical, KEY));
    let shared =
        json!([{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kms:Decrypt"}]);
    assert_eq!(one(&created(shared)).severity, Severity::High);
    none(&created(in_account()));
    none(&kms("CreateKey", json!({"keyUsage": "ENCRYPT_DECRYPT"})));
}

#[test]
fn other_account_is_high_even_with_a_condition() {
    let f = one(&put_policy(json!({"Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::444455556666:root"]}, "Action": "kms:Decrypt",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}}})));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["other_accounts"], json!(["444455556666"]));
}

#[test]
fn unreadable_policy_is_reported_at_medium_and_bypass_too() {
    let f = one(&kms(
        "PutKeyPolicy",
        json!({"keyId": KEY, "policy": "{\"Statement\": [trunc"}),
    ));
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence["policy_readable"], json!(false));
    let root = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*"}});
    let bypass = kms(
        "PutKeyPolicy",
        json!({"keyId": KEY, "policy": root.to_string(), "bypassPolicyLockoutSafetyCheck": true}),
    );
    assert_eq!(one(&bypass).severity, Severity::Medium);
}

#[test]
fn replicate_key_is_medium_unless_its_policy_says_more() {
    let f = one(&kms(
        "ReplicateKey",
        json!({"keyId": KEY, "replicaRegion": "eu-west-1"}),
    ));
    assert_eq!(f.severity, Severity::Medium);
    assert!(
        f.summary_text().contains("eu-west-1"),
        "{}",
        f.summary_text()
    );
    let open = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*"}]})
        .to_string();
    let f = one(&kms(
        "ReplicateKey",
        json!({"keyId": KEY, "replicaRegion": "eu-west-1", "policy": open}),
    ));
    assert_eq!(f.severity, Severity::Critical);
}

#[test]
fn grants_fire_only_across_accounts() {
    let grant = |grantee: &str, key: &str| {
        kms(
            "CreateGrant",
            json!({"keyId": key, "granteePrincipal": grantee, "operations": ["Decrypt"]}),
        )
    };
    let f = one(&grant("arn:aws:iam::444455556666:role/etl", KEY));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["grantee_account"], "444455556666");
    none(&grant("arn:aws:iam::111122223333:role/app", KEY));
    none(&grant("rds.us-east-1.amazonaws.com", KEY));
    // A grant on another account's key to a principal of ours shares that key with us.
    let foreign = "arn:aws:kms:us-east-1:999988887777:key/k";
    assert_eq!(
        one(&grant("arn:aws:iam::111122223333:role/app", foreign)).target,
        foreign
    );
    // A bare key id: the key is in the recipient account.
    assert_eq!(one(&grant("444455556666", "1234abcd")).target, "1234abcd");
}

#[test]
fn grant_removal_by_people_only_and_token_never_repeated() {
    let mut retire = kms(
        "RetireGrant",
        json!({"grantToken": "AQpAM2RhZTk1MGMySECRETTOKEN"}),
    );
    retire["resources"] = json!([{"type": "AWS::KMS::Key", "ARN": KEY}]);
    let f = one(&retire);
    assert_eq!((f.severity, &*f.target), (Severity::Medium, KEY));
    assert!(!serde_json::to_string(&f).unwrap().contains("SECRETTOKEN"));
    let mut internal = retire.clone();
    internal["userAgent"] = json!("AWS Internal");
    none(&internal);
    let mut service = kms("RevokeGrant", json!({"keyId": KEY, "grantId": "g1"}));
    assert_eq!(one(&service).evidence["grant_id"], "g1");
    service["userIdentity"] = json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"});
    none(&service);
}

#[test]
fn alias_changes_are_medium_on_the_alias() {
    let f = one(&kms(
        "UpdateAlias",
        json!({"aliasName": "alias/payments", "targetKeyId": "k2"}),
    ));
    assert_eq!(
        (f.severity, &*f.target),
        (Severity::Medium, "alias/payments")
    );
    assert!(f.summary_text().contains("k2"));
    assert_eq!(
        one(&kms("DeleteAlias", json!({"aliasName": "alias/payments"}))).target,
        "alias/payments"
    );
}

#[test]
fn other_sources_names_and_junk_are_no_finding() {
    let mut wrong = put_policy(json!({"Effect": "Allow", "Principal": "*"}));
    wrong["eventSource"] = json!("kms.example.com");
    none(&wrong);
    none(&kms("Decrypt", json!({"keyId": KEY})));
    none(&kms("CreateGrant", json!("junk")));
    none(&kms("CreateGrant", json!({"granteePrincipal": 7})));
    // Every PutKeyPolicy is a key policy change, even when the record does not show it.
    assert_eq!(
        one(&kms("PutKeyPolicy", json!([1, 2]))).severity,
        Severity::Low
    );
    assert_eq!(
        one(&kms("PutKeyPolicy", Value::Null)).severity,
        Severity::Low
    );
}
