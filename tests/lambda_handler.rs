//! The Lambda handler in process, over fakes: every trigger shape and failure class.
#![cfg(feature = "lambda")]

#[path = "common/fakes.rs"]
mod fakes;

use fakes::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn s3_event(objects: &[(&str, &str)]) -> Value {
    let records: Vec<Value> = objects
        .iter()
        .map(|(b, k)| json!({"eventSource": "aws:s3", "s3": {"bucket": {"name": b}, "object": {"key": k}}}))
        .collect();
    json!({ "Records": records })
}

fn detectors(alerts: &[Value]) -> Vec<&str> {
    let mut d: Vec<&str> = alerts
        .iter()
        .map(|a| a["detector"].as_str().unwrap())
        .collect();
    d.sort();
    d
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_notification_scans_decoded_keys_reads_digests_and_publishes() {
    let source = FakeSource::default()
        .with(BUCKET, ORG_KEY, Fake::Data(one_alert_delivery()))
        .with(
            BUCKET,
            GOV_KEY,
            Fake::Data(delivery(&[record(3, "TLSv1.1")])),
        );
    let (h, metrics) = handler(source, FakeSink::default(), config(&[]));
    let answer = h
        .handle(trigger("s3-put-cloudtrail.json"), far_deadline())
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"objects": 2, "skipped": 1, "alerts": 2, "ingest_errors": 0})
    );
    let opened = h.source.opened();
    // The digest is read too (gone here: skipped, without an alert).
    assert_eq!(opened.len(), 3);
    assert!(opened.iter().any(|o| o.key.contains("CloudTrail-Digest/")));
    let alerts = h.sink.alerts();
    assert_eq!(detectors(&alerts), ["tls-outdated", "tls-outdated"]);
    let gov = alerts
        .iter()
        .find(|a| a["source"]["key"] == GOV_KEY)
        .unwrap();
    assert_eq!(gov["schema"], "trailwatch.alert.v1");
    assert_eq!(gov["source"]["bucket"], BUCKET);
    assert_eq!(gov["event_ids"], json!(["e3"]));
    let lines = metrics.lock().unwrap().clone();
    let totals: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(totals["RecordsScanned"], 3);
    assert!(totals["BytesScanned"].as_u64().unwrap() > 0);
    let by_detector: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(
        (
            by_detector["detector"].as_str(),
            by_detector["Alerts"].as_u64()
        ),
        (Some("tls-outdated"), Some(2))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sns_message_format_subject_and_attributes() {
    let source = FakeSource::default().with(BUCKET, ORG_KEY, Fake::Data(one_alert_delivery()));
    let (h, _) = handler(source, FakeSink::default(), config(&[]));
    h.handle(s3_event(&[(BUCKET, ORG_KEY)]), far_deadline())
        .await
        .unwrap();
    let m = &h.sink.messages()[0];
    assert_eq!(
        m.subject,
        "[MEDIUM] Call over outdated TLS (below 1.2) - 111122223333 us-east-1"
    );
    assert_eq!(
        m.attributes,
        [
            ("severity", "medium".to_owned()),
            ("detector", "tls-outdated".to_owned()),
            ("account", "111122223333".to_owned()),
            ("region", "us-east-1".to_owned()),
        ]
    );
    assert_eq!(m.fifo, None);
    let doc: Value = serde_json::from_str(&m.body).unwrap();
    let email = doc["email"].as_str().unwrap();
    assert!(
        email.contains("Call over outdated TLS")
            && email.contains("arn:aws:iam::111122223333:user/ci"),
        "{email}"
    );
    assert!(!email.contains('\u{1b}'), "no terminal colours in mail");
    let alert: Value = serde_json::from_str(doc["default"].as_str().unwrap()).unwrap();
    assert_eq!(alert["id"].as_str(), Some(m.alert_id.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn redelivery_gives_the_same_alert_ids_and_fifo_ids() {
    let fifo = "arn:aws:sns:us-east-1:111122223333:alerts.fifo";
    let source = FakeSource::default().with(BUCKET, ORG_KEY, Fake::Data(one_alert_delivery()));
    let (h, _) = handler(source, FakeSink::default(), config(&[("TOPIC_ARN", fifo)]));
    let event = s3_event(&[(BUCKET, ORG_KEY)]);
    h.handle(event.clone(), far_deadline()).await.unwrap();
    h.handle(event, far_deadline()).await.unwrap();
    let m = h.sink.messages();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].alert_id, m[1].alert_id);
    assert_eq!(
        m[0].fifo,
        Some(("111122223333".to_owned(), m[0].alert_id.clone()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn min_severity_and_disabled_detectors_filter() {
    for vars in [
        [("MIN_SEVERITY", "high")],
        [("DISABLED_DETECTORS", "tls-outdated")],
    ] {
        let source = FakeSource::default().with(BUCKET, ORG_KEY, Fake::Data(one_alert_delivery()));
        let (h, _) = handler(source, FakeSink::default(), config(&vars));
        let answer = h
            .handle(s3_event(&[(BUCKET, ORG_KEY)]), far_deadline())
            .await
            .unwrap();
        assert_eq!(answer["alerts"], 0, "{vars:?}");
        assert!(h.sink.messages().is_empty());
    }
    let bad = trailwatch::lambda::catalog(
        &config(&[("DISABLED_DETECTORS", "no-such")]),
        std::path::Path::new("/nonexistent"),
    );
    assert!(bad.unwrap_err().to_string().contains("DISABLED_DETECTORS"));
}

#[tokio::test(flavor = "multi_thread")]
async fn permanent_faults_publish_an_ingest_error_and_do_not_fail() {
    let mut good = delivery(&[
        record(1, "TLSv1"),
        record(2, "TLSv1.2"),
        record(4, "TLSv1.2"),
    ]);
    good.truncate(good.len() - 12);
    let source = FakeSource::default()
        .with(
            BUCKET,
            "gone/a.json.gz",
            Fake::Gone("GetObject: NoSuchKey (404)"),
        )
        .with(BUCKET, "cut/b.json.gz", Fake::Data(good))
        .with(
            BUCKET,
            "junk/c.json",
            Fake::Data(b"{\"Records\": [ nonsense".to_vec()),
        );
    let (h, metrics) = handler(source, FakeSink::default(), config(&[]));
    let event = s3_event(&[
        (BUCKET, "gone/a.json.gz"),
        (BUCKET, "cut/b.json.gz"),
        (BUCKET, "junk/c.json"),
    ]);
    let answer = h.handle(event, far_deadline()).await.unwrap();
    assert_eq!(answer["ingest_errors"], 3);
    let alerts = h.sink.alerts();
    assert_eq!(
        detectors(&alerts),
        [
            "ingest-error",
            "ingest-error",
            "ingest-error",
            "tls-outdated"
        ]
    );
    let gone = alerts
        .iter()
        .find(|a| a["source"]["key"] == "gone/a.json.gz")
        .unwrap();
    assert_eq!(gone["severity"], "medium");
    assert_eq!(gone["evidence"]["bucket"], BUCKET);
    assert!(gone["evidence"]["reason"]
        .as_str()
        .unwrap()
        .contains("NoSuchKey"));
    let cut = alerts
        .iter()
        .find(|a| a["detector"] == "ingest-error" && a["source"]["key"] == "cut/b.json.gz")
        .unwrap();
    assert!(
        cut["summary"].as_str().unwrap().contains("cut/b.json.gz"),
        "{cut}"
    );
    let totals: Value = serde_json::from_str(&metrics.lock().unwrap()[0]).unwrap();
    assert_eq!(totals["IngestErrors"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_faults_are_retried_then_fail_the_invocation() {
    let source = FakeSource::default()
        .with(
            BUCKET,
            "flaky/a.json.gz",
            Fake::Flaky(2, one_alert_delivery()),
        )
        .with(
            BUCKET,
            "broken/b.json.gz",
            Fake::BreaksAfter(40, 1, one_alert_delivery()),
        );
    let (h, _) = handler(source, FakeSink::default(), config(&[]));
    let event = s3_event(&[(BUCKET, "flaky/a.json.gz"), (BUCKET, "broken/b.json.gz")]);
    let answer = h.handle(event, far_deadline()).await.unwrap();
    assert_eq!(answer["alerts"], 2);
    assert_eq!(
        h.sink.messages().len(),
        2,
        "a broken first read publishes nothing twice"
    );
    assert_eq!(h.source.opened().len(), 3 + 2);

    let source = FakeSource::default().with(
        BUCKET,
        "down/a.json.gz",
        Fake::Flaky(99, one_alert_delivery()),
    );
    let (h, _) = handler(source, FakeSink::default(), config(&[]));
    let err = h
        .handle(s3_event(&[(BUCKET, "down/a.json.gz")]), far_deadline())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SlowDown"), "{err}");
    assert_eq!(h.source.opened().len(), 3, "three attempts");
    assert!(h.sink.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn sqs_reports_only_the_failed_messages() {
    let source = FakeSource::default()
        .with(BUCKET, ORG_KEY, Fake::Data(one_alert_delivery()))
        .with(BUCKET, GOV_KEY, Fake::Flaky(99, one_alert_delivery()));
    let (h, _) = handler(source, FakeSink::default(), config(&[]));
    let answer = h
        .handle(trigger("sqs-mixed-deliveries.json"), far_deadline())
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "059f36b4-87a3-44ab-83d2-661975490102"}]})
    );
    let opened = h.source.opened();
    assert_eq!(
        opened.iter().filter(|o| o.key == ORG_KEY).count(),
        1,
        "the same object in two messages is scanned once"
    );
    let alerts = h.sink.alerts();
    assert_eq!(detectors(&alerts), ["ingest-error", "tls-outdated"]);
    let bad = alerts
        .iter()
        .find(|a| a["detector"] == "ingest-error")
        .unwrap();
    assert_eq!(
        bad["evidence"]["sqs_message_id"],
        "059f36b4-87a3-44ab-83d2-661975490104"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_operations_answer_per_task() {
    let event = json!({"invocationSchemaVersion": "1.0", "invocationId": "inv-1", "job": {"id": "j"},
        "tasks": [
            {"taskId": "ok", "s3Key": "a/b.json.gz", "s3BucketArn": "arn:aws:s3:::archive"},
            {"taskId": "gone", "s3Key": "a/gone.json.gz", "s3BucketArn": "arn:aws:s3:::archive"},
            {"taskId": "later", "s3Key": "a/flaky.json.gz", "s3BucketArn": "arn:aws:s3:::archive"},
            {"taskId": "digest", "s3Key": "AWSLogs/1/CloudTrail-Digest/x.json.gz", "s3BucketArn": "arn:aws:s3:::archive"},
            {"taskId": "bad", "s3BucketArn": "arn:aws:s3:::archive"}]});
    let source = FakeSource::default()
        .with("archive", "a/b.json.gz", Fake::Data(one_alert_delivery()))
        .with("archive", "a/flaky.json.gz", Fake::Flaky(99, Vec::new()));
    let (h, _) = handler(source, FakeSink::default(), config(&[]));
    let answer = h.handle(event, far_deadline()).await.unwrap();
    assert_eq!(answer["invocationSchemaVersion"], "1.0");
    assert_eq!(answer["invocationId"], "inv-1");
    assert_eq!(answer["treatMissingKeysAs"], "PermanentFailure");
    let codes: Vec<(&str, &str)> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["taskId"].as_str().unwrap(),
                r["resultCode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("ok", "Succeeded"),
            ("gone", "PermanentFailure"),
            ("later", "TemporaryFailure"),
            ("digest", "Succeeded"),
            ("bad", "PermanentFailure"),
        ]
    );
    assert_eq!(answer["results"][0]["resultString"], "2 records, 1 alerts");
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_job_arguments_set_the_minimum_severity() {
    let job = |level: &str| {
        json!({"invocationSchemaVersion": "2.0", "invocationId": "i", "job": {"id": "j",
            "userArguments": {"minSeverity": level}},
            "tasks": [{"taskId": "t", "s3Key": "a/b.json.gz", "s3Bucket": "archive"}]})
    };
    let source =
        FakeSource::default().with("archive", "a/b.json.gz", Fake::Data(one_alert_delivery()));
    let (h, _) = handler(source, FakeSink::default(), config(&[]));
    let answer = h.handle(job("high"), far_deadline()).await.unwrap();
    assert_eq!(answer["results"][0]["resultCode"], "Succeeded");
    assert_eq!(answer["results"][0]["resultString"], "2 records, 0 alerts");
    let answer = h.handle(job("medium"), far_deadline()).await.unwrap();
    assert_eq!(answer["results"][0]["resultString"], "2 records, 1 alerts");
    let answer = h.handle(job("severe"), far_deadline()).await.unwrap();
    assert_eq!(answer["results"][0]["resultCode"], "PermanentFailure");
    assert!(answer["results"][0]["resultString"]
        .as_str()
        .unwrap()
        .contains("minSeverity"));
    assert_eq!(h.source.opened().len(), 2, "a bad argument scans nothing");
    assert_eq!(h.sink.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn test_event_and_unknown_events() {
    let (h, _) = handler(FakeSource::default(), FakeSink::default(), config(&[]));
    let ack = h
        .handle(
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
            far_deadline(),
        )
        .await;
    assert_eq!(ack.unwrap(), json!({"test_event": "acknowledged"}));
    let err = h
        .handle(json!({"hello": "world"}), far_deadline())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not understood"));
    assert!(h.source.opened().is_empty() && h.sink.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn near_the_deadline_objects_are_left_for_a_retry() {
    let source = FakeSource::default().with(BUCKET, ORG_KEY, Fake::Data(one_alert_delivery()));
    let (h, _) = handler(source, FakeSink::default(), config(&[]));
    let err = h
        .handle(s3_event(&[(BUCKET, ORG_KEY)]), Instant::now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("time is nearly up"), "{err}");
    assert!(h.source.opened().is_empty(), "not started");
    // A short invocation keeps a quarter of its time, not the whole reserve.
    let short = Instant::now() + Duration::from_millis(300);
    let answer = h.handle(s3_event(&[(BUCKET, ORG_KEY)]), short).await;
    assert_eq!(answer.unwrap()["alerts"], 1);

    // A scan still running when the reserve is reached gives up, publishing nothing.
    let records: Vec<String> = (0..400).map(|i| record(i, "TLSv1")).collect();
    let slow = Fake::Slow(Duration::from_millis(30), delivery(&records));
    let (h, _) = handler(
        FakeSource::default().with(BUCKET, ORG_KEY, slow),
        FakeSink::default(),
        config(&[]),
    );
    let deadline = Instant::now() + Duration::from_millis(700);
    let err = h
        .handle(s3_event(&[(BUCKET, ORG_KEY)]), deadline)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nearly up"), "{err}");
    assert!(h.sink.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_run_concurrently_up_to_max_concurrency() {
    let mut source = FakeSource::default();
    let mut keys = Vec::new();
    for i in 0..6 {
        let key = format!("k/{i}.json.gz");
        source = source.with(
            BUCKET,
            &key,
            Fake::Slow(Duration::from_millis(20), one_alert_delivery()),
        );
        keys.push(key);
    }
    let (h, _) = handler(
        source,
        FakeSink::default(),
        config(&[("MAX_CONCURRENCY", "2")]),
    );
    let objects: Vec<(&str, &str)> = keys.iter().map(|k| (BUCKET, k.as_str())).collect();
    h.handle(s3_event(&objects), far_deadline()).await.unwrap();
    assert_eq!(
        h.source
            .most_active
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    assert_eq!(h.sink.messages().len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn real_deliveries_give_what_replay_gives() {
    let cfg = config(&[]);
    let catalog = trailwatch::lambda::catalog(&cfg, std::path::Path::new("/nonexistent")).unwrap();
    let pipeline = trailwatch::Pipeline {
        catalog,
        settings: trailwatch::detectors::Settings::default(),
        disabled: Vec::new(),
        limits: Default::default(),
    };
    let mut source = FakeSource::default();
    let mut objects = Vec::new();
    let mut expected = Vec::new();
    let mut records = 0;
    for path in corpus::deliveries("real/invictus").into_iter().take(12) {
        let key = format!(
            "AWSLogs/218007301253/CloudTrail/us-east-1/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let data = std::fs::read(&path).unwrap();
        // The one pipeline, as `replay` runs it.
        let from = trailwatch::Source::Object {
            bucket: BUCKET.into(),
            key: key.clone(),
        };
        let analysis = pipeline.analyse(&data[..], from, None);
        records += analysis.report.records;
        for a in analysis.alerts {
            if a.severity >= trailwatch::Severity::Low {
                expected.push(serde_json::to_value(&a).unwrap());
            }
        }
        source = source.with(BUCKET, &key, Fake::Data(data));
        objects.push(key);
    }
    let (h, metrics) = handler(source, FakeSink::default(), cfg);
    let event = s3_event(
        &objects
            .iter()
            .map(|k| (BUCKET, k.as_str()))
            .collect::<Vec<_>>(),
    );
    let answer = h.handle(event, far_deadline()).await.unwrap();
    assert_eq!(answer["ingest_errors"], 0);
    let mut published = h.sink.alerts();
    // These files are named for account 218007301253 and their records say 123837392027:
    // the Lambda says so in each alert (replay does not know where a file was delivered).
    for a in &mut published {
        let noted = a["evidence"]
            .as_object_mut()
            .and_then(|e| e.remove("delivered_for_account"));
        if a["account"] != "218007301253" && !a["account"].as_str().unwrap_or("").is_empty() {
            assert_eq!(noted, Some(json!("218007301253")), "{a}");
        }
    }
    let id = |v: &Value| v["id"].as_str().unwrap_or_default().to_owned();
    published.sort_by_key(id);
    expected.sort_by_key(id);
    assert_eq!(
        published, expected,
        "the Lambda publishes exactly the alerts replay finds"
    );
    let kinds = detectors(&h.sink.alerts()).join(",");
    for quiet in ["tls-outdated", "fips-endpoint", "url-credentials"] {
        assert!(
            !kinds.contains(quiet),
            "{quiet}: a false positive on the corpus"
        );
    }
    let totals: Value = serde_json::from_str(&metrics.lock().unwrap()[0]).unwrap();
    assert_eq!(totals["RecordsScanned"].as_u64(), Some(records));
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_access_is_left_for_a_redrive_without_retrying_now() {
    let source = FakeSource::default().with(BUCKET, ORG_KEY, Fake::Denied);
    let (h, _) = handler(source, FakeSink::default(), config(&[]));
    let err = h
        .handle(s3_event(&[(BUCKET, ORG_KEY)]), far_deadline())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("AccessDenied"), "{err}");
    assert_eq!(
        h.source.opened().len(),
        1,
        "denied access is not tried again within the invocation"
    );
    assert!(h.sink.messages().is_empty(), "nothing is published");
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_and_accounts_in_the_layer_are_counted_and_named() {
    let layer = std::env::temp_dir().join(format!("trailwatch-layer-{}", std::process::id()));
    std::fs::create_dir_all(&layer).unwrap();
    let filter = "title: t\nreason: the e1 call is known\nowner: ops\nfilter:\n  rules: [tls-outdated]\n  known:\n    eventID: e1\n  condition: not known\n";
    std::fs::write(layer.join("known-call.yml"), filter).unwrap();
    std::fs::write(
        layer.join("accounts.csv"),
        "id,name,environment\n111122223333,payments,prod\n",
    )
    .unwrap();
    let cfg = config(&[]);
    let catalog = trailwatch::lambda::catalog(&cfg, &layer).unwrap();
    std::fs::remove_dir_all(&layer).unwrap();
    let data = delivery(&[record(1, "TLSv1"), record(3, "TLSv1")]);
    let source = FakeSource::default().with(BUCKET, ORG_KEY, Fake::Data(data));
    let (h, metrics) = handler_with(source, FakeSink::default(), cfg, catalog);
    h.handle(s3_event(&[(BUCKET, ORG_KEY)]), far_deadline())
        .await
        .unwrap();
    let alerts = h.sink.alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0]["event_ids"],
        json!(["e3"]),
        "e1's finding was dropped"
    );
    assert_eq!(
        (
            alerts[0]["account_name"].as_str(),
            alerts[0]["environment"].as_str()
        ),
        (Some("payments"), Some("prod"))
    );
    let m = &h.sink.messages()[0];
    assert!(
        m.attributes.contains(&("environment", "prod".to_owned())),
        "{:?}",
        m.attributes
    );
    let lines = metrics.lock().unwrap().clone();
    let suppressed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("Suppressed").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "{lines:?}");
    assert_eq!(
        (
            suppressed[0]["detector"].as_str(),
            suppressed[0]["filter"].as_str(),
            suppressed[0]["Suppressed"].as_u64()
        ),
        (Some("tls-outdated"), Some("known-call"), Some(1))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_are_remembered_backfills_are_not_and_the_scheduled_check_finds_silence() {
    use std::sync::Arc;
    use trailwatch::lambda::state::{MemoryTable, StateSettings};
    let backfill_key = "AWSLogs/444455556666/CloudTrail/eu-west-1/2026/11/28/old.json.gz";
    let source = FakeSource::default()
        .with(BUCKET, ORG_KEY, Fake::Data(one_alert_delivery()))
        .with("archive", backfill_key, Fake::Data(one_alert_delivery()));
    let sink = Arc::new(FakeSink::default());
    let config = config(&[("STATE_TABLE", "state")]);
    let settings = config.state.clone().expect("STATE_TABLE read");
    assert_eq!(
        settings,
        StateSettings {
            table: "state".into(),
            silence_after: 7200,
            unverified_silence_after: 21_600,
            lateness: 1200,
            max_groups: 100_000
        }
    );
    let (h, table) = fakes::with_memory_state(source, &sink, config);
    let h = fakes::Harness {
        handler: Arc::new(h),
        sink,
    };

    h.handle(s3_event(&[(BUCKET, ORG_KEY)]), far_deadline())
        .await
        .unwrap();
    let trails = |t: &MemoryTable| {
        t.rows()
            .into_iter()
            .filter(|r| r.pk.starts_with("trails#"))
            .map(|r| r.sk)
            .collect::<Vec<_>>()
    };
    let place = "log|s3://org-trail-logs/AWSLogs/o-a1b2c3d4e5/111122223333/us-east-1";
    assert_eq!(trails(&table), [place]);
    let batch = json!({"invocationSchemaVersion": "1.0", "invocationId": "inv", "job": {"id": "j"},
        "tasks": [{"taskId": "t", "s3Key": backfill_key, "s3BucketArn": "arn:aws:s3:::archive"}]});
    let answer = h.handle(batch, far_deadline()).await.unwrap();
    assert_eq!(answer["results"][0]["resultCode"], "Succeeded", "{answer}");
    assert_eq!(trails(&table), [place], "a backfill is not a delivery");
    h.sink.alerts();

    let later = json!({"trailwatch": "scheduled-check", "time": "2099-01-01T00:00:00Z"});
    let answer = h.handle(later, far_deadline()).await.unwrap();
    // The place sent log files and no digest: unverifiable, and silent at medium.
    assert_eq!(answer, json!({"scheduled": "checked", "alerts": 2}));
    let silent: Vec<Value> = h
        .sink
        .alerts()
        .into_iter()
        .filter(|a| a["detector"] == "trail-silent")
        .collect();
    assert_eq!(silent.len(), 1);
    assert_eq!(
        (
            silent[0]["account"].as_str(),
            silent[0]["severity"].as_str()
        ),
        (Some("111122223333"), Some("medium"))
    );

    let (without, _) = handler(
        FakeSource::default(),
        FakeSink::default(),
        fakes::config(&[]),
    );
    let answer = without
        .handle(json!({"trailwatch": "scheduled-check"}), far_deadline())
        .await
        .unwrap();
    assert_eq!(answer, json!({"scheduled": "no state table (STATE_TABLE)"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_over_the_size_limit_is_skipped_and_named_in_an_ingest_error() {
    let big = record(1, "TLSv1").replace(
        r#""eventVersion":"1.08""#,
        &format!(r#""eventVersion":"1.08","filler":"{}""#, "x".repeat(4096)),
    );
    let data = delivery(&[big, record(2, "TLSv1")]);
    let source = FakeSource::default().with(BUCKET, ORG_KEY, Fake::Data(data));
    let config = config(&[("MAX_RECORD_SIZE", "2KiB")]);
    let (h, _) = handler(source, FakeSink::default(), config);
    let answer = h
        .handle(s3_event(&[(BUCKET, ORG_KEY)]), far_deadline())
        .await
        .expect("the file was read to its end: nothing to retry");
    assert_eq!(answer["ingest_errors"], 1, "{answer}");
    let alerts = h.sink.alerts();
    let ingest: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["detector"] == "ingest-error")
        .collect();
    assert_eq!(ingest.len(), 1, "{alerts:#?}");
    let summary = ingest[0]["summary"].as_str().unwrap();
    assert!(summary.contains(ORG_KEY), "{summary}");
    assert!(
        summary.contains("read past, not analysed (MAX_RECORD_SIZE)"),
        "{summary}"
    );
    let tls: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["detector"] == "tls-outdated")
        .collect();
    assert_eq!(
        tls[0]["event_ids"],
        json!(["e2"]),
        "the record after it alerts"
    );
}
