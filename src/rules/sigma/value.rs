//! Value matchers: Sigma strings with `*` / `?` wildcards and `\` escapes, compared
//! case-insensitively unless `cased`, plus the typed modifiers (`re`, `cidr`, `exists`,
//! `fieldref`, numeric comparisons) and `null`.

use std::net::IpAddr;

use super::SigmaError;
use regex::Regex;
use serde_json::Value;

/// One token of a Sigma string value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Lit(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// Splits a Sigma string into literal characters and wildcards. `\*`, `\?` and `\\` are
/// literal; a backslash before any other character is itself literal (Sigma's rule).
pub(crate) fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    chars.next();
                    out.push(Tok::Lit(n));
                }
                _ => out.push(Tok::Lit('\\')),
            },
            '*' => out.push(Tok::Star),
            '?' => out.push(Tok::One),
            c => out.push(Tok::Lit(c)),
        }
    }
    out
}

/// How a literal compares with a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fold {
    /// `cased`: byte for byte.
    None,
    /// An ASCII literal, stored lowercase: ASCII letters in any case.
    Ascii,
    /// Any other literal, stored lowercase: the value is lowercased too.
    Unicode,
}

/// A compiled string pattern. Literals are stored lowercased unless `cased`.
#[derive(Debug)]
pub(crate) enum StrPat {
    Exact(String, Fold),
    Prefix(String, Fold),
    Suffix(String, Fold),
    Contains(String, Fold),
    /// `*` alone: any value at all.
    Any,
    /// Any other pattern, as a regular expression built when the rule loads.
    Glob(Regex),
}

impl StrPat {
    /// Fails only if the pattern's regular expression is too large to build.
    pub(crate) fn compile(toks: &[Tok], cased: bool) -> Result<StrPat, SigmaError> {
        let lead = toks.first() == Some(&Tok::Star);
        let trail = toks.len() > usize::from(lead) && toks.last() == Some(&Tok::Star);
        let inner = &toks[usize::from(lead)..toks.len() - usize::from(trail)];
        if lead && inner.is_empty() {
            return Ok(StrPat::Any);
        }
        let lit: Option<String> = inner
            .iter()
            .map(|t| match t {
                Tok::Lit(c) => Some(*c),
                _ => None,
            })
            .collect();
        if let Some(lit) = lit {
            let (lit, fold) = match cased {
                true => (lit, Fold::None),
                false if lit.is_ascii() => (lit.to_ascii_lowercase(), Fold::Ascii),
                false => (lit.to_lowercase(), Fold::Unicode),
            };
            return Ok(match (lead, trail) {
                (false, false) => StrPat::Exact(lit, fold),
                (false, true) => StrPat::Prefix(lit, fold),
                (true, false) => StrPat::Suffix(lit, fold),
                (true, true) => StrPat::Contains(lit, fold),
            });
        }
        let mut re = String::from(if cased { "(?s)^" } else { "(?si)^" });
        for t in toks {
            match t {
                Tok::Lit(c) => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
                Tok::Star => re.push_str(".*"),
                Tok::One => re.push('.'),
            }
        }
        re.push('$');
        Regex::new(&re)
            .map(StrPat::Glob)
            .map_err(|e| SigmaError::regex(&re, &e))
    }

