//! Reductions (`sum`, `mean`, `std`, `argmin`, ... and their NaN-skipping variants) as tree
//! reductions, and cumulative sums and products along an axis.
//!
//! A reduction over some axes runs in three stages, as in Dask:
//!
//! 1. **partial**: one task per input block reduces the block over the axes, keeping them as
//!    length-1 axes. Means and variances keep `(count, mean, M2)` per lane — Chan's parallel
//!    form, numerically stable — and `argmin`/`argmax` keep `(value, global index)`;
//! 2. **combine**: the partials of one output block (all blocks along the reduced axes) are
//!    merged at most [`split_every`](super::Array::split_every) at a time, level by level;
//! 3. **final**: the last merge finishes the value (`mean = sum / n`, `std = sqrt(M2 / (n -
//!    ddof))`) and drops the reduced axes unless `keepdims`.
//!
//! Memory stays at a block plus small partials per task, and the critical path grows with the
//! logarithm of the block count. Cumulative operations are a chain along the axis: each block
//! accumulates locally and adds the last slice of the previous output block.

use std::sync::Arc;

use dusk_core::{ArrayBlock, BoxError, ComputeError, Graph, Key, Op, Task, Tokenizer};
use ndarray::{ArcArray, ArrayD, ArrayViewD, Axis, IxDyn};
use serde::{Deserialize, Serialize};

use super::chunks::{block_indices, offsets};
use super::dtype::{cast, to_f64_block, DType, Element};
use super::error::{norm_axes, norm_axis, ArrayError};
use super::ops::ArrayOp;
use super::{blockwise_node, Array, Node};

/// Which axes a reduction runs over.
///
/// ```
/// use dusk_collections::array::Axes;
/// assert_eq!(Axes::from(1), Axes::List(vec![1]));
/// assert_eq!(Axes::from([0, -1]), Axes::List(vec![0, -1]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Axes {
    /// Every axis (NumPy's `axis=None`).
    All,
    /// These axes (negative counts from the end; an empty list reduces nothing).
    List(Vec<isize>),
}

impl From<isize> for Axes {
    fn from(a: isize) -> Axes {
        Axes::List(vec![a])
    }
}
impl From<i32> for Axes {
    fn from(a: i32) -> Axes {
        Axes::List(vec![a as isize])
    }
}
impl From<&[isize]> for Axes {
    fn from(a: &[isize]) -> Axes {
        Axes::List(a.to_vec())
    }
}
impl From<Vec<isize>> for Axes {
    fn from(a: Vec<isize>) -> Axes {
        Axes::List(a)
    }
}
impl<const N: usize> From<[isize; N]> for Axes {
    fn from(a: [isize; N]) -> Axes {
        Axes::List(a.to_vec())
    }
}
impl<const N: usize> From<&[isize; N]> for Axes {
    fn from(a: &[isize; N]) -> Axes {
        Axes::List(a.to_vec())
    }
}

/// What a reduction computes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Kind {
    Sum,
    Prod,
    Min,
    Max,
    Any,
    All,
    CountNonzero,
    Mean,
    Var { ddof: f64 },
    Std { ddof: f64 },
    ArgMin,
    ArgMax,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Sum => "sum",
            Kind::Prod => "prod",
            Kind::Min => "min",
            Kind::Max => "max",
            Kind::Any => "any",
            Kind::All => "all",
            Kind::CountNonzero => "count-nonzero",
            Kind::Mean => "mean",
            Kind::Var { .. } => "var",
            Kind::Std { .. } => "std",
            Kind::ArgMin => "argmin",
            Kind::ArgMax => "argmax",
        }
    }

    fn arg(self) -> bool {
        matches!(self, Kind::ArgMin | Kind::ArgMax)
    }

    /// The dtype of the partials and of the result.
    fn dtypes(self, input: DType) -> (DType, DType) {
        match self {
            Kind::Sum | Kind::Prod => (input.accumulator(), input.accumulator()),
            Kind::Min | Kind::Max => (input, input),
            Kind::Any | Kind::All => (DType::Bool, DType::Bool),
            Kind::CountNonzero => (DType::I64, DType::I64),
            Kind::Mean | Kind::Var { .. } | Kind::Std { .. } => (DType::F64, input.to_float()),
            Kind::ArgMin | Kind::ArgMax => (DType::F64, DType::I64),
        }
    }
}

/// The stage of a reduction task.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Stage {
    /// Reduce one input block; `offset` is its position, `full_shape` the array's shape.
    Partial {
        offset: Vec<usize>,
        full_shape: Vec<usize>,
    },
    /// Merge partials.
    Combine,
    /// Merge partials, finish, and give the block `out_shape`.
    Final { out_shape: Vec<usize> },
}

/// A reduction task.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ReduceKernel {
    pub kind: Kind,
    pub skipna: bool,
    pub axes: Vec<usize>,
    pub input: DType,
    pub stage: Stage,
}

#[inline]
fn is_nan<T: PartialEq>(x: T) -> bool {
    #[allow(clippy::eq_op)]
    {
        x != x
    }
}

