//! Running the inline tests of rule and filter files (`tests:`), the one place they run:
//! `detectors test`, and the tests of the built-in files.
//!
//! A rule's test runs its record through the rule's own detector; a correlation rule's test
//! runs its records, in order, through every detector of the catalog and the correlation
//! engine; a filter's test runs its record through the pipeline's filter wrapper.
//!
//! Imports [`super::catalog`] (with the descriptors and filters below it) and
//! [`super::filtered`].

use super::catalog::{Catalog, Descriptor, Expect, InlineTest, Kind};
use super::filter::{Filter, FilterExpect, FilterTest};
use super::filtered;
use crate::correlate::{Engine, MemoryStore, Observed, DEFAULT_LATENESS};
use crate::detectors::{findings_in, Settings};
use std::sync::Arc;

/// Runs the inline tests of `d`, one of `catalog`'s descriptors; returns how many there are
/// and one line per failure. A skipped Sigma rule's tests are not run (0 tests).
pub fn run_rule(catalog: &Catalog, d: &Descriptor, settings: &Settings) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    if d.kind.skipped().is_some() {
        return (0, failures);
    }
    let tests = match d.tests() {
        Ok(tests) => tests,
        Err(e) => return (1, vec![e.to_string()]),
    };
    match &d.kind {
        Kind::Correlation(_) => {
            let failed = tests
                .iter()
                .filter_map(|t| correlation_test(catalog, d, t, settings).err());
            failures.extend(failed);
        }
        _ => tests
            .iter()
            .for_each(|t| rule_test(d, t, settings, &mut failures)),
    }
    (tests.len(), failures)
}

/// One test of a native or Sigma rule: its record (or, for a native detector that judges a
/// delivery, its records in order, as one delivery) through the rule's detector alone. A
/// record that does not parse is a failure, and so is the verdict on no findings.
fn rule_test(d: &Descriptor, t: &InlineTest, settings: &Settings, failures: &mut Vec<String>) {
    let (id, source, name) = (d.detector_id(), &d.source, &t.name);
    let Some(mut detector) = d.build(settings) else {
        failures.push(format!("{source}: {name}: cannot build detector `{id}`"));
        return;
    };
    let mut out = Vec::new();
    for record in std::iter::once(&t.record)
        .filter(|r| !r.is_null())
        .chain(&t.records)
    {
        let text = record.to_string();
        match findings_in(&mut *detector, text.as_bytes()) {
            Ok(found) => out.extend(found),
            Err(e) => failures.push(format!("{source}: {name}: record does not parse: {e}")),
        }
    }
    detector.finish(&mut out);
    let matched = out.iter().any(|f| f.detector == id);
    if matched != (t.expect == Expect::Match) {
        let want = if t.expect == Expect::Match {
            "a match"
        } else {
            "no match"
        };
        let n = out.len();
        failures.push(format!(
            "{source}: {name}: expected {want}, got {n} findings"
        ));
    }
}

/// One test of a correlation rule: its records through every detector of the catalog and the
/// correlation engine, then every window closed.
fn correlation_test(
    catalog: &Catalog,
    d: &Descriptor,
    t: &InlineTest,
    settings: &Settings,
) -> Result<(), String> {
    let (source, name) = (&d.source, &t.name);
    let n = correlation_alerts(catalog, d.detector_id(), &t.records, settings)
        .map_err(|e| format!("{source}: {name}: {e}"))?;
    if (n > 0) == (t.expect == Expect::Match) {
        return Ok(());
    }
    let want = if t.expect == Expect::Match {
        "an alert"
    } else {
        "no alert"
    };
    Err(format!("{source}: {name}: expected {want}, got {n} alerts"))
}

/// How many alerts the correlation `id` raises over `records`.
fn correlation_alerts(
    catalog: &Catalog,
    id: &str,
    records: &[serde_json::Value],
    settings: &Settings,
) -> Result<usize, String> {
    let mut detectors = catalog.detectors(settings, &[]);
    let mut observed = Observed::default();
    for (i, record) in records.iter().enumerate() {
        let text = record.to_string();
        for detector in &mut detectors {
            let found = findings_in(&mut **detector, text.as_bytes())
                .map_err(|e| format!("record {}: does not parse: {e}", i + 1))?;
            for f in &found {
                catalog.correlations.observe(f, &|_| true, &mut observed);
            }
        }
    }
    let store = MemoryStore::new(crate::correlate::store::DEFAULT_MAX_GROUPS);
    let correlations = Arc::clone(&catalog.correlations);
    let mut engine = Engine::new(correlations, store, DEFAULT_LATENESS);
    engine
        .observe("test", observed)
        .map_err(|e| e.to_string())?;
    let alerts = engine.flush().map_err(|e| e.to_string())?;
    Ok(alerts.iter().filter(|a| a.detector == id).count())
}

/// Runs `filter`'s inline tests (`expect: filtered` / `kept`) with the detectors of `catalog`,
/// through the same wrapper as the pipeline, against the detector each test names; returns
/// the number of tests and one line per failure.
pub fn run_filter(
    filter: &Arc<Filter>,
    catalog: &Catalog,
    settings: &Settings,
) -> (usize, Vec<String>) {
    let failures = filter
        .tests
        .iter()
        .filter_map(|t| filter_test(filter, t, catalog, settings).err())
        .map(|why| format!("{}: {why}", filter.source))
        .collect();
    (filter.tests.len(), failures)
}

/// One test of a filter: the named detector's findings on the record, without and with it.
fn filter_test(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_descriptor_loads_and_passes_its_tests() {
        let catalog = Catalog::embedded().unwrap();
        assert!(!catalog.descriptors.is_empty());
        for d in &catalog.descriptors {
            let (count, failures) = run_rule(&catalog, d, &Settings::default());
            assert!(count > 0, "{}: no inline tests", d.source);
            assert!(failures.is_empty(), "{failures:#?}");
        }
    }

    #[test]
    fn a_failing_correlation_test_is_reported() {
        let text = "title: x\nname: x\ncorrelation: {type: event_count, rules: [unauthorized-api-calls], group-by: [userIdentity.arn], timespan: 5m, condition: {gte: 2}}\ntests:\n  - name: one refusal is not two\n    expect: match\n    records: [{eventID: a, eventTime: '2026-01-01T00:00:00Z', errorCode: AccessDenied, eventName: GetObject, userIdentity: {arn: u}}]\n";
        let mut c = Catalog::embedded().unwrap();
        c.push(Descriptor::parse(text, "extra.yml").unwrap())
            .unwrap();
        c.link().unwrap();
        let d = c
            .descriptors
            .iter()
            .find(|d| d.detector_id() == "x")
            .unwrap();
        let (n, failures) = run_rule(&c, d, &Settings::default());
        assert_eq!(n, 1);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0].contains("expected an alert, got 0 alerts"),
            "{failures:?}"
        );
    }
}
