//! A lenient finder of URLs and connection strings in free text, and the credentials they carry.
//!
//! Not a validating parser: it reads what people write (`jdbc:sqlserver://h;password=x`,
//! `mongodb+srv://u:p@a,b/db`, `redis://:pw@h`, unencoded `/` or `@` in passwords,
//! `Server=h;Password=x`, `jdbc:oracle:thin:u/p@h`) well enough to name scheme, host, user and
//! the parameters, so that the credential can be reported without being repeated.

use super::sensitive::{is_placeholder, is_secret_name, is_token};
use memchr::memmem;
use percent_encoding::percent_decode_str;
use regex::Regex;
use std::sync::LazyLock;

/// One URL (or connection string) found in a text; all parts borrow the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url<'a> {
    /// `https`, `jdbc:mysql`, `mongodb+srv`; empty for a `key=value;...` connection string.
    pub scheme: &'a str,
    /// The user part, as written.
    pub user: Option<&'a str>,
    /// The password part, as written: never to be shown.
    pub password: Option<&'a str>,
    /// Host (and port, or several hosts), as written.
    pub host: &'a str,
    /// Something follows the host.
    pub has_path: bool,
    /// Query and `;` parameters, in order.
    pub params: Vec<(&'a str, &'a str)>,
    /// Byte range of the whole URL in the text.
    pub start: usize,
    /// Where the URL ends in the text (byte offset).
    pub end: usize,
}

/// A credential a URL carries: what it is and its raw value (never to be written out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential<'a> {
    /// What the credential is (`password`, `token as user name` ...).
    pub what: String,
    /// The credential itself: never to be shown, only used to scrub.
    pub raw: &'a str,
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')
}

fn is_end_byte(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`')
}

/// URLs read per text: bounds the work on a hostile string made of `://` repeated.
pub const MAX_URLS: usize = 64;
/// Bytes read per URL: longer URLs are cut (scheme, user and host always fit).
pub const MAX_URL_LEN: usize = 16 * 1024;

static ORACLE_THIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(jdbc:oracle:thin):([^/@\s"']+)/([^@\s"']+)@(?://)?([A-Za-z0-9.\-]+)"#)
        .expect("oracle pattern")
});

/// Every URL of `text`, plus `jdbc:oracle:thin:user/password@host` and, for a text without any
/// URL, a `key=value;key=value` connection string.
pub fn find_urls(text: &str) -> Vec<Url<'_>> {
    let mut urls: Vec<Url<'_>> = memmem::find_iter(text.as_bytes(), b"://")
        .take(MAX_URLS)
        .filter_map(|i| url_at(text, i))
        .collect();
    for c in ORACLE_THIN.captures_iter(text) {
        let (Some(all), Some(scheme), Some(user), Some(pw), Some(host)) =
            (c.get(0), c.get(1), c.get(2), c.get(3), c.get(4))
        else {
            continue;
        };
        urls.push(Url {
            scheme: scheme.as_str(),
            user: Some(user.as_str()),
            password: Some(pw.as_str()),
            host: host.as_str(),
            has_path: false,
            params: Vec::new(),
            start: all.start(),
            end: all.end(),
        });
    }
    if text.contains(';') {
        let mut at = 0;
        for line in text.split(['\n', '"', '\'']) {
            let (start, end) = (at, at + line.len());
            at = end + 1;
            let inside_url = urls.iter().any(|u| u.start < end && start < u.end);
            if !inside_url && !line.contains("://") {
                urls.extend(connection_string(line, start));
            }
        }
    }
    urls
}

