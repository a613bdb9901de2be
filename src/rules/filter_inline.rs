//! A filter's inline tests, by their old path: the runner is [`super::inline::run_filter`],
//! beside the rules' own, so that every inline test runs from one module.

pub use super::inline::run_filter as run;
