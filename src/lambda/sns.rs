//! One alert as one SNS message: body, subject, attributes, FIFO ids, and trimming to fit.
//!
//! The message uses `MessageStructure=json`: `default` is the alert JSON
//! (`trailwatch.alert.v1`, as `replay --format jsonl` prints it) for every protocol, `email`
//! a readable text version.

use crate::alert::Alert;
use crate::output;
use crate::redact::Redacted;
use serde_json::{Map, Value};

/// SNS's limit for one message, and for all the messages of one `PublishBatch` call.
pub const MAX_PAYLOAD: usize = 256 * 1024;
/// Room left under the limit for what the size estimate of an entry does not see.
const MARGIN: usize = 1024;
/// `Subject` must be shorter than 100 characters.
const MAX_SUBJECT: usize = 99;

/// One message ready for `PublishBatch` (its batch id is given when batched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The alert's id.
    pub alert_id: String,
    /// The `MessageStructure=json` document: `{"default": .., "email": ..}`.
    pub body: String,
    /// The `Subject` (for email subscriptions).
    pub subject: String,
    /// `MessageAttributes`, all of type String; empty values are left out.
    pub attributes: Vec<(&'static str, String)>,
    /// FIFO topics: `MessageGroupId` (the account) and `MessageDeduplicationId` (the alert id).
    pub fifo: Option<(String, String)>,
}

impl Message {
    /// Bytes this message counts for against the payload limit.
    pub fn size(&self) -> usize {
        let attributes: usize = self
            .attributes
            .iter()
            .map(|(k, v)| k.len() + "String".len() + v.len())
            .sum();
        self.body.len() + self.subject.len() + attributes
    }
}

/// The message for `alert`, trimmed (fewer event ids, shorter evidence, `truncated: true`)
/// when it would not fit in one SNS message. An alert is never dropped. Only a masked alert
/// ([`Redacted`]) can be published: every part of the message comes from it.
pub fn message(alert: &Redacted<Alert>, fifo: bool) -> Message {
    let mut alert = alert.clone();
    let mut step = 0;
    let body = loop {
        let body = body(&alert);
        if body.len() + MARGIN <= MAX_PAYLOAD || step > 12 {
            break body;
        }
        alert.cut_down(|a| trim(a, step));
        step += 1;
    };
    let group = if alert.account.is_empty() {
        "unknown".to_owned()
    } else {
        alert.account.clone()
    };
    Message {
        subject: subject(&alert),
        attributes: [
            ("severity", alert.severity.as_str().to_owned()),
            ("detector", alert.detector.clone()),
            ("account", alert.account.clone()),
            ("region", alert.region.clone()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect(),
        fifo: fifo.then(|| (group, alert.id.clone())),
        alert_id: alert.id.clone(),
        body,
    }
}

fn body(alert: &Redacted<Alert>) -> String {
    let json = serde_json::to_string(alert).unwrap_or_default();
    let mut text = Vec::new();
    let _ = output::write_alert_pretty(&mut text, alert);
    let text = console::strip_ansi_codes(&String::from_utf8_lossy(&text)).into_owned();
    serde_json::json!({ "default": json, "email": text }).to_string()
}

/// One step of trimming, each harder than the last.
fn trim(alert: &mut Alert, step: u32) {
    alert.truncated = true;
    let keep = 16usize >> step.min(4);
    alert.event_ids.truncate(keep.max(1));
    alert.event_names.truncate(keep.max(1));
    alert.references.truncate(keep.max(1));
    let limit = (64 * 1024) >> step.min(10);
    for text in [
        &mut alert.summary,
        &mut alert.remediation,
        &mut alert.principal,
        &mut alert.user_agent,
        &mut alert.title,
    ] {
        cut(text, limit.max(256));
    }
    for reference in &mut alert.references {
        cut(reference, limit.max(256));
    }
    if limit < 128 {
        alert.evidence = Map::new();
    } else {
        for value in alert.evidence.values_mut() {
            shorten(value, limit);
        }
    }
}

/// Cuts every string inside `value` to at most `limit` bytes, and long lists to fewer items.
fn shorten(value: &mut Value, limit: usize) {
    match value {
        Value::String(s) => cut(s, limit),
        Value::Array(items) => {
            items.truncate((limit / 64).max(1));
            items.iter_mut().for_each(|v| shorten(v, limit));
        }
        Value::Object(map) => map.values_mut().for_each(|v| shorten(v, limit)),
        _ => {}
    }
}

/// Cuts `s` to at most `limit` bytes at a character boundary, marking the cut with `...`.
fn cut(s: &mut String, limit: usize) {
    if s.len() <= limit {
        return;
    }
    let mut end = limit.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push_str("...");
}

/// `[SEVERITY] title: calls - account region`: ASCII, no line breaks, under 100 characters.
pub fn subject(alert: &Alert) -> String {
    let ascii = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let head = format!("[{}] ", alert.severity.as_str().to_uppercase());
    let place = ascii(&format!("{} {}", alert.account, alert.region));
    let tail = if place.is_empty() {
        String::new()
    } else {
        format!(" - {place}")
    };
    let mut tail = tail;
    cut(&mut tail, MAX_SUBJECT / 2);
    let mut title = ascii(&alert.title);
    if title.is_empty() {
        title = ascii(&alert.detector);
    }
    if alert.calls.worth_naming() {
        // Where room allows, the calls: `Root activity: ConsoleLogin x9, StopLogging (failed)`.
        title = format!("{title}: {}", ascii(&alert.calls.describe()));
    }
    cut(&mut title, MAX_SUBJECT - head.len() - tail.len());
    format!("{head}{title}{tail}")
}

/// Groups messages into `PublishBatch` calls: at most 10 entries and `MAX_PAYLOAD` bytes each.
pub fn batches(messages: &[Message]) -> Vec<Vec<&Message>> {
    let mut out: Vec<Vec<&Message>> = Vec::new();
    let mut size = 0;
    for m in messages {
        let fits = out
            .last()
            .is_some_and(|b| b.len() < 10 && size + m.size() + MARGIN <= MAX_PAYLOAD);
        if !fits {
            out.push(Vec::new());
            size = 0;
        }
        size += m.size();
        if let Some(batch) = out.last_mut() {
            batch.push(m);
        }
    }
    out
}
