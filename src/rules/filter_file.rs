//! A filter file as written: its YAML shape, read with serde ([`FilterFile`]), what a filter
//! does ([`Action`]) and its inline tests. [`super::filter`] checks and compiles it.
//!
//! Imports nothing of `rules/`.

use serde::Deserialize;
use serde_json::{Map, Value};

/// What a filter does to a finding whose record fails its condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The finding is counted and not published.
    #[default]
    Drop,
    /// The finding is kept at a lower severity.
    Lower,
}

/// What an inline test of a filter expects of the named detector's finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FilterExpect {
    /// The filter applies to the finding (dropped, or lowered).
    Filtered,
    /// The finding passes the filter unchanged.
    Kept,
}

/// One inline test of a filter: a record, and what becomes of a detector's finding on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterTest {
    /// What the test is about.
    pub name: String,
    /// Filtered or kept.
    pub expect: FilterExpect,
    /// The detector whose finding is looked at (default: the first of `rules:`).
    #[serde(default)]
    pub detector: Option<String>,
    /// The CloudTrail record.
    pub record: Value,
}

/// A filter file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterFile {
    pub(super) title: String,
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) status: Option<String>,
    #[serde(default)]
    pub(super) author: Option<String>,
    #[serde(default)]
    pub(super) date: Option<Value>,
    #[serde(default)]
    pub(super) logsource: Option<Value>,
    pub(super) reason: Option<String>,
    pub(super) owner: Option<String>,
    #[serde(default)]
    pub(super) expires: Option<Value>,
    #[serde(default)]
    pub(super) action: Action,
    #[serde(default)]
    pub(super) set_severity: Option<String>,
    pub(super) filter: Map<String, Value>,
    #[serde(default)]
    pub(super) tests: Vec<FilterTest>,
}
