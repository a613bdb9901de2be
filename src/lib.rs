//! trailwatch: a CloudTrail log stream analyzer.
//!
//! One streaming core, [`scan::scan`], reads a delivery and runs detectors over each record;
//! the replay command and the Lambda both feed it.

pub mod alert;
pub mod catalog;
pub mod detector_cmds;
pub mod detectors;
pub mod evidence;
pub mod finding;
mod lenient;
mod memo;
pub mod record;
pub mod redact;
pub mod scan;
pub mod sensitive;
pub mod severity;
pub mod sigma;
pub mod split;
pub mod text_facts;
pub mod url;

pub use alert::{Alert, AlertBuilder, Source};
pub use detectors::Detector;
pub use finding::Finding;
pub use record::Record;
pub use scan::{scan, ScanReport};
pub use severity::Severity;
pub mod inputs;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod output;
mod parsed;
mod produce;
pub mod replay;
