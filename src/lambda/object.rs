//! One object: open, analyse (retrying transient faults), publish its alerts.

use super::error::ObjectError;
use super::ingest::ingest_alert;
use super::keys::KeyCache;
use super::memory::TableMemory;
use super::outputs::Outputs;
use super::retry::{Backoff, Contention};
use super::s3::{ObjectReader, ObjectSource, SourceError};
use super::state::outbox::{self, Held};
use super::state::{unix_now, AnyTable, State, Table};
use super::triggers::{is_log_key, ObjectRef};
use crate::alert::{Alert, Source};
use crate::delivery::{Analysis, Pipeline};
use crate::redact::Redacted;
use crate::scan::Contents;
use crate::stage::{Counts, Delivery, NoMemory, Stage};
use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What became of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Analysed (maybe only in part) and its alerts published. `ingest_error` says why it
    /// could not be read to its end: an `ingest-error` alert was published for it.
    Done {
        /// What was scanned and published.
        counts: Box<Counts>,
        /// Why the object could not be read to its end, if so.
        ingest_error: Option<ObjectError>,
    },
    /// Not a log file (digest, other key): nothing to do.
    Skipped(&'static str),
    /// Nothing was published: try the object again later.
    Retry(ObjectError),
}

/// When the invocation ends, and how much of it is kept for publishing: no object starts
/// with less than twice `reserve` left, and a scan still running at `reserve` gives up.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: Instant,
    pub reserve: Duration,
}

/// What every object of one invocation shares.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub deadline: Deadline,
    /// The stage after the pipeline: its minimum severity is `MIN_SEVERITY`, or a Batch
    /// Operations job's argument.
    pub stage: Stage,
    /// A Batch Operations job over old logs: the state across deliveries is left alone.
    pub backfill: bool,
}

impl Job {
    /// The budget of the state table's optimistic loops: they give up when only the time
    /// kept for publishing is left.
    pub fn budget(&self) -> Contention {
        let until = self.deadline.at.checked_sub(self.deadline.reserve);
        Contention::DEFAULT.until(until.unwrap_or(self.deadline.at))
    }
}

impl Deadline {
    /// `reserve` at most `max`, and at most a quarter of the time left now (short timeouts).
    pub fn new(at: Instant, max: Duration) -> Deadline {
        Deadline {
            at,
            reserve: max.min(Deadline::left_until(at) / 4),
        }
    }

    fn left_until(at: Instant) -> Duration {
        at.saturating_duration_since(Instant::now())
    }

    fn left(&self) -> Duration {
        Deadline::left_until(self.at)
    }
}

/// What processing an object needs: where it comes from, how to analyse, where alerts go.
pub struct Worker<'a, S> {
    pub source: &'a S,
    /// The pipeline in force when the object started.
    pub pipeline: Arc<Pipeline>,
    /// How reading retries.
    pub backoff: Backoff,
    /// Where alerts go (`OUTPUTS`).
    pub outputs: &'a Outputs,
    /// State across deliveries (correlation windows, trails), when `STATE_TABLE` is set.
    pub state: Option<&'a State<AnyTable>>,
    /// CloudTrail's public keys, for the signatures of digest files.
    pub keys: Option<&'a KeyCache>,
}

