//! A finding: one detector's verdict on one record, before merging into alerts.
//!
//! A finding borrows the record's fields (`Finding<'r>` lives as long as the record it is
//! about): most findings only add to an alert that already exists, and copying ten strings
//! for each would cost more than the detectors. [`Finding::into_owned`] keeps one.

use crate::evidence::Evidence;
use crate::record::Record;
use crate::severity::Severity;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

type Text<'r> = Cow<'r, str>;

#[derive(Debug, Clone, Serialize)]
pub struct Finding<'r> {
    pub detector: &'static str,
    pub severity: Severity,
    pub event_id: Text<'r>,
    pub event_time: Text<'r>,
    pub event_name: Text<'r>,
    pub event_source: Text<'r>,
    pub principal: Text<'r>,
    pub account: Text<'r>,
    pub region: Text<'r>,
    pub source_ip: Text<'r>,
    pub user_agent: Text<'r>,
    /// What the call touched (key ARN, host, bucket...): with the detector and principal it
    /// forms the alert subject.
    pub target: Text<'r>,
    /// One line for a human, already redacted.
    pub summary: Text<'r>,
    /// Details for a responder, already redacted.
    pub evidence: Evidence,
    /// The call failed (`errorCode` present): the severity is one step lower.
    pub failed: bool,
}

impl<'r> Finding<'r> {
    /// A finding on `record`. A failed call is still a finding, one severity step lower, and
    /// its error code joins the evidence.
    pub fn new(
        detector: &'static str,
        severity: Severity,
        record: &'r Record<'_>,
        target: impl Into<Text<'r>>,
        summary: impl Into<Text<'r>>,
    ) -> Finding<'r> {
        let failed = record.error_code().is_some();
        let mut evidence = Evidence::default();
        let mut summary = summary.into();
        if let Some(code) = record.error_code() {
            evidence.insert("error_code".into(), Value::from(code));
            let text = summary.to_mut();
            text.push_str(" (the attempt failed: ");
            text.push_str(code);
            text.push(')');
        }
        Finding {
            detector,
            severity: if failed { severity.lower() } else { severity },
            event_id: Cow::Borrowed(record.event_id()),
            event_time: Cow::Borrowed(record.event_time()),
            event_name: Cow::Borrowed(record.event_name()),
            event_source: Cow::Borrowed(record.event_source()),
            principal: Cow::Borrowed(record.principal()),
            account: Cow::Borrowed(record.account()),
            region: Cow::Borrowed(record.region()),
            source_ip: Cow::Borrowed(record.source_ip()),
            user_agent: Cow::Borrowed(record.user_agent()),
            target: target.into(),
            summary,
            evidence,
            failed,
        }
    }

    /// Adds one evidence entry (the value must already be redacted).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Finding<'r> {
        self.evidence.insert(key.to_owned(), value.into());
        self
    }

    /// The same finding, owning its text.
    pub fn into_owned(self) -> Finding<'static> {
        let own = |t: Text<'_>| Cow::Owned(t.into_owned());
        Finding {
            detector: self.detector,
            severity: self.severity,
            event_id: own(self.event_id),
            event_time: own(self.event_time),
            event_name: own(self.event_name),
            event_source: own(self.event_source),
            principal: own(self.principal),
            account: own(self.account),
            region: own(self.region),
            source_ip: own(self.source_ip),
            user_agent: own(self.user_agent),
            target: own(self.target),
            summary: own(self.summary),
            evidence: self.evidence,
            failed: self.failed,
        }
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
