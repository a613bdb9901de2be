//! Tests of `resource-public` and `resource-shared` over every family of calls they read.

use super::*;
use crate::detectors::kms_ref::findings_on;
use crate::detectors::resource_shared::ResourceShared;
use crate::detectors::trusted::TrustedAccounts;
use serde_json::json;

const OWN: &str = "111122223333";

fn call(source: &str, name: &str, params: Value) -> Value {
    json!({
        "eventSource": source, "eventName": name, "eventID": "e1",
        "recipientAccountId": OWN, "awsRegion": "us-east-1",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": OWN},
        "requestParameters": params
    })
}

fn public(record: &Value) -> Option<Finding<'static>> {
    let mut found = findings_on(&mut ResourcePublic, record);
    assert!(found.len() <= 1, "{record}");
    found.pop()
}

fn shared_with(record: &Value, trusted: &str) -> Option<Finding<'static>> {
    let trusted: TrustedAccounts = trusted.parse().unwrap();
    findings_on(&mut ResourceShared::new(trusted), record).pop()
}

fn open_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Anyone", "Effect": "Allow",
        "Principal": "*", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}]})
}

fn account_policy() -> Value {
    json!({"Statement": [{"Sid": "Partner", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sqs:SendMessage"}]})
}

#[test]
fn every_policy_family_opened_to_everyone() {
    let text = open_policy().to_string();
    let cases = [
        (
            "s3.amazonaws.com",
            "PutBucketPolicy",
            json!({"bucketName": "b", "bucketPolicy": open_policy()}),
            Severity::Critical,
        ),
        (
            "s3.amazonaws.com",
            "PutAccessPointPolicy",
            json!({"name": "ap", "PutAccessPointPolicyRequest": {"Policy": text}}),
            Severity::Critical,
        ),
        (
            "sqs.amazonaws.com",
            "CreateQueue",
            json!({"queueName": "q", "attributes": {"Policy": text}}),
            Severity::High,
        ),
        (
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            json!({"queueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/q", "attributes": {"Policy": open_policy()}}),
            Severity::High,
        ),
        (
            "sns.amazonaws.com",
            "CreateTopic",
            json!({"name": "t", "attributes": {"Policy": text}}),
            Severity::High,
        ),
        (
            "sns.amazonaws.com",
            "SetTopicAttributes",
            json!({"topicArn": "arn:aws:sns:us-east-1:111122223333:t", "attributeName": "Policy", "attributeValue": text}),
            Severity::High,
        ),
        (
            "secretsmanager.amazonaws.com",
            "PutResourcePolicy",
            json!({"secretId": "s", "resourcePolicy": text}),
            Severity::Critical,
        ),
        (
            "ecr.amazonaws.com",
            "SetRepositoryPolicy",
            json!({"repositoryName": "r", "policyText": text}),
            Severity::High,
        ),
        (
            "glacier.amazonaws.com",
            "SetVaultAccessPolicy",
            json!({"vaultName": "v", "policy": {"policy": text}}),
            Severity::High,
        ),
        (
            "es.amazonaws.com",
            "UpdateDomainConfig",
            json!({"domainName": "d", "accessPolicies": text}),
            Severity::High,
        ),
        (
            "es.amazonaws.com",
            "CreateElasticsearchDomain",
            json!({"domainName": "d", "accessPolicies": open_policy()}),
            Severity::High,
        ),
        (
            "elasticfilesystem.amazonaws.com",
            "PutFileSystemPolicy",
            json!({"fileSystemId": "fs-1", "policy": text}),
            Severity::Critical,
        ),
        (
            "backup.amazonaws.com",
            "PutBackupVaultAccessPolicy",
            json!({"backupVaultName": "v", "policy": text}),
            Severity::Critical,
        ),
        (
            "iam.amazonaws.com",
            "CreateRole",
            json!({"roleName": "r", "assumeRolePolicyDocument": text}),
            Severity::High,
        ),
        (
            "iam.amazonaws.com",
            "UpdateAssumeRolePolicy",
            json!({"roleName": "r", "policyDocument": text}),
            Severity::High,
        ),
    ];
    for (source, name, params, severity) in cases {
        let f = public(&call(source, name, params)).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(f.severity, severity, "{name}");
        assert_eq!(
            f.evidence["public_grants"][0]["statement"], "Anyone",
            "{name}"
        );
        assert!(
            f.summary_text().contains("to everyone"),
            "{}",
            f.summary_text()
        );
        let evidence = serde_json::to_string(&f.evidence).unwrap();
        assert!(
            !evidence.contains("arn:aws:s3:::b/*"),
            "the policy is not repeated: {evidence}"
        );
    }
}

#[test]
fn attributes_acls_and_network_rules_opened_to_everyone() {
    let cases = [
        (
            "ec2.amazonaws.com",
            "ModifySnapshotAttribute",
            json!({"snapshotId": "snap-1", "attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": {"add": {"items": [{"group": "all"}]}}}),
            Severity::Critical,
        ),
        (
            "ec2.amazonaws.com",
            "ModifyImageAttribute",
            json!({"imageId": "ami-1", "launchPermission": {"add": {"items": [{"group": "all"}]}}}),
            Severity::Critical,
        ),
        (
            "rds.amazonaws.com",
            "ModifyDBSnapshotAttribute",
            json!({"dBSnapshotIdentifier": "s", "attributeName": "restore", "valuesToAdd": ["all"]}),
            Severity::Critical,
        ),
        (
            "rds.amazonaws.com",
            "ModifyDBClusterSnapshotAttribute",
            json!({"dBClusterSnapshotIdentifier": "s", "attributeName": "restore", "valuesToAdd": ["all"]}),
            Severity::Critical,
        ),
        (
            "rds.amazonaws.com",
            "ModifyDBInstance",
            json!({"dBInstanceIdentifier": "db", "publiclyAccessible": true}),
            Severity::High,
        ),
        (
            "lambda.amazonaws.com",
            "AddPermission20150331v2",
            json!({"functionName": "f", "principal": "*", "action": "lambda:InvokeFunction", "statementId": "open"}),
            Severity::High,
        ),
        (
            "lambda.amazonaws.com",
            "CreateFunctionUrlConfig20211031",
            json!({"functionName": "f", "authType": "NONE"}),
            Severity::High,
        ),
        (
            "s3.amazonaws.com",
            "PutBucketAcl",
            json!({"bucketName": "b", "AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}}}),
            Severity::Critical,
        ),
        (
            "s3.amazonaws.com",
            "PutObjectAcl",
            json!({"bucketName": "b", "key": "k", "x-amz-acl": ["public-read"]}),
            Severity::Critical,
        ),
        (
            "s3.amazonaws.com",
            "CreateBucket",
            json!({"bucketName": "b", "x-amz-grant-read": "uri=\"http://acs.amazonaws.com/groups/global/AuthenticatedUsers\""}),
            Severity::Critical,
        ),
        (
            "s3.amazonaws.com",
            "PutObject",
            json!({"bucketName": "b", "key": "k", "x-amz-acl": "public-read-write"}),
            Severity::Critical,
        ),
        (
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
            Severity::High,
        ),
        (
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "-1", "ipv6Ranges": {"items": [{"cidrIpv6": "::/0"}]}}]}}),
            Severity::High,
        ),
        (
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": "sg-1", "cidrIp": "208.236.235.254/0", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipPermissions": {}}),
            Severity::High,
        ),
        (
            "ec2.amazonaws.com",
            "CreateNetworkAclEntry",
            json!({"networkAclId": "acl-1", "ruleNumber": 100, "egress": false, "ruleAction": "allow", "protocol": "6", "cidrBlock": "0.0.0.0/0", "portRange": {"from": 3389, "to": 3389}}),
            Severity::High,
        ),
    ];
    for (source, name, params, severity) in cases {
        let f = public(&call(source, name, params)).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(f.severity, severity, "{name}: {}", f.summary_text());
    }
}

