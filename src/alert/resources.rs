//! The resources an alert is about, read from its evidence (`resource`, `resource_type`,
//! `key`, `resource_id`): what Security Hub's `Resources` and OCSF's `resources` list.

use super::Alert;
use serde_json::Value;

/// One resource named by an alert's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The Security Hub resource type (`AwsS3Bucket`, `AwsKmsKey` ..., or `Other`).
    pub kind: &'static str,
    /// The resource as the evidence names it: an ARN, a name or an id.
    pub id: String,
    /// How the detector described its kind (`S3 bucket`), empty when it did not.
    pub described: String,
}

/// The evidence keys that name a resource, most specific first.
const KEYS: [&str; 3] = ["resource", "key", "resource_id"];

/// The resources of `alert`, in evidence order, without repeats.
pub fn resources(alert: &Alert) -> Vec<Resource> {
    let described = match alert.evidence.get("resource_type") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let mut out: Vec<Resource> = Vec::new();
    for key in KEYS {
        let Some(Value::String(id)) = alert.evidence.get(key) else {
            continue;
        };
        if id.is_empty() || out.iter().any(|r| &r.id == id) {
            continue;
        }
        let kind = if key == "key" {
            "AwsKmsKey"
        } else {
            kind_of(&described, id)
        };
        out.push(Resource {
            kind,
            id: id.clone(),
            described: described.clone(),
        });
    }
    out
}

/// The Security Hub type of a resource, from the detector's description or the id's shape.
fn kind_of(described: &str, id: &str) -> &'static str {
    let by_description = match described.to_ascii_lowercase().as_str() {
        "s3 bucket" => "AwsS3Bucket",
        "sns topic" => "AwsSnsTopic",
        "sqs queue" => "AwsSqsQueue",
        "lambda function" => "AwsLambdaFunction",
        "security group" => "AwsEc2SecurityGroup",
        "secret" => "AwsSecretsManagerSecret",
        "rds snapshot" => "AwsRdsDbSnapshot",
        "iam role" => "AwsIamRole",
        "kms key" => "AwsKmsKey",
        "ecr repository" => "AwsEcrRepository",
        _ => "",
    };
    if !by_description.is_empty() {
        return by_description;
    }
    let arn_service = id.strip_prefix("arn:").and_then(|r| r.split(':').nth(1));
    match arn_service {
        Some("s3") => "AwsS3Bucket",
        Some("sns") => "AwsSnsTopic",
        Some("sqs") => "AwsSqsQueue",
        Some("lambda") => "AwsLambdaFunction",
        Some("kms") => "AwsKmsKey",
        Some("secretsmanager") => "AwsSecretsManagerSecret",
        Some("iam") if id.contains(":role/") => "AwsIamRole",
        Some("iam") if id.contains(":user/") => "AwsIamUser",
        Some("rds") if id.contains(":db:") => "AwsRdsDbInstance",
        Some(_) => "Other",
        None if id.starts_with("sg-") => "AwsEc2SecurityGroup",
        None if id.starts_with("i-") => "AwsEc2Instance",
        None if id.starts_with("vpc-") => "AwsEc2Vpc",
        None => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_description_then_shape() {
        assert_eq!(kind_of("S3 bucket", "exports"), "AwsS3Bucket");
        assert_eq!(kind_of("", "sg-0d2c"), "AwsEc2SecurityGroup");
        assert_eq!(
            kind_of("", "arn:aws:lambda:eu-west-1:1:function:f"),
            "AwsLambdaFunction"
        );
        assert_eq!(kind_of("EBS snapshot", "snap-0c4e"), "Other");
        assert_eq!(kind_of("", "rqlc-0f1e"), "Other");
    }
}
