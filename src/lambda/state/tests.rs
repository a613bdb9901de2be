//! The state over the in-memory table: counting across deliveries, idempotence, conflicts,
//! the same alerts as replay's store, silence.

use super::silence::{TRAIL_RESUMED, TRAIL_SILENT};
use super::*;
use crate::alert::severity::Severity;
use crate::alert::DetectorMeta;
use crate::correlate::rule::{Condition, Correlation, Kind};
use crate::correlate::store::{Event, GroupKey, DEFAULT_MAX_GROUPS};
use crate::correlate::{Engine, Linked, MemoryStore, Observation, Observed, DEFAULT_LATENESS};

const T0: i64 = 1_764_500_400; // 2025-11-30T11:00:00Z
const KEY: &str = "AWSLogs/111122223333/CloudTrail/eu-west-1/2025/11/30/f.json.gz";

fn set(threshold: u64) -> Arc<Correlations> {
    Arc::new(Correlations::new(vec![Linked {
        id: "burst".into(),
        severity: Severity::High,
        meta: DetectorMeta::default(),
        rule: Correlation {
            kind: Kind::EventCount,
            rules: vec!["base".into()],
            group_by: vec!["sourceIPAddress".into()],
            timespan: 600,
            condition: Condition {
                bounds: vec![("gte".into(), threshold)],
                field: None,
            },
            generate: true,
        },
    }]))
}

fn obs(ip: &str, id: &str, time: i64) -> Observation {
    Observation {
        key: GroupKey {
            correlation: "burst".into(),
            account: String::new(),
            group: vec![ip.into()],
        },
        event: Event {
            id: id.into(),
            time,
            rule: 0,
            value: None,
            name: "ConsoleLogin".into(),
            who: Default::default(),
        },
    }
}

fn burst(ip: &str, from: usize, n: usize, time: i64) -> Vec<Observation> {
    (from..from + n)
        .map(|i| obs(ip, &format!("{ip}-{i}"), time + i as i64))
        .collect()
}

fn state() -> State<MemoryTable> {
    State {
        table: MemoryTable::default(),
        settings: StateSettings {
            table: "memory".into(),
            silence_after: 7200,
            unverified_silence_after: 3600,
            lateness: DEFAULT_LATENESS,
            max_groups: DEFAULT_MAX_GROUPS,
        },
    }
}

async fn checked(
    s: &State<MemoryTable>,
    set: &Arc<Correlations>,
    now: i64,
) -> Result<Vec<Alert>, TableError> {
    s.scheduled(set, now, Contention::DEFAULT)
        .await
        .map(|c| c.alerts)
}

async fn deliver(
    s: &State<MemoryTable>,
    set: &Arc<Correlations>,
    key: &str,
    o: &[Observation],
    now: i64,
) -> Vec<Alert> {
    s.delivered(
        set,
        ("logs", key),
        "2025-11-30T11:00:00Z",
        &Observed::of(o),
        now,
        Contention::DEFAULT,
    )
    .await
    .unwrap()
    .alerts
}

#[tokio::test]
async fn a_burst_over_three_deliveries_raises_one_alert_once_its_window_is_closed() {
    let (s, set) = (state(), set(20));
    for d in 0..3 {
        let o = burst("203.0.113.9", d * 8, 8, T0 + 60);
        assert!(deliver(&s, &set, &format!("{KEY}{d}"), &o, T0 + 300)
            .await
            .is_empty());
    }
    let open = checked(&s, &set, T0 + 600).await.unwrap();
    assert!(open.is_empty(), "the window is still open: {open:?}");
    let closed = checked(&s, &set, T0 + 3600).await.unwrap();
    let ids: Vec<_> = closed.iter().filter(|a| a.detector == "burst").collect();
    assert_eq!(ids.len(), 1, "{closed:?}");
    assert_eq!(ids[0].count, 24);
    let again = checked(&s, &set, T0 + 7200).await.unwrap();
    assert!(again.iter().all(|a| a.detector != "burst"), "decided once");
}

#[tokio::test]
async fn the_same_delivery_twice_counts_once() {
    let (s, set) = (state(), set(20));
    let o = burst("198.51.100.7", 0, 12, T0 + 60);
    deliver(&s, &set, KEY, &o, T0 + 300).await;
    deliver(&s, &set, KEY, &o, T0 + 310).await;
    let closed = checked(&s, &set, T0 + 3600).await.unwrap();
    assert!(
        closed.iter().all(|a| a.detector != "burst"),
        "12 < 20: {closed:?}"
    );
}

