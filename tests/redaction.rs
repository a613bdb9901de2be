//! Redaction as a security property: random secrets in every supported URL form and tag shape,
//! run through the detectors and every output format, never appear in what trailwatch writes.
//! Also: the real corpus raises no url-credentials and no sensitive-tag finding.

use proptest::prelude::*;
use serde_json::{json, Value};
use trailwatch::detectors::Settings;
use trailwatch::output::{write_alert_json, write_alert_pretty, write_finding_json};
use trailwatch::Catalog;
use trailwatch::{scan, Severity, Source};
use trailwatch::{Analysis, Pipeline};

/// The embedded detectors, loaded once for all cases.
static PIPELINE: std::sync::LazyLock<Pipeline> = std::sync::LazyLock::new(|| Pipeline {
    catalog: Catalog::embedded().unwrap(),
    settings: Settings::default(),
    disabled: Vec::new(),
    limits: Default::default(),
});

/// One delivery through the pipeline every front end uses, keeping the findings.
fn analysed(delivery: &str) -> Analysis {
    let source = Source::File {
        file: "x.json.gz".into(),
    };
    let analysis = PIPELINE.analyse(delivery.as_bytes(), source, Some(Severity::Informational));
    assert!(
        analysis.report.error.is_none(),
        "{:?}",
        analysis.report.error
    );
    analysis
}

/// Everything trailwatch would write for this delivery, in every format.
fn rendered(analysis: &Analysis) -> String {
    let mut out = Vec::new();
    for f in &analysis.findings {
        write_finding_json(&mut out, f).unwrap();
    }
    for a in &analysis.alerts {
        write_alert_json(&mut out, a).unwrap();
        write_alert_pretty(&mut out, a).unwrap();
    }
    String::from_utf8(out).unwrap()
}

fn record(part: &str, value: Value, error: bool) -> Value {
    let mut r = json!({
        "eventVersion": "1.09", "eventTime": "2026-11-28T10:10:00Z", "eventSource": "glue.amazonaws.com",
        "eventName": "CreateConnection", "awsRegion": "eu-west-1", "eventID": "e-1",
        "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/etl"},
    });
    if part == "errorMessage" {
        r["errorCode"] = json!("ValidationException");
        r["errorMessage"] = json!(format!(
            "cannot reach {}: timed out",
            value.as_str().unwrap_or("")
        ));
    } else {
        r[part] = json!({"outer": {"list": [1, {"target": value}]}});
        if error {
            r["errorCode"] = json!("AccessDenied");
        }
    }
    r
}

fn url_form(form: usize, user: &str, secret: &str, host: &str) -> String {
    match form {
        0 => format!("https://{user}:{secret}@{host}/path/x"),
        1 => format!("ftp://{user}:{secret}@{host}/"),
        2 => format!("jdbc:mysql://{user}:{secret}@{host}:3306/db"),
        3 => format!("jdbc:postgresql://{host}:5432/db?user={user}&password={secret}"),
        4 => format!("jdbc:sqlserver://{host}:1433;databaseName=db;user={user};password={secret}"),
        5 => format!("mongodb+srv://{user}:{secret}@{host}/db?retryWrites=true"),
        6 => format!("redis://:{secret}@{host}:6379/0"),
        7 => format!("https://x-access-token:{secret}@github.com/org/repo"),
        8 => format!("https://{host}/hook?api_key={secret}"),
        9 => format!("https://{host}/cb?state=1&access_token={secret}"),
        10 => format!("Server={host};User Id={user};Password={secret};Database=hr"),
        11 => format!("jdbc:oracle:thin:{user}/{secret}@{host}:1521:orcl"),
        12 => format!("https%3A%2F%2F{user}%3A{secret}%40{host}%2Fx"),
        13 => format!("https://{user}:{secret}%21x@{host}/"),
        14 => format!("https://{host}/x?X-Amz-Security-Token={secret}&X-Amz-Date=20261128T101000Z"),
        _ => format!("sftp://{user}@{host}:22/ and https://{user}:{secret}@{host}/"),
    }
}

/// A 36-character body for a token format (`ghp_` + 36).
fn token_form(form: usize, body: &str) -> String {
    match form {
        0 => format!("https://ghp_{body}@github.com/org/repo.git"),
        1 => format!("https://oauth2:glpat-{body}@gitlab.com/g/p.git"),
        _ => format!("https://github_pat_{body}@github.com/org/repo.git"),
    }
}

fn assert_hidden(found: &Analysis, detector: &str, secrets: &[&str]) {
    assert!(
        found.findings.iter().any(|f| f.detector == detector),
        "{detector} did not fire: {:#?}",
        found.findings
    );
    let text = rendered(found);
    for s in secrets {
        assert!(!text.contains(s), "secret {s} leaked:\n{text}");
    }
}

