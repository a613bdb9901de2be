//! Tests of [`super`]: the catalog assembled from the embedded files and extra directories,
//! its ids, and its correlation rules linked to their base rules.

use super::*;
use crate::detectors;
use crate::record::Record;

#[test]
fn every_native_detector_has_a_descriptor() {
    let catalog = Catalog::embedded().unwrap();
    for (id, _) in detectors::NATIVE {
        assert!(
            catalog
                .descriptors
                .iter()
                .any(|d| d.kind.native() == Some(*id)),
            "{id}"
        );
    }
}

/// `make test` loads all SigmaHQ CloudTrail rules (read beside the repository, never
/// copied into it) and fails if any is refused.
#[test]
fn loads_every_sigmahq_cloudtrail_rule() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/sigma"
    ));
    if !dir.exists() {
        eprintln!("skipping: {} not present", dir.display());
        return;
    }
    let mut catalog = Catalog::embedded().unwrap();
    let before = catalog.descriptors.len();
    catalog.add_dir(dir).unwrap();
    let added = &catalog.descriptors[before..];
    assert_eq!(added.len(), 57);
    for d in added {
        assert!(
            d.kind.matcher().is_some(),
            "{}: {:?}",
            d.source,
            d.kind.skipped()
        );
        assert!(d.name.is_none());
    }
    // Without `name`, the file stem is the id.
    assert!(added
        .iter()
        .any(|d| d.detector_id() == "aws_root_account_usage"));
    let natives = catalog
        .descriptors
        .iter()
        .filter(|d| d.kind.native().is_some());
    let detectors = catalog.detectors(&Settings::default(), &[]);
    assert_eq!(
        detectors.len(),
        natives.count() + 1,
        "each native detector and one for all Sigma rules"
    );
}

