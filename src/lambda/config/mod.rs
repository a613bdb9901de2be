//! The function's configuration: every environment variable it reads, validated once at init
//! into typed values ([`Config`], with its parts [`OutputsConfig`], [`StateSettings`],
//! [`RuleUri`] and the metrics' context). One error type, [`ConfigError`], names the variable.
//!
//! A missing or bad value fails init with a message that names the variable. The AWS SDK's
//! own variables (`AWS_ENDPOINT_URL*`, `AWS_USE_FIPS_ENDPOINT`, `AWS_REGION`) are read by the
//! SDK itself and are not repeated here.

mod error;
pub mod outputs;
pub mod rule_uri;
pub mod state;

pub use error::{bad, ConfigError};
pub use outputs::{AlertSchema, OutputKind, OutputsConfig};
pub use rule_uri::{BadUri, RuleUri};
pub use state::StateSettings;

use crate::alert::severity::Severity;
use crate::detectors::fips_policy::{self, FipsPolicy};
use crate::detectors::trusted::{self, TrustedAccounts};

/// Objects processed at once in one invocation when `MAX_CONCURRENCY` is not set.
pub const DEFAULT_CONCURRENCY: usize = 4;
const MAX_CONCURRENCY_LIMIT: usize = 64;

/// Extra detector files (a Lambda layer unpacks to `/opt`).
pub const LAYER_DETECTORS: &str = "/opt/trailwatch/detectors";

