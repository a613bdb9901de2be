//! What counts as sensitive in free text: credential parameter names, placeholders, emails,
//! phone numbers, card numbers and well-known token formats.
//!
//! Every finder returns what it found with a masked hint (built by [`super::mask`]) and the
//! raw match, so callers can scrub it from anything they write.

use super::mask;
use regex::Regex;
use std::sync::LazyLock;

/// What kind of sensitive value a piece of text holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A payment card number (Luhn-valid).
    Card,
    /// A token of a known format.
    Token,
}

impl Kind {
    /// What it is called in a summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Email => "email address",
            Kind::Phone => "phone number",
            Kind::Card => "card number",
            Kind::Token => "secret token",
        }
    }
}

/// One sensitive value found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// What kind of value.
    pub kind: Kind,
    /// The masked form, safe to show.
    pub hint: String,
    /// The value itself: never to be written anywhere, only used to scrub.
    pub raw: String,
}

/// Parameter names (query, connection string, tag key) whose value is a credential.
pub fn is_secret_name(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const EXACT: &[&str] = &[
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "apikey",
        "sig",
        "accountkey",
        "sharedaccesskey",
        "privatekey",
        "secretkey",
        "credential",
        "credentials",
        "authorization",
        "bearer",
        "apisecret",
    ];
    const NOT_SECRET: &[&str] = &[
        "nexttoken",
        "resumptiontoken",
        "nextpagetoken",
        "pagingtoken",
        "waittoken",
        "continuationtoken",
        "pagetoken",
        "paginationtoken",
        "clienttoken",
        "idempotencytoken",
        "synctoken",
        "starttoken",
        "csrftoken",
        "tokentype",
    ];
    if NOT_SECRET.contains(&n.as_str()) {
        return false;
    }
    EXACT.contains(&n.as_str())
        || ["password", "passwd", "secret", "token", "apikey"]
            .iter()
            .any(|s| n.ends_with(s))
}

/// A value that stands for a secret without being one: a template, a mask, a flag.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    v.is_empty()
        || v.chars()
            .all(|c| c == '*' || c == 'x' || c == 'X' || c == '.')
        || v.starts_with("${")
        || v.starts_with("{{")
        || v.starts_with("$(")
        || v.starts_with("%(")
        || (v.starts_with('<') && v.ends_with('>'))
        || lower.contains("hidden_due_to_security_reasons")
        || lower.contains("redacted")
        || lower.starts_with("arn:")
        || matches!(
            lower.as_str(),
            "null" | "none" | "nil" | "true" | "false" | "yes" | "no" | "undefined" | "0" | "1"
        )
}

static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|gl(?:pat|dt|rt)-[A-Za-z0-9_\-]{20,}",
        r"|xox[abposre]-[A-Za-z0-9\-]{10,}|xapp-[A-Za-z0-9\-]{10,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}",
        r"|AIza[A-Za-z0-9_\-]{35}|npm_[A-Za-z0-9]{36}|pypi-[A-Za-z0-9_\-]{50,}|hf_[A-Za-z0-9]{30,}",
        r"|dop_v1_[a-f0-9]{64}|shpat_[a-fA-F0-9]{32}",
        r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        r"|-----BEGIN [A-Z ]*PRIVATE KEY-----)"
    ))
    .expect("token pattern")
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("email pattern")
});
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\+[0-9][0-9 ().\-]{6,20}[0-9]|\(?[0-9]{3}\)?[ .\-][0-9]{3}[ .\-][0-9]{4}")
        .expect("phone pattern")
});
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9](?:[ \-]?[0-9]){12,18}").expect("card pattern"));

