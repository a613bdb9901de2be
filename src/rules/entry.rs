//! One file of a detectors directory, typed by what it holds: a rule (native, Sigma or
//! correlation: [`Descriptor`]), filters, or an accounts file.
//!
//! Imports [`super::error`], [`super::source`], [`super::accounts`], [`super::filter`] and
//! [`super::descriptor`].

use super::descriptor::Descriptor;
use super::error::CatalogError;
use super::filter::{is_filter, Filter};
use super::source::is_accounts_file;

/// A rule file, parsed.
pub enum Entry {
    /// The rules of a file (one, or several YAML documents): native, Sigma or correlation.
    Rules(Vec<Descriptor>),
    /// The filters of a filter file (one or more documents).
    Filters(Vec<Filter>),
    /// An accounts file: its text and name, read when the catalog adds it (an account may
    /// not be listed by two files).
    Accounts {
        /// The file's text.
        text: String,
        /// Its name.
        source: String,
    },
}

impl Entry {
    /// Parses the file `source` by its name (an accounts file) or its keys (a `filter:`).
    pub fn parse(text: &str, source: &str) -> Result<Entry, CatalogError> {
        if is_accounts_file(source) {
            Ok(Entry::Accounts {
                text: text.to_owned(),
                source: source.to_owned(),
            })
        } else if is_filter(text) {
            Filter::parse_all(text, source).map(Entry::Filters)
        } else {
            Descriptor::parse_all(text, source).map(Entry::Rules)
        }
    }
}
