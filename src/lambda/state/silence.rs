//! A trail that goes silent: every delivery records (account, region, trail prefix, newest
//! `eventTime`, delivery time); the scheduled check raises `trail-silent` for an (account,
//! region) that delivered before and has not for longer than `SILENCE_AFTER`, and the next
//! delivery from it raises `trail-resumed`. Regions that never delivered are never silent.
//!
//! Rows: partitions `trails#0` to `trails#f` (by the first digit of the hash of account and
//! region: no one partition takes every delivery's write), one row per account and region,
//! kept 90 days after its last delivery. `trail-silent` and `trail-resumed` are written to
//! the outbox in the same transaction as the row that decides them.

use super::outbox::{self, Held};
use super::table::{Row, Table, TableError};
use super::Contention;
use crate::alert::id::alert_id;
use crate::alert::operational;
use crate::alert::severity::Severity;
use crate::alert::{Alert, Source};
use crate::correlate::time::format_time;
use crate::lambda::triggers::key_account_region;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use crate::stage::{TRAIL_RESUMED, TRAIL_SILENT};
const TRAILS: &str = "trails";
/// Shards of the trail rows.
const SHARDS: &str = "0123456789abcdef";
const KEEP: i64 = 90 * 86_400;

/// What the table keeps of one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trail {
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// Where its files arrive: `s3://bucket/prefix/` (up to `AWSLogs/`).
    pub prefix: String,
    /// The newest `eventTime` delivered.
    pub last_event: String,
    /// When it last delivered (seconds since the epoch).
    pub last_delivery: i64,
    /// `trail-silent` was raised and it has not delivered since.
    pub silent: bool,
}

/// The partition of the row of `sk` (account/region).
fn pk(sk: &str) -> String {
    let h = alert_id(&[sk]);
    format!("{TRAILS}#{}", h.get(..1).unwrap_or("0"))
}

fn row(t: &Trail, ver: u64) -> Row {
    let sk = format!("{}/{}", t.account, t.region);
    Row {
        pk: pk(&sk),
        sk,
        ver,
        body: serde_json::to_string(t).unwrap_or_default(),
        expires: t.last_delivery.saturating_add(KEEP),
    }
}

/// Records that `bucket`/`key` was delivered at `now` with `newest` as its latest `eventTime`;
/// returns `trail-resumed` (with its outbox row) when the trail was silent. Keys outside
/// CloudTrail's layout are not recorded.
pub async fn delivered<T: Table>(
    table: &T,
    (bucket, key, newest): (&str, &str, &str),
    now: i64,
    budget: Contention,
) -> Result<Option<(Alert, Held)>, TableError> {
    let (account, region) = key_account_region(key);
    if account.is_empty() || region.is_empty() {
        return Ok(None);
    }
    let prefix = key.find("AWSLogs/").map_or("", |i| &key[..i]);
    let sk = format!("{account}/{region}");
    let mut tries = budget.tries();
    while tries.next().await {
        let stored = table.query(&pk(&sk), Some(&sk)).await?.into_iter().next();
        let (before, ver) = match &stored {
            Some(r) => (serde_json::from_str::<Trail>(&r.body).ok(), r.ver),
            None => (None, 0),
        };
        let last_event = before
            .as_ref()
            .map(|b| b.last_event.as_str())
            .filter(|e| *e > newest)
            .unwrap_or(newest);
        let now_trail = Trail {
            account: account.clone(),
            region: region.clone(),
            prefix: format!("s3://{bucket}/{prefix}"),
            last_event: last_event.to_owned(),
            last_delivery: before.as_ref().map_or(now, |b| b.last_delivery.max(now)),
            silent: false,
        };
        let alert = before.filter(|b| b.silent).map(|b| resumed(&b, &now_trail));
        let row = row(&now_trail, ver + 1);
        // One row: a plain conditioned write (a transaction costs twice as much).
        let written = match alert.as_ref().map(outbox::row) {
            None => table.put(&row).await?.then_some(None),
            Some((pending, held)) => table
                .write(&[row, pending], &[])
                .await?
                .then_some(Some(held)),
        };
        if let Some(held) = written {
            return Ok(alert.zip(held));
        }
    }
    Err(TableError {
        table: table.name().to_owned(),
        message: format!("the row of {sk} kept changing ({} tries)", tries.made()),
    })
}

