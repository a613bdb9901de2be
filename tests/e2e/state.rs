//! State across deliveries against moto's DynamoDB, with the binary under `cargo lambda watch`:
//! a brute force spread over three deliveries raises one alert; a file delivered twice counts
//! once; the scheduled check finds the silent trails; the next delivery says it resumed.

use super::lambda_watch::{emulate_ready, invoke_with};
use super::tools::Moto;
use super::{gzip, sdk, Alerts};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

pub(super) const BUCKET: &str = "state-trail-logs";
pub(super) const TABLE: &str = "trailwatch-state";

pub(super) fn key(account: &str, region: &str, n: usize) -> String {
    format!("AWSLogs/{account}/CloudTrail/{region}/2026/12/01/{account}_CloudTrail_{region}_20261201T0000Z_state{n:02}.json.gz")
}

pub(super) fn rfc3339(secs: i64) -> String {
    trailwatch::correlate::time::format_time(secs)
}

/// A failed console sign-in `seconds` after `start`.
fn failure(id: &str, start: i64, seconds: i64, ip: &str, user: &str, account: &str) -> String {
    json!({"eventVersion": "1.08", "eventID": id, "eventTime": rfc3339(start + seconds),
        "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1", "recipientAccountId": account, "sourceIPAddress": ip,
        "errorMessage": "Failed authentication", "responseElements": {"ConsoleLogin": "Failure"},
        "userIdentity": {"type": "IAMUser", "accountId": account, "userName": user,
            "arn": format!("arn:aws:iam::{account}:user/{user}")}})
    .to_string()
}

pub(super) async fn create_table(db: &aws_sdk_dynamodb::Client) {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    db.create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .unwrap();
}

pub(super) async fn put(s3: &aws_sdk_s3::Client, key: &str, records: &[String]) {
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from(gzip(records)))
        .send()
        .await
        .unwrap();
}

pub(super) fn s3_event(keys: &[&str]) -> String {
    let records: Vec<Value> = keys
        .iter()
        .map(|k| json!({"eventSource": "aws:s3", "s3": {"bucket": {"name": BUCKET}, "object": {"key": k}}}))
        .collect();
    json!({ "Records": records }).to_string()
}

fn detectors(alerts: &[Value]) -> Vec<String> {
    let mut d: Vec<String> = alerts
        .iter()
        .map(|a| a["detector"].as_str().unwrap_or("").to_owned())
        .collect();
    d.sort();
    d
}

/// moto with the state table, the trail bucket and a topic whose alerts are kept.
pub(super) struct Stack {
    pub moto: Moto,
    pub s3: aws_sdk_s3::Client,
    pub db: aws_sdk_dynamodb::Client,
    pub alerts: Alerts,
    /// The clock when it was made.
    pub now: i64,
}