    /// The exact (lowercased) literal this pattern stands for, if it has no wildcard.
    pub(crate) fn literal(&self) -> Option<&str> {
        match self {
            StrPat::Exact(s, _) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn is_match(&self, h: &str) -> bool {
        use Fold::*;
        let hb = h.as_bytes();
        match self {
            StrPat::Any => true,
            StrPat::Glob(re) => re.is_match(h),
            StrPat::Exact(p, None) => h == p,
            StrPat::Prefix(p, None) => h.starts_with(p.as_str()),
            StrPat::Suffix(p, None) => h.ends_with(p.as_str()),
            StrPat::Contains(p, None) => h.contains(p.as_str()),
            StrPat::Exact(p, Ascii) => hb.len() == p.len() && folded_eq(hb, p.as_bytes()),
            StrPat::Prefix(p, Ascii) => {
                hb.len() >= p.len() && folded_eq(&hb[..p.len()], p.as_bytes())
            }
            StrPat::Suffix(p, Ascii) => {
                hb.len() >= p.len() && folded_eq(&hb[hb.len() - p.len()..], p.as_bytes())
            }
            StrPat::Contains(p, Ascii) => find_ascii_ci(hb, p.as_bytes()),
            StrPat::Exact(p, Unicode) => h.to_lowercase() == *p,
            StrPat::Prefix(p, Unicode) => h.to_lowercase().starts_with(p.as_str()),
            StrPat::Suffix(p, Unicode) => h.to_lowercase().ends_with(p.as_str()),
            StrPat::Contains(p, Unicode) => h.to_lowercase().contains(p.as_str()),
        }
    }
}

/// Whether `h` equals the lowercase ASCII `p`, ignoring the case of ASCII letters in `h`.
fn folded_eq(h: &[u8], p: &[u8]) -> bool {
    // No branch per byte: literals are short, and most values differ early or not at all.
    h.iter()
        .zip(p)
        .fold(0u8, |diff, (a, b)| diff | (a.to_ascii_lowercase() ^ b))
        == 0
}

/// Case-insensitive (ASCII) substring search; `p` is lowercase.
fn find_ascii_ci(h: &[u8], p: &[u8]) -> bool {
    let Some(&first) = p.first() else {
        return true;
    };
    if h.len() < p.len() {
        return false;
    }
    let last = h.len() - p.len();
    let mut i = 0;
    while i <= last {
        match memchr::memchr2(first, first.to_ascii_uppercase(), &h[i..=last]) {
            None => return false,
            Some(off) => {
                let s = i + off;
                if h[s..s + p.len()].eq_ignore_ascii_case(p) {
                    return true;
                }
                i = s + 1;
            }
        }
    }
    false
}

/// Numeric comparison modifiers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cmp {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Cmp {
    /// Whether `x` compares to `n` this way.
    fn holds(self, x: f64, n: f64) -> bool {
        match self {
            Cmp::Lt => x < n,
            Cmp::Lte => x <= n,
            Cmp::Gt => x > n,
            Cmp::Gte => x >= n,
        }
    }
}

/// An IPv4 or IPv6 network for the `cidr` modifier.
#[derive(Debug)]
pub(crate) struct Net {
    v6: bool,
    addr: u128,
    mask: u128,
}

impl Net {
    pub(crate) fn parse(s: &str) -> Option<Net> {
        let (ip, len) = match s.split_once('/') {
            Some((ip, len)) => (ip.trim(), Some(len.trim().parse::<u32>().ok()?)),
            None => (s.trim(), None),
        };
        let (v6, addr, width) = match ip.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => (false, u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (true, u128::from(a), 128),
        };
        let len = len.unwrap_or(width);
        if len > width {
            return None;
        }
        let mask = if len == 0 {
            0
        } else {
            (u128::MAX << (128 - len)) >> (128 - width)
        };
        Some(Net {
            v6,
            addr: addr & mask,
            mask,
        })
    }

    pub(crate) fn contains(&self, s: &str) -> bool {
        let Ok(ip) = s.trim().parse::<IpAddr>() else {
            return false;
        };
        let ip = match ip {
            IpAddr::V6(a) => a.to_ipv4_mapped().map_or(IpAddr::V6(a), IpAddr::V4),
            v4 => v4,
        };
        let (v6, addr) = match ip {
            IpAddr::V4(a) => (false, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, u128::from(a)),
        };
        v6 == self.v6 && addr & self.mask == self.addr
    }
}

/// How one value of a field compares.
#[derive(Debug)]
pub(crate) enum Matcher {
    Str(StrPat),
    /// A regular expression, and a text that every match contains (searched first).
    Re(Regex, Option<Box<memchr::memmem::Finder<'static>>>),
    Cidr(Net),
    Num(Cmp, f64),
    /// `null`: the field is absent or null.
    Null,
    /// `exists: true|false`.
    Exists(bool),
    /// `fieldref`: equal (case-insensitively) to the named field of the same record.
    FieldRef(String),
}

/// The text a leaf value is compared as: strings as they are, numbers and booleans as
/// written, objects and arrays as compact JSON.
pub(crate) fn leaf_text(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    match v {
        Value::Null => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        other => Some(Cow::Owned(other.to_string())),
    }
}

impl Matcher {
    /// Compares one non-null leaf value (not used for `Null`, `Exists` or `FieldRef`).
    pub(crate) fn leaf_matches(&self, v: &Value) -> bool {
        match (self, v) {
            (_, Value::String(s)) => self.text_matches(s),
            (Matcher::Num(cmp, n), Value::Number(x)) => {
                x.as_f64().is_some_and(|x| cmp.holds(x, *n))
            }
            (Matcher::Num(..), _) => false,
            _ => leaf_text(v).is_some_and(|text| self.text_matches(&text)),
        }
    }

    /// Compares a string value (false for `Null`, `Exists` and `FieldRef`).
    pub(crate) fn text_matches(&self, text: &str) -> bool {
        match self {
            Matcher::Num(cmp, n) => text.trim().parse::<f64>().is_ok_and(|x| cmp.holds(x, *n)),
            Matcher::Str(p) => p.is_match(text),
            Matcher::Re(re, needle) => {
                needle
                    .as_ref()
                    .is_none_or(|n| n.find(text.as_bytes()).is_some())
                    && re.is_match(text)
            }
            Matcher::Cidr(net) => net.contains(text),
            Matcher::Null | Matcher::Exists(_) | Matcher::FieldRef(_) => false,
        }
    }
}
