//! What a run (replay) or an invocation (the Lambda) counted: the one counter both front
//! ends read, replay for its summary, the Lambda for its log line and metrics.

use crate::alert::severity::Severity;
use crate::alert::Alert;
use crate::rules::filtered::FilterTally;
use crate::scan::{Contents, ScanReport};
use std::collections::BTreeMap;

/// The counts of a run, an invocation, or one delivery of either.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Deliveries scanned (replay: files and objects, read or not).
    pub files: u64,
    /// Inputs that failed (replay: could not be opened or read to their end, state faults).
    pub failed: u64,
    /// CloudTrail digest files met and skipped.
    pub digests: u64,
    /// Files that are not CloudTrail logs, skipped (replay, found by walking a folder).
    pub not_logs: u64,
    /// The first of them, to name it.
    pub not_log: Option<String>,
    /// Records read and inspected.
    pub records: u64,
    /// Elements that could not be read as records, skipped.
    pub skipped: u64,
    /// Records larger than the record limit, skipped unread (counted in `skipped` too).
    pub oversized: u64,
    /// Records whose TLS version was not understood.
    pub tls_unparsed: u64,
    /// The first file holding such a record, to name it (replay).
    pub tls_unparsed_file: Option<String>,
    /// Subtrees nested too deep, not read.
    pub deep_subtrees: u64,
    /// Uncompressed bytes read.
    pub bytes: u64,
    /// Bytes read as stored (compressed or not).
    pub input_bytes: u64,
    /// Objects (or queue messages) that could not be read to their end (`ingest-error`).
    pub ingest_errors: u64,
    /// Alerts published, by detector and severity.
    pub alerts: BTreeMap<(String, Severity), u64>,
    /// The worst severity of every alert decided, published or not.
    pub worst: Option<Severity>,
    /// Findings the filters dropped or lowered, by (detector, filter).
    pub suppressed: FilterTally,
    /// Base-rule matches too late for their correlation windows.
    pub late: u64,
    /// Alerts held back by dedup windows.
    pub held: u64,
    /// Alerts folded into a page's last alert (more than [`super::PAGE`] of one detector).
    pub paged: u64,
    /// Correlation groups evicted (the cap on open groups).
    pub evicted: u64,
    /// Base-rule matches a delivery could not count, or count with their ids, for its
    /// correlations (past the memory one delivery's aggregate holds).
    pub uncounted: u64,
    /// Base-rule matches whose record lacks a `group-by` field of the correlation.
    pub ungrouped: u64,
    /// Base-rule matches dated more than [`AHEAD`](crate::correlate::engine::AHEAD) past
    /// the clock, not counted (a forged file must not move windows or evictions).
    pub ahead: u64,
    /// Calls to the state table (the Lambda).
    pub state_calls: u64,
}

impl Counts {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Counts) {
        for (mine, theirs) in [
            (&mut self.files, other.files),
            (&mut self.failed, other.failed),
            (&mut self.digests, other.digests),
            (&mut self.not_logs, other.not_logs),
            (&mut self.records, other.records),
            (&mut self.skipped, other.skipped),
            (&mut self.oversized, other.oversized),
            (&mut self.tls_unparsed, other.tls_unparsed),
            (&mut self.deep_subtrees, other.deep_subtrees),
            (&mut self.bytes, other.bytes),
            (&mut self.input_bytes, other.input_bytes),
            (&mut self.ingest_errors, other.ingest_errors),
            (&mut self.late, other.late),
            (&mut self.held, other.held),
            (&mut self.paged, other.paged),
            (&mut self.evicted, other.evicted),
            (&mut self.uncounted, other.uncounted),
            (&mut self.ungrouped, other.ungrouped),
            (&mut self.ahead, other.ahead),
            (&mut self.state_calls, other.state_calls),
        ] {
            *mine += theirs;
        }
        if self.not_log.is_none() {
            self.not_log.clone_from(&other.not_log);
        }
        if self.tls_unparsed_file.is_none() {
            self.tls_unparsed_file.clone_from(&other.tls_unparsed_file);
        }
        for (k, n) in &other.alerts {
            *self.alerts.entry(k.clone()).or_default() += n;
        }
        self.worst = self.worst.max(other.worst);
        self.suppressed.add(&other.suppressed);
    }

    /// Counts what a scan read: records, bytes, what was skipped.
    pub fn scanned(&mut self, report: &ScanReport) {
        self.records += report.records;
        // A trigger event's records are said once, as the file's error.
        self.skipped += report.skipped.saturating_sub(report.trigger_records);
        self.oversized += report.oversized;
        self.tls_unparsed += report.tls_unparsed;
        self.deep_subtrees += report.deep_subtrees;
        self.bytes += report.bytes;
        self.input_bytes += report.input_bytes;
        if report.contents == Contents::Digest {
            self.digests += 1;
        }
    }

    /// Counts one published alert.
    pub fn published(&mut self, a: &Alert) {
        self.worst = self.worst.max(Some(a.severity));
        *self
            .alerts
            .entry((a.detector.clone(), a.severity))
            .or_default() += 1;
    }

    /// Alerts published, in all.
    pub fn alerts_total(&self) -> u64 {
        self.alerts.values().sum()
    }

    /// Alerts published by detector, whatever their severity.
    pub fn alerts_by_detector(&self) -> BTreeMap<&str, u64> {
        let mut by = BTreeMap::new();
        for ((d, _), n) in &self.alerts {
            *by.entry(d.as_str()).or_default() += n;
        }
        by
    }

    /// Alerts published by severity, the worst first.
    pub fn alerts_by_severity(&self) -> Vec<(Severity, u64)> {
        let mut by: BTreeMap<Severity, u64> = BTreeMap::new();
        for ((_, s), n) in &self.alerts {
            *by.entry(*s).or_default() += n;
        }
        by.into_iter().rev().collect()
    }
}
