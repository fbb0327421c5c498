//! `Bag`: parallel collections of any Rust items — text lines, JSON records, tuples.
//!
//! A [`Bag<T>`] is Dask's `dask.bag`: an unordered-in-spirit (but here order-preserving)
//! sequence of items split into partitions, processed with iterator-style operations
//! (`map`, `filter`, `pluck`, `frequencies`, `topk`, `foldby`, ...). It is how semi-structured
//! data — logs, JSON lines — is cleaned and counted before it becomes a table.
//!
//! Why it is built the way it is:
//!
//! - **Lazy, with a known partition count.** A bag is an immutable expression; building one
//!   runs nothing (a glob is expanded, and a glob matching nothing is an error right there).
//!   `compute()` lowers it into one task per partition.
//! - **Element-wise chains run as one pass** ([`stream`](self) module): `map → filter → pluck`
//!   on a partition is one task that pushes each item through the whole chain, so no
//!   intermediate `Vec` is built. Reductions are tree reductions (fan-in
//!   [`split_every`](Bag::split_every), 8 by default); `groupby` is a full hash shuffle.
//! - **Keys.** Sources whose inputs are hashable (files, with their size and modification time;
//!   `range`) get deterministic keys; a step that runs a closure gets a fresh key, like
//!   [`Delayed`](crate::delayed::Delayed), since a closure can capture anything.
//! - **On a cluster, built-ins travel.** Partitions are `Vec<T>` held unserialized in the
//!   process that made them. Bags of text, JSON values, numbers and `(item, count)` pairs run
//!   on a cluster when their steps are built-ins (`read_text`, `parse_json`, `pluck`,
//!   `frequencies`, `topk_by_count`, `count`, `sum`, ...): each task then travels as a
//!   description and its results as MessagePack (the `wire` module). Closures run on the
//!   local schedulers; a graph holding one is refused by a cluster, naming the task.
//!
//! ```
//! use dusk_collections::bag::from_sequence;
//! use dusk_scheduler::Compute;
//!
//! let words = from_sequence(vec!["a", "bb", "a", "ccc", "bb", "a"], 3);
//! let long = words.filter(|w: &&str| w.len() > 1).map(|w: &&str| w.to_uppercase());
//! assert_eq!(long.compute().unwrap(), vec!["BB", "CCC", "BB"]);
//!
//! let top = words.frequencies().topk(1, |(_, n): &(&str, u64)| *n);
//! assert_eq!(top.compute().unwrap(), vec![("a", 3)]);
//! ```

mod combine;
mod counts;
mod elementwise;
mod error;
mod item;
mod json;
mod named;
mod reduce;
mod shuffle;
mod sources;
mod stream;
mod text;
mod to_frame;
mod tree;
mod wire;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use dusk_core::{Collection, ComputeError, Data, Graph, Key, LiteralOp, Persist};

pub use counts::TieOrder;
#[doc(hidden)]
pub use dusk_core::inventory as __inventory;
pub use error::BagError;
pub use item::Item;
pub use named::{named_filter, named_map, BagFnEntry, NamedStep};
pub use reduce::ToF64;
pub use serde_json::Value;
pub use sources::{from_delayed, from_sequence, from_sequence_sized, range};
pub use text::{read_text, Line, ReadText, DEFAULT_BLOCK_SIZE};

use stream::{materialize, Stored, Stream};

/// The default fan-in of tree reductions.
pub const DEFAULT_SPLIT_EVERY: usize = 8;

/// A lazy, partitioned collection of items of type `T`.
///
/// ```
/// use dusk_collections::bag::range;
/// use dusk_scheduler::Compute;
/// let b = range(10, 3);
/// assert_eq!(b.npartitions(), 3);
/// assert_eq!(b.map(|x: &u64| x * x).sum().compute().unwrap(), 285);
/// ```
pub struct Bag<T> {
    stream: Arc<dyn Stream<T>>,
    split_every: usize,
}

impl<T> Clone for Bag<T> {
    fn clone(&self) -> Self {
        Bag {
            stream: self.stream.clone(),
            split_every: self.split_every,
        }
    }
}

impl<T: 'static> fmt::Debug for Bag<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Bag<{}>({}-{}, {} partitions)",
            std::any::type_name::<T>(),
            self.stream.label(),
            self.stream.token(),
            self.stream.npartitions()
        )
    }
}

