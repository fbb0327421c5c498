//! The three functions of a tree reduction, and the built-in reductions as data.
//!
//! A tree reduction is a partial result per partition, combines of partials, and a finish that
//! turns the last partial into the result ([`TreeOps`]). User reductions (`fold`, `foldby`,
//! `reduction`, `topk` with a key closure) are made of closures, which only run in the process
//! that built them. The built-in ones (`count`, `sum`, `frequencies`, ...) are also named by a
//! [`Reduction`], so a worker that receives the name can build the same three functions for the
//! item type (see the `wire` module) — the client and the workers run the same code, from
//! [`ops`].
//!
//! Results are stored with [`sendable`], so a partial computed on one worker can be combined on
//! another.

use std::marker::PhantomData;
use std::sync::Arc;

use dusk_core::{BoxError, Data};
use serde::{Deserialize, Serialize};

use super::stream::Stream;
use super::wire::{revive, sendable};

/// The partial, combine and finish steps of a tree reduction over items of type `T`.
pub(crate) trait TreeOps<T>: Send + Sync + 'static {
    /// The partial result of partition `part` of `stream`, given the partition's inputs.
    fn partial(
        &self,
        stream: &dyn Stream<T>,
        part: usize,
        inputs: &[Data],
    ) -> Result<Data, BoxError>;
    /// Merges partial results into one.
    fn combine(&self, inputs: Vec<Data>) -> Result<Data, BoxError>;
    /// Merges the last partial results and yields the reduction's result.
    fn finish(&self, inputs: Vec<Data>) -> Result<Data, BoxError>;
}

/// A tree reduction given by three closures: partial `A`s, combined, finished into an `R`.
struct Tree<A, R, P, C, F> {
    partial: P,
    combine: C,
    finish: F,
    _types: PhantomData<fn() -> (A, R)>,
}

/// The tree reduction of the closures `partial`, `combine` and `finish`.
pub(crate) fn tree_ops<T, A, R, P, C, F>(partial: P, combine: C, finish: F) -> Arc<dyn TreeOps<T>>
where
    T: 'static,
    A: Clone + Send + Sync + 'static,
    R: Send + Sync + 'static,
    P: Fn(&dyn Stream<T>, usize, &[Data]) -> Result<A, BoxError> + Send + Sync + 'static,
    C: Fn(Vec<A>) -> Result<A, BoxError> + Send + Sync + 'static,
    F: Fn(A) -> Result<R, BoxError> + Send + Sync + 'static,
{
    Arc::new(Tree {
        partial,
        combine,
        finish,
        _types: PhantomData,
    })
}

/// Reads the inputs of a combine task as owned partials.
fn partials<A: Clone + Send + Sync + 'static>(inputs: Vec<Data>) -> Result<Vec<A>, BoxError> {
    inputs
        .into_iter()
        .map(|d| {
            let a = revive(d)?.downcast_arc::<A>()?;
            Ok(Arc::try_unwrap(a).unwrap_or_else(|shared| (*shared).clone()))
        })
        .collect()
}

impl<T, A, R, P, C, F> TreeOps<T> for Tree<A, R, P, C, F>
where
    T: 'static,
    A: Clone + Send + Sync + 'static,
    R: Send + Sync + 'static,
    P: Fn(&dyn Stream<T>, usize, &[Data]) -> Result<A, BoxError> + Send + Sync + 'static,
    C: Fn(Vec<A>) -> Result<A, BoxError> + Send + Sync + 'static,
    F: Fn(A) -> Result<R, BoxError> + Send + Sync + 'static,
{
    fn partial(
        &self,
        stream: &dyn Stream<T>,
        part: usize,
        inputs: &[Data],
    ) -> Result<Data, BoxError> {
        let a = (self.partial)(stream, part, inputs)?;
        Ok(sendable(a, std::mem::size_of::<A>()))
    }

    fn combine(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let a = (self.combine)(partials::<A>(inputs)?)?;
        Ok(sendable(a, std::mem::size_of::<A>()))
    }

    fn finish(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let r = (self.finish)((self.combine)(partials::<A>(inputs)?)?)?;
        Ok(sendable(r, std::mem::size_of::<R>()))
    }
}

/// A built-in reduction, by name: what a worker needs to rebuild its [`TreeOps`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Reduction {
    Count,
    Sum,
    Min,
    Max,
    Moments(Stat),
    Frequencies,
    Distinct,
    TopKByCount { k: u64 },
}

