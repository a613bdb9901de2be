//! Where rule files come from and what their names say: the embedded `detectors/` files, the
//! rule files of a directory, a file's stem (a rule's id when it has no `name`), and the names
//! an accounts file has. Files are read on two threads.
//!
//! Imports [`super::error`] only.

use super::error::CatalogError;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/embedded_detectors.rs"));

/// The JSON the build made of a built-in rule file (one document, no tests), if it did.
pub fn built_json(name: &str) -> Option<&'static str> {
    EMBEDDED_JSON
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, json)| *json)
}

/// The file names an accounts file may have.
pub const ACCOUNTS_FILE_NAMES: [&str; 3] = ["accounts.yml", "accounts.yaml", "accounts.csv"];

/// Whether `path` is an accounts file (by its name).
pub fn is_accounts_file(path: &str) -> bool {
    let name = Path::new(path).file_name().and_then(|n| n.to_str());
    name.is_some_and(|n| ACCOUNTS_FILE_NAMES.contains(&n))
}

/// A file's name without its folder and `.yml` / `.yaml`.
pub fn file_stem(source: &str) -> String {
    let name = Path::new(source)
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    name.trim_end_matches(".yml")
        .trim_end_matches(".yaml")
        .to_owned()
}

/// The rule files of a directory (`*.yml`, `*.yaml` and accounts files; not recursive), sorted.
pub fn rule_files(dir: &Path) -> Result<Vec<PathBuf>, CatalogError> {
    let io = |source| CatalogError::Io {
        file: dir.display().to_string(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "yml" || e == "yaml")
                || is_accounts_file(&p.to_string_lossy())
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The text of the file at `path`, and the path as the file's name in errors.
pub fn read(path: &Path) -> Result<(String, String), CatalogError> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((file, text)),
        Err(source) => Err(CatalogError::Io { file, source }),
    }
}

/// `f` of every item, in order, the second half worked on by another thread: rules load before
/// any scan, while the second core has nothing else to do, and YAML is slow to read.
pub fn on_two_threads<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let (first, second) = items.split_at(items.len() / 2);
    let f = &f;
    std::thread::scope(|s| {
        let other = s.spawn(move || second.iter().map(f).collect::<Vec<R>>());
        let mut out: Vec<R> = first.iter().map(f).collect();
        match other.join() {
            Ok(rest) => out.extend(rest),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_on_two_threads_keeps_the_order() {
        for n in [0, 1, 2, 7] {
            let items: Vec<usize> = (0..n).collect();
            let out = on_two_threads(&items, |i| i * 10);
            assert_eq!(out, items.iter().map(|i| i * 10).collect::<Vec<_>>());
        }
    }
}
