//! Deciding a rule from the typed record alone, before any JSON parse.
//!
//! [`Record`] already holds the common top-level strings (eventName, errorCode, userAgent,
//! userIdentity.type...). Where it can say for sure what a field path holds, a selection is
//! decided without the JSON value; anything it cannot vouch for is "unknown" and the rule goes
//! on to the text pre-test and the parse. Verdicts are three-valued (Kleene logic), so that
//! `selection and not filter` is `false` as soon as `filter` is known to be true.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::detection::{FieldMatch, Selection};
use super::index::Key;
use super::typed_field::TypedField;
use super::value::Matcher;
use crate::record::text_facts::TextFacts;
use crate::record::Record;

/// What a field path holds, when the typed record knows it exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Known<'r> {
    /// Exactly one value: this string.
    Text(&'r str),
    /// No value at all (the key is nowhere in the record's text).
    Absent,
}

/// A field path the typed record holds, with what [`Typed::lookup_resolved`] needs: for
/// reading a finding's fields without parsing the record.
#[derive(Debug)]
pub struct TypedPath {
    field: TypedField,
    key_end: Finder<'static>,
}

impl TypedPath {
    /// The path, if the typed record holds it.
    pub fn new(path: &str) -> Option<TypedPath> {
        let field = TypedField::from_path(path)?;
        let last = path.rsplit('.').next().unwrap_or(path);
        let key_end = Finder::new(&format!("{last}\"")).into_owned();
        Some(TypedPath { field, key_end })
    }
}

/// The typed view of one record that selections are decided on.
pub struct Typed<'r, 'a> {
    record: &'r Record<'a>,
    facts: TextFacts,
}

impl<'r, 'a> Typed<'r, 'a> {
    /// Typed access to `record`.
    pub fn new(record: &'r Record<'a>) -> Typed<'r, 'a> {
        Typed {
            record,
            facts: record.text_facts(),
        }
    }

    /// Whether the record's text has no `\u` or `\/` escape ([`TextFacts::plain`]).
    pub fn plain(&self) -> bool {
        self.facts.plain
    }

    /// What `path` holds, if known for sure; `None`: ask the JSON value. `key_end` finds
    /// the path's last segment followed by a quote.
    #[cfg(test)]
    pub(crate) fn lookup(&self, path: &str, key_end: &Finder) -> Option<Known<'r>> {
        if !self.plain() || path.is_empty() || path.ends_with('.') || path.contains(['"', '\\']) {
            return None;
        }
        self.lookup_resolved(TypedField::from_path(path), key_end)
    }

    /// What `path` holds when the typed record knows for sure: `Some("")` when absent; `None`:
    /// ask the JSON value.
    pub fn text(&self, path: &TypedPath) -> Option<&'r str> {
        match self.lookup_resolved(Some(path.field), &path.key_end)? {
            Known::Text(text) => Some(text),
            Known::Absent => Some(""),
        }
    }

    /// The record's `userIdentity.type` as far as the rule index may rely on it.
    pub fn identity(&self) -> Key<'r> {
        static KEY_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("type\""));
        match self.lookup_resolved(Some(TypedField::IdentityType), &KEY_END) {
            Some(Known::Text(t)) => Key::Known(t),
            Some(Known::Absent) => Key::Absent,
            None => Key::Unknown,
        }
    }

    /// A top-level string field of the typed record (eventName, eventSource) as far as the
    /// rule index may rely on it: its value, or absent unless some field was null or of
    /// another type (an array, say, that a rule could still match through).
    pub fn top_level(&self, value: Option<&'r str>) -> Key<'r> {
        match value {
            Some(value) => Key::Known(value),
            None if self.record.typed_exact() => Key::Absent,
            None => Key::Unknown,
        }
    }

    /// [`Typed::lookup`] for a path already checked and resolved when its rule compiled.
    pub(crate) fn lookup_resolved(
        &self,
        typed: Option<TypedField>,
        key_end: &Finder,
    ) -> Option<Known<'r>> {
        if !self.plain() {
            return None;
        }
        if let Some(field) = typed {
            // A key with a dot inside (`"userIdentity.type"`) would be another way to a value.
            let aliased = field.nested() && self.facts.dotted_keys;
            match field.get(self.record) {
                Some(text) if !aliased => return Some(Known::Text(text)),
                Some(_) => return None,
                // Absent from the typed record, and not null or unreadable in the text.
                None if !aliased && self.record.typed_exact() => return Some(Known::Absent),
                None => {}
            }
        }
        // Every key that could lead to a value ends with the last segment: if that text is
        // nowhere followed by a quote, no key holds one.
        key_end
            .find(self.record.raw.as_bytes())
            .is_none()
            .then_some(Known::Absent)
    }
}

