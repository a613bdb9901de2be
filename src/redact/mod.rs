//! Redaction: the one place that masks what detectors find.
//!
//! Detectors build summaries and evidence only from these masks; sinks pass every alert and
//! finding through [`alert`] / [`finding`], which mask any URL credential, known token or card
//! number still left in free text. A responder sees scheme, host, user name, parameter or tag
//! key and a hint (`j***@example.com`, `****1111`, `ghp_****`), never the value.

pub(crate) mod mask;
pub mod sensitive;
pub mod url;

use crate::alert::finding::Finding;
use crate::alert::Alert;
use crate::redact::sensitive::Kind;
use crate::redact::url::Url;
pub use mask::{card, email, phone, secret, token_prefix, MASK, TOKEN_PREFIXES};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// The user part of a URL: shown unless it is itself a token.
pub fn user(raw: &str) -> String {
    let u = percent_decode_str(raw).decode_utf8_lossy().into_owned();
    if sensitive::is_token(&u) {
        secret(&u)
    } else {
        u
    }
}

/// A URL with its password, token user and every parameter value masked: scheme, host, user
/// and parameter names stay. Sensitive values become `****`, other values `…`.
pub fn url(u: &Url<'_>) -> String {
    let mut out = String::new();
    if u.scheme.is_empty() {
        let parts: Vec<String> = u
            .params
            .iter()
            .map(|(n, v)| {
                let shown = if sensitive::is_secret_name(n) {
                    MASK.to_owned()
                } else if url::is_host_name(n) || url::is_user_name(n) {
                    user(v)
                } else {
                    "…".to_owned()
                };
                format!("{n}={shown}")
            })
            .collect();
        return parts.join(";");
    }
    out.push_str(u.scheme);
    out.push_str("://");
    if let Some(name) = u.user {
        out.push_str(&user(name));
        if u.password.is_some() {
            out.push(':');
            out.push_str(MASK);
        }
        out.push('@');
    }
    out.push_str(u.host);
    if u.has_path {
        out.push_str("/…");
    }
    for (i, (n, v)) in u.params.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(n);
        out.push('=');
        if sensitive::is_secret_name(n) {
            out.push_str(MASK);
        } else if url::is_user_name(n) {
            out.push_str(&user(v));
        } else {
            out.push('…');
        }
    }
    out
}

/// Free text with every credential-carrying URL rewritten by [`url`], and every known token and
/// card number masked. Emails stay: principals legitimately hold them.
pub fn text(s: &str) -> String {
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    if s.contains("://") || s.contains(';') || s.contains("thin:") {
        for u in url::find_urls(s) {
            if !u.credentials().is_empty() {
                spans.push((u.start, u.end, url(&u)));
            }
        }
    }
    let mut out = replace_spans(s, spans);
    for hit in sensitive::scan_text(&out) {
        if matches!(hit.kind, Kind::Token | Kind::Card) {
            out = out.replace(&hit.raw, &hit.hint);
        }
    }
    out
}

fn replace_spans(s: &str, mut spans: Vec<(usize, usize, String)>) -> String {
    spans.sort_by_key(|(a, _, _)| *a);
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for (a, b, with) in spans {
        if a < at {
            continue; // nested in one already replaced
        }
        out.push_str(&s[at..a]);
        out.push_str(&with);
        at = b;
    }
    out.push_str(&s[at..]);
    out
}

/// Whether a field's name says it holds a secret (`masterUserPassword`, `secretString`,
/// `secretAccessKey`, `sessionToken`, `privateKey`, `clientSecret`...): a value copied from
/// such a field is shown masked, or not at all, never as written.
pub fn names_a_secret(path: &str) -> bool {
    let name = path.rsplit('.').next().unwrap_or(path).to_ascii_lowercase();
    let named = [
        "password",
        "token",
        "privatekey",
        "secretaccesskey",
        "clientsecret",
        "passphrase",
    ];
    named.iter().any(|n| name.contains(n))
        || matches!(
            name.as_str(),
            "secretstring" | "secretbinary" | "secretvalue" | "credentials"
        )
}

/// Replaces each of `secrets` (and its percent-decoded form) in `s` by `****`.
pub fn scrub(s: &str, secrets: &[String]) -> String {
    let mut out = s.to_owned();
    for secret in secrets {
        for form in [
            secret.clone(),
            percent_decode_str(secret).decode_utf8_lossy().into_owned(),
        ] {
            if form.len() >= 3 && out.contains(&form) {
                out = out.replace(&form, MASK);
            }
        }
    }
    out
}

/// Applies `f` to every string inside `map`.
fn map_strings(map: &mut Map<String, Value>, f: &dyn Fn(&str) -> String) {
    for v in map.values_mut() {
        value_strings(v, f);
    }
}

fn value_strings(v: &mut Value, f: &dyn Fn(&str) -> String) {
    match v {
        Value::String(s) => *s = f(s),
        Value::Array(items) => items.iter_mut().for_each(|i| value_strings(i, f)),
        Value::Object(m) => map_strings(m, f),
        _ => {}
    }
}

/// A detector's finding with `secrets` scrubbed from what the detector wrote (target, summary,
/// evidence): the last guard against a value slipping into a message.
/// Who acted stays readable: a value the principal holds (a session named after the email that
/// was also put in a tag) is not masked because another field held it too; the principal is in
/// the record's identity, not a value found. A token is masked wherever it is ([`text`]).
pub fn seal<'r>(mut f: Finding<'r>, secrets: &[String]) -> Finding<'r> {
    let principal = f.principal.to_string();
    let found: Vec<String> = secrets
        .iter()
        .filter(|s| !principal.contains(s.as_str()) || sensitive::is_token(s))
        .cloned()
        .collect();
    rewrite_free_text(&mut f, &|s| scrub(s, &found));
    f
}

