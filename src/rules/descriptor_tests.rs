//! Tests of [`super`]: a rule file parsed, checked and compiled, or refused naming the file
//! and the construct.

use super::*;
use crate::detectors;

#[test]
fn yaml_scalars_are_text_and_keys_may_not_repeat() {
    let rule = "logsource:\n  product: aws\ndetection:\n  s:\n    eventName: A\n  condition: s\n";
    let d = Descriptor::parse(&format!("title: 2024\nid: 12345\n{rule}"), "num.yml").unwrap();
    assert_eq!((d.title.as_str(), d.id.as_deref()), ("2024", Some("12345")));
    let twice = format!("title: x\n{rule}detection:\n  s:\n    eventName: B\n  condition: s\n");
    let err = Descriptor::parse(&twice, "twice.yml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("duplicate field `detection`"), "{err}");
    let err = Descriptor::parse("title: x\ncorrelation:\n  type: event_count\n", "c.yml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("c.yml: correlation: `rules` names no rule"),
        "{err}"
    );
    let err = Descriptor::parse("title: x\ncorrelation: ~\n", "c.yml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("correlation: the block is not a mapping"),
        "a key set to null is there: {err}"
    );
    let err = Descriptor::parse("title: [x\n", "bad.yml")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("bad.yml: ") && err.contains("line"),
        "{err}"
    );
}

/// A CloudTrail rule with this `detection:` block (indented lines).
fn rule(detection: &str) -> String {
    format!("title: t\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n{detection}")
}

/// The message that refuses the rule `text` read from `file`.
fn refusal(text: &str, file: &str) -> String {
    Descriptor::parse(text, file).unwrap_err().to_string()
}

#[test]
fn refuses_unsupported_sigma_naming_file_and_construct() {
    let e = refusal(
        &rule("  s: {a|base64offset|contains: x}\n  condition: s\n"),
        "r.yml",
    );
    assert!(
        e.starts_with("r.yml: ") && e.contains("unsupported modifier `base64offset`"),
        "{e}"
    );
    let e = refusal(
        &rule("  s: {a: 1}\n  condition: s | count() > 3\n"),
        "c.yml",
    );
    assert!(
        e.contains("c.yml") && e.contains("aggregation `count()`"),
        "{e}"
    );
    let e = refusal(
        "title: t\ncorrelation: {type: temporal, rules: [a, b], timespan: 1w}\n",
        "k.yml",
    );
    assert!(e.contains("k.yml") && e.contains("`timespan`"), "{e}");
    let e = refusal(
        "title: t\ncorrelation: {type: temporal, rules: [a, b], timespan: 5m}\ndetection: {s: {a: 1}, condition: s}\n",
        "both.yml",
    );
    assert!(e.contains("exactly one of"), "{e}");
    // A rule for another log source is valid but not run.
    let d = Descriptor::parse(
        "title: w\nlogsource: {product: windows}\ndetection: {s: {a|base64offset: x}, condition: s}\n",
        "w.yml",
    )
    .unwrap();
    assert!(d.kind.skipped().is_some() && d.kind.matcher().is_none());
}

#[test]
fn a_regex_that_does_not_build_is_a_load_error_naming_the_file() {
    let e = refusal(
        &rule("  s: {requestParameters.name|re: '(unclosed'}\n  condition: s\n"),
        "bad-re.yml",
    );
    assert!(
        e.starts_with("bad-re.yml: ") && e.contains("regular expression `(unclosed`"),
        "{e}"
    );
    // A wildcard value the engine turns into a regex too large to build: refused when the
    // rule loads, its pattern cut short in the message.
    let huge = format!("a{}", "?".repeat(100_000));
    let e = refusal(
        &rule(&format!("  s: {{userAgent: '{huge}'}}\n  condition: s\n")),
        "huge.yml",
    );
    assert!(
        e.starts_with("huge.yml: ") && e.contains("regular expression") && e.len() < 500,
        "{}",
        &e[..e.len().min(500)]
    );
    // The same wildcards in a size that builds: loaded, and matching.
    let d = Descriptor::parse(
        &rule("  s: {userAgent: 'a?c*'}\n  condition: s\n"),
        "ok.yml",
    )
    .unwrap();
    let m = d.kind.matcher().unwrap();
    assert!(m.matches(&serde_json::json!({"userAgent": "ABCD"})));
    assert!(!m.matches(&serde_json::json!({"userAgent": "ab"})));
}

#[test]
fn findings_share_the_id_the_catalog_holds() {
    let d = Descriptor::parse(
        &rule("  s: {eventName: StopLogging}\n  condition: s\n"),
        "dir/stop-trail.yml",
    )
    .unwrap();
    assert_eq!(d.detector_id(), "stop-trail");
    let mut detector = d.build(&Settings::default()).unwrap();
    let found = detectors::findings_in(&mut *detector, br#"{"eventName":"StopLogging"}"#);
    let found = found.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].detector, "stop-trail");
    assert!(
        std::ptr::eq(found[0].detector.as_str(), d.detector_id()),
        "the finding points at the catalog's id, not a copy"
    );
    assert_eq!(
        found[0].summary_text(),
        "t: StopLogging by unknown principal"
    );
}

#[test]
fn rejects_bad_descriptors_naming_the_file() {
    let e = Descriptor::parse("title: x\nnative: no-such\n", "x.yml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("x.yml") && e.contains("no-such"), "{e}");
    let e = Descriptor::parse("title: x\n", "y.yml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("y.yml"), "{e}");
}
