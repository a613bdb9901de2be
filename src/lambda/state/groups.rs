//! Correlation groups in the state table: a [`Snapshot`] of the groups one delivery (or the
//! scheduled check) needs, loaded and written back. `correlation.rs` runs the engine on it.
//!
//! Rows: partitions `corr#g#0` to `corr#g#f` (by the first digit of the group's hash, so no
//! one partition takes every delivery's writes) hold one row per open group (its key, where
//! its decided windows end, its earliest and latest minutes); partition `corr#<group hash>`
//! one row per minute of the group (a [`Bucket`], event-id hashes included, so counting stays
//! idempotent).
//!
//! A delivery reads the rows of the groups it touches, their minutes always (the scheduled
//! check: every group row, shard by shard, then the minutes of the groups due). It writes back
//! group by group, each group in one transaction: its minute rows, its group row, and the
//! outbox rows of the alerts its windows raised ([`super::outbox`]), conditioned on the
//! versions read. A group past one transaction's 100 items writes its minutes first: a reader
//! finds them with or without the group row, so nothing is ever orphaned.

use super::outbox::{self, Held};
use super::table::{Row, Table, TableError, MAX_WRITE};
use crate::alert::id::alert_id;
use crate::alert::Alert;
use crate::correlate::rule::BUCKET;
use crate::correlate::store::{Bucket, GroupKey, GroupState};
use crate::correlate::Correlations;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The partitions of group and minute rows start with this.
const GROUPS: &str = "corr";
/// Shards of group rows (by the first hex digit of the group's hash).
pub const SHARDS: &str = "0123456789abcdef";
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
    /// Group rows evicted.
    pub(super) dropped: Vec<(String, String)>,
    /// Minute rows decided, by group.
    pub(super) decided: BTreeMap<GroupKey, Vec<i64>>,
    /// Alerts raised, by group.
    pub(super) raised: BTreeMap<GroupKey, Vec<Alert>>,
    /// Groups evicted to respect the cap.
    pub evicted: u64,
}

/// A group's row key: the hash of its correlation, account and group values (any length, any
/// text): the same values in two accounts are two groups.
fn hash(key: &GroupKey) -> String {
    let group: Vec<&str> = [key.correlation.as_str(), key.account.as_str()]
        .into_iter()
        .chain(key.group.iter().map(String::as_str))
        .collect();
    alert_id(&group)
}

pub(super) fn minutes_pk(key: &GroupKey) -> String {
    format!("{GROUPS}#{}", hash(key))
}

/// The partition of a group row: its shard.
fn group_pk(hash: &str) -> String {
    format!("{GROUPS}#g#{}", hash.get(..1).unwrap_or("0"))
}

/// Evicts the least recently active open groups beyond `cap`, across every shard (their group
/// rows; their minutes expire with the table's TTL); returns how many.
pub async fn evict<T: Table>(table: &T, cap: usize) -> Result<u64, TableError> {
    let mut live: Vec<(i64, String, String)> = Vec::new();
    for shard in SHARDS.chars() {
        for row in table.query(&format!("{GROUPS}#g#{shard}"), None).await? {
            if let Ok(g) = serde_json::from_str::<GroupRow>(&row.body) {
                if !g.forgotten {
                    live.push((g.last.or(g.next).unwrap_or(g.decided), row.pk, row.sk));
                }
            }
        }
    }
    let over = live.len().saturating_sub(cap.max(1));
    if over == 0 {
        return Ok(0);
    }
    live.sort();
    let gone: Vec<(String, String)> = live
        .into_iter()
        .take(over)
        .map(|(_, pk, sk)| (pk, sk))
        .collect();
    for chunk in gone.chunks(25) {
        table.delete(chunk).await?;
    }
    Ok(over as u64)
}

/// What one commit wrote.
#[derive(Debug, Default)]
pub struct Committed {
    /// The alerts of the groups written, with their outbox rows.
    pub alerts: Vec<Alert>,
    /// Their outbox rows, held by this invocation.
    pub held: Vec<Held>,
    /// Every group was written (else another invocation wrote some first: read again).
    pub complete: bool,
}

