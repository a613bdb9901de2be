//! `replay --verify`: the digest files of the run prove which log files CloudTrail delivered
//! and what they held. Like `aws cloudtrail validate-logs`, over a local copy or a bucket,
//! while the logs are analysed as usual: missing, changed and unlisted log files, and digests
//! whose signature or chain is broken.

use crate::digest::ledger::{compare, file_id, Coverage, Verdict};
use crate::digest::{sign, Digest, KeyParts, PublicKeys, Signature};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One digest read.
struct Seen {
    /// Where it was read: its key in the bucket, or its path.
    name: String,
    /// Its bucket; empty for a local copy (no S3 metadata, so no signature to check).
    bucket: String,
    digest: Digest,
    signature: Option<String>,
}

/// What the digests and log files of a run are checked against.
#[derive(Default)]
pub struct Verifier {
    digests: Vec<Seen>,
    /// Log files read, by their key from `AWSLogs/`: the name given and the SHA-256.
    logs: BTreeMap<String, (String, Option<String>)>,
    /// The (place, day) of every input: a listed file of another day was not asked for.
    days: BTreeSet<(String, i64)>,
    /// Digests that could not be read.
    unreadable: Vec<Verdict>,
}

/// What the check found.
#[derive(Debug, Default)]
pub struct Verified {
    /// Every verdict, in key order.
    pub verdicts: Vec<Verdict>,
    /// Digests read.
    pub digests: usize,
    /// Log files they list.
    pub listed: usize,
    /// Log files read and compared with a digest.
    pub compared: usize,
    /// Signatures checked and valid.
    pub valid: usize,
    /// Signatures not checked, with why (once per reason).
    pub unchecked: BTreeMap<String, usize>,
}

pub use crate::digest::key::is_digest;

fn place_day(name: &str) -> Option<(String, i64)> {
    let p = KeyParts::parse(name)?;
    let place = format!("{}/{}/{}", p.org.unwrap_or(""), p.account, p.region);
    Some((place, p.day))
}

impl Verifier {
    /// A log file read (`sha256`: `None` when it was not read to its end).
    pub fn log(&mut self, name: &str, sha256: Option<String>) {
        self.days.extend(place_day(name));
        self.logs
            .insert(file_id(name).to_owned(), (name.to_owned(), sha256));
    }

    /// A digest read from `bucket` (empty: a local file) under `name`.
    pub fn digest(
        &mut self,
        name: &str,
        bucket: &str,
        read: Result<Digest, String>,
        signature: Option<String>,
    ) {
        self.days.extend(place_day(name));
        match read {
            Ok(digest) => self.digests.push(Seen {
                name: name.into(),
                bucket: bucket.into(),
                digest,
                signature,
            }),
            Err(why) => self.unreadable.push(Verdict::DigestInvalid {
                digest: name.into(),
                why,
            }),
        }
    }

    /// Whether any digest was met.
    pub fn met_digests(&self) -> bool {
        !self.digests.is_empty() || !self.unreadable.is_empty()
    }

