//! Indexing and reshaping: slices with steps, negative and single indices, new axes;
//! integer-list and boolean-mask selection along one axis; transpose, swapaxes, reshape,
//! squeeze and expand_dims.
//!
//! Slicing never reads more than it returns: the selected positions along each axis are
//! grouped by the input block that holds them, so each output block is a strided view of
//! exactly one input block ([`Assemble`](super::rechunk) with one piece). Transposes permute
//! block indices and each block's axes. Reshape works in C order: the array is cut into bands
//! along the first axis whose element counts suit both shapes, and each band is reshaped alone.

use std::sync::Arc;

use dusk_core::{ArrayBlock, BoxError, Op, Tokenizer};
use ndarray::{ArcArray, Axis, IxDyn};
use serde::{Deserialize, Serialize};

use super::chunks::{offsets, regular};
use super::dtype::{DType, Element};
use super::error::{norm_axis, ArrayError};
use super::ops::ArrayOp;
use super::rechunk::{passthrough, rechunk_node, Assemble, Piece, Span};
use super::{blockwise_node, Array, Node};

/// One entry of an index expression, as in NumPy's `x[1:7:2, -1, None]`.
///
/// ```
/// use dusk_collections::array::{self, Idx};
/// use dusk_scheduler::Compute;
/// let x = array::arange(10, 3).unwrap();
/// let y = x.slice(&[Idx::range(Some(-8), None, 3)]).unwrap();
/// assert_eq!(y.compute().unwrap().as_slice().unwrap(), &[2, 5, 8]);
/// let r = x.slice(&[Idx::range(None, None, -4)]).unwrap();
/// assert_eq!(r.compute().unwrap().as_slice().unwrap(), &[9, 5, 1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idx {
    /// `start:stop:step` (negative bounds count from the end; the step must not be 0).
    Slice {
        /// First position (None: the beginning, or the end for a negative step).
        start: Option<isize>,
        /// Position to stop before (None: past the end).
        stop: Option<isize>,
        /// The step.
        step: isize,
    },
    /// A single position; the axis is dropped.
    Index(isize),
    /// A new axis of length 1 (NumPy's `None`).
    NewAxis,
}

impl Idx {
    /// The whole axis (`:`).
    pub fn all() -> Idx {
        Idx::Slice {
            start: None,
            stop: None,
            step: 1,
        }
    }

    /// `start:stop:step`.
    pub fn range(start: Option<isize>, stop: Option<isize>, step: isize) -> Idx {
        Idx::Slice { start, stop, step }
    }
}

impl From<std::ops::Range<isize>> for Idx {
    fn from(r: std::ops::Range<isize>) -> Idx {
        Idx::range(Some(r.start), Some(r.end), 1)
    }
}

impl From<isize> for Idx {
    fn from(i: isize) -> Idx {
        Idx::Index(i)
    }
}

/// NumPy's `slice.indices`: the first position, the step and the count.
fn resolve(
    start: Option<isize>,
    stop: Option<isize>,
    step: isize,
    n: usize,
) -> (isize, isize, usize) {
    let n = n as isize;
    let clamp = |v: isize, lo: isize, hi: isize| v.max(lo).min(hi);
    let norm = |v: isize| if v < 0 { v + n } else { v };
    let (s, e) = if step > 0 {
        (
            start.map(|v| clamp(norm(v), 0, n)).unwrap_or(0),
            stop.map(|v| clamp(norm(v), 0, n)).unwrap_or(n),
        )
    } else {
        (
            start.map(|v| clamp(norm(v), -1, n - 1)).unwrap_or(n - 1),
            stop.map(|v| clamp(norm(v), -1, n - 1)).unwrap_or(-1),
        )
    };
    let count = if step > 0 {
        if e > s {
            (e - s + step - 1) / step
        } else {
            0
        }
    } else if s > e {
        (s - e + (-step) - 1) / (-step)
    } else {
        0
    };
    (s, step, count as usize)
}

