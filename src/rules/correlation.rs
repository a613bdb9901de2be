//! Correlation rules in the catalog: linking them to their base rules, and running their
//! inline tests (a sequence of records through the base rules and the engine).

use super::catalog::{Catalog, CatalogError, Descriptor, Expect, InlineTest};
use crate::correlate::link::FINDING_FIELDS;
use crate::correlate::{Correlations, Engine, Linked, MemoryStore, DEFAULT_LATENESS};
use crate::detectors::{self, Settings};
use std::sync::Arc;

/// Checks that the inline tests give what the descriptor's kind needs: `records` (a sequence)
/// for a correlation, one `record` otherwise.
pub(super) fn check_tests(tests: &[InlineTest], correlation: bool) -> Result<(), String> {
    for t in tests {
        let has_record = !t.record.is_null();
        if correlation && (has_record || t.records.is_empty()) {
            return Err(format!(
                "test `{}`: a correlation rule is tested on `records` (a list)",
                t.name
            ));
        }
        if !correlation && (!has_record || !t.records.is_empty()) {
            return Err(format!("test `{}`: needs one `record`", t.name));
        }
    }
    Ok(())
}

impl Catalog {
    /// Links every correlation rule to its base rules (by detector id, `name`, or Sigma `id`)
    /// and checks that the fields it groups by are ones the base rules' findings carry: the
    /// engine refuses what it cannot honour.
    pub fn link(&mut self) -> Result<(), CatalogError> {
        let mut linked = Vec::new();
        for d in &self.descriptors {
            let Some(c) = &d.correlation_rule else {
                continue;
            };
            let invalid = |message: String| CatalogError::Invalid {
                file: d.source.clone(),
                message: format!("correlation: {message}"),
            };
            let mut rule = c.clone();
            let mut bases = Vec::new();
            for name in &mut rule.rules {
                let base = self
                    .descriptors
                    .iter()
                    .find(|b| {
                        b.detector_id() == name.as_str() || b.id.as_deref() == Some(name.as_str())
                    })
                    .ok_or_else(|| invalid(format!("rule `{name}` is not in the catalog")))?;
                if base.correlation_rule.is_some() {
                    return Err(invalid(format!(
                        "rule `{name}` is a correlation rule; chaining them is not supported"
                    )));
                }
                *name = base.detector_id().to_owned();
                bases.push(base);
            }
            let fields = rule.group_by.iter().chain(&rule.condition.field);
            for field in fields {
                let carried = FINDING_FIELDS.contains(&field.as_str())
                    || bases.iter().all(|b| b.group_by.contains(field));
                if !carried {
                    return Err(invalid(format!(
                        "field `{field}` is not carried by the findings of {}: list it in their `group_by`",
                        rule.rules.join(", ")
                    )));
                }
            }
            linked.push(Linked {
                id: d.detector_id().to_owned(),
                severity: d.severity(),
                meta: d.meta(),
                rule,
            });
        }
        self.correlations = Arc::new(Correlations::new(linked));
        Ok(())
    }

    /// The deduplication windows of the descriptors that set one: (detector id, seconds).
    pub fn dedup_windows(&self) -> Vec<(String, i64)> {
        let span = |d: &Descriptor| crate::correlate::time::parse_duration(d.dedup.as_deref()?);
        self.descriptors
            .iter()
            .filter_map(|d| Some((d.detector_id().to_owned(), span(d)?)))
            .collect()
    }

    /// Runs the inline tests of `d`; returns how many there are and one line per failure.
    /// A correlation rule's tests run their records, in order, through every detector of the
    /// catalog and the correlation engine, then close every window.
    pub fn run_tests(&self, d: &Descriptor, settings: &Settings) -> (usize, Vec<String>) {
        if d.correlation_rule.is_none() {
            return d.run_tests(settings);
        }
        let id = d.detector_id();
        let mut failures = Vec::new();
        for t in &d.tests {
            match self.correlation_alerts(id, &t.records, settings) {
                Err(e) => failures.push(format!("{}: {}: {e}", d.source, t.name)),
                Ok(n) if (n > 0) != (t.expect == Expect::Match) => failures.push(format!(
                    "{}: {}: expected {}, got {n} alerts",
                    d.source,
                    t.name,
                    if t.expect == Expect::Match {
                        "an alert"
                    } else {
                        "no alert"
                    }
                )),
                Ok(_) => {}
            }
        }
        (d.tests.len(), failures)
    }

