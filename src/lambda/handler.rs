//! One invocation: read the trigger, process its objects concurrently, answer in the shape
//! the trigger expects (plain summary, SQS partial batch response, Batch Operations results).

use super::config::Config;
use super::metrics::Tally;
use super::object::{ingest_alert, Deadline, Job, Outcome};
use super::publish::{publish_all, AlertSink, Backoff};
use super::s3::ObjectSource;
use super::sns;
use super::triggers::{self, BatchJob, ObjectRef, SqsMessage, Trigger};
use crate::catalog::Catalog;
use crate::detectors::Settings;
use aws_lambda_events::event::s3::batch_job::{S3BatchJobResponse, S3BatchJobResult};
use aws_lambda_events::event::sqs::SqsBatchResponse;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Everything an invocation needs, built once at init and shared by every invocation.
pub struct Handler<S, K> {
    pub source: S,
    pub sink: K,
    pub catalog: Catalog,
    pub settings: Settings,
    pub config: Config,
    pub backoff: Backoff,
    /// Time kept for publishing (at most; a quarter of a short invocation): no object is
    /// started with less than twice this left, and a scan still running when only this is
    /// left gives up (the object is retried later).
    pub reserve: Duration,
    /// Where metric lines go (stdout in the function).
    pub metrics: Box<dyn Fn(&str) + Send + Sync>,
}

/// The invocation failed and should be retried by Lambda (or sent to the failure destination).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

impl<S: ObjectSource, K: AlertSink> Handler<S, K> {
    pub fn new(source: S, sink: K, catalog: Catalog, config: Config) -> Handler<S, K> {
        Handler {
            source,
            sink,
            catalog,
            settings: Settings {
                fips_required: config.fips_required.clone(),
            },
            config,
            backoff: Backoff::DEFAULT,
            reserve: Duration::from_secs(5),
            metrics: Box::new(|line| println!("{line}")),
        }
    }

    /// Handles one event; `deadline` is when Lambda stops the invocation.
    pub async fn handle(
        self: &Arc<Self>,
        event: Value,
        deadline: Instant,
    ) -> Result<Value, Failure> {
        let trigger = match triggers::parse(&event) {
            Ok(t) => t,
            Err(why) => {
                tracing::error!(reason = %why, "event not understood");
                let tally = Tally {
                    ingest_errors: 1,
                    ..Tally::default()
                };
                self.emit(&tally);
                return Err(Failure(format!("event not understood: {why}")));
            }
        };
        let job = Job {
            deadline: Deadline::new(deadline, self.reserve),
            min_severity: self.config.min_severity,
        };
        let mut tally = Tally::default();
        let answer = match trigger {
            Trigger::Test => {
                tracing::info!("s3:TestEvent acknowledged");
                Ok(json!({ "test_event": "acknowledged" }))
            }
            Trigger::Objects(objects) => self.objects(objects, job, &mut tally).await,
            Trigger::Sqs(messages) => Ok(self.sqs(messages, job, &mut tally).await),
            Trigger::Batch(batch) => Ok(self.batch(batch, job, &mut tally).await),
        };
        self.emit(&tally);
        answer
    }

    fn emit(&self, tally: &Tally) {
        for line in tally.lines() {
            (self.metrics)(&line);
        }
    }

