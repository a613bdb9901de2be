//! The detector catalog: every file of `detectors/` (embedded at build time), parsed once.
//!
//! A descriptor is a Sigma rule plus our keys (`name`, `remediation`, `group_by`, `tests`);
//! native detectors have `native: <id>` in place of `detection`.

use super::accounts::{is_accounts_file, Accounts};
use super::correlation::check_tests;
use super::filter::{is_filter, Filter};
use super::sigma_detector::{SigmaRule, SigmaRules, SigmaSet};
use crate::alert::finding::DetectorId;
use crate::alert::severity::Severity;
use crate::alert::DetectorMeta;
use crate::correlate::rule::Correlation;
use crate::correlate::Correlations;
use crate::detectors::{self, Detector, Settings};
use crate::rules::sigma::{self, SigmaMatcher};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/embedded_detectors.rs"));

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptor {
    pub title: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub date: Option<serde_json::Value>,
    #[serde(default)]
    pub modified: Option<serde_json::Value>,
    /// Sigma metadata kept as given: `related`, `license`, `fields`, `taxonomy`, `scope`.
    #[serde(default)]
    pub related: Option<serde_json::Value>,
    #[serde(default)]
    pub license: Option<serde_json::Value>,
    #[serde(default)]
    pub fields: Option<serde_json::Value>,
    #[serde(default)]
    pub taxonomy: Option<serde_json::Value>,
    #[serde(default)]
    pub scope: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub logsource: Option<serde_json::Value>,
    #[serde(default)]
    pub detection: Option<serde_json::Value>,
    #[serde(default)]
    pub falsepositives: Vec<serde_json::Value>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub native: Option<String>,
    #[serde(default)]
    pub remediation: Option<String>,
    #[serde(default)]
    pub group_by: Vec<String>,
    /// A deduplication window (`60m`): alerts for the same subject within it are published
    /// once, then summarised.
    #[serde(default)]
    pub dedup: Option<String>,
    #[serde(default)]
    pub tests: Vec<InlineTest>,
    /// A Sigma correlation rule's block, or a multi-document rule's `action`: refused, but
    /// read so that the refusal names them (`Some` whenever the key is there, even `null`).
    #[serde(default, deserialize_with = "present")]
    pub(super) correlation: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    action: Option<serde_json::Value>,
    /// Where it came from (a file name for embedded ones, a path otherwise).
    #[serde(skip)]
    pub source: String,
    /// The compiled detection of a Sigma rule that applies to CloudTrail.
    #[serde(skip)]
    pub sigma: Option<Arc<SigmaMatcher>>,
    /// Why a valid Sigma rule is not run (its logsource is not CloudTrail).
    #[serde(skip)]
    pub skipped: Option<String>,
    /// [`Descriptor::detector_id`], set at load and shared with every finding.
    #[serde(skip)]
    shared_id: DetectorId,
    /// `title`, shared with the summaries of a Sigma rule's findings.
    #[serde(skip)]
    shared_title: Arc<str>,
    /// A correlation rule's block, read (its `rules` linked when the catalog loads).
    #[serde(skip)]
    pub correlation_rule: Option<Correlation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineTest {
    pub name: String,
    pub expect: Expect,
    /// The record a detector or Sigma rule is tested on.
    #[serde(default)]
    pub record: serde_json::Value,
    /// The records, in order, a correlation rule is tested on.
    #[serde(default)]
    pub records: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    Match,
    NoMatch,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

impl Descriptor {
    /// Parses one descriptor; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Descriptor, CatalogError> {
        let invalid = |message: String| CatalogError::Invalid {
            file: source.to_owned(),
            message,
        };
        // One parse, straight into the descriptor: YAML scalars become text where text is
        // wanted, and a key given twice is refused.
        let mut d: Descriptor = match serde_norway::from_str(text) {
            Ok(d) => d,
            Err(e) => {
                // A correlation or multi-document rule says so, not how it does not fit.
                if let Ok(doc) = serde_norway::from_str::<serde_json::Value>(text) {
                    sigma::check_rule_kinds(None, doc.get("action"))
                        .map_err(|e| invalid(e.to_string()))?;
                }
                return Err(invalid(e.to_string()));
            }
        };
        sigma::check_rule_kinds(None, d.action.as_ref()).map_err(|e| invalid(e.to_string()))?;
        d.source = source.to_owned();
        let kinds = [
            d.native.is_some(),
            d.detection.is_some(),
            d.correlation.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(invalid(
                "needs exactly one of `native`, `detection` and `correlation`".into(),
            ));
        }
        if let Some(block) = &d.correlation {
            let c = Correlation::parse(block).map_err(|e| invalid(e.to_string()))?;
            check_tests(&d.tests, true).map_err(invalid)?;
            d.correlation_rule = Some(c);
        } else {
            check_tests(&d.tests, false).map_err(invalid)?;
        }
        if let Some(span) = &d.dedup {
            if crate::correlate::time::parse_duration(span).is_none() {
                return Err(invalid(format!(
                    "`dedup: {span}` is not {}",
                    crate::correlate::time::DURATION
                )));
            }
        }
        if let Some(level) = &d.level {
            level
                .parse::<Severity>()
                .map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(id) = &d.native {
            if detectors::native(id, &Settings::default()).is_none() {
                return Err(invalid(format!("unknown native detector `{id}`")));
            }
        }
        if let Some(detection) = &d.detection {
            if sigma::applies_to_cloudtrail(d.logsource.as_ref()) {
                let m = SigmaMatcher::compile(detection).map_err(|e| invalid(e.to_string()))?;
                d.sigma = Some(Arc::new(m));
            } else {
                let ls = d
                    .logsource
                    .as_ref()
                    .map_or(String::new(), |l| l.to_string());
                d.skipped = Some(format!("logsource {ls} is not aws/cloudtrail"));
            }
        }
        d.shared_id = DetectorId::from(Arc::<str>::from(d.id_of_source()));
        d.shared_title = Arc::from(d.title.as_str());
        Ok(d)
    }

    /// `native` or `sigma`.
    pub fn kind(&self) -> &'static str {
        if self.native.is_some() {
            "native"
        } else if self.correlation.is_some() {
            "correlation"
        } else {
            "sigma"
        }
    }

    /// The compiled rule of a Sigma descriptor that applies to CloudTrail.
    pub fn sigma_rule(&self) -> Option<SigmaRule> {
        Some(SigmaRule {
            id: self.shared_id.clone(),
            title: Arc::clone(&self.shared_title),
            severity: self.severity(),
            group_by: self.group_by.clone(),
            matcher: Arc::clone(self.sigma.as_ref()?),
        })
    }

    /// The stable detector id: `name`, else the file stem.
    pub fn detector_id(&self) -> &str {
        &self.shared_id
    }

    /// [`Descriptor::detector_id`] worked out from the descriptor, once, when it loads.
    fn id_of_source(&self) -> String {
        if let Some(n) = self.name.as_ref().or(self.native.as_ref()) {
            return n.clone();
        }
        file_stem(&self.source)
    }

    pub fn severity(&self) -> Severity {
        self.level
            .as_deref()
            .and_then(|l| l.parse().ok())
            .unwrap_or(Severity::Medium)
    }

    pub fn meta(&self) -> DetectorMeta {
        DetectorMeta {
            title: self.title.clone(),
            remediation: self.remediation.clone().unwrap_or_default(),
            references: self.references.clone(),
            tags: self.tags.clone(),
        }
    }

    /// A fresh detector for this descriptor alone (`None` for a skipped Sigma rule).
    pub fn build(&self, settings: &Settings) -> Option<Box<dyn Detector>> {
        if let Some(id) = self.native.as_deref() {
            return detectors::native(id, settings);
        }
        let set = SigmaSet::new(vec![self.sigma_rule()?]);
        Some(Box::new(SigmaRules::new(Arc::new(set))))
    }

    /// Runs the inline tests; returns one line per failure.
    pub fn run_tests(&self, settings: &Settings) -> (usize, Vec<String>) {
        let id = self.detector_id();
        let mut failures = Vec::new();
        if self.skipped.is_some() || self.correlation_rule.is_some() {
            // A correlation's tests need its base rules: `Catalog::run_tests`.
            return (0, failures);
        }
        for t in &self.tests {
            let Some(mut detector) = self.build(settings) else {
                failures.push(format!(
                    "{}: {}: cannot build detector `{id}`",
                    self.source, t.name
                ));
                continue;
            };
            let text = t.record.to_string();
            let mut out =
                detectors::findings_in(&mut *detector, text.as_bytes()).unwrap_or_else(|e| {
                    failures.push(format!(
                        "{}: {}: record does not parse: {e}",
                        self.source, t.name
                    ));
                    Vec::new()
                });
            detector.finish(&mut out);
            let matched = out.iter().any(|f| f.detector == id);
            if matched != (t.expect == Expect::Match) {
                let want = if t.expect == Expect::Match {
                    "a match"
                } else {
                    "no match"
                };
                failures.push(format!(
                    "{}: {}: expected {want}, got {} findings",
                    self.source,
                    t.name,
                    out.len()
                ));
            }
        }
        (self.tests.len(), failures)
    }
}

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

/// One file of a detectors directory: a rule (or native descriptor), or a filter.
enum Entry {
    Rule(Box<Descriptor>),
    Filters(Vec<Filter>),
    /// An accounts file: its text and name.
    Accounts(String, String),
}

impl Entry {
    fn parse(text: &str, source: &str) -> Result<Entry, CatalogError> {
        if is_accounts_file(source) {
            Ok(Entry::Accounts(text.to_owned(), source.to_owned()))
        } else if is_filter(text) {
            Filter::parse_all(text, source).map(Entry::Filters)
        } else {
            Descriptor::parse(text, source).map(|d| Entry::Rule(Box::new(d)))
        }
    }
}

impl Catalog {
    /// The built-in descriptors (`detectors/` at build time).
    pub fn embedded() -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        for e in on_two_threads(EMBEDDED, |(name, text)| Entry::parse(text, name)) {
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
            Entry::Rule(d) => self.push(*d),
            Entry::Filters(filters) => {
                self.filters.extend(filters.into_iter().map(Arc::new));
                Ok(())
            }
            Entry::Accounts(text, source) => {
                Arc::make_mut(&mut self.accounts).add_file(&text, &source)
            }
        }
    }

    /// Resolves every filter's `rules:` to detector ids (a detector id or a rule's `id`);
    /// fails on a filter naming nothing known.
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
        }
        Ok(())
    }

    /// Adds one descriptor; two descriptors may not share an id.
    pub fn push(&mut self, d: Descriptor) -> Result<(), CatalogError> {
        let id = d.detector_id();
        if let Some(other) = self.descriptors.iter().find(|o| o.detector_id() == id) {
            return Err(CatalogError::Invalid {
                file: d.source.clone(),
                message: format!("detector id `{id}` is already used by {}", other.source),
            });
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
            Some(id) => Err(CatalogError::Invalid {
                file: what.to_owned(),
                message: format!("no detector has the id `{id}`"),
            }),
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
            let file = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
                file: file.clone(),
                source,
            })?;
            Entry::parse(&text, &file)
        };
        for e in on_two_threads(&rule_files(dir)?, load) {
            self.push_entry(e?)?;
        }
        Ok(())
    }

    /// Adds one file (a rule, a filter or an accounts file), as [`Catalog::add_dir`] adds each.
    pub fn add_file(&mut self, path: &Path) -> Result<(), CatalogError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            file: file.clone(),
            source,
        })?;
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
            if d.native.is_some() {
                out.extend(d.build(settings));
            } else {
                rules.extend(d.sigma_rule());
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

/// A file's name without its folder and `.yml` / `.yaml`.
pub(crate) fn file_stem(source: &str) -> String {
    let name = Path::new(source)
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    name.trim_end_matches(".yml")
        .trim_end_matches(".yaml")
        .to_owned()
}

/// A key that is there, whatever its value (`null` too).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// `f` of every item, in order, the second half worked on by another thread: rules load before
/// any scan, while the second core has nothing else to do, and YAML is slow to read.
fn on_two_threads<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let (first, second) = items.split_at(items.len() / 2);
    let f = &f;
    std::thread::scope(|s| {
        let other = s.spawn(move || second.iter().map(f).collect::<Vec<R>>());
        let mut out: Vec<R> = first.iter().map(f).collect();
        match other.join() {
            Ok(rest) => out.extend(rest),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        out
    })
}

/// The rule files of a directory, sorted.
pub fn rule_files(dir: &Path) -> Result<Vec<PathBuf>, CatalogError> {
    let io = |source| CatalogError::Io {
        file: dir.display().to_string(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "yml" || e == "yaml")
                || is_accounts_file(&p.to_string_lossy())
        })
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    #[test]
    fn yaml_scalars_are_text_and_keys_may_not_repeat() {
        let rule =
            "logsource:\n  product: aws\ndetection:\n  s:\n    eventName: A\n  condition: s\n";
        let d = Descriptor::parse(&format!("title: 2024\nid: 12345\n{rule}"), "num.yml").unwrap();
        assert_eq!((d.title.as_str(), d.id.as_deref()), ("2024", Some("12345")));
        let twice = format!("title: x\n{rule}detection:\n  s:\n    eventName: B\n  condition: s\n");
        let err = Descriptor::parse(&twice, "twice.yml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate field `detection`"), "{err}");
        let err = Descriptor::parse("title: x\ncorrelation:\n  type: event_count\n", "c.yml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c.yml: correlation: `rules` names no rule"),
            "{err}"
        );
        let err = Descriptor::parse("title: x\ncorrelation: ~\n", "c.yml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("correlation: the block is not a mapping"),
            "a key set to null is there: {err}"
        );
        let err = Descriptor::parse("title: [x\n", "bad.yml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("bad.yml: ") && err.contains("line"),
            "{err}"
        );
    }

    #[test]
    fn work_on_two_threads_keeps_the_order() {
        for n in [0, 1, 2, 7] {
            let items: Vec<usize> = (0..n).collect();
            let out = on_two_threads(&items, |i| i * 10);
            assert_eq!(out, items.iter().map(|i| i * 10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn every_embedded_descriptor_loads_and_passes_its_tests() {
        let catalog = Catalog::embedded().unwrap();
        assert!(!catalog.descriptors.is_empty());
        for d in &catalog.descriptors {
            let (count, failures) = catalog.run_tests(d, &Settings::default());
            assert!(count > 0, "{}: no inline tests", d.source);
            assert!(failures.is_empty(), "{failures:#?}");
        }
    }

    #[test]
    fn every_native_detector_has_a_descriptor() {
        let catalog = Catalog::embedded().unwrap();
        for (id, _) in detectors::NATIVE {
            assert!(
                catalog
                    .descriptors
                    .iter()
                    .any(|d| d.native.as_deref() == Some(id)),
                "{id}"
            );
        }
    }

    /// `make test` loads all SigmaHQ CloudTrail rules (read beside the repository, never
    /// copied into it) and fails if any is refused.
    #[test]
    fn loads_every_sigmahq_cloudtrail_rule() {
        let dir = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/sigma"
        ));
        if !dir.exists() {
            eprintln!("skipping: {} not present", dir.display());
            return;
        }
        let mut catalog = Catalog::embedded().unwrap();
        let before = catalog.descriptors.len();
        catalog.add_dir(dir).unwrap();
        let added = &catalog.descriptors[before..];
        assert_eq!(added.len(), 57);
        for d in added {
            assert!(d.sigma.is_some(), "{}: {:?}", d.source, d.skipped);
            assert!(d.name.is_none());
        }
        // Without `name`, the file stem is the id.
        assert!(added
            .iter()
            .any(|d| d.detector_id() == "aws_root_account_usage"));
        let natives = catalog.descriptors.iter().filter(|d| d.native.is_some());
        let detectors = catalog.detectors(&Settings::default(), &[]);
        assert_eq!(
            detectors.len(),
            natives.count() + 1,
            "each native detector and one for all Sigma rules"
        );
    }

    #[test]
    fn disabled_ids_must_exist_and_turn_detectors_off() {
        let catalog = Catalog::load(&[], &["root-activity".into()]).unwrap();
        let e = Catalog::load(&[], &["no-such-id".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no-such-id"), "{e}");
        let record = Record::parse(
            br#"{"eventName":"ListBuckets","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}"#,
        )
        .unwrap();
        let run = |disabled: &[String]| {
            let mut out = Vec::new();
            for mut d in catalog.detectors(&Settings::default(), disabled) {
                d.inspect(&record, &mut out);
            }
            out.iter()
                .map(|f| f.detector.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(&[]), ["root-activity"]);
        assert!(run(&["root-activity".into()]).is_empty());
        assert_eq!(parse_ids(" a, ,b,"), ["a", "b"]);
    }

    /// A CloudTrail rule with this `detection:` block (indented lines).
    fn rule(detection: &str) -> String {
        format!(
            "title: t\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n{detection}"
        )
    }

    /// The message that refuses the rule `text` read from `file`.
    fn refusal(text: &str, file: &str) -> String {
        Descriptor::parse(text, file).unwrap_err().to_string()
    }

    #[test]
    fn refuses_unsupported_sigma_naming_file_and_construct() {
        let e = refusal(
            &rule("  s: {a|base64offset|contains: x}\n  condition: s\n"),
            "r.yml",
        );
        assert!(
            e.starts_with("r.yml: ") && e.contains("unsupported modifier `base64offset`"),
            "{e}"
        );
        let e = refusal(
            &rule("  s: {a: 1}\n  condition: s | count() > 3\n"),
            "c.yml",
        );
        assert!(
            e.contains("c.yml") && e.contains("aggregation `count()`"),
            "{e}"
        );
        let e = refusal(
            "title: t\ncorrelation: {type: temporal, rules: [a, b], timespan: 1w}\n",
            "k.yml",
        );
        assert!(e.contains("k.yml") && e.contains("`timespan`"), "{e}");
        let e = refusal(
            "title: t\ncorrelation: {type: temporal, rules: [a, b], timespan: 5m}\ndetection: {s: {a: 1}, condition: s}\n",
            "both.yml",
        );
        assert!(e.contains("exactly one of"), "{e}");
        // A rule for another log source is valid but not run.
        let d = Descriptor::parse(
            "title: w\nlogsource: {product: windows}\ndetection: {s: {a|base64offset: x}, condition: s}\n",
            "w.yml",
        )
        .unwrap();
        assert!(d.skipped.is_some() && d.sigma.is_none());
    }

    #[test]
    fn a_regex_that_does_not_build_is_a_load_error_naming_the_file() {
        let e = refusal(
            &rule("  s: {requestParameters.name|re: '(unclosed'}\n  condition: s\n"),
            "bad-re.yml",
        );
        assert!(
            e.starts_with("bad-re.yml: ") && e.contains("regular expression `(unclosed`"),
            "{e}"
        );
        // A wildcard value the engine turns into a regex too large to build: refused when the
        // rule loads, its pattern cut short in the message.
        let huge = format!("a{}", "?".repeat(100_000));
        let e = refusal(
            &rule(&format!("  s: {{userAgent: '{huge}'}}\n  condition: s\n")),
            "huge.yml",
        );
        assert!(
            e.starts_with("huge.yml: ") && e.contains("regular expression") && e.len() < 500,
            "{}",
            &e[..e.len().min(500)]
        );
        // The same wildcards in a size that builds: loaded, and matching.
        let d = Descriptor::parse(
            &rule("  s: {userAgent: 'a?c*'}\n  condition: s\n"),
            "ok.yml",
        )
        .unwrap();
        let m = d.sigma.unwrap();
        assert!(m.matches(&serde_json::json!({"userAgent": "ABCD"})));
        assert!(!m.matches(&serde_json::json!({"userAgent": "ab"})));
    }

    #[test]
    fn findings_share_the_id_the_catalog_holds() {
        let d = Descriptor::parse(
            &rule("  s: {eventName: StopLogging}\n  condition: s\n"),
            "dir/stop-trail.yml",
        )
        .unwrap();
        assert_eq!(d.detector_id(), "stop-trail");
        let mut detector = d.build(&Settings::default()).unwrap();
        let found = detectors::findings_in(&mut *detector, br#"{"eventName":"StopLogging"}"#);
        let found = found.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].detector, "stop-trail");
        assert!(
            std::ptr::eq(found[0].detector.as_str(), d.detector_id()),
            "the finding points at the catalog's id, not a copy"
        );
        assert_eq!(
            found[0].summary_text(),
            "t: StopLogging by unknown principal"
        );
    }

    #[test]
    fn rejects_bad_descriptors_naming_the_file() {
        let e = Descriptor::parse("title: x\nnative: no-such\n", "x.yml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.yml") && e.contains("no-such"), "{e}");
        let e = Descriptor::parse("title: x\n", "y.yml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("y.yml"), "{e}");
    }
}