#[derive(Debug, Clone)]
/// The function's settings, read once at init from the environment.
pub struct Config {
    /// `TOPIC_ARN`: where alerts go (required when `OUTPUTS` names `sns`, the default).
    pub topic_arn: String,
    /// `MIN_SEVERITY`: alerts below are not published (operational alerts always are).
    pub min_severity: Severity,
    /// `TRAILWATCH_FIPS_REQUIRED`: where the FIPS detectors apply.
    pub fips_required: FipsPolicy,
    /// `TRAILWATCH_TRUSTED_ACCOUNTS`: accounts and organizations whose grants are expected.
    pub trusted_accounts: TrustedAccounts,
    /// `DISABLED_DETECTORS`: detector ids, comma-separated.
    pub disabled: Vec<String>,
    /// `MAX_CONCURRENCY`: objects scanned at once in one invocation.
    pub max_concurrency: usize,
    /// `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's logging controls), else `LOG_LEVEL`.
    pub log_level: tracing::Level,
    /// `AWS_LAMBDA_LOG_FORMAT`: JSON unless `Text`.
    pub json_logs: bool,
    /// `DETECTORS_DIR`: extra detector files, when the folder exists (default: where a
    /// Lambda layer puts them, `/opt/trailwatch/detectors`).
    pub detectors_dir: std::path::PathBuf,
    /// `DETECTORS_URI`: `s3://bucket/prefix/` holding rules, filters and accounts files,
    /// loaded at init and checked for changes at most every five minutes.
    pub detectors_uri: Option<RuleUri>,
    /// `DIGEST_LISTING`: `s3://bucket/prefix/` of a trail whose digest files are not notified
    /// (its SNS topic names log files only): the scheduled check lists them.
    pub digest_listing: Option<RuleUri>,
    /// `STATE_TABLE`, `SILENCE_AFTER`, `ALLOWED_LATENESS`: state across deliveries
    /// (correlation windows, silent trails); none without `STATE_TABLE`.
    pub state: Option<StateSettings>,
    /// `OUTPUTS`, `OPTIONAL_OUTPUTS`, `ALERT_SCHEMA`, `EVENT_BUS_NAME`,
    /// `SECURITYHUB_PRODUCT_ARN`: where alerts go.
    pub outputs: OutputsConfig,
    /// `AWS_LAMBDA_FUNCTION_NAME` and the log level: what every metric line carries.
    pub metrics: crate::lambda::metrics::Context,
    /// `MAX_RECORD_SIZE` (default 1MiB), `MAX_UNCOMPRESSED` (default 4GiB): what one
    /// delivery may cost.
    pub limits: crate::scan::Limits,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let set = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let outputs = OutputsConfig::from_vars(&set)?;
        // The topic is required when alerts go to SNS (`OUTPUTS` names it, or is not set).
        let topic_arn = match set("TOPIC_ARN") {
            Some(t) => t.trim().to_owned(),
            None if !outputs.has(OutputKind::Sns) => String::new(),
            None => {
                return Err(bad(
                    "TOPIC_ARN",
                    "required (OUTPUTS names sns, the default): the ARN of the SNS topic that \
                     receives alerts",
                ))
            }
        };
        if !topic_arn.is_empty() && !valid_topic_arn(&topic_arn) {
            return Err(bad(
                "TOPIC_ARN",
                format!(
                    "`{topic_arn}` is not an SNS topic ARN (arn:PARTITION:sns:REGION:ACCOUNT:NAME)"
                ),
            ));
        }
        let min_severity = match set("MIN_SEVERITY") {
            None => Severity::Low,
            Some(v) => v
                .parse()
                .map_err(|e: crate::alert::severity::UnknownSeverity| {
                    bad("MIN_SEVERITY", e.to_string())
                })?,
        };
        let fips = set(fips_policy::ENV).unwrap_or_else(|| fips_policy::DEFAULT.into());
        let fips_required = fips.parse().map_err(|e: fips_policy::PolicyError| {
            bad("TRAILWATCH_FIPS_REQUIRED", e.to_string())
        })?;
        let trusted_accounts = set(trusted::ENV)
            .unwrap_or_default()
            .parse()
            .map_err(|e: trusted::TrustedError| bad(trusted::ENV, e.to_string()))?;
        let disabled = set("DISABLED_DETECTORS")
            .map(|v| crate::rules::catalog::parse_ids(&v))
            .unwrap_or_default();
        let max_concurrency = match set("MAX_CONCURRENCY") {
            None => DEFAULT_CONCURRENCY,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_CONCURRENCY_LIMIT).contains(&n) => n,
                _ => {
                    return Err(bad(
                        "MAX_CONCURRENCY",
                        format!("`{v}` is not a whole number from 1 to {MAX_CONCURRENCY_LIMIT}"),
                    ))
                }
            },
        };
        let (level_var, level) = match set("AWS_LAMBDA_LOG_LEVEL") {
            Some(v) => ("AWS_LAMBDA_LOG_LEVEL", Some(v)),
            None => ("LOG_LEVEL", set("LOG_LEVEL")),
        };
        let log_level = match level {
            None => tracing::Level::INFO,
            Some(ref v) => parse_level(v).ok_or_else(|| {
                bad(
                    level_var,
                    format!("`{v}` is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL"),
                )
            })?,
        };
        let metrics = crate::lambda::metrics::Context {
            function: set("AWS_LAMBDA_FUNCTION_NAME").map(|f| f.trim().to_owned()),
            level: crate::lambda::metrics::metric_level(level.as_deref()),
        };
        let json_logs = match set("AWS_LAMBDA_LOG_FORMAT") {
            None => true,
            Some(v) if v.eq_ignore_ascii_case("json") => true,
            Some(v) if v.eq_ignore_ascii_case("text") => false,
            Some(v) => {
                return Err(bad(
                    "AWS_LAMBDA_LOG_FORMAT",
                    format!("`{v}` is neither JSON nor Text"),
                ))
            }
        };
        let detectors_uri = set("DETECTORS_URI")
            .map(|v| v.parse())
            .transpose()
            .map_err(|e: BadUri| bad("DETECTORS_URI", e.to_string()))?;
        let digest_listing = set("DIGEST_LISTING")
            .map(|v| v.parse())
            .transpose()
            .map_err(|e: BadUri| bad("DIGEST_LISTING", e.to_string()))?;
        let state = StateSettings::from_lookup(&set)?;
        let size = |variable: &'static str, default: u64| match set(variable) {
            None => Ok(default),
            Some(v) => crate::scan::limits::parse_size(&v).map_err(|e| bad(variable, e)),
        };
        let defaults = crate::scan::Limits::default();
        // `LOG_INTEGRITY`: each log file's SHA-256 for its digest (half as much CPU again as the scan).
        let hash = match set("LOG_INTEGRITY") {
            None => true,
            Some(v) if v.eq_ignore_ascii_case("on") => true,
            Some(v) if v.eq_ignore_ascii_case("off") => false,
            Some(v) => return Err(bad("LOG_INTEGRITY", format!("`{v}` is neither on nor off"))),
        };
        let limits = crate::scan::Limits {
            max_record: size("MAX_RECORD_SIZE", defaults.max_record)?,
            max_uncompressed: size("MAX_UNCOMPRESSED", defaults.max_uncompressed)?,
            hash,
            ..defaults
        };
        Ok(Config {
            limits,
            outputs,
            metrics,
            state,
            detectors_uri,
            digest_listing,
            topic_arn,
            min_severity,
            fips_required,
            trusted_accounts,
            disabled,
            max_concurrency,
            log_level,
            json_logs,
            detectors_dir: set("DETECTORS_DIR")
                .map_or_else(|| LAYER_DETECTORS.into(), std::path::PathBuf::from),
        })
    }

    /// A FIFO topic needs group and deduplication ids.
    pub fn fifo(&self) -> bool {
        self.topic_arn.ends_with(".fifo")
    }
}

fn valid_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && !parts[4].is_empty()
        && !parts[5].is_empty()
}

