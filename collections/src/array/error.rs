//! `ArrayError`: what can go wrong when an array expression is built or a block is read.
//!
//! Shape, chunk, axis and dtype mistakes are found while the expression is *built* (the
//! building call returns the error), as in Dask: nothing has to run to learn that two shapes do
//! not broadcast. File problems found when a `.npy` file is opened (a truncated file, an
//! unsupported dtype) are reported at build time too, naming the file; problems that only a task
//! can see travel through the scheduler as that task's error.

use std::path::PathBuf;

/// An error of an array expression, source or sink.
///
/// ```
/// use dusk_collections::array::{self, ArrayError};
/// let a = array::zeros::<f64>(&[4, 3], 2).unwrap();
/// let b = array::zeros::<f64>(&[4, 2], 2).unwrap();
/// let err = a.add(&b).unwrap_err();
/// assert!(matches!(err, ArrayError::Broadcast { .. }));
/// assert!(err.to_string().contains("[4, 3]"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArrayError {
    /// Two shapes do not broadcast together.
    #[error("shapes {left:?} and {right:?} cannot be broadcast together")]
    Broadcast {
        /// The left operand's shape.
        left: Vec<usize>,
        /// The right operand's shape.
        right: Vec<usize>,
    },
    /// An axis is outside the array's dimensions.
    #[error("axis {axis} is out of range for an array of {ndim} dimensions")]
    Axis {
        /// The axis as given (negative axes count from the end).
        axis: isize,
        /// The array's number of dimensions.
        ndim: usize,
    },
    /// The chunks given do not tile the shape.
    #[error("chunks {chunks:?} do not tile the shape {shape:?}: {reason}")]
    Chunks {
        /// The chunks as understood.
        chunks: String,
        /// The array's shape.
        shape: Vec<usize>,
        /// What is wrong.
        reason: String,
    },
    /// A shape mismatch other than broadcasting (reshape, concatenate, matmul, from_fn).
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// An index or slice is out of bounds or not valid for the array.
    #[error("bad index: {0}")]
    Index(String),
    /// The operation does not support the array's element type.
    #[error("{op} does not support arrays of {dtype}")]
    Dtype {
        /// The operation.
        op: &'static str,
        /// The element type.
        dtype: &'static str,
    },
    /// A computed block has a different type or shape than the expression promised.
    #[error("block {key} is not what the expression promised: {message}")]
    Block {
        /// The block's key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A `.npy` file is malformed, truncated or holds an unsupported dtype.
    #[error("{}: {message}", path.display())]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// Resolves a possibly negative axis against `ndim`.
pub(crate) fn norm_axis(axis: isize, ndim: usize) -> Result<usize, ArrayError> {
    let n = ndim as isize;
    let a = if axis < 0 { axis + n } else { axis };
    if a < 0 || a >= n {
        return Err(ArrayError::Axis { axis, ndim });
    }
    Ok(a as usize)
}

/// Resolves several axes, refusing duplicates; returns them sorted.
pub(crate) fn norm_axes(axes: &[isize], ndim: usize) -> Result<Vec<usize>, ArrayError> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let n = norm_axis(a, ndim)?;
        if out.contains(&n) {
            return Err(ArrayError::Index(format!("axis {a} is given twice")));
        }
        out.push(n);
    }
    out.sort_unstable();
    Ok(out)
}
