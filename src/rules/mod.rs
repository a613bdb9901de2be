//! Rules as data: the catalog of detector descriptors and the Sigma engine.

pub mod accounts;
pub mod catalog;
pub mod dates;
pub mod filter;
pub mod filter_inline;
pub mod filtered;
pub(crate) mod glob;
pub mod sigma;
pub mod sigma_detector;
