//! The record reader: one pass over a record's JSON text that fills the typed view.
//!
//! It reads what `Record`'s serde derive reads, with the same leniency (a field of another
//! type is absent and noted as odd, a duplicate typed field refuses the record), and the tests
//! hold the two equal. It is cheaper because it knows its fields: strings end where the
//! splitter's tape says (or at a quote found by `memchr`), keys are compared as bytes, and
//! values no field wants are walked past, checking their grammar but not decoding them. A
//! string's escapes are checked where the string is read (the free-form parts: when a detector
//! parses them).

use super::text_facts::{dotted_key, plain, TextFacts};
use super::{RawJson, Record, SessionContext, SessionIssuer, Text, TlsDetails, UserIdentity};
use crate::scan::split::Tape;
use std::borrow::Cow;

/// Why a record's text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed JSON at byte {at} of the record: {what}")]
pub struct Syntax {
    /// Where (bytes from the record's start).
    pub at: usize,
    /// What was wrong.
    pub what: &'static str,
}

type Read<T> = Result<T, Syntax>;

/// The arrays and objects a record may nest, itself included. Records cut from a delivery are
/// already cut at [`crate::scan::split::MAX_DEPTH`]; this bound keeps a record read on its own
/// from recursing without end.
const MAX_DEPTH: u32 = 128;

/// Reads the record `text` (which starts with `{` after any whitespace) into `rec`, a default
/// record. `tape`, where given, says where each string ends; without it (or where it does not
/// fit) the text is searched.
pub fn record<'a>(text: &'a str, tape: Tape<'_>, rec: &mut Record<'a>) -> Read<()> {
    let mut r = Reader {
        text,
        b: text.as_bytes(),
        tape: tape.0,
        at: 0,
        depth: 0,
        odd: false,
        facts: TextFacts {
            plain: true,
            dotted_keys: false,
        },
    };
    let mut seen = Seen(0);
    if r.peek() != Some(b'{') {
        return r.fail("expected an object");
    }
    r.object(|r, key| match key {
        b"eventVersion" => seen.once(0, r)?.text(&mut rec.event_version),
        b"eventTime" => seen.once(1, r)?.text(&mut rec.event_time),
        b"eventSource" => seen.once(2, r)?.text(&mut rec.event_source),
        b"eventName" => seen.once(3, r)?.text(&mut rec.event_name),
        b"awsRegion" => seen.once(4, r)?.text(&mut rec.aws_region),
        b"recipientAccountId" => seen.once(5, r)?.text(&mut rec.recipient_account_id),
        b"userIdentity" => seen
            .once(6, r)?
            .nested(&mut rec.user_identity, user_identity),
        b"sourceIPAddress" => seen.once(7, r)?.text(&mut rec.source_ip_address),
        b"userAgent" => seen.once(8, r)?.text(&mut rec.user_agent),
        b"tlsDetails" => seen.once(9, r)?.nested(&mut rec.tls_details, tls_details),
        b"errorCode" => seen.once(10, r)?.text(&mut rec.error_code),
        b"errorMessage" => seen.once(11, r)?.text(&mut rec.error_message),
        b"eventID" => seen.once(12, r)?.text(&mut rec.event_id),
        b"eventType" => seen.once(13, r)?.text(&mut rec.event_type),
        b"readOnly" => seen.once(14, r)?.boolean(&mut rec.read_only),
        b"managementEvent" => seen.once(15, r)?.boolean(&mut rec.management_event),
        b"eventCategory" => seen.once(16, r)?.text(&mut rec.event_category),
        b"vpcEndpointId" => seen.once(17, r)?.text(&mut rec.vpc_endpoint_id),
        b"sessionCredentialFromConsole" => seen
            .once(18, r)?
            .boolean(&mut rec.session_credential_from_console),
        b"requestParameters" => seen.once(19, r)?.raw(&mut rec.request_parameters),
        b"responseElements" => seen.once(20, r)?.raw(&mut rec.response_elements),
        b"additionalEventData" => seen.once(21, r)?.raw(&mut rec.additional_event_data),
        _ => r.skip(),
    })?;
    if r.peek().is_some() {
        return r.fail("text after the record");
    }
    rec.odd_fields = r.odd;
    rec.facts = r.facts;
    Ok(())
}

fn user_identity<'a>(r: &mut Reader<'a, '_>, u: &mut UserIdentity<'a>) -> Read<()> {
    let mut seen = Seen(0);
    r.object(|r, key| match key {
        b"type" => seen.once(0, r)?.text(&mut u.kind),
        b"principalId" => seen.once(1, r)?.text(&mut u.principal_id),
        b"arn" => seen.once(2, r)?.text(&mut u.arn),
        b"accountId" => seen.once(3, r)?.text(&mut u.account_id),
        b"userName" => seen.once(4, r)?.text(&mut u.user_name),
        b"invokedBy" => seen.once(5, r)?.text(&mut u.invoked_by),
        b"sessionContext" => seen
            .once(6, r)?
            .nested(&mut u.session_context, session_context),
        _ => r.skip(),
    })
}

