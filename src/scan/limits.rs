//! What one delivery may cost, whatever its bytes. CloudTrail never writes an event over
//! 256 KB nor a log file over 50 MB compressed (about 1 GB of JSON); anything far beyond is
//! hostile or broken, and must cost bounded memory and time while the records around it are
//! still analysed.

/// The bounds of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// An element of `Records` larger than this (bytes) is skipped unread: streamed past,
    /// never buffered, and reported with its offset.
    pub max_record: u64,
    /// Uncompressed bytes read at most: past it the scan stops (what was read is analysed).
    pub max_uncompressed: u64,
    /// Uncompressed bytes per compressed byte at most, once [`RATIO_AFTER`] bytes are out:
    /// CloudTrail's JSON compresses about 10 to 30 times, whitespace or repeated bytes a
    /// thousand times (deflate's most). Measured against the compressed bytes read so far,
    /// which run ahead of the decoder: the ratio is never overstated.
    pub max_ratio: u64,
    /// Also hash the uncompressed bytes (SHA-256, on the reading thread): what CloudTrail's
    /// digest files list for each log file ([`crate::ScanReport::sha256`]).
    pub hash: bool,
}

/// The expansion ratio is judged past this many uncompressed bytes (a small file may
/// compress far better than a large one).
pub const RATIO_AFTER: u64 = 64 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record: 1 << 20,
            max_uncompressed: 4 << 30,
            max_ratio: 500,
            hash: false,
        }
    }
}

const UNITS: &str =
    "bytes, or K, M, G in binary units (1M = 1MB = 1MiB = 1048576), such as 512KiB, 4GiB";

/// A size such as `1MiB`, `4GiB`, `512KiB` or `1048576` (bytes; `K`, `M`, `G` are binary too).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => {
            return Err(format!(
                "`{text}` is not a size (such as 1MiB, 4GiB, 65536)"
            ))
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("`{text}` is not a size above 0: {UNITS}"))
}

/// `1 MiB`, `4 GiB`, `300 bytes`: a size as a person reads it.
pub fn human(bytes: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{} {unit}", bytes >> shift);
        }
        if bytes >= 1 << shift {
            return format!("{:.1} {unit}", bytes as f64 / (1u64 << shift) as f64);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_and_written() {
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size(" 4 GiB "), Ok(4 << 30));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("65536"), Ok(65536));
        for bad in ["", "0", "1TB", "-1", "lots", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(human(1 << 20), "1 MiB");
        assert_eq!(human(400_000_123), "381.5 MiB");
        assert_eq!(human(300), "300 bytes");
    }
}
