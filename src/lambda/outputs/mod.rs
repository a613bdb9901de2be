//! Where the Lambda sends a delivery's alerts: one [`Output`] trait, one small module per
//! destination (SNS, Security Hub, EventBridge), and [`Outputs`], the set `OUTPUTS` names. Every output takes only [`Redacted`] alerts and only formats. A failure in one output
//! does not stop the others; the object is retried only when a required output failed.

pub mod asff;
pub mod config;
pub mod eventbridge;
pub mod retry;
pub mod securityhub;
pub mod sns;

use crate::alert::Alert;
use crate::lambda::sns::{Message, MAX_PAYLOAD};
use crate::redact::Redacted;
pub use config::{AlertSchema, OutputKind, OutputsConfig};
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

/// The outputs a function publishes to besides SNS, each required or not, and whether SNS is
/// one of them.
pub struct Outputs {
    outputs: Vec<(Box<dyn Output>, bool)>,
    /// Alerts go to the SNS topic (`sns` in `OUTPUTS`, the default).
    pub sns: bool,
    /// A failure of SNS retries the object (`sns` not in `OPTIONAL_OUTPUTS`).
    pub sns_required: bool,
    /// The shape of SNS bodies.
    pub schema: AlertSchema,
}

impl Default for Outputs {
    fn default() -> Self {
        Outputs {
            outputs: Vec::new(),
            sns: true,
            sns_required: true,
            schema: AlertSchema::Trailwatch,
        }
    }
}

impl Outputs {
    /// Adds `output`; a failure of a `required` one makes the object be retried.
    pub fn push(&mut self, output: Box<dyn Output>, required: bool) {
        self.outputs.push((output, required));
    }

    /// The names of the outputs besides SNS.
    pub fn names(&self) -> Vec<&'static str> {
        self.outputs.iter().map(|(o, _)| o.name()).collect()
    }

    /// Publishes `alerts` to every output, each whatever the others did. `Err` holds the
    /// failures of required outputs (the object is to be retried); failures of optional
    /// outputs are logged only.
    pub async fn publish(&self, alerts: &[Redacted<Alert>]) -> Result<(), Vec<OutputError>> {
        self.publish_with(None, alerts).await
    }

    /// [`Outputs::publish`] with the SNS output first, when `OUTPUTS` names it (its sink
    /// lives with the handler, so it is handed in per delivery).
    pub async fn publish_with(
        &self,
        sns: Option<&dyn Output>,
        alerts: &[Redacted<Alert>],
    ) -> Result<(), Vec<OutputError>> {
        if alerts.is_empty() {
            return Ok(());
        }
        let sns = sns.filter(|_| self.sns).map(|o| (o, self.sns_required));
        let others = self.outputs.iter().map(|(o, r)| (o.as_ref(), *r));
        let mut failed = Vec::new();
        for (o, required) in sns.into_iter().chain(others) {
            match o.publish(alerts).await {
                Ok(sent) => tracing::info!(output = o.name(), sent, "alerts delivered"),
                Err(e) if required => {
                    tracing::error!(output = o.name(), error = %e, "required output failed");
                    failed.push(e);
                }
                Err(e) => tracing::warn!(output = o.name(), error = %e, "optional output failed"),
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed)
        }
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
pub fn build(config: &OutputsConfig, shared: &aws_config::SdkConfig) -> Outputs {
    let mut outputs = Outputs {
        sns: false,
        schema: config.schema,
        ..Outputs::default()
    };
    for &(kind, required) in &config.outputs {
        match kind {
            OutputKind::Sns => (outputs.sns, outputs.sns_required) = (true, required),
            OutputKind::SecurityHub => outputs.push(
                Box::new(securityhub::SecurityHub::new(
                    aws_sdk_securityhub::Client::new(shared),
                    config.product_arn.clone(),
                )),
                required,
            ),
            OutputKind::EventBridge => outputs.push(
                Box::new(eventbridge::EventBridge::new(
                    aws_sdk_eventbridge::Client::new(shared),
                    config.event_bus.clone(),
                    config.schema,
                )),
                required,
            ),
        }
    }
    outputs
}

#[cfg(test)]
mod tests;
