//! Where correlation counts live between deliveries: the [`Store`] trait, what it keeps per
//! rule, group and minute ([`Bucket`]), and the in-memory store of replay.
//!
//! Counting is idempotent: an event already counted in a bucket (by `eventID`) is not counted
//! again, so a file read twice, or the same records split differently, count once.

use super::rule::BUCKET;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Event ids kept per bucket for the alert (the count counts them all).
pub const KEPT_IDS: usize = 20;
/// Distinct values (value_count) and event names kept per bucket.
pub const KEPT_VALUES: usize = 1000;

/// One base-rule match, as a correlation keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `eventID`.
    pub id: String,
    /// `eventTime`, seconds since the epoch.
    pub time: i64,
    /// Which of the correlation's rules matched (position in `rules`).
    pub rule: usize,
    /// The value a value_count counts.
    pub value: Option<String>,
    /// `eventName`.
    pub name: String,
    /// Account, region, principal and source address, for the alert.
    pub who: [String; 4],
}

/// A correlation and one group of it: the rule id and the group-by values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GroupKey {
    /// The correlation rule's id.
    pub correlation: String,
    /// The values of its `group-by` fields, in order.
    pub group: Vec<String>,
}

/// What one minute of one group holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Events counted.
    pub count: u64,
    /// Hashes of the event ids counted (what makes counting idempotent).
    pub seen: BTreeSet<u64>,
    /// The earliest (time, event id) pairs, at most [`KEPT_IDS`].
    pub first: Vec<(i64, String)>,
    /// Distinct values (value_count), at most [`KEPT_VALUES`].
    pub values: BTreeSet<String>,
    /// Distinct event names, at most [`KEPT_VALUES`].
    pub names: BTreeSet<String>,
    /// Per rule of the correlation, the earliest and latest time it matched.
    pub rules: Vec<Option<(i64, i64)>>,
    /// Account, region, principal and source address of the earliest event.
    pub who: Option<(i64, String, [String; 4])>,
}

impl Bucket {
    /// Counts `e` unless it was counted before; returns whether it was new.
    pub fn add(&mut self, e: &Event) -> bool {
        if !self.seen.insert(id_hash(e)) {
            return false;
        }
        self.count += 1;
        let at = (e.time, e.id.clone());
        let pos = self.first.partition_point(|p| *p < at);
        if pos < KEPT_IDS {
            self.first.insert(pos, at.clone());
            self.first.truncate(KEPT_IDS);
        }
        for (set, v) in [
            (&mut self.values, e.value.as_ref()),
            (&mut self.names, Some(&e.name)),
        ] {
            if let Some(v) = v.filter(|_| set.len() < KEPT_VALUES) {
                set.insert(v.clone());
            }
        }
        if self.rules.len() <= e.rule {
            self.rules.resize(e.rule + 1, None);
        }
        let span = self.rules[e.rule].get_or_insert((e.time, e.time));
        *span = (span.0.min(e.time), span.1.max(e.time));
        if self
            .who
            .as_ref()
            .is_none_or(|(t, id, _)| (*t, id) > (at.0, &at.1))
        {
            self.who = Some((at.0, at.1, e.who.clone()));
        }
        true
    }
}

/// A stable 64-bit hash of an event's identity (its id, or what it is when it has none).
fn id_hash(e: &Event) -> u64 {
    let mut h = Sha256::new();
    if e.id.is_empty() {
        h.update(format!("{}\0{}\0{}\0{:?}", e.time, e.rule, e.name, e.who));
    } else {
        h.update(e.id.as_bytes());
    }
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The start of the bucket that holds `time`.
pub fn bucket_of(time: i64) -> i64 {
    time.div_euclid(BUCKET) * BUCKET
}

/// One group's state: its buckets, and where its decided windows end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupState {
    /// Buckets by start time.
    pub buckets: BTreeMap<i64, Bucket>,
    /// Windows starting before this time are decided (alerted or not); events before it are late.
    pub decided: i64,
}

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store did not answer (after retries): the delivery must be retried later.
    #[error("correlation store unavailable: {0}")]
    Unavailable(String),
    /// A saved state could not be read.
    #[error("{file}: not a trailwatch correlation state: {message}")]
    Corrupt {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// Correlation counts per rule, group and minute, kept between deliveries.
pub trait Store {
    /// Adds the events of one delivery that fall in one bucket of one group (one call per
    /// group and bucket); events counted before are not counted again. Returns how many were new.
    fn add(
        &mut self,
        key: &GroupKey,
        bucket: i64,
        delivery: &str,
        events: &[Event],
    ) -> Result<u64, StoreError>;
    /// The state of one group, if it has any.
    fn group(&mut self, key: &GroupKey) -> Result<Option<GroupState>, StoreError>;
    /// Every group with state.
    fn groups(&mut self) -> Result<Vec<GroupKey>, StoreError>;
    /// Marks windows before `until` decided and drops their buckets; the group stays, to know
    /// that records before `until` are late.
    fn decide(&mut self, key: &GroupKey, until: i64) -> Result<(), StoreError>;
    /// Drops a group whose records would all be late anyway.
    fn forget(&mut self, key: &GroupKey) -> Result<(), StoreError>;
    /// The latest watermark windows were closed at.
    fn watermark(&mut self) -> Result<i64, StoreError>;
    /// Records the watermark windows were closed at.
    fn set_watermark(&mut self, at: i64) -> Result<(), StoreError>;
    /// Groups evicted to respect the cap, since the store was made.
    fn evicted(&self) -> u64;
}

/// Replay's store: everything in memory, saved to a file between runs if asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryStore {
    groups: Vec<(GroupKey, GroupState)>,
    #[serde(skip)]
    index: BTreeMap<GroupKey, GroupState>,
    watermark: i64,
    #[serde(skip)]
    cap: usize,
    #[serde(skip)]
    evicted: u64,
}

