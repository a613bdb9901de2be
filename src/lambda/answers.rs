//! The answers that SQS and S3 Batch Operations expect: a partial batch response, and one
//! result per task.

use super::handler::Handler;
use super::ingest::ingest_alert;
use super::object::{Job, Outcome};
use super::s3::ObjectSource;
use super::triggers::{BatchJob, ObjectRef, SqsMessage};
use crate::stage::Counts;
use aws_lambda_events::event::s3::batch_job::{S3BatchJobResponse, S3BatchJobResult};
use aws_lambda_events::event::sqs::SqsBatchResponse;
use serde_json::{json, Value};
use std::sync::Arc;

impl<S: ObjectSource> Handler<S> {
    /// SQS: only the messages with an object to retry come back (`batchItemFailures`). A body
    /// that is not understood is reported with an `ingest-error` alert, not retried.
    pub(super) async fn sqs(
        self: &Arc<Self>,
        messages: Vec<SqsMessage>,
        job: Job,
        counts: &mut Counts,
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
                Err(why) => {
                    !self
                        .report_bad_message(&m.id, &why.to_string(), counts)
                        .await
                }
                Ok(objects) => objects.iter().any(|o| match outcomes.get(o) {
                    Some(Outcome::Done { counts: t, .. }) => {
                        if counted.insert(o) {
                            counts.add(t);
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
    async fn report_bad_message(&self, id: &str, why: &str, counts: &mut Counts) -> bool {
        tracing::error!(message_id = id, reason = %why, "SQS message not understood");
        let alert = ingest_alert(&ObjectRef::new("", ""), why, Some(id));
        match self.operational(alert, Vec::new(), counts).await {
            Ok(()) => {
                counts.ingest_errors += 1;
                true
            }
            Err(e) => {
                tracing::error!(message_id = id, error = %e, "cannot publish the ingest-error alert");
                false
            }
        }
    }

    /// S3 Batch Operations: one result per task.
    pub(super) async fn batch(
        self: &Arc<Self>,
        batch: BatchJob,
        mut job: Job,
        counts: &mut Counts,
    ) -> Value {
        // A backfill over logs already delivered: no state across deliveries (it would mark
        // trails as delivering now, and its records are late for today's windows).
        job.backfill = true;
        // Schema 2.0 jobs may pass `minSeverity` in their user arguments.
        let refused = match &batch.min_severity {
            Ok(Some(level)) => {
                job.stage.min_severity = *level;
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
                        let why = refused.as_ref().map(ToString::to_string);
                        ("PermanentFailure", why.unwrap_or_default())
                    }
                    Err(why) => ("PermanentFailure", why.to_string()),
                    Ok(o) => match outcomes.get(o) {
                        Some(Outcome::Done {
                            counts: t,
                            ingest_error,
                        }) => {
                            if counted.insert(o) {
                                counts.add(t);
                            }
                            let alerts = t.alerts_total();
                            match ingest_error {
                                Some(e) => ("PermanentFailure", e.reason().to_owned()),
                                None => (
                                    "Succeeded",
                                    format!("{} records, {alerts} alerts", t.records),
                                ),
                            }
                        }
                        Some(Outcome::Skipped(why)) => ("Succeeded", format!("skipped: {why}")),
                        Some(Outcome::Retry(e)) => ("TemporaryFailure", e.reason().to_owned()),
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
