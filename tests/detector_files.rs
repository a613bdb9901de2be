//! User detector files that cannot load are refused by name: `detectors check` reports each
//! one, and `replay --detectors` stops before reading any log.

mod common;
use common::*;

const GOOD: &str = "title: Good\nlogsource: {product: aws, service: cloudtrail}\n\
detection:\n  s: {eventName: StopLogging}\n  condition: s\n";

const BAD_RE: &str = "title: Bad\nlogsource: {product: aws, service: cloudtrail}\n\
detection:\n  s: {userAgent|re: 'aws-cli/(2'}\n  condition: s\n";

#[test]
fn a_rule_whose_regex_does_not_build_is_refused_by_file_name() {
    let dir = scratch("bad-regex");
    write(&dir, "good.yml", GOOD.as_bytes());
    let bad = write(&dir, "bad-re.yml", BAD_RE.as_bytes());
    let dir_arg = dir.to_str().unwrap();

    let out = trailwatch(&["detectors", "check", dir_arg], None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let refused = format!("error   {}: ", bad.display());
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&refused))
        .unwrap_or_else(|| panic!("no refusal of bad-re.yml:\n{stdout}"));
    assert!(
        line.contains("regular expression `aws-cli/(2`"),
        "the message names the pattern: {line}"
    );
    assert!(stdout.contains("good.yml: good (sigma"), "{stdout}");
    assert!(
        stdout.contains("1 loaded, 0 skipped, 1 refused"),
        "{stdout}"
    );

    let log = write(&dir, "log.json", br#"{"Records":[]}"#);
    let out = trailwatch(
        &["replay", "--detectors", dir_arg, log.to_str().unwrap()],
        None,
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{}: ", bad.display())) && stderr.contains("regular expression"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn detectors_test_reports_a_broken_file_and_still_tests_the_others() {
    let dir = scratch("test-broken");
    let good =
        "title: Good\nname: stop-logging-seen\nlogsource: {product: aws, service: cloudtrail}\n\
detection:\n  s: {eventName: StopLogging}\n  condition: s\nlevel: high\n\
tests:\n  - name: stop\n    expect: match\n    record: {\"eventName\": \"StopLogging\"}\n";
    write(&dir, "good.yml", good.as_bytes());
    let bad = write(&dir, "bad-re.yml", BAD_RE.as_bytes());
    let out = trailwatch(&["detectors", "test", dir.to_str().unwrap()], None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("FAIL {}: ", bad.display())),
        "the broken file is a failure line: {stdout}"
    );
    assert!(
        stdout.contains("1 passed, 1 failed"),
        "the good file's test still ran: {stdout}"
    );
}

#[test]
fn the_shipped_rules_pass_their_tests_as_a_folder_too_correlations_included() {
    // `detectors test DIR` links the folder's correlation rules with the built-in base rules,
    // as a run does: a team testing a copy of the shipped rules sees them pass.
    let out = trailwatch(&["detectors", "test", "detectors"], None);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.trim_end().ends_with(" 0 failed"), "{said}");
    let dir = scratch("correlation-copy");
    std::fs::copy(
        repo().join("detectors/console-brute-force.yml"),
        dir.join("brute-force-copy.yml"),
    )
    .unwrap();
    let copy = std::fs::read_to_string(dir.join("brute-force-copy.yml"))
        .unwrap()
        .replace("name: console-brute-force", "name: brute-force-copy")
        .replace("id: 3f0c86a4-", "id: 4f0c86a4-");
    std::fs::write(dir.join("brute-force-copy.yml"), copy).unwrap();
    let out = trailwatch(&["detectors", "test", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn check_links_correlations_as_replay_does_and_a_broken_tests_block_stops_no_replay() {
    let dir = scratch("check-links");
    let corr = "title: x\nname: xcorr\ncorrelation: {type: event_count, rules: [no-such-rule], \
                group-by: [sourceIPAddress], timespan: 5m, condition: {gte: 2}}\n";
    let lost = write(&dir, "x.yml", corr.as_bytes());
    let dir_arg = dir.to_str().unwrap();
    let out = trailwatch(&["detectors", "check", dir_arg], None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let want = format!(
        "error   {}: correlation: rule `no-such-rule`",
        lost.display()
    );
    assert!(stdout.contains(&want), "{stdout}");
    let _ = std::fs::remove_file(&lost);

    let tests = "title: y\nname: yrule\nlogsource: {product: aws, service: cloudtrail}\n\
                 detection: {s: {eventName: StopLogging}, condition: s}\ntests:\n  - name: a\n    expect: [\n";
    let broken = write(&dir, "y.yml", tests.as_bytes());
    let out = trailwatch(&["detectors", "check", dir_arg], None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "error   {}: its `tests:` do not read",
            broken.display()
        )) && stdout.contains("line 7"),
        "the file and the line: {stdout}"
    );
    let log = write(
        &dir,
        "log.json",
        br#"{"Records":[{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com"}]}"#,
    );
    let out = trailwatch(
        &[
            "replay",
            "--format",
            "jsonl",
            "--detectors",
            dir_arg,
            log.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\"detector\":\"yrule\""));
    let _ = std::fs::remove_dir_all(&dir);
}

/// One rule for every loader: a file that takes a built-in detector's id is refused by
/// `detectors check`, `detectors test` and replay with one message, while the shipped folder
/// itself (copies of the built-in files) loads everywhere and changes nothing.
#[test]
fn check_test_and_replay_refuse_and_accept_the_same_files_with_the_same_message() {
    let dir = scratch("one-loader");
    let taken =
        "title: Mine\nname: root-activity\nlogsource: {product: aws, service: cloudtrail}\n\
detection:\n  s: {eventName: StopLogging}\n  condition: s\nlevel: low\n";
    write(&dir, "mine.yml", taken.as_bytes());
    let d = dir.to_str().unwrap();
    let why = "detector id `root-activity` is already used by the built-in root-activity.yml";
    let check = trailwatch(&["detectors", "check", d], None);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stdout));
    assert!(text(&check.stdout).contains(why), "{}", text(&check.stdout));
    let test = trailwatch(&["detectors", "test", d], None);
    assert_eq!(test.status.code(), Some(1), "{}", text(&test.stdout));
    assert!(text(&test.stdout).contains(why), "{}", text(&test.stdout));
    let sample = "samples/111122223333_CloudTrail_us-east-1_20261128T1100Z_Theft01.json.gz";
    let run = trailwatch(&["replay", "--detectors", d, sample], None);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains(why), "{}", text(&run.stderr));

    let plain = trailwatch(&["replay", "--format", "jsonl", sample], None);
    let shipped = trailwatch(
        &[
            "replay",
            "--format",
            "jsonl",
            "--detectors",
            "detectors",
            sample,
        ],
        None,
    );
    assert_eq!(shipped.status.code(), Some(0), "{}", text(&shipped.stderr));
    assert_eq!(text(&shipped.stdout), text(&plain.stdout));
    let check = trailwatch(&["detectors", "check", "detectors"], None);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
}
