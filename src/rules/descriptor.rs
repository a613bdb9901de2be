//! A typed descriptor: one rule of the catalog, parsed ([`super::raw`]), checked and compiled.
//!
//! A descriptor is a Sigma rule plus our keys (`name`, `remediation`, `group_by`, `dedup`,
//! `tests`); native detectors have `native: <id>` in place of `detection`, correlation rules
//! a `correlation` block. What it is, is its [`Kind`].
//!
//! Imports [`super::error`], [`super::source`], [`super::raw`], [`super::kind`] and the Sigma
//! detector.

use super::error::CatalogError;
use super::kind::{Kind, Written};
use super::raw::{InlineTest, RawDescriptor};
use super::source::file_stem;
use super::tests_text::Tests;
use crate::alert::finding::DetectorId;
use crate::alert::severity::{Severity, UnknownSeverity};
use crate::alert::DetectorMeta;
use crate::correlate::time;
use crate::detectors::{self, Detector, Settings};
use crate::rules::sigma_detector::{SigmaRule, SigmaRules, SigmaSet};
use std::sync::Arc;

/// One rule of the catalog, loaded.
#[derive(Debug, Clone)]
pub struct Descriptor {
    /// Its title.
    pub title: String,
    /// The Sigma rule id, if given.
    pub id: Option<String>,
    /// Our stable id, if given (else the native id, else the file stem).
    pub name: Option<String>,
    /// Links about it.
    pub references: Vec<String>,
    /// Sigma tags (`attack.t1078`).
    pub tags: Vec<String>,
    /// What to do about a finding.
    pub remediation: Option<String>,
    /// What to do, per resource type, where `remediation` does not fit.
    pub remediation_by: std::collections::BTreeMap<String, String>,
    /// The record fields its findings carry (for correlation rules to group by).
    pub group_by: Vec<String>,
    /// Further fields its findings carry because a correlation rule of the catalog groups or
    /// counts by them (set when the catalog links its correlations).
    pub carry: Vec<String>,
    /// A deduplication window, in seconds: alerts for the same subject within it are
    /// published once, then summarised.
    pub dedup: Option<i64>,
    /// The inline tests ([`Descriptor::tests`]), read on first use.
    tests: Tests,
    /// Where it came from (a file name for embedded ones, a path otherwise).
    pub source: String,
    /// Native, Sigma or correlation.
    pub kind: Kind,
    /// `level`, else medium.
    severity: Severity,
    /// [`Descriptor::detector_id`], set at load and shared with every finding.
    shared_id: DetectorId,
    /// `title`, shared with the summaries of a Sigma rule's findings.
    shared_title: Arc<str>,
}

