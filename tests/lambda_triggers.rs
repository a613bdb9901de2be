//! Every trigger shape of the corpus, parsed into the objects to scan.
#![cfg(feature = "lambda")]

#[path = "common/fakes.rs"]
mod fakes;

use fakes::{trigger, BUCKET, GOV_KEY, ORG_KEY};
use serde_json::json;
use trailwatch::lambda::triggers::{
    is_log_key, key_account_region, parse, url_decode, EventError, Trigger,
};
use trailwatch::lambda::ObjectRef;

fn objects(name: &str) -> Vec<ObjectRef> {
    match parse(&trigger(name)) {
        Ok(Trigger::Objects(o)) => o,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn s3_notification_keys_are_url_decoded() {
    let o = objects("s3-put-cloudtrail.json");
    assert_eq!(o.len(), 3);
    assert_eq!(o[0], ObjectRef::new(BUCKET, ORG_KEY));
    assert_eq!(o[1], ObjectRef::new(BUCKET, GOV_KEY), "`+` is a space");
    assert!(o[2].key.contains("CloudTrail-Digest/") && !is_log_key(&o[2].key));
    let generic = objects("example-s3-event.json");
    assert_eq!(generic, [ObjectRef::new("sourcebucket", "Happy Face.jpg")]);
    assert_eq!(objects("example-s3-event-with-decoded.json"), generic);
}

#[test]
fn test_event_is_acknowledged() {
    assert_eq!(parse(&trigger("s3-test-event.json")), Ok(Trigger::Test));
}

#[test]
fn sns_envelopes_of_cloudtrail_and_s3_notifications() {
    let expected = [ObjectRef::new(BUCKET, ORG_KEY)];
    assert_eq!(objects("sns-cloudtrail-notification.json"), expected);
    assert_eq!(objects("sns-s3-put.json"), expected);
    let several = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message":
        "{\"s3Bucket\":\"b\",\"s3ObjectKey\":[\"a b.json.gz\",\"c+d.json.gz\"]}"}}]});
    assert_eq!(
        parse(&several),
        Ok(Trigger::Objects(vec![
            ObjectRef::new("b", "a b.json.gz"),
            ObjectRef::new("b", "c+d.json.gz"),
        ])),
        "CloudTrail's notification keys are not encoded"
    );
    let hello = parse(&trigger("example-sns-event.json")).unwrap_err();
    assert!(
        matches!(&hello, EventError::Record { error, .. } if matches!(**error, EventError::Json { .. })),
        "{hello}"
    );
    assert!(hello.to_string().contains("not JSON"), "{hello}");
}

#[test]
fn sqs_bodies_of_every_kind_and_one_not_understood() {
    let Ok(Trigger::Sqs(messages)) = parse(&trigger("sqs-mixed-deliveries.json")) else {
        panic!("not SQS");
    };
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[0].id, "059f36b4-87a3-44ab-83d2-661975490101");
    assert_eq!(
        messages[0].objects,
        Ok(vec![ObjectRef::new(BUCKET, ORG_KEY)])
    );
    assert_eq!(
        messages[1].objects,
        Ok(vec![ObjectRef::new(BUCKET, GOV_KEY)])
    );
    assert_eq!(
        messages[2].objects,
        Ok(vec![ObjectRef::new(BUCKET, ORG_KEY)])
    );
    let why = messages[3].objects.clone().unwrap_err();
    assert!(
        matches!(why, EventError::Json { what: "body", .. }),
        "{why}"
    );
    let Ok(Trigger::Sqs(generic)) = parse(&trigger("example-sqs-event.json")) else {
        panic!("not SQS");
    };
    assert_eq!(generic[0].id, "MessageID_1");
    assert!(generic[0].objects.is_err());
}

#[test]
fn eventbridge_object_created() {
    assert_eq!(
        objects("eventbridge-s3-object-created.json"),
        [ObjectRef::new(BUCKET, ORG_KEY)]
    );
    assert_eq!(
        objects("eventbridge-s3-event.json"),
        [ObjectRef::new("bucket", "pizza.txt")]
    );
    let ec2 = parse(&trigger("example-eventbridge-event-obj.json")).unwrap_err();
    assert!(matches!(ec2, EventError::DetailType(_)), "{ec2}");
    assert!(ec2.to_string().contains("Object Created"), "{ec2}");
}