/// Open groups kept at most, unless configured otherwise.
pub const DEFAULT_MAX_GROUPS: usize = 100_000;

impl MemoryStore {
    /// An empty store keeping at most `cap` groups.
    pub fn new(cap: usize) -> MemoryStore {
        MemoryStore {
            groups: Vec::new(),
            index: BTreeMap::new(),
            watermark: i64::MIN,
            cap: cap.max(1),
            evicted: 0,
        }
    }

    /// The store saved in `text` (from [`MemoryStore::save`]); `file` names it in errors.
    pub fn load(text: &str, file: &str, cap: usize) -> Result<MemoryStore, StoreError> {
        let mut s: MemoryStore = serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        s.index = std::mem::take(&mut s.groups).into_iter().collect();
        s.cap = cap.max(1);
        Ok(s)
    }

    /// The store as text, for [`MemoryStore::load`].
    pub fn save(&self) -> String {
        let copy = MemoryStore {
            groups: self
                .index
                .iter()
                .map(|(k, g)| (k.clone(), g.clone()))
                .collect(),
            ..MemoryStore::new(self.cap)
        };
        let copy = MemoryStore {
            watermark: self.watermark,
            ..copy
        };
        serde_json::to_string(&copy).unwrap_or_default()
    }

    /// Evicts the groups least recently active (by their newest bucket) to make room.
    fn make_room(&mut self) {
        if self.index.len() < self.cap {
            return;
        }
        let mut by_age: Vec<(i64, GroupKey)> = self
            .index
            .iter()
            .map(|(k, g)| {
                (
                    g.buckets.keys().next_back().copied().unwrap_or(i64::MIN),
                    k.clone(),
                )
            })
            .collect();
        by_age.sort();
        let n = (self.cap / 100).max(1).min(by_age.len());
        for (_, k) in by_age.into_iter().take(n) {
            self.index.remove(&k);
        }
        self.evicted += n as u64;
    }
}

impl Store for MemoryStore {
    fn add(
        &mut self,
        key: &GroupKey,
        bucket: i64,
        _delivery: &str,
        events: &[Event],
    ) -> Result<u64, StoreError> {
        if !self.index.contains_key(key) {
            self.make_room();
        }
        let g = self.index.entry(key.clone()).or_insert_with(|| GroupState {
            decided: i64::MIN,
            ..GroupState::default()
        });
        let b = g.buckets.entry(bucket).or_default();
        Ok(events.iter().map(|e| u64::from(b.add(e))).sum())
    }

    fn group(&mut self, key: &GroupKey) -> Result<Option<GroupState>, StoreError> {
        Ok(self.index.get(key).cloned())
    }

    fn groups(&mut self) -> Result<Vec<GroupKey>, StoreError> {
        Ok(self.index.keys().cloned().collect())
    }

    fn decide(&mut self, key: &GroupKey, until: i64) -> Result<(), StoreError> {
        if let Some(g) = self.index.get_mut(key) {
            g.decided = g.decided.max(until);
            g.buckets = g.buckets.split_off(&until);
        }
        Ok(())
    }

    fn forget(&mut self, key: &GroupKey) -> Result<(), StoreError> {
        self.index.remove(key);
        Ok(())
    }

    fn watermark(&mut self) -> Result<i64, StoreError> {
        Ok(self.watermark)
    }

    fn set_watermark(&mut self, at: i64) -> Result<(), StoreError> {
        self.watermark = self.watermark.max(at);
        Ok(())
    }

    fn evicted(&self) -> u64 {
        self.evicted
    }
}