    /// The verdicts; `keys(region, fingerprint, at)` gives CloudTrail's public keys.
    pub fn finish(self, keys: &dyn Fn(&str, &str, i64) -> Result<PublicKeys, String>) -> Verified {
        let mut out = Verified {
            digests: self.digests.len() + self.unreadable.len(),
            verdicts: self.unreadable,
            ..Verified::default()
        };
        let by_id: HashMap<&str, &Seen> = self
            .digests
            .iter()
            .map(|s| (file_id(&s.digest.body.digest_s3_object), s))
            .collect();
        let mut coverage = Coverage::default();
        let mut listed = BTreeSet::new();
        for seen in &self.digests {
            let d = &seen.digest;
            coverage.add(&seen.name, d);
            if let Some(why) = signature_problem(seen, keys, &mut out) {
                out.verdicts.push(Verdict::DigestInvalid {
                    digest: seen.name.clone(),
                    why,
                });
            }
            let previous = d.body.previous_digest_s3_object.as_deref().map(file_id);
            if let Some(prev) = previous.and_then(|p| by_id.get(p)) {
                let at = (
                    prev.digest.body.digest_s3_object.as_str(),
                    prev.digest.sha256.as_str(),
                    prev.signature.as_deref(),
                );
                if let Some(why) = sign::chain_break(d, at) {
                    out.verdicts.push(Verdict::DigestInvalid {
                        digest: seen.name.clone(),
                        why: format!(
                            "the chain is broken at the previous digest {}: {why}",
                            prev.name
                        ),
                    });
                }
            }
            out.listed += d.body.log_files.len();
            listed.extend(d.body.log_files.iter().map(|f| file_id(&f.s3_object)));
            let read = |id: &str| self.logs.get(id).map(|(_, sha)| sha.clone());
            let (verdicts, unread) = compare(d, &seen.name, read);
            out.compared += d.body.log_files.len() - unread.len();
            // Named as the run names its inputs.
            out.verdicts.extend(verdicts.into_iter().map(|mut v| {
                if let Verdict::Modified { key, .. } = &mut v {
                    if let Some((name, _)) = self.logs.get(file_id(key)) {
                        key.clone_from(name);
                    }
                }
                v
            }));
            for f in unread {
                // A file of a day the run did not ask for is not missing.
                if place_day(&f.s3_object).is_some_and(|pd| self.days.contains(&pd)) {
                    let key = match seen.bucket.is_empty() {
                        true => f.s3_object.clone(),
                        false => format!("s3://{}/{}", f.s3_bucket, f.s3_object),
                    };
                    out.verdicts.push(Verdict::Missing {
                        key,
                        digest: seen.name.clone(),
                    });
                }
            }
        }
        for (id, (name, _)) in &self.logs {
            if !listed.contains(id.as_str()) && coverage.covers(id) {
                out.verdicts.push(Verdict::Unlisted { key: name.clone() });
            }
        }
        out.verdicts.sort();
        out.verdicts.dedup();
        out
    }
}

/// Why the signature of `seen` does not hold, if it does not; counts what was checked.
fn signature_problem(
    seen: &Seen,
    keys: &dyn Fn(&str, &str, i64) -> Result<PublicKeys, String>,
    out: &mut Verified,
) -> Option<String> {
    let mut unchecked = |why: String| {
        *out.unchecked.entry(why).or_default() += 1;
        None
    };
    if seen.bucket.is_empty() {
        return unchecked("local copies keep no S3 metadata, where the signature is".into());
    }
    let body = &seen.digest.body;
    let region = KeyParts::parse(&seen.name).map_or("", |p| p.region);
    let at = crate::correlate::time::parse_event_time(&body.digest_end_time).unwrap_or(0);
    let found = match keys(region, &body.digest_public_key_fingerprint, at) {
        Ok(k) => k,
        Err(e) => return unchecked(e),
    };
    match sign::check(&seen.digest, seen.signature.as_deref(), &found) {
        Signature::Valid => {
            out.valid += 1;
            None
        }
        Signature::Invalid(why) => Some(why),
        Signature::Unchecked(why) => unchecked(why),
    }
}

impl Verified {
    /// The summary table (to standard error).
    pub fn table(&self) -> String {
        let count = |d: &str| self.verdicts.iter().filter(|v| v.detector() == d).count();
        let mut t = format!(
            "trailwatch: verify: {} digest files, {} log files listed, {} of them read and compared\n",
            self.digests, self.listed, self.compared
        );
        let signatures = if self.unchecked.is_empty() {
            format!("{} valid", self.valid)
        } else {
            let why: Vec<String> = self
                .unchecked
                .iter()
                .map(|(why, n)| format!("{n} not checked: {why}"))
                .collect();
            format!("{} valid, {}", self.valid, why.join("; "))
        };
        t += &format!("  {:<18} {signatures}\n", "signatures");
        for (label, detector) in [
            ("missing", crate::digest::LOG_FILE_MISSING),
            ("modified", crate::digest::LOG_FILE_MODIFIED),
            ("unlisted", crate::digest::LOG_FILE_UNLISTED),
            ("digest invalid", crate::digest::DIGEST_INVALID),
        ] {
            t += &format!("  {label:<18} {}\n", count(detector));
        }
        t
    }
}