#[test]
fn disabled_ids_must_exist_and_turn_detectors_off() {
    let catalog = Catalog::load(&[], &["root-activity".into()]).unwrap();
    let e = Catalog::load(&[], &["no-such-id".into()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no-such-id"), "{e}");
    let record = Record::parse(
        br#"{"eventName":"ListBuckets","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}"#,
    )
    .unwrap();
    let run = |disabled: &[String]| {
        let mut out = Vec::new();
        for mut d in catalog.detectors(&Settings::default(), disabled) {
            d.inspect(&record, &mut out);
        }
        out.iter()
            .map(|f| f.detector.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(&[]), ["root-activity"]);
    assert!(run(&["root-activity".into()]).is_empty());
    assert_eq!(parse_ids(" a, ,b,"), ["a", "b"]);
}

fn with(extra: &str) -> Result<Catalog, CatalogError> {
    let mut c = Catalog::embedded()?;
    c.push(Descriptor::parse(extra, "extra.yml")?)?;
    c.link()?;
    Ok(c)
}

#[test]
fn links_by_name_or_sigma_id_and_refuses_what_it_cannot_honour() {
    let rule = |rules: &str, group: &str| {
        format!("title: x\nname: x\ncorrelation: {{type: event_count, rules: [{rules}], group-by: [{group}], timespan: 5m, condition: {{gte: 2}}}}\n")
    };
    let c = with(&rule(
        "899e2c73-bcd0-403c-a8a5-382c376d664a",
        "userIdentity.arn",
    ))
    .unwrap();
    let l = c.correlations.get("x").unwrap();
    assert_eq!(
        l.rule.rules,
        ["unauthorized-api-calls"],
        "the Sigma id resolves to the detector id"
    );
    let e = with(&rule("no-such-rule", "sourceIPAddress"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("extra.yml: correlation: rule `no-such-rule`"),
        "{e}"
    );
    let e = with(&rule("resource-public", "requestParameters.bucketName"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("field `requestParameters.bucketName` is not carried by the findings of the native detector `resource-public`"),
        "{e}"
    );
    let e = with(&rule("console-brute-force", "sourceIPAddress"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("chaining them is not supported"), "{e}");
    let mut c = Catalog::embedded().unwrap();
    let text = "title: x\nname: x\ncorrelation: {type: temporal, rules: [root-activity, console-auth-failures], timespan: 5m}\ntests: [{name: t, expect: match, record: {}}]\n";
    c.add_texts(&[("extra.yml".into(), text.into())]).unwrap();
    let d = c
        .descriptors
        .iter()
        .find(|d| d.detector_id() == "x")
        .unwrap();
    let e = d.tests().unwrap_err().to_string();
    assert!(
        e.starts_with("extra.yml: test `t`: a correlation rule is tested on `records`"),
        "{e}"
    );
}

#[test]
fn base_rules_of_non_generating_correlations_raise_no_alert_of_their_own() {
    let c = Catalog::embedded().unwrap();
    assert!(c.correlations.is_quiet("federation-token-issued"));
    assert!(
        !c.correlations.is_quiet("console-auth-failures"),
        "console-brute-force generates"
    );
    assert!(!c.correlations.is_quiet("root-activity"));
}

#[test]
fn a_correlation_may_group_by_any_field_of_a_sigma_base_rule() {
    let c = with("title: x\nname: x\ncorrelation: {type: value_count, rules: [unauthorized-api-calls], group-by: [requestParameters.bucketName], timespan: 5m, condition: {gte: 2, field: requestParameters.key}}\n").unwrap();
    let base = c
        .descriptors
        .iter()
        .find(|d| d.detector_id() == "unauthorized-api-calls")
        .unwrap();
    assert_eq!(
        base.carry,
        ["requestParameters.bucketName", "requestParameters.key"]
    );
    let mut relinked = c.clone();
    relinked.link().unwrap();
    let again = relinked
        .descriptors
        .iter()
        .find(|d| d.detector_id() == "unauthorized-api-calls");
    assert_eq!(
        again.unwrap().carry.len(),
        2,
        "linking again carries each field once"
    );
    let text =
        br#"{"eventName":"GetObject","eventSource":"s3.amazonaws.com","errorCode":"AccessDenied",
        "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/eve"},
        "requestParameters":{"bucketName":"payroll","key":"2026/12.csv"}}"#;
    let mut found = Vec::new();
    for mut d in c.detectors(&Settings::default(), &[]) {
        found.extend(crate::detectors::findings_in(d.as_mut(), text).unwrap());
    }
    let f = found
        .iter()
        .find(|f| f.detector == "unauthorized-api-calls")
        .expect("the base rule matches");
    assert_eq!(f.evidence["requestParameters.bucketName"], "payroll");
    assert_eq!(f.evidence["requestParameters.key"], "2026/12.csv");
    let plain = Catalog::embedded().unwrap();
    let base = plain
        .descriptors
        .iter()
        .find(|d| d.detector_id() == "unauthorized-api-calls");
    assert!(
        base.unwrap().carry.is_empty(),
        "nothing carried without a correlation needing it"
    );
}

#[test]
fn a_file_may_hold_a_base_rule_and_its_correlation_as_two_documents() {
    let text = "title: Secret read\nname: secret-read\ndetection:\n  s:\n    eventSource: secretsmanager.amazonaws.com\n    eventName: GetSecretValue\n  condition: s\n---\ntitle: Many secrets read\ncorrelation:\n  type: value_count\n  rules: [secret-read]\n  group-by: [userIdentity.arn]\n  timespan: 10m\n  condition: {gte: 3, field: requestParameters.secretId}\n";
    let mut c = Catalog::embedded().unwrap();
    c.add_texts(&[("reads.yml".into(), text.into())]).unwrap();
    c.link().unwrap();
    assert!(
        c.correlations.get("reads-2").is_some(),
        "the unnamed second document is the stem, -2"
    );
    let base = c
        .descriptors
        .iter()
        .find(|d| d.detector_id() == "secret-read")
        .unwrap();
    assert_eq!(
        base.carry,
        ["userIdentity.arn", "requestParameters.secretId"]
    );
    let bad = format!("{text}---\ntitle: broken\ndetection: {{condition: nothing}}\n");
    let e = Catalog::embedded()
        .unwrap()
        .add_texts(&[("reads.yml".into(), bad)])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("reads.yml: document 3: "), "{e}");
    let leading = "---\ntitle: one\nname: one\ndetection: {s: {eventName: X}, condition: s}\n";
    let mut c = Catalog::default();
    c.add_texts(&[("one.yml".into(), leading.into())]).unwrap();
    assert_eq!(
        c.descriptors.len(),
        1,
        "a `---` opening the file is one document"
    );
}

#[test]
fn every_built_in_sigma_rule_is_filed_under_event_names_or_sources() {
    // A rule filed under neither meets every record: the catalog's promise that other records
    // cost one lookup holds only while these stay the exceptions. `root-activity` is filed
    // under the identity type (Root), `unauthorized-api-calls` decides from the typed
    // `errorCode` before any parsing.
    let filed_otherwise = ["root-activity", "unauthorized-api-calls"];
    let c = Catalog::embedded().unwrap();
    let mut unfiled = Vec::new();
    for d in &c.descriptors {
        let Some(m) = d.kind.matcher() else { continue };
        if m.event_names().is_none() && m.event_sources().is_none() {
            unfiled.push(d.detector_id().to_owned());
        }
    }
    unfiled.retain(|id| !filed_otherwise.contains(&id.as_str()));
    assert!(unfiled.is_empty(), "tried on every record: {unfiled:?}");
}

#[test]
fn built_in_rules_read_from_their_json_are_the_rules_of_their_yaml() {
    let mut compared = 0;
    for (name, yaml) in EMBEDDED {
        let Some(json) = source::built_json(name) else {
            continue;
        };
        let from_yaml = Descriptor::parse(yaml, name).unwrap();
        let from_json = Descriptor::built_in(json, yaml, name).unwrap();
        let show = |d: &Descriptor| {
            let tests: Vec<String> = d
                .tests()
                .unwrap()
                .iter()
                .map(|t| format!("{t:?}"))
                .collect();
            format!(
                "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {tests:?}",
                d.detector_id(),
                d.title,
                d.id,
                d.severity(),
                d.kind,
                d.group_by,
                d.references,
                d.tags,
                d.remediation,
                d.dedup,
                d.meta().title
            )
        };
        assert_eq!(show(&from_json), show(&from_yaml), "{name}");
        compared += 1;
    }
    assert_eq!(
        compared,
        EMBEDDED.len(),
        "every built-in file is a one-document rule"
    );
}
