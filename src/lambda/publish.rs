//! Publishing SNS messages: the `AlertSink` trait, its SNS implementation, and `PublishBatch`
//! through the one batch retry helper (whole-call failures and per-entry `Failed` results).

pub use super::retry::Backoff;
use super::retry::{describe, is_transient, send_all, CallFailed, Refused, Sent, Verdict};
use super::sns::{batches, Message};
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use std::future::Future;

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

impl<K: AlertSink> AlertSink for std::sync::Arc<K> {
    fn publish_batch(
        &self,
        entries: &[(String, &Message)],
    ) -> impl Future<Output = Result<Vec<EntryFailure>, SinkError>> + Send {
        (**self).publish_batch(entries)
    }
}

/// What a publish achieved: messages published, and those SNS refused as malformed (logged;
/// a retry cannot help).
pub type Published = Sent;

/// Publishes every message, retrying failed calls and failed entries with backoff (the one
/// batch helper, [`send_all`]). An error means some messages may not have gone out: the
/// caller reports the work failed so that it is retried (alert ids are stable, so FIFO
/// topics drop the repeats).
pub async fn publish_all<K: AlertSink>(
    sink: &K,
    messages: &[Message],
    backoff: Backoff,
) -> Result<Published, SinkError> {
    let batches = batches(messages);
    send_all(batches, backoff, |batch: Vec<&Message>| async move {
        let entries: Vec<(String, &Message)> = batch
            .iter()
            .enumerate()
            .map(|(i, m)| (i.to_string(), *m))
            .collect();
        let failures = sink.publish_batch(&entries).await.map_err(|e| CallFailed {
            retryable: e.transient,
            message: e.message,
        })?;
        Ok(failures
            .into_iter()
            .filter_map(|f| {
                let index = f.id.parse().ok()?;
                if f.sender_fault {
                    let alert = batch
                        .get(index)
                        .map_or("", |m: &&Message| m.alert_id.as_str());
                    tracing::error!(alert, code = %f.code, "SNS rejected the alert");
                }
                let verdict = if f.sender_fault {
                    Verdict::Reject
                } else {
                    Verdict::Retry
                };
                Some(Refused {
                    index,
                    code: f.code,
                    verdict,
                })
            })
            .collect())
    })
    .await
    .map_err(|e| SinkError {
        transient: e.retryable,
        message: format!("{} alerts not published ({})", e.failed, e.message),
    })
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
