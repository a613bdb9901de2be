//! CloudWatch Embedded Metric Format: metrics as log lines, without any API call.
//!
//! One line per invocation for RecordsScanned, BytesScanned and IngestErrors, and one line
//! per (detector, severity) for Alerts, and one per (detector, filter) for Suppressed. Every
//! metric has the dimension `FunctionName` (the function's own name), so two stacks in one
//! account keep their metrics apart.
//!
//! The counts are the stage's [`Counts`], the same replay's summary reads.
//!
//! Each line also carries `level` and an RFC 3339 `timestamp`, as Lambda's JSON log format
//! asks: without them Lambda takes a line for INFO, and an application log level above INFO
//! would drop the metrics. Metric lines are INFO, or the application log level when that is
//! higher, so the filter always keeps them.

use crate::stage::Counts;
use serde_json::{json, Value};

pub const NAMESPACE: &str = "trailwatch";
/// The dimension naming the function.
pub const FUNCTION_DIMENSION: &str = "FunctionName";

/// What every metric line of this process shares (read with the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context {
    /// `AWS_LAMBDA_FUNCTION_NAME`; no `FunctionName` dimension without it (tests, replay).
    pub function: Option<String>,
    /// The `level` of metric lines ([`metric_level`]).
    pub level: &'static str,
}

/// INFO, or the application log level when that is higher (Lambda's level names).
pub fn metric_level(application: Option<&str>) -> &'static str {
    match application
        .map(|l| l.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("WARN" | "WARNING") => "WARN",
        Some("ERROR") => "ERROR",
        Some("FATAL") => "FATAL",
        _ => "INFO",
    }
}

use crate::alert::time::rfc3339;

/// The EMF lines for `counts` at `now` (ms since the epoch).
pub fn lines(counts: &Counts, context: &Context, now: u64) -> Vec<String> {
    let function: Vec<(&str, &str)> = context
        .function
        .as_deref()
        .map(|f| (FUNCTION_DIMENSION, f))
        .into_iter()
        .collect();
    let line = |dimensions: &[(&str, &str)], metrics: &[(&str, &str, u64)]| {
        let mut all = function.clone();
        all.extend_from_slice(dimensions);
        emf(now, context.level, &all, metrics)
    };
    let mut out = vec![line(
        &[],
        &[
            ("RecordsScanned", "Count", counts.records),
            ("BytesScanned", "Bytes", counts.input_bytes),
            ("IngestErrors", "Count", counts.ingest_errors),
        ],
    )];
    let state = [
        counts.state_calls,
        counts.late,
        counts.held,
        counts.evicted,
        counts.paged,
        counts.uncounted,
        counts.ungrouped,
        counts.ahead,
    ];
    if state.iter().sum::<u64>() > 0 {
        out.push(line(
            &[],
            &[
                ("StateCalls", "Count", counts.state_calls),
                ("LateRecords", "Count", counts.late),
                ("DedupHeld", "Count", counts.held),
                ("GroupsEvicted", "Count", counts.evicted),
                ("AlertsPaged", "Count", counts.paged),
                ("MatchesUncounted", "Count", counts.uncounted),
                ("MatchesUngrouped", "Count", counts.ungrouped),
                ("MatchesAhead", "Count", counts.ahead),
            ],
        ));
    }
    for ((detector, severity), n) in &counts.alerts {
        out.push(line(
            &[("detector", detector), ("severity", severity.as_str())],
            &[("Alerts", "Count", *n)],
        ));
    }
    for ((detector, filter), n) in &counts.suppressed.dropped {
        out.push(line(
            &[("detector", detector), ("filter", filter)],
            &[("Suppressed", "Count", *n)],
        ));
    }
    out
}

fn emf(
    timestamp: u64,
    level: &str,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, &str, u64)],
) -> String {
    let names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let defs: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({ "Name": name, "Unit": unit }))
        .collect();
    let mut line = json!({
        "level": level,
        "timestamp": rfc3339(timestamp),
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
    use crate::alert::severity::Severity;

    #[test]
    fn lines_are_valid_emf() {
        let mut t = Counts {
            records: 7,
            input_bytes: 900,
            ingest_errors: 1,
            ..Counts::default()
        };
        t.alerts
            .insert(("tls-outdated".into(), Severity::Medium), 2);
        t.suppressed
            .dropped
            .insert(("security-group-changes".into(), "deploy-role".into()), 3);
        let mut sum = Counts::default();
        sum.add(&t);
        sum.add(&t);
        let context = Context {
            function: None,
            level: "INFO",
        };
        let out = lines(&sum, &context, 1_764_547_199_999);
        assert_eq!(out.len(), 3);
        let suppressed: Value = serde_json::from_str(&out[2]).unwrap();
        assert_eq!(suppressed["Suppressed"], 6);
        assert_eq!(suppressed["filter"], "deploy-role");
        assert_eq!(
            suppressed["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
            json!(["detector", "filter"])
        );
        let first: Value = serde_json::from_str(&out[0]).unwrap();
        assert_eq!(first["RecordsScanned"], 14);
        assert_eq!(first["IngestErrors"], 2);
        let def = &first["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(def["Namespace"], NAMESPACE);
        assert_eq!(def["Metrics"][1]["Name"], "BytesScanned");
        let alerts: Value = serde_json::from_str(&out[1]).unwrap();
        assert_eq!(alerts["Alerts"], 4);
        assert_eq!(alerts["detector"], "tls-outdated");
        assert_eq!(alerts["severity"], "medium");
        assert_eq!(
            alerts["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0],
            json!(["detector", "severity"])
        );
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["timestamp"], "2025-11-30T23:59:59.999Z");
        assert_eq!(first["_aws"]["Timestamp"], 1_764_547_199_999u64);
    }

    #[test]
    fn every_metric_names_the_function_and_survives_the_log_level() {
        let mut t = Counts::default();
        t.alerts
            .insert(("ingest-error".into(), Severity::Medium), 1);
        let context = Context {
            function: Some("trailwatch-Function-AbC".into()),
            level: metric_level(Some("warn")),
        };
        for text in lines(&t, &context, 0) {
            let line: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(line["level"], "WARN");
            assert_eq!(line["timestamp"], "1970-01-01T00:00:00.000Z");
            assert_eq!(line[FUNCTION_DIMENSION], "trailwatch-Function-AbC");
            let dims = &line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0];
            assert_eq!(dims[0], FUNCTION_DIMENSION, "{text}");
        }
        for (application, level) in [
            (None, "INFO"),
            (Some("TRACE"), "INFO"),
            (Some("DEBUG"), "INFO"),
            (Some("INFO"), "INFO"),
            (Some("ERROR"), "ERROR"),
            (Some("FATAL"), "FATAL"),
        ] {
            assert_eq!(metric_level(application), level);
        }
    }

    #[test]
    fn state_counts_have_a_line_of_their_own_when_there_are_any() {
        let context = Context {
            function: None,
            level: metric_level(None),
        };
        assert_eq!(lines(&Counts::default(), &context, 0).len(), 1);
        let t = Counts {
            state_calls: 7,
            held: 2,
            ..Counts::default()
        };
        let out = lines(&t, &context, 0);
        let state: Value = serde_json::from_str(&out[1]).unwrap();
        assert_eq!(
            (state["StateCalls"].as_u64(), state["DedupHeld"].as_u64()),
            (Some(7), Some(2))
        );
        assert_eq!(state["GroupsEvicted"], 0);
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(4_102_444_800_000), "2100-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_547_199_999), "2025-11-30T23:59:59.999Z");
    }
}
