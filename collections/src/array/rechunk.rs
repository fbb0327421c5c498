//! Rechunking, concatenation and stacking: output blocks assembled from pieces of input blocks.
//!
//! All three are the same kernel, [`Assemble`]: an output block is a list of pieces, each a
//! (strided) slice of one input block placed at an offset, then optionally reshaped (to add or
//! drop length-1 axes). Each output block depends only on the input blocks it overlaps, so a
//! rechunk holds at most one output block and its inputs per task, never the whole array; a
//! rechunk that merges along some axes and splits along others goes through the common
//! refinement (split, then merge) so that input blocks are released early, as Dask's
//! intermediate rechunk stages do.

use std::sync::Arc;

use dusk_core::{ArrayBlock, BoxError, Op, Tokenizer};
use ndarray::{ArcArray, ArrayD, IxDyn, Slice, SliceInfoElem};
use serde::{Deserialize, Serialize};

use super::chunks::{block_indices, offsets, refine, ChunkSpec};
use super::dtype::{DType, Element};
use super::error::{norm_axis, ArrayError};
use super::ops::ArrayOp;
use super::{blockwise_node, Array, Node};

/// A strided range of one axis: `start..end` by `step` (a negative step walks backwards from
/// `end - 1`... as ndarray's `Slice`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub step: isize,
}

impl Span {
    pub fn full(n: usize) -> Span {
        Span {
            start: 0,
            end: n,
            step: 1,
        }
    }
}

/// One piece of an output block: a slice of input `input`, placed at `dst`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Piece {
    pub input: u32,
    pub src: Vec<Span>,
    pub dst: Vec<usize>,
}

/// Builds an output block from pieces of input blocks.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Assemble {
    pub pieces: Vec<Piece>,
    pub dtype: DType,
    /// The shape the pieces tile.
    pub shape: Vec<usize>,
    /// The block's final shape (the same number of elements).
    pub out_shape: Vec<usize>,
}

fn assemble_typed<T: Element>(a: &Assemble, inputs: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
    let get = |i: u32| -> Result<ArcArray<T, IxDyn>, BoxError> {
        let b = inputs
            .get(i as usize)
            .cloned()
            .ok_or("assemble: missing input")?;
        T::from_block(b).ok_or_else(|| "assemble: input of another type".into())
    };
    let whole = |p: &Piece, b: &ArcArray<T, IxDyn>| {
        p.dst.iter().all(|&d| d == 0)
            && b.shape() == a.shape.as_slice()
            && p.src
                .iter()
                .zip(b.shape())
                .all(|(s, &n)| *s == Span::full(n))
    };
    let out: ArcArray<T, IxDyn> = match a.pieces.as_slice() {
        [p] if whole(p, &get(p.input)?) => get(p.input)?,
        pieces => {
            let mut out = ArrayD::<T>::default(IxDyn(&a.shape));
            for p in pieces {
                let b = get(p.input)?;
                let src: Vec<SliceInfoElem> = p
                    .src
                    .iter()
                    .map(|s| {
                        SliceInfoElem::from(Slice::new(
                            s.start as isize,
                            Some(s.end as isize),
                            s.step,
                        ))
                    })
                    .collect();
                let view = b.slice(src.as_slice());
                let dst: Vec<SliceInfoElem> = p
                    .dst
                    .iter()
                    .zip(view.shape())
                    .map(|(&d, &n)| SliceInfoElem::from(d..d + n))
                    .collect();
                out.slice_mut(dst.as_slice()).assign(&view);
            }
            out.into_shared()
        }
    };
    let out = if out.shape() != a.out_shape.as_slice() {
        out.into_owned()
            .into_shape_with_order(IxDyn(&a.out_shape))
            .map_err(|e| format!("assemble: {e}"))?
            .into_shared()
    } else {
        out
    };
    Ok(T::into_block(out))
}

impl Assemble {
    pub fn run(&self, inputs: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
        match self.dtype {
            DType::F64 => assemble_typed::<f64>(self, inputs),
            DType::F32 => assemble_typed::<f32>(self, inputs),
            DType::I64 => assemble_typed::<i64>(self, inputs),
            DType::I32 => assemble_typed::<i32>(self, inputs),
            DType::Bool => assemble_typed::<bool>(self, inputs),
        }
    }
}

/// An op that passes one block through, reshaped to `out_shape`.
pub(crate) fn passthrough(dtype: DType, shape: Vec<usize>, out_shape: Vec<usize>) -> Arc<dyn Op> {
    let src = shape.iter().map(|&n| Span::full(n)).collect();
    Arc::new(ArrayOp::Assemble(Assemble {
        pieces: vec![Piece {
            input: 0,
            src,
            dst: vec![0; shape.len()],
        }],
        dtype,
        shape,
        out_shape,
    }))
}

