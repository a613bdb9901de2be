//! `sensitive-tag`: an email address, phone number, card number or secret in a tag key or
//! value, or in a free-form name or description, of a call's request parameters.
//!
//! Tag shapes differ per service: `{"k":"v"}`, `[{"key","value"}]`, `[{"Key","Value"}]`,
//! `[{"tagKey","tagValue"}]`, `tagSet.items`, `tagSpecificationSet.items[].tags`,
//! `Tagging.TagSet.Tag`, `tagKeys`. Anything under a tag-named key is read for these pairs.

use super::Detector;
use crate::finding::Finding;
use crate::record::Record;
use crate::redact;
use crate::sensitive::{is_placeholder, is_secret_name, scan_text, Hit, Kind};
use crate::severity::Severity;
use regex::bytes::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

pub const ID: &str = "sensitive-tag";

/// Raw request text that may hold tags, names or descriptions.
static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"[tT]ag|"(?:[nN]ame|[dD]isplayName)"|escription"|\\u00"#).expect("marker")
});

const KEY_FIELDS: &[&str] = &["key", "Key", "tagKey", "TagKey"];
const VALUE_FIELDS: &[&str] = &["value", "Value", "tagValue", "TagValue"];
const RESOURCE_FIELDS: &[&str] = &[
    "resourceArn",
    "resourceARN",
    "ResourceARN",
    "ResourceArn",
    "resource",
    "Resource",
    "resourceName",
    "ResourceName",
    "resourceId",
    "ResourceId",
    "bucketName",
    "arn",
    "Arn",
];

pub struct SensitiveTag;

/// A text the detector reads, and where it was.
enum Item<'v> {
    TagKey(&'v str),
    TagValue { key: &'v str, value: &'v str },
    Field { name: &'v str, value: &'v str },
}

impl Detector for SensitiveTag {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let Some(raw) = record
            .request_parameters
            .filter(|r| MARKER.is_match(r.get().as_bytes()))
        else {
            return;
        };
        let Some(params) = Record::parse_part(Some(raw)) else {
            return;
        };
        let mut items = Vec::new();
        walk(&params, "", false, &mut items);
        if items.is_empty() {
            return;
        }
        report(record, &params, &items, out);
    }
}

fn is_tag_name(k: &str) -> bool {
    let l = k.to_ascii_lowercase();
    l.starts_with("tag")
        || l.ends_with("tags")
        || l.ends_with("tag")
        || l.ends_with("tagging")
        || l.contains("tagset")
        || l.contains("taglist")
        || l.contains("tagslist")
        || l.contains("tagspec")
}

/// Names of objects that are themselves a `{"key": "value"}` tag map.
fn is_tag_map_name(k: &str) -> bool {
    matches!(
        k.to_ascii_lowercase().as_str(),
        "tags" | "tagmap" | "tagstoadd" | "resourcetags" | "defaulttags" | "tagging"
    )
}

fn is_text_field(k: &str) -> bool {
    let l = k.to_ascii_lowercase();
    l == "name" || l == "displayname" || l.ends_with("description")
}

fn walk<'v>(v: &'v Value, key: &'v str, in_tags: bool, items: &mut Vec<Item<'v>>) {
    match v {
        Value::Object(map) => walk_object(map, key, in_tags, items),
        Value::Array(list) => {
            for x in list {
                match x {
                    Value::String(s) if in_tags && key.eq_ignore_ascii_case("tagkeys") => {
                        items.push(Item::TagKey(s))
                    }
                    _ => walk(x, key, in_tags, items),
                }
            }
        }
        Value::String(s) if !in_tags && is_text_field(key) => items.push(Item::Field {
            name: key,
            value: s,
        }),
        _ => {}
    }
}

fn walk_object<'v>(
    map: &'v Map<String, Value>,
    key: &'v str,
    in_tags: bool,
    items: &mut Vec<Item<'v>>,
) {
    let get = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| map.get(*n).and_then(Value::as_str))
    };
    if in_tags {
        if let Some(k) = get(KEY_FIELDS) {
            items.push(Item::TagKey(k));
            if let Some(value) = get(VALUE_FIELDS) {
                items.push(Item::TagValue { key: k, value });
            }
            return;
        }
        if is_tag_map_name(key) {
            for (k, v) in map {
                if let Some(value) = v.as_str() {
                    items.push(Item::TagKey(k));
                    items.push(Item::TagValue { key: k, value });
                }
            }
        }
    }
    for (k, v) in map {
        walk(v, k, in_tags || is_tag_name(k), items);
    }
}

/// The sensitive values of one item: what the text holds, and a secret under a secret-named key.
fn hits(item: &Item<'_>) -> Vec<Hit> {
    match *item {
        Item::TagKey(k) => scan_text(k),
        Item::Field { value, .. } => scan_text(value),
        Item::TagValue { key, value } => {
            let mut found = scan_text(value);
            let secret_named = is_secret_name(key) && !is_placeholder(value);
            if found.is_empty() && secret_named && value.trim().chars().count() >= 6 {
                found.push(Hit {
                    kind: Kind::Token,
                    hint: redact::secret(value),
                    raw: value.to_owned(),
                });
            }
            found
        }
    }
}

