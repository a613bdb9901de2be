//! `tls-outdated`: a call made over TLS older than 1.2 (or SSL).

use super::Detector;
use crate::finding::Finding;
use crate::record::Record;
use crate::severity::Severity;

pub const ID: &str = "tls-outdated";

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

pub struct TlsOutdated;

impl Detector for TlsOutdated {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        let Some(text) = record.tls_version() else {
            return;
        };
        let Some(version) = TlsVersion::parse(text) else {
            return;
        };
        if !version.is_outdated() {
            return;
        }
        let host = record.tls_host().unwrap_or("");
        let cipher = record
            .tls_details
            .as_ref()
            .and_then(|t| t.cipher_suite.as_deref())
            .unwrap_or("");
        let summary = format!(
            "{} called {} over {}",
            record.event_name(),
            host_or_source(host, record),
            text
        );
        out.push(
            Finding::new(ID, Severity::Medium, record, host, summary)
                .with("tls_version", text)
                .with("cipher_suite", cipher)
                .with("host", host),
        );
    }
}

fn host_or_source<'r>(host: &'r str, record: &'r Record<'_>) -> &'r str {
    if host.is_empty() {
        record.event_source()
    } else {
        host
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

    #[test]
    fn fires_on_outdated_only() {
        let mut d = TlsOutdated;
        for (v, fires) in [("TLSv1", true), ("TLSv1.2", false), ("junk", false)] {
            let text = format!(
                r#"{{"eventName":"ListBuckets","tlsDetails":{{"tlsVersion":"{v}","clientProvidedHostHeader":"s3.amazonaws.com"}}}}"#
            );
            let out = crate::detectors::findings_in(&mut d, text.as_bytes()).unwrap();
            assert_eq!(out.len(), usize::from(fires), "{v}");
        }
    }
}
