//! `*`-only globs, as in `1 of selection_*` conditions and FIPS policy regions (`us-gov-*`).
//!
//! `*` stands for any run of characters (none included); every other character stands for
//! itself, case-sensitively. Sigma's value wildcards (`?`, `\` escapes, case folding) are
//! another language, compiled by the Sigma engine.

/// Whether `text` matches `pattern`. Linear in the text for each `*`, with no allocation:
/// the last piece is held to the end of the text, and each middle piece taken at its first
/// place, which never loses a match another place would find.
pub fn matches(pattern: &str, text: &str) -> bool {
    let Some((head, tail)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let (middle, last) = tail.rsplit_once('*').unwrap_or(("", tail));
    let Some(rest) = text.strip_prefix(head) else {
        return false;
    };
    let Some(mut rest) = rest.strip_suffix(last) else {
        return false;
    };
    for piece in middle.split('*') {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn matches_like_shells() {
        assert!(matches("us-gov-*", "us-gov-west-1"));
        assert!(matches("*", "anything") && matches("*", ""));
        assert!(matches("*-1", "eu-west-1"));
        assert!(!matches("*-1", "eu-west-2"));
        assert!(matches("us-*-1", "us-gov-east-1"));
        assert!(!matches("us-*-1", "us-east-11x"));
        assert!(matches("a*a", "aa"));
        assert!(!matches("a*a", "a"), "head and last piece may not overlap");
        assert!(matches("us-east-1", "us-east-1"));
        assert!(!matches("us-east-1", "us-east-10"));
        assert!(matches("sel*", "selection") && !matches("sel*", "Selection"));
        assert!(matches("a*b*c", "abc") && matches("a**c", "ac"));
        assert!(matches("*ab*ab*", "xabyab") && !matches("*ab*ab*", "xaby"));
        assert!(matches("*é*", "café!") && !matches("*é", "cafe"));
    }

    /// The same verdicts as a plain regex translation of the pattern.
    fn regex_verdict(pattern: &str, text: &str) -> bool {
        let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
        regex::Regex::new(&format!("(?s)^{}$", parts.join(".*")))
            .unwrap()
            .is_match(text)
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_a_regex(pattern in "[ab*]{0,8}", text in "[ab]{0,10}") {
            proptest::prop_assert_eq!(matches(&pattern, &text), regex_verdict(&pattern, &text));
        }

        #[test]
        fn agrees_on_any_text(pattern in "\\PC{0,40}", text in "\\PC{0,20}") {
            proptest::prop_assert_eq!(matches(&pattern, &text), regex_verdict(&pattern, &text));
        }
    }
}
