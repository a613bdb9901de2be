//! Filters: Sigma filter documents that quiet known-good activity without touching the rules.
//!
//! A filter file holds a `filter:` block (`rules:`, selections, `condition`) as in the Sigma
//! filter specification: its condition is ANDed with the rule's, so a finding is kept only
//! when the filter's condition holds for its record (`condition: not selection` drops what
//! `selection` matches). Our keys: `reason` and `owner` (required), `expires` (a date, past
//! which the filter is not applied), `action` (`drop`, the default, or `lower`) and
//! `set_severity` (with `lower`: the severity to set instead of one step lower).
//!
//! The file's shape is [`super::filter_file`]; the checks on a filter's condition and its
//! text pre-test are [`super::filter_probe`]. Imports those, [`super::error`],
//! [`super::source`], [`super::dates`] and the Sigma engine.

use super::dates;
use super::error::CatalogError;
use super::filter_file::FilterFile;
use super::filter_probe::{probe_record, screen_of};
use super::source::file_stem;
use crate::alert::severity::Severity;
use crate::rules::sigma::SigmaMatcher;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;

pub use super::filter_file::{Action, FilterExpect, FilterTest};

/// A loaded filter: validated and compiled, its `rules:` not yet resolved to detector ids.
#[derive(Debug, Clone)]
pub struct Filter {
    /// The filter's id: `name`, else the file stem (a metric dimension).
    pub id: String,
    /// Its title.
    pub title: String,
    /// Where it came from (file name or path).
    pub source: String,
    /// Why the activity is known-good.
    pub reason: String,
    /// Who decided.
    pub owner: String,
    /// The last day it applies (`YYYY-MM-DD`), if any.
    pub expires: Option<String>,
    /// Drop or lower.
    pub action: Action,
    /// With [`Action::Lower`], the severity set (`None`: one step lower).
    pub set_severity: Option<Severity>,
    /// `rules:` as written: detector ids, rule ids, or `any`.
    pub rules: Vec<String>,
    /// Detector ids the filter applies to (`None`: any), set by [`Filter::resolve`].
    pub detectors: Option<Vec<String>>,
    /// The inline tests.
    pub tests: Vec<FilterTest>,
    matcher: Arc<SigmaMatcher>,
    /// Texts one of which the JSON text of a record this filter acts on holds (a regex
    /// pattern), when known: the negated condition's pre-test.
    screen: Option<String>,
}

/// Whether a rule file's text is a filter (a top-level `filter:` key).
pub fn is_filter(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("filter:"))
}

impl Filter {
    /// Parses and compiles one filter file; `source` names it in errors. Refuses a filter
    /// without `reason` or `owner`, without `rules:`, or one that would drop the findings of
    /// any record (an empty or always-true selection, or `condition: selection`).
    pub fn parse(text: &str, source: &str) -> Result<Filter, CatalogError> {
        let f: FilterFile = serde_norway::from_str(text).map_err(|e| CatalogError::Invalid {
            file: source.to_owned(),
            message: e.to_string(),
        })?;
        Filter::compile(f, source, None)
    }

    /// Every filter of a file of one or more YAML documents (`---` between them, as
    /// `replay --suggest-filters` writes). A document without `name` is the file stem, then
    /// `-2`, `-3`... Nothing is returned unless every document loads.
    pub fn parse_all(text: &str, source: &str) -> Result<Vec<Filter>, CatalogError> {
        let mut out = Vec::new();
        for (i, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
            let f = FilterFile::deserialize(doc).map_err(|e| CatalogError::Invalid {
                file: source.to_owned(),
                message: format!("document {}: {e}", i + 1),
            })?;
            out.push(Filter::compile(f, source, (i > 0).then_some(i + 1))?);
        }
        Ok(out)
    }

