//! The state table behind a small trait: rows with a partition key, a sort key, a version,
//! a JSON body and an expiry. Every write is conditioned on the version read, so two
//! invocations never overwrite each other's counts.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// One item of the state table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Partition key (`pk`).
    pub pk: String,
    /// Sort key (`sk`).
    pub sk: String,
    /// Version: 1 when first written, one more at every write.
    pub ver: u64,
    /// What the row holds, as JSON.
    pub body: String,
    /// When the table's TTL may delete the row (seconds since the epoch).
    pub expires: i64,
}

/// The table did not answer (after the client's retries): the invocation fails and is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state table {table}: {message}")]
pub struct TableError {
    /// The table's name.
    pub table: String,
    /// What went wrong.
    pub message: String,
}

/// The state table.
pub trait Table: Send + Sync {
    /// The rows of partition `pk` (only the one with sort key `sk`, if given), read
    /// consistently.
    fn query(
        &self,
        pk: &str,
        sk: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Row>, TableError>> + Send;
    /// Writes `row` if the stored row's version is `row.ver - 1` (no stored row when `row.ver`
    /// is 1); `Ok(false)` when another writer was first.
    fn put(&self, row: &Row) -> impl Future<Output = Result<bool, TableError>> + Send;
    /// Writes every row of `puts` (each conditioned on its version, as [`Table::put`]) and
    /// deletes the rows `deletes`, all or none ([`MAX_WRITE`] items at most, each row once);
    /// `Ok(false)` when a version did not match.
    fn write(
        &self,
        puts: &[Row],
        deletes: &[(String, String)],
    ) -> impl Future<Output = Result<bool, TableError>> + Send;
    /// Deletes these (pk, sk) rows.
    fn delete(
        &self,
        keys: &[(String, String)],
    ) -> impl Future<Output = Result<(), TableError>> + Send;
    /// Adds `values` to the string set `set` of the item (pk, sk), made if missing, and sets
    /// its expiry: one `UpdateItem`, no read before, no condition (adding is idempotent).
    /// Returns the item's string sets as they were before.
    fn add(
        &self,
        key: (&str, &str),
        set: &str,
        values: &[String],
        expires: i64,
    ) -> impl Future<Output = Result<Sets, TableError>> + Send;
    /// The string sets of the item (pk, sk), by name (none when it does not exist).
    fn sets(&self, key: (&str, &str)) -> impl Future<Output = Result<Sets, TableError>> + Send;
    /// Calls made to the table so far.
    fn calls(&self) -> u64;
    /// The table's name, for errors.
    fn name(&self) -> &str;
}

/// The string sets of one item, by attribute name.
pub type Sets = BTreeMap<String, BTreeSet<String>>;

/// Items one [`Table::write`] takes at most (DynamoDB's `TransactWriteItems`).
pub const MAX_WRITE: usize = 100;

/// Rows by (pk, sk).
type Rows = BTreeMap<(String, String), Row>;

/// A table in memory: the tests' stand-in for DynamoDB, with the same conditions.
#[derive(Debug, Default)]
pub struct MemoryTable {
    rows: Mutex<Rows>,
    /// The string sets of [`Table::add`], by (pk, sk).
    sets: Mutex<BTreeMap<(String, String), Sets>>,
    calls: AtomicU64,
    /// When set, every call fails with this message (a table that is down).
    pub down: Mutex<Option<String>>,
    /// Writes (`put` and `write`, counted from 1) refused as if another writer was first.
    pub refuse: Mutex<Vec<u64>>,
    /// Writes that fail at random: (seed, per mille); half refused as if another writer was
    /// first, half failing as a table that does not answer.
    pub flaky: Mutex<Option<(u64, u32)>>,
    writes: AtomicU64,
}

/// What the test makes of one write.
enum Fate {
    Go,
    Refuse,
    Fail,
}

impl MemoryTable {
    fn call(&self) -> Result<std::sync::MutexGuard<'_, Rows>, TableError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Some(message) = self.down.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Err(TableError {
                table: "memory".into(),
                message,
            });
        }
        Ok(self.rows.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// What the test makes of this write.
    fn fate(&self) -> Fate {
        let n = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        if self
            .refuse
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&n)
        {
            return Fate::Refuse;
        }
        let mut flaky = self.flaky.lock().unwrap_or_else(|p| p.into_inner());
        let Some((seed, per_mille)) = flaky.as_mut() else {
            return Fate::Go;
        };
        // xorshift64: enough for a test's faults.
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        match (*seed % 1000) as u32 {
            r if r < *per_mille / 2 => Fate::Refuse,
            r if r < *per_mille => Fate::Fail,
            _ => Fate::Go,
        }
    }

    /// [`MemoryTable::fate`] as a result: `Ok(true)` to go on.
    fn allowed(&self) -> Result<bool, TableError> {
        match self.fate() {
            Fate::Go => Ok(true),
            Fate::Refuse => Ok(false),
            Fate::Fail => Err(TableError {
                table: "memory".into(),
                message: "injected fault".into(),
            }),
        }
    }

    /// Writes (`put` and `write`) made so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Every row, in key order.
    pub fn rows(&self) -> Vec<Row> {
        let rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
        rows.values().cloned().collect()
    }
}