impl<S: ObjectSource> Worker<'_, S> {
    /// Processes one object (a log file or a digest file); never fails as a whole (the
    /// outcome says what happened).
    pub async fn process(&self, object: ObjectRef, job: Job) -> Outcome {
        let key = object.key.as_str();
        if crate::digest::key::is_digest(key) {
            return Box::pin(self.digest(object, job)).await;
        }
        if !is_log_key(key) {
            tracing::info!(bucket = %object.bucket, key, "not a CloudTrail log file, skipped");
            return Outcome::Skipped("not a CloudTrail log file");
        }
        self.log_file(object, job).await.0
    }

    /// Processes one log file: the outcome, and the SHA-256 of its uncompressed content when
    /// it was read to its end.
    pub(super) async fn log_file(&self, object: ObjectRef, job: Job) -> (Outcome, Option<String>) {
        let deadline = job.deadline;
        let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
        let started = Instant::now();
        let mut attempt = 0;
        let (mut analysis, problem) = loop {
            if attempt > 0 {
                tokio::time::sleep(self.backoff.delay(attempt)).await;
            }
            if deadline.left() <= deadline.reserve * 2 {
                let e = ObjectError::retryable(
                    &object,
                    "the invocation's time is nearly up: left for a later try",
                );
                tracing::warn!(bucket, key, "{}", e.reason());
                return (Outcome::Retry(e), None);
            }
            attempt += 1;
            match self.read(&object, deadline).await {
                Ok(done) => break done,
                Err(e) if e.retry_now() && attempt < self.backoff.attempts => {
                    tracing::warn!(bucket, key, attempt, error = %e.reason(), "transient fault, retrying");
                }
                Err(e) => {
                    tracing::error!(bucket, key, attempt, error = %e.reason(), "still failing, left for a later try");
                    return (Outcome::Retry(e), None);
                }
            }
        };
        let mut counts = Counts {
            files: 1,
            ..Counts::default()
        };
        let mut extra = Vec::new();
        let oversized = analysis.report.oversized;
        if let Some(e) = &problem {
            tracing::error!(bucket, key, reason = %e.reason(), "log file unreadable");
            counts.ingest_errors += 1;
            extra.push(ingest_alert(&object, e.reason(), None));
        } else if oversized > 0 {
            // The rest of the file was read: the object is done, and the alert names it.
            let warnings = &analysis.report.warnings;
            let first = warnings.iter().find(|w| w.contains("record limit"));
            let first = first.map_or("", String::as_str);
            let reason = format!(
                "{oversized} record(s) read past, not analysed (MAX_RECORD_SIZE); the others were; first: {first}"
            );
            tracing::error!(
                bucket,
                key,
                oversized,
                "records over the size limit skipped"
            );
            counts.ingest_errors += 1;
            extra.push(ingest_alert(&object, &reason, None));
        }
        note_account_mismatch(&mut analysis, key);
        // A backfill is not a delivery: it leaves the state across deliveries alone.
        let state = self.state.filter(|_| !job.backfill);
        let mut memory = TableMemory::new(state, &self.pipeline, job.budget());
        let calls_before = state.map_or(0, |s| s.table.calls());
        let name = format!("s3://{bucket}/{key}");
        let newest_event = analysis.report.newest_event.clone();
        let delivery = Delivery {
            name: &name,
            object: Some((bucket, key)),
            newest_event: &newest_event,
            clock: Some(unix_now()),
        };
        let decided = job
            .stage
            .delivery(&mut analysis, extra, delivery, &mut memory, &mut counts)
            .await;
        let alerts = match decided {
            Ok(alerts) => alerts,
            Err(e) => {
                tracing::error!(bucket, key, error = %e, "state not updated, left for a later try");
                // Alerts it decided before the fault go to the next invocation at once.
                self.release(std::mem::take(&mut memory.held)).await;
                return (
                    Outcome::Retry(ObjectError::retryable(&object, e.to_string())),
                    None,
                );
            }
        };
        counts.state_calls = state.map_or(0, |s| s.table.calls()) - calls_before;
        let uncorrelated = [
            (counts.late, "too late for their correlation windows"),
            (
                counts.ahead,
                "dated more than 15 minutes ahead of the clock",
            ),
        ];
        for (matches, why) in uncorrelated.into_iter().filter(|(n, _)| *n > 0) {
            tracing::warn!(
                bucket,
                key,
                matches,
                "base-rule matches not correlated: {why}"
            );
        }
        if counts.held > 0 {
            tracing::info!(
                bucket,
                key,
                held = counts.held,
                "alerts held back by dedup windows"
            );
        }
        if let Some(why) = self
            .deliver(&alerts, std::mem::take(&mut memory.held))
            .await
        {
            tracing::error!(bucket, key, error = %why, "alerts not published, left for a later try");
            return (Outcome::Retry(ObjectError::retryable(&object, why)), None);
        }
        // Damaged content hashes as far as it reads (not what CloudTrail wrote).
        let sha256 = analysis.report.sha256.clone();
        // Noted without a hash when it was not read whole or LOG_INTEGRITY is off: its digest
        // then finds it analysed, and cannot compare it.
        if let Some(state) = state {
            let sha = sha256.as_deref();
            // Published, then noted: a digest that lists it finds it analysed (a fault here
            // makes the digest analyse it again, with the same alert ids).
            let proven = self.note_analysed(state, &object, sha, &alerts).await;
            if !proven.is_empty() {
                match self
                    .publish_about(Some(&object), job.stage, proven, Vec::new())
                    .await
                {
                    Ok(more) => counts.add(&more),
                    Err(why) => {
                        tracing::error!(bucket, key, error = %why, "integrity alert not published, left for a later try");
                        return (Outcome::Retry(ObjectError::retryable(&object, why)), None);
                    }
                }
            }
        }
        let report = &analysis.report;
        let suppressed = counts.suppressed.dropped.values().sum::<u64>();
        if report.contents == Contents::Digest {
            tracing::info!(
                bucket,
                key,
                "a digest file outside CloudTrail's layout, skipped"
            );
        }
        tracing::info!(
            bucket,
            key,
            records = report.records,
            skipped_records = report.skipped,
            oversized_records = report.oversized,
            deep_subtrees = report.deep_subtrees,
            bytes = report.input_bytes,
            uncompressed_bytes = report.bytes,
            ms = started.elapsed().as_millis() as u64,
            alerts = alerts.len(),
            suppressed,
            state_calls = counts.state_calls,
            "object scanned"
        );
        let outcome = Outcome::Done {
            counts: Box::new(counts),
            ingest_error: problem,
        };
        (outcome, sha256)
    }

    /// Publishes operational alerts about `object` (none: about the function), with their
    /// outbox rows `held`, through the stage (without memory) and the outputs: what was
    /// published, counted, or why it must be tried again.
    pub(super) async fn publish_about(
        &self,
        object: Option<&ObjectRef>,
        stage: Stage,
        alerts: Vec<Redacted<Alert>>,
        held: Vec<Held>,
    ) -> Result<Counts, String> {
        let name = object.map_or_else(String::new, |o| format!("s3://{}/{}", o.bucket, o.key));
        let delivery = Delivery {
            name: &name,
            object: object.map(|o| (o.bucket.as_str(), o.key.as_str())),
            newest_event: "",
            clock: Some(unix_now()),
        };
        let mut counts = Counts::default();
        let mut none = Analysis::default();
        let Ok(published) = stage
            .delivery(&mut none, alerts, delivery, &mut NoMemory, &mut counts)
            .await;
        match self.deliver(&published, held).await {
            None => Ok(counts),
            Some(why) => Err(why),
        }
    }

    /// Gives the outbox rows `held` back unpublished, for the next invocation.
    async fn release(&self, held: Vec<Held>) {
        if let Some(state) = self.state.filter(|_| !held.is_empty()) {
            if let Err(e) = outbox::release(&state.table, held).await {
                tracing::warn!(error = %e, "outbox not released: its alerts wait for the lease");
            }
        }
    }

    /// Sends the alerts to every output, each whatever the others did, then settles the
    /// outbox rows `held` (this invocation's decisions): gone once every required output took
    /// them, else released for the next invocation with the outputs that did. Says why the
    /// object must be retried when a required output failed.
    pub(super) async fn deliver(
        &self,
        alerts: &[Redacted<Alert>],
        held: Vec<Held>,
    ) -> Option<String> {
        let published = self.outputs.publish_to(alerts, &[]).await;
        if let Some(state) = self.state.filter(|_| !held.is_empty()) {
            let required = self.outputs.required();
            if let Err(e) = outbox::settle(&state.table, held, &published.took, &required).await {
                tracing::warn!(error = %e, "outbox not settled: a later invocation publishes its alerts again");
            }
        }
        if published.failed.is_empty() {
            return None;
        }
        let why: Vec<String> = published.failed.iter().map(ToString::to_string).collect();
        Some(why.join("; "))
    }

    /// Opens and analyses. `Err` is a retryable fault (nothing kept); a permanent fault comes
    /// with whatever the readable part gave.
    async fn read(
        &self,
        object: &ObjectRef,
        deadline: Deadline,
    ) -> Result<(Analysis, Option<ObjectError>), ObjectError> {
        let reader = match self.source.open(object).await {
            Ok(r) => r,
            Err(e) => {
                return match ObjectError::from_source(object, e) {
                    e if e.is_retryable() => Err(e),
                    e => Ok((Analysis::default(), Some(e))),
                }
            }
        };
        let pipeline = Arc::clone(&self.pipeline);
        let owned = object.clone();
        let cutoff = deadline
            .at
            .checked_sub(deadline.reserve)
            .unwrap_or(deadline.at);
        let scanned =
            tokio::task::spawn_blocking(move || analyse(&pipeline, reader, &owned, cutoff)).await;
        match scanned {
            Ok(result) => result,
            Err(e) => Ok((
                Analysis::default(),
                Some(ObjectError::permanent(
                    object,
                    format!("internal error while scanning: {e}"),
                )),
            )),
        }
    }
}

