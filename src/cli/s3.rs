//! `replay s3://bucket/prefix/`: lists deliveries by CloudTrail's key layout, narrowed by the
//! [`KeyFilter`], and streams each object through the same reader as the Lambda. Credentials
//! and region come from the standard chain (`--profile` like the AWS CLI); `AWS_ENDPOINT_URL`
//! works for local servers.

use super::inputs::{Input, Remote};
use super::s3_keys::{parse_url, KeyFilter};
use crate::lambda::s3::{describe, S3Source};
use crate::lambda::{ObjectRef, ObjectSource, SourceError};
use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Mutex;

/// Lists and reads S3 for replay, on its own async runtime.
pub struct S3Remote {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
    source: S3Source,
    filter: KeyFilter,
    today: i64,
    /// What the listings met at each level of the key layout (said when nothing matched).
    seen: Mutex<Seen>,
    /// `--verify`: digest files are listed too, and their signatures checked.
    digests: Option<crate::lambda::keys::KeyCache>,
}

/// The accounts, regions and day folders a listing met.
#[derive(Debug, Default)]
struct Seen {
    accounts: BTreeSet<String>,
    regions: BTreeSet<String>,
    days: usize,
}

impl Seen {
    fn note(&self) -> String {
        let list = |set: &BTreeSet<String>| {
            let all: Vec<&str> = set.iter().map(String::as_str).take(12).collect();
            let more = set.len().saturating_sub(all.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            if all.is_empty() {
                "none".to_owned()
            } else {
                format!("{}{more}", all.join(", "))
            }
        };
        format!(
            "the listing found accounts: {}; regions under the selected accounts: {}; {} day \
             folder{} of the selected range listed",
            list(&self.accounts),
            list(&self.regions),
            self.days,
            if self.days == 1 { "" } else { "s" }
        )
    }
}

/// The runtime could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the S3 client: {0}")]
pub struct StartError(#[from] std::io::Error);

impl S3Remote {
    /// A client from the standard chain (or `profile`), keeping keys that `filter` keeps;
    /// `today` (days since 1970-01-01) ends an open `--since` range.
    /// With `verify`, digest files are listed too.
    pub fn new(
        profile: Option<&str>,
        filter: KeyFilter,
        today: i64,
        verify: bool,
    ) -> Result<S3Remote, StartError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let shared = runtime.block_on(async {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(p) = profile {
                loader = loader.profile_name(p);
            }
            let shared = loader.load().await;
            if shared.region().is_none() {
                return aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .region(aws_config::Region::new("us-east-1"))
                    .load()
                    .await;
            }
            shared
        });
        let path_style = std::env::var_os("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty());
        let (client, _) = crate::lambda::clients(&shared, path_style);
        let keys = crate::lambda::keys::CloudTrailKeys::new(&shared);
        Ok(S3Remote {
            runtime,
            source: S3Source::new(client.clone()),
            client,
            filter,
            today,
            seen: Mutex::default(),
            digests: verify.then(|| crate::lambda::keys::KeyCache::new(Box::new(keys))),
        })
    }

    /// Keys and sizes under `prefix`, every level (no delimiter), or the common prefixes one
    /// level down (with `/`).
    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        levels: bool,
    ) -> Result<Vec<(String, u64)>, String> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_delimiter(levels.then(|| "/".to_owned()))
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|e| format!("s3://{bucket}/{prefix}: ListObjectsV2: {}", describe(&e)))?;
            if levels {
                out.extend(
                    page.common_prefixes()
                        .iter()
                        .filter_map(|p| p.prefix().map(|p| (p.to_owned(), 0))),
                );
            } else {
                out.extend(page.contents().iter().filter_map(|o| {
                    Some((o.key()?.to_owned(), o.size().unwrap_or(0).max(0) as u64))
                }));
            }
        }
        Ok(out)
    }

    /// The prefixes of the accounts under `root` (`.../AWSLogs/`), organization trails included.
    async fn accounts(&self, bucket: &str, root: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let seen = |name: &str| {
            self.note(|s| {
                s.accounts.insert(name.to_owned());
            })
        };
        for (p, _) in self.list(bucket, root, true).await? {
            let name = p[root.len()..].trim_end_matches('/');
            if name.starts_with("o-") {
                for (a, _) in self.list(bucket, &p, true).await? {
                    let account = a[p.len()..].trim_end_matches('/');
                    seen(account);
                    if self.filter.account(account) {
                        out.push(a);
                    }
                }
            } else {
                seen(name);
                if self.filter.account(name) {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }

    /// Notes what a listing met.
    fn note(&self, f: impl FnOnce(&mut Seen)) {
        if let Ok(mut seen) = self.seen.lock() {
            f(&mut seen);
        }
    }

    /// Every delivery under the `AWSLogs/` root, listing only the selected accounts, regions
    /// and days.
    async fn narrowed(&self, bucket: &str, root: &str) -> Result<Vec<(String, u64)>, String> {
        let mut out = Vec::new();
        for account in self.accounts(bucket, root).await? {
            // Log files; with `--verify`, digest files too (a quiet region has digests and
            // no log file).
            let mut folders = vec![(format!("{account}CloudTrail/"), true)];
            if self.digests.is_some() {
                folders.push((format!("{account}CloudTrail-Digest/"), false));
            }
            for (folder, logs) in folders {
                for (region, _) in self.list(bucket, &folder, true).await? {
                    let name = region[folder.len()..].trim_end_matches('/');
                    if logs {
                        self.note(|s| {
                            s.regions.insert(name.to_owned());
                        });
                    }
                    if !self.filter.region(name) {
                        continue;
                    }
                    match self.filter.day_prefixes(self.today) {
                        Some(days) => {
                            for day in days {
                                if logs {
                                    self.note(|s| s.days += 1);
                                }
                                let prefix = format!("{region}{day}");
                                out.extend(self.list(bucket, &prefix, false).await?);
                            }
                        }
                        None => out.extend(self.list(bucket, &region, false).await?),
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Remote for S3Remote {
    fn list(&self, url: &str) -> Result<Vec<Input>, String> {
        let (bucket, prefix) = parse_url(url).map_err(|e| e.why.to_owned())?;
        let root = if prefix.ends_with("AWSLogs/") {
            Some(prefix.clone())
        } else if (prefix.is_empty() || prefix.ends_with('/')) && !prefix.contains("AWSLogs/") {
            Some(format!("{prefix}AWSLogs/"))
        } else {
            None
        };
        let mut keys = self.runtime.block_on(async {
            match &root {
                Some(root) => self.narrowed(&bucket, root).await,
                None => self.list(&bucket, &prefix, false).await,
            }
        })?;
        let digests = self.digests.is_some();
        keys.retain(|(k, _)| self.filter.matches(k) || (digests && self.filter.matches_digest(k)));
        keys.sort();
        Ok(keys
            .into_iter()
            .map(|(key, size)| Input::Object {
                bucket: bucket.clone(),
                key,
                size,
            })
            .collect())
    }

    fn found(&self) -> Option<String> {
        let seen = self.seen.lock().ok()?;
        (!seen.accounts.is_empty()).then(|| seen.note())
    }

    fn fetch(&self, bucket: &str, key: &str) -> std::io::Result<(Vec<u8>, Option<String>)> {
        let object = ObjectRef {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        };
        let max = crate::digest::file::MAX_DIGEST;
        let fetched = self
            .runtime
            .block_on(self.source.fetch(&object, max))
            .map_err(SourceError::into_io)?;
        Ok((fetched.bytes, fetched.signature))
    }

    fn public_keys(
        &self,
        region: &str,
        fingerprint: &str,
        at: i64,
    ) -> Result<crate::digest::PublicKeys, String> {
        let Some(cache) = &self.digests else {
            return Err("digests not asked for".into());
        };
        self.runtime
            .block_on(cache.for_digest(region, fingerprint, at))
            .map_err(|e| e.to_string())
    }

    fn open(&self, bucket: &str, key: &str) -> std::io::Result<Box<dyn Read + Send>> {
        let object = ObjectRef {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        };
        let reader = self
            .runtime
            .block_on(self.source.open(&object))
            .map_err(SourceError::into_io)?;
        Ok(Box::new(reader))
    }
}
