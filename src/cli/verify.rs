//! `replay --verify`: the digest files of the run prove which log files CloudTrail delivered
//! and what they held. Like `aws cloudtrail validate-logs`, over a local copy or a bucket,
//! while the logs are analysed as usual: missing, changed and unlisted log files, and digests
//! whose signature or chain is broken.

use crate::alert::related::Related;
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
    /// The (place, day) of every input found by walking a folder or listing a bucket: a
    /// listed file of another day was not asked for, nor one of a file named alone.
    days: BTreeSet<(String, i64)>,
    /// Digests that could not be read.
    unreadable: Vec<Verdict>,
    /// The alerts published from each log file, by its key from `AWSLogs/`.
    alerts: HashMap<String, Vec<Related>>,
    /// The places of the log files found by walking or listing (a local copy: a listed file
    /// is judged only where the run read the place's log files).
    log_places: BTreeSet<String>,
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
    /// Listed files not read, of folders the run did not read (not judged).
    pub not_judged: usize,
    /// Log files read outside the periods of the digests read (not checked).
    pub uncovered: usize,
    /// Signatures checked and valid.
    pub valid: usize,
    /// Signatures not checked, with why (once per reason).
    pub unchecked: BTreeMap<String, usize>,
    /// The alerts published from each log file (for the verdict alerts' `related`).
    alerts: HashMap<String, Vec<Related>>,
}

pub use crate::digest::key::is_digest;

fn place_day(name: &str) -> Option<(String, i64)> {
    let p = KeyParts::parse(name)?;
    Some((p.place(), p.day))
}

impl Verifier {
    /// A log file read (`sha256`: `None` when it was not read whole); `walked`: found in a
    /// folder or a listing, not named alone.
    pub fn log(&mut self, name: &str, sha256: Option<String>, walked: bool) {
        if walked {
            self.days.extend(place_day(name));
            self.log_places
                .extend(place_day(name).map(|(place, _)| place));
        }
        self.logs
            .insert(file_id(name).to_owned(), (name.to_owned(), sha256));
    }

    /// The alerts published from log file `name`.
    pub fn published(&mut self, name: &str, alerts: impl Iterator<Item = Related>) {
        self.alerts
            .entry(file_id(name).to_owned())
            .or_default()
            .extend(alerts);
    }