/// Reduces `a` over `axes` lane by lane: `states[j]` receives every element of lane `j` with
/// its position in the lane (C order over the reduced axes). Returns the states in the order
/// of the kept axes.
fn fold_lanes<T: Copy, S: Clone>(
    a: &ArrayViewD<T>,
    axes: &[usize],
    init: S,
    step: impl Fn(&mut S, T, usize),
) -> Vec<S> {
    let nd = a.ndim();
    let inner: usize = axes.iter().map(|&d| a.shape()[d]).product();
    let outer: usize = (0..nd)
        .filter(|d| !axes.contains(d))
        .map(|d| a.shape()[d])
        .product();
    let mut states = vec![init; outer];
    // Reduced axes first, and wide enough rows: accumulate row by row (vectorizes).
    let leading = axes.iter().enumerate().all(|(i, &d)| i == d);
    if leading && !axes.is_empty() && outer >= 64 {
        if let Some(s) = a.as_slice() {
            for r in 0..inner {
                let row = &s[r * outer..(r + 1) * outer];
                for (st, &x) in states.iter_mut().zip(row) {
                    step(st, x, r);
                }
            }
            return states;
        }
    }
    let perm: Vec<usize> = (0..nd)
        .filter(|d| !axes.contains(d))
        .chain(axes.iter().copied())
        .collect();
    let v = a.view().permuted_axes(IxDyn(&perm));
    let std = v.as_standard_layout();
    if let Some(s) = std.as_slice() {
        if inner > 0 {
            for (st, lane) in states.iter_mut().zip(s.chunks_exact(inner)) {
                for (r, &x) in lane.iter().enumerate() {
                    step(st, x, r);
                }
            }
        }
    }
    states
}

/// `(count, mean, M2)` of each lane, two passes per lane for accuracy.
/// `Σ (x - mean)²` with eight independent accumulators (vectorizes; the order of additions
/// differs from a plain loop only in rounding).
fn sum_sq_dev(lane: &[f64], mean: f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let mut chunks = lane.chunks_exact(8);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            let d = x - mean;
            *a += d * d;
        }
    }
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&x| (x - mean) * (x - mean))
        .sum();
    acc.iter().sum::<f64>() + tail
}

/// `(count, mean, M2)` of each lane; `with_m2: false` skips the second pass (for `mean`).
fn moments_lanes(
    a: &ArrayViewD<f64>,
    axes: &[usize],
    skipna: bool,
    with_m2: bool,
) -> Vec<[f64; 3]> {
    let nd = a.ndim();
    let inner: usize = axes.iter().map(|&d| a.shape()[d]).product();
    let perm: Vec<usize> = (0..nd)
        .filter(|d| !axes.contains(d))
        .chain(axes.iter().copied())
        .collect();
    let leading = axes.iter().enumerate().all(|(i, &d)| i == d) && !axes.is_empty();
    let outer_len = a.len().checked_div(inner).unwrap_or(0);
    if leading && a.as_slice().is_some() && !skipna && inner > 0 && outer_len >= 64 {
        // Reduced axes first: accumulate whole rows (vectorizes), then the squared deviations.
        let s = a.as_slice().unwrap_or(&[]);
        let outer = s.len() / inner;
        let mut sum = vec![0.0; outer];
        for row in s.chunks_exact(outer) {
            for (t, &x) in sum.iter_mut().zip(row) {
                *t += x;
            }
        }
        let n = inner as f64;
        let mean: Vec<f64> = sum.iter().map(|t| t / n).collect();
        let mut m2 = vec![0.0; outer];
        for row in s.chunks_exact(outer).take(if with_m2 { inner } else { 0 }) {
            for ((t, &x), &m) in m2.iter_mut().zip(row).zip(&mean) {
                let d = x - m;
                *t += d * d;
            }
        }
        return (0..outer).map(|j| [n, mean[j], m2[j]]).collect();
    }
    let v = a.view().permuted_axes(IxDyn(&perm));
    let std = v.as_standard_layout();
    let s = std.as_slice().unwrap_or(&[]);
    let outer = s.len().checked_div(inner).unwrap_or_else(|| {
        (0..nd)
            .filter(|d| !axes.contains(d))
            .map(|d| a.shape()[d])
            .product()
    });
    if inner == 0 {
        return vec![[0.0, 0.0, 0.0]; outer];
    }
    s.chunks_exact(inner)
        .map(|lane| {
            if skipna {
                let (mut n, mut t) = (0usize, 0.0);
                for &x in lane {
                    if !x.is_nan() {
                        n += 1;
                        t += x;
                    }
                }
                let mean = if n > 0 { t / n as f64 } else { 0.0 };
                let m2: f64 = lane
                    .iter()
                    .filter(|x| !x.is_nan())
                    .map(|&x| (x - mean) * (x - mean))
                    .sum();
                [n as f64, mean, m2]
            } else {
                let n = lane.len() as f64;
                let mean = ndarray::ArrayView1::from(lane).sum() / n;
                let m2 = if with_m2 { sum_sq_dev(lane, mean) } else { 0.0 };
                [n, mean, m2]
            }
        })
        .collect()
}

/// The shape of a block reduced over `axes` with the axes kept.
fn kept_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .map(|(d, &n)| if axes.contains(&d) { 1 } else { n })
        .collect()
}

