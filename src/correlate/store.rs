//! Where correlation counts live between deliveries: the [`Store`] trait, what it keeps per
//! rule, group and minute ([`Bucket`]); replay's in-memory store is in `memory.rs` (it imports this module).
//!
//! Counting is idempotent: an event already counted in a bucket (by `eventID`) is not counted
//! again, so a file read twice, or the same records split differently, count once.

use super::rule::BUCKET;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Open groups kept at most, unless configured otherwise.
pub const DEFAULT_MAX_GROUPS: usize = 100_000;

/// Event ids kept per bucket for the alert (the count counts them all).
pub const KEPT_IDS: usize = 20;
/// Distinct values (value_count) and event names kept per bucket.
pub const KEPT_VALUES: usize = 1000;
/// Event-id hashes kept per bucket: beyond, events still count but are not recognised if they
/// come again (a burst of more than this in one minute of one group is past any threshold).
pub const KEPT_SEEN: usize = 5000;

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
    /// Hashes of the event ids counted (what makes counting idempotent), at most
    /// [`KEPT_SEEN`].
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
        let hash = id_hash(e);
        if self.seen.contains(&hash) {
            return false;
        }
        if self.seen.len() < KEPT_SEEN {
            self.seen.insert(hash);
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
    #[error("{file}: not a trailwatch state file ({message})")]
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
