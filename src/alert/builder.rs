//! The alert builder: merges the findings of one delivery into alerts, one per detector and
//! subject, naming the distinct calls.

use super::calls::Calls;
use super::finding::{Finding, Summary};
use super::overflow::{Overflow, MAX_SUBJECTS};
use super::{id, Alert, DetectorMeta, Source, MAX_EVENT_IDS, MAX_EVENT_NAMES, MAX_ORIGINS, SCHEMA};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;
use std::hash::BuildHasher;

/// Merges the findings of one delivery into alerts, in order of first appearance.
pub struct AlertBuilder {
    source: Source,
    /// Alert positions by the hash of their subject (detector, principal and target); a hit
    /// is checked against the alert's own subject.
    index: HashMap<u64, Vec<usize>>,
    /// Alerts that took a finding lately, newest first, with the hash of their subject: a
    /// delivery's findings come mostly from a few principals, and comparing hashes touches no
    /// memory but this list.
    recent: Vec<(u64, usize)>,
    hasher: foldhash::fast::RandomState,
    alerts: Vec<(Finding<'static>, Alert)>,
    /// Alerts started, by detector.
    per_detector: HashMap<String, usize>,
    /// Findings of subjects past [`MAX_SUBJECTS`], by detector.
    overflow: HashMap<String, Overflow>,
}

/// How many alerts [`AlertBuilder`] compares a finding with before looking its subject up.
const RECENT: usize = 8;

impl AlertBuilder {
    /// An empty builder for the findings of one delivery from `source`.
    pub fn new(source: Source) -> AlertBuilder {
        AlertBuilder {
            source,
            index: HashMap::new(),
            recent: Vec::with_capacity(RECENT + 1),
            hasher: Default::default(),
            alerts: Vec::new(),
            per_detector: HashMap::new(),
            overflow: HashMap::new(),
        }
    }

    /// Adds a finding: it starts an alert, or joins the alert of its subject. Joining copies
    /// only what the alert keeps (times, the first event ids and names).
    pub fn add(&mut self, f: &Finding<'_>) {
        let hash = self
            .hasher
            .hash_one((f.detector.as_str(), &*f.principal, &*f.target));
        let same = |top: &Finding<'_>| {
            top.detector == f.detector && top.principal == f.principal && top.target == f.target
        };
        let mut recent = self.recent.iter();
        if let Some(&(_, i)) = recent.find(|&&(h, i)| h == hash && same(&self.alerts[i].0)) {
            let (top, alert) = &mut self.alerts[i];
            return merge(alert, top, f);
        }
        let same_hash = self.index.get(&hash).map_or(&[][..], Vec::as_slice);
        let found = same_hash
            .iter()
            .find(|&&i| same(&self.alerts[i].0))
            .copied();
        let i = match found {
            Some(i) => {
                let (top, alert) = &mut self.alerts[i];
                merge(alert, top, f);
                i
            }
            None if self.full(f) => {
                match self.overflow.get_mut(f.detector.as_str()) {
                    Some(o) => o.add(f, hash),
                    None => {
                        let o = Overflow::new(f, self.start(f), hash);
                        self.overflow.insert(f.detector.to_string(), o);
                    }
                }
                return;
            }
            None => {
                let i = self.alerts.len();
                self.index.entry(hash).or_default().push(i);
                let alert = self.start(f);
                self.alerts.push((f.clone().into_owned(), alert));
                i
            }
        };
        self.recent.insert(0, (hash, i));
        self.recent.truncate(RECENT);
    }

    /// Whether `f` would start an alert past [`MAX_SUBJECTS`] of its detector (counting it
    /// when not).
    fn full(&mut self, f: &Finding<'_>) -> bool {
        if let Some(n) = self.per_detector.get_mut(f.detector.as_str()) {
            *n += 1;
            return *n > MAX_SUBJECTS;
        }
        self.per_detector.insert(f.detector.to_string(), 1);
        false
    }

