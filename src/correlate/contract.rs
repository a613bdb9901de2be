//! What every [`Store`] must do, as one check that any implementation runs (the in-memory store
//! in unit tests; a DynamoDB store against a local server): idempotent counting per event id,
//! decisions that drop buckets but keep the group, forgetting, the watermark.

use super::store::{Bucket, Event, GroupKey, Store};

/// One event of the check.
fn event(id: &str, time: i64) -> Event {
    Event {
        id: id.into(),
        time,
        rule: 0,
        value: Some("v".into()),
        name: "ConsoleLogin".into(),
        who: Default::default(),
    }
}

/// What one delivery observed of `events` in one minute.
fn observed(events: &[Event]) -> Bucket {
    let mut b = Bucket::default();
    for e in events {
        b.add(e);
    }
    b
}

/// Panics, naming the broken promise, if `store` (empty) does not keep the [`Store`] contract.
pub fn check_store<S: Store>(store: &mut S) {
    let key = GroupKey {
        correlation: "contract".into(),
        account: "111122223333".into(),
        group: vec!["203.0.113.9".into()],
    };
    let (b0, b1) = (1_764_500_400, 1_764_500_460);
    let first = [event("a", b0), event("b", b0 + 5)];
    assert_eq!(
        store.add(&key, b0, "d1", observed(&first)).unwrap(),
        2,
        "two new events"
    );
    assert_eq!(
        store.add(&key, b0, "d1", observed(&first)).unwrap(),
        0,
        "the same delivery again counts nothing"
    );
    let overlap = [event("b", b0 + 5), event("c", b0 + 9)];
    assert_eq!(
        store.add(&key, b0, "d2", observed(&overlap)).unwrap(),
        1,
        "an event counted before is not counted"
    );
    store
        .add(&key, b1, "d2", observed(&[event("d", b1)]))
        .unwrap();
    let g = store.group(&key).unwrap().expect("the group has state");
    assert_eq!(g.buckets.len(), 2);
    assert_eq!(g.buckets[&b0].count, 3);
    assert_eq!(g.buckets[&b0].first.first().map(|f| &*f.1), Some("a"));
    assert_eq!(g.buckets[&b0].rules[0], Some((b0, b0 + 9)));
    assert_eq!(store.groups().unwrap(), std::slice::from_ref(&key));
    store.decide(&key, b1).unwrap();
    let g = store.group(&key).unwrap().expect("a decided group stays");
    assert_eq!(
        (g.decided, g.buckets.len()),
        (b1, 1),
        "buckets before the decision go"
    );
    store.forget(&key).unwrap();
    assert!(store.group(&key).unwrap().is_none());
    assert!(store.groups().unwrap().is_empty());
    store.set_watermark(b1).unwrap();
    store.set_watermark(b0).unwrap();
    assert_eq!(
        store.watermark().unwrap(),
        b1,
        "the watermark never goes back"
    );
}
