//! Alerts raised by the same call name each other: a `PutBucketPolicy` that opens a bucket to
//! everyone raises `resource-public` and the CIS `s3-bucket-policy-changes`, and a reader (or a
//! subscriber) should not have to match them up by their event ids.

use super::Alert;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Another alert of the same delivery that shares a call with this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    /// Its detector.
    pub detector: String,
    /// Its alert id.
    pub id: String,
}

/// Fills each alert's `related` with the other alerts sharing one of its event ids, in the
/// order the alerts come.
pub fn link(alerts: &mut [Alert]) {
    let mut by_event: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, a) in alerts.iter().enumerate() {
        for e in a.event_ids.iter().filter(|e| !e.is_empty()) {
            let holders = by_event.entry(e.clone()).or_default();
            if holders.last() != Some(&i) {
                holders.push(i);
            }
        }
    }
    let mut related: Vec<Vec<usize>> = vec![Vec::new(); alerts.len()];
    for holders in by_event.values().filter(|h| h.len() > 1) {
        for &i in holders {
            related[i].extend(holders.iter().filter(|&&j| j != i));
        }
    }
    for (i, mut others) in related.into_iter().enumerate() {
        others.sort_unstable();
        others.dedup();
        let found: Vec<Related> = others
            .into_iter()
            .map(|j| Related {
                detector: alerts[j].detector.clone(),
                id: alerts[j].id.clone(),
            })
            .collect();
        alerts[i].related = found;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Source;

    #[test]
    fn alerts_sharing_a_call_name_each_other() {
        let alert = |detector: &str, id: &str, events: &[&str]| {
            let mut a =
                crate::alert::operational(detector, id.into(), Source::File { file: "f".into() });
            a.event_ids = events.iter().map(|e| e.to_string()).collect();
            a
        };
        let mut alerts = vec![
            alert("resource-public", "a1", &["e1", "e2"]),
            alert("s3-bucket-policy-changes", "a2", &["e1", "e2"]),
            alert("tls-outdated", "a3", &["e9"]),
            alert("unauthorized-api-calls", "a4", &["e2", "e7"]),
        ];
        link(&mut alerts);
        fn names(a: &Alert) -> Vec<&str> {
            a.related.iter().map(|r| r.id.as_str()).collect()
        }
        assert_eq!(names(&alerts[0]), ["a2", "a4"]);
        assert_eq!(names(&alerts[1]), ["a1", "a4"]);
        assert!(alerts[2].related.is_empty());
        assert_eq!(names(&alerts[3]), ["a1", "a2"]);
        assert_eq!(alerts[3].related[0].detector, "resource-public");
    }
}