impl<T: Send + Sync + 'static> Bag<T> {
    pub(crate) fn from_stream(stream: Arc<dyn Stream<T>>) -> Bag<T> {
        Bag {
            stream,
            split_every: DEFAULT_SPLIT_EVERY,
        }
    }

    /// A bag of `stream` that keeps this bag's settings.
    pub(crate) fn derive<U: Send + Sync + 'static>(&self, stream: Arc<dyn Stream<U>>) -> Bag<U> {
        Bag {
            stream,
            split_every: self.split_every,
        }
    }

    /// The number of partitions.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// assert_eq!(from_sequence(vec![1, 2, 3, 4, 5], 2).npartitions(), 2);
    /// ```
    pub fn npartitions(&self) -> usize {
        self.stream.npartitions()
    }

    /// The name of the keys of this bag's partitions (`('map-<token>', i)`).
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// // Built from hashable inputs: the same bag built twice has the same name.
    /// assert_eq!(range(5, 2).name(), range(5, 2).name());
    /// assert!(range(5, 2).name().starts_with("range-"));
    /// ```
    pub fn name(&self) -> String {
        format!("{}-{}", self.stream.label(), self.stream.token())
    }

    /// The same bag, with reductions built from it using a fan-in of `n` (at least 2) per
    /// combine task instead of [`DEFAULT_SPLIT_EVERY`].
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// let b = range(100, 20).split_every(2);
    /// assert_eq!(b.count().compute().unwrap(), 100);
    /// ```
    pub fn split_every(&self, n: usize) -> Bag<T> {
        Bag {
            stream: self.stream.clone(),
            split_every: n.max(2),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Bag<T> {
    /// The task graph of this bag's partitions, as built (not optimized).
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// let g = range(10, 4).map(|x: &u64| x + 1).graph().unwrap();
    /// assert_eq!(g.len(), 4); // one task per partition: the map runs inside it
    /// ```
    pub fn graph(&self) -> Result<Graph, ComputeError> {
        let mut g = Graph::new();
        materialize(&self.stream, &mut g)?;
        Ok(g)
    }
}

impl<T: Clone + Send + Sync + 'static> Collection for Bag<T> {
    type Output = Vec<T>;

    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        materialize(&self.stream, graph)
    }

    fn num_outputs(&self) -> usize {
        self.stream.npartitions()
    }

    fn finalize(&self, results: Vec<Data>) -> Result<Vec<T>, ComputeError> {
        let name = self.name();
        let mut out = Vec::new();
        for (i, data) in results.into_iter().enumerate() {
            let part = wire::revive(data)
                .and_then(|d| d.downcast_arc::<Vec<T>>())
                .map_err(|source| ComputeError::Result {
                    key: Key::part(name.as_str(), i as u32),
                    source,
                })?;
            match Arc::try_unwrap(part) {
                Ok(v) if out.is_empty() => out = v,
                Ok(mut v) => out.append(&mut v),
                Err(shared) => out.extend(shared.iter().cloned()),
            }
        }
        Ok(out)
    }
}

impl<T: Clone + Send + Sync + 'static> Persist for Bag<T> {
    /// The same bag with the same keys, its partitions now the computed results.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// let b = range(6, 2).map(|x: &u64| x * 10);
    /// let kept = b.persist().unwrap();
    /// assert_eq!(kept.name(), b.name());
    /// assert_eq!(kept.graph().unwrap().len(), 2);
    /// assert_eq!(kept.sum().compute().unwrap(), 150);
    /// ```
    fn with_results(&self, results: Vec<Data>) -> Self {
        let name: Arc<str> = Arc::from(self.name());
        let keys: Vec<Key> = (0..results.len())
            .map(|i| Key::part(name.clone(), i as u32))
            .collect();
        let tasks: Vec<(Key, Data)> = keys.iter().cloned().zip(results).collect();
        let lower = Arc::new(move |g: &mut Graph| -> Result<(), ComputeError> {
            for (k, d) in &tasks {
                if !g.contains(k) {
                    g.add(k.clone(), LiteralOp::new(d.clone()), vec![]);
                }
            }
            Ok(())
        });
        self.derive(Arc::new(Stored {
            label: self.stream.label().to_string(),
            token: self.stream.token().to_string(),
            keys,
            lower,
            _type: PhantomData,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dusk_scheduler::Compute;

    #[test]
    fn element_wise_chains_are_one_task_per_partition() {
        let b = range(20, 5)
            .map(|x: &u64| x + 1)
            .filter(|x: &u64| x.is_multiple_of(2));
        assert_eq!(b.graph().unwrap().len(), 5);
        let want: Vec<u64> = (0..20u64)
            .map(|x| x + 1)
            .filter(|x| x.is_multiple_of(2))
            .collect();
        assert_eq!(b.compute().unwrap(), want);
    }

    #[test]
    fn debug_names_type_and_partitions() {
        let s = format!("{:?}", range(3, 2));
        assert!(s.contains("u64") && s.contains("2 partitions"), "{s}");
    }
}
