//! What every exposure reader builds on: the [`Exposure`] a call made, the grants in it, and
//! how a request's lists and a resource's account are read. It imports no other exposure
//! module: `exposure`, `exposure_attrs` and `exposure_net` sit above it.

use super::policy_doc::Grant;
use crate::record::Record;
use serde_json::Value;

/// One call's exposure of one resource.
#[derive(Debug, Default)]
pub struct Exposure {
    /// What the resource is, for a human ("S3 bucket").
    pub kind: &'static str,
    pub resource: String,
    /// Holds data itself (S3, snapshots, images, secrets, EFS, Backup): public is critical.
    pub data_store: bool,
    /// Grants to anyone.
    pub public: Vec<Grant>,
    /// Grants to another account or organization, with whom.
    pub shared: Vec<(String, Grant)>,
    /// A policy was set that could not be read: why.
    pub unreadable: Option<String>,
}

impl Exposure {
    pub fn new(kind: &'static str, data_store: bool, resource: impl Into<String>) -> Exposure {
        Exposure {
            kind,
            data_store,
            resource: resource.into(),
            ..Exposure::default()
        }
    }
}

/// A grant to `principal` of `actions`, made by `statement` (a policy's, or the attribute that
/// made it).
pub fn grant(statement: &str, principal: &str, actions: &[&str]) -> Grant {
    Grant {
        statement: statement.to_owned(),
        principal: principal.to_owned(),
        actions: actions.iter().map(|a| a.to_string()).collect(),
    }
}

/// The account that owns the resource: the account of its ARN or queue URL, else the record's.
pub fn own_account<'r>(resource: &'r str, record: &'r Record<'_>) -> &'r str {
    let from_arn = resource.split(':').nth(4);
    let from_url = resource
        .strip_prefix("https://")
        .and_then(|u| u.split('/').nth(1));
    [from_arn, from_url]
        .into_iter()
        .flatten()
        .find(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| record.account())
}

/// The objects of a list, or the one object where a list may hold one (XML-born requests).
pub fn items(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}