    /// Processes each distinct object once, at most `MAX_CONCURRENCY` at a time.
    async fn run(
        self: &Arc<Self>,
        objects: Vec<ObjectRef>,
        job: Job,
    ) -> HashMap<ObjectRef, Outcome> {
        let permits = Arc::new(Semaphore::new(self.config.max_concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        let mut seen = std::collections::HashSet::new();
        for object in objects {
            if !seen.insert(object.clone()) {
                continue;
            }
            let (this, permits) = (Arc::clone(self), Arc::clone(&permits));
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let outcome = Arc::clone(&this).process(object.clone(), job).await;
                (object, outcome)
            });
        }
        let mut outcomes = HashMap::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((object, outcome)) => {
                    outcomes.insert(object, outcome);
                }
                Err(e) => tracing::error!(error = %e, "object task failed"),
            }
        }
        outcomes
    }

    /// S3 notification, SNS, EventBridge: the invocation fails if any object must be retried.
    async fn objects(
        self: &Arc<Self>,
        objects: Vec<ObjectRef>,
        job: Job,
        tally: &mut Tally,
    ) -> Result<Value, Failure> {
        let outcomes = self.run(objects.clone(), job).await;
        let (mut done, mut skipped, mut retry) = (0, 0, Vec::new());
        for object in &objects {
            match outcomes.get(object) {
                Some(Outcome::Done { tally: t, .. }) => {
                    done += 1;
                    tally.add(t);
                }
                Some(Outcome::Skipped(_)) => skipped += 1,
                Some(Outcome::Retry(why)) => {
                    retry.push(format!("s3://{}/{}: {why}", object.bucket, object.key))
                }
                None => retry.push(format!(
                    "s3://{}/{}: not processed",
                    object.bucket, object.key
                )),
            }
        }
        if !retry.is_empty() {
            return Err(Failure(format!(
                "{} of {} objects must be retried; first: {}",
                retry.len(),
                objects.len(),
                retry[0]
            )));
        }
        let alerts: u64 = tally.alerts.values().sum();
        Ok(
            json!({ "objects": done, "skipped": skipped, "alerts": alerts, "ingest_errors": tally.ingest_errors }),
        )
    }

    /// SQS: only the messages with an object to retry come back (`batchItemFailures`). A body
    /// that is not understood is reported with an `ingest-error` alert, not retried.
    async fn sqs(
        self: &Arc<Self>,
        messages: Vec<SqsMessage>,
        job: Job,
        tally: &mut Tally,
    ) -> Value {
        let all: Vec<ObjectRef> = messages
            .iter()
            .filter_map(|m| m.objects.as_ref().ok())
            .flatten()
            .cloned()
            .collect();
        let outcomes = self.run(all, job).await;
        let mut response = SqsBatchResponse::default();
        let mut counted = std::collections::HashSet::new();
        for m in &messages {
            let failed = match &m.objects {
                Err(why) => !self.report_bad_message(&m.id, why, tally).await,
                Ok(objects) => objects.iter().any(|o| match outcomes.get(o) {
                    Some(Outcome::Done { tally: t, .. }) => {
                        if counted.insert(o) {
                            tally.add(t);
                        }
                        false
                    }
                    Some(Outcome::Skipped(_)) => false,
                    _ => true,
                }),
            };
            if failed {
                response.add_failure(m.id.clone());
            }
        }
        serde_json::to_value(response).unwrap_or_else(|_| json!({ "batchItemFailures": [] }))
    }

    /// Publishes the `ingest-error` alert for a message that is not understood; `false` if
    /// that could not be published (the message is then retried).
    async fn report_bad_message(&self, id: &str, why: &str, tally: &mut Tally) -> bool {
        tracing::error!(message_id = id, reason = %why, "SQS message not understood");
        let alert = ingest_alert(&ObjectRef::new("", ""), why, Some(id));
        let message = sns::message(&alert, self.config.fifo());
        match publish_all(&self.sink, &[message], self.backoff).await {
            Ok(_) => {
                tally.ingest_errors += 1;
                tally.alert(&alert.detector, alert.severity);
                true
            }
            Err(e) => {
                tracing::error!(message_id = id, error = %e, "cannot publish the ingest-error alert");
                false
            }
        }
    }

    /// S3 Batch Operations: one result per task.
    async fn batch(self: &Arc<Self>, batch: BatchJob, mut job: Job, tally: &mut Tally) -> Value {
        // Schema 2.0 jobs may pass `minSeverity` in their user arguments.
        let refused = match &batch.min_severity {
            Ok(Some(level)) => {
                job.min_severity = *level;
                None
            }
            Ok(None) => None,
            Err(why) => Some(why.clone()),
        };
        let all: Vec<ObjectRef> = batch
            .tasks
            .iter()
            .filter(|_| refused.is_none())
            .filter_map(|t| t.object.as_ref().ok())
            .cloned()
            .collect();
        let outcomes = self.run(all, job).await;
        let mut counted = std::collections::HashSet::new();
        let results = batch
            .tasks
            .iter()
            .map(|task| {
                let (code, text) = match &task.object {
                    _ if refused.is_some() => {
                        ("PermanentFailure", refused.clone().unwrap_or_default())
                    }
                    Err(why) => ("PermanentFailure", why.clone()),
                    Ok(o) => match outcomes.get(o) {
                        Some(Outcome::Done {
                            tally: t,
                            ingest_error,
                        }) => {
                            if counted.insert(o) {
                                tally.add(t);
                            }
                            let alerts: u64 = t.alerts.values().sum();
                            match ingest_error {
                                Some(why) => ("PermanentFailure", why.clone()),
                                None => (
                                    "Succeeded",
                                    format!("{} records, {alerts} alerts", t.records),
                                ),
                            }
                        }
                        Some(Outcome::Skipped(why)) => ("Succeeded", format!("skipped: {why}")),
                        Some(Outcome::Retry(why)) => ("TemporaryFailure", why.clone()),
                        None => ("TemporaryFailure", "not processed".to_owned()),
                    },
                };
                let mut r = S3BatchJobResult::default();
                r.task_id = Some(task.id.clone());
                r.result_code = Some(code.to_owned());
                r.result_string = Some(text);
                r
            })
            .collect();
        let mut response = S3BatchJobResponse::default();
        response.invocation_schema_version = Some(batch.schema);
        response.treat_missing_keys_as = Some("PermanentFailure".to_owned());
        response.invocation_id = Some(batch.invocation_id);
        response.results = results;
        serde_json::to_value(response).unwrap_or(Value::Null)
    }
}
