//! Rules as data: the catalog of detector descriptors and the Sigma engine.

pub(crate) mod accounts;
pub(crate) mod catalog;
pub(crate) mod correlation;
pub(crate) mod dates;
pub(crate) mod filter;
pub(crate) mod filter_inline;
pub(crate) mod filtered;
pub mod sigma;
pub mod sigma_detector;
