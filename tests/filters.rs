//! Filters end to end: replay with a filter directory, `--no-filters`, `detectors test` and
//! `detectors check` on filter files.

mod common;
use common::*;

/// A security group change by `arn` in account `account`, with event id `id`.
fn sg_change(id: &str, account: &str, arn: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"{id}","eventTime":"2026-11-30T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","eventType":"AwsApiCall","awsRegion":"us-east-1","recipientAccountId":"{account}","userIdentity":{{"type":"AssumedRole","arn":"{arn}"}},"requestParameters":{{"groupId":"sg-{id}"}}}}"#
    )
}

const DEPLOY: &str = "arn:aws:sts::111122223333:assumed-role/deploy/ci-42";
const EVE: &str = "arn:aws:sts::111122223333:assumed-role/Admin/eve";

fn detectors_of(out: &std::process::Output) -> Vec<(String, String)> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (s("detector"), s("principal"))
        })
        .collect()
}

#[test]
fn a_filter_removes_the_deploy_roles_security_group_alerts_and_counts_them() {
    let dir = scratch("filters-replay");
    let mut records: Vec<String> = (0..5)
        .map(|i| sg_change(&format!("d{i}"), "111122223333", DEPLOY))
        .collect();
    records.push(sg_change("e1", "111122223333", EVE));
    let file = write(&dir, "d.json", delivery(&records).as_bytes());
    let file = file.to_str().unwrap();
    let args = [
        "replay",
        "--format",
        "jsonl",
        "--no-progress",
        "--detectors",
    ];
    let filtered = trailwatch(&[&args[..], &["tests/data/filters", file]].concat(), None);
    assert_eq!(
        filtered.status.code(),
        Some(0),
        "{}",
        text(&filtered.stderr)
    );
    let alerts = detectors_of(&filtered);
    let sg: Vec<_> = alerts
        .iter()
        .filter(|(d, _)| d == "security-group-changes")
        .collect();
    assert_eq!(sg.len(), 1, "{alerts:?}");
    assert!(
        sg[0].1.contains("Admin/eve"),
        "a person's change stays: {sg:?}"
    );
    let err = text(&filtered.stderr);
    assert!(
        err.contains(
            "filters: 5 findings dropped (security-group-changes by deploy-role-security-groups 5)"
        ),
        "{err}"
    );
    let all = trailwatch(
        &[&args[..], &["tests/data/filters", "--no-filters", file]].concat(),
        None,
    );
    let unfiltered = detectors_of(&all);
    let sg: Vec<_> = unfiltered
        .iter()
        .filter(|(d, _)| d == "security-group-changes")
        .collect();
    assert_eq!(
        sg.len(),
        2,
        "--no-filters shows what the filter hides: {unfiltered:?}"
    );
    let said = text(&all.stderr);
    assert!(!said.contains("trailwatch: filters:"), "{said}");
    assert!(
        said.contains("trailwatch: --no-filters: 1 filter not applied"),
        "{said}"
    );
}

