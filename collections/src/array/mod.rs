//! `Array`: chunked n-dimensional arrays on ndarray blocks — Dask's `dask.array`.
//!
//! An [`Array<T>`] is a lazy expression with a known shape, chunking and element type. Building
//! one runs nothing; shape, chunk, axis and dtype mistakes are errors of the building call.
//! `compute()` lowers the expression into one task per block (keys `('name', i, j, ...)`) plus
//! the tree reductions, rechunks and block products the expression needs, and returns an
//! `ndarray::ArrayD<T>`.
//!
//! Why it is built the way it is:
//!
//! - **Blocks are ndarray arrays** ([`dusk_core::ArrayBlock`]), so kernels are ndarray's and a
//!   block crosses processes as plain numbers.
//! - **Built-in kernels are serializable ops** (one [`ArrayOp`](ops) enum, registered once), so
//!   graphs of built-in operations can run on remote workers; user closures (`from_fn`,
//!   `map_blocks`) run on the local schedulers.
//! - **Element-wise chains run as one task per block**: an element-wise result keeps its small
//!   expression tree, and the next element-wise operation extends the tree instead of stacking a
//!   new task (see [`elementwise`](self) module). `(x - m) * 2.0 + y.sqrt()` is one task per block.
//! - **Reductions are tree reductions** with a fan-in of [`split_every`](Array::split_every)
//!   (8 by default) over the blocks along the reduced axes.
//!
//! ```
//! use dusk_collections::array;
//! use dusk_scheduler::Compute;
//!
//! let x = array::from_array(ndarray::arr2(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), 2).unwrap();
//! assert_eq!(x.numblocks(), vec![1, 2]);
//! let centered = &x - &x.mean(&[1], true).unwrap();
//! let got = centered.compute().unwrap();
//! assert_eq!(got, ndarray::arr2(&[[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]]).into_dyn());
//! ```

mod chunks;
mod creation;
mod dtype;
mod elementwise;
mod error;
mod linalg;
mod map_blocks;
mod npy;
mod ops;
mod overlap;
mod random;
mod rechunk;
mod reduce;
mod slicing;

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dusk_core::{Collection, ComputeError, Data, Graph, Key, Op, Task, Tokenizer};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

pub use chunks::{ChunkSpec, AUTO_CHUNK_BYTES};
pub use creation::{arange, eye, from_array, from_fn, full, linspace, ones, zeros};
pub use dtype::{DType, Element};
pub use elementwise::{where_, Scalar};
pub use error::ArrayError;
pub use linalg::{matmul, tensordot};
pub use npy::{from_npy, from_npy_stack, NpyStackStore, NpyStore};
pub use overlap::Boundary;
pub use random::{random_normal, random_uniform};
pub use rechunk::{concatenate, stack};
pub use reduce::Axes;
pub use slicing::Idx;

/// The default fan-in of tree reductions.
pub const DEFAULT_SPLIT_EVERY: usize = 8;

/// Adds a node's block tasks to a graph (its inputs are already there).
pub(crate) type LowerFn = dyn Fn(&Node, &mut Graph) -> Result<(), ComputeError> + Send + Sync;

/// One array expression: its metadata, its inputs, and how it lowers.
pub(crate) struct Node {
    pub name: Arc<str>,
    pub shape: Vec<usize>,
    pub chunks: Vec<Vec<usize>>,
    pub dtype: DType,
    pub deps: Vec<Arc<Node>>,
    pub lower: Arc<LowerFn>,
    /// Set for element-wise results, so the next element-wise op can extend the expression.
    pub fused: Option<Arc<elementwise::Fused>>,
}

impl Node {
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub fn numblocks(&self) -> Vec<usize> {
        self.chunks.iter().map(|c| c.len()).collect()
    }

    pub fn key(&self, idx: &[usize]) -> Key {
        let idx: Vec<u32> = idx.iter().map(|&i| i as u32).collect();
        Key::block(self.name.clone(), &idx)
    }

    pub fn keys(&self) -> Vec<Key> {
        chunks::block_indices(&self.numblocks())
            .iter()
            .map(|i| self.key(i))
            .collect()
    }

    /// The shape of block `idx`.
    pub fn block_shape(&self, idx: &[usize]) -> Vec<usize> {
        idx.iter().zip(&self.chunks).map(|(&i, c)| c[i]).collect()
    }

