//! Splits the text of a delivery, `{"Records":[{...},{...}]}`, into its records, chunk by chunk.
//!
//! The splitter never holds more than the record it is cutting out: chunks come in, record texts
//! go out through a callback. It understands just enough JSON to find where each value ends
//! (strings, escapes, nesting); records are parsed properly afterwards by serde.

use memchr::memchr2;

/// One element of the `Records` array.
pub enum Element<'a> {
    /// An object: the text of one record.
    Record(&'a [u8]),
    /// Anything else (a number, a string, an array...): not a record.
    NotObject,
    /// An object nested deeper than serde_json's limit: it cannot be parsed.
    TooDeep,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("not a CloudTrail delivery: expected a JSON object, found `{found}` at byte {offset}")]
    NotAnObject { found: char, offset: u64 },
    #[error("malformed JSON: unexpected `{found}` at byte {offset}")]
    Unexpected { found: char, offset: u64 },
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

/// Nesting deeper than this (serde_json's default recursion limit) makes a record unreadable.
pub const MAX_DEPTH: u32 = 128;

/// What the top level of the delivery turned out to hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub records_array: bool,
    pub log_files: bool,
    pub complete: bool,
}

pub struct Splitter {
    state: State,
    kind: Kind,
    depth: u32,
    max_depth: u32,
    in_string: bool,
    escape: bool,
    key: Vec<u8>,
    record: Vec<u8>,
    object: bool,
    offset: u64,
    pub shape: Shape,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter {
            state: State::Start,
            kind: Kind::Scalar,
            depth: 0,
            max_depth: 0,
            in_string: false,
            escape: false,
            key: Vec::new(),
            record: Vec::with_capacity(64 * 1024),
            object: false,
            offset: 0,
            shape: Shape::default(),
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

impl Splitter {
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
                        self.key.push(b);
                        i += 1;
                        continue;
                    }
                    let end = memchr2(b'"', b'\\', &buf[i..]).map_or(buf.len(), |p| i + p);
                    self.key.extend_from_slice(&buf[i..end]);
                    i = end;
                    if end < buf.len() {
                        if buf[end] == b'\\' {
                            self.escape = true;
                            self.key.push(b'\\');
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
                    let (next, done) = self.scan_value(buf, i);
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
                    self.object = b == b'{';
                    self.begin_value(b);
                    self.state = State::Element;
                    if self.kind == Kind::Scalar {
                        continue;
                    }
                    self.record.push(b);
                }
                State::Element => {
                    let (next, done) = self.scan_value(buf, i);
                    if self.object {
                        self.record.extend_from_slice(&buf[i..next]);
                    }
                    i = next;
                    if done {
                        self.state = State::ElementCommaOrEnd;
                        on(if !self.object {
                            Element::NotObject
                        } else if self.max_depth > MAX_DEPTH {
                            Element::TooDeep
                        } else {
                            Element::Record(&self.record)
                        });
                    }
                    continue;
                }
                State::Done => return Err(bad(b)),
            }
            i += 1;
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
        self.depth = 0;
        self.max_depth = 1;
        self.kind = match b {
            b'{' | b'[' => {
                self.depth = 1;
                Kind::Container
            }
            b'"' => {
                self.in_string = true;
                Kind::Str
            }
            _ => Kind::Scalar,
        };
    }

    /// Scans the current value from `i`; returns where it stopped and whether the value ended.
    /// A scalar ends before its delimiter, which is left for the caller.
    fn scan_value(&mut self, buf: &[u8], mut i: usize) -> (usize, bool) {
        if self.kind == Kind::Scalar {
            while i < buf.len() {
                if is_ws(buf[i]) || matches!(buf[i], b',' | b']' | b'}') {
                    return (i, true);
                }
                i += 1;
            }
            return (i, false);
        }
        while i < buf.len() {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                    i += 1;
                    continue;
                }
                match memchr2(b'"', b'\\', &buf[i..]) {
                    None => return (buf.len(), false),
                    Some(p) => {
                        i += p;
                        if buf[i] == b'\\' {
                            self.escape = true;
                        } else {
                            self.in_string = false;
                            if self.kind == Kind::Str {
                                return (i + 1, true);
                            }
                        }
                        i += 1;
                    }
                }
                continue;
            }
            match buf[i] {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    self.max_depth = self.max_depth.max(self.depth);
                }
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return (i + 1, true);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        (i, false)
    }
}
