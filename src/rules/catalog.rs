//! The detector catalog: every rule file of `detectors/` (embedded at build time) and of the
//! extra directories or rule sources, parsed once and linked.
//!
//! Imports what is below it in `rules/` (see the module map in `rules/mod.rs`): the files are
//! read ([`super::source`]), typed ([`Entry`]), assembled here, and their correlation rules
//! linked ([`super::link`]).

use super::accounts::Accounts;
use super::entry::Entry;
use super::filter::Filter;
use super::link::link;
use super::source::{self, on_two_threads};
use crate::alert::DetectorMeta;
use crate::correlate::Correlations;
use crate::detectors::{Detector, Settings};
use crate::rules::sigma_detector::{SigmaRules, SigmaSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use super::descriptor::Descriptor;
pub use super::error::CatalogError;
pub use super::kind::Kind;
pub use super::raw::{Expect, InlineTest};
pub use super::source::{rule_files, EMBEDDED};

/// All descriptors: the embedded ones, then those of extra directories.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Every descriptor, in load order.
    pub descriptors: Vec<Descriptor>,
    /// The filters of the same directories (`filter:` files), in load order.
    pub filters: Vec<Arc<Filter>>,
    /// What `accounts` files of the same directories say of each account.
    pub accounts: Arc<Accounts>,
    /// The correlation rules, linked to their base rules ([`Catalog::link`]).
    pub correlations: Arc<Correlations>,
}

