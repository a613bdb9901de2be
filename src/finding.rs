//! A finding: one detector's verdict on one record, before merging into alerts.

use crate::record::Record;
use crate::severity::Severity;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub detector: &'static str,
    pub severity: Severity,
    pub event_id: String,
    pub event_time: String,
    pub event_name: String,
    pub event_source: String,
    pub principal: String,
    pub account: String,
    pub region: String,
    pub source_ip: String,
    pub user_agent: String,
    /// What the call touched (key ARN, host, bucket...): with the detector and principal it
    /// forms the alert subject.
    pub target: String,
    /// One line for a human, already redacted.
    pub summary: String,
    /// Details for a responder, already redacted.
    pub evidence: Map<String, Value>,
    /// The call failed (`errorCode` present): the severity is one step lower.
    pub failed: bool,
}

impl Finding {
    /// A finding on `record`. A failed call is still a finding, one severity step lower, and
    /// its error code joins the evidence.
    pub fn new(
        detector: &'static str,
        severity: Severity,
        record: &Record<'_>,
        target: impl Into<String>,
        summary: impl Into<String>,
    ) -> Finding {
        let failed = record.error_code().is_some();
        let mut evidence = Map::new();
        let mut summary = summary.into();
        if let Some(code) = record.error_code() {
            evidence.insert("error_code".into(), Value::from(code));
            summary.push_str(" (the attempt failed: ");
            summary.push_str(code);
            summary.push(')');
        }
        Finding {
            detector,
            severity: if failed { severity.lower() } else { severity },
            event_id: record.event_id().to_owned(),
            event_time: record.event_time().to_owned(),
            event_name: record.event_name().to_owned(),
            event_source: record.event_source().to_owned(),
            principal: record.principal().to_owned(),
            account: record.account().to_owned(),
            region: record.region().to_owned(),
            source_ip: record.source_ip().to_owned(),
            user_agent: record.user_agent().to_owned(),
            target: target.into(),
            summary,
            evidence,
            failed,
        }
    }

    /// Adds one evidence entry (the value must already be redacted).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Finding {
        self.evidence.insert(key.to_owned(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_call_is_one_step_lower_and_says_so() {
        let r = Record::parse(
            br#"{"eventName":"DisableKey","errorCode":"AccessDenied","eventID":"e"}"#,
        )
        .unwrap();
        let f = Finding::new("kms-key-loss", Severity::High, &r, "k", "key disabled");
        assert_eq!(f.severity, Severity::Medium);
        assert!(
            f.failed
                && f.summary.contains("attempt failed")
                && f.evidence["error_code"] == "AccessDenied"
        );
        let ok = Record::parse(br#"{"eventName":"DisableKey"}"#).unwrap();
        assert_eq!(
            Finding::new("x", Severity::High, &ok, "", "s").severity,
            Severity::High
        );
    }
}