    /// A digest read from `bucket` (empty: a local file) under `name`.
    pub fn digest(
        &mut self,
        (name, bucket, walked): (&str, &str, bool),
        read: Result<Digest, String>,
        signature: Option<String>,
    ) {
        if walked {
            self.days.extend(place_day(name));
        }
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
    pub fn finish(
        mut self,
        keys: &dyn Fn(&str, &str, i64) -> Result<PublicKeys, String>,
    ) -> Verified {
        let mut out = Verified {
            digests: self.digests.len() + self.unreadable.len(),
            verdicts: self.unreadable.clone(),
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
            if let Some(v) = self.chain(seen, &by_id) {
                out.verdicts.push(v);
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
                let name = self.name_of(seen, &f.s3_bucket, &f.s3_object);
                if !self.asked(seen, &f.s3_object, &name) {
                    out.not_judged += 1;
                    continue;
                }
                out.verdicts.push(Verdict::Missing {
                    key: name,
                    digest: seen.name.clone(),
                });
            }
        }
        for (id, (name, _)) in &self.logs {
            if listed.contains(id.as_str()) {
                continue;
            }
            if coverage.covers(id) {
                out.verdicts.push(Verdict::Unlisted { key: name.clone() });
            } else {
                out.uncovered += 1;
            }
        }
        out.verdicts.sort();
        out.verdicts.dedup();
        out.alerts = std::mem::take(&mut self.alerts);
        out
    }

    /// How the run would name an object of a digest read as `seen`.
    fn name_of(&self, seen: &Seen, bucket: &str, key: &str) -> String {
        if !seen.bucket.is_empty() {
            return format!("s3://{bucket}/{key}");
        }
        // A local copy: the digest's own folder holds the copy of the bucket.
        let root = seen
            .name
            .find(file_id(&seen.name))
            .map_or("", |i| &seen.name[..i]);
        format!("{root}{}", file_id(key))
    }

    /// Whether listed file `key` (named `name` by the run) was asked for, so that not reading
    /// it means it is not there. From a bucket: its day was listed. A local copy: it is not
    /// on disk, and the run read log files of its place (not only the digest folder).
    fn asked(&self, seen: &Seen, key: &str, name: &str) -> bool {
        let Some((place, day)) = place_day(key) else {
            return false;
        };
        if !seen.bucket.is_empty() {
            return self.days.contains(&(place, day));
        }
        !std::path::Path::new(name).exists() && self.log_places.contains(&place)
    }

    /// What the previous digest `seen` names proves: changed since (it hashes otherwise), or
    /// gone (a folder the run read, and it is not there).
    fn chain(&self, seen: &Seen, by_id: &HashMap<&str, &Seen>) -> Option<Verdict> {
        let named = seen.digest.body.previous_digest_s3_object.as_deref()?;
        let Some(prev) = by_id.get(file_id(named)) else {
            // An unreadable one is said already.
            let unreadable = self
                .unreadable
                .iter()
                .any(|v| file_id(v.key()) == file_id(named));
            let asked = !unreadable && place_day(named).is_some_and(|pd| self.days.contains(&pd));
            let bucket = seen
                .digest
                .body
                .previous_digest_s3_bucket
                .as_deref()
                .unwrap_or("");
            return asked.then(|| Verdict::DigestInvalid {
                digest: self.name_of(seen, bucket, named),
                why: format!(
                    "the next digest, {}, names it as its previous one, and it is not there: \
                     deleted or moved; the log files of the trail before {} are unproven back \
                     to the last digest read",
                    seen.name, seen.digest.body.digest_start_time
                ),
            });
        };
        let at = (
            prev.digest.body.digest_s3_object.as_str(),
            prev.digest.sha256.as_str(),
            prev.signature.as_deref(),
        );
        let why = sign::chain_break(&seen.digest, at)?;
        Some(Verdict::DigestInvalid {
            digest: prev.name.clone(),
            why: format!("changed after CloudTrail wrote it: {why} ({})", seen.name),
        })
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
        return unchecked(
            "a local copy keeps no S3 metadata, where the signature is: verify from s3:// \
             to check them (without them, digests rewritten with their files would pass)"
                .into(),
        );
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

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Verified {
    /// The alerts published from the file a verdict is about.
    pub fn related(&self, v: &Verdict) -> Vec<Related> {
        self.alerts
            .get(file_id(v.key()))
            .cloned()
            .unwrap_or_default()
    }

    /// The summary table (to standard error).
    pub fn table(&self) -> String {
        let count = |d: &str| self.verdicts.iter().filter(|v| v.detector() == d).count();
        let mut t = format!(
            "trailwatch: verify: {}, {} listed, {} of them read and compared\n",
            plural(self.digests, "digest file", "digest files"),
            plural(self.listed, "log file", "log files"),
            self.compared
        );
        let mut signatures = format!("{} valid", self.valid);
        for (why, n) in &self.unchecked {
            signatures += &format!("; {n} not checked: {why}");
        }
        t += &format!("  {:<18} {signatures}\n", "signatures");
        for (label, detector) in [
            ("missing", crate::digest::LOG_FILE_MISSING),
            ("modified", crate::digest::LOG_FILE_MODIFIED),
            ("unlisted", crate::digest::LOG_FILE_UNLISTED),
            ("digest invalid", crate::digest::DIGEST_INVALID),
        ] {
            t += &format!("  {label:<18} {}\n", count(detector));
        }
        if self.uncovered > 0 {
            t += &format!(
                "  not checked        {} read outside the periods of the digests read\n",
                plural(self.uncovered, "log file", "log files")
            );
        }
        if self.not_judged > 0 {
            t += &format!(
                "  not judged         {} listed in folders the run did not read (give the folder, not single files)\n",
                plural(self.not_judged, "log file", "log files")
            );
        }
        t
    }
}
