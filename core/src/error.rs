//! Errors of graphs, data and computations.
//!
//! Every error names what it is about — the key of the task, the op, the types involved — so a
//! user who sees it in a log can find the piece of their program that caused it.

use crate::key::Key;

/// Any error a task's code may return; `?` converts every `std::error::Error` and strings.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A graph is not well formed, or cannot be moved to another process.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// A task depends on a key that no task produces.
    #[error("task {key} depends on {dependency}, which is not in the graph")]
    MissingDependency {
        /// The task with the dangling dependency.
        key: Key,
        /// The key nobody produces.
        dependency: Key,
    },
    /// A requested output is not in the graph.
    #[error("requested output {key} is not in the graph")]
    MissingOutput {
        /// The missing output.
        key: Key,
    },
    /// The dependencies form a cycle.
    #[error("the graph has a cycle: {}", display_cycle(.keys))]
    Cycle {
        /// The keys around the cycle, in dependency order.
        keys: Vec<Key>,
    },
    /// A task runs a closure, which only exists in this process.
    #[error(
        "task {key} runs the closure `{op}`, which cannot be sent to another process; \
         register the function by name (or use a built-in op) to run it remotely"
    )]
    NotSerializable {
        /// The task.
        key: Key,
        /// The op's name.
        op: String,
    },
    /// A serialized graph names an op kind this build does not know.
    #[error("unknown op kind `{kind}`: this process was built without it (is it a different build of the program?)")]
    UnknownOp {
        /// The op kind.
        kind: String,
    },
    /// An op's arguments failed to encode or decode.
    #[error("op `{kind}` could not be {action}: {message}")]
    Codec {
        /// The op kind.
        kind: String,
        /// `encoded` or `decoded`.
        action: &'static str,
        /// What went wrong.
        message: String,
    },
}

fn display_cycle(keys: &[Key]) -> String {
    let mut s = String::new();
    for k in keys {
        s.push_str(&k.to_string());
        s.push_str(" -> ");
    }
    if let Some(first) = keys.first() {
        s.push_str(&first.to_string());
    }
    s
}

/// A value has a different type than the code reading it expects, or could not be (de)serialized.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// Expected one type, found another.
    #[error("expected a value of type {expected}, found {found}")]
    TypeMismatch {
        /// The type the reader asked for.
        expected: &'static str,
        /// What the data holds.
        found: String,
    },
    /// Serialization failed.
    #[error("could not serialize a value of type {type_name}: {message}")]
    Encode {
        /// The type being encoded.
        type_name: &'static str,
        /// The serializer's message.
        message: String,
    },
    /// Deserialization failed.
    #[error("could not read a {expected} from a serialized {found}: {message}")]
    Decode {
        /// The type the reader asked for.
        expected: &'static str,
        /// The type the bytes were written from.
        found: String,
        /// The deserializer's message.
        message: String,
    },
}

/// A computation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ComputeError {
    /// The graph is not well formed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A task returned an error.
    #[error("task {key} failed: {source}")]
    TaskFailed {
        /// The task.
        key: Key,
        /// What the task's code returned.
        #[source]
        source: BoxError,
    },
    /// A task panicked.
    #[error("task {key} panicked: {message}")]
    TaskPanicked {
        /// The task.
        key: Key,
        /// The panic message.
        message: String,
    },
    /// A result had an unexpected type when the collection read it back.
    #[error("result {key} could not be read: {source}")]
    Result {
        /// The output key.
        key: Key,
        /// The type problem.
        #[source]
        source: DataError,
    },
    /// Lowering a collection into a graph failed.
    #[error("could not build the task graph: {0}")]
    Lowering(#[source] BoxError),
    /// The scheduler could not run the graph (for example, a remote cluster went away).
    #[error("scheduler error: {0}")]
    Scheduler(String),
    /// The result was cancelled before it could be delivered (Dask's `CancelledError`).
    #[error("task {key} was cancelled")]
    Cancelled {
        /// The cancelled key.
        key: Key,
    },
}

impl ComputeError {
    /// The key of the task that failed, if the error is about one task.
    ///
    /// ```
    /// use dusk_core::{ComputeError, Key};
    /// let e = ComputeError::TaskPanicked { key: Key::part("x", 1), message: "boom".into() };
    /// assert_eq!(e.key(), Some(&Key::part("x", 1)));
    /// ```
    pub fn key(&self) -> Option<&Key> {
        match self {
            ComputeError::TaskFailed { key, .. }
            | ComputeError::TaskPanicked { key, .. }
            | ComputeError::Result { key, .. }
            | ComputeError::Cancelled { key } => Some(key),
            _ => None,
        }
    }
}