impl Table for MemoryTable {
    async fn query(&self, pk: &str, sk: Option<&str>) -> Result<Vec<Row>, TableError> {
        let rows = self.call()?;
        Ok(rows
            .values()
            .filter(|r| r.pk == pk && sk.is_none_or(|s| r.sk == s))
            .cloned()
            .collect())
    }

    async fn put(&self, row: &Row) -> Result<bool, TableError> {
        let mut rows = self.call()?;
        if !self.allowed()? {
            return Ok(false);
        }
        let key = (row.pk.clone(), row.sk.clone());
        let stored = rows.get(&key).map_or(0, |r| r.ver);
        if stored + 1 != row.ver {
            return Ok(false);
        }
        rows.insert(key, row.clone());
        Ok(true)
    }

    async fn write(&self, puts: &[Row], deletes: &[(String, String)]) -> Result<bool, TableError> {
        let mut rows = self.call()?;
        if puts.len() + deletes.len() > MAX_WRITE {
            return Err(TableError {
                table: "memory".into(),
                message: format!("{} items in one write", puts.len() + deletes.len()),
            });
        }
        if !self.allowed()? {
            return Ok(false);
        }
        let stored = |r: &Row| rows.get(&(r.pk.clone(), r.sk.clone())).map_or(0, |s| s.ver);
        if puts.iter().any(|r| stored(r) + 1 != r.ver) {
            return Ok(false);
        }
        for r in puts {
            rows.insert((r.pk.clone(), r.sk.clone()), r.clone());
        }
        for k in deletes {
            rows.remove(k);
        }
        Ok(true)
    }

    async fn delete(&self, keys: &[(String, String)]) -> Result<(), TableError> {
        let mut rows = self.call()?;
        for k in keys {
            rows.remove(k);
        }
        Ok(())
    }

    async fn add(
        &self,
        (pk, sk): (&str, &str),
        set: &str,
        values: &[String],
        _expires: i64,
    ) -> Result<Sets, TableError> {
        drop(self.call()?);
        if !self.allowed()? {
            // A refused write is one that failed here: `add` has no condition.
            return Err(TableError {
                table: "memory".into(),
                message: "injected fault".into(),
            });
        }
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        let item = sets.entry((pk.to_owned(), sk.to_owned())).or_default();
        let before = item.clone();
        item.entry(set.to_owned())
            .or_default()
            .extend(values.iter().cloned());
        Ok(before)
    }

    async fn sets(&self, (pk, sk): (&str, &str)) -> Result<Sets, TableError> {
        drop(self.call()?);
        let sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        Ok(sets
            .get(&(pk.to_owned(), sk.to_owned()))
            .cloned()
            .unwrap_or_default())
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn name(&self) -> &str {
        "memory"
    }
}
