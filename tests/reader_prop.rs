//! Property: the streaming reader yields exactly the records serde_json finds in the delivery,
//! whatever the whitespace, escapes, and gzip member boundaries.

mod common;
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
use trailwatch::{Detector, Finding, Record};

struct Capture(Arc<Mutex<Vec<Value>>>);

impl Detector for Capture {
    fn id(&self) -> &'static str {
        "capture"
    }
    fn inspect<'r>(&mut self, record: &'r Record<'_>, _out: &mut Vec<Finding<'r>>) {
        self.0.lock().unwrap().push(record.json().clone());
    }
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z{}\\[\\]\"\\\\/:, é\u{1F600}\n\t]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z\"{]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn record() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map("[a-zA-Z]{1,10}", value(), 0..6),
        "[a-f0-9-]{8,36}",
    )
        .prop_map(|(m, id)| {
            let mut o: Map<String, Value> = m.into_iter().collect();
            o.insert("eventID".into(), Value::String(id));
            Value::Object(o)
        })
}

/// JSON text with random whitespace and random (valid) escape choices.
struct Writer {
    rng: u64,
    out: String,
}

impl Writer {
    fn roll(&mut self, n: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % n
    }
    fn ws(&mut self) {
        for _ in 0..self.roll(3) {
            let c = [' ', '\n', '\t', '\r'][self.roll(4) as usize];
            self.out.push(c);
        }
    }
    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\t' => self.out.push_str("\\t"),
                '/' if self.roll(2) == 0 => self.out.push_str("\\/"),
                c if !c.is_ascii() && (c as u32) < 0x10000 && self.roll(2) == 0 => {
                    self.out.push_str(&format!("\\u{:04x}", c as u32))
                }
                c if c.is_ascii_alphabetic() && self.roll(8) == 0 => {
                    self.out.push_str(&format!("\\u{:04X}", c as u32))
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
    fn value(&mut self, v: &Value) {
        self.ws();
        match v {
            Value::Object(m) => {
                self.out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.ws();
                    self.string(k);
                    self.ws();
                    self.out.push(':');
                    self.value(v);
                }
                self.ws();
                self.out.push('}');
            }
            Value::Array(a) => {
                self.out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.value(v);
                }
                self.ws();
                self.out.push(']');
            }
            Value::String(s) => self.string(s),
            other => self.out.push_str(&other.to_string()),
        }
        self.ws();
    }
}

fn scan_all(data: &[u8]) -> (Vec<Value>, trailwatch::ScanReport) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut detectors: Vec<Box<dyn Detector>> = vec![Box::new(Capture(Arc::clone(&seen)))];
    let report = trailwatch::scan(data, &mut detectors, &mut |_| {});
    let got = std::mem::take(&mut *seen.lock().unwrap());
    (got, report)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn reader_yields_exactly_the_records(
        records in prop::collection::vec(record(), 0..12),
        before in prop::collection::btree_map("[a-z]{1,6}", value(), 0..2),
        seed in 1u64..u64::MAX,
        cuts in prop::collection::vec(0.0f64..1.0, 0..4),
        gzip in any::<bool>(),
    ) {
        let mut doc = Map::new();
        for (k, v) in before {
            doc.insert(k, v);
        }
        doc.insert("Records".into(), Value::Array(records.clone()));
        let mut w = Writer { rng: seed, out: String::new() };
        w.value(&Value::Object(doc));
        let text = w.out;
        let expected: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&expected["Records"], &Value::Array(records.clone()));
        let data = if gzip {
            // Multi-member: compress the text in pieces cut at random points.
            let mut points: Vec<usize> = cuts.iter().map(|c| (c * text.len() as f64) as usize).collect();
            points.push(text.len());
            points.sort();
            let (mut out, mut at) = (Vec::new(), 0);
            for p in points {
                out.extend(common::gzip(&text.as_bytes()[at..p]));
                at = p;
            }
            out
        } else {
            text.into_bytes()
        };
        let (got, report) = scan_all(&data);
        prop_assert!(report.error.is_none(), "{:?}", report.error);
        prop_assert_eq!(report.skipped, 0);
        prop_assert_eq!(report.records as usize, records.len());
        prop_assert_eq!(got, records);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// No input makes the scan panic: random bytes, and valid deliveries with random damage.
    #[test]
    fn damaged_input_never_panics(
        records in prop::collection::vec(record(), 1..6),
        damage in prop::collection::vec((0.0f64..1.0, any::<u8>()), 0..6),
        cut in 0.0f64..1.0,
        gzip in any::<bool>(),
        noise in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let text = serde_json::json!({ "Records": records }).to_string();
        let mut data = if gzip { common::gzip(text.as_bytes()) } else { text.into_bytes() };
        for (at, byte) in damage {
            let i = (at * data.len() as f64) as usize;
            if i < data.len() {
                data[i] = byte;
            }
        }
        data.truncate(((cut * data.len() as f64) as usize).max(1));
        let (got, report) = scan_all(&data);
        prop_assert!(got.len() as u64 == report.records);
        let _ = scan_all(&noise);
    }
}

