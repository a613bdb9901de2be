//! A digest file delivered: its signature checked against CloudTrail's public key, its trail's
//! heartbeat and chain recorded, and the log files of its period compared with what was
//! analysed. A listed file no notification brought is analysed now (its alerts published
//! like any other's); a listed file that is gone is `log-file-missing`, one that hashes
//! otherwise `log-file-modified`, and a file of the period that no digest lists
//! `log-file-unlisted`, naming the alerts already published from it.

use super::error::ObjectError;
use super::object::{Job, Outcome, Worker};
use super::s3::{Fetched, ObjectSource, SourceError};
use super::state::files::{self, Analysed};
use super::state::silence::{self, place_of};
use super::state::{unix_now, AnyTable, State};
use super::triggers::ObjectRef;
use crate::alert::related::Related;
use crate::alert::Alert;
use crate::digest::alerts::verdict_alert;
use crate::digest::ledger::{Verdict, EDGE};
use crate::digest::{Digest, KeyKind, KeyParts, Signature};
use crate::redact::Redacted;
use crate::stage::Counts;
use std::collections::{BTreeMap, BTreeSet};

/// What the state proved about one digest's period.
#[derive(Default)]
struct Proven {
    /// Its verdicts were published by an earlier delivery of it: nothing to do.
    already: bool,
    /// Written once its alerts are published: the files it listed, by hour, and the hours it
    /// judged through; then that it was judged (a digest delivered again proves nothing twice).
    marks: Option<Marks>,
    verdicts: Vec<(Verdict, Vec<Related>)>,
    /// `trail-resumed`, with its outbox row.
    resumed: Vec<(Alert, super::state::outbox::Held)>,
    /// The log files analysed now (their notification never came).
    healed: Counts,
}

/// What a digest's verdicts leave in the state once published.
struct Marks {
    place: String,
    start: i64,
    listed: BTreeMap<i64, Vec<(String, String)>>,
    through: i64,
}

/// Digests never notified processed before the one that names them, at most.
const MAX_CHASE: u8 = 3;

/// Whether S3 said the object does not exist.
fn is_gone(e: &SourceError) -> bool {
    matches!(e, SourceError::Permanent(t) if t.contains("NoSuchKey") || t.contains("404"))
}

