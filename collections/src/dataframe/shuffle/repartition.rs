//! Repartitioning without a shuffle: even row slices of partitions, cut and concatenated.

use dusk_core::op::encode_serde;
use dusk_core::{BoxError, Data, Op, WireError, WireOp};
use serde::{Deserialize, Serialize};

use crate::dataframe::kernels::concat_frames;

/// Rows `[k/m, (k+1)/m)` of a partition (`repartition` to more partitions), or the
/// concatenation of several partitions (to fewer).
#[derive(Serialize, Deserialize)]
pub(crate) struct SliceOp {
    pub piece: usize,
    pub of: usize,
}

impl Op for SliceOp {
    fn name(&self) -> &str {
        "repartition"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let frames = inputs
            .iter()
            .map(|d| d.as_frame().cloned())
            .collect::<Result<Vec<_>, _>>()?;
        let df = concat_frames(frames)?;
        if self.of <= 1 {
            return Ok(Data::Frame(df));
        }
        let rows = df.height();
        let start = rows * self.piece / self.of;
        let end = rows * (self.piece + 1) / self.of;
        Ok(Data::Frame(df.slice(start as i64, end - start)))
    }
}

/// Slice `piece` of `of` even row slices of each input, concatenated in input order
/// (`repartition_size`: big partitions cut, small neighbours joined).
#[derive(Serialize, Deserialize)]
pub(crate) struct CutConcatOp {
    /// `(piece, of)` for each input, in the task's input order.
    pub cuts: Vec<(usize, usize)>,
}

impl Op for CutConcatOp {
    fn name(&self) -> &str {
        "repartition"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        if inputs.len() != self.cuts.len() {
            return Err(format!(
                "a repartition task got {} inputs for {} cuts",
                inputs.len(),
                self.cuts.len()
            )
            .into());
        }
        let mut frames = Vec::with_capacity(inputs.len());
        for (d, &(piece, of)) in inputs.iter().zip(&self.cuts) {
            let df = d.as_frame()?;
            let rows = df.height();
            let (start, end) = (rows * piece / of.max(1), rows * (piece + 1) / of.max(1));
            frames.push(df.slice(start as i64, end - start));
        }
        Ok(Data::Frame(concat_frames(frames)?))
    }
}
