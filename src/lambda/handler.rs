//! One invocation: read the trigger, process its objects concurrently, answer in the shape
//! the trigger expects (a summary here; SQS and Batch Operations answers in `answers.rs`).
//! What each object publishes is decided by the stage after the pipeline (`crate::stage`),
//! with the state table as its memory (`memory.rs`).

use super::config::Config;
use super::error::{Failure, ObjectError};
use super::memory::TableMemory;
use super::object::{Deadline, Job, Outcome, Worker};
use super::outputs::Outputs;
use super::retry::Backoff;
use super::rule_source::{config_alert, RuleSource};
use super::s3::ObjectSource;
use super::state::outbox::Held;
use super::state::{unix_now, AnyTable, State, Table};
use super::triggers::{self, ObjectRef, Trigger};
use crate::alert::Alert;
use crate::delivery::Pipeline;
use crate::detectors::Settings;
use crate::redact::Redacted;
use crate::rules::catalog::Catalog;
use crate::stage::{Counts, Stage};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Everything an invocation needs, built once at init and shared by every invocation.
pub struct Handler<S> {
    /// Where objects are read from.
    pub source: S,
    /// Where alerts go (`OUTPUTS`): SNS, Security Hub, EventBridge.
    pub outputs: Outputs,
    /// The detectors, their settings and the ones turned off: replaced when the rule source
    /// changes.
    pipeline: RwLock<Arc<Pipeline>>,
    /// The function's settings.
    pub config: Config,
    /// How reading an object retries.
    pub backoff: Backoff,
    /// Time kept for publishing (at most; a quarter of a short invocation): no object is
    /// started with less than twice this left, and a scan still running when only this is
    /// left gives up (the object is retried later).
    pub reserve: Duration,
    /// Where metric lines go (stdout in the function).
    pub metrics: Box<dyn Fn(&str) + Send + Sync>,
    /// State across deliveries: none unless [`Handler::with_state`].
    pub state: Option<Arc<State<AnyTable>>>,
    /// Rules that follow `DETECTORS_URI`: none unless [`Handler::with_rules`].
    rules: Option<RuleSource>,
    /// CloudTrail's public keys (digest signatures): none unless [`Handler::with_keys`].
    keys: Option<Arc<super::keys::KeyCache>>,
}

/// The pipeline for `catalog` with the settings of `config`.
fn pipeline(catalog: Catalog, config: &Config) -> Pipeline {
    Pipeline {
        catalog,
        settings: Settings {
            fips_required: config.fips_required.clone(),
            trusted_accounts: config.trusted_accounts.clone(),
        },
        disabled: config.disabled.clone(),
        limits: config.limits,
    }
}

impl<S: ObjectSource> Handler<S> {
    /// A handler publishing to `outputs`, with the default backoff and reserve, writing metric
    /// lines to stdout.
    pub fn new(source: S, outputs: Outputs, catalog: Catalog, config: Config) -> Handler<S> {
        Handler {
            source,
            outputs,
            pipeline: RwLock::new(Arc::new(pipeline(catalog, &config))),
            config,
            backoff: Backoff::DEFAULT,
            reserve: Duration::from_secs(5),
            metrics: Box::new(|line| println!("{line}")),
            state: None,
            rules: None,
            keys: None,
        }
    }

    /// The handler checking digest signatures with CloudTrail's public keys from `keys`.
    pub fn with_keys(mut self, keys: super::keys::KeyCache) -> Self {
        self.keys = Some(Arc::new(keys));
        self
    }

    /// The handler keeping state across deliveries in `state`'s table.
    pub fn with_state(mut self, state: Arc<State<AnyTable>>) -> Self {
        self.state = Some(state);
        self
    }

    /// The handler following the rule source `rules` (see [`Handler::refresh_rules`]).
    pub fn with_rules(mut self, rules: RuleSource) -> Self {
        self.rules = Some(rules);
        self
    }

    /// The pipeline in force.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        Arc::clone(&self.pipeline.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Before an invocation starting at `now`: the rule source is checked, if due, and a new
    /// set replaces the pipeline. A set that does not load keeps the pipeline in force and
    /// publishes one `config-error` alert (through the outputs, like every alert): once per
    /// broken set and day across every container, with a state table.
    pub async fn refresh_rules(&self, now: Instant) {
        let Some(rules) = &self.rules else {
            return;
        };
        match rules.refresh(now).await {
            Ok(None) => {}
            Ok(Some(catalog)) => {
                let new = Arc::new(pipeline(catalog, &self.config));
                *self.pipeline.write().unwrap_or_else(|p| p.into_inner()) = new;
            }
            Err(e) => {
                tracing::error!(file = %e.file, reason = %e.reason, "rule source not loaded: the last good set stays in force");
                let mut counts = Counts::default();
                let alert = config_alert(&e, rules.uri());
                let Some(held) = self.first_report(&alert).await else {
                    tracing::info!(alert_id = %alert.id, "config-error already reported by another container");
                    return;
                };
                if self.operational(alert, held, &mut counts).await.is_err() {
                    tracing::error!("config-error alert not published");
                }
                self.emit(&counts);
            }
        }
    }

