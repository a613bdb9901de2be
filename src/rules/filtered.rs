//! Filters applied in the pipeline: a detector that wraps a delivery's detectors.
//!
//! After the inner detectors have looked at a record, each new finding is checked against the
//! filters that name its detector (or `any`), with the record at hand: a dropped finding is
//! counted per (detector, filter), a lowered one gets its lower severity. The streaming core
//! knows nothing of this, and a filter never hides a record from another detector: every
//! detector sees every record, only findings are filtered. A record with no finding costs one
//! comparison.

use super::accounts::Accounts;
use super::catalog::Catalog;
use super::filter::{Action, Filter};
use crate::alert::finding::Finding;
use crate::detectors::Detector;
use crate::record::{text_facts, Record};
use crate::rules::sigma::parse_keys;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Findings filtered in one delivery (or a run), by (detector, filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterTally {
    /// Findings dropped.
    pub dropped: BTreeMap<(String, String), u64>,
    /// Findings kept at a lower severity.
    pub lowered: BTreeMap<(String, String), u64>,
}

impl FilterTally {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &FilterTally) {
        for (mine, theirs) in [
            (&mut self.dropped, &other.dropped),
            (&mut self.lowered, &other.lowered),
        ] {
            for (k, n) in theirs {
                *mine.entry(k.clone()).or_default() += n;
            }
        }
    }

    /// Findings dropped, in all.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }

    /// Whether nothing was filtered.
    pub fn is_empty(&self) -> bool {
        self.dropped.is_empty() && self.lowered.is_empty()
    }
}

/// The delivery's detectors behind the filters in force.
pub struct Filtered {
    inner: Vec<Box<dyn Detector>>,
    filters: Vec<Arc<Filter>>,
    accounts: Arc<Accounts>,
    /// One pre-test for every filter that has one: a record whose text it does not match is
    /// acted on by none of them.
    screen: Option<regex::bytes::Regex>,
    /// Per filter, whether `screen` covers it.
    screened: Vec<bool>,
    /// The top-level record keys the filters read (`None`: all of them).
    keys: Option<Vec<String>>,
    tally: FilterTally,
    shared: Arc<Mutex<FilterTally>>,
}

/// Wraps `detectors` behind the catalog's filters not expired on `today`; the counts reach
/// the returned tally when the delivery ends. Without such filters the detectors stay as they
/// are.
pub fn wrap(
    detectors: Vec<Box<dyn Detector>>,
    catalog: &Catalog,
    today: &str,
) -> (Vec<Box<dyn Detector>>, Arc<Mutex<FilterTally>>) {
    let shared = Arc::new(Mutex::new(FilterTally::default()));
    let filters: Vec<Arc<Filter>> = catalog
        .filters
        .iter()
        .filter(|f| !f.expired(today))
        .cloned()
        .collect();
    if filters.is_empty() {
        return (detectors, shared);
    }
    let patterns: Vec<String> = filters
        .iter()
        .filter_map(|f| f.screen().map(|p| format!("(?:{p})")))
        .collect();
    let screen = (!patterns.is_empty())
        .then(|| regex::bytes::Regex::new(&patterns.join("|")).ok())
        .flatten();
    let screened = filters
        .iter()
        .map(|f| screen.is_some() && f.screen().is_some())
        .collect();
    let mut keys = Some(Vec::new());
    for f in &filters {
        match (keys.as_mut(), f.keys()) {
            (Some(all), Some(mine)) => all.extend(mine.iter().cloned()),
            _ => keys = None,
        }
    }
    let filtered = Filtered {
        keys,
        inner: detectors,
        screen,
        screened,
        filters,
        accounts: Arc::clone(&catalog.accounts),
        tally: FilterTally::default(),
        shared: Arc::clone(&shared),
    };
    (vec![Box::new(filtered)], shared)
}

impl Filtered {
    /// The first filter that acts on `finding`, if any; `screened_out`: the record's text
    /// passed no filter's pre-test.
    /// `json` is the record's value as the filters read it, parsed on first need.
    fn verdict(
        &self,
        finding: &Finding<'_>,
        record: &Record<'_>,
        screened_out: bool,
        json: &mut Option<Value>,
    ) -> Option<&Arc<Filter>> {
        let detector = finding.detector.as_str();
        let mut annotated = None;
        self.filters
            .iter()
            .zip(&self.screened)
            .filter(|(f, screened)| !(screened_out && **screened) && f.covers(detector))
            .map(|(f, _)| f)
            .find(|f| {
                let json = json.get_or_insert_with(|| self.value_of(record));
                if !f.reads_context() {
                    return f.fires(json);
                }
                let annotated =
                    annotated.get_or_insert_with(|| self.accounts.annotate(json, record.account()));
                f.fires(annotated.as_ref().unwrap_or(json))
            })
    }

    /// The record as a JSON value: only the top-level keys the filters read, when known.
    fn value_of(&self, record: &Record<'_>) -> Value {
        let keys: Option<Vec<&str>> = self
            .keys
            .as_ref()
            .map(|k| k.iter().map(String::as_str).collect());
        keys.and_then(|keys| parse_keys(record.raw, &keys).ok())
            .unwrap_or_else(|| record.json().clone())
    }
}

impl Detector for Filtered {
    fn id(&self) -> &'static str {
        "filtered"
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let start = out.len();
        for d in self.inner.iter_mut() {
            d.inspect(record, out);
        }
        if out.len() == start {
            return;
        }
        let raw = record.raw.as_bytes();
        let screened_out = self
            .screen
            .as_ref()
            .is_some_and(|s| text_facts::plain(raw) && !s.is_match(raw));
        let mut json = None;
        let mut i = start;
        while i < out.len() {
            let Some(filter) = self.verdict(&out[i], record, screened_out, &mut json) else {
                i += 1;
                continue;
            };
            let key = (out[i].detector.to_string(), filter.id.clone());
            match filter.action {
                Action::Drop => {
                    *self.tally.dropped.entry(key).or_default() += 1;
                    out.remove(i);
                }
                Action::Lower => {
                    out[i].severity = filter.lowered(out[i].severity);
                    *self.tally.lowered.entry(key).or_default() += 1;
                    i += 1;
                }
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<Finding<'static>>) {
        for d in self.inner.iter_mut() {
            d.finish(out);
        }
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        shared.add(&std::mem::take(&mut self.tally));
    }
}

#[cfg(test)]
#[path = "filtered_tests.rs"]
mod tests;
