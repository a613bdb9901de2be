//! `replay s3://...` against moto: a bucket with two accounts (one an organization trail),
//! three regions and three days; the listing keeps only what `--since`, `--until`,
//! `--account` and `--region` select, and the output matches the local replay of the same
//! files (apart from the source, and the alert id hashed from it).

use super::http::{Call, Fault, FaultProxy, Rule};
use super::{gzip, record, sdk, tools};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const BUCKET: &str = "hunt-logs";

fn key(account: &str, region: &str, day: u32) -> String {
    let org = if account == "111122223333" {
        "o-a1b2c3d4e5/"
    } else {
        ""
    };
    format!("AWSLogs/{org}{account}/CloudTrail/{region}/2026/11/{day:02}/{account}_CloudTrail_{region}_202611{day:02}T1000Z_x.json.gz")
}

fn replay(url: &str, endpoint: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["replay", "--format", "jsonl", "--no-progress", url])
        .args(extra)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

/// The alerts without what differs between S3 and local sources.
fn comparable(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("source");
            o.remove("id");
            v
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_lists_only_the_selected_deliveries_and_matches_local_replay() {
    let moto = tools::Moto::start();
    let shared = sdk(&moto.url(), 3).await;
    let (s3, _) = trailwatch::lambda::clients(&shared, true);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let local = std::env::temp_dir().join(format!("trailwatch-replay-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&local);
    let mut n = 0;
    let mut selected = 0;
    for account in ["111122223333", "444455556666"] {
        for region in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
            for day in [26, 27, 28] {
                n += 1;
                let body = gzip(&[
                    record(n, "TLSv1", account),
                    record(n + 100, "TLSv1.3", account),
                ]);
                let k = key(account, region, day);
                s3.put_object()
                    .bucket(BUCKET)
                    .key(&k)
                    .body(ByteStream::from(body.clone()))
                    .send()
                    .await
                    .unwrap();
                let chosen = account == "111122223333" && region != "ap-southeast-2" && day >= 27;
                if chosen {
                    selected += 1;
                    let path = local.join(&k);
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(path, &body).unwrap();
                }
            }
        }
    }
    for other in [
        "AWSLogs/444455556666/CloudTrail-Digest/us-east-1/2026/11/27/d.json.gz",
        "AWSLogs/444455556666/CloudTrail/us-east-1/2026/11/27/notes.txt",
    ] {
        s3.put_object()
            .bucket(BUCKET)
            .key(other)
            .body(ByteStream::from(b"{}".to_vec()))
            .send()
            .await
            .unwrap();
    }

    let url = format!("s3://{BUCKET}/");
    let all = replay(&url, &moto.url(), &["--since", "2026-11-01"]);
    assert_eq!(
        all.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );
    assert_eq!(
        comparable(&all.stdout).len(),
        n,
        "one alert per delivery, digests and other keys skipped"
    );

    let filters = [
        "--since",
        "2026-11-27",
        "--until",
        "2026-11-28",
        "--account",
        "111122223333",
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
    ];
    let narrowed = replay(&url, &moto.url(), &filters);
    let stderr = String::from_utf8_lossy(&narrowed.stderr);
    assert_eq!(narrowed.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(&format!("{selected} files")), "{stderr}");
    let from_s3 = comparable(&narrowed.stdout);
    assert_eq!(from_s3.len(), selected);
    for line in String::from_utf8_lossy(&narrowed.stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let k = v["source"]["key"].as_str().unwrap();
        assert!(
            k.contains("/111122223333/") && !k.contains("ap-southeast-2") && !k.contains("/11/26/"),
            "{k}"
        );
        assert_eq!(v["source"]["bucket"], BUCKET);
    }
    let local_run = Command::new(env!("CARGO_BIN_EXE_trailwatch"))
        .args(["replay", "--format", "jsonl", "--no-progress"])
        .arg(Path::new(&local))
        .output()
        .unwrap();
    assert_eq!(
        comparable(&local_run.stdout),
        from_s3,
        "the same alerts as a local replay"
    );

    // Access denied on one object: the others are still read, the error names the key.
    let proxy = FaultProxy::start(
        moto.addr,
        vec![Rule {
            call: Call::GetObject,
            fault: Fault::Status(403, "AccessDenied"),
            times: 1,
            after: 0,
        }],
    );
    let mut one_job = filters.to_vec();
    one_job.extend(["--jobs", "1"]);
    let denied = replay(&url, &proxy.url(), &one_job);
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert_eq!(denied.status.code(), Some(2), "{stderr}");
    let first = key("111122223333", "eu-west-1", 27);
    assert!(
        stderr.contains(&format!(
            "s3://{BUCKET}/{first}: cannot open: GetObject: AccessDenied"
        )),
        "{stderr}"
    );
    assert_eq!(comparable(&denied.stdout).len(), selected - 1);

    // A typo in the account: nothing matches, and the note says what is there.
    let typo = replay(
        &url,
        &moto.url(),
        &["--since", "2026-11-27", "--account", "111122223334"],
    );
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert_eq!(typo.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("no deliveries"), "{stderr}");
    assert!(
        stderr.contains("the listing found accounts: 111122223333, 444455556666;"),
        "{stderr}"
    );

    let missing = replay(
        &format!("s3://no-such-bucket-{}/", std::process::id()),
        &moto.url(),
        &[],
    );
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("s3://no-such-bucket-"),
        "errors name the bucket and prefix: {stderr}"
    );
    let _ = std::fs::remove_dir_all(&local);
}
