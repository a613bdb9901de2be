//! Rules, filters and accounts files that update without a redeploy:
//! `DETECTORS_URI=s3://bucket/prefix/`.
//!
//! At init every rule file under the prefix (`*.yml`, `*.yaml`, `accounts.csv`; not in
//! sub-folders) loads on top of the built-in detectors and the layer's. Before an invocation,
//! at most every [`CHECK_EVERY`], the prefix is listed again: when an ETag changed, the whole
//! set is read and built anew. A set that does not load as a whole keeps the last good one in
//! force, and one `config-error` alert names the file and the reason (once per broken set).

use super::config::Config;
use super::handler::Handler;
use super::ingest::operational;
use super::publish::{publish_all, AlertSink};
use super::s3::{describe, ObjectSource};
use super::sns;
use crate::alert::id::alert_id;
use crate::alert::severity::Severity;
use crate::alert::{Alert, Source};
use crate::redact::{self, Redacted};
use crate::rules::catalog::{Catalog, CatalogError};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How often, at most, the prefix is listed for changes.
pub const CHECK_EVERY: Duration = Duration::from_secs(300);
/// The detector id of the operational alert for a rule file that does not load.
pub const CONFIG_ERROR: &str = "config-error";

/// Where the rules are: a bucket and a key prefix (empty, or ending in `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleUri {
    /// The bucket.
    pub bucket: String,
    /// The key prefix.
    pub prefix: String,
}

/// A `DETECTORS_URI` that is not `s3://bucket/prefix/`.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not s3://BUCKET/PREFIX/")]
pub struct BadUri(String);

impl FromStr for RuleUri {
    type Err = BadUri;
    fn from_str(s: &str) -> Result<RuleUri, BadUri> {
        let rest = s
            .trim()
            .strip_prefix("s3://")
            .ok_or_else(|| BadUri(s.into()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || bucket.contains(char::is_whitespace) {
            return Err(BadUri(s.into()));
        }
        let mut prefix = prefix.to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(RuleUri {
            bucket: bucket.into(),
            prefix,
        })
    }
}

/// Why the rule set was not (re)loaded: the reason names the file (`s3://bucket/key`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct RuleSourceError {
    /// The file, or the prefix when listing failed.
    pub file: String,
    /// What went wrong.
    pub reason: String,
}

impl RuleUri {
    fn name(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// The rule files under the prefix, with their ETags.
    async fn list(
        &self,
        s3: &aws_sdk_s3::Client,
    ) -> Result<BTreeMap<String, String>, RuleSourceError> {
        let mut out = BTreeMap::new();
        let mut pages = s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| RuleSourceError {
                file: self.name(&self.prefix),
                reason: format!("cannot list: {}", describe(&e)),
            })?;
            for o in page.contents() {
                let (Some(key), etag) = (o.key(), o.e_tag().unwrap_or_default()) else {
                    continue;
                };
                let rest = &key[self.prefix.len().min(key.len())..];
                let wanted =
                    rest.ends_with(".yml") || rest.ends_with(".yaml") || rest == "accounts.csv";
                if wanted && !rest.contains('/') {
                    out.insert(key.to_owned(), etag.to_owned());
                }
            }
        }
        Ok(out)
    }
}

/// The handler in force, rebuilt when the rule source changes.
pub struct Reloading<S, K> {
    uri: RuleUri,
    s3: aws_sdk_s3::Client,
    /// The built-in detectors and the layer's.
    base: Catalog,
    make: Box<dyn Fn(Catalog) -> Handler<S, K> + Send + Sync>,
    current: RwLock<Arc<Handler<S, K>>>,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    checked: Option<Instant>,
    /// Whether a set from the source is in force.
    loaded: bool,
    /// The listing of the set in force, and of the last broken one (alerted once).
    good: BTreeMap<String, String>,
    broken: Option<BTreeMap<String, String>>,
}