/// Along one input axis: for each output block, (input block, span in it, length).
fn plan_axis(
    first: isize,
    step: isize,
    count: usize,
    chunks: &[usize],
) -> Vec<(usize, Span, usize)> {
    let offs = offsets(chunks);
    let mut out: Vec<(usize, Span, usize)> = Vec::new();
    let block_of = |g: usize| offs.partition_point(|&o| o <= g) - 1;
    let mut k = 0usize;
    while k < count {
        let g0 = (first + k as isize * step) as usize;
        let b = block_of(g0);
        let (lo, hi) = (offs[b], offs[b + 1]);
        // How many further positions stay inside block b.
        let mut m = 1usize;
        while k + m < count {
            let g = first + (k + m) as isize * step;
            if g < lo as isize || g >= hi as isize {
                break;
            }
            m += 1;
        }
        let glast = (first + (k + m - 1) as isize * step) as usize;
        let span = if step > 0 {
            Span {
                start: g0 - lo,
                end: glast - lo + 1,
                step,
            }
        } else {
            Span {
                start: glast - lo,
                end: g0 - lo + 1,
                step,
            }
        };
        out.push((b, span, m));
        k += m;
    }
    out
}

/// Picks positions `picks` (global) along `axis` from a block list.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Take {
    pub axis: usize,
    /// (input number, position in that input block) for each output position.
    pub picks: Vec<(u32, usize)>,
    pub dtype: DType,
}

fn take_typed<T: Element>(t: &Take, inputs: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
    let arrays: Vec<ArcArray<T, IxDyn>> = inputs
        .iter()
        .map(|b| T::from_block(b.clone()).ok_or("take: input of another type"))
        .collect::<Result<_, _>>()?;
    let views: Vec<_> = t
        .picks
        .iter()
        .map(|&(i, p)| -> Result<_, BoxError> {
            let a = arrays.get(i as usize).ok_or("take: missing input")?;
            Ok(a.index_axis(Axis(t.axis), p).insert_axis(Axis(t.axis)))
        })
        .collect::<Result<_, _>>()?;
    let out = ndarray::concatenate(Axis(t.axis), &views).map_err(|e| format!("take: {e}"))?;
    Ok(T::into_block(out.into_shared()))
}

impl Take {
    pub fn run(&self, inputs: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
        match self.dtype {
            DType::F64 => take_typed::<f64>(self, inputs),
            DType::F32 => take_typed::<f32>(self, inputs),
            DType::I64 => take_typed::<i64>(self, inputs),
            DType::I32 => take_typed::<i32>(self, inputs),
            DType::Bool => take_typed::<bool>(self, inputs),
        }
    }
}

/// Permutes a block's axes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Transpose {
    pub axes: Vec<usize>,
}

impl Transpose {
    pub fn run(&self, inputs: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
        let b = inputs.first().ok_or("transpose: missing input")?;
        let ax = self.axes.clone();
        Ok(match b {
            ArrayBlock::F64(a) => ArrayBlock::from(transposed(a, &ax)),
            ArrayBlock::F32(a) => ArrayBlock::from(transposed(a, &ax)),
            ArrayBlock::I64(a) => ArrayBlock::from(transposed(a, &ax)),
            ArrayBlock::I32(a) => ArrayBlock::from(transposed(a, &ax)),
            ArrayBlock::Bool(a) => ArrayBlock::from(transposed(a, &ax)),
            _ => return Err("transpose: unsupported block".into()),
        })
    }
}

/// A C-ordered copy of `a` with permuted axes; a C-ordered 2-D block is copied in
/// cache-sized tiles.
fn transposed<T: Copy + Default>(a: &ArcArray<T, IxDyn>, axes: &[usize]) -> ArcArray<T, IxDyn> {
    if let (2, Some(src), [1, 0]) = (a.ndim(), a.as_slice(), axes) {
        let (r, c) = (a.shape()[0], a.shape()[1]);
        // out is c × r: out[j][i] = src[i][j].
        let mut out = vec![T::default(); r * c];
        const TILE: usize = 32;
        for i0 in (0..r).step_by(TILE) {
            for j0 in (0..c).step_by(TILE) {
                for i in i0..(i0 + TILE).min(r) {
                    let row = &src[i * c..(i + 1) * c];
                    for j in j0..(j0 + TILE).min(c) {
                        out[j * r + i] = row[j];
                    }
                }
            }
        }
        if let Ok(o) = ndarray::Array::from_shape_vec(IxDyn(&[c, r]), out) {
            return o.into_shared();
        }
    }
    let v = a.view().permuted_axes(IxDyn(axes));
    v.as_standard_layout().into_owned().into_shared()
}

