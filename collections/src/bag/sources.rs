//! In-memory sources: `from_sequence`, `range`, `from_delayed`.
//!
//! Sequences are split into contiguous partitions whose sizes differ by at most one, so the
//! order of items is the order of the sequence. A sequence's items are not required to be
//! hashable, so its key is fresh; `range` is described by two numbers, so its key is
//! deterministic.

use std::marker::PhantomData;
use std::sync::Arc;

use dusk_core::{BoxError, Collection, ComputeError, Data, Graph, Key, Tokenizer, WireError};

use super::stream::{fresh_token, leaf, Elem, Emit, Stored, Stream};
use super::wire::{encode_value, StreamSpec};
use super::Bag;
use crate::delayed::Delayed;

struct Sequence<T> {
    token: String,
    parts: Vec<Vec<T>>,
}

impl<T: Send + Sync + 'static> Stream<T> for Sequence<T> {
    fn label(&self) -> &str {
        "from-sequence"
    }
    fn token(&self) -> &str {
        &self.token
    }
    fn npartitions(&self) -> usize {
        self.parts.len()
    }
    fn lower(&self, _graph: &mut Graph) -> Result<Vec<Vec<Key>>, ComputeError> {
        Ok(vec![Vec::new(); self.parts.len()])
    }
    fn run(&self, part: usize, _inputs: &[Data], emit: &mut Emit<'_, T>) -> Result<(), BoxError> {
        for item in self.parts.get(part).into_iter().flatten() {
            emit(Elem::Borrowed(item))?;
        }
        Ok(())
    }
    fn spec(&self, part: usize) -> Result<StreamSpec, WireError> {
        let empty = Vec::new();
        match encode_value::<Vec<T>>(self.parts.get(part).unwrap_or(&empty)) {
            Some(bytes) => Ok(StreamSpec::Items(
                bytes.map_err(|e| WireError::Codec(e.to_string()))?,
            )),
            None => Err(WireError::Codec(format!(
                "the items of from_sequence, of type `{}`, cannot be sent to another process",
                std::any::type_name::<T>()
            ))),
        }
    }
}

/// A stream of `items`, as a worker rebuilds one partition of a sequence.
pub(crate) fn one_partition<T: Send + Sync + 'static>(items: Vec<T>) -> Arc<dyn Stream<T>> {
    leaf("from-sequence", move |_, emit: &mut Emit<'_, T>| {
        for item in &items {
            emit(Elem::Borrowed(item))?;
        }
        Ok(())
    })
}

/// Splits `items` into `n` contiguous parts whose sizes differ by at most one.
fn split_even<T>(items: Vec<T>, n: usize) -> Vec<Vec<T>> {
    let len = items.len();
    let mut rest = items.into_iter();
    (0..n)
        .map(|i| {
            let size = (i + 1) * len / n - i * len / n;
            rest.by_ref().take(size).collect()
        })
        .collect()
}

/// A bag of the items of a sequence, in `npartitions` partitions (at least one; more
/// partitions than items gives empty partitions).
///
/// ```
/// use dusk_collections::bag::from_sequence;
/// use dusk_scheduler::Compute;
/// let b = from_sequence(1..=10, 3);
/// assert_eq!(b.npartitions(), 3);
/// assert_eq!(b.compute().unwrap(), (1..=10).collect::<Vec<_>>());
/// ```
pub fn from_sequence<T, I>(items: I, npartitions: usize) -> Bag<T>
where
    T: Send + Sync + 'static,
    I: IntoIterator<Item = T>,
{
    let parts = split_even(items.into_iter().collect(), npartitions.max(1));
    Bag::from_stream(Arc::new(Sequence {
        token: fresh_token("from-sequence", ""),
        parts,
    }))
}

