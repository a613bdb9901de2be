//! Splits the text of a delivery, `{"Records":[{...},{...}]}`, into its records, chunk by chunk.
//!
//! The splitter never holds more than the record it is cutting out: chunks come in, record texts
//! go out through a callback. It understands just enough JSON to find where each value ends
//! (strings, escapes, nesting), noting where each string of a record ends (a [`Tape`]);
//! records are read properly afterwards (`record::read`).

use super::blocks;
use memchr::memchr2;

/// One element of the `Records` array.
pub enum Element<'a> {
    /// An object: the text of one record, and where each of its strings ends (see [`Tape`]).
    Record(&'a [u8], Tape<'a>),
    /// Anything else (a number, a string, an array...): not a record.
    NotObject,
    /// An element larger than the splitter's limit: streamed past, never buffered.
    Oversized {
        /// Where it starts (uncompressed bytes).
        offset: u64,
        /// Its size.
        bytes: u64,
    },
    /// An object nested deeper than [`MAX_DEPTH`], as a copy in which each too-deep subtree is
    /// `null`: the rest of the record stays readable.
    Cut {
        /// The copy.
        text: &'a [u8],
        /// How many subtrees were replaced.
        subtrees: u32,
    },
}

/// Where each string of a record ends, in order: the offset of its closing quote in the
/// record's text, with [`Tape::ESCAPED`] set when the string holds a backslash. The splitter
/// finds every quote anyway; the record reader then jumps from string to string.
#[derive(Debug, Clone, Copy)]
pub struct Tape<'a>(pub &'a [u32]);

impl Tape<'_> {
    /// Set on an entry whose string holds a backslash.
    pub const ESCAPED: u32 = 1 << 31;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// Why the text is not a CloudTrail delivery.
pub enum SplitError {
    #[error("not a CloudTrail delivery: expected a JSON object, found `{found}` at byte {offset}")]
    /// The text does not start with an object.
    NotAnObject {
        /// What was found instead.
        found: char,
        /// Where (uncompressed bytes).
        offset: u64,
    },
    #[error("malformed JSON: unexpected `{found}` at byte {offset}")]
    /// A character that JSON does not allow there.
    Unexpected {
        /// The character.
        found: char,
        /// Where (uncompressed bytes).
        offset: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    KeyOrEnd,
    Key,
    Colon,
    Value,
    SkipValue,
    CommaOrEnd,
    ElementOrEnd,
    Element,
    ElementCommaOrEnd,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Container,
    Str,
    Scalar,
}

/// The deepest nesting a record may have, the record itself being level 1: serde_json's
/// recursion limit (128) reads 127 nested arrays and objects, not 128. A subtree reaching
/// deeper is cut from the record (see [`Element::Cut`]).
pub const MAX_DEPTH: u32 = 127;

/// What the top level of the delivery turned out to hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// A `Records` array was found.
    pub records_array: bool,
    /// A `logFiles` array was found (a digest file).
    pub log_files: bool,
    /// The top-level object was closed.
    pub complete: bool,
}

/// Cuts the `Records` array of a delivery into elements, as the text streams in.
pub struct Splitter {
    state: State,
    kind: Kind,
    depth: u32,
    max_depth: u32,
    in_string: bool,
    escape: bool,
    /// The current string held a backslash.
    escaped: u32,
    key: Vec<u8>,
    record: Vec<u8>,
    /// The ends of the current record's strings (see [`Tape`]).
    tape: Vec<u32>,
    /// Where the current object starts in the chunk being fed, while none of it is in
    /// `record` (most records lie whole in one chunk, and are never copied here).
    here: Option<usize>,
    /// The copy of a too-deep record with its deep subtrees cut (rarely used).
    cut: Vec<u8>,
    object: bool,
    offset: u64,
    /// Elements larger than this are skipped unread.
    max_element: u64,
    /// The current element passed `max_element`: it is no longer kept.
    oversized: bool,
    /// Where the current element started.
    element_start: u64,
    /// What the text held so far.
    pub shape: Shape,
}

/// A top-level key is kept up to this many bytes (only `Records` and `logFiles` matter).
const MAX_KEY: usize = 256;