impl Descriptor {
    /// Parses one descriptor; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Descriptor, CatalogError> {
        Descriptor::from_raw(RawDescriptor::parse(text, source)?, source, None)
    }

    /// A built-in rule from the JSON the build made of it (`EMBEDDED_JSON`: reading YAML is
    /// slow), its tests left in `yaml`, its file, until asked for.
    pub fn built_in(
        json: &str,
        yaml: &'static str,
        source: &str,
    ) -> Result<Descriptor, CatalogError> {
        let raw: RawDescriptor =
            serde_json::from_str(json).map_err(|e| CatalogError::invalid(source, e.to_string()))?;
        let mut d = Descriptor::from_raw(raw, source, None)?;
        d.tests = Tests::in_file(yaml);
        Ok(d)
    }

    /// Every rule of a file of one or more YAML documents (`---` between them), as the Sigma
    /// specification writes a base rule and its correlation in one file. A document without
    /// `name` is the file stem, then `-2`, `-3`... (as for filters). Nothing is returned
    /// unless every document loads.
    pub fn parse_all(text: &str, source: &str) -> Result<Vec<Descriptor>, CatalogError> {
        let docs = RawDescriptor::parse_all(text, source)?;
        docs.into_iter()
            .enumerate()
            .map(|(i, raw)| Descriptor::from_raw(raw, source, (i > 0).then_some(i + 1)))
            .collect()
    }

    /// Checks and compiles a rule file's keys: exactly one kind, inline tests of the shape
    /// the kind needs, a valid `dedup` and `level`, a known native id, a detection that
    /// compiles. `nth` is the document's place in a file of several (from 2).
    pub fn from_raw(
        raw: RawDescriptor,
        source: &str,
        nth: Option<usize>,
    ) -> Result<Descriptor, CatalogError> {
        let invalid = |message: String| match nth {
            Some(n) => CatalogError::invalid(source, format!("document {n}: {message}")),
            None => CatalogError::invalid(source, message),
        };
        let written = Written::of(raw.native, raw.detection, raw.correlation).map_err(invalid)?;
        let tests = match raw.tests_later {
            Some(text) => Tests::later(text),
            None => {
                check_tests(&raw.tests, written.is_correlation(), written.is_native())
                    .map_err(invalid)?;
                Tests::parsed(raw.tests)
            }
        };
        let dedup = match &raw.dedup {
            None => None,
            Some(span) => Some(
                time::parse_duration(span)
                    .ok_or_else(|| invalid(format!("`dedup: {span}` is not {}", time::DURATION)))?,
            ),
        };
        let severity = match &raw.level {
            None => Severity::Medium,
            Some(level) => level
                .parse()
                .map_err(|e: UnknownSeverity| invalid(e.to_string()))?,
        };
        let kind = written.compile(raw.logsource.as_ref()).map_err(invalid)?;
        let id = raw
            .name
            .clone()
            .or_else(|| kind.native().map(str::to_owned))
            .unwrap_or_else(|| match nth {
                Some(n) => format!("{}-{n}", file_stem(source)),
                None => file_stem(source),
            });
        Ok(Descriptor {
            shared_id: DetectorId::from(Arc::<str>::from(id)),
            shared_title: Arc::from(raw.title.as_str()),
            title: raw.title,
            id: raw.id,
            name: raw.name,
            references: raw.references,
            tags: raw.tags,
            remediation: raw.remediation,
            remediation_by: raw.remediation_by,
            group_by: raw.group_by,
            carry: Vec::new(),
            dedup,
            tests,
            source: source.to_owned(),
            kind,
            severity,
        })
    }

    /// The inline tests, read (and checked for the shape the kind needs) on first use.
    pub fn tests(&self) -> Result<&[InlineTest], CatalogError> {
        let invalid = |message: String| CatalogError::invalid(&self.source, message);
        let tests = self.tests.get().map_err(|e| invalid(e.to_owned()))?;
        let (correlation, native) = (
            self.kind.correlation().is_some(),
            self.kind.native().is_some(),
        );
        check_tests(tests, correlation, native).map_err(invalid)?;
        Ok(tests)
    }

    /// The stable detector id: `name`, else the native id, else the file stem.
    pub fn detector_id(&self) -> &str {
        &self.shared_id
    }

    /// Its `level`, medium when not given.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// What an alert says of the detector.
    pub fn meta(&self) -> DetectorMeta {
        DetectorMeta {
            title: self.title.clone(),
            remediation: self.remediation.clone().unwrap_or_default(),
            remediation_by: self.remediation_by.clone(),
            references: self.references.clone(),
            tags: self.tags.clone(),
        }
    }

    /// The compiled rule of a Sigma descriptor that applies to CloudTrail.
    pub fn sigma_rule(&self) -> Option<SigmaRule> {
        Some(SigmaRule {
            id: self.shared_id.clone(),
            title: Arc::clone(&self.shared_title),
            severity: self.severity(),
            group_by: self.group_by.clone(),
            carry: self.carry.clone(),
            matcher: Arc::clone(self.kind.matcher()?),
        })
    }

    /// A fresh detector for this descriptor alone (`None` for a skipped Sigma rule or a
    /// correlation rule).
    pub fn build(&self, settings: &Settings) -> Option<Box<dyn Detector>> {
        if let Some(id) = self.kind.native() {
            return detectors::native(id, settings);
        }
        let set = SigmaSet::new(vec![self.sigma_rule()?]);
        Some(Box::new(SigmaRules::new(Arc::new(set))))
    }
}

/// Checks that the inline tests give what the descriptor's kind needs: `records` (a sequence)
/// for a correlation, one `record` for a Sigma rule, either for a native detector (one that
/// judges a delivery is tested on its records in order).
fn check_tests(tests: &[InlineTest], correlation: bool, native: bool) -> Result<(), String> {
    for t in tests {
        let (one, many) = (!t.record.is_null(), !t.records.is_empty());
        let fits = match () {
            _ if correlation => !one && many,
            _ if native => one != many,
            _ => one && !many,
        };
        if !fits {
            let needs = if correlation {
                "a correlation rule is tested on `records` (a list)"
            } else if native {
                "needs one `record`, or `records` (a list)"
            } else {
                "needs one `record`"
            };
            return Err(format!("test `{}`: {needs}", t.name));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "descriptor_tests.rs"]
mod tests;
