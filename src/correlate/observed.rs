//! What one delivery gives the correlation rules, aggregated while it streams: per correlation,
//! group and minute, one [`Bucket`] (the count, and the same capped id, value and name sets the
//! store keeps), never one item per match. Memory grows with the groups and minutes a delivery
//! touches, not with its matches, and is capped by [`BUDGET`] whatever the delivery: past it,
//! the minutes already held still count their matches (without keeping their ids), and the
//! matches of new minutes are counted in [`Observed::uncounted`] and reported, never silently
//! dropped.

use super::store::{bucket_of, Bucket, Event, EventRef, GroupKey};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Bytes (estimated: [`Bucket::weight`]) one delivery's aggregate may hold. A 5-minute file of
/// 1,000,000 denied calls from 5,000 principals (25,000 minutes of groups) needs about 36 MiB.
pub const BUDGET: usize = 40 << 20;

/// One delivery's observations, aggregated.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Observed {
    /// Per group, its minutes in order (a short vector: a file spans a few minutes).
    groups: BTreeMap<GroupKey, Vec<(i64, Bucket)>>,
    cells: usize,
    weight: usize,
    /// Matches counted (each match of a base rule, once per correlation it feeds).
    pub matches: u64,
    /// Matches not counted because the record lacks a `group-by` field of the correlation.
    pub ungrouped: u64,
    /// Matches not counted: the delivery's aggregate was full ([`BUDGET`]) before their minute
    /// of their group was met.
    pub uncounted: u64,
    /// Matches counted without their ids (the aggregate was full): a retry of the delivery
    /// would count them again.
    pub unkept: u64,
}

impl Observed {
    /// Whether nothing was observed.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Counts one match for the group of `correlation` in `account` with the `group` values.
    pub fn add(
        &mut self,
        correlation: &str,
        account: &str,
        group: &[Cow<'_, str>],
        e: EventRef<'_>,
    ) {
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
        let minute = bucket_of(e.time);
        let full = self.weight >= BUDGET;
        let cells = match self.groups.get_mut(&key) {
            Some(cells) => cells,
            None if full => {
                self.uncounted += 1;
                return;
            }
            None => {
                self.weight += 128 + key.correlation.len() + key.account.len();
                self.weight += key.group.iter().map(|g| 24 + g.len()).sum::<usize>();
                self.groups.entry(key).or_default()
            }
        };
        let bucket = match cells.binary_search_by_key(&minute, |(m, _)| *m) {
            Ok(i) => &mut cells[i].1,
            Err(_) if full => {
                self.uncounted += 1;
                return;
            }
            Err(i) => {
                self.cells += 1;
                if cells.len() == cells.capacity() {
                    cells.reserve_exact(cells.len() / 2 + 1);
                }
                cells.insert(i, (minute, Bucket::default()));
                self.weight += cells[i].1.weight();
                &mut cells[i].1
            }
        };
        let before = bucket.weight();
        bucket.add_kept(e, !full);
        self.unkept += u64::from(full);
        self.weight = (self.weight + bucket.weight()).saturating_sub(before);
    }

    /// The groups observed, in order.
    pub fn keys(&self) -> impl Iterator<Item = &GroupKey> {
        self.groups.keys()
    }

    /// Every group and its minutes, in order, taken.
    pub fn into_groups(self) -> impl Iterator<Item = (GroupKey, Vec<(i64, Bucket)>)> {
        self.groups.into_iter()
    }

    /// Every group and its minutes, in order.
    pub fn groups(&self) -> impl Iterator<Item = (&GroupKey, &[(i64, Bucket)])> {
        self.groups.iter().map(|(k, m)| (k, m.as_slice()))
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

#[cfg(test)]
#[path = "observed_tests.rs"]
mod tests;