/// The URL whose `://` is at byte `sep` of `text`.
fn url_at(text: &str, sep: usize) -> Option<Url<'_>> {
    let b = text.as_bytes();
    let mut start = sep;
    while start > 0 && is_scheme_byte(b[start - 1]) {
        start -= 1;
    }
    let mut wide = start;
    while wide > 0 && (is_scheme_byte(b[wide - 1]) || b[wide - 1] == b':') {
        wide -= 1;
    }
    if let Some(k) = text[wide..sep].to_ascii_lowercase().find("jdbc:") {
        start = wide + k;
    }
    // A scheme starts with a letter: `(+https://...` in a user agent is an https URL.
    while start < sep && !b[start].is_ascii_alphabetic() {
        start += 1;
    }
    if start == sep {
        return None;
    }
    let a = sep + 3;
    let window = &b[a..b.len().min(a + MAX_URL_LEN)];
    let mut end = window
        .iter()
        .position(|&c| is_end_byte(c))
        .map_or(a + window.len(), |p| a + p);
    while !text.is_char_boundary(end) {
        end -= 1; // the length bound cut a character
    }
    let head = &text[a..end];
    let mut auth_end = head.find(['/', '?', '#']).unwrap_or(head.len());
    // `user:pa/ss@host`: a colon not followed by a port, and an `@` before the query.
    if !head[..auth_end].contains('@') {
        if let Some((_, after)) = head[..auth_end].split_once(':') {
            let query = head.find(['?', '#']).unwrap_or(head.len());
            if !after.bytes().all(|c| c.is_ascii_digit()) && !after.starts_with('[') {
                if let Some(at) = head[..query].rfind('@') {
                    let rest = &head[at..];
                    auth_end = at + rest.find(['/', '?', '#']).unwrap_or(rest.len());
                }
            }
        }
    }
    let authority = &head[..auth_end];
    let (userinfo, hostpart) = match authority.rsplit_once('@') {
        Some((ui, h))
            if !ui.contains([';', '=']) && !ui.bytes().any(|c| c.is_ascii_whitespace()) =>
        {
            (Some(ui), h)
        }
        _ => (None, authority),
    };
    let host_len = hostpart.find(';').unwrap_or(hostpart.len());
    let host = &hostpart[..host_len];
    let (user, password) = match userinfo.map(|ui| ui.split_once(':')) {
        Some(Some((u, p))) => (Some(u), Some(p)),
        Some(None) => (userinfo, None),
        None => (None, None),
    };
    let host_end = a + (auth_end - hostpart.len()) + host_len;
    let tail = &text[host_end..end];
    let has_path = tail.starts_with('/') && tail.len() > 1;
    let params = tail
        .split(['?', '&', ';'])
        .skip(1)
        .filter_map(pair)
        .collect();
    Some(Url {
        scheme: &text[start..sep],
        user,
        password,
        host,
        has_path,
        params,
        start,
        end,
    })
}

/// `name=value` with a plausible name; the value stops at a fragment.
fn pair(piece: &str) -> Option<(&str, &str)> {
    let (name, value) = piece.split_once('=')?;
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.as_bytes()[0].is_ascii_alphabetic()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b' '));
    ok.then(|| (name, value.split('#').next().unwrap_or("")))
}

/// `Server=h;User Id=u;Password=p`: at least two `;`-separated pairs.
fn connection_string(text: &str, offset: usize) -> Option<Url<'_>> {
    if !text.contains(';') {
        return None;
    }
    let params: Vec<(&str, &str)> = text.split(';').filter_map(pair).collect();
    if params.len() < 2 {
        return None;
    }
    let host = params
        .iter()
        .find(|(n, _)| is_host_name(n))
        .map_or("", |(_, v)| v.trim());
    Some(Url {
        scheme: "",
        user: None,
        password: None,
        host,
        has_path: false,
        params,
        start: offset,
        end: offset + text.len(),
    })
}

/// Connection-string keys naming the server.
pub fn is_host_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace([' ', '_'], "");
    matches!(
        n.as_str(),
        "server" | "host" | "hostname" | "datasource" | "address" | "addr" | "endpoint"
    )
}

/// Connection-string keys naming the user.
pub fn is_user_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace([' ', '_'], "");
    matches!(n.as_str(), "user" | "userid" | "uid" | "username" | "login")
}

