//! The stage after the pipeline: what of a delivery's alerts is published (or printed) is
//! decided here, once, for both front ends, and counted here, once.
//!
//! [`Pipeline::analyse`](crate::Pipeline::analyse) gives a delivery's alerts, masked, with the
//! filters already applied to each finding. Then, in this order:
//!
//! 1. **Correlation**: the delivery's observations are counted by the front end's [`Memory`]
//!    (replay's run in memory, the Lambda's DynamoDB table), which gives back the alerts of the
//!    windows that closed (and, in the Lambda, `trail-resumed`).
//! 2. **Minimum severity**: alerts below it go no further. Operational alerts
//!    ([`OPERATIONAL`]: an unreadable file, a rule set that does not load, a silent trail) pass
//!    whatever it is. The worst severity is noted before (replay's `--fail-on` reads it).
//! 3. **Dedup windows**: the [`Memory`] holds back repeats of an alert within its detector's
//!    `dedup:` window, and gives the summaries of the windows that closed.
//! 4. **Paged**: past [`PAGE`] alerts of one detector, the rest are folded into one alert
//!    that says how many, with their events (a storm is a page, not thousands of messages).
//! 5. **Counted**: what is published, by detector and severity, in [`Counts`].
//!
//! The minimum severity comes before the dedup windows: an alert that is not shown must not
//! open a window that would hold back one that is.
//!
//! [`Stage::delivery`] runs this for one delivery, [`Stage::due`] for the windows that are due
//! without one (the end of a replay, the Lambda's scheduled check).

mod counts;
mod memory;
mod page;

pub use counts::Counts;
pub use memory::{block_on, Admitted, Delivery, Memory, NoMemory, Raised, When};
pub use page::PAGE;

use crate::alert::severity::Severity;
use crate::alert::Alert;
use crate::delivery::Analysis;
use crate::redact::{self, Redacted};

/// `ingest-error`: a log file (or queue message) that could not be read to its end.
pub const INGEST_ERROR: &str = "ingest-error";
/// `config-error`: a rule set from `DETECTORS_URI` that does not load.
pub const CONFIG_ERROR: &str = "config-error";
/// `trail-silent`: a trail that stopped delivering.
pub const TRAIL_SILENT: &str = "trail-silent";
/// `trail-resumed`: a silent trail delivering again.
pub const TRAIL_RESUMED: &str = "trail-resumed";
/// `trail-unverifiable`: a trail that delivers log files but no digest files.
pub const TRAIL_UNVERIFIABLE: &str = "trail-unverifiable";
/// `log-file-missing`: a log file its digest lists is not in the bucket.
pub const LOG_FILE_MISSING: &str = "log-file-missing";
/// `log-file-modified`: a log file whose SHA-256 is not its digest's.
pub const LOG_FILE_MODIFIED: &str = "log-file-modified";
/// `log-file-unlisted`: a log file in a trail's place that no digest lists.
pub const LOG_FILE_UNLISTED: &str = "log-file-unlisted";
/// `digest-invalid`: a digest whose signature or chain is broken.
pub const DIGEST_INVALID: &str = "digest-invalid";
/// Operational alerts: about trailwatch and the trails, not about a call; published whatever
/// the minimum severity.
pub const OPERATIONAL: [&str; 9] = [
    INGEST_ERROR,
    CONFIG_ERROR,
    TRAIL_SILENT,
    TRAIL_RESUMED,
    TRAIL_UNVERIFIABLE,
    LOG_FILE_MISSING,
    LOG_FILE_MODIFIED,
    LOG_FILE_UNLISTED,
    DIGEST_INVALID,
];

/// The stage's settings: one per run (replay) or per invocation (the Lambda, where a Batch
/// Operations job may set its own minimum severity).
#[derive(Debug, Clone, Copy)]
pub struct Stage {
    /// Alerts below are not published (operational alerts always are).
    pub min_severity: Severity,
}

impl Stage {
    /// Whether `a` passes the minimum severity.
    pub fn publishes(&self, a: &Alert) -> bool {
        a.severity >= self.min_severity || OPERATIONAL.contains(&a.detector.as_str())
    }

