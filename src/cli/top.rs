//! `replay --top [N]` and `--suggest-filters FILE`: the noisiest (detector, principal, user
//! agent, account) groups of a replay, and a filter file for them, to review and commit.

use crate::alert::Alert;
use crate::rules::dates;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

/// Days a suggested filter applies before it expires: one quarter.
pub const QUARTER_DAYS: i64 = 91;

/// What a group of alerts shares.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Group {
    /// The detector id.
    pub detector: String,
    /// The principal; an assumed role's session is `*`, so one role is one group.
    pub principal: String,
    /// The user agent.
    pub user_agent: String,
    /// The account the calls were made in.
    pub account: String,
}

/// Findings counted per group over a replay.
#[derive(Debug, Default)]
pub struct Top {
    counts: HashMap<Group, u64>,
}

impl Top {
    /// Counts an alert's findings in its group.
    pub fn add(&mut self, a: &Alert) {
        let group = Group {
            detector: a.detector.clone(),
            principal: role_of(&a.principal),
            user_agent: a.user_agent.clone(),
            account: a.account.clone(),
        };
        *self.counts.entry(group).or_default() += a.count;
    }

    /// The `n` largest groups, largest first (ties in group order).
    pub fn noisiest(&self, n: usize) -> Vec<(&Group, u64)> {
        let mut rows: Vec<(&Group, u64)> = self.counts.iter().map(|(g, c)| (g, *c)).collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        rows.truncate(n);
        rows
    }
}

/// `arn:...:assumed-role/ROLE/SESSION` as `arn:...:assumed-role/ROLE/*`; others unchanged.
fn role_of(principal: &str) -> String {
    match principal.split_once(":assumed-role/") {
        Some((head, rest)) if rest.contains('/') => {
            let role = rest.split('/').next().unwrap_or(rest);
            format!("{head}:assumed-role/{role}/*")
        }
        _ => principal.to_owned(),
    }
}

/// The groups as a table: count, detector, principal, user agent, account.
pub fn write_table(rows: &[(&Group, u64)], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "FINDINGS\tDETECTOR\tPRINCIPAL\tUSER AGENT\tACCOUNT")?;
    for (g, n) in rows {
        let ua = if g.user_agent.is_empty() {
            "-"
        } else {
            &g.user_agent
        };
        let (d, p, a) = (&g.detector, &g.principal, &g.account);
        writeln!(out, "{n}\t{d}\t{p}\t{ua}\t{a}")?;
    }
    Ok(())
}

/// A filter file for `rows`: one filter per detector, one selection per group, `expires` a
/// quarter from `today`, `reason` and `owner` left empty (the file does not load until a
/// person fills them in).
pub fn write_suggestions(rows: &[(&Group, u64)], out: &mut dyn Write) -> io::Result<()> {
    let mut by_detector: BTreeMap<&str, Vec<(&Group, u64)>> = BTreeMap::new();
    for (g, n) in rows {
        by_detector.entry(&g.detector).or_default().push((g, *n));
    }
    let expires = dates::today_plus(QUARTER_DAYS);
    let mut first = true;
    for (detector, groups) in &by_detector {
        let selections: Vec<Vec<(&str, String)>> = groups
            .iter()
            .map(|(g, _)| selection(g))
            .filter(|s| !s.is_empty())
            .collect();
        if selections.is_empty() {
            continue;
        }
        if !std::mem::take(&mut first) {
            writeln!(out, "---")?;
        }
        let today = dates::today();
        writeln!(out, "# Suggested by `trailwatch replay --suggest-filters` on {today}: review each selection.")?;
        writeln!(out, "title: Known-good activity for {detector}")?;
        writeln!(out, "name: known-good-{detector}")?;
        writeln!(out, "reason: ''  # required: why this activity is expected")?;
        writeln!(out, "owner: ''   # required: who decided")?;
        writeln!(out, "expires: {expires}")?;
        writeln!(out, "logsource: {{product: aws, service: cloudtrail}}")?;
        writeln!(out, "filter:\n    rules: [{detector}]")?;
        for (j, fields) in selections.iter().enumerate() {
            writeln!(out, "    group{}:", j + 1)?;
            for (field, value) in fields {
                writeln!(out, "        {field}: {value}")?;
            }
        }
        writeln!(out, "    condition: not 1 of group*")?;
    }
    Ok(())
}

/// The fields and quoted values that select a group's records (none when it has nothing).
fn selection(g: &Group) -> Vec<(&'static str, String)> {
    let principal = if g.principal.starts_with("arn:") {
        // An assumed role's sessions: the one wildcard left unescaped.
        let value = escape(&g.principal).replace("/\\*", "/*");
        ("userIdentity.arn", value)
    } else {
        ("userIdentity.invokedBy", escape(&g.principal))
    };
    let fields = [
        principal,
        ("userAgent", escape(&g.user_agent)),
        ("recipientAccountId", g.account.clone()),
    ];
    fields
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(f, v)| (f, quoted(&v)))
        .collect()
}

/// A Sigma value matching `text` literally: wildcards and backslashes escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A single-quoted YAML scalar.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_selections() {
        let role = "arn:aws:sts::1:assumed-role/deploy/ci-42";
        assert_eq!(role_of(role), "arn:aws:sts::1:assumed-role/deploy/*");
        assert_eq!(
            role_of("arn:aws:iam::1:user/eve"),
            "arn:aws:iam::1:user/eve"
        );
        assert_eq!(escape(r"a*b?c\d"), r"a\*b\?c\\d");
        let g = Group {
            detector: "d".into(),
            principal: role_of(role),
            user_agent: "it's *new*".into(),
            account: String::new(),
        };
        assert_eq!(
            selection(&g),
            [
                (
                    "userIdentity.arn",
                    "'arn:aws:sts::1:assumed-role/deploy/*'".to_owned()
                ),
                ("userAgent", r"'it''s \*new\*'".to_owned()),
            ]
        );
        let service = Group {
            principal: "config.amazonaws.com".into(),
            user_agent: String::new(),
            ..g
        };
        assert_eq!(
            selection(&service),
            [(
                "userIdentity.invokedBy",
                "'config.amazonaws.com'".to_owned()
            )]
        );
    }
}
