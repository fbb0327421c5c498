//! `map_overlap`: a user function applied to every block extended by a halo of neighbouring
//! cells, for stencils and filters.
//!
//! Each block is grown by `depth[d]` cells on both sides of axis `d`, taken from the
//! neighbouring blocks; at the edges of the array the halo follows a [`Boundary`] mode (as
//! Dask's `map_overlap`). The function receives the grown block and must return an array of
//! the same shape; the halo is trimmed off again, so the result has the input's chunks.
//! The halo may reach past the adjacent blocks when they are short.

use std::sync::Arc;

use dusk_core::{BoxError, Data, FnOp, Op};
use ndarray::{ArcArray, ArrayD, Axis, IxDyn, Slice};

use super::chunks::offsets;
use super::dtype::Element;
use super::error::ArrayError;
use super::{blockwise_node, fresh_token, Array};

/// What the halo holds beyond the edges of the array.
///
/// ```
/// use dusk_collections::array::Boundary;
/// assert_ne!(Boundary::Reflect, Boundary::Periodic);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Boundary {
    /// A constant value.
    Constant(f64),
    /// The edge values repeated.
    Nearest,
    /// The array mirrored at its edge, the edge cell included (`3 2 1 | 1 2 3`).
    Reflect,
    /// The other end of the array (wrap-around).
    Periodic,
    /// No halo at the edges: edge blocks grow only toward their neighbours.
    None,
}

/// Where each position of the grown range along one axis reads from (None: the constant).
fn sources(
    lo: usize,
    hi: usize,
    depth: usize,
    n: usize,
    b: Boundary,
) -> (Vec<Option<usize>>, usize, usize) {
    let (left, right) = match b {
        Boundary::None => (depth.min(lo), depth.min(n - hi)),
        _ => (depth, depth),
    };
    let v = (lo as isize - left as isize..(hi + right) as isize)
        .map(|g| {
            if (0..n as isize).contains(&g) {
                return Some(g as usize);
            }
            let n = n as isize;
            match b {
                Boundary::Constant(_) => None,
                Boundary::Nearest => Some(g.clamp(0, n - 1) as usize),
                Boundary::Reflect => {
                    Some(if g < 0 { -g - 1 } else { 2 * n - g - 1 }.clamp(0, n - 1) as usize)
                }
                Boundary::Periodic => Some(g.rem_euclid(n) as usize),
                Boundary::None => None,
            }
        })
        .collect();
    (v, left, right)
}

