//! One delivery in, final alerts out: the pipeline every front end calls.
//!
//! [`Pipeline::analyse`] scans a delivery with the configured detectors, merges the findings
//! into alerts, and masks them: replay and the Lambda both call it, and what leaves it is
//! already [`Redacted`], so a sink (replay's formats, SNS, logs) only formats. Policy that
//! depends on the sink (minimum severity, trimming to a transport limit) stays with the sink.

use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::alert::{Alert, AlertBuilder, Source};
use crate::correlate::Observed;
use crate::detectors::Settings;
use crate::redact::{self, Redacted};
use crate::rules::catalog::Catalog;
use crate::rules::dates;
use crate::rules::filtered::{self, FilterTally};
use crate::scan::{scan_with, Limits, ScanReport};
use std::io::Read;

/// A delivery's file name or key: `*.json.gz` (as CloudTrail writes them) or `*.json`.
pub fn is_delivery_name(name: &str) -> bool {
    name.ends_with(".json.gz") || name.ends_with(".json")
}

/// What a delivery is analysed with: built once per run (replay) or per init (Lambda).
pub struct Pipeline {
    /// The detectors and their descriptors.
    pub catalog: Catalog,
    /// Settings the native detectors read.
    pub settings: Settings,
    /// Detector ids turned off.
    pub disabled: Vec<String>,
    /// What one delivery may cost (record size, uncompressed size, expansion).
    pub limits: Limits,
}

/// The outcome of one delivery: how the scan went, and its alerts and findings, masked.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Records read, skipped, bytes, and the fault that ended the scan early, if any.
    pub report: ScanReport,
    /// The merged alerts, in order of first appearance.
    pub alerts: Vec<Redacted<Alert>>,
    /// The findings, when the caller asked for them.
    pub findings: Vec<Redacted<Finding<'static>>>,
    /// Findings the filters dropped or lowered, by (detector, filter).
    pub suppressed: FilterTally,
    /// What the findings of base rules give the correlation rules, aggregated per group and
    /// minute, for the caller's correlation engine (which keeps state across deliveries).
    pub observed: Observed,
}

impl Pipeline {
    /// Scans `input` (one delivery, gzip or plain JSON) from `source` into masked alerts, and
    /// keeps the findings at or above `keep_findings` (replay `--format findings`).
    /// Never fails as a whole: a fault is in the report, with what could be read analysed.
    pub fn analyse<R: Read + Send>(
        &self,
        input: R,
        source: Source,
        keep_findings: Option<Severity>,
    ) -> Analysis {
        let detectors = self.catalog.detectors(&self.settings, &self.disabled);
        let (mut detectors, suppressed) = filtered::wrap(detectors, &self.catalog, &dates::today());
        let mut builder = AlertBuilder::new(source);
        let mut findings = Vec::new();
        let mut observed = Observed::default();
        let correlations = &*self.catalog.correlations;
        // A correlation turned off (`--disable`, DISABLED_DETECTORS) counts nothing.
        let on = |id: &str| !self.disabled.iter().any(|d| d == id);
        let report = scan_with(input, self.limits, &mut detectors, &mut |f| {
            if keep_findings.is_some_and(|min| f.severity >= min) {
                findings.push(redact::finding(f));
            }
            if !correlations.is_empty() {
                correlations.observe(f, &on, &mut observed);
                if correlations.is_quiet(&f.detector) {
                    return;
                }
            }
            builder.add(f);
        });
        let alerts = builder
            .finish(&|id| self.catalog.meta(id))
            .into_iter()
            .map(|mut a| {
                if let Some(known) = self.catalog.accounts.get(&a.account) {
                    a.account_name.clone_from(&known.name);
                    a.environment.clone_from(&known.environment);
                }
                redact::alert(a)
            })
            .collect();
        let suppressed = std::mem::take(&mut *suppressed.lock().unwrap_or_else(|p| p.into_inner()));
        Analysis {
            report,
            alerts,
            findings,
            suppressed,
            observed,
        }
    }
}
