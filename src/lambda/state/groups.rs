//! Correlation groups in the state table: a [`Snapshot`] of the groups one delivery (or the
//! scheduled check) needs, loaded and written back. `correlation.rs` runs the engine on it.
//!
//! Rows: partition `corr` holds one row per open group (its key, where its decided windows
//! end, its earliest and latest minutes); partition `corr#<group hash>` one row per minute of
//! the group (a [`Bucket`], event-id hashes included, so counting stays idempotent).
//!
//! A delivery reads the rows of the groups it touches (the scheduled check: every group row,
//! then the minutes of the groups due), and writes back each minute and group row it changed,
//! conditioned on the versions it read.

use super::table::{Row, Table, TableError};
use crate::alert::id::alert_id;
use crate::correlate::rule::BUCKET;
use crate::correlate::store::{Bucket, GroupKey, GroupState};
use crate::correlate::Correlations;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The partition of group rows.
const GROUPS: &str = "corr";
/// Rows outlive the windows they serve by this much, then the table's TTL removes them.
const KEEP: i64 = 86_400;

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
pub(super) struct Loaded {
    pub(super) state: GroupState,
    pub(super) ver: u64,
    pub(super) minutes: BTreeMap<i64, u64>,
    pub(super) forgotten: bool,
}

/// What one delivery sees of the table, and what it changed.
#[derive(Debug)]
pub struct Snapshot {
    pub(super) groups: BTreeMap<GroupKey, Loaded>,
    pub(super) now: i64,
    /// (span + lateness) per correlation, for expiries.
    keep: BTreeMap<String, i64>,
    pub(super) written: BTreeSet<(GroupKey, i64)>,
    pub(super) changed: BTreeSet<GroupKey>,
    pub(super) dropped: Vec<(String, String)>,
    /// Groups evicted to respect the cap.
    pub evicted: u64,
}

/// A group's row key: the hash of its correlation and group values (any length, any text).
fn hash(key: &GroupKey) -> String {
    let group: Vec<&str> = std::iter::once(key.correlation.as_str())
        .chain(key.group.iter().map(String::as_str))
        .collect();
    alert_id(&group)
}

pub(super) fn minutes_pk(key: &GroupKey) -> String {
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
                body: fit(bucket),
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

/// A minute row's body is kept under this (DynamoDB's items are at most 400 KB).
const MAX_BODY: usize = 300_000;

/// `bucket` as JSON within [`MAX_BODY`]: long value lists (value_count values, event names,
/// then event-id hashes) are halved until it fits. Counts are never cut.
pub(super) fn fit(bucket: &Bucket) -> String {
    let mut body = serde_json::to_string(bucket).unwrap_or_default();
    let mut b = bucket.clone();
    while body.len() > MAX_BODY {
        let halve = |n: usize| n / 2;
        if b.values.len() + b.names.len() > 1 {
            b.values = b
                .values
                .iter()
                .take(halve(b.values.len()))
                .cloned()
                .collect();
            b.names = b
                .names
                .iter()
                .take(halve(b.names.len()).max(1))
                .cloned()
                .collect();
        } else if b.seen.len() > 1 {
            b.seen = b.seen.iter().take(halve(b.seen.len())).copied().collect();
        } else {
            break;
        }
        body = serde_json::to_string(&b).unwrap_or_default();
    }
    body
}
