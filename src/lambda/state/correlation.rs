//! The correlation engine over the state table: [`Snapshot`] as its [`Store`], and one
//! delivery's (or the scheduled check's) run: load, count, decide, write back. When another
//! invocation wrote first, the run starts over from a fresh snapshot: counting twice is
//! impossible (event ids), deciding a window twice too (versions).

use super::groups::{Loaded, Scope, Snapshot};
use super::outbox::Held;
use super::table::{Table, TableError};
use super::Contention;
use crate::alert::Alert;
use crate::correlate::store::{Bucket, GroupKey, GroupState};
use crate::correlate::{Correlations, Engine, Observed, Store, StoreError};
use std::collections::BTreeSet;
use std::sync::Arc;

impl Store for Snapshot {
    fn add(
        &mut self,
        key: &GroupKey,
        bucket: i64,
        _delivery: &str,
        observed: Bucket,
    ) -> Result<u64, StoreError> {
        let g = self.groups.entry(key.clone()).or_insert_with(|| Loaded {
            state: GroupState {
                decided: i64::MIN,
                ..GroupState::default()
            },
            ..Loaded::default()
        });
        g.forgotten = false;
        let b = g.state.buckets.entry(bucket).or_default();
        let new = b.merge(&observed);
        if new > 0 {
            // The group row is written with every change of its minutes: its version is what
            // two invocations writing the same group meet on (one that decided and deletes
            // minutes must not miss events another just added to them).
            self.changed.insert(key.clone());
            self.written.insert((key.clone(), bucket));
        }
        Ok(new)
    }

    fn group(&mut self, key: &GroupKey) -> Result<Option<GroupState>, StoreError> {
        Ok(self
            .groups
            .get(key)
            .filter(|g| !g.forgotten)
            .map(|g| g.state.clone()))
    }

    fn groups(&mut self) -> Result<Vec<GroupKey>, StoreError> {
        Ok(self
            .groups
            .iter()
            .filter(|(_, g)| !g.forgotten)
            .map(|(k, _)| k.clone())
            .collect())
    }

    fn decide(&mut self, key: &GroupKey, until: i64) -> Result<(), StoreError> {
        if let Some(g) = self.groups.get_mut(key) {
            g.state.decided = g.state.decided.max(until);
            g.state.buckets = g.state.buckets.split_off(&until);
            let gone: Vec<i64> = g.minutes.keys().filter(|&&s| s < until).copied().collect();
            self.decided.entry(key.clone()).or_default().extend(gone);
            self.changed.insert(key.clone());
        }
        Ok(())
    }

    fn forget(&mut self, key: &GroupKey) -> Result<(), StoreError> {
        if let Some(g) = self.groups.get_mut(key) {
            g.forgotten = true;
            self.changed.insert(key.clone());
        }
        Ok(())
    }

    fn watermark(&mut self) -> Result<i64, StoreError> {
        Ok(self.now)
    }

    fn set_watermark(&mut self, _at: i64) -> Result<(), StoreError> {
        Ok(())
    }

    fn evicted(&self) -> u64 {
        self.evicted
    }

    fn raised(&mut self, key: &GroupKey, alert: &Alert) {
        self.raised
            .entry(key.clone())
            .or_default()
            .push(alert.clone());
    }
}

/// What correlating one delivery (or the scheduled check) gave.
#[derive(Debug, Default)]
pub struct Correlated {
    /// The correlation alerts decided.
    pub alerts: Vec<Alert>,
    /// Their outbox rows, held by this invocation.
    pub held: Vec<Held>,
    /// Observations too late for their windows.
    pub late: u64,
    /// Groups evicted to respect the cap.
    pub evicted: u64,
    /// Observations dated too far ahead of the clock.
    pub ahead: u64,
}

/// Counts what one delivery `observed` (nothing, for the scheduled check) and decides the windows
/// due at `now` of the groups of `scope` (the clock is the watermark: a record older than its
/// window's end plus `lateness` is late).
pub async fn correlate<T: Table>(
    table: &T,
    set: &Arc<Correlations>,
    lateness: i64,
    (delivery, observed): (&str, &Observed),
    scope: Option<(usize, char)>,
    now: i64,
    budget: Contention,
) -> Result<Correlated, TableError> {
    let touched: BTreeSet<&GroupKey> = observed.keys().collect();
    let scope = match scope {
        Some((cap, shard)) => Scope::Due { cap, shard },
        None => Scope::Touched(&touched),
    };
    let internal = |e: StoreError| TableError {
        table: table.name().to_owned(),
        message: e.to_string(),
    };
    let mut out = Correlated::default();
    let mut tries = budget.tries();
    while tries.next().await {
        let snapshot = Snapshot::load(table, set, lateness, scope, now).await?;
        let mut engine = Engine::new(Arc::clone(set), snapshot, lateness);
        engine.clock = Some(now);
        engine
            .observe(delivery, observed.clone())
            .map_err(internal)?;
        // The alerts are the snapshot's, by group: only those of the groups written count.
        engine.close(now).map_err(internal)?;
        (out.late, out.evicted, out.ahead) = (engine.late, engine.store.evicted, engine.ahead);
        let written = engine.store.commit(table).await?;
        out.alerts.extend(written.alerts);
        out.held.extend(written.held);
        if written.complete {
            return Ok(out);
        }
        tracing::debug!(
            delivery,
            "state table: another invocation wrote some groups first, reloading them"
        );
    }
    Err(TableError {
        table: table.name().to_owned(),
        message: format!(
            "other invocations kept writing the same groups ({} tries)",
            tries.made()
        ),
    })
}
