//! Trails that go silent, from CloudTrail's own heartbeat: a trail with log file validation
//! delivers a digest file every hour and region, also when no log file was written. Each
//! digest records its trail's `digestEndTime` (a row per place and trail, from the digest's
//! key); the scheduled check raises `trail-silent` (high) once a trail's next digest is
//! overdue (`SILENCE_AFTER`, 2 hours by default), and its next digest `trail-resumed`. A quiet
//! region that keeps sending digests is never silent.
//!
//! A place (bucket, prefix, account, region) whose log files come without digests is
//! reported once as `trail-unverifiable` (low), and judged from its log deliveries only, by
//! the minute in their names (not when the function ran): `trail-silent` at medium after
//! `UNVERIFIED_SILENCE_AFTER` (6 hours by default). Never high pages for quiet regions.
//!
//! Rows: partitions `trails#0` to `trails#f` (by the first digit of the hash of the sort key),
//! sort keys `log|PLACE` and `digest|PLACE|TRAIL`, kept 90 days after their last delivery.
//! `trail-silent` and `trail-resumed` are written to the outbox in the same transaction as the
//! row that decides them.

use super::outbox::{self, Held};
use super::table::{Row, Table, TableError};
use super::Contention;
use crate::alert::id::alert_id;
use crate::alert::operational;
use crate::alert::severity::Severity;
use crate::alert::{Alert, Source};
use crate::correlate::time::format_time;
use crate::digest::{Digest, KeyKind, KeyParts};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use crate::stage::{TRAIL_RESUMED, TRAIL_SILENT, TRAIL_UNVERIFIABLE};
const TRAILS: &str = "trails";
/// Shards of the trail rows.
const SHARDS: &str = "0123456789abcdef";
const KEEP: i64 = 90 * 86_400;
/// A place whose log files came for this long without a digest is `trail-unverifiable`.
pub const UNVERIFIABLE_AFTER: i64 = 2 * 3600;

/// What the table keeps of one place or trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beat {
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// Where its files arrive: `s3://bucket/prefix/AWSLogs/[o-ORG/]ACCOUNT/REGION`.
    pub place: String,
    /// The trail (digest rows); empty for a place's log deliveries.
    #[serde(default)]
    pub trail: String,
    /// The last heartbeat: the newest `digestEndTime`, or the newest log file's minute.
    pub last: i64,
    /// The first log delivery seen (log rows).
    #[serde(default)]
    pub first: i64,
    /// The newest `eventTime` delivered (log rows).
    #[serde(default)]
    pub last_event: String,
    /// `trail-silent` was raised and it has not delivered since.
    pub silent: bool,
    /// A digest came for this place (log rows): its log deliveries are not judged.
    #[serde(default)]
    pub digests: bool,
    /// `trail-unverifiable` was raised (log rows).
    #[serde(default)]
    pub unverifiable: bool,
    /// The last digest: its key, SHA-256 and signature (digest rows), for the chain.
    #[serde(default)]
    pub chain: Option<(String, String, Option<String>)>,
}

impl Beat {
    fn sk(&self) -> String {
        match self.trail.as_str() {
            "" => format!("log|{}", self.place),
            trail => format!("digest|{}|{trail}", self.place),
        }
    }
}

/// The partition of the row of `sk`.
fn pk(sk: &str) -> String {
    let h = alert_id(&[sk]);
    format!("{TRAILS}#{}", h.get(..1).unwrap_or("0"))
}

fn row(b: &Beat, ver: u64) -> Row {
    let sk = b.sk();
    Row {
        pk: pk(&sk),
        sk,
        ver,
        body: serde_json::to_string(b).unwrap_or_default(),
        expires: b.last.saturating_add(KEEP),
    }
}

/// The place of a key in `bucket`, with its parts.
pub fn place_of<'k>(bucket: &str, key: &'k str) -> Option<(String, KeyParts<'k>)> {
    let parts = KeyParts::parse(key)?;
    Some((format!("s3://{bucket}/{}", parts.location()), parts))
}