    /// Validates and compiles one document; `nth` is its place in a file of several.
    fn compile(f: FilterFile, source: &str, nth: Option<usize>) -> Result<Filter, CatalogError> {
        let invalid = |message: String| CatalogError::Invalid {
            file: source.to_owned(),
            message,
        };
        let required = |v: Option<String>, key: &str| {
            v.filter(|s| !s.trim().is_empty())
                .ok_or_else(|| invalid(format!("a filter needs `{key}`: who decided, and why")))
        };
        let reason = required(f.reason, "reason")?;
        let owner = required(f.owner, "owner")?;
        let mut detection = f.filter;
        let rules = match detection.remove("rules") {
            Some(Value::String(s)) => vec![s],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid("`filter.rules` must be a list of ids".into()))?,
            _ => Vec::new(),
        };
        if rules.is_empty() {
            return Err(invalid(
                "`filter.rules` names no detector (give ids, or `any`)".into(),
            ));
        }
        let expires = match f.expires {
            None => None,
            Some(v) => {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                Some(dates::parse(&text).map_err(|e| invalid(format!("`expires`: {e}")))?)
            }
        };
        let set_severity = match f.set_severity {
            None => None,
            Some(_) if f.action != Action::Lower => {
                return Err(invalid("`set_severity` goes with `action: lower`".into()))
            }
            Some(s) => Some(
                s.parse()
                    .map_err(|e: crate::alert::severity::UnknownSeverity| invalid(e.to_string()))?,
            ),
        };
        let probe = probe_record(&detection);
        let screen = screen_of(&detection);
        let matcher = SigmaMatcher::compile(&Value::Object(detection))
            .map_err(|e| invalid(format!("filter: {e}")))?;
        let probes = [
            ("a record without its fields", Value::Object(Map::new())),
            ("any value of its fields", probe),
        ];
        for (what, record) in probes {
            if !matcher.matches(&record) {
                return Err(invalid(format!(
                    "the filter would hide the findings of {what}: a finding is kept when the \
                     condition holds (write `condition: not selection`), and a selection must \
                     name values"
                )));
            }
        }
        let _ = (f.id, f.description, f.status, f.author, f.date, f.logsource);
        Ok(Filter {
            id: f.name.unwrap_or_else(|| match nth {
                Some(n) => format!("{}-{n}", file_stem(source)),
                None => file_stem(source),
            }),
            title: f.title,
            source: source.to_owned(),
            reason,
            owner,
            expires,
            action: f.action,
            set_severity,
            rules,
            detectors: None,
            tests: f.tests,
            matcher: Arc::new(matcher),
            screen,
        })
    }

    /// Resolves `rules:` to detector ids through `lookup` (an id or a rule's Sigma `id` to its
    /// detector id); fails on a name that is none of them.
    pub fn resolve(&mut self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<(), CatalogError> {
        if self.rules.iter().any(|r| r == "any") {
            self.detectors = None;
            return Ok(());
        }
        let mut ids = Vec::new();
        for name in &self.rules {
            let id = lookup(name).ok_or_else(|| CatalogError::Invalid {
                file: self.source.clone(),
                message: format!("`filter.rules` names `{name}`: no detector or rule has that id"),
            })?;
            ids.push(id);
        }
        self.detectors = Some(ids);
        Ok(())
    }

    /// Whether the filter applies to findings of `detector`.
    pub fn covers(&self, detector: &str) -> bool {
        self.detectors
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|id| id == detector))
    }

    /// Whether it is past its `expires` date on `today` (`YYYY-MM-DD`).
    pub fn expired(&self, today: &str) -> bool {
        self.expires.as_deref().is_some_and(|e| e < today)
    }

    /// `FILE: filter ID expired on DAY`, when it is past its `expires` date on `today`: what
    /// `detectors check` warns of and replay says before it runs.
    pub fn expiry(&self, today: &str) -> Option<String> {
        let day = self.expires.as_deref().filter(|_| self.expired(today))?;
        Some(format!(
            "{}: filter {} expired on {day}",
            self.source, self.id
        ))
    }

    /// Whether the filter acts on a finding about `record` (its condition does not hold).
    pub fn fires(&self, record: &Value) -> bool {
        !self.matcher.matches(record)
    }

    /// A pattern one of whose texts a record's JSON text (without `\u` escapes) holds if the
    /// filter can act on it; `None`: no such test (the filter must be evaluated).
    pub fn screen(&self) -> Option<&str> {
        self.screen.as_deref().filter(|_| !self.reads_context())
    }

    /// The top-level record keys the filter reads (`None`: the whole record).
    pub fn keys(&self) -> Option<&[String]> {
        self.matcher.keys()
    }

    /// Whether the filter selects on account context (`account_name`, `environment`).
    pub fn reads_context(&self) -> bool {
        self.matcher.keys().is_none_or(|keys| {
            keys.iter()
                .any(|k| k == "account_name" || k == "environment")
        })
    }

    /// The severity a lowered finding gets.
    pub fn lowered(&self, severity: Severity) -> Severity {
        self.set_severity
            .unwrap_or_else(|| severity.lower())
            .min(severity)
    }
}
