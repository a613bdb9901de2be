//! Facts about a record's JSON text that rules would otherwise search for again and again.
//!
//! They are found once per record on the reading thread, beside the splitting, and travel with
//! the record in its batch; a record parsed elsewhere finds them on first use.

use std::sync::LazyLock;

use aho_corasick::packed::Searcher;
use memchr::memmem::Finder;

/// What a record's text says about how its values may be spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextFacts {
    /// No `\u` or `\/` escape: letters, digits and most punctuation of keys and values are
    /// written as themselves (`\"`, `\\`, `\n` and the like may still be there), so a search
    /// of the text for a literal made of those finds every occurrence.
    pub plain: bool,
    /// A key starts with the name of a typed object and a dot (`"userIdentity.type"`,
    /// `"sessionIssuer.arn"`...): another way to a nested field's value.
    pub dotted_keys: bool,
}

/// The objects the typed record reads nested fields of.
const TYPED_OBJECTS: [&str; 4] = [
    "userIdentity",
    "sessionContext",
    "sessionIssuer",
    "tlsDetails",
];

impl TextFacts {
    /// Finds the facts of one record's JSON text.
    pub fn of(raw: &[u8]) -> TextFacts {
        // One pass for the four names (a SIMD multi-literal search) where the machine has
        // one, else a search per name.
        static DOTTED: LazyLock<Dotted> = LazyLock::new(|| {
            let keys = TYPED_OBJECTS.map(|s| format!("\"{s}."));
            match Searcher::new(&keys) {
                Some(one_pass) => Dotted::OnePass(one_pass),
                None => Dotted::Each(keys.iter().map(|k| Finder::new(k).into_owned()).collect()),
            }
        });
        TextFacts {
            plain: plain(raw),
            dotted_keys: DOTTED.in_text(raw),
        }
    }
}

/// A search for the keys that start with a typed object's name and a dot.
enum Dotted {
    OnePass(Searcher),
    Each(Vec<Finder<'static>>),
}

impl Dotted {
    fn in_text(&self, raw: &[u8]) -> bool {
        match self {
            Dotted::OnePass(s) => s.find(raw).is_some(),
            Dotted::Each(finders) => finders.iter().any(|f| f.find(raw).is_some()),
        }
    }
}

/// Whether `raw` has no `\u` or `\/` escape (which could spell a character differently).
pub fn plain(raw: &[u8]) -> bool {
    // One pass over the backslashes; an escaped backslash is skipped with its pair, so the `u`
    // that may follow it is plain text.
    let mut at = 0;
    while let Some(p) = memchr::memchr(b'\\', &raw[at..]) {
        match raw.get(at + p + 1) {
            Some(b'u' | b'/') => return false,
            _ => at += p + 2,
        }
        if at >= raw.len() {
            break;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_steps_aside_for_escapes_only() {
        assert!(plain(br#"{"a":"plain"}"#));
        assert!(!plain(br#"{"a":"\u0041"}"#));
        assert!(!plain(br#"{"a":"x\/y"}"#));
        assert!(
            plain(br#"{"a":"C:\\users"}"#),
            "an escaped backslash before `u` is plain text"
        );
        assert!(!plain(br#"{"a":"\\\u0041"}"#));
        assert!(plain(br#"{"a":"q\"uote"}"#));
        assert!(plain(b"\\"));
    }

    #[test]
    fn dotted_keys_of_typed_objects() {
        let of = |t: &str| TextFacts::of(t.as_bytes()).dotted_keys;
        assert!(!of(r#"{"userIdentity":{"type":"Root"},"a.b":1}"#));
        assert!(of(r#"{"userIdentity.type":"Root"}"#));
        assert!(of(
            r#"{"userIdentity":{"sessionContext.sessionIssuer":{}}}"#
        ));
        assert!(of(r#"{"x":{"sessionIssuer.type":"Role"}}"#));
        assert!(of(r#"{"tlsDetails.tlsVersion":"TLSv1"}"#));
    }
}