#[test]
fn removals_web_ports_and_restricted_grants_are_quiet() {
    let quiet = [
        (
            "ec2.amazonaws.com",
            "ModifySnapshotAttribute",
            json!({"snapshotId": "snap-1", "createVolumePermission": {"remove": {"items": [{"group": "all"}]}}}),
        ),
        (
            "rds.amazonaws.com",
            "ModifyDBSnapshotAttribute",
            json!({"dBSnapshotIdentifier": "s", "attributeName": "restore", "valuesToRemove": ["all"]}),
        ),
        (
            "rds.amazonaws.com",
            "ModifyDBInstance",
            json!({"dBInstanceIdentifier": "db", "publiclyAccessible": false}),
        ),
        (
            "lambda.amazonaws.com",
            "AddPermission20150331v2",
            json!({"functionName": "f", "principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::b", "action": "lambda:InvokeFunction"}),
        ),
        (
            "lambda.amazonaws.com",
            "AddPermission20150331v2",
            json!({"functionName": "f", "principal": "*", "sourceAccount": OWN, "action": "lambda:InvokeFunction"}),
        ),
        (
            "lambda.amazonaws.com",
            "CreateFunctionUrlConfig20211031",
            json!({"functionName": "f", "authType": "AWS_IAM"}),
        ),
        (
            "s3.amazonaws.com",
            "PutBucketAcl",
            json!({"bucketName": "b", "x-amz-acl": ["private"]}),
        ),
        (
            "s3.amazonaws.com",
            "PutObject",
            json!({"bucketName": "b", "key": "k"}),
        ),
        (
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
        ),
        (
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}}]}}),
        ),
        (
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": "sg-1", "ipPermissions": {"items": [{"ipProtocol": "icmp", "fromPort": -1, "toPort": -1, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
        ),
        (
            "ec2.amazonaws.com",
            "CreateNetworkAclEntry",
            json!({"networkAclId": "acl-1", "egress": true, "ruleAction": "allow", "protocol": "-1", "cidrBlock": "0.0.0.0/0"}),
        ),
        (
            "ec2.amazonaws.com",
            "CreateNetworkAclEntry",
            json!({"networkAclId": "acl-1", "egress": false, "ruleAction": "deny", "protocol": "-1", "cidrBlock": "0.0.0.0/0"}),
        ),
        (
            "sns.amazonaws.com",
            "SetTopicAttributes",
            json!({"topicArn": "t", "attributeName": "DisplayName", "attributeValue": "{"}),
        ),
        (
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            json!({"queueUrl": "q", "attributes": {"Policy": ""}}),
        ),
        (
            "iam.amazonaws.com",
            "PutRolePolicy",
            json!({"roleName": "r", "policyDocument": open_policy().to_string()}),
        ),
        ("s3.amazonaws.com", "PutBucketPolicy", Value::Null),
    ];
    for (source, name, params) in quiet {
        let record = call(source, name, params);
        assert!(public(&record).is_none(), "{record}");
        assert!(shared_with(&record, "").is_none(), "{record}");
    }
}

