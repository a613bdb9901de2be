//! What a rule is: exactly one of a native detector, a Sigma rule and a Sigma correlation
//! rule, as a type. A file says which by its keys (`native`, `detection`, `correlation`):
//! [`Written`] is that choice, refused unless there is exactly one; [`Kind`] is the rule
//! compiled (a native id checked, a detection compiled or skipped for its logsource).
//!
//! Imports nothing of `rules/` but the Sigma engine.

use crate::correlate::rule::Correlation;
use crate::detectors::{self, Settings};
use crate::rules::sigma::{self, SigmaMatcher};
use serde_json::Value;
use std::sync::Arc;

/// The kind a rule file declares, its correlation block read.
#[derive(Debug)]
pub enum Written {
    /// `native: <id>`.
    Native(String),
    /// A Sigma `detection:` block.
    Detection(Value),
    /// A Sigma `correlation:` block, read.
    Correlation(Correlation),
}

impl Written {
    /// The kind of a file with these keys: exactly one of them.
    pub fn of(
        native: Option<String>,
        detection: Option<Value>,
        correlation: Option<Value>,
    ) -> Result<Written, String> {
        match (native, detection, correlation) {
            (Some(id), None, None) => Ok(Written::Native(id)),
            (None, Some(detection), None) => Ok(Written::Detection(detection)),
            (None, None, Some(block)) => Correlation::parse(&block)
                .map(Written::Correlation)
                .map_err(|e| e.to_string()),
            _ => Err("needs exactly one of `native`, `detection` and `correlation`".into()),
        }
    }

    /// Whether it is a correlation rule.
    pub fn is_correlation(&self) -> bool {
        matches!(self, Written::Correlation(_))
    }

    /// Whether it names a native detector.
    pub fn is_native(&self) -> bool {
        matches!(self, Written::Native(_))
    }

    /// The rule compiled: a native id must name a native detector, and a detection is
    /// compiled when `logsource` is CloudTrail's (else skipped, saying why).
    pub fn compile(self, logsource: Option<&Value>) -> Result<Kind, String> {
        match self {
            Written::Native(id) => match detectors::native(&id, &Settings::default()) {
                Some(_) => Ok(Kind::Native(id)),
                None => Err(format!("unknown native detector `{id}`")),
            },
            Written::Detection(detection) if sigma::applies_to_cloudtrail(logsource) => {
                let m = SigmaMatcher::compile(&detection).map_err(|e| e.to_string())?;
                Ok(Kind::Sigma(Sigma::Run(Arc::new(m))))
            }
            Written::Detection(_) => {
                let ls = logsource.map_or(String::new(), |l| l.to_string());
                let why = format!("logsource {ls} is not aws/cloudtrail");
                Ok(Kind::Sigma(Sigma::Skipped(why)))
            }
            Written::Correlation(c) => Ok(Kind::Correlation(c)),
        }
    }
}

/// What a loaded rule is.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A native (Rust) detector, by its id.
    Native(String),
    /// A Sigma rule.
    Sigma(Sigma),
    /// A Sigma correlation rule, read (its `rules` are linked when the catalog loads).
    Correlation(Correlation),
}

/// A Sigma rule: run, or not (a valid rule for another log source).
#[derive(Debug, Clone)]
pub enum Sigma {
    /// The compiled detection of a rule that applies to CloudTrail.
    Run(Arc<SigmaMatcher>),
    /// Why the rule is not run (its logsource is not CloudTrail).
    Skipped(String),
}

impl Kind {
    /// `native`, `sigma` or `correlation`.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Native(_) => "native",
            Kind::Sigma(_) => "sigma",
            Kind::Correlation(_) => "correlation",
        }
    }

    /// The native detector's id.
    pub fn native(&self) -> Option<&str> {
        match self {
            Kind::Native(id) => Some(id),
            _ => None,
        }
    }

    /// The compiled detection of a Sigma rule that is run.
    pub fn matcher(&self) -> Option<&Arc<SigmaMatcher>> {
        match self {
            Kind::Sigma(Sigma::Run(m)) => Some(m),
            _ => None,
        }
    }

    /// Why a Sigma rule is not run.
    pub fn skipped(&self) -> Option<&str> {
        match self {
            Kind::Sigma(Sigma::Skipped(why)) => Some(why),
            _ => None,
        }
    }

    /// A correlation rule's block.
    pub fn correlation(&self) -> Option<&Correlation> {
        match self {
            Kind::Correlation(c) => Some(c),
            _ => None,
        }
    }
}