/// Feeds `data` to the splitter in pieces cut at `points`; returns each element's text.
fn split_in_pieces(
    data: &[u8],
    points: &[usize],
) -> Result<Vec<String>, trailwatch::scan::split::SplitError> {
    use trailwatch::scan::split::{Element, Splitter};
    let mut s = Splitter::default();
    let mut got = Vec::new();
    let mut at = 0;
    for &p in points.iter().chain(std::iter::once(&data.len())) {
        s.feed(&data[at..p], &mut |e| {
            got.push(match e {
                Element::Record(r, _) => String::from_utf8_lossy(r).into_owned(),
                Element::NotObject => "<not an object>".into(),
                Element::Oversized { offset, bytes } => format!("<{bytes} bytes at {offset}>"),
                Element::Cut { text, subtrees } => {
                    format!("<{subtrees} cut>{}", String::from_utf8_lossy(text))
                }
            })
        })?;
        at = p;
    }
    assert!(s.shape.complete && s.shape.records_array);
    Ok(got)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Chunk boundaries anywhere (inside strings, escapes, keys, numbers) change nothing.
    #[test]
    fn chunk_boundaries_change_nothing(
        records in prop::collection::vec(record(), 0..6),
        seed in 1u64..u64::MAX,
        cuts in prop::collection::vec(0.0f64..1.0, 0..40),
    ) {
        let mut w = Writer { rng: seed, out: String::new() };
        let mut doc = Map::new();
        doc.insert("Records".into(), Value::Array(records.clone()));
        doc.insert("digest\\\"Note".into(), Value::from("x}]"));
        w.value(&Value::Object(doc));
        let data = w.out.into_bytes();
        let mut points: Vec<usize> = cuts.iter().map(|c| (c * data.len() as f64) as usize).collect();
        points.sort();
        let whole = split_in_pieces(&data, &[]).unwrap();
        let pieces = split_in_pieces(&data, &points).unwrap();
        prop_assert_eq!(&whole, &pieces);
        let parsed: Vec<Value> = whole.iter().map(|t| serde_json::from_str(t).unwrap()).collect();
        prop_assert_eq!(parsed, records);
    }
}

/// A delivery of many batches (megabytes), plain and gzip, and cut short: every record arrives,
/// in order; a fault keeps the records before it.
#[test]
fn many_batches_keep_order_and_survive_a_cut() {
    let records: Vec<Value> = (0..20_000)
        .map(|i| serde_json::json!({"eventID": format!("id-{i}"), "eventName": "GetObject", "pad": "x".repeat(i % 300)}))
        .collect();
    let text = serde_json::json!({ "Records": records }).to_string();
    assert!(text.len() > 3_000_000);
    for data in [text.clone().into_bytes(), common::gzip(text.as_bytes())] {
        let (got, report) = scan_all(&data);
        assert!(report.error.is_none(), "{:?}", report.error);
        assert_eq!(got, records);
        let cut = &data[..data.len() * 2 / 3];
        let (partial, report) = scan_all(cut);
        assert!(report.error.is_some());
        assert!(
            partial.len() > 10_000,
            "records before the fault are kept: {}",
            partial.len()
        );
        assert_eq!(partial[..], records[..partial.len()]);
        assert_eq!(report.records as usize, partial.len());
    }
}

/// `kinds.len()` arrays and objects nested in one another (`true`: an object) around `inner`.
fn nest_text(kinds: &[bool], inner: &str) -> String {
    let open: String = kinds
        .iter()
        .map(|&o| if o { r#"{"k":"# } else { "[" })
        .collect();
    let close: String = kinds
        .iter()
        .rev()
        .map(|&o| if o { '}' } else { ']' })
        .collect();
    format!("{open}{inner}{close}")
}

/// The same as a value, its containers from `kinds`, around `inner`.
fn nest_value(kinds: &[bool], inner: Value) -> Value {
    kinds.iter().rev().fold(inner, |v, &o| {
        if o {
            serde_json::json!({ "k": v })
        } else {
            Value::Array(vec![v])
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A record with a value nested too deep is read but for that value's deep part, which
    /// reads as `null` below the limit; the records around it are read as written.
    #[test]
    fn a_too_deep_value_is_cut_not_the_record(
        records in prop::collection::vec(record(), 1..6),
        at in any::<prop::sample::Index>(),
        kinds in prop::collection::vec(any::<bool>(), 100..300),
        seed in 1u64..u64::MAX,
        gzip in any::<bool>(),
    ) {
        // The record is level 1, the deep value level 2: levels 2 to MAX_DEPTH are read.
        let keep = trailwatch::scan::split::MAX_DEPTH as usize - 1;
        let i = at.index(records.len());
        let mut planted = records.clone();
        // A placeholder the writer leaves as is (no letters to escape), replaced below.
        planted[i]["deepValue"] = Value::from("0123456789");
        let mut w = Writer { rng: seed, out: String::new() };
        w.value(&serde_json::json!({ "Records": planted }));
        let inner = r#""]}\"[{ ""#;
        let text = w.out.replacen(r#""0123456789""#, &nest_text(&kinds, inner), 1);
        let data = if gzip { common::gzip(text.as_bytes()) } else { text.into_bytes() };
        let cut = kinds.len() > keep;
        let mut expected = records.clone();
        expected[i]["deepValue"] = if cut {
            nest_value(&kinds[..keep], Value::Null)
        } else {
            nest_value(&kinds, Value::from("]}\"[{ "))
        };
        let (got, report) = scan_all(&data);
        prop_assert!(report.error.is_none(), "{:?}", report.error);
        prop_assert_eq!(report.skipped, 0);
        prop_assert_eq!(report.deep_subtrees, u64::from(cut));
        prop_assert_eq!(got, expected);
    }
}
