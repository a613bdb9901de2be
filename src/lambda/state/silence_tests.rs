//! The heartbeat of trails with digest files: quiet is not silent, stopped is, once.

use super::*;
use crate::digest::{DigestBody, ListedFile};
use crate::lambda::state::MemoryTable;

/// 2026-11-28T10:00:00Z.
const T0: i64 = 1_795_860_000;
const H: i64 = 3600;
const AFTER: Overdue = Overdue {
    digests: 2 * H,
    logs: 6 * H,
};

fn digest_key(trail: &str, end: i64) -> String {
    let t = format_time(end).replace(['-', ':'], "");
    format!("AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/28/111122223333_CloudTrail-Digest_eu-west-1_{trail}_us-east-1_{t}.json.gz")
}

fn digest(trail: &str, end: i64, previous: Option<(&str, &str)>) -> Digest {
    let body = DigestBody {
        aws_account_id: "111122223333".into(),
        digest_start_time: format_time(end - H),
        digest_end_time: format_time(end),
        digest_s3_bucket: "logs".into(),
        digest_s3_object: digest_key(trail, end),
        digest_public_key_fingerprint: String::new(),
        digest_signature_algorithm: String::new(),
        previous_digest_s3_bucket: None,
        previous_digest_s3_object: previous.map(|p| p.0.to_owned()),
        previous_digest_hash_value: previous.map(|p| p.1.to_owned()),
        previous_digest_signature: None,
        log_files: Vec::<ListedFile>::new(),
    };
    Digest {
        body,
        sha256: format!("sha-{trail}-{end}"),
    }
}

async fn arrive(
    t: &MemoryTable,
    trail: &str,
    end: i64,
    previous: Option<(&str, &str)>,
) -> DigestBeat {
    let d = digest(trail, end, previous);
    let key = digest_key(trail, end);
    digest_arrived(t, ("logs", &key), (&d, None), Contention::DEFAULT)
        .await
        .unwrap()
}

fn detectors(alerts: &[(Alert, Held)]) -> Vec<(String, Severity)> {
    alerts
        .iter()
        .map(|(a, _)| (a.detector.clone(), a.severity))
        .collect()
}

#[tokio::test]
async fn a_quiet_trail_with_digests_is_never_silent_a_stopped_one_is_once() {
    let t = MemoryTable::default();
    let log = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T1005Z_a.json.gz";
    delivered(
        &t,
        ("logs", log, "2026-11-28T10:04:00Z"),
        T0 + 400,
        Contention::DEFAULT,
    )
    .await
    .unwrap();
    // Six hours: "quiet" sends a digest every hour (no log file after the first), "stopped"
    // two digests, then nothing.
    for h in 1..=6 {
        arrive(&t, "quiet", T0 + h * H, None).await;
        if h <= 2 {
            arrive(&t, "stopped", T0 + h * H, None).await;
        }
        let now = T0 + h * H + 600;
        let raised = check(&t, now, AFTER).await.unwrap();
        let expected = match h {
            // The stopped trail's last period ended at 12:00; at 14:10 it is 2h10 late.
            4 => vec![(TRAIL_SILENT.to_owned(), Severity::High)],
            _ => vec![],
        };
        assert_eq!(detectors(&raised), expected, "hour {h}");
        if let Some((a, _)) = raised.first() {
            assert_eq!(a.evidence["trail"], "stopped");
            assert!(a.summary.contains("Trail stopped"), "{}", a.summary);
        }
    }
    // The log place is judged by its digests: never silent, never unverifiable.
    let back = arrive(&t, "stopped", T0 + 7 * H, None).await;
    let (resumed, _) = back.resumed.expect("trail-resumed");
    assert_eq!(resumed.detector, TRAIL_RESUMED);
    assert!(check(&t, T0 + 7 * H + 600, AFTER).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_digest_naming_the_last_one_is_checked_against_its_hash() {
    let t = MemoryTable::default();
    arrive(&t, "main", T0 + H, None).await;
    let first = digest_key("main", T0 + H);
    let ok = arrive(
        &t,
        "main",
        T0 + 2 * H,
        Some((&first, &format!("sha-main-{}", T0 + H))),
    )
    .await;
    assert_eq!(ok.chain, None);
    let second = digest_key("main", T0 + 2 * H);
    let broken = arrive(&t, "main", T0 + 3 * H, Some((&second, "0000"))).await;
    assert!(broken.chain.unwrap().contains("the next digest names"));
    // Naming a digest this function never saw: nothing to check against.
    let skipped = arrive(&t, "main", T0 + 5 * H, Some(("elsewhere", "0000"))).await;
    assert_eq!(skipped.chain, None);
}

#[tokio::test]
async fn log_files_are_timed_by_their_names_not_by_the_clock() {
    let t = MemoryTable::default();
    let log = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T1005Z_a.json.gz";
    // Read ten hours after it was written: its place's heartbeat is 10:05, not the clock.
    delivered(&t, ("logs", log, ""), T0 + 10 * H, Contention::DEFAULT)
        .await
        .unwrap();
    let raised = check(&t, T0 + 10 * H, AFTER).await.unwrap();
    let got = detectors(&raised);
    assert_eq!(
        got,
        [
            (TRAIL_UNVERIFIABLE.to_owned(), Severity::Low),
            (TRAIL_SILENT.to_owned(), Severity::Medium)
        ]
    );
    assert_eq!(
        raised[1].0.evidence["last_log_file"],
        "2026-11-28T10:05:00Z"
    );
    // Two trails of one place: rows per trail, not per account and region.
    let rows: Vec<String> = t.rows().into_iter().map(|r| r.sk).collect();
    assert_eq!(
        rows.iter()
            .filter(|r| r.starts_with("log|s3://logs/AWSLogs/111122223333/eu-west-1"))
            .count(),
        1,
        "{rows:?}"
    );
}

#[test]
fn a_prefix_that_looks_like_the_layout_is_only_a_prefix() {
    let key = "org/CloudTrail/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T1005Z_a.json.gz";
    let (place, parts) = place_of("logs", key).unwrap();
    assert_eq!(
        place,
        "s3://logs/org/CloudTrail/AWSLogs/o-a1b2c3d4e5/111122223333/eu-west-1"
    );
    assert_eq!((parts.account, parts.region), ("111122223333", "eu-west-1"));
}
