//! Blocked matrix products.
//!
//! `matmul(a, b)` of an `m×k` and a `k×n` array cuts both along `k` the same way (rechunking
//! to the common refinement when needed); output block `(i, j)` is one task summing
//! `a[i, l] · b[l, j]` over the blocks `l` along `k`, with ndarray's (matrixmultiply) kernel.

use std::sync::Arc;

use dusk_core::{ArrayBlock, BoxError, Op, Tokenizer};
use ndarray::{ArcArray, Array2, Ix2, IxDyn, LinalgScalar};
use serde::{Deserialize, Serialize};

use super::chunks::refine;
use super::dtype::{DType, Element};
use super::error::ArrayError;
use super::ops::ArrayOp;
use super::rechunk::rechunk_node;
use super::{blockwise_node, Array};

/// Sums the products of input pairs `(a0, b0, a1, b1, ...)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct MatmulKernel {
    pub dtype: DType,
}

fn mm<T: Element + LinalgScalar>(inputs: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
    let two = |b: &ArrayBlock| -> Result<ArcArray<T, Ix2>, BoxError> {
        let a = T::from_block(b.clone()).ok_or("matmul: block of another type")?;
        Ok(a.into_dimensionality::<Ix2>()?)
    };
    let mut acc: Option<Array2<T>> = None;
    for pair in inputs.chunks(2) {
        let [a, b] = pair else {
            return Err("matmul: odd number of inputs".into());
        };
        let p = two(a)?.dot(&two(b)?);
        acc = Some(match acc {
            None => p,
            Some(s) => s + p,
        });
    }
    let out = acc.ok_or("matmul: no inputs")?;
    Ok(T::into_block(out.into_dyn().into_shared()))
}

impl MatmulKernel {
    pub fn run(&self, inputs: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
        match self.dtype {
            DType::F64 => mm::<f64>(inputs),
            DType::F32 => mm::<f32>(inputs),
            DType::I64 => mm::<i64>(inputs),
            DType::I32 => mm::<i32>(inputs),
            DType::Bool => Err("matmul of boolean arrays".into()),
        }
    }
}

/// The matrix product of two 2-D arrays (1-D operands are treated as a row or column vector,
/// and that axis is dropped from the result, as in NumPy).
///
/// ```
/// use dusk_collections::array::{self, matmul};
/// use dusk_scheduler::Compute;
/// let a = ndarray::Array::from_shape_fn((5, 4), |(i, j)| (i + 2 * j) as f64);
/// let b = ndarray::Array::from_shape_fn((4, 3), |(i, j)| (i * j) as f64 - 1.0);
/// let x = array::from_array(a.clone(), [2, 3]).unwrap();
/// let y = array::from_array(b.clone(), [2, 2]).unwrap();
/// assert_eq!(matmul(&x, &y).unwrap().compute().unwrap(), a.dot(&b).into_dyn());
/// assert!(matmul(&x, &x).is_err());
/// ```
pub fn matmul<T: Element + LinalgScalar>(
    a: &Array<T>,
    b: &Array<T>,
) -> Result<Array<T>, ArrayError> {
    if T::DTYPE == DType::Bool {
        return Err(ArrayError::Dtype {
            op: "matmul",
            dtype: "bool",
        });
    }
    match (a.ndim(), b.ndim()) {
        (1, 1) => return matmul(&a.expand_dims(0)?, &b.expand_dims(1)?)?.squeeze(&[]),
        (1, 2) => return matmul(&a.expand_dims(0)?, b)?.squeeze(&[0]),
        (2, 1) => return matmul(a, &b.expand_dims(1)?)?.squeeze(&[1]),
        (2, 2) => {}
        (x, y) => {
            return Err(ArrayError::Shape(format!(
                "matmul takes 1-D or 2-D arrays, not {x}-D and {y}-D"
            )))
        }
    }
    let (an, bn) = (&a.node, &b.node);
    if an.shape[1] != bn.shape[0] {
        return Err(ArrayError::Shape(format!(
            "matmul of {:?} and {:?}: inner dimensions differ",
            an.shape, bn.shape
        )));
    }
    let inner = refine(&an.chunks[1], &bn.chunks[0]);
    let an = if an.chunks[1] == inner {
        an.clone()
    } else {
        rechunk_node(an, vec![an.chunks[0].clone(), inner.clone()])
    };
    let bn = if bn.chunks[0] == inner {
        bn.clone()
    } else {
        rechunk_node(bn, vec![inner.clone(), bn.chunks[1].clone()])
    };
    let name = Tokenizer::new("array-matmul")
        .write(&*an.name)
        .write(&*bn.name)
        .name("matmul");
    let shape = vec![an.shape[0], bn.shape[1]];
    let chunks = vec![an.chunks[0].clone(), bn.chunks[1].clone()];
    let (sa, sb) = (an.clone(), bn.clone());
    let nk = inner.len();
    let node = blockwise_node(
        name,
        shape,
        chunks,
        T::DTYPE,
        vec![an, bn],
        move |_, idx| {
            let mut deps = Vec::with_capacity(2 * nk);
            for l in 0..nk {
                deps.push(sa.key(&[idx[0], l]));
                deps.push(sb.key(&[l, idx[1]]));
            }
            (
                Arc::new(ArrayOp::Matmul(MatmulKernel { dtype: T::DTYPE })) as Arc<dyn Op>,
                deps,
            )
        },
    );
    let _ = IxDyn(&[]);
    Ok(a.derive(node))
}

