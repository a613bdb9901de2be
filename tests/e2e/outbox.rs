//! No alert lost or doubled between DynamoDB and the outputs, with the release binary under
//! the Lambda emulator, moto behind a fault proxy: a transaction refused in the middle of a
//! delivery's writes (another writer first), then every publish failing right after the
//! scheduled check decided the windows; the next invocation publishes each alert once.

use super::http::{Call, Fault, FaultProxy, Rule};
use super::lambda_watch::{emulate_ready, invoke_raw, invoke_with};
use super::state::{key, put, rfc3339, s3_event, stack, Stack, TABLE};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const ACCOUNT: &str = "111122223333";

/// `n` refusals of `user`, ten seconds apart from `start`.
fn denied(user: &str, start: i64, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            json!({"eventVersion": "1.09", "eventID": format!("{user}-{i}"),
                "eventTime": rfc3339(start + 10 * i as i64), "eventSource": "s3.amazonaws.com",
                "eventName": "GetObject", "awsRegion": "us-east-1", "recipientAccountId": ACCOUNT,
                "sourceIPAddress": "198.51.100.7", "errorCode": "AccessDenied",
                "userIdentity": {"type": "AssumedRole", "accountId": ACCOUNT,
                    "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/app/{user}")}})
            .to_string()
        })
        .collect()
}

fn bursts(alerts: &[Value]) -> Vec<(String, u64)> {
    let mut b: Vec<(String, u64)> = alerts
        .iter()
        .filter(|a| a["detector"] == "access-denied-burst")
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_owned(),
                a["count"].as_u64().unwrap(),
            )
        })
        .collect();
    b.sort_by_key(|(_, n)| *n);
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn decided_alerts_survive_a_refused_write_and_a_failed_publish_and_arrive_once() {
    let Stack {
        moto,
        s3,
        db,
        alerts,
        now,
    } = stack("outbox").await;
    let mut records = denied("ann", now - 300, 21);
    records.extend(denied("bob", now - 300, 22));
    records.extend(denied("cid", now - 300, 23));
    let k = key(ACCOUNT, "us-east-1", 1);
    put(&s3, &k, &records).await;

    // The second of the delivery's transactions (three groups, then the trail) is refused.
    let proxy = FaultProxy::start(
        moto.addr,
        vec![Rule {
            call: Call::TransactWriteItems,
            fault: Fault::ConditionFailed,
            times: 1,
            after: 1,
        }],
    );
    let proxy_url = proxy.url();
    let emulated = emulate_ready(
        "trailwatch-outbox",
        &[
            ("TOPIC_ARN", alerts.topic.as_str()),
            ("AWS_ENDPOINT_URL", proxy_url.as_str()),
            ("STATE_TABLE", TABLE),
        ],
    );
    let port = emulated.port;
    let answer = invoke_with(port, "delivery", &["--data-ascii", &s3_event(&[&k])]);
    assert_eq!(answer["objects"], 1, "{answer}");
    assert_eq!(
        proxy.injected.lock().unwrap().len(),
        1,
        "the refusal was met"
    );
    assert!(bursts(&alerts.take().0).is_empty(), "no window decided yet");

    // An hour later the check decides the three windows; every publish fails.
    proxy.set(vec![Rule {
        call: Call::PublishBatch,
        fault: Fault::Status(500, "InternalFailure"),
        times: usize::MAX,
        after: 0,
    }]);
    let check = |at: i64| json!({"trailwatch": "scheduled-check", "time": rfc3339(at)}).to_string();
    let (ok, text) = invoke_raw(port, &["--data-ascii", &check(now + 3600)]);
    assert!(!ok, "the check fails so that it is retried: {text}");
    assert!(bursts(&alerts.take().0).is_empty());

    // The topic is back: the next invocation publishes what the failed one decided, once.
    proxy.set(Vec::new());
    invoke_with(port, "second check", &["--data-ascii", &check(now + 3660)]);
    let got = bursts(&alerts.take().0);
    let counts: Vec<u64> = got.iter().map(|(_, n)| *n).collect();
    assert_eq!(
        counts,
        [21, 22, 23],
        "every event once, every window once: {got:?}"
    );
    invoke_with(port, "third check", &["--data-ascii", &check(now + 3720)]);
    invoke_with(port, "delivery again", &["--data-ascii", &s3_event(&[&k])]);
    assert!(bursts(&alerts.take().0).is_empty(), "and never again");

    // No minute row without its group row; nothing left in the outbox.
    let rows = db.scan().table_name(TABLE).send().await.unwrap();
    let text =
        |item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
         name: &str| item[name].as_s().unwrap().clone();
    let items = rows.items();
    let groups: BTreeSet<String> = items
        .iter()
        .filter(|i| text(i, "pk").starts_with("corr#g#"))
        .map(|i| text(i, "sk"))
        .collect();
    for i in items {
        let pk = text(i, "pk");
        assert_ne!(pk, "outbox", "nothing pending");
        if let Some(hash) = pk.strip_prefix("corr#").filter(|h| !h.starts_with("g#")) {
            assert!(groups.contains(hash), "minute row {pk} without its group");
        }
    }
    drop(emulated);
}
