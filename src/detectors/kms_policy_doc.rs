//! What a KMS key policy document gives away: statements open to everyone, other accounts.

use super::kms_ref::principal_account;
use serde_json::Value;

/// The exposure of one key policy, relative to the key's own account.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Exposure {
    /// Allow statements open to every principal with no condition (Sid, else `#index`).
    pub public: Vec<String>,
    /// Allow statements open to every principal but narrowed by a condition.
    pub public_conditioned: Vec<String>,
    /// Other accounts named as principals of Allow statements (sorted, once each).
    pub other_accounts: Vec<String>,
}

/// The policy document as CloudTrail records it: a JSON string (parsed here) or, in some
/// hand-written records, an object. `None` when it cannot be read as a JSON object.
pub fn parse(policy: &Value) -> Option<Value> {
    let doc = match policy {
        Value::String(text) => serde_json::from_str::<Value>(text).ok()?,
        Value::Object(_) => policy.clone(),
        _ => return None,
    };
    doc.is_object().then_some(doc)
}

/// Assesses every Allow statement of `doc`. `own_account` empty: no account counts as another.
pub fn assess(doc: &Value, own_account: &str) -> Exposure {
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let mut exposure = Exposure::default();
    for (index, statement) in statements.into_iter().enumerate() {
        if !is_allow(statement) {
            continue;
        }
        let label = statement
            .get("Sid")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map_or_else(|| format!("#{index}"), str::to_owned);
        let principals = aws_principals(statement.get("Principal"));
        // Allow with NotPrincipal allows everyone but the listed principals.
        let everyone = principals.contains(&"*") || statement.get("NotPrincipal").is_some();
        if everyone {
            if has_condition(statement.get("Condition")) {
                exposure.public_conditioned.push(label);
            } else {
                exposure.public.push(label);
            }
        }
        for account in principals.iter().filter_map(|p| principal_account(p)) {
            if !own_account.is_empty() && account != own_account {
                exposure.other_accounts.push(account.to_owned());
            }
        }
    }
    exposure.other_accounts.sort();
    exposure.other_accounts.dedup();
    exposure
}

fn is_allow(statement: &Value) -> bool {
    statement
        .get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("allow"))
}

/// The principals a statement names that can be AWS identities: a bare `"*"`, and every value
/// under `AWS` (a string or a list). Service, federated and canonical-user principals are left out.
fn aws_principals(principal: Option<&Value>) -> Vec<&str> {
    match principal {
        Some(Value::String(s)) => vec![s.trim()],
        Some(Value::Object(map)) => match map.get("AWS") {
            Some(Value::String(s)) => vec![s.trim()],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// A condition narrows the statement unless it is absent, null or holds only empty operators.
fn has_condition(condition: Option<&Value>) -> bool {
    match condition {
        None | Some(Value::Null) => false,
        Some(Value::Object(ops)) => ops.values().any(|v| match v {
            Value::Object(keys) => !keys.is_empty(),
            Value::Null => false,
            _ => true,
        }),
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OWN: &str = "111122223333";

    fn exposure(statement: Value) -> Exposure {
        assess(
            &json!({"Version": "2012-10-17", "Statement": statement}),
            OWN,
        )
    }

    #[test]
    fn star_principals_without_condition_are_public() {
        for principal in [
            json!("*"),
            json!({"AWS": "*"}),
            json!({"AWS": ["arn:aws:iam::111122223333:root", "*"]}),
        ] {
            let e = exposure(
                json!([{"Sid": "Open", "Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"}]),
            );
            assert_eq!(e.public, vec!["Open"], "{principal}");
        }
        let e = exposure(
            json!({"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Condition": {}}),
        );
        assert_eq!(e.public, vec!["#0"]);
        let e = exposure(
            json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*"}),
        );
        assert_eq!(e.public, vec!["#0"]);
    }

    #[test]
    fn conditioned_deny_and_service_principals_are_not_public() {
        let e = exposure(json!([
            {"Sid": "Org", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}},
            {"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "kms:*"},
            {"Sid": "S", "Effect": "Allow", "Principal": {"Service": "*"}, "Action": "kms:*"}
        ]));
        assert!(e.public.is_empty());
        assert_eq!(e.public_conditioned, vec!["Org"]);
    }

    #[test]
    fn other_accounts_once_each_own_account_ignored() {
        let e = exposure(json!([
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "444455556666",
              "arn:aws:iam::111122223333:role/admin", "arn:aws:iam::777788889999:role/x"]}, "Action": "kms:*"},
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:*"}
        ]));
        assert_eq!(e.other_accounts, vec!["444455556666", "777788889999"]);
        let unknown_own = assess(
            &json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "444455556666"}}}),
            "",
        );
        assert!(unknown_own.other_accounts.is_empty());
    }

    #[test]
    fn lenient_parse() {
        assert!(parse(&json!("{\"Statement\": []}")).is_some());
        assert!(parse(&json!({"Statement": []})).is_some());
        assert!(parse(&json!("{not json")).is_none());
        assert!(parse(&json!("[1]")).is_none());
        assert!(parse(&json!(42)).is_none());
        assert_eq!(
            assess(&json!({"Statement": "junk"}), OWN),
            Exposure::default()
        );
        assert_eq!(
            assess(&json!({"Statement": [1, null, {"Effect": 3}]}), OWN),
            Exposure::default()
        );
    }
}