#[test]
fn detectors_test_and_check_cover_filters() {
    let out = trailwatch(&["detectors", "test", "tests/data/filters"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("3 passed, 0 failed"),
        "{}",
        text(&out.stdout)
    );
    let dir = scratch("filters-check");
    let good =
        std::fs::read_to_string(repo().join("tests/data/filters/deploy-role-security-groups.yml"))
            .unwrap();
    // A test whose expectation is wrong fails, naming the file and the test.
    let wrong = good.replacen("expect: kept", "expect: filtered", 1);
    write(&dir, "wrong.yml", wrong.as_bytes());
    let out = trailwatch(&["detectors", "test", dir.to_str().unwrap()], None);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("wrong.yml: the same role in another account is kept: expected"),
        "{report}"
    );
    std::fs::remove_file(dir.join("wrong.yml")).unwrap();
    write(&dir, "good.yml", good.as_bytes());
    let expired = good
        .replace("2099-12-31", "2020-01-31")
        .replace("name: deploy", "name: old-deploy");
    write(&dir, "expired.yml", expired.as_bytes());
    write(
        &dir,
        "typo.yml",
        good.replace("- security-group-changes", "- security-groups-changes")
            .as_bytes(),
    );
    let out = trailwatch(&["detectors", "check", dir.to_str().unwrap()], None);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("good.yml: filter deploy-role-security-groups (3 tests)"),
        "{report}"
    );
    assert!(
        report.contains("filter old-deploy-role-security-groups expired on 2020-01-31"),
        "{report}"
    );
    assert!(
        report.contains("typo.yml: `filter.rules` names `security-groups-changes`"),
        "{report}"
    );
    // replay says the expired filter is not applied.
    std::fs::rename(dir.join("typo.yml"), dir.join("typo.txt")).unwrap();
    let out = trailwatch(
        &["replay", "--detectors", dir.to_str().unwrap(), "samples"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("filter old-deploy-role-security-groups expired on 2020-01-31: not applied"),
        "{}",
        text(&out.stderr)
    );
    std::fs::rename(dir.join("typo.txt"), dir.join("typo.yml")).unwrap();
    // replay refuses the directory with the typo, naming the file.
    let out = trailwatch(
        &["replay", "--detectors", dir.to_str().unwrap(), "samples"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("typo.yml"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn top_groups_and_suggested_filters_tune_a_replay() {
    let dir = scratch("filters-top");
    let mut records: Vec<String> = (0..4)
        .map(|i| {
            let arn = DEPLOY.replace("ci-42", &format!("ci-{i}"));
            sg_change(&format!("d{i}"), "111122223333", &arn)
        })
        .collect();
    records.push(sg_change("e1", "111122223333", EVE));
    let file = write(&dir, "d.json", delivery(&records).as_bytes());
    let suggested = dir.join("rules").join("suggested.yml");
    std::fs::create_dir_all(suggested.parent().unwrap()).unwrap();
    let out = trailwatch(
        &[
            "replay",
            "--top",
            "1",
            "--suggest-filters",
            suggested.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 2, "a head and one group: {table}");
    assert!(
        rows[1].starts_with(
            "4\tlow\tsecurity-group-changes\tarn:aws:sts::111122223333:assumed-role/deploy/*\t"
        ),
        "the role's sessions are one group: {table}"
    );
    let text_of = std::fs::read_to_string(&suggested).unwrap();
    assert!(
        text_of.contains("rules: [security-group-changes]"),
        "{text_of}"
    );
    // Not loadable until a person says who and why.
    let rules = suggested.parent().unwrap().to_str().unwrap();
    let check = trailwatch(&["detectors", "check", rules], None);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stdout));
    assert!(
        text(&check.stdout).contains("`reason`"),
        "{}",
        text(&check.stdout)
    );
    let reviewed = text_of
        .replace("reason: ''", "reason: 'deploys'")
        .replace("owner: ''", "owner: 'platform'");
    std::fs::write(&suggested, reviewed).unwrap();
    let out = trailwatch(
        &[
            "replay",
            "--format",
            "jsonl",
            "--detectors",
            rules,
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let left: Vec<_> = detectors_of(&out)
        .into_iter()
        .filter(|(d, _)| d == "security-group-changes")
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].1.contains("Admin/eve"));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "4 findings dropped (security-group-changes by known-good-security-group-changes 4)"
        ),
        "{err}"
    );
}

#[test]
fn accounts_name_alerts_and_filters_select_on_environment() {
    let dir = scratch("filters-accounts");
    let records = [
        sg_change("p1", "111122223333", EVE),
        sg_change("s1", "444455556666", "arn:aws:iam::444455556666:user/eve"),
        sg_change("u1", "777788889999", "arn:aws:iam::777788889999:user/eve"),
    ];
    let file = write(&dir, "d.json", delivery(&records).as_bytes());
    let file = file.to_str().unwrap();
    let run = |format: &str| {
        let args = [
            "replay",
            "--format",
            format,
            "--detectors",
            "tests/data/accounts",
            file,
        ];
        let out = trailwatch(&args, None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        out
    };
    let out = run("jsonl");
    let alerts: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|a: &serde_json::Value| a["detector"] == "security-group-changes")
        .collect();
    assert_eq!(
        alerts.len(),
        2,
        "the sandbox's alert is filtered: {alerts:?}"
    );
    let prod = alerts
        .iter()
        .find(|a| a["account"] == "111122223333")
        .unwrap();
    assert_eq!(
        (prod["account_name"].as_str(), prod["environment"].as_str()),
        (Some("prod-payments"), Some("prod"))
    );
    let unknown = alerts
        .iter()
        .find(|a| a["account"] == "777788889999")
        .unwrap();
    assert!(unknown.get("account_name").is_none() && unknown.get("environment").is_none());
    assert!(
        text(&out.stderr).contains("security-group-changes by sandbox 1"),
        "{}",
        text(&out.stderr)
    );
    let pretty = text(&run("pretty").stdout);
    assert!(
        pretty.contains("111122223333 (prod-payments, prod) us-east-1"),
        "{pretty}"
    );
    let test = trailwatch(&["detectors", "test", "tests/data/accounts"], None);
    assert!(
        text(&test.stdout).contains("2 passed, 0 failed"),
        "{}",
        text(&test.stdout)
    );
    let check = trailwatch(&["detectors", "check", "tests/data/accounts"], None);
    let report = text(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{report}");
    assert!(report.contains("accounts.csv: 2 accounts"), "{report}");
    let list = trailwatch(
        &["detectors", "list", "--detectors", "tests/data/accounts"],
        None,
    );
    let line = text(&list.stdout)
        .lines()
        .find(|l| l.starts_with("sandbox "))
        .map(str::to_owned);
    let line = line.unwrap_or_default();
    assert!(
        line.contains("security-group-changes") && line.contains("filter (drop)"),
        "{line}"
    );
}

/// A call by `arn` refused with AccessDenied, `i` seconds into the minute.
fn denied(i: usize, arn: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"ad-{i}","eventTime":"2026-11-30T10:0{}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventType":"AwsApiCall","awsRegion":"us-east-1","recipientAccountId":"111122223333","errorCode":"AccessDenied","userAgent":"aws-cli/2.17.20 md/Botocore#1.34.142 os/linux","userIdentity":{{"type":"AssumedRole","arn":"{arn}"}}}}"#,
        i / 60,
        i % 60
    )
}

