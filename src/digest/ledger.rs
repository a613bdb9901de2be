//! What a digest proves about the log files of its period, given what was analysed: the
//! verdicts both front ends report (replay's `--verify`, the Lambda's alerts).

use super::file::{Digest, ListedFile};
use super::key::{KeyKind, KeyParts};

/// A log file written this close to the edge of the digests seen is not judged unlisted: it
/// may belong to a digest not at hand (CloudTrail names a file a few minutes before it
/// delivers it).
pub const EDGE: i64 = 15 * 60;

/// One thing a digest proves wrong.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// A digest lists `key`, and it is not in the bucket.
    Missing {
        /// The log file's key.
        key: String,
        /// The digest that lists it.
        digest: String,
    },
    /// The log file's SHA-256 differs from the digest's.
    Modified {
        /// The log file's key.
        key: String,
        /// The digest that lists it.
        digest: String,
        /// The SHA-256 the digest lists.
        listed: String,
        /// The SHA-256 of what was read.
        found: String,
    },
    /// A log file in the trail's place that no digest of its period lists.
    Unlisted {
        /// The log file's key.
        key: String,
    },
    /// The digest's signature or its chain is broken.
    DigestInvalid {
        /// The digest's key.
        digest: String,
        /// Why.
        why: String,
    },
}

impl Verdict {
    /// The detector id of the alert it raises.
    pub fn detector(&self) -> &'static str {
        match self {
            Verdict::Missing { .. } => super::LOG_FILE_MISSING,
            Verdict::Modified { .. } => super::LOG_FILE_MODIFIED,
            Verdict::Unlisted { .. } => super::LOG_FILE_UNLISTED,
            Verdict::DigestInvalid { .. } => super::DIGEST_INVALID,
        }
    }

    /// The key it is about (the log file, or the digest).
    pub fn key(&self) -> &str {
        match self {
            Verdict::Missing { key, .. }
            | Verdict::Modified { key, .. }
            | Verdict::Unlisted { key } => key,
            Verdict::DigestInvalid { digest, .. } => digest,
        }
    }
}

/// The part of a key from `AWSLogs/` on: the same file whatever the prefix (a local copy of
/// a bucket, or the bucket).
pub fn file_id(key: &str) -> &str {
    match KeyParts::parse(key) {
        Some(p) => &key[p.prefix.len()..],
        None => key,
    }
}

/// Compares the files `digest` lists with what was read: `read(id)` gives `None` when the
/// file was not read, `Some(None)` when it was read but not to its end (no hash), and
/// `Some(Some(sha))` otherwise. Returns the verdicts, and the files not read.
pub fn compare<'d>(
    digest: &'d Digest,
    digest_key: &str,
    read: impl Fn(&str) -> Option<Option<String>>,
) -> (Vec<Verdict>, Vec<&'d ListedFile>) {
    let mut verdicts = Vec::new();
    let mut unread = Vec::new();
    for f in &digest.body.log_files {
        match read(file_id(&f.s3_object)) {
            None => unread.push(f),
            Some(None) => {}
            Some(Some(found)) if found.eq_ignore_ascii_case(&f.hash_value) => {}
            Some(Some(found)) => verdicts.push(Verdict::Modified {
                key: f.s3_object.clone(),
                digest: digest_key.to_owned(),
                listed: f.hash_value.to_ascii_lowercase(),
                found,
            }),
        }
    }
    (verdicts, unread)
}

/// Periods covered by digests, per place: what lets a log file be judged unlisted.
#[derive(Debug, Default, Clone)]
pub struct Coverage {
    /// (place, start, end), seconds since the epoch.
    spans: Vec<(String, i64, i64)>,
}

impl Coverage {
    /// Notes the period of `digest`, delivered under `key`.
    pub fn add(&mut self, key: &str, digest: &Digest) {
        let Some(parts) = KeyParts::parse(key) else {
            return;
        };
        let time = crate::correlate::time::parse_event_time;
        let (Some(start), Some(end)) = (
            time(&digest.body.digest_start_time),
            time(&digest.body.digest_end_time),
        ) else {
            return;
        };
        self.spans.push((parts.place(), start, end));
    }

