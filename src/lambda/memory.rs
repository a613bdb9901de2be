//! The Lambda's [`Memory`] for the stage after the pipeline: the state table
//! (`STATE_TABLE`), or nothing without one (and for backfills). Windows close by the clock.

use super::retry::Contention;
use super::state::outbox::Held;
use super::state::{dedup, unix_now, AnyTable, State, TableError};
use crate::alert::Alert;
use crate::correlate::Observed;
use crate::delivery::Pipeline;
use crate::redact::Redacted;
use crate::stage::{Admitted, Delivery, Memory, Raised, When};

/// The state table seen by one object or one scheduled check.
pub(super) struct TableMemory<'a> {
    state: Option<&'a State<AnyTable>>,
    pipeline: &'a Pipeline,
    budget: Contention,
    /// The outbox rows of the alerts decided, held by this invocation until they are
    /// published.
    pub(super) held: Vec<Held>,
    /// What of the scheduled check failed (the rest ran).
    pub(super) faults: Vec<TableError>,
}

impl<'a> TableMemory<'a> {
    /// The memory over `state` (none: nothing kept) for the rules of `pipeline`, its
    /// optimistic loops within `budget`.
    pub(super) fn new(
        state: Option<&'a State<AnyTable>>,
        pipeline: &'a Pipeline,
        budget: Contention,
    ) -> TableMemory<'a> {
        TableMemory {
            state,
            pipeline,
            budget,
            held: Vec::new(),
            faults: Vec::new(),
        }
    }
}

impl Memory for TableMemory<'_> {
    type Error = TableError;

    async fn observe(
        &mut self,
        d: &Delivery<'_>,
        observed: Observed,
    ) -> Result<Raised, TableError> {
        let Some(state) = self.state else {
            return Ok(Raised::default());
        };
        let set = &self.pipeline.catalog.correlations;
        let object = d.object.unwrap_or(("", d.name));
        let now = d.clock.unwrap_or_else(unix_now);
        let got = state
            .delivered(set, object, d.newest_event, &observed, now, self.budget)
            .await?;
        self.held.extend(got.held);
        if let Some(e) = got.fault {
            return Err(e);
        }
        Ok(Raised {
            alerts: got.alerts,
            late: got.late,
            evicted: 0,
            ahead: got.ahead,
        })
    }

    async fn due(&mut self, clock: Option<i64>) -> Result<Raised, TableError> {
        let Some(state) = self.state else {
            return Ok(Raised::default());
        };
        let set = &self.pipeline.catalog.correlations;
        let now = clock.unwrap_or_else(unix_now);
        let checked = state.scheduled(set, now, self.budget).await?;
        self.held.extend(checked.held);
        self.faults.extend(checked.faults);
        Ok(Raised {
            alerts: checked.alerts,
            late: 0,
            evicted: checked.evicted,
            ahead: 0,
        })
    }

    async fn admit(
        &mut self,
        alerts: Vec<Redacted<Alert>>,
        at: When,
    ) -> Result<Admitted, TableError> {
        let windows = self.pipeline.catalog.dedup_windows();
        let (clock, wanted) = match at {
            // A delivery reads the windows only when one of its alerts has one.
            When::Delivery(clock) => {
                let any = alerts
                    .iter()
                    .any(|a| windows.iter().any(|(d, _)| *d == a.detector));
                (clock, any)
            }
            When::Due(clock) => (clock, !windows.is_empty()),
        };
        let Some(state) = self.state.filter(|_| wanted) else {
            return Ok(Admitted { alerts, held: 0 });
        };
        let now = clock.unwrap_or_else(unix_now);
        let pending: Vec<&str> = self
            .held
            .iter()
            .map(|h| h.pending.alert.id.as_str())
            .collect();
        let what = (&alerts[..], &pending[..]);
        let every = matches!(at, When::Due(_));
        let admitted =
            dedup::admit(&state.table, &windows, what, (now, every), self.budget).await?;
        self.held.extend(admitted.pending);
        Ok(Admitted {
            alerts: admitted.alerts,
            held: admitted.held_back,
        })
    }
}
