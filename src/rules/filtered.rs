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
use crate::record::Record;
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
    let filtered = Filtered {
        inner: detectors,
        filters,
        accounts: Arc::clone(&catalog.accounts),
        tally: FilterTally::default(),
        shared: Arc::clone(&shared),
    };
    (vec![Box::new(filtered)], shared)
}

impl Filtered {
    /// The first filter that acts on `finding`, if any.
    fn verdict(&self, finding: &Finding<'_>, record: &Record<'_>) -> Option<&Arc<Filter>> {
        let detector = finding.detector.as_str();
        let mut annotated = None;
        self.filters
            .iter()
            .filter(|f| f.covers(detector))
            .find(|f| {
                if !f.reads_context() {
                    return f.fires(record.json());
                }
                let json = annotated
                    .get_or_insert_with(|| self.accounts.annotate(record.json(), record.account()));
                f.fires(json.as_ref().unwrap_or(record.json()))
            })
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
        let mut i = start;
        while i < out.len() {
            let Some(filter) = self.verdict(&out[i], record) else {
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
