//! The binary under the Lambda emulator, with a team's rule in its detectors folder that copies
//! a URL with a password, a user agent with a token URL and a role session named after a token
//! into its alerts: what reaches the SNS subscribers (message, subject, attributes) and the
//! function's log and metric lines holds none of the secrets.

use super::lambda_watch::{emulate_ready, invoke_with};
use super::tools::Moto;
use super::{sdk, Alerts, BUCKET};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::{json, Value};
use std::io::Write;

const KEY: &str = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T1010Z_Hook0001.json.gz";

/// Secrets that differ on every run: nothing can pass by matching a fixed string.
fn secrets() -> [String; 3] {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let word = |salt: u128, len: usize| -> String {
        let alphabet = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let mut x = seed ^ (salt * 0x9E37_79B9_7F4A_7C15);
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                alphabet[((x >> 64) % alphabet.len() as u128) as usize] as char
            })
            .collect()
    };
    [
        format!("Pw{}", word(1, 16)),
        format!("Ua{}", word(2, 16)),
        format!("ghp_{}", word(3, 36)),
    ]
}

fn delivery(password: &str, agent: &str, token: &str) -> Vec<u8> {
    let rec = json!({
        "eventVersion": "1.09", "eventTime": "2026-11-28T10:10:00Z",
        "eventSource": "codepipeline.amazonaws.com", "eventName": "PutWebhook",
        "awsRegion": "eu-west-1", "eventID": "e-1", "recipientAccountId": "111122223333",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": format!("ci-bot/2.1 (+https://ci:{agent}@git.example.com/repo)"),
        "userIdentity": {
            "type": "AssumedRole", "accountId": "111122223333",
            "arn": format!("arn:aws:sts::111122223333:assumed-role/Deployer/{token}"),
        },
        "requestParameters": {"url": format!("https://deploy:{password}@hooks.example.com/x")},
    });
    let text = json!({ "Records": [rec] }).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_copied_by_a_rule_reach_no_subscriber_and_no_log() {
    let [password, agent, token] = secrets();
    let moto = Moto::start();
    let shared = sdk(&moto.url(), 3).await;
    let (s3, sns) = trailwatch::lambda::clients(&shared, true);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    s3.put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(ByteStream::from(delivery(&password, &agent, &token)))
        .send()
        .await
        .unwrap();
    let alerts = Alerts::create(moto.addr, &sns, "secrets").await;
    let rules = std::env::temp_dir().join(format!("trailwatch-e2e-rules-{}", std::process::id()));
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("webhook-registered.yml"),
        include_str!("../data/rules/webhook-registered.yml"),
    )
    .unwrap();

    let (moto_url, rules_dir) = (moto.url(), rules.to_string_lossy().into_owned());
    let emulated = emulate_ready(
        "_",
        &[
            ("TOPIC_ARN", alerts.topic.as_str()),
            ("DETECTORS_DIR", rules_dir.as_str()),
            ("AWS_ENDPOINT_URL", moto_url.as_str()),
            ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
        ],
    );
    let (port, logs) = (emulated.port, emulated.logs.clone());

    let event = json!({"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": KEY}}}]});
    let answer = invoke_with(
        port,
        "the webhook delivery",
        &["--data-ascii", &event.to_string()],
    );
    assert_eq!(answer["objects"], 1, "{answer}");
    let envelopes = alerts.drain(&alerts.all);
    drop(emulated);
    let _ = std::fs::remove_dir_all(&rules);
    let detectors: Vec<&str> = envelopes
        .iter()
        .filter_map(|e| e["MessageAttributes"]["detector"]["Value"].as_str())
        .collect();
    assert!(
        detectors.contains(&"webhook-registered"),
        "the team's rule published its alert: {detectors:?}"
    );
    let published = Value::from(envelopes).to_string();
    let text = std::fs::read_to_string(&logs).unwrap();
    let _ = std::fs::remove_file(&logs);
    assert!(text.contains("object scanned"), "{text}");
    for secret in [&password, &agent, &token] {
        assert!(
            !published.contains(secret.as_str()),
            "{secret} reached a subscriber: {published}"
        );
        assert!(!text.contains(secret.as_str()), "{secret} reached the logs");
    }
    assert!(
        published.contains("https://deploy:****@hooks.example.com"),
        "the URL is shown masked: {published}"
    );
}
