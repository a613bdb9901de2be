//! `replay --top [N]` and `--suggest-filters FILE`: the noisiest (detector, principal, user
//! agent, account) groups of a replay, and a filter file for them, to review and commit.
//!
//! A suggestion never drops a high or critical finding: those groups get a filter that lowers
//! them one step, for a person to review. Correlation rules get no filter (filters act on
//! the findings of their base rules), and user agents are matched by product and major
//! version, so a filter survives the next minor release of the client.

use crate::alert::severity::Severity;
use crate::alert::Alert;
use crate::correlate::Correlations;
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
    counts: HashMap<Group, (u64, Severity)>,
}

/// One group of the table: its findings and the worst severity among them.
pub type Row<'a> = (&'a Group, u64, Severity);

impl Top {
    /// Counts an alert's findings in its group.
    pub fn add(&mut self, a: &Alert) {
        let group = Group {
            detector: a.detector.clone(),
            principal: role_of(&a.principal),
            user_agent: a.user_agent.clone(),
            account: a.account.clone(),
        };
        let (n, worst) = self
            .counts
            .entry(group)
            .or_insert((0, Severity::Informational));
        *n += a.count;
        *worst = (*worst).max(a.severity);
    }

    /// The `n` largest groups, largest first (ties in group order).
    pub fn noisiest(&self, n: usize) -> Vec<Row<'_>> {
        let mut rows: Vec<Row> = self.counts.iter().map(|(g, (c, s))| (g, *c, *s)).collect();
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

/// The groups as a table: count, worst severity, detector, principal, user agent, account.
pub fn write_table(rows: &[Row], out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "FINDINGS\tSEVERITY\tDETECTOR\tPRINCIPAL\tUSER AGENT\tACCOUNT"
    )?;
    for (g, n, severity) in rows {
        let ua = if g.user_agent.is_empty() {
            "-"
        } else {
            &g.user_agent
        };
        let (d, p, a) = (&g.detector, &g.principal, &g.account);
        writeln!(out, "{n}\t{severity}\t{d}\t{p}\t{ua}\t{a}")?;
    }
    Ok(())
}

/// A filter file for `rows`: per detector, one filter that drops its groups below high and
/// one that lowers its high and critical groups (one selection per group), `expires` a quarter
/// from today, `reason` and `owner` left empty (the file does not load until a person fills
/// them in). A correlation rule gets a comment naming its base rules instead. Returns how many
/// groups got a selection, and how many were correlation groups.
pub fn write_suggestions(
    rows: &[Row],
    correlations: &Correlations,
    out: &mut dyn Write,
) -> io::Result<(usize, usize)> {
    let mut by_filter: BTreeMap<(&str, bool), Vec<&Group>> = BTreeMap::new();
    let mut skipped = BTreeMap::new();
    let (mut selected, mut correlated) = (0, 0);
    for (g, _, severity) in rows {
        match correlations.get(&g.detector) {
            Some(c) => {
                correlated += 1;
                skipped.insert(g.detector.as_str(), c.rule.rules.join(", "));
            }
            None => by_filter
                .entry((&g.detector, *severity >= Severity::High))
                .or_default()
                .push(g),
        }
    }
    let (expires, today) = (dates::today_plus(QUARTER_DAYS), dates::today());
    let mut first = true;
    for ((detector, lower), groups) in &by_filter {
        let selections: Vec<Vec<(&str, String)>> = groups
            .iter()
            .map(|g| selection(g))
            .filter(|s| !s.is_empty())
            .collect();
        if selections.is_empty() {
            continue;
        }
        selected += selections.len();
        if !std::mem::take(&mut first) {
            writeln!(out, "---")?;
        }
        let (name, verb) = match lower {
            true => (format!("known-good-{detector}-lowered"), "Lowered"),
            false => (format!("known-good-{detector}"), "Known-good"),
        };
        writeln!(out, "# Suggested by `trailwatch replay --suggest-filters` on {today}: review each selection.")?;
        if *lower {
            writeln!(
                out,
                "# High or critical findings are lowered one step, never dropped: check each group"
            )?;
            writeln!(out, "# is expected before you change `action` to `drop`.")?;
        }
        writeln!(out, "title: {verb} activity for {detector}")?;
        writeln!(out, "name: {name}")?;
        writeln!(out, "reason: ''  # required: why this activity is expected")?;
        writeln!(out, "owner: ''   # required: who decided")?;
        writeln!(out, "expires: {expires}")?;
        if *lower {
            writeln!(out, "action: lower")?;
        }
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
    for (detector, bases) in skipped {
        writeln!(
            out,
            "# No filter for {detector}: it is a correlation rule, and filters act on the findings"
        )?;
        writeln!(
            out,
            "# of its base rules ({bases}); filter those, or raise its threshold."
        )?;
    }
    Ok((selected, correlated))
}

/// A user agent's product and major version (`aws-cli/2.17.20 md/...` is `aws-cli/2.`), or
/// `None` when its first word is not `product/version`.
fn family(user_agent: &str) -> Option<&str> {
    let ua = user_agent.trim_start();
    let word = ua.split_whitespace().next()?;
    let (product, version) = word.split_once('/')?;
    let major = version.bytes().take_while(u8::is_ascii_digit).count();
    let dot = version.as_bytes().get(major) == Some(&b'.');
    (!product.is_empty() && major > 0 && dot).then(|| &ua[..product.len() + 1 + major + 1])
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
    let user_agent = match family(&g.user_agent) {
        Some(family) => ("userAgent|startswith", escape(family)),
        None => ("userAgent", escape(&g.user_agent)),
    };
    let fields = [
        principal,
        user_agent,
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
        assert_eq!(
            family("aws-cli/2.17.20 md/Botocore#1.34.142 os/linux"),
            Some("aws-cli/2.")
        );
        assert_eq!(
            family("Boto3/1.34.69 md/Botocore#1.34.69"),
            Some("Boto3/1.")
        );
        assert_eq!(
            family("[S3Console/0.4, aws-internal/3]"),
            Some("[S3Console/0.")
        );
        assert_eq!(family("console.amazonaws.com"), None);
        assert_eq!(family("Go-http-client/1"), None);
        let cli = Group {
            user_agent: "aws-cli/2.17.20 md/Botocore#1.34.142".into(),
            ..g.clone()
        };
        assert_eq!(
            selection(&cli)[1],
            ("userAgent|startswith", "'aws-cli/2.'".to_owned())
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
