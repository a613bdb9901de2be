//! State across deliveries for the Lambda: correlation windows and the trails' last
//! deliveries, kept in one DynamoDB table (`STATE_TABLE`).
//!
//! - [`table`]: the table behind the small [`Table`] trait (versioned rows), with an in-memory
//!   table for tests; [`dynamo`] is DynamoDB's.
//! - [`groups`] and [`correlation`]: the correlation engine's store over the table: each
//!   delivery loads the groups it touches (the scheduled check, those whose windows are due),
//!   counts, decides, and writes back one row per group and minute it changed, conditioned on
//!   the versions it read.
//! - [`silence`]: the trails' heartbeat (digest files, else log files): `trail-silent`,
//!   `trail-resumed`, `trail-unverifiable`.
//! - [`files`]: the log files of each place and hour (analysed, and listed by a digest).
//! - [`dedup`]: deduplication windows (`dedup: 60m`) across deliveries.
//! - Settings (`STATE_TABLE`, `SILENCE_AFTER`, `UNVERIFIED_SILENCE_AFTER`, `ALLOWED_LATENESS`) are read with the rest of
//!   the configuration ([`StateSettings`]).
//!
//! Every loop that rereads and writes again when another invocation wrote first runs within a
//! [`Contention`] budget (jittered backoff, the invocation's time).

pub mod correlation;
pub mod dedup;
pub mod dynamo;
pub mod files;
pub mod groups;
pub mod outbox;
pub mod silence;
pub mod table;
#[cfg(test)]
mod tests;

pub use crate::lambda::config::StateSettings;
pub use table::{MemoryTable, Row, Sets, Table, TableError};

use crate::alert::Alert;
use crate::correlate::{Correlations, Observed};
pub use crate::lambda::retry::Contention;
use outbox::Held;
use std::sync::Arc;

/// The function's table: DynamoDB, or (in tests) one in memory.
#[derive(Debug, Clone)]
pub enum AnyTable {
    /// DynamoDB.
    Dynamo(dynamo::DynamoTable),
    /// In memory, shared with the test that reads it.
    Memory(Arc<MemoryTable>),
}

impl Table for AnyTable {
    async fn query(&self, pk: &str, sk: Option<&str>) -> Result<Vec<Row>, TableError> {
        match self {
            AnyTable::Dynamo(t) => t.query(pk, sk).await,
            AnyTable::Memory(t) => t.query(pk, sk).await,
        }
    }

    async fn put(&self, row: &Row) -> Result<bool, TableError> {
        match self {
            AnyTable::Dynamo(t) => t.put(row).await,
            AnyTable::Memory(t) => t.put(row).await,
        }
    }

    async fn write(&self, puts: &[Row], deletes: &[(String, String)]) -> Result<bool, TableError> {
        match self {
            AnyTable::Dynamo(t) => t.write(puts, deletes).await,
            AnyTable::Memory(t) => t.write(puts, deletes).await,
        }
    }

    async fn delete(&self, keys: &[(String, String)]) -> Result<(), TableError> {
        match self {
            AnyTable::Dynamo(t) => t.delete(keys).await,
            AnyTable::Memory(t) => t.delete(keys).await,
        }
    }

    async fn add(
        &self,
        key: (&str, &str),
        set: &str,
        values: &[String],
        expires: i64,
    ) -> Result<Sets, TableError> {
        match self {
            AnyTable::Dynamo(t) => t.add(key, set, values, expires).await,
            AnyTable::Memory(t) => t.add(key, set, values, expires).await,
        }
    }

    async fn sets(&self, key: (&str, &str)) -> Result<Sets, TableError> {
        match self {
            AnyTable::Dynamo(t) => t.sets(key).await,
            AnyTable::Memory(t) => t.sets(key).await,
        }
    }

    fn calls(&self) -> u64 {
        match self {
            AnyTable::Dynamo(t) => t.calls(),
            AnyTable::Memory(t) => t.calls(),
        }
    }

    fn name(&self) -> &str {
        match self {
            AnyTable::Dynamo(t) => t.name(),
            AnyTable::Memory(t) => t.name(),
        }
    }
}

/// The seconds since the epoch now.
pub fn unix_now() -> i64 {
    (crate::alert::time::now_millis() / 1000) as i64
}

