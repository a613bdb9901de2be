use super::*;

fn fips(host: &str) {
    assert_eq!(classify(host, "us-gov-west-1"), HostClass::Fips, "{host}");
}

fn not_fips(host: &str, region: &str, want: Option<&str>) {
    assert_eq!(
        classify(host, region),
        HostClass::NotFips {
            fips_host: want.map(str::to_owned)
        },
        "{host}"
    );
}

fn unknown(host: &str) {
    assert_eq!(
        classify(host, "us-gov-west-1"),
        HostClass::Unknown,
        "{host}"
    );
}

#[test]
fn govcloud_standard_hosts_are_often_fips() {
    fips("sts.us-gov-west-1.amazonaws.com");
    fips("ec2.us-gov-east-1.amazonaws.com");
    fips("logs.us-gov-west-1.amazonaws.com");
    fips("iam.us-gov.amazonaws.com");
    // Only in the newer endpoint rule sets.
    fips("dynamodb.us-gov-west-1.amazonaws.com");
    fips("portal.sso.us-gov-east-1.amazonaws.com");
    // ... but not always.
    not_fips(
        "kms.us-gov-west-1.amazonaws.com",
        "us-gov-west-1",
        Some("kms-fips.us-gov-west-1.amazonaws.com"),
    );
    fips("kms-fips.us-gov-west-1.amazonaws.com");
}

#[test]
fn commercial_hosts_and_their_fips_forms() {
    not_fips(
        "sts.us-east-1.amazonaws.com",
        "us-east-1",
        Some("sts-fips.us-east-1.amazonaws.com"),
    );
    fips("sts-fips.us-east-1.amazonaws.com");
    not_fips("sts.amazonaws.com", "us-east-1", None);
    not_fips(
        "batch.us-east-1.amazonaws.com",
        "us-east-1",
        Some("fips.batch.us-east-1.amazonaws.com"),
    );
    not_fips(
        "api.ecr.us-west-2.amazonaws.com",
        "us-west-2",
        Some("ecr-fips.us-west-2.amazonaws.com"),
    );
    not_fips("ssm.eu-west-1.amazonaws.com", "eu-west-1", None);
    for host in [
        "fips.eks.us-east-1.amazonaws.com",
        "runtime-fips.sagemaker.us-gov-west-1.amazonaws.com",
        "api.tunneling.iot-fips.us-east-1.amazonaws.com",
        "iam-fips.amazonaws.com",
        "kms-fips.us-east-1.api.aws",
        "bedrock-runtime-fips.us-east-1.amazonaws.com",
        "s3express-fips-usw2-az1.us-west-2.amazonaws.com",
    ] {
        fips(host);
    }
}

#[test]
fn s3_names_are_judged_on_the_service_label() {
    fips("bucket.s3-fips.us-gov-west-1.amazonaws.com");
    fips("bucket.s3-fips.dualstack.us-east-1.amazonaws.com");
    fips("my.dotted.bucket.s3-fips.dualstack.us-gov-east-1.amazonaws.com");
    fips("s3-fips-us-gov-west-1.amazonaws.com");
    fips("ap-111122223333.s3-accesspoint-fips.us-gov-west-1.amazonaws.com");
    // A bucket whose name says fips is not a FIPS endpoint.
    not_fips(
        "fips-x.s3.us-gov-west-1.amazonaws.com",
        "us-gov-west-1",
        Some("fips-x.s3-fips.us-gov-west-1.amazonaws.com"),
    );
    not_fips(
        "data-fips.s3.dualstack.us-gov-west-1.amazonaws.com",
        "us-gov-west-1",
        Some("data-fips.s3-fips.dualstack.us-gov-west-1.amazonaws.com"),
    );
    not_fips(
        "fips.s3.amazonaws.com",
        "us-east-1",
        Some("fips.s3-fips.us-east-1.amazonaws.com"),
    );
    not_fips(
        "vpce-logs.s3.us-gov-west-1.amazonaws.com",
        "us-gov-west-1",
        Some("vpce-logs.s3-fips.us-gov-west-1.amazonaws.com"),
    );
    not_fips(
        "fips-x.s3-us-gov-west-1.amazonaws.com",
        "us-gov-west-1",
        None,
    );
    not_fips(
        "111122223333.s3-control.us-gov-west-1.amazonaws.com",
        "us-gov-west-1",
        Some("111122223333.s3-control-fips.us-gov-west-1.amazonaws.com"),
    );
    not_fips(
        "s3.us-gov-west-1.amazonaws.com",
        "us-gov-west-1",
        Some("s3-fips.us-gov-west-1.amazonaws.com"),
    );
}

