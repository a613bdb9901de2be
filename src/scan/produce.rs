//! The producer side of a scan: reads the input, decompresses it when it starts with the gzip
//! magic, cuts the text into records, and hands them out in batches.
//!
//! Splitting here, beside decompression, leaves the other thread parsing and detection; when
//! that thread falls behind, this one parses batches too ([`hand_over`]).

use super::batch::{Batch, Item};
use super::error::{Fault, ScanError};
use super::limits::{Limits, RATIO_AFTER};
use super::parsed::ParsedBatch;
use super::split::{Element, Shape, Splitter};
use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;

const CHUNK: usize = 256 * 1024;
/// A batch is handed over once it holds this many bytes of records...
pub const BATCH: usize = 256 * 1024;
/// ...or this many elements: each becomes a parsed record of about a kilobyte, so a delivery
/// of tiny elements (`[{},{},...]`, `[1,1,...]`) must not make huge batches.
pub const BATCH_ITEMS: usize = 2048;

/// How the input ended.
pub struct End {
    pub shape: Shape,
    /// Uncompressed bytes read.
    pub bytes: u64,
    pub fault: Option<Fault>,
    /// SHA-256 of every uncompressed byte, when asked for and the input was read to its end.
    pub sha256: Option<[u8; 32]>,
}

pub enum Message {
    Batch(Batch),
    /// A batch this thread parsed itself, while the consumer was behind.
    Parsed(ParsedBatch),
    End(End),
}

/// Hands a full batch on. When the consumer is behind (every slot taken), this thread parses
/// the batch before waiting for a slot: the parsing is the consumer's heaviest work, and the
/// time would otherwise be spent waiting. Two threads thus share the work on two cores
/// whatever the mix of decompression and detection. `None`: the consumer went away.
fn hand_over(full: &impl Slots, batch: Batch) -> Option<()> {
    match full.try_give(Message::Batch(batch)) {
        Ok(()) => Some(()),
        Err(TrySendError::Full(Message::Batch(batch))) => {
            full.give(Message::Parsed(ParsedBatch::parse(batch)))
        }
        Err(_) => None,
    }
}

/// Where full batches go: the channel to the detection thread.
trait Slots {
    /// Hands a message on if a slot is free.
    fn try_give(&self, message: Message) -> Result<(), TrySendError<Message>>;
    /// Hands a message on, waiting for a slot; `None`: the consumer went away.
    fn give(&self, message: Message) -> Option<()>;
}

impl Slots for SyncSender<Message> {
    fn try_give(&self, message: Message) -> Result<(), TrySendError<Message>> {
        self.try_send(message)
    }

    fn give(&self, message: Message) -> Option<()> {
        self.send(message).ok()
    }
}

/// Runs on the producer thread until the input ends, a fault, or the consumer goes away.
pub fn produce<R: Read>(
    input: R,
    limits: Limits,
    count: &Arc<AtomicU64>,
    full: &SyncSender<Message>,
    empty: &Receiver<Batch>,
) {
    let counting = Counting {
        inner: input,
        count: Arc::clone(count),
    };
    let mut buffered = BufReader::with_capacity(CHUNK, counting);
    let mut splitter = Splitter::new(limits.max_record);
    let mut sha256 = None;
    let (gzip, fault) = match buffered.fill_buf() {
        Ok(head) => (head.starts_with(&[0x1f, 0x8b]), None),
        Err(e) => (false, Some(Fault::Input(ScanError::Read(e.to_string())))),
    };
    let fault = fault.or_else(|| {
        let mut reader: Box<dyn Read> = if gzip {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let input = Input {
            gzip,
            limits,
            count,
        };
        let mut hash = limits
            .hash
            .then(|| aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256));
        let fault = pump(&mut *reader, &input, &mut splitter, full, empty, &mut hash);
        // Damaged content (bad gzip, bad JSON) is hashed as far as it reads: it is not what
        // CloudTrail wrote, and the hash says so. Input cut by a limit, or a reader that
        // failed, has no hash (what was not read is not known).
        let whole = match &fault {
            None | Some(Fault::Json(_)) => true,
            Some(Fault::Input(e)) => matches!(e, ScanError::Decompress { .. }),
        };
        sha256 = hash.filter(|_| whole).and_then(|h| {
            let d = h.finish();
            d.as_ref().try_into().ok()
        });
        fault
    });
    let end = End {
        shape: splitter.shape,
        bytes: splitter.offset(),
        fault,
        sha256,
    };
    let _ = full.send(Message::End(end));
}

