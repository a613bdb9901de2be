//! Where correlation counts live between deliveries: the [`Store`] trait, what it keeps per
//! rule, group and minute ([`Bucket`]); replay's in-memory store is in `memory.rs` (it imports this module).
//!
//! Counting is idempotent: an event already counted in a bucket (by `eventID`) is not counted
//! again, so a file read twice, or the same records split differently, count once.

use super::rule::BUCKET;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Open groups kept at most, unless configured otherwise.
pub const DEFAULT_MAX_GROUPS: usize = 100_000;

/// Event ids kept per minute of a group for the alert (the count counts them all): a window of
/// a few minutes offers the alert's twenty, and a storm of small groups stays small.
pub const KEPT_IDS: usize = 8;
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

/// One base-rule match as a correlation counts it, borrowed from the finding: nothing is
/// copied unless the bucket keeps it.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    /// `eventID`.
    pub id: &'a str,
    /// `eventTime`, seconds since the epoch.
    pub time: i64,
    /// Which of the correlation's rules matched (position in `rules`).
    pub rule: usize,
    /// The value a value_count counts.
    pub value: Option<&'a str>,
    /// `eventName`.
    pub name: &'a str,
    /// Account, region, principal and source address, for the alert.
    pub who: [&'a str; 4],
}

impl Event {
    /// The event, borrowed.
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            id: &self.id,
            time: self.time,
            rule: self.rule,
            value: self.value.as_deref(),
            name: &self.name,
            who: [&self.who[0], &self.who[1], &self.who[2], &self.who[3]],
        }
    }
}

/// A correlation and one group of it: the rule id and the group-by values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GroupKey {
    /// The correlation rule's id.
    pub correlation: String,
    /// The account the records are for (`recipientAccountId`): groups never span accounts.
    #[serde(default)]
    pub account: String,
    /// The values of its `group-by` fields, in order.
    pub group: Vec<String>,
}

/// The earliest event of a minute: its time, id, and account, region, principal and source
/// address (boxed in [`Bucket`]: most buckets of a storm are small).
pub type Who = (i64, String, [String; 4]);

/// What one minute of one group holds: what one delivery observed (aggregated while it
/// streams), or what the store keeps. Sets are sorted vectors (serialised as before, a
/// fraction of the memory of trees for the few items a minute usually has).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Events counted.
    pub count: u64,
    /// Hashes of the event ids counted (what makes counting idempotent), sorted, at most
    /// [`KEPT_SEEN`].
    pub seen: Vec<u64>,
    /// The earliest (time, event id) pairs, sorted, at most [`KEPT_IDS`].
    pub first: Vec<(i64, Box<str>)>,
    /// Distinct values (value_count), sorted, at most [`KEPT_VALUES`].
    pub values: Vec<Box<str>>,
    /// Distinct event names, sorted, at most [`KEPT_VALUES`].
    pub names: Vec<Box<str>>,
    /// Per rule of the correlation, the earliest and latest time it matched.
    pub rules: Vec<Option<(i64, i64)>>,
    /// Account, region, principal and source address of the earliest event.
    pub who: Option<Box<Who>>,
}

impl Bucket {
    /// Counts `e` unless it was counted before; returns whether it was new.
    pub fn add(&mut self, e: &Event) -> bool {
        self.add_ref(e.as_ref())
    }

    /// Counts `e` unless it was counted before; returns whether it was new. Copies only what
    /// the bucket keeps.
    pub fn add_ref(&mut self, e: EventRef<'_>) -> bool {
        self.add_kept(e, true)
    }

    /// Counts `e` unless it was counted before (returns whether it was new); with `keep`
    /// false, only counts it (its id is not kept: a delivery past its memory budget).
    pub fn add_kept(&mut self, e: EventRef<'_>, keep: bool) -> bool {
        if !keep {
            self.count += 1;
            self.span(e.rule, e.time);
            return true;
        }
        let hash = id_hash(&e);
        match self.seen.binary_search(&hash) {
            Ok(_) => return false,
            Err(pos) if self.seen.len() < KEPT_SEEN => {
                // A quarter more at a time, not twice: most minutes of a storm hold a few
                // dozen ids.
                if self.seen.len() == self.seen.capacity() {
                    self.seen.reserve_exact(self.seen.len() / 4 + 1);
                }
                self.seen.insert(pos, hash);
            }
            Err(_) => {}
        }
        self.count += 1;
        self.keep(e.time, e.id, e.rule, e.name, e.value, &e.who);
        true
    }