fn stacked(parts: Vec<[f64; 3]>, k: usize, shape: &[usize]) -> Result<ArrayBlock, BoxError> {
    let lanes = parts.len();
    let mut data = vec![0.0; k * lanes];
    for (j, p) in parts.iter().enumerate() {
        for i in 0..k {
            data[i * lanes + j] = p[i];
        }
    }
    let mut sh = vec![k];
    sh.extend_from_slice(shape);
    Ok(ArrayBlock::from(ArrayD::from_shape_vec(IxDyn(&sh), data)?))
}

fn simple_partial<T: Element>(
    kind: Kind,
    skipna: bool,
    a: &ArcArray<T, IxDyn>,
    axes: &[usize],
) -> Result<ArrayD<T>, BoxError> {
    let shape = kept_shape(a.shape(), axes);
    let v = a.view();
    let out: Vec<T> = match kind {
        Kind::Min | Kind::Max => {
            let want_less = kind == Kind::Min;
            let st = fold_lanes(&v, axes, None::<T>, |s, x, _| {
                if skipna && is_nan(x) {
                    return;
                }
                *s = Some(match *s {
                    None => x,
                    Some(c) if is_nan(c) => c,
                    Some(_) if is_nan(x) => x,
                    Some(c) => {
                        if (want_less && x < c) || (!want_less && x > c) {
                            x
                        } else {
                            c
                        }
                    }
                });
            });
            st.into_iter()
                .map(|s| s.unwrap_or_else(|| T::from_f64(f64::NAN)))
                .collect()
        }
        _ => return Err(format!("{kind:?} is not a plain fold").into()),
    };
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), out)?)
}

fn sum_prod<T: Element>(
    prod: bool,
    skipna: bool,
    a: &ArcArray<T, IxDyn>,
    axes: &[usize],
    add: impl Fn(T, T) -> T,
    one: T,
) -> Result<ArrayD<T>, BoxError> {
    let shape = kept_shape(a.shape(), axes);
    let init = if prod { one } else { T::default() };
    let st = fold_lanes(&a.view(), axes, init, |s, x, _| {
        if !(skipna && is_nan(x)) {
            *s = add(*s, x);
        }
    });
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), st)?)
}

macro_rules! sum_prod_block {
    ($b:expr, $prod:expr, $skip:expr, $axes:expr) => {
        match $b {
            ArrayBlock::F64(a) => ArrayBlock::from(if $prod {
                sum_prod(true, $skip, &a, $axes, |x, y| x * y, 1.0)?
            } else {
                sum_prod(false, $skip, &a, $axes, |x, y| x + y, 1.0)?
            }),
            ArrayBlock::F32(a) => ArrayBlock::from(if $prod {
                sum_prod(true, $skip, &a, $axes, |x, y| x * y, 1.0)?
            } else {
                sum_prod(false, $skip, &a, $axes, |x, y| x + y, 1.0)?
            }),
            ArrayBlock::I64(a) => ArrayBlock::from(if $prod {
                sum_prod(true, $skip, &a, $axes, |x: i64, y| x.wrapping_mul(y), 1)?
            } else {
                sum_prod(false, $skip, &a, $axes, |x: i64, y| x.wrapping_add(y), 1)?
            }),
            _ => return Err("sum/prod of an unexpected block type".into()),
        }
    };
}

