//! A Sigma correlation rule's `correlation:` block, read and checked.
//!
//! ```yaml
//! correlation:
//!   type: event_count          # or value_count, temporal, temporal_ordered
//!   rules: [console-auth-failures]
//!   group-by: [sourceIPAddress]
//!   timespan: 10m
//!   condition: {gte: 20}       # value_count also names `field`
//!   generate: true
//! ```
//! What the engine cannot honour is refused with the reason: `aliases`, unknown keys, a
//! timespan that is not a whole number of [`BUCKET`]s, a condition without a bound.

use super::time::parse_duration;
use serde_json::Value;

/// The width of a time bucket in seconds: counts are kept per minute of `eventTime`.
pub const BUCKET: i64 = 60;

/// What a correlation counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Events of the referenced rules in the window.
    EventCount,
    /// Distinct values of the condition's `field` in the window.
    ValueCount,
    /// Every referenced rule matched in the window, in any order.
    Temporal,
    /// Every referenced rule matched in the window, in the order listed.
    TemporalOrdered,
}

/// The bounds a count must meet (all of those given): `gt`, `gte`, `lt`, `lte`, `eq`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Condition {
    /// Bounds as (operator, number).
    pub bounds: Vec<(String, u64)>,
    /// The field a `value_count` counts the distinct values of.
    pub field: Option<String>,
}

impl Condition {
    /// Whether `n` meets every bound.
    pub fn holds(&self, n: u64) -> bool {
        self.bounds.iter().all(|(op, v)| match op.as_str() {
            "gt" => n > *v,
            "gte" => n >= *v,
            "lt" => n < *v,
            "lte" => n <= *v,
            _ => n == *v,
        })
    }

    /// `>= 20`, `> 3 and <= 9`: for summaries.
    pub fn describe(&self) -> String {
        let op = |o: &str| match o {
            "gt" => ">",
            "gte" => ">=",
            "lt" => "<",
            "lte" => "<=",
            _ => "=",
        };
        let parts: Vec<String> = self
            .bounds
            .iter()
            .map(|(o, v)| format!("{} {v}", op(o)))
            .collect();
        parts.join(" and ")
    }
}

/// A correlation rule, as the engine runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correlation {
    /// The type.
    pub kind: Kind,
    /// The base rules, by id or name (their detector ids once the catalog links them).
    pub rules: Vec<String>,
    /// The event fields whose values form a group.
    pub group_by: Vec<String>,
    /// The window, in seconds (a multiple of [`BUCKET`]).
    pub timespan: i64,
    /// The bounds; for the temporal types, on the number of distinct rules seen.
    pub condition: Condition,
    /// Whether the base rules still raise their own alerts.
    pub generate: bool,
}

/// Why a correlation block was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("correlation: {0}")]
pub struct CorrelationError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, CorrelationError> {
    Err(CorrelationError(message.into()))
}

fn texts(v: Option<&Value>, key: &str) -> Result<Vec<String>, CorrelationError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => err(format!("`{key}` holds {other}, not a name")),
            })
            .collect(),
        Some(other) => err(format!("`{key}` is {other}, not a list of names")),
    }
}

impl Correlation {
    /// Reads a `correlation:` block.
    pub fn parse(block: &Value) -> Result<Correlation, CorrelationError> {
        let Some(map) = block.as_object() else {
            return err("the block is not a mapping");
        };
        const KEYS: [&str; 6] = [
            "type",
            "rules",
            "group-by",
            "timespan",
            "condition",
            "generate",
        ];
        if let Some(k) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return err(format!("`{k}` is not supported"));
        }
        let kind = match map.get("type").and_then(Value::as_str) {
            Some("event_count") => Kind::EventCount,
            Some("value_count") => Kind::ValueCount,
            Some("temporal") => Kind::Temporal,
            Some("temporal_ordered") => Kind::TemporalOrdered,
            Some(t) => return err(format!("type `{t}` is not supported")),
            None => return err("`type` is missing"),
        };
        let rules = texts(map.get("rules"), "rules")?;
        if rules.is_empty() {
            return err("`rules` names no rule");
        }
        let temporal = matches!(kind, Kind::Temporal | Kind::TemporalOrdered);
        if temporal && rules.len() < 2 {
            return err("a temporal correlation needs at least two rules");
        }
        let span = map.get("timespan").and_then(Value::as_str);
        let Some(timespan) = span.and_then(parse_duration) else {
            return err(format!(
                "`timespan` {span:?} is not {}",
                super::time::DURATION
            ));
        };
        if timespan % BUCKET != 0 {
            return err("`timespan` must be whole minutes (counts are kept per minute)");
        }
        let condition = condition(map.get("condition"), kind, rules.len())?;
        let generate = match map.get("generate") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => return err(format!("`generate` is {other}, not true or false")),
        };
        Ok(Correlation {
            kind,
            rules,
            group_by: texts(map.get("group-by"), "group-by")?,
            timespan,
            condition,
            generate,
        })
    }
}

fn condition(v: Option<&Value>, kind: Kind, rules: usize) -> Result<Condition, CorrelationError> {
    let temporal = matches!(kind, Kind::Temporal | Kind::TemporalOrdered);
    let Some(v) = v.filter(|v| !v.is_null()) else {
        if temporal {
            // All the rules, as the specification says when no condition is given.
            let bounds = vec![("gte".to_owned(), rules as u64)];
            return Ok(Condition {
                bounds,
                field: None,
            });
        }
        return err("`condition` is missing");
    };
    let Some(map) = v.as_object() else {
        return err(format!(
            "`condition` is {v}, not a mapping like {{gte: 20}}"
        ));
    };
    let mut c = Condition::default();
    for (k, val) in map {
        match k.as_str() {
            "field" => match val.as_str() {
                Some(f) if kind == Kind::ValueCount => c.field = Some(f.to_owned()),
                _ => return err("`condition.field` is for value_count, and names one field"),
            },
            "gt" | "gte" | "lt" | "lte" | "eq" => match val.as_u64() {
                Some(n) => c.bounds.push((k.clone(), n)),
                None => return err(format!("`condition.{k}` is {val}, not a whole number")),
            },
            other => return err(format!("condition operator `{other}` is not supported")),
        }
    }
    if c.bounds.is_empty() {
        return err("`condition` sets no bound");
    }
    if kind == Kind::ValueCount && c.field.is_none() {
        return err("a value_count condition names the `field` to count");
    }
    Ok(c)
}
