//! CloudWatch Embedded Metric Format: metrics as log lines, without any API call.
//!
//! One line per invocation for RecordsScanned, BytesScanned and IngestErrors, and one line
//! per (detector, severity) for Alerts, and one per (detector, filter) for Suppressed.

use crate::alert::severity::Severity;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

pub const NAMESPACE: &str = "trailwatch";

/// What one invocation did, summed over its objects.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub records: u64,
    pub bytes: u64,
    pub ingest_errors: u64,
    pub alerts: BTreeMap<(String, Severity), u64>,
    /// Findings dropped by filters, by (detector, filter).
    pub suppressed: BTreeMap<(String, String), u64>,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.records += other.records;
        self.bytes += other.bytes;
        self.ingest_errors += other.ingest_errors;
        for (k, n) in &other.alerts {
            *self.alerts.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &other.suppressed {
            *self.suppressed.entry(k.clone()).or_default() += n;
        }
    }

    pub fn alert(&mut self, detector: &str, severity: Severity) {
        *self
            .alerts
            .entry((detector.to_owned(), severity))
            .or_default() += 1;
    }

    /// The EMF lines for this tally.
    pub fn lines(&self) -> Vec<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut out = vec![emf(
            now,
            &[],
            &[
                ("RecordsScanned", "Count", self.records),
                ("BytesScanned", "Bytes", self.bytes),
                ("IngestErrors", "Count", self.ingest_errors),
            ],
        )];
        for ((detector, severity), n) in &self.alerts {
            out.push(emf(
                now,
                &[("detector", detector), ("severity", severity.as_str())],
                &[("Alerts", "Count", *n)],
            ));
        }
        for ((detector, filter), n) in &self.suppressed {
            out.push(emf(
                now,
                &[("detector", detector), ("filter", filter)],
                &[("Suppressed", "Count", *n)],
            ));
        }
        out
    }
}

fn emf(timestamp: u64, dimensions: &[(&str, &str)], metrics: &[(&str, &str, u64)]) -> String {
    let names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let defs: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({ "Name": name, "Unit": unit }))
        .collect();
    let mut line = json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [names],
                "Metrics": defs,
            }]
        }
    });
    if let Value::Object(map) = &mut line {
        for (k, v) in dimensions {
            map.insert((*k).to_owned(), Value::from(*v));
        }
        for (name, _, value) in metrics {
            map.insert((*name).to_owned(), Value::from(*value));
        }
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_valid_emf() {
        let mut t = Tally {
            records: 7,
            bytes: 900,
            ingest_errors: 1,
            ..Tally::default()
        };
        t.alert("tls-outdated", Severity::Medium);
        t.alert("tls-outdated", Severity::Medium);
        t.suppressed
            .insert(("security-group-changes".into(), "deploy-role".into()), 3);
        let mut sum = Tally::default();
        sum.add(&t);
        sum.add(&t);
        let lines = sum.lines();
        assert_eq!(lines.len(), 3);
        let suppressed: Value = serde_json::from_str(&lines[2]).unwrap();
        assert_eq!(suppressed["Suppressed"], 6);
        assert_eq!(suppressed["filter"], "deploy-role");
        assert_eq!(
            suppressed["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
            json!(["detector", "filter"])
        );
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first["RecordsScanned"], 14);
        assert_eq!(first["IngestErrors"], 2);
        let def = &first["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(def["Namespace"], NAMESPACE);
        assert_eq!(def["Metrics"][1]["Name"], "BytesScanned");
        let alerts: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(alerts["Alerts"], 4);
        assert_eq!(alerts["detector"], "tls-outdated");
        assert_eq!(alerts["severity"], "medium");
        assert_eq!(
            alerts["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
            json!(["detector", "severity"])
        );
    }
}