#[test]
fn filters_never_silently_blind_correlations_and_suggestions_never_drop_high_findings() {
    let dir = scratch("filters-correlations");
    let mut records: Vec<String> = (0..25).map(|i| denied(i, EVE)).collect();
    records.push(format!(
        r#"{{"eventVersion":"1.08","eventID":"stop-1","eventTime":"2026-11-30T10:05:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","eventType":"AwsApiCall","awsRegion":"us-east-1","recipientAccountId":"111122223333","userAgent":"aws-cli/2.17.20 md/Botocore#1.34.142","userIdentity":{{"type":"AssumedRole","arn":"{DEPLOY}"}},"requestParameters":{{"name":"main"}}}}"#
    ));
    let file = write(&dir, "d.json", delivery(&records).as_bytes());
    let file = file.to_str().unwrap();
    let suggested = dir.join("suggested.yml");
    let out = trailwatch(
        &[
            "replay",
            "--top",
            "10",
            "--suggest-filters",
            suggested.to_str().unwrap(),
            file,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.starts_with("FINDINGS\tSEVERITY\tDETECTOR"), "{table}");
    assert!(table.contains("\thigh\tcloudtrail-tampering\t"), "{table}");
    let suggestion = std::fs::read_to_string(&suggested).unwrap();
    // The high finding is lowered, not dropped; the correlation gets no filter of its own;
    // the user agent is matched by product and major version.
    let tampering = suggestion
        .split("---")
        .find(|doc| doc.contains("rules: [cloudtrail-tampering]"))
        .expect("a filter for the tampering group");
    assert!(tampering.contains("action: lower"), "{suggestion}");
    assert!(
        !suggestion.contains("rules: [access-denied-burst]"),
        "{suggestion}"
    );
    assert!(
        suggestion.contains("No filter for access-denied-burst: it is a correlation rule"),
        "{suggestion}"
    );
    assert!(
        suggestion.contains("userAgent|startswith: 'aws-cli/2.'"),
        "{suggestion}"
    );
    // A file a person may have reviewed is never written over.
    let again = trailwatch(
        &[
            "replay",
            "--top",
            "3",
            "--suggest-filters",
            suggested.to_str().unwrap(),
            file,
        ],
        None,
    );
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("the file exists"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&suggested).unwrap(), suggestion);

    // A filter naming the correlation is refused by the gate and by the run, alike.
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let filter = |name: &str, rule: &str| {
        format!(
            "title: t\nname: {name}\nreason: r\nowner: o\nlogsource: {{product: aws, service: cloudtrail}}\nfilter:\n    rules: [{rule}]\n    eve:\n        userIdentity.arn: '{EVE}'\n    condition: not eve\n"
        )
    };
    std::fs::write(
        rules.join("quiet.yml"),
        filter("quiet", "access-denied-burst"),
    )
    .unwrap();
    let rules_dir = rules.to_str().unwrap();
    let check = trailwatch(&["detectors", "check", rules_dir], None);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stdout));
    let why = "names the correlation rule `access-denied-burst`";
    assert!(text(&check.stdout).contains(why), "{}", text(&check.stdout));
    let run = trailwatch(&["replay", "--detectors", rules_dir, file], None);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains(why), "{}", text(&run.stderr));

    // A filter on the base rule: what it drops is not counted by the correlation, and the
    // summary says so.
    std::fs::write(
        rules.join("quiet.yml"),
        filter("quiet", "unauthorized-api-calls"),
    )
    .unwrap();
    let run = trailwatch(
        &[
            "replay",
            "--format",
            "jsonl",
            "--detectors",
            rules_dir,
            file,
        ],
        None,
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(
        !detectors_of(&run)
            .iter()
            .any(|(d, _)| d == "access-denied-burst"),
        "{}",
        text(&run.stdout)
    );
    assert!(
        text(&run.stderr).contains(
            "dropped findings not counted by correlations: access-denied-burst (25 of unauthorized-api-calls)"
        ),
        "{}",
        text(&run.stderr)
    );
}
