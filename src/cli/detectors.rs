//! `trailwatch detectors list|test|check`: the catalog seen from the command line, so that a
//! user's CI can check and test its own rule files.

use crate::detectors::Settings;
use crate::rules::accounts::{is_accounts_file, Accounts};
use crate::rules::catalog::{rule_files, Catalog, Descriptor};
use crate::rules::dates;
use crate::rules::filter::{is_filter, Action, Filter};
use crate::rules::{filter_inline, inline};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One line per detector: id, title, severity, kind, source file; then one per filter, with
/// the detectors it names in place of a severity.
pub fn list(catalog: &Catalog, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<[String; 5]> = catalog
        .descriptors
        .iter()
        .map(|d| {
            let kind = match d.kind.skipped() {
                Some(_) => "sigma (not run: logsource)".to_owned(),
                None if catalog.correlations.is_quiet(d.detector_id()) => {
                    format!("{} (base: feeds a correlation, no alert)", d.kind.name())
                }
                None => d.kind.name().to_owned(),
            };
            [
                d.detector_id().to_owned(),
                short(&d.title),
                d.severity().to_string(),
                kind,
                d.source.clone(),
            ]
        })
        .chain(catalog.filters.iter().map(|f| {
            let action = match f.action {
                Action::Drop => "filter (drop)",
                Action::Lower => "filter (lower)",
            };
            let rules = f.rules.join(",");
            [
                f.id.clone(),
                f.title.clone(),
                rules,
                action.to_owned(),
                f.source.clone(),
            ]
        }))
        .collect();
    let head = ["ID", "TITLE", "SEVERITY", "KIND", "SOURCE"].map(str::to_owned);
    let mut width = [0; 5];
    for row in std::iter::once(&head).chain(&rows) {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&head).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = width[i]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Loads the rule files of `dirs` one by one: the catalog of those that load, and why each
/// other file does not (so one broken file does not hide the tests of the others).
pub fn load_each(dirs: &[PathBuf]) -> (Catalog, Vec<String>) {
    let builtin = Catalog::embedded().ok().unwrap_or_default();
    let mut catalog = Catalog::default();
    let mut refused = Vec::new();
    for dir in dirs {
        let files = match rule_files(dir) {
            Ok(f) => f,
            Err(e) => {
                refused.push(e.to_string());
                continue;
            }
        };
        for path in files {
            if let Err(why) = catalog.add_file_beside(&path, &builtin) {
                refused.push(why.to_string());
            }
        }
    }
    (catalog, refused)
}

/// Titles longer than this are cut in the listing (so a row fits a terminal).
const TITLE_WIDTH: usize = 48;

/// `title`, cut to [`TITLE_WIDTH`] characters with `…`.
fn short(title: &str) -> String {
    if title.chars().count() <= TITLE_WIDTH {
        return title.to_owned();
    }
    let mut cut: String = title.chars().take(TITLE_WIDTH - 1).collect();
    cut.push('…');
    cut
}

/// `catalog` with the built-in rules it does not override.
fn with_builtins(catalog: &Catalog) -> Catalog {
    let mut full = catalog.clone();
    for b in Catalog::embedded().ok().unwrap_or_default().descriptors {
        if !full
            .descriptors
            .iter()
            .any(|d| d.detector_id() == b.detector_id())
        {
            full.descriptors.push(b);
        }
    }
    full
}

/// Runs every inline test; one line per failure (and per file in `refused`, that did not
/// load), then `N passed, N failed`. Returns the exit code: 1 if anything failed.
pub fn test(
    catalog: &Catalog,
    refused: &[String],
    settings: &Settings,
    out: &mut dyn Write,
) -> io::Result<i32> {
    let (mut passed, mut failed) = (0, refused.len());
    for why in refused {
        writeln!(out, "FAIL {why}")?;
    }
    // Correlation rules run over the files' rules and the built-in ones (their base rules may
    // be either), linked as a run links them.
    let mut full = with_builtins(catalog);
    if let Err(e) = full.link() {
        writeln!(out, "FAIL {e}")?;
        failed += 1;
    }
    for d in &catalog.descriptors {
        let (count, failures) = inline::run_rule(&full, d, settings);
        for f in &failures {
            writeln!(out, "FAIL {f}")?;
        }
        failed += failures.len();
        passed += count.saturating_sub(failures.len());
    }
    if !catalog.filters.is_empty() {
        // Filters name built-in detectors too: test them against both.
        if let Err(e) = full.resolve_filters() {
            writeln!(out, "FAIL {e}")?;
            failed += 1;
        }
        for f in full
            .filters
            .iter()
            .filter(|f| f.detectors.is_some() || f.rules.iter().any(|r| r == "any"))
        {
            let (count, failures) = filter_inline::run(f, &full, settings);
            for f in &failures {
                writeln!(out, "FAIL {f}")?;
            }
            failed += failures.len();
            passed += count.saturating_sub(failures.len());
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(i32::from(failed > 0))
}

/// Loads every rule file of `dir` and reports each: loaded (id, kind, tests), not run (why),
/// or refused (why). Returns the exit code: 1 if any file was refused.
pub fn check(dir: &Path, out: &mut dyn Write) -> io::Result<i32> {
    let files = match rule_files(dir) {
        Ok(f) => f,
        Err(e) => {
            writeln!(out, "error   {e}")?;
            return Ok(1);
        }
    };
    let builtin = Catalog::embedded().ok().unwrap_or_default();
    let mut seen = Catalog::default();
    let (mut loaded, mut skipped, mut refused) = (0u32, 0u32, 0u32);
    let mut filters = Vec::new();
    for path in files {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(&path);
        if is_accounts_file(&file) {
            let mut accounts = Accounts::default();
            match text
                .map_err(|e| format!("{file}: cannot read: {e}"))
                .and_then(|t| accounts.add_file(&t, &file).map_err(|e| e.to_string()))
            {
                Ok(()) => {
                    loaded += 1;
                    writeln!(out, "ok      {file}: {} accounts", accounts.len())?;
                }
                Err(why) => {
                    refused += 1;
                    writeln!(out, "error   {why}")?;
                }
            }
            continue;
        }
        if let Some(text) = text.as_ref().ok().filter(|t| is_filter(t)) {
            match Filter::parse_all(text, &file) {
                Ok(f) => filters.extend(f),
                Err(e) => {
                    refused += 1;
                    writeln!(out, "error   {e}")?;
                }
            }
            continue;
        }
        let result = text
            .map_err(|e| format!("{file}: cannot read: {e}"))
            .and_then(|text| {
                let rules = Descriptor::parse_all(&text, &file).map_err(|e| e.to_string())?;
                for d in &rules {
                    // The rule replay and the Lambda follow ([`Catalog::admit`]).
                    if builtin.clash(d, &text).map_err(|e| e.to_string())? {
                        seen.admit(d.clone(), &text).map_err(|e| e.to_string())?;
                    }
                }
                Ok(rules)
            });
        let rules = match result {
            Err(why) => {
                refused += 1;
                writeln!(out, "error   {why}")?;
                continue;
            }
            Ok(rules) => rules,
        };
        for d in rules {
            match d.kind.skipped() {
                Some(why) => {
                    skipped += 1;
                    writeln!(out, "skipped {file}: {} not run: {why}", d.detector_id())?;
                }
                None => {
                    let n = match d.tests() {
                        Ok(tests) => tests.len(),
                        Err(e) => {
                            refused += 1;
                            writeln!(out, "error   {e}")?;
                            continue;
                        }
                    };
                    loaded += 1;
                    let id = d.detector_id();
                    writeln!(out, "ok      {file}: {id} ({}, {n} tests)", d.kind.name())?;
                }
            }
        }
    }
    let mut known = builtin;
    known.descriptors.extend(seen.descriptors);
    // Correlations are linked with the built-in rules, as replay links them.
    if let Err(e) = known.link() {
        refused += 1;
        loaded = loaded.saturating_sub(1);
        writeln!(out, "error   {e}")?;
    }
    for f in filters {
        known.filters = vec![Arc::new(f)];
        let resolved = known.resolve_filters();
        let f = &known.filters[0];
        if let Err(e) = resolved {
            refused += 1;
            writeln!(out, "error   {e}")?;
            continue;
        }
        loaded += 1;
        let (file, id, n) = (&f.source, &f.id, f.tests.len());
        writeln!(out, "ok      {file}: filter {id} ({n} tests)")?;
        if let Some(expiry) = f.expiry(&dates::today()) {
            writeln!(out, "warning {expiry}: it is not applied")?;
        }
    }
    writeln!(out, "{loaded} loaded, {skipped} skipped, {refused} refused")?;
    Ok(i32::from(refused > 0))
}
