//! A digest file's body: read whole (a digest is small: one entry per log file of an hour),
//! inflated, hashed and parsed.

use super::DigestError;
use serde::Deserialize;
use std::io::Read;

/// A digest larger than this (inflated) is refused: an hour of one region's log files lists
/// a few hundred files at most.
pub const MAX_DIGEST: u64 = 64 << 20;

/// One log file a digest lists.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedFile {
    /// Its bucket.
    pub s3_bucket: String,
    /// Its key.
    pub s3_object: String,
    /// The hex SHA-256 of its uncompressed content.
    pub hash_value: String,
    /// `SHA-256`.
    #[serde(default)]
    pub hash_algorithm: String,
    /// Its newest `eventTime`.
    #[serde(default)]
    pub newest_event_time: Option<String>,
    /// Its oldest `eventTime`.
    #[serde(default)]
    pub oldest_event_time: Option<String>,
}

/// The fields of a digest file trailwatch reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestBody {
    /// The account.
    pub aws_account_id: String,
    /// Start of the period (RFC 3339).
    pub digest_start_time: String,
    /// End of the period (RFC 3339): what the signature and the heartbeat use.
    pub digest_end_time: String,
    /// The bucket of the digest itself.
    pub digest_s3_bucket: String,
    /// The key of the digest itself.
    pub digest_s3_object: String,
    /// The hex fingerprint of the public key that checks the signature.
    #[serde(default)]
    pub digest_public_key_fingerprint: String,
    /// `SHA256withRSA`.
    #[serde(default)]
    pub digest_signature_algorithm: String,
    /// The previous digest's bucket (null on the first digest of a chain).
    #[serde(default)]
    pub previous_digest_s3_bucket: Option<String>,
    /// The previous digest's key.
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    /// The hex SHA-256 of the previous digest's inflated bytes.
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    /// The previous digest's hex signature.
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    /// The log files of the period.
    #[serde(default)]
    pub log_files: Vec<ListedFile>,
}

/// A digest read: its body, and the hex SHA-256 of its inflated bytes (what the next digest
/// names as `previousDigestHashValue`, and what the signature covers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The parsed body.
    pub body: DigestBody,
    /// Hex SHA-256 of the inflated bytes.
    pub sha256: String,
}

impl Digest {
    /// Reads a digest (gzip or plain JSON) from `input`, named `name` in errors.
    pub fn read(input: impl Read, name: &str) -> Result<Digest, DigestError> {
        let mut raw = Vec::new();
        input
            .take(MAX_DIGEST + 1)
            .read_to_end(&mut raw)
            .map_err(|e| DigestError::read(name, e))?;
        let inflated = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&raw[..])
                .take(MAX_DIGEST + 1)
                .read_to_end(&mut out)
                .map_err(|e| DigestError::read(name, e))?;
            out
        } else {
            raw
        };
        if inflated.len() as u64 > MAX_DIGEST {
            return Err(DigestError::Invalid {
                name: name.into(),
                why: format!("over {} MiB once inflated", MAX_DIGEST >> 20),
            });
        }
        let body: DigestBody =
            serde_json::from_slice(&inflated).map_err(|e| DigestError::Invalid {
                name: name.into(),
                why: format!("not a CloudTrail digest: {e}"),
            })?;
        Ok(Digest {
            body,
            sha256: super::hex_sha256(&inflated),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const SAMPLE: &str = r#"{"awsAccountId":"111122223333","digestStartTime":"2026-11-28T10:05:31Z","digestEndTime":"2026-11-28T11:05:31Z","digestS3Bucket":"logs","digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/28/111122223333_CloudTrail-Digest_eu-west-1_main_us-east-1_20261128T110531Z.json.gz","digestPublicKeyFingerprint":"8eb1a1b5","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[{"s3Bucket":"logs","s3Object":"AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T1010Z_a.json.gz","hashValue":"ab","hashAlgorithm":"SHA-256","newestEventTime":"2026-11-28T10:09:00Z","oldestEventTime":"2026-11-28T10:01:00Z"}]}"#;

    #[test]
    fn a_digest_gzipped_or_plain_reads_the_same() {
        use std::io::Write;
        let plain = Digest::read(SAMPLE.as_bytes(), "d").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(SAMPLE.as_bytes()).unwrap();
        let zipped = Digest::read(&gz.finish().unwrap()[..], "d").unwrap();
        assert_eq!(plain, zipped);
        assert_eq!(plain.body.log_files.len(), 1);
        assert_eq!(plain.body.previous_digest_signature, None);
        assert_eq!(plain.sha256, super::super::hex_sha256(SAMPLE.as_bytes()));
    }

    #[test]
    fn a_log_file_is_not_a_digest_and_the_error_names_it() {
        let e = Digest::read(&br#"{"Records":[]}"#[..], "s3://b/k").unwrap_err();
        assert!(e.to_string().contains("s3://b/k"), "{e}");
        assert!(e.to_string().contains("not a CloudTrail digest"), "{e}");
    }
}
