//! The rule pack in `detectors/` against records nobody tuned it to: Panther's test records for
//! the overlapping rules, and the real deliveries of the shared corpus (false-positive check).
//! Both corpora live beside the repository (`../shared/corpus`); the tests fail without them.

#[path = "common/corpus.rs"]
mod corpus;
use corpus::corpus;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trailwatch::rules::sigma::SigmaMatcher;

fn pack() -> BTreeMap<String, SigmaMatcher> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("detectors");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let rule: Value = serde_norway::from_str(&text).unwrap();
        if rule.get("detection").is_none() {
            continue;
        }
        let m = SigmaMatcher::compile(&rule["detection"])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.insert(rule["name"].as_str().unwrap().to_string(), m);
    }
    out
}

/// The SigmaHQ CloudTrail rules, by file stem.
fn sigmahq() -> BTreeMap<String, SigmaMatcher> {
    let entries = std::fs::read_dir(corpus("sigma")).unwrap();
    let mut out = BTreeMap::new();
    for path in entries.map(|e| e.unwrap().path()) {
        if path.extension().is_some_and(|e| e == "yml") {
            let rule: Value =
                serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            out.insert(stem, SigmaMatcher::compile(&rule["detection"]).unwrap());
        }
    }
    out
}

/// Panther's expected results, except where our rule's documented intent differs.
#[test]
fn panther_records() {
    let dir = corpus("panther");
    let rules = pack();
    let ours = |panther: &str| match panther {
        "AWS.CloudTrail.Stopped" | "AWS.CloudTrail.EventSelectorsDisabled" => {
            Some("cloudtrail-tampering")
        }
        "AWS.Root.Activity" => Some("root-activity"),
        "AWS.Console.LoginWithoutMFA" => Some("console-login-without-mfa"),
        _ => None,
    };
    // (file, our result, why it differs from Panther)
    let differences: &[(&str, bool, &str)] = &[
        // root-activity reports every use of root credentials; Panther skips some.
        (
            "AWS.Root.Activity/00_false.json",
            true,
            "Panther allow-lists CreateServiceLinkedRole",
        ),
        (
            "AWS.Root.Activity/03_false.json",
            true,
            "Panther ignores failed root sign-ins",
        ),
        (
            "AWS.Root.Activity/05_false.json",
            true,
            "Panther ignores read-only root calls",
        ),
        // Failed calls are counted, one severity step lower, as the CIS metric filters count them.
        (
            "AWS.CloudTrail.Stopped/02_false.json",
            true,
            "a failed StopLogging is an attempt to blind the account",
        ),
        (
            "AWS.Console.LoginWithoutMFA/07_false.json",
            true,
            "Panther mocks a new-user grace period",
        ),
    ];
    let index: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let mut checked = 0;
    for case in index {
        let Some(rule) = ours(case["rule"].as_str().unwrap()) else {
            continue;
        };
        let file = case["file"].as_str().unwrap();
        let record: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        let expect = differences
            .iter()
            .find(|d| d.0 == file)
            .map_or(case["panther_expected"].as_bool().unwrap(), |d| d.1);
        assert_eq!(
            rules[rule].matches(&record),
            expect,
            "{rule} on {file} ({})",
            case["name"]
        );
        checked += 1;
    }
    assert_eq!(checked, 23);
}

fn read_gz(path: &Path) -> Vec<Value> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    match v {
        Value::Object(mut o) => match o.remove("Records") {
            Some(Value::Array(records)) => records,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Every hit of the pack on the real deliveries, compared with what was reviewed by hand:
/// each Stratus detonation is named after its technique, and the Invictus hour is a real
/// account with a few attack simulations.
#[test]
fn real_deliveries() {
    let dir = corpus("real");
    let rules = pack();
    let sigmahq = sigmahq();
    let mut hits: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut records = 0;
    for sub in ["invictus", "stratus"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
            .collect();
        files.sort();
        for file in files {
            let label = if sub == "stratus" {
                file.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .replace(".json.gz", "")
            } else {
                sub.to_string()
            };
            for record in read_gz(&file) {
                records += 1;
                // The text pre-test never drops a record a rule matches.
                let text = serde_json::to_string(&record).unwrap();
                for (name, m) in rules.iter().chain(&sigmahq) {
                    if m.matches(&record) {
                        assert!(m.may_match_text(text.as_bytes()), "{name}: {text}");
                    }
                }
                for (name, m) in &rules {
                    if m.matches(&record) {
                        *hits
                            .entry(name.clone())
                            .or_default()
                            .entry(label.clone())
                            .or_default() += 1;
                    }
                }
            }
        }
    }
    eprintln!("{records} records");
    for (name, by) in &hits {
        eprintln!("{name}: {by:?}");
    }
    assert_eq!(records, 3210);
    let fired = |rule: &str, label: &str| hits.get(rule).and_then(|h| h.get(label)).copied();
    for technique in [
        "cloudtrail-stop",
        "cloudtrail-delete",
        "cloudtrail-event-selectors",
    ] {
        let label = format!("aws.defense-evasion.{technique}");
        assert_eq!(fired("cloudtrail-tampering", &label), Some(1), "{label}");
    }
    assert_eq!(
        fired(
            "console-login-without-mfa",
            "aws.initial-access.console-login-without-mfa"
        ),
        Some(1)
    );
    // Reviewed: the Invictus hour detonates Stratus too (one trail's selectors narrowed, two
    // trails deleted, a test user signing in without MFA), and four attempts to stop or delete
    // a trail that failed (TrailNotFoundException): counted, one severity step lower.
    assert_eq!(fired("cloudtrail-tampering", "invictus"), Some(7));
    assert_eq!(fired("console-login-without-mfa", "invictus"), Some(1));
    assert_eq!(fired("root-activity", "invictus"), None);
    // This detonation was refused (AccessDenied): an attempt, counted as the CIS metric
    // filter counts it (one severity step lower) and also a denied call.
    assert_eq!(
        fired(
            "organizations-changes",
            "aws.defense-evasion.organizations-leave"
        ),
        Some(1)
    );
    assert!(fired(
        "unauthorized-api-calls",
        "aws.defense-evasion.organizations-leave"
    )
    .is_some());
    assert!(fired(
        "security-group-changes",
        "aws.exfiltration.ec2-security-group-open-port-22-ingress"
    )
    .is_some());
}
