//! The data-exposure detectors (resource-public, resource-shared, protection-disabled) and the
//! fixed CIS controls against material nobody tuned them to: real Stratus Red Team
//! detonations, a real account's hour of traffic (Invictus), and Panther's tests for its
//! "resource made public" rule.

use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};
use trailwatch::detectors::{Detector, Settings};
use trailwatch::Catalog;
use trailwatch::{scan, Finding, Severity};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");
const OURS: [&str; 3] = ["resource-public", "resource-shared", "protection-disabled"];

fn corpus(sub: &str) -> PathBuf {
    let dir = Path::new(CORPUS).join(sub);
    assert!(
        dir.is_dir(),
        "{}: the shared corpus is missing; these tests need it",
        dir.display()
    );
    dir
}

fn all_detectors() -> Vec<Box<dyn Detector>> {
    let catalog = Catalog::embedded().expect("catalog");
    catalog.detectors(&Settings::default(), &[])
}

/// `detector eventName target` of every finding of `ids` on one file.
fn fired(path: &Path, ids: &[&str]) -> Vec<String> {
    let mut detectors = all_detectors();
    let mut lines = Vec::new();
    let report = scan(File::open(path).expect("open"), &mut detectors, &mut |f| {
        if ids.contains(&f.detector.as_str()) {
            lines.push(format!("{} {} {}", f.detector, f.event_name, f.target));
        }
    });
    assert!(
        report.error.is_none(),
        "{}: {:?}",
        path.display(),
        report.error
    );
    lines.sort();
    lines.dedup();
    lines
}

/// Each Stratus detonation of an exposure or a disabled protection raises its detector.
#[test]
fn stratus_detonations_raise_their_detectors() {
    let dir = corpus("real/stratus");
    let cases: &[(&str, &str)] = &[
        (
            "exfiltration.ec2-share-ami",
            "resource-shared ModifyImageAttribute ami-de1fbCab6ccB03e6D",
        ),
        (
            "exfiltration.ec2-share-ebs-snapshot",
            "resource-shared ModifySnapshotAttribute snap-041993b54a9b3af6f",
        ),
        (
            "exfiltration.rds-share-snapshot",
            "resource-shared ModifyDBSnapshotAttribute exfiltration",
        ),
        (
            "persistence.lambda-backdoor-function",
            "resource-public AddPermission20150331v2 stratus-red-team-backdoor-f-func",
        ),
        (
            "persistence.iam-backdoor-role",
            "resource-shared UpdateAssumeRolePolicy stratus-red-team-backdoor-r-role",
        ),
        (
            "persistence.iam-create-backdoor-role",
            "resource-shared CreateRole stratus-red-team-malicious-iam-role",
        ),
        (
            "defense-evasion.vpc-remove-flow-logs",
            "protection-disabled DeleteFlowLogs fl-0e17aa62a21d4bbfe",
        ),
        (
            "defense-evasion.dns-delete-logs",
            "protection-disabled DeleteResolverQueryLogConfig rqlc-4473f20ca554c07",
        ),
        (
            "exfiltration.ec2-security-group-open-port-22-ingress",
            "resource-public AuthorizeSecurityGroupIngress sg-003dc7f1f1c686164",
        ),
        // A failed LeaveOrganization is an organizations change (CIS 4.15), one step lower.
        (
            "defense-evasion.organizations-leave",
            "organizations-changes LeaveOrganization ",
        ),
        (
            "defense-evasion.cloudtrail-stop",
            "cloudtrail-tampering StopLogging ",
        ),
    ];
    let mut ids: Vec<&str> = OURS.to_vec();
    ids.extend(["organizations-changes", "cloudtrail-tampering"]);
    for (technique, expected) in cases {
        let path = dir.join(format!("aws.{technique}.json.gz"));
        let lines = fired(&path, &ids);
        assert!(
            lines.iter().any(|l| l.starts_with(expected)),
            "{technique}: expected `{expected}`, got {lines:#?}"
        );
    }
}

