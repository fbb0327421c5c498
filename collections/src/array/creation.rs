//! Creating arrays: from an ndarray in memory, constants, ranges, the identity, and blocks made
//! by a user function.
//!
//! Generated arrays (`zeros`, `arange`, `eye`, ...) are described by a [`Source`] kernel per
//! block that knows the block's offset in the whole array, so every block is made on its own,
//! in parallel, with deterministic keys (the same call gives the same keys, so two uses share
//! tasks). An in-memory ndarray is cut into blocks once, when the array is built.

use std::ops::Range;
use std::sync::Arc;

use dusk_core::{ArrayBlock, BoxError, Data, FnOp, LiteralOp, Op, Tokenizer};
use ndarray::{ArrayD, Dimension, IxDyn, SliceInfoElem};
use serde::{Deserialize, Serialize};

use super::chunks::{block_indices, offsets, ChunkSpec};
use super::dtype::{cast, DType, Element};
use super::elementwise::Scalar;
use super::error::ArrayError;
use super::ops::ArrayOp;
use super::random::Distribution;
use super::{blockwise_node, fresh_token, Array, Node};

/// What a generated block holds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) enum SourceKind {
    Full(Scalar),
    /// `start + i * step` along the only axis.
    Range {
        start: f64,
        step: f64,
    },
    Eye,
    Random {
        seed: u64,
        dist: Distribution,
    },
}

/// A generated block: its kind, where it sits, and its type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Source {
    pub kind: SourceKind,
    pub dtype: DType,
    pub offset: Vec<usize>,
    pub shape: Vec<usize>,
    pub full_shape: Vec<usize>,
}

impl Source {
    pub fn label(&self) -> &'static str {
        match self.kind {
            SourceKind::Full(_) => "full",
            SourceKind::Range { .. } => "arange",
            SourceKind::Eye => "eye",
            SourceKind::Random { .. } => "random",
        }
    }

    pub fn run(&self) -> Result<ArrayBlock, BoxError> {
        let sh = IxDyn(&self.shape);
        Ok(match &self.kind {
            SourceKind::Full(s) => {
                let one = cast(&scalar_block(*s), self.dtype);
                match one {
                    ArrayBlock::F64(a) => ArrayBlock::from(ArrayD::from_elem(sh, a[[]])),
                    ArrayBlock::F32(a) => ArrayBlock::from(ArrayD::from_elem(sh, a[[]])),
                    ArrayBlock::I64(a) => ArrayBlock::from(ArrayD::from_elem(sh, a[[]])),
                    ArrayBlock::I32(a) => ArrayBlock::from(ArrayD::from_elem(sh, a[[]])),
                    ArrayBlock::Bool(a) => ArrayBlock::from(ArrayD::from_elem(sh, a[[]])),
                    _ => return Err("unsupported dtype".into()),
                }
            }
            SourceKind::Range { start, step } => {
                let off = self.offset[0];
                if self.dtype == DType::I64 {
                    let (s, st) = (*start as i64, *step as i64);
                    ArrayBlock::from(ArrayD::from_shape_fn(sh, |i| s + (off + i[0]) as i64 * st))
                } else {
                    let b = ArrayD::from_shape_fn(sh, |i| start + (off + i[0]) as f64 * step);
                    cast(&ArrayBlock::from(b), self.dtype)
                }
            }
            SourceKind::Eye => {
                let (r0, c0) = (self.offset[0], self.offset[1]);
                let b =
                    ArrayD::from_shape_fn(sh, |i| if r0 + i[0] == c0 + i[1] { 1.0 } else { 0.0 });
                cast(&ArrayBlock::from(b), self.dtype)
            }
            SourceKind::Random { seed, dist } => {
                let b =
                    super::random::block(*seed, *dist, &self.offset, &self.shape, &self.full_shape);
                cast(&ArrayBlock::from(b), self.dtype)
            }
        })
    }
}