/// `node` cut into `chunks` instead (which must tile the same shape).
///
/// When some axes merge blocks while others split them (row bands to column bands), every
/// output block would need many input blocks and every input block would feed many outputs, so
/// all inputs stay in memory until the last output is made. Such a rechunk goes through the
/// common refinement first: each input block is split on its own (and released), then the
/// pieces are merged, which bounds memory to about one input and one output block per task.
pub(crate) fn rechunk_node(node: &Arc<Node>, chunks: Vec<Vec<usize>>) -> Arc<Node> {
    let via: Vec<Vec<usize>> = node
        .chunks
        .iter()
        .zip(&chunks)
        .map(|(a, b)| refine(a, b))
        .collect();
    if via != node.chunks && via != chunks {
        let split = rechunk_direct(node, via);
        return rechunk_direct(&split, chunks);
    }
    rechunk_direct(node, chunks)
}

/// One rechunk stage: each output block assembled from the input blocks it overlaps.
fn rechunk_direct(node: &Arc<Node>, chunks: Vec<Vec<usize>>) -> Arc<Node> {
    let name = Tokenizer::new("array-rechunk")
        .write(&*node.name)
        .write(&chunks)
        .name("rechunk");
    let input = node.clone();
    let in_offs: Vec<Vec<usize>> = node.chunks.iter().map(|c| offsets(c)).collect();
    let out_offs: Vec<Vec<usize>> = chunks.iter().map(|c| offsets(c)).collect();
    let dtype = node.dtype;
    blockwise_node(
        name,
        node.shape.clone(),
        chunks,
        dtype,
        vec![node.clone()],
        move |n, idx| {
            // Per dimension: the input blocks overlapping this output block, with the overlap.
            let per_dim: Vec<Vec<(usize, usize, usize)>> = idx
                .iter()
                .enumerate()
                .map(|(d, &i)| {
                    let (lo, hi) = (out_offs[d][i], out_offs[d][i + 1]);
                    let io = &in_offs[d];
                    let mut v = Vec::new();
                    for j in 0..io.len() - 1 {
                        let (a, b) = (io[j].max(lo), io[j + 1].min(hi));
                        if a < b || (lo == hi && j == 0) {
                            v.push((j, a, b));
                        }
                    }
                    v
                })
                .collect();
            let counts: Vec<usize> = per_dim.iter().map(|v| v.len()).collect();
            let mut deps = Vec::new();
            let mut pieces = Vec::new();
            for combo in block_indices(&counts) {
                let in_idx: Vec<usize> = combo
                    .iter()
                    .enumerate()
                    .map(|(d, &c)| per_dim[d][c].0)
                    .collect();
                let src = combo
                    .iter()
                    .enumerate()
                    .map(|(d, &c)| {
                        let (j, a, b) = per_dim[d][c];
                        Span {
                            start: a - in_offs[d][j],
                            end: b - in_offs[d][j],
                            step: 1,
                        }
                    })
                    .collect();
                let dst = combo
                    .iter()
                    .enumerate()
                    .map(|(d, &c)| per_dim[d][c].1 - out_offs[d][idx[d]])
                    .collect();
                pieces.push(Piece {
                    input: deps.len() as u32,
                    src,
                    dst,
                });
                deps.push(input.key(&in_idx));
            }
            let shape = n.block_shape(idx);
            let op = ArrayOp::Assemble(Assemble {
                pieces,
                dtype,
                shape: shape.clone(),
                out_shape: shape,
            });
            (Arc::new(op) as Arc<dyn Op>, deps)
        },
    )
}

impl<T: Element> Array<T> {
    /// The same values cut into other blocks.
    ///
    /// ```
    /// use dusk_collections::array;
    /// use dusk_scheduler::Compute;
    /// let x = array::arange(10, 3).unwrap();
    /// let y = x.rechunk(vec![vec![5, 5]]).unwrap();
    /// assert_eq!(y.numblocks(), vec![2]);
    /// assert_eq!(y.compute().unwrap(), x.compute().unwrap());
    /// assert!(x.rechunk(vec![vec![5, 4]]).is_err());
    /// ```
    pub fn rechunk(&self, chunks: impl Into<ChunkSpec>) -> Result<Array<T>, ArrayError> {
        let chunks = chunks
            .into()
            .normalize(&self.node.shape, T::DTYPE.itemsize())?;
        if chunks == self.node.chunks {
            return Ok(self.clone());
        }
        Ok(self.derive(rechunk_node(&self.node, chunks)))
    }
}