fn delivery(rec: &Value, escape: bool) -> String {
    let mut text = json!({ "Records": [rec] }).to_string();
    if escape {
        text = text.replace('/', "\\/").replace('@', "\\u0040");
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn url_secrets_never_leak(
        form in 0usize..16, part in 0usize..4, escape in any::<bool>(), error in any::<bool>(),
        secret in "[A-Za-z][A-Za-z0-9]{13,23}", user in "[a-z]{3,8}", host in "[a-z]{4,10}\\.example\\.net",
    ) {
        let part = ["requestParameters", "responseElements", "additionalEventData", "errorMessage"][part];
        let rec = record(part, json!(url_form(form, &user, &secret, &host)), error);
        let found = analysed(&delivery(&rec, escape));
        assert_hidden(&found, "url-credentials", &[&secret]);
    }

    #[test]
    fn token_users_never_leak(form in 0usize..3, body in "[A-Za-z0-9]{36}", escape in any::<bool>()) {
        let rec = record("requestParameters", json!(token_form(form, &body)), false);
        let found = analysed(&delivery(&rec, escape));
        assert_hidden(&found, "url-credentials", &[&body]);
    }

    #[test]
    fn tag_secrets_never_leak(
        shape in 0usize..9, kind in 0usize..5, escape in any::<bool>(),
        secret in "[a-z][A-Za-z0-9]{13,23}", digits in proptest::collection::vec(0u8..10, 15),
        phone in "[2-9][0-9]{2} [0-9]{3} [0-9]{4}",
    ) {
        let card = luhn_card(&digits);
        let (value, hidden): (String, Vec<String>) = match kind {
            0 => (format!("{secret}@corp.example.com"), vec![secret.clone()]),
            1 => (format!("{} {} {} {}", &card[..4], &card[4..8], &card[8..12], &card[12..]), vec![card.clone()]),
            2 => (card.clone(), vec![card.clone()]),
            3 => (format!("+1 {phone}"), vec![phone.clone()]),
            _ => (format!("ghp_{secret}0123456789abcdefXYZ"), vec![secret.clone()]),
        };
        let params = tag_shape(shape, "Owner", &value);
        let mut rec = record("requestParameters", json!(null), false);
        rec["requestParameters"] = params;
        let found = analysed(&delivery(&rec, escape));
        let hidden: Vec<&str> = hidden.iter().map(String::as_str).collect();
        assert_hidden(&found, "sensitive-tag", &hidden);
    }

    #[test]
    fn secrets_under_secret_keys_never_leak(shape in 0usize..7, secret in "[a-z][A-Za-z0-9]{13,23}") {
        let mut rec = record("requestParameters", json!(null), false);
        rec["requestParameters"] = tag_shape(shape, "db_password", &secret);
        let found = analysed(&delivery(&rec, false));
        assert_hidden(&found, "sensitive-tag", &[&secret]);
    }
}

fn luhn_card(digits: &[u8]) -> String {
    let mut d: Vec<u8> = std::iter::once(4)
        .chain(digits.iter().copied().take(14))
        .collect();
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 0 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    d.push(((10 - sum % 10) % 10) as u8);
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

fn tag_shape(shape: usize, key: &str, value: &str) -> Value {
    match shape {
        0 => {
            json!({"resource": "arn:aws:lambda:eu-west-1:111122223333:function:f", "tags": {key: value}})
        }
        1 => json!({"tags": [{"key": key, "value": value}]}),
        2 => json!({"Tags": [{"Key": key, "Value": value}]}),
        3 => json!({"tags": [{"tagKey": key, "tagValue": value}]}),
        4 => {
            json!({"resourcesSet": {"items": [{"resourceId": "i-0abc"}]}, "tagSet": {"items": [{"key": key, "value": value}]}})
        }
        5 => {
            json!({"tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": [{"key": key, "value": value}]}]}})
        }
        6 => {
            json!({"bucketName": "b", "Tagging": {"TagSet": {"Tag": [{"Key": key, "Value": value}]}}})
        }
        7 => json!({"name": "svc", "description": format!("contact {value} for access")}),
        _ => json!({"tagKeys": [value]}),
    }
}

#[test]
fn luhn_cards_are_valid() {
    assert!(trailwatch::redact::sensitive::is_card(&luhn_card(&[1; 15])));
    assert!(trailwatch::redact::sensitive::is_card(&luhn_card(&[
        7, 3, 0, 9, 2, 8, 1, 4, 5, 6, 0, 2, 3, 9, 9
    ])));
}

#[test]
fn the_real_corpus_has_no_url_credentials_and_no_sensitive_tags() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/real");
    let Ok(inputs) = std::fs::read_dir(dir) else {
        return; // the corpus sits beside the project in development and CI only
    };
    let mut records = 0;
    let mut hits = Vec::new();
    for sub in inputs.flatten() {
        for file in std::fs::read_dir(sub.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if !file.file_name().to_string_lossy().ends_with(".json.gz") {
                continue;
            }
            let mut detectors: Vec<_> = ["url-credentials", "sensitive-tag"]
                .iter()
                .filter_map(|id| trailwatch::detectors::native(id, &Settings::default()))
                .collect();
            let reader = std::fs::File::open(file.path()).unwrap();
            let report = scan(reader, &mut detectors, &mut |f| {
                hits.push(f.clone().into_owned())
            });
            records += report.records;
        }
    }
    assert!(records >= 3000, "{records}");
    assert!(hits.is_empty(), "{hits:#?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// No input may cause a panic: arbitrary text through the finders, the masks and both
    /// detectors (as a string, as a tag value, as an error message).
    #[test]
    fn arbitrary_text_never_panics(
        s in "(\\PC|[:/@%;=?&#. ]|://|%3A|%4|jdbc:oracle:thin:|\\+1 |4111)*",
    ) {
        for u in trailwatch::redact::url::find_urls(&s) {
            let _ = u.credentials();
        }
        let _ = trailwatch::redact::sensitive::scan_text(&s);
        let _ = trailwatch::redact::text(&s);
        let mut rec = record("errorMessage", json!(s.clone()), true);
        rec["requestParameters"] = json!({"tags": {s.clone(): s.clone()}, "description": s.clone(), "u": s});
        let found = analysed(&delivery(&rec, false));
        let _ = rendered(&found);
    }
}

#[test]
fn many_urls_in_one_string_stay_cheap() {
    let s = "a://".repeat(200_000);
    let t = std::time::Instant::now();
    let urls = trailwatch::redact::url::find_urls(&s);
    assert!(urls.len() <= trailwatch::redact::url::MAX_URLS);
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
}
