//! `replay::stop` (what Ctrl-C calls): no input starts after it, and the summary says what was
//! scanned. Its own test binary: the stop is process-wide.

use trailwatch::cli::replay::{self, Replay};
use trailwatch::output::Format;
use trailwatch::{Catalog, Pipeline, Settings, Severity};

#[test]
fn a_stopped_replay_scans_nothing_more_and_says_so() {
    let job = Replay {
        paths: vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/samples"
        ))],
        format: Format::Jsonl,
        min_severity: Severity::Informational,
        fail_on: None,
        pipeline: Pipeline {
            catalog: Catalog::embedded().unwrap(),
            settings: Settings::default(),
            disabled: Vec::new(),
            limits: Default::default(),
        },
        jobs: 2,
        progress: false,
        remote: None,
        top: None,
        correlation: Default::default(),
        verify: false,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(replay::run(&job, &mut out, &mut err).unwrap(), 0);
    assert!(!out.is_empty(), "the samples give alerts");
    replay::stop();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(replay::run(&job, &mut out, &mut err).unwrap(), 130);
    let err = String::from_utf8(err).unwrap();
    assert!(out.is_empty(), "no input was started");
    assert!(err.contains("trailwatch: 0 files"), "{err}");
    assert!(err.contains("interrupted: 0 of "), "{err}");
}
