//! Sigma rule engine: compiles a rule's `detection:` block once into a [`SigmaMatcher`]
//! that tests CloudTrail records (as `serde_json::Value`).
//!
//! Supported (everything the SigmaHQ CloudTrail rules use, and more): case-insensitive
//! strings with `*` / `?` wildcards and `\` escapes; value lists (OR); maps (AND); lists of
//! maps (OR); keyword lists (anywhere in the record); modifiers `contains`, `startswith`,
//! `endswith`, `all`, `re` (+ `i`, `m`, `s`), `cidr`, `exists`, `fieldref`, `cased`, `lt`,
//! `lte`, `gt`, `gte`; `null`; dotted paths through objects and arrays; conditions with
//! `and`, `or`, `not`, parentheses, `1 of`/`all of` a pattern or `them`.
//! Anything else (aggregations, `near`, `timeframe`, other modifiers) is an error: a rule is
//! never half-loaded.

mod condition;
mod detection;
mod field;
mod index;
mod keys;
mod typed;
mod typed_field;
mod value;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use index::{CandidateMemo, Key, RuleIndex};
pub use keys::parse_keys;
pub use typed::{Typed, TypedPath};

use condition::Expr;
use detection::Selection;

/// Why a detection could not be compiled. Each message names the construct.
#[derive(thiserror::Error, Debug)]
pub enum SigmaError {
    #[error("unsupported modifier `{modifier}` in `{field}`")]
    /// A field modifier this engine does not know.
    UnsupportedModifier {
        /// The modifier.
        modifier: String,
        /// The field it modifies.
        field: String,
    },
    #[error(
        "aggregation `{0}` in condition is not supported: count across records with a \
         correlation rule (`correlation:` with `type: event_count` or `value_count`, \
         `group-by` and `timespan`; docs/detectors.md, Correlation rules)"
    )]
    /// An aggregation (`| count()`): not supported.
    Aggregation(String),
    #[error("{0} is not supported")]
    /// A rule shape this engine cannot honour.
    Unsupported(String),
    #[error("condition `{condition}`: {reason}")]
    /// A condition that cannot be read.
    Condition {
        /// The condition.
        condition: String,
        /// Why.
        reason: String,
    },
    #[error("selection `{selection}`: {reason}")]
    /// A selection that cannot be read.
    Selection {
        /// The selection's name.
        selection: String,
        /// Why.
        reason: String,
    },
    #[error("field `{field}`: {reason}")]
    /// A field or its values that cannot be read.
    Field {
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
    #[error("regular expression `{pattern}`: {reason}")]
    /// A regular expression that does not build.
    Regex {
        /// The pattern (cut short when long).
        pattern: String,
        /// Why.
        reason: String,
    },
    #[error("invalid detection: {0}")]
    /// Not a Sigma detection.
    Invalid(String),
}

impl SigmaError {
    /// A regular expression that did not build: a syntax error in a rule's `re` value, or a
    /// pattern the engine made from the rule that is too large.
    /// A long pattern is cut short in the message.
    fn regex(pattern: &str, e: &regex::Error) -> SigmaError {
        const SHOWN: usize = 200;
        let mut pattern = pattern.to_owned();
        if pattern.len() > SHOWN {
            let cut = (0..=SHOWN).rev().find(|&i| pattern.is_char_boundary(i));
            pattern.truncate(cut.unwrap_or(0));
            pattern.push_str("...");
        }
        SigmaError::Regex {
            pattern,
            reason: e.to_string(),
        }
    }
}

/// A compiled Sigma detection. Cheap to share across threads.
#[derive(Debug)]
pub struct SigmaMatcher {
    selections: Vec<Selection>,
    condition: Expr,
    event_names: Option<Vec<String>>,
    event_sources: Option<Vec<String>>,
    identity_types: Option<Vec<String>>,
    /// Matches the JSON text of every record the rule can match (a cheap pre-test).
    prefilter: Option<regex::bytes::Regex>,
    /// The top-level record keys the rule reads (`None`: all of them).
    keys: Option<Vec<String>>,
}

