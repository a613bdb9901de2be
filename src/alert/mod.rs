//! Alerts: the findings of one detector about one subject in one delivery, merged.
//!
//! The alert id hashes detector, subject and source object, so a re-delivered file yields the
//! same ids and subscribers can drop duplicates.

mod builder;
pub mod calls;
pub mod evidence;
pub mod finding;
pub mod id;
pub mod severity;

pub use builder::AlertBuilder;
use calls::Calls;
use serde::Serialize;
use serde_json::{Map, Value};
use severity::Severity;

pub const SCHEMA: &str = "trailwatch.alert.v1";
/// Event ids kept per alert; `count` still counts them all.
pub const MAX_EVENT_IDS: usize = 20;
/// Distinct event names kept per alert.
const MAX_EVENT_NAMES: usize = 20;

/// Where the delivery came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Source {
    Object {
        bucket: String,
        key: String,
    },
    File {
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
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub schema: &'static str,
    pub id: String,
    pub detector: String,
    pub title: String,
    pub severity: Severity,
    pub summary: String,
    pub account: String,
    pub region: String,
    pub principal: String,
    pub source_ip: String,
    pub user_agent: String,
    pub first_seen: String,
    pub last_seen: String,
    pub count: u64,
    pub event_ids: Vec<String>,
    pub event_names: Vec<String>,
    pub evidence: Map<String, Value>,
    pub remediation: String,
    pub references: Vec<String>,
    pub source: Source,
    /// The distinct calls, with counts and failures (in the summary, not a field of its own).
    #[serde(skip)]
    pub calls: Calls,
    /// What the alert is about, whatever the delivery: a hash of detector and subject
    /// (principal and target, or a correlation's group). Deduplication windows key on it.
    #[serde(skip)]
    pub subject: String,
    /// Set when the alert was cut down to fit a transport limit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}
