//! Which rules a record can possibly match: rules that pin `eventName` are filed under each
//! of those names, rules that pin only `eventSource` under each source, rules that pin only
//! `userIdentity.type` under each type, and the rest are tried on every record.

use std::collections::HashMap;

use super::SigmaMatcher;
use crate::memo::Memo;

type Map = HashMap<String, Vec<usize>, foldhash::fast::RandomState>;

/// Candidate lists already found, by eventName, eventSource and identity type as written in
/// the record.
#[derive(Debug, Default)]
pub struct CandidateMemo {
    lists: Memo<Box<[usize]>>,
    /// Scratch for [`RuleIndex::candidates`].
    buf: String,
}

/// What a record's field holds, as far as the index may rely on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key<'a> {
    /// Exactly this one value.
    Known(&'a str),
    /// No value at all.
    Absent,
    /// Can't tell (a value of another type, escapes, a dotted key...): every rule filed under
    /// the field is a candidate.
    Unknown,
}

/// The rules filed under the values of one field.
#[derive(Debug, Default)]
struct Filed {
    by_value: Map,
    /// Every rule filed here, for records whose value is unknown.
    all: Vec<usize>,
}

impl Filed {
    fn file(&mut self, rule: usize, values: &[String]) {
        for v in values {
            self.by_value.entry(v.clone()).or_default().push(rule);
        }
        self.all.push(rule);
    }

    /// The rules that may match a record whose field is `key`. `buf` is scratch.
    fn candidates<'s>(&'s self, key: Key<'_>, buf: &mut String) -> &'s [usize] {
        let value = match key {
            Key::Known(value) => value,
            Key::Absent => return &[],
            Key::Unknown => return &self.all,
        };
        let hit = if value.bytes().any(|b| b.is_ascii_uppercase()) || !value.is_ascii() {
            buf.clear();
            if value.is_ascii() {
                buf.push_str(value);
                buf.make_ascii_lowercase();
            } else {
                buf.push_str(&value.to_lowercase());
            }
            self.by_value.get(buf.as_str())
        } else {
            self.by_value.get(value)
        };
        hit.map_or(&[], Vec::as_slice)
    }
}

/// Rule positions by the eventName / eventSource / userIdentity.type values they require.
#[derive(Debug, Default)]
pub struct RuleIndex {
    name: Filed,
    source: Filed,
    identity: Filed,
    always: Vec<usize>,
}

