//! Detectors as data: every Sigma rule of the catalog, run as one detector.
//!
//! Rules are compiled once when the catalog loads. One [`SigmaRules`] holds all enabled rules
//! and an index by eventName / eventSource / userIdentity.type, so that each record is tested
//! only against the rules that can match it. The typed record then decides the rules whose fields it knows
//! (eventType, userIdentity.type, errorCode...); a cheap search of the record's text for words
//! the rule needs drops most of the rest. Only when some rule is still undecided (or a match
//! needs fields for its subject) is the record parsed into a JSON value, and then only the
//! top-level keys those rules read (the whole record when one of them searches keywords).

use crate::alert::finding::{DetectorId, Finding, Summary};
use crate::alert::severity::Severity;
use crate::detectors::Detector;
use crate::record::Record;
use crate::rules::sigma::{parse_keys, CandidateMemo, RuleIndex, SigmaMatcher, Typed, TypedPath};
use serde_json::Value;
use std::sync::Arc;

/// The id of the combined detector; findings carry each rule's own id.
pub const ID: &str = "sigma";

/// One compiled rule and what its findings say.
#[derive(Debug, Clone)]
pub struct SigmaRule {
    /// The rule's detector id.
    pub id: DetectorId,
    /// The rule's title (for summaries).
    pub title: Arc<str>,
    /// The rule's level.
    pub severity: Severity,
    /// Record fields that, with the principal, form the alert subject.
    pub group_by: Vec<String>,
    /// Further record fields its findings carry in their evidence because a correlation rule
    /// groups or counts by them (not part of the subject).
    pub carry: Vec<String>,
    /// The compiled detection.
    pub matcher: Arc<SigmaMatcher>,
}

impl SigmaRule {
    /// The top-level record keys the rule reads, for matching and for its findings' fields
    /// that the typed record does not hold; `None`: the whole record.
    pub fn keys(&self) -> Option<Vec<String>> {
        let mut keys = self.matcher.keys()?.to_vec();
        let untyped = self.fields().into_iter().filter(|f| f.typed.is_none());
        keys.extend(untyped.map(|f| f.top_key().to_owned()));
        keys.sort();
        keys.dedup();
        Some(keys)
    }

    /// Its findings' fields (`group_by`, then `carry`), each once.
    fn fields(&self) -> Vec<FindingField> {
        let mut out: Vec<FindingField> = Vec::new();
        for path in self.group_by.iter().chain(&self.carry) {
            if !out.iter().any(|f| f.path == *path) {
                out.push(FindingField {
                    typed: TypedPath::new(path),
                    secret: crate::redact::names_a_secret(path),
                    path: path.clone(),
                });
            }
        }
        out
    }

    /// Whether the rule reads `errorCode` or `errorMessage` (or the whole record): then it
    /// decides about failed calls itself and its `level` holds for them.
    fn reads_errors(&self) -> bool {
        self.matcher
            .keys()
            .is_none_or(|keys| keys.iter().any(|k| k == "errorCode" || k == "errorMessage"))
    }

    /// The finding for a record this rule matched. A rule that reads the error fields decides
    /// about failed calls itself and its `level` is the severity; for the others a failed call
    /// is one severity step lower, as for the native detectors.
    fn finding<'r>(&self, record: &'r Record<'_>, fields: &[(String, String)]) -> Finding<'r> {
        let mut target = String::new();
        for (field, v) in fields.iter().take(self.group_by.len()) {
            // The principal and the call are said apart in the summary.
            let said = matches!(field.as_str(), "userIdentity.arn" | "eventName");
            if !said && !v.is_empty() {
                if !target.is_empty() {
                    target.push(' ');
                }
                target.push_str(v);
            }
        }
        let summary = Summary::Rule(Arc::clone(&self.title));
        let mut f = Finding::new(self.id.clone(), self.severity, record, target, summary);
        if self.reads_errors() {
            f.severity = self.severity;
        }
        for (field, v) in fields.iter().filter(|(_, v)| !v.is_empty()) {
            f = f.with(field, v.as_str());
        }
        f
    }
}

/// A record field a rule's findings carry, and how to read it, decided once per rule set.
#[derive(Debug)]
struct FindingField {
    path: String,
    /// Its typed path, if the typed record holds it.
    typed: Option<TypedPath>,
    /// Its name says it holds a secret: shown masked ([`crate::redact::names_a_secret`]).
    secret: bool,
}

impl FindingField {
    /// The top-level record key holding it.
    fn top_key(&self) -> &str {
        self.path.split('.').next().unwrap_or(&self.path)
    }
}

/// The values of a rule's finding fields: from the typed record where it vouches for them,
/// else from `json` (the keys the rule reads), else, when the typed record cannot tell (an
/// escape, a dotted key), from the whole record.
fn field_values(
    fields: &[FindingField],
    typed: &Typed<'_, '_>,
    record: &Record<'_>,
    json: &Value,
) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|f| {
            let v = match &f.typed {
                Some(p) => match typed.text(p) {
                    Some(text) => text.to_owned(),
                    None => field_text(record.json(), &f.path),
                },
                None => field_text(json, &f.path),
            };
            let v = if f.secret && !v.is_empty() {
                crate::redact::mask::secret(&v)
            } else {
                v
            };
            (f.path.clone(), v)
        })
        .collect()
}

