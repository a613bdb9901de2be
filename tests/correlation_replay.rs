//! Correlation in replay: state across the files of a run, and between runs with `--state`.

mod common;
use common::*;
use serde_json::Value;

/// A failed console sign-in from 203.0.113.9, `sec` seconds after 10:00.
fn failed_login(i: usize, sec: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"bf-{i:03}","eventTime":"2026-11-30T10:{:02}:{:02}Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","recipientAccountId":"123456789012","sourceIPAddress":"203.0.113.9","errorMessage":"Failed authentication","responseElements":{{"ConsoleLogin":"Failure"}},"userIdentity":{{"type":"IAMUser","accountId":"123456789012","userName":"u{}"}}}}"#,
        sec / 60,
        sec % 60,
        i % 4
    )
}

/// Twenty-four failures over eight minutes, in three deliveries (the last one out of order).
fn three_deliveries(dir: &std::path::Path) -> Vec<String> {
    let all: Vec<String> = (0..24).map(|i| failed_login(i, i * 20)).collect();
    let mut last = all[16..].to_vec();
    last.reverse();
    [&all[..8], &all[8..16], &last[..]]
        .iter()
        .enumerate()
        .map(|(n, part)| {
            let data = gzip(delivery(part).as_bytes());
            write(dir, &format!("d{n}.json.gz"), &data)
                .display()
                .to_string()
        })
        .collect()
}

/// The alerts of `detector` from `trailwatch <args>`, which must succeed.
fn alerts_of(args: &[&str], detector: &str) -> Vec<Value> {
    let out = trailwatch(args, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|a| a["detector"] == detector)
        .collect()
}

/// The console-brute-force alerts of a replay of `files` (with extra arguments).
fn brute_force(files: &[&str], extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["replay", "--format", "jsonl", "--jobs", "2"];
    args.extend(extra);
    args.extend(files);
    alerts_of(&args, "console-brute-force")
}

#[test]
fn a_brute_force_over_three_files_raises_one_alert_whatever_their_order() {
    let dir = scratch("corr-order");
    let files = three_deliveries(&dir);
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let forward = brute_force(&files, &[]);
    assert_eq!(forward.len(), 1, "{forward:#?}");
    let a = &forward[0];
    assert_eq!(a["count"], 24);
    assert_eq!(a["severity"], "high");
    assert_eq!(a["first_seen"], "2026-11-30T10:00:00Z");
    assert_eq!(a["last_seen"], "2026-11-30T10:07:40Z");
    assert_eq!(a["evidence"]["group"]["sourceIPAddress"], "203.0.113.9");
    assert!(!a["remediation"].as_str().unwrap().is_empty());
    let off = brute_force(&files, &["--disable", "console-brute-force"]);
    assert!(off.is_empty(), "turned off");
    let backward = brute_force(&[files[2], files[0], files[1]], &[]);
    assert_eq!(backward[0]["id"], a["id"], "the same window, the same id");
    // The same file given twice counts once: two thirds of the failures are 16, not 32.
    assert!(brute_force(&[files[0], files[0], files[1]], &[]).is_empty());
}

#[test]
fn a_state_file_carries_open_windows_to_the_next_run() {
    let dir = scratch("corr-state");
    let files = three_deliveries(&dir);
    let state = dir.join("state.json").display().to_string();
    let with_state = ["--state", state.as_str()];
    assert!(
        brute_force(&[&files[0], &files[1]], &with_state).is_empty(),
        "16 so far"
    );
    assert!(std::path::Path::new(&state).exists());
    // The window is still open (only 20 minutes of lateness have not passed): the third file
    // completes it in the next run.
    let next = brute_force(&[&files[2]], &with_state);
    assert!(
        next.is_empty(),
        "decided only once the window closes: {next:#?}"
    );
    let later = gzip(delivery(&[failed_login(99, 59 * 60 + 59)]).as_bytes());
    let later = write(&dir, "later.json.gz", &later).display().to_string();
    let closed = brute_force(&[&later], &with_state);
    assert_eq!(closed.len(), 1, "{closed:#?}");
    assert_eq!(closed[0]["count"], 24);
    std::fs::write(&state, "not json").unwrap();
    let out = trailwatch(&["replay", "--state", &state, &later], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("state.json: not a trailwatch state file"),
        "{}",
        text(&out.stderr)
    );
}

