//! What a call opened up: which resource, to anyone or to which other accounts. Shared by
//! `resource-public` and `resource-shared`.
//!
//! Resource policies (S3 bucket and access point, SQS, SNS, Secrets Manager, ECR, Glacier,
//! OpenSearch, EFS, Backup, IAM role trust) go through [`super::policy_doc`]; attributes,
//! ACLs and network rules through [`super::exposure_attrs`]; what they build, [`Exposure`], is
//! in [`super::exposure_base`]. Records are told apart by `eventSource` and `eventName` before
//! anything else is read.

use super::exposure_attrs;
use super::exposure_base::{own_account, Exposure};
use super::kms_ref::str_at;
use super::policy_doc::{self, Policy};
use crate::record::Record;
use serde_json::Value;

/// A call that sets a resource policy: where the policy and the resource's name are.
struct PolicyCall {
    kind: &'static str,
    data_store: bool,
    policy: &'static [&'static str],
    resource: &'static [&'static str],
}

const fn call(
    kind: &'static str,
    data_store: bool,
    policy: &'static [&'static str],
    resource: &'static [&'static str],
) -> Option<PolicyCall> {
    Some(PolicyCall {
        kind,
        data_store,
        policy,
        resource,
    })
}

/// The policy-setting calls, by source and name. `None` for every other call: cheap.
fn policy_call(source: &str, name: &str) -> Option<PolicyCall> {
    const ES: &[&str] = &["accessPolicies"];
    match (source, name) {
        ("s3.amazonaws.com", "PutBucketPolicy") => {
            call("S3 bucket", true, &["bucketPolicy"], &["bucketName"])
        }
        ("s3.amazonaws.com", "PutAccessPointPolicy") => call(
            "S3 access point",
            true,
            &["PutAccessPointPolicyRequest/Policy", "policy", "Policy"],
            &["name", "accessPointName"],
        ),
        ("sqs.amazonaws.com", "CreateQueue") => {
            call("SQS queue", false, &["attributes/Policy"], &["queueName"])
        }
        ("sqs.amazonaws.com", "SetQueueAttributes") => {
            call("SQS queue", false, &["attributes/Policy"], &["queueUrl"])
        }
        ("sns.amazonaws.com", "CreateTopic") => {
            call("SNS topic", false, &["attributes/Policy"], &["name"])
        }
        ("secretsmanager.amazonaws.com", "PutResourcePolicy") => {
            call("secret", true, &["resourcePolicy"], &["secretId"])
        }
        ("ecr.amazonaws.com", "SetRepositoryPolicy") => call(
            "ECR repository",
            false,
            &["policyText"],
            &["repositoryName"],
        ),
        ("glacier.amazonaws.com", "SetVaultAccessPolicy") => call(
            "Glacier vault",
            false,
            &["policy/policy", "policy"],
            &["vaultName"],
        ),
        (
            "es.amazonaws.com",
            "CreateDomain"
            | "UpdateDomainConfig"
            | "CreateElasticsearchDomain"
            | "UpdateElasticsearchDomainConfig",
        ) => call("OpenSearch domain", false, ES, &["domainName"]),
        ("elasticfilesystem.amazonaws.com", "PutFileSystemPolicy") => {
            call("EFS file system", true, &["policy"], &["fileSystemId"])
        }
        ("backup.amazonaws.com", "PutBackupVaultAccessPolicy") => {
            call("Backup vault", true, &["policy"], &["backupVaultName"])
        }
        ("iam.amazonaws.com", "CreateRole") => call(
            "IAM role",
            false,
            &["assumeRolePolicyDocument"],
            &["roleName"],
        ),
        ("iam.amazonaws.com", "UpdateAssumeRolePolicy") => {
            call("IAM role", false, &["policyDocument"], &["roleName"])
        }
        _ => None,
    }
}

/// The exposure a record made, if it is one of the calls that can make one.
pub fn of(record: &Record<'_>) -> Option<Exposure> {
    let (source, name) = (record.event_source(), record.event_name());
    if let Some(call) = policy_call(source, name) {
        let params = Record::parse_part(record.request_parameters)?;
        return policy_exposure(record, &params, &call);
    }
    if (source, name) == ("sns.amazonaws.com", "SetTopicAttributes") {
        let params = Record::parse_part(record.request_parameters)?;
        if str_at(&params, &["attributeName"]) != Some("Policy") {
            return None;
        }
        let call = PolicyCall {
            kind: "SNS topic",
            data_store: false,
            policy: &["attributeValue"],
            resource: &["topicArn"],
        };
        return policy_exposure(record, &params, &call);
    }
    exposure_attrs::of(record, source, name)
}

fn policy_exposure(record: &Record<'_>, params: &Value, call: &PolicyCall) -> Option<Exposure> {
    let resource = call
        .resource
        .iter()
        .find_map(|k| str_at(params, &[k]))
        .unwrap_or("");
    let policy = call
        .policy
        .iter()
        .map(|path| read_at(params, path))
        .find(|p| *p != Policy::Absent)?;
    let mut exposure = Exposure::new(call.kind, call.data_store, resource);
    match policy {
        Policy::Doc(doc) => {
            let own = own_account(resource, record);
            let assessed = policy_doc::assess(&doc, own);
            exposure.public = assessed.public;
            exposure.shared = assessed.shared;
        }
        Policy::Unreadable(why) => exposure.unreadable = Some(why),
        Policy::Absent => {}
    }
    Some(exposure)
}

/// The policy at a `/`-separated path. An object there without `Statement` is not the policy.
fn read_at(params: &Value, path: &str) -> Policy {
    let value = path.split('/').try_fold(params, |v, k| v.get(k));
    if value.is_some_and(|v| v.is_object() && v.get("Statement").is_none()) {
        return Policy::Absent;
    }
    policy_doc::read(value)
}
