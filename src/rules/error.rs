//! What goes wrong loading rule files: [`CatalogError`], which names the file first.
//!
//! The bottom of `rules/`: it imports nothing of the folder.

/// Why a rule file, a filter file or an accounts file does not load.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file was read and is not valid.
    #[error("{file}: {message}")]
    Invalid {
        /// The file (a name for embedded files and rule sources, a path otherwise), or what
        /// the list checked is (`disabled detectors`).
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// The file or directory could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file or directory.
        file: String,
        /// The error reading it.
        source: std::io::Error,
    },
}

impl CatalogError {
    /// [`CatalogError::Invalid`]: `file` says `message`.
    pub fn invalid(file: &str, message: impl Into<String>) -> CatalogError {
        CatalogError::Invalid {
            file: file.to_owned(),
            message: message.into(),
        }
    }
}
