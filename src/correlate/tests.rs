//! Window semantics: boundaries, lateness, order, each correlation type, the state file.

use super::rule::{Condition, Correlation, Kind};
use super::store::{Event, GroupKey, DEFAULT_MAX_GROUPS};
use super::*;
use crate::alert::severity::Severity;
use crate::alert::DetectorMeta;
use proptest::prelude::*;
use serde_json::json;
use std::sync::Arc;

const T0: i64 = 1_764_500_400; // 2025-11-30T11:00:00Z, a whole minute

fn rule(kind: Kind, rules: usize, bounds: &[(&str, u64)], field: Option<&str>) -> Linked {
    Linked {
        id: "c".into(),
        severity: Severity::High,
        meta: DetectorMeta {
            title: "C".into(),
            ..DetectorMeta::default()
        },
        rule: Correlation {
            kind,
            rules: (0..rules).map(|r| format!("r{r}")).collect(),
            group_by: vec!["sourceIPAddress".into()],
            timespan: 600,
            condition: Condition {
                bounds: bounds.iter().map(|(o, n)| (o.to_string(), *n)).collect(),
                field: field.map(str::to_owned),
            },
            generate: true,
        },
    }
}

fn obs(group: &str, rule: usize, id: &str, time: i64, value: &str) -> Observation {
    Observation {
        key: GroupKey {
            correlation: "c".into(),
            account: String::new(),
            group: vec![group.into()],
        },
        event: Event {
            id: id.into(),
            time,
            rule,
            value: Some(value.into()),
            name: format!("Call{rule}"),
            who: Default::default(),
        },
    }
}

fn engine(l: Linked) -> Engine<MemoryStore> {
    let set = Arc::new(Correlations::new(vec![l]));
    Engine::new(set, MemoryStore::new(DEFAULT_MAX_GROUPS), DEFAULT_LATENESS)
}

/// The ids and counts of the alerts `l` raises over `events` (one delivery, then flush).
fn alerts(l: Linked, events: &[Observation]) -> Vec<(String, u64)> {
    let mut e = engine(l);
    e.observe("d", Observed::of(events)).unwrap();
    e.flush()
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a.count))
        .collect()
}

fn count3() -> Linked {
    rule(Kind::EventCount, 1, &[("gte", 3)], None)
}

#[test]
fn a_window_starts_at_the_minute_of_its_first_event_and_ends_before_timespan() {
    let at = |ts: [i64; 3]| -> Vec<Observation> {
        ts.iter()
            .enumerate()
            .map(|(i, t)| obs("ip", 0, &format!("e{i}"), T0 + t, ""))
            .collect()
    };
    assert_eq!(
        alerts(count3(), &at([30, 300, 599])).len(),
        1,
        "all in [0, 600)"
    );
    assert!(
        alerts(count3(), &at([30, 300, 600])).is_empty(),
        "600 is the next window's"
    );
    assert_eq!(alerts(count3(), &at([0, 0, 0]))[0].1, 3);
}

#[test]
fn a_burst_raises_one_alert_and_a_later_burst_another() {
    let mut events: Vec<Observation> = (0..10)
        .map(|i| obs("ip", 0, &format!("a{i}"), T0 + i * 20, ""))
        .collect();
    assert_eq!(alerts(count3(), &events).len(), 1);
    events.extend((0..3).map(|i| obs("ip", 0, &format!("b{i}"), T0 + 3600 + i, "")));
    let got = alerts(count3(), &events);
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].1, got[1].1), (10, 3));
    let other_group: Vec<Observation> = (0..3)
        .map(|i| obs(&format!("ip{i}"), 0, &format!("g{i}"), T0, ""))
        .collect();
    assert!(
        alerts(count3(), &other_group).is_empty(),
        "groups count apart"
    );
}

