//! Trails that deliver as CloudTrail does: log files, and hourly digest files signed with a
//! test key pair, chained to the previous digest. Shared by the replay tests and the
//! end-to-end tests.
#![allow(dead_code)]

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;
use std::io::Write;
use trailwatch::correlate::time::format_time;
use trailwatch::digest::sign::testing::{key_pair, sign};
use trailwatch::digest::{hex_sha256, Digest, PublicKey};

/// One object a trail writes.
#[derive(Debug, Clone)]
pub struct Written {
    pub key: String,
    /// As stored (gzipped).
    pub bytes: Vec<u8>,
    /// The `signature` metadata (digests only).
    pub signature: Option<String>,
}

/// A trail of one account and region delivering to `bucket` under `prefix`.
pub struct TrailSim {
    pub bucket: String,
    pub prefix: String,
    pub account: String,
    pub region: String,
    pub trail: String,
    pair: aws_lc_rs::rsa::KeyPair,
    pub public: PublicKey,
    /// The last digest: key, SHA-256 of its inflated bytes, signature.
    previous: Option<(String, String, String)>,
}

pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn stamp(secs: i64, seconds: bool) -> String {
    let t = format_time(secs).replace(['-', ':'], "");
    if seconds {
        t
    } else {
        format!("{}Z", &t[..13])
    }
}

fn day(secs: i64) -> String {
    format_time(secs)[..10].replace('-', "/")
}

/// A log file's JSON: one `ListBuckets` record per id, at `at`.
pub fn log_json(account: &str, region: &str, at: i64, ids: &[&str]) -> Vec<u8> {
    let records: Vec<_> = ids
        .iter()
        .map(|id| {
            json!({"eventVersion": "1.08", "eventTime": format_time(at), "eventSource": "s3.amazonaws.com",
                "eventName": "ListBuckets", "awsRegion": region, "recipientAccountId": account,
                "eventID": id, "sourceIPAddress": "198.51.100.7", "userAgent": "legacy/1.0",
                "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{account}:user/ci"), "accountId": account},
                "tlsDetails": {"tlsVersion": "TLSv1", "clientProvidedHostHeader": "s3.amazonaws.com"}})
        })
        .collect();
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

impl TrailSim {
    pub fn new(bucket: &str, prefix: &str, account: &str, region: &str, trail: &str) -> TrailSim {
        let (pair, public) = key_pair(&format!("fp-{trail}-{region}"));
        TrailSim {
            bucket: bucket.into(),
            prefix: prefix.into(),
            account: account.into(),
            region: region.into(),
            trail: trail.into(),
            pair,
            public,
            previous: None,
        }
    }

    /// The key of a log file written at `at`.
    pub fn log_key(&self, at: i64, unique: &str) -> String {
        let (p, a, r) = (&self.prefix, &self.account, &self.region);
        format!(
            "{p}AWSLogs/{a}/CloudTrail/{r}/{}/{a}_CloudTrail_{r}_{}_{unique}.json.gz",
            day(at),
            stamp(at, false)
        )
    }

    /// A log file written at `at` with `ids` as its records.
    pub fn log(&self, at: i64, unique: &str, ids: &[&str]) -> Written {
        let json = log_json(&self.account, &self.region, at, ids);
        Written {
            key: self.log_key(at, unique),
            bytes: gz(&json),
            signature: None,
        }
    }

    /// The digest of `[start, end)` listing `files` (their stored bytes gunzipped are hashed),
    /// signed and chained to the previous one.
    pub fn digest(&mut self, start: i64, end: i64, files: &[&Written]) -> Written {
        let (p, a, r, t) = (&self.prefix, &self.account, &self.region, &self.trail);
        let key = format!(
            "{p}AWSLogs/{a}/CloudTrail-Digest/{r}/{}/{a}_CloudTrail-Digest_{r}_{t}_us-east-1_{}.json.gz",
            day(end),
            stamp(end, true)
        );
        let listed: Vec<_> = files
            .iter()
            .map(|f| {
                let mut plain = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::MultiGzDecoder::new(&f.bytes[..]),
                    &mut plain,
                )
                .unwrap();
                json!({"s3Bucket": self.bucket, "s3Object": f.key, "hashValue": hex_sha256(&plain),
                    "hashAlgorithm": "SHA-256", "newestEventTime": format_time(start),
                    "oldestEventTime": format_time(start)})
            })
            .collect();
        let (pb, pk, ph, ps) = match &self.previous {
            Some((k, h, s)) => (json!(self.bucket), json!(k), json!(h), json!(s)),
            None => (json!(null), json!(null), json!(null), json!(null)),
        };
        let body = json!({"awsAccountId": a, "digestStartTime": format_time(start),
            "digestEndTime": format_time(end), "digestS3Bucket": self.bucket, "digestS3Object": key,
            "digestPublicKeyFingerprint": self.public.fingerprint,
            "digestSignatureAlgorithm": "SHA256withRSA", "newestEventTime": null,
            "oldestEventTime": null, "previousDigestS3Bucket": pb, "previousDigestS3Object": pk,
            "previousDigestHashValue": ph, "previousDigestHashAlgorithm": "SHA-256",
            "previousDigestSignature": ps, "logFiles": listed});
        let inflated = serde_json::to_vec(&body).unwrap();
        let digest = Digest::read(&inflated[..], &key).unwrap();
        let signature = sign(&self.pair, &digest);
        self.previous = Some((key.clone(), digest.sha256.clone(), signature.clone()));
        Written {
            key,
            bytes: gz(&inflated),
            signature: Some(signature),
        }
    }
}

/// The alerts of `detector`.
pub fn of<'a>(alerts: &'a [serde_json::Value], detector: &str) -> Vec<&'a serde_json::Value> {
    alerts
        .iter()
        .filter(|a| a["detector"] == detector)
        .collect()
}

/// How many alerts name event `id`.
pub fn with_event(alerts: &[serde_json::Value], id: &str) -> usize {
    alerts
        .iter()
        .filter(|a| {
            a["event_ids"]
                .as_array()
                .is_some_and(|e| e.contains(&json!(id)))
        })
        .count()
}
