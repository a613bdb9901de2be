use super::*;
use crate::alert::{operational, Source};
use crate::correlate::{Dedup, Observed};

fn alert(detector: &str, severity: Severity, minute: u32, id: &str) -> Redacted<Alert> {
    let source = Source::File {
        file: "d.json".into(),
    };
    let mut a = operational(detector, id.into(), source);
    a.severity = severity;
    a.subject = "bob".into();
    a.first_seen = format!("2026-11-30T10:{minute:02}:00Z");
    a.last_seen = a.first_seen.clone();
    redact::alert(a)
}

/// Dedup windows in memory, closed when due (a small memory for the stage's order).
struct Windows(Dedup);

impl Memory for Windows {
    type Error = std::convert::Infallible;
    async fn observe(&mut self, _: &Delivery<'_>, _: Observed) -> Result<Raised, Self::Error> {
        Ok(Raised::default())
    }
    async fn due(&mut self, _: Option<i64>) -> Result<Raised, Self::Error> {
        Ok(Raised::default())
    }
    async fn admit(
        &mut self,
        alerts: Vec<Redacted<Alert>>,
        at: When,
    ) -> Result<Admitted, Self::Error> {
        let held = self.0.held;
        let mut out: Vec<_> = alerts.into_iter().flat_map(|a| self.0.admit(a)).collect();
        if let When::Due(_) = at {
            out.extend(self.0.flush());
        }
        Ok(Admitted {
            alerts: out,
            held: self.0.held - held,
        })
    }
}

const DELIVERY: Delivery<'static> = Delivery {
    name: "d.json",
    object: None,
    newest_event: "",
    clock: None,
};

fn analysis(alerts: Vec<Redacted<Alert>>) -> Analysis {
    Analysis {
        alerts,
        ..Analysis::default()
    }
}

#[test]
fn the_minimum_severity_comes_before_the_dedup_windows() {
    // A low alert, then a high one, of the same detector and subject within the window: the
    // low one is not shown, so it must not hold the high one back.
    let stage = Stage {
        min_severity: Severity::Medium,
    };
    let mut memory = Windows(Dedup::new([("watch".to_owned(), 3600)]));
    let mut counts = Counts::default();
    let low = alert("watch", Severity::Low, 0, "a1");
    let high = alert("watch", Severity::High, 5, "a2");
    let again = alert("watch", Severity::High, 9, "a3");
    let mut three = analysis(vec![low, high, again]);
    let delivered = stage.delivery(&mut three, Vec::new(), DELIVERY, &mut memory, &mut counts);
    let Ok(published) = block_on(delivered);
    let ids: Vec<&str> = published.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        ["a2"],
        "the high alert opens the window, the repeat is held"
    );
    assert_eq!((counts.held, counts.worst), (1, Some(Severity::High)));
    let Ok(summaries) = block_on(stage.due(None, &mut memory, &mut counts));
    assert_eq!(summaries.len(), 1, "the window's summary at the end");
    assert_eq!(counts.alerts_total(), 2);
    assert_eq!(counts.alerts_by_severity(), [(Severity::High, 2)]);
}

#[test]
fn operational_alerts_pass_any_minimum_and_everything_is_counted_once() {
    let stage = Stage {
        min_severity: Severity::Critical,
    };
    let mut counts = Counts::default();
    let mut a = analysis(vec![alert("tls-outdated", Severity::Medium, 0, "t")]);
    a.report.records = 7;
    a.report.input_bytes = 100;
    let extra = vec![alert(INGEST_ERROR, Severity::Medium, 0, "i")];
    let Ok(published) =
        block_on(stage.delivery(&mut a, extra, DELIVERY, &mut NoMemory, &mut counts));
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].detector, INGEST_ERROR);
    assert_eq!(
        counts.worst,
        Some(Severity::Medium),
        "seen, though not published"
    );
    assert_eq!((counts.records, counts.input_bytes), (7, 100));
    let mut sum = Counts::default();
    sum.add(&counts);
    sum.add(&counts);
    assert_eq!(sum.records, 14);
    assert_eq!(sum.alerts_by_detector()[INGEST_ERROR], 2);
    for d in [TRAIL_SILENT, TRAIL_RESUMED, CONFIG_ERROR] {
        assert!(stage.publishes(&alert(d, Severity::Low, 0, "x")), "{d}");
    }
}

#[test]
fn past_a_page_of_one_detector_the_rest_is_one_alert_and_nothing_leaves_the_counts() {
    let stage = Stage {
        min_severity: Severity::Low,
    };
    let mut counts = Counts::default();
    let mut storm: Vec<_> = (0..120)
        .map(|i| {
            let severity = if i == 99 {
                Severity::High
            } else {
                Severity::Medium
            };
            alert("access-denied", severity, i % 60, &format!("a{i}"))
        })
        .collect();
    storm.extend((0..3).map(|i| alert("tls-outdated", Severity::Medium, 0, &format!("t{i}"))));
    storm.extend((0..60).map(|i| alert(INGEST_ERROR, Severity::Medium, 0, &format!("i{i}"))));
    let mut delivered = analysis(storm);
    let Ok(published) = block_on(stage.delivery(
        &mut delivered,
        Vec::new(),
        DELIVERY,
        &mut NoMemory,
        &mut counts,
    ));
    let of = |d: &str| published.iter().filter(|a| a.detector == d).count();
    assert_eq!(
        of("access-denied"),
        PAGE,
        "a page: {} published",
        of("access-denied")
    );
    assert_eq!(
        (of("tls-outdated"), of(INGEST_ERROR)),
        (3, 60),
        "others, operational"
    );
    let last = published
        .iter()
        .rfind(|a| a.detector == "access-denied")
        .unwrap();
    assert_eq!(
        last.count,
        120 - (PAGE as u64 - 1),
        "one event each, all counted"
    );
    assert_eq!(last.severity, Severity::Medium, "the worst of the folded");
    let high: Vec<_> = published
        .iter()
        .filter(|a| a.detector == "access-denied" && a.severity == Severity::High)
        .collect();
    assert_eq!(
        high.len(),
        1,
        "the high alert is on the page, not behind the medium ones"
    );
    assert_ne!(high[0].id, last.id);
    assert!(
        last.summary.starts_with("71 more access-denied alerts"),
        "{}",
        last.summary
    );
    assert_eq!(counts.paged, 71);
    assert_eq!(counts.alerts_total(), published.len() as u64);
}