/// The value of a dotted field as text ("" when absent; the first value through arrays).
pub fn field_text(json: &Value, path: &str) -> String {
    let mut v = json;
    for part in path.split('.') {
        v = match v {
            Value::Object(map) => map.get(part).unwrap_or(&Value::Null),
            Value::Array(items) => items
                .first()
                .and_then(|i| i.get(part))
                .unwrap_or(&Value::Null),
            _ => &Value::Null,
        };
    }
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// All enabled Sigma rules with their index; shared by every scan.
#[derive(Debug)]
pub struct SigmaSet {
    rules: Vec<SigmaRule>,
    /// Per rule, [`SigmaRule::keys`].
    keys: Vec<Option<Vec<String>>>,
    /// Per rule, [`SigmaRule::fields`].
    fields: Vec<Vec<FindingField>>,
    index: RuleIndex,
}

impl SigmaSet {
    /// The set of `rules`, indexed.
    pub fn new(rules: Vec<SigmaRule>) -> SigmaSet {
        let index = RuleIndex::new(rules.iter().map(|r| &*r.matcher));
        let keys = rules.iter().map(SigmaRule::keys).collect();
        let fields = rules.iter().map(SigmaRule::fields).collect();
        SigmaSet {
            rules,
            keys,
            fields,
            index,
        }
    }

    /// The union of the top-level keys the undecided rules at `positions` read and of the keys
    /// holding the untyped finding fields of the rules at `decided`; `None`: all keys.
    fn keys_of<'s>(&'s self, positions: &[usize], decided: &[usize]) -> Option<Vec<&'s str>> {
        let mut out: Vec<&'s str> = Vec::new();
        let mut add = |key: &'s str| {
            if !out.contains(&key) {
                out.push(key);
            }
        };
        for &i in positions {
            self.keys[i].as_deref()?.iter().for_each(|k| add(k));
        }
        // A rule the typed record already decided needs only its findings' untyped fields.
        for &i in decided {
            let untyped = self.fields[i].iter().filter(|f| f.typed.is_none());
            untyped.for_each(|f| add(f.top_key()));
        }
        Some(out)
    }
}

/// The detector: one per scan, sharing the compiled set.
pub struct SigmaRules {
    set: Arc<SigmaSet>,
    memo: CandidateMemo,
    candidates: Vec<usize>,
    /// Scratch: rules that matched this record.
    matched: Vec<usize>,
    /// Scratch: rules that need this record's JSON value.
    wanted: Vec<usize>,
}

impl SigmaRules {
    /// The detector for one scan over `set`.
    pub fn new(set: Arc<SigmaSet>) -> SigmaRules {
        SigmaRules {
            set,
            memo: CandidateMemo::default(),
            candidates: Vec::new(),
            matched: Vec::new(),
            wanted: Vec::new(),
        }
    }
}

impl Detector for SigmaRules {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let name = record.event_name.as_deref();
        let source = record.event_source.as_deref();
        let typed = Typed::new(record);
        self.set.index.candidates_memo(
            &mut self.memo,
            typed.top_level(name),
            typed.top_level(source),
            typed.identity(),
            &mut self.candidates,
        );
        if self.candidates.is_empty() {
            return;
        }
        // Rules the typed record decides leave the candidates.
        let rules = &self.set.rules;
        let matched = &mut self.matched;
        matched.clear();
        self.candidates
            .retain(|&i| match rules[i].matcher.decide(&typed) {
                Some(true) => {
                    matched.push(i);
                    false
                }
                Some(false) => false,
                None => true,
            });
        if typed.plain() {
            let raw = record.raw.as_bytes();
            self.candidates
                .retain(|&i| rules[i].matcher.may_match_text(raw));
        }
        // The JSON value: for the remaining candidates, and for the subject of findings.
        let wanted = &mut self.wanted;
        wanted.clear();
        let untyped = |i: usize| self.set.fields[i].iter().any(|f| f.typed.is_none());
        wanted.extend(matched.iter().filter(|&&i| untyped(i)));
        let partial;
        let json = match self.set.keys_of(&self.candidates, wanted) {
            _ if wanted.is_empty() && self.candidates.is_empty() => &Value::Null,
            Some(keys) => match parse_keys(record.raw, &keys) {
                Ok(v) => {
                    partial = v;
                    &partial
                }
                Err(_) => record.json(),
            },
            None => record.json(),
        };
        matched.extend(
            self.candidates
                .iter()
                .filter(|&&i| rules[i].matcher.matches(json)),
        );
        matched.sort_unstable();
        for &i in matched.iter() {
            let fields = field_values(&self.set.fields[i], &typed, record, json);
            out.push(rules[i].finding(record, &fields));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &'static str, detection: &str, group_by: &[&str]) -> SigmaRule {
        SigmaRule {
            id: id.into(),
            title: format!("{id} title").into(),
            severity: Severity::High,
            group_by: group_by.iter().map(|s| s.to_string()).collect(),
            carry: Vec::new(),
            matcher: Arc::new(
                SigmaMatcher::compile(&serde_norway::from_str(detection).unwrap()).unwrap(),
            ),
        }
    }