impl ReduceKernel {
    pub fn label(&self) -> &'static str {
        match self.stage {
            Stage::Partial { .. } => "reduce-partial",
            Stage::Combine => "reduce-combine",
            Stage::Final { .. } => self.kind.label(),
        }
    }

    fn partial(
        &self,
        b: &ArrayBlock,
        offset: &[usize],
        full: &[usize],
    ) -> Result<ArrayBlock, BoxError> {
        let axes = &self.axes;
        let (pd, _) = self.kind.dtypes(self.input);
        Ok(match self.kind {
            Kind::Sum | Kind::Prod => {
                let b = cast(b, pd);
                sum_prod_block!(b, self.kind == Kind::Prod, self.skipna, axes)
            }
            Kind::Any | Kind::All | Kind::CountNonzero => {
                let ArrayBlock::Bool(a) = cast(b, DType::Bool) else {
                    return Err("boolean cast failed".into());
                };
                let shape = kept_shape(a.shape(), axes);
                match self.kind {
                    Kind::Any => ArrayBlock::from(ArrayD::from_shape_vec(
                        IxDyn(&shape),
                        fold_lanes(&a.view(), axes, false, |s, x, _| *s |= x),
                    )?),
                    Kind::All => ArrayBlock::from(ArrayD::from_shape_vec(
                        IxDyn(&shape),
                        fold_lanes(&a.view(), axes, true, |s, x, _| *s &= x),
                    )?),
                    _ => ArrayBlock::from(ArrayD::from_shape_vec(
                        IxDyn(&shape),
                        fold_lanes(&a.view(), axes, 0i64, |s, x, _| *s += x as i64),
                    )?),
                }
            }
            Kind::Min | Kind::Max => match b {
                ArrayBlock::F64(a) => {
                    ArrayBlock::from(simple_partial(self.kind, self.skipna, a, axes)?)
                }
                ArrayBlock::F32(a) => {
                    ArrayBlock::from(simple_partial(self.kind, self.skipna, a, axes)?)
                }
                ArrayBlock::I64(a) => {
                    ArrayBlock::from(simple_partial(self.kind, self.skipna, a, axes)?)
                }
                ArrayBlock::I32(a) => {
                    ArrayBlock::from(simple_partial(self.kind, self.skipna, a, axes)?)
                }
                ArrayBlock::Bool(a) => {
                    ArrayBlock::from(simple_partial(self.kind, self.skipna, a, axes)?)
                }
                _ => return Err("min/max of an unexpected block type".into()),
            },
            Kind::Mean | Kind::Var { .. } | Kind::Std { .. } => {
                let a = to_f64_block(b);
                let with_m2 = self.kind != Kind::Mean;
                let lanes = moments_lanes(&a.view(), axes, self.skipna, with_m2);
                stacked(lanes, 3, &kept_shape(a.shape(), axes))?
            }
            Kind::ArgMin | Kind::ArgMax => {
                let a = to_f64_block(b);
                let bshape = a.shape().to_vec();
                let min = self.kind == Kind::ArgMin;
                let skip = self.skipna;
                let st = fold_lanes(&a.view(), axes, None::<(f64, usize)>, |s, x, r| {
                    if skip && x.is_nan() {
                        return;
                    }
                    let better = match *s {
                        None => true,
                        Some((c, _)) if c.is_nan() => false,
                        Some(_) if x.is_nan() => true,
                        Some((c, _)) => {
                            if min {
                                x < c
                            } else {
                                x > c
                            }
                        }
                    };
                    if better {
                        *s = Some((x, r));
                    }
                });
                // Local lane positions to global flat positions over the reduced axes.
                let ext: Vec<usize> = axes.iter().map(|&d| bshape[d]).collect();
                let parts = st
                    .into_iter()
                    .map(|s| match s {
                        None => [f64::NAN, -1.0, 0.0],
                        Some((v, r)) => {
                            let mut rem = r;
                            let mut local = vec![0usize; ext.len()];
                            for i in (0..ext.len()).rev() {
                                local[i] = rem % ext[i].max(1);
                                rem /= ext[i].max(1);
                            }
                            let mut g = 0usize;
                            for (i, &d) in axes.iter().enumerate() {
                                g = g * full[d] + offset[d] + local[i];
                            }
                            [v, g as f64, 0.0]
                        }
                    })
                    .collect();
                stacked(parts, 2, &kept_shape(&bshape, axes))?
            }
        })
    }

    fn combine(&self, parts: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
        let mut it = parts.iter();
        let mut acc = it.next().cloned().ok_or("combine without inputs")?;
        for p in it {
            acc = self.merge(&acc, p)?;
        }
        Ok(acc)
    }

    fn merge(&self, a: &ArrayBlock, b: &ArrayBlock) -> Result<ArrayBlock, BoxError> {
        use super::elementwise::binary;
        use super::elementwise::BinOp as B;
        Ok(match self.kind {
            Kind::Sum | Kind::CountNonzero => binary(B::Add, a, b)?,
            Kind::Prod => binary(B::Mul, a, b)?,
            Kind::Any => binary(B::Or, a, b)?,
            Kind::All => binary(B::And, a, b)?,
            Kind::Min | Kind::Max => {
                if self.skipna {
                    // NaN means "no value yet" in NaN-skipping partials.
                    let min = self.kind == Kind::Min;
                    let f = move |x: f64, y: f64| {
                        if x.is_nan() {
                            y
                        } else if y.is_nan() || (x < y) == min {
                            x
                        } else {
                            y
                        }
                    };
                    match (a, b) {
                        (ArrayBlock::F64(x), ArrayBlock::F64(y)) => ArrayBlock::from(
                            ndarray::Zip::from(x).and(y).map_collect(|&p, &q| f(p, q)),
                        ),
                        (ArrayBlock::F32(x), ArrayBlock::F32(y)) => ArrayBlock::from(
                            ndarray::Zip::from(x)
                                .and(y)
                                .map_collect(|&p, &q| f(p as f64, q as f64) as f32),
                        ),
                        _ => binary(if min { B::Minimum } else { B::Maximum }, a, b)?,
                    }
                } else {
                    match (a, b) {
                        (ArrayBlock::Bool(x), ArrayBlock::Bool(y)) => {
                            let min = self.kind == Kind::Min;
                            ArrayBlock::from(ndarray::Zip::from(x).and(y).map_collect(|&p, &q| {
                                if min {
                                    p && q
                                } else {
                                    p || q
                                }
                            }))
                        }
                        _ => binary(
                            if self.kind == Kind::Min {
                                B::Minimum
                            } else {
                                B::Maximum
                            },
                            a,
                            b,
                        )?,
                    }
                }
            }
            Kind::Mean | Kind::Var { .. } | Kind::Std { .. } => {
                let (x, y) = (to_f64_block(a), to_f64_block(b));
                let mut out = x.to_owned();
                let len = x.len() / 3;
                let (xs, ys) = (x.as_slice().ok_or("layout")?, y.as_slice().ok_or("layout")?);
                let os = out.as_slice_mut().ok_or("layout")?;
                for j in 0..len {
                    let (na, ma, qa) = (xs[j], xs[len + j], xs[2 * len + j]);
                    let (nb, mb, qb) = (ys[j], ys[len + j], ys[2 * len + j]);
                    let n = na + nb;
                    let (m, q) = if n == 0.0 {
                        (0.0, 0.0)
                    } else {
                        let d = mb - ma;
                        (ma + d * nb / n, qa + qb + d * d * na * nb / n)
                    };
                    os[j] = n;
                    os[len + j] = m;
                    os[2 * len + j] = q;
                }
                ArrayBlock::from(out)
            }
            Kind::ArgMin | Kind::ArgMax => {
                let (x, y) = (to_f64_block(a), to_f64_block(b));
                let mut out = x.to_owned();
                let len = x.len() / 2;
                let (xs, ys) = (x.as_slice().ok_or("layout")?, y.as_slice().ok_or("layout")?);
                let os = out.as_slice_mut().ok_or("layout")?;
                let min = self.kind == Kind::ArgMin;
                for j in 0..len {
                    let (va, ia, vb, ib) = (xs[j], xs[len + j], ys[j], ys[len + j]);
                    let take_b = if ib < 0.0 {
                        false
                    } else if ia < 0.0 {
                        true
                    } else if self.skipna {
                        if vb.is_nan() {
                            false
                        } else if va.is_nan() {
                            true
                        } else if va == vb {
                            ib < ia
                        } else {
                            (vb < va) == min
                        }
                    } else if va.is_nan() || vb.is_nan() {
                        vb.is_nan() && (!va.is_nan() || ib < ia)
                    } else if va == vb {
                        ib < ia
                    } else {
                        (vb < va) == min
                    };
                    if take_b {
                        os[j] = vb;
                        os[len + j] = ib;
                    }
                }
                ArrayBlock::from(out)
            }
        })
    }

    fn finish(&self, acc: ArrayBlock, out_shape: &[usize]) -> Result<ArrayBlock, BoxError> {
        let (_, od) = self.kind.dtypes(self.input);
        let done = match self.kind {
            Kind::Mean | Kind::Var { .. } | Kind::Std { .. } => {
                let a = to_f64_block(&acc);
                let len = a.len() / 3;
                let s = a.as_slice().ok_or("layout")?;
                let v: Vec<f64> = (0..len)
                    .map(|j| {
                        let (n, m, q) = (s[j], s[len + j], s[2 * len + j]);
                        match self.kind {
                            Kind::Mean => {
                                if n > 0.0 {
                                    m
                                } else {
                                    f64::NAN
                                }
                            }
                            Kind::Var { ddof } => q / (n - ddof),
                            Kind::Std { ddof } => (q / (n - ddof)).sqrt(),
                            _ => f64::NAN,
                        }
                    })
                    .collect();
                cast(
                    &ArrayBlock::from(ArrayD::from_shape_vec(IxDyn(&[len]), v)?),
                    od,
                )
            }
            Kind::ArgMin | Kind::ArgMax => {
                let a = to_f64_block(&acc);
                let len = a.len() / 2;
                let s = a.as_slice().ok_or("layout")?;
                let v: Vec<i64> = (0..len).map(|j| s[len + j] as i64).collect();
                ArrayBlock::from(ArrayD::from_shape_vec(IxDyn(&[len]), v)?)
            }
            _ => acc,
        };
        reshape_block(done, out_shape)
    }

    pub fn run(&self, inputs: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
        match &self.stage {
            Stage::Partial { offset, full_shape } => {
                let b = inputs.first().ok_or("reduce: missing input")?;
                self.partial(b, offset, full_shape)
            }
            Stage::Combine => self.combine(inputs),
            Stage::Final { out_shape } => {
                let acc = self.combine(inputs)?;
                self.finish(acc, out_shape)
            }
        }
    }
}

