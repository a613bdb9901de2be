//! The Sigma detector parses only the top-level keys its candidate rules read. These tests
//! check that this gives, for every rule (the pack and the SigmaHQ rules of the shared corpus)
//! and every record (the real deliveries of the shared corpus, the descriptors' inline tests
//! and some odd shapes), the same verdicts and findings as matching the whole record; and so
//! do the verdicts taken from the typed record alone, before any parse.

#[path = "common/corpus.rs"]
mod corpus;
use corpus::corpus;

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use trailwatch::rules::sigma::{parse_keys, Typed, TypedPath};
use trailwatch::rules::sigma_detector::{field_text, SigmaRule, SigmaRules, SigmaSet};
use trailwatch::Catalog;
use trailwatch::{Detector, Record};

/// The pack plus the SigmaHQ rules.
fn rules() -> Vec<SigmaRule> {
    let catalog = Catalog::load(&[corpus("sigma")], &[]).unwrap();
    catalog
        .descriptors
        .iter()
        .filter_map(|d| d.sigma_rule())
        .collect()
}

fn read_gz(path: &Path) -> Vec<Value> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    match serde_json::from_str::<Value>(&text).unwrap() {
        Value::Object(mut o) => match o.remove("Records") {
            Some(Value::Array(records)) => records,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Record texts: the real corpus (when present), the inline tests, and odd shapes.
fn records() -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["real/invictus", "real/stratus"] {
        for path in corpus::deliveries(sub) {
            out.extend(read_gz(&path).iter().map(Value::to_string));
        }
    }
    assert_eq!(out.len(), 3210);
    for d in Catalog::embedded().unwrap().descriptors {
        // A Sigma rule's test has one record, a correlation's a sequence.
        for t in d.tests().unwrap() {
            let one = Some(&t.record).filter(|r| !r.is_null());
            out.extend(one.into_iter().chain(&t.records).map(Value::to_string));
        }
    }
    out.extend(
        [
            r#"{"eventName":"StopLogging","userIdentity.type":"Root","userIdentity":[{"type":"AssumedRole"}]}"#,
            r#"{"userIdentity":{"type":"AssumedRole","sessionContext.sessionIssuer":{"type":"Role"}}}"#,
            r#"{"userIdentity":null,"errorCode":null,"requestParameters":{"a.b":{"c":1}}}"#,
            r#"{"userIdentity":{"type":"Root"},"userIdentity":{"type":"IAMUser"},"eventSource":7}"#,
            r#"{"eventName":"PutBucketPolicy","requestParameters":[{"bucketName":"b"},null],"x":"\u0041"}"#,
            r#"{"userIdentity":{"type":"IAMUser"},"userIdentity.type":"Root","eventType":"AwsApiCall"}"#,
            r#"{"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"type":"User"}},"sessionContext.sessionIssuer":{"type":"Role"}}}"#,
            r#"{"userIdentity":{"type":"Root","invokedBy":null},"eventType":"AwsApiCall","errorCode":"AccessDenied"}"#,
            r#"{"userIdentity":{"type":"Root","invokedBy":7},"errorCode":["AccessDenied"],"userAgent":"TruffleHog"}"#,
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/aws:ec2-instance/i","sessionContext":{"sessionIssuer":{"type":"Role"}}}}"#,
            r#"{"userIdentity":{"type":"ROOT"},"eventType":"AwsApiCall"}"#,
            r#"{"userIdentity":{"type":"Ro\u006ft"},"eventType":"AwsApiCall"}"#,
            r#"{"userIdentity":{"type":["Root"]},"eventType":"AwsApiCall"}"#,
            r#"{"userIdentity":[{"type":"Root"}],"eventType":"AwsApiCall"}"#,
            r#"{"userIdentity.type":"Root","userIdentity":{"type":"IAMUser"}}"#,
            r#"{"userIdentity":{"type":"assumedrole","sessionContext":{"sessionIssuer":{"type":"role"}}}}"#,
            r#"{"eventName":["StopLogging"],"eventSource":"cloudtrail.amazonaws.com","userIdentity":{"type":"IAMUser"}}"#,
            r#"{"eventName":"PutUserPolicy","eventSource":["iam.amazonaws.com"],"userIdentity":{"type":"IAMUser"}}"#,
        ]
        .map(str::to_string),
    );
    out
}

#[test]
fn partial_parse_gives_the_same_verdicts() {
    let rules = rules();
    let records = records();
    let (mut matched, mut decided) = (0, 0);
    for text in &records {
        let full: Value = serde_json::from_str(text).unwrap();
        let record = Record::parse(text.as_bytes()).ok();
        let typed = record.as_ref().map(Typed::new);
        for rule in &rules {
            // The typed record, when it decides, agrees with the whole record.
            if let Some(verdict) = typed.as_ref().and_then(|t| rule.matcher.decide(t)) {
                assert_eq!(verdict, rule.matcher.matches(&full), "{}: {text}", rule.id);
                decided += 1;
            }
            let Some(keys) = rule.keys() else { continue };
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let partial = parse_keys(text, &keys).unwrap();
            let verdict = rule.matcher.matches(&full);
            assert_eq!(
                rule.matcher.matches(&partial),
                verdict,
                "{}: {text}",
                rule.id
            );
            matched += usize::from(verdict);
            // A finding's fields: from the typed record where it vouches for them, else from
            // the keys the rule reads.
            for field in &rule.group_by {
                let typed_text = TypedPath::new(field)
                    .zip(typed.as_ref())
                    .and_then(|(p, t)| t.text(&p).map(str::to_owned));
                let got = typed_text.unwrap_or_else(|| field_text(&partial, field));
                assert_eq!(
                    got,
                    field_text(&full, field),
                    "{}: {field}: {text}",
                    rule.id
                );
            }
        }
    }
    assert!(matched > 0 && decided > 0);
}

/// The detector (index, text pre-test, partial parse) against every rule on the whole record.
#[test]
fn detector_finds_what_full_matching_finds() {
    let rules = rules();
    let set = Arc::new(SigmaSet::new(rules.clone()));
    let mut detector = SigmaRules::new(set);
    let mut findings = 0;
    for text in records() {
        let full: Value = serde_json::from_str(&text).unwrap();
        let want: Vec<(&str, Vec<String>)> = rules
            .iter()
            .filter(|r| r.matcher.matches(&full))
            .map(|r| {
                (
                    r.id.as_str(),
                    r.group_by.iter().map(|g| field_text(&full, g)).collect(),
                )
            })
            .collect();
        let Ok(record) = Record::parse(text.as_bytes()) else {
            continue; // a scan skips it too (here: a repeated typed field)
        };
        let mut out = Vec::new();
        detector.inspect(&record, &mut out);
        let got: Vec<(&str, Vec<String>)> = out
            .iter()
            .map(|f| {
                let rule = rules.iter().find(|r| r.id == f.detector).unwrap();
                // An empty field is left out of the evidence.
                let evidence = |g: &String| {
                    let v = f.evidence.get(g).and_then(Value::as_str);
                    v.unwrap_or_default().to_string()
                };
                (
                    f.detector.as_str(),
                    rule.group_by.iter().map(evidence).collect(),
                )
            })
            .collect();
        assert_eq!(got, want, "{text}");
        findings += got.len();
    }
    assert!(findings > 0);
}