    /// Adds this node's tasks, and those of its inputs, unless already there.
    pub fn lower_into(self: &Arc<Node>, g: &mut Graph) -> Result<(), ComputeError> {
        let first = self.key(&vec![0; self.ndim()]);
        if g.contains(&first) {
            return Ok(());
        }
        for d in &self.deps {
            d.lower_into(g)?;
        }
        (self.lower)(self, g)
    }
}

/// Builds a node whose tasks are one op per output block.
pub(crate) fn blockwise_node(
    name: String,
    shape: Vec<usize>,
    chunks: Vec<Vec<usize>>,
    dtype: DType,
    deps: Vec<Arc<Node>>,
    per_block: impl Fn(&Node, &[usize]) -> (Arc<dyn Op>, Vec<Key>) + Send + Sync + 'static,
) -> Arc<Node> {
    let lower = move |n: &Node, g: &mut Graph| -> Result<(), ComputeError> {
        for idx in chunks::block_indices(&n.numblocks()) {
            let (op, deps) = per_block(n, &idx);
            g.insert(n.key(&idx), Task::from_arc(op, deps));
        }
        Ok(())
    };
    Arc::new(Node {
        name: name.into(),
        shape,
        chunks,
        dtype,
        deps,
        lower: Arc::new(lower),
        fused: None,
    })
}

/// A token no other expression has (for closures and in-memory data).
pub(crate) fn fresh_token(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Tokenizer::new("array-fresh")
        .write(&(n, nanos, std::process::id()))
        .name(label)
}

/// A lazy, chunked n-dimensional array of `T` (`f64`, `f32`, `i64`, `i32` or `bool`).
///
/// ```
/// use dusk_collections::array;
/// use dusk_scheduler::Compute;
/// let x = array::arange(10, 4).unwrap();
/// assert_eq!(x.shape(), &[10]);
/// assert_eq!(x.chunks(), &[vec![4, 4, 2]]);
/// assert_eq!(x.sum_all().compute().unwrap().first().copied(), Some(45));
/// ```
pub struct Array<T> {
    pub(crate) node: Arc<Node>,
    pub(crate) split_every: usize,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            node: self.node.clone(),
            split_every: self.split_every,
            _t: PhantomData,
        }
    }
}

impl<T: Element> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Array<{}>(shape={:?}, chunks={:?}, name={})",
            self.node.dtype.name(),
            self.node.shape,
            self.node.chunks,
            self.node.name
        )
    }
}

impl<T: Element> Array<T> {
    pub(crate) fn from_node(node: Arc<Node>) -> Array<T> {
        debug_assert_eq!(node.dtype, T::DTYPE);
        Array {
            node,
            split_every: DEFAULT_SPLIT_EVERY,
            _t: PhantomData,
        }
    }

    /// An array of `U` from a node, keeping this array's settings.
    pub(crate) fn derive<U: Element>(&self, node: Arc<Node>) -> Array<U> {
        Array {
            node,
            split_every: self.split_every,
            _t: PhantomData,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.node.shape
    }

    /// The number of dimensions.
    pub fn ndim(&self) -> usize {
        self.node.ndim()
    }

    /// The number of elements.
    ///
    /// ```
    /// assert_eq!(dusk_collections::array::zeros::<f32>(&[3, 4], 2).unwrap().size(), 12);
    /// ```
    pub fn size(&self) -> usize {
        self.node.shape.iter().product()
    }

    /// The bytes the elements take.
    pub fn nbytes(&self) -> usize {
        self.size() * self.node.dtype.itemsize()
    }

    /// The block lengths along each dimension.
    pub fn chunks(&self) -> &[Vec<usize>] {
        &self.node.chunks
    }

    /// The number of blocks along each dimension.
    ///
    /// ```
    /// let x = dusk_collections::array::ones::<i32>(&[5, 6], [2, 6]).unwrap();
    /// assert_eq!(x.numblocks(), vec![3, 1]);
    /// ```
    pub fn numblocks(&self) -> Vec<usize> {
        self.node.numblocks()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.node.dtype
    }

    /// The name of the keys of this array's blocks.
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The same array, with reductions built from it using a fan-in of `n` (at least 2).
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let x = dusk_collections::array::ones::<f64>(&[100], 3).unwrap().split_every(2);
    /// assert_eq!(x.sum_all().compute().unwrap().first().copied(), Some(100.0));
    /// ```
    pub fn split_every(&self, n: usize) -> Array<T> {
        Array {
            node: self.node.clone(),
            split_every: n.max(2),
            _t: PhantomData,
        }
    }

    /// The task graph of this array, as built (not optimized).
    ///
    /// ```
    /// let x = dusk_collections::array::ones::<f64>(&[4, 4], 2).unwrap();
    /// let y = (&(&x + 1.0) * 2.0).sqrt();
    /// assert_eq!(y.graph().unwrap().len(), 4 + 4); // the sources, then one fused task per block
    /// ```
    pub fn graph(&self) -> Result<Graph, ComputeError> {
        let mut g = Graph::new();
        self.node.lower_into(&mut g)?;
        Ok(g)
    }
}

impl<T: Element> Collection for Array<T> {
    type Output = ArrayD<T>;

    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        self.node.lower_into(graph)?;
        Ok(self.node.keys())
    }