#[test]
fn a_window_is_decided_only_after_the_allowed_lateness_and_later_records_are_late() {
    let mut e = engine(count3());
    let first: Vec<Observation> = (0..2)
        .map(|i| obs("ip", 0, &format!("e{i}"), T0 + i, ""))
        .collect();
    e.observe("d1", Observed::of(&first)).unwrap();
    // The window [T0, T0+600) closes at T0 + 600 + 20 min.
    assert!(e.close(T0 + 600 + DEFAULT_LATENESS - 1).unwrap().is_empty());
    // A record 15 minutes late still counts.
    e.observe("d2", Observed::of(&[obs("ip", 0, "e2", T0 + 120, "")]))
        .unwrap();
    let raised = e.close(T0 + 600 + DEFAULT_LATENESS).unwrap();
    assert_eq!(raised.len(), 1);
    assert_eq!(e.late, 0);
    // After the decision, a record for that window is late: not counted, no second alert.
    e.observe("d3", Observed::of(&[obs("ip", 0, "e3", T0 + 130, "")]))
        .unwrap();
    assert_eq!(e.late, 1);
    assert!(e.flush().unwrap().is_empty());
}

#[test]
fn the_same_events_count_once_and_order_does_not_matter() {
    let events: Vec<Observation> = (0..5)
        .map(|i| obs("ip", 0, &format!("e{i}"), T0 + i * 100, ""))
        .collect();
    let base = alerts(count3(), &events);
    let mut reversed = events.clone();
    reversed.reverse();
    assert_eq!(alerts(count3(), &reversed), base);
    let mut e = engine(count3());
    e.observe("same.json.gz", Observed::of(&events[..2]))
        .unwrap();
    e.observe("same.json.gz", Observed::of(&events[..2]))
        .unwrap();
    assert!(
        e.flush().unwrap().is_empty(),
        "a file read twice counts once"
    );
}

#[test]
fn value_count_counts_distinct_values() {
    let l = || rule(Kind::ValueCount, 1, &[("gte", 3)], Some("eventSource"));
    let same: Vec<Observation> = (0..5)
        .map(|i| obs("p", 0, &format!("e{i}"), T0 + i, "s3"))
        .collect();
    assert!(alerts(l(), &same).is_empty());
    let three: Vec<Observation> = ["s3", "iam", "ec2", "s3"]
        .iter()
        .enumerate()
        .map(|(i, v)| obs("p", 0, &format!("e{i}"), T0 + i as i64, v))
        .collect();
    assert_eq!(alerts(l(), &three).len(), 1);
}

#[test]
fn temporal_needs_every_rule_in_the_window_in_any_order() {
    let l = || rule(Kind::Temporal, 2, &[("gte", 2)], None);
    assert_eq!(
        alerts(
            l(),
            &[obs("p", 1, "b", T0, ""), obs("p", 0, "a", T0 + 300, "")]
        )
        .len(),
        1
    );
    assert!(alerts(
        l(),
        &[obs("p", 0, "a", T0, ""), obs("p", 0, "a2", T0 + 300, "")]
    )
    .is_empty());
    assert!(alerts(
        l(),
        &[obs("p", 0, "a", T0, ""), obs("p", 1, "b", T0 + 900, "")]
    )
    .is_empty());
}

#[test]
fn temporal_ordered_needs_the_rules_in_their_order() {
    let l = || rule(Kind::TemporalOrdered, 3, &[("gte", 3)], None);
    let seq = |ts: [i64; 3]| -> Vec<Observation> {
        ts.iter()
            .enumerate()
            .map(|(r, t)| obs("p", r, &format!("e{r}"), T0 + t, ""))
            .collect()
    };
    assert_eq!(alerts(l(), &seq([0, 60, 61])).len(), 1);
    assert_eq!(
        alerts(l(), &seq([5, 5, 5])).len(),
        1,
        "same second is in order"
    );
    assert!(
        alerts(l(), &seq([0, 120, 60])).is_empty(),
        "third before second"
    );
    // An early and a late match of the first rule: the sequence uses the one that fits.
    let mut events = seq([100, 130, 150]);
    events.push(obs("p", 1, "early-second", T0 + 10, ""));
    assert_eq!(alerts(l(), &events).len(), 1);
}

