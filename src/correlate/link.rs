//! The correlation rules of a catalog, linked to their base rules: which findings feed which
//! correlation, and with what group.

use super::observed::Observed;
use super::rule::{Correlation, Kind};
use super::store::EventRef;
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

    /// The ids of the correlations that findings of `detector` feed.
    pub fn fed_by(&self, detector: &str) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .feeds
            .get(detector)
            .into_iter()
            .flatten()
            .map(|&(c, _)| self.rules[c].id.as_str())
            .collect();
        ids.dedup();
        ids
    }

    /// Whether findings of `detector` feed a correlation only and raise no alert of their own.
    pub fn is_quiet(&self, detector: &str) -> bool {
        !self.quiet.is_empty() && self.quiet.iter().any(|q| q == detector)
    }

    /// Counts what `f` gives the correlations it feeds (those `on` says are on) into `out`.
    /// A finding whose `eventTime` cannot be read feeds none (windows are on event time); one
    /// lacking a `group-by` field (or the field a `value_count` counts) is not grouped with
    /// every other such record, but counted in [`Observed::ungrouped`]. Groups are per
    /// account: the account the record is for is part of every group.
    pub fn observe(&self, f: &Finding<'_>, on: &dyn Fn(&str) -> bool, out: &mut Observed) {
        let Some(uses) = self.feeds.get(f.detector.as_str()) else {
            return;
        };
        let Some(time) = parse_event_time(&f.event_time) else {
            return;
        };
        for &(c, r) in uses {
            let l = &self.rules[c];
            if !on(&l.id) {
                continue;
            }
            let mut group = Vec::with_capacity(l.rule.group_by.len());
            for g in &l.rule.group_by {
                match field_of(f, g).filter(|v| !v.is_empty()) {
                    Some(v) => group.push(v),
                    None => break,
                }
            }
            if group.len() < l.rule.group_by.len() {
                out.ungrouped += 1;
                continue;
            }
            let value = match (l.rule.kind, &l.rule.condition.field) {
                (Kind::ValueCount, Some(field)) => {
                    match field_of(f, field).filter(|v| !v.is_empty()) {
                        Some(v) => Some(v),
                        // Nothing to count: not a distinct value of its own.
                        None => {
                            out.ungrouped += 1;
                            continue;
                        }
                    }
                }
                _ => None,
            };
            let event = EventRef {
                id: &f.event_id,
                time,
                rule: r,
                value: value.as_deref(),
                name: &f.event_name,
                who: [&f.account, &f.region, &f.principal, &f.source_ip],
            };
            out.add(&l.id, &f.account, &group, event);
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