impl<'a> Url<'a> {
    /// The credentials this URL carries (placeholders such as `${PASSWORD}` are none).
    pub fn credentials(&self) -> Vec<Credential<'a>> {
        let mut out = Vec::new();
        if let Some(p) = self.password {
            if !is_placeholder(&percent_decode_str(p).decode_utf8_lossy()) {
                out.push(Credential {
                    what: "password".into(),
                    raw: p,
                });
            }
        }
        if let Some(u) = self.user {
            if is_token(&percent_decode_str(u).decode_utf8_lossy()) {
                out.push(Credential {
                    what: "token as user name".into(),
                    raw: u,
                });
            }
        }
        for (name, value) in &self.params {
            let v = percent_decode_str(value).decode_utf8_lossy();
            let path_like = name.eq_ignore_ascii_case("pwd") && v.starts_with(['/', '~']);
            if is_secret_name(name) && !is_placeholder(&v) && !path_like {
                out.push(Credential {
                    what: format!("parameter {name}"),
                    raw: value,
                });
            }
        }
        out
    }

    /// The user name: from `user:password@`, else from a `user=` parameter.
    pub fn user_name(&self) -> Option<&'a str> {
        self.user.filter(|u| !u.is_empty()).or_else(|| {
            self.params
                .iter()
                .find(|(n, v)| is_user_name(n) && !v.is_empty())
                .map(|(_, v)| *v)
        })
    }

    /// `scheme://host` in lower case: the alert subject.
    pub fn origin(&self) -> String {
        let host = self.host.to_ascii_lowercase();
        if self.scheme.is_empty() {
            format!("connection string {host}")
        } else {
            format!("{}://{host}", self.scheme.to_ascii_lowercase())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Url<'_> {
        let urls = find_urls(text);
        assert_eq!(urls.len(), 1, "{text}: {urls:?}");
        urls.into_iter().next().unwrap()
    }

    fn creds(text: &str) -> Vec<String> {
        find_urls(text)
            .iter()
            .flat_map(|u| u.credentials())
            .map(|c| c.what)
            .collect()
    }

    #[test]
    fn reads_the_parts() {
        let u = one(
            "see jdbc:mysql://admin:S3cr%40t@db.example.com:3306/app?useSSL=true&password=x2 now",
        );
        assert_eq!(
            (u.scheme, u.user, u.password),
            ("jdbc:mysql", Some("admin"), Some("S3cr%40t"))
        );
        assert_eq!((u.host, u.has_path), ("db.example.com:3306", true));
        assert_eq!(u.params, [("useSSL", "true"), ("password", "x2")]);
        let u = one(
            "jdbc:sqlserver://db.local:1433;databaseName=hr;user=sa;password=p@ss;encrypt=true",
        );
        assert_eq!((u.host, u.user), ("db.local:1433", None));
        assert!(u.params.contains(&("password", "p@ss")));
        let u = one("redis://:pw123@cache:6379/0");
        assert_eq!((u.user, u.password), (Some(""), Some("pw123")));
        let u = one("https://user:pa/ss@host.example/x");
        assert_eq!((u.password, u.host), (Some("pa/ss"), "host.example"));
        assert_eq!(
            one("mongodb+srv://a:b@c1,c2/db").origin(),
            "mongodb+srv://c1,c2"
        );
        assert_eq!(
            one("Server=db1;User Id=sa;Password=x").origin(),
            "connection string db1"
        );
    }

    #[test]
    fn credentials_and_near_misses() {
        assert_eq!(creds("ftp://bob:hunter22@ftp.example.com/"), ["password"]);
        assert_eq!(
            creds("https://ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/o/r"),
            ["token as user name"]
        );
        assert_eq!(
            creds("https://h/api?api_key=abc123&x=1"),
            ["parameter api_key"]
        );
        assert_eq!(
            creds("jdbc:oracle:thin:scott/tiger@db.example.com:1521:orcl"),
            ["password"]
        );
        assert_eq!(
            creds("Server=db1;User Id=sa;Password=Secr3t;"),
            ["parameter Password"]
        );
        let template = "Url: https://example.com/x\nConn: \"Server=db1;Uid=sa;Pwd=Secr3t\"\n";
        assert_eq!(creds(template), ["parameter Pwd"]);
        for benign in [
            "https://h/users/a@b.com/x",
            "git@github.com:org/repo.git",
            "ssh://git@github.com/org/repo",
            "https://alice@example.com/",
            "https://u:@h/",
            "https://u:${DB_PASSWORD}@h/",
            "https://h/?nextToken=abc&pwd=/home/u",
            "wss://ssm.example/v1/data?role=publish_subscribe&cell-number=AAE",
            "http://s3.amazonaws.com/doc/2006-03-01/",
            "https://h:8080/a@b",
        ] {
            assert_eq!(creds(benign), Vec::<String>::new(), "{benign}");
        }
    }
}
