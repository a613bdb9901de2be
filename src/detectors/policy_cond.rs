//! Whether a policy statement's `Condition` really restricts who may use it.
//!
//! Restricting: a positive operator (`StringEquals`, `StringLike`, `ArnLike`, `IpAddress`,
//! their `ForAnyValue:`/`ForAllValues:` forms) on a key that names the caller or its origin
//! (`aws:SourceArn`, `aws:SourceAccount`, `AWS:SourceOwner`, `aws:SourceVpc(e)`,
//! `aws:PrincipalOrgID`, `aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:SourceIp` narrower
//! than `/0`, ...) with a value that is not a bare wildcard. Not restricting: negated
//! operators, `...IfExists` (a request without the key passes), `Bool` and `Null`
//! (`aws:SecureTransport`), keys about the request rather than the caller.

use serde_json::Value;

/// Keys that narrow the callers of a statement (lowercase).
const RESTRICTING: &[&str] = &[
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalservicename",
    "aws:userid",
    "aws:username",
    "kms:calleraccount",
    "lambda:sourcefunctionarn",
];

/// Keys whose values are account ids the statement is shared with.
const ACCOUNT_KEYS: &[&str] = &[
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:principalaccount",
    "kms:calleraccount",
];

/// What a statement's condition does to its `"*"` principal.
#[derive(Debug, PartialEq, Eq)]
pub enum Narrowing {
    /// Nothing restricts the caller: the statement is open to anyone.
    None,
    /// Restricted; the accounts and organizations the condition names.
    Restricted {
        accounts: Vec<String>,
        orgs: Vec<String>,
    },
}

/// How `condition` narrows a statement open to everyone.
pub fn narrowing(condition: Option<&Value>) -> Narrowing {
    let Some(Value::Object(operators)) = condition else {
        return Narrowing::None;
    };
    let (mut restricted, mut accounts, mut orgs) = (false, Vec::new(), Vec::new());
    for (operator, keys) in operators {
        let Value::Object(keys) = keys else { continue };
        if !positive(operator) {
            continue;
        }
        for (key, values) in keys {
            let key = key.to_ascii_lowercase();
            let values = texts(values);
            if !RESTRICTING.contains(&key.as_str()) || values.is_empty() {
                continue;
            }
            let narrow = |v: &&str| match key.as_str() {
                "aws:sourceip" => !v.trim().ends_with("/0"),
                _ => !v.trim().is_empty() && v.trim() != "*" && !wild_account(v),
            };
            if !values.iter().all(narrow) {
                continue;
            }
            restricted = true;
            let wildcard = |v: &&str| v.contains(['*', '?']);
            if ACCOUNT_KEYS.contains(&key.as_str()) {
                accounts.extend(
                    values
                        .iter()
                        .filter(|v| !wildcard(v))
                        .map(|v| v.to_string()),
                );
            }
            if key == "aws:principalorgid" || key == "aws:sourceorgid" {
                orgs.extend(
                    values
                        .iter()
                        .filter(|v| !wildcard(v))
                        .map(|v| v.to_string()),
                );
            }
        }
    }
    if !restricted {
        return Narrowing::None;
    }
    for list in [&mut accounts, &mut orgs] {
        list.sort();
        list.dedup();
    }
    Narrowing::Restricted { accounts, orgs }
}

/// A positive match operator that a request without the key does not pass.
fn positive(operator: &str) -> bool {
    let op = operator.to_ascii_lowercase();
    let op = op
        .strip_prefix("forallvalues:")
        .or_else(|| op.strip_prefix("foranyvalue:"))
        .unwrap_or(&op);
    if op.ends_with("ifexists") {
        return false;
    }
    matches!(
        op,
        "stringequals"
            | "stringequalsignorecase"
            | "stringlike"
            | "arnequals"
            | "arnlike"
            | "ipaddress"
    )
}

/// An ARN whose account or resource is a bare wildcard (`arn:aws:iam::*:role/x`,
/// `arn:aws:s3:::*`) names no one in particular. (An empty account is an S3 bucket's.)
fn wild_account(v: &str) -> bool {
    let mut parts = v.splitn(6, ':').skip(4);
    v.starts_with("arn:") && (parts.next() == Some("*") || parts.next().is_none_or(|r| r == "*"))
}

/// A string or the strings of a list (other values are left out).
pub fn texts(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}
