//! How a scan ends early: the fault the reading thread met, and the error the report gives.

use super::split::SplitError;

/// Why a delivery could not be read to its end. Everything before the fault was scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("empty input")]
    Empty,
    #[error("cannot decompress: {message} (near compressed byte {offset})")]
    Decompress { message: String, offset: u64 },
    #[error("cannot read: {0}")]
    Read(String),
    #[error("{error} (after {records} records)")]
    Json { error: SplitError, records: u64 },
    #[error(
        "truncated: the input ends at byte {offset} inside the delivery (after {records} records)"
    )]
    Truncated { offset: u64, records: u64 },
    #[error("not a CloudTrail log file: the top-level object has no `Records` array")]
    NoRecords,
}

/// What stopped the reading thread before the input's end.
pub enum Fault {
    Input(ScanError),
    Json(SplitError),
}