/// Reads the row of `sk` and writes what `change` makes of it (`None`: nothing to write),
/// with the alert it decides in the same transaction; reread when another writer was first.
async fn update<T: Table>(
    table: &T,
    sk: &str,
    budget: Contention,
    mut change: impl FnMut(Option<Beat>) -> Option<(Beat, Option<Alert>)>,
) -> Result<Option<(Alert, Held)>, TableError> {
    let mut tries = budget.tries();
    while tries.next().await {
        let stored = table.query(&pk(sk), Some(sk)).await?.into_iter().next();
        let (before, ver) = match &stored {
            Some(r) => (serde_json::from_str::<Beat>(&r.body).ok(), r.ver),
            None => (None, 0),
        };
        let Some((after, alert)) = change(before) else {
            return Ok(None);
        };
        let row = row(&after, ver + 1);
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

/// Records that log file `bucket`/`key` (newest `eventTime`: `newest`) was delivered, at `now`
/// at the latest; returns `trail-resumed` (with its outbox row) when its place was silent.
/// Keys outside CloudTrail's layout are not recorded.
pub async fn delivered<T: Table>(
    table: &T,
    (bucket, key, newest): (&str, &str, &str),
    now: i64,
    budget: Contention,
) -> Result<Option<(Alert, Held)>, TableError> {
    let Some((place, parts)) = place_of(bucket, key) else {
        return Ok(None);
    };
    let KeyKind::Log { written } = parts.kind else {
        return Ok(None);
    };
    // When CloudTrail wrote it (its name), not when the function ran: a backlog is not silence.
    let at = written.map_or(now, |w| w.min(now));
    let fresh = Beat {
        account: parts.account.into(),
        region: parts.region.into(),
        place,
        trail: String::new(),
        last: at,
        first: at,
        last_event: newest.into(),
        silent: false,
        digests: false,
        unverifiable: false,
        chain: None,
    };
    let sk = fresh.sk();
    update(table, &sk, budget, |before| {
        let Some(b) = before else {
            return Some((fresh.clone(), None));
        };
        let mut after = b.clone();
        after.last = b.last.max(at);
        after.first = if b.first == 0 { at } else { b.first.min(at) };
        if newest > b.last_event.as_str() {
            newest.clone_into(&mut after.last_event);
        }
        after.silent = false;
        let resumed = b.silent.then(|| resumed(&b, &after));
        Some((after, resumed))
    })
    .await
}

/// What a digest's arrival decided.
#[derive(Debug, Default)]
pub struct DigestBeat {
    /// `trail-resumed`, when the trail was silent.
    pub resumed: Option<(Alert, Held)>,
    /// Why the digest does not follow the last one recorded, if it does not.
    pub chain: Option<String>,
    /// It names the last digest recorded as its previous one (that digest's files were
    /// marked listed).
    pub followed: bool,
    /// The previous digest it names, when that one came after the last recorded (so the
    /// function never saw it: its notification was lost, or it was deleted).
    pub unseen_previous: Option<String>,
}

/// Records the digest `key` of `bucket` (its signature: `signature`): the trail's heartbeat
/// at its `digestEndTime`, and its chain to the last digest recorded.
pub async fn digest_arrived<T: Table>(
    table: &T,
    (bucket, key): (&str, &str),
    (digest, signature): (&Digest, Option<&str>),
    budget: Contention,
) -> Result<DigestBeat, TableError> {
    let Some((place, parts)) = place_of(bucket, key) else {
        return Ok(DigestBeat::default());
    };
    let KeyKind::Digest { trail, end, .. } = parts.kind else {
        return Ok(DigestBeat::default());
    };
    let end = crate::correlate::time::parse_event_time(&digest.body.digest_end_time).unwrap_or(end);
    let mut out = DigestBeat::default();
    let fresh = Beat {
        account: parts.account.into(),
        region: parts.region.into(),
        place: place.clone(),
        trail: trail.into(),
        last: end,
        first: end,
        last_event: String::new(),
        silent: false,
        digests: true,
        unverifiable: false,
        chain: Some((
            key.into(),
            digest.sha256.clone(),
            signature.map(str::to_owned),
        )),
    };
    let sk = fresh.sk();
    let mut chain = None;
    let mut followed = false;
    let mut unseen = None;
    out.resumed = update(table, &sk, budget, |before| {
        chain = None;
        followed = false;
        unseen = None;
        let Some(b) = before else {
            return Some((fresh.clone(), None));
        };
        // Only the digest that names the last one recorded can be checked against it: one
        // that names another follows a digest this function never saw.
        if let Some((last, sha, sig)) = &b.chain {
            let named = digest.body.previous_digest_s3_object.as_deref();
            if named == Some(last.as_str()) {
                followed = true;
                chain = crate::digest::sign::chain_break(digest, (last, sha, sig.as_deref()));
            } else if end > b.last {
                // Digest keys of a trail sort by time.
                unseen = named.filter(|n| *n > last.as_str()).map(str::to_owned);
            }
        }
        if end <= b.last {
            // A late or repeated digest: its chain is checked, the heartbeat stays.
            return None;
        }
        let mut after = fresh.clone();
        after.first = b.first;
        let resumed = b.silent.then(|| resumed(&b, &after));
        Some((after, resumed))
    })
    .await?;
    out.chain = chain;
    out.followed = followed;
    out.unseen_previous = unseen;
    // The place's log deliveries are no longer judged: its digests are.
    let log_sk = format!("log|{place}");
    update(table, &log_sk, budget, |before| {
        let b = before.filter(|b| !b.digests)?;
        let after = Beat {
            digests: true,
            silent: false,
            ..b
        };
        Some((after, None))
    })
    .await?;
    Ok(out)
}

/// Every place and trail recorded.
pub async fn beats<T: Table>(table: &T) -> Result<Vec<Beat>, TableError> {
    Ok(rows(table).await?.into_iter().map(|(_, b)| b).collect())
}

/// Every row of the trail partitions, with what it holds (rows not understood left out).
async fn rows<T: Table>(table: &T) -> Result<Vec<(Row, Beat)>, TableError> {
    let mut out = Vec::new();
    for shard in SHARDS.chars() {
        for r in table.query(&format!("{TRAILS}#{shard}"), None).await? {
            if let Ok(b) = serde_json::from_str::<Beat>(&r.body) {
                out.push((r, b));
            }
        }
    }
    Ok(out)
}

/// The settings of the check.
#[derive(Debug, Clone, Copy)]
pub struct Overdue {
    /// A trail's next digest is overdue this long after its last `digestEndTime`.
    pub digests: i64,
    /// A place without digests is silent this long after its last log file.
    pub logs: i64,
}

/// The check at `now`: `trail-silent` (with its outbox row) for each trail whose heartbeat
/// is overdue (once per silence), `trail-unverifiable` once per place without digests.
pub async fn check<T: Table>(
    table: &T,
    now: i64,
    after: Overdue,
) -> Result<Vec<(Alert, Held)>, TableError> {
    let mut alerts = Vec::new();
    for (r, mut b) in rows(table).await? {
        let log_row = b.trail.is_empty();
        if log_row && b.digests {
            continue;
        }
        let mut raised = Vec::new();
        if log_row && !b.unverifiable && now - b.first > UNVERIFIABLE_AFTER {
            b.unverifiable = true;
            raised.push(crate::digest::alerts::unverifiable(
                &b.place, &b.account, &b.region,
            ));
        }
        let limit = if log_row { after.logs } else { after.digests };
        if !b.silent && now - b.last > limit {
            b.silent = true;
            raised.push(silent(&b, now));
        }
        if raised.is_empty() {
            continue;
        }
        let mut puts = vec![row(&b, r.ver + 1)];
        let mut held = Vec::new();
        for a in &raised {
            let (pending, h) = outbox::row(a);
            puts.push(pending);
            held.push(h);
        }
        // Another invocation first (a delivery, or a check): it decides.
        if table.write(&puts, &[]).await? {
            alerts.extend(raised.into_iter().zip(held));
        }
    }
    Ok(alerts)
}

/// An operational alert `detector` about `b` over the period `from` to `to`; its id hashes
/// detector, place, trail and `id_at`.
fn about(detector: &str, b: &Beat, (from, to): (i64, i64), id_at: i64) -> Alert {
    let id = alert_id(&[detector, &b.place, &b.trail, &id_at.to_string()]);
    let source = Source::Window {
        start: format_time(from),
        end: format_time(to),
    };
    let mut a = operational(detector, id, source);
    a.account.clone_from(&b.account);
    a.region.clone_from(&b.region);
    a.subject = format!("{} {}", b.place, b.trail).trim_end().to_owned();
    (a.first_seen, a.last_seen) = (format_time(from), format_time(to));
    a.evidence.insert("place".into(), json!(b.place));
    if b.trail.is_empty() {
        a.evidence
            .insert("last_event_time".into(), json!(b.last_event));
        a.evidence
            .insert("last_log_file".into(), json!(format_time(b.last)));
    } else {
        a.evidence.insert("trail".into(), json!(b.trail));
        a.evidence
            .insert("last_digest_end".into(), json!(format_time(b.last)));
    }
    a
}

fn silent(b: &Beat, now: i64) -> Alert {
    let mut a = about(TRAIL_SILENT, b, (b.last, now), b.last);
    let minutes = (now - b.last) / 60;
    a.evidence.insert("silent_minutes".into(), json!(minutes));
    if b.trail.is_empty() {
        a.severity = Severity::Medium;
        a.title = "No CloudTrail log file for hours (trail without validation)".into();
        a.summary = format!(
            "No CloudTrail log file from account {} in {} for {minutes} min (last written {}): \
             the trail may be stopped, or the region quiet. Without digest files (log file \
             validation off) trailwatch cannot tell the two apart.",
            b.account,
            b.region,
            format_time(b.last)
        );
    } else {
        a.severity = Severity::High;
        a.title = "CloudTrail stopped delivering: its hourly digest is overdue".into();
        a.summary = format!(
            "Trail {} sent no digest file for account {} in {} for {minutes} min (last period \
             ended {}): CloudTrail writes one every hour, even when no event was logged, so \
             the trail is stopped, deleted, or cannot write to its bucket.",
            b.trail,
            b.account,
            b.region,
            format_time(b.last)
        );
    }
    a.remediation = "Check the trail (`aws cloudtrail get-trail-status`): logging on, delivery \
                     errors, the bucket and its policy, the KMS key. Look for StopLogging, \
                     DeleteTrail, UpdateTrail or PutBucketPolicy in the last logs delivered."
        .into();
    a
}

fn resumed(before: &Beat, now: &Beat) -> Alert {
    let period = (before.last, now.last);
    let mut a = about(TRAIL_RESUMED, now, period, now.last);
    a.severity = Severity::Informational;
    a.title = "CloudTrail delivers again".into();
    let what = if now.trail.is_empty() {
        "CloudTrail log files".to_owned()
    } else {
        format!("Digest files of trail {}", now.trail)
    };
    a.summary = format!(
        "{what} from account {} in {} arrive again after {} min of silence.",
        now.account,
        now.region,
        (now.last - before.last) / 60
    );
    a.remediation = "Review the silent period: events of those minutes may be missing for good \
                     if logging was stopped."
        .into();
    a
}

#[cfg(test)]
#[path = "silence_tests.rs"]
mod tests;
