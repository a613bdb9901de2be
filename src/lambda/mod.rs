//! The AWS Lambda front end: S3 deliveries in, SNS alerts out.
//!
//! `run` is the function's bootstrap: it validates the configuration once, builds the AWS
//! clients once, and serves invocations. The handler is generic over [`ObjectSource`], and
//! its outputs are [`outputs::Output`]s (SNS through an [`AlertSink`]), so tests run it in
//! process with fakes.
//!
//! The order of the modules, each importing only those before it: `retry`, `metrics`,
//! `config`, `triggers`, `s3`, `keys`, `error`, `sns`, `publish`, `ingest`, `outputs`, `state`,
//! `memory`, `rule_source`, `object`, `digests` (the digest files' half of `object`'s
//! `Worker`), `listing`, `handler`, `answers`.

mod answers;
pub mod config;
mod digests;
mod error;
mod handler;
pub mod ingest;
pub mod keys;
mod listing;
mod memory;
mod metrics;
mod object;
pub mod outputs;
mod pending;
pub mod publish;
pub mod retry;
pub mod rule_source;
pub mod s3;
pub mod sns;
pub mod state;
pub mod triggers;

pub use config::{Config, ConfigError};
pub use error::{Failure, ObjectError};
pub use handler::Handler;
pub use object::Outcome;
pub use publish::{AlertSink, EntryFailure, SinkError};
pub use retry::Backoff;
pub use s3::{Fetched, ObjectReader, ObjectSource, SourceError};
pub use triggers::ObjectRef;

use crate::rules::catalog::Catalog;
use anyhow::Context as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The catalog: built-in detectors, the layer's, less the disabled ones (which must exist).
pub fn catalog(config: &Config, extra: &Path) -> anyhow::Result<Catalog> {
    let layer: Vec<_> = extra
        .is_dir()
        .then(|| extra.to_path_buf())
        .into_iter()
        .collect();
    let catalog = Catalog::load(&layer, &[]).context("detectors")?;
    catalog
        .check_ids(&config.disabled, "DISABLED_DETECTORS")
        .map_err(|e| ConfigError {
            variable: "DISABLED_DETECTORS",
            message: match e {
                crate::rules::catalog::CatalogError::Invalid { message, .. } => message,
                other => other.to_string(),
            },
        })?;
    Ok(catalog)
}

