//! End-to-end tests against a real moto server (S3, SNS, SQS) on a loopback port, with the
//! real AWS SDK clients: every corpus trigger, faults injected by a proxy, and the built
//! binary serving as a Lambda bootstrap under `cargo lambda watch`.
//!
//! Run with `cargo test --features e2e --test e2e`; the tools come from `$TRAILWATCH_VENV`
//! or `PATH` (see `tools.rs`).

#[path = "../common/corpus.rs"]
mod corpus;
mod digests;
mod http;
mod lambda_watch;
mod outbox;
mod outputs;
mod replay_s3;
mod rule_source;
mod secrets;
mod state;

mod tools;
#[path = "../common/trails.rs"]
mod trails;

use aws_sdk_s3::primitives::ByteStream;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use trailwatch::lambda::outputs::sns::SnsOutput;
use trailwatch::lambda::outputs::Outputs;
use trailwatch::lambda::publish::SnsSink;
use trailwatch::lambda::s3::S3Source;
use trailwatch::lambda::{Backoff, Config, Handler};

pub const BUCKET: &str = "org-trail-logs";
pub const ORG_KEY: &str = "AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/us-east-1/2026/11/28/111122223333_CloudTrail_us-east-1_20261128T1005Z_Mu0KsOhtH1ar15ZZ.json.gz";
pub const GOV_KEY: &str = "audit logs/AWSLogs/111122223333/CloudTrail/us-gov-west-1/2026/11/28/111122223333_CloudTrail_us-gov-west-1_20261128T1010Z_aB3dEf6hIj9kLm2n.json.gz";

/// The shared AWS configuration for an endpoint: dummy credentials, us-east-1.
pub async fn sdk(url: &str, attempts: u32) -> aws_config::SdkConfig {
    let retry = aws_config::retry::RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(20));
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "e2e",
        ))
        .retry_config(retry)
        .load()
        .await
}

pub fn record(id: usize, tls: &str, account: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2026-11-28T10:00:{s:02}Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","recipientAccountId":"{account}","eventID":"e{id}","sourceIPAddress":"198.51.100.7","userAgent":"legacy/1.0","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::{account}:user/ci","accountId":"{account}"}},"tlsDetails":{{"tlsVersion":"{tls}","clientProvidedHostHeader":"s3.amazonaws.com"}}}}"#,
        s = id % 60
    )
}