#[test]
fn vpc_endpoints_and_foreign_names_are_unknown() {
    unknown("vpce-0a1b2c3d4e5f-abcdefgh.sts.us-gov-west-1.vpce.amazonaws.com");
    unknown("bucket.vpce-0a1b2c3d4e5f-abcdefgh.s3.us-gov-west-1.vpce.amazonaws.com");
    unknown("example.com");
    unknown("signin.aws.amazon.com");
    unknown("10.0.0.1");
    unknown("[2001:db8::1]");
    unknown("");
    unknown("amazonaws.com");
    unknown("sts..us-gov-west-1.amazonaws.com");
    unknown("evil.amazonaws.com.example.net");
}

#[test]
fn case_port_and_trailing_dot_do_not_matter() {
    fips("STS.US-GOV-WEST-1.AMAZONAWS.COM.");
    fips("sts.us-gov-west-1.amazonaws.com:443");
}

proptest::proptest! {
    #[test]
    fn never_panics(host in "\\PC{0,80}", region in "[a-z0-9-]{0,20}") {
        let _ = classify(&host, &region);
    }

    #[test]
    fn aws_shaped_names_never_panic(
        labels in proptest::collection::vec("[a-z0-9-]{0,12}", 0..6),
        tail in proptest::sample::select(vec!["us-gov-west-1.amazonaws.com", "dualstack.us-east-1.api.aws", "amazonaws.com", "vpce.amazonaws.com"]),
    ) {
        let host = format!("{}.{tail}", labels.join("."));
        let _ = classify(&host, "us-gov-west-1");
    }
}

#[test]
fn regions_are_recognised() {
    for r in [
        "us-east-1",
        "us-gov-west-1",
        "us-isob-east-1",
        "eusc-de-east-1",
        "cn-north-1",
    ] {
        assert!(is_region(r), "{r}");
    }
    for r in [
        "s3-external-1",
        "us-gov",
        "dualstack",
        "us-east-1r",
        "us--1",
        "u-east-1",
    ] {
        assert!(!is_region(r), "{r}");
    }
}

/// Every host of the reference tables classifies as it is listed: FIPS hosts as FIPS, standard
/// hosts with a FIPS variant as not FIPS. Skipped when the reference folder is absent.
#[test]
fn agrees_with_the_reference_tables() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference");
    let Ok(text) = std::fs::read_to_string(format!("{dir}/fips-endpoints.json")) else {
        return;
    };
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    let issues = data["dataIssues"].to_string();
    let rules: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{dir}/ruleset-nonfips-named-fips-hosts.json")).unwrap(),
    )
    .unwrap();
    let mut fips_hosts: HashSet<String> = rules["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap().to_owned())
        .collect();
    let mut standard = Vec::new();
    for part in data["partitions"].as_object().unwrap().values() {
        let Some(services) = part["services"].as_object() else {
            continue;
        };
        for endpoints in services.values() {
            for e in endpoints.as_object().unwrap().values() {
                for h in e["fips"].as_array().into_iter().flatten() {
                    let h = h.as_str().unwrap();
                    if !issues.contains(&format!("\\\"{h}\\\"")) {
                        fips_hosts.insert(h.to_owned());
                    }
                }
                if let Some(h) = e["hostname"].as_str() {
                    if e.get("pseudoRegionFor").is_none() {
                        standard.push(h.to_owned());
                    }
                }
            }
        }
    }
    assert!(fips_hosts.len() > 1500);
    for h in &fips_hosts {
        assert_eq!(classify(h, ""), HostClass::Fips, "{h}");
    }
    let mut checked = 0;
    for h in standard.iter().filter(|h| !fips_hosts.contains(*h)) {
        assert!(
            matches!(classify(h, ""), HostClass::NotFips { fips_host: Some(_) }),
            "{h}"
        );
        checked += 1;
    }
    assert!(checked > 1000, "{checked}");
}
