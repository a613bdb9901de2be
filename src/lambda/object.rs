//! One object: open, scan (retrying transient faults), publish its alerts.

use super::handler::Handler;
use super::ingest::ingest_alert;
use super::metrics::Tally;
use super::publish::{publish_all, AlertSink};
use super::s3::{ObjectReader, ObjectSource, SourceError};
use super::sns;
use super::triggers::{is_log_key, ObjectRef};
use crate::alert::{Alert, AlertBuilder, Source};
use crate::scan::{scan, Contents, ScanReport};
use crate::severity::Severity;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What became of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Scanned (maybe only in part) and its alerts published. `ingest_error` says why it
    /// could not be read to its end: an `ingest-error` alert was published for it.
    Done {
        tally: Tally,
        ingest_error: Option<String>,
    },
    /// Not a log file (digest, other key): nothing to do.
    Skipped(String),
    /// A transient fault or the deadline: nothing was published, try the object again later.
    Retry(String),
}

struct Scanned {
    report: Option<ScanReport>,
    alerts: Vec<Alert>,
    /// Why the object could not be read to its end (a permanent fault).
    problem: Option<String>,
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
    /// Alerts below are not published (`MIN_SEVERITY`, or a Batch Operations job's argument).
    pub min_severity: Severity,
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

impl<S: ObjectSource, K: AlertSink> Handler<S, K> {
    /// Processes one object; never fails as a whole (the outcome says what happened).
    pub async fn process(self: Arc<Self>, object: ObjectRef, job: Job) -> Outcome {
        let deadline = job.deadline;
        let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
        if !is_log_key(key) {
            tracing::info!(bucket, key, "not a CloudTrail log file, skipped");
            return Outcome::Skipped("not a CloudTrail log file".into());
        }
        let started = Instant::now();
        let mut attempt = 0;
        let scanned = loop {
            if attempt > 0 {
                tokio::time::sleep(self.backoff.delay(attempt)).await;
            }
            if deadline.left() <= deadline.reserve * 2 {
                let why = "the invocation's time is nearly up: left for a later try";
                tracing::warn!(bucket, key, "{why}");
                return Outcome::Retry(why.into());
            }
            attempt += 1;
            match self.read_object(&object, deadline).await {
                Ok(s) => break s,
                Err(e) if attempt < self.backoff.attempts => {
                    tracing::warn!(bucket, key, attempt, error = %e, "transient fault, retrying");
                }
                Err(e) => {
                    tracing::error!(bucket, key, attempt, error = %e, "still failing, left for a later try");
                    return Outcome::Retry(e);
                }
            }
        };
        let mut tally = Tally::default();
        let mut messages = Vec::new();
        let fifo = self.config.fifo();
        for a in scanned
            .alerts
            .iter()
            .filter(|a| a.severity >= job.min_severity)
        {
            tally.alert(&a.detector, a.severity);
            messages.push(sns::message(a, fifo));
        }
        if let Some(reason) = &scanned.problem {
            tracing::error!(bucket, key, reason = %reason, "log file unreadable");
            let alert = ingest_alert(&object, reason, None);
            tally.alert(&alert.detector, alert.severity);
            tally.ingest_errors += 1;
            messages.push(sns::message(&alert, fifo));
        }
        if let Err(e) = publish_all(&self.sink, &messages, self.backoff).await {
            tracing::error!(bucket, key, error = %e, "alerts not published, left for a later try");
            return Outcome::Retry(format!("publishing alerts: {e}"));
        }
        let report = scanned.report.unwrap_or_default();
        tally.records = report.records;
        tally.bytes = report.input_bytes;
        if report.contents == Contents::Digest {
            tracing::info!(bucket, key, "CloudTrail digest file, skipped");
        }
        tracing::info!(
            bucket,
            key,
            records = report.records,
            skipped_records = report.skipped,
            bytes = report.input_bytes,
            uncompressed_bytes = report.bytes,
            ms = started.elapsed().as_millis() as u64,
            alerts = messages.len(),
            "object scanned"
        );
        Outcome::Done {
            tally,
            ingest_error: scanned.problem,
        }
    }

    /// Opens and scans; `Err` is a transient fault (nothing kept), permanent faults are in
    /// the result with whatever the readable part gave.
    async fn read_object(
        self: &Arc<Self>,
        object: &ObjectRef,
        deadline: Deadline,
    ) -> Result<Scanned, String> {
        let reader = match self.source.open(object).await {
            Ok(r) => r,
            Err(SourceError::Transient(e)) => return Err(e),
            Err(SourceError::Permanent(e)) => {
                return Ok(Scanned {
                    report: None,
                    alerts: Vec::new(),
                    problem: Some(e),
                })
            }
        };
        let this = Arc::clone(self);
        let owned = object.clone();
        let cutoff = deadline
            .at
            .checked_sub(deadline.reserve)
            .unwrap_or(deadline.at);
        match tokio::task::spawn_blocking(move || this.scan_reader(reader, owned, cutoff)).await {
            Ok(result) => result,
            Err(e) => Ok(Scanned {
                report: None,
                alerts: Vec::new(),
                problem: Some(format!("internal error while scanning: {e}")),
            }),
        }
    }

    fn scan_reader(
        &self,
        reader: ObjectReader,
        object: ObjectRef,
        cutoff: Instant,
    ) -> Result<Scanned, String> {
        let fault = Arc::new(Mutex::new(None));
        let watched = Watched {
            inner: reader,
            cutoff,
            fault: Arc::clone(&fault),
        };
        let mut detectors = self
            .catalog
            .detectors(&self.settings, &self.config.disabled);
        let mut builder = AlertBuilder::new(Source::Object {
            bucket: object.bucket,
            key: object.key,
        });
        let report = scan(watched, &mut detectors, &mut |f| builder.add(f));
        let fault = fault.lock().unwrap_or_else(|p| p.into_inner()).take();
        let problem = match fault {
            Some(SourceError::Transient(e)) => return Err(e),
            Some(SourceError::Permanent(e)) => Some(e),
            None => report.error.as_ref().map(ToString::to_string),
        };
        Ok(Scanned {
            alerts: builder.finish(&|id| self.catalog.meta(id)),
            report: Some(report),
            problem,
        })
    }
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
