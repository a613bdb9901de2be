//! Rules as data: the catalog of detector descriptors, filters and accounts, and the Sigma
//! engine.
//!
//! The catalog is a small pipeline: a rule file is found and read ([`source`]), its YAML
//! shape parsed with serde ([`raw`]), checked and compiled into a typed [`descriptor`] whose
//! [`kind`] is native, Sigma or correlation (or the file is filters, or accounts: [`entry`]),
//! and the [`catalog`] assembles them and links the correlation rules ([`link`]). Built-in
//! files are read from the JSON the build made of them (YAML is slow to read), and a file's
//! `tests:` only when they run ([`tests_text`]). The pipeline wraps the detectors behind the
//! filters ([`filtered`]); [`inline`] runs the files' inline tests.
//!
//! A module imports only modules below it. Bottom up, with what each imports of `rules/`:
//!
//! ```text
//! inline          catalog, filter, filtered          runs inline tests (rules, correlations, filters)
//! filter_inline   inline                             (the old path of the filter test runner)
//! filtered        catalog, accounts, filter, sigma   the filters in the pipeline
//! catalog         entry, link, descriptor, kind,     the catalog: load, push, link, detectors
//!                 raw, accounts, filter, source,
//!                 error, sigma_detector
//! entry           descriptor, filter, source         one file, typed: rule, filters or accounts
//! link            descriptor, error                  correlation rules linked to base rules
//! descriptor      kind, raw, source, error,          a rule checked and compiled
//!                 sigma_detector, tests_text
//! kind            sigma                              native | Sigma | correlation, as a type
//! raw             error, sigma, tests_text           a rule file's YAML shape (serde)
//! tests_text      raw                                a file's `tests:`, read on first use
//! sigma_detector  sigma                              Sigma rules as one detector
//! filter          filter_file, filter_probe, error,  filter files, checked and compiled
//!                 source, dates, sigma
//! filter_probe    sigma                              what a filter's condition is checked on
//! filter_file     -                                  a filter file's YAML shape (serde)
//! accounts        error, source                      accounts files
//! sigma/          -                                  the Sigma engine
//! dates           -                                  `YYYY-MM-DD` dates
//! source          error                              file names, listing, reading, EMBEDDED
//! error           -                                  CatalogError
//! ```

pub(crate) mod accounts;
pub(crate) mod catalog;
pub(crate) mod dates;
mod descriptor;
mod entry;
mod error;
pub(crate) mod filter;
mod filter_file;
pub(crate) mod filter_inline;
mod filter_probe;
pub(crate) mod filtered;
pub(crate) mod inline;
mod kind;
mod link;
mod raw;
pub mod sigma;
pub mod sigma_detector;
mod source;
mod tests_text;
