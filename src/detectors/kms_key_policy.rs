//! `kms-key-policy`: who may use a KMS key changed: a key policy open to everyone or to another
//! account, a grant to another account, a grant revoked or retired, an alias moved or deleted.

use super::kms_ref::{key_account, key_target, principal_account, str_at, OptionalEvidence};
use super::policy_doc::{self, Assessment, Policy};
use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::Record;
use serde_json::Value;

pub const ID: &str = "kms-key-policy";
const KMS: &str = "kms.amazonaws.com";

pub struct KmsKeyPolicy;

impl Detector for KmsKeyPolicy {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        if record.event_source() != KMS {
            return;
        }
        let name = record.event_name();
        let finding = match name {
            "PutKeyPolicy" | "ReplicateKey" | "CreateKey" => policy_change(record),
            "CreateGrant" => grant_created(record),
            "RevokeGrant" | "RetireGrant" => grant_removed(record),
            "UpdateAlias" | "DeleteAlias" => alias_changed(record),
            _ => None,
        };
        out.extend(finding);
    }
}

struct Parts {
    params: Value,
    response: Value,
    target: String,
}

fn parts(record: &Record<'_>) -> Parts {
    let params = Record::parse_part(record.request_parameters).unwrap_or(Value::Null);
    let response = Record::parse_part(record.response_elements).unwrap_or(Value::Null);
    let target = key_target(record, &params, &response);
    Parts {
        params,
        response,
        target,
    }
}

/// PutKeyPolicy, ReplicateKey, CreateKey: critical when the policy is open to everyone without
/// a restricting condition, high when it names another account. Otherwise ReplicateKey (a copy
/// of the key in another region) is medium, and so is a policy that cannot be read or a
/// bypassed lockout safety check. Any other PutKeyPolicy is low (who may use the key changed,
/// within its account); a CreateKey that keeps the key in its account is no finding.
fn policy_change<'r>(record: &'r Record<'_>) -> Option<Finding<'r>> {
    let Parts { params, target, .. } = parts(record);
    let own = key_account(&target, record).to_owned();
    let policy = policy_doc::read(params.get("policy"));
    let exposure = match &policy {
        Policy::Doc(doc) => policy_doc::assess(doc, &own),
        _ => Assessment::default(),
    };
    let bypass = params.get("bypassPolicyLockoutSafetyCheck") == Some(&Value::Bool(true));
    let unreadable = match &policy {
        Policy::Unreadable(why) => Some(why.as_str()),
        _ => None,
    };
    let replicate = record.event_name() == "ReplicateKey";
    let others = exposure.others();
    let (severity, what) = if !exposure.public.is_empty() {
        (Severity::Critical, "opened the key to everyone".to_owned())
    } else if !others.is_empty() {
        let accounts = others.join(", ");
        (
            Severity::High,
            format!("gave account {accounts} use of the key"),
        )
    } else if let Some(why) = unreadable {
        (
            Severity::Medium,
            format!("set a key policy that could not be read ({why})"),
        )
    } else if replicate {
        (Severity::Medium, "replicated the key".to_owned())
    } else if bypass {
        (
            Severity::Medium,
            "bypassed the policy lockout safety check".to_owned(),
        )
    } else if record.event_name() == "PutKeyPolicy" {
        (
            Severity::Low,
            "changed the key policy within the key's account".to_owned(),
        )
    } else {
        return None;
    };
    let mut summary = format!("{} {what}: {target}", record.event_name());
    if replicate {
        if let Some(region) = str_at(&params, &["replicaRegion"]) {
            summary.push_str(&format!(" (replica in {region})"));
        }
    }
    Some(
        Finding::new(ID, severity, record, target.clone(), summary)
            .with("key", target.as_str())
            .with("key_account", own)
            .with("policy_readable", unreadable.is_none())
            .with("bypass_lockout_check", bypass)
            .with_exposure(&exposure)
            .with_opt("replica_region", str_at(&params, &["replicaRegion"])),
    )
}