#[tokio::test]
async fn a_record_later_than_its_window_allows_is_not_counted() {
    let (s, set) = (state(), set(1));
    let late = T0 + 600 + DEFAULT_LATENESS + 60;
    let d = s
        .delivered(
            &set,
            ("logs", KEY),
            "",
            &Observed::of(&burst("ip", 0, 3, T0)),
            late,
            Contention::DEFAULT,
        )
        .await
        .unwrap();
    assert_eq!(d.late, 3);
}

#[tokio::test]
async fn a_writer_that_was_second_reloads_and_counts_once() {
    let (s, set) = (state(), set(5));
    let first = burst("ip", 0, 3, T0);
    let touched: std::collections::BTreeSet<&GroupKey> = first.iter().map(|o| &o.key).collect();
    // Two invocations load the same (empty) group; the first commits.
    let scope = groups::Scope::Touched(&touched);
    let load = || groups::Snapshot::load(&s.table, &set, DEFAULT_LATENESS, scope, T0 + 60);
    let (a, b) = (load().await.unwrap(), load().await.unwrap());
    let mut ea = Engine::new(Arc::clone(&set), a, DEFAULT_LATENESS);
    ea.observe("d1", Observed::of(&first)).unwrap();
    assert!(ea.store.commit(&s.table).await.unwrap().complete);
    let mut eb = Engine::new(Arc::clone(&set), b, DEFAULT_LATENESS);
    eb.observe("d2", Observed::of(&burst("ip", 2, 3, T0)))
        .unwrap();
    assert!(
        !eb.store.commit(&s.table).await.unwrap().complete,
        "the second writer is refused"
    );
    // Through `correlate`, the second delivery reloads: events ip-2..ip-4, one overlapping.
    deliver(&s, &set, KEY, &burst("ip", 2, 3, T0), T0 + 60).await;
    let closed = checked(&s, &set, T0 + 3600).await.unwrap();
    assert_eq!(closed.iter().map(|a| a.count).collect::<Vec<_>>(), [5]);
}

#[tokio::test]
async fn the_table_gives_the_alerts_replay_gives() {
    let set = set(4);
    let mut all = Vec::new();
    for (i, ip) in ["a", "b", "c"].iter().enumerate() {
        all.extend(burst(ip, 0, 3 + i, T0 + 90 * i as i64));
        all.extend(burst(ip, 10, 2 + i, T0 + 900 + 30 * i as i64));
    }
    let mut replay = Engine::new(
        Arc::clone(&set),
        MemoryStore::new(DEFAULT_MAX_GROUPS),
        DEFAULT_LATENESS,
    );
    replay.observe("all", Observed::of(&all)).unwrap();
    let mut want: Vec<_> = replay
        .flush()
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a.count))
        .collect();
    let s = state();
    for (n, part) in all.chunks(4).enumerate() {
        deliver(&s, &set, &format!("{KEY}{n}"), part, T0 + 60).await;
    }
    let mut got: Vec<_> = checked(&s, &set, T0 + 86_400)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.detector == "burst")
        .map(|a| (a.id, a.count))
        .collect();
    want.sort();
    got.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[tokio::test]
async fn a_table_that_is_down_fails_the_delivery() {
    let (s, set) = (state(), set(1));
    *s.table.down.lock().unwrap() = Some("throttled".into());
    let e = s
        .delivered(
            &set,
            ("logs", KEY),
            "",
            &Observed::of(&burst("ip", 0, 1, T0)),
            T0,
            Contention::DEFAULT,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("throttled"), "{e}");
}

