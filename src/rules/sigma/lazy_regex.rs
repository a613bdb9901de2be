//! Regexes that cannot fail to compile (escaped literals and globs), built on first use.
//!
//! A rule set loads dozens of such patterns, and most are never consulted on a given
//! workload (a rule about `DeleteTrail` waits for a DeleteTrail record): building each
//! automaton only when a record first needs it keeps start-up short, which a Lambda cold
//! start and a replay of a small file both feel.

use std::fmt;
use std::sync::OnceLock;

/// A regex over text (`str`) or bytes, compiled once, on first use.
pub(crate) struct LazyRegex<R> {
    pattern: String,
    compiled: OnceLock<R>,
}

/// Patterns longer than this are built at once: only a very long one could hit the regex
/// size limit, and that should fail while the rules load, not on a record.
const EAGER_LEN: usize = 1024;

/// The two regex kinds a rule uses.
pub(crate) trait Build: Sized {
    fn build(pattern: &str) -> Self;
}

impl Build for regex::Regex {
    fn build(pattern: &str) -> Self {
        regex::Regex::new(pattern).expect("pattern built from escaped text")
    }
}

impl Build for regex::bytes::Regex {
    fn build(pattern: &str) -> Self {
        regex::bytes::Regex::new(pattern).expect("pattern built from escaped text")
    }
}

impl<R: Build> LazyRegex<R> {
    /// `pattern` must be valid: it is built from escaped text by this crate.
    pub(crate) fn new(pattern: String) -> LazyRegex<R> {
        let lazy = LazyRegex {
            pattern,
            compiled: OnceLock::new(),
        };
        if lazy.pattern.len() > EAGER_LEN {
            lazy.get();
        }
        lazy
    }

    pub(crate) fn get(&self) -> &R {
        self.compiled.get_or_init(|| R::build(&self.pattern))
    }
}

impl<R> fmt::Debug for LazyRegex<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LazyRegex").field(&self.pattern).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_on_first_use_and_matches() {
        let re: LazyRegex<regex::Regex> = LazyRegex::new("(?i)^a.*b$".into());
        assert!(re.compiled.get().is_none());
        assert!(re.get().is_match("AxxB"));
        assert!(!re.get().is_match("ba"));
        let bytes: LazyRegex<regex::bytes::Regex> = LazyRegex::new("(?i)stop|delete".into());
        assert!(bytes.get().is_match(b"xxDELETExx"));
        assert!(bytes.compiled.get().is_some());
        let long: LazyRegex<regex::Regex> = LazyRegex::new("a".repeat(EAGER_LEN + 1));
        assert!(
            long.compiled.get().is_some(),
            "a long pattern is built at once"
        );
    }
}
