//! `data-copied-out`: data copied where its owner no longer controls it: to another account
//! (an S3 replication destination, a DynamoDB export bucket, an object copied into another
//! account's bucket), under another account's KMS key (a snapshot or an object: whoever holds
//! the key holds the data), or to another region (an RDS, EBS or AMI copy made from a source
//! in another region). Accounts in `--trusted-accounts` are not "another account".
//!
//! Only these calls are read: every other record costs two comparisons.

use super::kms_ref::principal_account;
use super::trusted::TrustedAccounts;
use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::{str_at, Record};
use serde_json::Value;

pub const ID: &str = "data-copied-out";

/// The S3 request header naming the KMS key of SSE-KMS.
const KMS_HEADER: &str = "x-amz-server-side-encryption-aws-kms-key-id";

pub struct DataCopiedOut {
    trusted: TrustedAccounts,
}

impl DataCopiedOut {
    pub fn new(trusted: TrustedAccounts) -> DataCopiedOut {
        DataCopiedOut { trusted }
    }

    /// `account` when it is another account than `own` and not trusted.
    fn foreign<'v>(&self, account: Option<&'v str>, own: &str) -> Option<&'v str> {
        account.filter(|a| *a != own && !self.trusted.contains(a))
    }
}

/// What one call copied where.
struct Copy {
    severity: Severity,
    what: String,
    target: String,
    to: String,
}

impl Detector for DataCopiedOut {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let copy = match (record.event_source(), record.event_name()) {
            ("s3.amazonaws.com", "PutBucketReplication") => self.replication(record),
            (
                "s3.amazonaws.com",
                name @ ("PutObject" | "CopyObject" | "CreateMultipartUpload" | "UploadPartCopy"),
            ) => self.object(record, name),
            ("dynamodb.amazonaws.com", "ExportTableToPointInTime") => self.table_export(record),
            ("rds.amazonaws.com", "CopyDBSnapshot" | "CopyDBClusterSnapshot")
            | ("ec2.amazonaws.com", "CopySnapshot" | "CopyImage") => self.snapshot(record),
            _ => None,
        };
        let Some(c) = copy else {
            return;
        };
        let summary = format!("{} {} {}", record.event_name(), c.what, c.to);
        out.push(
            Finding::new(ID, c.severity, record, c.target.clone(), summary).with("copied_to", c.to),
        );
    }
}

