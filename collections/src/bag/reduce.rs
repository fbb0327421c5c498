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

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use dusk_core::{BoxError, ComputeError, Data, FnOp, Graph, Key, Tokenizer};

use super::item::Item;
use super::stream::{fresh_token, lower_per_partition, Elem, LowerFn, Stored, Stream};
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

/// Stops a stream early (used by `take`); never escapes this module.
#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stream stopped early")
    }
}

impl std::error::Error for Stop {}

/// Reads the inputs of a combine task as owned partials.
fn partials<A: Clone + Send + Sync + 'static>(inputs: Vec<Data>) -> Result<Vec<A>, BoxError> {
    inputs
        .into_iter()
        .map(|d| {
            let a = d.downcast_arc::<A>()?;
            Ok(Arc::try_unwrap(a).unwrap_or_else(|shared| (*shared).clone()))
        })
        .collect()
}

impl<T: Send + Sync + 'static> Bag<T> {
    /// A deterministic token for a built-in reduction of this bag.
    fn reduction_token(&self, label: &str, args: &[u64]) -> String {
        Tokenizer::new("bag-reduction")
            .write(self.stream.token())
            .write(label)
            .write(args)
            .write(&self.split_every)
            .finish()
    }

    /// Builds the tree reduction: a partial per partition, combines of at most `split_every`
    /// partials, and a final task applying `finish`.
    fn tree<A, R, P, C, F>(
        &self,
        label: &str,
        token: String,
        per_part: P,
        combine: C,
        finish: F,
    ) -> (Key, Arc<LowerFn>)
    where
        A: Clone + Send + Sync + 'static,
        R: Send + Sync + 'static,
        P: Fn(&dyn Stream<T>, usize, &[Data]) -> Result<A, BoxError> + Send + Sync + 'static,
        C: Fn(Vec<A>) -> Result<A, BoxError> + Send + Sync + 'static,
        F: Fn(A) -> Result<R, BoxError> + Send + Sync + 'static,
    {
        let final_key = Key::new(format!("{label}-{token}"));
        let key = final_key.clone();
        let stream = self.stream.clone();
        let split_every = self.split_every;
        let label = label.to_string();
        let per_part = Arc::new(per_part);
        let combine = Arc::new(combine);
        let finish = Arc::new(finish);
        let lower = move |g: &mut Graph| -> Result<(), ComputeError> {
            if g.contains(&key) {
                return Ok(());
            }
            let p = per_part.clone();
            let mut level = lower_per_partition(
                &stream,
                g,
                &format!("{label}-partial-{token}"),
                &format!("{label}-partial"),
                move |s, i, inputs| p(s, i, inputs),
            )?;
            let name: Arc<str> = Arc::from(format!("{label}-combine-{token}"));
            let mut depth = 0u32;
            while level.len() > split_every {
                let mut next = Vec::new();
                for (j, chunk) in level.chunks(split_every).enumerate() {
                    let k = Key::block(name.clone(), &[depth, j as u32]);
                    let c = combine.clone();
                    let op = FnOp::new(format!("{label}-combine"), move |inputs| {
                        let a = c(partials::<A>(inputs)?)?;
                        Ok(Data::local(a))
                    });
                    g.add(k.clone(), op, chunk.to_vec());
                    next.push(k);
                }
                level = next;
                depth += 1;
            }
            let (c, f) = (combine.clone(), finish.clone());
            let op = FnOp::new(label.clone(), move |inputs| {
                let r = f(c(partials::<A>(inputs)?)?)?;
                Ok(Data::local(r))
            });
            g.add(key.clone(), op, level);
            Ok(())
        };
        (final_key, Arc::new(lower))
    }

    /// A tree reduction yielding one value.
    fn reduce_item<A, R, P, C, F>(&self, label: &str, token: String, p: P, c: C, f: F) -> Item<R>
    where
        A: Clone + Send + Sync + 'static,
        R: Send + Sync + 'static,
        P: Fn(&dyn Stream<T>, usize, &[Data]) -> Result<A, BoxError> + Send + Sync + 'static,
        C: Fn(Vec<A>) -> Result<A, BoxError> + Send + Sync + 'static,
        F: Fn(A) -> Result<R, BoxError> + Send + Sync + 'static,
    {
        let (key, lower) = self.tree(label, token, p, c, f);
        Item::new(key, lower)
    }

    /// A tree reduction yielding a one-partition bag.
    fn reduce_bag<A, U, P, C, F>(&self, label: &str, token: String, p: P, c: C, f: F) -> Bag<U>
    where
        A: Clone + Send + Sync + 'static,
        U: Send + Sync + 'static,
        P: Fn(&dyn Stream<T>, usize, &[Data]) -> Result<A, BoxError> + Send + Sync + 'static,
        C: Fn(Vec<A>) -> Result<A, BoxError> + Send + Sync + 'static,
        F: Fn(A) -> Result<Vec<U>, BoxError> + Send + Sync + 'static,
    {
        let (key, lower) = self.tree(label, token.clone(), p, c, f);
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
            |s, part, inputs| {
                let mut n = 0u64;
                s.run(part, inputs, &mut |_| {
                    n += 1;
                    Ok(())
                })?;
                Ok(n)
            },
            |parts| Ok(parts.into_iter().sum()),
            Ok,
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
            move |s, part, inputs| {
                let mut acc = Some(start.clone());
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    acc = acc.take().map(|a| binop(a, e.get()));
                    Ok(())
                })?;
                acc.ok_or_else(|| "fold lost its accumulator".into())
            },
            move |parts| {
                let mut it = parts.into_iter();
                let first = it.next().unwrap_or_else(|| init.clone());
                Ok(it.fold(first, &combine))
            },
            Ok,
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
            move |s, part, inputs| {
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
            move |parts| {
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
            |table| Ok(table.into_iter().collect()),
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
        self.moments("mean", 0, |m| m.mean())
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
        self.moments("var", ddof, move |m| m.var(ddof))
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
        self.moments("std", ddof, move |m| m.var(ddof).sqrt())
    }

    fn moments(
        &self,
        label: &str,
        ddof: u32,
        finish: impl Fn(Moments) -> f64 + Send + Sync + 'static,
    ) -> Item<f64>
    where
        T: ToF64,
    {
        self.reduce_item(
            label,
            self.reduction_token(label, &[ddof as u64]),
            |s, part, inputs| {
                let mut m = Moments::default();
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    m.push(e.get().to_f64());
                    Ok(())
                })?;
                Ok(m)
            },
            |parts| Ok(parts.into_iter().fold(Moments::default(), Moments::merge)),
            move |m| Ok(finish(m)),
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
            let s = stream.clone();
            let op = FnOp::new("take", move |inputs: Vec<Data>| {
                let mut out: Vec<T> = Vec::with_capacity(n.min(1 << 16));
                let mut offset = 0;
                for (part, size) in sizes.iter().enumerate() {
                    if out.len() >= n {
                        break;
                    }
                    let ins = inputs.get(offset..offset + size).unwrap_or(&[]);
                    offset += size;
                    let result = s.run(part, ins, &mut |e: Elem<'_, T>| {
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
                Ok(Data::local(out))
            });
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
            move |s, part, inputs| {
                let mut items = Vec::new();
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    items.push(e.into_owned());
                    Ok(())
                })?;
                Ok(per_partition(items))
            },
            move |parts| Ok(aggregate(parts)),
            Ok,
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
            |s, part, inputs| {
                let mut acc = Some(T::default());
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    acc = acc.take().map(|a| a + e.into_owned());
                    Ok(())
                })?;
                acc.ok_or_else(|| "sum lost its accumulator".into())
            },
            |parts| Ok(parts.into_iter().fold(T::default(), |a, b| a + b)),
            Ok,
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
        self.extreme("min", |new, cur| new < cur)
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
        self.extreme("max", |new, cur| new > cur)
    }

    fn extreme(&self, label: &str, better: fn(&T, &T) -> bool) -> Item<Option<T>> {
        self.reduce_item(
            label,
            self.reduction_token(label, &[]),
            move |s, part, inputs| {
                let mut best: Option<T> = None;
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    if best.as_ref().is_none_or(|b| better(e.get(), b)) {
                        best = Some(e.into_owned());
                    }
                    Ok(())
                })?;
                Ok(best)
            },
            move |parts| {
                let mut best: Option<T> = None;
                for x in parts.into_iter().flatten() {
                    if best.as_ref().is_none_or(|b| better(&x, b)) {
                        best = Some(x);
                    }
                }
                Ok(best)
            },
            Ok,
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
            |s, part, inputs| {
                let mut counts: HashMap<T, u64> = HashMap::new();
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    match counts.get_mut(e.get()) {
                        Some(c) => *c += 1,
                        None => {
                            counts.insert(e.into_owned(), 1);
                        }
                    }
                    Ok(())
                })?;
                Ok(counts)
            },
            |parts| {
                let mut it = parts.into_iter();
                let mut out = it.next().unwrap_or_default();
                for table in it {
                    for (k, c) in table {
                        *out.entry(k).or_insert(0) += c;
                    }
                }
                Ok(out)
            },
            |table| Ok(table.into_iter().collect()),
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
            |s, part, inputs| {
                let mut seen: HashSet<T> = HashSet::new();
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    if !seen.contains(e.get()) {
                        seen.insert(e.into_owned());
                    }
                    Ok(())
                })?;
                Ok(seen)
            },
            |parts| {
                let mut it = parts.into_iter();
                let mut out = it.next().unwrap_or_default();
                for set in it {
                    out.extend(set);
                }
                Ok(out)
            },
            |set| Ok(set.into_iter().collect()),
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
            move |s, part, inputs| {
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
            move |parts| {
                let mut all: Vec<Ranked<K, T>> = parts.into_iter().flatten().collect();
                keep_top(&mut all, k);
                Ok(all)
            },
            |mut best| {
                best.sort_by(rank);
                Ok(best.into_iter().map(|(_, _, t)| t).collect())
            },
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

/// Count, mean and sum of squared deviations, merged with Chan et al.'s parallel update.
#[derive(Clone, Copy, Debug, Default)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn push(&mut self, x: f64) {
        self.n += 1.0;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }

    fn merge(a: Moments, b: Moments) -> Moments {
        if a.n == 0.0 {
            return b;
        }
        if b.n == 0.0 {
            return a;
        }
        let n = a.n + b.n;
        let d = b.mean - a.mean;
        Moments {
            n,
            mean: a.mean + d * b.n / n,
            m2: a.m2 + b.m2 + d * d * a.n * b.n / n,
        }
    }

    fn mean(self) -> f64 {
        if self.n == 0.0 {
            f64::NAN
        } else {
            self.mean
        }
    }

    fn var(self, ddof: u32) -> f64 {
        let dof = self.n - ddof as f64;
        if dof <= 0.0 {
            f64::NAN
        } else {
            self.m2 / dof
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_merge_like_one_pass() {
        let xs: Vec<f64> = (0..100).map(|i| (i * 37 % 101) as f64 / 7.0).collect();
        let mut whole = Moments::default();
        xs.iter().for_each(|&x| whole.push(x));
        let mut a = Moments::default();
        let mut b = Moments::default();
        xs[..30].iter().for_each(|&x| a.push(x));
        xs[30..].iter().for_each(|&x| b.push(x));
        let merged = Moments::merge(a, b);
        assert!((merged.mean() - whole.mean()).abs() < 1e-12);
        assert!((merged.var(1) - whole.var(1)).abs() < 1e-9);
        assert!(Moments::default().mean().is_nan());
    }

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