fn reshape_block(b: ArrayBlock, shape: &[usize]) -> Result<ArrayBlock, BoxError> {
    fn go<T: Element>(a: ArcArray<T, IxDyn>, shape: &[usize]) -> Result<ArrayBlock, BoxError> {
        let a = a.into_owned().into_shape_with_order(IxDyn(shape))?;
        Ok(T::into_block(a.into_shared()))
    }
    match b {
        ArrayBlock::F64(a) => go(a, shape),
        ArrayBlock::F32(a) => go(a, shape),
        ArrayBlock::I64(a) => go(a, shape),
        ArrayBlock::I32(a) => go(a, shape),
        ArrayBlock::Bool(a) => go(a, shape),
        _ => Err("unsupported block".into()),
    }
}

/// Builds the reduction node of `kind` over `axes`.
fn reduction(
    n: &Arc<Node>,
    kind: Kind,
    skipna: bool,
    axes: Axes,
    keepdims: bool,
    split_every: usize,
) -> Result<Arc<Node>, ArrayError> {
    let nd = n.ndim();
    let axes = match axes {
        Axes::All => (0..nd).collect(),
        Axes::List(v) => norm_axes(&v, nd)?,
    };
    if kind.arg() && axes.len() != nd && axes.len() != 1 {
        return Err(ArrayError::Shape(format!(
            "{} reduces over one axis or all of them, not {axes:?}",
            kind.label()
        )));
    }
    let reduced: usize = axes.iter().map(|&d| n.shape[d]).product();
    let size: usize = n.shape.iter().product();
    if reduced == 0
        && size == 0
        && matches!(kind, Kind::Min | Kind::Max | Kind::ArgMin | Kind::ArgMax)
    {
        return Err(ArrayError::Shape(format!(
            "{} of an empty selection (shape {:?}) has no identity",
            kind.label(),
            n.shape
        )));
    }
    let (_, out_dtype) = kind.dtypes(n.dtype);
    let kept: Vec<usize> = (0..nd).filter(|d| !axes.contains(d)).collect();
    let (shape, chunks): (Vec<usize>, Vec<Vec<usize>>) = if keepdims {
        (
            (0..nd)
                .map(|d| if axes.contains(&d) { 1 } else { n.shape[d] })
                .collect(),
            (0..nd)
                .map(|d| {
                    if axes.contains(&d) {
                        vec![1]
                    } else {
                        n.chunks[d].clone()
                    }
                })
                .collect(),
        )
    } else {
        (
            kept.iter().map(|&d| n.shape[d]).collect(),
            kept.iter().map(|&d| n.chunks[d].clone()).collect(),
        )
    };
    let token = Tokenizer::new("array-reduction")
        .write(&*n.name)
        .write(&format!("{kind:?}"))
        .write(&skipna)
        .write(&axes)
        .write(&keepdims)
        .write(&split_every)
        .finish();
    let label = if skipna {
        format!("nan{}", kind.label())
    } else {
        kind.label().to_string()
    };
    let name = format!("{label}-{token}");
    let partial_name: Arc<str> = Arc::from(format!("{label}-partial-{token}"));
    let combine_name: Arc<str> = Arc::from(format!("{label}-combine-{token}"));
    let input = n.clone();
    let input_dtype = n.dtype;
    let in_offs: Vec<Vec<usize>> = n.chunks.iter().map(|c| offsets(c)).collect();
    let kernel = move |stage: Stage| {
        Arc::new(ArrayOp::Reduce(ReduceKernel {
            kind,
            skipna,
            axes: axes.clone(),
            input: input_dtype,
            stage,
        })) as Arc<dyn Op>
    };
    let lower = move |out: &Node, g: &mut Graph| -> Result<(), ComputeError> {
        let nb = input.numblocks();
        // Partials, one per input block.
        for idx in block_indices(&nb) {
            let offset: Vec<usize> = idx
                .iter()
                .enumerate()
                .map(|(d, &i)| in_offs[d][i])
                .collect();
            let key = Key::block(
                partial_name.clone(),
                &idx.iter().map(|&i| i as u32).collect::<Vec<_>>(),
            );
            let op = kernel(Stage::Partial {
                offset,
                full_shape: input.shape.clone(),
            });
            g.insert(key, Task::from_arc(op, vec![input.key(&idx)]));
        }
        // Per output block: every partial along the reduced axes, merged in a tree.
        let red_nb: Vec<usize> = nb
            .iter()
            .enumerate()
            .filter(|(d, _)| !kept.contains(d))
            .map(|(_, &k)| k)
            .collect();
        let kept_nb: Vec<usize> = kept.iter().map(|&d| nb[d]).collect();
        for kidx in block_indices(&kept_nb) {
            let mut level: Vec<Key> = block_indices(&red_nb)
                .into_iter()
                .map(|ridx| {
                    let mut full = vec![0usize; nd];
                    let (mut ki, mut ri) = (0, 0);
                    for (d, f) in full.iter_mut().enumerate() {
                        if kept.contains(&d) {
                            *f = kidx[ki];
                            ki += 1;
                        } else {
                            *f = ridx[ri];
                            ri += 1;
                        }
                    }
                    Key::block(
                        partial_name.clone(),
                        &full.iter().map(|&i| i as u32).collect::<Vec<_>>(),
                    )
                })
                .collect();
            let mut depth = 0u32;
            while level.len() > split_every {
                let mut next = Vec::new();
                for (j, group) in level.chunks(split_every).enumerate() {
                    let mut ix: Vec<u32> = vec![depth];
                    ix.extend(kidx.iter().map(|&i| i as u32));
                    ix.push(j as u32);
                    let k = Key::block(combine_name.clone(), &ix);
                    g.insert(
                        k.clone(),
                        Task::from_arc(kernel(Stage::Combine), group.to_vec()),
                    );
                    next.push(k);
                }
                level = next;
                depth += 1;
            }
            // The output block index: kept axes, plus 0 for each kept reduced axis.
            let out_idx: Vec<usize> = if keepdims {
                let mut v = vec![0usize; nd];
                for (i, &d) in kept.iter().enumerate() {
                    v[d] = kidx[i];
                }
                v
            } else {
                kidx.clone()
            };
            let out_shape = out.block_shape(&out_idx);
            g.insert(
                out.key(&out_idx),
                Task::from_arc(kernel(Stage::Final { out_shape }), level),
            );
        }
        Ok(())
    };
    Ok(Arc::new(Node {
        name: name.into(),
        shape,
        chunks,
        dtype: out_dtype,
        deps: vec![n.clone()],
        lower: Arc::new(lower),
        fused: None,
    }))
}

