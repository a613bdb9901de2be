//! Facts about a record's JSON text that rules would otherwise search for again and again.
//!
//! The record reader finds them as it reads (`record::read`): it meets every escape and every
//! key anyway, so they cost no pass of their own.

/// What a record's text says about how its values may be spelled (found as it is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
const TYPED_OBJECTS: [&[u8]; 4] = [
    b"userIdentity",
    b"sessionContext",
    b"sessionIssuer",
    b"tlsDetails",
];

/// Whether `key` (decoded) starts with the name of a typed object and a dot.
#[inline]
pub fn dotted_key(key: &[u8]) -> bool {
    matches!(key.first(), Some(b'u' | b's' | b't'))
        && TYPED_OBJECTS
            .iter()
            .any(|o| key.len() > o.len() && key.starts_with(o) && key[o.len()] == b'.')
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
        let of = |t: &str| {
            crate::record::Record::parse(t.as_bytes())
                .unwrap()
                .text_facts()
                .dotted_keys
        };
        assert!(!of(r#"{"userIdentity":{"type":"Root"},"a.b":1}"#));
        assert!(of(r#"{"userIdentity.type":"Root"}"#));
        assert!(of(
            r#"{"userIdentity":{"sessionContext.sessionIssuer":{}}}"#
        ));
        assert!(of(r#"{"x":{"sessionIssuer.type":"Role"}}"#));
        assert!(of(r#"{"tlsDetails.tlsVersion":"TLSv1"}"#));
    }
}