#[tokio::test]
async fn a_place_without_digests_silent_longer_than_its_setting_raises_once_then_resumes() {
    let (s, set) = (state(), Arc::new(Correlations::default()));
    deliver(&s, &set, KEY, &[], T0).await;
    assert!(
        checked(&s, &set, T0 + 3600).await.unwrap().is_empty(),
        "not longer yet"
    );
    let silent = checked(&s, &set, T0 + 3601).await.unwrap();
    assert_eq!(silent.len(), 1);
    // Without digests, a quiet region and a stopped trail look alike: medium, not high.
    assert_eq!(
        (silent[0].detector.as_str(), silent[0].severity),
        (TRAIL_SILENT, Severity::Medium)
    );
    assert_eq!(
        (silent[0].account.as_str(), silent[0].region.as_str()),
        ("111122223333", "eu-west-1")
    );
    assert!(
        checked(&s, &set, T0 + 5400).await.unwrap().is_empty(),
        "raised once"
    );
    let back = deliver(&s, &set, KEY, &[], T0 + 7200).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].detector, TRAIL_RESUMED);
    // Two hours of log files and no digest: validation is off, said once.
    let unverifiable = checked(&s, &set, T0 + 7300).await.unwrap();
    assert_eq!(unverifiable.len(), 1);
    assert_eq!(
        (unverifiable[0].detector.as_str(), unverifiable[0].severity),
        (super::silence::TRAIL_UNVERIFIABLE, Severity::Low)
    );
    assert!(checked(&s, &set, T0 + 7400).await.unwrap().is_empty());
}

#[tokio::test]
async fn regions_that_never_delivered_and_other_keys_are_never_silent() {
    let (s, set) = (state(), Arc::new(Correlations::default()));
    deliver(&s, &set, "exports/report.json.gz", &[], T0).await;
    assert!(checked(&s, &set, T0 + 86_400).await.unwrap().is_empty());
    assert!(s.table.rows().is_empty());
}

#[tokio::test]
async fn a_delivery_costs_a_handful_of_calls() {
    let (s, set) = (state(), set(1000));
    let o = burst("ip", 0, 500, T0); // 500 events over 9 minutes of one group
    let before = s.table.calls();
    deliver(&s, &set, KEY, &o, T0 + 600).await;
    let calls = s.table.calls() - before;
    // groups query, minutes query, 9 minute rows, the group row, trail query and write.
    assert!(calls <= 14, "{calls} calls");
}

#[tokio::test]
async fn a_dedup_window_holds_repeats_across_deliveries_then_summarises_them() {
    use crate::alert::Source;
    use crate::correlate::time::format_time;
    let s = state();
    let windows = vec![("resource-public".to_owned(), 3600)];
    let alert = |id: &str, at: i64| {
        let source = Source::File { file: "f".into() };
        let mut a = crate::alert::operational("resource-public", id.into(), source);
        a.subject = "bucket-x".into();
        (a.first_seen, a.last_seen) = (format_time(at), format_time(at));
        crate::redact::alert(a)
    };
    let admit = |alerts: Vec<crate::redact::Redacted<Alert>>, at: i64| {
        let table = &s.table;
        let windows = &windows;
        async move {
            let every = alerts.is_empty();
            let got = dedup::admit(
                table,
                windows,
                (&alerts, &[]),
                (at, every),
                Contention::DEFAULT,
            )
            .await
            .unwrap();
            (got.alerts, got.held_back, got.pending.len())
        }
    };
    let (out, held, pending) = admit(vec![alert("a1", T0)], T0 + 60).await;
    assert_eq!((out.len(), held), (1, 0));
    assert_eq!(
        pending, 1,
        "the first alert of the window is in the outbox with it"
    );
    let (out, held, _) = admit(vec![alert("a2", T0 + 600)], T0 + 660).await;
    assert_eq!((out.len(), held), (0, 1), "held back by the window of a1");
    let (out, _, _) = admit(vec![], T0 + 3000).await;
    assert!(out.is_empty(), "the window is still open");
    let (out, _, _) = admit(vec![], T0 + 3600).await;
    assert_eq!(out.len(), 1);
    assert!(
        out[0].summary.starts_with("1 more alert like a1"),
        "{}",
        out[0].summary
    );
    let rows = s.table.rows();
    assert!(
        rows.iter().all(|r| r.pk == "outbox"),
        "the closed window's row is gone: {rows:?}"
    );
    assert_eq!(
        rows.len(),
        2,
        "the first alert and the summary wait in the outbox"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// The same records split into random deliveries, in random order, through the table give
    /// the alerts replay's store gives.
    #[test]
    fn any_split_and_order_through_the_table_gives_replays_alerts(
        sizes in proptest::collection::vec(1usize..8, 1..12),
        order in proptest::collection::vec(0usize..1000, 12),
        times in proptest::collection::vec((0usize..4, 0i64..1800), 4..40),
    ) {
        let set = set(4);
        let all: Vec<Observation> = times
            .iter()
            .enumerate()
            .map(|(i, (ip, t))| obs(&format!("ip{ip}"), &format!("e{i}"), T0 + t))
            .collect();
        let mut replay = Engine::new(Arc::clone(&set), MemoryStore::new(DEFAULT_MAX_GROUPS), DEFAULT_LATENESS);
        replay.observe("all", Observed::of(&all)).unwrap();
        let mut want: Vec<_> = replay.flush().unwrap().into_iter().map(|a| (a.id, a.count)).collect();
        let mut parts: Vec<&[Observation]> = Vec::new();
        let mut rest = &all[..];
        for n in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (part, tail) = rest.split_at((*n).min(rest.len()));
            parts.push(part);
            rest = tail;
        }
        let mut keyed: Vec<(usize, &[Observation])> = parts.into_iter().enumerate().map(|(i, p)| (order[i % order.len()] * 100 + i, p)).collect();
        keyed.sort_by_key(|k| k.0);
        let got = tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
            let s = state();
            for (n, (_, part)) in keyed.iter().enumerate() {
                deliver(&s, &set, &format!("{KEY}{n}"), part, T0 + 1799).await;
            }
            checked(&s, &set, T0 + 86_400).await.unwrap()
        });
        let mut got: Vec<_> = got.into_iter().filter(|a| a.detector == "burst").map(|a| (a.id, a.count)).collect();
        want.sort();
        got.sort();
        proptest::prop_assert_eq!(got, want);
    }
}

