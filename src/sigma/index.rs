//! Which rules a record can possibly match: rules that pin `eventName` are filed under each
//! of those names, rules that pin only `eventSource` under each source, rules that pin only
//! `userIdentity.type` under each type, and the rest are tried on every record.

use std::collections::HashMap;

use super::SigmaMatcher;

type Map = HashMap<String, Vec<usize>, foldhash::fast::RandomState>;

/// Candidate lists already found, by eventName, eventSource and identity type as written in
/// the record.
#[derive(Debug, Default)]
pub struct CandidateMemo {
    lists: HashMap<Vec<u8>, Box<[usize]>, foldhash::fast::RandomState>,
    /// Scratch: the key being looked up.
    key: Vec<u8>,
    /// Scratch for [`RuleIndex::candidates`].
    buf: String,
}

impl CandidateMemo {
    /// Combinations remembered at most; the memo starts over when full, so memory stays
    /// bounded.
    const MAX: usize = 4096;
}

/// What a record's `userIdentity.type` is, as far as the index may rely on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity<'a> {
    /// Exactly this one value.
    Known(&'a str),
    /// No value at all.
    Absent,
    /// Can't tell (escapes, a dotted key, a value of another type...): every rule filed
    /// under a type is a candidate.
    Unknown,
}

/// Rule positions by the eventName / eventSource / userIdentity.type values they require.
#[derive(Debug, Default)]
pub struct RuleIndex {
    by_name: Map,
    by_source: Map,
    by_identity: Map,
    /// Every rule filed under an identity type, for records whose type is unknown.
    any_identity: Vec<usize>,
    always: Vec<usize>,
}

impl RuleIndex {
    /// Indexes `rules` by position.
    pub fn new<'a>(rules: impl IntoIterator<Item = &'a SigmaMatcher>) -> RuleIndex {
        let mut ix = RuleIndex::default();
        for (i, m) in rules.into_iter().enumerate() {
            if let Some(names) = m.event_names() {
                for n in names {
                    ix.by_name.entry(n.clone()).or_default().push(i);
                }
            } else if let Some(sources) = m.event_sources() {
                for s in sources {
                    ix.by_source.entry(s.clone()).or_default().push(i);
                }
            } else if let Some(types) = m.identity_types() {
                for t in types {
                    ix.by_identity.entry(t.clone()).or_default().push(i);
                }
                ix.any_identity.push(i);
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
        event_name: Option<&str>,
        event_source: Option<&str>,
        identity: Identity<'_>,
        buf: &mut String,
        out: &mut Vec<usize>,
    ) {
        out.clear();
        let mut look = |map: &Map, key: Option<&str>| {
            let Some(key) = key else { return };
            let hit = if key.bytes().any(|b| b.is_ascii_uppercase()) || !key.is_ascii() {
                buf.clear();
                if key.is_ascii() {
                    buf.push_str(key);
                    buf.make_ascii_lowercase();
                } else {
                    buf.push_str(&key.to_lowercase());
                }
                map.get(buf.as_str())
            } else {
                map.get(key)
            };
            out.extend(hit.into_iter().flatten());
        };
        look(&self.by_name, event_name);
        look(&self.by_source, event_source);
        match identity {
            Identity::Known(t) => look(&self.by_identity, Some(t)),
            Identity::Absent => {}
            Identity::Unknown => out.extend(&self.any_identity),
        }
        out.extend(&self.always);
        out.sort_unstable();
    }

    /// [`RuleIndex::candidates`] through a memo of the lists already found: a delivery
    /// repeats a few dozen combinations, and one lookup of the combination as written costs
    /// less than lowercasing and looking up each part.
    pub fn candidates_memo(
        &self,
        memo: &mut CandidateMemo,
        event_name: Option<&str>,
        event_source: Option<&str>,
        identity: Identity<'_>,
        out: &mut Vec<usize>,
    ) {
        let key = &mut memo.key;
        key.clear();
        let identity_part = match identity {
            Identity::Known(t) => Some(t),
            Identity::Absent | Identity::Unknown => None,
        };
        for part in [event_name, event_source, identity_part] {
            match part {
                // 0xFF never occurs in UTF-8 text: it ends a part.
                Some(text) => {
                    key.push(1);
                    key.extend_from_slice(text.as_bytes());
                    key.push(0xFF);
                }
                None => key.push(0),
            }
        }
        if identity == Identity::Unknown {
            key.push(2);
        }
        if let Some(found) = memo.lists.get(key.as_slice()) {
            out.clear();
            out.extend_from_slice(found);
            return;
        }
        self.candidates(event_name, event_source, identity, &mut memo.buf, out);
        if memo.lists.len() >= CandidateMemo::MAX {
            memo.lists.clear();
        }
        memo.lists.insert(key.clone(), out.as_slice().into());
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
        let cloudtrail = Some("cloudtrail.amazonaws.com");
        let lambda = Some("lambda.amazonaws.com");
        assert_eq!(
            ask(Some("StopLogging"), cloudtrail, Identity::Absent),
            [0, 2, 3]
        );
        assert_eq!(
            ask(Some("Invoke"), lambda, Identity::Known("IAMUser")),
            [1, 2]
        );
        assert_eq!(ask(None, None, Identity::Known("ROOT")), [2, 4]);
        assert_eq!(ask(None, None, Identity::Unknown), [2, 4]);
        assert_eq!(ask(Some("deletetrail"), None, Identity::Absent), [0, 2]);
        assert_eq!(ix.unindexed(), 1);
        // The memo gives the same lists, however often asked, and tells apart what differs.
        let mut memo = CandidateMemo::default();
        for _ in 0..2 {
            for (name, source, identity) in [
                (Some("StopLogging"), cloudtrail, Identity::Absent),
                (Some("Invoke"), lambda, Identity::Known("Root")),
                (Some("Invoke"), lambda, Identity::Unknown),
                (None, lambda, Identity::Absent),
                (lambda, None, Identity::Absent),
                (Some(""), None, Identity::Absent),
                (None, None, Identity::Known("")),
                (None, None, Identity::Absent),
                (None, None, Identity::Unknown),
            ] {
                let mut want = Vec::new();
                ix.candidates(name, source, identity, &mut buf, &mut want);
                ix.candidates_memo(&mut memo, name, source, identity, &mut out);
                assert_eq!(out, want, "{name:?} {source:?} {identity:?}");
            }
        }
    }
}
