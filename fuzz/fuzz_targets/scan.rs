//! Any bytes as a delivery: read, decompressed, split, parsed, every built-in detector run,
//! findings merged and masked. Nothing may panic, hang or allocate without bound (libFuzzer's
//! `-timeout` and `-malloc_limit_mb` in `make fuzz` say so), and what is reported must add up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use trailwatch::scan::Limits;
use trailwatch::{Catalog, Pipeline, Severity, Source};

/// The built-in detectors, with limits small enough for the fuzzer to reach them.
static PIPELINE: LazyLock<Pipeline> = LazyLock::new(|| Pipeline {
    catalog: Catalog::embedded().expect("the built-in detectors load"),
    settings: Default::default(),
    disabled: Vec::new(),
    limits: Limits {
        max_record: 64 << 10,
        max_uncompressed: 64 << 20,
        ..Limits::default()
    },
});

fuzz_target!(|data: &[u8]| {
    let source = Source::File {
        file: "fuzz.json".into(),
    };
    let a = PIPELINE.analyse(data, source, Some(Severity::Informational));
    let r = &a.report;
    assert!(r.oversized <= r.skipped, "{r:?}");
    assert!(r.trigger_records <= r.skipped, "{r:?}");
    assert!(r.bytes <= 64 << 20 || r.error.is_some(), "{r:?}");
    for alert in &a.alerts {
        assert!(alert.count >= 1, "{alert:?}");
        assert!(!alert.detector.is_empty());
    }
});
