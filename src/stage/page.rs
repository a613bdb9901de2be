//! A page of alerts per detector: a delivery (or a run of windows) that gives more alerts of
//! one detector than a person reads publishes the [`PAGE`] - 1 most severe of them (the first
//! ones among equals) and one alert that stands for the rest, with their number, their events
//! and their worst severity. A storm of denied calls from thousands of principals is a few
//! pages, not thousands of messages; nothing leaves the counts, and no high alert hides
//! behind low ones.

use super::{Counts, OPERATIONAL};
use crate::alert::id::alert_id;
use crate::alert::severity::Severity;
use crate::alert::{Alert, MAX_EVENT_IDS};
use crate::redact::{self, Redacted};
use serde_json::json;
use std::collections::HashMap;

/// Alerts of one detector published at most per delivery (the last one stands for the rest).
pub const PAGE: usize = 50;

/// `alerts` with, for each detector past [`PAGE`], the alerts beyond the first `PAGE - 1`
/// folded into one; `counts.paged` counts the alerts folded.
pub fn page(alerts: Vec<Redacted<Alert>>, counts: &mut Counts) -> Vec<Redacted<Alert>> {
    let mut per: HashMap<String, usize> = HashMap::new();
    for a in &alerts {
        *per.entry(a.detector.clone()).or_default() += 1;
    }
    if per.values().all(|&n| n <= PAGE) {
        return alerts;
    }
    // Per paged detector, the positions of the alerts it keeps: the most severe, the first
    // ones among equals.
    let paged = |d: &str| per[d] > PAGE && !OPERATIONAL.contains(&d);
    let mut ranked: HashMap<&str, Vec<(std::cmp::Reverse<Severity>, usize)>> = HashMap::new();
    for (i, a) in alerts
        .iter()
        .enumerate()
        .filter(|(_, a)| paged(&a.detector))
    {
        ranked
            .entry(a.detector.as_str())
            .or_default()
            .push((std::cmp::Reverse(a.severity), i));
    }
    let mut kept = vec![false; alerts.len()];
    for list in ranked.values_mut() {
        list.sort();
        for &(_, i) in list.iter().take(PAGE - 1) {
            kept[i] = true;
        }
    }
    let mut out = Vec::new();
    let mut rest: HashMap<String, Vec<Redacted<Alert>>> = HashMap::new();
    let mut order = Vec::new();
    for (i, a) in alerts.into_iter().enumerate() {
        if kept[i] || !paged(&a.detector) {
            out.push(a);
            continue;
        }
        if !rest.contains_key(&a.detector) {
            order.push(a.detector.clone());
        }
        rest.entry(a.detector.clone()).or_default().push(a);
    }
    for detector in order {
        if let Some(folded) = rest.remove(&detector) {
            let folded = fold(folded);
            counts.paged += folded.evidence["page"]["alerts"].as_u64().unwrap_or(0);
            out.push(folded);
        }
    }
    out
}

/// One alert for `folded` (alerts of one detector, at least one): the most severe of them (its
/// principal, its summary), with the number of alerts and events, and the first event ids of
/// all.
fn fold(folded: Vec<Redacted<Alert>>) -> Redacted<Alert> {
    // An alert that already stands for several (the builder's, past its subjects per
    // detector) counts as many.
    let n: u64 = folded
        .iter()
        .map(|a| {
            a.evidence
                .get("page")
                .and_then(|p| p.get("alerts"))
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(1)
        })
        .sum();
    let events: u64 = folded.iter().map(|a| a.count).sum();
    let worst = folded.iter().map(|a| a.severity).max();
    let last_seen = folded.iter().map(|a| a.last_seen.clone()).max();
    let first_seen = folded.iter().map(|a| a.first_seen.clone()).min();
    let (first_id, last_id) = (folded[0].id.clone(), folded[folded.len() - 1].id.clone());
    let mut ids = Vec::new();
    for a in &folded {
        let room = MAX_EVENT_IDS.saturating_sub(ids.len());
        ids.extend(a.event_ids.iter().take(room).cloned());
    }
    let top = folded
        .iter()
        .enumerate()
        .max_by_key(|(i, a)| (a.severity, std::cmp::Reverse(*i)))
        .map_or(0, |(i, _)| i);
    let mut a = folded
        .into_iter()
        .nth(top)
        .map(Redacted::into_inner)
        .unwrap_or_else(|| unreachable!("fold is given at least one alert"));
    a.id = alert_id(&[&a.detector, "page", &first_id, &last_id, &n.to_string()]);
    a.summary = format!(
        "{n} more {} alerts ({events} events) in this delivery than a page of {PAGE} shows, \
         folded into this one; the most severe of them: {}",
        a.detector, a.summary
    );
    a.severity = worst.unwrap_or(a.severity);
    a.count = events;
    a.event_ids = ids;
    a.first_seen = first_seen.unwrap_or_default();
    a.last_seen = last_seen.unwrap_or_default();
    a.evidence.insert(
        "page".into(),
        json!({"alerts": n, "events": events, "first_id": first_id, "last_id": last_id}),
    );
    redact::alert(a)
}
