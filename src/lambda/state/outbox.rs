//! The outbox: alerts decided by a state write are written with it, in the same transaction
//! (a correlation window, a silent trail, a resumed one, the first alert of a dedup window),
//! and stay until every required output took them. The invocation that decided them holds
//! them for [`LEASE`] seconds while it publishes; if it fails, it releases them with the
//! outputs that did take them, and the next invocation (any delivery, or the scheduled check)
//! claims them and publishes them to the outputs that did not. So a failure between the state
//! and the outputs loses nothing, and no output is sent an alert twice unless an invocation
//! dies between an output's answer and the row's update (then the alert's id is the same).
//!
//! Rows: partition `outbox`, one row per alert (sort key: its id), kept 14 days at most.

use super::table::{Row, Table, TableError};
use crate::alert::Alert;
use crate::redact::{self, Redacted};
use serde::{Deserialize, Serialize};

/// The partition of pending alerts.
pub const OUTBOX: &str = "outbox";
/// Seconds an invocation holds the alerts it decided (or claimed) while it publishes them.
pub const LEASE: i64 = 120;
/// Pending alerts older than this are given up to the table's TTL.
const KEEP: i64 = 14 * 86_400;

/// One pending alert.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The alert, masked.
    pub alert: Alert,
    /// The outputs that took it.
    #[serde(default)]
    pub sent: Vec<String>,
    /// Until when an invocation holds it (seconds since the epoch).
    pub lease: i64,
    /// When it was decided (seconds since the epoch): it is given up 14 days later, however
    /// often it is claimed.
    #[serde(default)]
    pub since: i64,
}

/// A pending alert as stored: the row's version, and what it holds.
#[derive(Debug, Clone)]
pub struct Held {
    /// The row's version.
    pub ver: u64,
    /// The alert and the outputs that took it.
    pub pending: Pending,
}

/// The outbox row of `alert`, held by the deciding invocation from now (the clock, not the
/// time a scheduled check was given).
pub fn row(alert: &Alert) -> (Row, Held) {
    let now = super::unix_now();
    let pending = Pending {
        alert: redact::alert(alert.clone()).into_inner(),
        sent: Vec::new(),
        lease: now + LEASE,
        since: now,
    };
    let held = Held { ver: 1, pending };
    (to_row(&held), held)
}

fn to_row(h: &Held) -> Row {
    Row {
        pk: OUTBOX.into(),
        sk: h.pending.alert.id.clone(),
        ver: h.ver,
        body: serde_json::to_string(&h.pending).unwrap_or_default(),
        expires: h.pending.since.max(0).saturating_add(KEEP),
    }
}

/// Claims the pending alerts no invocation holds at `now` (another invocation's claim wins).
pub async fn claim<T: Table>(table: &T, now: i64) -> Result<Vec<Held>, TableError> {
    let mut claimed = Vec::new();
    for r in table.query(OUTBOX, None).await? {
        let Ok(mut pending) = serde_json::from_str::<Pending>(&r.body) else {
            tracing::warn!(sk = %r.sk, "outbox: row not understood, left to expire");
            continue;
        };
        if pending.lease > now {
            continue;
        }
        pending.lease = now + LEASE;
        let held = Held {
            ver: r.ver + 1,
            pending,
        };
        if table.put(&to_row(&held)).await? {
            claimed.push(held);
        }
    }
    Ok(claimed)
}

/// After publishing `held`: `took` are the outputs that took them now, `required` those
/// that must. Alerts every required output took are deleted; the others are released (held
/// no more) with the outputs that took them, for the next invocation.
pub async fn settle<T: Table>(
    table: &T,
    held: Vec<Held>,
    took: &[&str],
    required: &[&str],
) -> Result<(), TableError> {
    let mut done: Vec<Held> = Vec::new();
    for mut h in held {
        for t in took {
            if !h.pending.sent.iter().any(|s| s == t) {
                h.pending.sent.push((*t).to_owned());
            }
        }
        if required
            .iter()
            .all(|r| h.pending.sent.iter().any(|s| s == r))
        {
            done.push(h);
            continue;
        }
        release(table, vec![h]).await?;
    }
    for chunk in done.chunks(25) {
        let keys: Vec<(String, String)> = chunk
            .iter()
            .map(|h| (OUTBOX.to_owned(), h.pending.alert.id.clone()))
            .collect();
        if let Err(e) = table.delete(&keys).await {
            // Kept with every output marked: the next claim sends them nowhere and deletes.
            tracing::warn!(error = %e, "outbox rows not deleted; released as sent");
            release(table, chunk.to_vec()).await?;
        }
    }
    Ok(())
}

/// Gives `held` back unpublished: the next invocation claims them at once.
pub async fn release<T: Table>(table: &T, held: Vec<Held>) -> Result<(), TableError> {
    for mut h in held {
        h.pending.lease = 0;
        h.ver += 1;
        // Lost to a claim by another invocation: that one publishes it.
        let _ = table.put(&to_row(&h)).await?;
    }
    Ok(())
}

/// The alerts of `held`, masked, for the outputs.
pub fn alerts(held: &[Held]) -> Vec<Redacted<Alert>> {
    held.iter()
        .map(|h| redact::alert(h.pending.alert.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{operational, Source};
    use crate::lambda::state::MemoryTable;

    #[tokio::test]
    async fn a_pending_alert_expires_14_days_after_its_decision_however_often_it_is_claimed() {
        let table = MemoryTable::default();
        let source = Source::File { file: "f".into() };
        let alert = operational("trail-silent", "a1".into(), source);
        let (first, held) = row(&alert);
        assert!(table
            .write(std::slice::from_ref(&first), &[])
            .await
            .unwrap());
        release(&table, vec![held]).await.unwrap();
        let later = first.expires + 3600 - KEEP;
        let claimed = claim(&table, later).await.unwrap();
        assert_eq!(claimed.len(), 1, "released: claimed again");
        let stored = table.rows();
        assert_eq!(stored[0].expires, first.expires, "the expiry does not move");
        assert_eq!(stored[0].ver, 3);
        settle(&table, claimed, &["sns"], &["sns"]).await.unwrap();
        assert!(
            table.rows().is_empty(),
            "every required output took it: gone"
        );
    }
}
