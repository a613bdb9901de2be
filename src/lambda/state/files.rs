//! The log files of each place and hour: what was analysed (key, SHA-256, the alerts published
//! from it) and what a digest listed (key, SHA-256). One item per place and hour
//! (`files#s3://bucket/prefix/AWSLogs/[o-ORG/]ACCOUNT/REGION`, `YYYYMMDDTHH` of the file's
//! name), written with one `UpdateItem` adding to a string set, which also returns the item as
//! it was: no read before, no hot row, no condition to fail. Kept four days (a digest comes
//! within the hour after its period).

use super::table::{Sets, Table, TableError};
use crate::alert::related::Related;
use std::collections::{BTreeMap, BTreeSet};

const FILES: &str = "files";
/// How long the rows are kept after their hour.
pub const KEEP: i64 = 4 * 86_400;
/// The string set of the files analysed: `key TAB sha256 TAB detector:id,...`.
const ANALYSED: &str = "analysed";
/// The string set of the files a digest listed (`key TAB sha256`), and how far digests have
/// judged the hour (`#through TAB seconds`).
const LISTED: &str = "listed";
const THROUGH: &str = "#through";
/// A digest whose verdicts were published (`#judged TAB key`, in the hour of its start).
const JUDGED: &str = "#judged";
/// The hash of a file analysed without one.
const NO_HASH: &str = "-";
/// Alert ids kept per file (for the follow-up alert of a file proven forged or changed).
pub const MAX_IDS: usize = 20;

/// One file analysed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Analysed {
    /// Its SHA-256s (hex) as read: more than one if it was rewritten and read again.
    pub sha256: BTreeSet<String>,
    /// The alerts published from it.
    pub alerts: Vec<Related>,
}

/// What one place and hour holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hour {
    /// The files analysed, by key.
    pub analysed: BTreeMap<String, Analysed>,
    /// The files a digest listed, by key, with the SHA-256 it lists.
    pub listed: BTreeMap<String, String>,
    /// Files written before this (seconds since the epoch) were judged by a digest: one it
    /// does not list is not CloudTrail's.
    pub through: i64,
    /// The digests (keys) whose verdicts were published.
    pub judged: BTreeSet<String>,
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

/// Notes that `key` (of the hour of `at`) was analysed, with its hash (none when it was not
/// read whole, or not hashed) and alerts; returns what the hour held before.
pub async fn analysed<T: Table>(
    table: &T,
    location: &str,
    at: i64,
    (key, sha256): (&str, Option<&str>),
    alerts: &[Related],
) -> Result<Hour, TableError> {
    let sha256 = sha256.unwrap_or(NO_HASH);
    let ids: Vec<String> = alerts
        .iter()
        .take(MAX_IDS)
        .map(|r| format!("{}:{}", r.detector, r.id))
        .collect();
    let entry = format!("{key}\t{sha256}\t{}", ids.join(","));
    let (pk, sk) = (pk(location), hour_of(at));
    let before = table
        .add((&pk, &sk), ANALYSED, &[entry], expiry(at))
        .await?;
    Ok(read(before))
}

/// Notes that a digest listed `files` (key, SHA-256) of the hour of `at`, and judged the hour
/// through `through`.
pub async fn listed<T: Table>(
    table: &T,
    location: &str,
    at: i64,
    files: &[(String, String)],
    through: i64,
) -> Result<(), TableError> {
    let (pk, sk) = (pk(location), hour_of(at));
    let mut entries: Vec<String> = files.iter().map(|(k, h)| format!("{k}\t{h}")).collect();
    entries.push(format!("{THROUGH}\t{through}"));
    table.add((&pk, &sk), LISTED, &entries, expiry(at)).await?;
    Ok(())
}

/// Notes that the verdicts of digest `key` (whose period starts at `at`) were published.
pub async fn judged<T: Table>(
    table: &T,
    location: &str,
    at: i64,
    key: &str,
) -> Result<(), TableError> {
    let (pk, sk) = (pk(location), hour_of(at));
    let entry = format!("{JUDGED}\t{key}");
    table.add((&pk, &sk), LISTED, &[entry], expiry(at)).await?;
    Ok(())
}

/// What the hour of `at` holds for `location`.
pub async fn hour<T: Table>(table: &T, location: &str, at: i64) -> Result<Hour, TableError> {
    let (pk, sk) = (pk(location), hour_of(at));
    Ok(read(table.sets((&pk, &sk)).await?))
}

fn read(mut sets: Sets) -> Hour {
    let mut out = Hour::default();
    for entry in sets.remove(LISTED).unwrap_or_default() {
        let Some((key, value)) = entry.split_once('\t') else {
            continue;
        };
        if key == THROUGH {
            out.through = out.through.max(value.parse().unwrap_or(0));
        } else if key == JUDGED {
            out.judged.insert(value.to_owned());
        } else {
            out.listed
                .insert(key.to_owned(), value.to_ascii_lowercase());
        }
    }
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
        let a = out.analysed.entry(key.to_owned()).or_default();
        if sha256 != NO_HASH {
            a.sha256.insert(sha256.to_ascii_lowercase());
        }
        for r in alerts {
            if !a.alerts.contains(&r) {
                a.alerts.push(r);
            }
        }
    }
    out
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
        analysed(
            &t,
            loc,
            at,
            ("k1", Some("aa")),
            std::slice::from_ref(&alert),
        )
        .await
        .unwrap();
        analysed(&t, loc, at + 60, ("k2", None), &[]).await.unwrap();
        let listed_files = [("k1".to_owned(), "AA".to_owned())];
        listed(&t, loc, at, &listed_files, at + 1200).await.unwrap();
        // Rewritten and read again: the item as it was comes back with the write.
        let before = analysed(&t, loc, at, ("k1", Some("cc")), &[])
            .await
            .unwrap();
        assert_eq!(before.listed["k1"], "aa");
        assert_eq!(before.through, at + 1200);
        let h = hour(&t, loc, at + 1200).await.unwrap();
        assert_eq!(h.analysed.len(), 2);
        let shas: Vec<&str> = h.analysed["k1"].sha256.iter().map(String::as_str).collect();
        assert_eq!(shas, ["aa", "cc"]);
        assert_eq!(h.analysed["k1"].alerts, vec![alert]);
        assert!(h.listed.contains_key("k1") && !h.listed.contains_key("k2"));
        assert!(
            h.analysed["k2"].sha256.is_empty(),
            "analysed, without a hash"
        );
        assert!(hour(&t, loc, at + 3600).await.unwrap().analysed.is_empty());
        // Each write is one call, without a read.
        assert_eq!(t.calls(), 6);
    }
}