const LISTING_RULE: &str = "title: Bucket Listing\nname: bucket-listing\nlogsource: {product: aws, service: cloudtrail}\ndetection: {s: {eventName: ListBuckets}, condition: s}\nlevel: high\ndedup: 60m\ntests: [{name: t, expect: match, record: {eventName: ListBuckets}}]\n";

/// The rule folder and five files of one listing each, at 10:00, 10:20, 10:40, 11:30, 11:45.
fn listings(dir: &std::path::Path) -> (String, Vec<String>) {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    write(&rules, "bucket-listing.yml", LISTING_RULE.as_bytes());
    let listing = |i: usize, time: &str| {
        format!(
            r#"{{"eventID":"l-{i}","eventTime":"2026-11-30T{time}Z","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::1:user/x"}}}}"#
        )
    };
    let files = ["10:00:00", "10:20:00", "10:40:00", "11:30:00", "11:45:00"]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let data = delivery(&[listing(i, t)]);
            write(dir, &format!("f{i}.json"), data.as_bytes())
                .display()
                .to_string()
        })
        .collect();
    (rules.display().to_string(), files)
}

#[test]
fn a_dedup_window_publishes_once_then_one_summary() {
    let dir = scratch("dedup");
    let (rules, files) = listings(&dir);
    let rule = LISTING_RULE;
    let mut args = vec!["replay", "--format", "jsonl", "--detectors"];
    args.push(&rules);
    args.extend(files.iter().map(String::as_str));
    let out = trailwatch(&args, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let alerts: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|a| a["detector"] == "bucket-listing")
        .collect();
    let seen: Vec<&str> = alerts
        .iter()
        .map(|a| a["first_seen"].as_str().unwrap())
        .collect();
    let ten = "2026-11-30T10:00:00Z";
    let half_past = "2026-11-30T11:30:00Z";
    // The second window's summary comes when the run ends.
    assert_eq!(seen, [ten, ten, half_past, half_past], "{alerts:#?}");
    assert_eq!(alerts[3]["count"], 1);
    let summary = &alerts[1];
    assert_eq!(summary["count"], 2);
    assert_eq!(summary["last_seen"], "2026-11-30T10:40:00Z");
    assert_eq!(summary["evidence"]["dedup"]["first_id"], alerts[0]["id"]);
    assert_eq!(
        summary["event_ids"],
        serde_json::json!(["l-1", "l-2"]),
        "the events held back"
    );
    assert!(summary["source"]["file"]
        .as_str()
        .unwrap()
        .ends_with("f2.json"));
    assert!(summary["summary"]
        .as_str()
        .unwrap()
        .starts_with("2 more alerts like"));
    assert!(text(&out.stderr).contains("3 alerts held back by dedup windows"));
    let bad = rule.replace("60m", "an hour");
    write(&dir.join("rules"), "bucket-listing.yml", bad.as_bytes());
    let out = trailwatch(&args, None);
    assert!(
        text(&out.stderr).contains("bucket-listing.yml: `dedup: an hour` is not a duration"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_state_file_carries_dedup_windows_to_the_next_run() {
    let dir = scratch("dedup-state");
    let (rules, files) = listings(&dir);
    let state = dir.join("state.json").display().to_string();
    let args = |file: &str| {
        [
            "replay",
            "--format",
            "jsonl",
            "--detectors",
            &rules,
            "--state",
            &state,
            file,
        ]
        .map(str::to_owned)
    };
    let run = |file: &str| -> Vec<Value> {
        let args = args(file);
        alerts_of(&args.each_ref().map(String::as_str), "bucket-listing")
    };
    // One file a run: the window opened by the first holds the next two back.
    let first = run(&files[0]);
    assert_eq!(first.len(), 1);
    assert!(run(&files[1]).is_empty(), "held back across runs");
    let again = args(&files[1]);
    let out = trailwatch(&again.each_ref().map(String::as_str), None);
    assert!(
        text(&out.stdout).is_empty(),
        "the same file again is held once"
    );
    assert!(
        !text(&out.stderr).contains("held back"),
        "{}",
        text(&out.stderr)
    );
    assert!(run(&files[2]).is_empty(), "held back across runs");
    let fourth = run(&files[3]);
    let seen: Vec<&str> = fourth
        .iter()
        .map(|a| a["first_seen"].as_str().unwrap())
        .collect();
    // The summary of the first window, then the alert that opens the next.
    assert_eq!(
        seen,
        ["2026-11-30T10:00:00Z", "2026-11-30T11:30:00Z"],
        "{fourth:#?}"
    );
    assert_eq!(fourth[0]["count"], 2);
    assert_eq!(fourth[0]["evidence"]["dedup"]["first_id"], first[0]["id"]);
}

#[test]
fn a_dedup_window_closes_when_any_record_passes_it_and_older_alerts_are_not_held() {
    let dir = scratch("dedup-clock");
    let (rules, files) = listings(&dir);
    let state = dir.join("state.json").display().to_string();
    let replay = |args: &[&str]| -> Vec<Value> {
        let mut all = vec!["replay", "--format", "jsonl", "--detectors", &rules];
        all.extend_from_slice(args);
        alerts_of(&all, "bucket-listing")
    };
    assert_eq!(replay(&["--state", &state, &files[0], &files[1]]).len(), 1);
    // A later file with no listing at all: the logs have moved past the window.
    let quiet = r#"{"eventID":"q","eventTime":"2026-11-30T12:30:00Z","eventName":"DescribeRegions","eventSource":"ec2.amazonaws.com"}"#;
    let quiet = write(&dir, "quiet.json", delivery(&[quiet.to_owned()]).as_bytes());
    let closed = replay(&["--state", &state, &quiet.display().to_string()]);
    assert_eq!(closed.len(), 1, "the summary: {closed:#?}");
    assert_eq!(closed[0]["evidence"]["dedup"]["alerts"], 1);
    // Out of order in one run: 10:00 after the 11:30 window opened is not held in it.
    let both = replay(&[&files[3], &files[0]]);
    let seen: Vec<&str> = both
        .iter()
        .map(|a| a["first_seen"].as_str().unwrap())
        .collect();
    assert_eq!(
        seen,
        ["2026-11-30T11:30:00Z", "2026-11-30T10:00:00Z"],
        "{both:#?}"
    );
}

#[test]
fn a_bad_state_file_or_folder_is_refused_before_the_scan() {
    let dir = scratch("state-bad");
    let sample = write(&dir, "one.json", delivery(&[failed_login(1, 0)]).as_bytes());
    let sample = sample.display().to_string();
    for (content, says) in [("[]", "not a JSON object"), ("{}", "no `correlation`")] {
        let state = dir.join("state.json");
        std::fs::write(&state, content).unwrap();
        let out = trailwatch(
            &["replay", "--state", &state.display().to_string(), &sample],
            None,
        );
        assert_eq!(out.status.code(), Some(2));
        let err = text(&out.stderr);
        assert!(
            err.contains("state.json: not a trailwatch state file") && err.contains(says),
            "{err}"
        );
        assert!(text(&out.stdout).is_empty(), "nothing scanned");
    }
    let nowhere = dir
        .join("no-such-folder")
        .join("state.json")
        .display()
        .to_string();
    let out = trailwatch(&["replay", "--state", &nowhere, &sample], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("its folder does not exist"),
        "{}",
        text(&out.stderr)
    );
}
