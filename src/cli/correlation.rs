//! Replay's correlation state: one engine over an in-memory store for all files of a run,
//! optionally read from and saved to a file (`--state FILE`) so that windows open at the end of
//! one run (correlation windows and deduplication windows) are completed by the next.
//!
//! The file: `{"correlation": <the store>, "dedup": [[[detector, subject], window], ...]}`.

use crate::alert::Alert;
use crate::correlate::dedup::{Open, WindowKey};
use crate::correlate::store::DEFAULT_MAX_GROUPS;
use crate::correlate::{
    Correlations, Dedup, Engine, MemoryStore, Store, StoreError, DEFAULT_LATENESS,
};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// How replay correlates (validated by the CLI).
#[derive(Debug, Clone)]
pub struct CorrelationOptions {
    /// Where the state is kept between runs; `None`: every window is decided at the end.
    pub state: Option<PathBuf>,
    /// Allowed lateness, in seconds.
    pub lateness: i64,
    /// Open groups kept at most.
    pub max_groups: usize,
}

impl Default for CorrelationOptions {
    fn default() -> Self {
        CorrelationOptions {
            state: None,
            lateness: DEFAULT_LATENESS,
            max_groups: DEFAULT_MAX_GROUPS,
        }
    }
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing it failed.
    #[error("{file}: {source}")]
    Io {
        /// The state file.
        file: String,
        /// The fault.
        source: std::io::Error,
    },
    /// It is not a state file.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The engine of one replay run.
pub type ReplayEngine = Engine<MemoryStore>;

/// The engine for a run, and the deduplication windows left open by the last: read from the
/// state file when there is one.
pub fn open(
    set: &Arc<Correlations>,
    o: &CorrelationOptions,
) -> Result<(ReplayEngine, Vec<(WindowKey, Open)>), StateError> {
    let (store, windows) = match &o.state {
        Some(path) if path.exists() => {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| StateError::Io {
                file: file.clone(),
                source,
            })?;
            let corrupt = |message: String| StoreError::Corrupt {
                file: file.clone(),
                message,
            };
            let saved: Value = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
            let Value::Object(mut saved) = saved else {
                return Err(corrupt("not a JSON object".into()).into());
            };
            let windows = match saved.remove("dedup") {
                None | Some(Value::Null) => Vec::new(),
                Some(w) => {
                    serde_json::from_value(w).map_err(|e| corrupt(format!("`dedup`: {e}")))?
                }
            };
            let Some(store) = saved.remove("correlation") else {
                return Err(corrupt("no `correlation`".into()).into());
            };
            (MemoryStore::load(store, &file, o.max_groups)?, windows)
        }
        Some(path) => {
            // Refused now rather than after a long scan: the folder must exist to save in it.
            let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
            let why = match folder {
                Some(f) if f.is_file() => Some(format!("{} is a file, not a folder", f.display())),
                Some(f) if !f.is_dir() => Some("its folder does not exist".to_owned()),
                _ => None,
            };
            if let Some(why) = why {
                return Err(StateError::Io {
                    file: path.display().to_string(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, why),
                });
            }
            (MemoryStore::new(o.max_groups), Vec::new())
        }
        None => (MemoryStore::new(o.max_groups), Vec::new()),
    };
    Ok((Engine::new(Arc::clone(set), store, o.lateness), windows))
}

/// The end of a run: without a state file every window is decided; with one, the windows the
/// latest `eventTime` seen has closed are. Returns the alerts, and the watermark deduplication
/// windows close at (`None`: all of them).
pub fn decide(
    engine: &mut ReplayEngine,
    o: &CorrelationOptions,
) -> Result<(Vec<Alert>, Option<i64>), StateError> {
    if o.state.is_none() {
        return Ok((engine.flush()?, None));
    }
    let watermark = engine.newest.max(engine.store.watermark()?);
    Ok((engine.close(watermark)?, Some(watermark)))
}

/// Saves what is still open for the next run, when there is a state file.
pub fn save(
    engine: &ReplayEngine,
    dedup: &Dedup,
    o: &CorrelationOptions,
) -> Result<(), StateError> {
    let Some(path) = &o.state else {
        return Ok(());
    };
    let store = engine.store.save();
    let windows: Vec<(&WindowKey, &Open)> = dedup.windows().iter().collect();
    let text = json!({ "correlation": store, "dedup": windows }).to_string();
    std::fs::write(path, text).map_err(|source| StateError::Io {
        file: path.display().to_string(),
        source,
    })
}
