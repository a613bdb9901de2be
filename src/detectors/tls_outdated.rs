//! `tls-outdated`: a call made over TLS older than 1.2 (or SSL).

use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::tls::TlsVersion;
use crate::record::Record;

pub const ID: &str = "tls-outdated";

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