    /// The alerts, with title, remediation and references from `meta`; each detector's alert
    /// for the subjects past [`MAX_SUBJECTS`] follows its last one.
    pub fn finish(self, meta: &dyn Fn(&str) -> Option<DetectorMeta>) -> Vec<Alert> {
        let mut overflow = self.overflow;
        let mut out: Vec<Alert> = Vec::with_capacity(self.alerts.len() + overflow.len());
        let mut left: HashMap<String, usize> = self
            .per_detector
            .into_iter()
            .map(|(d, n)| (d, n.min(MAX_SUBJECTS)))
            .collect();
        for (top, a) in self.alerts {
            let detector = a.detector.clone();
            out.push(dress(&top, a, meta));
            let n = left.entry(detector.clone()).or_insert(1);
            *n = n.saturating_sub(1);
            if *n == 0 {
                if let Some(o) = overflow.remove(&detector) {
                    out.push(o.finish(|top, a| dress(top, a, meta)));
                }
            }
        }
        super::related::link(&mut out);
        out
    }

    fn start(&self, f: &Finding<'_>) -> Alert {
        let mut a = Alert {
            schema: SCHEMA,
            id: alert_id(f, &self.source),
            subject: id::alert_id(&[f.detector.as_str(), &f.principal, &f.target]),
            detector: f.detector.to_string(),
            title: String::new(),
            severity: f.severity,
            summary: String::new(),
            account: f.account.to_string(),
            account_name: String::new(),
            environment: String::new(),
            region: f.region.to_string(),
            principal: f.principal.to_string(),
            source_ip: f.source_ip.to_string(),
            user_agent: f.user_agent.to_string(),
            source_ips: Vec::new(),
            user_agents: Vec::new(),
            first_seen: f.event_time.to_string(),
            last_seen: f.event_time.to_string(),
            count: 1,
            event_ids: vec![f.event_id.to_string()],
            event_names: vec![f.event_name.to_string()],
            evidence: f.evidence.to_map(),
            remediation: String::new(),
            references: Vec::new(),
            source: self.source.clone(),
            tags: Vec::new(),
            calls: {
                let mut calls = Calls::default();
                calls.add(&f.event_name, f.failed);
                calls
            },
            truncated: false,
            related: Vec::new(),
        };
        distinct(&mut a.source_ips, &f.source_ip);
        distinct(&mut a.user_agents, &f.user_agent);
        a
    }
}

/// `a` with title, remediation and references from `meta`, and its summary.
fn dress(top: &Finding<'_>, mut a: Alert, meta: &dyn Fn(&str) -> Option<DetectorMeta>) -> Alert {
    let m = meta(&a.detector).unwrap_or_default();
    a.title = if m.title.is_empty() {
        a.detector.clone()
    } else {
        m.title
    };
    let resource_type = a.evidence.get("resource_type").and_then(Value::as_str);
    a.remediation = match resource_type.and_then(|t| m.remediation_by.get(t)) {
        Some(specific) => specific.clone(),
        None => m.remediation,
    };
    a.references = m.references;
    a.tags = m.tags;
    a.summary = summary(top, &a);
    a
}

/// The summary of a merged alert: the most severe finding's, naming every distinct call with
/// its count when there were several (`Root activity: ConsoleLogin x9, StopLogging (failed)
/// by ...`), or the number of events when they were all the same call.
fn summary(top: &Finding<'_>, a: &Alert) -> String {
    if a.count == 1 {
        return top.summary_text().into_owned();
    }
    if !a.calls.worth_naming() {
        let mut line = top.summary_text().into_owned();
        let _ = write!(line, " ({} events)", a.count);
        return line;
    }
    let calls = a.calls.describe();
    match &top.summary {
        Summary::Rule(title) => {
            let who = match &*top.principal {
                "" => "unknown principal",
                p => p,
            };
            format!("{title}: {calls} by {who} ({} events)", a.count)
        }
        Summary::Text(_) => format!("{} ({} events: {calls})", top.summary_text(), a.count),
    }
}

