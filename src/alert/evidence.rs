//! A finding's evidence: details for a responder, as a JSON object.
//!
//! Most findings carry none (a Sigma rule without `group_by`, a call that did not fail), and
//! most findings only add to an alert that already exists, so empty evidence costs nothing to
//! make or drop: the map is only there once something goes in.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use std::borrow::Borrow;
use std::hash::Hash;
use std::ops::Index;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence(Option<Map<String, Value>>);

impl Evidence {
    pub fn insert(&mut self, key: String, value: Value) {
        self.0.get_or_insert_with(Map::new).insert(key, value);
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&Value>
    where
        String: Borrow<Q>,
        Q: ?Sized + Ord + Eq + Hash,
    {
        self.0.as_ref()?.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(Map::is_empty)
    }

    /// The entries, for changing values in place (none when empty).
    pub fn map_mut(&mut self) -> Option<&mut Map<String, Value>> {
        self.0.as_mut()
    }

    /// A copy as a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.0.clone().unwrap_or_default()
    }
}

/// `evidence["key"]`: the value, or `null` when there is none.
impl<Q> Index<&Q> for Evidence
where
    String: Borrow<Q>,
    Q: ?Sized + Ord + Eq + Hash,
{
    type Output = Value;

    fn index(&self, key: &Q) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(map) => map.serialize(s),
            None => Map::new().serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_until_something_goes_in_and_always_an_object() {
        let mut e = Evidence::default();
        assert!(e.is_empty() && e.map_mut().is_none());
        assert_eq!(serde_json::to_string(&e).unwrap(), "{}");
        assert_eq!(e["missing"], Value::Null);
        e.insert("key".into(), Value::from("k1"));
        assert!(!e.is_empty());
        assert_eq!(e["key"], "k1");
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"key":"k1"}"#);
        assert_eq!(e.to_map().len(), 1);
    }
}
