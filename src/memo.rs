//! A bounded memo: values already worked out, by a key of bytes that the caller writes.
//!
//! A delivery repeats a few dozen combinations of the fields a detector looks at (the same
//! endpoints, the same event names), so remembering what each one gave saves the work. The
//! memo starts over when full, so memory stays bounded whatever the delivery holds.

use std::collections::HashMap;

pub struct Memo<V> {
    known: HashMap<Vec<u8>, V, foldhash::fast::RandomState>,
    /// The key of the current lookup.
    key: Vec<u8>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            known: HashMap::default(),
            key: Vec::new(),
        }
    }
}

impl<V> std::fmt::Debug for Memo<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("entries", &self.known.len())
            .finish()
    }
}

impl<V> Memo<V> {
    /// Entries kept at most.
    pub const MAX: usize = 4096;

    /// The key of the next lookup, emptied for the caller to write. Parts of a key must be
    /// written so that no two different keys read alike (a length or a tag before each).
    pub fn key(&mut self) -> &mut Vec<u8> {
        self.key.clear();
        &mut self.key
    }

    /// The value remembered for the key written last.
    pub fn get(&self) -> Option<&V> {
        self.known.get(self.key.as_slice())
    }

    /// Remembers `value` for the key written last.
    pub fn insert(&mut self, value: V) -> &V {
        if self.known.len() >= Self::MAX {
            self.known.clear();
        }
        self.known.entry(self.key.clone()).or_insert(value)
    }

    /// The value for the key written last, made by `make` the first time.
    pub fn get_or_insert_with(&mut self, make: impl FnOnce() -> V) -> &V {
        if self.get().is_none() {
            return self.insert(make());
        }
        &self.known[self.key.as_slice()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_by_key_and_starts_over_when_full() {
        let mut memo = Memo::default();
        let mut made = 0;
        for round in 0..2 {
            for k in 0..3u8 {
                memo.key().push(k);
                let v = *memo.get_or_insert_with(|| {
                    made += 1;
                    u32::from(k) * 10
                });
                assert_eq!(v, u32::from(k) * 10, "round {round}");
            }
        }
        assert_eq!(made, 3, "each key made once");
        for k in 0..Memo::<u32>::MAX as u32 {
            memo.key().extend_from_slice(&k.to_le_bytes());
            memo.insert(k);
        }
        assert!(memo.known.len() <= Memo::<u32>::MAX);
        memo.key().push(0);
        assert_eq!(memo.get(), None, "the memo started over");
    }
}