    fn num_outputs(&self) -> usize {
        self.node.numblocks().iter().product()
    }

    fn finalize(&self, results: Vec<Data>) -> Result<ArrayD<T>, ComputeError> {
        let n = &self.node;
        let grid = chunks::block_indices(&n.numblocks());
        let offs: Vec<Vec<usize>> = n.chunks.iter().map(|c| chunks::offsets(c)).collect();
        if grid.len() == 1 && results.len() == 1 {
            let b = block_of::<T>(n, &grid[0], &results[0])?;
            return Ok(b.into_owned());
        }
        let mut out = ArrayD::<T>::default(IxDyn(&n.shape));
        for (idx, data) in grid.iter().zip(&results) {
            let b = block_of::<T>(n, idx, data)?;
            let info: Vec<SliceInfoElem> = idx
                .iter()
                .enumerate()
                .map(|(d, &i)| SliceInfoElem::from(offs[d][i]..offs[d][i + 1]))
                .collect();
            out.slice_mut(info.as_slice()).assign(&b);
        }
        Ok(out)
    }
}

/// Reads block `idx` of `node` from a result, checking its type and shape.
pub(crate) fn block_of<T: Element>(
    node: &Node,
    idx: &[usize],
    data: &Data,
) -> Result<ndarray::ArcArray<T, IxDyn>, ComputeError> {
    let key = node.key(idx);
    let block = data.as_array().map_err(|source| ComputeError::Result {
        key: key.clone(),
        source,
    })?;
    let want = node.block_shape(idx);
    let lowering = |message: String| {
        ComputeError::Lowering(Box::new(ArrayError::Block {
            key: key.to_string(),
            message,
        }))
    };
    if block.shape() != want.as_slice() {
        return Err(lowering(format!(
            "shape {:?}, expected {:?}",
            block.shape(),
            want
        )));
    }
    T::from_block(block.clone()).ok_or_else(|| {
        lowering(format!(
            "dtype {}, expected {}",
            block.dtype(),
            T::DTYPE.name()
        ))
    })
}

impl<T: Element> dusk_core::Persist for Array<T> {
    /// The same array with the same keys, its blocks now the computed results.
    ///
    /// ```
    /// use dusk_collections::array;
    /// use dusk_scheduler::Compute;
    /// let x = &array::arange(10, 3).unwrap() * 2;
    /// let kept = x.persist().unwrap();
    /// assert_eq!(kept.name(), x.name());
    /// assert_eq!(kept.graph().unwrap().len(), 4);
    /// assert_eq!(kept.sum_all().compute().unwrap().first().copied(), Some(90));
    /// ```
    fn with_results(&self, results: Vec<Data>) -> Self {
        let n = &self.node;
        let nb = n.numblocks();
        let node = blockwise_node(
            n.name.to_string(),
            n.shape.clone(),
            n.chunks.clone(),
            n.dtype,
            vec![],
            move |_, idx| {
                let flat = idx.iter().zip(&nb).fold(0, |acc, (&i, &k)| acc * k + i);
                let data = results
                    .get(flat)
                    .cloned()
                    .unwrap_or_else(|| Data::local(()));
                (
                    Arc::new(dusk_core::LiteralOp::new(data)) as Arc<dyn Op>,
                    vec![],
                )
            },
        );
        self.derive(node)
    }
}