    /// Whether a log file of `key` falls inside the digests seen, [`EDGE`] from their edges.
    pub fn covers(&self, key: &str) -> bool {
        let Some(parts) = KeyParts::parse(key) else {
            return false;
        };
        let KeyKind::Log { written } = parts.kind else {
            return false;
        };
        let place = parts.place();
        // A name CloudTrail never writes: no digest lists it, whenever it came.
        let Some(written) = written else {
            return self.spans.iter().any(|(p, _, _)| *p == place);
        };
        let mut spans: Vec<(i64, i64)> = self
            .spans
            .iter()
            .filter(|(p, _, _)| *p == place)
            .map(|(_, s, e)| (*s, *e))
            .collect();
        spans.sort_unstable();
        // Walk the spans from the left while they touch (a minute's slack), covering
        // [written - EDGE, written + EDGE].
        let (from, to) = (written - EDGE, written + EDGE);
        let mut reach = None::<i64>;
        for (s, e) in spans {
            reach = match reach {
                None if s <= from => Some(e),
                Some(r) if s <= r + 60 => Some(r.max(e)),
                other => other,
            };
            if reach.is_some_and(|r| r >= to) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::file::DigestBody;

    const LOG: &str = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T1030Z_a.json.gz";
    const DIGEST: &str = "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/28/111122223333_CloudTrail-Digest_eu-west-1_main_us-east-1_20261128T110000Z.json.gz";

    fn digest(start: &str, end: &str, files: &[(&str, &str)]) -> Digest {
        let log_files = files
            .iter()
            .map(|(k, h)| ListedFile {
                s3_bucket: "logs".into(),
                s3_object: (*k).into(),
                hash_value: (*h).into(),
                hash_algorithm: "SHA-256".into(),
                newest_event_time: None,
                oldest_event_time: None,
            })
            .collect();
        let body = DigestBody {
            aws_account_id: "111122223333".into(),
            digest_start_time: start.into(),
            digest_end_time: end.into(),
            digest_s3_bucket: "logs".into(),
            digest_s3_object: DIGEST.into(),
            digest_public_key_fingerprint: String::new(),
            digest_signature_algorithm: String::new(),
            previous_digest_s3_bucket: None,
            previous_digest_s3_object: None,
            previous_digest_hash_value: None,
            previous_digest_signature: None,
            log_files,
        };
        Digest {
            body,
            sha256: String::new(),
        }
    }

    #[test]
    fn listed_files_are_read_changed_or_unread() {
        let other = LOG.replace("_a.json", "_b.json");
        let third = LOG.replace("_a.json", "_c.json");
        let d = digest("", "", &[(LOG, "AB"), (&other, "cd"), (&third, "ef")]);
        let local = format!("copy/of/bucket/{other}");
        let read = |id: &str| match id {
            _ if id == LOG => Some(Some("ab".to_owned())),
            _ if id == file_id(&local) => Some(Some("00".to_owned())),
            _ => None,
        };
        let (verdicts, unread) = compare(&d, DIGEST, read);
        assert_eq!(
            verdicts,
            vec![Verdict::Modified {
                key: other.clone(),
                digest: DIGEST.into(),
                listed: "cd".into(),
                found: "00".into()
            }]
        );
        assert_eq!(unread.len(), 1);
        assert_eq!(unread[0].s3_object, third);
    }

    #[test]
    fn a_file_is_judged_only_inside_the_digests_seen() {
        let mut c = Coverage::default();
        assert!(!c.covers(LOG));
        c.add(
            DIGEST,
            &digest("2026-11-28T10:00:00Z", "2026-11-28T10:40:00Z", &[]),
        );
        // 10:30 is within 15 minutes of the end.
        assert!(!c.covers(LOG));
        c.add(
            DIGEST,
            &digest("2026-11-28T10:40:30Z", "2026-11-28T11:40:00Z", &[]),
        );
        assert!(c.covers(LOG));
        assert!(c.covers(&format!("local/{LOG}")));
        let elsewhere = LOG.replace("eu-west-1", "eu-west-2");
        assert!(!c.covers(&elsewhere));
    }
}
