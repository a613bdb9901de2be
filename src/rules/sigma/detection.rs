//! Search identifiers (selections): a map is the AND of its fields, a list of maps is OR,
//! a list of plain values is a keyword search anywhere in the record.

use regex::RegexBuilder;
use serde_json::Value;

use super::field::{visit, visit_leaves};
use super::typed_field::TypedField;
use super::value::{tokenize, Cmp, Matcher, Net, StrPat, Tok};
use super::SigmaError;

/// One field of a selection map (`field|modifiers: values`), or a keyword search when
/// `field` is `None`.
#[derive(Debug)]
pub(crate) struct FieldMatch {
    pub(crate) field: Option<String>,
    pub(crate) values: Vec<Matcher>,
    /// `all` modifier: every value must match (otherwise any one).
    pub(crate) all: bool,
    /// Finds the text that ends every key that can hold the field: its last segment and a
    /// quote (the typed view looks for it).
    pub(crate) key_end: memchr::memmem::Finder<'static>,
    /// The typed record field that holds this path, if any.
    pub(crate) typed: Option<TypedField>,
    /// The path can be decided from the typed record and the text.
    pub(crate) lookup_ok: bool,
    /// Per value: a piece of text the record's JSON text must contain (ASCII
    /// case-insensitively) for that value to match, if there is one.
    frags: Vec<Option<String>>,
}

/// A compiled selection: OR of AND-groups.
#[derive(Debug)]
pub(crate) struct Selection(pub(crate) Vec<Vec<FieldMatch>>);

impl Selection {
    pub(crate) fn compile(name: &str, v: &Value) -> Result<Selection, SigmaError> {
        let bad = |reason: String| SigmaError::Selection {
            selection: name.to_string(),
            reason,
        };
        let group = |v: &Value| -> Result<Vec<FieldMatch>, SigmaError> {
            match v {
                Value::Object(map) if map.is_empty() => Err(bad("empty map".into())),
                Value::Object(map) => map.iter().map(|(k, v)| FieldMatch::compile(k, v)).collect(),
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                    Ok(vec![FieldMatch::compile("", v)?])
                }
                Value::Null => Err(bad("`null` is not a keyword".into())),
                Value::Array(_) => Err(bad("nested lists are not valid here".into())),
            }
        };
        match v {
            Value::Array(items) if items.is_empty() => Err(bad("empty list".into())),
            Value::Array(items) => Ok(Selection(
                items.iter().map(group).collect::<Result<_, _>>()?,
            )),
            other => Ok(Selection(vec![group(other)?])),
        }
    }

    pub(crate) fn matches(&self, record: &Value) -> bool {
        self.0.iter().any(|g| g.iter().all(|f| f.matches(record)))
    }

    /// Texts one of which the record's JSON text must contain for a match, if known.
    pub(crate) fn fragments(&self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for group in &self.0 {
            out.extend(best(group.iter().filter_map(FieldMatch::fragments))?);
        }
        Some(out)
    }

    /// The lowercased literal values `field` must have for this selection to match, if
    /// every alternative pins it to plain values.
    pub(crate) fn pinned(&self, field: &str) -> Option<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for group in &self.0 {
            let mut set: Option<Vec<String>> = None;
            for f in group.iter().filter(|f| f.field.as_deref() == Some(field)) {
                let lits = f.literals()?;
                set = Some(match set {
                    None => lits,
                    Some(prev) => prev.into_iter().filter(|x| lits.contains(x)).collect(),
                });
            }
            out.extend(set?);
        }
        out.sort();
        out.dedup();
        Some(out)
    }
}

/// Chooses, among alternatives that each would do, the one that filters best: the one whose
/// shortest text is longest.
pub(crate) fn best(options: impl Iterator<Item = Vec<String>>) -> Option<Vec<String>> {
    options.max_by_key(|f| f.iter().map(String::len).min().unwrap_or(0))
}

/// The longest run of literal characters of a pattern that reads the same in any JSON
/// encoding of the record: ASCII letters, digits and a few punctuation marks that JSON
/// writers never escape and that never stand next to JSON syntax inside compact text.
fn fragment(toks: &[Tok]) -> Option<String> {
    if toks
        .iter()
        .any(|t| matches!(t, Tok::Lit(c) if !c.is_ascii()))
    {
        return None; // Unicode case folding could match other bytes.
    }
    // `/` is safe because the pre-test steps aside for texts with `\/`; `:` inside a run
    // follows a literal character, never the `"` that ends a key, so it is never JSON syntax.
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.@=+$%#!~;|()/".contains(c);
    let mut best = String::new();
    let mut run = String::new();
    for t in toks.iter().chain([&Tok::Star]) {
        match t {
            Tok::Lit(c) if safe(*c) || (*c == ':' && !run.is_empty()) => {
                run.push(c.to_ascii_lowercase())
            }
            _ => {
                if run.len() > best.len() {
                    best = std::mem::take(&mut run);
                }
                run.clear();
            }
        }
    }
    (!best.is_empty()).then_some(best)
}