pub fn gzip(records: &[String]) -> Vec<u8> {
    use std::io::Write;
    let text = format!(r#"{{"Records":[{}]}}"#, records.join(","));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

/// SQS through its JSON protocol, without an SDK (moto does not check signatures).
pub fn sqs(addr: SocketAddr, action: &str, body: Value) -> Value {
    let target = format!("AmazonSQS.{action}");
    let auth = "AWS4-HMAC-SHA256 Credential=testing/20261128/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0";
    let headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("X-Amz-Target", target.as_str()),
        ("Authorization", auth),
    ];
    let r = http::request(addr, "POST", "/", &headers, body.to_string().as_bytes());
    assert_eq!(
        r.status(),
        200,
        "SQS {action}: {}",
        String::from_utf8_lossy(&r.body)
    );
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

/// A topic with two queues subscribed: every alert, and (by the default email filter policy
/// of the template) only high and critical ones and ingest errors.
pub struct Alerts {
    pub topic: String,
    pub all: String,
    urgent: String,
    addr: SocketAddr,
}

impl Alerts {
    pub async fn create(moto: SocketAddr, sns: &aws_sdk_sns::Client, name: &str) -> Alerts {
        let topic = sns
            .create_topic()
            .name(name)
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        let mut queues = Vec::new();
        for (suffix, policy) in [
            ("all", None),
            (
                "urgent",
                Some(
                    r#"{"$or": [{"severity": ["high", "critical"]}, {"detector": ["ingest-error"]}]}"#,
                ),
            ),
        ] {
            let (url, arn) = queue(moto, &format!("{name}-{suffix}"), json!({}));
            let mut sub = sns
                .subscribe()
                .topic_arn(&topic)
                .protocol("sqs")
                .endpoint(&arn);
            if let Some(p) = policy {
                sub = sub.attributes("FilterPolicy", p);
            }
            sub.send().await.unwrap();
            queues.push(url);
        }
        Alerts {
            topic,
            all: queues[0].clone(),
            urgent: queues[1].clone(),
            addr: moto,
        }
    }

    /// Every SNS envelope waiting in a queue (received once each).
    pub fn drain(&self, queue: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let got = sqs(
                self.addr,
                "ReceiveMessage",
                json!({"QueueUrl": queue, "MaxNumberOfMessages": 10, "VisibilityTimeout": 600}),
            );
            let Some(messages) = got["Messages"].as_array().filter(|m| !m.is_empty()) else {
                break;
            };
            for m in messages {
                out.push(serde_json::from_str(m["Body"].as_str().unwrap()).unwrap());
            }
        }
        out
    }

    /// The alerts delivered to the all-alerts queue, and the number delivered to the urgent one.
    pub fn take(&self) -> (Vec<Value>, usize) {
        let envelopes = self.drain(&self.all);
        let alerts = envelopes
            .iter()
            .map(|e| {
                let text = e["Message"].as_str().unwrap();
                let mut alert: Value =
                    serde_json::from_str(text).unwrap_or_else(|err| panic!("{err}: {text}"));
                alert["_subject"] = e["Subject"].clone();
                alert["_severity_attribute"] = e["MessageAttributes"]["severity"]["Value"].clone();
                alert
            })
            .collect();
        (alerts, self.drain(&self.urgent).len())
    }
}

pub fn config(topic: &str) -> Config {
    let topic = topic.to_owned();
    Config::from_lookup(&move |k| (k == "TOPIC_ARN").then(|| topic.clone())).unwrap()
}

fn handler(shared: &aws_config::SdkConfig, topic: &str, attempts: u32) -> Arc<Handler<S3Source>> {
    let config = config(topic);
    let (s3, sns) = trailwatch::lambda::clients(shared, true);
    let catalog = trailwatch::lambda::catalog(&config, Path::new("/nonexistent")).unwrap();
    let backoff = Backoff {
        attempts,
        first: Duration::from_millis(20),
    };
    let outputs = sns_outputs(SnsSink::new(sns, topic.to_owned()), &config, backoff);
    let mut h = Handler::new(S3Source::new(s3), outputs, catalog, config);
    h.backoff = backoff;
    h.metrics = Box::new(|_| {});
    Arc::new(h)
}

/// The SNS output alone, through `sink`, retrying with `backoff`.
pub fn sns_outputs(sink: SnsSink, config: &Config, backoff: Backoff) -> Outputs {
    let mut sns = SnsOutput::new(sink, config);
    sns.backoff = backoff;
    let mut outputs = Outputs::default();
    outputs.push(Box::new(sns), true);
    outputs
}

fn trigger(name: &str) -> Value {
    let path = corpus::corpus("triggers").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(300)
}

/// The corpus objects: one outdated-TLS call in each of the two named deliveries.
pub async fn upload_corpus_objects(s3: &aws_sdk_s3::Client) {
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    for (key, account) in [(ORG_KEY, "111122223333"), (GOV_KEY, "111122223333")] {
        let body = gzip(&[record(1, "TLSv1", account), record(2, "TLSv1.3", account)]);
        s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
    }
}

fn kinds(alerts: &[Value]) -> Vec<String> {
    let mut k: Vec<String> = alerts
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["detector"].as_str().unwrap_or(""),
                a["source"]["key"].as_str().unwrap_or("")
            )
        })
        .collect();
    k.sort();
    k
}