/// Sends `tracing` output to stdout: JSON unless `AWS_LAMBDA_LOG_FORMAT=Text`. The level
/// applies to trailwatch and the runtime; the AWS SDK logs warnings only, unless TRACE.
/// Every line carries its `level` and an RFC 3339 `timestamp` (UTC, microseconds): Lambda's
/// log-level filter reads them, and takes a line without them for INFO.
pub fn init_logging(config: &Config) {
    let level = config.log_level.as_str().to_ascii_lowercase();
    let filter = if config.log_level == tracing::Level::TRACE {
        tracing_subscriber::EnvFilter::new("trace")
    } else {
        tracing_subscriber::EnvFilter::new(format!(
            "warn,trailwatch={level},lambda_runtime={level}"
        ))
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .with_ansi(false);
    let _ = if config.json_logs {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// Deadlines below this (September 2001, in ms since the epoch) can only be relative.
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// The deadline of an invocation (`Context::deadline`, ms since the epoch) as an `Instant`.
/// A value too small to be a date is read as milliseconds from now: the `cargo lambda`
/// emulator sends the timeout itself.
pub fn deadline_instant(deadline_ms: u64) -> Instant {
    let now_ms = crate::alert::time::now_millis();
    let left = if deadline_ms < EPOCH_MS_FLOOR {
        deadline_ms
    } else {
        deadline_ms.saturating_sub(now_ms)
    };
    Instant::now() + Duration::from_millis(left)
}

/// The function's bootstrap: blocks serving invocations until the runtime ends.
pub fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    init_logging(&config);
    let catalog = catalog(&config, &config.detectors_dir)?;
    // Checked once the configuration is: a local run learns about both. The runtime library
    // panics without the function's own variables, which Lambda always sets.
    for variable in [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    ] {
        if std::env::var_os(variable).is_none() {
            anyhow::bail!(
                "{variable} is not set: `trailwatch lambda` serves the Lambda Runtime API, as a \
                 function's bootstrap or under `cargo lambda watch` (which set it)"
            );
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(config, catalog))
}

/// The S3 and SNS clients for one shared AWS configuration.
pub fn clients(
    shared: &aws_config::SdkConfig,
    path_style: bool,
) -> (aws_sdk_s3::Client, aws_sdk_sns::Client) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(shared)
            .force_path_style(path_style)
            .build(),
    );
    (s3, aws_sdk_sns::Client::new(shared))
}

async fn serve(config: Config, catalog: Catalog) -> anyhow::Result<()> {
    let retry = aws_config::retry::RetryConfig::standard().with_max_attempts(4);
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(retry)
        .load()
        .await;
    // A custom endpoint (a local test server, a VPC endpoint) may not resolve bucket names
    // as host names: address buckets by path there.
    let path_style = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    let (s3, _) = clients(&shared, path_style);
    tracing::info!(
        topic = %config.topic_arn,
        min_severity = %config.min_severity,
        max_concurrency = config.max_concurrency,
        detectors = catalog.descriptors.len(),
        disabled = ?config.disabled,
        outputs = ?config.outputs.outputs.iter().map(|(k, _)| k.name()).collect::<Vec<_>>(),
        state_table = config.state.as_ref().map_or("", |s| s.table.as_str()),
        "trailwatch ready"
    );
    let outputs = outputs::build(&config, &shared);
    let rules = config
        .detectors_uri
        .clone()
        .map(|uri| rule_source::RuleSource::new(uri, s3.clone(), catalog.clone()));
    let state = config.state.as_ref().map(|settings| {
        let table = state::dynamo::DynamoTable::new(
            aws_sdk_dynamodb::Client::new(&shared),
            settings.table.clone(),
        );
        Arc::new(state::State {
            table: state::AnyTable::Dynamo(table),
            settings: settings.clone(),
        })
    });
    let mut handler = Handler::new(s3::S3Source::new(s3), outputs, catalog, config);
    if let Some(state) = state {
        handler = handler.with_state(state);
    }
    if let Some(rules) = rules {
        handler = handler.with_rules(rules);
    }
    let keys = keys::CloudTrailKeys::new(&shared);
    handler = handler.with_keys(keys::KeyCache::new(Box::new(keys)));
    let handler = Arc::new(handler);
    // The rule source (if any) loads at init.
    handler.refresh_rules(Instant::now()).await;
    let service = lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let handler = Arc::clone(&handler);
            async move {
                handler.refresh_rules(Instant::now()).await;
                let deadline = deadline_instant(event.context.deadline);
                tracing::debug!(
                    deadline_ms = event.context.deadline,
                    remaining_ms = deadline
                        .saturating_duration_since(Instant::now())
                        .as_millis() as u64,
                    "invocation"
                );
                handler
                    .handle(event.payload, deadline)
                    .await
                    .map_err(lambda_runtime::Error::from)
            }
        },
    );
    lambda_runtime::run(service)
        .await
        .map_err(|e| anyhow::anyhow!("Lambda runtime: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_absolute_and_relative() {
        let now_ms = crate::alert::time::now_millis();
        let left = |d: Instant| d.saturating_duration_since(Instant::now()).as_millis();
        let absolute = left(deadline_instant(now_ms + 60_000));
        assert!((59_000..=60_000).contains(&absolute), "{absolute}");
        let relative = left(deadline_instant(600_000));
        assert!((599_000..=600_000).contains(&relative), "{relative}");
        assert_eq!(left(deadline_instant(now_ms - 5)), 0);
    }
}