impl RuleIndex {
    /// Indexes `rules` by position.
    pub fn new<'a>(rules: impl IntoIterator<Item = &'a SigmaMatcher>) -> RuleIndex {
        let mut ix = RuleIndex::default();
        for (i, m) in rules.into_iter().enumerate() {
            if let Some(names) = m.event_names() {
                ix.name.file(i, names);
            } else if let Some(sources) = m.event_sources() {
                ix.source.file(i, sources);
            } else if let Some(types) = m.identity_types() {
                ix.identity.file(i, types);
            } else {
                ix.always.push(i);
            }
        }
        ix
    }

    /// Positions of the rules that may match a record with this eventName, eventSource and
    /// identity type, in ascending order, written to `out` (cleared first). `buf` is scratch.
    pub fn candidates(
        &self,
        event_name: Key<'_>,
        event_source: Key<'_>,
        identity: Key<'_>,
        buf: &mut String,
        out: &mut Vec<usize>,
    ) {
        out.clear();
        out.extend_from_slice(self.name.candidates(event_name, buf));
        out.extend_from_slice(self.source.candidates(event_source, buf));
        out.extend_from_slice(self.identity.candidates(identity, buf));
        out.extend(&self.always);
        out.sort_unstable();
    }

    /// [`RuleIndex::candidates`] through a memo of the lists already found: a delivery
    /// repeats a few dozen combinations, and one lookup of the combination as written costs
    /// less than lowercasing and looking up each part.
    pub fn candidates_memo(
        &self,
        memo: &mut CandidateMemo,
        event_name: Key<'_>,
        event_source: Key<'_>,
        identity: Key<'_>,
        out: &mut Vec<usize>,
    ) {
        let key = memo.lists.key();
        for part in [event_name, event_source, identity] {
            match part {
                // 0xFF never occurs in UTF-8 text: it ends a value.
                Key::Known(text) => {
                    key.push(1);
                    key.extend_from_slice(text.as_bytes());
                    key.push(0xFF);
                }
                Key::Absent => key.push(0),
                Key::Unknown => key.push(2),
            }
        }
        if let Some(found) = memo.lists.get() {
            out.clear();
            out.extend_from_slice(found);
            return;
        }
        self.candidates(event_name, event_source, identity, &mut memo.buf, out);
        memo.lists.insert(out.as_slice().into());
    }

    /// Number of rules tried on every record.
    pub fn unindexed(&self) -> usize {
        self.always.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(yaml: &str) -> SigmaMatcher {
        SigmaMatcher::compile(&serde_norway::from_str(yaml).unwrap()).unwrap()
    }

    #[test]
    fn candidates_by_name_source_identity_and_fallback() {
        let rules = [
            m("s:\n  eventName: [StopLogging, DeleteTrail]\ncondition: s\n"),
            m("s:\n  eventSource: lambda.amazonaws.com\ncondition: s\n"),
            m("s:\n  userAgent|contains: x\ncondition: s\n"),
            m("s:\n  eventName: StopLogging\n  eventSource: cloudtrail.amazonaws.com\ncondition: s\n"),
            m("s:\n  userIdentity.type: Root\nf:\n  eventType: AwsServiceEvent\ncondition: s and not f\n"),
        ];
        let ix = RuleIndex::new(&rules);
        let (mut buf, mut out) = (String::new(), Vec::new());
        let mut ask = |name, source, identity| {
            ix.candidates(name, source, identity, &mut buf, &mut out);
            out.clone()
        };
        use Key::{Absent, Known, Unknown};
        let cloudtrail = Known("cloudtrail.amazonaws.com");
        let lambda = Known("lambda.amazonaws.com");
        assert_eq!(ask(Known("StopLogging"), cloudtrail, Absent), [0, 2, 3]);
        assert_eq!(ask(Known("Invoke"), lambda, Known("IAMUser")), [1, 2]);
        assert_eq!(ask(Absent, Absent, Known("ROOT")), [2, 4]);
        assert_eq!(ask(Absent, Absent, Unknown), [2, 4]);
        assert_eq!(ask(Known("deletetrail"), Absent, Absent), [0, 2]);
        // A field of unknown value brings every rule filed under it.
        assert_eq!(ask(Unknown, Absent, Absent), [0, 2, 3]);
        assert_eq!(ask(Known("Invoke"), Unknown, Absent), [1, 2]);
        assert_eq!(ix.unindexed(), 1);
        // The memo gives the same lists, however often asked, and tells apart what differs.
        let mut memo = CandidateMemo::default();
        for _ in 0..2 {
            for (name, source, identity) in [
                (Known("StopLogging"), cloudtrail, Absent),
                (Known("Invoke"), lambda, Known("Root")),
                (Known("Invoke"), lambda, Unknown),
                (Absent, lambda, Absent),
                (lambda, Absent, Absent),
                (Known(""), Absent, Absent),
                (Absent, Absent, Known("")),
                (Absent, Absent, Absent),
                (Absent, Absent, Unknown),
                (Unknown, Absent, Absent),
                (Absent, Unknown, Absent),
            ] {
                let mut want = Vec::new();
                ix.candidates(name, source, identity, &mut buf, &mut want);
                ix.candidates_memo(&mut memo, name, source, identity, &mut out);
                assert_eq!(out, want, "{name:?} {source:?} {identity:?}");
            }
        }
    }
}
