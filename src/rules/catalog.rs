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
        for (e, (_, text)) in on_two_threads(EMBEDDED, read).into_iter().zip(EMBEDDED) {
            catalog.push_entry(e?, text)?;
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

    /// Adds what one file (`text`) holds.
    fn push_entry(&mut self, e: Entry, text: &str) -> Result<(), CatalogError> {
        match e {
            Entry::Rules(rules) => rules.into_iter().try_for_each(|d| self.admit(d, text)),
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

    /// The filters past their `expires` day today, which are not applied ([`Filter::expiry`]).
    pub fn expired_filters(&self) -> Vec<String> {
        let today = super::dates::today();
        self.filters
            .iter()
            .filter_map(|f| f.expiry(&today))
            .collect()
    }

    /// Adds one descriptor; two descriptors may not share an id.
    pub fn push(&mut self, d: Descriptor) -> Result<(), CatalogError> {
        self.admit(d, "")
    }

    /// Adds one descriptor read from `text`, the rule every loader follows (replay, the Lambda,
    /// `detectors check` and `test`): two descriptors may not share an id, except that a file
    /// that is a copy of a built-in rule's file (the shipped `detectors/` folder given again)
    /// adds nothing.
    pub fn admit(&mut self, d: Descriptor, text: &str) -> Result<(), CatalogError> {
        if self.clash(&d, text)? {
            self.descriptors.push(d);
        }
        Ok(())
    }

    /// Whether `d` (read from `text`) is new here; `false` for a copy of a built-in rule's
    /// file; an error naming both files when its id is taken ([`Catalog::admit`]).
    pub fn clash(&self, d: &Descriptor, text: &str) -> Result<bool, CatalogError> {
        let id = d.detector_id();
        let Some(other) = self.descriptors.iter().find(|o| o.detector_id() == id) else {
            return Ok(true);
        };
        let built_in = EMBEDDED.iter().find(|(name, _)| *name == other.source);
        let message = match built_in {
            Some((_, same)) if !text.is_empty() && *same == text => return Ok(false),
            Some((name, _)) => format!("detector id `{id}` is already used by the built-in {name}"),
            None => format!("detector id `{id}` is already used by {}", other.source),
        };
        Err(CatalogError::invalid(&d.source, message))
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
        let parsed = on_two_threads(files, |(name, text)| Entry::parse(text, name));
        for (e, (_, text)) in parsed.into_iter().zip(files) {
            self.push_entry(e?, text)?;
        }
        Ok(())
    }

    /// Adds every `*.yml` / `*.yaml` of `dir` (not recursive), in name order.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), CatalogError> {
        let load = |path: &PathBuf| {
            let (file, text) = source::read(path)?;
            Entry::parse(&text, &file).map(|e| (e, text))
        };
        for loaded in on_two_threads(&rule_files(dir)?, load) {
            let (e, text) = loaded?;
            self.push_entry(e, &text)?;
        }
        Ok(())
    }

    /// [`Catalog::add_file`] for a catalog of files alone (`detectors test`): a rule whose id a
    /// rule of `builtin` holds is refused as a run would refuse it, unless the file is a copy
    /// of the built-in one (then it is kept, to be tested).
    pub fn add_file_beside(&mut self, path: &Path, builtin: &Catalog) -> Result<(), CatalogError> {
        let (file, text) = source::read(path)?;
        let entry = Entry::parse(&text, &file)?;
        if let Entry::Rules(rules) = &entry {
            for d in rules {
                builtin.clash(d, &text)?;
            }
        }
        self.push_entry(entry, &text)
    }

    /// Adds one file (a rule, a filter or an accounts file), as [`Catalog::add_dir`] adds each.
    pub fn add_file(&mut self, path: &Path) -> Result<(), CatalogError> {
        let (file, text) = source::read(path)?;
        self.push_entry(Entry::parse(&text, &file)?, &text)
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
