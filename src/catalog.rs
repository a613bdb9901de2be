//! The detector catalog: every file of `detectors/` (embedded at build time), parsed once.
//!
//! A descriptor is a Sigma rule plus our keys (`name`, `remediation`, `group_by`, `tests`);
//! native detectors have `native: <id>` in place of `detection`.

use crate::alert::DetectorMeta;
use crate::detectors::{self, Detector, Settings};
use crate::record::Record;
use crate::severity::Severity;
use serde::Deserialize;
use std::path::{Path, PathBuf};

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
    #[serde(default)]
    pub tests: Vec<InlineTest>,
    /// Where it came from (a file name for embedded ones, a path otherwise).
    #[serde(skip)]
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineTest {
    pub name: String,
    pub expect: Expect,
    pub record: serde_json::Value,
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
        let mut d: Descriptor = serde_norway::from_str(text).map_err(|e| invalid(e.to_string()))?;
        d.source = source.to_owned();
        if d.native.is_some() == d.detection.is_some() {
            return Err(invalid(
                "needs exactly one of `native` and `detection`".into(),
            ));
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
        Ok(d)
    }

    /// The stable detector id: `name`, else the file stem.
    pub fn detector_id(&self) -> String {
        if let Some(n) = self.name.as_ref().or(self.native.as_ref()) {
            return n.clone();
        }
        let file = Path::new(&self.source)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned());
        let file = file.unwrap_or_default();
        file.trim_end_matches(".yml")
            .trim_end_matches(".yaml")
            .to_owned()
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
        }
    }

    /// A fresh detector for this descriptor.
    pub fn build(&self, settings: &Settings) -> Option<Box<dyn Detector>> {
        self.native
            .as_deref()
            .and_then(|id| detectors::native(id, settings))
    }

    /// Runs the inline tests; returns one line per failure.
    pub fn run_tests(&self, settings: &Settings) -> (usize, Vec<String>) {
        let id = self.detector_id();
        let mut failures = Vec::new();
        for t in &self.tests {
            let Some(mut detector) = self.build(settings) else {
                failures.push(format!(
                    "{}: {}: cannot build detector `{id}`",
                    self.source, t.name
                ));
                continue;
            };
            let text = t.record.to_string();
            let mut out = Vec::new();
            match Record::parse(text.as_bytes()) {
                Ok(record) => detector.inspect(&record, &mut out),
                Err(e) => failures.push(format!(
                    "{}: {}: record does not parse: {e}",
                    self.source, t.name
                )),
            }
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
    pub descriptors: Vec<Descriptor>,
}

impl Catalog {
    pub fn embedded() -> Result<Catalog, CatalogError> {
        let descriptors = EMBEDDED
            .iter()
            .map(|(n, t)| Descriptor::parse(t, n))
            .collect::<Result<_, _>>()?;
        Ok(Catalog { descriptors })
    }

    /// Adds every `*.yml` / `*.yaml` of `dir` (not recursive), in name order.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), CatalogError> {
        for path in rule_files(dir)? {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|source| CatalogError::Io {
                file: file.clone(),
                source,
            })?;
            self.descriptors.push(Descriptor::parse(&text, &file)?);
        }
        Ok(())
    }

    /// Detectors for every descriptor whose id is not in `disabled`.
    pub fn detectors(&self, settings: &Settings, disabled: &[String]) -> Vec<Box<dyn Detector>> {
        self.descriptors
            .iter()
            .filter(|d| !disabled.contains(&d.detector_id()))
            .filter_map(|d| d.build(settings))
            .collect()
    }

    pub fn meta(&self, id: &str) -> Option<DetectorMeta> {
        self.descriptors
            .iter()
            .find(|d| d.detector_id() == id)
            .map(Descriptor::meta)
    }
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
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_descriptor_loads_and_passes_its_tests() {
        let catalog = Catalog::embedded().unwrap();
        assert!(!catalog.descriptors.is_empty());
        for d in &catalog.descriptors {
            let (count, failures) = d.run_tests(&Settings::default());
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