impl<T: Element> Array<T> {
    /// NumPy-style basic indexing: one [`Idx`] per axis (missing trailing axes are taken
    /// whole), with [`Idx::NewAxis`] entries adding length-1 axes.
    ///
    /// ```
    /// use dusk_collections::array::{self, Idx};
    /// use dusk_scheduler::Compute;
    /// let a = ndarray::Array::from_shape_fn((6, 5), |(i, j)| (i * 10 + j) as i64);
    /// let x = array::from_array(a.clone(), [4, 2]).unwrap();
    /// let y = x.slice(&[Idx::range(Some(1), Some(6), 2), Idx::Index(-1), Idx::NewAxis]).unwrap();
    /// assert_eq!(y.shape(), &[3, 1]);
    /// assert_eq!(y.compute().unwrap(), ndarray::arr2(&[[14], [34], [54]]).into_dyn());
    /// assert!(x.slice(&[Idx::Index(6)]).is_err());
    /// ```
    pub fn slice(&self, index: &[Idx]) -> Result<Array<T>, ArrayError> {
        let n = &self.node;
        let real = index.iter().filter(|i| !matches!(i, Idx::NewAxis)).count();
        if real > n.ndim() {
            return Err(ArrayError::Index(format!(
                "{real} indices for an array of {} dimensions",
                n.ndim()
            )));
        }
        let mut full: Vec<Idx> = index.to_vec();
        full.extend(std::iter::repeat_n(Idx::all(), n.ndim() - real));
        // Per input axis: the plan; per output axis: where it comes from.
        let mut plans: Vec<Vec<(usize, Span, usize)>> = Vec::new();
        let mut out_axes: Vec<Option<usize>> = Vec::new(); // Some(input axis) or None (new)
        let mut dropped: Vec<bool> = Vec::new();
        let mut d = 0usize;
        for i in &full {
            match *i {
                Idx::NewAxis => out_axes.push(None),
                Idx::Index(k) => {
                    let len = n.shape[d] as isize;
                    let g = if k < 0 { k + len } else { k };
                    if g < 0 || g >= len {
                        return Err(ArrayError::Index(format!(
                            "index {k} is out of bounds for axis {d} of length {len}"
                        )));
                    }
                    plans.push(plan_axis(g, 1, 1, &n.chunks[d]));
                    dropped.push(true);
                    d += 1;
                }
                Idx::Slice { start, stop, step } => {
                    if step == 0 {
                        return Err(ArrayError::Index("a slice step cannot be 0".into()));
                    }
                    let (first, step, count) = resolve(start, stop, step, n.shape[d]);
                    plans.push(plan_axis(first, step, count, &n.chunks[d]));
                    dropped.push(false);
                    out_axes.push(Some(d));
                    d += 1;
                }
            }
        }
        let mut shape = Vec::new();
        let mut chunks = Vec::new();
        for a in &out_axes {
            match a {
                None => {
                    shape.push(1);
                    chunks.push(vec![1]);
                }
                Some(ax) => {
                    let c: Vec<usize> = plans[*ax].iter().map(|p| p.2).collect();
                    shape.push(c.iter().sum());
                    chunks.push(if c.is_empty() { vec![0] } else { c });
                }
            }
        }
        let name = Tokenizer::new("array-slice")
            .write(&*n.name)
            .write(&format!("{full:?}"))
            .name("getitem");
        let src = n.clone();
        let dtype = T::DTYPE;
        let node = blockwise_node(
            name,
            shape,
            chunks,
            dtype,
            vec![n.clone()],
            move |out, idx| {
                // The output block index along each kept input axis.
                let mut in_idx = Vec::with_capacity(plans.len());
                let mut spans = Vec::with_capacity(plans.len());
                let mut asm_shape = Vec::with_capacity(plans.len());
                let mut empty = false;
                let mut o = 0usize;
                for (ax, plan) in plans.iter().enumerate() {
                    while out_axes.get(o) == Some(&None) {
                        o += 1;
                    }
                    let which = if dropped[ax] {
                        0
                    } else {
                        o += 1;
                        idx[o - 1]
                    };
                    match plan.get(which) {
                        Some(&(b, span, len)) => {
                            in_idx.push(b);
                            spans.push(span);
                            asm_shape.push(len);
                        }
                        None => {
                            empty = true;
                            in_idx.push(0);
                            spans.push(Span {
                                start: 0,
                                end: 0,
                                step: 1,
                            });
                            asm_shape.push(0);
                        }
                    }
                }
                let _ = empty;
                let op = ArrayOp::Assemble(Assemble {
                    pieces: vec![Piece {
                        input: 0,
                        src: spans,
                        dst: vec![0; asm_shape.len()],
                    }],
                    dtype,
                    shape: asm_shape,
                    out_shape: out.block_shape(idx),
                });
                (Arc::new(op) as Arc<dyn Op>, vec![src.key(&in_idx)])
            },
        );
        Ok(self.derive(node))
    }

