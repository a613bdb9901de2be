//! The correlation rules of a catalog, linked to their base rules: which findings feed which
//! correlation, and with what group.

use super::rule::{Correlation, Kind};
use super::store::{Event, GroupKey};
use super::time::parse_event_time;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::alert::DetectorMeta;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;

/// One correlation rule, ready to run.
#[derive(Debug, Clone)]
pub struct Linked {
    /// Its detector id.
    pub id: String,
    /// Its severity (`level`).
    pub severity: Severity,
    /// Title, remediation and references for its alerts.
    pub meta: DetectorMeta,
    /// The block, with `rules` resolved to detector ids.
    pub rule: Correlation,
}

/// A base-rule finding as a correlation counts it: which group, and the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The correlation and group.
    pub key: GroupKey,
    /// The event.
    pub event: Event,
}

/// Every correlation rule of a catalog, indexed by the base rules they read.
#[derive(Debug, Clone, Default)]
pub struct Correlations {
    rules: Vec<Linked>,
    /// Base rule id -> (correlation position, rule position).
    feeds: HashMap<String, Vec<(usize, usize)>>,
    /// Base rules whose own alerts are not raised (`generate: false` in all their correlations).
    quiet: Vec<String>,
}

impl Correlations {
    /// The set of `rules` (each already linked).
    pub fn new(rules: Vec<Linked>) -> Correlations {
        let mut feeds: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (c, l) in rules.iter().enumerate() {
            for (r, id) in l.rule.rules.iter().enumerate() {
                feeds.entry(id.clone()).or_default().push((c, r));
            }
        }
        let quiet = feeds
            .iter()
            .filter(|(_, uses)| uses.iter().all(|&(c, _)| !rules[c].rule.generate))
            .map(|(id, _)| id.clone())
            .collect();
        Correlations {
            rules,
            feeds,
            quiet,
        }
    }

    /// Whether there is no correlation rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The correlation rules.
    pub fn rules(&self) -> &[Linked] {
        &self.rules
    }

    /// The correlation with this id.
    pub fn get(&self, id: &str) -> Option<&Linked> {
        self.rules.iter().find(|l| l.id == id)
    }

    /// Whether findings of `detector` feed a correlation only and raise no alert of their own.
    pub fn is_quiet(&self, detector: &str) -> bool {
        !self.quiet.is_empty() && self.quiet.iter().any(|q| q == detector)
    }

    /// The observations `f` makes, one per correlation it feeds. A finding whose `eventTime`
    /// cannot be read feeds none (windows are on event time).
    pub fn observe(&self, f: &Finding<'_>, out: &mut Vec<Observation>) {
        let Some(uses) = self.feeds.get(f.detector.as_str()) else {
            return;
        };
        let Some(time) = parse_event_time(&f.event_time) else {
            return;
        };
        for &(c, r) in uses {
            let l = &self.rules[c];
            let group = l
                .rule
                .group_by
                .iter()
                .map(|g| field_of(f, g).unwrap_or_default().into_owned());
            let value = match (l.rule.kind, &l.rule.condition.field) {
                (Kind::ValueCount, Some(field)) => {
                    Some(field_of(f, field).unwrap_or_default().into_owned())
                }
                _ => None,
            };
            out.push(Observation {
                key: GroupKey {
                    correlation: l.id.clone(),
                    group: group.collect(),
                },
                event: Event {
                    id: f.event_id.to_string(),
                    time,
                    rule: r,
                    value,
                    name: f.event_name.to_string(),
                    who: [&f.account, &f.region, &f.principal, &f.source_ip].map(|s| s.to_string()),
                },
            });
        }
    }
}

/// The record fields every finding carries, by their CloudTrail names.
pub const FINDING_FIELDS: [&str; 6] = [
    "sourceIPAddress",
    "recipientAccountId",
    "awsRegion",
    "eventName",
    "eventSource",
    "userAgent",
];

/// A record field's value as a finding knows it: copied into its evidence by the rule's
/// `group_by`, or one of [`FINDING_FIELDS`].
fn field_of<'a>(f: &'a Finding<'_>, name: &str) -> Option<Cow<'a, str>> {
    if let Some(v) = f.evidence.get(name) {
        return Some(match v {
            Value::String(s) => Cow::Borrowed(s.as_str()),
            other => Cow::Owned(other.to_string()),
        });
    }
    let text = match name {
        "sourceIPAddress" => &f.source_ip,
        "recipientAccountId" => &f.account,
        "awsRegion" => &f.region,
        "eventName" => &f.event_name,
        "eventSource" => &f.event_source,
        "userAgent" => &f.user_agent,
        _ => return None,
    };
    Some(Cow::Borrowed(text))
}
