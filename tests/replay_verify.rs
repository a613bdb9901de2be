//! `replay --verify` over a local copy of a bucket: the digest files prove which log files
//! are missing, changed or forged, and which digest's chain is broken.

mod common;
#[path = "common/trails.rs"]
mod trails;

use common::*;
use serde_json::Value;
use std::path::Path;
use trails::{gz, TrailSim, Written};

/// 2026-11-28T10:00:00Z.
const T0: i64 = 1_795_860_000;

fn put(root: &Path, w: &Written) {
    let path = root.join(&w.key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, &w.bytes).unwrap();
}

/// Four hours of one trail, with a deleted, a rewritten and a forged log file, a quiet hour,
/// and a digest changed after the next one chained to it.
fn tampered_tree(root: &Path) {
    let mut t = TrailSim::new("logs", "", "111122223333", "eu-west-1", "main");
    let h = 3600;
    let l1 = t.log(T0 + 300, "l1", &["e1"]);
    let l2 = t.log(T0 + 1200, "l2", &["e2"]);
    let d1 = t.digest(T0, T0 + h, &[&l1, &l2]);
    let l3 = t.log(T0 + h + 600, "l3", &["e3"]);
    let l4 = t.log(T0 + h + 1800, "l4", &["e4"]);
    let l5 = t.log(T0 + h + 2400, "l5", &["e5"]);
    let d2 = t.digest(T0 + h, T0 + 2 * h, &[&l3, &l4, &l5]);
    let d3 = t.digest(T0 + 2 * h, T0 + 3 * h, &[]);
    let l6 = t.log(T0 + 3 * h + 900, "l6", &["e6"]);
    let d4 = t.digest(T0 + 3 * h, T0 + 4 * h, &[&l6]);
    for w in [&l1, &l2, &d1, &l3, &d2, &l6, &d4] {
        put(root, w);
    }
    // l4 deleted (never written); l5 rewritten; a forged file in the quiet hour; d3 changed
    // after d4 named its hash.
    let mut rewritten = l5.clone();
    rewritten.bytes = gz(&trails::log_json(
        "111122223333",
        "eu-west-1",
        T0,
        &["forged"],
    ));
    put(root, &rewritten);
    put(root, &t.log(T0 + 2 * h + 1800, "l7", &["e7"]));
    let mut changed = d3.clone();
    let mut body: Value =
        serde_json::from_slice(&text(&flate2_inflate(&d3.bytes)).into_bytes()).unwrap();
    body["newestEventTime"] = "2026-11-28T12:30:00Z".into();
    changed.bytes = gz(&serde_json::to_vec(&body).unwrap());
    put(root, &changed);
}

fn flate2_inflate(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut out).unwrap();
    out
}

#[test]
fn verify_reports_missing_modified_unlisted_files_and_a_broken_chain() {
    let root = scratch("verify-tampered");
    tampered_tree(&root);
    let dir = root.display().to_string();
    let out = trailwatch(&["replay", "--verify", "--format", "jsonl", &dir], None);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let alerts: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |d: &str| -> Vec<&Value> { alerts.iter().filter(|a| a["detector"] == d).collect() };
    let missing = of("log-file-missing");
    assert_eq!(missing.len(), 1, "{err}");
    assert!(missing[0]["summary"]
        .as_str()
        .unwrap()
        .contains("_l4.json.gz"));
    let modified = of("log-file-modified");
    assert_eq!(modified.len(), 1, "{err}");
    assert!(modified[0]["summary"]
        .as_str()
        .unwrap()
        .contains("_l5.json.gz"));
    assert_eq!(modified[0]["severity"], "critical");
    let unlisted = of("log-file-unlisted");
    assert_eq!(unlisted.len(), 1, "{err}");
    assert!(unlisted[0]["summary"]
        .as_str()
        .unwrap()
        .contains("_l7.json.gz"));
    // The changed digest is named (the one after it names another hash for it).
    let invalid = of("digest-invalid");
    assert_eq!(invalid.len(), 1, "{err}");
    let key = invalid[0]["evidence"]["key"].as_str().unwrap();
    assert!(key.ends_with("_20261128T130000Z.json.gz"), "{key}");
    // The alerts already published from the rewritten and the forged file are named.
    for verdict in [&modified[0], &unlisted[0]] {
        let related = verdict["related"].as_array().unwrap();
        assert!(!related.is_empty(), "{verdict}");
        assert!(related.iter().all(|r| r["detector"] == "tls-outdated"));
    }
    // The logs were analysed as usual (TLS 1.0 calls in every file read).
    assert!(!of("tls-outdated").is_empty(), "{err}");
    // The summary table.
    assert!(
        err.contains("verify: 4 digest files, 6 log files listed, 5 of them read"),
        "{err}"
    );
    for row in [
        "missing            1",
        "modified           1",
        "unlisted           1",
        "digest invalid     1",
    ] {
        assert!(err.contains(row), "{row}: {err}");
    }
    assert!(
        err.contains("4 not checked: a local copy keeps no S3 metadata"),
        "{err}"
    );
}