#[test]
fn conditions_and_ranges() {
    let c = |b: &[(&str, u64)]| Condition {
        bounds: b.iter().map(|(o, n)| (o.to_string(), *n)).collect(),
        field: None,
    };
    let range = c(&[("gt", 2), ("lte", 4)]);
    assert_eq!(
        (0..7).filter(|n| range.holds(*n)).collect::<Vec<_>>(),
        [3, 4]
    );
    assert!(c(&[("eq", 3)]).holds(3) && !c(&[("eq", 3)]).holds(4));
    assert!(c(&[("lt", 3)]).holds(2) && !c(&[("lt", 3)]).holds(3));
    assert_eq!(range.describe(), "> 2 and <= 4");
}

#[test]
fn correlation_blocks_are_read_or_refused_with_the_reason() {
    let ok = Correlation::parse(&json!({"type": "event_count", "rules": "a", "group-by": ["x"], "timespan": "1h", "condition": {"gte": 5}})).unwrap();
    assert_eq!(
        (ok.kind, ok.timespan, ok.generate),
        (Kind::EventCount, 3600, false)
    );
    let t = Correlation::parse(&json!({"type": "temporal", "rules": ["a", "b"], "timespan": "5m"}))
        .unwrap();
    assert!(
        t.condition.holds(2) && !t.condition.holds(1),
        "temporal defaults to all rules"
    );
    for (block, why) in [
        (
            json!({"type": "event_count", "rules": ["a"], "timespan": "10m", "condition": {"gte": 1}, "aliases": {}}),
            "`aliases` is not supported",
        ),
        (
            json!({"type": "sum", "rules": ["a"], "timespan": "10m"}),
            "type `sum`",
        ),
        (
            json!({"type": "event_count", "rules": ["a"], "timespan": "90s", "condition": {"gte": 1}}),
            "whole minutes",
        ),
        (
            json!({"type": "event_count", "rules": ["a"], "timespan": "ten", "condition": {"gte": 1}}),
            "not a duration",
        ),
        (
            json!({"type": "event_count", "rules": ["a"], "timespan": "10m"}),
            "`condition` is missing",
        ),
        (
            json!({"type": "value_count", "rules": ["a"], "timespan": "10m", "condition": {"gte": 2}}),
            "names the `field`",
        ),
        (
            json!({"type": "temporal", "rules": ["a"], "timespan": "10m"}),
            "at least two rules",
        ),
        (
            json!({"type": "event_count", "rules": ["a"], "timespan": "10m", "condition": {"gte": -1}}),
            "not a whole number",
        ),
    ] {
        let e = Correlation::parse(&block).unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    }
}

#[test]
fn the_memory_store_keeps_the_store_contract() {
    contract::check_store(&mut MemoryStore::new(DEFAULT_MAX_GROUPS));
}

#[test]
fn groups_are_capped_and_evictions_counted() {
    let set = Arc::new(Correlations::new(vec![count3()]));
    let mut e = Engine::new(set, MemoryStore::new(2), DEFAULT_LATENESS);
    for (i, ip) in ["a", "b", "c"].iter().enumerate() {
        e.observe("d", Observed::of(&[obs(ip, 0, ip, T0 + i as i64 * 60, "")]))
            .unwrap();
    }
    assert_eq!(e.store.evicted(), 1);
    assert_eq!(e.store.groups().unwrap().len(), 2);
    assert!(
        e.store
            .group(&obs("a", 0, "", 0, "").key)
            .unwrap()
            .is_none(),
        "the oldest went"
    );
}

#[test]
fn windows_are_dropped_once_decided_and_state_survives_a_save() {
    let mut e = engine(count3());
    e.observe(
        "d1",
        Observed::of(&[obs("ip", 0, "e0", T0, ""), obs("ip", 0, "e1", T0 + 1, "")]),
    )
    .unwrap();
    assert!(e.close(T0 + 1).unwrap().is_empty());
    let store = MemoryStore::load(e.store.save(), "state.json", DEFAULT_MAX_GROUPS).unwrap();
    let set = Arc::new(Correlations::new(vec![count3()]));
    let mut next = Engine::new(set, store, DEFAULT_LATENESS);
    next.observe(
        "d2",
        Observed::of(&[
            obs("ip", 0, "e1", T0 + 1, ""),
            obs("ip", 0, "e2", T0 + 2, ""),
        ]),
    )
    .unwrap();
    let raised = next.close(T0 + 3600).unwrap();
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].count, 3, "e1 counted once across the runs");
    assert!(
        next.store.groups().unwrap().is_empty(),
        "decided windows are dropped"
    );
    let e = MemoryStore::load(json!(["not", "a", "store"]), "bad.json", 1)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("bad.json: "), "{e}");
}