impl Catalog {
    /// The built-in descriptors (`detectors/` at build time).
    pub fn embedded() -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        let read = |(name, text): &(&str, &'static str)| match source::built_json(name) {
            Some(json) => Descriptor::built_in(json, text, name).map(|d| Entry::Rules(vec![d])),
            None => Entry::parse(text, name),
        };
        for e in on_two_threads(EMBEDDED, read) {
            catalog.push_entry(e?)?;
        }
        catalog.link()?;
        Ok(catalog)
    }

    /// The built-in detectors plus those of `extra_dirs`, checking that every id in
    /// `disabled` exists. What replay and the Lambda run.
    pub fn load(extra_dirs: &[PathBuf], disabled: &[String]) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::embedded()?;
        for dir in extra_dirs {
            catalog.add_dir(dir)?;
        }
        catalog.link()?;
        catalog.check_ids(disabled, "disabled detectors")?;
        catalog.resolve_filters()?;
        Ok(catalog)
    }

    fn push_entry(&mut self, e: Entry) -> Result<(), CatalogError> {
        match e {
            Entry::Rules(rules) => rules.into_iter().try_for_each(|d| self.push(d)),
            Entry::Filters(filters) => {
                self.filters.extend(filters.into_iter().map(Arc::new));
                Ok(())
            }
            Entry::Accounts { text, source } => {
                Arc::make_mut(&mut self.accounts).add_file(&text, &source)
            }
        }
    }

    /// Links every correlation rule to its base rules, refusing what the engine cannot honour
    /// ([`super::link::link`]).
    pub fn link(&mut self) -> Result<(), CatalogError> {
        self.correlations = Arc::new(link(&mut self.descriptors)?);
        Ok(())
    }

    /// Resolves every filter's `rules:` to detector ids (a detector id or a rule's `id`);
    /// fails on a filter naming nothing known, or naming a correlation rule (link first).
    pub fn resolve_filters(&mut self) -> Result<(), CatalogError> {
        let descriptors = &self.descriptors;
        let lookup = |name: &str| {
            descriptors
                .iter()
                .find(|d| d.detector_id() == name || d.id.as_deref() == Some(name))
                .map(|d| d.detector_id().to_owned())
        };
        for f in &mut self.filters {
            Arc::make_mut(f).resolve(&lookup)?;
            let named = f.detectors.iter().flatten();
            if let Some(c) = named.filter_map(|id| self.correlations.get(id)).next() {
                let message = format!(
                    "`filter.rules` names the correlation rule `{}`: filters act on the findings \
                     of single records, before they are correlated, so this filter would hide \
                     nothing. Filter its base rules instead ({}): the findings a filter drops \
                     are not counted by the correlation, and replay's summary says how many",
                    c.id,
                    c.rule.rules.join(", ")
                );
                return Err(CatalogError::invalid(&f.source, message));
            }
        }
        Ok(())
    }

    /// Adds one descriptor; two descriptors may not share an id.
    pub fn push(&mut self, d: Descriptor) -> Result<(), CatalogError> {
        let id = d.detector_id();
        if let Some(other) = self.descriptors.iter().find(|o| o.detector_id() == id) {
            let message = format!("detector id `{id}` is already used by {}", other.source);
            return Err(CatalogError::invalid(&d.source, message));
        }
        self.descriptors.push(d);
        Ok(())
    }

    /// Fails on an id that names no detector (a typo would silently keep it on); `what` names
    /// the list in the error.
    pub fn check_ids(&self, ids: &[String], what: &str) -> Result<(), CatalogError> {
        match ids
            .iter()
            .find(|id| !self.descriptors.iter().any(|d| d.detector_id() == **id))
        {
            Some(id) => Err(CatalogError::invalid(
                what,
                format!("no detector has the id `{id}`"),
            )),
            None => Ok(()),
        }
    }

    /// Adds files given as (name, text), in order: what a rule source (S3) holds.
    pub fn add_texts(&mut self, files: &[(String, String)]) -> Result<(), CatalogError> {
        for e in on_two_threads(files, |(name, text)| Entry::parse(text, name)) {
            self.push_entry(e?)?;
        }
        Ok(())
    }

    /// Adds every `*.yml` / `*.yaml` of `dir` (not recursive), in name order.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), CatalogError> {
        let load = |path: &PathBuf| {
            let (file, text) = source::read(path)?;
            Entry::parse(&text, &file)
        };
        for e in on_two_threads(&rule_files(dir)?, load) {
            self.push_entry(e?)?;
        }
        Ok(())
    }

    /// Adds one file (a rule, a filter or an accounts file), as [`Catalog::add_dir`] adds each.
    pub fn add_file(&mut self, path: &Path) -> Result<(), CatalogError> {
        let (file, text) = source::read(path)?;
        self.push_entry(Entry::parse(&text, &file)?)
    }

    /// Detectors for every descriptor whose id is not in `disabled`: each native one, and one
    /// detector running all the Sigma rules through their index.
    pub fn detectors(&self, settings: &Settings, disabled: &[String]) -> Vec<Box<dyn Detector>> {
        let mut out: Vec<Box<dyn Detector>> = Vec::new();
        let mut rules = Vec::new();
        for d in &self.descriptors {
            if disabled.iter().any(|id| id == d.detector_id()) {
                continue;
            }
            match d.kind {
                Kind::Native(_) => out.extend(d.build(settings)),
                _ => rules.extend(d.sigma_rule()),
            }
        }
        if !rules.is_empty() {
            out.push(Box::new(SigmaRules::new(Arc::new(SigmaSet::new(rules)))));
        }
        out
    }

    /// Title, remediation and references of detector `id`.
    pub fn meta(&self, id: &str) -> Option<DetectorMeta> {
        self.descriptors
            .iter()
            .find(|d| d.detector_id() == id)
            .map(Descriptor::meta)
    }

    /// The deduplication windows of the descriptors that set one: (detector id, seconds).
    pub fn dedup_windows(&self) -> Vec<(String, i64)> {
        self.descriptors
            .iter()
            .filter_map(|d| Some((d.detector_id().to_owned(), d.dedup?)))
            .collect()
    }
}

/// Detector ids from a comma-separated list (blanks ignored).
#[cfg_attr(not(feature = "lambda"), allow(dead_code))]
pub fn parse_ids(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