    /// Counts the events of `other` (another bucket of the same minute and group) that this
    /// one has not counted (by their id hashes: beyond [`KEPT_SEEN`] of them, the rest count
    /// as new); returns how many were new.
    pub fn merge(&mut self, other: &Bucket) -> u64 {
        let known = other
            .seen
            .iter()
            .filter(|h| self.seen.binary_search(h).is_ok())
            .count() as u64;
        let new = other.count.saturating_sub(known);
        if new == 0 {
            return 0;
        }
        for &h in &other.seen {
            if let Err(pos) = self.seen.binary_search(&h) {
                if self.seen.len() < KEPT_SEEN {
                    self.seen.insert(pos, h);
                }
            }
        }
        self.count += new;
        for (t, id) in &other.first {
            insert_first(&mut self.first, *t, id);
        }
        for (set, from) in [
            (&mut self.values, &other.values),
            (&mut self.names, &other.names),
        ] {
            for v in from {
                insert_sorted(set, v);
            }
        }
        for (r, span) in other.rules.iter().enumerate() {
            if let Some((lo, hi)) = *span {
                self.span(r, lo);
                self.span(r, hi);
            }
        }
        if let Some(w) = &other.who {
            let (t, id, who) = &**w;
            let who = [&*who[0], &*who[1], &*who[2], &*who[3]];
            self.note_who(*t, id, &who);
        }
        new
    }

    /// Keeps what the alert needs of one new event.
    fn keep(
        &mut self,
        time: i64,
        id: &str,
        rule: usize,
        name: &str,
        value: Option<&str>,
        who: &[&str; 4],
    ) {
        insert_first(&mut self.first, time, id);
        if let Some(v) = value {
            insert_sorted(&mut self.values, v);
        }
        insert_sorted(&mut self.names, name);
        self.span(rule, time);
        self.note_who(time, id, who);
    }

    /// Widens the span of `rule` to `time`.
    fn span(&mut self, rule: usize, time: i64) {
        if self.rules.len() <= rule {
            self.rules.resize(rule + 1, None);
        }
        let span = self.rules[rule].get_or_insert((time, time));
        *span = (span.0.min(time), span.1.max(time));
    }

    /// Keeps `who` if its event is the earliest.
    fn note_who(&mut self, time: i64, id: &str, who: &[&str; 4]) {
        if self
            .who
            .as_ref()
            .is_none_or(|w| (w.0, w.1.as_str()) > (time, id))
        {
            self.who = Some(Box::new((time, id.to_owned(), who.map(str::to_owned))));
        }
    }
}

/// Inserts (time, id) among the earliest [`KEPT_IDS`], unless there or later than them all.
fn insert_first(first: &mut Vec<(i64, Box<str>)>, time: i64, id: &str) {
    let pos = first.partition_point(|(t, i)| (*t, &**i) < (time, id));
    if pos >= KEPT_IDS
        || first
            .get(pos)
            .is_some_and(|(t, i)| (*t, &**i) == (time, id))
    {
        return;
    }
    if first.capacity() == 0 {
        first.reserve_exact(KEPT_IDS);
    }
    first.insert(pos, (time, id.into()));
    first.truncate(KEPT_IDS);
}

/// Inserts `v` into the sorted set `set` unless there or the set is full.
fn insert_sorted(set: &mut Vec<Box<str>>, v: &str) {
    if set.len() >= KEPT_VALUES {
        return;
    }
    if let Err(pos) = set.binary_search_by(|s| (**s).cmp(v)) {
        if set.len() == set.capacity() {
            set.reserve_exact(set.len() / 2 + 1);
        }
        set.insert(pos, v.into());
    }
}

impl Bucket {
    /// About how many bytes the bucket holds (an estimate in constant time, for budgets).
    pub fn weight(&self) -> usize {
        /// A bucket with nothing in its sets; a kept string, on average.
        const EMPTY: usize = 320;
        const TEXT: usize = 64;
        EMPTY
            + self.seen.capacity() * 8
            + self.first.capacity() * 24
            + (self.first.len() + self.values.len() + self.names.len()) * TEXT
    }
}

/// A stable 64-bit hash of an event's identity (its id, or what it is when it has none).
fn id_hash(e: &EventRef<'_>) -> u64 {
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
    /// Adds what one delivery observed in one minute of one group (`observed`, taken: one call
    /// per group and minute); events counted before are not counted again. Returns how many
    /// were new.
    fn add(
        &mut self,
        key: &GroupKey,
        bucket: i64,
        delivery: &str,
        observed: Bucket,
    ) -> Result<u64, StoreError>;
    /// The state of one group, if it has any.
    fn group(&mut self, key: &GroupKey) -> Result<Option<GroupState>, StoreError>;
    /// Where the decided windows of one group end, if it has state (without copying it).
    fn decided(&mut self, key: &GroupKey) -> Result<Option<i64>, StoreError> {
        Ok(self.group(key)?.map(|g| g.decided))
    }
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
    /// A window of `key` raised `alert` (a store that writes alerts with its decisions keeps
    /// it).
    fn raised(&mut self, _key: &GroupKey, _alert: &crate::alert::Alert) {}
}
