//! The error type shared by every generator in this crate.

use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while generating a dataset.
///
/// I/O failures always carry the path that was being created, written or read, so a
/// message such as "disk full" points at the file that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// An I/O operation on `path` failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory that was being accessed.
        path: PathBuf,
        /// The underlying operating-system error.
        #[source]
        source: io::Error,
    },
    /// A generator was asked for something it cannot produce (for example zero users, or an
    /// array whose byte size overflows `u64`).
    #[error("invalid dataset parameter: {0}")]
    InvalidParameter(String),
}

impl DatasetError {
    /// Wraps an [`io::Error`] together with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        DatasetError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Returns a closure that turns an [`io::Error`] into a [`DatasetError::Io`] for `path`,
/// for use with `map_err`.
pub(crate) fn at(path: &Path) -> impl FnOnce(io::Error) -> DatasetError + '_ {
    move |source| DatasetError::io(path, source)
}