impl<S: ObjectSource> Worker<'_, S> {
    /// Notes in the state that log file `object` was analysed (hash `sha`, its `alerts`).
    /// When a digest already judged its hour, what it proves comes back: a file it lists with
    /// another hash (rewritten since), or one it does not list (not CloudTrail's).
    pub(super) async fn note_analysed(
        &self,
        state: &State<AnyTable>,
        object: &ObjectRef,
        sha: Option<&str>,
        alerts: &[Redacted<Alert>],
    ) -> Vec<Redacted<Alert>> {
        let Some((place, parts)) = place_of(&object.bucket, &object.key) else {
            return Vec::new();
        };
        let KeyKind::Log { written } = parts.kind else {
            return Vec::new();
        };
        let at = written.map_or_else(unix_now, |w| w.min(unix_now()));
        let related: Vec<Related> = alerts
            .iter()
            .map(|a| Related {
                detector: a.detector.clone(),
                id: a.id.clone(),
            })
            .collect();
        let noted = files::analysed(&state.table, &place, at, (&object.key, sha), &related).await;
        let before = match noted {
            Ok(before) => before,
            Err(e) => {
                tracing::warn!(bucket = %object.bucket, key = %object.key, error = %e, "log file not noted as analysed: its digest will analyse it again");
                return Vec::new();
            }
        };
        let key = object.key.clone();
        let verdict = match before.listed.get(&key) {
            Some(listed) => sha
                .filter(|s| !listed.eq_ignore_ascii_case(s))
                .map(|found| Verdict::Modified {
                    key,
                    digest: String::new(),
                    listed: listed.clone(),
                    found: found.to_owned(),
                }),
            None if written.is_none_or(|w| w < before.through) => Some(Verdict::Unlisted { key }),
            None => None,
        };
        verdict
            .map(|v| {
                let mut a = verdict_alert(&v, &object.bucket);
                a.related = related;
                crate::redact::alert(a)
            })
            .into_iter()
            .collect()
    }

    /// Processes one digest file.
    pub(super) async fn digest(&self, object: ObjectRef, job: Job) -> Outcome {
        self.digest_at(object, job, 0).await
    }

    /// Processes one digest file, `depth` digests after the one notified (a digest names
    /// its previous one: one the function never saw is processed first).
    async fn digest_at(&self, object: ObjectRef, job: Job, depth: u8) -> Outcome {
        let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
        let max = crate::digest::file::MAX_DIGEST;
        let mut attempt = 0;
        let fetched: Fetched = loop {
            attempt += 1;
            match self.source.fetch(&object, max).await {
                Ok(f) => break f,
                Err(e) if is_gone(&e) => {
                    tracing::warn!(bucket, key, "digest file gone before it was read, skipped");
                    return Outcome::Skipped("digest file gone");
                }
                Err(e) => {
                    let e = ObjectError::from_source(&object, e);
                    if e.retry_now() && attempt < self.backoff.attempts {
                        tokio::time::sleep(self.backoff.delay(attempt)).await;
                        continue;
                    }
                    if e.is_retryable() {
                        return Outcome::Retry(e);
                    }
                    // Permanent: read as empty, and said invalid below.
                    break Fetched::default();
                }
            }
        };
        let mut counts = Counts {
            digests: 1,
            ..Counts::default()
        };
        let mut proven = Proven::default();
        let name = format!("s3://{bucket}/{key}");
        match Digest::read(&fetched.bytes[..], &name) {
            Err(e) => proven.verdicts.push((
                Verdict::DigestInvalid {
                    digest: key.into(),
                    why: e.to_string(),
                },
                Vec::new(),
            )),
            Ok(digest) => {
                if let Some(state) = self.state.filter(|_| !job.backfill) {
                    let signature = fetched.signature.as_deref();
                    let proving = self.prove(state, &object, (&digest, signature), (job, depth));
                    match Box::pin(proving).await {
                        Ok(p) if p.already => {
                            // Judged before: its alerts were published then.
                            tracing::info!(bucket, key, "digest file already checked");
                            return Outcome::Done {
                                counts: Box::new(counts),
                                ingest_error: None,
                            };
                        }
                        Ok(p) => {
                            proven.verdicts.extend(p.verdicts);
                            proven.resumed = p.resumed;
                            proven.healed = p.healed;
                            proven.marks = p.marks;
                        }
                        Err(e) => return Outcome::Retry(e),
                    }
                }
                if let Some(why) = self.bad_signature(&object, &digest, &fetched).await {
                    let v = Verdict::DigestInvalid {
                        digest: key.into(),
                        why,
                    };
                    proven.verdicts.push((v, Vec::new()));
                }
            }
        }
        counts.add(&proven.healed);
        let mut extra = Vec::new();
        let mut held = Vec::new();
        for (v, related) in &proven.verdicts {
            let mut a = verdict_alert(v, bucket);
            a.related.clone_from(related);
            extra.push(crate::redact::alert(a));
        }
        for (a, h) in proven.resumed {
            extra.push(crate::redact::alert(a));
            held.push(h);
        }
        let published = self
            .publish_about(Some(&object), job.stage, extra, held)
            .await;
        let mine = match published {
            Ok(mine) => mine,
            Err(why) => {
                tracing::error!(bucket, key, error = %why, "digest alerts not published, left for a later try");
                return Outcome::Retry(ObjectError::retryable(&object, why));
            }
        };
        let alerts = mine.alerts_total();
        counts.add(&mine);
        if let (Some(m), Some(state)) = (proven.marks, self.state) {
            // After publishing: a fault here makes a later delivery of the digest prove
            // again (the same alert ids), never lose a verdict.
            let mut written = Ok(());
            for (at, files) in &m.listed {
                written =
                    written.and(files::listed(&state.table, &m.place, *at, files, m.through).await);
            }
            written = written.and(files::judged(&state.table, &m.place, m.start, key).await);
            if let Err(e) = written {
                tracing::warn!(bucket, key, error = %e, "digest not noted as checked: a later delivery checks it again");
            }
        }
        tracing::info!(
            bucket,
            key,
            alerts,
            healed = proven.healed.files,
            "digest file checked"
        );
        Outcome::Done {
            counts: Box::new(counts),
            ingest_error: None,
        }
    }

    /// Why the digest's signature does not verify, if it does not (a key that cannot be had
    /// is logged, not alerted: the digest's files are still compared).
    async fn bad_signature(
        &self,
        object: &ObjectRef,
        digest: &Digest,
        fetched: &Fetched,
    ) -> Option<String> {
        let keys = self.keys?;
        let region = KeyParts::parse(&object.key).map_or("", |p| p.region);
        let at = crate::correlate::time::parse_event_time(&digest.body.digest_end_time)
            .unwrap_or_else(unix_now);
        let fingerprint = &digest.body.digest_public_key_fingerprint;
        let found = match keys.for_digest(region, fingerprint, at).await {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!(bucket = %object.bucket, key = %object.key, error = %e, "CloudTrail's public keys not read: signature not checked");
                return None;
            }
        };
        match crate::digest::sign::check(digest, fetched.signature.as_deref(), &found) {
            Signature::Valid => None,
            Signature::Invalid(why) => Some(why),
            Signature::Unchecked(why) => {
                tracing::warn!(bucket = %object.bucket, key = %object.key, reason = %why, "digest signature not checked");
                None
            }
        }
    }

    /// The heartbeat, the chain, and the log files of the digest's period.
    async fn prove(
        &self,
        state: &State<AnyTable>,
        object: &ObjectRef,
        (digest, signature): (&Digest, Option<&str>),
        (job, depth): (Job, u8),
    ) -> Result<Proven, ObjectError> {
        let fault = |e: super::state::TableError| ObjectError::retryable(object, e.to_string());
        let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
        let mut out = Proven::default();
        let beat = silence::digest_arrived(
            &state.table,
            (bucket, key),
            (digest, signature),
            job.budget(),
        )
        .await
        .map_err(fault)?;
        let Some((place, _)) = place_of(bucket, key) else {
            return Ok(out);
        };
        let time = crate::correlate::time::parse_event_time;
        let start = time(&digest.body.digest_start_time).unwrap_or(0);
        let end = time(&digest.body.digest_end_time).unwrap_or(start);
        let first = files::hour(&state.table, &place, start)
            .await
            .map_err(fault)?;
        if first.judged.contains(key) {
            out.already = true;
            return Ok(out);
        }
        let previous = digest.body.previous_digest_s3_object.clone();
        if let (Some(why), Some(previous)) = (beat.chain, &previous) {
            // The previous digest hashes otherwise than this one says: it was changed.
            let why = format!("changed after CloudTrail wrote it: {why} ({key})");
            let v = Verdict::DigestInvalid {
                digest: previous.clone(),
                why,
            };
            out.verdicts.push((v, Vec::new()));
        }
        if let Some(unseen) = beat.unseen_previous.filter(|_| depth < MAX_CHASE) {
            let prev = ObjectRef::new(bucket, unseen.clone());
            let max = crate::digest::file::MAX_DIGEST;
            match self.source.fetch(&prev, max).await {
                Err(e) if is_gone(&e) => {
                    let why = format!(
                        "the next digest, {key}, names it as its previous one, and it is not in \
                         the bucket: deleted or moved (its hour's log files are unproven)"
                    );
                    let v = Verdict::DigestInvalid {
                        digest: unseen,
                        why,
                    };
                    out.verdicts.push((v, Vec::new()));
                }
                Err(e) => return Err(ObjectError::from_source(&prev, e)),
                Ok(fetched) => {
                    // It is checked against what this digest names, then processed.
                    if let Ok(p) = Digest::read(&fetched.bytes[..], &unseen) {
                        let at = (
                            unseen.as_str(),
                            p.sha256.as_str(),
                            fetched.signature.as_deref(),
                        );
                        if let Some(why) = crate::digest::sign::chain_break(digest, at) {
                            let why = format!("changed after CloudTrail wrote it: {why} ({key})");
                            let v = Verdict::DigestInvalid {
                                digest: unseen.clone(),
                                why,
                            };
                            out.verdicts.push((v, Vec::new()));
                        }
                    }
                    tracing::info!(bucket, key = %unseen, "a digest never notified: processed now");
                    match Box::pin(self.digest_at(prev, job, depth + 1)).await {
                        Outcome::Done { counts, .. } => out.healed.add(&counts),
                        Outcome::Retry(e) => return Err(e),
                        Outcome::Skipped(_) => {}
                    }
                }
            }
        }
        out.resumed.extend(beat.resumed);
        // The hours to read: those of the listed files, and those of the period.
        let written = |k: &str| match KeyParts::parse(k).map(|p| p.kind) {
            Some(KeyKind::Log { written }) => written,
            _ => None,
        };
        let mut hours = BTreeSet::new();
        let listed: BTreeSet<&str> = digest
            .body
            .log_files
            .iter()
            .map(|f| f.s3_object.as_str())
            .collect();
        hours.extend(
            listed
                .iter()
                .filter_map(|k| written(k))
                .map(|w| w.div_euclid(3600)),
        );
        let judged = (start - EDGE, end - EDGE);
        hours.extend(judged.0.div_euclid(3600)..=(judged.1 - 1).div_euclid(3600));
        let mut analysed: BTreeMap<String, Analysed> = BTreeMap::new();
        let mut marked = BTreeSet::new();
        for h in &hours {
            let row = files::hour(&state.table, &place, h * 3600)
                .await
                .map_err(fault)?;
            analysed.extend(row.analysed);
            marked.extend(row.listed.into_keys());
        }
        // Every listed file: analysed, and as CloudTrail wrote it. Each hour read is marked
        // judged (through the end of the period, less the edge).
        let mut newly_listed: BTreeMap<i64, Vec<(String, String)>> =
            hours.iter().map(|h| (h * 3600, Vec::new())).collect();
        for f in &digest.body.log_files {
            let at = written(&f.s3_object).unwrap_or(end).div_euclid(3600) * 3600;
            let entry = (f.s3_object.clone(), f.hash_value.to_ascii_lowercase());
            newly_listed.entry(at).or_default().push(entry);
            let (sha, related) = match analysed.get(&f.s3_object) {
                Some(a) => {
                    // Read more than once (rewritten): any other hash is a change.
                    let other = a
                        .sha256
                        .iter()
                        .find(|s| !s.eq_ignore_ascii_case(&f.hash_value));
                    let sha = other.or(a.sha256.first()).cloned();
                    (sha, a.alerts.clone())
                }
                None => {
                    let file = ObjectRef::new(&f.s3_bucket, f.s3_object.clone());
                    match self.heal(&file, job, &mut out.healed).await? {
                        Some(sha) => (sha, Vec::new()),
                        None => {
                            let v = Verdict::Missing {
                                key: f.s3_object.clone(),
                                digest: key.into(),
                            };
                            out.verdicts.push((v, Vec::new()));
                            continue;
                        }
                    }
                }
            };
            if let Some(found) = sha.filter(|s| !s.eq_ignore_ascii_case(&f.hash_value)) {
                let v = Verdict::Modified {
                    key: f.s3_object.clone(),
                    digest: key.into(),
                    listed: f.hash_value.to_ascii_lowercase(),
                    found,
                };
                out.verdicts.push((v, related));
            }
        }
        out.marks = Some(Marks {
            place: place.clone(),
            start,
            listed: newly_listed,
            through: judged.1,
        });
        // Files of the period no digest lists. Those written just before it belong to the
        // previous digest: judged only when that one was recorded (it marked its files).
        let from = if beat.followed { judged.0 } else { start };
        for (k, a) in &analysed {
            let at = written(k);
            let inside = at.is_none_or(|w| (from..judged.1).contains(&w));
            if inside && !listed.contains(k.as_str()) && !marked.contains(k) {
                out.verdicts
                    .push((Verdict::Unlisted { key: k.clone() }, a.alerts.clone()));
            }
        }
        Ok(out)
    }

    /// Analyses a listed file no notification brought: `None` when it is gone, else its
    /// SHA-256 if it could be read to its end.
    async fn heal(
        &self,
        file: &ObjectRef,
        job: Job,
        counts: &mut Counts,
    ) -> Result<Option<Option<String>>, ObjectError> {
        match self.source.open(file).await {
            Err(e) if is_gone(&e) => return Ok(None),
            Err(e) => {
                let e = ObjectError::from_source(file, e);
                if e.is_retryable() {
                    return Err(e);
                }
                // Unreadable for good: the log path publishes its ingest-error.
            }
            Ok(reader) => drop(reader),
        }
        tracing::info!(bucket = %file.bucket, key = %file.key, "listed by its digest and never notified: analysed now");
        let (outcome, sha) = Box::pin(self.log_file(file.clone(), job)).await;
        match outcome {
            Outcome::Done { counts: c, .. } => counts.add(&c),
            Outcome::Retry(e) => return Err(e),
            Outcome::Skipped(_) => {}
        }
        Ok(Some(sha))
    }
}