    /// Selects positions `indices` (negative counts from the end, repeats allowed) along
    /// `axis`, as NumPy's `take`.
    ///
    /// ```
    /// use dusk_collections::array;
    /// use dusk_scheduler::Compute;
    /// let x = array::arange(10, 3).unwrap();
    /// let y = x.take(&[9, 0, -1, 4], 0).unwrap();
    /// assert_eq!(y.compute().unwrap().as_slice().unwrap(), &[9, 0, 9, 4]);
    /// assert!(x.take(&[10], 0).is_err());
    /// ```
    pub fn take(&self, indices: &[isize], axis: isize) -> Result<Array<T>, ArrayError> {
        let n = &self.node;
        let axis = norm_axis(axis, n.ndim())?;
        let len = n.shape[axis] as isize;
        let mut global = Vec::with_capacity(indices.len());
        for &i in indices {
            let g = if i < 0 { i + len } else { i };
            if g < 0 || g >= len {
                return Err(ArrayError::Index(format!(
                    "index {i} is out of bounds for axis {axis} of length {len}"
                )));
            }
            global.push(g as usize);
        }
        let offs = offsets(&n.chunks[axis]);
        let size = n.chunks[axis].iter().copied().max().unwrap_or(1).max(1);
        let mut shape = n.shape.clone();
        shape[axis] = global.len();
        let mut chunks = n.chunks.clone();
        chunks[axis] = regular(global.len(), size);
        let name = Tokenizer::new("array-take")
            .write(&*n.name)
            .write(&axis)
            .write(&global)
            .name("take");
        let src = n.clone();
        let out_offs = offsets(&chunks[axis]);
        let node = blockwise_node(
            name,
            shape,
            chunks,
            T::DTYPE,
            vec![n.clone()],
            move |_, idx| {
                let mut deps = Vec::new();
                let mut blocks: Vec<usize> = Vec::new();
                let mut picks = Vec::new();
                for &g in &global[out_offs[idx[axis]]..out_offs[idx[axis] + 1]] {
                    let b = offs.partition_point(|&o| o <= g) - 1;
                    let pos = match blocks.iter().position(|&x| x == b) {
                        Some(p) => p,
                        None => {
                            blocks.push(b);
                            let mut in_idx = idx.to_vec();
                            in_idx[axis] = b;
                            deps.push(src.key(&in_idx));
                            blocks.len() - 1
                        }
                    };
                    picks.push((pos as u32, g - offs[b]));
                }
                if picks.is_empty() {
                    // An empty selection: an empty slice of the first block.
                    let mut in_idx = idx.to_vec();
                    in_idx[axis] = 0;
                    let mut spans: Vec<Span> = src
                        .block_shape(&in_idx)
                        .iter()
                        .map(|&k| Span::full(k))
                        .collect();
                    spans[axis] = Span {
                        start: 0,
                        end: 0,
                        step: 1,
                    };
                    let mut shape = src.block_shape(&in_idx);
                    shape[axis] = 0;
                    let op = ArrayOp::Assemble(Assemble {
                        pieces: vec![Piece {
                            input: 0,
                            src: spans,
                            dst: vec![0; shape.len()],
                        }],
                        dtype: T::DTYPE,
                        shape: shape.clone(),
                        out_shape: shape,
                    });
                    return (Arc::new(op) as Arc<dyn Op>, vec![src.key(&in_idx)]);
                }
                let op = ArrayOp::Take(Take {
                    axis,
                    picks,
                    dtype: T::DTYPE,
                });
                (Arc::new(op) as Arc<dyn Op>, deps)
            },
        );
        Ok(self.derive(node))
    }

