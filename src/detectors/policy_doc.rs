//! What a resource policy gives away: statements open to everyone, grants to other accounts.
//!
//! One analyzer for every resource policy (S3, SQS, SNS, Secrets Manager, ECR, Glacier,
//! OpenSearch, EFS, Backup, IAM trust policies, KMS key policies). `Principal` may be `"*"`, a
//! string, a list or a map (`{"AWS": ...}`); an `Allow` with `NotPrincipal` allows everyone but
//! the listed principals; `Deny` statements give nothing away. A `"*"` statement narrowed by a
//! condition that really restricts the caller (see [`super::policy_cond`]) is not public, but
//! the accounts and organizations such a condition names are grants to them. Service,
//! federated and canonical-user principals are not exposure. Only labels, principals and
//! actions are kept: never the policy itself.

use super::kms_ref::principal_account;
use super::policy_cond::{self, texts, Narrowing};
use serde_json::Value;

/// How many actions evidence names per statement.
const MAX_ACTIONS: usize = 8;

/// One statement's grant: its label (Sid, else `#index`), the principal and the actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub statement: String,
    pub principal: String,
    pub actions: Vec<String>,
}

impl Grant {
    /// The grant as evidence: statement, principal, actions.
    pub fn evidence(&self) -> Value {
        serde_json::json!({
            "statement": self.statement,
            "principal": self.principal,
            "actions": self.actions,
        })
    }
}

/// The exposure of one policy, relative to the resource's own account.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Assessment {
    /// Statements that let anyone in, with no condition that restricts the caller.
    pub public: Vec<Grant>,
    /// Labels of statements open to `"*"` but narrowed by a restricting condition.
    pub narrowed: Vec<String>,
    /// Grants to another account (12-digit id) or organization (`o-...`), with whom.
    pub shared: Vec<(String, Grant)>,
}

impl Assessment {
    /// The other accounts and organizations granted something, sorted, once each.
    pub fn others(&self) -> Vec<String> {
        let mut all: Vec<String> = self.shared.iter().map(|(a, _)| a.clone()).collect();
        all.sort();
        all.dedup();
        all
    }
}

/// A policy as a request carries it.
#[derive(Debug, PartialEq)]
pub enum Policy {
    /// Absent, null or empty: nothing to assess.
    Absent,
    /// Present but not a readable JSON policy object: reported, never passed; why.
    Unreadable(String),
    Doc(Value),
}

/// Reads a policy given as a JSON string or an object.
pub fn read(policy: Option<&Value>) -> Policy {
    match policy {
        None | Some(Value::Null) => Policy::Absent,
        Some(Value::String(t)) if t.trim().is_empty() => Policy::Absent,
        // serde's message names a line and column, never the text.
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(doc @ Value::Object(_)) => Policy::Doc(doc),
            Ok(other) => not_a_document(&other),
            Err(e) => Policy::Unreadable(format!("its text is not JSON: {e}")),
        },
        Some(doc @ Value::Object(_)) => Policy::Doc(doc.clone()),
        Some(other) => not_a_document(other),
    }
}

/// A policy that is JSON but not an object.
fn not_a_document(v: &Value) -> Policy {
    Policy::Unreadable(format!("it is {}, not a policy document", kind(v)))
}

/// `a number`, `an array`...
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Assesses every Allow statement of `doc`. `own` empty: no account counts as another.
pub fn assess(doc: &Value, own: &str) -> Assessment {
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let mut out = Assessment::default();
    for (index, statement) in statements.into_iter().enumerate() {
        if !is_allow(statement) {
            continue;
        }
        let label = statement
            .get("Sid")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map_or_else(|| format!("#{index}"), str::to_owned);
        let grant = |principal: &str| Grant {
            statement: label.clone(),
            principal: principal.to_owned(),
            actions: actions(statement),
        };
        let mut anyone = Vec::new();
        if let Some(not) = statement.get("NotPrincipal") {
            anyone.push(format!("NotPrincipal {}", principals(Some(not)).join(", ")));
        }
        for p in principals(statement.get("Principal")) {
            match principal_scope(p) {
                Scope::Anyone => anyone.push(p.to_owned()),
                Scope::Account(a) if !own.is_empty() && a != own => {
                    out.shared.push((a.to_owned(), grant(p)))
                }
                _ => {}
            }
        }
        if anyone.is_empty() {
            continue;
        }
        match policy_cond::narrowing(statement.get("Condition")) {
            Narrowing::None => out.public.extend(anyone.iter().map(|p| grant(p))),
            Narrowing::Restricted { accounts, orgs } => {
                out.narrowed.push(label.clone());
                let named = accounts.into_iter().filter(|a| !own.is_empty() && a != own);
                for who in named.chain(orgs) {
                    let principal = format!("{} (by condition)", anyone[0]);
                    out.shared.push((who, grant(&principal)));
                }
            }
        }
    }
    out
}

fn is_allow(statement: &Value) -> bool {
    statement
        .get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("allow"))
}

/// The principals a statement names that can be AWS identities: a bare string, and every value
/// under `AWS` (a string or a list). Service, federated and canonical-user principals are left out.
fn principals(principal: Option<&Value>) -> Vec<&str> {
    let list = match principal {
        Some(s @ Value::String(_)) => texts(s),
        Some(Value::Object(map)) => map.get("AWS").map(texts).unwrap_or_default(),
        _ => Vec::new(),
    };
    list.into_iter().map(str::trim).collect()
}

enum Scope<'p> {
    Anyone,
    Account(&'p str),
    Other,
}

/// Who a principal is: anyone (`*`, an ARN whose account is a wildcard), an account, or a
/// principal this analyzer does not count (a service name written as a bare string).
fn principal_scope(p: &str) -> Scope<'_> {
    if p == "*" {
        return Scope::Anyone;
    }
    if p.starts_with("arn:") {
        let account = p.split(':').nth(4).unwrap_or("");
        if account.contains('*') || account.contains('?') {
            return Scope::Anyone;
        }
    }
    principal_account(p).map_or(Scope::Other, Scope::Account)
}

/// The statement's actions (`NotAction` ones marked), at most [`MAX_ACTIONS`].
fn actions(statement: &Value) -> Vec<String> {
    let (list, prefix) = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(a), _) => (a, ""),
        (None, Some(n)) => (n, "NotAction "),
        (None, None) => return Vec::new(),
    };
    let all = texts(list);
    let mut shown: Vec<String> = all
        .iter()
        .take(MAX_ACTIONS)
        .map(|a| format!("{prefix}{}", a.chars().take(80).collect::<String>()))
        .collect();
    if all.len() > MAX_ACTIONS {
        shown.push(format!("(+{} more)", all.len() - MAX_ACTIONS));
    }
    shown
}

#[cfg(test)]
#[path = "policy_doc_tests.rs"]
mod tests;
