//! The `condition:` expression: `and`, `or`, `not`, parentheses, `1 of sel*`,
//! `all of sel*`, `1 of them`, `all of them`. Precedence: `not` > `and` > `or`.
//! Aggregations (`| count() ...`) and `near` are refused.

use super::SigmaError;
use crate::glob;

/// A parsed condition over selection indices.
#[derive(Debug)]
pub(crate) enum Expr {
    Sel(usize),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    Word(String),
}

fn lex(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in s.chars() {
        if c.is_whitespace() || c == '(' || c == ')' {
            if !word.is_empty() {
                out.push(Tok::Word(std::mem::take(&mut word)));
            }
            match c {
                '(' => out.push(Tok::Open),
                ')' => out.push(Tok::Close),
                _ => {}
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(Tok::Word(word));
    }
    out
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    names: &'a [String],
    text: &'a str,
}

/// Parses `text` against the selection names of the detection.
pub(crate) fn parse(text: &str, names: &[String]) -> Result<Expr, SigmaError> {
    if let Some((_, agg)) = text.split_once('|') {
        let agg = agg.split_whitespace().next().unwrap_or("");
        return Err(SigmaError::Aggregation(agg.to_string()));
    }
    let mut p = Parser {
        toks: lex(text),
        pos: 0,
        names,
        text,
    };
    let e = p.or()?;
    match p.toks.get(p.pos) {
        None => Ok(e),
        Some(t) => Err(p.err(format!("unexpected `{}`", show(t)))),
    }
}

fn show(t: &Tok) -> &str {
    match t {
        Tok::Open => "(",
        Tok::Close => ")",
        Tok::Word(w) => w,
    }
}

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

impl Parser<'_> {
    fn err(&self, reason: String) -> SigmaError {
        SigmaError::Condition {
            condition: self.text.to_string(),
            reason,
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn or(&mut self) -> Result<Expr, SigmaError> {
        let mut items = vec![self.and()?];
        while is_kw(self.peek(), "or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, SigmaError> {
        let mut items = vec![self.not()?];
        while is_kw(self.peek(), "and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::And(items)
        })
    }

    fn not(&mut self) -> Result<Expr, SigmaError> {
        if is_kw(self.peek(), "not") {
            self.pos += 1;
            // `not not x` is `x`: a filter's negated condition keeps its pre-tests.
            return Ok(match self.not()? {
                Expr::Not(inner) => *inner,
                e => Expr::Not(Box::new(e)),
            });
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, SigmaError> {
        let tok = self
            .toks
            .get(self.pos)
            .ok_or_else(|| self.err("unexpected end".into()))?;
        self.pos += 1;
        let word = match tok {
            Tok::Open => {
                let e = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(self.err("missing `)`".into()));
                }
                self.pos += 1;
                return Ok(e);
            }
            Tok::Close => return Err(self.err("unexpected `)`".into())),
            Tok::Word(w) => w.clone(),
        };
        let lower = word.to_ascii_lowercase();
        if matches!(lower.as_str(), "and" | "or" | "of" | "them") {
            return Err(self.err(format!("unexpected `{word}`")));
        }
        if lower == "near" {
            return Err(SigmaError::Unsupported("`near` in condition".into()));
        }
        if is_kw(self.peek(), "of") {
            self.pos += 1;
            let target = match self.toks.get(self.pos) {
                Some(Tok::Word(w)) => w.clone(),
                _ => return Err(self.err(format!("`{word} of` needs a target")))?,
            };
            self.pos += 1;
            let sels: Vec<usize> = if target.eq_ignore_ascii_case("them") {
                (0..self.names.len())
                    .filter(|&i| !self.names[i].starts_with('_'))
                    .collect()
            } else {
                (0..self.names.len())
                    .filter(|&i| glob::matches(&target, &self.names[i]))
                    .collect()
            };
            if sels.is_empty() {
                return Err(self.err(format!("`{target}` names no selection")));
            }
            let items = sels.into_iter().map(Expr::Sel).collect();
            return match lower.as_str() {
                "1" | "any" => Ok(Expr::Or(items)),
                "all" => Ok(Expr::And(items)),
                _ => Err(SigmaError::Unsupported(format!("`{word} of` in condition"))),
            };
        }
        match self.names.iter().position(|n| *n == word) {
            Some(i) => Ok(Expr::Sel(i)),
            None => Err(self.err(format!("unknown selection `{word}`"))),
        }
    }
}

impl Expr {
    pub(crate) fn eval(&self, sel: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Expr::Sel(i) => sel(*i),
            Expr::Not(e) => !e.eval(sel),
            Expr::And(items) => items.iter().all(|e| e.eval(sel)),
            Expr::Or(items) => items.iter().any(|e| e.eval(sel)),
        }
    }

    /// [`Expr::eval`] in three-valued logic: `None` when the unknown selections decide.
    pub(crate) fn decide<F: FnMut(usize) -> Option<bool>>(&self, sel: &mut F) -> Option<bool> {
        match self {
            Expr::Sel(i) => sel(*i),
            Expr::Not(e) => e.decide(sel).map(|b| !b),
            Expr::And(items) => and3(items.iter().map(|e| e.decide(sel))),
            Expr::Or(items) => or3(items.iter().map(|e| e.decide(sel))),
        }
    }
}

/// Three-valued AND: `false` wins, then unknown.
fn and3(items: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut out = Some(true);
    for item in items {
        match item {
            Some(false) => return Some(false),
            None => out = None,
            Some(true) => {}
        }
    }
    out
}

/// Three-valued OR: `true` wins, then unknown.
fn or3(items: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    and3(items.map(|v| v.map(|b| !b))).map(|b| !b)
}