/// Passes a finding's free text (target, principal, user agent, summary, evidence strings)
/// through `rewrite`.
fn rewrite_free_text(f: &mut Finding<'_>, rewrite: &dyn Fn(&str) -> String) {
    for s in [
        &mut f.target,
        &mut f.principal,
        &mut f.user_agent,
        &mut f.source_ip,
        &mut f.event_name,
        &mut f.event_source,
        &mut f.account,
        &mut f.region,
    ] {
        *s = rewrite(s).into();
    }
    f.summary = rewrite(&f.summary_text()).into();
    if let Some(map) = f.evidence.map_mut() {
        map_strings(map, rewrite);
    }
}

/// A value whose free text has been masked: the only form in which alerts and findings reach
/// a sink. Only this module makes one ([`alert`], [`finding`]), so a sink cannot be handed
/// text that skipped the mask.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(transparent)]
pub struct Redacted<T>(T);

impl<T> std::ops::Deref for Redacted<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Redacted<T> {
    /// Cuts the value down in place (a transport limit): what `cut` may do is remove or
    /// shorten, never add text, so the value stays masked.
    pub fn cut_down(&mut self, cut: impl FnOnce(&mut T)) {
        cut(&mut self.0);
    }

    /// The value itself (to change it, it must be masked again).
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// A finding as a sink receives it: free text masked by [`text`].
pub fn finding(f: &Finding<'_>) -> Redacted<Finding<'static>> {
    let mut f = f.clone().into_owned();
    rewrite_free_text(&mut f, &text);
    Redacted(f)
}

/// An alert as a sink receives it: every free-text field masked by [`text`] (the summary,
/// principal, user agent and evidence that rules copy from records among them).
pub fn alert(mut a: Alert) -> Redacted<Alert> {
    for s in [
        &mut a.title,
        &mut a.summary,
        &mut a.account,
        &mut a.region,
        &mut a.principal,
        &mut a.source_ip,
        &mut a.user_agent,
    ] {
        *s = text(s);
    }
    let lists = [
        &mut a.event_names,
        &mut a.event_ids,
        &mut a.source_ips,
        &mut a.user_agents,
    ];
    for s in lists.into_iter().flat_map(|l| l.iter_mut()) {
        *s = text(s);
    }
    a.calls.rename(&text);
    map_strings(&mut a.evidence, &text);
    Redacted(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(email("jane.doe@example.com"), "j***@example.com");
        assert_eq!(card("4111 1111 1111 1111"), "****1111");
        assert_eq!(phone("+1 (206) 555-0100"), "***-***-0100");
        assert_eq!(secret("ghp_abcdefghijklmnop"), "ghp_****");
        assert_eq!(secret("hunter22"), "****");
    }

    #[test]
    fn urls_keep_what_a_responder_needs() {
        let t = "x jdbc:mysql://admin:S3cretPw@db.example.com:3306/app?user=a&password=Pw2xyz y";
        assert_eq!(
            text(t),
            "x jdbc:mysql://admin:****@db.example.com:3306/…?user=a&password=**** y"
        );
        let t = "https://ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/o/r.git";
        assert_eq!(text(t), "https://ghp_****@github.com/…");
        assert_eq!(
            text("Server=db1;User Id=sa;Password=Secr3t;Database=hr"),
            "Server=db1;User Id=sa;Password=****;Database=…"
        );
        assert_eq!(
            text("ci-bot/2 (+https://ci:S3cretPw1@git.example.com/r)"),
            "ci-bot/2 (+https://ci:****@git.example.com/…",
            "a scheme starts at its first letter"
        );
        let benign = "https://h/users/a@b.com/x and bob@example.org";
        assert_eq!(text(benign), benign);
    }

    #[test]
    fn scrub_and_seal() {
        assert_eq!(
            scrub("a S3cr%40t b S3cr@t", &["S3cr%40t".into()]),
            "a **** b ****"
        );
        let r = crate::record::Record::parse(br#"{"eventName":"X"}"#).unwrap();
        let f = Finding::new(
            "t",
            crate::alert::severity::Severity::Low,
            &r,
            "pw",
            "has pwpw",
        )
        .with("v", serde_json::json!(["pwpw", {"k": "pwpw"}]));
        let f = seal(f, &["pwpw".into()]);
        assert!(!serde_json::to_string(&f).unwrap().contains("pwpw"));
    }

    #[test]
    fn who_acted_is_never_masked_for_a_value_found_elsewhere() {
        let r = crate::record::Record::parse(
            br#"{"eventName":"TagResource","userIdentity":{"arn":"arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_0a1b/bob@example.org"}}"#,
        )
        .unwrap();
        let summary = "tag owner holds bob@example.org and pwpw, by arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_0a1b/bob@example.org";
        let f = Finding::new("t", crate::alert::severity::Severity::Low, &r, "x", summary);
        let f = seal(f, &["bob@example.org".into(), "pwpw".into()]);
        assert!(f.principal.ends_with("/bob@example.org"), "{}", f.principal);
        let text = f.summary_text();
        assert!(
            text.contains(
                "by arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_0a1b/bob@example.org"
            ),
            "{text}"
        );
        assert!(!text.contains("pwpw"), "{text}");
    }
}
