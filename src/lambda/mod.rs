//! The AWS Lambda front end: S3 deliveries in, SNS alerts out.
//!
//! `run` is the function's bootstrap: it validates the configuration once, builds the AWS
//! clients once, and serves invocations. The handler is generic over [`ObjectSource`] and
//! [`AlertSink`], so tests run it in process with fakes.

pub mod config;
pub mod handler;
pub mod metrics;
pub mod object;
pub mod publish;
pub mod s3;
pub mod sns;
pub mod triggers;

pub use config::{Config, ConfigError};
pub use handler::{Failure, Handler};
pub use object::Outcome;
pub use publish::{AlertSink, Backoff, EntryFailure, SinkError};
pub use s3::{ObjectReader, ObjectSource, SourceError};
pub use triggers::ObjectRef;

use crate::catalog::Catalog;
use anyhow::Context as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Extra detector files (a Lambda layer unpacks to `/opt`).
pub const LAYER_DETECTORS: &str = "/opt/trailwatch/detectors";

/// The catalog: built-in detectors, the layer's, less the disabled ones (which must exist).
pub fn catalog(config: &Config, extra: &Path) -> anyhow::Result<Catalog> {
    let mut catalog = Catalog::embedded().context("built-in detectors")?;
    if extra.is_dir() {
        catalog.add_dir(extra)?;
    }
    for id in &config.disabled {
        if !catalog.descriptors.iter().any(|d| &d.detector_id() == id) {
            return Err(ConfigError {
                variable: "DISABLED_DETECTORS",
                message: format!("no detector has the id `{id}`"),
            }
            .into());
        }
    }
    Ok(catalog)
}

/// Sends `tracing` output to stdout: JSON unless `AWS_LAMBDA_LOG_FORMAT=Text`.
pub fn init_logging(config: &Config) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(config.log_level)
        .with_writer(std::io::stdout)
        .with_ansi(false);
    let _ = if config.json_logs {
        builder.json().flatten_event(true).without_time().try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// The deadline of an invocation (`Context::deadline`, ms since the epoch) as an `Instant`.
pub fn deadline_instant(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// The function's bootstrap: blocks serving invocations until the runtime ends.
pub fn run() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    init_logging(&config);
    let catalog = catalog(&config, Path::new(LAYER_DETECTORS))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(config, catalog))
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
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(path_style)
            .build(),
    );
    let sns = aws_sdk_sns::Client::new(&shared);
    let topic = config.topic_arn.clone();
    tracing::info!(
        topic = %topic,
        min_severity = %config.min_severity,
        max_concurrency = config.max_concurrency,
        detectors = catalog.descriptors.len(),
        disabled = ?config.disabled,
        "trailwatch ready"
    );
    let handler = Arc::new(Handler::new(
        s3::S3Source::new(s3),
        publish::SnsSink::new(sns, topic),
        catalog,
        config,
    ));
    let service = lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let handler = Arc::clone(&handler);
            async move {
                let deadline = deadline_instant(event.context.deadline);
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