/// Whether `s` as a whole is a token: a known format, or 40 hex digits (classic GitHub token).
pub fn is_token(s: &str) -> bool {
    TOKEN
        .find(s)
        .is_some_and(|m| m.start() == 0 && m.end() == s.len())
        || (s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The byte before and after `start..end` are not part of a longer word or number.
fn isolated(text: &str, start: usize, end: usize) -> bool {
    let glued = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b':');
    let before = start.checked_sub(1).and_then(|i| text.as_bytes().get(i));
    let after = text.as_bytes().get(end);
    !before.is_some_and(|&b| glued(b)) && !after.is_some_and(|&b| glued(b))
}

/// Inside an `arn:...` word (user names in ARNs are identities, not leaks).
fn in_arn(text: &str, start: usize) -> bool {
    let word_start = text[..start]
        .rfind(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '"')
        .map_or(0, |i| i + 1);
    text[word_start..].starts_with("arn:")
}

/// Every sensitive value in `text`: tokens, emails, phone numbers, card numbers.
pub fn scan_text(text: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    for m in TOKEN.find_iter(text) {
        push(&mut hits, Kind::Token, m.as_str(), mask::secret(m.as_str()));
    }
    for m in EMAIL.find_iter(text) {
        if !in_arn(text, m.start()) {
            push(&mut hits, Kind::Email, m.as_str(), mask::email(m.as_str()));
        }
    }
    for m in CARD.find_iter(text) {
        let digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
        if isolated(text, m.start(), m.end()) && is_card(&digits) && grouped(m.as_str()) {
            push(&mut hits, Kind::Card, m.as_str(), mask::card(&digits));
        }
    }
    for m in PHONE.find_iter(text) {
        let digits = m.as_str().bytes().filter(u8::is_ascii_digit).count();
        let inside_other = hits.iter().any(|h| h.raw.contains(m.as_str()));
        if isolated(text, m.start(), m.end()) && (8..=15).contains(&digits) && !inside_other {
            push(&mut hits, Kind::Phone, m.as_str(), mask::phone(m.as_str()));
        }
    }
    hits
}

fn push(hits: &mut Vec<Hit>, kind: Kind, raw: &str, hint: String) {
    if !hits.iter().any(|h| h.raw == raw) {
        hits.push(Hit {
            kind,
            hint,
            raw: raw.to_owned(),
        });
    }
}

/// Separators, if any, cut the number into groups of 4 to 6 digits (a last short group is fine).
fn grouped(text: &str) -> bool {
    let groups: Vec<&str> = text.split([' ', '-']).collect();
    if groups.len() == 1 {
        return true;
    }
    let (last, rest) = groups.split_last().unwrap_or((&"", &[]));
    !last.is_empty() && rest.iter().all(|g| (4..=6).contains(&g.len()))
}

/// Luhn-valid, 13 to 19 digits, with the prefix of a card brand.
pub fn is_card(digits: &str) -> bool {
    let n = digits.len();
    if !(13..=19).contains(&n) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let p2: u32 = digits[..2].parse().unwrap_or(0);
    let p4: u32 = digits[..4].parse().unwrap_or(0);
    let brand = digits.starts_with('4')
        || (51..=55).contains(&p2)
        || (2221..=2720).contains(&p4)
        || p2 == 34
        || p2 == 37
        || p2 == 35
        || p2 == 36
        || p2 == 38
        || p2 == 62
        || p2 == 65
        || p4 == 6011
        || (3000..=3059).contains(&p4);
    brand && luhn(digits)
}

/// Whether `digits` pass the Luhn check.
pub fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        scan_text(text).into_iter().map(|h| h.kind).collect()
    }

    #[test]
    fn names_and_placeholders() {
        for n in [
            "password",
            "PWD",
            "api_key",
            "apiKey",
            "access_token",
            "X-Amz-Security-Token",
            "client_secret",
            "AccountKey",
            "sig",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "nextToken",
            "clientToken",
            "user",
            "role",
            "key",
            "SecretName",
            "cell-number",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
        for v in [
            "",
            "****",
            "${DB_PASSWORD}",
            "{{resolve:secretsmanager:x}}",
            "<password>",
            "HIDDEN_DUE_TO_SECURITY_REASONS",
            "true",
        ] {
            assert!(is_placeholder(v), "{v}");
        }
        assert!(!is_placeholder("hunter22") && !is_placeholder("password"));
    }

    #[test]
    fn finds_each_kind_and_skips_near_misses() {
        assert_eq!(kinds("owner jane.doe@example.com"), [Kind::Email]);
        assert_eq!(
            kinds("arn:aws:sts::1:assumed-role/Admin/jane@example.com"),
            []
        );
        assert_eq!(kinds("card 4111 1111 1111 1111"), [Kind::Card]);
        assert_eq!(kinds("4111111111111111"), [Kind::Card]);
        assert_eq!(kinds("4111111111111112"), [], "Luhn fails");
        assert_eq!(kinds("1722375070115152000"), [], "epoch nanoseconds");
        assert_eq!(kinds("call +1 (206) 555-0100"), [Kind::Phone]);
        assert_eq!(kinds("206-555-0100"), [Kind::Phone]);
        assert_eq!(kinds("2023-07-10 10.0.12.1 v1.2.3 111122223333"), []);
        assert_eq!(
            kinds("ghp_0123456789abcdefghijABCDEFGHIJ012345"),
            [Kind::Token]
        );
        assert_eq!(kinds("AKIAIOSFODNN7EXAMPLE stratus-red-team"), []);
        assert!(is_token("0123456789abcdef0123456789abcdef01234567"));
        assert!(!is_token("git"));
    }

    #[test]
    fn hints_do_not_hold_the_value() {
        for h in scan_text("a jane.doe@example.com b 5500 0000 0000 0004 c +44 20 7946 0958") {
            assert!(!h.hint.contains(&h.raw), "{h:?}");
        }
    }

    #[test]
    fn percent_decoding() {}
}
