//! A batch of records, parsed on whichever of the two scan threads has time.
//!
//! Reading a delivery has three steps: cutting the decompressed text into records, parsing
//! each record, and running the detectors. Parsing costs about as much as the two others
//! together, so either thread may do it (see `produce::hand_over`). A parsed record borrows its
//! text from the batch's buffer; the [`Yoke`] keeps the buffer and the records that borrow
//! from it together, so they travel between threads without a copy, and the buffer comes back
//! for reuse once its records are gone.

use super::batch::{Batch, Item};
use super::split::Tape;
use crate::record::{Record, RecordError};
use yoke::{Yoke, Yokeable};

/// One element of the `Records` array, parsed. Nearly every element is a record, so the
/// record is held in place: a box would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
pub enum Parsed<'a> {
    Record(Record<'a>),
    /// JSON that is not a readable record.
    Unreadable(RecordError),
    NotObject,
    /// An element over the size limit, skipped unread: where it starts and its size.
    Oversized(u64, u64),
    /// A record read from a copy whose subtrees nested too deep were cut (this many).
    Cut(Record<'a>, u32),
}

/// The parsed elements of one batch, in order.
#[derive(Yokeable)]
pub struct Elements<'a>(pub Vec<Parsed<'a>>);

/// A batch with its elements parsed; the elements borrow the batch's buffer.
pub struct ParsedBatch {
    elements: Yoke<Elements<'static>, Vec<u8>>,
    tape: Vec<u32>,
    items: Vec<Item>,
}

impl ParsedBatch {
    /// Parses every element of `batch`.
    pub fn parse(batch: Batch) -> ParsedBatch {
        let Batch { data, tape, items } = batch;
        let elements = Yoke::attach_to_cart(data, |data: &[u8]| {
            let parse = |item: &Item| match item {
                Item::Record(range, marks) => {
                    match Record::parse_with_tape(&data[range.clone()], Tape(&tape[marks.clone()]))
                    {
                        Ok(record) => Parsed::Record(record),
                        Err(e) => Parsed::Unreadable(e),
                    }
                }
                Item::NotObject => Parsed::NotObject,
                Item::Oversized(offset, bytes) => Parsed::Oversized(*offset, *bytes),
                Item::Cut(range, subtrees) => match Record::parse(&data[range.clone()]) {
                    Ok(record) => Parsed::Cut(record, *subtrees),
                    Err(e) => Parsed::Unreadable(e),
                },
            };
            Elements(items.iter().map(parse).collect())
        });
        ParsedBatch {
            elements,
            tape,
            items,
        }
    }

    pub fn elements(&self) -> &[Parsed<'_>] {
        &self.elements.get().0
    }

    /// The batch, for reuse: its records are dropped first.
    pub fn into_batch(self) -> Batch {
        Batch {
            data: self.elements.into_backing_cart(),
            tape: self.tape,
            items: self.items,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_in_order_and_gives_the_buffer_back() {
        let text = br#"{"eventName":"A"}{"eventName":"#;
        let batch = Batch {
            data: text.to_vec(),
            tape: Vec::new(),
            items: vec![
                Item::Record(0..17, 0..0),
                Item::NotObject,
                Item::Record(17..text.len(), 0..0),
                Item::Cut(0..17, 2),
                Item::Oversized(40, 9_000_000),
            ],
        };
        let parsed = ParsedBatch::parse(batch);
        let kinds: Vec<&str> = parsed
            .elements()
            .iter()
            .map(|p| match p {
                Parsed::Record(r) => r.event_name(),
                Parsed::Unreadable(_) => "unreadable",
                Parsed::NotObject => "not an object",
                Parsed::Cut(r, 2) => r.event_name(),
                Parsed::Cut(..) => "wrong count",
                Parsed::Oversized(40, 9_000_000) => "oversized",
                Parsed::Oversized(..) => "wrong place",
            })
            .collect();
        assert_eq!(
            kinds,
            ["A", "not an object", "unreadable", "A", "oversized"]
        );
        let batch = parsed.into_batch();
        assert_eq!(batch.data, text);
        assert_eq!(batch.items.len(), 5);
    }
}