fn scalar_block(s: Scalar) -> ArrayBlock {
    match s {
        Scalar::F64(v) => ArrayBlock::from(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::I64(v) => ArrayBlock::from(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::Bool(v) => ArrayBlock::from(ArrayD::from_elem(IxDyn(&[]), v)),
    }
}

/// A node of generated blocks.
pub(crate) fn source_node(
    label: &str,
    kind: SourceKind,
    dtype: DType,
    shape: &[usize],
    chunks: ChunkSpec,
) -> Result<Arc<Node>, ArrayError> {
    let chunks = chunks.normalize(shape, dtype.itemsize())?;
    let name = Tokenizer::new("array-source")
        .write(&format!("{kind:?}"))
        .write(&dtype)
        .write(shape)
        .write(&chunks)
        .name(label);
    let offs: Vec<Vec<usize>> = chunks.iter().map(|c| offsets(c)).collect();
    let full_shape = shape.to_vec();
    Ok(blockwise_node(
        name,
        shape.to_vec(),
        chunks,
        dtype,
        vec![],
        move |n, idx| {
            let src = Source {
                kind: kind.clone(),
                dtype,
                offset: idx.iter().enumerate().map(|(d, &i)| offs[d][i]).collect(),
                shape: n.block_shape(idx),
                full_shape: full_shape.clone(),
            };
            (Arc::new(ArrayOp::Source(src)) as Arc<dyn Op>, vec![])
        },
    ))
}

/// An array of `value` everywhere.
///
/// ```
/// use dusk_collections::array;
/// use dusk_scheduler::Compute;
/// let x = array::full(&[2, 3], 7i32, [1, 2]).unwrap();
/// assert_eq!(x.numblocks(), vec![2, 2]);
/// assert_eq!(x.compute().unwrap(), ndarray::ArrayD::from_elem(vec![2, 3], 7));
/// ```
pub fn full<T: Element + Into<Scalar>>(
    shape: &[usize],
    value: T,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, ArrayError> {
    let n = source_node(
        "full",
        SourceKind::Full(value.into()),
        T::DTYPE,
        shape,
        chunks.into(),
    )?;
    Ok(Array::from_node(n))
}

/// An array of zeros.
///
/// ```
/// use dusk_scheduler::Compute;
/// let x = dusk_collections::array::zeros::<f64>(&[3], 2).unwrap();
/// assert_eq!(x.compute().unwrap().as_slice().unwrap(), &[0.0, 0.0, 0.0]);
/// ```
pub fn zeros<T: Element>(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, ArrayError> {
    let n = source_node(
        "zeros",
        SourceKind::Full(Scalar::I64(0)),
        T::DTYPE,
        shape,
        chunks.into(),
    )?;
    Ok(Array::from_node(n))
}

/// An array of ones.
///
/// ```
/// use dusk_scheduler::Compute;
/// let x = dusk_collections::array::ones::<bool>(&[2], 1).unwrap();
/// assert_eq!(x.compute().unwrap().as_slice().unwrap(), &[true, true]);
/// ```
pub fn ones<T: Element>(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, ArrayError> {
    let n = source_node(
        "ones",
        SourceKind::Full(Scalar::I64(1)),
        T::DTYPE,
        shape,
        chunks.into(),
    )?;
    Ok(Array::from_node(n))
}

/// `0, 1, ..., n - 1` as `i64`.
///
/// ```
/// use dusk_scheduler::Compute;
/// let x = dusk_collections::array::arange(5, 2).unwrap();
/// assert_eq!(x.compute().unwrap().as_slice().unwrap(), &[0, 1, 2, 3, 4]);
/// ```
pub fn arange(n: usize, chunks: impl Into<ChunkSpec>) -> Result<Array<i64>, ArrayError> {
    let kind = SourceKind::Range {
        start: 0.0,
        step: 1.0,
    };
    Ok(Array::from_node(source_node(
        "arange",
        kind,
        DType::I64,
        &[n],
        chunks.into(),
    )?))
}

/// `num` evenly spaced values from `start` to `stop` inclusive (NumPy's `linspace`).
///
/// ```
/// use dusk_scheduler::Compute;
/// let x = dusk_collections::array::linspace(0.0, 1.0, 5, 2).unwrap();
/// assert_eq!(x.compute().unwrap().as_slice().unwrap(), &[0.0, 0.25, 0.5, 0.75, 1.0]);
/// ```
pub fn linspace(
    start: f64,
    stop: f64,
    num: usize,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<f64>, ArrayError> {
    let step = if num > 1 {
        (stop - start) / (num - 1) as f64
    } else {
        0.0
    };
    let kind = SourceKind::Range { start, step };
    Ok(Array::from_node(source_node(
        "linspace",
        kind,
        DType::F64,
        &[num],
        chunks.into(),
    )?))
}

/// The `n × n` identity matrix.
///
/// ```
/// use dusk_scheduler::Compute;
/// let x = dusk_collections::array::eye::<f64>(3, 2).unwrap();
/// assert_eq!(x.compute().unwrap(), ndarray::Array2::<f64>::eye(3).into_dyn());
/// ```
pub fn eye<T: Element>(n: usize, chunks: impl Into<ChunkSpec>) -> Result<Array<T>, ArrayError> {
    Ok(Array::from_node(source_node(
        "eye",
        SourceKind::Eye,
        T::DTYPE,
        &[n, n],
        chunks.into(),
    )?))
}

/// An array cut from an ndarray in memory (copied into blocks now).
///
/// ```
/// use dusk_collections::array;
/// use dusk_scheduler::Compute;
/// let a = ndarray::Array::from_shape_fn((5, 3), |(i, j)| (i * 3 + j) as f64);
/// let x = array::from_array(a.clone(), [2, 2]).unwrap();
/// assert_eq!(x.chunks(), &[vec![2, 2, 1], vec![2, 1]]);
/// assert_eq!(x.compute().unwrap(), a.into_dyn());
/// ```
pub fn from_array<T: Element, D: Dimension>(
    a: ndarray::Array<T, D>,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, ArrayError> {
    let a = a.into_dyn();
    let shape = a.shape().to_vec();
    let chunks = chunks.into().normalize(&shape, T::DTYPE.itemsize())?;
    let offs: Vec<Vec<usize>> = chunks.iter().map(|c| offsets(c)).collect();
    let mut blocks = Vec::new();
    for idx in block_indices(&chunks.iter().map(|c| c.len()).collect::<Vec<_>>()) {
        let info: Vec<SliceInfoElem> = idx
            .iter()
            .enumerate()
            .map(|(d, &i)| SliceInfoElem::from(offs[d][i]..offs[d][i + 1]))
            .collect();
        let b = a.slice(info.as_slice()).to_owned().into_shared();
        blocks.push(Data::Array(T::into_block(b)));
    }
    let name = fresh_token("array");
    let nb: Vec<usize> = chunks.iter().map(|c| c.len()).collect();
    let node = blockwise_node(name, shape, chunks, T::DTYPE, vec![], move |_, idx| {
        let flat = idx.iter().zip(&nb).fold(0, |acc, (&i, &k)| acc * k + i);
        (
            Arc::new(LiteralOp::new(blocks[flat].clone())) as Arc<dyn Op>,
            vec![],
        )
    });
    Ok(Array::from_node(node))
}

/// An array whose blocks are made by `f`, given the index ranges of the block in the whole
/// array. The closure runs on the local schedulers; a block of the wrong shape is an error of
/// that block's task.
///
/// ```
/// use dusk_collections::array;
/// use dusk_scheduler::Compute;
/// let x = array::from_fn(&[4, 3], 2, |r| {
///     ndarray::ArrayD::from_shape_fn(vec![r[0].len(), r[1].len()], |i| (r[0].start + i[0]) as i64 * 10 + (r[1].start + i[1]) as i64)
/// }).unwrap();
/// assert_eq!(x.compute().unwrap()[[3, 2]], 32);
/// ```
pub fn from_fn<T, F>(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    f: F,
) -> Result<Array<T>, ArrayError>
where
    T: Element,
    F: Fn(&[Range<usize>]) -> ArrayD<T> + Send + Sync + 'static,
{
    let chunks = chunks.into().normalize(shape, T::DTYPE.itemsize())?;
    let offs: Vec<Vec<usize>> = chunks.iter().map(|c| offsets(c)).collect();
    let f = Arc::new(f);
    let node = blockwise_node(
        fresh_token("from-fn"),
        shape.to_vec(),
        chunks,
        T::DTYPE,
        vec![],
        move |n, idx| {
            let ranges: Vec<Range<usize>> = idx
                .iter()
                .enumerate()
                .map(|(d, &i)| offs[d][i]..offs[d][i + 1])
                .collect();
            let want = n.block_shape(idx);
            let f = f.clone();
            let op = FnOp::new("from-fn", move |_| {
                let b = f(&ranges);
                if b.shape() != want.as_slice() {
                    return Err(Box::new(ArrayError::Shape(format!(
                        "from_fn returned a block of shape {:?} for the block {:?}, expected {:?}",
                        b.shape(),
                        ranges,
                        want
                    ))) as BoxError);
                }
                Ok(Data::Array(T::into_block(b.into_shared())))
            });
            (Arc::new(op) as Arc<dyn Op>, vec![])
        },
    );
    Ok(Array::from_node(node))
}