fn report<'r>(
    record: &'r Record<'_>,
    params: &Value,
    items: &[Item<'_>],
    out: &mut Vec<Finding<'r>>,
) {
    let found: Vec<(&Item<'_>, Hit)> = items
        .iter()
        .flat_map(|i| hits(i).into_iter().map(move |h| (i, h)))
        .collect();
    let secrets: Vec<String> = found.iter().map(|(_, h)| h.raw.clone()).collect();
    let shown_key = |k: &str| {
        let s = redact::scrub(k, &secrets);
        s.chars().take(100).collect::<String>()
    };
    let ec2_resource = params.pointer("/resourcesSet/items/0/resourceId");
    let resource = RESOURCE_FIELDS
        .iter()
        .find_map(|f| params.get(*f))
        .or(ec2_resource)
        .and_then(Value::as_str)
        .map(|r| redact::scrub(r, &secrets));
    let mut seen: Vec<(String, String)> = Vec::new();
    for (item, hit) in found {
        let (target, place) = match *item {
            Item::TagKey(k) => (format!("tag:{}", shown_key(k)), "tag key".to_owned()),
            Item::TagValue { key, .. } => {
                let k = shown_key(key);
                (format!("tag:{k}"), format!("value of tag \"{k}\""))
            }
            Item::Field { name, .. } => (format!("field:{name}"), format!("field {name}")),
        };
        if seen.contains(&(target.clone(), hit.raw.clone())) {
            continue;
        }
        seen.push((target.clone(), hit.raw.clone()));
        let on = resource
            .as_deref()
            .map(|r| format!(" on {r}"))
            .unwrap_or_default();
        let kind = hit.kind.as_str();
        let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        let summary = format!(
            "{} put {article} {kind} ({}) in the {place}{on}",
            record.event_name(),
            hit.hint
        );
        let mut f = Finding::new(ID, Severity::Low, record, target.clone(), summary)
            .with("kind", hit.kind.as_str())
            .with("hint", hit.hint.clone())
            .with("where", place);
        if let Some(r) = &resource {
            f = f.with("resource", r.clone());
        }
        out.push(redact::seal(f, &secrets));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(params: &str) -> Vec<Finding<'static>> {
        let text = format!(r#"{{"eventName":"TagResource","requestParameters":{params}}}"#);
        crate::detectors::findings_in(&mut SensitiveTag, text.as_bytes()).unwrap()
    }

    #[test]
    fn every_tag_shape() {
        for params in [
            r#"{"resource":"arn:aws:lambda:us-east-1:1:function:f","tags":{"Owner":"jane.doe@example.com"}}"#,
            r#"{"tags":[{"key":"Owner","value":"jane.doe@example.com"}]}"#,
            r#"{"Tags":[{"Key":"Owner","Value":"jane.doe@example.com"}]}"#,
            r#"{"tags":[{"tagKey":"Owner","tagValue":"jane.doe@example.com"}]}"#,
            r#"{"resourcesSet":{"items":[{"resourceId":"i-1"}]},"tagSet":{"items":[{"key":"Owner","value":"jane.doe@example.com"}]}}"#,
            r#"{"tagSpecificationSet":{"items":[{"resourceType":"instance","tags":[{"key":"Owner","value":"jane.doe@example.com"}]}]}}"#,
            r#"{"bucketName":"b","Tagging":{"TagSet":{"Tag":{"Key":"Owner","Value":"jane.doe@example.com"}}}}"#,
            r#"{"Tagging":{"TagSet":{"Tag":[{"Key":"Owner","Value":"jane.doe@example.com"}]}}}"#,
        ] {
            let out = run(params);
            assert_eq!(out.len(), 1, "{params}");
            assert_eq!(out[0].target, "tag:Owner");
            let text = serde_json::to_string(&out[0]).unwrap();
            assert!(
                !text.contains("jane.doe") && text.contains("j***@example.com"),
                "{text}"
            );
        }
    }

    #[test]
    fn keys_names_and_secrets() {
        let out = run(r#"{"tagKeys":["jane.doe@example.com"]}"#);
        assert_eq!(out[0].target, "tag:****");
        let out = run(r#"{"name":"pay","description":"test card 4111 1111 1111 1111"}"#);
        assert_eq!((out.len(), &*out[0].target), (1, "field:description"));
        let out = run(r#"{"tags":{"db_password":"Winter2026!"}}"#);
        assert!(
            out[0].summary_text().contains("secret") && !out[0].summary_text().contains("Winter")
        );
    }

    #[test]
    fn near_misses_are_quiet() {
        for params in [
            r#"{"tags":[{"key":"StratusRedTeam","value":"true"}]}"#,
            r#"{"tags":{"CreatedBy":"arn:aws:sts::111122223333:assumed-role/Admin/jane@example.com"}}"#,
            r#"{"tags":[{"key":"AKIAIOSFODNN7EXAMPLE","value":"laptop key"}]}"#,
            r#"{"tags":[{"key":"HIDDEN_DUE_TO_SECURITY_REASONS","value":"HIDDEN_DUE_TO_SECURITY_REASONS"}]}"#,
            r#"{"tags":{"secret-arn":"arn:aws:secretsmanager:us-east-1:1:secret:x","token":"true"}}"#,
            r#"{"userName":"jane@example.com","filterSet":{"items":[{"name":"vpc-id"}]},"stage":{"name":"prod"}}"#,
            r#"{"tags":{"CostCenter":"4111-2222","Build":"1722375070115152000","Date":"2026-11-28"}}"#,
        ] {
            assert!(run(params).is_empty(), "{params}");
        }
    }
}
