//! `Item`: one lazily computed value made from a bag (a count, a mean, `take`'s items).
//!
//! Dask returns an `Item` from reductions; here it is a key plus the way to build the tasks
//! behind it. It is a [`Collection`], so it computes alone or together with other values in
//! one graph (a tuple of items made from the same bag share nothing but the source files, but
//! they run in one pass of the scheduler).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use dusk_core::{Collection, ComputeError, Data, Graph, Key, LiteralOp, Persist};

use super::stream::LowerFn;

/// A lazily computed single value of type `R`.
///
/// ```
/// use dusk_collections::bag::range;
/// use dusk_scheduler::Compute;
/// let b = range(10, 3);
/// let (n, total) = (b.count(), b.sum()).compute().unwrap();
/// assert_eq!((n, total), (10, 45));
/// ```
pub struct Item<R> {
    key: Key,
    lower: Arc<LowerFn>,
    _type: PhantomData<fn() -> R>,
}

impl<R> Clone for Item<R> {
    fn clone(&self) -> Self {
        Item {
            key: self.key.clone(),
            lower: self.lower.clone(),
            _type: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Item<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Item<{}>({})", std::any::type_name::<R>(), self.key)
    }
}

impl<R> Item<R> {
    pub(crate) fn new(key: Key, lower: Arc<LowerFn>) -> Item<R> {
        Item {
            key,
            lower,
            _type: PhantomData,
        }
    }

    /// The key of the task that yields the value.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// assert!(range(4, 2).count().key().name().starts_with("count-"));
    /// ```
    pub fn key(&self) -> &Key {
        &self.key
    }
}

impl<R: Clone + Send + Sync + 'static> Collection for Item<R> {
    type Output = R;

    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        (self.lower)(graph)?;
        Ok(vec![self.key.clone()])
    }

    fn num_outputs(&self) -> usize {
        1
    }

    fn finalize(&self, results: Vec<Data>) -> Result<R, ComputeError> {
        let data = results
            .into_iter()
            .next()
            .ok_or_else(|| ComputeError::Scheduler(format!("no result for {}", self.key)))?;
        let arc = super::wire::revive(data)
            .and_then(|d| d.downcast_arc::<R>())
            .map_err(|source| ComputeError::Result {
                key: self.key.clone(),
                source,
            })?;
        Ok(Arc::try_unwrap(arc).unwrap_or_else(|shared| (*shared).clone()))
    }
}

impl<R: Clone + Send + Sync + 'static> Persist for Item<R> {
    /// The same value under the same key, its task now a literal.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// let n = range(1000, 4).count();
    /// let kept = n.persist().unwrap();
    /// assert_eq!(kept.key(), n.key());
    /// assert_eq!(kept.compute().unwrap(), 1000);
    /// ```
    fn with_results(&self, results: Vec<Data>) -> Self {
        let Some(data) = results.into_iter().next() else {
            return self.clone();
        };
        let key = self.key.clone();
        let k = key.clone();
        Item::new(
            key,
            Arc::new(move |g: &mut Graph| -> Result<(), ComputeError> {
                if !g.contains(&k) {
                    g.add(k.clone(), LiteralOp::new(data.clone()), vec![]);
                }
                Ok(())
            }),
        )
    }
}