/// What `pump` knows of the input.
struct Input<'a> {
    gzip: bool,
    limits: Limits,
    /// Bytes read as stored (compressed or not).
    count: &'a AtomicU64,
}

impl Input<'_> {
    /// The fault of an input that expands implausibly, once `out` bytes are out.
    fn beyond_bounds(&self, out: u64) -> Option<ScanError> {
        let stored = self.count.load(Ordering::Relaxed).max(1);
        let ratio = out / stored;
        (self.gzip && out > RATIO_AFTER && ratio > self.limits.max_ratio).then_some(
            ScanError::Implausible {
                uncompressed: out,
                compressed: stored,
            },
        )
    }
}

/// Reads, splits and sends batches; returns the fault that ended the input, if any.
fn pump(
    reader: &mut dyn Read,
    input: &Input<'_>,
    splitter: &mut Splitter,
    full: &SyncSender<Message>,
    empty: &Receiver<Batch>,
    hash: &mut Option<aws_lc_rs::digest::Context>,
) -> Option<Fault> {
    let mut chunk = vec![0u8; CHUNK];
    let mut batch = empty.recv().ok()?;
    // Set when the consumer went away: the rest is not worth splitting.
    let mut gone = false;
    loop {
        let (len, status) = fill(reader, &mut chunk);
        // Not a byte past the uncompressed limit is split.
        let room = input
            .limits
            .max_uncompressed
            .saturating_sub(splitter.offset());
        let over = len as u64 > room;
        let len = if over { room as usize } else { len };
        if let Some(h) = hash.as_mut() {
            h.update(&chunk[..len]);
        }
        let fed = splitter.feed(&chunk[..len], &mut |element| {
            if gone {
                return;
            }
            let item = match element {
                Element::Record(text, tape) => {
                    let start = batch.data.len();
                    batch.data.extend_from_slice(text);
                    let marks = batch.tape.len();
                    batch.tape.extend_from_slice(tape.0);
                    Item::Record(start..batch.data.len(), marks..batch.tape.len())
                }
                Element::NotObject => Item::NotObject,
                Element::Oversized { offset, bytes } => Item::Oversized(offset, bytes),
                Element::Cut { text, subtrees } => {
                    let start = batch.data.len();
                    batch.data.extend_from_slice(text);
                    Item::Cut(start..batch.data.len(), subtrees)
                }
            };
            batch.items.push(item);
            if batch.data.len() >= BATCH || batch.items.len() >= BATCH_ITEMS {
                match hand_over(full, std::mem::take(&mut batch)).and_then(|()| empty.recv().ok()) {
                    Some(next) => {
                        batch = next;
                        batch.data.clear();
                        batch.tape.clear();
                        batch.items.clear();
                    }
                    None => gone = true,
                }
            }
        });
        if gone {
            return None;
        }
        let ended = match (fed, status) {
            (Err(e), _) => Some(Some(Fault::Json(e))),
            (Ok(()), _) if over => Some(Some(Fault::Input(ScanError::TooLarge {
                limit: input.limits.max_uncompressed,
            }))),
            (Ok(()), _) if input.beyond_bounds(splitter.offset()).is_some() => {
                let e = input.beyond_bounds(splitter.offset());
                Some(e.map(Fault::Input))
            }
            (Ok(()), Err(e)) => {
                let offset = input.count.load(Ordering::Relaxed);
                let message = e.to_string();
                Some(Some(Fault::Input(if input.gzip {
                    ScanError::Decompress { message, offset }
                } else {
                    ScanError::Read(message)
                })))
            }
            (Ok(()), Ok(false)) => Some(None),
            (Ok(()), Ok(true)) => None,
        };
        if let Some(fault) = ended {
            let _ = hand_over(full, batch);
            return fault;
        }
    }
}