#[test]
fn an_intact_tree_verifies_and_without_verify_digests_are_skipped() {
    let root = scratch("verify-intact");
    let mut t = TrailSim::new("logs", "team/", "111122223333", "eu-west-1", "main");
    let l1 = t.log(T0 + 300, "l1", &["e1"]);
    let d1 = t.digest(T0, T0 + 3600, &[&l1]);
    let d2 = t.digest(T0 + 3600, T0 + 7200, &[]);
    for w in [&l1, &d1, &d2] {
        put(&root, w);
    }
    let dir = root.display().to_string();
    let out = trailwatch(&["replay", "--verify", "--format", "jsonl", &dir], None);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("missing            0"), "{err}");
    assert!(
        !text(&out.stdout).contains("log-file-"),
        "{}",
        text(&out.stdout)
    );
    let plain = trailwatch(&["replay", "--format", "jsonl", &dir], None);
    let err = text(&plain.stderr);
    assert_eq!(plain.status.code(), Some(0), "{err}");
    assert!(
        err.contains("CloudTrail digest file, skipped (--verify checks the logs against it)"),
        "{err}"
    );
}

#[test]
fn verify_without_digests_says_nothing_is_proven() {
    let root = scratch("verify-none");
    let t = TrailSim::new("logs", "", "111122223333", "eu-west-1", "main");
    put(&root, &t.log(T0 + 300, "l1", &["e1"]));
    let out = trailwatch(
        &[
            "replay",
            "--verify",
            "--format",
            "jsonl",
            &root.display().to_string(),
        ],
        None,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("among the inputs: nothing can be proven"),
        "{err}"
    );
}

#[test]
fn a_deleted_digest_breaks_the_chain_and_a_file_named_alone_is_not_judged_missing() {
    let root = scratch("verify-deleted-digest");
    let mut t = TrailSim::new("logs", "", "111122223333", "eu-west-1", "main");
    let l1 = t.log(T0 + 300, "l1", &["e1"]);
    let l2 = t.log(T0 + 3900, "l2", &["e2"]);
    let d1 = t.digest(T0, T0 + 3600, &[&l1]);
    let _d2 = t.digest(T0 + 3600, T0 + 7200, &[&l2]);
    let d3 = t.digest(T0 + 7200, T0 + 10_800, &[]);
    // d2 is deleted with the file it lists.
    for w in [&l1, &d1, &d3] {
        put(&root, w);
    }
    let dir = root.display().to_string();
    let out = trailwatch(&["replay", "--verify", "--format", "jsonl", &dir], None);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let alerts = text(&out.stdout);
    assert!(
        alerts.contains("digest-invalid") && alerts.contains("_20261128T120000Z.json.gz"),
        "{alerts}"
    );
    assert!(alerts.contains("it is not there"), "{alerts}");
    // The digest folder alone: the log files are on disk, not asked for, not missing.
    let digests = root.join("AWSLogs/111122223333/CloudTrail-Digest");
    let digests = digests.display().to_string();
    let out = trailwatch(&["replay", "--verify", "--format", "jsonl", &digests], None);
    let listed = text(&out.stdout);
    assert!(!listed.contains("log-file-missing"), "{listed}");
    // One digest named alone: its files are not judged missing, the table says why.
    let alone = root.join(&d1.key).display().to_string();
    let out = trailwatch(&["replay", "--verify", "--format", "jsonl", &alone], None);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        !text(&out.stdout).contains("log-file-missing"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        err.contains("not judged         1 log file listed in folders the run did not read"),
        "{err}"
    );
    assert!(err.contains("1 digest file, 1 log file listed"), "{err}");
}

#[test]
fn an_unreadable_digest_is_an_error_and_a_log_file_in_its_place_is_still_analysed() {
    let root = scratch("verify-unreadable");
    let mut t = TrailSim::new("logs", "", "111122223333", "eu-west-1", "main");
    let l1 = t.log(T0 + 300, "l1", &["e1"]);
    let d1 = t.digest(T0, T0 + 3600, &[&l1]);
    put(&root, &l1);
    // A log file written under the digest's name.
    let mut swapped = t.log(T0 + 600, "x", &["in-the-digest"]);
    swapped.key.clone_from(&d1.key);
    put(&root, &swapped);
    let dir = root.display().to_string();
    let out = trailwatch(&["replay", "--verify", "--format", "jsonl", &dir], None);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("_20261128T110000Z.json.gz: not a CloudTrail digest"),
        "{err}"
    );
    let alerts = text(&out.stdout);
    assert_eq!(
        alerts.matches("\"digest-invalid\"").count(),
        1,
        "once: {alerts}"
    );
    assert!(
        alerts.contains("in-the-digest"),
        "its records analysed: {alerts}"
    );
}
