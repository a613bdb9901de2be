//! Rules as data: the catalog of detector descriptors and the Sigma engine.

pub(crate) mod catalog;
pub(crate) mod correlation;
pub(crate) mod glob;
pub mod sigma;
pub mod sigma_detector;