proptest! {
    /// The same records, split into files at random and read in any order, raise the same
    /// alerts.
    #[test]
    fn alerts_do_not_depend_on_files_or_their_order(
        events in prop::collection::vec((0usize..3, 0i64..7200), 1..80),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        order in any::<u64>(),
    ) {
        let all: Vec<Observation> = events
            .iter()
            .enumerate()
            .map(|(i, (g, t))| obs(&format!("ip{g}"), 0, &format!("e{i}"), T0 + t, ""))
            .collect();
        let mut sorted = all.clone();
        sorted.sort_by_key(|o| o.event.time);
        let base = alerts(count3(), &sorted);
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(all.len() + 1)).collect();
        bounds.extend([0, all.len()]);
        bounds.sort();
        let mut files: Vec<&[Observation]> = bounds.windows(2).map(|w| &all[w[0]..w[1]]).collect();
        let n = files.len();
        files.rotate_left((order as usize) % n);
        if order % 2 == 1 {
            files.reverse();
        }
        let mut e = engine(count3());
        for (i, f) in files.iter().enumerate() {
            e.observe(&format!("f{i}"), Observed::of(f)).unwrap();
        }
        let got: Vec<(String, u64)> = e.flush().unwrap().into_iter().map(|a| (a.id, a.count)).collect();
        prop_assert_eq!(got, base);
    }
}

#[test]
fn a_record_lacking_the_group_by_field_is_not_grouped_with_the_others_like_it() {
    use crate::alert::finding::Finding;
    use crate::record::Record;
    let set = Correlations::new(vec![count3()]);
    let finding = |id: &str, ip: Option<&str>| {
        let ip = ip.map_or(String::new(), |ip| format!(r#","sourceIPAddress":"{ip}""#));
        let text = format!(
            r#"{{"eventID":"{id}","eventTime":"2025-11-30T10:00:00Z","eventName":"ListUsers","recipientAccountId":"111122223333"{ip}}}"#
        );
        Finding::new(
            "r0",
            Severity::Low,
            &Record::parse(text.as_bytes()).unwrap(),
            "t",
            "s",
        )
        .into_owned()
    };
    let mut o = Observed::default();
    for i in 0..5 {
        set.observe(&finding(&format!("n{i}"), None), &|_| true, &mut o);
    }
    set.observe(&finding("a", Some("203.0.113.9")), &|_| true, &mut o);
    set.observe(&finding("b", Some("203.0.113.9")), &|_| false, &mut o);
    assert_eq!(o.ungrouped, 5);
    let keys: Vec<&store::GroupKey> = o.keys().collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0].group, ["203.0.113.9"]);
    assert_eq!(keys[0].account, "111122223333");
    assert_eq!(o.matches, 1, "a correlation turned off counts nothing");
}

#[test]
fn a_value_count_alert_lists_the_values_it_counted_unless_they_are_secrets() {
    let raised = |field: &str| {
        let events: Vec<Observation> = ["arn:aws:secretsmanager:us-east-1:1:secret:b", "a", "c"]
            .iter()
            .enumerate()
            .map(|(i, v)| obs("ip", 0, &format!("v{i}"), T0 + i as i64, v))
            .collect();
        let mut e = engine(rule(Kind::ValueCount, 1, &[("gte", 3)], Some(field)));
        e.observe("d", Observed::of(&events)).unwrap();
        e.flush().unwrap().remove(0)
    };
    let a = raised("requestParameters.secretId");
    assert_eq!(
        a.evidence["values"],
        serde_json::json!(["a", "arn:aws:secretsmanager:us-east-1:1:secret:b", "c"])
    );
    assert!(a.summary.contains("(a, secret:b, c)"), "{}", a.summary);
    let hidden = raised("requestParameters.masterUserPassword");
    assert!(hidden.evidence.get("values").is_none());
    assert!(!hidden.summary.contains("secret:b"), "{}", hidden.summary);
}