/// What `mean`, `var` and `std` report from the moments.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Stat {
    Mean,
    Var { ddof: u32 },
    Std { ddof: u32 },
}

impl Stat {
    fn of(self, m: Moments) -> f64 {
        match self {
            Stat::Mean => m.mean(),
            Stat::Var { ddof } => m.var(ddof),
            Stat::Std { ddof } => m.var(ddof).sqrt(),
        }
    }
}

/// Count, mean and sum of squared deviations, merged with Chan et al.'s parallel update.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Moments {
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

/// The built-in reductions, for the client (from the `Bag` methods, with the bounds the
/// methods require) and for workers (from a [`Reduction`], through the item type's
/// capabilities: [`any`](ops::any), [`hashed`](ops::hashed), ...).
pub(crate) mod ops {
    use std::cmp::Ordering;
    use std::collections::{HashMap, HashSet};
    use std::hash::Hash;
    use std::sync::Arc;

    use dusk_core::Data;

    use super::{tree_ops, Moments, Reduction, Stat, TreeOps};
    use crate::bag::counts::TieOrder;
    use crate::bag::reduce::ToF64;
    use crate::bag::stream::{Elem, Stream};

    pub(crate) fn count<T: 'static>() -> Arc<dyn TreeOps<T>> {
        tree_ops(
            |s: &dyn Stream<T>, part, inputs: &[Data]| {
                let mut n = 0u64;
                s.run(part, inputs, &mut |_| {
                    n += 1;
                    Ok(())
                })?;
                Ok(n)
            },
            |parts: Vec<u64>| Ok(parts.into_iter().sum()),
            Ok,
        )
    }

    pub(crate) fn sum<T>() -> Arc<dyn TreeOps<T>>
    where
        T: Clone + Default + std::ops::Add<Output = T> + Send + Sync + 'static,
    {
        tree_ops(
            |s: &dyn Stream<T>, part, inputs: &[Data]| {
                let mut acc = Some(T::default());
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    acc = acc.take().map(|a| a + e.into_owned());
                    Ok(())
                })?;
                acc.ok_or_else(|| "sum lost its accumulator".into())
            },
            |parts: Vec<T>| Ok(parts.into_iter().fold(T::default(), |a, b| a + b)),
            Ok,
        )
    }

    /// `min` (or `max` when `largest`): the first of equal items.
    pub(crate) fn extreme<T>(largest: bool) -> Arc<dyn TreeOps<T>>
    where
        T: Clone + PartialOrd + Send + Sync + 'static,
    {
        let better = move |new: &T, cur: &T| if largest { new > cur } else { new < cur };
        tree_ops(
            move |s: &dyn Stream<T>, part, inputs: &[Data]| {
                let mut best: Option<T> = None;
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    if best.as_ref().is_none_or(|b| better(e.get(), b)) {
                        best = Some(e.into_owned());
                    }
                    Ok(())
                })?;
                Ok(best)
            },
            move |parts: Vec<Option<T>>| {
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

    pub(crate) fn moments<T: ToF64 + 'static>(stat: Stat) -> Arc<dyn TreeOps<T>> {
        tree_ops(
            |s: &dyn Stream<T>, part, inputs: &[Data]| {
                let mut m = Moments::default();
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    m.push(e.get().to_f64());
                    Ok(())
                })?;
                Ok(m)
            },
            |parts: Vec<Moments>| Ok(parts.into_iter().fold(Moments::default(), Moments::merge)),
            move |m| Ok(stat.of(m)),
        )
    }

    pub(crate) fn frequencies<T>() -> Arc<dyn TreeOps<T>>
    where
        T: Clone + Eq + Hash + Send + Sync + 'static,
    {
        tree_ops(
            |s: &dyn Stream<T>, part, inputs: &[Data]| {
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
            |parts: Vec<HashMap<T, u64>>| {
                let mut it = parts.into_iter();
                let mut out = it.next().unwrap_or_default();
                for table in it {
                    for (k, c) in table {
                        *out.entry(k).or_insert(0) += c;
                    }
                }
                Ok(out)
            },
            |table| Ok(table.into_iter().collect::<Vec<(T, u64)>>()),
        )
    }

    pub(crate) fn distinct<T>() -> Arc<dyn TreeOps<T>>
    where
        T: Clone + Eq + Hash + Send + Sync + 'static,
    {
        tree_ops(
            |s: &dyn Stream<T>, part, inputs: &[Data]| {
                let mut seen: HashSet<T> = HashSet::new();
                s.run(part, inputs, &mut |e: Elem<'_, T>| {
                    if !seen.contains(e.get()) {
                        seen.insert(e.into_owned());
                    }
                    Ok(())
                })?;
                Ok(seen)
            },
            |parts: Vec<HashSet<T>>| {
                let mut it = parts.into_iter();
                let mut out = it.next().unwrap_or_default();
                for set in it {
                    out.extend(set);
                }
                Ok(out)
            },
            |set| Ok(set.into_iter().collect::<Vec<T>>()),
        )
    }

    /// Highest counts first; equal counts by the items' [`TieOrder`].
    fn by_count<X: TieOrder>(a: &(X, u64), b: &(X, u64)) -> Ordering {
        b.1.cmp(&a.1).then_with(|| a.0.tie_cmp(&b.0))
    }

    /// Keeps the `k` best pairs (in no order).
    fn keep_top_counts<X: TieOrder>(pairs: &mut Vec<(X, u64)>, k: usize) {
        if pairs.len() > k {
            if k > 0 {
                pairs.select_nth_unstable_by(k - 1, by_count);
            }
            pairs.truncate(k);
        }
    }

    pub(crate) fn topk_by_count<X>(k: usize) -> Arc<dyn TreeOps<(X, u64)>>
    where
        X: TieOrder + Clone + Send + Sync + 'static,
    {
        tree_ops(
            move |s: &dyn Stream<(X, u64)>, part, inputs: &[Data]| {
                let mut best: Vec<(X, u64)> = Vec::new();
                s.run(part, inputs, &mut |e: Elem<'_, (X, u64)>| {
                    if k > 0 {
                        best.push(e.into_owned());
                        if best.len() >= 2 * k.max(16) {
                            keep_top_counts(&mut best, k);
                        }
                    }
                    Ok(())
                })?;
                keep_top_counts(&mut best, k);
                Ok(best)
            },
            move |parts: Vec<Vec<(X, u64)>>| {
                let mut all: Vec<(X, u64)> = parts.into_iter().flatten().collect();
                keep_top_counts(&mut all, k);
                Ok(all)
            },
            |mut best| {
                best.sort_by(by_count);
                Ok(best)
            },
        )
    }

    /// Reductions every item type has.
    pub(crate) fn any<T: 'static>(r: &Reduction) -> Option<Arc<dyn TreeOps<T>>> {
        matches!(r, Reduction::Count).then(count::<T>)
    }

    /// Reductions of hashable items.
    pub(crate) fn hashed<T>(r: &Reduction) -> Option<Arc<dyn TreeOps<T>>>
    where
        T: Clone + Eq + Hash + Send + Sync + 'static,
    {
        match r {
            Reduction::Frequencies => Some(frequencies()),
            Reduction::Distinct => Some(distinct()),
            _ => None,
        }
    }

    /// Reductions of ordered items.
    pub(crate) fn ordered<T>(r: &Reduction) -> Option<Arc<dyn TreeOps<T>>>
    where
        T: Clone + PartialOrd + Send + Sync + 'static,
    {
        match r {
            Reduction::Min => Some(extreme(false)),
            Reduction::Max => Some(extreme(true)),
            _ => None,
        }
    }

    /// Reductions of numbers.
    pub(crate) fn numeric<T>(r: &Reduction) -> Option<Arc<dyn TreeOps<T>>>
    where
        T: Clone + Default + std::ops::Add<Output = T> + ToF64 + Send + Sync + 'static,
    {
        match r {
            Reduction::Sum => Some(sum()),
            Reduction::Moments(stat) => Some(moments(*stat)),
            _ => None,
        }
    }

    /// Reductions of `(item, count)` pairs.
    pub(crate) fn counted<X>(r: &Reduction) -> Option<Arc<dyn TreeOps<(X, u64)>>>
    where
        X: TieOrder + Clone + Send + Sync + 'static,
    {
        match r {
            Reduction::TopKByCount { k } => Some(topk_by_count(usize::try_from(*k).ok()?)),
            _ => None,
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
}