macro_rules! reductions {
    ($($(#[$doc:meta])* $name:ident => $kind:expr, $skip:expr, $out:ty);* $(;)?) => {
        impl<T: Element> Array<T> {
            $(
                $(#[$doc])*
                pub fn $name(&self, axes: impl Into<Axes>, keepdims: bool) -> Result<Array<$out>, ArrayError> {
                    let n = reduction(&self.node, $kind, $skip, axes.into(), keepdims, self.split_every)?;
                    Ok(self.derive(n))
                }
            )*
        }
    };
}

reductions! {
    /// Sum over `axes` (integers and bools sum as `i64`).
    ///
    /// ```
    /// use dusk_collections::array::{self, Axes};
    /// use dusk_scheduler::Compute;
    /// let a = ndarray::Array::from_shape_fn((4, 5), |(i, j)| (i * 5 + j) as i64);
    /// let x = array::from_array(a.clone(), [3, 2]).unwrap();
    /// assert_eq!(x.sum(0, false).unwrap().compute().unwrap(), a.sum_axis(ndarray::Axis(0)).into_dyn());
    /// assert_eq!(x.sum(Axes::All, false).unwrap().compute().unwrap().first().copied(), Some(a.sum()));
    /// assert!(x.sum(2, false).is_err());
    /// ```
    sum => Kind::Sum, false, T::Acc;
    /// Sum skipping NaN.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().nansum(0, false).unwrap();
    /// ```
    nansum => Kind::Sum, true, T::Acc;
    /// Product over `axes`.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().prod(0, false).unwrap();
    /// ```
    prod => Kind::Prod, false, T::Acc;
    /// Product skipping NaN.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().nanprod(0, false).unwrap();
    /// ```
    nanprod => Kind::Prod, true, T::Acc;
    /// Minimum over `axes` (NaN propagates).
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().min(0, false).unwrap();
    /// ```
    min => Kind::Min, false, T;
    /// Minimum skipping NaN.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().nanmin(0, false).unwrap();
    /// ```
    nanmin => Kind::Min, true, T;
    /// Maximum over `axes` (NaN propagates).
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().max(0, false).unwrap();
    /// ```
    max => Kind::Max, false, T;
    /// Maximum skipping NaN.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().nanmax(0, false).unwrap();
    /// ```
    nanmax => Kind::Max, true, T;
    /// Whether any element is non-zero.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().any(0, false).unwrap();
    /// ```
    any => Kind::Any, false, bool;
    /// Whether every element is non-zero.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().all(0, false).unwrap();
    /// ```
    all => Kind::All, false, bool;
    /// The number of non-zero elements.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().count_nonzero(0, false).unwrap();
    /// ```
    count_nonzero => Kind::CountNonzero, false, i64;
    /// Mean over `axes`.
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let x = dusk_collections::array::arange(10, 3).unwrap();
    /// assert_eq!(x.mean(0, false).unwrap().compute().unwrap().first().copied(), Some(4.5));
    /// ```
    mean => Kind::Mean, false, T::Float;
    /// Mean skipping NaN.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().nanmean(0, false).unwrap();
    /// ```
    nanmean => Kind::Mean, true, T::Float;
    /// Variance (`ddof = 0`; see [`Array::var_ddof`]).
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let x = dusk_collections::array::arange(4, 3).unwrap();
    /// assert_eq!(x.var(0, false).unwrap().compute().unwrap().first().copied(), Some(1.25));
    /// ```
    var => Kind::Var { ddof: 0.0 }, false, T::Float;
    /// Variance skipping NaN.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().nanvar(0, false).unwrap();
    /// ```
    nanvar => Kind::Var { ddof: 0.0 }, true, T::Float;
    /// Standard deviation (`ddof = 0`).
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().std(0, false).unwrap();
    /// ```
    std => Kind::Std { ddof: 0.0 }, false, T::Float;
    /// Standard deviation skipping NaN.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().nanstd(0, false).unwrap();
    /// ```
    nanstd => Kind::Std { ddof: 0.0 }, true, T::Float;
    /// Position of the minimum along one axis, or in the flattened array with [`Axes::All`]
    /// (the first one on ties; NaN counts as the minimum, as in NumPy).
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let x = dusk_collections::array::from_array(ndarray::arr1(&[3.0, 1.0, 4.0, 1.0]), 3).unwrap();
    /// assert_eq!(x.argmin(0, false).unwrap().compute().unwrap().first().copied(), Some(1));
    /// ```
    argmin => Kind::ArgMin, false, i64;
    /// Position of the minimum, skipping NaN.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().nanargmin(0, false).unwrap();
    /// ```
    nanargmin => Kind::ArgMin, true, i64;
    /// Position of the maximum (first on ties; NaN counts as the maximum).
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().argmax(0, false).unwrap();
    /// ```
    argmax => Kind::ArgMax, false, i64;
    /// Position of the maximum, skipping NaN.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().nanargmax(0, false).unwrap();
    /// ```
    nanargmax => Kind::ArgMax, true, i64;
}

impl<T: Element> Array<T> {
    /// Variance with `ddof` delta degrees of freedom.
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let x = dusk_collections::array::arange(4, 3).unwrap();
    /// let v = x.var_ddof(0, false, 1.0).unwrap().compute().unwrap().sum();
    /// assert!((v - 5.0 / 3.0).abs() < 1e-12);
    /// ```
    pub fn var_ddof(
        &self,
        axes: impl Into<Axes>,
        keepdims: bool,
        ddof: f64,
    ) -> Result<Array<T::Float>, ArrayError> {
        let n = reduction(
            &self.node,
            Kind::Var { ddof },
            false,
            axes.into(),
            keepdims,
            self.split_every,
        )?;
        Ok(self.derive(n))
    }

    /// Standard deviation with `ddof` delta degrees of freedom.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[3], 2).unwrap().std_ddof(0, false, 1.0).unwrap();
    /// ```
    pub fn std_ddof(
        &self,
        axes: impl Into<Axes>,
        keepdims: bool,
        ddof: f64,
    ) -> Result<Array<T::Float>, ArrayError> {
        let n = reduction(
            &self.node,
            Kind::Std { ddof },
            false,
            axes.into(),
            keepdims,
            self.split_every,
        )?;
        Ok(self.derive(n))
    }

    /// The sum of every element, as a 0-d array.
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let x = dusk_collections::array::ones::<i32>(&[3, 4], 2).unwrap();
    /// assert_eq!(x.sum_all().compute().unwrap().first().copied(), Some(12));
    /// ```
    pub fn sum_all(&self) -> Array<T::Acc> {
        match reduction(
            &self.node,
            Kind::Sum,
            false,
            Axes::All,
            false,
            self.split_every,
        ) {
            Ok(n) => self.derive(n),
            Err(_) => unreachable!("a sum over every axis is always valid"),
        }
    }

    /// Cumulative sum along `axis` (integers accumulate as `i64`).
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let x = dusk_collections::array::arange(5, 2).unwrap();
    /// assert_eq!(x.cumsum(0).unwrap().compute().unwrap().as_slice().unwrap(), &[0, 1, 3, 6, 10]);
    /// ```
    pub fn cumsum(&self, axis: isize) -> Result<Array<T::Acc>, ArrayError> {
        Ok(self.derive(cumulative(&self.node, axis, false)?))
    }

    /// Cumulative product along `axis`.
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let x = dusk_collections::array::full(&[4], 2i64, 3).unwrap();
    /// assert_eq!(x.cumprod(0).unwrap().compute().unwrap().as_slice().unwrap(), &[2, 4, 8, 16]);
    /// ```
    pub fn cumprod(&self, axis: isize) -> Result<Array<T::Acc>, ArrayError> {
        Ok(self.derive(cumulative(&self.node, axis, true)?))
    }
}

/// One block of a cumulative operation: accumulate locally, then apply the carry from the
/// previous output block (its last slice along the axis), when there is one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CumKernel {
    pub axis: usize,
    pub prod: bool,
    pub dtype: DType,
}

fn cum_typed<T: Element>(
    k: &CumKernel,
    b: &ArrayBlock,
    prev: Option<&ArrayBlock>,
    op: impl Fn(T, T) -> T,
) -> Result<ArrayBlock, BoxError> {
    let a = T::from_block(cast(b, k.dtype)).ok_or("cumulative: cast failed")?;
    let mut out = a.into_owned();
    out.accumulate_axis_inplace(Axis(k.axis), |&p, c| *c = op(p, *c));
    if let Some(p) = prev {
        let p = T::from_block(p.clone()).ok_or("cumulative: carry of another type")?;
        let n = p.len_of(Axis(k.axis));
        if n > 0 {
            let carry = p
                .index_axis(Axis(k.axis), n - 1)
                .insert_axis(Axis(k.axis))
                .to_owned();
            let carry = carry
                .broadcast(out.raw_dim())
                .ok_or("cumulative: carry shape")?
                .to_owned();
            ndarray::Zip::from(&mut out)
                .and(&carry)
                .for_each(|o, &c| *o = op(c, *o));
        }
    }
    Ok(T::into_block(out.into_shared()))
}

impl CumKernel {
    pub fn run(&self, inputs: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
        let b = inputs.first().ok_or("cumulative: missing input")?;
        let prev = inputs.get(1);
        match (self.dtype, self.prod) {
            (DType::F64, false) => cum_typed::<f64>(self, b, prev, |x, y| x + y),
            (DType::F64, true) => cum_typed::<f64>(self, b, prev, |x, y| x * y),
            (DType::F32, false) => cum_typed::<f32>(self, b, prev, |x, y| x + y),
            (DType::F32, true) => cum_typed::<f32>(self, b, prev, |x, y| x * y),
            (_, false) => cum_typed::<i64>(self, b, prev, |x, y| x.wrapping_add(y)),
            (_, true) => cum_typed::<i64>(self, b, prev, |x, y| x.wrapping_mul(y)),
        }
    }
}

fn cumulative(n: &Arc<Node>, axis: isize, prod: bool) -> Result<Arc<Node>, ArrayError> {
    let axis = norm_axis(axis, n.ndim())?;
    let dtype = n.dtype.accumulator();
    let name = Tokenizer::new("array-cumulative")
        .write(&*n.name)
        .write(&axis)
        .write(&prod)
        .name(if prod { "cumprod" } else { "cumsum" });
    let src = n.clone();
    Ok(blockwise_node(
        name,
        n.shape.clone(),
        n.chunks.clone(),
        dtype,
        vec![n.clone()],
        move |out, idx| {
            let mut deps = vec![src.key(idx)];
            if idx[axis] > 0 {
                let mut p = idx.to_vec();
                p[axis] -= 1;
                deps.push(out.key(&p));
            }
            let op = ArrayOp::Cum(CumKernel { axis, prod, dtype });
            (Arc::new(op) as Arc<dyn Op>, deps)
        },
    ))
}
