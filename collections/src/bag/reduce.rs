//! Reductions: `count`, `sum`, `min`, `max`, `mean`, `var`, `std`, `frequencies`, `topk`,
//! `distinct`, `fold`, `foldby`, `reduction`, and `take`.
//!
//! Every reduction is a *tree reduction*: one task per partition folds the partition's items
//! into a partial result as they stream past (no partition is ever held as a `Vec`), then
//! combine tasks merge at most `split_every` partials each (8 by default, see
//! [`Bag::split_every`]) until one remains. The fan-in bounds both the memory of a combine task
//! and the length of the critical path (`log_8` of the partition count), and the partial
//! tasks run in parallel.
//!
//! `foldby` is Dask's grouped reduction without a shuffle: each partition folds into a table
//! `key → accumulator`, and tables are merged up the tree; it is the right tool when there are
//! few distinct keys. `groupby` (in the `shuffle` module) moves every item instead.
//!
//! Reductions that yield one value return an [`Item`]; those that yield items (`frequencies`,
//! `topk`, `distinct`, `foldby`) return a one-partition [`Bag`], as in Dask.

use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use dusk_core::{BoxError, ComputeError, Data, Graph, Key, Tokenizer, WireError};

use super::item::Item;
use super::stream::{fresh_token, Elem, LowerFn, Stored, Stream};
use super::tree::{ops, tree_ops, Reduction, Stat, TreeOps};
use super::wire::{describe, describe_partition, sendable, BagOp, Work};
use super::Bag;

/// Numbers that `mean`, `var` and `std` can average.
///
/// ```
/// use dusk_collections::bag::ToF64;
/// assert_eq!(3u8.to_f64(), 3.0);
/// assert_eq!((-2i64).to_f64(), -2.0);
/// ```
pub trait ToF64 {
    /// The value as an `f64` (rounded for integers beyond 2^53).
    fn to_f64(&self) -> f64;
}

macro_rules! to_f64 {
    ($($t:ty),*) => {$(
        impl ToF64 for $t {
            fn to_f64(&self) -> f64 {
                *self as f64
            }
        }
    )*};
}
to_f64!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