    /// Keeps the positions along `axis` where `mask` is true (NumPy's `compress`, or
    /// `x[mask]` along one axis). The mask must have the axis's length.
    ///
    /// ```
    /// use dusk_collections::array;
    /// use dusk_scheduler::Compute;
    /// let x = array::arange(4, 3).unwrap();
    /// let y = x.compress(&[true, false, false, true], 0).unwrap();
    /// assert_eq!(y.compute().unwrap().as_slice().unwrap(), &[0, 3]);
    /// assert!(x.compress(&[true], 0).is_err());
    /// ```
    pub fn compress(&self, mask: &[bool], axis: isize) -> Result<Array<T>, ArrayError> {
        let ax = norm_axis(axis, self.ndim())?;
        if mask.len() != self.shape()[ax] {
            return Err(ArrayError::Index(format!(
                "a boolean mask of length {} for axis {ax} of length {}",
                mask.len(),
                self.shape()[ax]
            )));
        }
        let idx: Vec<isize> = mask
            .iter()
            .enumerate()
            .filter(|(_, &m)| m)
            .map(|(i, _)| i as isize)
            .collect();
        self.take(&idx, axis)
    }

    /// Permutes the axes (`axes[i]` is the input axis that becomes axis `i`).
    ///
    /// ```
    /// use dusk_collections::array;
    /// use dusk_scheduler::Compute;
    /// let a = ndarray::Array::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 100 + j * 10 + k) as i32);
    /// let x = array::from_array(a.clone(), 2).unwrap();
    /// let y = x.transpose(&[2, 0, 1]).unwrap();
    /// assert_eq!(y.compute().unwrap(), a.into_dyn().permuted_axes(vec![2, 0, 1]));
    /// assert!(x.transpose(&[0, 0, 1]).is_err());
    /// ```
    pub fn transpose(&self, axes: &[usize]) -> Result<Array<T>, ArrayError> {
        let n = &self.node;
        let mut seen = axes.to_vec();
        seen.sort_unstable();
        if seen != (0..n.ndim()).collect::<Vec<_>>() {
            return Err(ArrayError::Index(format!(
                "{axes:?} is not a permutation of the {} axes",
                n.ndim()
            )));
        }
        let shape = axes.iter().map(|&a| n.shape[a]).collect();
        let chunks = axes.iter().map(|&a| n.chunks[a].clone()).collect();
        let name = Tokenizer::new("array-transpose")
            .write(&*n.name)
            .write(axes)
            .name("transpose");
        let (src, axes) = (n.clone(), axes.to_vec());
        let node = blockwise_node(
            name,
            shape,
            chunks,
            T::DTYPE,
            vec![n.clone()],
            move |_, idx| {
                let mut in_idx = vec![0; idx.len()];
                for (o, &a) in axes.iter().enumerate() {
                    in_idx[a] = idx[o];
                }
                let op = ArrayOp::Transpose(Transpose { axes: axes.clone() });
                (Arc::new(op) as Arc<dyn Op>, vec![src.key(&in_idx)])
            },
        );
        Ok(self.derive(node))
    }

