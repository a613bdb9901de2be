//! One invocation: read the trigger, process its objects concurrently, answer in the shape
//! the trigger expects (a summary here; SQS and Batch Operations answers in `answers.rs`).

use super::config::Config;
use super::error::{Failure, ObjectError};
use super::metrics::Tally;
use super::object::{Deadline, Job, Outcome, Worker};
use super::publish::{AlertSink, Backoff};
use super::s3::ObjectSource;
use super::state::{dedup, unix_now, AnyTable, State, Table};
use super::triggers::{self, ObjectRef, Trigger};
use crate::delivery::Pipeline;
use crate::detectors::Settings;
use crate::redact;
use crate::rules::catalog::Catalog;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Everything an invocation needs, built once at init and shared by every invocation.
pub struct Handler<S, K> {
    /// Where objects are read from.
    pub source: S,
    /// Where alerts are published.
    pub sink: K,
    /// The detectors, their settings and the ones turned off.
    pub pipeline: Arc<Pipeline>,
    /// The function's settings.
    pub config: Config,
    /// How publishing and reading retry.
    pub backoff: Backoff,
    /// Time kept for publishing (at most; a quarter of a short invocation): no object is
    /// started with less than twice this left, and a scan still running when only this is
    /// left gives up (the object is retried later).
    pub reserve: Duration,
    /// Where metric lines go (stdout in the function).
    pub metrics: Box<dyn Fn(&str) + Send + Sync>,
    /// Where alerts go besides SNS (`OUTPUTS`): none unless [`Handler::with_outputs`].
    pub outputs: super::outputs::Outputs,
    /// State across deliveries: none unless [`Handler::with_state`].
    pub state: Option<Arc<State<AnyTable>>>,
}

impl<S: ObjectSource, K: AlertSink> Handler<S, K> {
    /// A handler with the default backoff and reserve, writing metric lines to stdout.
    pub fn new(source: S, sink: K, catalog: Catalog, config: Config) -> Handler<S, K> {
        let pipeline = Pipeline {
            catalog,
            settings: Settings {
                fips_required: config.fips_required.clone(),
                trusted_accounts: config.trusted_accounts.clone(),
            },
            disabled: config.disabled.clone(),
        };
        Handler {
            source,
            sink,
            pipeline: Arc::new(pipeline),
            config,
            backoff: Backoff::DEFAULT,
            reserve: Duration::from_secs(5),
            metrics: Box::new(|line| println!("{line}")),
            outputs: super::outputs::Outputs::default(),
            state: None,
        }
    }

    /// The handler keeping state across deliveries in `state`'s table.
    pub fn with_state(mut self, state: Arc<State<AnyTable>>) -> Self {
        self.state = Some(state);
        self
    }

    /// The handler publishing to `outputs` (SNS among them or not).
    pub fn with_outputs(mut self, outputs: super::outputs::Outputs) -> Self {
        self.outputs = outputs;
        self
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
                return Err(Failure::Event(why));
            }
        };
        let job = Job {
            deadline: Deadline::new(deadline, self.reserve),
            min_severity: self.config.min_severity,
            backfill: false,
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
            Trigger::Scheduled(at) => self.scheduled(at, job, &mut tally).await,
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
    pub(super) async fn run(
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
                let outcome = this.worker().process(object.clone(), job).await;
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

    fn worker(&self) -> Worker<'_, S, K> {
        Worker {
            source: &self.source,
            sink: &self.sink,
            pipeline: &self.pipeline,
            backoff: self.backoff,
            fifo: self.config.fifo(),
            outputs: &self.outputs,
            state: self.state.as_deref(),
        }
    }

    /// The scheduled check: correlation windows due and silent trails at the event's time.
    async fn scheduled(
        self: &Arc<Self>,
        at: Option<i64>,
        job: Job,
        tally: &mut Tally,
    ) -> Result<Value, Failure> {
        let Some(state) = &self.state else {
            tracing::warn!("scheduled check: STATE_TABLE is not set, nothing to check");
            return Ok(json!({ "scheduled": "no state table (STATE_TABLE)" }));
        };
        let now = at.unwrap_or_else(unix_now);
        let set = &self.pipeline.catalog.correlations;
        let calls_before = state.table.calls();
        let checked = state.scheduled(set, now).await.map_err(|e| {
            tracing::error!(error = %e, "scheduled check failed");
            Failure::Scheduled(e.to_string())
        })?;
        tally.evicted = checked.evicted;
        if checked.evicted > 0 {
            tracing::warn!(
                evicted = checked.evicted,
                "correlation groups evicted (MAX_GROUPS reached)"
            );
        }
        let mut alerts: Vec<_> = checked
            .alerts
            .into_iter()
            .map(redact::alert)
            .filter(|a| job.publishes(a))
            .collect();
        let windows = self.pipeline.catalog.dedup_windows();
        if !windows.is_empty() {
            let (published, held) = dedup::admit(&state.table, &windows, &alerts, now)
                .await
                .map_err(|e| Failure::Scheduled(e.to_string()))?;
            alerts = published;
            tally.held = held;
        }
        for a in &alerts {
            tally.alert(&a.detector, a.severity);
        }
        if let Some(why) = self.worker().deliver(&alerts).await {
            tracing::error!(error = %why, "scheduled check: alerts not published");
            return Err(Failure::Scheduled(why));
        }
        tally.state_calls = state.table.calls() - calls_before;
        tracing::info!(
            alerts = alerts.len(),
            state_calls = tally.state_calls,
            "scheduled check done"
        );
        Ok(json!({ "scheduled": "checked", "alerts": alerts.len() }))
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
                Some(Outcome::Retry(e)) => retry.push(e.clone()),
                None => retry.push(ObjectError::retryable(object, "not processed")),
            }
        }
        if let Some(first) = retry.first() {
            return Err(Failure::Objects {
                count: retry.len(),
                total: objects.len(),
                first: first.clone(),
            });
        }
        let alerts: u64 = tally.alerts.values().sum();
        Ok(
            json!({ "objects": done, "skipped": skipped, "alerts": alerts, "ingest_errors": tally.ingest_errors }),
        )
    }
}
