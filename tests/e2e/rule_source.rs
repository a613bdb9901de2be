//! The S3 rule source (`DETECTORS_URI`) against moto: a filter uploaded takes effect at the
//! next check (at most every five minutes), a broken file keeps the last good set in force and
//! raises one `config-error` alert naming the file, once for two containers sharing the state
//! table.

use super::tools::Moto;
use super::{gzip, record, sdk, Alerts, ORG_KEY};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};
use trailwatch::lambda::publish::SnsSink;
use trailwatch::lambda::rule_source::RuleSource;
use trailwatch::lambda::s3::S3Source;
use trailwatch::lambda::state::{dynamo::DynamoTable, AnyTable, State};
use trailwatch::lambda::{Backoff, Config, Handler};

const RULES: &str = "tuning";
const LOGS: &str = "rule-source-logs";

const FILTER: &str = "title: e1 is known\nreason: a known job\nowner: ops\nfilter:\n  rules: [tls-outdated]\n  known:\n    eventID: e1\n  condition: not known\n";

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap();
}

/// The tls-outdated alerts and the config-error alerts published since the last call.
fn take(alerts: &Alerts) -> (Vec<Value>, Vec<Value>) {
    alerts
        .take()
        .0
        .into_iter()
        .partition(|a| a["detector"] == "tls-outdated")
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_from_s3_update_without_a_redeploy() {
    let moto = Moto::start();
    let shared = sdk(&moto.url(), 3).await;
    let (s3, sns) = trailwatch::lambda::clients(&shared, true);
    for bucket in [RULES, LOGS] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let logs = gzip(&[
        record(1, "TLSv1", "111122223333"),
        record(2, "TLSv1", "111122223333"),
    ]);
    put(&s3, LOGS, ORG_KEY, logs).await;
    let alerts = Alerts::create(moto.addr, &sns, "rule-source").await;
    let topic = alerts.topic.clone();
    let db = aws_sdk_dynamodb::Client::new(&shared);
    super::state::create_table(&db).await;
    let vars = [
        ("TOPIC_ARN", topic.clone()),
        ("DETECTORS_URI", format!("s3://{RULES}/rules/")),
        ("STATE_TABLE", super::state::TABLE.to_owned()),
    ];
    let config =
        Config::from_lookup(&move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .unwrap();
    let base = trailwatch::lambda::catalog(&config, Path::new("/nonexistent")).unwrap();
    let backoff = Backoff {
        attempts: 3,
        first: Duration::from_millis(20),
    };
    // Two warm containers of the function.
    let container = || {
        let uri = config.detectors_uri.clone().expect("DETECTORS_URI read");
        let state = State {
            table: AnyTable::Dynamo(DynamoTable::new(db.clone(), super::state::TABLE)),
            settings: config.state.clone().expect("STATE_TABLE read"),
        };
        let sink = SnsSink::new(sns.clone(), topic.clone());
        let outputs = super::sns_outputs(sink, &config, backoff);
        let mut h = Handler::new(
            S3Source::new(s3.clone()),
            outputs,
            base.clone(),
            config.clone(),
        )
        .with_rules(RuleSource::new(uri, s3.clone(), base.clone()))
        .with_state(std::sync::Arc::new(state));
        h.backoff = backoff;
        h.metrics = Box::new(|_| {});
        std::sync::Arc::new(h)
    };
    let (serving, other) = (container(), container());
    let event = json!({"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": LOGS}, "object": {"key": ORG_KEY}}}]});
    let t0 = Instant::now();
    let run = |at: Duration| {
        let (serving, event) = (&serving, event.clone());
        async move {
            serving.refresh_rules(t0 + at).await;
            serving
                .handle(event, Instant::now() + Duration::from_secs(300))
                .await
                .unwrap();
        }
    };
    let ids = |a: &Value| a["event_ids"].clone();

    // Nothing under the prefix: the built-in set.
    run(Duration::ZERO).await;
    let (tls, errors) = take(&alerts);
    assert_eq!((tls.len(), errors.len()), (1, 0));
    assert_eq!(ids(&tls[0]), json!(["e1", "e2"]));

    // A filter uploaded: not looked at before five minutes, applied after.
    put(&s3, RULES, "rules/known-job.yml", FILTER.into()).await;
    put(&s3, RULES, "rules/notes.txt", b"not a rule file".to_vec()).await;
    run(Duration::from_secs(60)).await;
    assert_eq!(
        ids(&take(&alerts).0[0]),
        json!(["e1", "e2"]),
        "not checked yet"
    );
    run(Duration::from_secs(301)).await;
    let (tls, errors) = take(&alerts);
    assert_eq!(
        ids(&tls[0]),
        json!(["e2"]),
        "the new filter dropped e1's finding"
    );
    assert!(errors.is_empty(), "{errors:?}");

    // A broken file: one config-error naming it, and the last good set stays in force.
    put(
        &s3,
        RULES,
        "rules/broken.yml",
        b"title: [unclosed\n".to_vec(),
    )
    .await;
    run(Duration::from_secs(602)).await;
    other.refresh_rules(t0 + Duration::from_secs(602)).await;
    let (tls, errors) = take(&alerts);
    assert_eq!(ids(&tls[0]), json!(["e2"]), "the filter still applies");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["detector"], "config-error");
    let summary = errors[0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!("s3://{RULES}/rules/broken.yml: ")),
        "{summary}"
    );
    assert_eq!(errors[0]["severity"], "high");
    run(Duration::from_secs(903)).await;
    let (tls, errors) = take(&alerts);
    assert!(
        errors.is_empty(),
        "the same broken set alerts once: {errors:?}"
    );
    assert_eq!(ids(&tls[0]), json!(["e2"]));

    // Fixed: the set loads again (the filter removed with it).
    s3.delete_object()
        .bucket(RULES)
        .key("rules/broken.yml")
        .send()
        .await
        .unwrap();
    s3.delete_object()
        .bucket(RULES)
        .key("rules/known-job.yml")
        .send()
        .await
        .unwrap();
    run(Duration::from_secs(1204)).await;
    assert_eq!(ids(&take(&alerts).0[0]), json!(["e1", "e2"]));
}
