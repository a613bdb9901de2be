//! The state's settings: `STATE_TABLE`, `SILENCE_AFTER`, `UNVERIFIED_SILENCE_AFTER`,
//! `ALLOWED_LATENESS`, `MAX_GROUPS`.

use crate::correlate::store::DEFAULT_MAX_GROUPS;
use crate::correlate::time::parse_duration;
use crate::correlate::DEFAULT_LATENESS;

use super::{bad, ConfigError};

/// A trail is silent when its next digest file is this late (after the end of the last
/// one's period), unless `SILENCE_AFTER` says. Digests come every hour.
pub const DEFAULT_SILENCE_AFTER: i64 = 2 * 60 * 60;
/// A place without digest files (validation off) is silent after this long without a log
/// file, unless `UNVERIFIED_SILENCE_AFTER` says: a quiet region writes none for hours.
pub const DEFAULT_UNVERIFIED_SILENCE_AFTER: i64 = 6 * 60 * 60;

/// Where state lives and how long things wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSettings {
    /// `STATE_TABLE`: the DynamoDB table's name.
    pub table: String,
    /// `SILENCE_AFTER`: seconds after the end of a trail's last digest period after which it
    /// is silent (its next digest is overdue).
    pub silence_after: i64,
    /// `UNVERIFIED_SILENCE_AFTER`: seconds without a log file after which a place without
    /// digest files is silent.
    pub unverified_silence_after: i64,
    /// `ALLOWED_LATENESS`: seconds a window stays open after it ends, for late records.
    pub lateness: i64,
    /// `MAX_GROUPS`: open correlation groups kept at most; the scheduled check evicts the least
    /// recently active beyond it.
    pub max_groups: usize,
}

impl StateSettings {
    /// The settings from `set` (a variable's value, when set and not blank); `None` without
    /// `STATE_TABLE`. An error names the variable.
    pub fn from_lookup(
        set: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<StateSettings>, ConfigError> {
        let span = |name: &'static str, default: i64| match set(name) {
            None => Ok(default),
            Some(v) => parse_duration(v.trim()).filter(|s| *s > 0).ok_or_else(|| {
                bad(
                    name,
                    format!("`{v}` is not {}", crate::correlate::time::DURATION),
                )
            }),
        };
        // Read whether or not there is a table: a bad value is refused either way.
        let silence_after = span("SILENCE_AFTER", DEFAULT_SILENCE_AFTER)?;
        let unverified_silence_after =
            span("UNVERIFIED_SILENCE_AFTER", DEFAULT_UNVERIFIED_SILENCE_AFTER)?;
        let lateness = span("ALLOWED_LATENESS", DEFAULT_LATENESS)?;
        let max_groups = match set("MAX_GROUPS") {
            None => DEFAULT_MAX_GROUPS,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad("MAX_GROUPS", format!("`{v}` is not a whole number above 0")))?,
        };
        let Some(table) = set("STATE_TABLE") else {
            return Ok(None);
        };
        Ok(Some(StateSettings {
            max_groups,
            table: table.trim().to_owned(),
            silence_after,
            unverified_silence_after,
            lateness,
        }))
    }
}
