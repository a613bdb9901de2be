//! Deduplication windows (`dedup: 60m`) across deliveries: the open windows are rows of
//! partition `dedup`, read by the deliveries whose alerts have a window and by the scheduled
//! check (which publishes the summaries of the windows that closed), written back conditioned
//! on the versions read.

use super::table::{Row, Table, TableError};
use super::Contention;
use crate::alert::id::alert_id;
use crate::alert::Alert;
use crate::correlate::dedup::{Open, WindowKey};
use crate::correlate::Dedup;
use crate::redact::Redacted;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const DEDUP: &str = "dedup";
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

/// What to publish of `alerts` given the windows of `windows` (detector id, seconds), with
/// the summaries of the windows closed at `now`; and how many alerts were held back.
pub async fn admit<T: Table>(
    table: &T,
    windows: &[(String, i64)],
    alerts: &[Redacted<Alert>],
    now: i64,
    budget: Contention,
) -> Result<(Vec<Redacted<Alert>>, u64), TableError> {
    let mut tries = budget.tries();
    while tries.next().await {
        let mut dedup = Dedup::new(windows.iter().cloned());
        let mut loaded: BTreeMap<String, (u64, String)> = BTreeMap::new();
        for row in table.query(DEDUP, None).await? {
            if let Ok(w) = serde_json::from_str::<WindowRow>(&row.body) {
                dedup.restore(w.key, w.window);
                loaded.insert(row.sk, (row.ver, row.body));
            }
        }
        let mut out = Vec::new();
        for a in alerts {
            out.extend(dedup.admit(a.clone()));
        }
        let held = dedup.held;
        out.extend(dedup.close(now));
        if commit(table, &dedup, &loaded).await? {
            return Ok((out, held));
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

/// Writes the windows that changed, deletes those that closed; `Ok(false)` when another
/// invocation wrote first.
async fn commit<T: Table>(
    table: &T,
    dedup: &Dedup,
    loaded: &BTreeMap<String, (u64, String)>,
) -> Result<bool, TableError> {
    let mut open = Vec::new();
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
        let row = Row {
            pk: DEDUP.into(),
            sk: sk.clone(),
            ver,
            body,
            expires,
        };
        if !table.put(&row).await? {
            return Ok(false);
        }
        open.push(sk);
    }
    let closed: Vec<(String, String)> = loaded
        .keys()
        .filter(|k| !open.contains(k))
        .map(|k| (DEDUP.to_owned(), k.clone()))
        .collect();
    for chunk in closed.chunks(25) {
        table.delete(chunk).await?;
    }
    Ok(true)
}
