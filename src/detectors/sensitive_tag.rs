//! `sensitive-tag`: an email address, phone number, card number or secret in a tag key or
//! value, or in a free-form name or description, of a call's request parameters.
//!
//! Tag shapes differ per service: `{"k":"v"}`, `[{"key","value"}]`, `[{"Key","Value"}]`,
//! `[{"tagKey","tagValue"}]`, `tagSet.items`, `tagSpecificationSet.items[].tags`,
//! `Tagging.TagSet.Tag`, `tagKeys`. Anything under a tag-named key is read for these pairs.

use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::Record;
use crate::redact;
use crate::redact::sensitive::{is_placeholder, is_secret_name, scan_text, Hit, Kind};
use regex::bytes::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

pub const ID: &str = "sensitive-tag";

/// Raw request text that may hold tags, names or descriptions.
static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"[tT]ag|"(?:[nN]ame|[dD]isplayName)"|escription"|\\u00"#).expect("marker")
});

/// Free-form names users choose for what they create (lowercase), read on `Create*` calls:
/// a bucket, log group or queue name is copied everywhere the resource is listed.
const FREE_NAMES: &[&str] = &[
    "bucketname",
    "loggroupname",
    "logstreamname",
    "functionname",
    "rolename",
    "policyname",
    "tablename",
    "queuename",
    "topicname",
    "secretname",
    "parametername",
    "stackname",
    "clustername",
    "repositoryname",
    "streamname",
    "deliverystreamname",
    "statemachinename",
    "rulename",
    "alarmname",
    "dbinstanceidentifier",
    "dbclusteridentifier",
    "domainname",
    "keyname",
    "groupname",
];

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
        let creating = record.event_name().starts_with("Create");
        let Some(raw) = record
            .request_parameters
            .filter(|r| creating || MARKER.is_match(r.get().as_bytes()))
        else {
            return;
        };
        let Some(params) = Record::parse_part(Some(raw)) else {
            return;
        };
        let mut items = Vec::new();
        walk(
            &params,
            "",
            Walk {
                in_tags: false,
                names: creating,
            },
            &mut items,
        );
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

/// Where the walk is: under a tag-named key; reading the free-form names of a `Create*` call.
#[derive(Clone, Copy)]
struct Walk {
    in_tags: bool,
    names: bool,
}

fn is_text_field(k: &str, names: bool) -> bool {
    let l = k.to_ascii_lowercase();
    l == "name"
        || l == "displayname"
        || l.ends_with("description")
        || (names && FREE_NAMES.contains(&l.as_str()))
}

fn walk<'v>(v: &'v Value, key: &'v str, at: Walk, items: &mut Vec<Item<'v>>) {
    match v {
        Value::Object(map) => walk_object(map, key, at, items),
        Value::Array(list) => {
            for x in list {
                match x {
                    Value::String(s) if at.in_tags && key.eq_ignore_ascii_case("tagkeys") => {
                        items.push(Item::TagKey(s))
                    }
                    _ => walk(x, key, at, items),
                }
            }
        }
        Value::String(s) if !at.in_tags && is_text_field(key, at.names) => {
            items.push(Item::Field {
                name: key,
                value: s,
            })
        }
        _ => {}
    }
}

fn walk_object<'v>(map: &'v Map<String, Value>, key: &'v str, at: Walk, items: &mut Vec<Item<'v>>) {
    let in_tags = at.in_tags;
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
        let inner = Walk {
            in_tags: in_tags || is_tag_name(k),
            ..at
        };
        walk(v, k, inner, items);
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
#[path = "sensitive_tag_tests.rs"]
mod tests;
