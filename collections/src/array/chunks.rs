//! Chunks: how an array is cut into blocks, and how the user says so.
//!
//! Internally chunks are Dask's normal form: for each dimension, the list of block lengths
//! along it (`[[2, 2, 1], [3]]` for a 5×3 array cut into three row bands). Users give them as a
//! [`ChunkSpec`] — one length for every dimension, one length per dimension, explicit
//! (irregular) lists, or [`ChunkSpec::Auto`], which picks regular blocks of about
//! [`AUTO_CHUNK_BYTES`] (128 MiB, Dask's default) — and a spec that does not tile the shape is
//! an error when the array is built.

use super::error::ArrayError;

/// The block size [`ChunkSpec::Auto`] aims for, in bytes (Dask's `array.chunk-size`).
pub const AUTO_CHUNK_BYTES: usize = 128 * 1024 * 1024;

/// How to cut an array into blocks.
///
/// ```
/// use dusk_collections::array::ChunkSpec;
/// let shape = [5, 3];
/// assert_eq!(ChunkSpec::from(2).normalize(&shape, 8).unwrap(), vec![vec![2, 2, 1], vec![2, 1]]);
/// assert_eq!(ChunkSpec::from([5, 2]).normalize(&shape, 8).unwrap(), vec![vec![5], vec![2, 1]]);
/// let irregular = ChunkSpec::from(vec![vec![1, 4], vec![3]]);
/// assert_eq!(irregular.normalize(&shape, 8).unwrap(), vec![vec![1, 4], vec![3]]);
/// assert!(ChunkSpec::from(vec![vec![1, 3], vec![3]]).normalize(&shape, 8).is_err());
/// assert_eq!(ChunkSpec::Auto.normalize(&shape, 8).unwrap(), vec![vec![5], vec![3]]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkSpec {
    /// Regular blocks of about [`AUTO_CHUNK_BYTES`].
    Auto,
    /// The same block length along every dimension (the last block may be shorter).
    Uniform(usize),
    /// One block length per dimension (the last block along each may be shorter).
    PerDim(Vec<usize>),
    /// Explicit block lengths for each dimension; each list must sum to that dimension.
    Explicit(Vec<Vec<usize>>),
}

impl From<usize> for ChunkSpec {
    fn from(n: usize) -> Self {
        ChunkSpec::Uniform(n)
    }
}

impl From<&[usize]> for ChunkSpec {
    fn from(v: &[usize]) -> Self {
        ChunkSpec::PerDim(v.to_vec())
    }
}

impl<const N: usize> From<[usize; N]> for ChunkSpec {
    fn from(v: [usize; N]) -> Self {
        ChunkSpec::PerDim(v.to_vec())
    }
}

impl<const N: usize> From<&[usize; N]> for ChunkSpec {
    fn from(v: &[usize; N]) -> Self {
        ChunkSpec::PerDim(v.to_vec())
    }
}

impl From<Vec<usize>> for ChunkSpec {
    fn from(v: Vec<usize>) -> Self {
        ChunkSpec::PerDim(v)
    }
}

impl From<Vec<Vec<usize>>> for ChunkSpec {
    fn from(v: Vec<Vec<usize>>) -> Self {
        ChunkSpec::Explicit(v)
    }
}

