//! Native (Rust) detectors and their registry.
//!
//! A detector is small and infallible: it looks at one record at a time and pushes findings.
//! Adding one touches its own file, its `detectors/ID.yml` descriptor, and one line below.

use crate::finding::Finding;
use crate::record::Record;

pub mod sensitive_tag;
pub mod tls_outdated;
pub mod url_credentials;

pub trait Detector: Send {
    fn id(&self) -> &'static str;
    fn inspect(&mut self, record: &Record<'_>, out: &mut Vec<Finding>);
    /// End of one delivery.
    fn finish(&mut self, _out: &mut Vec<Finding>) {}
}

/// Run-time settings that native detectors read (validated once by the front end).
#[derive(Debug, Clone, Default)]
pub struct Settings {}

type Factory = fn(&Settings) -> Box<dyn Detector>;

/// Every native detector: id and constructor. One line per detector.
pub const NATIVE: &[(&str, Factory)] = &[
    (tls_outdated::ID, |_| Box::new(tls_outdated::TlsOutdated)),
    (url_credentials::ID, |_| {
        Box::new(url_credentials::UrlCredentials)
    }),
    (sensitive_tag::ID, |_| Box::new(sensitive_tag::SensitiveTag)),
];

/// Builds the native detector with this id.
pub fn native(id: &str, settings: &Settings) -> Option<Box<dyn Detector>> {
    NATIVE
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, make)| make(settings))
}
