//! The unit the two scan threads hand each other: records cut from the input, in one buffer.

use crate::record::text_facts::TextFacts;
use std::ops::Range;

/// One element of `Records`, located in its batch.
pub enum Item {
    /// A record's text, and the facts found in it here on the reading thread.
    Record(Range<usize>, TextFacts),
    NotObject,
    /// An element over the size limit, skipped unread: where it starts and its size.
    Oversized(u64, u64),
    /// A record nested too deep, as a copy with its deep subtrees cut, and how many were cut.
    Cut(Range<usize>, TextFacts, u32),
}

/// Records cut from the input, in order, sharing one buffer.
#[derive(Default)]
pub struct Batch {
    pub data: Vec<u8>,
    pub items: Vec<Item>,
}
