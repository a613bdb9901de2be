//! The TLS version a record names (`tlsDetails.tlsVersion`), as a value that compares.

/// A TLS (or SSL) protocol version as CloudTrail writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Ssl(u8, u8),
    Tls(u8, u8),
}

impl TlsVersion {
    /// Lenient parse: `TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`, `1.3`, `TLS 1.2`, `SSLv3`.
    /// `None` for anything else (real logs hold junk such as the literal `tlsVersion`).
    pub fn parse(text: &str) -> Option<TlsVersion> {
        // What nearly every record says, without the lower-cased copy.
        match text {
            "TLSv1.3" => return Some(TlsVersion::Tls(1, 3)),
            "TLSv1.2" => return Some(TlsVersion::Tls(1, 2)),
            _ => {}
        }
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        let (ssl, rest) = if let Some(r) = lower
            .strip_prefix("sslv")
            .or_else(|| lower.strip_prefix("ssl"))
        {
            (true, r)
        } else if let Some(r) = lower
            .strip_prefix("tlsv")
            .or_else(|| lower.strip_prefix("tls"))
        {
            (false, r)
        } else {
            (false, lower.as_str())
        };
        let rest = rest.trim_start_matches([' ', '_']);
        let (major, minor) = match rest.split_once('.') {
            Some((a, b)) => (a.parse::<u8>().ok()?, b.parse::<u8>().ok()?),
            None => (rest.parse::<u8>().ok()?, 0),
        };
        let v = if ssl {
            TlsVersion::Ssl(major, minor)
        } else {
            TlsVersion::Tls(major, minor)
        };
        match v {
            TlsVersion::Ssl(2..=3, 0) | TlsVersion::Tls(1, 0..=3) => Some(v),
            _ => None,
        }
    }

    pub fn is_outdated(self) -> bool {
        self < TlsVersion::Tls(1, 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(version: &str, expect: Option<bool>) {
        assert_eq!(
            TlsVersion::parse(version).map(TlsVersion::is_outdated),
            expect,
            "{version}"
        );
    }

    #[test]
    fn parses_real_and_odd_versions() {
        check("TLSv1", Some(true));
        check("TLSv1.1", Some(true));
        check("SSLv3", Some(true));
        check("TLSv1.2", Some(false));
        check("TLSv1.3", Some(false));
        check("1.3", Some(false));
        check("1.0", Some(true));
        check("TLS 1.1", Some(true));
        check("tlsVersion", None);
        check("", None);
        check("TLSv9.9", None);
    }
}