#[tokio::test(flavor = "multi_thread")]
async fn every_corpus_trigger_against_s3_and_sns() {
    let moto = tools::Moto::start();
    let shared = sdk(&moto.url(), 3).await;
    let (s3, sns) = trailwatch::lambda::clients(&shared, true);
    upload_corpus_objects(&s3).await;
    let alerts = Alerts::create(moto.addr, &sns, "corpus").await;
    let h = handler(&shared, &alerts.topic, 3);
    let org = format!("tls-outdated {ORG_KEY}");
    let gov = format!("tls-outdated {GOV_KEY}");

    let answer = h
        .handle(trigger("s3-put-cloudtrail.json"), deadline())
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"objects": 2, "skipped": 1, "alerts": 2, "ingest_errors": 0})
    );
    let (got, urgent) = alerts.take();
    assert_eq!(kinds(&got), [org.clone(), gov.clone()]);
    assert_eq!(urgent, 0, "the filter policy keeps medium alerts out");
    let first_ids: Vec<&str> = got.iter().map(|a| a["id"].as_str().unwrap()).collect();
    let one = &got[0];
    assert_eq!(
        one["_subject"].as_str().unwrap(),
        format!("[MEDIUM] Call over outdated TLS (below 1.2) - 111122223333 us-east-1")
    );
    assert_eq!(one["_severity_attribute"], "medium");

    for (name, expected) in [
        ("sns-cloudtrail-notification.json", vec![org.clone()]),
        ("sns-s3-put.json", vec![org.clone()]),
        ("eventbridge-s3-object-created.json", vec![org.clone()]),
    ] {
        let answer = h.handle(trigger(name), deadline()).await.unwrap();
        assert_eq!(answer["alerts"], 1, "{name}: {answer}");
        let (got, _) = alerts.take();
        assert_eq!(kinds(&got), expected, "{name}");
        assert!(
            first_ids.contains(&got[0]["id"].as_str().unwrap()),
            "{name}: a re-delivery keeps the alert id"
        );
    }

    let answer = h
        .handle(trigger("sqs-mixed-deliveries.json"), deadline())
        .await
        .unwrap();
    assert_eq!(answer, json!({"batchItemFailures": []}));
    let (got, urgent) = alerts.take();
    assert_eq!(
        kinds(&got),
        ["ingest-error ".to_owned(), org.clone(), gov.clone()]
    );
    assert_eq!(urgent, 1, "the filter policy lets the ingest-error through");

    let answer = h
        .handle(trigger("s3-batch-operations.json"), deadline())
        .await
        .unwrap();
    assert_eq!(answer["results"][0]["resultCode"], "Succeeded", "{answer}");
    assert_eq!(answer["invocationSchemaVersion"], "2.0");
    assert_eq!(kinds(&alerts.take().0), [org]);

    let answer = h
        .handle(trigger("s3-test-event.json"), deadline())
        .await
        .unwrap();
    assert_eq!(answer, json!({"test_event": "acknowledged"}));
    assert!(alerts.take().0.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn large_corrupt_and_missing_objects() {
    let moto = tools::Moto::start();
    let shared = sdk(&moto.url(), 3).await;
    let (s3, sns) = trailwatch::lambda::clients(&shared, true);
    s3.create_bucket().bucket("logs").send().await.unwrap();
    let big: Vec<String> = (0..60_000)
        .map(|i| {
            record(
                i,
                if i == 59_999 { "TLSv1.1" } else { "TLSv1.2" },
                "444455556666",
            )
        })
        .collect();
    let big = gzip(&big);
    let big_len = big.len();
    let mut cut = gzip(&[
        record(1, "SSLv3", "444455556666"),
        record(2, "TLSv1.2", "444455556666"),
    ]);
    cut.truncate(cut.len() - 20);
    for (key, body) in [("big/a.json.gz", big), ("cut/b.json.gz", cut)] {
        s3.put_object()
            .bucket("logs")
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
    }
    let alerts = Alerts::create(moto.addr, &sns, "objects").await;
    let h = handler(&shared, &alerts.topic, 3);
    let records: Vec<Value> = ["big/a.json.gz", "cut/b.json.gz", "gone/c.json.gz"]
        .iter()
        .map(|k| json!({"s3": {"bucket": {"name": "logs"}, "object": {"key": k}}}))
        .collect();
    let event = json!({ "Records": records });
    let started = Instant::now();
    let answer = h.handle(event, deadline()).await.unwrap();
    eprintln!(
        "3 objects ({big_len} compressed bytes in the big one) in {:?}",
        started.elapsed()
    );
    assert_eq!(answer["ingest_errors"], 2, "{answer}");
    let (got, _) = alerts.take();
    assert_eq!(
        kinds(&got),
        [
            "ingest-error cut/b.json.gz",
            "ingest-error gone/c.json.gz",
            "tls-outdated big/a.json.gz",
            "tls-outdated cut/b.json.gz"
        ]
    );
    let gone = got
        .iter()
        .find(|a| a["source"]["key"] == "gone/c.json.gz")
        .unwrap();
    assert!(
        gone["evidence"]["reason"]
            .as_str()
            .unwrap()
            .contains("NoSuchKey"),
        "{gone}"
    );
    let big_alert = got
        .iter()
        .find(|a| a["source"]["key"] == "big/a.json.gz")
        .unwrap();
    assert_eq!(
        big_alert["event_ids"],
        json!(["e59999"]),
        "the last record of a many-chunk object"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_faults_through_a_proxy() {
    use http::{Call, Fault, FaultProxy, Rule};
    let moto = tools::Moto::start();
    let direct = sdk(&moto.url(), 1).await;
    let (s3, sns) = trailwatch::lambda::clients(&direct, true);
    upload_corpus_objects(&s3).await;
    let alerts = Alerts::create(moto.addr, &sns, "faults").await;
    let event =
        json!({"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": ORG_KEY}}}]});

    // Throttled twice (one SDK call of two attempts), then a body cut short, then fine;
    // the first PublishBatch fails with a 500 and the SDK's retry gets it through.
    let proxy = FaultProxy::start(
        moto.addr,
        vec![
            Rule {
                call: Call::GetObject,
                fault: Fault::Status(503, "SlowDown"),
                times: 2,
                after: 0,
            },
            Rule {
                call: Call::GetObject,
                fault: Fault::CutBody,
                times: 1,
                after: 0,
            },
            Rule {
                call: Call::PublishBatch,
                fault: Fault::Status(500, "InternalFailure"),
                times: 1,
                after: 0,
            },
        ],
    );
    let h = handler(&sdk(&proxy.url(), 2).await, &alerts.topic, 3);
    let answer = h.handle(event.clone(), deadline()).await.unwrap();
    assert_eq!(answer["alerts"], 1, "{answer}");
    assert_eq!(
        proxy.injected.lock().unwrap().len(),
        4,
        "every fault was met"
    );
    let (got, _) = alerts.take();
    assert_eq!(
        kinds(&got),
        [format!("tls-outdated {ORG_KEY}")],
        "published exactly once"
    );

    // Throttled for good: the invocation fails so that Lambda retries it.
    let proxy = FaultProxy::start(
        moto.addr,
        vec![Rule {
            call: Call::GetObject,
            fault: Fault::Status(503, "SlowDown"),
            times: usize::MAX,
            after: 0,
        }],
    );
    let h = handler(&sdk(&proxy.url(), 2).await, &alerts.topic, 2);
    let err = h.handle(event.clone(), deadline()).await.unwrap_err();
    assert!(err.to_string().contains("SlowDown"), "{err}");
    assert_eq!(
        proxy.injected.lock().unwrap().len(),
        4,
        "2 attempts x 2 SDK attempts"
    );
    assert!(alerts.take().0.is_empty());

    // Access denied, by the bucket policy or by the KMS key: not tried again within the
    // invocation (it would be denied again); the invocation fails, kept for a redrive, with
    // nothing published.
    for (status, code) in [(403, "AccessDenied"), (400, "KMS.DisabledException")] {
        let proxy = FaultProxy::start(
            moto.addr,
            vec![Rule {
                call: Call::GetObject,
                fault: Fault::Status(status, code),
                times: usize::MAX,
                after: 0,
            }],
        );
        let h = handler(&sdk(&proxy.url(), 2).await, &alerts.topic, 2);
        let err = h.handle(event.clone(), deadline()).await.unwrap_err();
        assert!(err.to_string().contains(code), "{err}");
        assert!(err.to_string().contains("redrive"), "{err}");
        assert_eq!(
            proxy.injected.lock().unwrap().len(),
            1,
            "{code} is left for Lambda's retries and the redrive"
        );
        assert!(
            alerts.take().0.is_empty(),
            "{code}: no ingest-error, nothing lost"
        );
    }
}

