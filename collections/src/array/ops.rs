//! `ArrayOp`: every built-in block kernel as one serializable op.
//!
//! Built-in array tasks carry their arguments as serde data (expressions, slices, offsets,
//! file paths), so a graph made only of them can be shipped to another process; the kernels
//! themselves live in the module of their concept. One registered kind (`dusk.array`) covers
//! them all.

use dusk_core::{register_op, ArrayBlock, BoxError, Data, Op, SerdeOp, WireError, WireOp};
use serde::{Deserialize, Serialize};

use super::creation::Source;
use super::elementwise::Expr;
use super::linalg::MatmulKernel;
use super::npy::{NpyRead, NpyWrite};
use super::rechunk::Assemble;
use super::reduce::{CumKernel, ReduceKernel};
use super::slicing::{Take, Transpose};

/// A built-in block kernel.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum ArrayOp {
    Source(Source),
    Elementwise {
        expr: Expr,
    },
    Reduce(ReduceKernel),
    Cum(CumKernel),
    Assemble(Assemble),
    Transpose(Transpose),
    Take(Take),
    Matmul(MatmulKernel),
    NpyRead(NpyRead),
    NpyWrite(NpyWrite),
    /// Waits for its inputs and yields nothing (the end of a store).
    Done,
}

impl SerdeOp for ArrayOp {
    const KIND: &'static str = "dusk.array";
}
register_op!(ArrayOp);

/// The blocks of a task's inputs.
pub(crate) fn blocks(inputs: &[Data]) -> Result<Vec<ArrayBlock>, BoxError> {
    inputs.iter().map(|d| Ok(d.as_array()?.clone())).collect()
}

impl Op for ArrayOp {
    fn name(&self) -> &str {
        match self {
            ArrayOp::Source(s) => s.label(),
            ArrayOp::Elementwise { .. } => "elementwise",
            ArrayOp::Reduce(r) => r.label(),
            ArrayOp::Cum(_) => "cumulative",
            ArrayOp::Assemble(_) => "assemble",
            ArrayOp::Transpose(_) => "transpose",
            ArrayOp::Take(_) => "take",
            ArrayOp::Matmul(_) => "matmul",
            ArrayOp::NpyRead(_) => "from-npy",
            ArrayOp::NpyWrite(_) => "to-npy",
            ArrayOp::Done => "store-done",
        }
    }

    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let out = match self {
            ArrayOp::Source(s) => s.run()?,
            ArrayOp::Elementwise { expr } => expr.eval(&blocks(&inputs)?)?,
            ArrayOp::Reduce(r) => r.run(&blocks(&inputs)?)?,
            ArrayOp::Cum(c) => c.run(&blocks(&inputs)?)?,
            ArrayOp::Assemble(a) => a.run(&blocks(&inputs)?)?,
            ArrayOp::Transpose(t) => t.run(&blocks(&inputs)?)?,
            ArrayOp::Take(t) => t.run(&blocks(&inputs)?)?,
            ArrayOp::Matmul(m) => m.run(&blocks(&inputs)?)?,
            ArrayOp::NpyRead(r) => r.run()?,
            ArrayOp::NpyWrite(w) => return w.run(&inputs),
            ArrayOp::Done => return Ok(Data::local(())),
        };
        Ok(Data::Array(out))
    }

    /// Reading a block from a file is cheaper than keeping it in memory until every user of it
    /// has run (`x + x.T` would otherwise hold half the array): each user reads its own copy.
    fn is_cheap(&self) -> bool {
        matches!(self, ArrayOp::NpyRead(_))
    }

    fn to_wire(&self) -> Result<WireOp, WireError> {
        dusk_core::op::encode_serde(self)
    }
}
