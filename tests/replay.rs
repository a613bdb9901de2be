//! The replay front end end to end: golden output over samples/, and every error case.

#[path = "common/corpus.rs"]
mod corpus;
use corpus::corpus;
use std::collections::BTreeMap;

mod common;
use common::*;

#[test]
fn samples_match_the_golden_alerts() {
    let out = trailwatch(&["replay", "--format", "jsonl", "samples"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let golden =
        std::fs::read_to_string(repo().join("tests/golden/samples.jsonl")).unwrap_or_default();
    let got = text(&out.stdout);
    if got != golden && std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(repo().join("tests/golden/samples.jsonl"), &got).unwrap();
        return;
    }
    assert_eq!(
        got, golden,
        "replay of samples/ changed; rerun with UPDATE_GOLDEN=1 if intended"
    );
    assert!(
        got.lines().count() >= 2,
        "the samples must show something worth seeing"
    );
    for line in got.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["schema"], "trailwatch.alert.v1");
        assert!(v["id"].as_str().unwrap().len() == 32);
    }
}

#[test]
fn readable_alerts_come_worst_first_and_one_call_links_its_alerts() {
    let out = trailwatch(&["replay", "--format", "pretty", "samples"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"];
    let seen: Vec<usize> = text(&out.stdout)
        .lines()
        .filter_map(|l| order.iter().position(|s| l.starts_with(&format!(" {s} "))))
        .collect();
    assert!(seen.len() > 50, "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "not worst first: {seen:?}"
    );
    // The call that opened the bucket raised the exposure alert and the CIS change alert:
    // each names the other.
    let out = trailwatch(&["replay", "--format", "jsonl", "samples"], None);
    let alerts: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let public = alerts
        .iter()
        .find(|a| {
            a["detector"] == "resource-public"
                && a["summary"].as_str().unwrap().contains("customer-exports")
        })
        .expect("the bucket opened to everyone");
    let cis = alerts
        .iter()
        .find(|a| {
            a["detector"] == "s3-bucket-policy-changes" && a["event_ids"] == public["event_ids"]
        })
        .expect("the CIS alert of the same calls");
    let ids = |a: &serde_json::Value| -> Vec<String> {
        a["related"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        ids(public).contains(&cis["id"].as_str().unwrap().to_owned()),
        "{public}"
    );
    assert!(
        ids(cis).contains(&public["id"].as_str().unwrap().to_owned()),
        "{cis}"
    );
}

#[test]
fn findings_format_has_one_line_per_finding() {
    let out = trailwatch(
        &[
            "replay",
            "--format",
            "findings",
            "--min-severity",
            "informational",
            "samples",
        ],
        None,
    );
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let alerts = trailwatch(
        &[
            "replay",
            "--format",
            "jsonl",
            "--min-severity",
            "informational",
            "samples",
        ],
        None,
    );
    // Every finding of a detector is counted by its alerts; a correlation's alerts count the
    // findings of its base rules in their window instead, and quiet base rules raise none.
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for l in text(&alerts.stdout).lines() {
        let a: serde_json::Value = serde_json::from_str(l).unwrap();
        if a["source"]["file"].is_string() {
            let n = a["count"].as_u64().unwrap();
            *counted
                .entry(a["detector"].as_str().unwrap().to_owned())
                .or_default() += n;
        }
    }
    let mut listed: BTreeMap<String, u64> = BTreeMap::new();
    for f in &lines {
        *listed
            .entry(f["detector"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert!(counted.len() > 40, "{counted:?}");
    for (detector, n) in &counted {
        assert_eq!(listed.get(detector), Some(n), "{detector}");
    }
    assert!(lines.iter().all(|f| f["detector"].is_string()
        && f["severity"].is_string()
        && f["event_id"].is_string()));
}

#[test]
fn fail_on_and_min_severity() {
    let dir = scratch("fail-on");
    let f = write(
        &dir,
        "a.json",
        delivery(&[record("e1", "TLSv1")]).as_bytes(),
    );
    let f = f.to_str().unwrap();
    assert_eq!(
        trailwatch(&["replay", "--format", "jsonl", f], None)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        trailwatch(
            &["replay", "--format", "jsonl", "--fail-on", "medium", f],
            None
        )
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        trailwatch(
            &["replay", "--format", "jsonl", "--fail-on", "high", f],
            None
        )
        .status
        .code(),
        Some(0)
    );
    let quiet = trailwatch(
        &["replay", "--format", "jsonl", "--min-severity", "high", f],
        None,
    );
    assert!(quiet.stdout.is_empty());
}

#[test]
fn stdin_gzip_and_plain() {
    let body = delivery(&[record("e1", "TLSv1.1"), record("e2", "TLSv1.2")]);
    for input in [body.clone().into_bytes(), gzip(body.as_bytes())] {
        let out = trailwatch(&["replay", "--format", "jsonl", "-"], Some(&input));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
        assert_eq!(v["event_ids"], serde_json::json!(["e1"]));
        assert_eq!(v["source"], serde_json::json!({"file": "-"}));
    }
}

/// Each broken input: one stderr line naming the file and the fault; findings before the fault
/// are kept; the other files go on; exit 2.
#[test]
fn broken_inputs_lose_nothing_readable() {
    let dir = scratch("broken");
    let good = delivery(&[record("g1", "TLSv1")]);
    let two = delivery(&[record("b1", "TLSv1"), record("b2", "TLSv1.1")]);
    let gz = gzip(two.as_bytes());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated.json.gz",
            gz[..gz.len() - 12].to_vec(),
            "decompress",
        ),
        (
            "cut.json",
            two.as_bytes()[..two.len() - 40].to_vec(),
            "truncated",
        ),
        (
            "garbage-after.json",
            format!("{}{}", &two[..two.len() - 2], "]x}").into_bytes(),
            "unexpected `x`",
        ),
        ("empty.json.gz", Vec::new(), "empty input"),
        (
            "not-json.json",
            b"hello".to_vec(),
            "not a CloudTrail delivery",
        ),
    ];
    for (name, data, _) in &cases {
        write(&dir, name, data);
    }
    write(&dir, "zz-good.json", good.as_bytes());
    let out = trailwatch(
        &[
            "replay",
            "--format",
            "jsonl",
            "--jobs",
            "2",
            dir.to_str().unwrap(),
            "missing.json.gz",
        ],
        None,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for (name, _, why) in &cases {
        let line = err
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for {name}: {err}"));
        assert!(line.contains(why), "{name}: {line}");
    }
    assert!(err.contains("missing.json.gz: no such file"), "{err}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\"g1\""), "later files go on");
    // The truncated files still yield their first record's finding.
    assert!(
        stdout.matches("\"b1\"").count() >= 2,
        "records before the fault are scanned: {stdout}"
    );
    assert!(err.contains("6 files"), "{err}");
}

/// Another JSON file in a directory (a trigger event, an export) is skipped with a note; named
/// on the command line, it is an error.
#[test]
fn json_that_is_not_a_log_file() {
    let dir = scratch("not-logs");
    let event = write(
        &dir,
        "event.json",
        br#"{"Service":"Amazon S3","Event":"s3:TestEvent"}"#,
    );
    write(
        &dir,
        "good.json",
        delivery(&[record("g1", "TLSv1")]).as_bytes(),
    );
    let walked = trailwatch(
        &["replay", "--format", "jsonl", dir.to_str().unwrap()],
        None,
    );
    let err = text(&walked.stderr);
    assert_eq!(walked.status.code(), Some(0), "{err}");
    assert!(
        err.contains("1 file that is not a CloudTrail log skipped (")
            && err.contains("event.json)"),
        "{err}"
    );
    assert!(
        err.contains("trailwatch: 1 file, "),
        "a delivery, the other skipped: {err}"
    );
    assert_eq!(err.matches("event.json").count(), 1, "said once: {err}");
    assert!(text(&walked.stdout).contains("\"g1\""));
    let named = trailwatch(
        &["replay", "--format", "jsonl", event.to_str().unwrap()],
        None,
    );
    assert_eq!(named.status.code(), Some(2));
    assert!(
        text(&named.stderr).contains("no `Records` array"),
        "{}",
        text(&named.stderr)
    );
}

/// The project's own trigger events, SNS's capitalised `EventSource` included, are refused as
/// what they are, with no warning about records that were never listed.
#[test]
fn trigger_events_named_on_the_command_line_are_refused() {
    for name in [
        "s3-put.json",
        "sns-cloudtrail-notification.json",
        "sqs-batch.json",
    ] {
        let path = format!("samples/events/{name}");
        let out = trailwatch(&["replay", "--format", "jsonl", &path], None);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains("records are those of a Lambda trigger event"),
            "{name}: {err}"
        );
        assert!(!err.contains("more records skipped"), "{name}: {err}");
        assert!(text(&out.stdout).is_empty(), "{name}");
    }
}

#[test]
fn bad_records_are_skipped_with_a_counted_warning() {
    let dir = scratch("bad-records");
    let deep = format!(
        "{}{}",
        "{\"a\":".repeat(200),
        "1".to_owned() + &"}".repeat(200)
    );
    let mut data = Vec::new();
    data.extend_from_slice(b"{\"Records\":[");
    data.extend_from_slice(record("r1", "TLSv1").as_bytes());
    data.extend_from_slice(b",{\"eventName\":\"\xff\xfe\"},42,");
    data.extend_from_slice(deep.as_bytes());
    data.extend_from_slice(b",");
    data.extend_from_slice(record("r2", "TLSv1").as_bytes());
    data.extend_from_slice(b"]}");
    let f = write(&dir, "mixed.json", &data);
    let out = trailwatch(&["replay", "--format", "jsonl", f.to_str().unwrap()], None);
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a bad record is not a failed file: {err}"
    );
    // Counted from 1: the second and third elements of `Records`.
    assert!(err.contains("record 2: not valid UTF-8"), "{err}");
    assert!(err.contains("record 3: not a JSON object"), "{err}");
    // A record nested too deep is read but for its deep subtree: not skipped, noted.
    assert!(!err.contains("record 4:"), "{err}");
    assert!(
        err.contains("3 records,") && err.contains("2 records skipped"),
        "{err}"
    );
    assert!(
        err.contains("1 subtrees nested deeper than 127 levels not read"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["event_ids"], serde_json::json!(["r1", "r2"]));
}

#[test]
fn digest_files_are_skipped_with_a_note() {
    let dir = scratch("digest");
    let f = write(
        &dir,
        "d.json.gz",
        &gzip(br#"{"awsAccountId":"1","logFiles":[{"s3Object":"k"}]}"#),
    );
    let out = trailwatch(&["replay", f.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("digest file, skipped"));
}

#[test]
fn bad_options_name_the_input() {
    let out = trailwatch(&["replay", "--detectors", "no/such/dir", "samples"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/dir"));
    let out = trailwatch(&["replay", "--min-severity", "severe", "samples"], None);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("severe"));
}

#[test]
fn reads_every_record_of_the_real_corpus() {
    let corpus = corpus("real");
    let out = trailwatch(
        &["replay", "--format", "jsonl", corpus.to_str().unwrap()],
        None,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(" 3210 records,"), "{err}");
    assert!(
        !text(&out.stdout).contains("\"tls-outdated\""),
        "the corpus has no outdated TLS"
    );
}

#[test]
fn typos_in_the_s3_filters_are_refused_before_anything_is_listed() {
    for (args, want) in [
        (
            &["--account", "11112222333"][..],
            "--account 11112222333: an account id is 12 digits",
        ),
        (
            &["--since", "2026-12-05", "--until", "2026-11-01"][..],
            "--since 2026-12-05 --until 2026-11-01: the range ends before it starts",
        ),
        (
            &["--region", "useast1"][..],
            "--region useast1: not a region name",
        ),
    ] {
        let mut all = vec!["replay"];
        all.extend_from_slice(args);
        all.push("s3://trail-bucket/");
        let out = trailwatch(&all, None);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn the_first_command_shows_alerts_with_their_agent_and_events_and_no_noise() {
    let out = trailwatch(&["replay", "--format", "pretty", "samples/"], None);
    let (alerts, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(alerts.contains("\n  agent    aws-cli/"), "{alerts}");
    assert!(alerts.contains("\n  events   "), "{alerts}");
    assert!(!err.contains("not a CloudTrail log file"), "{err}");
    assert!(
        err.contains("7 files that are not CloudTrail logs skipped (the first: samples/events/"),
        "{err}"
    );
    assert!(
        err.starts_with("trailwatch: 12 files, "),
        "only deliveries count as files: {err}"
    );
    assert!(
        err.contains("1 TLS version not understood (tls-outdated could not judge that call, in samples/111122223333_CloudTrail_us-east-1_20261128T0915Z_OldTls01.json.gz)"),
        "the summary names the file: {err}"
    );
}
