//! Hash splits: which output partition a row's keys send it to.
//!
//! The hash is computed here, not taken from Polars' internals, so that it is stable and equal
//! for equal keys of different integer widths (an `Int32` key on one side of a join and an
//! `Int64` key on the other land in the same partition).

use dusk_core::op::encode_serde;
use dusk_core::{BoxError, Data, Op, WireError, WireOp};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::pieces::HashRecipe;
use super::{hand_on, Radix, Spill};

/// Mixes a 64-bit value (splitmix64's finalizer).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Folds `hash(value)` into each row's hash, for a column of `T` whose missing values hash as
/// `u64::MAX`. Chunks without nulls are read as plain slices: no per-row validity check, which
/// makes hashing the key column a small part of a split, not a large one.
fn fold_column<T, F>(hashes: &mut [u64], ca: &ChunkedArray<T>, hash: F)
where
    T: PolarsNumericType,
    F: Fn(T::Native) -> u64,
{
    let combine = |h: &mut u64, v: u64| *h = mix(h.rotate_left(5) ^ v);
    let mut offset = 0;
    for arr in ca.downcast_iter() {
        let rows = &mut hashes[offset..offset + arr.len()];
        if arr.validity().is_none_or(|valid| valid.unset_bits() == 0) {
            for (h, &v) in rows.iter_mut().zip(arr.values().iter()) {
                combine(h, hash(v));
            }
        } else {
            for (h, v) in rows.iter_mut().zip(arr.iter()) {
                combine(h, v.map_or(u64::MAX, |&v| hash(v)));
            }
        }
        offset += arr.len();
    }
}

/// One hash per row over the key columns.
pub(crate) fn row_hashes(df: &DataFrame, on: &[String]) -> PolarsResult<Vec<u64>> {
    let mut hashes = vec![0x51_7c_c1_b7_27_22_0a_95u64; df.height()];
    for name in on {
        let column = df.column(name.as_str())?;
        let dtype = column.dtype();
        if dtype.is_integer() || dtype.is_temporal() || dtype.is_bool() {
            let c = column.cast(&DataType::Int64)?;
            fold_column(&mut hashes, c.i64()?, |v| mix(v as u64));
        } else if dtype.is_float() {
            let c = column.cast(&DataType::Float64)?;
            // -0.0 equals 0.0, and every NaN is one value.
            fold_column(&mut hashes, c.f64()?, |v| {
                let bits = if v == 0.0 {
                    0u64
                } else if v.is_nan() {
                    f64::NAN.to_bits()
                } else {
                    v.to_bits()
                };
                mix(bits)
            });
        } else {
            let combine = |h: &mut u64, v: u64| *h = mix(h.rotate_left(5) ^ v);
            let c = column.cast(&DataType::String)?;
            for (h, v) in hashes.iter_mut().zip(c.str()?.iter()) {
                combine(h, v.map_or(u64::MAX, |s| xxh3_64(s.as_bytes())));
            }
        }
    }
    Ok(hashes)
}

/// The bucket in `0..n` of a row hash: the high bits of `hash * n` (Lemire's multiply-shift),
/// an even spread for a well-mixed hash at the cost of a multiplication instead of a division
/// per row.
pub(crate) fn bucket_of_hash(hash: u64, n: u64) -> u32 {
    ((hash as u128 * n as u128) >> 64) as u32
}

/// Splits one partition by a hash of `on` into `n` pieces.
#[derive(Serialize, Deserialize)]
pub(crate) struct HashSplitOp {
    pub on: Vec<String>,
    pub n: usize,
    pub radix: Radix,
    pub index: usize,
    pub spill: Option<Spill>,
}

impl Op for HashSplitOp {
    fn name(&self) -> &str {
        "shuffle-split"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let df = inputs[0].as_frame()?;
        let n = self.n as u64;
        let hashes = row_hashes(df, &self.on)?;
        let bucket_of = |row: usize| bucket_of_hash(hashes[row], n);
        let recipe = HashRecipe {
            on: self.on.clone(),
            buckets: self.n,
            radix: self.radix,
        };
        let (spill, index) = (&self.spill, self.index);
        hand_on(
            df,
            self.n,
            bucket_of,
            self.radix,
            spill,
            index,
            Some(recipe),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_of_different_widths_hash_alike() {
        let a = df!("k" => [1i32, 2, 3, -7]).unwrap();
        let b = df!("k" => [1i64, 2, 3, -7]).unwrap();
        let on = vec!["k".to_string()];
        assert_eq!(row_hashes(&a, &on).unwrap(), row_hashes(&b, &on).unwrap());
        let s = df!("k" => ["x", "y"], "j" => [Some(1.0), None]).unwrap();
        let both = vec!["k".to_string(), "j".to_string()];
        let h = row_hashes(&s, &both).unwrap();
        assert_ne!(h[0], h[1]);
    }

    #[test]
    fn hashed_keys_spread_evenly_over_buckets() {
        let keys: Vec<i64> = (0..64_000).collect();
        let df = df!("k" => keys).unwrap();
        let hashes = row_hashes(&df, &["k".to_string()]).unwrap();
        for n in [1u64, 2, 7, 16, 100] {
            let mut counts = vec![0usize; n as usize];
            for &h in &hashes {
                let b = bucket_of_hash(h, n);
                assert!((b as u64) < n);
                counts[b as usize] += 1;
            }
            let expected = 64_000 / n as usize;
            // Within six standard deviations of an even share (a poor mix of the high bits,
            // say, would miss by far).
            let sd = (expected as f64).sqrt();
            assert!(
                counts
                    .iter()
                    .all(|&c| c.abs_diff(expected) as f64 <= 6.0 * sd),
                "{n} buckets: {counts:?}"
            );
        }
        assert_eq!(bucket_of_hash(u64::MAX, 16), 15);
        assert_eq!(bucket_of_hash(0, 16), 0);
    }
}
