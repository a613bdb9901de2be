//! EventBridge: `PutEvents` to a named bus, `Source: trailwatch`, `DetailType: trailwatch
//! alert`, the alert (or its OCSF finding) as `Detail`; at most 10 entries and 256 KiB a call,
//! refused entries retried.

use super::{send_batches, AlertSchema, Output, PublishFuture};
use crate::alert::Alert;
use crate::lambda::retry::{Backoff, CallFailed, Refused, Verdict};
use crate::redact::Redacted;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

/// The events' source.
pub const SOURCE: &str = "trailwatch";
/// The events' detail type.
pub const DETAIL_TYPE: &str = "trailwatch alert";
/// Entries per `PutEvents` call.
pub const MAX_ENTRIES: usize = 10;
/// Bytes per `PutEvents` call, as EventBridge counts them.
pub const MAX_CALL_BYTES: usize = 256 * 1024;

/// One event, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The alert id (for logs).
    pub alert_id: String,
    /// The `Detail` JSON.
    pub detail: String,
}

impl Event {
    /// The entry's size as EventBridge counts it (source, detail type, detail, 14 for time).
    pub fn size(&self) -> usize {
        SOURCE.len() + DETAIL_TYPE.len() + self.detail.len() + 14
    }
}

/// The event of one alert; an alert too large for a call loses its evidence (`truncated`).
pub fn event(alert: &Redacted<Alert>, schema: AlertSchema) -> Event {
    let render = |a: &Redacted<Alert>| match schema {
        AlertSchema::Trailwatch => serde_json::to_string(a).unwrap_or_default(),
        AlertSchema::Ocsf => crate::ocsf::detection_finding(a).to_string(),
    };
    let mut detail = render(alert);
    if detail.len() + 64 > MAX_CALL_BYTES {
        let mut cut = alert.clone();
        cut.cut_down(|a| {
            a.evidence.clear();
            a.event_ids.truncate(1);
            a.truncated = true;
        });
        detail = render(&cut);
    }
    Event {
        alert_id: alert.id.clone(),
        detail,
    }
}

/// Events in calls of at most [`MAX_ENTRIES`] entries and [`MAX_CALL_BYTES`] bytes.
pub fn batches(events: Vec<Event>) -> Vec<Vec<Event>> {
    let mut out: Vec<Vec<Event>> = Vec::new();
    let mut bytes = 0;
    for e in events {
        let size = e.size();
        match out.last_mut() {
            Some(b) if b.len() < MAX_ENTRIES && bytes + size <= MAX_CALL_BYTES => {
                bytes += size;
                b.push(e);
            }
            _ => {
                bytes = size;
                out.push(vec![e]);
            }
        }
    }
    out
}

/// The EventBridge output.
pub struct EventBridge {
    client: aws_sdk_eventbridge::Client,
    bus: String,
    schema: AlertSchema,
    backoff: Backoff,
}

impl EventBridge {
    /// Sends to `bus` with `client`, bodies in `schema`.
    pub fn new(client: aws_sdk_eventbridge::Client, bus: String, schema: AlertSchema) -> Self {
        EventBridge {
            client,
            bus,
            schema,
            backoff: Backoff::DEFAULT,
        }
    }

    async fn put(&self, events: Vec<Event>) -> Result<Vec<Refused>, CallFailed> {
        let entries = events
            .iter()
            .map(|e| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(SOURCE)
                    .detail_type(DETAIL_TYPE)
                    .detail(&e.detail)
                    .build()
            })
            .collect();
        let out = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| CallFailed::from_sdk("PutEvents", &e))?;
        Ok(out
            .entries()
            .iter()
            .enumerate()
            .filter_map(|(index, r)| {
                let code = r.error_code()?.to_owned();
                let retryable = matches!(
                    code.as_str(),
                    "ThrottlingException" | "InternalFailure" | "InternalException"
                );
                let verdict = if retryable {
                    Verdict::Retry
                } else {
                    Verdict::Fail
                };
                Some(Refused {
                    index,
                    code,
                    verdict,
                })
            })
            .collect())
    }
}

impl Output for EventBridge {
    fn name(&self) -> &'static str {
        "eventbridge"
    }

    fn publish<'a>(&'a self, alerts: &'a [Redacted<Alert>]) -> PublishFuture<'a> {
        Box::pin(async move {
            let events = alerts.iter().map(|a| event(a, self.schema)).collect();
            send_batches(self.name(), batches(events), self.backoff, |b| self.put(b)).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: usize) -> Event {
        Event {
            alert_id: "a".into(),
            detail: "x".repeat(n),
        }
    }

    #[test]
    fn an_alert_too_large_for_a_call_loses_its_evidence() {
        let object = crate::lambda::ObjectRef::new("b", "AWSLogs/k.json.gz");
        let mut a = crate::lambda::ingest::ingest_alert(&object, "test", None);
        a.cut_down(|a| {
            a.evidence
                .insert("big".into(), "x".repeat(300 * 1024).into());
        });
        let e = event(&a, AlertSchema::Ocsf);
        assert!(e.size() <= MAX_CALL_BYTES, "{} bytes", e.size());
        let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap();
        assert_eq!(detail["metadata"]["labels"][0], "truncated");
        assert_eq!(detail["finding_info"]["uid"], a.id.as_str());
        assert!(event(&a, AlertSchema::Trailwatch)
            .detail
            .contains("\"truncated\":true"));
    }

    #[test]
    fn calls_hold_ten_entries_and_256_kib() {
        let sizes: Vec<usize> = batches((0..25).map(|_| ev(10)).collect())
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, vec![10, 10, 5]);
        let big = batches(vec![ev(100_000), ev(100_000), ev(100_000)]);
        assert_eq!(big.len(), 2, "three 100 kB details do not fit one call");
        for b in &big {
            assert!(b.iter().map(Event::size).sum::<usize>() <= MAX_CALL_BYTES);
        }
    }
}
