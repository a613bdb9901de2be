//! Table tests of the engine: `check(detection_yaml, record_json, expect)`.

use super::*;
use crate::record::text_facts::plain;

fn compile(yaml: &str) -> Result<SigmaMatcher, SigmaError> {
    let detection: Value = serde_norway::from_str(yaml).expect("test YAML parses");
    SigmaMatcher::compile(&detection)
}

#[track_caller]
fn check(yaml: &str, record: &str, expect: bool) {
    let m = compile(yaml).unwrap_or_else(|e| panic!("compile failed: {e}\n{yaml}"));
    let record: Value = serde_json::from_str(record).expect("test record parses");
    assert_eq!(
        m.matches(&record),
        expect,
        "\nrule:\n{yaml}\nrecord: {record}"
    );
}

#[track_caller]
fn refuse(yaml: &str, needle: &str) {
    match compile(yaml) {
        Ok(_) => panic!("expected refusal containing {needle:?}:\n{yaml}"),
        Err(e) => assert!(
            e.to_string().contains(needle),
            "message {e:?} lacks {needle:?}"
        ),
    }
}

const SEL: &str = "condition: sel\n";

fn rule(sel: &str) -> String {
    format!("sel:\n{sel}\n{SEL}")
}

#[test]
fn plain_values_are_case_insensitive_and_exact() {
    let r = rule("  eventName: StopLogging");
    check(&r, r#"{"eventName":"StopLogging"}"#, true);
    check(&r, r#"{"eventName":"stoplogging"}"#, true);
    check(&r, r#"{"eventName":"STOPLOGGING"}"#, true);
    check(&r, r#"{"eventName":"StopLoggingX"}"#, false);
    check(&r, r#"{"eventName":"XStopLogging"}"#, false);
    check(&r, r#"{"other":"StopLogging"}"#, false);
    check(&rule("  a: Ärger"), r#"{"a":"äRGER"}"#, true);
}

#[test]
fn wildcards_and_escapes() {
    let cases: &[(&str, &str, bool)] = &[
        ("Stop*", "stoplogging", true),
        ("Stop*", "xstop", false),
        ("'*Logging'", "StopLOGGING", true),
        ("'*opLog*'", "StopLogging", true),
        ("S?op*ing", "StopLogging", true),
        ("S?op*ing", "SopLogging", false),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "aXXcYYb", false),
        ("'*'", "", true),
        ("'*'", "anything", true),
        ("'a\\*b'", "a*b", true),
        ("'a\\*b'", "aXb", false),
        ("'a\\?b'", "a?b", true),
        ("'a\\?b'", "aXb", false),
        ("'a\\\\b'", "a\\b", true),
        ("'C:\\Windows'", "c:\\windows", true),
        ("'line*two'", "line\nand two", true),
    ];
    for (pat, value, expect) in cases {
        let r = rule(&format!("  f: {pat}"));
        let rec = serde_json::json!({ "f": value }).to_string();
        check(&r, &rec, *expect);
    }
}

#[test]
fn lists_maps_and_lists_of_maps() {
    let list = rule("  eventName:\n    - StopLogging\n    - DeleteTrail");
    check(&list, r#"{"eventName":"DeleteTrail"}"#, true);
    check(&list, r#"{"eventName":"CreateTrail"}"#, false);
    let map = rule("  eventName: StopLogging\n  eventSource: cloudtrail.amazonaws.com");
    check(
        &map,
        r#"{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com"}"#,
        true,
    );
    check(
        &map,
        r#"{"eventName":"StopLogging","eventSource":"s3.amazonaws.com"}"#,
        false,
    );
    let maps = rule("  - eventName: A\n    x: 1\n  - eventName: B");
    check(&maps, r#"{"eventName":"a","x":1}"#, true);
    check(&maps, r#"{"eventName":"a","x":2}"#, false);
    check(&maps, r#"{"eventName":"b"}"#, true);
}

#[test]
fn numbers_and_booleans() {
    check(&rule("  port: 22"), r#"{"port":22}"#, true);
    check(&rule("  port: 22"), r#"{"port":"22"}"#, true);
    check(&rule("  port: 22"), r#"{"port":220}"#, false);
    check(&rule("  ok: true"), r#"{"ok":true}"#, true);
    check(&rule("  ok: true"), r#"{"ok":"True"}"#, true);
    check(&rule("  ok: true"), r#"{"ok":false}"#, false);
    check(&rule("  port|gt: 1000"), r#"{"port":1024}"#, true);
    check(&rule("  port|gt: 1000"), r#"{"port":"80"}"#, false);
    check(&rule("  port|lte: 80"), r#"{"port":"80"}"#, true);
    check(&rule("  port|lt: 80"), r#"{"port":80}"#, false);
    check(&rule("  port|gte: 80"), r#"{"port":80}"#, true);
}

#[test]
fn contains_startswith_endswith() {
    let c = rule("  userAgent|contains: TruffleHog");
    check(&c, r#"{"userAgent":"x trufflehog/3.0"}"#, true);
    check(&c, r#"{"userAgent":"aws-cli"}"#, false);
    check(&rule("  u|startswith: aws-"), r#"{"u":"AWS-cli"}"#, true);
    check(&rule("  u|startswith: aws-"), r#"{"u":"x aws-cli"}"#, false);
    check(&rule("  u|endswith: .exe"), r#"{"u":"A.EXE"}"#, true);
    check(&rule("  u|endswith: .exe"), r#"{"u":"a.exe.txt"}"#, false);
    // Wildcards inside a `contains` value keep working.
    check(&rule("  u|contains: 'a*c'"), r#"{"u":"xxabbbcxx"}"#, true);
    check(&rule("  u|contains: 'é'"), r#"{"u":"CAFÉ"}"#, true);
    check(&rule("  u|contains|cased: Abc"), r#"{"u":"xabcx"}"#, false);
    check(&rule("  u|contains|cased: Abc"), r#"{"u":"xAbcx"}"#, true);
    check(&rule("  u|cased: Abc"), r#"{"u":"abc"}"#, false);
}

#[test]
fn all_modifier() {
    let r = rule("  p|contains|all:\n    - '\"s3:GetObject\"'\n    - Allow");
    check(
        &r,
        r#"{"p":"{\"Action\":\"s3:GetObject\",\"Effect\":\"Allow\"}"}"#,
        true,
    );
    check(
        &r,
        r#"{"p":"{\"Action\":\"s3:GetObject\",\"Effect\":\"Deny\"}"}"#,
        false,
    );
    // Without `all` a list is OR.
    let any = rule("  p|contains:\n    - GetObject\n    - Nope");
    check(&any, r#"{"p":"s3:GetObject"}"#, true);
}

#[test]
fn regex_and_flags() {
    let r = rule("  arn|re: '.+:assumed-role/aws:.+'");
    check(
        &r,
        r#"{"arn":"arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"}"#,
        true,
    );
    check(
        &r,
        r#"{"arn":"arn:aws:sts::1:assumed-role/Admin/bob"}"#,
        false,
    );
    // `re` is case-sensitive and unanchored unless told otherwise.
    check(&rule("  a|re: 'ab+c'"), r#"{"a":"xxABBCxx"}"#, false);
    check(&rule("  a|re: 'ab+c'"), r#"{"a":"xxabbcxx"}"#, true);
    check(&rule("  a|re|i: 'ab+c'"), r#"{"a":"xxABBCxx"}"#, true);
    check(
        &rule("  a|re|m: '^two$'"),
        r#"{"a":"one\ntwo\nthree"}"#,
        true,
    );
    check(
        &rule("  a|re: '^two$'"),
        r#"{"a":"one\ntwo\nthree"}"#,
        false,
    );
    check(&rule("  a|re|s: 'one.two'"), r#"{"a":"one\ntwo"}"#, true);
    check(&rule("  a|re: 'one.two'"), r#"{"a":"one\ntwo"}"#, false);
    refuse(&rule("  a|re: '(?<=x)y'"), "regular expression `(?<=x)y`");
    // The text every match must hold is searched first; it never drops a match.
    check(&rule("  a|re: 'ab?c'"), r#"{"a":"ac"}"#, true);
    check(&rule("  a|re: 'x+yz*w'"), r#"{"a":"xxyw"}"#, true);
    // Stacked quantifiers (`(a+)*`, lazy `+?`) give no required text.
    check(&rule("  a|re: 'xa+*'"), r#"{"a":"x"}"#, true);
    check(&rule("  a|re: 'xa+??'"), r#"{"a":"x"}"#, true);
    check(&rule("  a|re: 'xa+?'"), r#"{"a":"xa"}"#, true);
    check(&rule("  a|re: 'Role/x'"), r#"{"a":"role/x"}"#, false);
    check(&rule("  a|re|i: 'Role/x'"), r#"{"a":"rOLE/X"}"#, true);
    // Under `i` Unicode folding applies: the Kelvin sign matches `k`.
    check(
        &rule("  a|re|i: 'kelvin'"),
        "{\"a\":\"\u{212A}elvin\"}",
        true,
    );
}

#[test]
fn cidr() {
    let r = rule("  sourceIPAddress|cidr:\n    - 10.0.0.0/8\n    - '2001:db8::/32'");
    check(&r, r#"{"sourceIPAddress":"10.1.2.3"}"#, true);
    check(&r, r#"{"sourceIPAddress":"11.1.2.3"}"#, false);
    check(&r, r#"{"sourceIPAddress":"2001:db8:1::5"}"#, true);
    check(&r, r#"{"sourceIPAddress":"2001:db9::5"}"#, false);
    check(&r, r#"{"sourceIPAddress":"::ffff:10.9.9.9"}"#, true);
    check(&r, r#"{"sourceIPAddress":"AWS Internal"}"#, false);
    check(&rule("  ip|cidr: 0.0.0.0/0"), r#"{"ip":"8.8.8.8"}"#, true);
    check(
        &rule("  ip|cidr: 192.168.1.7"),
        r#"{"ip":"192.168.1.7"}"#,
        true,
    );
    check(
        &rule("  ip|cidr: 192.168.1.7"),
        r#"{"ip":"192.168.1.8"}"#,
        false,
    );
    refuse(&rule("  ip|cidr: 10.0.0.0/33"), "invalid network");
}

#[test]
fn exists_and_null() {
    let yes = rule("  errorCode|exists: true");
    check(&yes, r#"{"errorCode":"AccessDenied"}"#, true);
    check(&yes, r#"{}"#, false);
    check(&yes, r#"{"errorCode":null}"#, false);
    let no = rule("  errorCode|exists: false");
    check(&no, r#"{}"#, true);
    check(&no, r#"{"errorCode":"x"}"#, false);
    let null = rule("  errorCode: null");
    check(&null, r#"{}"#, true);
    check(&null, r#"{"errorCode":null}"#, true);
    check(&null, r#"{"errorCode":""}"#, false);
    check(&null, r#"{"errorCode":"AccessDenied"}"#, false);
    let either = rule("  errorCode:\n    - null\n    - Success");
    check(&either, r#"{"errorCode":"success"}"#, true);
    check(&either, r#"{}"#, true);
    check(&either, r#"{"errorCode":"Denied"}"#, false);
    // Empty string is a value, not null.
    check(&rule("  a: ''"), r#"{"a":""}"#, true);
    check(&rule("  a: ''"), r#"{}"#, false);
    refuse(&rule("  a|exists: yes please"), "`exists` takes");
}

#[test]
fn fieldref() {
    let r = rule("  userIdentity.userName|fieldref: requestParameters.userName");
    check(
        &r,
        r#"{"userIdentity":{"userName":"Bob"},"requestParameters":{"userName":"bob"}}"#,
        true,
    );
    check(
        &r,
        r#"{"userIdentity":{"userName":"bob"},"requestParameters":{"userName":"eve"}}"#,
        false,
    );
    check(&r, r#"{"userIdentity":{"userName":"bob"}}"#, false);
}

#[test]
fn dotted_paths_arrays_and_objects() {
    let r = rule("  requestParameters.containerDefinitions.command|contains: CREDENTIALS_RELATIVE");
    let rec = r#"{"requestParameters":{"containerDefinitions":[
        {"command":["sh","-c","echo hi"]},
        {"command":["sh","-c","curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]}]}}"#;
    check(&r, rec, true);
    check(
        &r,
        r#"{"requestParameters":{"containerDefinitions":[{"command":["ls"]}]}}"#,
        false,
    );
    // `contains` on an object-valued field searches its compact JSON text.
    let obj = rule("  requestParameters|contains: 'Suspended'");
    check(
        &obj,
        r#"{"requestParameters":{"VersioningConfiguration":{"Status":"Suspended"}}}"#,
        true,
    );
    check(
        &obj,
        r#"{"requestParameters":{"VersioningConfiguration":{"Status":"Enabled"}}}"#,
        false,
    );
    let json_text = rule("  requestParameters|contains: '\"Status\":\"Suspended\"'");
    check(
        &json_text,
        r#"{"requestParameters":{"Status":"Suspended"}}"#,
        true,
    );
    // Arrays of scalars: any element.
    let layers = rule("  requestParameters.layers|contains: 'evil'");
    check(
        &layers,
        r#"{"requestParameters":{"layers":["arn:ok","arn:EVIL:1"]}}"#,
        true,
    );
    check(&layers, r#"{"requestParameters":{"layers":[]}}"#, false);
    // A missing intermediate object is just absent.
    check(&rule("  a.b.c: x"), r#"{"a":"flat"}"#, false);
    check(&rule("  a.b.c: null"), r#"{"a":{}}"#, true);
}

#[test]
fn keywords_match_anywhere() {
    let r = "keywords:\n  - trufflehog\n  - 'kali*linux'\ncondition: keywords\n";
    check(r, r#"{"userAgent":"TruffleHog v3","x":1}"#, true);
    check(r, r#"{"a":{"b":["x","Kali GNU/Linux"]}}"#, true);
    check(r, r#"{"userAgent":"aws-cli"}"#, false);
    let one = "kw: GetObject\ncondition: kw\n";
    check(one, r#"{"eventName":"getobject"}"#, true);
    // Keys are not values.
    check(one, r#"{"GetObject":1}"#, false);
    let mixed = "sel:\n  eventName: A\nkw:\n  - needle\ncondition: sel and kw\n";
    check(mixed, r#"{"eventName":"A","z":"a needle here"}"#, true);
    check(mixed, r#"{"eventName":"A","z":"nothing"}"#, false);
}

#[test]
fn conditions() {
    let base = "s1:\n  a: 1\ns2:\n  b: 2\nf_x:\n  c: 3\nf_y:\n  d: 4\n_hidden:\n  e: 5\n";
    let cases: &[(&str, &str, bool)] = &[
        ("s1 and s2", r#"{"a":1,"b":2}"#, true),
        ("s1 and s2", r#"{"a":1}"#, false),
        ("s1 or s2", r#"{"b":2}"#, true),
        ("s1 and not s2", r#"{"a":1,"b":2}"#, false),
        ("s1 and not s2", r#"{"a":1}"#, true),
        ("not s1", r#"{}"#, true),
        ("not not s1", r#"{"a":1}"#, true),
        ("s1 or s2 and f_x", r#"{"a":1}"#, true),
        ("(s1 or s2) and f_x", r#"{"a":1}"#, false),
        ("(s1 or s2) and f_x", r#"{"b":2,"c":3}"#, true),
        ("s1 and not (f_x or f_y)", r#"{"a":1,"d":4}"#, false),
        ("s1 and not 1 of f_*", r#"{"a":1,"d":4}"#, false),
        ("s1 and not 1 of f_*", r#"{"a":1}"#, true),
        ("all of f_*", r#"{"c":3}"#, false),
        ("all of f_*", r#"{"c":3,"d":4}"#, true),
        ("1 of them", r#"{"d":4}"#, true),
        ("1 of them", r#"{"e":5}"#, false),
        ("all of them", r#"{"a":1,"b":2,"c":3,"d":4}"#, true),
        ("all of them", r#"{"a":1,"b":2,"c":3}"#, false),
        ("1 of s*", r#"{"b":2}"#, true),
        ("s1 AND NOT s2", r#"{"a":1}"#, true),
        ("1 of *_x", r#"{"c":3}"#, true),
    ];
    for (cond, rec, expect) in cases {
        check(&format!("{base}condition: {cond}\n"), rec, *expect);
    }
    // A list of conditions is their OR.
    check(
        &format!("{base}condition:\n  - s1\n  - s2\n"),
        r#"{"b":2}"#,
        true,
    );
}

#[test]
fn refusals_name_the_construct() {
    let base = "sel:\n  a: 1\n";
    refuse(
        &format!("{base}condition: sel | count() by x > 5\n"),
        "aggregation `count()`",
    );
    refuse(
        &format!("{base}condition: sel | count(x) > 5\n"),
        "aggregation `count(x)`",
    );
    refuse(&format!("{base}condition: sel near sel\n"), "`near`");
    refuse(
        &format!("{base}timeframe: 5m\ncondition: sel\n"),
        "`timeframe`",
    );
    refuse(
        &rule("  a|base64offset|contains: x"),
        "unsupported modifier `base64offset`",
    );
    refuse(&rule("  a|windash: x"), "unsupported modifier `windash`");
    refuse(&rule("  a|i: x"), "unsupported modifier `i`");
    refuse(
        &rule("  a|contains|startswith: x"),
        "`contains` and `startswith`",
    );
    refuse(&rule("  a|re|contains: x"), "`contains` with `re`");
    refuse(
        &format!("{base}condition: sel and other\n"),
        "unknown selection `other`",
    );
    refuse(
        &format!("{base}condition: 1 of nothing*\n"),
        "names no selection",
    );
    refuse(&format!("{base}condition: (sel\n"), "missing `)`");
    refuse(&format!("{base}condition: sel sel\n"), "unexpected `sel`");
    refuse(&format!("{base}condition: 2 of sel*\n"), "`2 of`");
    refuse(base, "no `condition`");
    refuse("sel: {}\ncondition: sel\n", "empty map");
    refuse("sel:\n  a: [[1]]\ncondition: sel\n", "scalars");
}

#[test]
fn index_of_event_names_and_sources() {
    let m = compile(
        "sel:\n  eventSource: cloudtrail.amazonaws.com\n  eventName:\n    - StopLogging\n    - DeleteTrail\ncondition: sel\n",
    )
    .unwrap();
    assert_eq!(
        m.event_names(),
        Some(&["deletetrail".to_string(), "stoplogging".to_string()][..])
    );
    assert_eq!(
        m.event_sources(),
        Some(&["cloudtrail.amazonaws.com".to_string()][..])
    );
    // Wildcards, modifiers and negations can't be indexed.
    let m = compile("sel:\n  eventName|startswith: Delete\ncondition: sel\n").unwrap();
    assert_eq!(m.event_names(), None);
    let m = compile("sel:\n  eventName: A\ncondition: not sel\n").unwrap();
    assert_eq!(m.event_names(), None);
    // OR needs every branch pinned; AND needs one.
    let m = compile("a:\n  eventName: A\nb:\n  x: 1\ncondition: a or b\n").unwrap();
    assert_eq!(m.event_names(), None);
    let m = compile("a:\n  eventName: A\nb:\n  x: 1\ncondition: a and not b\n").unwrap();
    assert_eq!(m.event_names(), Some(&["a".to_string()][..]));
    let m = compile("a:\n  - eventName: A\n  - eventName: B\ncondition: a\n").unwrap();
    assert_eq!(m.event_names().map(<[String]>::len), Some(2));
    let m = compile("a:\n  - eventName: A\n  - x: B\ncondition: a\n").unwrap();
    assert_eq!(m.event_names(), None);
}

/// The SigmaHQ CloudTrail rules (Detection Rule License 1.1) are read from the shared
/// corpus next to the repository, never copied into it.
#[test]
fn all_sigmahq_cloudtrail_rules_compile() {
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/sigma"
    ));
    if !dir.exists() {
        eprintln!("skipping: {} not present", dir.display());
        return;
    }
    let mut count = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        count += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let rule: Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(rule["logsource"]["product"], "aws", "{}", path.display());
        assert_eq!(
            rule["logsource"]["service"],
            "cloudtrail",
            "{}",
            path.display()
        );
        if let Err(e) = SigmaMatcher::compile(&rule["detection"]) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "refused:\n{}", failures.join("\n"));
    assert_eq!(count, 57);
}

#[test]
fn logsource_and_document_checks() {
    let ls = |y: &str| applies_to_cloudtrail(Some(&serde_norway::from_str::<Value>(y).unwrap()));
    assert!(ls("product: aws\nservice: cloudtrail"));
    assert!(ls("product: AWS"));
    assert!(ls("category: anything"));
    assert!(!ls("product: aws\nservice: s3"));
    assert!(!ls("product: windows\ncategory: process_creation"));
    assert!(!ls("service: sysmon"));
    assert!(applies_to_cloudtrail(None));
    let doc = |y: &str| {
        let doc = serde_norway::from_str::<Value>(y).unwrap();
        check_rule_kinds(doc.get("correlation"), doc.get("action"))
    };
    assert!(doc("title: x\ndetection: {}").is_ok());
    assert!(doc("title: x\ncorrelation:\n  type: event_count")
        .unwrap_err()
        .to_string()
        .contains("correlation rule"));
    assert!(doc("action: global")
        .unwrap_err()
        .to_string()
        .contains("`action: global`"));
}

#[test]
fn text_prefilter_never_drops_a_match() {
    let cases: &[(&str, &str)] = &[
        (
            "sel:\n  userIdentity.type: Root\ncondition: sel\n",
            r#"{"userIdentity":{"type":"ROOT"}}"#,
        ),
        (
            "sel:\n  errorCode: ['*UnauthorizedOperation', 'AccessDenied*']\ncondition: sel\n",
            r#"{"errorCode":"Client.UnauthorizedOperation"}"#,
        ),
        (
            "sel:\n  p|contains: '\"Status\":\"Suspended\"'\ncondition: sel\n",
            r#"{"p": {"Status": "Suspended"}}"#,
        ),
        (
            "sel:\n  a|contains|all: [xyz, abc]\ncondition: sel\n",
            r#"{"a":"ABC-XYZ"}"#,
        ),
        ("sel:\n  a: 'x/y:z'\ncondition: sel\n", r#"{"a":"x/Y:z"}"#),
        (
            "sel:\n  p|contains: 'a\":1'\ncondition: sel\n",
            r#"{"p": {"a": 1}}"#,
        ),
        (
            "sel:\n  a|re: '.+:assumed-role/aws:.+'\ncondition: sel\n",
            r#"{"a":"arn:aws:sts::1:assumed-role/aws:ec2/i"}"#,
        ),
        (
            "sel:\n  a|re: 'ab+c?d'\ncondition: sel\n",
            r#"{"a":"xabbbd"}"#,
        ),
        ("sel:\n  a|re|i: 'x*yz'\ncondition: sel\n", r#"{"a":"YZ"}"#),
        ("sel:\n  a|re: 'xa+*'\ncondition: sel\n", r#"{"a":"x"}"#),
        ("sel:\n  a: 'café'\ncondition: sel\n", r#"{"a":"CAFÉ"}"#),
    ];
    for (yaml, text) in cases {
        let m = compile(yaml).unwrap();
        let record: Value = serde_json::from_str(text).unwrap();
        assert!(m.matches(&record), "{yaml}");
        assert!(plain(text.as_bytes()));
        assert!(m.may_match_text(text.as_bytes()), "{yaml} on {text}");
    }
    // It does drop what cannot match, and steps aside for `\u` escapes.
    let m = compile("sel:\n  userIdentity.type: Root\ncondition: sel\n").unwrap();
    assert!(!m.may_match_text(br#"{"userIdentity":{"type":"IAMUser"}}"#));
    assert!(!plain(br#"{"userIdentity":{"type":"\u0052oot"}}"#));
    assert!(!plain(br#"{"a":"x\/y"}"#));
    let m = compile("sel:\n  a|re: '.+:assumed-role/aws:.+'\ncondition: sel\n").unwrap();
    assert!(!m.may_match_text(br#"{"a":"arn:aws:sts::1:assumed-role/Admin/s"}"#));
    // Negations and null give no fragment: always tried.
    let m = compile("sel:\n  a: x\ncondition: not sel\n").unwrap();
    assert!(m.may_match_text(b"{}"));
    let m = compile("sel:\n  a: null\ncondition: sel\n").unwrap();
    assert!(m.may_match_text(b"{}"));
}
