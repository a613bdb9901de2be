//! Bounded memory for the alerts of one delivery: past [`MAX_SUBJECTS`] alerts of one
//! detector, the findings of further subjects join one alert per detector that counts them
//! (subjects, events, worst severity, first event ids) instead of starting an alert each. The
//! stage's page folds it with the rest, so nothing leaves the counts.

use super::Alert;
use crate::alert::finding::Finding;
use serde_json::json;
use std::collections::HashSet;

/// Alerts of one detector one delivery builds at most; more subjects share one alert.
pub const MAX_SUBJECTS: usize = 500;

/// The findings of one detector's subjects past [`MAX_SUBJECTS`].
#[derive(Debug)]
pub(super) struct Overflow {
    /// The first of them.
    top: Finding<'static>,
    /// The alert of the first of them, counting all.
    alert: Alert,
    /// Hashes of their subjects.
    subjects: HashSet<u64>,
}

impl Overflow {
    /// Starts with `alert` (of `f`, subject `hash`).
    pub(super) fn new(f: &Finding<'_>, alert: Alert, hash: u64) -> Overflow {
        Overflow {
            top: f.clone().into_owned(),
            alert,
            subjects: HashSet::from([hash]),
        }
    }

    /// Counts `f` (subject `hash`).
    pub(super) fn add(&mut self, f: &Finding<'_>, hash: u64) {
        self.subjects.insert(hash);
        super::builder::join(&mut self.alert, f);
        self.alert.severity = self.alert.severity.max(f.severity);
    }

    /// The alert, dressed by `dress` as any other (from its first finding), saying how many
    /// subjects it stands for (`evidence.page`, as the stage's page says it).
    pub(super) fn finish(self, dress: impl FnOnce(&Finding<'_>, Alert) -> Alert) -> Alert {
        let mut a = dress(&self.top, self.alert);
        let n = self.subjects.len();
        a.summary = format!(
            "{n} more {} alerts ({} events) than one delivery keeps ({MAX_SUBJECTS}), counted \
             in this one; the first of them: {}",
            a.detector,
            a.count,
            self.top.summary_text()
        );
        a.id = super::id::alert_id(&[&a.detector, "overflow", &a.id, &n.to_string()]);
        a.evidence
            .insert("page".into(), json!({"alerts": n, "events": a.count}));
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::builder::AlertBuilder;
    use crate::alert::severity::Severity;
    use crate::alert::Source;
    use crate::record::Record;

    #[test]
    fn past_the_subjects_of_a_detector_one_alert_counts_the_rest() {
        let mut b = AlertBuilder::new(Source::File { file: "f".into() });
        let mut total = 0;
        for n in 0..(MAX_SUBJECTS + 100) {
            for k in 0..2 {
                let text = format!(
                    r#"{{"eventID":"e{n}-{k}","eventTime":"2026-12-06T01:00:00Z","eventName":"GetObject","userIdentity":{{"arn":"arn:aws:iam::1:user/u{n}"}}}}"#
                );
                let severity = if n == MAX_SUBJECTS + 50 {
                    Severity::High
                } else {
                    Severity::Low
                };
                let r = Record::parse(text.as_bytes()).unwrap();
                b.add(&Finding::new("denied", severity, &r, "t", "denied"));
                total += 1;
            }
        }
        let r = Record::parse(br#"{"eventID":"x","eventName":"DisableKey"}"#).unwrap();
        b.add(&Finding::new("other", Severity::Low, &r, "t", "other"));
        let alerts = b.finish(&|_| None);
        assert_eq!(alerts.len(), MAX_SUBJECTS + 2);
        let last = &alerts[MAX_SUBJECTS];
        assert_eq!(last.detector, "denied");
        assert_eq!(last.evidence["page"]["alerts"], 100);
        assert_eq!((last.count, last.severity), (200, Severity::High));
        assert!(
            last.summary
                .starts_with("100 more denied alerts (200 events)"),
            "{}",
            last.summary
        );
        let counted: u64 = alerts
            .iter()
            .filter(|a| a.detector == "denied")
            .map(|a| a.count)
            .sum();
        assert_eq!(counted, total);
        assert_eq!(alerts[MAX_SUBJECTS + 1].detector, "other");
    }
}
