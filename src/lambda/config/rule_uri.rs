//! `DETECTORS_URI`: where rules, filters and accounts files are read from without a
//! redeploy (`s3://bucket/prefix/`).

use std::str::FromStr;

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
