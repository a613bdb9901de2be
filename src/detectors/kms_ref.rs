//! Shared reading of KMS records: which key a call touched, and which account a principal is in.

use crate::alert::finding::Finding;
use crate::record::Record;
use serde_json::Value;

/// Evidence entries that are only there when the record has them.
pub trait OptionalEvidence {
    fn with_opt(self, key: &str, value: Option<&str>) -> Self;
}

impl OptionalEvidence for Finding<'_> {
    fn with_opt(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }
}

pub use crate::record::str_at;

/// The KMS key a call touched, as stable as the record allows (so that several calls on one key
/// in a delivery share an alert subject): an ARN given in the request, else the key ARN of
/// `resources`, else the ARN in the response, else the key id as given.
pub fn key_target(record: &Record<'_>, params: &Value, response: &Value) -> String {
    let requested = str_at(params, &["keyId"]).filter(|k| !k.is_empty());
    if let Some(arn) = requested.filter(|k| k.starts_with("arn:")) {
        return arn.to_owned();
    }
    if let Some(arn) = resource_key_arn(record) {
        return arn;
    }
    let answered = str_at(response, &["keyMetadata", "arn"])
        .or_else(|| str_at(response, &["keyId"]))
        .filter(|k| k.starts_with("arn:"));
    if let Some(k) = answered.or(requested) {
        return k.to_owned();
    }
    // A failed call may record no parameters, while its error message names the key.
    let message = record.json().get("errorMessage").and_then(Value::as_str);
    message.and_then(key_arn_in).unwrap_or_default().to_owned()
}

/// The first KMS key ARN in `text`.
fn key_arn_in(text: &str) -> Option<&str> {
    text.match_indices("arn:aws").find_map(|(start, _)| {
        let rest = &text[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | ',' | ')'))
            .unwrap_or(rest.len());
        let arn = rest[..end].trim_end_matches('.');
        (arn.contains(":kms:") && arn.contains(":key/")).then_some(arn)
    })
}

/// The ARN of the first `AWS::KMS::Key` in the record's `resources`.
fn resource_key_arn(record: &Record<'_>) -> Option<String> {
    let resources = record.json().get("resources")?.as_array()?;
    resources
        .iter()
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("AWS::KMS::Key"))
        .find_map(|r| r.get("ARN").and_then(Value::as_str))
        .map(str::to_owned)
}

/// The account that owns `key` (an ARN), else the account the record belongs to.
pub fn key_account<'r>(key: &'r str, record: &'r Record<'_>) -> &'r str {
    arn_account(key).unwrap_or_else(|| record.account())
}

/// The account of a principal as a key policy or grant names it: a bare 12-digit account id or
/// an ARN (`arn:aws:iam::111122223333:root`, a role, a user, an assumed role).
/// `None` for service principals, `*` and anything else.
pub fn principal_account(principal: &str) -> Option<&str> {
    let p = principal.trim();
    if is_account_id(p) {
        return Some(p);
    }
    arn_account(p)
}

fn arn_account(arn: &str) -> Option<&str> {
    if !arn.starts_with("arn:") {
        return None;
    }
    arn.split(':').nth(4).filter(|a| is_account_id(a))
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Test helper: the findings of `detector` on one record given as JSON.
#[cfg(test)]
pub fn findings_on(detector: &mut dyn super::Detector, record: &Value) -> Vec<Finding<'static>> {
    super::findings_in(detector, record.to_string().as_bytes()).expect("test record parses")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accounts_of_principals() {
        assert_eq!(
            principal_account("arn:aws:iam::444455556666:root"),
            Some("444455556666")
        );
        assert_eq!(principal_account("444455556666"), Some("444455556666"));
        assert_eq!(
            principal_account("arn:aws:sts::444455556666:assumed-role/r/s"),
            Some("444455556666")
        );
        assert_eq!(principal_account("*"), None);
        assert_eq!(principal_account("logs.us-east-1.amazonaws.com"), None);
        assert_eq!(principal_account("arn:aws:iam::12345:root"), None);
        assert_eq!(principal_account("arn:aws"), None);
    }

    #[test]
    fn target_prefers_an_arn() {
        let r = Record::parse(
            br#"{"recipientAccountId":"111122223333","resources":[{"type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/k1"}]}"#,
        )
        .unwrap();
        let params = json!({"keyId": "k1"});
        let target = key_target(&r, &params, &Value::Null);
        assert_eq!(target, "arn:aws:kms:us-east-1:111122223333:key/k1");
        assert_eq!(key_account(&target, &r), "111122223333");
        let bare = Record::parse(br#"{"recipientAccountId":"111122223333"}"#).unwrap();
        assert_eq!(key_target(&bare, &params, &Value::Null), "k1");
        assert_eq!(key_account("k1", &bare), "111122223333");
        let answered = json!({"keyMetadata": {"arn": "arn:aws:kms:eu-west-1:999988887777:key/r"}});
        assert_eq!(
            key_target(&bare, &params, &answered),
            "arn:aws:kms:eu-west-1:999988887777:key/r"
        );
    }
}
