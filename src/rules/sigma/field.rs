//! Dotted field paths: `a.b.c` walks nested objects and through arrays (any element may
//! match). A key that itself contains dots (`"a.b": ..`) is found too.

use serde_json::Value;

/// Calls `f` on every value found at `path` under `v` (arrays flattened, including a
/// trailing array), stopping at the first `true`. Returns whether `f` returned `true`.
pub(crate) fn visit<'v>(v: &'v Value, path: &str, f: &mut dyn FnMut(&'v Value) -> bool) -> bool {
    match v {
        Value::Array(items) => items.iter().any(|item| visit(item, path, f)),
        _ if path.is_empty() => f(v),
        Value::Object(map) => {
            let mut from = 0;
            loop {
                let end = path[from..].find('.').map_or(path.len(), |i| from + i);
                if let Some(child) = map.get(&path[..end]) {
                    let rest = if end == path.len() {
                        ""
                    } else {
                        &path[end + 1..]
                    };
                    if visit(child, rest, f) {
                        return true;
                    }
                }
                if end == path.len() {
                    return false;
                }
                from = end + 1;
            }
        }
        _ => false,
    }
}

/// Calls `f` on every scalar leaf of `v` (strings, numbers, booleans), for keyword search.
pub(crate) fn visit_leaves<'v>(v: &'v Value, f: &mut dyn FnMut(&'v Value) -> bool) -> bool {
    match v {
        Value::Array(items) => items.iter().any(|item| visit_leaves(item, f)),
        Value::Object(map) => map.values().any(|item| visit_leaves(item, f)),
        Value::Null => false,
        leaf => f(leaf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn found(v: &Value, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        visit(v, path, &mut |x| {
            out.push(x.clone());
            false
        });
        out
    }

    #[test]
    fn walks_objects_arrays_and_dotted_keys() {
        let rec = json!({
            "a": {"b": [{"c": 1}, {"c": [2, 3]}, {"d": 4}]},
            "x.y": {"z": "dotted"},
            "n": null
        });
        assert_eq!(found(&rec, "a.b.c"), vec![json!(1), json!(2), json!(3)]);
        assert_eq!(found(&rec, "x.y.z"), vec![json!("dotted")]);
        assert_eq!(found(&rec, "n"), vec![Value::Null]);
        assert!(found(&rec, "a.q").is_empty());
        assert!(found(&rec, "a.b.c.d").is_empty());
    }
}
