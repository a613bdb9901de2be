//! The streaming core: one `scan(reader, detectors, sink)` for every front end.
//!
//! A delivery is read on two threads: one reads, decompresses and cuts the text into records
//! (`produce`), handing them over in a few reused batches; the caller's thread parses each batch
//! (`ParsedBatch`) and runs the detectors. When the caller's thread falls behind, the reading
//! thread parses batches too, so the two share the work on two cores. Memory stays constant
//! whatever the file size: a handful of batches.

mod batch;
mod blocks;
mod detector;
mod error;
pub mod limits;
mod parsed;
mod produce;
pub mod split;

pub use detector::Detector;
pub use error::ScanError;
pub use limits::Limits;

use crate::alert::finding::Finding;
use crate::record::tls::TlsVersion;
use batch::Batch;
use error::Fault;
use parsed::{Parsed, ParsedBatch};
use produce::{produce, End, Message};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;

/// Warnings kept word for word per delivery; the rest are only counted.
pub const MAX_WARNINGS: usize = 10;

/// What one delivery held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Contents {
    #[default]
    /// A log file with `Records`.
    Records,
    /// A CloudTrail digest file (`logFiles`, no `Records`): skipped.
    Digest,
}

#[derive(Debug, Default, Clone)]
/// What one scan read, skipped and met.
pub struct ScanReport {
    /// Records read and inspected.
    pub records: u64,
    /// Elements of `Records` that could not be read as a record, and were skipped.
    pub skipped: u64,
    /// Uncompressed bytes read.
    pub bytes: u64,
    /// Bytes read from the input as given (compressed or not).
    pub input_bytes: u64,
    /// Subtrees nested deeper than [`split::MAX_DEPTH`], unread: the rest of their records
    /// was inspected (those records are counted in `records`).
    pub deep_subtrees: u64,
    /// Records whose `tlsDetails.tlsVersion` could not be understood.
    pub tls_unparsed: u64,
    /// What the delivery held.
    pub contents: Contents,
    /// The first few skipped-record warnings, word for word.
    pub warnings: Vec<String>,
    /// Why the scan ended early, if it did.
    pub error: Option<ScanError>,
    /// Records of a Lambda trigger event (`eventSource` `aws:s3`, `aws:sqs` ...) found where
    /// CloudTrail records were expected: skipped (counted in `skipped` too).
    pub trigger_records: u64,
    /// The latest `eventTime` read (as written; empty when none).
    pub newest_event: String,
    /// Elements larger than the record limit, skipped unread (counted in `skipped` too).
    pub oversized: u64,
    /// Hex SHA-256 of the uncompressed bytes, when [`Limits::hash`] asked for it and the
    /// input was read to its end (what a CloudTrail digest file lists for the log file).
    pub sha256: Option<String>,
}

impl ScanReport {
    fn warn(&mut self, text: String) {
        self.skipped += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(text);
        }
    }
}

/// Batches in flight between the two threads (each about `produce::BATCH` bytes).
const BATCHES_IN_FLIGHT: usize = 4;

