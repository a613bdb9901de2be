//! Replay's store: every group in memory, capped, saved to a file between runs if asked.

use super::store::{Bucket, GroupKey, GroupState, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

/// Replay's store: everything in memory, saved to a file between runs if asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryStore {
    groups: Vec<(GroupKey, GroupState)>,
    #[serde(skip)]
    index: BTreeMap<GroupKey, GroupState>,
    watermark: i64,
    #[serde(skip)]
    cap: usize,
    #[serde(skip)]
    evicted: u64,
}

impl MemoryStore {
    /// An empty store keeping at most `cap` groups.
    pub fn new(cap: usize) -> MemoryStore {
        MemoryStore {
            groups: Vec::new(),
            index: BTreeMap::new(),
            watermark: i64::MIN,
            cap: cap.max(1),
            evicted: 0,
        }
    }

    /// The store saved as `saved` (from [`MemoryStore::save`]); `file` names it in errors.
    pub fn load(
        saved: serde_json::Value,
        file: &str,
        cap: usize,
    ) -> Result<MemoryStore, StoreError> {
        let mut s: MemoryStore =
            serde_json::from_value(saved).map_err(|e| StoreError::Corrupt {
                file: file.to_owned(),
                message: e.to_string(),
            })?;
        s.index = std::mem::take(&mut s.groups).into_iter().collect();
        s.cap = cap.max(1);
        Ok(s)
    }

    /// The store as JSON, for [`MemoryStore::load`]: its groups and watermark.
    pub fn save(&self) -> serde_json::Value {
        /// The saved fields of [`MemoryStore`], borrowed.
        #[derive(Serialize)]
        struct Saved<'a> {
            groups: Vec<(&'a GroupKey, &'a GroupState)>,
            watermark: i64,
        }
        let saved = Saved {
            groups: self.index.iter().collect(),
            watermark: self.watermark,
        };
        serde_json::to_value(saved).unwrap_or_default()
    }

    /// Evicts the groups least recently active (by their newest bucket) to make room.
    fn make_room(&mut self) {
        if self.index.len() < self.cap {
            return;
        }
        let mut by_age: Vec<(i64, GroupKey)> = self
            .index
            .iter()
            .map(|(k, g)| {
                (
                    g.buckets.keys().next_back().copied().unwrap_or(i64::MIN),
                    k.clone(),
                )
            })
            .collect();
        by_age.sort();
        let n = (self.cap / 100).max(1).min(by_age.len());
        for (_, k) in by_age.into_iter().take(n) {
            self.index.remove(&k);
        }
        self.evicted += n as u64;
    }
}

impl Store for MemoryStore {
    fn add(
        &mut self,
        key: &GroupKey,
        bucket: i64,
        _delivery: &str,
        observed: Bucket,
    ) -> Result<u64, StoreError> {
        if !self.index.contains_key(key) {
            self.make_room();
        }
        let g = self.index.entry(key.clone()).or_insert_with(|| GroupState {
            decided: i64::MIN,
            ..GroupState::default()
        });
        Ok(match g.buckets.entry(bucket) {
            Entry::Occupied(mut b) => b.get_mut().merge(&observed),
            Entry::Vacant(v) => v.insert(observed).count,
        })
    }

    fn group(&mut self, key: &GroupKey) -> Result<Option<GroupState>, StoreError> {
        Ok(self.index.get(key).cloned())
    }

    fn decided(&mut self, key: &GroupKey) -> Result<Option<i64>, StoreError> {
        Ok(self.index.get(key).map(|g| g.decided))
    }

    fn groups(&mut self) -> Result<Vec<GroupKey>, StoreError> {
        Ok(self.index.keys().cloned().collect())
    }

    fn decide(&mut self, key: &GroupKey, until: i64) -> Result<(), StoreError> {
        if let Some(g) = self.index.get_mut(key) {
            g.decided = g.decided.max(until);
            g.buckets = g.buckets.split_off(&until);
        }
        Ok(())
    }

    fn forget(&mut self, key: &GroupKey) -> Result<(), StoreError> {
        self.index.remove(key);
        Ok(())
    }

    fn watermark(&mut self) -> Result<i64, StoreError> {
        Ok(self.watermark)
    }

    fn set_watermark(&mut self, at: i64) -> Result<(), StoreError> {
        self.watermark = self.watermark.max(at);
        Ok(())
    }

    fn evicted(&self) -> u64 {
        self.evicted
    }
}