/// CreateGrant: high when the grantee is in another account than the key; no finding else
/// (services create same-account grants all day).
fn grant_created<'r>(record: &'r Record<'_>) -> Option<Finding<'r>> {
    let Parts {
        params,
        response,
        target,
    } = parts(record);
    let grantee = str_at(&params, &["granteePrincipal"])?;
    let grantee_account = principal_account(grantee)?;
    let own = key_account(&target, record);
    if own.is_empty() || grantee_account == own {
        return None;
    }
    let operations: Vec<Value> = params
        .get("operations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let summary = format!("CreateGrant gave account {grantee_account} use of key {target}");
    Some(
        Finding::new(ID, Severity::High, record, target.clone(), summary)
            .with("key", target.as_str())
            .with("key_account", own)
            .with("grantee", grantee)
            .with("grantee_account", grantee_account)
            .with("operations", operations)
            .with_opt(
                "retiring_principal",
                str_at(&params, &["retiringPrincipal"]),
            )
            .with_opt("grant_id", str_at(&response, &["grantId"])),
    )
}

/// RevokeGrant, RetireGrant: medium, unless AWS made the call for a service (the routine end of
/// a grant that EBS, RDS and others created). The grant token is never repeated.
fn grant_removed<'r>(record: &'r Record<'_>) -> Option<Finding<'r>> {
    if by_aws_service(record) {
        return None;
    }
    let Parts { params, target, .. } = parts(record);
    let extra = Record::parse_part(record.additional_event_data).unwrap_or(Value::Null);
    let grant_id = str_at(&params, &["grantId"]).or_else(|| str_at(&extra, &["grantId"]));
    let summary = match target.as_str() {
        "" => format!("{} removed a grant", record.event_name()),
        key => format!("{} removed a grant on key {key}", record.event_name()),
    };
    Some(
        Finding::new(ID, Severity::Medium, record, target.clone(), summary)
            .with("key", target.as_str())
            .with_opt("grant_id", grant_id),
    )
}

/// UpdateAlias, DeleteAlias: medium. Whatever encrypts by alias now uses another key, or fails.
fn alias_changed<'r>(record: &'r Record<'_>) -> Option<Finding<'r>> {
    let Parts { params, target, .. } = parts(record);
    let alias = str_at(&params, &["aliasName"]).filter(|a| !a.is_empty());
    let new_key = str_at(&params, &["targetKeyId"]);
    let subject = alias.map_or(target, str::to_owned);
    let summary = match (record.event_name(), new_key) {
        ("UpdateAlias", Some(key)) => format!("UpdateAlias pointed {subject} at key {key}"),
        (name, _) => format!("{name} changed alias {subject}"),
    };
    Some(
        Finding::new(ID, Severity::Medium, record, subject.clone(), summary)
            .with("alias", subject.as_str())
            .with_opt("target_key_id", new_key),
    )
}

/// The call was made by AWS for a service, not by a person or workload of the account.
fn by_aws_service(record: &Record<'_>) -> bool {
    let invoked = record.invoked_by().is_some();
    let internal = |t: &str| t == "AWS Internal" || t == "Amazon Internal";
    record.identity_type() == Some("AWSService")
        || invoked
        || internal(record.user_agent())
        || internal(record.source_ip())
        || record.source_ip().ends_with(".amazonaws.com")
}

trait ExposureEvidence {
    fn with_exposure(self, exposure: &Assessment) -> Self;
}

impl ExposureEvidence for Finding<'_> {
    fn with_exposure(self, e: &Assessment) -> Self {
        let mut public: Vec<String> = e.public.iter().map(|g| g.statement.clone()).collect();
        public.dedup();
        self.with("public_statements", public)
            .with("public_conditioned_statements", e.narrowed.clone())
            .with("other_accounts", e.others())
    }
}

#[cfg(test)]
#[path = "kms_key_policy_tests.rs"]
mod tests;
