//! `Scalar<T>`: one value computed from a DataFrame — its length, a quantile, the paths a
//! writer produced.
//!
//! Dask returns such values as lazy scalars so that they can be computed together with other
//! collections in one pass (`dask.compute(df.x.sum(), len(df))`). A `Scalar` is a small frame
//! (usually one aggregate partition) plus a conversion applied when its result comes back, so
//! it composes with the same `compute` machinery, tuples included.

use std::fmt;
use std::sync::Arc;

use dusk_core::{Collection, ComputeError, Data, Graph, Key};

use super::{DataFrame, FrameError};

type Convert<T> = dyn Fn(polars::prelude::DataFrame) -> Result<T, FrameError> + Send + Sync;

/// A lazy value derived from a [`DataFrame`]; compute it like any collection.
///
/// ```
/// use polars::prelude::*;
/// use dusk_scheduler::Compute;
/// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3]).unwrap(), 2);
/// assert_eq!(ddf.len().compute().unwrap(), 3);
/// ```
pub struct Scalar<T> {
    frame: DataFrame,
    convert: Arc<Convert<T>>,
}

impl<T> Clone for Scalar<T> {
    fn clone(&self) -> Self {
        Scalar {
            frame: self.frame.clone(),
            convert: self.convert.clone(),
        }
    }
}

impl<T> fmt::Debug for Scalar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scalar(from {:?})", self.frame)
    }
}

impl<T> Scalar<T> {
    /// A value read off the computed `frame` by `convert`.
    pub(crate) fn new<F>(frame: DataFrame, convert: F) -> Scalar<T>
    where
        F: Fn(polars::prelude::DataFrame) -> Result<T, FrameError> + Send + Sync + 'static,
    {
        Scalar {
            frame,
            convert: Arc::new(convert),
        }
    }

    /// The frame this value is read from (for `explain` and graph pictures).
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3]).unwrap(), 2);
    /// assert!(ddf.len().frame().explain().contains("aggregate"));
    /// ```
    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }
}

impl<T> Collection for Scalar<T> {
    type Output = T;

    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        self.frame.lower(graph)
    }

    fn num_outputs(&self) -> usize {
        self.frame.num_outputs()
    }

    fn finalize(&self, results: Vec<Data>) -> Result<T, ComputeError> {
        let df = self.frame.finalize(results)?;
        (self.convert)(df).map_err(|e| ComputeError::Lowering(Box::new(e)))
    }
}

/// Reads the single value of a one-row, one-column result as a `u64`.
pub(crate) fn single_u64(df: &polars::prelude::DataFrame) -> Result<u64, FrameError> {
    let column = df
        .columns()
        .first()
        .ok_or_else(|| FrameError::Unsupported("an empty result has no value".into()))?;
    let cast = column
        .cast(&polars::prelude::DataType::UInt64)
        .map_err(|e| FrameError::polars("read a count", e))?;
    let value = cast
        .u64()
        .map_err(|e| FrameError::polars("read a count", e))?
        .get(0);
    Ok(value.unwrap_or(0))
}