impl<T: Element + LinalgScalar> Array<T> {
    /// The matrix product (see [`matmul`]).
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let i = dusk_collections::array::eye::<f64>(3, 2).unwrap();
    /// assert_eq!(i.dot(&i).unwrap().compute().unwrap(), ndarray::Array2::<f64>::eye(3).into_dyn());
    /// ```
    pub fn dot(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
        matmul(self, other)
    }
}

/// The tensor contraction of `a` and `b` over the axis pairs `(axes_a[i], axes_b[i])`, as
/// NumPy's `tensordot`: the result's axes are `a`'s free axes, then `b`'s. Built from a
/// transpose, a reshape to matrices, a blocked [`matmul`] and a reshape back.
///
/// ```
/// use dusk_collections::array::{self, tensordot};
/// use dusk_scheduler::Compute;
/// let a = ndarray::Array::from_shape_fn((3, 4, 5), |(i, j, k)| (i + j * k) as f64);
/// let b = ndarray::Array::from_shape_fn((5, 4, 2), |(i, j, k)| (i * k) as f64 - j as f64);
/// let x = array::from_array(a.clone(), 2).unwrap();
/// let y = array::from_array(b.clone(), 3).unwrap();
/// let z = tensordot(&x, &y, &[1, 2], &[1, 0]).unwrap().compute().unwrap();
/// let want = ndarray::Array::from_shape_fn((3, 2), |(i, l)| {
///     (0..4).flat_map(|j| (0..5).map(move |k| (j, k))).map(|(j, k)| a[[i, j, k]] * b[[k, j, l]]).sum::<f64>()
/// });
/// assert_eq!(z, want.into_dyn());
/// assert!(tensordot(&x, &y, &[0], &[0]).is_err());
/// ```
pub fn tensordot<T: Element + LinalgScalar>(
    a: &Array<T>,
    b: &Array<T>,
    axes_a: &[isize],
    axes_b: &[isize],
) -> Result<Array<T>, ArrayError> {
    if axes_a.len() != axes_b.len() {
        return Err(ArrayError::Shape(format!(
            "tensordot: {} axes of the first array paired with {} of the second",
            axes_a.len(),
            axes_b.len()
        )));
    }
    let ca: Vec<usize> = axes_a
        .iter()
        .map(|&x| super::error::norm_axis(x, a.ndim()))
        .collect::<Result<_, _>>()?;
    let cb: Vec<usize> = axes_b
        .iter()
        .map(|&x| super::error::norm_axis(x, b.ndim()))
        .collect::<Result<_, _>>()?;
    for (&i, &j) in ca.iter().zip(&cb) {
        if a.shape()[i] != b.shape()[j] {
            return Err(ArrayError::Shape(format!(
                "tensordot: axis {i} of {:?} and axis {j} of {:?} differ in length",
                a.shape(),
                b.shape()
            )));
        }
    }
    let fa: Vec<usize> = (0..a.ndim()).filter(|d| !ca.contains(d)).collect();
    let fb: Vec<usize> = (0..b.ndim()).filter(|d| !cb.contains(d)).collect();
    let m: usize = fa.iter().map(|&d| a.shape()[d]).product();
    let n: usize = fb.iter().map(|&d| b.shape()[d]).product();
    let k: usize = ca.iter().map(|&d| a.shape()[d]).product();
    let pa: Vec<usize> = fa.iter().chain(&ca).copied().collect();
    let pb: Vec<usize> = cb.iter().chain(&fb).copied().collect();
    let am = a.transpose(&pa)?.reshape(&[m, k])?;
    let bm = b.transpose(&pb)?.reshape(&[k, n])?;
    let out_shape: Vec<usize> = fa
        .iter()
        .map(|&d| a.shape()[d])
        .chain(fb.iter().map(|&d| b.shape()[d]))
        .collect();
    matmul(&am, &bm)?.reshape(&out_shape)
}
