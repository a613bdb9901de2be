//! The inputs of `replay`: files, directories (walked for deliveries), and `-` for stdin.

use crate::delivery::is_delivery_name;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
/// One input of replay.
pub enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file named on the command line.
    File(PathBuf),
    /// A file found by walking a directory.
    Found(PathBuf),
}

impl Input {
    /// The name used in messages and in alerts' `source`.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".into(),
            Input::File(p) | Input::Found(p) => p.display().to_string(),
        }
    }

    /// Opens the input for reading.
    pub fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Input::Stdin => Box::new(std::io::stdin()),
            Input::File(p) | Input::Found(p) => Box::new(File::open(p)?),
        })
    }

    /// Size on disk, for progress (0 for stdin).
    pub fn size(&self) -> u64 {
        match self {
            Input::Stdin => 0,
            Input::File(p) | Input::Found(p) => p.metadata().map(|m| m.len()).unwrap_or(0),
        }
    }
}

/// A delivery file: `*.json.gz` or `*.json`.
pub fn is_delivery(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| is_delivery_name(&n.to_string_lossy()))
}

/// Expands the arguments: directories recursively (deliveries only, sorted), files as given.
/// A path that does not exist or cannot be listed is returned in the error list.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<(String, String)>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if p.is_dir() {
            walk(p, &mut inputs, &mut errors);
        } else if p.exists() {
            inputs.push(Input::File(p.clone()));
        } else {
            errors.push((p.display().to_string(), "no such file or directory".into()));
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<(String, String)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return errors.push((dir.display().to_string(), format!("cannot list: {e}"))),
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, inputs, errors);
        } else if is_delivery(&p) {
            inputs.push(Input::Found(p));
        }
    }
}
