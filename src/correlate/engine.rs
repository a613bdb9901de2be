//! The correlation engine: base-rule observations in, correlation alerts out, windows on
//! `eventTime`.
//!
//! Observations are counted per group and minute in a [`Store`]. A window is `timespan` long
//! and starts at a minute that holds events; it is decided once it is closed: when the
//! watermark (the latest `eventTime` seen, or the clock) has passed its end by the allowed
//! lateness. Windows are decided in order; one that meets the condition raises an alert and
//! the next window starts after it ends, so a burst raises one alert, not one per minute.
//! Because a window is decided only when closed, the alerts do not depend on the order in which
//! records arrive, nor on how they were split into files. Records later than the lateness
//! are not counted, and counted in [`Engine::late`].

use super::link::{Correlations, Linked};
use super::observed::Observed;
use super::raise::raise;
use super::rule::{Kind, BUCKET};
use super::store::{Bucket, Store, StoreError};
use crate::alert::Alert;
use std::sync::Arc;

/// Allowed lateness unless configured: CloudTrail delivers within about 15 minutes.
pub const DEFAULT_LATENESS: i64 = 20 * 60;
/// Records dated more than this past the clock are not counted (clocks drift; a forged
/// record of 2099 would make its group the most recently active and move windows).
pub const AHEAD: i64 = 15 * 60;

/// The engine over one store.
pub struct Engine<S: Store> {
    set: Arc<Correlations>,
    /// The store of counts.
    pub store: S,
    lateness: i64,
    /// Events not counted because their windows were already decided.
    pub late: u64,
    /// The latest `eventTime` observed.
    pub newest: i64,
    /// The clock, when there is one (the Lambda): records more than [`AHEAD`] past it are
    /// not counted, but counted in `ahead`.
    pub clock: Option<i64>,
    /// Events not counted because they were dated too far ahead of the clock.
    pub ahead: u64,
}

impl<S: Store> Engine<S> {
    /// An engine running `set` over `store`, with `lateness` seconds allowed.
    pub fn new(set: Arc<Correlations>, store: S, lateness: i64) -> Engine<S> {
        Engine {
            set,
            store,
            lateness: lateness.max(0),
            late: 0,
            newest: i64::MIN,
            clock: None,
            ahead: 0,
        }
    }

    /// Counts what one delivery (`delivery` names it) observed, taking it: one store update
    /// per group and minute.
    pub fn observe(&mut self, delivery: &str, observed: Observed) -> Result<(), StoreError> {
        let horizon = self.horizon();
        let watermark = self.store.watermark()?;
        for (key, minutes) in observed.into_groups() {
            let Some(l) = self.set.get(&key.correlation) else {
                continue;
            };
            let decided = self.store.decided(&key)?.unwrap_or(i64::MIN);
            for (bucket, b) in minutes {
                if bucket > horizon {
                    self.ahead += b.count;
                    continue;
                }
                let latest = b.rules.iter().flatten().map(|s| s.1).max();
                self.newest = self.newest.max(latest.unwrap_or(bucket));
                let closed = bucket.saturating_add(l.rule.timespan + self.lateness) <= watermark;
                if closed || bucket < decided {
                    self.late += b.count;
                    continue;
                }
                self.store.add(&key, bucket, delivery, b)?;
            }
        }
        Ok(())
    }

    /// The latest event time counted: [`AHEAD`] past the clock, when there is one.
    pub fn horizon(&self) -> i64 {
        self.clock.map_or(i64::MAX, |c| c.saturating_add(AHEAD))
    }

    /// Decides every window closed at `watermark` and returns the alerts raised, in order of
    /// correlation, group and time.
    pub fn close(&mut self, watermark: i64) -> Result<Vec<Alert>, StoreError> {
        let mut alerts = Vec::new();
        for key in self.store.groups()? {
            let Some(l) = self.set.get(&key.correlation) else {
                continue;
            };
            let Some(g) = self.store.group(&key)? else {
                continue;
            };
            let mut decided = g.decided;
            while let Some((&start, _)) = g.buckets.range(decided..).next() {
                let end = start + l.rule.timespan;
                if end.saturating_add(self.lateness) > watermark {
                    break;
                }
                let window: Vec<&Bucket> = g.buckets.range(start..end).map(|(_, b)| b).collect();
                let n = measure(l, &window);
                if l.rule.condition.holds(n) {
                    let alert = raise(l, &key, start, &window, n);
                    self.store.raised(&key, &alert);
                    alerts.push(alert);
                    decided = end;
                } else {
                    decided = start + BUCKET;
                }
            }
            if decided > g.decided {
                self.store.decide(&key, decided)?;
            }
            // Once the watermark makes every record before `decided` late, the group is
            // only its buckets: with none left, it goes.
            let empty = g.buckets.range(decided..).next().is_none();
            let moot = decided.saturating_add(l.rule.timespan + self.lateness)
                <= watermark.saturating_add(BUCKET);
            if empty && moot {
                self.store.forget(&key)?;
            }
        }
        self.store.set_watermark(watermark)?;
        Ok(alerts)
    }

    /// Decides every window, closed or not (the end of a replay without saved state).
    pub fn flush(&mut self) -> Result<Vec<Alert>, StoreError> {
        self.close(i64::MAX)
    }
}

/// What the condition of `l` is compared with over `window`.
pub fn measure(l: &Linked, window: &[&Bucket]) -> u64 {
    match l.rule.kind {
        Kind::EventCount => window.iter().map(|b| b.count).sum(),
        Kind::ValueCount => {
            let mut values: Vec<&Box<str>> = window.iter().flat_map(|b| &b.values).collect();
            values.sort();
            values.dedup();
            values.len() as u64
        }
        Kind::Temporal => (0..l.rule.rules.len())
            .filter(|&r| {
                window
                    .iter()
                    .any(|b| b.rules.get(r).is_some_and(Option::is_some))
            })
            .count() as u64,
        Kind::TemporalOrdered => in_order(l.rule.rules.len(), window),
    }
}

/// How many of the rules, taken in order, matched one after the other in `window`: for each
/// rule, its earliest match not before the previous rule's. Per minute the engine keeps the
/// earliest and latest match of each rule, so the latest stands in when the earliest is too
/// early.
fn in_order(rules: usize, window: &[&Bucket]) -> u64 {
    let mut after = i64::MIN;
    for r in 0..rules {
        let next = window
            .iter()
            .filter_map(|b| *b.rules.get(r)?)
            .filter_map(|(lo, hi)| [lo, hi].into_iter().find(|&t| t >= after))
            .min();
        match next {
            Some(t) => after = t,
            None => return r as u64,
        }
    }
    rules as u64
}
