//! What the core runs over each record: the one interface between the streaming core and the
//! detectors (native ones in `detectors/`, Sigma rules in `rules/`).

use crate::alert::finding::Finding;
use crate::record::Record;

/// A detector: small and infallible, it looks at one record at a time and pushes findings.
pub trait Detector: Send {
    /// The detector's id (kebab-case, stable: subscribers filter on it).
    fn id(&self) -> &'static str;
    /// Looks at one record; findings may borrow its fields ([`Finding::new`] does).
    fn inspect<'r>(&mut self, record: &'r Record<'_>, out: &mut Vec<Finding<'r>>);
    /// End of one delivery: findings kept across records own their text.
    fn finish(&mut self, _out: &mut Vec<Finding<'static>>) {}
}
