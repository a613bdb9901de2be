//! Replay's correlation state: one engine over an in-memory store for all files of a run,
//! optionally read from and saved to a file (`--state FILE`) so that windows open at the end of
//! one run are completed by the next.

use crate::alert::Alert;
use crate::correlate::store::DEFAULT_MAX_GROUPS;
use crate::correlate::{Correlations, Engine, MemoryStore, Store, StoreError, DEFAULT_LATENESS};
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

/// The engine for a run: its store read from the state file when there is one.
pub fn open(set: &Arc<Correlations>, o: &CorrelationOptions) -> Result<ReplayEngine, StateError> {
    let store = match &o.state {
        Some(path) if path.exists() => {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| StateError::Io {
                file: file.clone(),
                source,
            })?;
            MemoryStore::load(&text, &file, o.max_groups)?
        }
        _ => MemoryStore::new(o.max_groups),
    };
    Ok(Engine::new(Arc::clone(set), store, o.lateness))
}

/// The end of a run: without a state file every window is decided; with one, the windows the
/// latest `eventTime` seen has closed are, and the others are saved for the next run.
pub fn finish(engine: &mut ReplayEngine, o: &CorrelationOptions) -> Result<Vec<Alert>, StateError> {
    let Some(path) = &o.state else {
        return Ok(engine.flush()?);
    };
    let watermark = engine.newest.max(engine.store.watermark()?);
    let alerts = engine.close(watermark)?;
    std::fs::write(path, engine.store.save()).map_err(|source| StateError::Io {
        file: path.display().to_string(),
        source,
    })?;
    Ok(alerts)
}
