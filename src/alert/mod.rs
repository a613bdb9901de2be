//! Alerts: the findings of one detector about one subject in one delivery, merged.
//!
//! The alert id hashes detector, subject and source object, so a re-delivered file yields the
//! same ids and subscribers can drop duplicates.

pub(crate) mod builder;
pub(crate) mod calls;
pub(crate) mod evidence;
pub(crate) mod finding;
pub(crate) mod id;
mod overflow;
pub(crate) mod resources;
pub(crate) mod severity;
pub(crate) mod time;

pub use builder::AlertBuilder;
pub mod related;
use calls::Calls;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use severity::Severity;

pub const SCHEMA: &str = "trailwatch.alert.v1";
/// Event ids kept per alert; `count` still counts them all.
pub const MAX_EVENT_IDS: usize = 20;
/// Distinct source addresses and user agents kept per alert.
pub const MAX_ORIGINS: usize = 10;
/// Distinct event names kept per alert.
const MAX_EVENT_NAMES: usize = 20;

/// Where the delivery came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// An S3 object.
    Object {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// A local file (or `-`).
    File {
        /// The name as given.
        file: String,
    },
    /// A correlation alert: the `eventTime` window it is about (it spans deliveries).
    Window {
        /// The window's start.
        start: String,
        /// The window's end (exclusive).
        end: String,
    },
}

impl Source {
    /// Where the alert came from, for a reader: `s3://bucket/key`, the file as given, or the
    /// correlation window.
    pub fn location(&self) -> String {
        match self {
            Source::Object { bucket, key } => format!("s3://{bucket}/{key}"),
            Source::File { file } => file.clone(),
            Source::Window { start, end } => format!("window {start} to {end}"),
        }
    }

    pub(crate) fn identity(&self) -> String {
        match self {
            Source::Object { bucket, key } => format!("s3://{bucket}/{key}"),
            Source::File { file } => format!("file:{file}"),
            Source::Window { start, end } => format!("window:{start}/{end}"),
        }
    }
}

/// What an alert says about its detector (from the detector's descriptor).
#[derive(Debug, Clone, Default)]
pub struct DetectorMeta {
    pub title: String,
    pub remediation: String,
    /// Remediations by resource type (evidence `resource_type`), where the general one does not
    /// fit.
    pub remediation_by: std::collections::BTreeMap<String, String>,
    pub references: Vec<String>,
    /// The descriptor's tags (`attack.t1562.008`, `cis.aws.4.5`): ASFF types, OCSF types.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
/// One alert: the findings of one detector about one subject in one delivery, merged.
/// Read back (a deduplication window's first alert, kept between deliveries), the fields
/// that are not serialized are empty, and `subject` is the caller's to set.
pub struct Alert {
    /// The schema, [`SCHEMA`].
    #[serde(skip_deserializing, default = "this_schema")]
    pub schema: &'static str,
    /// Hash of detector, subject and source: the same for a re-delivered file.
    pub id: String,
    /// The detector id.
    pub detector: String,
    /// The detector's title.
    pub title: String,
    /// The most severe finding's severity.
    pub severity: Severity,
    /// One line for a human: the most severe finding's, naming the calls when several.
    pub summary: String,
    /// The account the calls were recorded in.
    pub account: String,
    /// The account's name, from an accounts file (left out when unknown).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account_name: String,
    /// The account's environment (`prod`, `sandbox` ...), from an accounts file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub environment: String,
    /// The region of the first call.
    pub region: String,
    /// Who made the calls.
    pub principal: String,
    /// Where the first call came from.
    pub source_ip: String,
    /// The user agent of the first call.
    pub user_agent: String,
    /// The distinct source addresses of the calls, first seen first, up to [`MAX_ORIGINS`]
    /// (left out when the calls came from one).
    #[serde(default, skip_serializing_if = "at_most_one")]
    pub source_ips: Vec<String>,
    /// The distinct user agents of the calls, as `source_ips`.
    #[serde(default, skip_serializing_if = "at_most_one")]
    pub user_agents: Vec<String>,
    /// The earliest `eventTime`.
    pub first_seen: String,
    /// The latest `eventTime`.
    pub last_seen: String,
    /// How many findings were merged.
    pub count: u64,
    /// The first [`MAX_EVENT_IDS`] event ids.
    pub event_ids: Vec<String>,
    /// The distinct event names, in order of first appearance.
    pub event_names: Vec<String>,
    /// Details of the most severe finding, masked.
    pub evidence: Map<String, Value>,
    /// What to do (from the detector's descriptor).
    pub remediation: String,
    /// Where to read more (from the detector's descriptor).
    pub references: Vec<String>,
    /// The delivery the alert came from.
    pub source: Source,
    /// The detector's tags (from its descriptor); not in the alert JSON, whose shape is fixed.
    #[serde(skip)]
    pub tags: Vec<String>,
    /// The distinct calls, with counts and failures (in the summary, not a field of its own).
    #[serde(skip)]
    pub calls: Calls,
    /// What the alert is about, whatever the delivery: a hash of detector and subject
    /// (principal and target, or a correlation's group). Deduplication windows key on it.
    #[serde(skip)]
    pub subject: String,
    /// Set when the alert was cut down to fit a transport limit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// The other alerts of the delivery raised by one of the same calls ([`related::link`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<related::Related>,
}

/// [`SCHEMA`], whatever an alert read back says.
fn this_schema() -> &'static str {
    SCHEMA
}

/// An operational alert (medium, one event) with only its detector, id and source: the caller
/// fills in title, summary, evidence and the rest.
#[cfg_attr(not(feature = "lambda"), allow(dead_code))]
pub fn operational(detector: &str, id: String, source: Source) -> Alert {
    Alert {
        schema: SCHEMA,
        id,
        subject: String::new(),
        detector: detector.into(),
        title: String::new(),
        severity: Severity::Medium,
        summary: String::new(),
        account: String::new(),
        account_name: String::new(),
        environment: String::new(),
        region: String::new(),
        principal: String::new(),
        source_ip: String::new(),
        user_agent: String::new(),
        source_ips: Vec::new(),
        user_agents: Vec::new(),
        first_seen: String::new(),
        last_seen: String::new(),
        count: 1,
        event_ids: Vec::new(),
        event_names: Vec::new(),
        evidence: Map::new(),
        remediation: String::new(),
        references: Vec::new(),
        source,
        tags: Vec::new(),
        calls: Default::default(),
        truncated: false,
        related: Vec::new(),
    }
}

fn at_most_one(v: &[String]) -> bool {
    v.len() <= 1
}