    /// The axes reversed (`x.T`).
    ///
    /// ```
    /// let x = dusk_collections::array::zeros::<f64>(&[2, 5], 2).unwrap();
    /// assert_eq!(x.t().shape(), &[5, 2]);
    /// ```
    pub fn t(&self) -> Array<T> {
        let axes: Vec<usize> = (0..self.ndim()).rev().collect();
        match self.transpose(&axes) {
            Ok(a) => a,
            Err(_) => unreachable!("a reversal is a permutation"),
        }
    }

    /// Swaps two axes.
    ///
    /// ```
    /// let x = dusk_collections::array::zeros::<f64>(&[2, 3, 4], 2).unwrap();
    /// assert_eq!(x.swapaxes(0, -1).unwrap().shape(), &[4, 3, 2]);
    /// ```
    pub fn swapaxes(&self, a: isize, b: isize) -> Result<Array<T>, ArrayError> {
        let (a, b) = (norm_axis(a, self.ndim())?, norm_axis(b, self.ndim())?);
        let mut axes: Vec<usize> = (0..self.ndim()).collect();
        axes.swap(a, b);
        self.transpose(&axes)
    }

    /// Inserts a length-1 axis at `axis` (blocks are reshaped one by one).
    ///
    /// ```
    /// let x = dusk_collections::array::zeros::<f64>(&[2, 3], 2).unwrap();
    /// assert_eq!(x.expand_dims(1).unwrap().shape(), &[2, 1, 3]);
    /// ```
    pub fn expand_dims(&self, axis: isize) -> Result<Array<T>, ArrayError> {
        let n = &self.node;
        let axis = norm_axis(axis, n.ndim() + 1)?;
        let mut shape = n.shape.clone();
        shape.insert(axis, 1);
        let mut chunks = n.chunks.clone();
        chunks.insert(axis, vec![1]);
        Ok(
            self.derive(block_reshape(n, "expand-dims", shape, chunks, move |idx| {
                let mut v = idx.to_vec();
                v.remove(axis);
                v
            })),
        )
    }

    /// Removes length-1 axes: those listed, or all of them when `axes` is empty.
    ///
    /// ```
    /// let x = dusk_collections::array::zeros::<f64>(&[1, 3, 1], 2).unwrap();
    /// assert_eq!(x.squeeze(&[]).unwrap().shape(), &[3]);
    /// assert_eq!(x.squeeze(&[0]).unwrap().shape(), &[3, 1]);
    /// assert!(x.squeeze(&[1]).is_err());
    /// ```
    pub fn squeeze(&self, axes: &[isize]) -> Result<Array<T>, ArrayError> {
        let n = &self.node;
        let drop: Vec<usize> = if axes.is_empty() {
            (0..n.ndim()).filter(|&d| n.shape[d] == 1).collect()
        } else {
            let v = super::error::norm_axes(axes, n.ndim())?;
            if let Some(&d) = v.iter().find(|&&d| n.shape[d] != 1) {
                return Err(ArrayError::Shape(format!(
                    "cannot squeeze axis {d} of length {}",
                    n.shape[d]
                )));
            }
            v
        };
        let keep: Vec<usize> = (0..n.ndim()).filter(|d| !drop.contains(d)).collect();
        let shape = keep.iter().map(|&d| n.shape[d]).collect();
        let chunks = keep.iter().map(|&d| n.chunks[d].clone()).collect();
        let ndim = n.ndim();
        Ok(
            self.derive(block_reshape(n, "squeeze", shape, chunks, move |idx| {
                let mut v = vec![0; ndim];
                for (o, &d) in keep.iter().enumerate() {
                    v[d] = idx[o];
                }
                v
            })),
        )
    }

