//! Partial parse: the record's top-level keys a set of rules reads, and a parse of only those
//! keys into a JSON object, so that a record whose rules look at `userIdentity` alone does
//! not pay for building all of `requestParameters` and `responseElements`.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::detection::Selection;
use super::value::Matcher;

/// The top-level keys under which a field path can be found: every prefix of `path` that
/// ends before a dot, and `path` itself, since a key may itself contain dots (see
/// [`super::field`]).
pub(crate) fn path_keys(path: &str, out: &mut Vec<String>) {
    for (i, c) in path.char_indices() {
        if c == '.' {
            out.push(path[..i].to_string());
        }
    }
    out.push(path.to_string());
}

/// The top-level keys the selections read, sorted; `None` when a keyword search needs the
/// whole record.
pub(crate) fn selection_keys(selections: &[Selection]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for field in selections.iter().flat_map(|s| s.0.iter().flatten()) {
        path_keys(field.field.as_deref()?, &mut out);
        for m in &field.values {
            if let Matcher::FieldRef(other) = m {
                path_keys(other, &mut out);
            }
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// The record's JSON text with only the top-level `keys` parsed (the rest is checked for
/// syntax and skipped). Every rule reading only `keys` gives the same verdict on the result
/// as on the whole record: a key left out is one the rule never looks at.
pub fn parse_keys(raw: &str, keys: &[&str]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let map = Wanted(keys).deserialize(&mut de)?;
    de.end()?;
    Ok(Value::Object(map))
}

/// Deserializes an object, keeping the keys it lists.
struct Wanted<'k>(&'k [&'k str]);

impl<'de> DeserializeSeed<'de> for Wanted<'_> {
    type Value = Map<String, Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Wanted<'_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(Key(self.0))? {
            match key {
                // Like `serde_json::Value`: a repeated key keeps its last value.
                Some(key) => {
                    out.insert(key, map.next_value::<Value>()?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// Reads an object key: `Some(key)` when it is wanted, `None` (and no allocation) otherwise.
struct Key<'k>(&'k [&'k str]);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<String>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.contains(&key).then(|| key.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_wanted_keys_only() {
        let raw = r#"{"a":{"x":[1,2]},"b":"skip\"me","a.b":{"c":3},"c":null,"a":{"y":1}}"#;
        let v = parse_keys(raw, &["a", "a.b", "c", "zz"]).unwrap();
        let want: Value = serde_json::from_str(r#"{"a":{"y":1},"a.b":{"c":3},"c":null}"#).unwrap();
        assert_eq!(v, want);
        let full: Value = serde_json::from_str(raw).unwrap();
        assert_eq!(parse_keys(raw, &["a", "b", "a.b", "c"]).unwrap(), full);
        assert!(parse_keys(r#"{"a":1,"b":[}"#, &["a"]).is_err());
        assert!(parse_keys("[1]", &["a"]).is_err());
        assert!(parse_keys(r#"{"a":1} x"#, &["a"]).is_err());
    }

    #[test]
    fn path_keys_cover_dotted_keys() {
        let mut out = Vec::new();
        path_keys("a.b.c", &mut out);
        assert_eq!(out, ["a", "a.b", "a.b.c"]);
    }
}
