//! How alerts and findings are written: JSON lines (replay `jsonl` and `findings`, the SNS
//! `default` message) and readable text (replay `pretty`, the SNS `email` message).

use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::alert::Alert;
use crate::redact::Redacted;
use console::{style, Style};
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

/// One readable block per alert.
pub fn write_alert_pretty(out: &mut dyn Write, a: &Redacted<Alert>) -> io::Result<()> {
    let sev =
        severity_style(a.severity).apply_to(format!(" {} ", a.severity.as_str().to_uppercase()));
    writeln!(
        out,
        "{sev} {}  {}",
        style(&a.title).bold(),
        style(&a.detector).dim()
    )?;
    let label = |l: &str| style(format!("  {l:<9}")).dim();
    writeln!(out, "{}{}", label("what"), a.summary)?;
    writeln!(out, "{}{}", label("who"), or_dash(&a.principal))?;
    let from = if a.source_ip.is_empty() {
        String::new()
    } else {
        format!("  from {}", a.source_ip)
    };
    let known: Vec<&str> = [a.account_name.as_str(), a.environment.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let known = if known.is_empty() {
        String::new()
    } else {
        format!(" ({})", known.join(", "))
    };
    writeln!(
        out,
        "{}{}{known} {}{from}",
        label("where"),
        or_dash(&a.account),
        a.region
    )?;
    let when = if a.first_seen == a.last_seen {
        a.first_seen.clone()
    } else {
        format!("{} .. {}", a.first_seen, a.last_seen)
    };
    if a.calls.worth_naming() {
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
            a.event_names.join(", ")
        )?;
    }
    for (k, v) in &a.evidence {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        writeln!(out, "{}{k}: {v}", label(""))?;
    }
    if !a.remediation.is_empty() {
        writeln!(
            out,
            "{}{}",
            label("fix"),
            a.remediation.trim().replace('\n', " ")
        )?;
    }
    let source = a.source.location();
    writeln!(out, "{}{source}  id {}", label("source"), a.id)?;
    writeln!(out)
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
