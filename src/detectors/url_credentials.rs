//! `url-credentials`: a URL or connection string carrying a credential (`user:password@`, a
//! token as the user, a `password=`/`token=`/`api_key=` parameter) in a call's parameters,
//! response, additional data or error message.
//!
//! Cheap first: only parts whose raw JSON text holds a URL or connection-string marker are
//! parsed; strings come out of serde unescaped (`\/`, `\u0040`) and are also read
//! percent-decoded.

use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::Record;
use crate::redact;
use crate::redact::url::find_urls;
use percent_encoding::percent_decode_str;
use regex::bytes::Regex;
use serde_json::Value;
use std::sync::LazyLock;

pub const ID: &str = "url-credentials";

/// Raw JSON text that may hold a URL or a connection string with a credential.
static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)://|:\\/\\/|\\u00|%3a%2f|thin:|(?:passw(?:or)?d|pwd|secret|token|key|sig|auth)\s*=",
    )
    .expect("marker pattern")
});

/// A cheap test that `raw` may hold a [`MARKER`]: each of its forms has a `/`, `\\`, `%` or
/// `=`, or is `thin:`. Two passes without branches, which the compiler turns into vector code:
/// most parts are short and hold none of these.
fn may_hold_marker(raw: &[u8]) -> bool {
    let mut special = 0u8;
    for &b in raw {
        special |= ((b == b'/') | (b == b'\\') | (b == b'%') | (b == b'=')) as u8;
    }
    special != 0 || holds_thin_colon(raw)
}

/// Whether `raw` holds `thin:`, ignoring ASCII case (`|0x20` lower-cases letters, and makes
/// no other byte a lower-case letter).
fn holds_thin_colon(raw: &[u8]) -> bool {
    let Some(n) = raw.len().checked_sub(4).filter(|&n| n > 0) else {
        return false;
    };
    let at = |from: usize| &raw[from..from + n];
    let (t, h, i, m, colon) = (at(0), at(1), at(2), at(3), at(4));
    let mut found = 0u8;
    for k in 0..n {
        found |= ((t[k] | 0x20 == b't')
            & (h[k] | 0x20 == b'h')
            & (i[k] | 0x20 == b'i')
            & (m[k] | 0x20 == b'n')
            & (colon[k] == b':')) as u8;
    }
    found != 0
}

/// Whether `raw` holds a URL or connection-string marker.
fn holds_marker(raw: &[u8]) -> bool {
    may_hold_marker(raw) && MARKER.is_match(raw)
}

pub struct UrlCredentials;

/// One credential found, ready to report (all text already masked).
struct Found {
    origin: String,
    what: String,
    shown: String,
    user: Option<String>,
    field: String,
    raw: String,
}

impl Detector for UrlCredentials {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let mut found = Vec::new();
        let parts = [
            ("requestParameters", record.request_parameters),
            ("responseElements", record.response_elements),
            ("additionalEventData", record.additional_event_data),
        ];
        for (name, raw) in parts {
            let Some(raw) = raw.filter(|r| holds_marker(r.get().as_bytes())) else {
                continue;
            };
            if let Some(value) = Record::parse_part(Some(raw)) {
                let mut path = vec![name.to_owned()];
                walk(&value, &mut path, &mut found);
            }
        }
        if let Some(msg) = record.error_message.as_deref() {
            if holds_marker(msg.as_bytes()) {
                check(msg, "errorMessage", &mut found);
            }
        }
        report(record, found, out);
    }
}

