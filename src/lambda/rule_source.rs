//! Rules, filters and accounts files that update without a redeploy:
//! `DETECTORS_URI=s3://bucket/prefix/`.
//!
//! At init every rule file under the prefix (`*.yml`, `*.yaml`, `accounts.csv`; not in
//! sub-folders) loads on top of the built-in detectors and the layer's. Before an invocation,
//! at most every [`CHECK_EVERY`], the prefix is listed again: when an ETag changed, the whole
//! set is read and built anew. A set that does not load as a whole keeps the last good one in
//! force, and one `config-error` alert names the file and the reason (once per broken set).

pub use super::config::{BadUri, RuleUri};
use super::retry::describe;
use crate::alert::id::alert_id;
use crate::alert::operational;
use crate::alert::severity::Severity;
use crate::alert::{Alert, Source};
use crate::redact::{self, Redacted};
use crate::rules::catalog::{Catalog, CatalogError};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How often, at most, the prefix is listed for changes.
pub const CHECK_EVERY: Duration = Duration::from_secs(300);
/// The detector id of the operational alert for a rule file that does not load.
pub use crate::stage::CONFIG_ERROR;

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

/// The rule files of `DETECTORS_URI`, checked for changes at most every [`CHECK_EVERY`].
pub struct RuleSource {
    uri: RuleUri,
    s3: aws_sdk_s3::Client,
    /// The built-in detectors and the layer's.
    base: Catalog,
    checks: tokio::sync::Mutex<Checks>,
}

#[derive(Default)]
struct Checks {
    checked: Option<Instant>,
    /// Whether a set from the source is in force.
    loaded: bool,
    /// The listing of the set in force, and of the last broken one (alerted once).
    good: BTreeMap<String, String>,
    broken: Option<BTreeMap<String, String>>,
}

impl RuleSource {
    /// The files under `uri`, loaded on top of `base` (built-in and layer detectors). They
    /// are first read on the first [`RuleSource::refresh`].
    pub fn new(uri: RuleUri, s3: aws_sdk_s3::Client, base: Catalog) -> RuleSource {
        RuleSource {
            uri,
            s3,
            base,
            checks: tokio::sync::Mutex::new(Checks::default()),
        }
    }

    /// Where the rules are.
    pub fn uri(&self) -> &RuleUri {
        &self.uri
    }

    /// At `now`, if a check is due: the new catalog when the files changed and load as a
    /// whole; `Err` once per broken set (the set in force stays); `Ok(None)` otherwise.
    pub async fn refresh(&self, now: Instant) -> Result<Option<Catalog>, RuleSourceError> {
        let mut checks = self.checks.lock().await;
        let due = checks
            .checked
            .is_none_or(|t| now.saturating_duration_since(t) >= CHECK_EVERY);
        if !due {
            return Ok(None);
        }
        checks.checked = Some(now);
        self.check(&mut checks).await
    }

    /// Lists, and when something changed, loads. `Err` once per broken listing.
    async fn check(&self, state: &mut Checks) -> Result<Option<Catalog>, RuleSourceError> {
        let listing = self.uri.list(&self.s3).await?;
        if (state.loaded && listing == state.good) || state.broken.as_ref() == Some(&listing) {
            return Ok(None);
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
                Ok(Some(catalog))
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
