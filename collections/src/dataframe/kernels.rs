//! The partition kernels: the ops that DataFrame tasks run, each delegating to Polars.
//!
//! A kernel receives whole partitions (`Data::Frame`) and returns one. Per-partition steps run
//! as one Polars lazy query per partition (so Polars' own optimizer sees the whole chain);
//! aggregation kernels run the chunk, combine and finish expressions of [`super::agg`].

use std::fmt;
use std::sync::Arc;

use dusk_core::{BoxError, Data, Op};
use polars::prelude::*;

use super::csv::CsvSource;
use super::parquet::ParquetSource;
use super::summary::{self, Summary};
use super::write::{self, WriteTarget};

type CustomFn = dyn Fn(DataFrame) -> PolarsResult<DataFrame> + Send + Sync;

/// One per-partition step.
#[derive(Clone)]
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
    Custom {
        name: String,
        f: Arc<CustomFn>,
    },
}

/// A sort order: columns, a direction for each, where nulls go.
#[derive(Clone, Debug, PartialEq, Hash)]
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
pub(crate) struct ReadCsvOp {
    pub source: Arc<CsvSource>,
    pub block: usize,
    pub columns: Option<Vec<String>>,
    pub predicate: Option<Expr>,
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
}

/// Reads one Parquet row group, keeping `columns` and the rows `predicate` keeps.
pub(crate) struct ReadParquetOp {
    pub source: Arc<ParquetSource>,
    pub piece: usize,
    pub columns: Option<Vec<String>>,
    pub predicate: Option<Expr>,
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
}

/// Writes one partition to its file.
pub(crate) struct WriteOp {
    pub target: Arc<WriteTarget>,
    pub partition: usize,
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
}

/// Concatenates partitions, then runs steps on the result (one level of a `Reduce` tree).
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
}

/// Summarizes numeric columns of one partition (see [`super::summary`]).
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
}

/// What the last summary task produces.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SummaryFinish {
    /// Only merge (an inner level of the tree).
    Merge,
    /// The quantiles `qs` of the single summarized column.
    Quantiles(Vec<f64>),
    /// pandas' `describe()` table.
    Describe,
}

/// Merges summaries; the last level turns them into a frame.
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
}

/// Runs per-partition steps.
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
}

/// Computes partial aggregates of one partition.
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
}

/// Merges partial aggregates; the last level also finishes them and sorts by the keys.
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
}