/// Every file of the real corpus: the only findings of the three detectors are the exposures
/// and disabled protections the attack simulations really made (Invictus ran Stratus Red Team
/// techniques in its account too).
#[test]
fn real_corpus_findings_are_true_exposures_only() {
    let mut found = Vec::new();
    for sub in ["real/invictus", "real/stratus"] {
        for entry in std::fs::read_dir(corpus(sub)).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.to_string_lossy().ends_with(".json.gz") {
                found.extend(fired(&path, &OURS));
            }
        }
    }
    found.sort();
    found.dedup();
    let expected = [
        // Invictus: the same attack simulations, in a real account.
        "protection-disabled DeleteFlowLogs fl-064ed3a785e4a37ef",
        "resource-public AuthorizeSecurityGroupIngress sg-04cfb7a4712d75b00",
        "resource-shared ModifyImageAttribute ami-0aa1d83d0b0985c86",
        "resource-shared ModifySnapshotAttribute snap-083d3b857c13988bc",
        "resource-shared PutBucketPolicy stratus-red-team-bdbp-lhfzvgcamn",
        // Both corpora.
        "resource-shared ModifyDBSnapshotAttribute exfiltration",
        "resource-public AddPermission20150331v2 stratus-red-team-backdoor-f-func",
        "resource-shared UpdateAssumeRolePolicy stratus-red-team-backdoor-r-role",
        // Stratus.
        "protection-disabled DeleteResolverQueryLogConfig rqlc-4473f20ca554c07",
        "protection-disabled DeleteFlowLogs fl-0e17aa62a21d4bbfe",
        "resource-public AuthorizeSecurityGroupIngress sg-003dc7f1f1c686164",
        "resource-shared ModifyImageAttribute ami-de1fbCab6ccB03e6D",
        "resource-shared ModifySnapshotAttribute snap-041993b54a9b3af6f",
        "resource-shared CreateRole stratus-red-team-malicious-iam-role",
    ];
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
}

/// Panther's AWS.CloudTrail.ResourceMadePublic tests, read by resource-public (and, for the
/// KMS case, kms-key-policy). Documented differences: a failed call is still reported one
/// severity step lower, and a policy that cannot be read is reported at medium rather than
/// passed; Panther expects no alert for either.
#[test]
fn resource_public_agrees_with_panther_except_failed_and_unreadable() {
    let dir = corpus("panther");
    let index: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).expect("index"))
            .expect("index.json");
    let (mut agreed, mut differed) = (0, 0);
    for case in index
        .iter()
        .filter(|c| c["rule"] == "AWS.CloudTrail.ResourceMadePublic")
    {
        let file = case["file"].as_str().expect("file");
        let text = std::fs::read(dir.join(file)).expect("case");
        let panther = case["panther_expected"].as_bool().expect("expected");
        let mut out: Vec<Finding<'static>> = Vec::new();
        for mut d in all_detectors() {
            if ["resource-public", "kms-key-policy"].contains(&d.id()) {
                out.extend(trailwatch::detectors::findings_in(d.as_mut(), &text).expect("parses"));
            }
        }
        let record: Value = serde_json::from_slice(&text).expect("json");
        let failed = record.get("errorCode").is_some_and(|c| !c.is_null());
        // Public: resource-public's high or critical, kms-key-policy's critical (its high is a
        // grant to another account or organization, not "public").
        let public = out.iter().any(|f| {
            !f.failed
                && (f.severity == Severity::Critical
                    || (f.detector == "resource-public" && f.severity == Severity::High))
        });
        if !panther && failed {
            assert_eq!(out[0].severity, Severity::High, "{file}: one step lower");
            differed += 1;
        } else if !panther && out.iter().any(|f| f.evidence["policy_readable"] == false) {
            assert_eq!(out[0].severity, Severity::Medium, "{file}: unreadable");
            differed += 1;
        } else {
            assert_eq!(public, panther, "{file}: {} {out:#?}", case["name"]);
            agreed += 1;
        }
    }
    assert_eq!((agreed, differed), (12, 2));
}
