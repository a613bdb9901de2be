//! A rule file as written: a Sigma rule's keys plus ours (`name`, `native`, `remediation`,
//! `group_by`, `dedup`, `tests`), read with serde. Nothing is checked here beyond the YAML
//! shape: [`super::descriptor`] turns a [`RawDescriptor`] into a typed descriptor.
//!
//! Imports [`super::error`] and the Sigma engine.

use super::error::CatalogError;
use super::tests_text;
use crate::rules::sigma;
use serde::Deserialize;
use serde_json::Value;

/// A rule file's keys, as written. Sigma's metadata that nothing reads (`status`, `author`,
/// `date`, `related`, `license`, `fields`, `taxonomy`, `scope`...) is accepted, not kept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDescriptor {
    pub(super) title: String,
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default, rename = "status")]
    _status: Option<String>,
    #[serde(default, rename = "description")]
    _description: Option<String>,
    #[serde(default)]
    pub(super) references: Vec<String>,
    #[serde(default, rename = "author")]
    _author: Option<String>,
    #[serde(default, rename = "date")]
    _date: Option<Value>,
    #[serde(default, rename = "modified")]
    _modified: Option<Value>,
    #[serde(default, rename = "related")]
    _related: Option<Value>,
    #[serde(default, rename = "license")]
    _license: Option<Value>,
    #[serde(default, rename = "fields")]
    _fields: Option<Value>,
    #[serde(default, rename = "taxonomy")]
    _taxonomy: Option<Value>,
    #[serde(default, rename = "scope")]
    _scope: Option<Value>,
    #[serde(default)]
    pub(super) tags: Vec<String>,
    #[serde(default)]
    pub(super) logsource: Option<Value>,
    #[serde(default)]
    pub(super) detection: Option<Value>,
    #[serde(default, rename = "falsepositives")]
    _falsepositives: Vec<Value>,
    #[serde(default)]
    pub(super) level: Option<String>,
    #[serde(default)]
    pub(super) native: Option<String>,
    #[serde(default)]
    pub(super) remediation: Option<String>,
    /// A remediation per resource type (a finding's evidence `resource_type`), where the
    /// general one does not fit.
    #[serde(default)]
    pub(super) remediation_by: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub(super) group_by: Vec<String>,
    /// A deduplication window (`60m`).
    #[serde(default)]
    pub(super) dedup: Option<String>,
    #[serde(default)]
    pub(super) tests: Vec<InlineTest>,
    /// The `tests:` block left unread ([`super::tests_text`]), when it was cut out.
    #[serde(skip)]
    pub(super) tests_later: Option<String>,
    /// A Sigma correlation rule's block (`Some` whenever the key is there, even `null`).
    #[serde(default, deserialize_with = "present")]
    pub(super) correlation: Option<Value>,
    /// A multi-document rule's `action`: refused, but read so that the refusal names it.
    #[serde(default, deserialize_with = "present")]
    action: Option<Value>,
}

/// One inline test of a rule: records, and whether the rule is to match them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineTest {
    /// What the test is about.
    pub name: String,
    /// Match or no match.
    pub expect: Expect,
    /// The record a detector or Sigma rule is tested on.
    #[serde(default)]
    pub record: Value,
    /// The records, in order, a correlation rule is tested on.
    #[serde(default)]
    pub records: Vec<Value>,
}

/// What an inline test expects of its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// The rule matches (a finding, or a correlation's alert).
    Match,
    /// It does not.
    NoMatch,
}

impl RawDescriptor {
    /// Reads one rule file; `source` names it in errors. One parse, straight into the shape:
    /// YAML scalars become text where text is wanted, and a key given twice is refused.
    pub fn parse(text: &str, source: &str) -> Result<RawDescriptor, CatalogError> {
        let invalid = |message: String| CatalogError::invalid(source, message);
        let (rule, tests_later) = match tests_text::split(text) {
            Some((rule, tests)) => (std::borrow::Cow::Owned(rule), Some(tests)),
            None => (std::borrow::Cow::Borrowed(text), None),
        };
        let text = rule.as_ref();
        let mut raw: RawDescriptor = match serde_norway::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                // A correlation or multi-document rule says so, not how it does not fit.
                if let Ok(doc) = serde_norway::from_str::<Value>(text) {
                    sigma::check_rule_kinds(None, doc.get("action"))
                        .map_err(|e| invalid(e.to_string()))?;
                }
                return Err(invalid(e.to_string()));
            }
        };
        sigma::check_rule_kinds(None, raw.action.as_ref()).map_err(|e| invalid(e.to_string()))?;
        raw.tests_later = tests_later;
        Ok(raw)
    }
}

impl RawDescriptor {
    /// The documents of a rule file (`---` between them), each read as one rule; a file of one
    /// document is read by [`RawDescriptor::parse`], whose errors say more.
    pub fn parse_all(text: &str, source: &str) -> Result<Vec<RawDescriptor>, CatalogError> {
        if !several_documents(text) {
            return RawDescriptor::parse(text, source).map(|raw| vec![raw]);
        }
        let mut docs = Vec::new();
        for (i, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
            let value = Value::deserialize(doc)
                .map_err(|e| CatalogError::invalid(source, format!("document {}: {e}", i + 1)))?;
            docs.push(value);
        }
        if docs.len() <= 1 {
            return RawDescriptor::parse(text, source).map(|raw| vec![raw]);
        }
        docs.into_iter()
            .enumerate()
            .map(|(i, value)| {
                let invalid =
                    |m: String| CatalogError::invalid(source, format!("document {}: {m}", i + 1));
                sigma::check_rule_kinds(None, value.get("action"))
                    .map_err(|e| invalid(e.to_string()))?;
                RawDescriptor::deserialize(value).map_err(|e| invalid(e.to_string()))
            })
            .collect()
    }
}

/// Whether a `---` line separates documents (one opening the file does not).
fn several_documents(text: &str) -> bool {
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    if lines.next().is_some_and(|l| l.trim_end() == "---") {
        lines.next();
    }
    lines.any(|l| l.trim_end() == "---" || l.starts_with("--- "))
}

/// A key that is there, whatever its value (`null` too).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}
