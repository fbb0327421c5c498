//! Errors of the DataFrame collection, reported when an expression is built (unknown column,
//! mismatched files) or when a partition is read (malformed row).

use std::path::PathBuf;

/// What went wrong building or reading a DataFrame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A glob pattern matched no file.
    #[error("no files match `{pattern}`")]
    NoFiles {
        /// The pattern.
        pattern: String,
    },
    /// A glob pattern is malformed.
    #[error("invalid glob pattern `{pattern}`: {message}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// The parser's message.
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file has no header line (it is empty).
    #[error("{} is empty: expected a header line", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// A file's columns differ from the first file's.
    #[error(
        "{} has columns {found:?} but {} has {expected:?}; all files must share one schema \
         (pass `dtypes`/`usecols` or read the files separately)",
        path.display(),
        first.display()
    )]
    SchemaMismatch {
        /// The file that differs.
        path: PathBuf,
        /// The first file, which set the schema.
        first: PathBuf,
        /// The first file's columns.
        expected: Vec<String>,
        /// This file's columns.
        found: Vec<String>,
    },
    /// A CSV row could not be parsed.
    #[error("{}:{line}: {message}", path.display())]
    MalformedRow {
        /// The file.
        path: PathBuf,
        /// The 1-based line number in the file.
        line: u64,
        /// What is wrong, with a hint.
        message: String,
    },
    /// An expression names a column the frame does not have.
    #[error("column `{column}` not found; available columns: {available:?}")]
    ColumnNotFound {
        /// The missing column.
        column: String,
        /// The columns the frame has.
        available: Vec<String>,
    },
    /// An expression cannot run partition by partition.
    #[error("{0}")]
    Unsupported(String),
    /// An operation needs an index (see `DataFrame::set_index`) and the frame has none.
    #[error(
        "`{operation}` needs an index: call set_index on one of the columns {columns:?} first"
    )]
    NoIndex {
        /// The operation.
        operation: String,
        /// The frame's columns.
        columns: Vec<String>,
    },
    /// A value does not fit the type of the index column.
    #[error("the index `{column}` is {dtype}; {value} is not a value of that type")]
    IndexType {
        /// The index column.
        column: String,
        /// Its type.
        dtype: polars::prelude::DataType,
        /// The value given.
        value: String,
    },
    /// Divisions given or found for an index are not usable.
    #[error("divisions of `{column}`: {message}")]
    Divisions {
        /// The index column.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// Polars reported an error.
    #[error("{context}: {source}")]
    Polars {
        /// Where it happened.
        context: String,
        /// Polars' error.
        #[source]
        source: polars::error::PolarsError,
    },
}

impl FrameError {
    pub(crate) fn polars(context: impl Into<String>, source: polars::error::PolarsError) -> Self {
        FrameError::Polars {
            context: context.into(),
            source,
        }
    }
}
