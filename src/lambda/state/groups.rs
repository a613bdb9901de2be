//! The correlation engine's [`Store`] over the state table, one delivery at a time.
//!
//! Rows: partition `corr` holds one row per open group (its key, where its decided windows
//! end, its earliest minute); partition `corr#<group hash>` one row per minute of the group
//! (a [`Bucket`], event-id hashes included, so counting stays idempotent).
//!
//! A delivery loads the group rows (one query), the minutes of the groups it touches or whose
//! earliest window is due (one query each), runs the engine on that snapshot, then writes back
//! each minute and group row it changed, conditioned on the versions it read. When another
//! invocation wrote first, the delivery starts over from a fresh snapshot: counting twice is
//! impossible (event ids), deciding a window twice too (versions).

use super::table::{Row, Table, TableError};
use crate::alert::Alert;
use crate::correlate::rule::BUCKET;
use crate::correlate::store::{Bucket, Event, GroupKey, GroupState};
use crate::correlate::{Correlations, Engine, Observation, Store, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The partition of group rows.
const GROUPS: &str = "corr";
/// Rows outlive the windows they serve by this much, then the table's TTL removes them.
const KEEP: i64 = 86_400;
/// Fresh snapshots tried when other invocations keep writing first.
const ATTEMPTS: usize = 6;

/// A group row's body.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct GroupRow {
    key: GroupKey,
    decided: i64,
    /// The earliest minute with events, if any.
    next: Option<i64>,
    /// Decided to its end: kept only to know that older records are late.
    #[serde(default)]
    forgotten: bool,
    /// The latest minute with events, if any (for eviction: the least recently active go).
    #[serde(default)]
    last: Option<i64>,
}

/// One group as loaded, with the versions of its rows.
#[derive(Debug, Default)]
struct Loaded {
    state: GroupState,
    ver: u64,
    minutes: BTreeMap<i64, u64>,
    forgotten: bool,
}

/// What one delivery sees of the table, and what it changed.
#[derive(Debug)]
pub struct Snapshot {
    groups: BTreeMap<GroupKey, Loaded>,
    now: i64,
    /// (span + lateness) per correlation, for expiries.
    keep: BTreeMap<String, i64>,
    written: BTreeSet<(GroupKey, i64)>,
    changed: BTreeSet<GroupKey>,
    dropped: Vec<(String, String)>,
    /// Groups evicted to respect the cap.
    pub evicted: u64,
}