    /// Publishes an operational alert (`config-error`, `ingest-error` for a queue message)
    /// through the stage and the outputs, then settles its outbox row (`held`, if any);
    /// `counts` counts it once it is published.
    pub(super) async fn operational(
        &self,
        alert: Redacted<Alert>,
        held: Vec<Held>,
        counts: &mut Counts,
    ) -> Result<(), String> {
        let stage = Stage {
            min_severity: self.config.min_severity,
        };
        let mine = self
            .worker()
            .publish_about(None, stage, vec![alert], held)
            .await?;
        counts.add(&mine);
        Ok(())
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
                let counts = Counts {
                    ingest_errors: 1,
                    ..Counts::default()
                };
                self.emit(&counts);
                return Err(Failure::Event(why));
            }
        };
        let job = Job {
            deadline: Deadline::new(deadline, self.reserve),
            stage: Stage {
                min_severity: self.config.min_severity,
            },
            backfill: false,
        };
        let mut counts = Counts::default();
        // Alerts an earlier invocation decided and could not publish go first. Each part is
        // boxed: the futures of the state and the outputs are large, and a caller's stack
        // (a test's thread, in a debug build) need not hold them all at once.
        if !matches!(trigger, Trigger::Test) {
            Box::pin(self.publish_pending(job.stage, &mut counts)).await;
        }
        let answer = match trigger {
            Trigger::Test => {
                tracing::info!("s3:TestEvent acknowledged");
                Ok(json!({ "test_event": "acknowledged" }))
            }
            Trigger::Objects(objects) => Box::pin(self.objects(objects, job, &mut counts)).await,
            Trigger::Sqs(messages) => Ok(Box::pin(self.sqs(messages, job, &mut counts)).await),
            Trigger::Batch(batch) => Ok(Box::pin(self.batch(batch, job, &mut counts)).await),
            Trigger::Scheduled(at) => Box::pin(self.scheduled(at, job, &mut counts)).await,
        };
        self.emit(&counts);
        answer
    }

    fn emit(&self, counts: &Counts) {
        let now = crate::alert::time::now_millis();
        for line in super::metrics::lines(counts, &self.config.metrics, now) {
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

    pub(super) fn worker(&self) -> Worker<'_, S> {
        Worker {
            source: &self.source,
            pipeline: self.pipeline(),
            backoff: self.backoff,
            outputs: &self.outputs,
            state: self.state.as_deref(),
            keys: self.keys.as_deref(),
        }
    }

    /// The scheduled check: correlation windows due, silent trails and dedup windows closed
    /// at the event's time, through the stage.
    async fn scheduled(
        self: &Arc<Self>,
        at: Option<i64>,
        job: Job,
        counts: &mut Counts,
    ) -> Result<Value, Failure> {
        let Some(state) = &self.state else {
            tracing::warn!("scheduled check: STATE_TABLE is not set, nothing to check");
            return Ok(json!({ "scheduled": "no state table (STATE_TABLE)" }));
        };
        let now = at.unwrap_or_else(unix_now);
        // Digest files no notification names, first: their heartbeats count in this check.
        if let Some(root) = &self.config.digest_listing {
            match self
                .list_digests(&state.table, root, now, job, counts)
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::warn!(digests = n, "listed digest files left for the next check"),
                Err(e) => {
                    tracing::error!(error = %e, "digest files not listed: the next check lists them")
                }
            }
        }
        let pipeline = self.pipeline();
        let mut memory = TableMemory::new(Some(state), &pipeline, job.budget());
        let calls_before = state.table.calls();
        let mut mine = Counts::default();
        let decided = job.stage.due(Some(now), &mut memory, &mut mine).await;
        let alerts = decided.map_err(|e| {
            tracing::error!(error = %e, "scheduled check failed");
            Failure::Scheduled(e.to_string())
        })?;
        mine.state_calls = state.table.calls() - calls_before;
        if mine.evicted > 0 {
            tracing::warn!(
                evicted = mine.evicted,
                "correlation groups evicted (MAX_GROUPS reached)"
            );
        }
        let held = std::mem::take(&mut memory.held);
        if let Some(why) = self.worker().deliver(&alerts, held).await {
            tracing::error!(error = %why, "scheduled check: alerts not published");
            return Err(Failure::Scheduled(why));
        }
        counts.add(&mine);
        if let Some(first) = memory.faults.first() {
            tracing::error!(error = %first, "scheduled check: part failed, the rest ran");
            return Err(Failure::Scheduled(first.to_string()));
        }
        tracing::info!(
            alerts = alerts.len(),
            state_calls = mine.state_calls,
            "scheduled check done"
        );
        Ok(json!({ "scheduled": "checked", "alerts": alerts.len() }))
    }

    /// S3 notification, SNS, EventBridge: the invocation fails if any object must be retried.
    async fn objects(
        self: &Arc<Self>,
        objects: Vec<ObjectRef>,
        job: Job,
        counts: &mut Counts,
    ) -> Result<Value, Failure> {
        let outcomes = self.run(objects.clone(), job).await;
        let (mut done, mut skipped, mut retry) = (0, 0, Vec::new());
        for object in &objects {
            match outcomes.get(object) {
                Some(Outcome::Done { counts: t, .. }) => {
                    done += 1;
                    counts.add(t);
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
        let alerts = counts.alerts_total();
        Ok(
            json!({ "objects": done, "skipped": skipped, "alerts": alerts, "ingest_errors": counts.ingest_errors }),
        )
    }
}
