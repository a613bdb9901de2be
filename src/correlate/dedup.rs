//! Deduplication windows (`dedup: 60m` in a descriptor): an alert for the same detector and
//! subject within the window is not published again. The window opens at the first alert's
//! `first_seen` (event time); later alerts in it are counted (count, last id, `last_seen`),
//! and when the window closes one summary alert says how many more there were.

use super::time::{format_time, parse_event_time};
use crate::alert::id::alert_id;
use crate::alert::{Alert, Source, MAX_EVENT_IDS};
use crate::redact::{self, Redacted};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A window's key: detector id and the alert's subject.
pub type WindowKey = (String, String);

/// An open window: the alert that opened it, and what was held back since.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Open {
    first: Alert,
    until: i64,
    held: u64,
    events: u64,
    last_id: String,
    last_seen: String,
    /// Ids of the alerts held back, so the same alert (a file read twice, a retried
    /// delivery) is held once; at most [`SEEN_IDS`].
    #[serde(default)]
    seen: BTreeSet<String>,
    /// The event ids of the alerts held back (the summary's), at most [`MAX_EVENT_IDS`].
    #[serde(default)]
    event_ids: Vec<String>,
    /// Where the last alert held back came from.
    #[serde(default)]
    last_source: Option<Source>,
}

/// Alert ids a window remembers (beyond, repeats count again).
const SEEN_IDS: usize = 1000;

impl Open {
    /// When the window closes (event time, seconds since the epoch).
    pub fn until(&self) -> i64 {
        self.until
    }
}

/// The deduplication windows of one run (replay) or one store (the Lambda).
#[derive(Debug, Default)]
pub struct Dedup {
    /// Window length in seconds, by detector id.
    windows: HashMap<String, i64>,
    open: BTreeMap<WindowKey, Open>,
    /// Alerts held back so far (an alert already held or published is not counted again).
    pub held: u64,
}

impl Dedup {
    /// Windows of `windows` (detector id, seconds).
    pub fn new(windows: impl IntoIterator<Item = (String, i64)>) -> Dedup {
        Dedup {
            windows: windows.into_iter().collect(),
            open: BTreeMap::new(),
            held: 0,
        }
    }

    /// The open windows.
    pub fn windows(&self) -> &BTreeMap<WindowKey, Open> {
        &self.open
    }

    /// Reopens a window kept between runs or deliveries.
    pub fn restore(&mut self, key: WindowKey, window: Open) {
        self.open.insert(key, window);
    }

    /// Whether no detector has a window.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// What to publish for `a`: nothing when a window holds it back; else the summary of the
    /// window it ends (if that held alerts back), then `a`, which opens a new window.
    pub fn admit(&mut self, a: Redacted<Alert>) -> Vec<Redacted<Alert>> {
        let Some(&span) = self.windows.get(&a.detector) else {
            return vec![a];
        };
        let at = parse_event_time(&a.first_seen).unwrap_or(i64::MIN);
        let key = (a.detector.clone(), a.subject.clone());
        match self.open.get_mut(&key) {
            Some(w) if a.id == w.first.id || w.seen.contains(&a.id) => Vec::new(),
            // Older than the open window (files out of order): published as it is.
            Some(w) if at < w.until.saturating_sub(span) => vec![a],
            Some(w) if at < w.until => {
                if w.seen.len() < SEEN_IDS {
                    w.seen.insert(a.id.clone());
                }
                w.held += 1;
                self.held += 1;
                w.events += a.count;
                w.last_id = a.id.clone();
                let room = MAX_EVENT_IDS.saturating_sub(w.event_ids.len());
                w.event_ids.extend(a.event_ids.iter().take(room).cloned());
                w.last_source = Some(a.source.clone());
                w.last_seen = w.last_seen.clone().max(a.last_seen.clone());
                Vec::new()
            }
            _ => {
                let until = at.saturating_add(span);
                let first = a.clone().into_inner();
                let last_seen = first.last_seen.clone();
                let (last_id, held, events) = (String::new(), 0, 0);
                let open = Open {
                    first,
                    until,
                    held,
                    events,
                    last_id,
                    last_seen,
                    seen: BTreeSet::new(),
                    event_ids: Vec::new(),
                    last_source: None,
                };
                let ended = self.open.insert(key, open).and_then(summary);
                ended.into_iter().chain([a]).collect()
            }
        }
    }

    /// Closes the windows that end by `watermark` (event time), with a summary alert for each
    /// that held alerts back.
    pub fn close(&mut self, watermark: i64) -> Vec<Redacted<Alert>> {
        let done: Vec<_> = self
            .open
            .iter()
            .filter(|(_, w)| w.until <= watermark)
            .map(|(k, _)| k.clone())
            .collect();
        done.into_iter()
            .filter_map(|k| summary(self.open.remove(&k)?))
            .collect()
    }

    /// Closes every window (the end of a replay).
    pub fn flush(&mut self) -> Vec<Redacted<Alert>> {
        self.close(i64::MAX)
    }
}

/// The summary of a window that held `w.held` alerts back.
fn summary(w: Open) -> Option<Redacted<Alert>> {
    if w.held == 0 {
        return None;
    }
    let mut a = w.first;
    let first_id = std::mem::take(&mut a.id);
    a.id = alert_id(&[&first_id, "dedup", &w.last_id]);
    let minutes = (w.until - parse_event_time(&a.first_seen).unwrap_or(w.until)) / 60;
    a.summary = format!(
        "{} more alert{} like {first_id} within {minutes} min (deduplicated): {}",
        w.held,
        if w.held == 1 { "" } else { "s" },
        a.summary
    );
    a.count = w.events;
    a.last_seen = w.last_seen;
    // The events held back, and where the last of them came from: what a responder looks up.
    a.event_ids = w.event_ids;
    if let Some(source) = w.last_source {
        a.source = source;
    }
    a.evidence.insert(
        "dedup".into(),
        json!({"alerts": w.held, "first_id": first_id, "last_id": w.last_id, "until": format_time(w.until)}),
    );
    Some(redact::alert(a))
}