/// Scans one delivery (gzip, multi-member or not, or plain JSON) from `input`, passing every
/// finding to `sink`. Never fails as a whole: a fault ends the scan early and is in the report.
pub fn scan<R: Read + Send>(
    input: R,
    detectors: &mut [Box<dyn Detector>],
    sink: &mut dyn FnMut(&Finding<'_>),
) -> ScanReport {
    scan_with(input, Limits::default(), detectors, sink)
}

/// [`scan`] within `limits`: an element over the record limit is skipped unread, and the
/// scan stops when the input expands past its bounds.
pub fn scan_with<R: Read + Send>(
    input: R,
    limits: Limits,
    detectors: &mut [Box<dyn Detector>],
    sink: &mut dyn FnMut(&Finding<'_>),
) -> ScanReport {
    let mut report = ScanReport::default();
    let counted = Arc::new(AtomicU64::new(0));
    let mut found = Vec::new();
    let mut end = None;
    std::thread::scope(|s| {
        // Fewer slots than batches: the reading thread finds the slots taken (and parses a
        // batch itself) while it still has a batch to fill.
        let (full_tx, full_rx) = sync_channel::<Message>(BATCHES_IN_FLIGHT / 2);
        let (empty_tx, empty_rx) = sync_channel::<Batch>(BATCHES_IN_FLIGHT);
        for _ in 0..BATCHES_IN_FLIGHT {
            let _ = empty_tx.send(Batch::default());
        }
        let count = &counted;
        s.spawn(move || produce(input, limits, count, &full_tx, &empty_rx));
        for message in full_rx {
            let batch = match message {
                Message::Batch(batch) => ParsedBatch::parse(batch),
                Message::Parsed(batch) => batch,
                Message::End(e) => {
                    end = Some(e);
                    break;
                }
            };
            for element in batch.elements() {
                inspect(
                    element,
                    limits.max_record,
                    detectors,
                    &mut found,
                    sink,
                    &mut report,
                );
            }
            let _ = empty_tx.send(batch.into_batch());
        }
    });
    report.input_bytes = counted.load(Ordering::Relaxed);
    report.error = match end {
        Some(end) => finish(end, &mut report),
        None => Some(ScanError::Read("the reading thread stopped".into())),
    };
    for d in detectors.iter_mut() {
        d.finish(&mut found);
    }
    found.iter().for_each(&mut *sink);
    report
}

/// What the end of the input says about the delivery.
fn finish(end: End, report: &mut ScanReport) -> Option<ScanError> {
    report.bytes = end.bytes;
    report.sha256 = end.sha256.map(|h| crate::alert::id::hex(&h));
    let records = report.records;
    match end.fault {
        Some(Fault::Input(e)) => return Some(e),
        Some(Fault::Json(error)) => return Some(ScanError::Json { error, records }),
        None => {}
    }
    let shape = end.shape;
    if end.bytes == 0 {
        Some(ScanError::Empty)
    } else if !shape.complete {
        Some(ScanError::Truncated {
            offset: end.bytes,
            records,
        })
    } else if !shape.records_array && shape.log_files {
        report.contents = Contents::Digest;
        None
    } else if !shape.records_array {
        Some(ScanError::NoRecords)
    } else if records == 0 && report.trigger_records > 0 {
        Some(ScanError::TriggerEvent)
    } else {
        None
    }
}

fn inspect(
    element: &Parsed<'_>,
    max_record: u64,
    detectors: &mut [Box<dyn Detector>],
    found: &mut Vec<Finding<'static>>,
    sink: &mut dyn FnMut(&Finding<'_>),
    report: &mut ScanReport,
) {
    // Counted from 1, as a person counts.
    let index = report.records + report.skipped + 1;
    let record = match element {
        Parsed::Record(record) => record,
        Parsed::Unreadable(e) => return report.warn(format!("record {index}: {e}, skipped")),
        Parsed::NotObject => {
            return report.warn(format!("record {index}: not a JSON object, skipped"))
        }
        Parsed::Oversized(offset, bytes) => {
            report.oversized += 1;
            let (size, limit) = (limits::human(*bytes), limits::human(max_record));
            return report.warn(format!(
                "record {index}: {size} at byte {offset} of the JSON, over the record limit of {limit}: read past, not analysed"
            ));
        }
        Parsed::Cut(record, subtrees) => {
            report.deep_subtrees += u64::from(*subtrees);
            record
        }
    };
    // SNS records spell it `EventSource`: looked for only when `eventSource` is missing,
    // which no CloudTrail record is.
    let trigger = match record.event_source() {
        "" => record.json().get("EventSource").and_then(|v| v.as_str()),
        s => Some(s),
    };
    if trigger.is_some_and(|s| s.starts_with("aws:")) {
        // `aws:s3`, `aws:sqs`, `aws:sns`: a Lambda trigger event's record, not CloudTrail's
        // (CloudTrail's event sources are service hosts).
        report.trigger_records += 1;
        report.skipped += 1;
        return;
    }
    report.records += 1;
    let time = record.event_time();
    if time > report.newest_event.as_str() {
        time.clone_into(&mut report.newest_event);
    }
    if record
        .tls_version()
        .is_some_and(|v| TlsVersion::parse(v).is_none())
    {
        report.tls_unparsed += 1;
    }
    let mut out = recycle(std::mem::take(found));
    for d in detectors.iter_mut() {
        d.inspect(record, &mut out);
    }
    out.iter().for_each(&mut *sink);
    *found = recycle(out);
}

/// An empty vector of findings of another lifetime, on the same allocation: one vector serves
/// every record, although each record's findings borrow from that record.
fn recycle<'b>(mut v: Vec<Finding<'_>>) -> Vec<Finding<'b>> {
    v.clear();
    // In-place collection: same element layout, so the allocation is kept; no element left.
    v.into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

#[cfg(test)]
mod hash_tests {
    use super::*;
    use std::io::Write;

    fn scan_hashed(input: &[u8]) -> ScanReport {
        let limits = Limits {
            hash: true,
            ..Limits::default()
        };
        scan_with(input, limits, &mut [], &mut |_| {})
    }

    #[test]
    fn the_hash_is_of_the_uncompressed_bytes_read_to_the_end() {
        let text =
            br#"{"Records":[{"eventTime":"2026-11-28T10:00:00Z","eventName":"ListBuckets"}]}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let zipped = gz.finish().unwrap();
        let expected = crate::digest::hex_sha256(text);
        assert_eq!(scan_hashed(text).sha256.as_deref(), Some(expected.as_str()));
        assert_eq!(
            scan_hashed(&zipped).sha256.as_deref(),
            Some(expected.as_str())
        );
        // Not asked for: none.
        assert_eq!(scan(&zipped[..], &mut [], &mut |_| {}).sha256, None);
        // A damaged file hashes as far as it reads: not what CloudTrail wrote.
        let cut = scan_hashed(&zipped[..zipped.len() / 2]);
        assert!(cut.error.is_some());
        assert!(
            cut.sha256.as_ref().is_some_and(|h| *h != expected),
            "{cut:?}"
        );
        // A file cut by a limit has no hash.
        let limited = Limits {
            hash: true,
            max_uncompressed: 10,
            ..Limits::default()
        };
        let over = scan_with(&zipped[..], limited, &mut [], &mut |_| {});
        assert_eq!(over.sha256, None);
    }
}
