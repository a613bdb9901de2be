//! The outputs together: failure isolation, required outputs, OCSF bodies.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// An output that counts its calls and fails or not.
struct Fake {
    name: &'static str,
    fails: bool,
    calls: Arc<AtomicUsize>,
}

impl Output for Fake {
    fn name(&self) -> &'static str {
        self.name
    }
    fn publish<'a>(&'a self, alerts: &'a [Redacted<Alert>]) -> PublishFuture<'a> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fails {
                Err(OutputError {
                    output: self.name,
                    failed: alerts.len(),
                    retryable: true,
                    message: "ThrottlingException".into(),
                })
            } else {
                Ok(alerts.len())
            }
        })
    }
}

fn alert() -> Redacted<Alert> {
    let object = crate::lambda::ObjectRef::new("b", "AWSLogs/k.json.gz");
    crate::lambda::ingest::ingest_alert(&object, "test", None)
}

#[tokio::test]
async fn one_failing_output_stops_no_other_and_only_required_ones_retry() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut outputs = Outputs::default();
    for (name, fails, required) in [
        ("first", true, false),
        ("second", true, true),
        ("third", false, true),
    ] {
        let calls = Arc::clone(&calls);
        outputs.push(Box::new(Fake { name, fails, calls }), required);
    }
    let errors = outputs.publish(&[alert()]).await.unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 3, "every output was tried");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].output, "second",
        "only the required failure counts"
    );
    assert_eq!(outputs.names(), ["first", "second", "third"]);

    let calls = Arc::new(AtomicUsize::new(0));
    let mut optional_only = Outputs::default();
    optional_only.push(
        Box::new(Fake {
            name: "x",
            fails: true,
            calls: Arc::clone(&calls),
        }),
        false,
    );
    assert_eq!(optional_only.publish(&[alert()]).await, Ok(()));
    assert_eq!(optional_only.publish(&[]).await, Ok(()));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "nothing to send, no call");
}

#[test]
fn ocsf_bodies_replace_the_default_body_only() {
    let a = alert();
    let m = crate::lambda::sns::message(&a, false);
    assert!(ocsf_bodies(
        std::slice::from_ref(&m),
        std::slice::from_ref(&a),
        AlertSchema::Trailwatch
    )
    .is_none());
    let out = ocsf_bodies(std::slice::from_ref(&m), &[a], AlertSchema::Ocsf).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&out[0].body).unwrap();
    let default: serde_json::Value =
        serde_json::from_str(doc["default"].as_str().unwrap()).unwrap();
    assert_eq!(default["class_uid"], 2004);
    let before: serde_json::Value = serde_json::from_str(&m.body).unwrap();
    assert_eq!(doc["email"], before["email"]);
    assert_eq!(out[0].subject, m.subject);
}
