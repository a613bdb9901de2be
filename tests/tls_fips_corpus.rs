//! tls-absent and fips-endpoint against real CloudTrail deliveries and the project's samples.

#[path = "common/corpus.rs"]
mod corpus;
use corpus::corpus;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use trailwatch::detectors::tls_absent::{is_ip_address, records_tls_details};
use trailwatch::detectors::{fips_endpoint, native, tls_absent, Detector, FipsPolicy, Settings};
use trailwatch::{cli::inputs, scan, Finding, Record};

/// This project's samples for the two detectors (other samples may hold other positives).
const SAMPLES: [&str; 2] = [
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/111122223333_CloudTrail_us-gov-west-1_20261128T0905Z_FipsGov01.json.gz"
    ),
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/444455556666_CloudTrail_us-east-1_20261128T1005Z_TlsGap01.json.gz"
    ),
];

/// tls-absent findings on the real corpus, checked by hand: none (so "at or below" is "equal"). The corpus's client calls
/// without any TLS trace all go to services that do not record tlsDetails (see below).
const REAL_TLS_ABSENT: usize = 0;

type Tally = Arc<Mutex<BTreeMap<String, u64>>>;

/// Tallies, per event source, the records tls-absent would fire on if it did not know which
/// services record tlsDetails: client calls from an IP address, not invoked by a service,
/// outside the console, with no TLS trace at all.
struct Candidates(Tally);

impl Detector for Candidates {
    fn id(&self) -> &'static str {
        "candidates"
    }
    fn inspect<'r>(&mut self, r: &'r Record<'_>, _out: &mut Vec<Finding<'r>>) {
        let cipher = Record::parse_part(r.additional_event_data)
            .is_some_and(|v| v.get("CipherSuite").is_some());
        let invoked = r
            .user_identity
            .as_ref()
            .is_some_and(|u| u.invoked_by.is_some());
        if r.tls_details.is_none()
            && r.event_type.as_deref() == Some("AwsApiCall")
            && is_ip_address(r.source_ip())
            && r.session_credential_from_console != Some(true)
            && !invoked
            && !cipher
        {
            let mut tally = self.0.lock().unwrap();
            *tally.entry(r.event_source().to_owned()).or_default() += 1;
        }
    }
}

struct Run {
    records: u64,
    findings: Vec<Finding<'static>>,
    candidates: BTreeMap<String, u64>,
}

impl Run {
    fn count(&self, detector: &str) -> usize {
        self.findings
            .iter()
            .filter(|f| f.detector == detector)
            .count()
    }
}

fn run(paths: &[&str], policy: FipsPolicy) -> Run {
    let settings = Settings {
        fips_required: policy,
        ..Settings::default()
    };
    let (files, missing) = inputs::expand(&paths.iter().map(PathBuf::from).collect::<Vec<_>>());
    assert!(missing.is_empty(), "{missing:?}");
    let tally = Tally::default();
    let mut out = Run {
        records: 0,
        findings: Vec::new(),
        candidates: BTreeMap::new(),
    };
    for input in files {
        let mut detectors: Vec<Box<dyn Detector>> = vec![
            native(tls_absent::ID, &settings).unwrap(),
            native(fips_endpoint::ID, &settings).unwrap(),
            Box::new(Candidates(Arc::clone(&tally))),
        ];
        let report = scan(input.open().unwrap(), &mut detectors, &mut |f| {
            out.findings.push(f.clone().into_owned())
        });
        assert!(
            report.error.is_none(),
            "{}: {:?}",
            input.name(),
            report.error
        );
        out.records += report.records;
    }
    out.candidates = tally.lock().unwrap().clone();
    out
}

#[test]
fn real_corpus_default_policy_is_quiet() {
    let real = corpus("real");
    let r = run(&[real.to_str().unwrap()], FipsPolicy::default());
    assert_eq!(r.records, 3210);
    // No FIPS-required region in the corpus: any fips-endpoint finding is a false positive.
    assert_eq!(r.count(fips_endpoint::ID), 0);
    assert_eq!(
        r.count(tls_absent::ID),
        REAL_TLS_ABSENT,
        "{:#?}",
        r.findings
    );
    // The corpus does hold client calls without tlsDetails (26, from the console-like clients
    // of account, notifications, guardduty, devops-guru, resource-explorer-2, ram, securityhub
    // and servicecatalog-appregistry), so the services table is what keeps tls-absent precise.
    let total: u64 = r.candidates.values().sum();
    assert!(total >= 20, "{:?}", r.candidates);
    for source in r.candidates.keys() {
        assert!(!records_tls_details(source), "{source}");
    }
}

#[test]
fn real_corpus_all_regions_required() {
    let real = corpus("real");
    let r = run(&[real.to_str().unwrap()], FipsPolicy::All);
    let hosts: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.detector == fips_endpoint::ID)
        .map(|f| &*f.target)
        .collect();
    // No real host is FIPS, so nearly every record with a host header is reported; the ones
    // left out are the sign-in hosts (not an AWS API partition name).
    assert!(hosts.len() > 2000, "{}", hosts.len());
    assert!(hosts.iter().all(|h| !h.contains("signin.aws.amazon.com")));
    assert!(hosts.contains(&"ec2.us-east-1.amazonaws.com"));
}

#[test]
fn samples_fire_where_intended() {
    let r = run(&SAMPLES, FipsPolicy::default());
    let mut fips: Vec<(&str, &str, bool)> = r
        .findings
        .iter()
        .filter(|f| f.detector == fips_endpoint::ID)
        .map(|f| (&*f.event_name, &*f.target, f.failed))
        .collect();
    fips.sort();
    assert_eq!(
        fips,
        [
            ("Decrypt", "kms.us-gov-west-1.amazonaws.com", false),
            (
                "GetSecretValue",
                "secretsmanager.us-gov-west-1.amazonaws.com",
                false
            ),
            (
                "PutObject",
                "fips-reports.s3.us-gov-west-1.amazonaws.com",
                false
            ),
            (
                "ScheduleKeyDeletion",
                "kms.us-gov-west-1.amazonaws.com",
                true
            ),
        ]
    );
    let mut tls: Vec<(&str, &str, bool)> = r
        .findings
        .iter()
        .filter(|f| f.detector == tls_absent::ID)
        .map(|f| (&*f.event_name, &*f.target, f.failed))
        .collect();
    tls.sort();
    assert_eq!(
        tls,
        [
            ("GetObject", "s3.amazonaws.com", false),
            ("ListObjects", "s3.amazonaws.com", true),
            ("SendMessage", "sqs.amazonaws.com", false),
        ]
    );
}
