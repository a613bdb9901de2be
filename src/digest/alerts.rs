//! The alerts of the digest checks: operational (about the trail's files, not about a call),
//! published whatever the minimum severity.

use super::key::{KeyKind, KeyParts};
use super::ledger::Verdict;
use crate::alert::id::alert_id;
use crate::alert::severity::Severity;
use crate::alert::{operational, Alert, Source};
use serde_json::json;

const VALIDATE: &str =
    "Compare with `aws cloudtrail validate-logs --trail-arn ARN --start-time T` \
                        and look in the bucket's server access logs or data events for who wrote \
                        or deleted objects under the trail's prefix.";

/// The alert of `verdict` about files in `bucket` (empty for a local tree).
pub fn verdict_alert(verdict: &Verdict, bucket: &str) -> Alert {
    let detector = verdict.detector();
    let key = verdict.key();
    let id = alert_id(&[detector, bucket, key]);
    let source = if bucket.is_empty() {
        Source::File { file: key.into() }
    } else {
        Source::Object {
            bucket: bucket.into(),
            key: key.into(),
        }
    };
    let mut a = operational(detector, id, source);
    if let Some(p) = KeyParts::parse(key) {
        a.account = p.account.into();
        a.region = p.region.into();
        // When the file was written (a log file) or the period ended (a digest).
        let at = match p.kind {
            KeyKind::Log { written } => written.unwrap_or(p.day * 86_400),
            KeyKind::Digest { end, .. } => end,
        };
        a.first_seen = crate::correlate::time::format_time(at);
        a.last_seen.clone_from(&a.first_seen);
    }
    a.subject = key.into();
    a.evidence.insert("key".into(), json!(key));
    a.references = vec![
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html".into(),
    ];
    match verdict {
        Verdict::Missing { key, digest } => {
            a.severity = Severity::High;
            a.title = "A CloudTrail log file is missing from its bucket".into();
            a.summary = format!(
                "The digest {digest} lists the log file {key}, and it is not in the bucket: it \
                 was deleted or moved, and its events were not analysed."
            );
            a.evidence.insert("digest".into(), json!(digest));
            a.remediation = format!(
                "Find who deleted it (S3 data events, server access logs, DeleteObject calls); \
                 restore it from a version if the bucket is versioned. {VALIDATE}"
            );
        }
        Verdict::Modified {
            key,
            digest,
            listed,
            found,
        } => {
            a.severity = Severity::Critical;
            a.title = "A CloudTrail log file was changed after delivery".into();
            let its = match digest.as_str() {
                "" => "its digest".to_owned(),
                d => format!("its digest {d}"),
            };
            a.summary = format!(
                "The log file {key} does not hash to what {its} lists: it was rewritten after \
                 CloudTrail delivered it. Its records cannot be trusted."
            );
            a.evidence.insert("digest".into(), json!(digest));
            a.evidence.insert("listed_sha256".into(), json!(listed));
            a.evidence.insert("found_sha256".into(), json!(found));
            a.remediation = format!(
                "Treat the file as tampered with: find who wrote it (PutObject on the key), \
                 restore the delivered version, and protect the bucket (Object Lock, a \
                 policy denying writes but CloudTrail's). {VALIDATE}"
            );
        }
        Verdict::Unlisted { key } => {
            a.severity = Severity::High;
            a.title = "A log file CloudTrail did not deliver".into();
            a.summary = format!(
                "The log file {key} sits under the trail's prefix, and no digest of its hour \
                 lists it: someone other than CloudTrail wrote it. Alerts from it may be forged."
            );
            a.remediation = format!(
                "Find who wrote it (PutObject on the key); limit writes to the prefix to \
                 CloudTrail's service principal. {VALIDATE}"
            );
        }
        Verdict::DigestInvalid { digest, why } => {
            a.severity = Severity::Critical;
            a.title = "A CloudTrail digest file does not verify".into();
            a.summary = format!(
                "The digest {digest} does not verify: {why}. The log files it lists cannot be \
                 proven unchanged."
            );
            a.evidence.insert("reason".into(), json!(why));
            a.remediation = format!(
                "Find who wrote the digest (PutObject under CloudTrail-Digest/). {VALIDATE}"
            );
        }
    }
    a
}

/// `trail-unverifiable`: the trail delivering to `location` (`s3://bucket/prefix/AWSLogs/...`)
/// sends log files and no digest files.
pub fn unverifiable(location: &str, account: &str, region: &str) -> Alert {
    let detector = crate::stage::TRAIL_UNVERIFIABLE;
    let id = alert_id(&[detector, location]);
    let source = Source::File {
        file: location.into(),
    };
    let mut a = operational(detector, id, source);
    a.severity = Severity::Low;
    a.account = account.into();
    a.region = region.into();
    a.subject = location.into();
    a.title = "A trail without log file validation".into();
    a.summary = format!(
        "Log files arrive in {location} and no digest file: log file validation is off. \
         trailwatch cannot prove that no log file is missing, changed or forged, and judges \
         silence from log deliveries only (a quiet region looks silent)."
    );
    a.evidence.insert("location".into(), json!(location));
    a.remediation = "Turn validation on: `aws cloudtrail update-trail --name TRAIL \
                     --enable-log-file-validation` (CIS AWS Foundations 3.2)."
        .into();
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_verdict_names_its_key_with_its_severity() {
        let key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T1030Z_a.json.gz";
        let cases = [
            (
                Verdict::Missing {
                    key: key.into(),
                    digest: "d".into(),
                },
                Severity::High,
            ),
            (
                Verdict::Modified {
                    key: key.into(),
                    digest: "d".into(),
                    listed: "aa".into(),
                    found: "bb".into(),
                },
                Severity::Critical,
            ),
            (Verdict::Unlisted { key: key.into() }, Severity::High),
            (
                Verdict::DigestInvalid {
                    digest: key.into(),
                    why: "bad".into(),
                },
                Severity::Critical,
            ),
        ];
        for (v, severity) in cases {
            let a = verdict_alert(&v, "logs");
            assert_eq!(a.severity, severity);
            assert_eq!(a.detector, v.detector());
            assert!(a.summary.contains(key), "{}", a.summary);
            assert_eq!(
                (a.account.as_str(), a.region.as_str()),
                ("111122223333", "eu-west-1")
            );
            assert!(crate::stage::OPERATIONAL.contains(&a.detector.as_str()));
        }
    }
}
