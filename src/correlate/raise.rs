//! A correlation alert: what one decided window of one group says.

use super::link::Linked;
use super::rule::Kind;
use super::store::{Bucket, GroupKey};
use super::time::format_time;
use crate::alert::calls::Calls;
use crate::alert::id::alert_id;
use crate::alert::{Alert, Source, MAX_EVENT_IDS, SCHEMA};
use serde_json::{json, Map, Value};

/// Event names listed per correlation alert.
const MAX_NAMES: usize = 20;

/// What the window counted, as a reader says it: `50 DeleteObject calls`, `25 calls
/// (ListBuckets, ListUsers, ...)`, `10 distinct secretId (prod/db-0, ...)`.
fn what_happened(l: &Linked, n: u64, names: &[&str], values: &[String]) -> String {
    let calls = match names {
        [one] => format!("{n} {one} calls"),
        _ => {
            let shown: Vec<&str> = names.iter().take(3).copied().collect();
            let more = if names.len() > 3 { ", ..." } else { "" };
            format!("{n} calls ({}{more})", shown.join(", "))
        }
    };
    match (l.rule.kind, &l.rule.condition.field) {
        (Kind::EventCount, _) => calls,
        (Kind::ValueCount, Some(f)) => {
            let mut what = format!("{n} distinct {}", leaf(f));
            if !values.is_empty() {
                let listed: Vec<String> = values
                    .iter()
                    .take(SUMMARY_VALUES)
                    .map(|v| short(v))
                    .collect();
                let more = if values.len() > SUMMARY_VALUES || (n as usize) > values.len() {
                    ", ..."
                } else {
                    ""
                };
                what.push_str(&format!(" ({}{more})", listed.join(", ")));
            }
            what
        }
        (Kind::ValueCount, None) => format!("{n} distinct values"),
        (Kind::Temporal, _) => format!("{n} of the rules {} matched", l.rule.rules.join(", ")),
        (Kind::TemporalOrdered, _) => {
            format!(
                "{n} of the rules {} matched in order",
                l.rule.rules.join(" then ")
            )
        }
    }
}

/// The group as a reader says it: ` by <arn>` for the caller, ` on bucketName <b>` for the
/// other fields.
fn whose(l: &Linked, key: &GroupKey) -> String {
    let mut by = String::new();
    let mut on = Vec::new();
    for (field, value) in l.rule.group_by.iter().zip(&key.group) {
        match field.as_str() {
            "userIdentity.arn" | "userIdentity.principalId" | "userIdentity.userName" => {
                by = format!(" by {value}");
            }
            _ => on.push(format!("{} {value}", leaf(field))),
        }
    }
    if on.is_empty() {
        by
    } else {
        format!("{by} on {}", on.join(", "))
    }
}

/// The last segment of a field path (`requestParameters.bucketName` is `bucketName`); a whole
/// `requestParameters` counts requests.
fn leaf(field: &str) -> &str {
    match field {
        "requestParameters" => "requests",
        _ => field.rsplit('.').next().unwrap_or(field),
    }
}