impl Default for Splitter {
    fn default() -> Self {
        Splitter {
            state: State::Start,
            kind: Kind::Scalar,
            depth: 0,
            max_depth: 0,
            in_string: false,
            escape: false,
            escaped: 0,
            key: Vec::new(),
            record: Vec::with_capacity(64 * 1024),
            tape: Vec::with_capacity(8 * 1024),
            here: None,
            cut: Vec::new(),
            object: false,
            offset: 0,
            max_element: super::Limits::default().max_record,
            oversized: false,
            element_start: 0,
            shape: Shape::default(),
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

impl Splitter {
    /// A splitter that skips elements larger than `max_element` bytes.
    pub fn new(max_element: u64) -> Splitter {
        Splitter {
            max_element,
            ..Splitter::default()
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Feeds the next chunk; calls `on` for each element of `Records` completed in it.
    pub fn feed(&mut self, buf: &[u8], on: &mut dyn FnMut(Element<'_>)) -> Result<(), SplitError> {
        let mut i = 0;
        while i < buf.len() {
            let b = buf[i];
            let at = self.offset + i as u64;
            let bad = |found: u8| SplitError::Unexpected {
                found: found as char,
                offset: at,
            };
            let structural = !matches!(self.state, State::Key | State::SkipValue | State::Element);
            if structural && is_ws(b) {
                i += 1;
                continue;
            }
            match self.state {
                State::Start => match b {
                    b'{' => self.state = State::KeyOrEnd,
                    0xEF | 0xBB | 0xBF if self.offset + (i as u64) < 3 => {} // UTF-8 byte order mark
                    _ => {
                        return Err(SplitError::NotAnObject {
                            found: b as char,
                            offset: at,
                        })
                    }
                },
                State::KeyOrEnd => match b {
                    b'"' => {
                        self.key.clear();
                        self.state = State::Key;
                    }
                    b'}' => self.finish_top(),
                    _ => return Err(bad(b)),
                },
                State::Key => {
                    if self.escape {
                        self.escape = false;
                        if self.key.len() < MAX_KEY {
                            self.key.push(b);
                        }
                        i += 1;
                        continue;
                    }
                    let end = memchr2(b'"', b'\\', &buf[i..]).map_or(buf.len(), |p| i + p);
                    // A huge key is read past, not kept: it cannot be `Records`.
                    let room = MAX_KEY.saturating_sub(self.key.len());
                    self.key.extend_from_slice(&buf[i..end.min(i + room)]);
                    i = end;
                    if end < buf.len() {
                        if buf[end] == b'\\' {
                            self.escape = true;
                            if self.key.len() < MAX_KEY {
                                self.key.push(b'\\');
                            }
                        } else {
                            self.state = State::Colon;
                            self.unescape_key();
                        }
                        i += 1;
                    }
                    continue;
                }
                State::Colon => match b {
                    b':' => self.state = State::Value,
                    _ => return Err(bad(b)),
                },
                State::Value => {
                    if self.key == b"Records" && b == b'[' {
                        self.shape.records_array = true;
                        self.state = State::ElementOrEnd;
                    } else {
                        if self.key == b"logFiles" {
                            self.shape.log_files = true;
                        }
                        self.begin_value(b);
                        self.state = State::SkipValue;
                        if self.kind == Kind::Scalar {
                            continue; // the scalar's first byte is scanned below
                        }
                    }
                }
                State::SkipValue => {
                    let (next, done) = self.scan_value(buf, i, None);
                    i = next;
                    if done {
                        self.state = State::CommaOrEnd;
                    }
                    continue;
                }
                State::CommaOrEnd => match b {
                    b',' => self.state = State::KeyOrEnd,
                    b'}' => self.finish_top(),
                    _ => return Err(bad(b)),
                },
                State::ElementOrEnd | State::ElementCommaOrEnd if b == b']' => {
                    self.state = State::CommaOrEnd;
                }
                State::ElementCommaOrEnd => match b {
                    b',' => self.state = State::ElementOrEnd,
                    _ => return Err(bad(b)),
                },
                State::ElementOrEnd => {
                    self.record.clear();
                    self.tape.clear();
                    self.oversized = false;
                    self.element_start = at;
                    self.object = b == b'{';
                    self.begin_value(b);
                    self.state = State::Element;
                    if self.kind == Kind::Scalar {
                        continue;
                    }
                    // An object is read where it lies in the chunk, and copied only if the
                    // chunk ends before it does.
                    self.here = self.object.then_some(i);
                }
                State::Element => {
                    // Offsets in the record's text, whose first byte is `buf[here]`, or whose
                    // text so far is `record` (the bytes from `i` on go after it).
                    let base = match self.here {
                        Some(start) => 0usize.wrapping_sub(start),
                        None => self.record.len().wrapping_sub(i),
                    };
                    let keep = self.object
                        && !self.oversized
                        && self.max_element < u64::from(Tape::ESCAPED);
                    let (next, done) = self.scan_value(buf, i, keep.then_some(base));
                    if self.object && !self.oversized {
                        let size = match self.here {
                            Some(start) => next - start,
                            None => self.record.len() + (next - i),
                        };
                        if size as u64 > self.max_element {
                            // Read past from here on; the memory it took goes back.
                            self.oversized = true;
                            self.here = None;
                            self.record = Vec::with_capacity(64 * 1024);
                        } else if self.here.is_none() {
                            self.record.extend_from_slice(&buf[i..next]);
                        }
                    }
                    i = next;
                    if done {
                        self.state = State::ElementCommaOrEnd;
                        let text = match self.here.take() {
                            Some(start) => &buf[start..next],
                            None => &self.record[..],
                        };
                        on(if self.oversized {
                            Element::Oversized {
                                offset: self.element_start,
                                bytes: self.offset + i as u64 - self.element_start,
                            }
                        } else if !self.object {
                            Element::NotObject
                        } else if self.max_depth > MAX_DEPTH {
                            let subtrees = cut_deep(text, &mut self.cut);
                            Element::Cut {
                                text: &self.cut,
                                subtrees,
                            }
                        } else {
                            Element::Record(text, Tape(&self.tape))
                        });
                    }
                    continue;
                }
                State::Done => return Err(bad(b)),
            }
            i += 1;
        }
        // The chunk ends inside an object read where it lay: its text so far is kept.
        if let Some(start) = self.here.take() {
            self.record.extend_from_slice(&buf[start..]);
        }
        self.offset += buf.len() as u64;
        Ok(())
    }

    /// Keys may be written with escapes (`"\u0052ecords"`): compare their decoded text.
    fn unescape_key(&mut self) {
        if memchr::memchr(b'\\', &self.key).is_some() {
            let mut quoted = Vec::with_capacity(self.key.len() + 2);
            quoted.push(b'"');
            quoted.extend_from_slice(&self.key);
            quoted.push(b'"');
            self.key = serde_json::from_slice::<String>(&quoted)
                .map(String::into_bytes)
                .unwrap_or_default();
        }
    }

    fn finish_top(&mut self) {
        self.shape.complete = true;
        self.state = State::Done;
    }

    /// Starts a value at its first byte (containers and strings consume it here).
    fn begin_value(&mut self, b: u8) {
        self.in_string = false;
        self.escape = false;
        self.escaped = 0;
        self.depth = 0;
        self.max_depth = 1;
        self.kind = match b {
            b'{' | b'[' => {
                self.depth = 1;
                Kind::Container
            }
            b'"' => Kind::Str,
            _ => Kind::Scalar,
        };
    }

    /// Scans the current value from `i`; returns where it stopped and whether the value ended.
    /// A scalar ends before its delimiter, which is left for the caller. With `tape`, the offset
    /// of `buf[0]` in the record, each string's end in a container goes on the tape.
    fn scan_value(&mut self, buf: &[u8], mut i: usize, tape: Option<usize>) -> (usize, bool) {
        if self.kind == Kind::Scalar {
            while i < buf.len() {
                if is_ws(buf[i]) || matches!(buf[i], b',' | b']' | b'}') {
                    return (i, true);
                }
                i += 1;
            }
            return (i, false);
        }
        if self.kind == Kind::Container {
            return self.scan_blocks(buf, i, tape);
        }
        // A string (a top-level value, or an element that is not a record): to its end.
        while i < buf.len() {
            if self.escape {
                self.escape = false;
                i += 1;
                continue;
            }
            let Some(p) = memchr2(b'"', b'\\', &buf[i..]) else {
                return (buf.len(), false);
            };
            i += p;
            if buf[i] == b'"' {
                return (i + 1, true);
            }
            self.escape = true;
            i += 1;
        }
        (i, false)
    }

    /// [`Splitter::scan_value`] for a container, 64 bytes at a time ([`blocks`]): only the
    /// quotes, the brackets outside strings and the backslashes inside them are visited.
    fn scan_blocks(&mut self, buf: &[u8], mut i: usize, tape: Option<usize>) -> (usize, bool) {
        let mut carry = u64::from(self.escape);
        let (mut in_string, mut escaped) = (self.in_string, self.escaped);
        let mut padded: [u8; 64];
        while i < buf.len() {
            let len = (buf.len() - i).min(64);
            let block: &[u8; 64] = match buf[i..].first_chunk::<64>() {
                Some(block) => block,
                None => {
                    padded = [b' '; 64];
                    padded[..len].copy_from_slice(&buf[i..]);
                    &padded
                }
            };
            let valid = if len == 64 { !0 } else { (1u64 << len) - 1 };
            let m = blocks::masks(block);
            let backslash = m.backslash & valid;
            let escaped_bytes = blocks::escaped(backslash, &mut carry);
            if len < 64 {
                // The chunk ends here: the next byte, first of the next chunk, is escaped when
                // an odd run of backslashes ends the chunk.
                carry = escaped_bytes >> len & 1;
            }
            let quotes = m.quote & valid & !escaped_bytes;
            let inside = blocks::prefix_xor(quotes) ^ if in_string { !0 } else { 0 };
            // The brackets outside strings, for the depth: the element may end in this block.
            let mut brackets = (m.open | m.close) & valid & !inside;
            let mut end = None;
            while brackets != 0 {
                let k = brackets.trailing_zeros();
                brackets &= brackets - 1;
                if m.open >> k & 1 == 1 {
                    self.depth += 1;
                    self.max_depth = self.max_depth.max(self.depth);
                } else {
                    self.depth -= 1;
                    if self.depth == 0 {
                        end = Some(k as usize);
                        break;
                    }
                }
            }
            let mine = match end {
                Some(63) | None if len == 64 => !0,
                Some(k) => (1u64 << (k + 1)) - 1,
                None => valid,
            };
            if let Some(base) = tape {
                // Each closing quote goes on the tape, flagged when its string held a
                // backslash (one that began in an earlier block may have).
                let mut closing = quotes & !inside & mine;
                let backslashes = backslash & inside & mine;
                let mut events = closing | backslashes;
                if backslashes == 0 && closing != 0 {
                    let k = closing.trailing_zeros() as usize;
                    self.tape.push(base.wrapping_add(i + k) as u32 | escaped);
                    escaped = 0;
                    closing &= closing - 1;
                    events = closing;
                }
                while events != 0 {
                    let k = events.trailing_zeros() as usize;
                    events &= events - 1;
                    if backslashes >> k & 1 == 1 {
                        escaped = Tape::ESCAPED;
                    } else {
                        self.tape.push(base.wrapping_add(i + k) as u32 | escaped);
                        escaped = 0;
                    }
                }
            }
            if let Some(k) = end {
                (self.in_string, self.escape, self.escaped) = (false, false, 0);
                return (i + k + 1, true);
            }
            in_string = inside >> (len - 1) & 1 == 1;
            i += len;
        }
        (self.in_string, self.escape, self.escaped) = (in_string, carry != 0, escaped);
        (i, false)
    }
}

/// Copies the record `text` (whose brackets balance) into `out`, each array or object opening
/// deeper than [`MAX_DEPTH`] replaced by `null`; returns how many were replaced.
fn cut_deep(text: &[u8], out: &mut Vec<u8>) -> u32 {
    out.clear();
    let (mut depth, mut in_string, mut escape, mut cut) = (0u32, false, false, 0);
    for &b in text {
        let outside = depth <= MAX_DEPTH;
        if in_string {
            if escape {
                escape = false;
            } else if b == b'\\' {
                escape = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth == MAX_DEPTH + 1 {
                        out.extend_from_slice(b"null");
                        cut += 1;
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        // A byte is kept when both it and what precedes it lie outside the cut subtrees: the
        // brackets opening and closing a cut subtree go with it.
        if outside && depth <= MAX_DEPTH {
            out.push(b);
        }
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` objects nested in one another around `inner`.
    fn nested(n: usize, inner: &str) -> String {
        format!("{}{inner}{}", r#"{"a":"#.repeat(n), "}".repeat(n))
    }

    fn elements(text: &[u8]) -> Vec<(String, u32)> {
        let mut s = Splitter::default();
        let mut got = Vec::new();
        s.feed(text, &mut |e| {
            got.push(match e {
                Element::Record(r, _) => (String::from_utf8_lossy(r).into_owned(), 0),
                Element::NotObject => ("<not an object>".into(), 0),
                Element::Oversized { offset, bytes } => (format!("<{bytes} at {offset}>"), 0),
                Element::Cut { text, subtrees } => {
                    (String::from_utf8_lossy(text).into_owned(), subtrees)
                }
            })
        })
        .unwrap();
        got
    }

    #[test]
    fn an_oversized_record_is_read_past_in_any_chunks_and_the_next_one_kept() {
        let big = format!(r#"{{"a":"{}","b":[{{}}]}}"#, "x\\\"".repeat(5000));
        let text = format!(r#"{{"Records":[{{"eventName":"A"}},{big},{{"eventName":"B"}}]}}"#);
        for chunk in [1, 7, 4096, text.len()] {
            let mut s = Splitter::new(1000);
            let mut got = Vec::new();
            for part in text.as_bytes().chunks(chunk) {
                s.feed(part, &mut |e| {
                    got.push(match e {
                        Element::Record(r, _) => String::from_utf8_lossy(r).into_owned(),
                        Element::Oversized { offset, bytes } => format!("{bytes} at {offset}"),
                        _ => "other".into(),
                    });
                })
                .unwrap();
                assert!(s.record.capacity() <= 64 * 1024, "{}", s.record.capacity());
            }
            let at = text.find(&big).unwrap();
            assert_eq!(
                got,
                [
                    r#"{"eventName":"A"}"#.to_owned(),
                    format!("{} at {at}", big.len()),
                    r#"{"eventName":"B"}"#.to_owned()
                ],
                "chunks of {chunk}"
            );
            assert!(s.shape.complete && s.shape.records_array);
        }
    }

    #[test]
    fn a_cut_anywhere_gives_the_same_records_and_tapes() {
        // Runs of backslashes of both parities, at and across 64-byte block edges.
        let pad = "p".repeat(50);
        let text = format!(
            r#"{{"Records":[{{"a":"\\","{pad}":"\"}}\\","b":["x\\\"]{{"]}},{{"c":"{pad}\\\\"}}]}}"#
        );
        let run = |pieces: &[&[u8]]| {
            let mut s = Splitter::default();
            let mut got = Vec::new();
            for piece in pieces {
                s.feed(piece, &mut |e| {
                    if let Element::Record(r, Tape(t)) = e {
                        got.push((r.to_vec(), t.to_vec()));
                    }
                })
                .unwrap();
            }
            got
        };
        let whole = run(&[text.as_bytes()]);
        assert_eq!(whole.len(), 2);
        for cut in 0..text.len() {
            let (a, b) = text.as_bytes().split_at(cut);
            assert_eq!(run(&[a, b]), whole, "cut at {cut}");
        }
    }

    #[test]
    fn a_huge_key_is_read_past() {
        let key = "k".repeat(100_000);
        let text = format!(r#"{{"{key}":1,"Records":[{{"eventName":"A"}}]}}"#);
        let mut s = Splitter::default();
        let mut n = 0;
        for part in text.as_bytes().chunks(333) {
            s.feed(part, &mut |_| n += 1).unwrap();
            assert!(s.key.len() <= MAX_KEY);
        }
        assert_eq!((n, s.shape.records_array), (1, true));
    }

    #[test]
    fn the_deepest_readable_record_is_kept_whole() {
        let deepest = nested(MAX_DEPTH as usize, "1");
        serde_json::from_str::<serde_json::Value>(&deepest).expect("serde reads it");
        let one_more = nested(MAX_DEPTH as usize + 1, "1");
        assert!(serde_json::from_str::<serde_json::Value>(&one_more).is_err());
        let text = format!(r#"{{"Records":[{deepest}]}}"#);
        assert_eq!(elements(text.as_bytes()), [(deepest, 0)]);
    }

    #[test]
    fn deep_subtrees_are_cut_and_counted() {
        let deep = nested(300, r#""}]\"[{""#);
        let record = format!(
            r#"{{"eventName":"X","p":{{"shallow":"[{{","deep":{deep}}},"q":[{deep}, "s"],"s":"{{"}}"#
        );
        let text = format!(r#"{{"Records":[{record},{{"eventName":"Y"}}]}}"#);
        let got = elements(text.as_bytes());
        // The record is level 1, `p` and `q` level 2: the cut starts `MAX_DEPTH - 2` levels in.
        let kept = MAX_DEPTH as usize - 2;
        let cut = nested(kept, "null");
        let expected = format!(
            r#"{{"eventName":"X","p":{{"shallow":"[{{","deep":{cut}}},"q":[{cut}, "s"],"s":"{{"}}"#
        );
        assert_eq!(got[0], (expected.clone(), 2));
        assert_eq!(got[1], (r#"{"eventName":"Y"}"#.to_owned(), 0));
        let v: serde_json::Value = serde_json::from_str(&expected).expect("the cut copy parses");
        assert_eq!(v["p"]["shallow"], "[{");
        assert_eq!(v["q"][1], "s");
    }
}