fn parse_level(v: &str) -> Option<tracing::Level> {
    Some(match v.trim().to_ascii_uppercase().as_str() {
        "TRACE" => tracing::Level::TRACE,
        "DEBUG" => tracing::Level::DEBUG,
        "INFO" => tracing::Level::INFO,
        "WARN" | "WARNING" => tracing::Level::WARN,
        "ERROR" | "FATAL" => tracing::Level::ERROR,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_topic_is_needed_only_when_alerts_go_to_sns() {
        let without = |outputs: &'static str| {
            Config::from_lookup(&move |k| match k {
                "OUTPUTS" => Some(outputs.to_owned()),
                "SECURITYHUB_PRODUCT_ARN" => Some(
                    "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"
                        .to_owned(),
                ),
                _ => None,
            })
        };
        assert!(without("securityhub,eventbridge").is_ok());
        let e = without("securityhub,sns").unwrap_err();
        assert_eq!(e.variable, "TOPIC_ARN");
        // The outputs are read with the rest: one layer, one error naming the variable.
        let e = without("sns,pagerduty").unwrap_err();
        assert_eq!(e.variable, "OUTPUTS");
        assert!(
            Config::from_lookup(&|_| None).is_err(),
            "sns is the default output"
        );
    }

    use super::*;
    use std::collections::HashMap;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:alerts";

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_with_only_the_topic() {
        let c = config(&[("TOPIC_ARN", TOPIC)]).unwrap();
        assert_eq!(c.min_severity, Severity::Low);
        assert_eq!(c.max_concurrency, DEFAULT_CONCURRENCY);
        assert_eq!(c.fips_required, FipsPolicy::default());
        assert!(c.disabled.is_empty() && c.json_logs && !c.fifo());
        assert!(c.limits.hash, "log integrity on by default");
        assert!(c.trusted_accounts.is_empty());
        assert_eq!(c.log_level, tracing::Level::INFO);
    }

    #[test]
    fn reads_every_variable() {
        let c = config(&[
            (
                "TOPIC_ARN",
                "arn:aws-us-gov:sns:us-gov-west-1:111122223333:a.fifo",
            ),
            ("MIN_SEVERITY", "HIGH"),
            ("TRAILWATCH_FIPS_REQUIRED", "us-gov-*, 111122223333"),
            ("TRAILWATCH_TRUSTED_ACCOUNTS", "444455556666, o-a1b2c3d4e5"),
            ("DISABLED_DETECTORS", "tls-outdated, ,x"),
            ("MAX_CONCURRENCY", "8"),
            ("AWS_LAMBDA_LOG_LEVEL", "debug"),
            ("AWS_LAMBDA_LOG_FORMAT", "Text"),
            ("LOG_INTEGRITY", "OFF"),
        ])
        .unwrap();
        assert!(c.fifo() && !c.json_logs);
        assert!(!c.limits.hash, "LOG_INTEGRITY=off");
        assert_eq!(c.min_severity, Severity::High);
        assert_eq!(c.disabled, ["tls-outdated", "x"]);
        assert_eq!(c.max_concurrency, 8);
        assert!(c.trusted_accounts.contains("o-a1b2c3d4e5"));
        assert_eq!(c.log_level, tracing::Level::DEBUG);
        assert_eq!(
            c.fips_required,
            "us-gov-*,111122223333".parse::<FipsPolicy>().unwrap()
        );
        let all = config(&[("TOPIC_ARN", TOPIC), ("TRAILWATCH_FIPS_REQUIRED", "ALL")]);
        assert_eq!(all.unwrap().fips_required, FipsPolicy::All);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "TOPIC_ARN"),
            (&[("TOPIC_ARN", "alerts")], "TOPIC_ARN"),
            (
                &[("TOPIC_ARN", TOPIC), ("MIN_SEVERITY", "severe")],
                "MIN_SEVERITY",
            ),
            (
                &[("TOPIC_ARN", TOPIC), ("MAX_CONCURRENCY", "0")],
                "MAX_CONCURRENCY",
            ),
            (
                &[("TOPIC_ARN", TOPIC), ("MAX_CONCURRENCY", "many")],
                "MAX_CONCURRENCY",
            ),
            (
                &[
                    ("TOPIC_ARN", TOPIC),
                    ("TRAILWATCH_FIPS_REQUIRED", "US East!"),
                ],
                "TRAILWATCH_FIPS_REQUIRED",
            ),
            (
                &[
                    ("TOPIC_ARN", TOPIC),
                    ("TRAILWATCH_TRUSTED_ACCOUNTS", "prod"),
                ],
                "TRAILWATCH_TRUSTED_ACCOUNTS",
            ),
            (&[("TOPIC_ARN", TOPIC), ("LOG_LEVEL", "loud")], "LOG_LEVEL"),
            (
                &[("TOPIC_ARN", TOPIC), ("DETECTORS_URI", "bucket/rules/")],
                "DETECTORS_URI",
            ),
            (
                &[("TOPIC_ARN", TOPIC), ("AWS_LAMBDA_LOG_FORMAT", "xml")],
                "AWS_LAMBDA_LOG_FORMAT",
            ),
            (
                &[("TOPIC_ARN", TOPIC), ("MAX_RECORD_SIZE", "big")],
                "MAX_RECORD_SIZE",
            ),
            (
                &[("TOPIC_ARN", TOPIC), ("MAX_UNCOMPRESSED", "0")],
                "MAX_UNCOMPRESSED",
            ),
        ];
        for (vars, variable) in cases {
            let e = config(vars).unwrap_err();
            assert_eq!(e.variable, *variable, "{vars:?}");
            assert!(e.to_string().starts_with(variable), "{e}");
        }
    }
}
