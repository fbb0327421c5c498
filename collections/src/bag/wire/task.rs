//! Bag tasks as ops: run locally from closures, described as data for a cluster.
//!
//! A bag task built on the client is a [`BagOp`]: it runs the closure it was built with (no
//! overhead on the local schedulers) and knows how to describe itself as a [`BagTask`] — the
//! item type, the stream spec of its partition and the built-in work — when the graph is sent
//! to a cluster. A worker decodes the [`BagTask`] (a registered op) and runs it through the
//! same code for the same item type. A task whose stream holds a closure, or whose items
//! cannot travel, refuses to be described, and the error names the task.

use std::path::PathBuf;
use std::sync::Arc;

use dusk_core::op::encode_serde;
use dusk_core::{register_op, BoxError, Data, Op, SerdeOp, WireError, WireOp};
use serde::{Deserialize, Serialize};

use super::items::{with_item_type, ItemType, WireItem};
use super::spec::{build, StreamSpec};
use super::values::{revive, sendable};
use crate::bag::reduce::take_items;
use crate::bag::stream::{collect_partition, input, Stream};
use crate::bag::to_frame::partition_frame;
use crate::bag::tree::{Reduction, TreeOps};

/// The work of a bag task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Work {
    /// The partition's items as a `Vec`.
    Collect { stream: StreamSpec, part: u32 },
    /// The partition's partial result of a reduction.
    Partial {
        stream: StreamSpec,
        part: u32,
        reduction: Reduction,
    },
    /// Partial results merged into one.
    Combine(Reduction),
    /// Partial results merged, and the reduction's result made.
    Finish(Reduction),
    /// The first `n` items of the partitions, in order: each partition's stream, its
    /// number, and how many of the task's inputs are its.
    Take {
        parts: Vec<(StreamSpec, u64, u64)>,
        n: u64,
    },
    /// The partition's items written to `path`, one per line; yields the path.
    WriteText {
        stream: StreamSpec,
        part: u32,
        path: PathBuf,
    },
    /// The paths the inputs hold, as one list.
    Paths,
    /// The partition's items as a DataFrame of `schema` (`to_dataframe`).
    ToFrame {
        stream: StreamSpec,
        part: u32,
        schema: polars::prelude::Schema,
    },
}

/// A bag task in its wire form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct BagTask {
    label: String,
    item: ItemType,
    work: Work,
}

impl SerdeOp for BagTask {
    const KIND: &'static str = "dusk.bag.task";
}

impl Op for BagTask {
    fn name(&self) -> &str {
        &self.label
    }

    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let inputs = inputs
            .into_iter()
            .map(revive)
            .collect::<Result<Vec<Data>, _>>()?;
        with_item_type!(self.item, T => self.run_as::<T>(inputs))
    }

    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}

register_op!(BagTask);

impl BagTask {
    fn run_as<T: WireItem>(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        match &self.work {
            Work::Collect { stream, part } => {
                collect_partition(build::<T>(stream)?.as_ref(), *part as usize, &inputs)
            }
            Work::Partial {
                stream,
                part,
                reduction,
            } => reducer::<T>(reduction)?.partial(
                build::<T>(stream)?.as_ref(),
                *part as usize,
                &inputs,
            ),
            Work::Combine(r) => reducer::<T>(r)?.combine(inputs),
            Work::Finish(r) => reducer::<T>(r)?.finish(inputs),
            Work::Take { parts, n } => {
                let built = parts
                    .iter()
                    .map(|(spec, part, size)| {
                        Ok((build::<T>(spec)?, *part as usize, *size as usize))
                    })
                    .collect::<Result<Vec<_>, BoxError>>()?;
                let parts: Vec<(&dyn Stream<T>, usize, usize)> = built
                    .iter()
                    .map(|(s, part, size)| (s.as_ref(), *part, *size))
                    .collect();
                let n = usize::try_from(*n).unwrap_or(usize::MAX);
                Ok(sendable(take_items(&parts, &inputs, n)?, 0))
            }
            Work::WriteText { stream, part, path } => {
                T::write_text(build::<T>(stream)?.as_ref(), *part as usize, &inputs, path)?;
                Ok(sendable(path.clone(), 0))
            }
            Work::Paths => collect_paths(&inputs),
            Work::ToFrame {
                stream,
                part,
                schema,
            } => partition_frame(
                build::<T>(stream)?.as_ref(),
                *part as usize,
                &inputs,
                &Arc::new(schema.clone()),
            ),
        }
    }
}

/// The paths held by `inputs`, in order (the result of `to_textfiles`).
pub(crate) fn collect_paths(inputs: &[Data]) -> Result<Data, BoxError> {
    let mut out = Vec::with_capacity(inputs.len());
    for i in 0..inputs.len() {
        out.push(input(inputs, i)?.downcast_ref::<PathBuf>()?.clone());
    }
    Ok(sendable(out, 0))
}

fn reducer<T: WireItem>(r: &Reduction) -> Result<Arc<dyn TreeOps<T>>, BoxError> {
    T::reduction(r).ok_or_else(|| {
        format!(
            "the reduction {r:?} is not available for bags of {}",
            std::any::type_name::<T>()
        )
        .into()
    })
}

/// The description of a task doing `work` over items of type `T`; fails if `T` cannot travel.
pub(crate) fn describe<T: 'static>(label: &str, work: Work) -> Result<BagTask, WireError> {
    let item = ItemType::of::<T>().ok_or_else(|| {
        WireError::Codec(format!(
            "bags of `{}` run on the local schedulers only; on a cluster, bag items must be \
             String, serde_json::Value, Line, u64, i64, f64, bool or (item, u64) pairs of these",
            std::any::type_name::<T>()
        ))
    })?;
    Ok(BagTask {
        label: label.to_string(),
        item,
        work,
    })
}

/// The description of a task doing `work` over partition `part` of `stream`.
pub(crate) fn describe_partition<T: 'static>(
    label: &str,
    stream: &dyn Stream<T>,
    part: usize,
    work: impl FnOnce(StreamSpec, u32) -> Work,
) -> Result<BagTask, WireError> {
    let spec = stream.spec(part)?;
    let part = u32::try_from(part).map_err(|_| WireError::Codec("too many partitions".into()))?;
    describe::<T>(label, work(spec, part))
}

type RunFn = dyn Fn(Vec<Data>) -> Result<Data, BoxError> + Send + Sync;
type DescribeFn = dyn Fn() -> Result<BagTask, WireError> + Send + Sync;

/// A bag task as the client builds it: a closure to run, and its description for the wire.
pub(crate) struct BagOp {
    label: String,
    run: Box<RunFn>,
    describe: Box<DescribeFn>,
}

impl BagOp {
    /// A task labelled `label` running `run`, described by `describe` when sent.
    pub(crate) fn new(
        label: impl Into<String>,
        run: impl Fn(Vec<Data>) -> Result<Data, BoxError> + Send + Sync + 'static,
        describe: impl Fn() -> Result<BagTask, WireError> + Send + Sync + 'static,
    ) -> BagOp {
        BagOp {
            label: label.into(),
            run: Box::new(run),
            describe: Box::new(describe),
        }
    }
}

impl Op for BagOp {
    fn name(&self) -> &str {
        &self.label
    }

    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        (self.run)(inputs)
    }

    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(&(self.describe)()?)
    }
}
