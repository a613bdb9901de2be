//! The command line: replay of local deliveries, output formats, detector commands.

pub mod correlation;
pub mod detectors;
pub mod inputs;
mod memory;
pub mod replay;
#[cfg(feature = "lambda")]
pub mod s3;
pub mod s3_keys;
mod summary;
pub mod top;
pub mod verify;