/// Literal runs of a regular expression simple enough to read without a parser (no
/// alternation, groups, classes, counted repetition or escapes); `None` otherwise.
fn re_fragment(pattern: &str) -> Option<String> {
    fragment(&re_tokens(pattern)?)
}

/// The longest run of literal characters that every match of a case-sensitive regular
/// expression contains, as written (see [`re_fragment`] for the patterns it reads).
fn re_required(pattern: &str) -> Option<String> {
    let toks = re_tokens(pattern)?;
    let runs = toks.split(|t| !matches!(t, Tok::Lit(_)));
    let best = runs.max_by_key(|run| run.len())?;
    let text: String = best
        .iter()
        .filter_map(|t| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect();
    (!text.is_empty()).then_some(text)
}

/// A simple regular expression as Sigma tokens: literal characters, and `*` wherever
/// anything may stand; `None` for alternation, groups, classes, counted repetition or escapes.
fn re_tokens(pattern: &str) -> Option<Vec<Tok>> {
    if pattern.contains(['|', '(', '[', '{', '\\']) {
        return None;
    }
    let mut toks = Vec::new();
    let mut after_quantifier = false;
    for c in pattern.chars() {
        let quantifier = matches!(c, '?' | '*' | '+');
        if quantifier && after_quantifier {
            // `a+*` is `(a+)*` and `a+?` is lazy: not worth reading, so no fragment.
            return None;
        }
        after_quantifier = quantifier;
        match c {
            '?' | '*' => {
                toks.pop(); // the previous character is optional
                toks.push(Tok::Star);
            }
            '.' | '^' | '$' | '+' => toks.push(Tok::Star),
            c => toks.push(Tok::Lit(c)),
        }
    }
    Some(toks)
}

impl FieldMatch {
    fn compile(key: &str, v: &Value) -> Result<FieldMatch, SigmaError> {
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default();
        let mods: Vec<&str> = parts.collect();
        let bad = |reason: String| SigmaError::Field {
            field: key.to_string(),
            reason,
        };
        let has = |m: &str| mods.contains(&m);
        let (mut wild, mut kind) = (None::<&str>, None::<&str>);
        let mut cmp = None;
        for m in &mods {
            match *m {
                "contains" | "startswith" | "endswith" => {
                    if let Some(prev) = wild.replace(m) {
                        return Err(bad(format!("modifiers `{prev}` and `{m}` together")));
                    }
                }
                "re" | "cidr" | "exists" | "fieldref" => {
                    if let Some(prev) = kind.replace(m) {
                        return Err(bad(format!("modifiers `{prev}` and `{m}` together")));
                    }
                }
                "lt" | "lte" | "gt" | "gte" => {
                    kind = kind.or(Some("numeric"));
                    cmp = Some(match *m {
                        "lt" => Cmp::Lt,
                        "lte" => Cmp::Lte,
                        "gt" => Cmp::Gt,
                        _ => Cmp::Gte,
                    });
                }
                "all" | "cased" => {}
                "i" | "m" | "s" if has("re") => {}
                other => {
                    return Err(SigmaError::UnsupportedModifier {
                        modifier: other.to_string(),
                        field: key.to_string(),
                    })
                }
            }
        }
        if let (Some(k), Some(w)) = (kind, wild) {
            return Err(bad(format!("modifier `{w}` with `{k}` is not supported")));
        }
        let all = has("all");
        let cased = has("cased");
        let values: Vec<&Value> = match v {
            Value::Array(items) if items.is_empty() => return Err(bad("empty value list".into())),
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let mut out = Vec::with_capacity(values.len());
        let mut frags = Vec::with_capacity(values.len());
        for value in values {
            let mut frag = None;
            let text = match value {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Null => None,
                _ => return Err(bad("values must be scalars or a list of scalars".into())),
            };
            let m = match (kind, text) {
                (Some("exists"), _) => match value {
                    Value::Bool(b) => Matcher::Exists(*b),
                    _ => return Err(bad("`exists` takes `true` or `false`".into())),
                },
                (_, None) if kind.is_none() && wild.is_none() && field.is_empty() => {
                    return Err(bad("`null` is not a keyword".into()))
                }
                (_, None) if kind.is_none() && wild.is_none() => Matcher::Null,
                (_, None) => return Err(bad("`null` with a modifier".into())),
                (Some("re"), Some(pat)) => {
                    frag = re_fragment(&pat);
                    // Text every match holds, searched before the regex runs. Not under `i`:
                    // Unicode case folding matches `K` to the Kelvin sign.
                    let needle = re_required(&pat)
                        .filter(|_| !has("i"))
                        .map(|n| Box::new(memchr::memmem::Finder::new(&n).into_owned()));
                    let re = RegexBuilder::new(&pat)
                        .case_insensitive(has("i"))
                        .multi_line(has("m"))
                        .dot_matches_new_line(has("s"))
                        .build()
                        .map_err(|e| SigmaError::regex(&pat, &e))?;
                    Matcher::Re(re, needle)
                }
                (Some("cidr"), Some(net)) => Matcher::Cidr(
                    Net::parse(&net).ok_or_else(|| bad(format!("invalid network `{net}`")))?,
                ),
                (Some("fieldref"), Some(other)) => Matcher::FieldRef(other),
                (Some(_), Some(num)) => Matcher::Num(
                    cmp.expect("numeric kind has a comparison"),
                    num.parse()
                        .map_err(|_| bad(format!("`{num}` is not a number")))?,
                ),
                (None, Some(s)) => {
                    let mut toks = tokenize(&s);
                    let (lead, trail) = match (wild, field.is_empty()) {
                        (Some("contains"), _) | (None, true) => (true, true),
                        (Some("startswith"), _) => (false, true),
                        (Some("endswith"), _) => (true, false),
                        _ => (false, false),
                    };
                    if lead && toks.first() != Some(&Tok::Star) {
                        toks.insert(0, Tok::Star);
                    }
                    if trail && (toks.len() < 2 || toks.last() != Some(&Tok::Star)) {
                        toks.push(Tok::Star);
                    }
                    if value.is_string() {
                        frag = fragment(&toks);
                    }
                    Matcher::Str(StrPat::compile(&toks, cased)?)
                }
            };
            out.push(m);
            frags.push(frag);
        }
        if field.is_empty() && kind.is_some() {
            return Err(bad("keyword search with a typed modifier".into()));
        }
        let last = field.rsplit('.').next().unwrap_or(field);
        let key_end = memchr::memmem::Finder::new(&format!("{last}\"")).into_owned();
        let lookup_ok = !field.is_empty() && !field.ends_with('.') && !field.contains(['"', '\\']);
        Ok(FieldMatch {
            key_end,
            typed: TypedField::from_path(field),
            lookup_ok,
            field: (!field.is_empty()).then(|| field.to_string()),
            values: out,
            all,
            frags,
        })
    }

    /// Texts one of which the record's JSON text must contain for this field to match.
    fn fragments(&self) -> Option<Vec<String>> {
        if self.literals().is_some()
            && matches!(self.field.as_deref(), Some("eventName" | "eventSource"))
        {
            return None; // the index already decides these: look for words that filter more
        }
        if self.all {
            // Every value must match: the longest fragment of any one value will do.
            let best = self.frags.iter().flatten().max_by_key(|f| f.len())?;
            return Some(vec![best.clone()]);
        }
        self.frags.iter().cloned().collect()
    }

    fn literals(&self) -> Option<Vec<String>> {
        if self.all || self.field.is_none() {
            return None;
        }
        self.values
            .iter()
            .map(|m| match m {
                Matcher::Str(p) => p.literal().map(str::to_lowercase),
                _ => None,
            })
            .collect()
    }

    fn matches(&self, record: &Value) -> bool {
        let one = |m: &Matcher| self.value_matches(m, record);
        if self.all {
            self.values.iter().all(one)
        } else {
            self.values.iter().any(one)
        }
    }

    fn value_matches(&self, m: &Matcher, record: &Value) -> bool {
        let Some(field) = self.field.as_deref() else {
            return visit_leaves(record, &mut |leaf| m.leaf_matches(leaf));
        };
        match m {
            Matcher::Null => {
                let mut found = false;
                let null = visit(record, field, &mut |v| {
                    found = true;
                    v.is_null()
                });
                null || !found
            }
            Matcher::Exists(want) => visit(record, field, &mut |v| !v.is_null()) == *want,
            Matcher::FieldRef(other) => visit(record, field, &mut |a| {
                let Some(a) = super::value::leaf_text(a) else {
                    return false;
                };
                visit(record, other, &mut |b| {
                    super::value::leaf_text(b).is_some_and(|b| a.to_lowercase() == b.to_lowercase())
                })
            }),
            _ => visit(record, field, &mut |v| !v.is_null() && m.leaf_matches(v)),
        }
    }
}
