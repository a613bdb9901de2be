//! What a filter is checked on when it loads, and its pre-test: a record that holds a nonsense
//! value at every field its selections name (a filter must not hide the findings of any
//! record), and the text a record must hold for the filter to act on it.
//!
//! Imports nothing of `rules/` but the Sigma engine.

use crate::rules::sigma::SigmaMatcher;
use serde_json::{Map, Value};

/// The text pre-test of the negated condition (`not (condition)`), if the engine finds one.
pub fn screen_of(detection: &Map<String, Value>) -> Option<String> {
    let condition = detection.get("condition")?.as_str()?;
    let mut negated = detection.clone();
    negated.insert(
        "condition".into(),
        Value::from(format!("not ({condition})")),
    );
    let m = SigmaMatcher::compile(&Value::Object(negated)).ok()?;
    m.prefilter_pattern().map(str::to_owned)
}

/// A record holding a nonsense text at every field the selections name: a filter that drops
/// its findings matches any value.
pub fn probe_record(detection: &Map<String, Value>) -> Value {
    let mut record = Value::Object(Map::new());
    let mut add = |key: &str| {
        let field = key.split('|').next().unwrap_or(key);
        let mut at = &mut record;
        for part in field.split('.') {
            if !at.is_object() {
                *at = Value::Object(Map::new());
            }
            at = at
                .as_object_mut()
                .map(|m| m.entry(part.to_owned()).or_insert(Value::Null))
                .unwrap_or_else(|| unreachable!("made an object above"));
        }
        *at = Value::from("trailwatch-probe\u{1}value");
    };
    for (name, v) in detection {
        if name == "condition" {
            continue;
        }
        let maps: Vec<&Map<String, Value>> = match v {
            Value::Object(m) => vec![m],
            Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
            _ => Vec::new(),
        };
        maps.iter().flat_map(|m| m.keys()).for_each(|k| add(k));
    }
    record
}
