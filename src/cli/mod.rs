//! The command line: replay of local deliveries, output formats, detector commands.

pub mod correlation;
pub mod detectors;
pub mod inputs;
pub mod replay;