/// The first `n` items of `parts` — each a stream, the partition it reads, and how many of
/// `inputs` (in order) are that partition's — read in order, stopping as soon as `n` are found.
pub(crate) fn take_items<T: Clone + 'static>(
    parts: &[(&dyn Stream<T>, usize, usize)],
    inputs: &[Data],
    n: usize,
) -> Result<Vec<T>, BoxError> {
    let mut out: Vec<T> = Vec::with_capacity(n.min(1 << 16));
    let mut offset = 0;
    for &(stream, part, size) in parts {
        if out.len() >= n {
            break;
        }
        let ins = inputs.get(offset..offset + size).unwrap_or(&[]);
        offset += size;
        let result = stream.run(part, ins, &mut |e: Elem<'_, T>| {
            if out.len() >= n {
                return Err(Stop.into());
            }
            out.push(e.into_owned());
            Ok(())
        });
        if let Err(e) = result {
            if !e.is::<Stop>() {
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// Stops a stream early (used by `take`); never escapes this module.
#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stream stopped early")
    }
}

impl std::error::Error for Stop {}

impl<T: Send + Sync + 'static> Bag<T> {
    /// A deterministic token for a built-in reduction of this bag.
    pub(crate) fn reduction_token(&self, label: &str, args: &[u64]) -> String {
        Tokenizer::new("bag-reduction")
            .write(self.stream.token())
            .write(label)
            .write(args)
            .write(&self.split_every)
            .finish()
    }

    /// Builds the tree reduction: a partial per partition, combines of at most `split_every`
    /// partials, and a final task. `wire` names a built-in reduction, so that the tasks can be
    /// sent to a cluster; user reductions pass `None` and run locally.
    fn tree(
        &self,
        label: &str,
        token: String,
        ops: Arc<dyn TreeOps<T>>,
        wire: Option<Reduction>,
    ) -> (Key, Arc<LowerFn>) {
        let final_key = Key::new(format!("{label}-{token}"));
        let key = final_key.clone();
        let stream = self.stream.clone();
        let split_every = self.split_every;
        let label = label.to_string();
        let lower = move |g: &mut Graph| -> Result<(), ComputeError> {
            if g.contains(&key) {
                return Ok(());
            }
            let partial_label = format!("{label}-partial");
            let name: Arc<str> = Arc::from(format!("{label}-partial-{token}"));
            let deps = stream.lower(g)?;
            let mut level = Vec::with_capacity(deps.len());
            for (i, deps) in deps.into_iter().enumerate() {
                let k = Key::part(name.clone(), i as u32);
                let (s, o) = (stream.clone(), ops.clone());
                let (d, w, l) = (stream.clone(), wire.clone(), partial_label.clone());
                let op = BagOp::new(
                    partial_label.clone(),
                    move |inputs: Vec<Data>| o.partial(s.as_ref(), i, &inputs),
                    move || {
                        let reduction = w.clone().ok_or(WireError::Closure)?;
                        describe_partition(&l, d.as_ref(), i, |stream, part| Work::Partial {
                            stream,
                            part,
                            reduction,
                        })
                    },
                );
                g.add(k.clone(), op, deps);
                level.push(k);
            }
            let name: Arc<str> = Arc::from(format!("{label}-combine-{token}"));
            let combine_label = format!("{label}-combine");
            let mut depth = 0u32;
            while level.len() > split_every {
                let mut next = Vec::new();
                for (j, chunk) in level.chunks(split_every).enumerate() {
                    let k = Key::block(name.clone(), &[depth, j as u32]);
                    let (o, w, l) = (ops.clone(), wire.clone(), combine_label.clone());
                    let op = BagOp::new(
                        combine_label.clone(),
                        move |inputs| o.combine(inputs),
                        move || {
                            describe::<T>(&l, Work::Combine(w.clone().ok_or(WireError::Closure)?))
                        },
                    );
                    g.add(k.clone(), op, chunk.to_vec());
                    next.push(k);
                }
                level = next;
                depth += 1;
            }
            let (o, w, l) = (ops.clone(), wire.clone(), label.clone());
            let op = BagOp::new(
                label.clone(),
                move |inputs| o.finish(inputs),
                move || describe::<T>(&l, Work::Finish(w.clone().ok_or(WireError::Closure)?)),
            );
            g.add(key.clone(), op, level);
            Ok(())
        };
        (final_key, Arc::new(lower))
    }

    /// A tree reduction yielding one value.
    fn reduce_item<R>(
        &self,
        label: &str,
        token: String,
        ops: Arc<dyn TreeOps<T>>,
        wire: Option<Reduction>,
    ) -> Item<R> {
        let (key, lower) = self.tree(label, token, ops, wire);
        Item::new(key, lower)
    }

    /// A tree reduction yielding a one-partition bag.
    pub(crate) fn reduce_bag<U: Send + Sync + 'static>(
        &self,
        label: &str,
        token: String,
        ops: Arc<dyn TreeOps<T>>,
        wire: Option<Reduction>,
    ) -> Bag<U> {
        let (key, lower) = self.tree(label, token.clone(), ops, wire);
        self.derive(Arc::new(Stored {
            label: label.to_string(),
            token,
            keys: vec![key],
            lower,
            _type: PhantomData,
        }))
    }

    /// The number of items.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// assert_eq!(range(1000, 7).filter(|x: &u64| x % 3 == 0).count().compute().unwrap(), 334);
    /// ```
    pub fn count(&self) -> Item<u64> {
        self.reduce_item(
            "count",
            self.reduction_token("count", &[]),
            ops::count::<T>(),
            Some(Reduction::Count),
        )
    }

    /// Folds every partition with `binop` starting from `init`, then merges the partial
    /// results with `combine` up a tree (Dask's `fold`). `combine` must be associative, and
    /// `init` neutral for it.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let words = from_sequence(vec!["a", "bb", "ccc"], 2);
    /// let letters = words.fold(0usize, |n, w: &&str| n + w.len(), |a, b| a + b);
    /// assert_eq!(letters.compute().unwrap(), 6);
    /// ```
    pub fn fold<A, B, C>(&self, init: A, binop: B, combine: C) -> Item<A>
    where
        A: Clone + Send + Sync + 'static,
        B: Fn(A, &T) -> A + Send + Sync + 'static,
        C: Fn(A, A) -> A + Send + Sync + 'static,
    {
        let start = init.clone();
        self.reduce_item(
            "fold",
            fresh_token("fold", self.stream.token()),
            tree_ops(
                move |s: &dyn Stream<T>, part, inputs: &[Data]| {
                    let mut acc = Some(start.clone());
                    s.run(part, inputs, &mut |e: Elem<'_, T>| {
                        acc = acc.take().map(|a| binop(a, e.get()));
                        Ok(())
                    })?;
                    acc.ok_or_else(|| "fold lost its accumulator".into())
                },
                move |parts: Vec<A>| {
                    let mut it = parts.into_iter();
                    let first = it.next().unwrap_or_else(|| init.clone());
                    Ok(it.fold(first, &combine))
                },
                Ok,
            ),
            None,
        )
    }

    /// Groups items by `key` and folds each group with `binop` from `init`, merging the
    /// per-partition tables with `combine` (Dask's `foldby`). Yields a one-partition bag of
    /// `(key, accumulator)` pairs, in no particular order.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// let sums = range(10, 3).foldby(|x: &u64| x % 2, 0u64, |a, x: &u64| a + x, |a, b| a + b);
    /// let mut out = sums.compute().unwrap();
    /// out.sort();
    /// assert_eq!(out, vec![(0, 20), (1, 25)]);
    /// ```
    pub fn foldby<K, A, KF, B, C>(&self, key: KF, init: A, binop: B, combine: C) -> Bag<(K, A)>
    where
        K: Clone + Eq + Hash + Send + Sync + 'static,
        A: Clone + Send + Sync + 'static,
        KF: Fn(&T) -> K + Send + Sync + 'static,
        B: Fn(A, &T) -> A + Send + Sync + 'static,
        C: Fn(A, A) -> A + Send + Sync + 'static,
    {
        self.reduce_bag(
            "foldby",
            fresh_token("foldby", self.stream.token()),
            tree_ops(
                move |s: &dyn Stream<T>, part, inputs: &[Data]| {
                    let mut table: HashMap<K, A> = HashMap::new();
                    s.run(part, inputs, &mut |e: Elem<'_, T>| {
                        let k = key(e.get());
                        let acc = match table.remove(&k) {
                            Some(a) => a,
                            None => init.clone(),
                        };
                        table.insert(k, binop(acc, e.get()));
                        Ok(())
                    })?;
                    Ok(table)
                },
                move |parts: Vec<HashMap<K, A>>| {
                    let mut it = parts.into_iter();
                    let mut out = it.next().unwrap_or_default();
                    for table in it {
                        for (k, a) in table {
                            let merged = match out.remove(&k) {
                                Some(b) => combine(b, a),
                                None => a,
                            };
                            out.insert(k, merged);
                        }
                    }
                    Ok(out)
                },
                |table| Ok(table.into_iter().collect::<Vec<(K, A)>>()),
            ),
            None,
        )
    }

    /// The mean of the items as `f64` (`NaN` for an empty bag).
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// assert_eq!(from_sequence(vec![1, 2, 3, 6], 3).mean().compute().unwrap(), 3.0);
    /// ```
    pub fn mean(&self) -> Item<f64>
    where
        T: ToF64,
    {
        self.moments("mean", 0, Stat::Mean)
    }

    /// The variance with `ddof` delta degrees of freedom (`0`: population, `1`: sample);
    /// `NaN` when there are not more than `ddof` items.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let b = from_sequence(vec![2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 3);
    /// assert_eq!(b.var(0).compute().unwrap(), 4.0);
    /// ```
    pub fn var(&self, ddof: u32) -> Item<f64>
    where
        T: ToF64,
    {
        self.moments("var", ddof, Stat::Var { ddof })
    }

    /// The standard deviation with `ddof` delta degrees of freedom.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let b = from_sequence(vec![2, 4, 4, 4, 5, 5, 7, 9], 2);
    /// assert_eq!(b.std(0).compute().unwrap(), 2.0);
    /// ```
    pub fn std(&self, ddof: u32) -> Item<f64>
    where
        T: ToF64,
    {
        self.moments("std", ddof, Stat::Std { ddof })
    }

    fn moments(&self, label: &str, ddof: u32, stat: Stat) -> Item<f64>
    where
        T: ToF64,
    {
        self.reduce_item(
            label,
            self.reduction_token(label, &[ddof as u64]),
            ops::moments::<T>(stat),
            Some(Reduction::Moments(stat)),
        )
    }

    /// Takes the first `n` items (Dask's `take`). Partitions are read in order and reading
    /// stops as soon as `n` items are found, so only the partitions needed are read (a bag
    /// that starts after a shuffle still computes its upstream tasks, which every partition
    /// depends on).
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// let first = range(1_000_000_000, 4).take(3);
    /// assert_eq!(first.compute().unwrap(), vec![0, 1, 2]); // reads 3 items, not 10^9
    /// ```
    pub fn take(&self, n: usize) -> Item<Vec<T>>
    where
        T: Clone,
    {
        let token = Tokenizer::new("bag-take")
            .write(self.stream.token())
            .write(&n)
            .finish();
        let key = Key::new(format!("take-{token}"));
        let k = key.clone();
        let stream = self.stream.clone();
        let lower = move |g: &mut Graph| -> Result<(), ComputeError> {
            if g.contains(&k) {
                return Ok(());
            }
            let per_part = stream.lower(g)?;
            let sizes: Vec<usize> = per_part.iter().map(Vec::len).collect();
            let (s, d, sz) = (stream.clone(), stream.clone(), sizes.clone());
            let op = BagOp::new(
                "take",
                move |inputs: Vec<Data>| {
                    let parts: Vec<(&dyn Stream<T>, usize, usize)> = sizes
                        .iter()
                        .enumerate()
                        .map(|(part, &size)| (s.as_ref(), part, size))
                        .collect();
                    Ok(sendable(take_items(&parts, &inputs, n)?, 0))
                },
                move || {
                    let parts = sz
                        .iter()
                        .enumerate()
                        .map(|(part, &size)| Ok((d.spec(part)?, part as u64, size as u64)))
                        .collect::<Result<Vec<_>, WireError>>()?;
                    describe::<T>("take", Work::Take { parts, n: n as u64 })
                },
            );
            g.add(k.clone(), op, per_part.into_iter().flatten().collect());
            Ok(())
        };
        Item::new(key, Arc::new(lower))
    }
}

