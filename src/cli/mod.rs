//! The command line: replay of local deliveries, output formats, detector commands.

pub mod correlation;
pub mod detectors;
pub mod inputs;
pub mod replay;
#[cfg(feature = "lambda")]
pub mod s3;
pub mod s3_keys;
pub mod top;
mod totals;
