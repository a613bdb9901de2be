//! The streaming core: one `scan(reader, detectors, sink)` for every front end.
//!
//! A delivery is read on two threads: one reads and decompresses into a few reused chunks, the
//! caller's thread splits the chunks into records, parses each and runs the detectors. Memory
//! stays constant whatever the file size: a handful of chunks plus the current record.

use crate::detectors::tls_outdated::TlsVersion;
use crate::detectors::Detector;
use crate::finding::Finding;
use crate::record::Record;
use crate::split::{Element, SplitError, Splitter};
use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

const CHUNK: usize = 256 * 1024;
const CHUNKS_IN_FLIGHT: usize = 4;
/// Warnings kept word for word per delivery; the rest are only counted.
pub const MAX_WARNINGS: usize = 10;

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

/// What one delivery held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Contents {
    #[default]
    Records,
    /// A CloudTrail digest file (`logFiles`, no `Records`): skipped.
    Digest,
}

#[derive(Debug, Default, Clone)]
pub struct ScanReport {
    /// Records read and inspected.
    pub records: u64,
    /// Elements of `Records` that could not be read as a record, and were skipped.
    pub skipped: u64,
    /// Uncompressed bytes read.
    pub bytes: u64,
    /// Bytes read from the input as given (compressed or not).
    pub input_bytes: u64,
    /// Records whose `tlsDetails.tlsVersion` could not be understood.
    pub tls_unparsed: u64,
    pub contents: Contents,
    /// The first few skipped-record warnings, word for word.
    pub warnings: Vec<String>,
    pub error: Option<ScanError>,
}

impl ScanReport {
    fn warn(&mut self, text: String) {
        self.skipped += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(text);
        }
    }
}

enum Chunk {
    Data(Vec<u8>),
    Fail(ScanError),
}

/// Scans one delivery (gzip, multi-member or not, or plain JSON) from `input`, passing every
/// finding to `sink`. Never fails as a whole: a fault ends the scan early and is in the report.
pub fn scan<R: Read + Send>(
    input: R,
    detectors: &mut [Box<dyn Detector>],
    sink: &mut dyn FnMut(Finding),
) -> ScanReport {
    let mut report = ScanReport::default();
    let counted = Arc::new(AtomicU64::new(0));
    let mut splitter = Splitter::default();
    let mut found = Vec::new();
    std::thread::scope(|s| {
        let (full_tx, full_rx) = sync_channel::<Chunk>(CHUNKS_IN_FLIGHT);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
        for _ in 0..CHUNKS_IN_FLIGHT {
            let _ = empty_tx.send(Vec::with_capacity(CHUNK));
        }
        let count = Counting {
            inner: input,
            count: Arc::clone(&counted),
        };
        s.spawn(move || produce(count, &full_tx, &empty_rx));
        for chunk in full_rx {
            let buf = match chunk {
                Chunk::Data(buf) => buf,
                Chunk::Fail(e) => {
                    report.error = Some(e);
                    break;
                }
            };
            let fed = splitter.feed(&buf, &mut |element| {
                inspect(element, detectors, &mut found, sink, &mut report);
            });
            if let Err(error) = fed {
                report.error = Some(ScanError::Json {
                    error,
                    records: report.records,
                });
                break;
            }
            let _ = empty_tx.send(buf);
        }
        // Dropping the receivers here stops the producer if it is still reading.
    });
    report.bytes = splitter.offset();
    report.input_bytes = counted.load(Ordering::Relaxed);
    if report.error.is_none() {
        let shape = splitter.shape;
        report.error = if report.bytes == 0 {
            Some(ScanError::Empty)
        } else if !shape.complete {
            Some(ScanError::Truncated {
                offset: report.bytes,
                records: report.records,
            })
        } else if !shape.records_array && shape.log_files {
            report.contents = Contents::Digest;
            None
        } else if !shape.records_array {
            Some(ScanError::NoRecords)
        } else {
            None
        };
    }
    for d in detectors.iter_mut() {
        d.finish(&mut found);
    }
    found.drain(..).for_each(&mut *sink);
    report
}

fn inspect(
    element: Element<'_>,
    detectors: &mut [Box<dyn Detector>],
    found: &mut Vec<Finding>,
    sink: &mut dyn FnMut(Finding),
    report: &mut ScanReport,
) {
    let index = report.records + report.skipped;
    let bytes = match element {
        Element::Record(bytes) => bytes,
        Element::NotObject => {
            return report.warn(format!("record {index}: not a JSON object, skipped"))
        }
        Element::TooDeep => {
            let limit = crate::split::MAX_DEPTH;
            return report.warn(format!(
                "record {index}: nested deeper than {limit} levels, skipped"
            ));
        }
    };
    let record = match Record::parse(bytes) {
        Ok(r) => r,
        Err(e) => return report.warn(format!("record {index}: {e}, skipped")),
    };
    report.records += 1;
    if record
        .tls_version()
        .is_some_and(|v| TlsVersion::parse(v).is_none())
    {
        report.tls_unparsed += 1;
    }
    for d in detectors.iter_mut() {
        d.inspect(&record, found);
    }
    found.drain(..).for_each(&mut *sink);
}

/// The producer thread: reads, decompresses when the input starts with the gzip magic, and
/// hands out full chunks.
fn produce<R: Read>(input: Counting<R>, full: &SyncSender<Chunk>, empty: &Receiver<Vec<u8>>) {
    let count = Arc::clone(&input.count);
    let mut buffered = BufReader::with_capacity(CHUNK, input);
    let gzip = match buffered.fill_buf() {
        Ok(head) => head.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            let _ = full.send(Chunk::Fail(ScanError::Read(e.to_string())));
            return;
        }
    };
    let mut reader: Box<dyn Read> = if gzip {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    while let Ok(mut buf) = empty.recv() {
        buf.clear();
        let filled = fill(&mut reader, &mut buf);
        let last = !matches!(filled, Ok(true));
        if !buf.is_empty() && full.send(Chunk::Data(buf)).is_err() {
            return;
        }
        if let Err(e) = filled {
            let offset = count.load(Ordering::Relaxed);
            let fail = if gzip {
                ScanError::Decompress {
                    message: e.to_string(),
                    offset,
                }
            } else {
                ScanError::Read(e.to_string())
            };
            let _ = full.send(Chunk::Fail(fail));
        }
        if last {
            return;
        }
    }
}

/// Reads until `buf` holds a chunk; `Ok(false)` at the end of input.
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>) -> io::Result<bool> {
    buf.resize(CHUNK, 0);
    let mut len = 0;
    let result = loop {
        if len == CHUNK {
            break Ok(true);
        }
        match reader.read(&mut buf[len..]) {
            Ok(0) => break Ok(false),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    buf.truncate(len);
    result
}

struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