/// A bag of the items of a sequence, `partition_size` items per partition (the last may be
/// shorter; an empty sequence gives one empty partition).
///
/// ```
/// use dusk_collections::bag::from_sequence_sized;
/// use dusk_scheduler::Compute;
/// let b = from_sequence_sized(0..10, 4);
/// assert_eq!(b.npartitions(), 3);
/// assert_eq!(b.count().compute().unwrap(), 10);
/// ```
pub fn from_sequence_sized<T, I>(items: I, partition_size: usize) -> Bag<T>
where
    T: Send + Sync + 'static,
    I: IntoIterator<Item = T>,
{
    let size = partition_size.max(1);
    let mut parts = Vec::new();
    let mut current = Vec::with_capacity(size);
    for item in items {
        current.push(item);
        if current.len() == size {
            parts.push(std::mem::replace(&mut current, Vec::with_capacity(size)));
        }
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    Bag::from_stream(Arc::new(Sequence {
        token: fresh_token("from-sequence", ""),
        parts,
    }))
}

struct Range {
    token: String,
    n: u64,
    parts: usize,
}

impl Range {
    fn bounds(&self, part: usize) -> (u64, u64) {
        let at = |i: usize| ((i as u128 * self.n as u128) / self.parts as u128) as u64;
        (at(part), at(part + 1))
    }
}

impl Stream<u64> for Range {
    fn label(&self) -> &str {
        "range"
    }
    fn token(&self) -> &str {
        &self.token
    }
    fn npartitions(&self) -> usize {
        self.parts
    }
    fn lower(&self, _graph: &mut Graph) -> Result<Vec<Vec<Key>>, ComputeError> {
        Ok(vec![Vec::new(); self.parts])
    }
    fn run(&self, part: usize, _: &[Data], emit: &mut Emit<'_, u64>) -> Result<(), BoxError> {
        let (lo, hi) = self.bounds(part);
        for x in lo..hi {
            emit(Elem::Owned(x))?;
        }
        Ok(())
    }
    fn spec(&self, part: usize) -> Result<StreamSpec, WireError> {
        let (lo, hi) = self.bounds(part);
        Ok(StreamSpec::Range { lo, hi })
    }
}

/// The stream of the numbers `lo..hi` (how a worker rebuilds one partition of a `range`).
pub(crate) fn span(lo: u64, hi: u64) -> Arc<dyn Stream<u64>> {
    leaf("range", move |_, emit: &mut Emit<'_, u64>| {
        for x in lo..hi {
            emit(Elem::Owned(x))?;
        }
        Ok(())
    })
}

/// The numbers `0..n` in `npartitions` partitions (at least one) of near-equal size.
///
/// ```
/// use dusk_collections::bag::range;
/// use dusk_scheduler::Compute;
/// let b = range(7, 3);
/// assert_eq!(b.compute().unwrap(), vec![0, 1, 2, 3, 4, 5, 6]);
/// ```
pub fn range(n: u64, npartitions: usize) -> Bag<u64> {
    let parts = npartitions.max(1);
    let token = Tokenizer::new("bag-range").write(&n).write(&parts).finish();
    Bag::from_stream(Arc::new(Range { token, n, parts }))
}

/// A bag whose partitions are delayed values, one partition per value (Dask's
/// `from_delayed`).
///
/// ```
/// use dusk_collections::bag::from_delayed;
/// use dusk_collections::delayed::lazy;
/// use dusk_scheduler::Compute;
/// let parts = vec![lazy(|| vec![1, 2]), lazy(|| vec![3])];
/// let b = from_delayed(&parts);
/// assert_eq!(b.npartitions(), 2);
/// assert_eq!(b.map(|x: &i32| x * 10).compute().unwrap(), vec![10, 20, 30]);
/// ```
pub fn from_delayed<T: Clone + Send + Sync + 'static>(parts: &[Delayed<Vec<T>>]) -> Bag<T> {
    let keys: Vec<Key> = parts.iter().map(|d| d.key().clone()).collect();
    let token = {
        let mut t = Tokenizer::new("bag-from-delayed");
        for k in &keys {
            t.write(k);
        }
        t.finish()
    };
    let parts: Vec<Delayed<Vec<T>>> = parts.to_vec();
    let lower = Arc::new(move |g: &mut Graph| -> Result<(), ComputeError> {
        for d in &parts {
            Collection::lower(d, g)?;
        }
        Ok(())
    });
    Bag::from_stream(Arc::new(Stored {
        label: "from-delayed".to_string(),
        token,
        keys,
        lower,
        _type: PhantomData::<fn() -> T>,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_split_keeps_order_and_sizes() {
        let parts = split_even((0..10).collect::<Vec<_>>(), 3);
        assert_eq!(
            parts.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![3, 3, 4]
        );
        assert_eq!(parts.concat(), (0..10).collect::<Vec<_>>());
        let parts = split_even(vec![1, 2], 5);
        assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), 2);
        assert_eq!(parts.len(), 5);
    }

    #[test]
    fn range_bounds_cover_everything_once() {
        let r = Range {
            token: String::new(),
            n: 10,
            parts: 4,
        };
        let all: Vec<u64> = (0..4)
            .flat_map(|p| {
                let (lo, hi) = r.bounds(p);
                lo..hi
            })
            .collect();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn range_keys_are_deterministic() {
        assert_eq!(range(10, 2).name(), range(10, 2).name());
        assert_ne!(range(10, 2).name(), range(11, 2).name());
        assert_ne!(
            from_sequence(vec![1], 1).name(),
            from_sequence(vec![1], 1).name()
        );
    }
}
