//! `fips-endpoint`: a call to a non-FIPS endpoint where the FIPS policy requires FIPS.

use super::fips_hosts::{classify, HostClass};
use super::fips_policy::FipsPolicy;
use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::memo::Memo;
use crate::record::Record;

/// The detector id.
pub const ID: &str = "fips-endpoint";

/// Calls that must use FIPS endpoints and did not.
pub struct FipsEndpoint {
    policy: FipsPolicy,
    /// The policy as evidence shows it.
    policy_text: String,
    verdicts: Verdicts,
}

/// What the policy and the host tables say of one host, region and account.
enum Verdict {
    Fine,
    /// Not a FIPS endpoint where FIPS is required; its FIPS counterpart when known.
    NotFips(Option<String>),
}

/// Verdicts already reached, by host, region and account: a delivery calls few endpoints from
/// few places, and each verdict is the same every time.
#[derive(Default)]
struct Verdicts(Memo<Verdict>);

impl Verdicts {
    fn get(&mut self, policy: &FipsPolicy, host: &str, region: &str, account: &str) -> &Verdict {
        let key = self.0.key();
        for part in [host, region, account] {
            key.extend_from_slice(&part.len().to_le_bytes());
            key.extend_from_slice(part.as_bytes());
        }
        self.0.get_or_insert_with(|| {
            if !policy.requires(region, account) {
                return Verdict::Fine;
            }
            match classify(host, region) {
                HostClass::NotFips { fips_host } => Verdict::NotFips(fips_host),
                HostClass::Fips | HostClass::Unknown => Verdict::Fine,
            }
        })
    }
}

impl FipsEndpoint {
    /// The detector for `policy`.
    pub fn new(policy: FipsPolicy) -> FipsEndpoint {
        FipsEndpoint {
            policy_text: policy.to_string(),
            policy,
            verdicts: Verdicts::default(),
        }
    }
}