#[test]
fn batch_operations_schema_2_and_1() {
    let Ok(Trigger::Batch(job)) = parse(&trigger("s3-batch-operations.json")) else {
        panic!("not a batch job");
    };
    assert_eq!(job.schema, "2.0");
    assert_eq!(
        job.invocation_id,
        "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo"
    );
    assert_eq!(job.tasks[0].id, "dGFza2lkZ29lc2hlcmUK");
    assert_eq!(job.tasks[0].object, Ok(ObjectRef::new(BUCKET, ORG_KEY)));
    assert_eq!(job.min_severity, Ok(Some(trailwatch::Severity::Medium)));
    let v1 = json!({"invocationSchemaVersion": "1.0", "invocationId": "i", "job": {"id": "j"},
        "tasks": [{"taskId": "t1", "s3Key": "old+logs/a%2Bb.json.gz", "s3VersionId": "1",
                   "s3BucketArn": "arn:aws:s3:::archive"},
                  {"taskId": "t2", "s3BucketArn": "arn:aws:s3:::archive"}]});
    let Ok(Trigger::Batch(job)) = parse(&v1) else {
        panic!("not a batch job");
    };
    assert_eq!(
        job.tasks[0].object,
        Ok(ObjectRef::new("archive", "old logs/a+b.json.gz"))
    );
    assert!(job.tasks[1].object.is_err());
}

#[test]
fn unknown_events_are_refused_with_a_reason() {
    for event in [
        json!({}),
        json!([1, 2]),
        json!({"Records": [{"foo": 1}]}),
        json!(null),
    ] {
        let why = parse(&event).unwrap_err();
        assert!(!why.to_string().is_empty());
    }
}

#[test]
fn url_decoding() {
    assert_eq!(url_decode("a%2Fb+c%3D%C3%A9").unwrap(), "a/b c=é");
    assert_eq!(
        url_decode("plain/key.json.gz").unwrap(),
        "plain/key.json.gz"
    );
    for bad in ["%", "%4", "%zz", "%C3"] {
        assert!(url_decode(bad).is_err(), "{bad}");
    }
}

#[test]
fn log_keys_and_their_account_and_region() {
    assert!(is_log_key(ORG_KEY) && is_log_key("x/plain.json"));
    assert!(!is_log_key("x/notes.txt") && !is_log_key("AWSLogs/1/CloudTrail-Digest/r/a.json.gz"));
    assert_eq!(
        key_account_region(GOV_KEY),
        ("111122223333".to_owned(), "us-gov-west-1".to_owned())
    );
    assert_eq!(
        key_account_region("CloudTrail"),
        (String::new(), String::new())
    );
    // A prefix that looks like the layout is only a prefix.
    let prefixed = format!("org/CloudTrail/{ORG_KEY}");
    assert_eq!(
        key_account_region(&prefixed),
        ("111122223333".to_owned(), "us-east-1".to_owned())
    );
}

proptest::proptest! {
    #[test]
    fn decoding_and_parsing_never_panic(key in ".{0,40}", body in ".{0,80}") {
        let _ = url_decode(&key);
        let _ = parse(&json!({"Records": [{"messageId": "m", "body": body}]}));
        let _ = parse(&json!({"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": key}}}]}));
    }
}

#[test]
fn the_scheduled_check_from_scheduler_or_an_eventbridge_rule() {
    let sample = std::fs::read_to_string("samples/events/scheduled-check.json").unwrap();
    let event: serde_json::Value = serde_json::from_str(&sample).unwrap();
    // 2026-11-28T11:00:00Z
    assert_eq!(parse(&event), Ok(Trigger::Scheduled(Some(1_795_863_600))));
    let rule = json!({"detail-type": "Scheduled Event", "source": "aws.events",
        "time": "2026-11-28T11:15:00Z", "detail": {}});
    assert_eq!(parse(&rule), Ok(Trigger::Scheduled(Some(1_795_864_500))));
    // The template's placeholder not replaced (a test invocation): the clock's time.
    let raw = json!({"trailwatch": "scheduled-check", "time": "<aws.scheduler.scheduled-time>"});
    assert_eq!(parse(&raw), Ok(Trigger::Scheduled(None)));
    let other = parse(&json!({"trailwatch": "reindex"})).unwrap_err();
    assert!(other.to_string().contains("reindex"), "{other}");
}
