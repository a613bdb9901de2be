//! The fuzz target's minimized corpus (fuzz/corpus/scan/, `make fuzz`), replayed on stable:
//! every input the fuzzer kept, crashes it found among them, goes through the whole pipeline
//! again with the target's limits and checks.

use std::path::PathBuf;
use trailwatch::scan::Limits;
use trailwatch::{Catalog, Pipeline, Severity, Source};

#[test]
fn every_input_the_fuzzer_kept_is_read_without_a_fault() {
    let pipeline = Pipeline {
        catalog: Catalog::embedded().unwrap(),
        settings: Default::default(),
        disabled: Vec::new(),
        limits: Limits {
            max_record: 64 << 10,
            max_uncompressed: 64 << 20,
            ..Limits::default()
        },
    };
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
        let source = Source::File {
            file: file.display().to_string(),
        };
        let a = pipeline.analyse(&data[..], source, Some(Severity::Informational));
        let r = &a.report;
        assert!(r.oversized <= r.skipped, "{}: {r:?}", file.display());
        assert!(r.trigger_records <= r.skipped, "{}: {r:?}", file.display());
        assert!(
            r.bytes <= 64 << 20 || r.error.is_some(),
            "{}: {r:?}",
            file.display()
        );
        assert!(a.alerts.iter().all(|a| a.count >= 1), "{}", file.display());
        records += r.records;
        alerts += a.alerts.len();
    }
    // The corpus reaches the detectors, not only the reader's errors.
    assert!(
        records > 0 && alerts > 0,
        "{records} records, {alerts} alerts"
    );
}
