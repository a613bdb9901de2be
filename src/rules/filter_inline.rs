//! A filter's inline tests (`expect: filtered` / `kept`), run through the same wrapper as the
//! pipeline, against the detector the test names.

use super::catalog::Catalog;
use super::filter::{Filter, FilterExpect, FilterTest};
use super::filtered;
use crate::detectors::{findings_in, Settings};
use std::sync::Arc;

/// Runs `filter`'s inline tests with the detectors of `catalog`; returns the number of tests
/// and one line per failure.
pub fn run(filter: &Arc<Filter>, catalog: &Catalog, settings: &Settings) -> (usize, Vec<String>) {
    let failures = filter
        .tests
        .iter()
        .filter_map(|t| one(filter, t, catalog, settings).err())
        .map(|why| format!("{}: {why}", filter.source))
        .collect();
    (filter.tests.len(), failures)
}

fn one(
    filter: &Arc<Filter>,
    t: &FilterTest,
    catalog: &Catalog,
    settings: &Settings,
) -> Result<(), String> {
    let name = &t.name;
    let first = filter.detectors.as_ref().and_then(|ids| ids.first());
    let Some(id) = t.detector.as_ref().or(first) else {
        return Err(format!("{name}: name the `detector` the test is about"));
    };
    let descriptor = catalog
        .descriptors
        .iter()
        .find(|d| d.detector_id() == id)
        .ok_or_else(|| format!("{name}: no detector has the id `{id}`"))?;
    if !filter.covers(id) {
        return Err(format!("{name}: the filter does not apply to `{id}`"));
    }
    let text = t.record.to_string();
    let findings = |wrapped: bool| {
        let detector = descriptor
            .build(settings)
            .ok_or_else(|| format!("{name}: cannot build detector `{id}`"))?;
        let only = Catalog {
            filters: if wrapped {
                vec![Arc::clone(filter)]
            } else {
                Vec::new()
            },
            accounts: Arc::clone(&catalog.accounts),
            ..Catalog::default()
        };
        let (mut detectors, _) = filtered::wrap(vec![detector], &only, "");
        let found = findings_in(&mut *detectors[0], text.as_bytes())
            .map_err(|e| format!("{name}: record does not parse: {e}"))?;
        let mine: Vec<_> = found
            .into_iter()
            .filter(|f| f.detector == id.as_str())
            .collect();
        Ok::<_, String>(mine.iter().map(|f| f.severity).collect::<Vec<_>>())
    };
    let before = findings(false)?;
    if before.is_empty() {
        return Err(format!(
            "{name}: `{id}` finds nothing in the record: the test shows nothing"
        ));
    }
    let filtered = findings(true)? != before;
    let want = t.expect == FilterExpect::Filtered;
    if filtered != want {
        let (w, g) = if want {
            ("filtered", "kept")
        } else {
            ("kept", "filtered")
        };
        return Err(format!(
            "{name}: expected the `{id}` finding {w}, it was {g}"
        ));
    }
    Ok(())
}