/// The check at `now`: `trail-silent` (with its outbox row) for each trail without a delivery
/// for longer than `after` seconds (once per silence).
pub async fn check<T: Table>(
    table: &T,
    now: i64,
    after: i64,
) -> Result<Vec<(Alert, Held)>, TableError> {
    let mut alerts = Vec::new();
    let mut rows = Vec::new();
    for shard in SHARDS.chars() {
        rows.extend(table.query(&format!("{TRAILS}#{shard}"), None).await?);
    }
    for r in rows {
        let Ok(mut t) = serde_json::from_str::<Trail>(&r.body) else {
            continue;
        };
        if t.silent || now - t.last_delivery <= after {
            continue;
        }
        t.silent = true;
        // Another invocation first (a delivery, or a check): it decides.
        let alert = silent(&t, now);
        let (pending, held) = outbox::row(&alert);
        if table.write(&[row(&t, r.ver + 1), pending], &[]).await? {
            alerts.push((alert, held));
        }
    }
    Ok(alerts)
}

/// An operational alert `detector` about trail `t` over the period `from` to `to`; its id
/// hashes detector, account, region and `id_at`.
fn about(detector: &str, t: &Trail, (from, to): (i64, i64), id_at: i64) -> Alert {
    let id = alert_id(&[detector, &t.account, &t.region, &id_at.to_string()]);
    let source = Source::Window {
        start: format_time(from),
        end: format_time(to),
    };
    let mut a = operational(detector, id, source);
    a.account.clone_from(&t.account);
    a.region.clone_from(&t.region);
    (a.first_seen, a.last_seen) = (format_time(from), format_time(to));
    a.evidence.insert("prefix".into(), json!(t.prefix));
    a.evidence
        .insert("last_event_time".into(), json!(t.last_event));
    a.evidence
        .insert("last_delivery".into(), json!(format_time(t.last_delivery)));
    a
}

fn silent(t: &Trail, now: i64) -> Alert {
    let mut a = about(TRAIL_SILENT, t, (t.last_delivery, now), t.last_delivery);
    let minutes = (now - t.last_delivery) / 60;
    a.severity = Severity::High;
    a.title = "CloudTrail stopped delivering logs".into();
    a.summary = format!(
        "No CloudTrail log file from account {} in {} for {minutes} min (last delivery {}, \
         newest event {}): the trail may be stopped, deleted, or its bucket policy changed.",
        t.account,
        t.region,
        format_time(t.last_delivery),
        t.last_event
    );
    a.evidence.insert("silent_minutes".into(), json!(minutes));
    a.remediation = "Check the trail (`aws cloudtrail get-trail-status`): logging on, delivery \
                     errors, the bucket and its policy, the KMS key. Look for StopLogging, \
                     DeleteTrail, UpdateTrail or PutBucketPolicy in the last logs delivered."
        .into();
    a
}

fn resumed(before: &Trail, now: &Trail) -> Alert {
    let period = (before.last_delivery, now.last_delivery);
    let mut a = about(TRAIL_RESUMED, now, period, now.last_delivery);
    a.severity = Severity::Informational;
    a.title = "CloudTrail delivers logs again".into();
    a.summary = format!(
        "CloudTrail log files from account {} in {} arrive again after {} min of silence.",
        now.account,
        now.region,
        (now.last_delivery - before.last_delivery) / 60
    );
    a.remediation = "Review the silent period: events of those minutes may be missing for good \
                     if logging was stopped."
        .into();
    a
}
