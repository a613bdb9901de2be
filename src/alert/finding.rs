//! A finding: one detector's verdict on one record, before merging into alerts.
//!
//! A finding borrows the record's fields (`Finding<'r>` lives as long as the record it is
//! about): most findings only add to an alert that already exists, and copying ten strings
//! for each would cost more than the detectors. [`Finding::into_owned`] keeps one.

use crate::alert::evidence::Evidence;
use crate::alert::severity::Severity;
use crate::record::Record;
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

type Text<'r> = Cow<'r, str>;

/// The id of the detector behind a finding: a native detector's constant, or the id of a rule
/// loaded at run time, owned by the catalog and shared. Copying one never allocates (a
/// pointer copy, or a reference count for a rule's id), so a finding costs no more for
/// coming from a rule.
#[derive(Clone)]
pub struct DetectorId(IdText);

#[derive(Clone)]
enum IdText {
    Static(&'static str),
    Shared(Arc<str>),
}

impl DetectorId {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            IdText::Static(s) => s,
            IdText::Shared(s) => s,
        }
    }
}

impl Default for DetectorId {
    fn default() -> Self {
        DetectorId(IdText::Static(""))
    }
}

impl From<&'static str> for DetectorId {
    fn from(id: &'static str) -> Self {
        DetectorId(IdText::Static(id))
    }
}

impl From<Arc<str>> for DetectorId {
    fn from(id: Arc<str>) -> Self {
        DetectorId(IdText::Shared(id))
    }
}

impl Deref for DetectorId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for DetectorId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for DetectorId {}

impl PartialEq<str> for DetectorId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for DetectorId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for DetectorId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DetectorId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Hashes as its text, like a `&str` would.
impl Hash for DetectorId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for DetectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for DetectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DetectorId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A finding's line for a human, already redacted.
#[derive(Debug, Clone, PartialEq)]
pub enum Summary<'r> {
    /// Written by the detector.
    Text(Text<'r>),
    /// A rule's finding: `<title>: <eventName> by <principal>`, written out only when shown
    /// ([`Finding::summary_text`]). A rule that fires on most records makes many findings that
    /// only join an alert and are never shown. The title is the rule's own, shared.
    Rule(Arc<str>),
}

impl<'r> From<&'r str> for Summary<'r> {
    fn from(text: &'r str) -> Summary<'r> {
        Summary::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Summary<'_> {
    fn from(text: String) -> Self {
        Summary::Text(Cow::Owned(text))
    }
}

#[derive(Debug, Clone)]
/// A detector's verdict on one record (see the module text).
pub struct Finding<'r> {
    /// The detector that found it.
    pub detector: DetectorId,
    /// How severe (one step lower for a failed call).
    pub severity: Severity,
    /// The record's `eventID`.
    pub event_id: Text<'r>,
    /// The record's `eventTime`.
    pub event_time: Text<'r>,
    /// The record's `eventName`.
    pub event_name: Text<'r>,
    /// The record's `eventSource`.
    pub event_source: Text<'r>,
    /// Who made the call (an ARN, or what the record names).
    pub principal: Text<'r>,
    /// The account the call was recorded in (`recipientAccountId`).
    pub account: Text<'r>,
    /// The record's `awsRegion`.
    pub region: Text<'r>,
    /// The record's `sourceIPAddress` (an address or a service name).
    pub source_ip: Text<'r>,
    /// The record's `userAgent`.
    pub user_agent: Text<'r>,
    /// What the call touched (key ARN, host, bucket...): with the detector and principal it
    /// forms the alert subject.
    pub target: Text<'r>,
    /// One line for a human, already redacted (see [`Finding::summary_text`]).
    pub summary: Summary<'r>,
    /// Details for a responder, already redacted.
    pub evidence: Evidence,
    /// The call failed (`errorCode` present): the severity is one step lower.
    pub failed: bool,
}