fn session_context<'a>(r: &mut Reader<'a, '_>, c: &mut SessionContext<'a>) -> Read<()> {
    let mut seen = Seen(0);
    r.object(|r, key| match key {
        b"sessionIssuer" => seen
            .once(0, r)?
            .nested(&mut c.session_issuer, session_issuer),
        _ => r.skip(),
    })
}

fn session_issuer<'a>(r: &mut Reader<'a, '_>, s: &mut SessionIssuer<'a>) -> Read<()> {
    let mut seen = Seen(0);
    r.object(|r, key| match key {
        b"type" => seen.once(0, r)?.text(&mut s.kind),
        b"arn" => seen.once(1, r)?.text(&mut s.arn),
        b"userName" => seen.once(2, r)?.text(&mut s.user_name),
        _ => r.skip(),
    })
}

fn tls_details<'a>(r: &mut Reader<'a, '_>, t: &mut TlsDetails<'a>) -> Read<()> {
    let mut seen = Seen(0);
    r.object(|r, key| match key {
        b"tlsVersion" => seen.once(0, r)?.text(&mut t.tls_version),
        b"cipherSuite" => seen.once(1, r)?.text(&mut t.cipher_suite),
        b"clientProvidedHostHeader" => seen.once(2, r)?.text(&mut t.client_provided_host_header),
        _ => r.skip(),
    })
}

/// The typed fields of one object read so far (a bit each): a second one refuses the record.
struct Seen(u32);

impl Seen {
    /// Notes field `bit`, and hands back the reader to read it.
    fn once<'r, 'a, 't>(
        &mut self,
        bit: u32,
        r: &'r mut Reader<'a, 't>,
    ) -> Read<&'r mut Reader<'a, 't>> {
        if self.0 & (1 << bit) != 0 {
            return r.fail("a field given twice");
        }
        self.0 |= 1 << bit;
        Ok(r)
    }
}

struct Reader<'a, 't> {
    text: &'a str,
    b: &'a [u8],
    /// The ends of the strings not yet read.
    tape: &'t [u32],
    at: usize,
    /// The arrays and objects open around `at` (the record is the first).
    depth: u32,
    /// A typed field held null or a value of another type.
    odd: bool,
    /// What the text read so far says about spelling.
    facts: TextFacts,
}

