//! The fuzz target's minimized corpus (fuzz/corpus/scan/, `make fuzz`), replayed on stable:
//! every input the fuzzer kept goes through the whole pipeline again with the target's own
//! limits and checks (fuzz/check.rs).

#[path = "../fuzz/check.rs"]
mod check;

use std::path::PathBuf;

#[test]
fn every_input_the_fuzzer_kept_is_read_without_a_fault() {
    let pipeline = check::pipeline();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/scan");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 50, "a corpus, not a stub: {}", files.len());
    let (mut records, mut alerts) = (0, 0);
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let (r, a) = check::check(&pipeline, &file.display().to_string(), &data);
        records += r;
        alerts += a;
    }
    // The corpus reaches the detectors, not only the reader's errors.
    assert!(
        records > 0 && alerts > 0,
        "{records} records, {alerts} alerts"
    );
}
