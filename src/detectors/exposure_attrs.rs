//! Exposure through attributes rather than policies: snapshot, image and RDS snapshot sharing,
//! Lambda permissions and function URLs, RDS instances made publicly accessible, S3 ACLs.
//! Network rules open to the world are in [`super::exposure_net`].

use super::exposure_base::{grant, items, own_account, Exposure};
use super::exposure_net;
use super::kms_ref::{principal_account, str_at};
use super::policy_cond::texts;
use crate::record::Record;
use serde_json::Value;

/// S3 groups that mean anyone (`AllUsers`) or any AWS account (`AuthenticatedUsers`).
const S3_GROUPS: &[&str] = &["/global/AllUsers", "/global/AuthenticatedUsers"];
const PUBLIC_CANNED: &[&str] = &["public-read", "public-read-write", "authenticated-read"];

pub fn of(record: &Record<'_>, source: &str, name: &str) -> Option<Exposure> {
    let params = || Record::parse_part(record.request_parameters);
    match source {
        "ec2.amazonaws.com" => match name {
            "ModifySnapshotAttribute" => {
                let p = params()?;
                let who = added(p.pointer("/createVolumePermission/add/items"), "userId");
                let id = str_at(&p, &["snapshotId"]).unwrap_or("");
                sharing(record, "EBS snapshot", id, "createVolumePermission", who)
            }
            "ModifyImageAttribute" => {
                let p = params()?;
                let who = added(p.pointer("/launchPermission/add/items"), "userId");
                let id = str_at(&p, &["imageId"]).unwrap_or("");
                sharing(record, "AMI", id, "launchPermission", who)
            }
            _ => exposure_net::of(record, name),
        },
        "rds.amazonaws.com" => match name {
            "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute" => {
                let p = params()?;
                if str_at(&p, &["attributeName"]) != Some("restore") {
                    return None;
                }
                let who = p.get("valuesToAdd").map(texts).unwrap_or_default();
                let who = who.into_iter().map(str::to_owned).collect();
                let id = ["dBSnapshotIdentifier", "dBClusterSnapshotIdentifier"]
                    .iter()
                    .find_map(|k| str_at(&p, &[k]))
                    .unwrap_or("");
                sharing(record, "RDS snapshot", id, "restore", who)
            }
            "CreateDBInstance" | "ModifyDBInstance" | "CreateDBCluster" | "ModifyDBCluster" => {
                let p = params()?;
                let public = p.get("publiclyAccessible") == Some(&Value::Bool(true));
                let id = ["dBInstanceIdentifier", "dBClusterIdentifier"]
                    .iter()
                    .find_map(|k| str_at(&p, &[k]))?;
                let mut e = Exposure::new("RDS database", false, id);
                e.public = vec![grant("publiclyAccessible", "*", &["connect"])];
                public.then_some(e)
            }
            _ => None,
        },
        "lambda.amazonaws.com" => lambda(record, name),
        "s3.amazonaws.com" => s3_acl(record, name),
        _ => None,
    }
}

/// The principals an `add` list names: `{"group": "all"}` and `{"userId": ...}` items.
fn added(list: Option<&Value>, user_key: &str) -> Vec<String> {
    let one = |i: &Value| {
        let group = str_at(i, &["group"]).filter(|g| g.eq_ignore_ascii_case("all"));
        group.or_else(|| str_at(i, &[user_key])).map(str::to_owned)
    };
    items(list).into_iter().filter_map(one).collect()
}

/// Snapshot, image and RDS snapshot sharing: `all` is public, account ids are shared.
fn sharing(
    record: &Record<'_>,
    kind: &'static str,
    id: &str,
    attribute: &str,
    who: Vec<String>,
) -> Option<Exposure> {
    if who.is_empty() {
        return None;
    }
    let own = record.account();
    let mut e = Exposure::new(kind, true, id);
    for w in who {
        if w.eq_ignore_ascii_case("all") {
            e.public.push(grant(attribute, "all", &[]));
        } else if w != own {
            e.shared.push((w.clone(), grant(attribute, &w, &[])));
        }
    }
    Some(e)
}

