//! What one delivery gives the correlation rules, aggregated while it streams: per correlation,
//! group and minute, one [`Bucket`] (the count, and the same capped id, value and name sets the
//! store keeps), never one item per match. Memory grows with the groups and minutes a delivery
//! touches, not with its matches, and is capped by [`MAX_CELLS`]: past it, the matches of new
//! minutes are counted in [`Observed::uncounted`] and reported, never silently dropped.

use super::store::{bucket_of, Bucket, Event, EventRef, GroupKey};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Minutes of groups (cells) one delivery may hold: about 1 KiB each at most (the sets are
/// capped), so the aggregate stays within tens of MiB whatever the delivery. A real delivery of
/// a 5-minute file with 5,000 active principals holds 25,000.
pub const MAX_CELLS: usize = 60_000;

/// One delivery's observations, aggregated.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Observed {
    groups: BTreeMap<GroupKey, BTreeMap<i64, Bucket>>,
    cells: usize,
    /// Matches counted (each match of a base rule, once per correlation it feeds).
    pub matches: u64,
    /// Matches not counted because the record lacks a `group-by` field of the correlation.
    pub ungrouped: u64,
    /// Matches not counted because the delivery already held [`MAX_CELLS`] minutes of groups.
    pub uncounted: u64,
    /// The latest `eventTime` observed, if any.
    pub newest: Option<i64>,
}

impl Observed {
    /// Whether nothing was observed.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Counts one match for the group of `correlation` in `account` with the `group` values.
    pub fn add(&mut self, correlation: &str, account: &str, group: &[Cow<'_, str>], e: EventRef<'_>) {
        let key = GroupKey {
            correlation: correlation.to_owned(),
            account: account.to_owned(),
            group: group.iter().map(|g| g.clone().into_owned()).collect(),
        };
        self.insert(key, e);
    }

    /// Counts one match for the group `key`.
    fn insert(&mut self, key: GroupKey, e: EventRef<'_>) {
        self.matches += 1;
        self.newest = Some(self.newest.map_or(e.time, |n| n.max(e.time)));
        let minute = bucket_of(e.time);
        let full = self.cells >= MAX_CELLS;
        let cells = match self.groups.get_mut(&key) {
            Some(cells) => cells,
            None if full => {
                self.uncounted += 1;
                return;
            }
            None => self.groups.entry(key).or_default(),
        };
        let bucket = match cells.get_mut(&minute) {
            Some(b) => b,
            None if full => {
                self.uncounted += 1;
                return;
            }
            None => {
                self.cells += 1;
                cells.entry(minute).or_default()
            }
        };
        bucket.add_ref(e);
    }

    /// The groups observed, in order.
    pub fn keys(&self) -> impl Iterator<Item = &GroupKey> {
        self.groups.keys()
    }

    /// Every group and its minutes, in order.
    pub fn groups(&self) -> impl Iterator<Item = (&GroupKey, &BTreeMap<i64, Bucket>)> {
        self.groups.iter()
    }

    /// Minutes of groups held.
    pub fn cells(&self) -> usize {
        self.cells
    }
}

/// One match with its group, owned: how tests and tools state observations one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The correlation and group.
    pub key: GroupKey,
    /// The event.
    pub event: Event,
}

impl Observed {
    /// These observations, aggregated (as if one delivery streamed them in this order).
    pub fn of(observations: &[Observation]) -> Observed {
        let mut out = Observed::default();
        for o in observations {
            out.insert(o.key.clone(), o.event.as_ref());
        }
        out
    }
}