impl<T: Clone + Send + Sync + 'static> Bag<T> {
    /// Dask's `reduction`: `per_partition` turns each partition's items into a partial
    /// result, and `aggregate` merges lists of partials — at every level of the tree, so it
    /// must accept its own output.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// let longest = range(100, 30)
    ///     .reduction(|part: Vec<u64>| part.len(), |lens: Vec<usize>| lens.into_iter().max().unwrap_or(0));
    /// assert_eq!(longest.compute().unwrap(), 4);
    /// ```
    pub fn reduction<A, P, G>(&self, per_partition: P, aggregate: G) -> Item<A>
    where
        A: Clone + Send + Sync + 'static,
        P: Fn(Vec<T>) -> A + Send + Sync + 'static,
        G: Fn(Vec<A>) -> A + Send + Sync + 'static,
    {
        self.reduce_item(
            "reduction",
            fresh_token("reduction", self.stream.token()),
            tree_ops(
                move |s: &dyn Stream<T>, part, inputs: &[Data]| {
                    let mut items = Vec::new();
                    s.run(part, inputs, &mut |e: Elem<'_, T>| {
                        items.push(e.into_owned());
                        Ok(())
                    })?;
                    Ok(per_partition(items))
                },
                move |parts: Vec<A>| Ok(aggregate(parts)),
                Ok,
            ),
            None,
        )
    }

    /// The sum of the items (`T::default()` for an empty bag).
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// assert_eq!(from_sequence(vec![1.5, 2.5], 2).sum().compute().unwrap(), 4.0);
    /// ```
    pub fn sum(&self) -> Item<T>
    where
        T: Default + std::ops::Add<Output = T>,
    {
        self.reduce_item(
            "sum",
            self.reduction_token("sum", &[]),
            ops::sum::<T>(),
            Some(Reduction::Sum),
        )
    }

    /// The smallest item (the first of equal ones), or `None` for an empty bag.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// assert_eq!(from_sequence(vec![3, 1, 2], 2).min().compute().unwrap(), Some(1));
    /// assert_eq!(from_sequence(Vec::<i32>::new(), 2).min().compute().unwrap(), None);
    /// ```
    pub fn min(&self) -> Item<Option<T>>
    where
        T: PartialOrd,
    {
        self.reduce_item(
            "min",
            self.reduction_token("min", &[]),
            ops::extreme::<T>(false),
            Some(Reduction::Min),
        )
    }

    /// The largest item (the first of equal ones), or `None` for an empty bag.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// assert_eq!(from_sequence(vec!["b", "c", "a"], 3).max().compute().unwrap(), Some("c"));
    /// ```
    pub fn max(&self) -> Item<Option<T>>
    where
        T: PartialOrd,
    {
        self.reduce_item(
            "max",
            self.reduction_token("max", &[]),
            ops::extreme::<T>(true),
            Some(Reduction::Max),
        )
    }

    /// How often each distinct item occurs, as a one-partition bag of `(item, count)` pairs in
    /// no particular order (Dask's `frequencies`).
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let mut f = from_sequence(vec!['a', 'b', 'a'], 2).frequencies().compute().unwrap();
    /// f.sort();
    /// assert_eq!(f, vec![('a', 2), ('b', 1)]);
    /// ```
    pub fn frequencies(&self) -> Bag<(T, u64)>
    where
        T: Eq + Hash,
    {
        self.reduce_bag(
            "frequencies",
            self.reduction_token("frequencies", &[]),
            ops::frequencies::<T>(),
            Some(Reduction::Frequencies),
        )
    }

    /// The distinct items, as a one-partition bag in no particular order.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let mut d = from_sequence(vec![3, 1, 3, 2, 1], 3).distinct().compute().unwrap();
    /// d.sort();
    /// assert_eq!(d, vec![1, 2, 3]);
    /// ```
    pub fn distinct(&self) -> Bag<T>
    where
        T: Eq + Hash,
    {
        self.reduce_bag(
            "distinct",
            self.reduction_token("distinct", &[]),
            ops::distinct::<T>(),
            Some(Reduction::Distinct),
        )
    }

    /// The `k` items with the largest `key`, largest first; items with equal keys keep their
    /// order in the bag (Dask's `topk`). Yields a one-partition bag.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let b = from_sequence(vec![("a", 2), ("b", 5), ("c", 2), ("d", 9)], 3);
    /// let top = b.topk(3, |(_, n): &(&str, i32)| *n);
    /// assert_eq!(top.compute().unwrap(), vec![("d", 9), ("b", 5), ("a", 2)]);
    /// ```
    pub fn topk<K, F>(&self, k: usize, key: F) -> Bag<T>
    where
        K: Ord + Clone + Send + Sync + 'static,
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        self.reduce_bag(
            "topk",
            fresh_token("topk", self.stream.token()),
            tree_ops(
                move |s: &dyn Stream<T>, part, inputs: &[Data]| {
                    let mut best: Vec<Ranked<K, T>> = Vec::new();
                    let mut index = 0usize;
                    s.run(part, inputs, &mut |e: Elem<'_, T>| {
                        if k == 0 {
                            return Ok(());
                        }
                        best.push((key(e.get()), (part, index), e.into_owned()));
                        index += 1;
                        if best.len() >= 2 * k.max(16) {
                            keep_top(&mut best, k);
                        }
                        Ok(())
                    })?;
                    keep_top(&mut best, k);
                    Ok(best)
                },
                move |parts: Vec<Vec<Ranked<K, T>>>| {
                    let mut all: Vec<Ranked<K, T>> = parts.into_iter().flatten().collect();
                    keep_top(&mut all, k);
                    Ok(all)
                },
                |mut best: Vec<Ranked<K, T>>| {
                    best.sort_by(rank);
                    Ok(best.into_iter().map(|(_, _, t)| t).collect::<Vec<T>>())
                },
            ),
            None,
        )
    }
}