/// Which groups a snapshot holds.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// A delivery's: the groups its observations touch (one read each).
    Touched(&'a BTreeSet<&'a GroupKey>),
    /// The scheduled check's, one shard at a time (memory stays bounded whatever the table
    /// holds): every group of the shard with a window due, after evicting the least recently
    /// active groups beyond `cap`.
    Due {
        /// Open groups kept at most in the shard.
        cap: usize,
        /// The shard ([`SHARDS`]).
        shard: char,
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
                    let h = hash(k);
                    rows.extend(table.query(&group_pk(&h), Some(&h)).await?);
                }
                rows
            }
            Scope::Due { shard, .. } => table.query(&format!("{GROUPS}#g#{shard}"), None).await?,
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
        if let Scope::Due { cap, .. } = scope {
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
            if g.next.is_some() || matches!(scope, Scope::Touched(_)) {
                load_minutes(table, &g.key, &mut loaded).await?;
            }
            groups.insert(g.key, loaded);
        }
        // Minutes written without their group row (a group past one transaction, whose last
        // part failed) are read too.
        if let Scope::Touched(keys) = scope {
            let missing: Vec<&GroupKey> = keys
                .iter()
                .copied()
                .filter(|k| !groups.contains_key(*k))
                .collect();
            for k in missing {
                let mut loaded = Loaded {
                    state: GroupState {
                        decided: i64::MIN,
                        ..GroupState::default()
                    },
                    ..Loaded::default()
                };
                load_minutes(table, k, &mut loaded).await?;
                if !loaded.minutes.is_empty() {
                    groups.insert(k.clone(), loaded);
                }
            }
        }
        Ok(Snapshot {
            groups,
            now,
            keep,
            written: BTreeSet::new(),
            changed: BTreeSet::new(),
            dropped,
            decided: BTreeMap::new(),
            raised: BTreeMap::new(),
            evicted,
        })
    }

    /// Writes back what changed, group by group, each with the outbox rows of its alerts
    /// (held by this invocation).
    pub async fn commit<T: Table>(self, table: &T) -> Result<Committed, TableError> {
        let mut keys: BTreeSet<&GroupKey> = self.changed.iter().collect();
        keys.extend(self.written.iter().map(|(k, _)| k));
        keys.extend(self.decided.keys());
        keys.extend(self.raised.keys());
        let mut out = Committed {
            complete: true,
            ..Committed::default()
        };
        for key in keys {
            let (Some(g), Some(&wait)) = (self.groups.get(key), self.keep.get(&key.correlation))
            else {
                continue;
            };
            let mut minutes: Vec<Row> = Vec::new();
            for (_, start) in self
                .written
                .range((key.clone(), i64::MIN)..=(key.clone(), i64::MAX))
            {
                if let Some(bucket) = g.state.buckets.get(start) {
                    minutes.push(Row {
                        pk: minutes_pk(key),
                        sk: start.to_string(),
                        ver: g.minutes.get(start).copied().unwrap_or(0) + 1,
                        body: fit(bucket),
                        expires: start + wait + KEEP,
                    });
                }
            }
            let gone: Vec<(String, String)> = self.decided.get(key).map_or(Vec::new(), |d| {
                d.iter().map(|m| (minutes_pk(key), m.to_string())).collect()
            });
            let raised = self.raised.get(key).map_or(&[][..], Vec::as_slice);
            let held: Vec<(Row, Held)> = raised.iter().map(outbox::row).collect();
            let mut last: Vec<Row> = held.iter().map(|(r, _)| r.clone()).collect();
            if self.changed.contains(key) || !raised.is_empty() {
                last.push(self.group_row(key, g, wait));
            }
            if write_group(table, minutes, gone, last).await? {
                out.alerts.extend(raised.iter().cloned());
                out.held.extend(held.into_iter().map(|(_, h)| h));
            } else {
                out.complete = false;
            }
        }
        for chunk in self.dropped.chunks(25) {
            table.delete(chunk).await?;
        }
        Ok(out)
    }

    /// The group row of `key`, as it is now.
    fn group_row(&self, key: &GroupKey, g: &Loaded, wait: i64) -> Row {
        let next = g.state.buckets.keys().next().copied();
        let body = GroupRow {
            key: key.clone(),
            decided: g.state.decided,
            next,
            forgotten: g.forgotten,
            last: g.state.buckets.keys().next_back().copied(),
        };
        let until = next.unwrap_or(i64::MIN).max(g.state.decided).max(self.now);
        let h = hash(key);
        Row {
            pk: group_pk(&h),
            sk: h,
            ver: g.ver + 1,
            body: serde_json::to_string(&body).unwrap_or_default(),
            expires: until.saturating_add(wait + KEEP),
        }
    }
}

/// Reads the minute rows of `key` into `loaded` (those after its decided windows as buckets).
async fn load_minutes<T: Table>(
    table: &T,
    key: &GroupKey,
    loaded: &mut Loaded,
) -> Result<(), TableError> {
    for m in table.query(&minutes_pk(key), None).await? {
        let (Ok(start), Ok(bucket)) =
            (m.sk.parse::<i64>(), serde_json::from_str::<Bucket>(&m.body))
        else {
            continue;
        };
        loaded.minutes.insert(start, m.ver);
        if start >= loaded.state.decided {
            loaded.state.buckets.insert(start, bucket);
        }
    }
    Ok(())
}

/// Writes one group: `minutes` (minute rows written), `last` (its outbox rows, then its group
/// row) and `gone` (minute rows of decided windows) in one transaction when they fit. Else the
/// minutes go first (a reader reads them with or without the group row), the decision (group
/// row and outbox rows) after them, and the deletes last, once the decision is written (a
/// reader ignores minutes before `decided`): a write cut anywhere loses neither counts nor
/// decisions. `Ok(false)` when another invocation wrote first.
async fn write_group<T: Table>(
    table: &T,
    minutes: Vec<Row>,
    gone: Vec<(String, String)>,
    last: Vec<Row>,
) -> Result<bool, TableError> {
    let mut puts = minutes;
    while !puts.is_empty() && puts.len() + gone.len() + last.len() > MAX_WRITE {
        let over = puts.len() + gone.len() + last.len() - MAX_WRITE;
        let first: Vec<Row> = puts.drain(..over.min(puts.len()).min(MAX_WRITE)).collect();
        if !table.write(&first, &[]).await? {
            return Ok(false);
        }
    }
    puts.extend(last);
    // More outbox rows than one transaction holds (a hundred windows of one group at once):
    // the first ones alone, the group row with the last ones.
    while puts.len() > MAX_WRITE {
        let first: Vec<Row> = puts.drain(..MAX_WRITE).collect();
        if !table.write(&first, &[]).await? {
            return Ok(false);
        }
    }
    if puts.len() + gone.len() <= MAX_WRITE {
        return table.write(&puts, &gone).await;
    }
    if !table.write(&puts, &[]).await? {
        return Ok(false);
    }
    for chunk in gone.chunks(25) {
        table.delete(chunk).await?;
    }
    Ok(true)
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
