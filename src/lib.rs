//! trailwatch: a CloudTrail log stream analyzer.
//!
//! One streaming core, [`scan::scan`], reads a delivery and runs detectors over each record;
//! the replay command and the Lambda both feed it.

pub mod alert;
pub mod cli;
pub mod delivery;
pub mod detectors;
mod memo;
pub mod output;
pub mod record;
pub mod redact;
pub mod rules;
pub mod scan;

// Former flat paths (kept while the modules move; removed in the next commits).
pub use alert::{evidence, finding, severity};
pub use cli::detectors as detector_cmds;
pub use cli::{inputs, replay};
pub use record::{lenient, text_facts};
pub use redact::{sensitive, url};
pub use rules::{catalog, sigma};
pub use scan::{parsed, produce, split};

pub use alert::{Alert, AlertBuilder, Source};
pub use detectors::Detector;
pub use finding::Finding;
pub use record::Record;
pub use scan::{scan, ScanReport};
pub use severity::Severity;
#[cfg(feature = "lambda")]
pub mod lambda;