/// The state of one function: its table and settings.
pub struct State<T> {
    /// The table.
    pub table: T,
    /// How long windows stay open, and when a trail is silent.
    pub settings: StateSettings,
}

/// What the state gave one delivery.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Correlation alerts decided, and `trail-resumed` if the trail was silent.
    pub alerts: Vec<Alert>,
    /// Observations too late for their windows.
    pub late: u64,
    /// The outbox rows of the alerts, held by this invocation.
    pub held: Vec<Held>,
    /// Observations dated too far ahead of the clock, not counted.
    pub ahead: u64,
    /// What failed after the alerts were decided (the delivery is to be tried again).
    pub fault: Option<TableError>,
}

/// What the scheduled check gave.
#[derive(Debug, Default)]
pub struct Checked {
    /// Correlation alerts of the windows due, and `trail-silent` for each silent trail.
    pub alerts: Vec<Alert>,
    /// Their outbox rows, held by this invocation.
    pub held: Vec<Held>,
    /// Correlation groups evicted to respect `MAX_GROUPS`.
    pub evicted: u64,
    /// What failed (correlation, or the silence check): each runs whatever the other did.
    pub faults: Vec<TableError>,
}

impl<T: Table> State<T> {
    /// Counts one delivery's observations, decides the windows of the groups they touch that
    /// are due at `now`, and records that the trail of `bucket`/`key` delivered (its newest
    /// `eventTime`: `newest`).
    pub async fn delivered(
        &self,
        set: &Arc<Correlations>,
        (bucket, key): (&str, &str),
        newest: &str,
        observed: &Observed,
        now: i64,
        budget: Contention,
    ) -> Result<Delivered, TableError> {
        let mut out = Delivered::default();
        if !observed.is_empty() {
            let lateness = self.settings.lateness;
            let delivery = format!("s3://{bucket}/{key}");
            let what = (delivery.as_str(), observed);
            let c =
                correlation::correlate(&self.table, set, lateness, what, None, now, budget).await?;
            out.alerts = c.alerts;
            out.held = c.held;
            out.late = c.late;
            out.ahead = c.ahead;
        }
        // Alerts already decided are in the outbox: if this fails, they are given back with
        // the fault, for the invocation to release them to the next one.
        let trail = (bucket, key, newest);
        match silence::delivered(&self.table, trail, now, budget).await {
            Ok(Some((resumed, held))) => {
                out.alerts.push(resumed);
                out.held.push(held);
            }
            Ok(None) => {}
            Err(e) => out.fault = Some(e),
        }
        Ok(out)
    }

    /// The scheduled check at `now`: every correlation window due, silent trails.
    pub async fn scheduled(
        &self,
        set: &Arc<Correlations>,
        now: i64,
        budget: Contention,
    ) -> Result<Checked, TableError> {
        let mut out = Checked::default();
        // Shard by shard, each whatever the others did.
        let shards = if set.is_empty() { "" } else { groups::SHARDS };
        // The cap on open groups is the table's: the group rows (small) of every shard are
        // read for it, then each shard's due groups with their minutes.
        if !set.is_empty() {
            match groups::evict(&self.table, self.settings.max_groups).await {
                Ok(n) => out.evicted = n,
                Err(e) => out.faults.push(e),
            }
        }
        let cap = usize::MAX;
        for shard in shards.chars() {
            let lateness = self.settings.lateness;
            let none = Observed::default();
            let what = ("", &none);
            let scope = Some((cap, shard));
            match correlation::correlate(&self.table, set, lateness, what, scope, now, budget).await
            {
                Ok(c) => {
                    out.alerts.extend(c.alerts);
                    out.held.extend(c.held);
                    out.evicted += c.evicted;
                }
                Err(e) => out.faults.push(e),
            }
        }
        let overdue = silence::Overdue {
            digests: self.settings.silence_after,
            logs: self.settings.unverified_silence_after,
        };
        match silence::check(&self.table, now, overdue).await {
            Ok(silent) => {
                for (a, h) in silent {
                    out.alerts.push(a);
                    out.held.push(h);
                }
            }
            Err(e) => out.faults.push(e),
        }
        Ok(out)
    }
}
