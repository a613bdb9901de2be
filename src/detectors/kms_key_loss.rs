//! `kms-key-loss`: a customer managed KMS key made unusable, or set up to become so: disabled,
//! scheduled for deletion, rotation turned off, key material imported or deleted.

use super::kms_ref::{key_target, str_at, OptionalEvidence};
use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::Record;
use serde_json::Value;

pub const ID: &str = "kms-key-loss";
const KMS: &str = "kms.amazonaws.com";

pub struct KmsKeyLoss;

impl Detector for KmsKeyLoss {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        if record.event_source() != KMS {
            return;
        }
        let what = match record.event_name() {
            "DisableKey" => "disabled key",
            "ScheduleKeyDeletion" => "scheduled the deletion of key",
            "DisableKeyRotation" => "turned off rotation of key",
            "ImportKeyMaterial" => "imported key material into key",
            "DeleteImportedKeyMaterial" => "deleted the key material of key",
            _ => return,
        };
        let params = Record::parse_part(record.request_parameters).unwrap_or(Value::Null);
        let response = Record::parse_part(record.response_elements).unwrap_or(Value::Null);
        let target = key_target(record, &params, &response);
        let days = params.get("pendingWindowInDays").and_then(number_or_text);
        let named = if target.is_empty() {
            "(not named in the record)"
        } else {
            target.as_str()
        };
        let mut summary = format!("{} {what} {named}", record.event_name());
        if let Some(d) = days {
            summary.push_str(&format!(" (in {d} days)"));
        }
        let expiration = str_at(&params, &["expirationModel"]);
        if expiration == Some("KEY_MATERIAL_EXPIRES") {
            summary.push_str(", material that expires");
        }
        let mut finding = Finding::new(ID, Severity::High, record, target.clone(), summary)
            .with("key", target.as_str())
            .with_opt("deletion_date", str_at(&response, &["deletionDate"]))
            .with_opt("expiration_model", expiration)
            .with_opt("valid_to", params.get("validTo").and_then(Value::as_str));
        if let Some(d) = days {
            finding = finding.with("pending_window_in_days", d);
        }
        out.push(finding);
    }
}

/// `pendingWindowInDays` as a number (also when a hand-written record gives it as text).
fn number_or_text(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detectors::kms_ref::findings_on;
    use serde_json::json;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd";

    fn kms(name: &str, params: Value) -> Value {
        json!({"eventSource": "kms.amazonaws.com", "eventName": name, "recipientAccountId": "111122223333",
               "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
               "requestParameters": params})
    }

    #[test]
    fn every_loss_event_is_high_on_the_key() {
        for name in [
            "DisableKey",
            "ScheduleKeyDeletion",
            "DisableKeyRotation",
            "ImportKeyMaterial",
            "DeleteImportedKeyMaterial",
        ] {
            let found = findings_on(&mut KmsKeyLoss, &kms(name, json!({"keyId": KEY})));
            assert_eq!(found.len(), 1, "{name}");
            assert_eq!(
                (found[0].severity, &*found[0].target),
                (Severity::High, KEY),
                "{name}"
            );
        }
    }

    #[test]
    fn deletion_window_in_evidence_and_summary() {
        let mut r = kms(
            "ScheduleKeyDeletion",
            json!({"keyId": "1234abcd", "pendingWindowInDays": 7}),
        );
        r["responseElements"] = json!({"keyId": KEY, "deletionDate": "Dec 5, 2026, 10:20:00 AM"});
        let f = &findings_on(&mut KmsKeyLoss, &r)[0];
        assert_eq!(f.target, KEY);
        assert_eq!(f.evidence["pending_window_in_days"], 7);
        assert!(
            f.summary_text().contains("in 7 days"),
            "{}",
            f.summary_text()
        );
        let text = kms(
            "ScheduleKeyDeletion",
            json!({"keyId": KEY, "pendingWindowInDays": " 30 "}),
        );
        assert_eq!(
            findings_on(&mut KmsKeyLoss, &text)[0].evidence["pending_window_in_days"],
            30
        );
    }

    #[test]
    fn expiring_material_is_named() {
        let r = kms(
            "ImportKeyMaterial",
            json!({"keyId": KEY, "expirationModel": "KEY_MATERIAL_EXPIRES", "validTo": "Dec 1, 2026, 12:00:00 AM"}),
        );
        let f = &findings_on(&mut KmsKeyLoss, &r)[0];
        assert!(f.summary_text().contains("expires") && f.evidence["valid_to"].is_string());
    }

    #[test]
    fn failed_attempt_is_medium() {
        let mut r = kms("DisableKey", json!({"keyId": KEY}));
        r["errorCode"] = json!("NotFoundException");
        let f = &findings_on(&mut KmsKeyLoss, &r)[0];
        assert_eq!(f.severity, Severity::Medium);
        assert!(f.summary_text().contains("attempt failed"));
    }

    #[test]
    fn near_misses() {
        for name in [
            "EnableKey",
            "CancelKeyDeletion",
            "EnableKeyRotation",
            "Decrypt",
            "DisableKeyRotations",
        ] {
            assert!(
                findings_on(&mut KmsKeyLoss, &kms(name, json!({"keyId": KEY}))).is_empty(),
                "{name}"
            );
        }
        let mut other = kms("DisableKey", json!({"keyId": KEY}));
        other["eventSource"] = json!("cloudhsm.amazonaws.com");
        assert!(findings_on(&mut KmsKeyLoss, &other).is_empty());
        let junk = kms("DisableKey", json!("junk"));
        let found = findings_on(&mut KmsKeyLoss, &junk);
        assert_eq!(found[0].target, "");
        assert!(
            found[0]
                .summary_text()
                .ends_with("disabled key (not named in the record)"),
            "{}",
            found[0].summary_text()
        );
    }

    #[test]
    fn a_failed_call_without_parameters_names_the_key_of_its_error_message() {
        let mut failed = kms("ScheduleKeyDeletion", Value::Null);
        failed["errorCode"] = json!("AccessDeniedException");
        failed["errorMessage"] = json!(format!(
            "User: arn:aws:iam::111122223333:user/eve is not authorized to perform: kms:ScheduleKeyDeletion on resource: {KEY} because no identity-based policy allows it"
        ));
        let found = findings_on(&mut KmsKeyLoss, &failed);
        assert_eq!(found[0].target, KEY);
        assert!(
            found[0].summary_text().contains(KEY),
            "{}",
            found[0].summary_text()
        );
    }
}
