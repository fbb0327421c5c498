//! The partition kernels: the ops that DataFrame tasks run, each delegating to Polars.
//!
//! A kernel receives whole partitions (`Data::Frame`) and returns one. Per-partition steps run
//! as one Polars lazy query per partition (so Polars' own optimizer sees the whole chain);
//! aggregation kernels run the chunk, combine and finish expressions of [`super::agg`].
//!
//! Every kernel is a serde value registered as an op kind (`dusk.frame.*`), so the graph of a
//! DataFrame computation can be shipped to the workers of a cluster: Polars expressions travel
//! in Polars' own serde form (both ends run the same build, which the handshake checks), and
//! partitions as Arrow IPC. Only `map_partitions` closures cannot travel; a graph holding one
//! is refused at submit time, naming the task.

use std::fmt;
use std::sync::Arc;

use dusk_core::op::encode_serde;
use dusk_core::{BoxError, Data, Op, SerdeOp, WireError, WireOp};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::csv::CsvSource;
use super::parquet::ParquetSource;
use super::summary::{self, Summary};
use super::write::{self, WriteTarget};

type CustomFn = dyn Fn(DataFrame) -> PolarsResult<DataFrame> + Send + Sync;

/// One per-partition step.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) enum Step {
    Select(Vec<Expr>),
    WithColumns(Vec<Expr>),
    Filter(Expr),
    Rename(Vec<(String, String)>),
    Drop(Vec<String>),
    Head(usize),
    Tail(usize),
    Sort(SortSpec),
    Unique {
        subset: Vec<String>,
        keep_last: bool,
    },
    /// A user closure: runs only in the process that built it.
    #[serde(skip)]
    Custom {
        name: String,
        f: Arc<CustomFn>,
    },
}

/// The wire form of ops holding steps: refused, naming no secret, when a step is a closure.
fn steps_to_wire<T: SerdeOp>(op: &T, steps: &[Step]) -> Result<WireOp, WireError> {
    if steps.iter().any(|s| matches!(s, Step::Custom { .. })) {
        return Err(WireError::Closure);
    }
    encode_serde(op)
}

/// Registers the kernels as op kinds and gives each its serde wire form.
macro_rules! frame_ops {
    ($($ty:ty => $kind:literal),* $(,)?) => {
        $(
            impl dusk_core::SerdeOp for $ty {
                const KIND: &'static str = $kind;
            }
            dusk_core::register_op!($ty);
        )*
    };
}
pub(crate) use frame_ops;

frame_ops! {
    ReadCsvOp => "dusk.frame.read-csv",
    ReadParquetOp => "dusk.frame.read-parquet",
    WriteOp => "dusk.frame.write",
    ConcatStepsOp => "dusk.frame.concat-steps",
    SummarizeOp => "dusk.frame.summarize",
    MergeSummaryOp => "dusk.frame.merge-summary",
    StepsOp => "dusk.frame.steps",
    AggChunkOp => "dusk.frame.aggregate-chunk",
    AggCombineOp => "dusk.frame.aggregate-combine",
}

/// A sort order: columns, a direction for each, where nulls go.
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
pub(crate) struct SortSpec {
    pub by: Vec<String>,
    pub descending: Vec<bool>,
    pub nulls_last: bool,
}

impl Step {
    pub(crate) fn label(&self) -> &str {
        match self {
            Step::Select(_) => "select",
            Step::WithColumns(_) => "with-columns",
            Step::Filter(_) => "filter",
            Step::Rename(_) => "rename",
            Step::Drop(_) => "drop",
            Step::Head(_) => "head",
            Step::Tail(_) => "tail",
            Step::Sort(_) => "sort",
            Step::Unique { .. } => "drop-duplicates",
            Step::Custom { name, .. } => name,
        }
    }
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Select(e) => write!(f, "select({})", join(e)),
            Step::WithColumns(e) => write!(f, "with_columns({})", join(e)),
            Step::Filter(e) => write!(f, "filter({e})"),
            Step::Rename(p) => write!(f, "rename({p:?})"),
            Step::Drop(c) => write!(f, "drop({c:?})"),
            Step::Head(n) => write!(f, "head({n})"),
            Step::Tail(n) => write!(f, "tail({n})"),
            Step::Sort(s) => write!(f, "sort({:?}, descending {:?})", s.by, s.descending),
            Step::Unique { subset, keep_last } => {
                write!(f, "drop_duplicates({subset:?}, keep_last {keep_last})")
            }
            Step::Custom { name, f: func } => {
                write!(f, "map_partitions({name} @ {:p})", Arc::as_ptr(func))
            }
        }
    }
}

