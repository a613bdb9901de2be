//! The log files of each place and hour: what was analysed (key, SHA-256, the alerts published
//! from it) and what a digest listed. One item per place and hour (`files#s3://bucket/prefix/
//! AWSLogs/[o-ORG/]ACCOUNT/REGION`, `YYYYMMDDTHH` of the file's name), written with one
//! `UpdateItem` adding to a string set, never read before it is written: no hot row, no
//! condition to fail. Kept four days (a digest comes within the hour after its period).

use super::table::{Table, TableError};
use crate::alert::related::Related;
use std::collections::{BTreeMap, BTreeSet};

const FILES: &str = "files";
/// How long the rows are kept after their hour.
pub const KEEP: i64 = 4 * 86_400;
/// The string set of the files analysed.
const ANALYSED: &str = "analysed";
/// The string set of the files a digest listed.
const LISTED: &str = "listed";
/// Alert ids kept per file (for the follow-up alert of a file proven forged or changed).
pub const MAX_IDS: usize = 20;

/// One file analysed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Analysed {
    /// Its SHA-256 (hex) as read.
    pub sha256: String,
    /// The alerts published from it.
    pub alerts: Vec<Related>,
}

/// What one place and hour holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hour {
    /// The files analysed, by key.
    pub analysed: BTreeMap<String, Analysed>,
    /// The keys a digest listed.
    pub listed: BTreeSet<String>,
}

/// The hour (`YYYYMMDDTHH`) of `secs`.
pub fn hour_of(secs: i64) -> String {
    let t = crate::correlate::time::format_time(secs.div_euclid(3600) * 3600);
    format!("{}{}{}T{}", &t[..4], &t[5..7], &t[8..10], &t[11..13])
}

fn pk(location: &str) -> String {
    format!("{FILES}#{location}")
}

fn expiry(hour: i64) -> i64 {
    hour.div_euclid(3600) * 3600 + KEEP
}

/// Notes that `key` (of the hour of `at`) was analysed, with its hash and alerts.
pub async fn analysed<T: Table>(
    table: &T,
    location: &str,
    at: i64,
    (key, sha256): (&str, &str),
    alerts: &[Related],
) -> Result<(), TableError> {
    let ids: Vec<String> = alerts
        .iter()
        .take(MAX_IDS)
        .map(|r| format!("{}:{}", r.detector, r.id))
        .collect();
    let entry = format!("{key}\t{sha256}\t{}", ids.join(","));
    let (pk, sk) = (pk(location), hour_of(at));
    table.add((&pk, &sk), ANALYSED, &[entry], expiry(at)).await
}

/// Notes that a digest listed `keys` (of the hour of `at`).
pub async fn listed<T: Table>(
    table: &T,
    location: &str,
    at: i64,
    keys: &[String],
) -> Result<(), TableError> {
    let (pk, sk) = (pk(location), hour_of(at));
    table.add((&pk, &sk), LISTED, keys, expiry(at)).await
}

/// What the hour of `at` holds for `location`.
pub async fn hour<T: Table>(table: &T, location: &str, at: i64) -> Result<Hour, TableError> {
    let (pk, sk) = (pk(location), hour_of(at));
    let mut sets = table.sets((&pk, &sk)).await?;
    let mut out = Hour {
        listed: sets.remove(LISTED).unwrap_or_default(),
        ..Hour::default()
    };
    for entry in sets.remove(ANALYSED).unwrap_or_default() {
        let mut parts = entry.splitn(3, '\t');
        let (Some(key), Some(sha256)) = (parts.next(), parts.next()) else {
            continue;
        };
        let alerts = parts
            .next()
            .unwrap_or("")
            .split(',')
            .filter_map(|p| p.split_once(':'))
            .map(|(detector, id)| Related {
                detector: detector.into(),
                id: id.into(),
            });
        // The same file analysed twice: its hashes differ only if it was rewritten between.
        let a = out.analysed.entry(key.to_owned()).or_default();
        if a.sha256.is_empty() {
            sha256.clone_into(&mut a.sha256);
        }
        a.alerts.extend(alerts);
        a.alerts.dedup();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lambda::state::MemoryTable;

    #[test]
    fn hours_are_named_by_the_utc_hour() {
        assert_eq!(hour_of(1_795_863_931), "20261128T11");
        assert_eq!(hour_of(1_795_860_000), "20261128T10");
    }

    #[tokio::test]
    async fn files_analysed_and_listed_in_one_item_per_place_and_hour() {
        let t = MemoryTable::default();
        let at = 1_795_860_000 + 300;
        let loc = "s3://logs/AWSLogs/111122223333/eu-west-1";
        let alert = Related {
            detector: "tls-outdated".into(),
            id: "abc".into(),
        };
        analysed(&t, loc, at, ("k1", "aa"), std::slice::from_ref(&alert))
            .await
            .unwrap();
        analysed(&t, loc, at + 60, ("k2", "bb"), &[]).await.unwrap();
        listed(&t, loc, at, &["k1".into()]).await.unwrap();
        let h = hour(&t, loc, at + 1200).await.unwrap();
        assert_eq!(h.analysed.len(), 2);
        assert_eq!(h.analysed["k1"].sha256, "aa");
        assert_eq!(h.analysed["k1"].alerts, vec![alert]);
        assert!(h.listed.contains("k1") && !h.listed.contains("k2"));
        assert!(hour(&t, loc, at + 3600).await.unwrap().analysed.is_empty());
        // Each write is one call, without a read.
        assert_eq!(t.calls(), 5);
    }
}
