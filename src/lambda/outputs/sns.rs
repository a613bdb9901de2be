//! The SNS topic as an [`Output`]: one message per alert (`lambda/sns.rs` builds them, trimmed
//! to SNS's limits), published in `PublishBatch` calls through an [`AlertSink`].

use super::{ocsf_bodies, AlertSchema, Output, OutputError, PublishFuture};
use crate::alert::Alert;
use crate::lambda::config::Config;
use crate::lambda::publish::{publish_all, AlertSink};
use crate::lambda::retry::Backoff;
use crate::lambda::sns;
use crate::redact::Redacted;

/// The alerts topic, through `sink`.
pub struct SnsOutput<K> {
    /// Where the messages go (the SNS client in the function, a fake in tests).
    pub sink: K,
    /// The topic is FIFO: messages carry group and deduplication ids.
    pub fifo: bool,
    /// How publishing retries.
    pub backoff: Backoff,
    /// The shape of the `default` body.
    pub schema: AlertSchema,
}

impl<K: AlertSink> SnsOutput<K> {
    /// The topic of `config` (`TOPIC_ARN`, `ALERT_SCHEMA`) through `sink`.
    pub fn new(sink: K, config: &Config) -> SnsOutput<K> {
        SnsOutput {
            sink,
            fifo: config.fifo(),
            backoff: Backoff::DEFAULT,
            schema: config.outputs.schema,
        }
    }
}

impl<K: AlertSink> Output for SnsOutput<K> {
    fn name(&self) -> &'static str {
        "sns"
    }

    fn publish<'a>(&'a self, alerts: &'a [Redacted<Alert>]) -> PublishFuture<'a> {
        Box::pin(async move {
            let messages: Vec<sns::Message> =
                alerts.iter().map(|a| sns::message(a, self.fifo)).collect();
            let messages = ocsf_bodies(&messages, alerts, self.schema).unwrap_or(messages);
            match publish_all(&self.sink, &messages, self.backoff).await {
                Ok(done) => Ok(done.sent),
                Err(e) => Err(OutputError {
                    output: "sns",
                    failed: messages.len(),
                    retryable: e.transient,
                    message: format!("publishing alerts: {e}"),
                }),
            }
        })
    }
}