impl ChunkSpec {
    /// The normal form of this spec for `shape`, with elements of `itemsize` bytes.
    pub fn normalize(
        &self,
        shape: &[usize],
        itemsize: usize,
    ) -> Result<Vec<Vec<usize>>, ArrayError> {
        let bad = |reason: String| ArrayError::Chunks {
            chunks: format!("{self:?}"),
            shape: shape.to_vec(),
            reason,
        };
        match self {
            ChunkSpec::Auto => Ok(auto_chunks(shape, itemsize, AUTO_CHUNK_BYTES)),
            ChunkSpec::Uniform(n) => {
                if *n == 0 {
                    return Err(bad("a block length must be at least 1".into()));
                }
                Ok(shape.iter().map(|&d| regular(d, *n)).collect())
            }
            ChunkSpec::PerDim(v) => {
                if v.len() != shape.len() {
                    return Err(bad(format!(
                        "{} block lengths given for {} dimensions",
                        v.len(),
                        shape.len()
                    )));
                }
                if v.contains(&0) {
                    return Err(bad("a block length must be at least 1".into()));
                }
                Ok(shape.iter().zip(v).map(|(&d, &n)| regular(d, n)).collect())
            }
            ChunkSpec::Explicit(v) => {
                if v.len() != shape.len() {
                    return Err(bad(format!(
                        "{} lists of block lengths given for {} dimensions",
                        v.len(),
                        shape.len()
                    )));
                }
                for (axis, (c, &d)) in v.iter().zip(shape).enumerate() {
                    let total: usize = c.iter().sum();
                    if total != d {
                        return Err(bad(format!(
                            "the blocks along axis {axis} add up to {total}, not {d}"
                        )));
                    }
                    if d > 0 && c.contains(&0) {
                        return Err(bad(format!("an empty block along axis {axis}")));
                    }
                    if c.is_empty() {
                        return Err(bad(format!("no block along axis {axis}")));
                    }
                }
                Ok(v.clone())
            }
        }
    }
}

/// Blocks of length `n` along a dimension of length `d` (one empty block when `d` is 0).
pub(crate) fn regular(d: usize, n: usize) -> Vec<usize> {
    if d == 0 {
        return vec![0];
    }
    let n = n.min(d);
    let mut v = vec![n; d / n];
    if !d.is_multiple_of(n) {
        v.push(d % n);
    }
    v
}

/// Regular blocks of at most `limit` bytes: halve the longest block edge until they fit.
pub(crate) fn auto_chunks(shape: &[usize], itemsize: usize, limit: usize) -> Vec<Vec<usize>> {
    let mut edge: Vec<usize> = shape.iter().map(|&d| d.max(1)).collect();
    let max_elems = (limit / itemsize.max(1)).max(1);
    while edge.iter().product::<usize>() > max_elems {
        let (i, _) = edge
            .iter()
            .enumerate()
            .max_by_key(|(_, &e)| e)
            .expect("the loop runs only for arrays with dimensions");
        edge[i] = edge[i].div_ceil(2);
    }
    shape
        .iter()
        .zip(&edge)
        .map(|(&d, &e)| regular(d, e))
        .collect()
}

/// The start offset of each block along one dimension, plus the total at the end.
pub(crate) fn offsets(c: &[usize]) -> Vec<usize> {
    let mut v = Vec::with_capacity(c.len() + 1);
    let mut acc = 0;
    v.push(0);
    for &n in c {
        acc += n;
        v.push(acc);
    }
    v
}

/// Every block index of a grid with `numblocks` blocks per dimension, in C order.
pub(crate) fn block_indices(numblocks: &[usize]) -> Vec<Vec<usize>> {
    let total: usize = numblocks.iter().product();
    let mut out = Vec::with_capacity(total);
    if total == 0 {
        return out;
    }
    let mut idx = vec![0usize; numblocks.len()];
    loop {
        out.push(idx.clone());
        let mut d = numblocks.len();
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < numblocks[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// The common refinement of two chunkings of one dimension: cut wherever either cuts.
pub(crate) fn refine(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut cuts: Vec<usize> = offsets(a).into_iter().chain(offsets(b)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let v: Vec<usize> = cuts.windows(2).map(|w| w[1] - w[0]).collect();
    if v.is_empty() {
        vec![0]
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_fits_the_limit() {
        let c = auto_chunks(&[16000, 16000], 8, AUTO_CHUNK_BYTES);
        assert!(c[0][0] * c[1][0] * 8 <= AUTO_CHUNK_BYTES);
        assert_eq!(c[0].iter().sum::<usize>(), 16000);
    }

    #[test]
    fn grid_in_c_order() {
        assert_eq!(
            block_indices(&[2, 2]),
            vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]]
        );
        assert_eq!(block_indices(&[]), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn refinement_cuts_at_both() {
        assert_eq!(refine(&[2, 3], &[4, 1]), vec![2, 2, 1]);
    }
}
