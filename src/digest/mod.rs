//! CloudTrail's digest files as the proof that every log file was delivered, unchanged, and
//! analysed: keys ([`key`]), the digest body ([`file`]), its signature and chain ([`sign`]),
//! what it proves about the log files read ([`ledger`]) and the alerts that says ([`alerts`]).
//!
//! Both front ends use it: replay's `--verify`, and the Lambda (digest deliveries, the
//! trails' heartbeat, the files a digest lists that no notification brought).

pub mod alerts;
pub mod file;
pub mod key;
pub mod ledger;
pub mod sign;

pub use crate::stage::{
    DIGEST_INVALID, LOG_FILE_MISSING, LOG_FILE_MODIFIED, LOG_FILE_UNLISTED, TRAIL_UNVERIFIABLE,
};
pub use file::{Digest, DigestBody, ListedFile};
pub use key::{KeyKind, KeyParts};
pub use ledger::{Coverage, Verdict};
pub use sign::{PublicKey, PublicKeys, Signature};

/// A digest that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// Its bytes could not be read.
    #[error("{name}: could not read the digest: {source}")]
    Read {
        /// The digest's name.
        name: String,
        /// The fault.
        #[source]
        source: std::io::Error,
    },
    /// It is not a CloudTrail digest.
    #[error("{name}: {why}")]
    Invalid {
        /// The digest's name.
        name: String,
        /// Why.
        why: String,
    },
}

impl DigestError {
    fn read(name: &str, source: std::io::Error) -> DigestError {
        DigestError::Read {
            name: name.into(),
            source,
        }
    }
}

/// Hex SHA-256 of `bytes`.
pub fn hex_sha256(bytes: &[u8]) -> String {
    to_hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

/// Lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    crate::alert::id::hex(bytes)
}

/// The bytes of hex text (either case), if it is hex.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let t = text.trim().as_bytes();
    if t.len() % 2 != 0 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    t.chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}
