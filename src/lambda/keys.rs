//! CloudTrail's public keys (`cloudtrail:ListPublicKeys`), per region, kept for the life of
//! the process: a digest names the key that signed it by fingerprint, and the keys of a
//! region are fetched again only when a digest names one not yet known.

use super::s3::SourceError;
use crate::digest::{PublicKey, PublicKeys};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// A future of the key source.
pub type KeysFuture<'a> =
    Pin<Box<dyn Future<Output = Result<PublicKeys, SourceError>> + Send + 'a>>;

/// Where CloudTrail's public keys come from: `ListPublicKeys`, or a test's keys.
pub trait KeySource: Send + Sync {
    /// The keys of `region` valid around `at` (seconds since the epoch).
    fn list(&self, region: &str, at: i64) -> KeysFuture<'_>;
}

/// `ListPublicKeys` through the SDK, one client per region.
pub struct CloudTrailKeys {
    shared: aws_config::SdkConfig,
}

impl CloudTrailKeys {
    /// Keys fetched with the credentials and settings of `shared`.
    pub fn new(shared: &aws_config::SdkConfig) -> CloudTrailKeys {
        CloudTrailKeys {
            shared: shared.clone(),
        }
    }
}

impl KeySource for CloudTrailKeys {
    fn list(&self, region: &str, at: i64) -> KeysFuture<'_> {
        let region = region.to_owned();
        Box::pin(async move {
            let config = aws_sdk_cloudtrail::config::Builder::from(&self.shared)
                .region(aws_sdk_cloudtrail::config::Region::new(region.clone()))
                .build();
            let client = aws_sdk_cloudtrail::Client::from_conf(config);
            let time = aws_sdk_cloudtrail::primitives::DateTime::from_secs;
            let mut keys = Vec::new();
            let mut next = None;
            loop {
                let answer = client
                    .list_public_keys()
                    .start_time(time(at - 3600))
                    .end_time(time(at + 3600))
                    .set_next_token(next.take())
                    .send()
                    .await;
                let out = answer.map_err(|e| {
                    let text =
                        format!("ListPublicKeys in {region}: {}", super::retry::describe(&e));
                    match super::retry::is_transient(&e) {
                        true => SourceError::Transient(text),
                        false => SourceError::Denied(text),
                    }
                })?;
                keys.extend(out.public_key_list().iter().filter_map(|k| {
                    Some(PublicKey {
                        fingerprint: k.fingerprint()?.to_owned(),
                        der: k.value()?.as_ref().to_vec(),
                    })
                }));
                match out.next_token() {
                    Some(t) if !t.is_empty() => next = Some(t.to_owned()),
                    _ => return Ok(PublicKeys(keys)),
                }
            }
        })
    }
}

/// Keys as tests give them: the same for every region.
pub struct FixedKeys(pub PublicKeys);

impl KeySource for FixedKeys {
    fn list(&self, _region: &str, _at: i64) -> KeysFuture<'_> {
        let keys = self.0.clone();
        Box::pin(async move { Ok(keys) })
    }
}

/// The keys known so far, by region, over a [`KeySource`].
pub struct KeyCache {
    source: Box<dyn KeySource>,
    known: Mutex<HashMap<String, PublicKeys>>,
}

impl KeyCache {
    /// A cache over `source`.
    pub fn new(source: Box<dyn KeySource>) -> KeyCache {
        KeyCache {
            source,
            known: Mutex::default(),
        }
    }

    /// The keys of `region` that include `fingerprint` if CloudTrail has it (fetched when not
    /// yet known, around `at`).
    pub async fn for_digest(
        &self,
        region: &str,
        fingerprint: &str,
        at: i64,
    ) -> Result<PublicKeys, SourceError> {
        let cached = self.lock().get(region).cloned().unwrap_or_default();
        if cached.find(fingerprint).is_some() {
            return Ok(cached);
        }
        let fetched = self.source.list(region, at).await?;
        let mut known = self.lock();
        let keys = known.entry(region.to_owned()).or_default();
        for k in fetched.0 {
            if keys.find(&k.fingerprint).is_none() {
                keys.0.push(k);
            }
        }
        Ok(keys.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PublicKeys>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    struct Counting(Arc<AtomicU32>);

    impl KeySource for Counting {
        fn list(&self, region: &str, _at: i64) -> KeysFuture<'_> {
            self.0.fetch_add(1, Ordering::SeqCst);
            let key = PublicKey {
                fingerprint: format!("fp-{region}"),
                der: vec![1],
            };
            Box::pin(async move { Ok(PublicKeys(vec![key])) })
        }
    }

    #[tokio::test]
    async fn keys_are_fetched_once_per_region_and_again_for_an_unknown_fingerprint() {
        let calls = Arc::new(AtomicU32::new(0));
        let cache = KeyCache::new(Box::new(Counting(Arc::clone(&calls))));
        for _ in 0..3 {
            let keys = cache
                .for_digest("eu-west-1", "FP-EU-WEST-1", 0)
                .await
                .unwrap();
            assert!(keys.find("fp-eu-west-1").is_some());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        cache
            .for_digest("us-east-1", "fp-us-east-1", 0)
            .await
            .unwrap();
        let none = cache.for_digest("us-east-1", "rotated", 0).await.unwrap();
        assert!(none.find("rotated").is_none());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