/// Receives one message as Lambda's SQS poller does (visible again at once if it fails) and
/// wraps it as the SQS event the function gets; `None` when the queue has nothing to give.
fn poll(moto: SocketAddr, url: &str, arn: &str) -> Option<(Value, String)> {
    let got = sqs(
        moto,
        "ReceiveMessage",
        json!({"QueueUrl": url, "MaxNumberOfMessages": 1, "VisibilityTimeout": 0}),
    );
    let m = got["Messages"].as_array()?.first()?.clone();
    let receipt = m["ReceiptHandle"].as_str().unwrap().to_owned();
    let event = json!({"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": receipt,
        "body": m["Body"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    }]});
    Some((event, receipt))
}

/// Creates a queue; its URL and ARN.
pub fn queue(moto: SocketAddr, name: &str, attributes: Value) -> (String, String) {
    let url = sqs(
        moto,
        "CreateQueue",
        json!({"QueueName": name, "Attributes": attributes}),
    )["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let attrs = sqs(
        moto,
        "GetQueueAttributes",
        json!({"QueueUrl": url, "AttributeNames": ["QueueArn"]}),
    );
    let arn = attrs["Attributes"]["QueueArn"].as_str().unwrap().to_owned();
    (url, arn)
}

/// Mode existing-trail-topic during the documented cross-account setup: the stack is
/// deployed before the bucket policy grants its role. The delivery is retried, not dropped:
/// it ends in the ingest dead-letter queue, and arrives once access is granted and the
/// dead-letter queue is redriven.
#[tokio::test(flavor = "multi_thread")]
async fn delivery_denied_at_first_arrives_after_the_grant_and_a_redrive() {
    use http::{Call, Fault, FaultProxy, Rule};
    let moto = tools::Moto::start();
    let direct = sdk(&moto.url(), 1).await;
    let (s3, sns) = trailwatch::lambda::clients(&direct, true);
    upload_corpus_objects(&s3).await;
    let alerts = Alerts::create(moto.addr, &sns, "redrive").await;
    let (dlq_url, dlq_arn) = queue(moto.addr, "ingest-dlq", json!({}));
    let redrive = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2});
    let (ingest_url, ingest_arn) = queue(
        moto.addr,
        "ingest",
        json!({"RedrivePolicy": redrive.to_string()}),
    );
    // The trail topic's delivery notification, as SNS puts it in the ingest queue.
    let notification = json!({
        "Type": "Notification",
        "MessageId": "d1e2l3i4-very",
        "TopicArn": "arn:aws:sns:us-east-1:111122223333:cloudtrail-delivery",
        "Message": json!({"s3Bucket": BUCKET, "s3ObjectKey": [ORG_KEY]}).to_string(),
    });
    sqs(
        moto.addr,
        "SendMessage",
        json!({"QueueUrl": ingest_url, "MessageBody": notification.to_string()}),
    );

    // Before the grant: every receive fails with AccessDenied and is reported back.
    let denied = FaultProxy::start(
        moto.addr,
        vec![Rule {
            call: Call::GetObject,
            fault: Fault::Status(403, "AccessDenied"),
            times: usize::MAX,
            after: 0,
        }],
    );
    let h = handler(&sdk(&denied.url(), 1).await, &alerts.topic, 2);
    for receive in 1..=2 {
        let (event, _) = poll(moto.addr, &ingest_url, &ingest_arn).expect("the delivery");
        let answer = h.handle(event, deadline()).await.unwrap();
        let failed = answer["batchItemFailures"].as_array().unwrap();
        assert_eq!(failed.len(), 1, "receive {receive}: {answer}");
    }
    assert!(
        poll(moto.addr, &ingest_url, &ingest_arn).is_none(),
        "after maxReceiveCount the delivery left the ingest queue"
    );
    assert!(
        alerts.take().0.is_empty(),
        "nothing published while denied, no ingest-error"
    );

    // The redrive (what `aws sqs start-message-move-task` does): back to the ingest queue.
    let (kept, receipt) = poll(moto.addr, &dlq_url, &dlq_arn).expect("kept in the DLQ");
    let body = kept["Records"][0]["body"].clone();
    sqs(
        moto.addr,
        "SendMessage",
        json!({"QueueUrl": ingest_url, "MessageBody": body}),
    );
    sqs(
        moto.addr,
        "DeleteMessage",
        json!({"QueueUrl": dlq_url, "ReceiptHandle": receipt}),
    );

    // After the grant: the redriven delivery is read and its alert published.
    let h = handler(&direct, &alerts.topic, 2);
    let (event, receipt) = poll(moto.addr, &ingest_url, &ingest_arn).expect("redriven");
    let answer = h.handle(event, deadline()).await.unwrap();
    assert_eq!(answer, json!({"batchItemFailures": []}));
    sqs(
        moto.addr,
        "DeleteMessage",
        json!({"QueueUrl": ingest_url, "ReceiptHandle": receipt}),
    );
    let (got, _) = alerts.take();
    assert_eq!(kinds(&got), [format!("tls-outdated {ORG_KEY}")]);
}

