//! Alert ids: a hash of what makes an alert itself, so a re-delivered file yields the same ids
//! and subscribers can drop duplicates.

use sha2::{Digest, Sha256};
use std::fmt::Write;

/// 32 hex digits of the SHA-256 of `parts`, each ended by a NUL byte.
pub fn alert_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize()[..16])
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