impl SigmaMatcher {
    /// `detection` is the rule's `detection:` mapping (YAML converted to serde_json::Value).
    pub fn compile(detection: &Value) -> Result<SigmaMatcher, SigmaError> {
        let map = detection
            .as_object()
            .ok_or_else(|| SigmaError::Invalid("`detection` must be a mapping".into()))?;
        let mut names = Vec::new();
        let mut selections = Vec::new();
        let mut condition = None;
        for (key, v) in map {
            match key.as_str() {
                "condition" => condition = Some(v),
                "timeframe" => {
                    return Err(SigmaError::Unsupported(
                        "`timeframe` (aggregation window)".into(),
                    ))
                }
                _ => {
                    names.push(key.clone());
                    selections.push(Selection::compile(key, v)?);
                }
            }
        }
        let condition = match condition {
            None => return Err(SigmaError::Invalid("no `condition`".into())),
            Some(Value::String(text)) => condition::parse(text, &names)?,
            Some(Value::Array(list)) if !list.is_empty() => Expr::Or(
                list.iter()
                    .map(|c| match c {
                        Value::String(text) => condition::parse(text, &names),
                        _ => Err(SigmaError::Invalid("`condition` must be text".into())),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Some(_) => return Err(SigmaError::Invalid("`condition` must be text".into())),
        };
        let event_names = pinned(&condition, &selections, "eventName");
        let event_sources = pinned(&condition, &selections, "eventSource");
        let identity_types = pinned(&condition, &selections, "userIdentity.type");
        let prefilter = match fragments(&condition, &selections) {
            Some(frags) => {
                let alts: Vec<String> = frags.iter().map(|f| regex::escape(f)).collect();
                let pattern = format!("(?i){}", alts.join("|"));
                let re = regex::bytes::Regex::new(&pattern);
                Some(re.map_err(|e| SigmaError::regex(&pattern, &e))?)
            }
            None => None,
        };
        Ok(SigmaMatcher {
            keys: keys::selection_keys(&selections),
            selections,
            condition,
            event_names,
            event_sources,
            identity_types,
            prefilter,
        })
    }

    /// Whether `record` satisfies the detection.
    pub fn matches(&self, record: &Value) -> bool {
        self.condition
            .eval(&mut |i| self.selections[i].matches(record))
    }

    /// The verdict from the typed record alone, when it can tell (`None`: call
    /// [`SigmaMatcher::matches`]). Agrees with `matches` whenever it answers.
    pub fn decide(&self, typed: &Typed) -> Option<bool> {
        self.condition
            .decide(&mut |i| typed::decide_selection(&self.selections[i], typed))
    }

    /// A cheap test on the record's JSON text: `false` means the record cannot match, `true`
    /// that it may. `raw` must not use `\u` escapes for ASCII characters (check with
    /// [`crate::record::text_facts::plain`]).
    pub fn may_match_text(&self, raw: &[u8]) -> bool {
        self.prefilter.as_ref().is_none_or(|re| re.is_match(raw))
    }

    /// The pattern of the cheap text pre-test ([`SigmaMatcher::may_match_text`]), if the
    /// detection has one: texts one of which a matching record's JSON text holds.
    pub fn prefilter_pattern(&self) -> Option<&str> {
        self.prefilter.as_ref().map(regex::bytes::Regex::as_str)
    }

    /// Literal values the record's eventName must have for any match, if the rule pins
    /// them (lowercased, sorted); `None`: can't tell, the rule must always be tried.
    pub fn event_names(&self) -> Option<&[String]> {
        self.event_names.as_deref()
    }

    /// The top-level keys of the record that the rule reads, sorted; `None` when it searches
    /// the whole record (keywords). The rule gives the same verdict on a record parsed with
    /// [`parse_keys`] for (a superset of) these keys as on the whole record.
    pub fn keys(&self) -> Option<&[String]> {
        self.keys.as_deref()
    }

    /// Same as [`SigmaMatcher::event_names`], for eventSource.
    pub fn event_sources(&self) -> Option<&[String]> {
        self.event_sources.as_deref()
    }

    /// Same as [`SigmaMatcher::event_names`], for userIdentity.type.
    pub fn identity_types(&self) -> Option<&[String]> {
        self.identity_types.as_deref()
    }
}

/// Texts one of which a record's JSON text must contain for `e` to be true, if known.
fn fragments(e: &Expr, sels: &[Selection]) -> Option<Vec<String>> {
    match e {
        Expr::Sel(i) => sels[*i].fragments(),
        Expr::Not(_) => None,
        Expr::Or(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(fragments(item, sels)?);
            }
            Some(out)
        }
        Expr::And(items) => detection::best(items.iter().filter_map(|i| fragments(i, sels))),
    }
}

/// Values `field` must take for `e` to be true (a superset), if known.
fn pinned(e: &Expr, sels: &[Selection], field: &str) -> Option<Vec<String>> {
    match e {
        Expr::Sel(i) => sels[*i].pinned(field),
        Expr::Not(_) => None,
        Expr::Or(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(pinned(item, sels, field)?);
            }
            out.sort();
            out.dedup();
            Some(out)
        }
        Expr::And(items) => items
            .iter()
            .filter_map(|item| pinned(item, sels, field))
            .reduce(|a, b| a.into_iter().filter(|x| b.contains(x)).collect()),
    }
}

/// Whether a rule's `logsource` applies to CloudTrail records: product `aws` with service
/// `cloudtrail` (or no service), or no product at all.
pub fn applies_to_cloudtrail(logsource: Option<&Value>) -> bool {
    let get = |k: &str| logsource.and_then(|l| l.get(k)).and_then(Value::as_str);
    match (get("product"), get("service")) {
        (None, None) => true,
        (None, Some(s)) | (Some(_), Some(s)) if !s.eq_ignore_ascii_case("cloudtrail") => false,
        (Some(p), _) => p.eq_ignore_ascii_case("aws"),
        (None, Some(_)) => true,
    }
}

/// Refuses rule-level constructs the engine does not implement (correlation rules,
/// multi-document `action:` rules), so that no part of a rule is silently ignored. The
/// arguments are the rule's `correlation` and `action` values, where present.
pub fn check_rule_kinds(
    correlation: Option<&Value>,
    action: Option<&Value>,
) -> Result<(), SigmaError> {
    if correlation.is_some() {
        return Err(SigmaError::Unsupported(
            "correlation rule (`correlation:`)".into(),
        ));
    }
    if let Some(action) = action {
        return Err(SigmaError::Unsupported(format!(
            "multi-document rule (`action: {}`)",
            action.as_str().unwrap_or("?")
        )));
    }
    Ok(())
}
