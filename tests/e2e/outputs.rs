//! The Security Hub and EventBridge outputs against moto with the real SDK clients: findings
//! imported (and updated, not repeated, on re-delivery), events routed by a rule to SQS.

use super::{deadline, queue, sdk, sqs, tools, trigger, upload_corpus_objects, Alerts, ORG_KEY};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use trailwatch::lambda::outputs;
use trailwatch::lambda::s3::S3Source;
use trailwatch::lambda::{Config, Handler};

const PRODUCT: &str = "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default";

/// Routes events matching `pattern` on the default bus to a new queue; returns its URL.
async fn route(
    moto: SocketAddr,
    eb: &aws_sdk_eventbridge::Client,
    name: &str,
    pattern: Value,
) -> String {
    let (url, arn) = queue(moto, name, json!({}));
    eb.put_rule()
        .name(name)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("q")
        .arn(arn)
        .build()
        .unwrap();
    eb.put_targets()
        .rule(name)
        .targets(target)
        .send()
        .await
        .unwrap();
    url
}

fn events(moto: SocketAddr, url: &str) -> Vec<Value> {
    let got = sqs(
        moto,
        "ReceiveMessage",
        json!({"QueueUrl": url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 600}),
    );
    got["Messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| serde_json::from_str(m["Body"].as_str().unwrap()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// Every finding Security Hub holds.
async fn all_findings(
    hub: &aws_sdk_securityhub::Client,
) -> Vec<aws_sdk_securityhub::types::AwsSecurityFinding> {
    let out = hub.get_findings().send().await.unwrap();
    out.findings.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn security_hub_and_eventbridge_receive_the_alerts() {
    let moto = tools::Moto::start();
    let shared = sdk(&moto.url(), 3).await;
    let (s3, sns) = trailwatch::lambda::clients(&shared, true);
    upload_corpus_objects(&s3).await;
    let alerts = Alerts::create(moto.addr, &sns, "outputs").await;
    let eb = aws_sdk_eventbridge::Client::new(&shared);
    let medium = route(
        moto.addr,
        &eb,
        "trailwatch-medium",
        json!({
            "source": ["trailwatch"], "detail-type": ["trailwatch alert"],
            "detail": {"severity_id": [3]}
        }),
    )
    .await;
    let critical = route(
        moto.addr,
        &eb,
        "trailwatch-critical",
        json!({
            "source": ["trailwatch"], "detail": {"severity_id": [5]}
        }),
    )
    .await;
    let vars = [
        ("OUTPUTS", "sns,securityhub,eventbridge"),
        ("SECURITYHUB_PRODUCT_ARN", PRODUCT),
        ("ALERT_SCHEMA", "ocsf"),
    ];
    let topic = alerts.topic.clone();
    let config = Config::from_lookup(&move |n| match n {
        "TOPIC_ARN" => Some(topic.clone()),
        _ => vars
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.to_string()),
    })
    .unwrap();
    let catalog = trailwatch::lambda::catalog(&config, Path::new("/nonexistent")).unwrap();
    let outputs = outputs::build(&config, &shared);
    let mut h: Handler<S3Source> = Handler::new(S3Source::new(s3), outputs, catalog, config);
    h.metrics = Box::new(|_| {});
    let h = Arc::new(h);

    let answer = h
        .handle(trigger("s3-put-cloudtrail.json"), deadline())
        .await
        .unwrap();
    assert_eq!(answer["alerts"], 2, "{answer}");

    let hub = aws_sdk_securityhub::Client::new(&shared);
    let findings = all_findings(&hub).await;
    assert_eq!(findings.len(), 2, "one finding per alert");
    let f = &findings[0];
    assert_eq!(f.product_arn(), Some(PRODUCT));
    assert_eq!(f.generator_id(), Some("trailwatch/tls-outdated"));
    assert_eq!(f.severity().unwrap().label().unwrap().as_str(), "MEDIUM");
    assert_eq!(f.workflow().unwrap().status().unwrap().as_str(), "NEW");
    assert_eq!(f.record_state().unwrap().as_str(), "ACTIVE");
    assert_eq!(f.aws_account_id(), Some("111122223333"));
    let first_update = f.updated_at().unwrap().to_owned();

    let (sns_alerts, _) = alerts.take();
    assert_eq!(sns_alerts.len(), 2);
    assert_eq!(
        sns_alerts[0]["class_uid"], 2004,
        "ALERT_SCHEMA=ocsf shapes the SNS body"
    );
    let ids: Vec<&Value> = sns_alerts
        .iter()
        .map(|a| &a["finding_info"]["uid"])
        .collect();
    assert!(findings
        .iter()
        .all(|f| ids.contains(&&Value::from(f.id().unwrap()))));

    let routed = events(moto.addr, &medium);
    assert_eq!(routed.len(), 2, "the rule routes both medium alerts");
    assert_eq!(routed[0]["source"], "trailwatch");
    assert_eq!(routed[0]["detail-type"], "trailwatch alert");
    assert_eq!(routed[0]["detail"]["class_uid"], 2004);
    assert!(
        events(moto.addr, &critical).is_empty(),
        "no critical alert, nothing routed"
    );

    // A re-delivery of one object updates its finding instead of adding one.
    let answer = h
        .handle(trigger("eventbridge-s3-object-created.json"), deadline())
        .await
        .unwrap();
    assert_eq!(answer["alerts"], 1, "{answer}");
    let again = all_findings(&hub).await;
    assert_eq!(again.len(), 2, "the same alert id updates its finding");
    let updated = again
        .iter()
        .filter_map(|f| f.updated_at())
        .max()
        .unwrap()
        .to_owned();
    assert!(updated > first_update, "{updated} after {first_update}");
    let key = again
        .iter()
        .find(|f| f.updated_at() == Some(updated.as_str()))
        .and_then(|f| f.product_fields())
        .and_then(|p| p.get("trailwatch/source").cloned())
        .unwrap();
    assert!(key.ends_with(ORG_KEY), "{key}");
}