/// AddPermission (function or layer) and function URLs without authentication.
fn lambda(record: &Record<'_>, name: &str) -> Option<Exposure> {
    let url =
        name.starts_with("CreateFunctionUrlConfig") || name.starts_with("UpdateFunctionUrlConfig");
    let permission =
        name.starts_with("AddPermission") || name.starts_with("AddLayerVersionPermission");
    if !url && !permission {
        return None;
    }
    let p = Record::parse_part(record.request_parameters)?;
    let layer = name.starts_with("AddLayerVersionPermission");
    let id = str_at(&p, &[if layer { "layerName" } else { "functionName" }])?;
    let kind = if layer {
        "Lambda layer"
    } else {
        "Lambda function"
    };
    let mut e = Exposure::new(kind, false, id);
    if url {
        let open = str_at(&p, &["authType"]).is_some_and(|a| a.eq_ignore_ascii_case("NONE"));
        e.public = vec![grant("function URL", "*", &["lambda:InvokeFunctionUrl"])];
        return open.then_some(e);
    }
    let principal = str_at(&p, &["principal"]).unwrap_or("").trim();
    let action = str_at(&p, &["action"]).unwrap_or("");
    let label = str_at(&p, &["statementId"]).unwrap_or("AddPermission");
    let org = str_at(&p, &["principalOrgID"]).or(str_at(&p, &["organizationId"]));
    let restricted = ["sourceArn", "sourceAccount"]
        .iter()
        .any(|k| str_at(&p, &[k]).is_some_and(|v| !v.is_empty() && v != "*"));
    let own = own_account(id, record);
    if let Some(org) = org.filter(|o| *o != "*") {
        e.shared
            .push((org.to_owned(), grant(label, principal, &[action])));
    } else if principal == "*" && !restricted {
        e.public.push(grant(label, principal, &[action]));
    } else if let Some(account) = principal_account(principal).filter(|a| *a != own) {
        e.shared
            .push((account.to_owned(), grant(label, principal, &[action])));
    }
    Some(e)
}

/// S3 ACLs that let anyone in: canned ACLs (`x-amz-acl`), `x-amz-grant-*` headers and
/// `AccessControlPolicy` grants to the AllUsers or AuthenticatedUsers groups.
fn s3_acl(record: &Record<'_>, name: &str) -> Option<Exposure> {
    let object = match name {
        "PutBucketAcl" | "CreateBucket" => false,
        "PutObjectAcl" | "PutObject" | "CopyObject" | "CreateMultipartUpload" => true,
        _ => return None,
    };
    // Data events come by the million: read only those that carry an ACL.
    let raw = record.request_parameters?.get();
    if !(raw.contains("x-amz-") || raw.contains("AccessControl")) {
        return None;
    }
    let p = Record::parse_part(record.request_parameters)?;
    let bucket = str_at(&p, &["bucketName"]).unwrap_or("");
    let resource = match str_at(&p, &["key"]).filter(|_| object) {
        Some(key) => format!("{bucket}/{key}"),
        None => bucket.to_owned(),
    };
    let kind = if object { "S3 object" } else { "S3 bucket" };
    let mut e = Exposure::new(kind, true, resource);
    let canned = p.get("x-amz-acl").map(texts).unwrap_or_default();
    for acl in canned.into_iter().filter(|a| PUBLIC_CANNED.contains(a)) {
        e.public.push(grant("x-amz-acl", acl, &[]));
    }
    let Value::Object(map) = &p else { return None };
    for (header, value) in map.iter().filter(|(k, _)| k.starts_with("x-amz-grant-")) {
        for text in texts(value) {
            if let Some(group) = S3_GROUPS.iter().find(|g| text.contains(*g)) {
                let permission = header.trim_start_matches("x-amz-grant-");
                e.public.push(grant(header, &group[8..], &[permission]));
            }
        }
    }
    for g in items(p.pointer("/AccessControlPolicy/AccessControlList/Grant")) {
        let uri = str_at(g, &["Grantee", "URI"]).unwrap_or("");
        if let Some(group) = S3_GROUPS.iter().find(|s| uri.ends_with(*s)) {
            let permission = str_at(g, &["Permission"]).unwrap_or("");
            e.public
                .push(grant("AccessControlList", &group[8..], &[permission]));
        }
    }
    (!e.public.is_empty()).then_some(e)
}