/// A selection's verdict on the typed record, if it can tell: OR of its groups, each the AND
/// of its fields (three-valued, stopping at the first decisive verdict).
pub(crate) fn decide_selection(sel: &Selection, t: &Typed) -> Option<bool> {
    let mut unknown = false;
    'groups: for group in &sel.0 {
        let mut group_unknown = false;
        for f in group {
            match decide_field(f, t) {
                Some(false) => continue 'groups,
                Some(true) => {}
                None => group_unknown = true,
            }
        }
        if !group_unknown {
            return Some(true);
        }
        unknown = true;
    }
    if unknown {
        None
    } else {
        Some(false)
    }
}

fn decide_field(f: &FieldMatch, t: &Typed) -> Option<bool> {
    if !f.lookup_ok {
        return None;
    }
    let known = t.lookup_resolved(f.typed, &f.key_end)?;
    // Any value decides with `true`, or with `false` under `all`.
    let decisive = !f.all;
    let mut unknown = false;
    for m in &f.values {
        let verdict = match (known, m) {
            (Known::Absent, Matcher::Null) => Some(true),
            (Known::Absent, Matcher::Exists(want)) => Some(!want),
            (Known::Absent, _) => Some(false),
            (Known::Text(_), Matcher::Null) => Some(false),
            (Known::Text(_), Matcher::Exists(want)) => Some(*want),
            (Known::Text(_), Matcher::FieldRef(_)) => None,
            (Known::Text(s), m) => Some(m.text_matches(s)),
        };
        match verdict {
            Some(v) if v == decisive => return Some(decisive),
            Some(_) => {}
            None => unknown = true,
        }
    }
    if unknown {
        None
    } else {
        Some(!decisive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(text: &str, path: &str) -> Option<String> {
        let record = Record::parse(text.as_bytes()).unwrap();
        let last = path.rsplit('.').next().unwrap();
        let key_end = Finder::new(&format!("{last}\"")).into_owned();
        Typed::new(&record)
            .lookup(path, &key_end)
            .map(|k| format!("{k:?}"))
    }

    #[test]
    fn knows_typed_strings_and_absent_keys_only() {
        let rec = r#"{"eventName":"A\"b","userIdentity":{"type":"Root","sessionContext":{"sessionIssuer":{"type":"Role"}}}}"#;
        assert_eq!(known(rec, "eventName").as_deref(), Some(r#"Text("A\"b")"#));
        assert_eq!(
            known(rec, "userIdentity.type").as_deref(),
            Some(r#"Text("Root")"#)
        );
        let issuer = "userIdentity.sessionContext.sessionIssuer.type";
        assert_eq!(known(rec, issuer).as_deref(), Some(r#"Text("Role")"#));
        assert_eq!(known(rec, "errorCode").as_deref(), Some("Absent"));
        // Present but untyped, of another type, null, or reachable through a dotted key.
        assert_eq!(
            known(r#"{"requestParameters":{"a":1}}"#, "requestParameters.a"),
            None
        );
        assert_eq!(known(r#"{"errorCode":7}"#, "errorCode"), None);
        assert_eq!(known(r#"{"errorCode":null}"#, "errorCode"), None);
        let dotted = r#"{"userIdentity":{"type":"IAMUser"},"userIdentity.type":"Root"}"#;
        assert_eq!(known(dotted, "userIdentity.type"), None);
        // A key elsewhere that ends like the path is not the path.
        assert_eq!(
            known(r#"{"x.errorCode":"y"}"#, "errorCode").as_deref(),
            Some("Absent")
        );
        let invoked = "userIdentity.invokedBy";
        assert_eq!(known(rec, invoked).as_deref(), Some("Absent"));
        assert_eq!(
            known(r#"{"userIdentity":[{"invokedBy":"s"}]}"#, invoked),
            None,
            "an array is walked through"
        );
        assert_eq!(known(r#"{"userIdentity":{"invokedBy":[]}}"#, invoked), None);
        let dotted_absent = r#"{"userIdentity":{},"userIdentity.invokedBy":"s"}"#;
        assert_eq!(known(dotted_absent, invoked), None);
        // Escaped keys could hide anything.
        assert_eq!(
            known(r#"{"eventName":"A","x":"\u0041"}"#, "eventName"),
            None
        );
    }
}