    /// The same elements in a new shape, in C order (one entry may be `-1`... use the exact
    /// shape here). Works for every shape of the same size: the array is cut into bands along
    /// its first axis that both shapes can split evenly.
    ///
    /// ```
    /// use dusk_collections::array;
    /// use dusk_scheduler::Compute;
    /// let x = array::arange(24, 5).unwrap();
    /// let y = x.reshape(&[2, 3, 4]).unwrap();
    /// let want = ndarray::Array::from_iter(0..24i64).into_shape_with_order((2, 3, 4)).unwrap();
    /// assert_eq!(y.compute().unwrap(), want.into_dyn());
    /// assert!(x.reshape(&[5, 5]).is_err());
    /// ```
    pub fn reshape(&self, shape: &[usize]) -> Result<Array<T>, ArrayError> {
        let n = &self.node;
        let size: usize = n.shape.iter().product();
        if shape.iter().product::<usize>() != size {
            return Err(ArrayError::Shape(format!(
                "cannot reshape an array of shape {:?} into {:?}",
                n.shape, shape
            )));
        }
        if shape == n.shape.as_slice() {
            return Ok(self.clone());
        }
        let name = Tokenizer::new("array-reshape")
            .write(&*n.name)
            .write(shape)
            .name("reshape");
        let in_row: usize = n.shape.iter().skip(1).product::<usize>().max(1);
        let out_row: usize = shape.iter().skip(1).product::<usize>().max(1);
        if size == 0 || n.ndim() == 0 || shape.is_empty() {
            // Tiny or empty: one block.
            let one = rechunk_node(n, n.shape.iter().map(|&d| vec![d]).collect());
            let out_shape = shape.to_vec();
            let chunks = shape.iter().map(|&d| vec![d]).collect();
            let in_shape = n.shape.clone();
            let node = blockwise_node(
                name,
                shape.to_vec(),
                chunks,
                T::DTYPE,
                vec![one.clone()],
                move |_, _| {
                    (
                        passthrough(T::DTYPE, in_shape.clone(), out_shape.clone()),
                        vec![one.key(&vec![0; in_shape.len()])],
                    )
                },
            );
            return Ok(self.derive(node));
        }
        // Bands of `unit` elements fit both shapes' rows.
        let unit = lcm(in_row, out_row);
        let target = n.chunks[0].first().copied().unwrap_or(1).max(1) * in_row;
        let k = (target / unit).max(1);
        let band = k * unit;
        let in_band_rows = regular(n.shape[0], band / in_row);
        let out_band_rows = regular(shape[0], band / out_row);
        let mut in_chunks: Vec<Vec<usize>> = n.shape.iter().map(|&d| vec![d]).collect();
        in_chunks[0] = in_band_rows.clone();
        let banded = if in_chunks == n.chunks {
            n.clone()
        } else {
            rechunk_node(n, in_chunks)
        };
        let mut out_chunks: Vec<Vec<usize>> = shape.iter().map(|&d| vec![d]).collect();
        out_chunks[0] = out_band_rows;
        let in_ndim = n.ndim();
        let src = banded.clone();
        let node = blockwise_node(
            name,
            shape.to_vec(),
            out_chunks,
            T::DTYPE,
            vec![banded],
            move |out, idx| {
                let mut in_idx = vec![0; in_ndim];
                in_idx[0] = idx[0];
                let in_shape = src.block_shape(&in_idx);
                (
                    passthrough(T::DTYPE, in_shape, out.block_shape(idx)),
                    vec![src.key(&in_idx)],
                )
            },
        );
        Ok(self.derive(node))
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn lcm(a: usize, b: usize) -> usize {
    a / gcd(a, b) * b
}

/// A node whose block `idx` is input block `map(idx)` reshaped to this node's block shape.
pub(crate) fn block_reshape(
    n: &Arc<Node>,
    label: &str,
    shape: Vec<usize>,
    chunks: Vec<Vec<usize>>,
    map: impl Fn(&[usize]) -> Vec<usize> + Send + Sync + 'static,
) -> Arc<Node> {
    let name = Tokenizer::new("array-block-reshape")
        .write(&*n.name)
        .write(label)
        .write(&shape)
        .name(label);
    let src = n.clone();
    let dtype = n.dtype;
    blockwise_node(
        name,
        shape,
        chunks,
        dtype,
        vec![n.clone()],
        move |out, idx| {
            let in_idx = map(idx);
            (
                passthrough(dtype, src.block_shape(&in_idx), out.block_shape(idx)),
                vec![src.key(&in_idx)],
            )
        },
    )
}