impl DataCopiedOut {
    /// A replication rule whose destination names another account.
    fn replication(&self, record: &Record<'_>) -> Option<Copy> {
        let params = Record::parse_part(record.request_parameters)?;
        let bucket = str_at(&params, &["bucketName"]).unwrap_or_default();
        let rules = params.get("ReplicationConfiguration")?.get("Rule")?;
        let rules: Vec<&Value> = match rules {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let own = bucket_owner(record, bucket);
        let to = rules.iter().find_map(|r| {
            let account = str_at(r, &["Destination", "Account"]);
            self.foreign(account, own)?;
            let dest = str_at(r, &["Destination", "Bucket"]).unwrap_or("a bucket");
            Some(format!("{dest} of account {}", account.unwrap_or_default()))
        })?;
        Some(Copy {
            severity: Severity::High,
            what: format!("replicates bucket {bucket} to"),
            target: bucket.to_owned(),
            to,
        })
    }

    /// An object written under another account's KMS key, or copied into a bucket of another
    /// account than the caller's.
    fn object(&self, record: &Record<'_>, name: &str) -> Option<Copy> {
        let copying = matches!(name, "CopyObject" | "UploadPartCopy");
        if !copying && !record.raw.contains(KMS_HEADER) {
            return None;
        }
        if record.invoked_by().is_some() {
            return None;
        }
        let params = Record::parse_part(record.request_parameters)?;
        let bucket = str_at(&params, &["bucketName"]).unwrap_or_default();
        let key = str_at(&params, &["key"]).unwrap_or_default();
        let target = format!("{bucket}/{key}");
        let named_owner = bucket_entry_account(record, bucket);
        let owner = named_owner.unwrap_or_else(|| record.account());
        let kms = str_at(&params, &[KMS_HEADER]);
        if let Some(account) = self.foreign(kms.and_then(principal_account), owner) {
            return Some(Copy {
                severity: Severity::High,
                what: format!("encrypted s3://{target} with the KMS key of account {account}:"),
                target,
                to: kms.unwrap_or_default().to_owned(),
            });
        }
        if !copying {
            return None;
        }
        // A copy into a bucket whose owner the record does not name (or by a caller of no
        // named account) is not reported.
        let (Some(owner), Some(caller)) = (named_owner, record.identity_account()) else {
            return None;
        };
        let account = self.foreign(Some(owner), caller)?;
        let source = str_at(&params, &["x-amz-copy-source"]).unwrap_or("an object");
        Some(Copy {
            severity: Severity::Medium,
            what: format!("copied {source} into"),
            to: format!("s3://{target} (bucket of account {account})"),
            target,
        })
    }

    /// A DynamoDB export to a bucket another account owns.
    fn table_export(&self, record: &Record<'_>) -> Option<Copy> {
        let params = Record::parse_part(record.request_parameters)?;
        let table = str_at(&params, &["tableArn"]).unwrap_or_default();
        let own = principal_account(table).unwrap_or_else(|| record.account());
        let account = self.foreign(str_at(&params, &["s3BucketOwner"]), own)?;
        let bucket = str_at(&params, &["s3Bucket"]).unwrap_or("a bucket");
        Some(Copy {
            severity: Severity::High,
            what: format!("exported table {table} to"),
            target: table.to_owned(),
            to: format!("s3://{bucket} of account {account}"),
        })
    }

    /// A snapshot or image copied under another account's key (high), or here from another
    /// region (medium).
    fn snapshot(&self, record: &Record<'_>) -> Option<Copy> {
        let params = Record::parse_part(record.request_parameters)?;
        let source = [
            "sourceDBSnapshotIdentifier",
            "sourceDBClusterSnapshotIdentifier",
            "sourceSnapshotId",
            "sourceImageId",
        ]
        .iter()
        .find_map(|k| str_at(&params, &[k]))
        .unwrap_or_default();
        let own = record.account();
        let kms = str_at(&params, &["kmsKeyId"]);
        if let Some(account) = self.foreign(kms.and_then(principal_account), own) {
            return Some(Copy {
                severity: Severity::High,
                what: format!("copied {source} under the KMS key of account {account}:"),
                target: source.to_owned(),
                to: kms.unwrap_or_default().to_owned(),
            });
        }
        let from = str_at(&params, &["sourceRegion"])
            .or_else(|| {
                source
                    .starts_with("arn:")
                    .then(|| source.split(':').nth(3))
                    .flatten()
            })
            .filter(|r| !r.is_empty() && *r != record.region())?;
        Some(Copy {
            severity: Severity::Medium,
            what: format!("copied {source} from region {from} to"),
            target: source.to_owned(),
            to: format!("region {}", record.region()),
        })
    }
}

/// The account that owns `bucket`: the `accountId` of its entry in `resources`, else the
/// account the record is for.
fn bucket_owner<'r>(record: &'r Record<'_>, bucket: &str) -> &'r str {
    bucket_entry_account(record, bucket).unwrap_or_else(|| record.account())
}

fn bucket_entry_account<'r>(record: &'r Record<'_>, bucket: &str) -> Option<&'r str> {
    let arn = format!("arn:aws:s3:::{bucket}");
    let resources = record.json().get("resources")?.as_array()?;
    resources
        .iter()
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("AWS::S3::Bucket"))
        .find(|r| r.get("ARN").and_then(Value::as_str) == Some(arn.as_str()))
        .and_then(|r| r.get("accountId").and_then(Value::as_str))
}

#[cfg(test)]
#[path = "data_copied_out_tests.rs"]
mod tests;