impl<'r> Finding<'r> {
    /// A finding on `record`. A failed call is still a finding, one severity step lower, and
    /// its error code joins the evidence.
    pub fn new(
        detector: impl Into<DetectorId>,
        severity: Severity,
        record: &'r Record<'_>,
        target: impl Into<Text<'r>>,
        summary: impl Into<Summary<'r>>,
    ) -> Finding<'r> {
        let failed = record.error_code().is_some();
        let mut evidence = Evidence::default();
        let mut summary = summary.into();
        if let Some(code) = record.error_code() {
            evidence.insert("error_code".into(), Value::from(code));
            if let Summary::Text(text) = &mut summary {
                push_failure(text.to_mut(), code);
            }
        }
        Finding {
            detector: detector.into(),
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
        let summary = match self.summary {
            Summary::Rule(title) => Summary::Rule(title),
            Summary::Text(text) => Summary::Text(own(text)),
        };
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
            summary,
            evidence: self.evidence,
            failed: self.failed,
        }
    }

    /// The summary line: the detector's, or a rule's written out from this finding.
    pub fn summary_text(&self) -> Cow<'_, str> {
        match &self.summary {
            Summary::Text(text) => Cow::Borrowed(text),
            Summary::Rule(title) => {
                let who = match &*self.principal {
                    "" => "unknown principal",
                    p => p,
                };
                let mut line = format!("{title}: {}", self.event_name);
                if !self.target.is_empty() {
                    line.push_str(" on ");
                    line.push_str(&self.target);
                }
                line.push_str(" by ");
                line.push_str(who);
                if let Some(code) = self.evidence.get("error_code").and_then(Value::as_str) {
                    push_failure(&mut line, code);
                }
                Cow::Owned(line)
            }
        }
    }
}

/// Says in a summary that the call failed.
fn push_failure(line: &mut String, code: &str) {
    line.push_str(" (the attempt failed: ");
    line.push_str(code);
    line.push(')');
}

impl Serialize for Finding<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut f = s.serialize_struct("Finding", 15)?;
        f.serialize_field("detector", &self.detector)?;
        f.serialize_field("severity", &self.severity)?;
        f.serialize_field("event_id", &self.event_id)?;
        f.serialize_field("event_time", &self.event_time)?;
        f.serialize_field("event_name", &self.event_name)?;
        f.serialize_field("event_source", &self.event_source)?;
        f.serialize_field("principal", &self.principal)?;
        f.serialize_field("account", &self.account)?;
        f.serialize_field("region", &self.region)?;
        f.serialize_field("source_ip", &self.source_ip)?;
        f.serialize_field("user_agent", &self.user_agent)?;
        f.serialize_field("target", &self.target)?;
        f.serialize_field("summary", &self.summary_text())?;
        f.serialize_field("evidence", &self.evidence)?;
        f.serialize_field("failed", &self.failed)?;
        f.end()
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
                && f.summary_text().contains("attempt failed")
                && f.evidence["error_code"] == "AccessDenied"
        );
        let ok = Record::parse(br#"{"eventName":"DisableKey"}"#).unwrap();
        assert_eq!(
            Finding::new("x", Severity::High, &ok, "", "s").severity,
            Severity::High
        );
    }

    #[test]
    fn a_rule_summary_is_written_out_when_shown() {
        let r = Record::parse(
            br#"{"eventName":"StopLogging","errorCode":"AccessDenied","userIdentity":{"arn":"arn:aws:iam::1:user/eve"}}"#,
        )
        .unwrap();
        let f = Finding::new(
            "r",
            Severity::High,
            &r,
            "",
            Summary::Rule("Trail stopped".into()),
        );
        let line = "Trail stopped: StopLogging by arn:aws:iam::1:user/eve \
                    (the attempt failed: AccessDenied)";
        assert_eq!(f.summary_text(), line);
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["summary"], line);
        assert_eq!(f.clone().into_owned().summary_text(), line);
        let nobody = Record::parse(br#"{"eventName":"StopLogging"}"#).unwrap();
        let f = Finding::new("r", Severity::High, &nobody, "", Summary::Rule("T".into()));
        assert_eq!(f.summary_text(), "T: StopLogging by unknown principal");
    }
}
