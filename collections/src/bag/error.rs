//! `BagError`: what can go wrong in a bag, with the file, line, field or partition involved.
//!
//! Errors a user can make while *building* a bag (a glob that matches nothing, a bad argument)
//! are returned by the building call. Errors that depend on the data (a malformed JSON line, a
//! corrupt gzip stream, a missing field) happen inside a task; they travel through the
//! scheduler as the task's error, so `compute()` fails with a
//! [`ComputeError`](dusk_core::ComputeError) whose message contains this error's message.

use std::path::PathBuf;

/// An error of a bag source, operation or sink.
///
/// ```
/// use dusk_collections::bag::{read_text, BagError};
/// let err = read_text("no/such/dir/*.json.gz").unwrap_err();
/// assert!(matches!(err, BagError::NoMatch { .. }));
/// assert!(err.to_string().contains("no/such/dir/*.json.gz"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BagError {
    /// A glob pattern matched no file.
    #[error("no file matches the pattern `{pattern}`")]
    NoMatch {
        /// The pattern as given.
        pattern: String,
    },
    /// A glob pattern is not well formed.
    #[error("invalid glob pattern `{pattern}`: {message}")]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A file could not be opened, inspected or created.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Reading a file failed part-way (a corrupt gzip stream, invalid UTF-8, a device error).
    #[error("{}: {location}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Where in the file: `line 12`, or `line 3 of the block at byte 1048576`.
        location: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line of a file is not valid JSON.
    #[error("{}:{line}: invalid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The line number, counting from 1.
        line: u64,
        /// The parser's error (its column is within the line).
        #[source]
        source: serde_json::Error,
    },
    /// An item of a bag of strings is not valid JSON.
    #[error("item {index} of partition {partition} is not valid JSON: {source}")]
    JsonItem {
        /// The partition.
        partition: usize,
        /// The item's position within its partition, counting from 0.
        index: usize,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// `pluck` found an item without the requested field.
    #[error("field `{field}` is missing from item {item} (partition {partition})")]
    MissingField {
        /// The field.
        field: String,
        /// The start of the item, as JSON.
        item: String,
        /// The partition of the item.
        partition: usize,
    },
    /// `zip` found partitions of different lengths.
    #[error("zip: partition {partition} has {left} items on the left and {right} on the right")]
    ZipLength {
        /// The partition.
        partition: usize,
        /// Items on the left.
        left: usize,
        /// Items on the right.
        right: usize,
    },
    /// Two bags that must be partitioned alike are not.
    #[error("{operation}: the bags have {left} and {right} partitions")]
    PartitionMismatch {
        /// The operation.
        operation: &'static str,
        /// Partitions on the left.
        left: usize,
        /// Partitions on the right.
        right: usize,
    },
    /// A file is compressed with a codec that is not supported (by its extension).
    #[error(
        "{}: `.{extension}` files are not supported (plain, gzip `.gz` and zstd `.zst`/`.zstd` are)",
        path.display()
    )]
    UnsupportedCompression {
        /// The file.
        path: PathBuf,
        /// Its extension.
        extension: String,
    },
    /// No bag function is registered under a name.
    #[error(
        "no bag function is registered as `{name}` in this program; register it with \
         register_bag_fn! (workers must be started from the same program)"
    )]
    UnknownFunction {
        /// The name asked for.
        name: String,
    },
    /// A registered bag function does not fit where it is used.
    #[error("the bag function `{name}` is {registered}, but is used as {used}")]
    FunctionMismatch {
        /// The function's name.
        name: String,
        /// Its registered kind and signature.
        registered: String,
        /// The kind and signature the use needs.
        used: String,
    },
    /// An argument is out of its domain.
    #[error("{0}")]
    InvalidArgument(String),
}

/// A short preview of an item for error messages.
pub(crate) fn preview(value: &serde_json::Value) -> String {
    let mut s = value.to_string();
    if s.len() > 80 {
        let mut cut = 77;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_truncates_on_char_boundaries() {
        let long = serde_json::Value::String("é".repeat(100));
        let p = preview(&long);
        assert!(p.ends_with("..."));
        assert!(p.len() <= 80);
        assert_eq!(preview(&serde_json::json!({"a": 1})), r#"{"a":1}"#);
    }
}
