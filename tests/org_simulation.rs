//! A small organization end to end, in process: 50 account-regions delivering every five
//! minutes for three hours of event time, four invocations at once, 5% of the publish calls
//! failing and the topic down for 5% of the rounds, 2% of the state writes refused or
//! failing. Failed invocations are retried as SQS retries them. Every planted finding must be
//! published at least once, every correlation alert exactly once by id with every event
//! counted once. Prints the state table's calls per delivery.
#![cfg(feature = "lambda")]

#[path = "common/fakes.rs"]
mod fakes;

use fakes::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use trailwatch::correlate::time::format_time;
use trailwatch::lambda::state::Table;

const ACCOUNTS: usize = 10;
const REGIONS: [&str; 5] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
];
const SLOTS: usize = 36;
/// Refusals per planted burst (the rule wants 20 in ten minutes), split over two files.
const BURST: usize = 21;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn account(a: usize) -> String {
    format!("{:012}", 100_000_000_000 + a as u64)
}

fn key(a: usize, region: &str, slot: usize) -> String {
    let acct = account(a);
    format!("AWSLogs/o-sim/{acct}/CloudTrail/{region}/2026/12/06/{acct}_CloudTrail_{region}_{slot:03}.json.gz")
}

fn event(acct: &str, region: &str, id: &str, at: i64, user: &str, extra: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"{}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"{region}","recipientAccountId":"{acct}","eventID":"{id}","sourceIPAddress":"198.51.100.7","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::{acct}:assumed-role/app/{user}","accountId":"{acct}"}}{extra}}}"#,
        format_time(at)
    )
}

/// What was planted: finding event ids (published at least once), bursts (id -> count).
#[derive(Default)]
struct Planted {
    findings: BTreeSet<String>,
    bursts: usize,
}

fn deliveries(start: i64) -> (Vec<(String, Vec<u8>)>, Planted) {
    let mut files = Vec::new();
    let mut planted = Planted::default();
    for slot in 0..SLOTS {
        for a in 0..ACCOUNTS {
            for (r, region) in REGIONS.iter().enumerate() {
                let acct = account(a);
                let at = start + slot as i64 * 300;
                let mut records: Vec<String> = (0..3)
                    .map(|i| {
                        event(
                            &acct,
                            region,
                            &format!("ok-{a}-{r}-{slot}-{i}"),
                            at + i,
                            "app",
                            "",
                        )
                    })
                    .collect();
                let ar = a * REGIONS.len() + r;
                // A finding every seven slots, staggered: an outdated TLS call.
                if (slot + ar) % 7 == 0 {
                    let id = format!("plant-{ar}-{slot}");
                    let tls = r#","tlsDetails":{"tlsVersion":"TLSv1","cipherSuite":"ECDHE-RSA-AES128-SHA","clientProvidedHostHeader":"s3.amazonaws.com"}"#;
                    records.push(event(
                        &acct,
                        region,
                        &id,
                        at + 10,
                        &format!("legacy-{ar}-{slot}"),
                        tls,
                    ));
                    planted.findings.insert(id);
                }
                // A burst of refusals in one account-region in one slot of four, across
                // two files: 11 in this one, 10 in the next.
                let denied = r#","errorCode":"AccessDenied""#;
                let burst_here = ar % 4 == slot % 4 && slot + 1 < SLOTS && ar % 10 == 0;
                let burst_before = slot > 0 && ar % 4 == (slot - 1) % 4 && ar % 10 == 0;
                for (on, from, n, base) in [
                    (burst_here, 0, 11, at + 200),
                    (burst_before, 11, BURST - 11, at),
                ] {
                    if !on {
                        continue;
                    }
                    let s = if from == 0 { slot } else { slot - 1 };
                    let user = format!("probe-{ar}-{s}");
                    for i in 0..n {
                        let id = format!("{user}-{}", from + i);
                        records.push(event(&acct, region, &id, base + i as i64, &user, denied));
                    }
                    if from == 0 {
                        planted.bursts += 1;
                    }
                }
                files.push((key(a, region, slot), delivery(&records)));
            }
        }
    }
    (files, planted)
}

/// Two minutes pass: every outbox lease ends.
async fn expire_leases(table: &trailwatch::lambda::state::MemoryTable) {
    for mut r in table.rows().into_iter().filter(|r| r.pk == "outbox") {
        let mut body: Value = serde_json::from_str(&r.body).unwrap();
        body["lease"] = 0.into();
        r.body = body.to_string();
        r.ver += 1;
        assert!(table.put(&r).await.unwrap());
    }
}

fn event_of(keys: &[String]) -> Value {
    let records: Vec<Value> = keys
        .iter()
        .map(|k| json!({"eventSource": "aws:s3", "s3": {"bucket": {"name": BUCKET}, "object": {"key": k}}}))
        .collect();
    json!({ "Records": records })
}