/// The alert of the window of `key` starting at `start` (`n`: the measure that met the
/// condition). Its id hashes correlation, group and window start: the same window raises the
/// same id in replay and in the Lambda, whatever the files.
pub fn raise(l: &Linked, key: &GroupKey, start: i64, window: &[&Bucket], n: u64) -> Alert {
    let end = start + l.rule.timespan;
    let mut firsts: Vec<&(i64, Box<str>)> = window.iter().flat_map(|b| &b.first).collect();
    firsts.sort();
    let last = window
        .iter()
        .flat_map(|b| b.rules.iter().flatten())
        .map(|s| s.1)
        .max();
    let who = window
        .iter()
        .filter_map(|b| b.who.as_deref())
        .min_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let [account, region, principal, source_ip] = who.map(|w| w.2.clone()).unwrap_or_default();
    let mut names: Vec<&str> = window
        .iter()
        .flat_map(|b| b.names.iter().map(|n| &**n))
        .collect();
    names.sort();
    names.dedup();
    names.truncate(MAX_NAMES);
    let group: Map<String, Value> = l
        .rule
        .group_by
        .iter()
        .cloned()
        .zip(key.group.iter().map(|v| json!(v)))
        .collect();
    let values = shown_values(l, window);
    let summary = format!(
        "{}: {} within {} min{} (condition: {})",
        l.meta.title,
        what_happened(l, n, &names, &values),
        l.rule.timespan / 60,
        whose(l, key),
        l.rule.condition.describe()
    );
    let mut parts = vec![l.id.as_str()];
    if !key.account.is_empty() {
        parts.push(&key.account);
    }
    parts.extend(key.group.iter().map(String::as_str));
    let start_text = format_time(start);
    parts.push(&start_text);
    let mut evidence = Map::new();
    evidence.insert("correlation".into(), json!(kind_name(l.rule.kind)));
    evidence.insert("rules".into(), json!(l.rule.rules));
    evidence.insert("group".into(), Value::Object(group));
    evidence.insert("condition".into(), json!(l.rule.condition.describe()));
    evidence.insert("measured".into(), json!(n));
    if !values.is_empty() {
        evidence.insert("values".into(), json!(values));
    }
    Alert {
        schema: SCHEMA,
        id: alert_id(&parts),
        subject: alert_id(&parts[..parts.len() - 1]),
        detector: l.id.clone(),
        title: l.meta.title.clone(),
        severity: l.severity,
        summary,
        account,
        account_name: String::new(),
        environment: String::new(),
        region,
        principal,
        source_ip,
        user_agent: String::new(),
        source_ips: Vec::new(),
        user_agents: Vec::new(),
        first_seen: firsts
            .first()
            .map_or_else(|| format_time(start), |f| format_time(f.0)),
        last_seen: format_time(last.unwrap_or(start)),
        count: window.iter().map(|b| b.count).sum(),
        event_ids: firsts
            .iter()
            .take(MAX_EVENT_IDS)
            .map(|f| f.1.to_string())
            .collect(),
        event_names: names.into_iter().map(|n| n.to_string()).collect(),
        evidence,
        remediation: l.meta.remediation.clone(),
        references: l.meta.references.clone(),
        tags: l.meta.tags.clone(),
        source: Source::Window {
            start: start_text.clone(),
            end: format_time(end),
        },
        calls: Calls::default(),
        truncated: false,
        related: Vec::new(),
    }
}

/// Distinct values listed in a value_count alert's summary.
const SUMMARY_VALUES: usize = 5;

/// The distinct values a value_count window counted, as far as the buckets kept them (sorted,
/// at most [`MAX_NAMES`]), with any credential masked; none when the counted field's name says
/// it holds a secret.
fn shown_values(l: &Linked, window: &[&Bucket]) -> Vec<String> {
    let Some(field) = l.rule.condition.field.as_deref() else {
        return Vec::new();
    };
    if l.rule.kind != Kind::ValueCount || crate::redact::names_a_secret(field) {
        return Vec::new();
    }
    let mut values: Vec<&Box<str>> = window.iter().flat_map(|b| &b.values).collect();
    values.sort();
    values.dedup();
    values.truncate(MAX_NAMES);
    values.into_iter().map(|v| crate::redact::text(v)).collect()
}

/// A value for a summary: an ARN by its resource (`secret:prod/db-AbCd`), anything cut to 60
/// characters.
fn short(v: &str) -> String {
    let v = match v.strip_prefix("arn:") {
        Some(rest) => rest.splitn(5, ':').nth(4).unwrap_or(v),
        None => v,
    };
    match v.char_indices().nth(60) {
        Some((at, _)) => format!("{}...", &v[..at]),
        None => v.to_owned(),
    }
}

/// The Sigma name of a correlation type.
pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::EventCount => "event_count",
        Kind::ValueCount => "value_count",
        Kind::Temporal => "temporal",
        Kind::TemporalOrdered => "temporal_ordered",
    }
}
