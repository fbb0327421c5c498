//! `Collection`: anything that lowers into a graph and reads its value back from the results.
//!
//! Collections (DataFrame, Array, Bag, Delayed) implement this trait; schedulers compute any
//! `Collection` without knowing what it is. Tuples and vectors of collections are collections
//! too, so several values computed together share one graph — and their common subgraphs run
//! once (equal keys are equal computations).

use crate::data::Data;
use crate::error::ComputeError;
use crate::graph::Graph;
use crate::key::Key;

/// A lazy value that can be computed by any scheduler.
///
/// ```
/// use dusk_core::{Collection, ComputeError, Data, Graph, Key, LiteralOp};
///
/// struct Constant(i64);
/// impl Collection for Constant {
///     type Output = i64;
///     fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
///         let key = Key::new(format!("constant-{}", self.0));
///         graph.add(key.clone(), LiteralOp::new(Data::local(self.0)), vec![]);
///         Ok(vec![key])
///     }
///     fn num_outputs(&self) -> usize { 1 }
///     fn finalize(&self, results: Vec<Data>) -> Result<i64, ComputeError> {
///         Ok(*results[0].downcast_ref::<i64>().expect("lowered as i64"))
///     }
/// }
///
/// let mut g = Graph::new();
/// let keys = (Constant(1), Constant(2)).lower(&mut g).unwrap();
/// assert_eq!(keys.len(), 2);
/// assert_eq!((Constant(1), Constant(2)).finalize(vec![Data::local(1i64), Data::local(2i64)]).unwrap(), (1, 2));
/// ```
pub trait Collection {
    /// The computed value.
    type Output;

    /// Adds this collection's tasks to `graph` (keeping tasks already there) and returns the keys
    /// whose results make up its value, `num_outputs()` of them.
    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError>;

    /// How many keys [`Collection::lower`] returns.
    fn num_outputs(&self) -> usize;

    /// Builds the value from the results of the keys returned by [`Collection::lower`].
    fn finalize(&self, results: Vec<Data>) -> Result<Self::Output, ComputeError>;
}

/// A collection that can be rebuilt around already computed results (Dask's `persist`): the
/// new collection has the same keys, and its tasks just hand out the stored data.
pub trait Persist: Collection + Sized {
    /// The same collection, backed by `results` (the data of the keys [`Collection::lower`]
    /// returns, in order).
    fn with_results(&self, results: Vec<Data>) -> Self;
}

impl<C: Collection + ?Sized> Collection for &C {
    type Output = C::Output;
    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        (**self).lower(graph)
    }
    fn num_outputs(&self) -> usize {
        (**self).num_outputs()
    }
    fn finalize(&self, results: Vec<Data>) -> Result<Self::Output, ComputeError> {
        (**self).finalize(results)
    }
}

impl<C: Collection> Collection for Vec<C> {
    type Output = Vec<C::Output>;
    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        let mut keys = Vec::new();
        for c in self {
            keys.extend(c.lower(graph)?);
        }
        Ok(keys)
    }
    fn num_outputs(&self) -> usize {
        self.iter().map(|c| c.num_outputs()).sum()
    }
    fn finalize(&self, results: Vec<Data>) -> Result<Self::Output, ComputeError> {
        let mut rest = results.into_iter();
        self.iter()
            .map(|c| c.finalize(rest.by_ref().take(c.num_outputs()).collect()))
            .collect()
    }
}

macro_rules! tuple_collection {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Collection),+> Collection for ($($name,)+) {
            type Output = ($($name::Output,)+);
            fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
                let mut keys = Vec::new();
                $(keys.extend(self.$idx.lower(graph)?);)+
                Ok(keys)
            }
            fn num_outputs(&self) -> usize {
                0 $(+ self.$idx.num_outputs())+
            }
            fn finalize(&self, results: Vec<Data>) -> Result<Self::Output, ComputeError> {
                let mut rest = results.into_iter();
                Ok(($(self.$idx.finalize(rest.by_ref().take(self.$idx.num_outputs()).collect())?,)+))
            }
        }
    };
}
tuple_collection!(A 0, B 1);
tuple_collection!(A 0, B 1, C 2);
tuple_collection!(A 0, B 1, C 2, D 3);
tuple_collection!(A 0, B 1, C 2, D 3, E 4);
