//! Range splits: rows cut by ranges of one column (`sort_values`).

use dusk_core::op::encode_serde;
use dusk_core::{BoxError, Data, Op, WireError, WireOp};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{hand_on_split, Radix, Spill};

/// Splits one partition by ranges of `column`: input 0 is the partition, input 1 a frame whose
/// second column holds the `n - 1` ascending boundaries. Equal values land in the same piece;
/// nulls go to the last piece (or the first, with `nulls_last` false).
#[derive(Serialize, Deserialize)]
pub(crate) struct RangeSplitOp {
    pub column: String,
    pub n: usize,
    pub radix: Radix,
    pub descending: bool,
    pub nulls_last: bool,
    pub index: usize,
    pub spill: Option<Spill>,
}

impl Op for RangeSplitOp {
    fn name(&self) -> &str {
        "sort-split"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let df = inputs[0].as_frame()?;
        let bounds_frame = inputs[1].as_frame()?;
        let bounds: Vec<f64> = bounds_frame
            .columns()
            .get(1)
            .ok_or("the sort boundaries are missing")?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .flatten()
            .collect();
        let n = self.n;
        let values = df.column(self.column.as_str())?.cast(&DataType::Float64)?;
        let buckets: Vec<u32> = values
            .f64()?
            .iter()
            .map(|v| {
                let ascending_bucket = match v {
                    None => return if self.nulls_last { n - 1 } else { 0 } as u32,
                    Some(v) if v.is_nan() => bounds.len(),
                    Some(v) => bounds.partition_point(|b| *b < v).min(n - 1),
                };
                let b = if self.descending {
                    n - 1 - ascending_bucket.min(n - 1)
                } else {
                    ascending_bucket
                };
                b as u32
            })
            .collect();
        let bucket_of = |row: usize| buckets[row];
        hand_on_split(df, n, bucket_of, self.radix, &self.spill, self.index)
    }
}