/// Joins arrays along an existing axis. Other dimensions must agree; their chunks are unified.
///
/// ```
/// use dusk_collections::array::{self, concatenate};
/// use dusk_scheduler::Compute;
/// let a = array::ones::<i64>(&[2, 3], 2).unwrap();
/// let b = array::zeros::<i64>(&[1, 3], 3).unwrap();
/// let c = concatenate(&[a, b], 0).unwrap();
/// assert_eq!(c.shape(), &[3, 3]);
/// assert_eq!(c.compute().unwrap().sum(), 6);
/// ```
pub fn concatenate<T: Element>(arrays: &[Array<T>], axis: isize) -> Result<Array<T>, ArrayError> {
    let first = arrays
        .first()
        .ok_or_else(|| ArrayError::Shape("concatenate needs at least one array".into()))?;
    let ndim = first.ndim();
    let axis = norm_axis(axis, ndim)?;
    for a in arrays {
        let same =
            a.ndim() == ndim && (0..ndim).all(|d| d == axis || a.shape()[d] == first.shape()[d]);
        if !same {
            return Err(ArrayError::Shape(format!(
                "cannot concatenate shapes {:?} and {:?} along axis {axis}",
                first.shape(),
                a.shape()
            )));
        }
    }
    // Unify the chunks of the other dimensions.
    let mut common = first.node.chunks.clone();
    for a in arrays {
        for (d, c) in common.iter_mut().enumerate() {
            if d != axis {
                *c = refine(c, &a.node.chunks[d]);
            }
        }
    }
    let parts: Vec<Arc<Node>> = arrays
        .iter()
        .map(|a| {
            let mut want = common.clone();
            want[axis] = a.node.chunks[axis].clone();
            if want == a.node.chunks {
                a.node.clone()
            } else {
                rechunk_node(&a.node, want)
            }
        })
        .collect();
    let mut out_chunks = common;
    out_chunks[axis] = parts
        .iter()
        .flat_map(|p| p.chunks[axis].iter().copied().filter(|&n| n > 0))
        .collect();
    let total: usize = out_chunks[axis].iter().sum();
    if out_chunks[axis].is_empty() {
        out_chunks[axis] = vec![0];
    }
    let mut shape = first.shape().to_vec();
    shape[axis] = total;
    // Which (part, block) each output block along `axis` comes from.
    let mut origin = Vec::new();
    for (p, part) in parts.iter().enumerate() {
        for (j, &n) in part.chunks[axis].iter().enumerate() {
            if n > 0 || (total == 0 && origin.is_empty()) {
                origin.push((p, j));
            }
        }
    }
    let mut tok = Tokenizer::new("array-concatenate");
    tok.write(&axis);
    for p in &parts {
        tok.write(&*p.name);
    }
    let name = tok.name("concatenate");
    let src = parts.clone();
    let node = blockwise_node(name, shape, out_chunks, T::DTYPE, parts, move |n, idx| {
        let (p, j) = origin[idx[axis]];
        let mut in_idx = idx.to_vec();
        in_idx[axis] = j;
        let shape = n.block_shape(idx);
        (
            passthrough(T::DTYPE, shape.clone(), shape),
            vec![src[p].key(&in_idx)],
        )
    });
    Ok(first.derive(node))
}

/// Joins arrays of one shape along a new axis.
///
/// ```
/// use dusk_collections::array::{self, stack};
/// use dusk_scheduler::Compute;
/// let a = array::arange(4, 3).unwrap();
/// let s = stack(&[a.clone(), a], 1).unwrap();
/// assert_eq!(s.shape(), &[4, 2]);
/// assert_eq!(s.compute().unwrap()[[3, 1]], 3);
/// ```
pub fn stack<T: Element>(arrays: &[Array<T>], axis: isize) -> Result<Array<T>, ArrayError> {
    let first = arrays
        .first()
        .ok_or_else(|| ArrayError::Shape("stack needs at least one array".into()))?;
    let axis = norm_axis(axis, first.ndim() + 1)?;
    let mut expanded = Vec::with_capacity(arrays.len());
    for a in arrays {
        if a.shape() != first.shape() {
            return Err(ArrayError::Shape(format!(
                "cannot stack shapes {:?} and {:?}",
                first.shape(),
                a.shape()
            )));
        }
        expanded.push(a.expand_dims(axis as isize)?);
    }
    concatenate(&expanded, axis as isize)
}
