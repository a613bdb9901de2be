//! The inputs of `replay`: files, directories (walked for deliveries), and `-` for stdin.

use crate::delivery::is_delivery_name;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input of replay.
#[derive(Debug, Clone, PartialEq, Eq)]
/// One input of replay.
pub enum Input {
    /// `-`: standard input.
    Stdin,
    /// A file named on the command line.
    File(PathBuf),
    /// A file found by walking a directory.
    Found(PathBuf),
    /// An object found by listing a bucket (`replay s3://...`).
    Object {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// Its size, from the listing.
        size: u64,
    },
}

/// Where `s3://` arguments are listed and read: the S3 client of the `lambda` feature.
pub trait Remote: Send + Sync {
    /// The deliveries under `url`, in key order, or why they could not be listed.
    fn list(&self, url: &str) -> Result<Vec<Input>, String>;
    /// A streaming reader of one object.
    fn open(&self, bucket: &str, key: &str) -> std::io::Result<Box<dyn Read + Send>>;
    /// What the listings met at each level (accounts, regions, days), to say when nothing
    /// matched: a typo in `--account` or `--region` shows beside what is there.
    fn found(&self) -> Option<String> {
        None
    }
    /// A small object read whole, with its `signature` metadata (a digest file).
    fn fetch(&self, bucket: &str, key: &str) -> std::io::Result<(Vec<u8>, Option<String>)> {
        let mut bytes = Vec::new();
        self.open(bucket, key)?.read_to_end(&mut bytes)?;
        Ok((bytes, None))
    }
    /// CloudTrail's public keys of `region`, including `fingerprint` if CloudTrail has it
    /// (around `at`, seconds since the epoch).
    fn public_keys(
        &self,
        _region: &str,
        _fingerprint: &str,
        _at: i64,
    ) -> Result<crate::digest::PublicKeys, String> {
        Err("no CloudTrail client".into())
    }
}

impl Input {
    /// How messages name the input: the path, `-`, or `s3://bucket/key`.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".into(),
            Input::File(p) | Input::Found(p) => p.display().to_string(),
            Input::Object { bucket, key, .. } => format!("s3://{bucket}/{key}"),
        }
    }

    /// A reader of a local input (an object is opened through its [`Remote`]).
    pub fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Input::Stdin => Box::new(std::io::stdin()),
            Input::File(p) | Input::Found(p) => Box::new(File::open(p)?),
            Input::Object { .. } => {
                return Err(std::io::Error::other("reading S3 needs the lambda feature"))
            }
        })
    }

    /// Size on disk, for progress (0 for stdin).
    pub fn size(&self) -> u64 {
        match self {
            Input::Stdin => 0,
            Input::File(p) | Input::Found(p) => p.metadata().map(|m| m.len()).unwrap_or(0),
            Input::Object { size, .. } => *size,
        }
    }
}

/// A delivery file: `*.json.gz` or `*.json`.
pub fn is_delivery(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| is_delivery_name(&n.to_string_lossy()))
}

/// Expands the arguments: directories recursively (deliveries only, sorted), files as given.
/// A path that does not exist or cannot be listed is returned in the error list.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<(String, String)>) {
    expand_with(paths, None)
}

/// [`expand`], with `s3://` arguments listed through `remote`.
pub fn expand_with(
    paths: &[PathBuf],
    remote: Option<&dyn Remote>,
) -> (Vec<Input>, Vec<(String, String)>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let text = p.to_string_lossy();
        if text.starts_with("s3://") {
            match remote.map(|r| r.list(&text)) {
                Some(Ok(found)) => inputs.extend(found),
                Some(Err(e)) => errors.push((text.into_owned(), e)),
                None => errors.push((
                    text.into_owned(),
                    "reading S3 needs the lambda feature".into(),
                )),
            }
        } else if p.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if p.is_dir() {
            walk(p, &mut inputs, &mut errors);
        } else if p.exists() {
            inputs.push(Input::File(p.clone()));
        } else {
            errors.push((p.display().to_string(), "no such file or directory".into()));
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<(String, String)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return errors.push((dir.display().to_string(), format!("cannot list: {e}"))),
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, inputs, errors);
        } else if is_delivery(&p) {
            inputs.push(Input::Found(p));
        }
    }
}
