//! One object and the state across deliveries (`STATE_TABLE`): its observations counted, its
//! trail's delivery recorded, the alerts that raises added, dedup windows applied.

use super::error::ObjectError;
use super::metrics::Tally;
use super::object::{Job, Worker};
use super::publish::AlertSink;
use super::s3::ObjectSource;
use super::state::{dedup, unix_now, Table};
use super::triggers::ObjectRef;
use crate::alert::Alert;
use crate::delivery::Analysis;
use crate::redact::{self, Redacted};

impl<S: ObjectSource, K: AlertSink> Worker<'_, S, K> {
    /// With a state table: counts the object's observations, records its trail's delivery,
    /// adds the alerts that raises (correlation, `trail-resumed`) to `alerts`, and holds back
    /// what dedup windows hold; `tally` gets the state's counts (the caller counts the alerts).
    /// `Err`: the table failed, the object is to be retried.
    pub(super) async fn remember(
        &self,
        object: &ObjectRef,
        analysis: &Analysis,
        alerts: &mut Vec<Redacted<Alert>>,
        tally: &mut Tally,
        job: Job,
    ) -> Result<(), ObjectError> {
        let Some(state) = self.state.filter(|_| !job.backfill) else {
            return Ok(());
        };
        let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
        let retry = |e: super::state::TableError, what: &str| {
            tracing::error!(bucket, key, error = %e, "{what} not updated, left for a later try");
            ObjectError::retryable(object, e.to_string())
        };
        let calls_before = state.table.calls();
        let set = &self.pipeline.catalog.correlations;
        let newest = analysis.report.newest_event.as_str();
        let observed = &analysis.observations;
        let d = state
            .delivered(set, (bucket, key), newest, observed, unix_now())
            .await
            .map_err(|e| retry(e, "correlation state"))?;
        alerts.extend(
            d.alerts
                .into_iter()
                .map(redact::alert)
                .filter(|a| job.publishes(a)),
        );
        tally.late = d.late;
        if d.late > 0 {
            tracing::warn!(
                bucket,
                key,
                late = d.late,
                "base-rule matches too late for their correlation windows"
            );
        }
        let windows = self.pipeline.catalog.dedup_windows();
        if alerts
            .iter()
            .any(|a| windows.iter().any(|(d, _)| *d == a.detector))
        {
            let (published, held) = dedup::admit(&state.table, &windows, alerts, unix_now())
                .await
                .map_err(|e| retry(e, "dedup windows"))?;
            *alerts = published;
            tally.held = held;
            tracing::info!(bucket, key, held, "alerts held back by dedup windows");
        }
        tally.state_calls = state.table.calls() - calls_before;
        Ok(())
    }
}
