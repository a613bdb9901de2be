//! The project's own trigger events (samples/events/) parse into the sample deliveries they name.
#![cfg(feature = "lambda")]

use serde_json::Value;
use std::path::Path;
use trailwatch::lambda::triggers::{is_log_key, parse, Trigger};
use trailwatch::lambda::ObjectRef;

fn event(name: &str) -> Trigger {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/events")
        .join(name);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    parse(&v).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The key names a file of samples/.
fn names_a_sample(o: &ObjectRef) -> bool {
    let file = o.key.rsplit('/').next().unwrap_or_default();
    o.bucket == "trailwatch-samples"
        && Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(file)
            .is_file()
}

#[test]
fn every_sample_event_names_sample_deliveries() {
    let Trigger::Objects(put) = event("s3-put.json") else {
        panic!("s3-put")
    };
    let logs: Vec<_> = put.iter().filter(|o| is_log_key(&o.key)).collect();
    assert_eq!(
        logs.len(),
        7,
        "every sample delivery, and the digest key is not a log file"
    );
    assert!(logs.iter().all(|o| names_a_sample(o)));
    assert_eq!(put.len() - logs.len(), 1);

    assert_eq!(event("s3-test-event.json"), Trigger::Test);

    let Trigger::Objects(sns) = event("sns-cloudtrail-notification.json") else {
        panic!("sns")
    };
    assert_eq!(sns.len(), 3);
    assert!(sns.iter().all(names_a_sample));

    let Trigger::Objects(eb) = event("eventbridge-object-created.json") else {
        panic!("eventbridge")
    };
    assert!(eb.len() == 1 && names_a_sample(&eb[0]));

    let Trigger::Sqs(messages) = event("sqs-batch.json") else {
        panic!("sqs")
    };
    assert_eq!(messages.len(), 4);
    for m in &messages[..3] {
        let objects = m.objects.as_ref().unwrap();
        assert!(
            !objects.is_empty() && objects.iter().all(names_a_sample),
            "{m:?}"
        );
    }
    assert!(
        messages[3].objects.is_err(),
        "a body that is not understood is reported"
    );

    let Trigger::Batch(job) = event("s3-batch-operations.json") else {
        panic!("batch")
    };
    assert_eq!(job.tasks.len(), 2);
    assert!(job
        .tasks
        .iter()
        .all(|t| names_a_sample(t.object.as_ref().unwrap())));
    assert_eq!(job.min_severity, Ok(Some(trailwatch::Severity::Medium)));
}