impl<S: ObjectSource, K: AlertSink> Reloading<S, K> {
    /// Starts from `base` (built-in and layer detectors); `make` builds a handler for a catalog.
    /// The rule source is read on the first [`Reloading::handler`] call.
    pub fn new(
        uri: RuleUri,
        s3: aws_sdk_s3::Client,
        base: Catalog,
        make: Box<dyn Fn(Catalog) -> Handler<S, K> + Send + Sync>,
    ) -> Reloading<S, K> {
        let current = RwLock::new(Arc::new(make(base.clone())));
        Reloading {
            uri,
            s3,
            base,
            make,
            current,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// The handler to serve with at `now`: first the rule source is checked, if due; a set
    /// that does not load publishes one `config-error` alert and leaves the handler as it was.
    pub async fn handler(&self, now: Instant) -> Arc<Handler<S, K>> {
        let mut state = self.state.lock().await;
        let due = state
            .checked
            .is_none_or(|t| now.saturating_duration_since(t) >= CHECK_EVERY);
        if due {
            state.checked = Some(now);
            if let Err(e) = self.check(&mut state).await {
                tracing::error!(file = %e.file, reason = %e.reason, "rule source not loaded: the last good set stays in force");
                let h = self.current();
                let alert = config_alert(&e, &self.uri);
                let message = sns::message(&alert, h.config.fifo());
                if let Err(e) = publish_all(&h.sink, &[message], h.backoff).await {
                    tracing::error!(error = %e, "config-error alert not published");
                }
            }
        }
        self.current()
    }

    fn current(&self) -> Arc<Handler<S, K>> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Lists, and when something changed, loads and swaps. `Err` once per broken listing.
    async fn check(&self, state: &mut State) -> Result<(), RuleSourceError> {
        let listing = self.uri.list(&self.s3).await?;
        if (state.loaded && listing == state.good) || state.broken.as_ref() == Some(&listing) {
            return Ok(());
        }
        match self.load(&listing).await {
            Ok(catalog) => {
                let files = listing.len();
                state.good = listing;
                state.broken = None;
                state.loaded = true;
                tracing::info!(
                    files,
                    detectors = catalog.descriptors.len(),
                    filters = catalog.filters.len(),
                    "rule source loaded"
                );
                *self.current.write().unwrap_or_else(|p| p.into_inner()) =
                    Arc::new((self.make)(catalog));
                Ok(())
            }
            Err(e) => {
                state.broken = Some(listing);
                Err(e)
            }
        }
    }

    /// Reads every listed file and builds the catalog: all of it, or an error.
    async fn load(&self, listing: &BTreeMap<String, String>) -> Result<Catalog, RuleSourceError> {
        let mut files = Vec::new();
        for key in listing.keys() {
            let name = self.uri.name(key);
            let fail = |reason: String| RuleSourceError {
                file: name.clone(),
                reason,
            };
            let got = self
                .s3
                .get_object()
                .bucket(&self.uri.bucket)
                .key(key)
                .send()
                .await;
            let body = got
                .map_err(|e| fail(format!("cannot read: {}", describe(&e))))?
                .body;
            let bytes = body
                .collect()
                .await
                .map_err(|e| fail(format!("cannot read: {e}")))?;
            let text =
                String::from_utf8(bytes.to_vec()).map_err(|_| fail("not UTF-8 text".into()))?;
            files.push((name, text));
        }
        let mut catalog = self.base.clone();
        let loaded = catalog
            .add_texts(&files)
            .and_then(|()| catalog.resolve_filters());
        loaded.map_err(|e| match e {
            CatalogError::Invalid { file, message } => RuleSourceError {
                file,
                reason: message,
            },
            CatalogError::Io { file, source } => RuleSourceError {
                file,
                reason: source.to_string(),
            },
        })?;
        Ok(catalog)
    }
}

/// What serves invocations: one handler for the life of the container, or one that follows
/// the rule source (`DETECTORS_URI`).
pub enum Serving<S, K> {
    /// Rules fixed at init.
    Fixed(Arc<Handler<S, K>>),
    /// Rules that follow the rule source.
    Reloading(Box<Reloading<S, K>>),
}

impl<S: ObjectSource, K: AlertSink> Serving<S, K> {
    /// A handler for `base` built by `make`, following `config`'s rule source if it has one.
    pub fn new(
        config: &Config,
        s3: &aws_sdk_s3::Client,
        base: Catalog,
        make: Box<dyn Fn(Catalog) -> Handler<S, K> + Send + Sync>,
    ) -> Serving<S, K> {
        match &config.detectors_uri {
            Some(uri) => Serving::Reloading(Box::new(Reloading::new(
                uri.clone(),
                s3.clone(),
                base,
                make,
            ))),
            None => Serving::Fixed(Arc::new(make(base))),
        }
    }

    /// The handler for an invocation starting at `now`.
    pub async fn handler(&self, now: Instant) -> Arc<Handler<S, K>> {
        match self {
            Serving::Fixed(h) => Arc::clone(h),
            Serving::Reloading(r) => r.handler(now).await,
        }
    }
}

/// The `config-error` operational alert for a rule set that did not load.
pub fn config_alert(e: &RuleSourceError, uri: &RuleUri) -> Redacted<Alert> {
    let mut evidence = serde_json::Map::new();
    evidence.insert("file".into(), e.file.clone().into());
    evidence.insert("reason".into(), e.reason.clone().into());
    let key = e
        .file
        .strip_prefix(&format!("s3://{}/", uri.bucket))
        .unwrap_or(&e.file);
    let source = Source::Object {
        bucket: uri.bucket.clone(),
        key: key.to_owned(),
    };
    let mut alert = operational(
        CONFIG_ERROR,
        alert_id(&[CONFIG_ERROR, &e.file, &e.reason]),
        source,
    );
    alert.title = "Detector files could not be loaded".into();
    alert.severity = Severity::High;
    alert.summary = format!("{e}; the last good set of rules and filters stays in force");
    alert.evidence = evidence;
    alert.remediation = "Fix or remove the file (`trailwatch detectors check DIR` says why it \
                         is refused); the next check loads the set."
        .into();
    redact::alert(alert)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_the_alert_that_names_the_file() {
        let u: RuleUri = "s3://tuning/rules".parse().unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("tuning", "rules/"));
        let root: RuleUri = "s3://tuning".parse().unwrap();
        assert_eq!(root.prefix, "");
        for bad in [
            "tuning/rules/",
            "s3:///rules/",
            "https://tuning/rules/",
            "s3://my bucket/",
        ] {
            assert!(bad.parse::<RuleUri>().is_err(), "{bad}");
        }
        let e = RuleSourceError {
            file: "s3://tuning/rules/broken.yml".into(),
            reason: "did not find expected node content".into(),
        };
        let a = config_alert(&e, &u);
        assert_eq!(
            (a.detector.as_str(), a.severity),
            (CONFIG_ERROR, Severity::High)
        );
        assert!(
            a.summary
                .starts_with("s3://tuning/rules/broken.yml: did not find"),
            "{}",
            a.summary
        );
        assert_eq!(
            a.source,
            Source::Object {
                bucket: "tuning".into(),
                key: "rules/broken.yml".into()
            }
        );
        assert_eq!(a.id, config_alert(&e, &u).id, "the same fault, the same id");
    }
}
