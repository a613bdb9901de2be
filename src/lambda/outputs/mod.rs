//! Where the Lambda sends a delivery's alerts: one [`Output`] trait, one small module per
//! destination (SNS, Security Hub, EventBridge), and [`Outputs`], the set `OUTPUTS` names.
//! Every output takes only [`Redacted`] alerts and only formats; every batch output retries
//! through [`send_batches`]. A failure in one output
//! does not stop the others; the object is retried only when a required output failed.

pub mod asff;
pub mod eventbridge;
pub mod securityhub;
pub mod sns;

use crate::alert::Alert;
use crate::lambda::config::Config;
pub use crate::lambda::config::{AlertSchema, OutputKind, OutputsConfig};
use crate::lambda::publish::SnsSink;
use crate::lambda::retry::{send_all, Backoff, CallFailed, Refused};
use crate::lambda::sns::{Message, MAX_PAYLOAD};
use crate::redact::Redacted;
use std::future::Future;
use std::pin::Pin;

/// What [`Output::publish`] returns: the number of alerts delivered.
pub type PublishFuture<'a> = Pin<Box<dyn Future<Output = Result<usize, OutputError>> + Send + 'a>>;

/// One destination of alerts.
pub trait Output: Send + Sync {
    /// The name `OUTPUTS` uses (`securityhub`, `eventbridge`).
    fn name(&self) -> &'static str;
    /// Delivers `alerts`, retrying what the destination refused for a passing reason; an
    /// error says how many could not be delivered, and whether a later try may succeed.
    fn publish<'a>(&'a self, alerts: &'a [Redacted<Alert>]) -> PublishFuture<'a>;
}

/// Alerts an output could not deliver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{output}: {failed} alerts not delivered: {message}")]
pub struct OutputError {
    /// The output's name.
    pub output: &'static str,
    /// How many alerts were not delivered.
    pub failed: usize,
    /// A later try may succeed (throttling, a service fault, a broken connection).
    pub retryable: bool,
    /// What the destination said (codes and messages, never alert text).
    pub message: String,
}

/// The outputs `OUTPUTS` names, each required (its failure retries the object) or not.
#[derive(Default)]
pub struct Outputs {
    outputs: Vec<(Box<dyn Output>, bool)>,
}

impl Outputs {
    /// Adds `output`; a failure of a `required` one makes the object be retried.
    pub fn push(&mut self, output: Box<dyn Output>, required: bool) {
        self.outputs.push((output, required));
    }

    /// The names of the outputs.
    pub fn names(&self) -> Vec<&'static str> {
        self.outputs.iter().map(|(o, _)| o.name()).collect()
    }

    /// The names of the required outputs.
    pub fn required(&self) -> Vec<&'static str> {
        self.outputs
            .iter()
            .filter(|(_, r)| *r)
            .map(|(o, _)| o.name())
            .collect()
    }

    /// Publishes `alerts` to every output, each whatever the others did. `Err` holds the
    /// failures of required outputs (the object is to be retried); failures of optional
    /// outputs are logged only.
    pub async fn publish(&self, alerts: &[Redacted<Alert>]) -> Result<(), Vec<OutputError>> {
        let published = self.publish_to(alerts, &[]).await;
        if published.failed.is_empty() {
            Ok(())
        } else {
            Err(published.failed)
        }
    }

    /// Publishes `alerts` to every output but those of `skip` (which took them before), each
    /// whatever the others did: which outputs took them, and the failures of required ones.
    pub async fn publish_to(&self, alerts: &[Redacted<Alert>], skip: &[String]) -> Published {
        let mut out = Published::default();
        for (o, required) in &self.outputs {
            if skip.iter().any(|s| s == o.name()) {
                continue;
            }
            if alerts.is_empty() {
                out.took.push(o.name());
                continue;
            }
            match o.publish(alerts).await {
                Ok(sent) => {
                    tracing::info!(output = o.name(), sent, "alerts delivered");
                    out.took.push(o.name());
                }
                Err(e) if *required => {
                    tracing::error!(output = o.name(), error = %e, "required output failed");
                    out.failed.push(e);
                }
                Err(e) => tracing::warn!(output = o.name(), error = %e, "optional output failed"),
            }
        }
        out
    }
}

/// What one publish did.
#[derive(Debug, Default)]
pub struct Published {
    /// The outputs that took every alert.
    pub took: Vec<&'static str>,
    /// The failures of required outputs.
    pub failed: Vec<OutputError>,
}

/// Sends `batches` for the output `name` through the one batch retry helper: the number of
/// alerts accepted, or what could not be delivered.
pub async fn send_batches<T, F, Fut>(
    name: &'static str,
    batches: Vec<Vec<T>>,
    backoff: Backoff,
    send: F,
) -> Result<usize, OutputError>
where
    T: Clone,
    F: Fn(Vec<T>) -> Fut,
    Fut: Future<Output = Result<Vec<Refused>, CallFailed>>,
{
    match send_all(batches, backoff, send).await {
        Ok(done) => Ok(done.sent),
        Err(e) => Err(OutputError {
            output: name,
            failed: e.failed,
            retryable: e.retryable,
            message: e.message,
        }),
    }
}

/// With `ALERT_SCHEMA=ocsf`, the SNS messages with the OCSF finding as their `default` body
/// (the `email` text stays); a finding that would not fit keeps the alert JSON. `None` for the
/// trailwatch schema. `messages` and `alerts` go together, one message per alert.
pub fn ocsf_bodies(
    messages: &[Message],
    alerts: &[Redacted<Alert>],
    schema: AlertSchema,
) -> Option<Vec<Message>> {
    if schema != AlertSchema::Ocsf {
        return None;
    }
    let with_ocsf = |m: &Message, a: &Redacted<Alert>| -> Option<Message> {
        let mut doc: serde_json::Value = serde_json::from_str(&m.body).ok()?;
        doc["default"] = crate::ocsf::detection_finding(a).to_string().into();
        let body = doc.to_string();
        let mut out = m.clone();
        out.body = body;
        (out.size() + 1024 <= MAX_PAYLOAD).then_some(out)
    };
    Some(
        messages
            .iter()
            .zip(alerts)
            .map(|(m, a)| with_ocsf(m, a).unwrap_or_else(|| m.clone()))
            .collect(),
    )
}

/// The outputs `config` names, with clients from the shared AWS configuration (built once).
pub fn build(config: &Config, shared: &aws_config::SdkConfig) -> Outputs {
    let o = &config.outputs;
    let mut outputs = Outputs::default();
    for &(kind, required) in &o.outputs {
        let output: Box<dyn Output> = match kind {
            OutputKind::Sns => Box::new(sns::SnsOutput::new(
                SnsSink::new(aws_sdk_sns::Client::new(shared), config.topic_arn.clone()),
                config,
            )),
            OutputKind::SecurityHub => Box::new(securityhub::SecurityHub::new(
                aws_sdk_securityhub::Client::new(shared),
                o.product_arn.clone(),
            )),
            OutputKind::EventBridge => Box::new(eventbridge::EventBridge::new(
                aws_sdk_eventbridge::Client::new(shared),
                o.event_bus.clone(),
                o.schema,
            )),
        };
        outputs.push(output, required);
    }
    outputs
}

#[cfg(test)]
mod tests;
