//! `trailwatch detectors list|test|check`: the catalog seen from the command line, so that a
//! user's CI can check and test its own rule files.

use crate::detectors::Settings;
use crate::rules::catalog::{rule_files, Catalog, Descriptor, EMBEDDED};
use std::io::{self, Write};
use std::path::Path;

/// One line per detector: id, title, severity, kind, source file.
pub fn list(catalog: &Catalog, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<[String; 5]> = catalog
        .descriptors
        .iter()
        .map(|d| {
            let kind = match &d.skipped {
                Some(_) => "sigma (not run: logsource)".to_owned(),
                None => d.kind().to_owned(),
            };
            [
                d.detector_id().to_owned(),
                d.title.clone(),
                d.severity().to_string(),
                kind,
                d.source.clone(),
            ]
        })
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

/// Runs every inline test; one line per failure, then `N passed, N failed`. Returns the exit
/// code: 1 if any test failed.
pub fn test(catalog: &Catalog, settings: &Settings, out: &mut dyn Write) -> io::Result<i32> {
    let (mut passed, mut failed) = (0, 0);
    for d in &catalog.descriptors {
        let (count, failures) = catalog.run_tests(d, settings);
        for f in &failures {
            writeln!(out, "FAIL {f}")?;
        }
        failed += failures.len();
        passed += count.saturating_sub(failures.len());
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
    let (mut loaded, mut skipped, mut refused) = (0, 0, 0);
    for path in files {
        let file = path.display().to_string();
        let result = std::fs::read_to_string(&path)
            .map_err(|e| format!("{file}: cannot read: {e}"))
            .and_then(|text| {
                let d = Descriptor::parse(&text, &file).map_err(|e| e.to_string())?;
                clash(&builtin, &d, &text)?;
                seen.push(d.clone()).map_err(|e| e.to_string())?;
                Ok(d)
            });
        match result {
            Err(why) => {
                refused += 1;
                writeln!(out, "error   {why}")?;
            }
            Ok(d) => match &d.skipped {
                Some(why) => {
                    skipped += 1;
                    writeln!(out, "skipped {file}: {} not run: {why}", d.detector_id())?;
                }
                None => {
                    loaded += 1;
                    let n = d.tests.len();
                    let id = d.detector_id();
                    writeln!(out, "ok      {file}: {id} ({}, {n} tests)", d.kind())?;
                }
            },
        }
    }
    writeln!(out, "{loaded} loaded, {skipped} skipped, {refused} refused")?;
    Ok(i32::from(refused > 0))
}

/// A file may not reuse a built-in detector's id, unless it is that very file.
fn clash(builtin: &Catalog, d: &Descriptor, text: &str) -> Result<(), String> {
    let id = d.detector_id();
    let Some(b) = builtin.descriptors.iter().find(|b| b.detector_id() == id) else {
        return Ok(());
    };
    let same = EMBEDDED
        .iter()
        .any(|(name, t)| *name == b.source && *t == text);
    if same {
        Ok(())
    } else {
        Err(format!(
            "{}: detector id `{id}` is already used by the built-in {}",
            d.source, b.source
        ))
    }
}
