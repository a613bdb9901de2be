//! The summary a replay run writes to stderr at the end, from its [`Counts`].

use crate::correlate::Correlations;
use crate::rules::filtered::FilterTally;
use crate::stage::Counts;
use std::collections::BTreeMap;
use std::io::Write;

/// The summary lines of a run that took `seconds`.
pub(super) fn summary(t: &Counts, seconds: f64, err: &mut dyn Write) -> std::io::Result<()> {
    let mb = t.bytes as f64 / 1e6;
    let alerts = t.alerts_total();
    let by: Vec<String> = t
        .alerts_by_detector()
        .iter()
        .map(|(d, n)| format!("{d} {n}"))
        .collect();
    let by = if by.is_empty() {
        String::new()
    } else {
        format!(" ({})", by.join(", "))
    };
    writeln!(
        err,
        "trailwatch: {}, {}, {mb:.1} MB in {seconds:.2} s ({:.0} MB/s); {}{by}; {}",
        counted(t.files, "file"),
        counted(t.records, "record"),
        mb / seconds.max(1e-9),
        counted(alerts, "alert"),
        counted(t.failed, "error")
    )?;
    if alerts > 0 {
        let by: Vec<String> = t
            .alerts_by_severity()
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        writeln!(err, "trailwatch: alerts by severity: {}", by.join(", "))?;
    }
    let mut notes = Vec::new();
    if t.skipped > 0 {
        let over = match t.oversized {
            0 => String::new(),
            n => format!(" ({n} over the record limit, read past: --max-record-size)"),
        };
        notes.push(format!("{} skipped{over}", counted(t.skipped, "record")));
    }
    if t.digests > 0 {
        let files = if t.digests == 1 { "file" } else { "files" };
        notes.push(format!("{} digest {files} skipped", t.digests));
    }
    if t.not_logs > 0 {
        let first = t.not_log.as_deref().unwrap_or_default();
        notes.push(match t.not_logs {
            1 => format!("1 file that is not a CloudTrail log skipped ({first})"),
            n => format!("{n} files that are not CloudTrail logs skipped (the first: {first})"),
        });
    }
    if t.tls_unparsed > 0 {
        let n = t.tls_unparsed;
        let what = if n == 1 { "version" } else { "versions" };
        let file = match t.tls_unparsed_file.as_deref() {
            Some(f) if n == 1 => format!(", in {f}"),
            Some(f) => format!(", the first in {f}"),
            None => String::new(),
        };
        let calls = if n == 1 { "that call" } else { "those calls" };
        notes.push(format!(
            "{n} TLS {what} not understood (tls-outdated could not judge {calls}{file})"
        ));
    }
    if t.deep_subtrees > 0 {
        let limit = crate::scan::split::MAX_DEPTH;
        notes.push(format!(
            "{} subtrees nested deeper than {limit} levels not read (the rest of their records was)",
            t.deep_subtrees
        ));
    }
    let paged = format!(
        "folded into a page's last alert (more than {} of one detector at once)",
        crate::stage::PAGE
    );
    let state: [(u64, &str, &str); 7] = [
        (
            t.late,
            "base-rule match",
            "too late for their correlation windows",
        ),
        (t.held, "alert", "held back by dedup windows"),
        (t.paged, "alert", &paged),
        (
            t.uncounted,
            "base-rule match",
            "past a delivery's correlation memory, not counted or not recognisable again",
        ),
        (
            t.ungrouped,
            "base-rule match",
            "not correlated: the record lacks a group-by field or the field a value_count counts",
        ),
        (t.evicted, "correlation group", "evicted (cap reached)"),
        (
            t.ahead,
            "base-rule match",
            "dated more than 15 minutes ahead of the clock, not correlated",
        ),
    ];
    for (n, what, note) in state {
        if n > 0 {
            notes.push(format!("{} {note}", counted(n, what)));
        }
    }
    if !notes.is_empty() {
        writeln!(err, "trailwatch: {}", notes.join("; "))?;
    }
    filtered_summary(&t.suppressed, err)
}

/// What the filters did: findings dropped and lowered, per detector and filter.
fn filtered_summary(t: &FilterTally, err: &mut dyn Write) -> std::io::Result<()> {
    let mut parts = Vec::new();
    for (counts, what) in [(&t.dropped, "dropped"), (&t.lowered, "lowered")] {
        if counts.is_empty() {
            continue;
        }
        let n: u64 = counts.values().sum();
        let by: Vec<String> = counts
            .iter()
            .map(|((d, f), n)| format!("{d} by {f} {n}"))
            .collect();
        parts.push(format!("{n} findings {what} ({})", by.join(", ")));
    }
    if !parts.is_empty() {
        writeln!(err, "trailwatch: filters: {}", parts.join("; "))?;
    }
    Ok(())
}

/// What the filters kept out of the correlations: the dropped findings of each base rule, per
/// correlation it feeds (a filter acts before correlation; see `Catalog::resolve_filters`).
pub(super) fn filtered_correlations(
    t: &FilterTally,
    correlations: &Correlations,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    let mut fed: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for ((detector, _), n) in &t.dropped {
        for c in correlations.fed_by(detector) {
            *fed.entry(c).or_default().entry(detector).or_default() += n;
        }
    }
    if fed.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = fed
        .iter()
        .map(|(c, bases)| {
            let from: Vec<String> = bases.iter().map(|(d, n)| format!("{n} of {d}")).collect();
            format!("{c} ({})", from.join(", "))
        })
        .collect();
    writeln!(
        err,
        "trailwatch: filters: dropped findings not counted by correlations: {}",
        parts.join("; ")
    )
}

/// `1 record`, `2 records`.
fn counted(n: u64, what: &str) -> String {
    let plural = if n == 1 {
        ""
    } else if what.ends_with("ch") || what.ends_with('s') {
        "es"
    } else {
        "s"
    };
    format!("{n} {what}{plural}")
}
