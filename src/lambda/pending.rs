//! Alerts an earlier invocation decided and could not publish (the outbox of the state
//! table, `state/outbox.rs`): every invocation claims those no invocation holds and publishes
//! them, to the outputs that did not take them yet, before its own work.

use super::handler::Handler;
use super::s3::ObjectSource;
use super::state::outbox::{self, Held};
use super::state::{unix_now, Row, Table};
use crate::alert::Alert;
use crate::stage::{Counts, Stage};
use std::collections::BTreeMap;

/// The partition of the alerts about the function itself already reported (`config-error`).
const REPORTED: &str = "reported";
/// Such an alert is reported again after this long if the fault stays.
const REPORT_AGAIN: i64 = 86_400;

impl<S: ObjectSource> Handler<S> {
    /// Whether this container is the first to report `alert` (an alert about the function's
    /// own configuration, which every warm container meets): `Some` with its outbox row, written
    /// in one transaction with a marker that the others find; `None` when another container
    /// did. Without a state table (or when it fails), every container reports.
    pub(super) async fn first_report(&self, alert: &Alert) -> Option<Vec<Held>> {
        let Some(state) = &self.state else {
            return Some(Vec::new());
        };
        let marker = Row {
            pk: REPORTED.into(),
            sk: alert.id.clone(),
            ver: 1,
            body: "{}".into(),
            expires: unix_now() + REPORT_AGAIN,
        };
        let (pending, held) = outbox::row(alert);
        match state.table.write(&[marker, pending], &[]).await {
            Ok(true) => Some(vec![held]),
            Ok(false) => None,
            Err(e) => {
                tracing::warn!(error = %e, "state table: reporting anyway");
                Some(Vec::new())
            }
        }
    }

    /// Publishes the pending alerts of the outbox (those the minimum severity of `stage`
    /// lets through; the others are settled unpublished), counted in `counts`. Faults are
    /// logged: the alerts stay for the next invocation.
    pub(super) async fn publish_pending(&self, stage: Stage, counts: &mut Counts) {
        let Some(state) = &self.state else {
            return;
        };
        let claimed = match outbox::claim(&state.table, unix_now()).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "outbox not read: its alerts wait for a later invocation");
                return;
            }
        };
        if claimed.is_empty() {
            return;
        }
        let required = self.outputs.required();
        let mut by_sent: BTreeMap<Vec<String>, Vec<Held>> = BTreeMap::new();
        for h in claimed {
            let mut sent = h.pending.sent.clone();
            sent.sort();
            by_sent.entry(sent).or_default().push(h);
        }
        for (sent, held) in by_sent {
            let alerts: Vec<_> = outbox::alerts(&held)
                .into_iter()
                .filter(|a| stage.publishes(a))
                .collect();
            let published = self.outputs.publish_to(&alerts, &sent).await;
            if published.failed.is_empty() {
                for a in &alerts {
                    counts.published(a);
                }
            }
            tracing::info!(
                alerts = alerts.len(),
                outputs = ?published.took,
                "pending alerts of an earlier invocation published"
            );
            if let Err(e) = outbox::settle(&state.table, held, &published.took, &required).await {
                tracing::warn!(error = %e, "outbox not settled: a later invocation publishes its alerts again");
            }
        }
    }
}