impl<'a> Reader<'a, '_> {
    fn fail<T>(&self, what: &'static str) -> Read<T> {
        Err(Syntax { at: self.at, what })
    }

    /// The next byte after whitespace.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.at) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(c);
            }
            self.at += 1;
        }
        None
    }

    /// From an opening quote: the content's span and whether it has an escape; moves past it.
    #[inline(always)]
    fn span(&mut self) -> Read<(usize, usize, bool)> {
        let start = self.at + 1;
        if let Some((&mark, rest)) = self.tape.split_first() {
            let end = (mark & !Tape::ESCAPED) as usize;
            if end >= start && self.b.get(end) == Some(&b'"') {
                self.tape = rest;
                self.at = end + 1;
                let escaped = mark & Tape::ESCAPED != 0;
                if escaped {
                    self.escaped(start, end);
                }
                return Ok((start, end, escaped));
            }
        }
        self.search(start)
    }

    /// Notes what the escapes of the string `start..end` say about spelling.
    #[cold]
    fn escaped(&mut self, start: usize, end: usize) {
        if !plain(&self.b[start..end]) {
            self.facts.plain = false;
        }
    }

    /// [`Reader::span`] without a tape (or off it): the string's end is searched for.
    #[cold]
    #[inline(never)]
    fn search(&mut self, start: usize) -> Read<(usize, usize, bool)> {
        self.tape = &[];
        let (mut i, mut escaped) = (start, false);
        while i < self.b.len() {
            match memchr::memchr2(b'"', b'\\', &self.b[i..]) {
                None => break,
                Some(p) if self.b[i + p] == b'"' => {
                    self.at = i + p + 1;
                    if escaped {
                        self.escaped(start, i + p);
                    }
                    return Ok((start, i + p, escaped));
                }
                Some(p) => {
                    escaped = true;
                    i += p + 2;
                }
            }
        }
        self.fail("a string without its closing quote")
    }

    /// From an opening quote: the string, borrowed unless it has escapes.
    #[inline(always)]
    fn string(&mut self) -> Read<Cow<'a, str>> {
        let open = self.at;
        let (start, end, escaped) = self.span()?;
        if !escaped {
            return Ok(Cow::Borrowed(&self.text[start..end]));
        }
        self.unescape(open, end)
    }

    /// The string from the quote at `open` to the one at `end`, its escapes decoded.
    #[cold]
    #[inline(never)]
    fn unescape(&self, open: usize, end: usize) -> Read<Cow<'a, str>> {
        serde_json::from_str::<String>(&self.text[open..=end])
            .map(Cow::Owned)
            .map_err(|_| Syntax {
                at: open,
                what: "a string with an invalid escape",
            })
    }

    /// From `{`: each member's key goes to `member`, which reads its value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &[u8]) -> Read<()>) -> Read<()> {
        self.open()?;
        if self.peek() == Some(b'}') {
            return self.close();
        }
        loop {
            if self.peek() != Some(b'"') {
                return self.fail("expected a key");
            }
            let key = self.string()?;
            self.facts.dotted_keys |= dotted_key(key.as_bytes());
            if self.peek() != Some(b':') {
                return self.fail("expected `:`");
            }
            self.at += 1;
            if self.peek().is_none() {
                return self.fail("expected a value");
            }
            member(self, key.as_bytes())?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => return self.close(),
                _ => return self.fail("expected `,` or `}`"),
            }
        }
    }

    /// Steps into the array or object at `at`.
    fn open(&mut self) -> Read<()> {
        if self.depth == MAX_DEPTH {
            return self.fail("nested too deep");
        }
        self.depth += 1;
        self.at += 1;
        Ok(())
    }

    /// Steps out past the `]` or `}` at `at`.
    fn close(&mut self) -> Read<()> {
        self.depth -= 1;
        self.at += 1;
        Ok(())
    }

    /// Walks past one value of any kind, checking its grammar.
    fn skip(&mut self) -> Read<()> {
        match self.peek() {
            Some(b'"') => self.span().map(drop),
            Some(b'{') => self.object(|r, _| r.skip()),
            Some(b'[') => {
                self.open()?;
                if self.peek() == Some(b']') {
                    return self.close();
                }
                loop {
                    self.skip()?;
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b']') => return self.close(),
                        _ => return self.fail("expected `,` or `]`"),
                    }
                }
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.fail("expected a value"),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Read<()> {
        if !self.b[self.at..].starts_with(word) {
            return self.fail("expected a value");
        }
        self.at += word.len();
        Ok(())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Read<()> {
        let digits = |b: &[u8], mut i: usize| {
            let from = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            (i > from).then_some(i)
        };
        let b = self.b;
        let mut i = self.at + usize::from(b[self.at] == b'-');
        i = match b.get(i) {
            Some(b'0') => i + 1,
            _ => match digits(b, i) {
                Some(i) => i,
                None => return self.fail("a malformed number"),
            },
        };
        if b.get(i) == Some(&b'.') {
            let Some(end) = digits(b, i + 1) else {
                return self.fail("a malformed number");
            };
            i = end;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1 + usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
            let Some(end) = digits(b, i) else {
                return self.fail("a malformed number");
            };
            i = end;
        }
        self.at = i;
        Ok(())
    }

    /// A string field; a value of another type is absent (and odd).
    fn text(&mut self, slot: &mut Text<'a>) -> Read<()> {
        if self.b[self.at] == b'"' {
            *slot = Some(self.string()?);
            return Ok(());
        }
        self.odd = true;
        self.skip()
    }

    /// A boolean field, also read from the strings real logs carry (`"true"`, `"False"`...).
    fn boolean(&mut self, slot: &mut Option<bool>) -> Read<()> {
        match self.b[self.at] {
            b't' | b'f' => {
                let value = self.b[self.at] == b't';
                self.literal(if value { b"true" } else { b"false" })?;
                *slot = Some(value);
            }
            b'"' => {
                *slot = match &*self.string()? {
                    "true" | "True" | "TRUE" => Some(true),
                    "false" | "False" | "FALSE" => Some(false),
                    _ => None,
                };
                self.odd |= slot.is_none();
            }
            _ => {
                self.odd = true;
                self.skip()?;
            }
        }
        Ok(())
    }

    /// An object field read by `read`; a value of another type is absent (and odd).
    fn nested<T: Default>(
        &mut self,
        slot: &mut Option<T>,
        read: fn(&mut Reader<'a, '_>, &mut T) -> Read<()>,
    ) -> Read<()> {
        if self.b[self.at] == b'{' {
            // Read in place: the typed objects are large, and moving them costs copies.
            return read(self, slot.insert(T::default()));
        }
        self.odd = true;
        self.skip()
    }

    /// A free-form part kept as raw JSON (`null` is absent).
    fn raw(&mut self, slot: &mut Option<RawJson<'a>>) -> Read<()> {
        let start = self.at;
        self.skip()?;
        let text = &self.text[start..self.at];
        if text != "null" {
            *slot = Some(RawJson(text));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