#[test]
fn unreadable_policy_is_medium_and_failed_call_one_step_lower() {
    let f = public(&call(
        "s3.amazonaws.com",
        "PutBucketPolicy",
        json!({"bucketName": "b", "bucketPolicy": "invalid-json-policy"}),
    ))
    .unwrap();
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence["policy_readable"], json!(false));
    let mut failed = call(
        "s3.amazonaws.com",
        "PutBucketPolicy",
        json!({"bucketName": "b", "bucketPolicy": open_policy()}),
    );
    failed["errorCode"] = json!("AccessDenied");
    assert_eq!(public(&failed).unwrap().severity, Severity::High);
}

#[test]
fn sharing_with_other_accounts_unless_trusted() {
    let text = account_policy().to_string();
    let records = [
        call(
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            json!({"queueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/q", "attributes": {"Policy": text}}),
        ),
        call(
            "ec2.amazonaws.com",
            "ModifySnapshotAttribute",
            json!({"snapshotId": "snap-1", "createVolumePermission": {"add": {"items": [{"userId": "444455556666"}]}}}),
        ),
        call(
            "ec2.amazonaws.com",
            "ModifyImageAttribute",
            json!({"imageId": "ami-1", "launchPermission": {"add": {"items": [{"userId": "444455556666"}]}}}),
        ),
        call(
            "rds.amazonaws.com",
            "ModifyDBSnapshotAttribute",
            json!({"dBSnapshotIdentifier": "s", "attributeName": "restore", "valuesToAdd": ["444455556666"]}),
        ),
        call(
            "lambda.amazonaws.com",
            "AddPermission20150331v2",
            json!({"functionName": "f", "principal": "444455556666", "action": "lambda:InvokeFunction"}),
        ),
        call(
            "iam.amazonaws.com",
            "UpdateAssumeRolePolicy",
            json!({"roleName": "r", "policyDocument": json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"}]}).to_string()}),
        ),
    ];
    for record in records {
        let f = shared_with(&record, "").unwrap_or_else(|| panic!("{record}"));
        assert_eq!(f.severity, Severity::High);
        assert_eq!(
            f.evidence["other_accounts"],
            json!(["444455556666"]),
            "{record}"
        );
        assert!(f.summary_text().contains("shared"), "{}", f.summary_text());
        assert!(public(&record).is_none(), "{record}");
        assert!(
            shared_with(&record, "444455556666").is_none(),
            "trusted: {record}"
        );
        assert!(shared_with(&record, "777788889999").is_some(), "{record}");
    }
}

#[test]
fn organizations_named_by_condition_are_shared_unless_trusted() {
    let policy = json!({"Statement": [{"Sid": "Org", "Effect": "Allow", "Principal": "*",
        "Action": "secretsmanager:GetSecretValue",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}]});
    let record = call(
        "secretsmanager.amazonaws.com",
        "PutResourcePolicy",
        json!({"secretId": "s", "resourcePolicy": policy.to_string()}),
    );
    assert!(public(&record).is_none());
    let f = shared_with(&record, "").unwrap();
    assert_eq!(f.evidence["shared_grants"][0]["with"], "o-a1b2c3d4e5");
    assert!(shared_with(&record, "o-a1b2c3d4e5").is_none());
    // Own account grants are no finding.
    let own = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"}, "Action": "sqs:*"}]});
    let record = call(
        "sqs.amazonaws.com",
        "CreateQueue",
        json!({"queueName": "q", "attributes": {"Policy": own.to_string()}}),
    );
    assert!(shared_with(&record, "").is_none() && public(&record).is_none());
}
