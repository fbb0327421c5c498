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
    Custom { name: String, f: Arc<CustomFn> },
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

/// Reads one CSV block, keeping `columns`.
pub(crate) struct ReadCsvOp {
    pub source: Arc<CsvSource>,
    pub block: usize,
    pub columns: Option<Vec<String>>,
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
        Ok(Data::Frame(df))
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
