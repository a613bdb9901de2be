//! The unit the two scan threads hand each other: records cut from the input, in one buffer.

use std::ops::Range;

/// One element of `Records`, located in its batch.
pub enum Item {
    /// A record's text, and where its strings end in the batch's tape.
    Record(Range<usize>, Range<usize>),
    NotObject,
    /// An element over the size limit, skipped unread: where it starts and its size.
    Oversized(u64, u64),
    /// A record nested too deep, as a copy with its deep subtrees cut, and how many were cut.
    Cut(Range<usize>, u32),
}

/// Records cut from the input, in order, sharing one buffer.
#[derive(Default)]
pub struct Batch {
    pub data: Vec<u8>,
    /// The records' tapes (see [`crate::scan::split::Tape`]).
    pub tape: Vec<u32>,
    pub items: Vec<Item>,
}