/// Adds one more finding to an alert; `top` is the most severe finding so far.
fn merge(a: &mut Alert, top: &mut Finding<'static>, f: &Finding<'_>) {
    join(a, f);
    let name: &str = &f.event_name;
    if a.event_names.len() < MAX_EVENT_NAMES && !a.event_names.iter().any(|n| n == name) {
        a.event_names.push(name.to_owned());
    }
    if f.severity > top.severity {
        a.severity = f.severity;
        a.evidence = f.evidence.to_map();
        *top = f.clone().into_owned();
    }
}

/// Counts `f` in `a`: its call, its time, its event id among the first.
pub(super) fn join(a: &mut Alert, f: &Finding<'_>) {
    a.count += 1;
    a.calls.add(&f.event_name, f.failed);
    let time: &str = &f.event_time;
    if !time.is_empty() && (a.first_seen.is_empty() || time < a.first_seen.as_str()) {
        time.clone_into(&mut a.first_seen);
    }
    if time > a.last_seen.as_str() {
        time.clone_into(&mut a.last_seen);
    }
    if a.event_ids.len() < MAX_EVENT_IDS {
        a.event_ids.push(f.event_id.to_string());
    }
    distinct(&mut a.source_ips, &f.source_ip);
    distinct(&mut a.user_agents, &f.user_agent);
}

/// Adds `value` to `seen` unless empty, there already, or `seen` is full.
fn distinct(seen: &mut Vec<String>, value: &str) {
    if !value.is_empty() && seen.len() < MAX_ORIGINS && !seen.iter().any(|s| s == value) {
        seen.push(value.to_owned());
    }
}

