//! The outputs' settings: `OUTPUTS`, `OPTIONAL_OUTPUTS`, `ALERT_SCHEMA`, `EVENT_BUS_NAME`,
//! `SECURITYHUB_PRODUCT_ARN`, read once at init; a bad value names its variable.

use super::ConfigError;

/// One destination `OUTPUTS` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// The SNS topic of `TOPIC_ARN` (the default).
    Sns,
    /// AWS Security Hub, as ASFF findings.
    SecurityHub,
    /// An EventBridge bus.
    EventBridge,
}

impl OutputKind {
    /// The name `OUTPUTS` uses.
    pub fn name(self) -> &'static str {
        match self {
            OutputKind::Sns => "sns",
            OutputKind::SecurityHub => "securityhub",
            OutputKind::EventBridge => "eventbridge",
        }
    }

    fn parse(s: &str, variable: &'static str) -> Result<OutputKind, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sns" => Ok(OutputKind::Sns),
            "securityhub" => Ok(OutputKind::SecurityHub),
            "eventbridge" => Ok(OutputKind::EventBridge),
            other => Err(ConfigError {
                variable,
                message: format!(
                    "unknown output `{other}`: expected sns, securityhub or eventbridge"
                ),
            }),
        }
    }
}

/// The shape of the alert in SNS and EventBridge bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertSchema {
    /// trailwatch's alert JSON (`trailwatch.alert.v1`).
    #[default]
    Trailwatch,
    /// An OCSF 1.1.0 Detection Finding.
    Ocsf,
}

/// What the outputs are configured to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputsConfig {
    /// The outputs, in `OUTPUTS` order, each with whether its failure retries the object.
    pub outputs: Vec<(OutputKind, bool)>,
    /// `ALERT_SCHEMA`: `trailwatch` (default) or `ocsf`.
    pub schema: AlertSchema,
    /// `EVENT_BUS_NAME`: the bus for `eventbridge` (default `default`).
    pub event_bus: String,
    /// `SECURITYHUB_PRODUCT_ARN`: required for `securityhub` (the account's default product,
    /// `arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`).
    pub product_arn: String,
}

impl OutputsConfig {
    /// Reads the settings through `var` (the environment, in the function).
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Result<OutputsConfig, ConfigError> {
        let set = |n: &str| var(n).filter(|v| !v.trim().is_empty());
        let list = |v: &'static str| -> Result<Vec<OutputKind>, ConfigError> {
            let raw = set(v).unwrap_or_default();
            raw.split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| OutputKind::parse(s, v))
                .collect()
        };
        let mut named = list("OUTPUTS")?;
        if named.is_empty() {
            named.push(OutputKind::Sns);
        }
        named.dedup();
        let optional = list("OPTIONAL_OUTPUTS")?;
        if let Some(o) = optional.iter().find(|o| !named.contains(o)) {
            return Err(ConfigError {
                variable: "OPTIONAL_OUTPUTS",
                message: format!("`{}` is not in OUTPUTS", o.name()),
            });
        }
        let schema = match set("ALERT_SCHEMA").as_deref().map(str::trim) {
            None | Some("trailwatch") => AlertSchema::Trailwatch,
            Some("ocsf") => AlertSchema::Ocsf,
            Some(other) => {
                return Err(ConfigError {
                    variable: "ALERT_SCHEMA",
                    message: format!("unknown schema `{other}`: expected trailwatch or ocsf"),
                })
            }
        };
        let product_arn = set("SECURITYHUB_PRODUCT_ARN").unwrap_or_default();
        let product_arn = product_arn.trim().to_owned();
        if named.contains(&OutputKind::SecurityHub) && !valid_product_arn(&product_arn) {
            return Err(ConfigError {
                variable: "SECURITYHUB_PRODUCT_ARN",
                message: format!(
                    "`{product_arn}` is not a Security Hub product ARN \
                     (arn:PARTITION:securityhub:REGION:ACCOUNT:product/ACCOUNT/default)"
                ),
            });
        }
        Ok(OutputsConfig {
            outputs: named
                .into_iter()
                .map(|k| (k, !optional.contains(&k)))
                .collect(),
            schema,
            event_bus: set("EVENT_BUS_NAME").unwrap_or_else(|| "default".into()),
            product_arn,
        })
    }

    /// Whether `kind` is one of the outputs.
    pub fn has(&self, kind: OutputKind) -> bool {
        self.outputs.iter().any(|(k, _)| *k == kind)
    }

    /// The account of the product ARN (the function's own account).
    pub fn product_account(&self) -> &str {
        self.product_arn.split(':').nth(4).unwrap_or_default()
    }
}

fn valid_product_arn(arn: &str) -> bool {
    let p: Vec<&str> = arn.split(':').collect();
    p.len() == 6
        && p[0] == "arn"
        && p[2] == "securityhub"
        && !p[3].is_empty()
        && p[4].len() == 12
        && p[4].bytes().all(|b| b.is_ascii_digit())
        && p[5].starts_with("product/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<OutputsConfig, ConfigError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OutputsConfig::from_vars(&|n| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_and_errors_name_the_variable() {
        let c = read(&[]).unwrap();
        assert_eq!(c.outputs, vec![(OutputKind::Sns, true)]);
        assert_eq!(
            (c.schema, c.event_bus.as_str()),
            (AlertSchema::Trailwatch, "default")
        );
        let arn = "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default";
        let c = read(&[
            ("OUTPUTS", "sns, securityhub,eventbridge"),
            ("OPTIONAL_OUTPUTS", "eventbridge"),
            ("SECURITYHUB_PRODUCT_ARN", arn),
            ("ALERT_SCHEMA", "ocsf"),
        ])
        .unwrap();
        assert_eq!(c.outputs[2], (OutputKind::EventBridge, false));
        assert_eq!(
            (c.schema, c.product_account()),
            (AlertSchema::Ocsf, "111122223333")
        );
        let e = read(&[("OUTPUTS", "sns,pagerduty")]).unwrap_err();
        assert_eq!(e.variable, "OUTPUTS");
        assert!(e.message.contains("pagerduty"));
        let e = read(&[("OUTPUTS", "securityhub")]).unwrap_err();
        assert_eq!(e.variable, "SECURITYHUB_PRODUCT_ARN");
        let e = read(&[("OPTIONAL_OUTPUTS", "eventbridge")]).unwrap_err();
        assert_eq!(e.variable, "OPTIONAL_OUTPUTS");
        assert_eq!(
            read(&[("ALERT_SCHEMA", "cef")]).unwrap_err().variable,
            "ALERT_SCHEMA"
        );
    }
}
