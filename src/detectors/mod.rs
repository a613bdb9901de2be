//! Native (Rust) detectors and their registry.
//!
//! A detector is small and infallible: it looks at one record at a time and pushes findings.
//! Adding one touches its own file, its `detectors/ID.yml` descriptor, and one line below.

use crate::alert::finding::Finding;
use crate::record::{Record, RecordError};

mod cmk_downgrade;
mod data_copied_out;
mod exposure;
mod exposure_attrs;
mod exposure_base;
mod exposure_net;
pub mod fips_endpoint;
mod fips_hosts;
pub(crate) mod fips_policy;
mod instance_credentials;
mod kms_key_loss;
mod kms_key_policy;
mod kms_ref;
mod policy_cond;
mod policy_doc;
mod protection_disabled;
mod resource_public;
mod resource_shared;
mod sensitive_tag;
pub mod tls_absent;
pub(crate) mod tls_outdated;
pub(crate) mod trusted;
mod url_credentials;

pub use fips_policy::FipsPolicy;
pub use trusted::TrustedAccounts;

pub use crate::scan::Detector;

/// The findings of `detector` on one record given as JSON text, owning their text: for the
/// descriptors' inline tests (`detectors test`) and the detectors' own tests.
pub fn findings_in(
    detector: &mut dyn Detector,
    text: &[u8],
) -> Result<Vec<Finding<'static>>, RecordError> {
    let record = Record::parse(text)?;
    let mut out = Vec::new();
    detector.inspect(&record, &mut out);
    Ok(out.into_iter().map(Finding::into_owned).collect())
}

/// Run-time settings that native detectors read (validated once by the front end).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Where calls must use FIPS endpoints (`--fips-required`, `TRAILWATCH_FIPS_REQUIRED`).
    pub fips_required: FipsPolicy,
    /// Accounts and organizations whose grants are expected (`--trusted-accounts`,
    /// `TRAILWATCH_TRUSTED_ACCOUNTS`).
    pub trusted_accounts: TrustedAccounts,
}

type Factory = fn(&Settings) -> Box<dyn Detector>;

/// Every native detector: id and constructor. One line per detector.
pub const NATIVE: &[(&str, Factory)] = &[
    (tls_outdated::ID, |_| Box::new(tls_outdated::TlsOutdated)),
    (kms_key_policy::ID, |_| {
        Box::new(kms_key_policy::KmsKeyPolicy)
    }),
    (kms_key_loss::ID, |_| Box::new(kms_key_loss::KmsKeyLoss)),
    (cmk_downgrade::ID, |_| Box::new(cmk_downgrade::CmkDowngrade)),
    (tls_absent::ID, |_| Box::new(tls_absent::TlsAbsent)),
    (fips_endpoint::ID, |s| {
        Box::new(fips_endpoint::FipsEndpoint::new(s.fips_required.clone()))
    }),
    (url_credentials::ID, |_| {
        Box::new(url_credentials::UrlCredentials)
    }),
    (sensitive_tag::ID, |_| Box::new(sensitive_tag::SensitiveTag)),
    (resource_public::ID, |_| {
        Box::new(resource_public::ResourcePublic)
    }),
    (data_copied_out::ID, |s| {
        Box::new(data_copied_out::DataCopiedOut::new(
            s.trusted_accounts.clone(),
        ))
    }),
    (instance_credentials::ID, |_| {
        Box::new(instance_credentials::InstanceCredentials::default())
    }),
    (protection_disabled::ID, |_| {
        Box::new(protection_disabled::ProtectionDisabled)
    }),
    (resource_shared::ID, |s| {
        Box::new(resource_shared::ResourceShared::new(
            s.trusted_accounts.clone(),
        ))
    }),
];

/// Builds the native detector with this id.
pub fn native(id: &str, settings: &Settings) -> Option<Box<dyn Detector>> {
    NATIVE
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, make)| make(settings))
}