/// Reads until `buf` is full. Returns how much was read, and whether more input may follow or
/// the fault that stopped it (the bytes read before a fault are still there to split).
fn fill(reader: &mut dyn Read, buf: &mut [u8]) -> (usize, io::Result<bool>) {
    let mut len = 0;
    while len < buf.len() {
        match reader.read(&mut buf[len..]) {
            Ok(0) => return (len, Ok(false)),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (len, Err(e)),
        }
    }
    (len, Ok(true))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::parsed::Parsed;
    use std::sync::mpsc::sync_channel;

    #[test]
    fn a_batch_finding_every_slot_taken_is_parsed_here() {
        /// Slots that are all taken (or gone), keeping what is handed over while waiting.
        struct Taken {
            gone: bool,
            given: std::cell::RefCell<Vec<Message>>,
        }
        impl Slots for Taken {
            fn try_give(&self, message: Message) -> Result<(), TrySendError<Message>> {
                Err(if self.gone {
                    TrySendError::Disconnected(message)
                } else {
                    TrySendError::Full(message)
                })
            }
            fn give(&self, message: Message) -> Option<()> {
                self.given.borrow_mut().push(message);
                Some(())
            }
        }
        let text = br#"{"eventName":"A"}"#;
        let batch = || Batch {
            data: text.to_vec(),
            items: vec![Item::Record(0..text.len(), 0..0)],
            tape: Vec::new(),
        };
        let taken = Taken {
            gone: false,
            given: Default::default(),
        };
        assert!(hand_over(&taken, batch()).is_some());
        match taken.given.borrow().as_slice() {
            [Message::Parsed(p)] => {
                let first = &p.elements()[0];
                assert!(matches!(first, Parsed::Record(r) if r.event_name() == "A"));
            }
            _ => panic!("the batch should be handed over parsed"),
        }
        let gone = Taken {
            gone: true,
            given: Default::default(),
        };
        assert!(
            hand_over(&gone, batch()).is_none(),
            "the consumer went away"
        );
        let (tx, rx) = sync_channel(1);
        assert!(hand_over(&tx, batch()).is_some());
        assert!(
            matches!(rx.recv().unwrap(), Message::Batch(_)),
            "a free slot takes the batch as it is"
        );
    }

    #[test]
    fn tiny_elements_make_many_small_batches() {
        let n = 3 * BATCH_ITEMS + 5;
        let text = format!("{{\"Records\":[{}]}}", vec!["{}"; n].join(","));
        let (full_tx, full_rx) = sync_channel(2);
        let (empty_tx, empty_rx) = sync_channel(4);
        for _ in 0..4 {
            empty_tx.send(Batch::default()).unwrap();
        }
        let count = Arc::new(AtomicU64::new(0));
        let mut sizes = Vec::new();
        std::thread::scope(|s| {
            let (count, text) = (&count, &text);
            s.spawn(move || {
                produce(
                    text.as_bytes(),
                    Limits::default(),
                    count,
                    &full_tx,
                    &empty_rx,
                )
            });
            for message in &full_rx {
                let batch = match message {
                    Message::Batch(batch) => batch,
                    Message::Parsed(parsed) => parsed.into_batch(),
                    Message::End(_) => break,
                };
                sizes.push(batch.items.len());
                // The reading thread may be done, its receiver gone, as in `scan`.
                let _ = empty_tx.send(batch);
            }
        });
        assert!(sizes.iter().all(|&s| s <= BATCH_ITEMS), "{sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), n);
    }
}
