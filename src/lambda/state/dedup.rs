//! Deduplication windows (`dedup: 60m`) across deliveries: the open windows are rows of
//! partitions `dedup#0` to `dedup#f` (by the window's hash). A delivery reads only the windows
//! of its own alerts; the scheduled check reads them all, shard by shard, and publishes the
//! summaries of the windows that closed. They are written back conditioned
//! on the versions read, with the outbox rows of the alerts they let through (the first of a
//! window, a summary) in the same transaction: a failed publish does not leave the window
//! open with its first alert never sent.

use super::outbox::{self, Held};
use super::table::{Row, Table, TableError, MAX_WRITE};
use super::Contention;
use crate::alert::id::alert_id;
use crate::alert::Alert;
use crate::correlate::dedup::{Open, WindowKey};
use crate::correlate::Dedup;
use crate::redact::Redacted;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const DEDUP: &str = "dedup";
/// Shards of the window rows.
const SHARDS: &str = "0123456789abcdef";

/// The partition of the window row `sk`.
fn pk(sk: &str) -> String {
    format!("{DEDUP}#{}", sk.get(..1).unwrap_or("0"))
}
/// Rows outlive their windows by this much, then the table's TTL removes them.
const KEEP: i64 = 86_400;

#[derive(Serialize, Deserialize)]
struct WindowRow {
    key: WindowKey,
    window: Open,
}

fn sk(key: &WindowKey) -> String {
    alert_id(&[&key.0, &key.1])
}

/// What the dedup windows let through.
#[derive(Debug, Default)]
pub struct Admitted {
    /// What to publish.
    pub alerts: Vec<Redacted<Alert>>,
    /// Alerts held back.
    pub held_back: u64,
    /// The outbox rows of the alerts of detectors with a window (and of the summaries), held
    /// by this invocation.
    pub pending: Vec<Held>,
}

/// What to publish of `alerts` given the windows of `windows` (detector id, seconds), with
/// the summaries of the windows closed at `now` (of every window with `every`, the scheduled
/// check's; else of the windows of `alerts`); and how many alerts were held back. Alerts whose
/// ids are in `pending` already have their outbox row.
pub async fn admit<T: Table>(
    table: &T,
    windows: &[(String, i64)],
    (alerts, pending): (&[Redacted<Alert>], &[&str]),
    (now, every): (i64, bool),
    budget: Contention,
) -> Result<Admitted, TableError> {
    let mut mine: Vec<String> = alerts
        .iter()
        .filter(|a| windows.iter().any(|(d, _)| *d == a.detector))
        .map(|a| sk(&(a.detector.clone(), a.subject.clone())))
        .collect();
    mine.sort();
    mine.dedup();
    let mut tries = budget.tries();
    while tries.next().await {
        let mut dedup = Dedup::new(windows.iter().cloned());
        let mut loaded: BTreeMap<String, (u64, String)> = BTreeMap::new();
        let mut rows = Vec::new();
        if every {
            for shard in SHARDS.chars() {
                rows.extend(table.query(&format!("{DEDUP}#{shard}"), None).await?);
            }
        } else {
            for k in &mine {
                rows.extend(table.query(&pk(k), Some(k)).await?);
            }
        }
        for row in rows {
            if let Ok(w) = serde_json::from_str::<WindowRow>(&row.body) {
                dedup.restore(w.key, w.window);
                loaded.insert(row.sk, (row.ver, row.body));
            }
        }
        let mut out = Vec::new();
        for a in alerts {
            out.extend(dedup.admit(a.clone()));
        }
        let held_back = dedup.held;
        out.extend(dedup.close(now));
        let windowed: Vec<(Row, Held)> = out
            .iter()
            .filter(|a| windows.iter().any(|(d, _)| *d == a.detector))
            .filter(|a| !pending.contains(&a.id.as_str()))
            .map(|a| outbox::row(a))
            .collect();
        if commit(table, &dedup, &loaded, &windowed).await? {
            let pending = windowed.into_iter().map(|(_, h)| h).collect();
            return Ok(Admitted {
                alerts: out,
                held_back,
                pending,
            });
        }
    }
    Err(TableError {
        table: table.name().to_owned(),
        message: format!(
            "other invocations kept writing the same dedup windows ({} tries)",
            tries.made()
        ),
    })
}

/// Writes the windows that changed and the outbox rows `pending`, deletes the windows that
/// closed, in one transaction when they fit in one; `Ok(false)` when another invocation
/// wrote first.
async fn commit<T: Table>(
    table: &T,
    dedup: &Dedup,
    loaded: &BTreeMap<String, (u64, String)>,
    pending: &[(Row, Held)],
) -> Result<bool, TableError> {
    let mut open = Vec::new();
    let mut puts = Vec::new();
    for (key, window) in dedup.windows() {
        let row = WindowRow {
            key: key.clone(),
            window: window.clone(),
        };
        let body = serde_json::to_string(&row).unwrap_or_default();
        let sk = sk(key);
        let ver = match loaded.get(&sk) {
            Some((_, was)) if *was == body => {
                open.push(sk);
                continue;
            }
            Some((ver, _)) => ver + 1,
            None => 1,
        };
        let expires = window.until().saturating_add(KEEP);
        puts.push(Row {
            pk: pk(&sk),
            sk: sk.clone(),
            ver,
            body,
            expires,
        });
        open.push(sk);
    }
    puts.extend(pending.iter().map(|(r, _)| r.clone()));
    let mut closed: Vec<(String, String)> = loaded
        .keys()
        .filter(|k| !open.contains(k))
        .map(|k| (pk(k), k.clone()))
        .collect();
    // Past one transaction, the windows first, then their alerts with the closed windows.
    while puts.len() + closed.len() > MAX_WRITE {
        let n = puts.len().min(MAX_WRITE);
        let first: Vec<Row> = puts.drain(..n).collect();
        let room = MAX_WRITE - first.len();
        let gone: Vec<(String, String)> = closed.drain(..room.min(closed.len())).collect();
        if !table.write(&first, &gone).await? {
            return Ok(false);
        }
    }
    table.write(&puts, &closed).await
}