    /// How many alerts the correlation `id` raises over `records`.
    fn correlation_alerts(
        &self,
        id: &str,
        records: &[serde_json::Value],
        settings: &Settings,
    ) -> Result<usize, String> {
        let mut detectors = self.detectors(settings, &[]);
        let mut observations = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let text = record.to_string();
            for detector in &mut detectors {
                let found = detectors::findings_in(&mut **detector, text.as_bytes())
                    .map_err(|e| format!("record {}: does not parse: {e}", i + 1))?;
                for f in &found {
                    self.correlations.observe(f, &mut observations);
                }
            }
        }
        let store = MemoryStore::new(crate::correlate::store::DEFAULT_MAX_GROUPS);
        let mut engine = Engine::new(Arc::clone(&self.correlations), store, DEFAULT_LATENESS);
        engine
            .observe("test", &observations)
            .map_err(|e| e.to_string())?;
        let alerts = engine.flush().map_err(|e| e.to_string())?;
        Ok(alerts.iter().filter(|a| a.detector == id).count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(extra: &str) -> Result<Catalog, CatalogError> {
        let mut c = Catalog::embedded()?;
        c.push(Descriptor::parse(extra, "extra.yml")?)?;
        c.link()?;
        Ok(c)
    }

    #[test]
    fn links_by_name_or_sigma_id_and_refuses_what_it_cannot_honour() {
        let rule = |rules: &str, group: &str| {
            format!("title: x\nname: x\ncorrelation: {{type: event_count, rules: [{rules}], group-by: [{group}], timespan: 5m, condition: {{gte: 2}}}}\n")
        };
        let c = with(&rule(
            "899e2c73-bcd0-403c-a8a5-382c376d664a",
            "userIdentity.arn",
        ))
        .unwrap();
        let l = c.correlations.get("x").unwrap();
        assert_eq!(
            l.rule.rules,
            ["unauthorized-api-calls"],
            "the Sigma id resolves to the detector id"
        );
        let e = with(&rule("no-such-rule", "sourceIPAddress"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("extra.yml: correlation: rule `no-such-rule`"),
            "{e}"
        );
        let e = with(&rule(
            "unauthorized-api-calls",
            "requestParameters.bucketName",
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("field `requestParameters.bucketName` is not carried"),
            "{e}"
        );
        let e = with(&rule("console-brute-force", "sourceIPAddress"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("chaining them is not supported"), "{e}");
        let e = with("title: x\ncorrelation: {type: temporal, rules: [a, b], timespan: 5m}\ntests: [{name: t, expect: match, record: {}}]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tested on `records`"), "{e}");
    }

    #[test]
    fn a_failing_correlation_test_is_reported() {
        let text = "title: x\nname: x\ncorrelation: {type: event_count, rules: [unauthorized-api-calls], group-by: [userIdentity.arn], timespan: 5m, condition: {gte: 2}}\ntests:\n  - name: one refusal is not two\n    expect: match\n    records: [{eventID: a, eventTime: '2026-01-01T00:00:00Z', errorCode: AccessDenied, eventName: GetObject, userIdentity: {arn: u}}]\n";
        let c = with(text).unwrap();
        let d = c
            .descriptors
            .iter()
            .find(|d| d.detector_id() == "x")
            .unwrap();
        let (n, failures) = c.run_tests(d, &Settings::default());
        assert_eq!(n, 1);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0].contains("expected an alert, got 0 alerts"),
            "{failures:?}"
        );
    }

    #[test]
    fn base_rules_of_non_generating_correlations_raise_no_alert_of_their_own() {
        let c = Catalog::embedded().unwrap();
        assert!(c.correlations.is_quiet("federation-token-issued"));
        assert!(
            !c.correlations.is_quiet("console-auth-failures"),
            "console-brute-force generates"
        );
        assert!(!c.correlations.is_quiet("root-activity"));
    }
}
