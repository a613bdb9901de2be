//! Publishing messages: the `AlertSink` trait, its SNS implementation, and the retry loop
//! around `PublishBatch` (whole-call failures and per-entry `Failed` results).

use super::s3::{describe, is_transient};
use super::sns::{batches, Message};
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use std::future::Future;
use std::time::Duration;

/// One entry of a batch that SNS did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFailure {
    /// The entry's batch id (its index in the batch, as text).
    pub id: String,
    /// The service's error code.
    pub code: String,
    /// The request was wrong (SNS says a retry cannot help).
    pub sender_fault: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
/// A whole `PublishBatch` call failed.
pub struct SinkError {
    /// Worth another try (throttling, a 5xx, a network fault).
    pub transient: bool,
    /// What the service said.
    pub message: String,
}

/// Sends one batch (at most 10 entries, ids "0".."9"); returns the entries that failed.
pub trait AlertSink: Send + Sync + 'static {
    /// Publishes one batch (at most 10 entries, with their batch ids); returns the entries that failed.
    fn publish_batch(
        &self,
        entries: &[(String, &Message)],
    ) -> impl Future<Output = Result<Vec<EntryFailure>, SinkError>> + Send;
}

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The first delay; each next one doubles.
    pub first: Duration,
}

impl Backoff {
    /// Three tries, from 200 ms.
    pub const DEFAULT: Backoff = Backoff {
        attempts: 4,
        first: Duration::from_millis(200),
    };

    /// The pause before attempt `n` (1-based for retries): doubling, capped at 5 s.
    pub fn delay(&self, n: u32) -> Duration {
        self.first
            .saturating_mul(1 << n.saturating_sub(1).min(5))
            .min(Duration::from_secs(5))
    }
}

/// What a publish achieved.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Published {
    /// Messages published.
    pub sent: usize,
    /// Entries SNS refused as malformed (logged; a retry cannot help).
    pub rejected: usize,
}

/// Publishes every message, retrying failed calls and failed entries with backoff. An error
/// means some messages may not have gone out: the caller reports the work failed so that it
/// is retried (alert ids are stable, so FIFO topics drop the repeats).
pub async fn publish_all<K: AlertSink>(
    sink: &K,
    messages: &[Message],
    backoff: Backoff,
) -> Result<Published, SinkError> {
    let mut done = Published::default();
    for batch in batches(messages) {
        let mut pending: Vec<&Message> = batch;
        let mut attempt = 0;
        while !pending.is_empty() {
            if attempt > 0 {
                tokio::time::sleep(backoff.delay(attempt)).await;
            }
            attempt += 1;
            let entries: Vec<(String, &Message)> = pending
                .iter()
                .enumerate()
                .map(|(i, m)| (i.to_string(), *m))
                .collect();
            let failures = match sink.publish_batch(&entries).await {
                Ok(f) => f,
                Err(e) if e.transient && attempt < backoff.attempts => {
                    tracing::warn!(attempt, error = %e, "PublishBatch failed, retrying");
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut retry = Vec::new();
            for (id, m) in &entries {
                match failures.iter().find(|f| &f.id == id) {
                    None => done.sent += 1,
                    Some(f) if f.sender_fault => {
                        tracing::error!(alert = %m.alert_id, code = %f.code, "SNS rejected the alert");
                        done.rejected += 1;
                    }
                    Some(_) => retry.push(*m),
                }
            }
            if !retry.is_empty() && attempt >= backoff.attempts {
                let codes: Vec<&str> = failures.iter().map(|f| f.code.as_str()).collect();
                return Err(SinkError {
                    transient: true,
                    message: format!(
                        "{} alerts still failed after {attempt} attempts ({})",
                        retry.len(),
                        codes.join(", ")
                    ),
                });
            }
            if !retry.is_empty() {
                tracing::warn!(
                    attempt,
                    failed = retry.len(),
                    "PublishBatch entries failed, retrying"
                );
            }
            pending = retry;
        }
    }
    Ok(done)
}

/// The SNS topic that receives alerts.
pub struct SnsSink {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

/// The region of a topic: the fourth field of its ARN (`arn:PARTITION:sns:REGION:...`).
pub fn topic_region(topic_arn: &str) -> Option<&str> {
    topic_arn.split(':').nth(3).filter(|r| !r.is_empty())
}

impl SnsSink {
    /// Publishes to `topic_arn` in the topic's own region (from its ARN), with the client's
    /// settings otherwise, so an alerts topic in another region than the function works.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: String) -> SnsSink {
        let client = match topic_region(&topic_arn) {
            Some(region) if client.config().region().map(|r| r.as_ref()) != Some(region) => {
                let config = client
                    .config()
                    .to_builder()
                    .region(aws_sdk_sns::config::Region::new(region.to_owned()))
                    .build();
                aws_sdk_sns::Client::from_conf(config)
            }
            _ => client,
        };
        SnsSink { client, topic_arn }
    }

    /// The region the alerts are published in.
    pub fn region(&self) -> Option<String> {
        self.client.config().region().map(|r| r.to_string())
    }
}

fn entry(id: &str, m: &Message) -> Result<PublishBatchRequestEntry, SinkError> {
    let invalid = |e: aws_sdk_sns::error::BuildError| SinkError {
        transient: false,
        message: format!("cannot build a PublishBatch entry: {e}"),
    };
    let mut b = PublishBatchRequestEntry::builder()
        .id(id)
        .message(&m.body)
        .message_structure("json")
        .subject(&m.subject);
    for (name, value) in &m.attributes {
        let v = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .map_err(invalid)?;
        b = b.message_attributes(*name, v);
    }
    if let Some((group, dedup)) = &m.fifo {
        b = b.message_group_id(group).message_deduplication_id(dedup);
    }
    b.build().map_err(invalid)
}

impl AlertSink for SnsSink {
    async fn publish_batch(
        &self,
        entries: &[(String, &Message)],
    ) -> Result<Vec<EntryFailure>, SinkError> {
        let built = entries
            .iter()
            .map(|(id, m)| entry(id, m))
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .publish_batch()
            .topic_arn(&self.topic_arn)
            .set_publish_batch_request_entries(Some(built))
            .send()
            .await
            .map_err(|e| SinkError {
                transient: is_transient(&e),
                message: format!("PublishBatch: {}", describe(&e)),
            })?;
        Ok(out
            .failed()
            .iter()
            .map(|f| EntryFailure {
                id: f.id().to_owned(),
                code: f.code().to_owned(),
                sender_fault: f.sender_fault(),
            })
            .collect())
    }
}