impl Detector for FipsEndpoint {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let Some(host) = record.tls_host().filter(|h| !h.trim().is_empty()) else {
            return;
        };
        // An AWS service calling on the account's behalf picks its own endpoint.
        if record.invoked_by().is_some() {
            return;
        }
        let region = record.region();
        let verdict = self
            .verdicts
            .get(&self.policy, host, region, record.account());
        let Verdict::NotFips(fips_host) = verdict else {
            return;
        };
        let region_text = if region.is_empty() {
            "an unknown region"
        } else {
            region
        };
        let advice = match &fips_host {
            Some(h) => format!("use {h}"),
            None => "no FIPS endpoint is listed for this host name".to_owned(),
        };
        let summary = format!(
            "{} called {host}, not a FIPS endpoint, in {region_text} where FIPS is required ({advice})",
            record.event_name(),
        );
        let mut finding = Finding::new(ID, Severity::Medium, record, host, summary)
            .with("host", host)
            .with("region", region)
            .with("fips_policy", self.policy_text.as_str());
        if let Some(h) = fips_host {
            finding = finding.with("fips_endpoint", h.as_str());
        }
        out.push(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(policy: &str, region: &str, host: &str, extra: &str) -> Vec<Finding<'static>> {
        let mut d = FipsEndpoint::new(policy.parse().unwrap());
        let text = format!(
            r#"{{"eventName":"Decrypt","awsRegion":"{region}","recipientAccountId":"111122223333",
            "userIdentity":{{"type":"IAMUser","arn":"arn:aws-us-gov:iam::111122223333:user/ci"}},
            "tlsDetails":{{"tlsVersion":"TLSv1.3","clientProvidedHostHeader":"{host}"}}{extra}}}"#
        );
        crate::detectors::findings_in(&mut d, text.as_bytes()).unwrap()
    }

    #[test]
    fn fires_on_non_fips_host_in_govcloud() {
        let out = run(
            "us-gov-*",
            "us-gov-west-1",
            "kms.us-gov-west-1.amazonaws.com",
            "",
        );
        assert_eq!(out.len(), 1);
        let f = &out[0];
        assert_eq!(
            (f.severity, &*f.target),
            (Severity::Medium, "kms.us-gov-west-1.amazonaws.com")
        );
        assert_eq!(
            f.evidence["fips_endpoint"],
            "kms-fips.us-gov-west-1.amazonaws.com"
        );
        assert!(
            f.summary_text()
                .contains("use kms-fips.us-gov-west-1.amazonaws.com"),
            "{}",
            f.summary_text()
        );
    }

    #[test]
    fn silent_on_fips_unknown_and_unrequired() {
        for (policy, region, host) in [
            (
                "us-gov-*",
                "us-gov-west-1",
                "sts.us-gov-west-1.amazonaws.com",
            ),
            (
                "us-gov-*",
                "us-gov-west-1",
                "kms-fips.us-gov-west-1.amazonaws.com",
            ),
            (
                "us-gov-*",
                "us-gov-west-1",
                "vpce-01-ab.kms.us-gov-west-1.vpce.amazonaws.com",
            ),
            ("us-gov-*", "us-east-1", "kms.us-east-1.amazonaws.com"),
            ("none", "us-gov-west-1", "kms.us-gov-west-1.amazonaws.com"),
            ("222233334444", "us-east-1", "kms.us-east-1.amazonaws.com"),
        ] {
            assert!(run(policy, region, host, "").is_empty(), "{policy} {host}");
        }
    }

    #[test]
    fn account_policy_and_failed_calls() {
        let out = run(
            "111122223333",
            "us-east-1",
            "fips-x.s3.us-east-1.amazonaws.com",
            r#","errorCode":"AccessDenied""#,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].severity, Severity::Low);
        assert_eq!(
            out[0].evidence["fips_endpoint"],
            "fips-x.s3-fips.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn remembered_verdicts_keep_host_region_and_account_apart() {
        let mut d = FipsEndpoint::new("111122223333".parse().unwrap());
        let record = |account: &str, region: &str| {
            format!(
                r#"{{"eventName":"Decrypt","awsRegion":"{region}","recipientAccountId":"{account}",
                "tlsDetails":{{"clientProvidedHostHeader":"kms.{region}.amazonaws.com"}}}}"#
            )
        };
        let mut count = |account: &str, region: &str| {
            let text = record(account, region);
            crate::detectors::findings_in(&mut d, text.as_bytes())
                .unwrap()
                .len()
        };
        for _ in 0..2 {
            assert_eq!(count("111122223333", "us-east-1"), 1);
            assert_eq!(count("444455556666", "us-east-1"), 0);
            assert_eq!(count("111122223333", "eu-west-1"), 1);
        }
    }

    #[test]
    fn remembered_verdicts_do_not_mix_parts_with_line_breaks() {
        let mut d = FipsEndpoint::new("us-east-*".parse().unwrap());
        let mut count = |host: &str, region: &str| {
            let text = format!(
                r#"{{"eventName":"Decrypt","awsRegion":"{region}","recipientAccountId":"1",
                "tlsDetails":{{"clientProvidedHostHeader":"{host}"}}}}"#
            );
            crate::detectors::findings_in(&mut d, text.as_bytes())
                .unwrap()
                .len()
        };
        let host = "kms.us-east-1.amazonaws.com";
        // Joined with line breaks, both would read `host \n us-east-1 \n us-east-1 \n 1`.
        assert_eq!(count(&format!("{host}\\nus-east-1"), "us-east-1"), 0);
        assert_eq!(count(host, "us-east-1\\nus-east-1"), 1);
    }

    #[test]
    fn aws_service_on_behalf_is_not_the_client() {
        let text = br#"{"eventName":"Decrypt","awsRegion":"us-gov-west-1",
            "userIdentity":{"type":"AWSService","invokedBy":"cloudformation.amazonaws.com"},
            "tlsDetails":{"clientProvidedHostHeader":"kms.us-gov-west-1.amazonaws.com"}}"#;
        let r = Record::parse(text).unwrap();
        let mut out = Vec::new();
        FipsEndpoint::new(FipsPolicy::All).inspect(&r, &mut out);
        assert!(out.is_empty());
    }
}
