//! What the fuzz target checks of every input, shared with its replay on stable
//! (tests/fuzz_corpus.rs): the pipeline with limits small enough for the fuzzer to reach, and
//! the invariants of what one input gives.

use trailwatch::scan::Limits;
use trailwatch::{Catalog, Pipeline, Severity, Source};

/// The built-in detectors, with the fuzzing limits.
pub fn pipeline() -> Pipeline {
    Pipeline {
        catalog: Catalog::embedded().expect("the built-in detectors load"),
        settings: Default::default(),
        disabled: Vec::new(),
        limits: Limits {
            max_record: 64 << 10,
            max_uncompressed: 64 << 20,
            ..Limits::default()
        },
    }
}

/// Analyses `data` as the delivery `name` and checks that what is reported adds up (panics
/// otherwise); returns the records read and the alerts raised.
pub fn check(pipeline: &Pipeline, name: &str, data: &[u8]) -> (u64, usize) {
    let source = Source::File { file: name.into() };
    let a = pipeline.analyse(data, source, Some(Severity::Informational));
    let r = &a.report;
    assert!(r.oversized <= r.skipped, "{name}: {r:?}");
    assert!(r.trigger_records <= r.skipped, "{name}: {r:?}");
    assert!(r.bytes <= 64 << 20 || r.error.is_some(), "{name}: {r:?}");
    for alert in &a.alerts {
        assert!(alert.count >= 1, "{name}: {alert:?}");
        assert!(!alert.detector.is_empty(), "{name}: {alert:?}");
    }
    (r.records, a.alerts.len())
}