/// A log bucket and an alerts topic in another region than the function's (us-east-1). moto
/// keeps topics per region, as SNS does; it does not redirect S3 requests for a bucket of
/// another region, so the proxy answers them as S3 does (`301 PermanentRedirect` with
/// `x-amz-bucket-region`) unless they are signed for the bucket's region.
#[tokio::test(flavor = "multi_thread")]
async fn bucket_and_topic_in_another_region() {
    use http::{Call, Fault, FaultProxy, Rule};
    let moto = tools::Moto::start();
    let direct = sdk(&moto.url(), 1).await;
    let (s3, sns) = trailwatch::lambda::clients(&direct, true);
    upload_corpus_objects(&s3).await;
    let eu = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&direct)
            .region(aws_config::Region::new("eu-west-1"))
            .build(),
    );
    let alerts = Alerts::create(moto.addr, &eu, "elsewhere").await;
    assert!(alerts.topic.starts_with("arn:aws:sns:eu-west-1:"));
    let wrong_region = sns
        .publish()
        .topic_arn(&alerts.topic)
        .message("{}")
        .send()
        .await;
    assert!(
        wrong_region.is_err(),
        "a client of the function's region does not find the topic"
    );

    let proxy = FaultProxy::start(
        moto.addr,
        vec![Rule {
            call: Call::GetObject,
            fault: Fault::BucketIn("eu-west-1"),
            times: usize::MAX,
            after: 0,
        }],
    );
    let h = handler(&sdk(&proxy.url(), 2).await, &alerts.topic, 2);
    for (n, key) in [ORG_KEY, GOV_KEY].iter().enumerate() {
        let event =
            json!({"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}]});
        let answer = h.handle(event, deadline()).await.unwrap();
        assert_eq!(answer["alerts"], 1, "object {n}: {answer}");
        assert_eq!(answer["ingest_errors"], 0, "object {n}: {answer}");
        assert_eq!(
            proxy.injected.lock().unwrap().len(),
            1,
            "object {n}: one redirect, then the bucket's region is known"
        );
        assert_eq!(h.source.region_of(BUCKET).as_deref(), Some("eu-west-1"));
    }
    let (got, _) = alerts.take();
    assert_eq!(
        kinds(&got),
        [
            format!("tls-outdated {ORG_KEY}"),
            format!("tls-outdated {GOV_KEY}")
        ],
        "published to the topic in its own region"
    );
}
