use super::*;
use crate::alert::{Source, SCHEMA};

const PRODUCT: &str = "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default";

fn alert(detector: &str, tags: &[&str], evidence: serde_json::Map<String, Value>) -> Alert {
    Alert {
        schema: SCHEMA,
        id: "0123456789abcdef0123456789abcdef".into(),
        subject: String::new(),
        detector: detector.into(),
        title: "T".repeat(1000),
        severity: Severity::Critical,
        summary: "S".repeat(5000),
        account: "444455556666".into(),
        account_name: String::new(),
        environment: String::new(),
        region: "us-gov-west-1".into(),
        principal: "arn:aws:iam::444455556666:user/a".into(),
        source_ip: "203.0.113.9".into(),
        user_agent: "ua".into(),
        source_ips: Vec::new(),
        user_agents: Vec::new(),
        first_seen: "2026-11-28T10:00:00Z".into(),
        last_seen: "2026-11-28T10:05:00Z".into(),
        count: 2,
        event_ids: vec!["e1".into(), "e2".into()],
        event_names: vec!["PutBucketPolicy".into()],
        evidence,
        remediation: "R".repeat(2000),
        references: vec!["https://docs.aws.amazon.com/x".into()],
        source: Source::Object {
            bucket: "trail".into(),
            key: "AWSLogs/k.json.gz".into(),
        },
        tags: tags.iter().map(|t| t.to_string()).collect(),
        calls: Default::default(),
        truncated: false,
        related: Vec::new(),
    }
}

#[test]
fn oversized_evidence_stays_within_asff_limits() {
    let mut evidence = serde_json::Map::new();
    evidence.insert("resource".into(), "customer-exports".into());
    evidence.insert("resource_type".into(), "S3 bucket".into());
    for i in 0..100 {
        evidence.insert(format!("field_{i:03}"), "x".repeat(5000).into());
    }
    let a = crate::redact::alert(alert("resource-public", &[], evidence));
    let l = Limits::ASFF;
    let f = finding(&a, PRODUCT, "2026-12-01T00:00:00.000Z", &l);
    assert_eq!(f.id(), Some(a.id.as_str()), "the id is the alert id");
    assert_eq!(f.product_arn(), Some(PRODUCT));
    assert_eq!(f.aws_account_id(), Some("444455556666"));
    assert!(f.title().unwrap().chars().count() <= l.title);
    assert!(f.description().unwrap().chars().count() <= l.description);
    let text = f
        .remediation()
        .unwrap()
        .recommendation()
        .unwrap()
        .text()
        .unwrap();
    assert!(text.chars().count() <= l.recommendation);
    let fields = f.product_fields().unwrap();
    assert!(fields.len() <= l.fields, "{} fields", fields.len());
    assert!(fields.values().all(|v| v.chars().count() <= l.field_value));
    let total: usize = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(total <= l.fields_total, "{total} bytes of product fields");
    assert_eq!(
        fields.get("trailwatch/fields_cut").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        fields.get("trailwatch/detector").map(String::as_str),
        Some("resource-public")
    );
    let r = &f.resources()[0];
    assert_eq!(
        (r.r#type(), r.id()),
        (Some("AwsS3Bucket"), Some("customer-exports"))
    );
    assert_eq!(r.partition().map(|p| p.as_str()), Some("aws-us-gov"));
    assert_eq!(f.severity().unwrap().label().unwrap().as_str(), "CRITICAL");
    assert_eq!(f.workflow().unwrap().status().unwrap().as_str(), "NEW");
    assert_eq!(f.record_state().unwrap().as_str(), "ACTIVE");
    assert_eq!(f.source_url(), Some("https://docs.aws.amazon.com/x"));
    assert_eq!(f.first_observed_at(), Some("2026-11-28T10:00:00Z"));
    assert_eq!(f.updated_at(), Some("2026-12-01T00:00:00.000Z"));
}

#[test]
fn types_from_tags_and_an_account_resource_when_none_is_named() {
    let a = alert(
        "cloudtrail-tampering",
        &["attack.defense-evasion", "attack.t1562.008", "cis.aws.4.5"],
        serde_json::Map::new(),
    );
    assert_eq!(
        types(&a),
        vec![
            "TTPs/Defense Evasion",
            "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
        ]
    );
    assert_eq!(
        types(&alert("resource-shared", &[], Default::default()))[0],
        "Effects/Data Exposure"
    );
    let f = finding(&crate::redact::alert(a), PRODUCT, "now", &Limits::ASFF);
    assert_eq!(f.resources()[0].id(), Some("AWS::::Account:444455556666"));
}

#[test]
fn now_is_rfc3339() {
    let now = now_rfc3339();
    assert!(crate::alert::time::epoch_millis(&now).is_some(), "{now}");
}

#[test]
fn an_operational_alert_about_a_window_is_a_valid_finding() {
    let source = Source::Window {
        start: "2026-11-28T10:00:00Z".into(),
        end: "2026-11-28T11:15:00Z".into(),
    };
    let mut a = crate::alert::operational(
        "trail-silent",
        "0123456789abcdef0123456789abcdef".into(),
        source,
    );
    a.title = "CloudTrail stopped delivering logs".into();
    a.summary = "No CloudTrail log file for 75 min".into();
    a.account = "444455556666".into();
    a.region = "eu-west-1".into();
    (a.first_seen, a.last_seen) = ("2026-11-28T10:00:00Z".into(), "2026-11-28T11:15:00Z".into());
    let f = finding(&crate::redact::alert(a), PRODUCT, "now", &Limits::ASFF);
    assert!(!f.types().is_empty());
    assert_eq!(f.resources()[0].id(), Some("AWS::::Account:444455556666"));
    assert_eq!(f.first_observed_at(), Some("2026-11-28T10:00:00Z"));
}

#[test]
fn a_finding_is_filed_under_the_account_its_file_was_delivered_for() {
    let mut a = alert("resource-public", &[], serde_json::Map::new());
    a.source = Source::Object {
        bucket: "trail".into(),
        key: "AWSLogs/o-a1b2c3d4e5/777788889999/CloudTrail/us-east-1/2026/12/06/f.json.gz".into(),
    };
    let f = finding(
        &crate::redact::alert(a),
        PRODUCT,
        "2026-12-06T00:00:00.000Z",
        &Limits::ASFF,
    );
    assert_eq!(
        f.aws_account_id(),
        Some("777788889999"),
        "the key's account, not the record's 444455556666"
    );
}