/// Analyses one opened object on a blocking thread, watching the reader's faults.
fn analyse(
    pipeline: &Pipeline,
    reader: ObjectReader,
    object: &ObjectRef,
    cutoff: Instant,
) -> Result<(Analysis, Option<ObjectError>), ObjectError> {
    let fault = Arc::new(Mutex::new(None));
    let watched = Watched {
        inner: reader,
        cutoff,
        fault: Arc::clone(&fault),
    };
    let source = Source::Object {
        bucket: object.bucket.clone(),
        key: object.key.clone(),
    };
    let mut analysis = pipeline.analyse(watched, source, None);
    let fault = fault.lock().unwrap_or_else(|p| p.into_inner()).take();
    if fault.is_some() {
        // The object was not read to its end: its hash is of nothing CloudTrail wrote.
        analysis.report.sha256 = None;
    }
    let problem = match fault {
        Some(e) => match ObjectError::from_source(object, e) {
            e if e.is_retryable() => return Err(e),
            e => Some(e),
        },
        None => analysis
            .report
            .error
            .as_ref()
            .map(|e| ObjectError::permanent(object, e.to_string())),
    };
    Ok((analysis, problem))
}

/// A reader that remembers how it failed and gives up when the invocation's time runs short.
struct Watched {
    inner: ObjectReader,
    cutoff: Instant,
    fault: Arc<Mutex<Option<SourceError>>>,
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = if Instant::now() >= self.cutoff {
            Err(SourceError::Transient("the invocation's time is nearly up".into()).into_io())
        } else {
            self.inner.read(buf)
        };
        if let Err(e) = &result {
            if e.kind() != io::ErrorKind::Interrupted {
                let mut slot = self.fault.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert_with(|| SourceError::from_io(e));
            }
        }
        result
    }
}

/// Alerts whose account is not the one the log file was delivered for (its key) say so in
/// their evidence (`delivered_for_account`): a record says what it likes, the key is where
/// CloudTrail put the file. Security Hub files them under the key's account.
fn note_account_mismatch(analysis: &mut Analysis, key: &str) {
    let (delivered, _) = crate::lambda::triggers::key_account_region(key);
    if delivered.is_empty() {
        return;
    }
    for a in &mut analysis.alerts {
        if a.account.is_empty() || a.account == delivered {
            continue;
        }
        let mut alert = a.clone().into_inner();
        alert
            .evidence
            .insert("delivered_for_account".into(), delivered.clone().into());
        *a = crate::redact::alert(alert);
    }
}