fn alert_id(f: &Finding<'_>, source: &Source) -> String {
    id::alert_id(&[
        f.detector.as_str(),
        &f.principal,
        &f.target,
        &source.identity(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::severity::Severity;
    use crate::record::Record;

    fn finding(event: &str, time: &str, err: bool) -> Finding<'static> {
        let error = if err {
            r#","errorCode":"AccessDenied""#
        } else {
            ""
        };
        let text = format!(
            r#"{{"eventID":"{event}","eventTime":"{time}","eventName":"DisableKey","userIdentity":{{"arn":"arn:aws:iam::1:user/a"}}{error}}}"#
        );
        Finding::new(
            "kms-key-loss",
            Severity::High,
            &Record::parse(text.as_bytes()).unwrap(),
            "key/1",
            "key disabled",
        )
        .into_owned()
    }

    #[test]
    fn a_merged_alert_lists_every_address_and_user_agent_its_calls_came_from() {
        let mut b = AlertBuilder::new(Source::File { file: "f".into() });
        for n in 0..14u32 {
            let mut f = finding(&format!("e{n}"), "t", false);
            f.source_ip = format!("198.51.100.{}", 160 + n % 12).into();
            f.user_agent = if n % 2 == 0 {
                "aws-cli/2.1"
            } else {
                "Boto3/1.2"
            }
            .into();
            b.add(&f);
        }
        let a = b.finish(&|_| None).remove(0);
        assert_eq!(a.source_ip, "198.51.100.160");
        assert_eq!(a.source_ips.len(), MAX_ORIGINS, "{:?}", a.source_ips);
        assert_eq!(a.user_agents, ["aws-cli/2.1", "Boto3/1.2"]);
        let mut text = Vec::new();
        crate::output::write_alert_pretty(&mut text, &crate::redact::alert(a)).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("from 10 addresses or more: 198.51.100.160, 198.51.100.161,"),
            "{text}"
        );
        assert!(
            text.contains("2 user agents: aws-cli/2.1, Boto3/1.2"),
            "{text}"
        );
        let one = {
            let mut b = AlertBuilder::new(Source::File { file: "f".into() });
            let mut f = finding("e1", "t", false);
            f.source_ip = "198.51.100.7".into();
            b.add(&f);
            b.finish(&|_| None).remove(0)
        };
        let json = serde_json::to_value(&one).unwrap();
        assert!(
            json.get("source_ips").is_none(),
            "one address: only `source_ip`"
        );
    }

    #[test]
    fn many_interleaved_subjects_each_get_one_alert() {
        let mut b = AlertBuilder::new(Source::File { file: "f".into() });
        let mut want = std::collections::BTreeMap::new();
        for n in 0..400u32 {
            // 23 subjects in an order that revisits recent and old ones.
            let k = (n * n + 7 * n) % 23;
            let mut f = finding(&format!("e{n}"), "t", false);
            f.principal = format!("arn:aws:iam::1:user/u{}", k % 5).into();
            f.target = format!("key/{}", k / 5).into();
            if k % 2 == 0 {
                f.detector = "other".into();
            }
            *want
                .entry((
                    f.detector.clone(),
                    f.principal.to_string(),
                    f.target.to_string(),
                ))
                .or_insert(0u64) += 1;
            b.add(&f);
        }
        let alerts = b.finish(&|_| None);
        let got: std::collections::BTreeMap<_, _> = alerts
            .iter()
            .map(|a| ((a.detector.clone(), a.principal.clone()), a.count))
            .fold(std::collections::BTreeMap::new(), |mut m, (k, c)| {
                *m.entry(k).or_insert(0) += c;
                m
            });
        assert_eq!(alerts.len(), want.len());
        let total: u64 = want.values().sum();
        assert_eq!(alerts.iter().map(|a| a.count).sum::<u64>(), total);
        let mut by_who = std::collections::BTreeMap::new();
        for ((d, p, _), c) in &want {
            *by_who.entry((d.to_string(), p.clone())).or_insert(0) += c;
        }
        assert_eq!(got, by_who);
    }

    #[test]
    fn a_merged_alert_names_its_calls() {
        let mut b = AlertBuilder::new(Source::File { file: "f".into() });
        let calls = [
            ("ConsoleLogin", 9, false),
            ("CreateAccessKey", 2, false),
            ("AttachUserPolicy", 3, false),
            ("StopLogging", 1, true),
        ];
        let mut n = 0;
        for (name, times, failed) in calls {
            for _ in 0..times {
                n += 1;
                let mut f = finding(&format!("e{n}"), "t", failed);
                f.event_name = name.into();
                f.summary = Summary::Rule("Root activity".into());
                b.add(&f);
            }
        }
        let a = &b.finish(&|_| None)[0];
        assert_eq!(
            a.summary,
            "Root activity: ConsoleLogin x9, CreateAccessKey x2, AttachUserPolicy x3, \
             StopLogging (failed) by arn:aws:iam::1:user/a (15 events)"
        );
    }

    #[test]
    fn merges_by_subject_with_stable_ids() {
        let src = Source::File {
            file: "a.json.gz".into(),
        };
        let mut b = AlertBuilder::new(src.clone());
        b.add(&finding("e1", "2024-01-01T00:00:05Z", true));
        b.add(&finding("e2", "2024-01-01T00:00:01Z", false));
        let mut other = finding("e3", "2024-01-01T00:00:09Z", false);
        other.target = "key/2".into();
        b.add(&other);
        let alerts = b.finish(&|_| None);
        assert_eq!(alerts.len(), 2);
        let a = &alerts[0];
        assert_eq!((a.count, a.severity), (2, Severity::High));
        assert_eq!(
            (a.first_seen.as_str(), a.last_seen.as_str()),
            ("2024-01-01T00:00:01Z", "2024-01-01T00:00:05Z")
        );
        assert_eq!(a.event_ids, ["e1", "e2"]);
        assert_eq!(
            a.summary, "key disabled (2 events: DisableKey (failed), DisableKey)",
            "the succeeded call is the most severe; the failed one is named"
        );
        let again = AlertBuilder::new(src);
        let mut again = again;
        again.add(&finding("e9", "t", false));
        assert_eq!(
            again.finish(&|_| None)[0].id,
            a.id,
            "same detector, subject and source: same id"
        );
        assert_ne!(alerts[1].id, a.id);
    }
}