fn hash(key: &GroupKey) -> String {
    let text = serde_json::to_string(key).unwrap_or_default();
    let d = Sha256::digest(text.as_bytes());
    d[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn minutes_pk(key: &GroupKey) -> String {
    format!("{GROUPS}#{}", hash(key))
}

/// Which groups a snapshot holds.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// A delivery's: the groups its observations touch (one read each).
    Touched(&'a BTreeSet<&'a GroupKey>),
    /// The scheduled check's: every group with a window due, after evicting the least recently
    /// active groups beyond `cap`.
    Due {
        /// Open groups kept at most.
        cap: usize,
    },
}

impl Snapshot {
    /// Loads the groups of `scope` at `now`.
    pub async fn load<T: Table>(
        table: &T,
        set: &Correlations,
        lateness: i64,
        scope: Scope<'_>,
        now: i64,
    ) -> Result<Snapshot, TableError> {
        let keep: BTreeMap<String, i64> = set
            .rules()
            .iter()
            .map(|l| (l.id.clone(), l.rule.timespan + lateness))
            .collect();
        let rows = match scope {
            Scope::Touched(keys) => {
                let mut rows = Vec::new();
                for k in keys {
                    rows.extend(table.query(GROUPS, Some(&hash(k))).await?);
                }
                rows
            }
            Scope::Due { .. } => table.query(GROUPS, None).await?,
        };
        let mut found: Vec<(Row, GroupRow)> = Vec::new();
        for row in rows {
            match serde_json::from_str::<GroupRow>(&row.body) {
                Ok(g) if keep.contains_key(&g.key.correlation) => found.push((row, g)),
                Ok(_) => {}
                Err(_) => {
                    tracing::warn!(sk = %row.sk, "state table: group row not understood, ignored")
                }
            }
        }
        let mut dropped = Vec::new();
        if let Scope::Due { cap } = scope {
            found.sort_by_key(|(_, g)| g.last.or(g.next).unwrap_or(g.decided));
            let live = found.iter().filter(|(_, g)| !g.forgotten).count();
            let over = live.saturating_sub(cap.max(1));
            let evict: Vec<usize> = (0..found.len())
                .filter(|&i| !found[i].1.forgotten)
                .take(over)
                .collect();
            for &i in evict.iter().rev() {
                let (row, _) = found.remove(i);
                dropped.push((row.pk, row.sk));
            }
        }
        let evicted = dropped.len() as u64;
        let mut groups = BTreeMap::new();
        for (row, g) in found {
            let wait = keep[&g.key.correlation];
            let due = match g.next {
                Some(n) => n.saturating_add(wait) <= now,
                None => !g.forgotten && g.decided.saturating_add(wait) <= now + BUCKET,
            };
            if matches!(scope, Scope::Due { .. }) && !due {
                continue;
            }
            let mut loaded = Loaded {
                state: GroupState {
                    decided: g.decided,
                    ..GroupState::default()
                },
                ver: row.ver,
                forgotten: g.forgotten,
                ..Loaded::default()
            };
            if g.next.is_some() {
                for m in table.query(&minutes_pk(&g.key), None).await? {
                    let (Ok(start), Ok(bucket)) =
                        (m.sk.parse::<i64>(), serde_json::from_str::<Bucket>(&m.body))
                    else {
                        continue;
                    };
                    loaded.minutes.insert(start, m.ver);
                    if start >= g.decided {
                        loaded.state.buckets.insert(start, bucket);
                    }
                }
            }
            groups.insert(g.key, loaded);
        }
        Ok(Snapshot {
            groups,
            now,
            keep,
            written: BTreeSet::new(),
            changed: BTreeSet::new(),
            dropped,
            evicted,
        })
    }

    /// Writes back what changed; `Ok(false)` when another invocation wrote first.
    pub async fn commit<T: Table>(self, table: &T) -> Result<bool, TableError> {
        for (key, start) in &self.written {
            let (Some(g), Some(wait)) = (self.groups.get(key), self.keep.get(&key.correlation))
            else {
                continue;
            };
            let Some(bucket) = g.state.buckets.get(start) else {
                continue;
            };
            let row = Row {
                pk: minutes_pk(key),
                sk: start.to_string(),
                ver: g.minutes.get(start).copied().unwrap_or(0) + 1,
                body: serde_json::to_string(bucket).unwrap_or_default(),
                expires: start + wait + KEEP,
            };
            if !table.put(&row).await? {
                return Ok(false);
            }
        }
        for key in &self.changed {
            let (Some(g), Some(wait)) = (self.groups.get(key), self.keep.get(&key.correlation))
            else {
                continue;
            };
            let next = g.state.buckets.keys().next().copied();
            let body = GroupRow {
                key: key.clone(),
                decided: g.state.decided,
                next,
                forgotten: g.forgotten,
                last: g.state.buckets.keys().next_back().copied(),
            };
            let until = next.unwrap_or(i64::MIN).max(g.state.decided).max(self.now);
            let row = Row {
                pk: GROUPS.into(),
                sk: hash(key),
                ver: g.ver + 1,
                body: serde_json::to_string(&body).unwrap_or_default(),
                expires: until.saturating_add(wait + KEEP),
            };
            if !table.put(&row).await? {
                return Ok(false);
            }
        }
        for chunk in self.dropped.chunks(25) {
            table.delete(chunk).await?;
        }
        Ok(true)
    }
}

impl Store for Snapshot {
    fn add(
        &mut self,
        key: &GroupKey,
        bucket: i64,
        _delivery: &str,
        events: &[Event],
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
        let new: u64 = events.iter().map(|e| u64::from(b.add(e))).sum();
        if new > 0 {
            if !g.minutes.contains_key(&bucket) || g.ver == 0 {
                self.changed.insert(key.clone());
            }
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
            let pk = minutes_pk(key);
            for start in g.minutes.keys().filter(|&&s| s < until) {
                self.dropped.push((pk.clone(), start.to_string()));
            }
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
}

/// What correlating one delivery (or the scheduled check) gave.
#[derive(Debug, Default)]
pub struct Correlated {
    /// The correlation alerts decided.
    pub alerts: Vec<Alert>,
    /// Observations too late for their windows.
    pub late: u64,
    /// Groups evicted to respect the cap.
    pub evicted: u64,
}

/// Counts one delivery's `observations` (none, for the scheduled check) and decides the windows
/// due at `now` of the groups of `scope` (the clock is the watermark: a record older than its
/// window's end plus `lateness` is late).
pub async fn correlate<T: Table>(
    table: &T,
    set: &Arc<Correlations>,
    lateness: i64,
    (delivery, observations): (&str, &[Observation]),
    scope: Option<usize>,
    now: i64,
) -> Result<Correlated, TableError> {
    let touched: BTreeSet<&GroupKey> = observations.iter().map(|o| &o.key).collect();
    let scope = match scope {
        Some(cap) => Scope::Due { cap },
        None => Scope::Touched(&touched),
    };
    let internal = |e: StoreError| TableError {
        table: table.name().to_owned(),
        message: e.to_string(),
    };
    for _ in 0..ATTEMPTS {
        let snapshot = Snapshot::load(table, set, lateness, scope, now).await?;
        let mut engine = Engine::new(Arc::clone(set), snapshot, lateness);
        engine.observe(delivery, observations).map_err(internal)?;
        let alerts = engine.close(now).map_err(internal)?;
        let (late, evicted) = (engine.late, engine.store.evicted);
        if engine.store.commit(table).await? {
            return Ok(Correlated {
                alerts,
                late,
                evicted,
            });
        }
        tracing::debug!(
            delivery,
            "state table: another invocation wrote first, reloading"
        );
    }
    Err(TableError {
        table: table.name().to_owned(),
        message: format!("other invocations kept writing the same groups ({ATTEMPTS} tries)"),
    })
}