    /// One delivery (its observations taken from `analysis`): its alerts (with any operational alert the front end adds, such as
    /// `ingest-error`) and observations through correlation, the minimum severity and the
    /// dedup windows; returns what is published, counted in `counts` with the scan's report.
    /// `Err`: the memory failed; nothing is published and nothing is counted.
    pub async fn delivery<M: Memory>(
        &self,
        analysis: &mut Analysis,
        extra: Vec<Redacted<Alert>>,
        delivery: Delivery<'_>,
        memory: &mut M,
        counts: &mut Counts,
    ) -> Result<Vec<Redacted<Alert>>, M::Error> {
        let observed = std::mem::take(&mut analysis.observed);
        let (uncounted, unkept, ungrouped) =
            (observed.uncounted, observed.unkept, observed.ungrouped);
        let raised = memory.observe(&delivery, observed).await?;
        let mut alerts: Vec<Redacted<Alert>> = analysis.alerts.clone();
        alerts.extend(raised.alerts.into_iter().map(redact::alert));
        alerts.extend(extra);
        if uncounted + unkept > 0 {
            alerts.push(over_budget(&delivery, uncounted, unkept));
        }
        let mut mine = Counts {
            late: raised.late,
            evicted: raised.evicted,
            ahead: raised.ahead,
            uncounted: uncounted + unkept,
            ungrouped,
            ..Counts::default()
        };
        let at = When::Delivery(delivery.clock);
        let published = self.admit(alerts, at, memory, &mut mine).await?;
        mine.scanned(&analysis.report);
        mine.suppressed.add(&analysis.suppressed);
        counts.add(&mine);
        Ok(published)
    }

    /// The windows due (correlation windows, silent trails, dedup windows) at `clock`
    /// (seconds since the epoch: the Lambda's scheduled check), or by event time at the end
    /// of a replay (`None`), without a delivery: what is published, counted in `counts`.
    pub async fn due<M: Memory>(
        &self,
        clock: Option<i64>,
        memory: &mut M,
        counts: &mut Counts,
    ) -> Result<Vec<Redacted<Alert>>, M::Error> {
        let at = When::Due(clock);
        let raised = memory.due(clock).await?;
        let mut mine = Counts {
            late: raised.late,
            evicted: raised.evicted,
            ..Counts::default()
        };
        let alerts = raised.alerts.into_iter().map(redact::alert).collect();
        let published = self.admit(alerts, at, memory, &mut mine).await?;
        counts.add(&mine);
        Ok(published)
    }

    /// Steps 2 to 5: the minimum severity, the dedup windows, the page, the counts.
    async fn admit<M: Memory>(
        &self,
        alerts: Vec<Redacted<Alert>>,
        at: When,
        memory: &mut M,
        counts: &mut Counts,
    ) -> Result<Vec<Redacted<Alert>>, M::Error> {
        let mut kept = Vec::with_capacity(alerts.len());
        for a in alerts {
            counts.worst = counts.worst.max(Some(a.severity));
            if self.publishes(&a) {
                kept.push(a);
            }
        }
        let admitted = memory.admit(kept, at).await?;
        counts.held += admitted.held;
        let published = page::page(admitted.alerts, counts);
        for a in &published {
            counts.published(a);
        }
        Ok(published)
    }
}

#[cfg(test)]
mod tests;

/// The `ingest-error` of a delivery whose matches of correlation rules did not all fit in
/// its aggregate ([`BUDGET`](crate::correlate::observed::BUDGET)).
fn over_budget(delivery: &Delivery<'_>, uncounted: u64, unkept: u64) -> Redacted<Alert> {
    let source = crate::alert::Source::File {
        file: delivery.name.to_owned(),
    };
    let id = crate::alert::id::alert_id(&[INGEST_ERROR, "correlation budget", delivery.name]);
    let mut a = crate::alert::operational(INGEST_ERROR, id, source);
    a.title = "Correlation memory budget reached".into();
    a.summary = format!(
        "{}: more correlation groups and minutes than one delivery holds (a storm from many \
         principals, or a forged file): {uncounted} matches of correlation rules not counted, \
         {unkept} counted without their ids (a retry may count those twice); the detector \
         alerts are complete",
        delivery.name
    );
    a.count = uncounted + unkept;
    a.evidence.insert(
        "correlation".into(),
        serde_json::json!({"uncounted": uncounted, "unkept": unkept}),
    );
    redact::alert(a)
}