pub(crate) fn join(exprs: &[Expr]) -> String {
    exprs
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Applies steps to one frame.
pub(crate) fn apply_steps(df: DataFrame, steps: &[Step]) -> PolarsResult<DataFrame> {
    let mut lazy = df.lazy();
    for step in steps {
        lazy = match step {
            Step::Select(e) => lazy.select(e),
            Step::WithColumns(e) => lazy.with_columns(e),
            Step::Filter(e) => lazy.filter(e.clone()),
            Step::Rename(pairs) => lazy.rename(
                pairs.iter().map(|(a, _)| a.as_str()),
                pairs.iter().map(|(_, b)| b.as_str()),
                true,
            ),
            Step::Drop(cols) => lazy.drop(cols_selector(cols)),
            Step::Head(n) => lazy.limit(*n as IdxSize),
            Step::Tail(n) => lazy.tail(*n as IdxSize),
            Step::Sort(spec) => lazy.sort(
                spec.by.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                SortMultipleOptions::default()
                    .with_order_descending_multi(spec.descending.clone())
                    .with_nulls_last(spec.nulls_last)
                    .with_maintain_order(true),
            ),
            Step::Unique { subset, keep_last } => lazy.unique_stable(
                Some(cols_selector(subset)),
                if *keep_last {
                    UniqueKeepStrategy::Last
                } else {
                    UniqueKeepStrategy::First
                },
            ),
            Step::Custom { f, .. } => f(lazy.collect()?)?.lazy(),
        };
    }
    lazy.collect()
}

fn cols_selector(cols: &[String]) -> Selector {
    Selector::ByName {
        names: cols.iter().map(|c| PlSmallStr::from(c.as_str())).collect(),
        strict: true,
    }
}

/// Stacks frames of one schema vertically (chunks are appended, not copied).
pub(crate) fn concat_frames(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut iter = frames.into_iter();
    let Some(mut out) = iter.next() else {
        return Ok(DataFrame::empty());
    };
    for df in iter {
        out.vstack_mut(&df)?;
    }
    Ok(out)
}

fn frame(data: &Data) -> Result<DataFrame, BoxError> {
    Ok(data.as_frame()?.clone())
}

/// Reads one CSV block, keeping `columns` and, when pushed down, the rows `predicate` keeps.
///
/// On the wire it carries only its own block, not the whole source's list.
#[derive(Clone, Serialize, Deserialize)]
#[serde(into = "ReadCsvWire", from = "ReadCsvWire")]
pub(crate) struct ReadCsvOp {
    pub source: Arc<CsvSource>,
    pub block: usize,
    pub columns: Option<Vec<String>>,
    pub predicate: Option<Expr>,
}

#[derive(Serialize, Deserialize)]
struct ReadCsvWire {
    source: CsvSource,
    columns: Option<Vec<String>>,
    predicate: Option<Expr>,
}

impl From<ReadCsvOp> for ReadCsvWire {
    fn from(op: ReadCsvOp) -> Self {
        let blocks = op
            .source
            .blocks
            .get(op.block)
            .cloned()
            .into_iter()
            .collect();
        ReadCsvWire {
            source: CsvSource {
                blocks,
                file_schema: op.source.file_schema.clone(),
                options: op.source.options.clone(),
                token: op.source.token.clone(),
            },
            columns: op.columns,
            predicate: op.predicate,
        }
    }
}

impl From<ReadCsvWire> for ReadCsvOp {
    fn from(w: ReadCsvWire) -> Self {
        ReadCsvOp {
            source: Arc::new(w.source),
            block: 0,
            columns: w.columns,
            predicate: w.predicate,
        }
    }
}

/// Applies a pushed-down predicate right after a partition is parsed.
fn keep_rows(df: DataFrame, predicate: &Option<Expr>) -> PolarsResult<DataFrame> {
    match predicate {
        Some(p) => df.lazy().filter(p.clone()).collect(),
        None => Ok(df),
    }
}

impl Op for ReadCsvOp {
    fn name(&self) -> &str {
        "read-csv"
    }
    fn run(&self, _inputs: Vec<Data>) -> Result<Data, BoxError> {
        let block = &self.source.blocks[self.block];
        let df = super::csv::read_block(
            &self.source.file_schema,
            &self.source.options,
            block,
            self.columns.as_deref(),
        )?;
        Ok(Data::Frame(keep_rows(df, &self.predicate)?))
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}

/// Reads one Parquet row group, keeping `columns` and the rows `predicate` keeps.
///
/// On the wire it carries only its own row group.
#[derive(Clone, Serialize, Deserialize)]
#[serde(into = "ReadParquetWire", from = "ReadParquetWire")]
pub(crate) struct ReadParquetOp {
    pub source: Arc<ParquetSource>,
    pub piece: usize,
    pub columns: Option<Vec<String>>,
    pub predicate: Option<Expr>,
}

#[derive(Serialize, Deserialize)]
struct ReadParquetWire {
    source: ParquetSource,
    columns: Option<Vec<String>>,
    predicate: Option<Expr>,
}

impl From<ReadParquetOp> for ReadParquetWire {
    fn from(op: ReadParquetOp) -> Self {
        ReadParquetWire {
            source: ParquetSource {
                pieces: op
                    .source
                    .pieces
                    .get(op.piece)
                    .cloned()
                    .into_iter()
                    .collect(),
                schema: op.source.schema.clone(),
            },
            columns: op.columns,
            predicate: op.predicate,
        }
    }
}

impl From<ReadParquetWire> for ReadParquetOp {
    fn from(w: ReadParquetWire) -> Self {
        ReadParquetOp {
            source: Arc::new(w.source),
            piece: 0,
            columns: w.columns,
            predicate: w.predicate,
        }
    }
}

impl Op for ReadParquetOp {
    fn name(&self) -> &str {
        "read-parquet"
    }
    fn run(&self, _inputs: Vec<Data>) -> Result<Data, BoxError> {
        let piece = &self.source.pieces[self.piece];
        let df = super::parquet::read_piece(&self.source, piece, self.columns.as_deref())?;
        Ok(Data::Frame(keep_rows(df, &self.predicate)?))
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}

/// Writes one partition to its file (on the wire: only its own path).
#[derive(Clone, Serialize, Deserialize)]
#[serde(into = "WriteWire", from = "WriteWire")]
pub(crate) struct WriteOp {
    pub target: Arc<WriteTarget>,
    pub partition: usize,
}

#[derive(Serialize, Deserialize)]
struct WriteWire {
    target: WriteTarget,
}

impl From<WriteOp> for WriteWire {
    fn from(op: WriteOp) -> Self {
        WriteWire {
            target: WriteTarget {
                format: op.target.format,
                paths: op
                    .target
                    .paths
                    .get(op.partition)
                    .cloned()
                    .into_iter()
                    .collect(),
            },
        }
    }
}

impl From<WriteWire> for WriteOp {
    fn from(w: WriteWire) -> Self {
        WriteOp {
            target: Arc::new(w.target),
            partition: 0,
        }
    }
}

impl Op for WriteOp {
    fn name(&self) -> &str {
        "write"
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let df = frame(&inputs[0])?;
        let path = &self.target.paths[self.partition];
        Ok(Data::Frame(write::write_partition(
            df,
            self.target.format,
            path,
        )?))
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}

/// Concatenates partitions, then runs steps on the result (one level of a `Reduce` tree).
#[derive(Serialize, Deserialize)]
pub(crate) struct ConcatStepsOp {
    pub steps: Vec<Step>,
    pub name: String,
}

impl Op for ConcatStepsOp {
    fn name(&self) -> &str {
        &self.name
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let frames = inputs.iter().map(frame).collect::<Result<Vec<_>, _>>()?;
        Ok(Data::Frame(apply_steps(
            concat_frames(frames)?,
            &self.steps,
        )?))
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        steps_to_wire(self, &self.steps)
    }
}

/// Summarizes numeric columns of one partition (see [`super::summary`]).
#[derive(Serialize, Deserialize)]
pub(crate) struct SummarizeOp {
    pub columns: Vec<String>,
}

impl Op for SummarizeOp {
    fn name(&self) -> &str {
        "summarize"
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let df = frame(&inputs[0])?;
        Ok(Data::encode(&summary::summarize(&df, &self.columns)?)?)
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}

/// What the last summary task produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum SummaryFinish {
    /// Only merge (an inner level of the tree).
    Merge,
    /// The quantiles `qs` of the single summarized column.
    Quantiles(Vec<f64>),
    /// pandas' `describe()` table.
    Describe,
}

/// Merges summaries; the last level turns them into a frame.
#[derive(Serialize, Deserialize)]
pub(crate) struct MergeSummaryOp {
    pub columns: Vec<String>,
    pub finish: SummaryFinish,
}

impl Op for MergeSummaryOp {
    fn name(&self) -> &str {
        match self.finish {
            SummaryFinish::Merge => "summary-merge",
            SummaryFinish::Quantiles(_) => "quantile",
            SummaryFinish::Describe => "describe",
        }
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let parts = inputs
            .iter()
            .map(|d| d.decode::<Vec<Summary>>())
            .collect::<Result<Vec<_>, _>>()?;
        let mut merged = summary::merge_all(parts);
        if merged.len() < self.columns.len() {
            merged.resize(self.columns.len(), Summary::default());
        }
        Ok(match &self.finish {
            SummaryFinish::Merge => Data::encode(&merged)?,
            SummaryFinish::Quantiles(qs) => {
                Data::Frame(summary::quantile_frame(&self.columns[0], qs, &merged[0])?)
            }
            SummaryFinish::Describe => {
                Data::Frame(summary::describe_frame(&self.columns, &merged)?)
            }
        })
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}

/// Runs per-partition steps.
#[derive(Serialize, Deserialize)]
pub(crate) struct StepsOp {
    pub steps: Vec<Step>,
    pub name: String,
}

impl Op for StepsOp {
    fn name(&self) -> &str {
        &self.name
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let df = frame(&inputs[0])?;
        Ok(Data::Frame(apply_steps(df, &self.steps)?))
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        steps_to_wire(self, &self.steps)
    }
}

/// Computes partial aggregates of one partition.
#[derive(Serialize, Deserialize)]
pub(crate) struct AggChunkOp {
    pub keys: Vec<String>,
    pub exprs: Vec<Expr>,
}

fn aggregate(df: DataFrame, keys: &[String], exprs: &[Expr]) -> PolarsResult<DataFrame> {
    if keys.is_empty() {
        df.lazy().select(exprs).collect()
    } else {
        let by: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
        df.lazy().group_by(by).agg(exprs).collect()
    }
}

impl Op for AggChunkOp {
    fn name(&self) -> &str {
        "aggregate-chunk"
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        Ok(Data::Frame(aggregate(
            frame(&inputs[0])?,
            &self.keys,
            &self.exprs,
        )?))
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}

/// Merges partial aggregates; the last level also finishes them and sorts by the keys.
#[derive(Serialize, Deserialize)]
pub(crate) struct AggCombineOp {
    pub keys: Vec<String>,
    pub exprs: Vec<Expr>,
    pub finish: Option<Vec<Expr>>,
}

impl Op for AggCombineOp {
    fn name(&self) -> &str {
        if self.finish.is_some() {
            "aggregate"
        } else {
            "aggregate-combine"
        }
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let frames = inputs.iter().map(frame).collect::<Result<Vec<_>, _>>()?;
        let all = concat_frames(frames)?;
        let combined = aggregate(all, &self.keys, &self.exprs)?;
        let Some(finish) = &self.finish else {
            return Ok(Data::Frame(combined));
        };
        let mut out: Vec<Expr> = self.keys.iter().map(|k| col(k.as_str())).collect();
        out.extend(finish.iter().cloned());
        let mut lazy = combined.lazy().select(out);
        if !self.keys.is_empty() {
            let by: Vec<PlSmallStr> = self.keys.iter().map(|k| k.as_str().into()).collect();
            lazy = lazy.sort(by, SortMultipleOptions::default().with_nulls_last(true));
        }
        Ok(Data::Frame(lazy.collect()?))
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}