impl<T: Element> Array<T> {
    /// Applies `f` to every block grown by `depth` cells per axis (halo from the neighbours,
    /// `boundary` at the array's edges), and trims the halo from the result.
    ///
    /// ```
    /// use dusk_collections::array::{self, Boundary};
    /// use dusk_scheduler::Compute;
    /// // A 3-point moving sum, computed block by block.
    /// let x = array::arange(8, 3).unwrap().astype::<f64>();
    /// let y = x.map_overlap(&[1], Boundary::Constant(0.0), |b: &ndarray::ArrayD<f64>| {
    ///     let n = b.len();
    ///     ndarray::ArrayD::from_shape_fn(b.raw_dim(), |i| {
    ///         let j = i[0];
    ///         if j == 0 || j + 1 == n { 0.0 } else { b[[j - 1]] + b[[j]] + b[[j + 1]] }
    ///     })
    /// }).unwrap();
    /// assert_eq!(y.compute().unwrap().as_slice().unwrap(), &[1.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 13.0]);
    /// ```
    pub fn map_overlap<F>(
        &self,
        depth: &[usize],
        boundary: Boundary,
        f: F,
    ) -> Result<Array<T>, ArrayError>
    where
        F: Fn(&ArrayD<T>) -> ArrayD<T> + Send + Sync + 'static,
    {
        let n = &self.node;
        if depth.len() != n.ndim() {
            return Err(ArrayError::Shape(format!(
                "{} halo depths for an array of {} dimensions",
                depth.len(),
                n.ndim()
            )));
        }
        let offs: Vec<Vec<usize>> = n.chunks.iter().map(|c| offsets(c)).collect();
        let src = n.clone();
        let depth = depth.to_vec();
        let f = Arc::new(f);
        let node = blockwise_node(
            fresh_token("map-overlap"),
            n.shape.clone(),
            n.chunks.clone(),
            T::DTYPE,
            vec![n.clone()],
            move |_, idx| {
                let nd = idx.len();
                let mut per_axis = Vec::with_capacity(nd);
                for d in 0..nd {
                    let (lo, hi) = (offs[d][idx[d]], offs[d][idx[d] + 1]);
                    per_axis.push(sources(lo, hi, depth[d], src.shape[d], boundary));
                }
                // The input blocks spanned by the sources, per axis.
                let spans: Vec<(usize, usize)> = per_axis
                    .iter()
                    .enumerate()
                    .map(|(d, (v, _, _))| {
                        let ids: Vec<usize> = v
                            .iter()
                            .flatten()
                            .map(|&g| offs[d].partition_point(|&o| o <= g) - 1)
                            .collect();
                        let first = ids.iter().copied().min().unwrap_or(idx[d]);
                        let last = ids.iter().copied().max().unwrap_or(idx[d]);
                        (first, last)
                    })
                    .collect();
                let counts: Vec<usize> = spans.iter().map(|(a, b)| b - a + 1).collect();
                let grid = super::chunks::block_indices(&counts);
                let deps = grid
                    .iter()
                    .map(|g| {
                        let i: Vec<usize> = g.iter().zip(&spans).map(|(k, s)| k + s.0).collect();
                        src.key(&i)
                    })
                    .collect();
                let (f, offs, per_axis) = (f.clone(), offs.clone(), per_axis.clone());
                let op = FnOp::new("map-overlap", move |inputs: Vec<Data>| {
                    // The region covered by the spanned blocks, then the halo picked from it.
                    let region_shape: Vec<usize> = spans
                        .iter()
                        .enumerate()
                        .map(|(d, s)| offs[d][s.1 + 1] - offs[d][s.0])
                        .collect();
                    let mut region = ArrayD::<T>::default(IxDyn(&region_shape));
                    for (g, data) in grid.iter().zip(&inputs) {
                        let b: ArcArray<T, IxDyn> = T::from_block(data.as_array()?.clone())
                            .ok_or("map_overlap: block of another type")?;
                        let mut view = region.view_mut();
                        for (d, &k) in g.iter().enumerate() {
                            let start = offs[d][spans[d].0 + k] - offs[d][spans[d].0];
                            view.slice_axis_inplace(
                                Axis(d),
                                Slice::from(start..start + b.shape()[d]),
                            );
                        }
                        view.assign(&b);
                    }
                    let mut grown = region;
                    for (d, (v, _, _)) in per_axis.iter().enumerate() {
                        let base = offs[d][spans[d].0];
                        let pick: Vec<usize> =
                            v.iter().map(|s| s.map(|g| g - base).unwrap_or(0)).collect();
                        grown = grown.select(Axis(d), &pick);
                    }
                    if let Boundary::Constant(c) = boundary {
                        let fill = T::from_f64(c);
                        let mask = ArrayD::from_shape_fn(grown.raw_dim(), |ix| {
                            (0..per_axis.len()).any(|d| per_axis[d].0[ix[d]].is_none())
                        });
                        ndarray::Zip::from(&mut grown).and(&mask).for_each(|g, &m| {
                            if m {
                                *g = fill;
                            }
                        });
                    }
                    let out = f(&grown);
                    if out.shape() != grown.shape() {
                        return Err(Box::new(ArrayError::Shape(format!(
                            "map_overlap returned shape {:?} for a grown block of shape {:?}",
                            out.shape(),
                            grown.shape()
                        ))) as BoxError);
                    }
                    let mut trimmed = out.view();
                    for (d, (v, left, right)) in per_axis.iter().enumerate() {
                        trimmed.slice_axis_inplace(Axis(d), Slice::from(*left..v.len() - *right));
                    }
                    Ok(Data::Array(T::into_block(trimmed.to_owned().into_shared())))
                });
                (Arc::new(op) as Arc<dyn Op>, deps)
            },
        );
        Ok(self.derive(node))
    }
}
