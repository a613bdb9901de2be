//! A slow consumer makes the reading thread parse batches too: every record still arrives once,
//! in order.

use std::io::Cursor;
use std::sync::{Arc, Mutex};
use trailwatch::{scan, Detector, Finding, Record};

/// Notes each record's event id (taking a lock and copying per record: slower than the
/// reading thread, which then parses batches too, whatever the timing; the order must hold in
/// every interleaving, so the test does not depend on one).
struct SlowOrder(Arc<Mutex<Vec<String>>>);

impl Detector for SlowOrder {
    fn id(&self) -> &'static str {
        "slow-order"
    }
    fn inspect<'r>(&mut self, record: &'r Record<'_>, _out: &mut Vec<Finding<'r>>) {
        self.0.lock().unwrap().push(record.event_id().to_owned());
    }
}

#[test]
fn records_keep_their_order_when_both_threads_parse() {
    let pad = "x".repeat(900);
    let ids: Vec<String> = (0..3000).map(|i| format!("e{i}")).collect();
    let records: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"eventID":"{id}","eventName":"A","note":"{pad}"}}"#))
        .collect();
    let text = format!(r#"{{"Records":[{}]}}"#, records.join(","));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut detectors: Vec<Box<dyn Detector>> = vec![Box::new(SlowOrder(Arc::clone(&seen)))];
    let report = scan(Cursor::new(text.into_bytes()), &mut detectors, &mut |_| {});
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(report.records, 3000);
    assert_eq!(*seen.lock().unwrap(), ids);
}
