//! The record reader against serde's derived reading of the same struct: equal on every
//! valid record, with and without the splitter's tape.

use crate::record::text_facts::{dotted_key, plain};
use crate::record::{lenient, Record};
use crate::scan::split::{Element, Splitter, Tape};
use proptest::prelude::*;
use serde_json::Value;

/// The typed view as serde's derive reads it, with the facts found from the text alone.
fn by_serde(raw: &str) -> Result<String, String> {
    lenient::take_odd();
    let mut record: Record = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    record.raw = raw;
    record.odd_fields = lenient::take_odd();
    record.facts.plain = plain(raw.as_bytes());
    let value: Value = serde_json::from_str(raw).expect("serde read it");
    record.facts.dotted_keys = has_dotted_key(&value);
    Ok(format!("{record:?}"))
}

fn has_dotted_key(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| dotted_key(k.as_bytes()) || has_dotted_key(v)),
        Value::Array(a) => a.iter().any(has_dotted_key),
        _ => false,
    }
}

fn ours(raw: &str) -> Result<String, String> {
    Record::parse(raw.as_bytes())
        .map(|r| format!("{r:?}"))
        .map_err(|e| e.to_string())
}

/// The record read with the tape its splitter made.
fn taped(raw: &str) -> Result<String, String> {
    let delivery = format!(r#"{{"Records":[{raw}]}}"#);
    let mut got = None;
    Splitter::default()
        .feed(delivery.as_bytes(), &mut |e| {
            if let Element::Record(text, Tape(tape)) = e {
                let tape = Tape(tape);
                got = Some(
                    Record::parse_with_tape(text, tape)
                        .map(|r| format!("{r:?}"))
                        .map_err(|e| e.to_string()),
                );
            }
        })
        .expect("splits");
    got.expect("one record")
}

const KEYS: &[&str] = &[
    "eventVersion",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "recipientAccountId",
    "userIdentity",
    "sourceIPAddress",
    "userAgent",
    "tlsDetails",
    "errorCode",
    "errorMessage",
    "eventID",
    "eventType",
    "readOnly",
    "managementEvent",
    "eventCategory",
    "vpcEndpointId",
    "sessionCredentialFromConsole",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "type",
    "principalId",
    "arn",
    "accountId",
    "userName",
    "invokedBy",
    "sessionContext",
    "sessionIssuer",
    "tlsVersion",
    "cipherSuite",
    "clientProvidedHostHeader",
    "userIdentity.type",
    "tlsDetails.tlsVersion",
    "resources",
];

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        prop_oneof![
            Just("true".to_owned()),
            Just("False".to_owned()),
            Just("a\"b\\c\n/d".to_owned()),
            Just("é ✓ \u{1F600}".to_owned()),
            "[a-z:/.\\-]{0,12}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        let key = prop_oneof![
            proptest::sample::select(KEYS).prop_map(str::to_owned),
            "[a-zA-Z.]{1,6}"
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn record() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        proptest::sample::select(KEYS).prop_map(str::to_owned),
        "[a-z]{1,4}"
    ];
    (
        proptest::collection::btree_map(key, value(), 0..12),
        any::<bool>(),
        proptest::option::of(0usize..400),
    )
        .prop_map(|(fields, pretty, escape_at)| {
            let v = Value::Object(fields.into_iter().collect());
            let mut text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            // Spell one letter as a `\u` escape (inside a key or a value, never outside).
            if let Some(at) = escape_at.filter(|&a| text.is_char_boundary(a)) {
                if let Some(p) = text[at..].find('a').map(|p| p + at) {
                    if text[..p].matches('"').count() % 2 == 1 && !text[..p].ends_with('\\') {
                        text.replace_range(p..=p, "\\u0061");
                    }
                }
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn the_reader_reads_what_serde_reads(raw in record()) {
        match by_serde(&raw) {
            Ok(want) => {
                prop_assert_eq!(ours(&raw), Ok(want.clone()), "{}", raw);
                prop_assert_eq!(taped(&raw), Ok(want), "{}", raw);
            }
            Err(_) => prop_assert!(ours(&raw).is_err(), "{}", raw),
        }
    }
}

#[test]
fn the_sample_deliveries_read_as_serde_reads_them() {
    let mut n = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/samples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "gz") {
            continue;
        }
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&path).unwrap()),
            &mut text,
        )
        .unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        for r in v["Records"].as_array().into_iter().flatten() {
            let raw = r.to_string();
            assert_eq!(ours(&raw), by_serde(&raw), "{raw}");
            assert_eq!(taped(&raw), by_serde(&raw), "{raw}");
            n += 1;
        }
    }
    assert!(n > 50, "{n} records");
}

#[test]
fn malformed_records_are_refused_with_the_place() {
    for (text, at) in [
        (r#"{"eventName":"A","eventName":"B"}"#, 29),
        (r#"{"userIdentity":{"type":"A","type":"B"}}"#, 35),
        (r#"{"eventName":"A",}"#, 17),
        (r#"{"eventName" "A"}"#, 13),
        (r#"{"a":[1,2,,3]}"#, 10),
        (r#"{"a":01}"#, 6),
        (r#"{"a":1.}"#, 5),
        (r#"{"a":tru}"#, 5),
        (r#"{"eventName":"\q"}"#, 13),
        (r#"{"a":"open}"#, 5),
        (r#"{"a":1} x"#, 8),
    ] {
        let err = Record::parse(text.as_bytes()).expect_err(text).to_string();
        assert!(err.contains(&format!("at byte {at} ")), "{text}: {err}");
        assert!(by_serde(text).is_err(), "serde refuses {text} too");
    }
}

#[test]
fn nesting_is_counted_at_every_level() {
    // The record is level 1; `n` arrays inside a typed object's field that is not read.
    let nested = |n: usize| {
        format!(
            r#"{{"userIdentity":{{"sessionContext":{{"x":{}1{}}}}}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    // userIdentity and sessionContext are levels 2 and 3: 125 arrays reach level 128.
    assert!(Record::parse(nested(125).as_bytes()).is_ok());
    let err = Record::parse(nested(126).as_bytes())
        .unwrap_err()
        .to_string();
    assert!(err.contains("nested too deep"), "{err}");
}
