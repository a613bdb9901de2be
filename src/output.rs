//! How alerts and findings are written: JSON lines (replay `jsonl` and `findings`, the SNS
//! `default` message) and readable text (replay `pretty`, the SNS `email` message).

use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::alert::{Alert, MAX_ORIGINS};
use crate::redact::Redacted;
use console::{style, Style};
use std::borrow::Cow;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
/// How replay writes what it found.
pub enum Format {
    /// One readable block per alert (the default on a terminal).
    Pretty,
    /// One alert per line: exactly the JSON published to SNS.
    Jsonl,
    /// One JSON line per finding, before merging into alerts.
    Findings,
    /// One OCSF 1.1.0 Detection Finding (class 2004) per alert, as JSON lines.
    Ocsf,
}

/// One alert as a JSON line. Writers take only [`Redacted`] values: masking happened in the
/// pipeline ([`crate::delivery`]), writers only format.
pub fn write_alert_json(out: &mut dyn Write, alert: &Redacted<Alert>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, alert)?;
    out.write_all(b"\n")
}

/// One finding as a JSON line.
pub fn write_finding_json(out: &mut dyn Write, finding: &Redacted<Finding>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, finding)?;
    out.write_all(b"\n")
}

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new().white().on_red().bold(),
        Severity::High => Style::new().red().bold(),
        Severity::Medium => Style::new().yellow().bold(),
        Severity::Low => Style::new().cyan(),
        Severity::Informational => Style::new().dim(),
    }
}

/// `s` safe to print as one line of text (a terminal, an email): control characters
/// (newlines included), and the bidirectional overrides that reorder what a reader sees, are
/// written as `\u{..}` escapes. Every field of a record can hold them: a file written into the
/// trail bucket by anyone must not forge lines of an alert.
pub fn printable(s: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One readable block per alert, every field of it [`printable`].
pub fn write_alert_pretty(out: &mut dyn Write, a: &Redacted<Alert>) -> io::Result<()> {
    let p = printable;
    let sev =
        severity_style(a.severity).apply_to(format!(" {} ", a.severity.as_str().to_uppercase()));
    writeln!(
        out,
        "{sev} {}  {}",
        style(p(&a.title)).bold(),
        style(p(&a.detector)).dim()
    )?;
    let label = |l: &str| style(format!("  {l:<9}")).dim();
    writeln!(out, "{}{}", label("what"), p(&a.summary))?;
    writeln!(out, "{}{}", label("who"), p(or_dash(&a.principal)))?;
    let from = match a.source_ips.len() {
        0 | 1 if a.source_ip.is_empty() => String::new(),
        0 | 1 => format!("  from {}", p(&a.source_ip)),
        _ => format!(
            "  from {}",
            p(&several(&a.source_ips, "address", "addresses"))
        ),
    };
    let known: Vec<&str> = [a.account_name.as_str(), a.environment.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let known = if known.is_empty() {
        String::new()
    } else {
        format!(" ({})", p(&known.join(", ")))
    };
    writeln!(
        out,
        "{}{}{known} {}{from}",
        label("where"),
        p(or_dash(&a.account)),
        p(&a.region)
    )?;
    if a.user_agents.len() > 1 {
        let agents = several(&a.user_agents, "user agent", "user agents");
        writeln!(out, "{}{}", label("agents"), p(&agents))?;
    } else if !a.user_agent.is_empty() {
        writeln!(out, "{}{}", label("agent"), p(&a.user_agent))?;
    }
    if !a.event_ids.is_empty() {
        let shown: Vec<&str> = a.event_ids.iter().take(3).map(String::as_str).collect();
        let more = a.count.saturating_sub(shown.len() as u64);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        writeln!(out, "{}{}{more}", label("events"), p(&shown.join(", ")))?;
    }
    let when = if a.first_seen == a.last_seen {
        p(&a.first_seen).into_owned()
    } else {
        format!("{} .. {}", p(&a.first_seen), p(&a.last_seen))
    };
    if a.event_names.is_empty() {
        // About files or trails, not calls (operational alerts).
        writeln!(out, "{}{when}", label("when"))?;
    } else if a.calls.worth_naming() {
        // The summary already names the calls.
        writeln!(
            out,
            "{}{when}  ({} event{})",
            label("when"),
            a.count,
            plural(a.count)
        )?;
    } else {
        writeln!(
            out,
            "{}{when}  ({} event{}: {})",
            label("when"),
            a.count,
            plural(a.count),
            p(&a.event_names.join(", "))
        )?;
    }
    for (k, v) in &a.evidence {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        writeln!(out, "{}{}: {}", label(""), p(k), p(&v))?;
    }
    if !a.remediation.is_empty() {
        writeln!(
            out,
            "{}{}",
            label("fix"),
            p(&a.remediation.trim().replace('\n', " "))
        )?;
    }
    if !a.related.is_empty() {
        let others: Vec<String> = a
            .related
            .iter()
            .map(|r| format!("{} (id {})", r.detector, r.id))
            .collect();
        let label = label("also");
        writeln!(
            out,
            "{label}raised by the same calls: {}",
            p(&others.join(", "))
        )?;
    }
    let source = a.source.location();
    writeln!(out, "{}{}  id {}", label("source"), p(&source), p(&a.id))?;
    writeln!(out)
}

/// `3 addresses: a, b, c`; past [`MAX_ORIGINS`] distinct ones, `10 addresses or more: ...`.
fn several(values: &[String], one: &str, many: &str) -> String {
    let what = if values.len() == 1 { one } else { many };
    let more = if values.len() >= MAX_ORIGINS {
        " or more"
    } else {
        ""
    };
    format!("{} {what}{more}: {}", values.len(), values.join(", "))
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod printable_tests {
    use super::printable;

    #[test]
    fn control_characters_and_bidi_overrides_are_escaped_the_rest_is_kept() {
        assert_eq!(printable("arn:aws:iam::1:user/é"), "arn:aws:iam::1:user/é");
        assert_eq!(
            printable("eve\n  what     Root activity\r\u{1b}[2J\u{202e}gpj.exe"),
            "eve\\u{a}  what     Root activity\\u{d}\\u{1b}[2J\\u{202e}gpj.exe"
        );
    }
}
