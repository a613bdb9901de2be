//! The shared corpus of real material beside the repository (`../shared/corpus`, or
//! `TRAILWATCH_CORPUS`). A test that needs it fails when it is missing: it never passes
//! without having looked.
#![allow(dead_code)]

use std::path::PathBuf;

/// The corpus folder `sub` (`real/invictus`, `sigma`, `triggers` ...); panics, naming the
/// path, when it is not there.
pub fn corpus(sub: &str) -> PathBuf {
    let root = std::env::var_os("TRAILWATCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let dir = root.join(sub);
    assert!(
        dir.is_dir(),
        "the test corpus {} is missing: it sits beside the repository (../shared/corpus), or \
         set TRAILWATCH_CORPUS to its folder",
        dir.display()
    );
    dir
}

/// The `.json.gz` deliveries directly in the corpus folder `sub`, sorted.
pub fn deliveries(sub: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no deliveries in the corpus folder {sub}"
    );
    files
}
