//! `tls-absent`: a client call to a service that records `tlsDetails`, recorded without them.
//!
//! Missing `tlsDetails` alone proves nothing: AWS services calling on a customer's behalf,
//! console sessions and many services never record it. This detector fires only when every
//! excuse is ruled out: an `AwsApiCall` from an IP address (not a service name), not invoked by
//! an AWS service, not a console session, no `additionalEventData.CipherSuite` (S3's own record
//! of the TLS cipher), and an event source listed in `tls_services.txt`.

use super::Detector;
use crate::alert::finding::Finding;
use crate::alert::severity::Severity;
use crate::record::Record;
use std::net::IpAddr;
use std::sync::OnceLock;

/// The detector id.
pub const ID: &str = "tls-absent";

const SERVICES_TEXT: &str = include_str!("tls_services.txt");

/// Event sources whose records carry `tlsDetails` (sorted, for binary search).
pub fn tls_services() -> &'static [&'static str] {
    static SERVICES: OnceLock<Vec<&'static str>> = OnceLock::new();
    SERVICES.get_or_init(|| {
        let mut v: Vec<&str> = SERVICES_TEXT
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    })
}

/// Whether the service records `tlsDetails` for client calls (so their absence says something).
pub fn records_tls_details(event_source: &str) -> bool {
    tls_services().binary_search(&event_source).is_ok()
}

/// An IPv4 or IPv6 address, as opposed to a service name (`ec2.amazonaws.com`, `AWS Internal`).
/// Dotted quads with leading zeros count (anonymised logs write them).
pub fn is_ip_address(text: &str) -> bool {
    if text.parse::<IpAddr>().is_ok() {
        return true;
    }
    let octets: Vec<&str> = text.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|o| {
            (1..=3).contains(&o.len())
                && o.bytes().all(|b| b.is_ascii_digit())
                && o.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// Client calls recorded without TLS details by a service that records them.
pub struct TlsAbsent;

impl Detector for TlsAbsent {
    fn id(&self) -> &'static str {
        ID
    }

    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>) {
        if record.tls_details.is_some() || record.event_type.as_deref() != Some("AwsApiCall") {
            return;
        }
        let source_ip = record.source_ip();
        if !is_ip_address(source_ip) || record.session_credential_from_console == Some(true) {
            return;
        }
        if record.invoked_by().is_some() {
            return;
        }
        let service = record.event_source();
        if !records_tls_details(service) || has_cipher_suite(record) {
            return;
        }
        let summary = format!(
            "{} on {service} from {source_ip} was recorded without TLS details, although this \
             service records them for client calls: the call may have used plain HTTP",
            record.event_name(),
        );
        out.push(
            Finding::new(ID, Severity::Low, record, service, summary)
                .with("event_source", service)
                .with("source_ip", source_ip),
        );
    }
}

/// S3 writes the negotiated cipher to `additionalEventData.CipherSuite`.
fn has_cipher_suite(record: &Record<'_>) -> bool {
    Record::parse_part(record.additional_event_data)
        .and_then(|v| {
            v.get("CipherSuite")
                .and_then(|c| c.as_str())
                .map(|c| !c.is_empty())
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fires(extra: &str) -> usize {
        let text = format!(
            r#"{{"eventType":"AwsApiCall","eventName":"GetObject","eventSource":"s3.amazonaws.com",
            "userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci"}}{extra}}}"#
        );
        let r = Record::parse(text.as_bytes()).unwrap();
        let mut out = Vec::new();
        TlsAbsent.inspect(&r, &mut out);
        out.len()
    }

    #[test]
    fn fires_on_client_call_without_tls() {
        assert_eq!(fires(r#","sourceIPAddress":"203.0.113.7""#), 1);
        assert_eq!(fires(r#","sourceIPAddress":"2001:db8::7""#), 1);
        assert_eq!(
            fires(
                r#","sourceIPAddress":"203.0.113.7","additionalEventData":{"SignatureVersion":"SigV4"}"#
            ),
            1
        );
    }

    #[test]
    fn every_excuse_silences_it() {
        for extra in [
            r#","sourceIPAddress":"s3.amazonaws.com""#,
            r#","sourceIPAddress":"AWS Internal""#,
            r#","sourceIPAddress":"203.0.113.7","sessionCredentialFromConsole":"true""#,
            r#","sourceIPAddress":"203.0.113.7","tlsDetails":{"tlsVersion":"TLSv1.3"}"#,
            r#","sourceIPAddress":"203.0.113.7","additionalEventData":{"CipherSuite":"TLS_AES_128_GCM_SHA256"}"#,
        ] {
            assert_eq!(fires(extra), 0, "{extra}");
        }
        let r = Record::parse(
            br#"{"eventType":"AwsServiceEvent","eventSource":"s3.amazonaws.com","sourceIPAddress":"203.0.113.7"}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        TlsAbsent.inspect(&r, &mut out);
        assert!(out.is_empty());
    }
    #[test]
    fn services_without_tls_details_are_ignored() {
        let r = Record::parse(br#"{"eventType":"AwsApiCall","eventSource":"guardduty.amazonaws.com","sourceIPAddress":"203.0.113.7"}"#).unwrap();
        let mut out = Vec::new();
        TlsAbsent.inspect(&r, &mut out);
        assert!(out.is_empty());
        assert!(
            records_tls_details("kms.amazonaws.com")
                && !records_tls_details("notifications.amazonaws.com")
        );
        assert!(tls_services().len() > 140);
    }

    #[test]
    fn tells_addresses_from_service_names() {
        for ip in [
            "203.0.113.7",
            "035.249.253.232",
            "::1",
            "2001:db8::7",
            "10.0.0.1",
        ] {
            assert!(is_ip_address(ip), "{ip}");
        }
        for name in [
            "ec2.amazonaws.com",
            "AWS Internal",
            "",
            "1.2.3",
            "1.2.3.256",
            "a.b.c.d",
        ] {
            assert!(!is_ip_address(name), "{name}");
        }
    }
}