/// An item of `topk` with its key and position (partition, index) for stable ties.
type Ranked<K, T> = (K, (usize, usize), T);

/// Larger keys first; equal keys in bag order.
fn rank<K: Ord, T>(a: &Ranked<K, T>, b: &Ranked<K, T>) -> std::cmp::Ordering {
    b.0.cmp(&a.0).then(a.1.cmp(&b.1))
}

/// Keeps the `k` best entries (in no order).
fn keep_top<K: Ord, T>(items: &mut Vec<Ranked<K, T>>, k: usize) {
    if items.len() > k {
        if k > 0 {
            items.select_nth_unstable_by(k - 1, rank);
        }
        items.truncate(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_top_is_stable_for_ties() {
        let mut v: Vec<Ranked<i32, char>> = vec![
            (1, (0, 0), 'a'),
            (2, (0, 1), 'b'),
            (1, (1, 0), 'c'),
            (2, (1, 1), 'd'),
        ];
        keep_top(&mut v, 3);
        v.sort_by(rank);
        assert_eq!(v.iter().map(|x| x.2).collect::<String>(), "bda".to_string());
        keep_top(&mut v, 0);
        assert!(v.is_empty());
    }

    #[test]
    fn deep_trees_have_bounded_fan_in() {
        let b = super::super::range(100, 50).split_every(3);
        let mut g = Graph::new();
        let item = b.count();
        dusk_core::Collection::lower(&item, &mut g).unwrap();
        let widest = g.iter().map(|(_, t)| t.deps.len()).max().unwrap_or(0);
        assert!(widest <= 3, "a task has {widest} inputs");
        // 50 partials, then 17, 6, 2 combines, then the final task.
        assert_eq!(g.len(), 50 + 17 + 6 + 2 + 1);
    }
}