/// The [`Stack`] of the test `name`.
pub(super) async fn stack(name: &str) -> Stack {
    let moto = Moto::start();
    let shared = sdk(&moto.url(), 3).await;
    let (s3, sns) = trailwatch::lambda::clients(&shared, true);
    let db = aws_sdk_dynamodb::Client::new(&shared);
    create_table(&db).await;
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let alerts = Alerts::create(moto.addr, &sns, name).await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    Stack {
        moto,
        s3,
        db,
        alerts,
        now,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn correlation_and_silence_across_deliveries_in_dynamodb() {
    let Stack {
        moto,
        s3,
        alerts,
        now,
        ..
    } = stack("state").await;
    let start = now - 300;

    // 24 failures from one address against one user, eight per delivery, from two regions.
    let (account, other) = ("111122223333", "444455556666");
    let mut brute = Vec::new();
    for (d, region) in ["us-east-1", "eu-west-1", "us-east-1"].iter().enumerate() {
        let records: Vec<String> = (0..8)
            .map(|i| {
                let n = d * 8 + i;
                failure(
                    &format!("bf-{n}"),
                    start,
                    n as i64 * 10,
                    "203.0.113.9",
                    "alice",
                    account,
                )
            })
            .collect();
        let k = key(account, region, d);
        put(&s3, &k, &records).await;
        brute.push(k);
    }
    // 12 failures in one file of another account, delivered twice: 12, not 24.
    let twice: Vec<String> = (0..12)
        .map(|i| {
            failure(
                &format!("tw-{i}"),
                start,
                i * 10,
                "198.51.100.7",
                "bob",
                other,
            )
        })
        .collect();
    let twice_key = key(other, "us-east-1", 9);
    put(&s3, &twice_key, &twice).await;

    // A team rule with a dedup window: one alert an hour per user and address.
    let rules = std::env::temp_dir().join(format!("trailwatch-e2e-state-{}", std::process::id()));
    std::fs::create_dir_all(&rules).unwrap();
    let rule = include_str!("../data/rules/signin-failure-watch.yml");
    std::fs::write(rules.join("signin-failure-watch.yml"), rule).unwrap();
    let rules_dir = rules.display().to_string();
    let moto_url = moto.url();
    let emulated = emulate_ready(
        "trailwatch-state",
        &[
            ("TOPIC_ARN", alerts.topic.as_str()),
            ("AWS_ENDPOINT_URL", moto_url.as_str()),
            ("STATE_TABLE", TABLE),
            ("DETECTORS_DIR", rules_dir.as_str()),
        ],
    );
    let (port, logs) = (emulated.port, emulated.logs.clone());
    for (n, k) in brute.iter().chain([&twice_key, &twice_key]).enumerate() {
        let answer = invoke_with(
            port,
            &format!("delivery {n}"),
            &["--data-ascii", &s3_event(&[k])],
        );
        assert_eq!(answer["objects"], 1, "{answer}");
    }
    let (got, _) = alerts.take();
    assert!(
        !detectors(&got)
            .iter()
            .any(|d| d.starts_with("console-brute-force")),
        "no decision while the window is open: {got:?}"
    );
    let watched = |got: &[Value]| -> Vec<Value> {
        got.iter()
            .filter(|a| a["detector"] == "signin-failure-watch")
            .cloned()
            .collect()
    };
    let first = watched(&got);
    assert_eq!(
        first.len(),
        2,
        "one per user and address, the rest held: {first:#?}"
    );

    // The scheduled check two hours later: the windows closed; the places sent log files
    // and no digest (written days ago, by their names): unverifiable, and silent at medium.
    let later = rfc3339(now + 7200);
    let check = json!({"trailwatch": "scheduled-check", "time": later}).to_string();
    let answer = invoke_with(port, "scheduled check", &["--data-ascii", &check]);
    assert_eq!(answer["scheduled"], "checked", "{answer}");
    let (got, urgent) = alerts.take();
    // The dedup windows closed: alice's held two alerts, hence a summary; bob's file came
    // twice, the same alert id, held nothing, hence none.
    let mut summaries: Vec<u64> = watched(&got)
        .iter()
        .map(|a| a["evidence"]["dedup"]["alerts"].as_u64().unwrap())
        .collect();
    summaries.sort();
    assert_eq!(summaries, [2], "{got:#?}");
    let got: Vec<Value> = got
        .into_iter()
        .filter(|a| a["detector"] != "signin-failure-watch")
        .collect();
    assert_eq!(
        detectors(&got),
        [
            "console-brute-force",
            "console-brute-force-user",
            "trail-silent",
            "trail-silent",
            "trail-silent",
            "trail-unverifiable",
            "trail-unverifiable",
            "trail-unverifiable"
        ],
        "{got:#?}"
    );
    let ip = got
        .iter()
        .find(|a| a["detector"] == "console-brute-force")
        .unwrap();
    assert_eq!(ip["count"], 24, "three deliveries counted once each: {ip}");
    assert_eq!(
        urgent, 2,
        "the correlations are high; silence without digests is medium"
    );
    let mut silent: Vec<String> = got
        .iter()
        .filter(|a| a["detector"] == "trail-silent")
        .map(|a| {
            format!(
                "{} {}",
                a["account"].as_str().unwrap(),
                a["region"].as_str().unwrap()
            )
        })
        .collect();
    silent.sort();
    assert_eq!(
        silent,
        [
            format!("{account} eu-west-1"),
            format!("{account} us-east-1"),
            format!("{other} us-east-1")
        ]
    );

    // Checked again: nothing new. Then a delivery from a silent region: trail-resumed.
    let again = json!({"trailwatch": "scheduled-check", "time": rfc3339(now + 8100)}).to_string();
    invoke_with(port, "second check", &["--data-ascii", &again]);
    assert!(alerts.take().0.is_empty(), "raised once");
    let back = vec![failure("late-1", now, 0, "192.0.2.1", "carol", account)];
    let back_key = key(account, "eu-west-1", 20);
    put(&s3, &back_key, &back).await;
    invoke_with(port, "resumed", &["--data-ascii", &s3_event(&[&back_key])]);
    let (got, _) = alerts.take();
    let resumed: Vec<&Value> = got
        .iter()
        .filter(|a| a["detector"] == "trail-resumed")
        .collect();
    assert_eq!(resumed.len(), 1, "{got:#?}");
    assert_eq!(
        (
            resumed[0]["account"].as_str(),
            resumed[0]["region"].as_str()
        ),
        (Some(account), Some("eu-west-1"))
    );

    drop(emulated);
    let _ = std::fs::remove_dir_all(&rules);
    let text = std::fs::read_to_string(&logs).unwrap();
    let _ = std::fs::remove_file(&logs);
    let calls: Vec<u64> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "object scanned")
        .filter_map(|l| l["state_calls"].as_u64())
        .collect();
    eprintln!("DynamoDB calls per delivery: {calls:?}");
    assert_eq!(calls.len(), 6, "{text}");
    // At most, per group touched (two here): its row and its minutes read, up to three
    // minute rows and its row written; the dedup windows read and one written; the trail's
    // row read and written.
    assert!(
        calls.iter().all(|&c| (2..=2 * 6 + 2 + 2).contains(&c)),
        "{calls:?}"
    );
}

/// The DynamoDB table against moto: conditioned writes, one row or a whole partition (several
/// pages), deletes in batches.
#[tokio::test(flavor = "multi_thread")]
async fn the_dynamodb_table_conditions_pages_and_deletes() {
    use trailwatch::lambda::state::dynamo::DynamoTable;
    use trailwatch::lambda::state::{Row, Table};
    let moto = Moto::start();
    let shared = sdk(&moto.url(), 3).await;
    let db = aws_sdk_dynamodb::Client::new(&shared);
    create_table(&db).await;
    let table = DynamoTable::new(db, TABLE);
    let row = |sk: &str, ver: u64, body: String| Row {
        pk: "p".into(),
        sk: sk.into(),
        ver,
        body,
        expires: 1_800_000_000,
    };
    assert!(table.put(&row("a", 1, "one".into())).await.unwrap());
    assert!(
        !table.put(&row("a", 1, "again".into())).await.unwrap(),
        "exists already"
    );
    assert!(table.put(&row("a", 2, "two".into())).await.unwrap());
    assert!(
        !table.put(&row("a", 2, "stale".into())).await.unwrap(),
        "version 2 is taken"
    );
    assert!(
        !table.put(&row("a", 4, "ahead".into())).await.unwrap(),
        "version 3 was not read"
    );
    let got = table.query("p", Some("a")).await.unwrap();
    assert_eq!((got.len(), got[0].ver, got[0].body.as_str()), (1, 2, "two"));
    // 30 rows of 100 KB: more than one 1 MB page.
    let big = "x".repeat(100_000);
    for i in 0..30 {
        assert!(table
            .put(&row(&format!("b{i:02}"), 1, big.clone()))
            .await
            .unwrap());
    }
    let before = table.calls();
    let all = table.query("p", None).await.unwrap();
    assert_eq!(all.len(), 31);
    assert!(table.calls() - before >= 3, "several pages");
    let keys: Vec<(String, String)> = all.iter().map(|r| (r.pk.clone(), r.sk.clone())).collect();
    table.delete(&keys[..25]).await.unwrap();
    table.delete(&keys[25..]).await.unwrap();
    assert!(table.query("p", None).await.unwrap().is_empty());
}
