//! How a scan ends early: the fault the reading thread met, and the error the report gives.

use super::split::SplitError;

/// Why a delivery could not be read to its end. Everything before the fault was scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("empty input")]
    /// Nothing to read.
    Empty,
    #[error("cannot decompress: {message} (near compressed byte {offset})")]
    /// The gzip stream is corrupt.
    Decompress {
        /// What the decoder said.
        message: String,
        /// About where, in compressed bytes.
        offset: u64,
    },
    #[error("cannot read: {0}")]
    /// The input could not be read.
    Read(String),
    #[error("{error} (after {records} records)")]
    /// The JSON text is malformed.
    Json {
        /// What is wrong.
        error: SplitError,
        /// Records read before.
        records: u64,
    },
    #[error(
        "truncated: the input ends at byte {offset} inside the delivery (after {records} records)"
    )]
    /// The input ends inside the delivery.
    Truncated {
        /// Where it ends (uncompressed bytes).
        offset: u64,
        /// Records read before.
        records: u64,
    },
    #[error("not a CloudTrail log file: the top-level object has no `Records` array")]
    /// Valid JSON without a `Records` array (and not a digest).
    NoRecords,
    #[error(
        "not a CloudTrail log file: its records are those of a Lambda trigger event (their eventSource is aws:s3, aws:sqs, aws:sns ...)"
    )]
    /// A `Records` array of Lambda trigger records (S3, SQS, SNS), not CloudTrail records.
    TriggerEvent,
    #[error(
        "stopped at the limit of {} of JSON (--max-uncompressed, MAX_UNCOMPRESSED; CloudTrail's own files stay under about 1 GB): the records before it were analysed",
        super::limits::human(*limit)
    )]
    /// The input grew past the uncompressed limit: what was read before was analysed.
    TooLarge {
        /// The limit, in uncompressed bytes.
        limit: u64,
    },
    #[error(
        "stopped: {} of JSON from {} compressed ({}:1), far beyond a CloudTrail log file's 10 to 30:1 (a decompression bomb, or filler): the records before it were analysed",
        super::limits::human(*uncompressed),
        super::limits::human(*compressed),
        uncompressed / compressed.max(&1)
    )]
    /// The input expands implausibly: what was read before was analysed.
    Implausible {
        /// Uncompressed bytes read.
        uncompressed: u64,
        /// Compressed bytes read.
        compressed: u64,
    },
}

/// What stopped the reading thread before the input's end.
pub enum Fault {
    Input(ScanError),
    Json(SplitError),
}