/// Table fault sequences: each a different morning of faults.
const TABLE_SEEDS: [u64; 3] = [
    0x2545_f491_4f6c_dd1d,
    0x1234_5678_9abc_def1,
    0x0bad_cafe_dead_beef,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_small_organization_with_faults_loses_and_doubles_nothing() {
    for seed in TABLE_SEEDS {
        simulate(seed).await;
    }
}

async fn simulate(table_seed: u64) {
    let start = now() - SLOTS as i64 * 300 - 600;
    let (files, planted) = deliveries(start);
    let mut source = FakeSource::default();
    for (k, data) in &files {
        source = source.with(BUCKET, k, Fake::Data(data.clone()));
    }
    let sink = Arc::new(FakeSink::default());
    // Windows stay open for the whole simulated morning: the check at the end decides them.
    let config = config(&[("STATE_TABLE", "state"), ("ALLOWED_LATENESS", "12h")]);
    let (h, table) = with_memory_state(source, &sink, config);
    let h = Arc::new(h);
    *sink.flaky.lock().unwrap() = Some((0x9e37_79b9_7f4a_7c15, 50));
    *table.flaky.lock().unwrap() = Some((table_seed, 20));

    // Invocations of five objects each, four at once; a failed one comes back later.
    let mut queue: VecDeque<Vec<String>> = files
        .chunks(5)
        .map(|c| c.iter().map(|(k, _)| k.clone()).collect())
        .collect();
    let (mut rounds, mut failed, mut invocations) = (0u64, 0u64, 0u64);
    let (calls_before, writes_before) = (table.calls(), table.writes());
    while !queue.is_empty() {
        rounds += 1;
        assert!(rounds < 10_000, "the queue drains");
        sink.down.store(rounds % 20 == 7, Ordering::SeqCst);
        let batch: Vec<Vec<String>> = (0..4).filter_map(|_| queue.pop_front()).collect();
        let mut runs = tokio::task::JoinSet::new();
        for keys in batch {
            let h = Arc::clone(&h);
            runs.spawn(async move {
                let ok = h.handle(event_of(&keys), far_deadline()).await.is_ok();
                (keys, ok)
            });
        }
        while let Some(done) = runs.join_next().await {
            let (keys, ok) = done.unwrap();
            invocations += 1;
            if !ok {
                failed += 1;
                queue.push_back(keys);
            }
        }
    }
    let delivery_calls = table.calls() - calls_before;
    let delivery_writes = table.writes() - writes_before;
    sink.down.store(false, Ordering::SeqCst);

    // The scheduled check after the windows closed, retried until it succeeds; then one more
    // run with the faults gone, which publishes whatever is still pending.
    let check = json!({"trailwatch": "scheduled-check", "time": format_time(now() + 13 * 3600)});
    let mut tries = 0;
    while h.handle(check.clone(), far_deadline()).await.is_err() {
        tries += 1;
        assert!(tries < 50, "the check succeeds in the end");
    }
    *sink.flaky.lock().unwrap() = None;
    *table.flaky.lock().unwrap() = None;
    h.handle(check.clone(), far_deadline()).await.unwrap();
    // An invocation whose release failed (a table fault) holds its alerts until its lease
    // ends: two minutes later, the next invocation publishes them.
    expire_leases(&table).await;
    h.handle(check.clone(), far_deadline()).await.unwrap();

    let published = sink.alerts();
    let ids_of =
        |d: &str| -> Vec<&Value> { published.iter().filter(|a| a["detector"] == d).collect() };
    // Every planted finding at least once.
    let seen: BTreeSet<String> = ids_of("tls-outdated")
        .iter()
        .flat_map(|a| a["event_ids"].as_array().unwrap())
        .map(|e| e.as_str().unwrap().to_owned())
        .collect();
    let missing: Vec<&String> = planted.findings.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "planted findings not published: {missing:?}"
    );
    // Every burst exactly once by id, every one of its events counted once.
    let mut by_id: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for a in ids_of("access-denied-burst") {
        by_id
            .entry(a["id"].as_str().unwrap().to_owned())
            .or_default()
            .push(a["count"].as_u64().unwrap());
    }
    assert_eq!(by_id.len(), planted.bursts, "{by_id:?}");
    for (id, counts) in &by_id {
        assert_eq!(
            counts,
            &[BURST as u64],
            "alert {id}: published once, {BURST} events"
        );
    }
    let left: Vec<_> = table
        .rows()
        .into_iter()
        .filter(|r| r.pk == "outbox")
        .collect();
    assert!(left.is_empty(), "nothing left pending: {left:#?}");
    let deliveries = files.len() as u64;
    eprintln!(
        "org simulation (table faults {table_seed:#x}): {deliveries} deliveries in {invocations} invocations ({failed} failed \
         and retried), {} findings and {} bursts planted; state table calls per delivery: {:.2}, \
         of which writes {:.2} (the retries included)",
        planted.findings.len(),
        planted.bursts,
        delivery_calls as f64 / deliveries as f64,
        delivery_writes as f64 / deliveries as f64
    );
    assert!(failed > 0, "faults were met");
}