fn walk(v: &Value, path: &mut Vec<String>, found: &mut Vec<Found>) {
    match v {
        Value::String(s) => check(s, &path.join("."), found),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                walk(item, path, found);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                path.push(safe_key(k));
                walk(item, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A JSON key as shown in evidence: masked if it is itself a credential-bearing text.
fn safe_key(k: &str) -> String {
    let masked = redact::text(k);
    if masked != k || k.len() > 80 {
        redact::MASK.to_owned()
    } else {
        masked
    }
}

/// Looks for credentials in one string, as written and percent-decoded.
fn check(s: &str, field: &str, found: &mut Vec<Found>) {
    if s.len() < 8 || (!s.contains(':') && !s.contains('=') && !s.contains('%')) {
        return;
    }
    let decoded = s
        .contains('%')
        .then(|| percent_decode_str(s).decode_utf8_lossy().into_owned());
    for text in std::iter::once(s).chain(decoded.as_deref()) {
        for url in find_urls(text) {
            for cred in url.credentials() {
                let origin = url.origin();
                if found
                    .iter()
                    .any(|f| f.origin == origin && f.what == cred.what)
                {
                    continue;
                }
                found.push(Found {
                    origin,
                    what: cred.what,
                    shown: redact::url(&url),
                    user: url.user_name().map(redact::user),
                    field: field.to_owned(),
                    raw: cred.raw.to_owned(),
                });
            }
        }
    }
}

fn report<'r>(record: &'r Record<'_>, found: Vec<Found>, out: &mut Vec<Finding<'r>>) {
    let secrets: Vec<String> = found.iter().map(|f| f.raw.clone()).collect();
    for f in found {
        let summary = format!(
            "{} carried a {} in a URL for {} (in {})",
            record.event_name(),
            f.what,
            f.origin,
            f.field
        );
        let mut finding = Finding::new(ID, Severity::High, record, f.origin.clone(), summary)
            .with("url", f.shown)
            .with("credential", f.what)
            .with("field", f.field);
        if let Some(user) = f.user {
            finding = finding.with("user", user);
        }
        out.push(redact::seal(finding, &secrets));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The cheap test never turns away a text the marker pattern would take (and never
        /// fails, whatever the text).
        #[test]
        fn cheap_test_keeps_every_marker(
            text in "([a-zA-Z:/%=\\\\ ]|THIN:|thin:|pwd|Token|%3A%2f|\\\\u00){0,12}"
        ) {
            let cheap = may_hold_marker(text.as_bytes());
            if MARKER.is_match(text.as_bytes()) {
                proptest::prop_assert!(cheap, "{}", text);
            }
        }
    }

    #[test]
    fn cheap_test_turns_away_plain_parameters() {
        assert!(!may_hold_marker(br#"{"maxResults":1000,"filterSet":{}}"#));
        for short in ["", "{}", "abc", "thin", "thin:"] {
            assert_eq!(
                may_hold_marker(short.as_bytes()),
                short == "thin:",
                "{short:?}"
            );
        }
        let small = r#"{"requestParameters":{},"responseElements":[],"errorMessage":"No"}"#;
        assert!(run(small).is_empty());
        for marker in ["tHin:@h", "a://b", r"x:\/\/y", "%3A%2F", "pwd =", r"\u0040"] {
            assert!(holds_marker(marker.as_bytes()), "{marker}");
        }
    }

    fn run(record: &str) -> Vec<Finding<'static>> {
        crate::detectors::findings_in(&mut UrlCredentials, record.as_bytes()).unwrap()
    }

    #[test]
    fn escapes_and_encodings_do_not_hide_a_credential() {
        for (rec, target) in [
            (
                r#"{"requestParameters":{"source":{"location":"https:\/\/ci:Pa55word99\u0040git.example.com\/r.git"}}}"#,
                "https://git.example.com",
            ),
            (
                r#"{"requestParameters":{"endpoint":"https%3A%2F%2Fops%3AZx81kLm02q%40hooks.example.com%2Fin"}}"#,
                "https://hooks.example.com",
            ),
            (
                r#"{"responseElements":{"u":"mongodb+srv://app:Qw3rty7788@cluster0.example.net/db"}}"#,
                "mongodb+srv://cluster0.example.net",
            ),
            (
                r#"{"errorMessage":"cannot reach redis://:Kx9dd2LmQ@cache.internal:6379","errorCode":"X"}"#,
                "redis://cache.internal:6379",
            ),
        ] {
            let out = run(rec);
            assert_eq!(out.len(), 1, "{rec}");
            assert_eq!(out[0].target, target);
            let text = serde_json::to_string(&out[0]).unwrap();
            for secret in ["Pa55word99", "Zx81kLm02q", "Qw3rty7788", "Kx9dd2LmQ"] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }

    #[test]
    fn failed_call_is_one_step_lower() {
        let out =
            run(r#"{"errorCode":"AccessDenied","requestParameters":{"x":"ftp://u:pw12345@h/"}}"#);
        assert_eq!(out[0].severity, Severity::Medium);
    }

    #[test]
    fn near_misses_are_quiet() {
        for rec in [
            r#"{"requestParameters":{"u":"https://h.example/users/a@b.com/x"}}"#,
            r#"{"requestParameters":{"u":"git@github.com:org/repo.git","v":"ssh://git@github.com/o/r"}}"#,
            r#"{"requestParameters":{"u":"https://alice@example.com/","xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"}}"#,
            r#"{"responseElements":{"streamUrl":"wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s?role=publish_subscribe&cell-number=AAE"}}"#,
        ] {
            assert!(run(rec).is_empty(), "{rec}");
        }
    }
}
