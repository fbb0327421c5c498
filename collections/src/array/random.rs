//! Seeded random arrays whose values do not depend on the chunking.
//!
//! Element `i` (its C-order position in the whole array) is a pure function of `(seed, i)`: a
//! counter-based generator (SplitMix64's finalizer over the seed and the index), so any block
//! is made on its own, in parallel, and the same seed gives the same array whatever the chunks.

use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

use super::chunks::ChunkSpec;
use super::creation::{source_node, SourceKind};
use super::dtype::DType;
use super::error::ArrayError;
use super::Array;

/// The distribution of a random array.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Distribution {
    Uniform { low: f64, high: f64 },
    Normal { mean: f64, std: f64 },
}

#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[inline]
fn unit(seed: u64, counter: u64) -> f64 {
    let h = mix64(seed ^ mix64(counter.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(1)));
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The value of element `flat` (C-order index in the whole array).
#[inline]
fn value(seed: u64, dist: Distribution, flat: u64) -> f64 {
    match dist {
        Distribution::Uniform { low, high } => low + (high - low) * unit(seed, flat),
        Distribution::Normal { mean, std } => {
            // Box–Muller on two independent uniforms of this element.
            let u1 = 1.0 - unit(seed, flat.wrapping_mul(2));
            let u2 = unit(seed, flat.wrapping_mul(2).wrapping_add(1));
            mean + std * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }
    }
}

/// The block at `offset` of shape `shape` in an array of `full_shape`.
pub(crate) fn block(
    seed: u64,
    dist: Distribution,
    offset: &[usize],
    shape: &[usize],
    full_shape: &[usize],
) -> ArrayD<f64> {
    let seed = mix64(seed);
    ArrayD::from_shape_fn(IxDyn(shape), |i| {
        let mut flat = 0u64;
        for d in 0..full_shape.len() {
            flat = flat * full_shape[d] as u64 + (offset[d] + i[d]) as u64;
        }
        value(seed, dist, flat)
    })
}

/// Uniform random floats in `[low, high)`; the same seed gives the same array whatever the
/// chunks.
///
/// ```
/// use dusk_collections::array::random_uniform;
/// use dusk_scheduler::Compute;
/// let a = random_uniform(7, 0.0, 1.0, &[5, 4], 2).unwrap().compute().unwrap();
/// let b = random_uniform(7, 0.0, 1.0, &[5, 4], [5, 1]).unwrap().compute().unwrap();
/// assert_eq!(a, b);
/// assert!(a.iter().all(|&v| (0.0..1.0).contains(&v)));
/// ```
pub fn random_uniform(
    seed: u64,
    low: f64,
    high: f64,
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<f64>, ArrayError> {
    let kind = SourceKind::Random {
        seed,
        dist: Distribution::Uniform { low, high },
    };
    Ok(Array::from_node(source_node(
        "random-uniform",
        kind,
        DType::F64,
        shape,
        chunks.into(),
    )?))
}

/// Normal random floats; the same seed gives the same array whatever the chunks.
///
/// ```
/// use dusk_collections::array::random_normal;
/// use dusk_scheduler::Compute;
/// let a = random_normal(1, 0.0, 1.0, &[10000], 1000).unwrap().compute().unwrap();
/// let mean = a.mean().unwrap();
/// assert!(mean.abs() < 0.05, "{mean}");
/// ```
pub fn random_normal(
    seed: u64,
    mean: f64,
    std: f64,
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<f64>, ArrayError> {
    let kind = SourceKind::Random {
        seed,
        dist: Distribution::Normal { mean, std },
    };
    Ok(Array::from_node(source_node(
        "random-normal",
        kind,
        DType::F64,
        shape,
        chunks.into(),
    )?))
}