    #[test]
    fn findings_carry_rule_id_level_and_subject() {
        let set = Arc::new(SigmaSet::new(vec![
            rule(
                "stop",
                "s:\n  eventName: StopLogging\ncondition: s\n",
                &["userIdentity.arn", "requestParameters.name"],
            ),
            rule(
                "denied",
                "s:\n  errorCode: AccessDenied\ncondition: s\n",
                &[],
            ),
        ]));
        let mut d = SigmaRules::new(set);
        let text = br#"{"eventName":"StopLogging","eventID":"e1","errorCode":"AccessDenied",
            "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/eve"},
            "requestParameters":{"name":"main"}}"#;
        let record = Record::parse(text).unwrap();
        let mut out = Vec::new();
        d.inspect(&record, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].detector, "stop");
        assert_eq!(
            out[0].severity,
            Severity::Medium,
            "a rule that does not read the error fields: a failed call is one step lower"
        );
        assert_eq!(out[0].target, "main");
        assert_eq!(out[0].principal, "arn:aws:iam::1:user/eve");
        assert_eq!(out[0].evidence["requestParameters.name"], "main");
        assert!(out[0]
            .summary_text()
            .starts_with("stop title: StopLogging on main by arn:aws:iam::1:user/eve"));
        assert_eq!(out[1].detector, "denied");
        assert_eq!(
            out[1].severity,
            Severity::High,
            "a rule that reads errorCode decides about failures: its level is kept"
        );
        assert_eq!(out[1].target, "");
        out.clear();
        let other = Record::parse(br#"{"eventName":"ListBuckets"}"#).unwrap();
        d.inspect(&other, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn finding_fields_from_the_typed_record_or_the_json_when_it_cannot_tell() {
        let set = Arc::new(SigmaSet::new(vec![rule(
            "read",
            "s:\n  eventName: GetSecretValue\ncondition: s\n",
            &["userIdentity.arn", "requestParameters.secretId"],
        )]));
        assert_eq!(
            set.keys[0].as_deref(),
            Some(&["eventName".to_owned(), "requestParameters".to_owned()][..]),
            "userIdentity is not parsed: the typed record holds its arn"
        );
        let mut d = SigmaRules::new(set);
        for (text, arn) in [
            (&br#"{"eventName":"GetSecretValue","userIdentity":{"arn":"arn:aws:iam::1:user/eve"},"requestParameters":{"secretId":"db"}}"#[..], "arn:aws:iam::1:user/eve"),
            (&br#"{"eventName":"GetSecretValue","userIdentity":{"arn":"arn:aws:iam::1:user\/eve"},"requestParameters":{"secretId":"db"}}"#[..], "arn:aws:iam::1:user/eve"),
            (&br#"{"eventName":"GetSecretValue","userIdentity.arn":"x","userIdentity":{"type":"Root"},"requestParameters":{"secretId":"db"}}"#[..], ""),
            (&br#"{"eventName":"GetSecretValue","requestParameters":{"secretId":"db"}}"#[..], ""),
        ] {
            let record = Record::parse(text).unwrap();
            let mut out = Vec::new();
            d.inspect(&record, &mut out);
            let shown = out[0].evidence.get("userIdentity.arn").and_then(Value::as_str);
            assert_eq!(shown.unwrap_or(""), arn, "{}", String::from_utf8_lossy(text));
            assert_eq!(out[0].evidence["requestParameters.secretId"], "db");
        }
    }

    #[test]
    fn a_field_named_for_a_secret_is_masked_whatever_it_holds() {
        let set = Arc::new(SigmaSet::new(vec![rule(
            "reset",
            "s:\n  eventName: ModifyDBInstance\ncondition: s\n",
            &[
                "requestParameters.masterUserPassword",
                "requestParameters.dBInstanceIdentifier",
            ],
        )]));
        let mut d = SigmaRules::new(set);
        let text = br#"{"eventName":"ModifyDBInstance","requestParameters":{"masterUserPassword":"Sup3rS3cret!pw","dBInstanceIdentifier":"orders"}}"#;
        let record = Record::parse(text).unwrap();
        let mut out = Vec::new();
        d.inspect(&record, &mut out);
        let shown = serde_json::to_string(&out[0]).unwrap() + &out[0].summary_text();
        assert!(!shown.contains("Sup3rS3cret"), "{shown}");
        assert_eq!(
            out[0].evidence["requestParameters.masterUserPassword"],
            "****"
        );
        assert_eq!(
            out[0].evidence["requestParameters.dBInstanceIdentifier"],
            "orders"
        );
        let secret = crate::redact::names_a_secret;
        assert!(!secret("requestParameters.secretId") && secret("x.sessionToken"));
    }
}
