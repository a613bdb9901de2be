#![warn(missing_docs)]
//! trailwatch: a CloudTrail log stream analyzer.
//!
//! One streaming core, [`scan::scan`], reads a delivery and runs detectors over each record;
//! the replay command and the Lambda both feed it.

mod alert;
pub mod cli;
pub mod correlate;
mod delivery;
pub mod detectors;
pub mod digest;
mod glob;
mod memo;
pub mod ocsf;
pub mod output;
mod record;
pub mod redact;
pub mod rules;
pub mod scan;
pub mod stage;

pub use alert::finding::Finding;
pub use alert::severity::Severity;
pub use alert::{Alert, AlertBuilder, Source};
pub use delivery::{Analysis, Pipeline};
pub use detectors::{Detector, Settings};
pub use record::Record;
pub use redact::Redacted;
pub use rules::catalog::Catalog;
pub use scan::{scan, ScanReport};
#[cfg(feature = "lambda")]
pub mod lambda;