#[tokio::test]
async fn beyond_max_groups_the_least_recently_active_are_evicted_and_counted() {
    let (mut s, set) = (state(), set(2));
    s.settings.max_groups = 2;
    for (n, ip) in ["old", "mid", "new"].iter().enumerate() {
        let o = burst(ip, 0, 3, T0 + 120 * n as i64);
        deliver(&s, &set, &format!("{KEY}{n}"), &o, T0 + 300).await;
    }
    let c = s
        .scheduled(&set, T0 + 86_400, Contention::DEFAULT)
        .await
        .unwrap();
    assert_eq!(c.evicted, 1);
    let mut groups: Vec<String> = c
        .alerts
        .iter()
        .filter(|a| a.detector == "burst")
        .map(|a| a.evidence["group"]["sourceIPAddress"].to_string())
        .collect();
    groups.sort();
    assert_eq!(groups, ["\"mid\"", "\"new\""], "the oldest group went");
}

#[test]
fn a_minute_row_fits_in_a_dynamodb_item_whatever_the_burst() {
    use crate::correlate::store::{Bucket, KEPT_SEEN};
    let mut b = Bucket::default();
    for i in 0..20_000 {
        let mut o = obs("ip", &format!("ev-{i}"), T0).event;
        o.value = Some(format!(
            "arn:aws:iam::111122223333:role/{}-{i}",
            "x".repeat(400)
        ));
        b.add(&o);
    }
    assert_eq!(b.count, 20_000, "every event counts");
    assert_eq!(b.seen.len(), KEPT_SEEN);
    let body = groups::fit(&b);
    assert!(body.len() <= 300_000, "{} bytes", body.len());
    let back: Bucket = serde_json::from_str(&body).unwrap();
    assert_eq!(back.count, 20_000, "the count is never cut");
}

#[test]
fn state_settings_are_checked_with_or_without_a_table() {
    let lookup = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(StateSettings::from_lookup(&lookup(&[])), Ok(None));
    let bad = StateSettings::from_lookup(&lookup(&[("SILENCE_AFTER", "1x")])).unwrap_err();
    assert_eq!(bad.variable, "SILENCE_AFTER");
    assert!(
        bad.message.contains("`1x` is not a duration"),
        "{}",
        bad.message
    );
    let bad = StateSettings::from_lookup(&lookup(&[("STATE_TABLE", "t"), ("MAX_GROUPS", "0")]));
    assert_eq!(bad.unwrap_err().variable, "MAX_GROUPS");
    let ok = StateSettings::from_lookup(&lookup(&[("STATE_TABLE", "t"), ("SILENCE_AFTER", "2h")]));
    assert_eq!(ok.unwrap().map(|s| s.silence_after), Some(7200));
}
