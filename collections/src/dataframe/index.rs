//! An index with divisions: `set_index`, `loc`, and joins aligned on the index.
//!
//! Polars frames have no row index, so a dusk "index" is a column the frame is range-partitioned
//! by. Like Dask, the frame records its **divisions** `d_0 ≤ d_1 < … < d_n`: partition `i` holds
//! the rows whose index value `v` has `d_i ≤ v < d_(i+1)`, the last partition `d_(n-1) ≤ v ≤ d_n`.
//! Divisions say which partition holds which values; `set_index` also sorts each partition by
//! the index, an order that filters keep but joins need not. Later operations read the
//! divisions while the expression is built:
//!
//! - [`DataFrame::loc`] and [`DataFrame::loc_range`] read only the partitions whose divisions can
//!   hold the values asked for;
//! - a join of two frames on their index columns runs partition by partition, without a
//!   shuffle; when the divisions differ, both sides are first cut to the union of the two
//!   (Dask's `align_partitions`), which slices partitions by value and moves no row between
//!   unrelated partitions.
//!
//! **When divisions are computed.** As in Dask, [`DataFrame::set_index`] runs a quantile pass
//! over the data when it is called (in the calling thread; the pass reads only the index
//! column and keeps a bounded sketch per partition), so that divisions are known while later
//! expressions are built. To run that pass elsewhere (on a cluster, or on the threaded
//! scheduler), compute [`DataFrame::divisions_for`] yourself and pass its result to
//! [`DataFrame::set_index_with_divisions`], which reads no data. [`DataFrame::set_index_sorted`]
//! (Dask's `sorted=True`) trusts that the partitions are already in index order, reads the
//! minimum and maximum of each partition, and moves no row.
//!
//! **Nulls** (and NaN in a float index) are outside every division: `set_index` puts them in
//! the last partition, sorted after the values; `set_index_sorted` leaves them where they are.
//! `loc` never returns them and they never match in joins.
//!
//! **Index types.** Integer and temporal columns (compared on their physical integer: days for
//! `Date`, the time unit for `Datetime`), float columns, and — with given divisions or
//! `set_index_sorted` — string columns.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use dusk_core::op::encode_serde;
use dusk_core::{BoxError, Data, Graph, Op, Tokenizer, WireError, WireOp};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::kernels::{concat_frames, SortSpec, Step};
use super::plan::{Frame, Node};
use super::scalar::Scalar;
use super::shuffle::{hand_on_split, Radix, Spill};
use super::summary::Summary;
use super::{DataFrame, FrameError};

/// One value of an index column: a division, or a key to look up with [`DataFrame::loc`].
///
/// Integer and temporal index columns take [`IndexValue::Int`] (temporal ones on their
/// physical integer); float columns take [`IndexValue::Float`] or `Int`; string columns take
/// [`IndexValue::Str`].
///
/// ```
/// use dusk_collections::dataframe::IndexValue;
/// assert_eq!(IndexValue::from(3), IndexValue::Int(3));
/// assert_eq!(IndexValue::from("x"), IndexValue::Str("x".into()));
/// assert_eq!(IndexValue::from(2.5).to_string(), "2.5");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum IndexValue {
    /// An integer (or the physical integer of a date or time).
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
}

impl fmt::Display for IndexValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexValue::Int(v) => write!(f, "{v}"),
            IndexValue::Float(v) => write!(f, "{v}"),
            IndexValue::Str(v) => write!(f, "{v:?}"),
        }
    }
}

macro_rules! index_value_from {
    ($variant:ident: $($t:ty),*) => {
        $(impl From<$t> for IndexValue {
            fn from(v: $t) -> Self {
                IndexValue::$variant(v.into())
            }
        })*
    };
}
index_value_from!(Int: i8, i16, i32, i64, u8, u16, u32);
index_value_from!(Float: f32, f64);
index_value_from!(Str: &str, String);

/// How an index column's values compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum Kind {
    Int,
    Float,
    Str,
}

impl Kind {
    /// The kind of an index column of this type, if it can be one.
    pub(crate) fn of(dtype: &DataType) -> Option<Kind> {
        if dtype.is_integer() || dtype.is_temporal() {
            Some(Kind::Int)
        } else if dtype.is_float() {
            Some(Kind::Float)
        } else if matches!(dtype, DataType::String) {
            Some(Kind::Str)
        } else {
            None
        }
    }

    /// `value` as a value of this kind (an integer is also a float), or `None`.
    fn coerce(self, value: IndexValue) -> Option<IndexValue> {
        match (self, value) {
            (Kind::Int, v @ IndexValue::Int(_)) => Some(v),
            (Kind::Float, IndexValue::Int(v)) => Some(IndexValue::Float(v as f64)),
            (Kind::Float, IndexValue::Float(v)) if !v.is_nan() => Some(IndexValue::Float(v)),
            (Kind::Str, v @ IndexValue::Str(_)) => Some(v),
            _ => None,
        }
    }

    /// The Polars type values of this kind are compared in.
    fn dtype(self) -> DataType {
        match self {
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Str => DataType::String,
        }
    }

    /// The expression reading an index column as values of this kind.
    fn expr(self, column: &str) -> Expr {
        match self {
            Kind::Int => col(column).to_physical().cast(DataType::Int64),
            _ => col(column).cast(self.dtype()),
        }
    }

    fn literal(self, value: &IndexValue) -> Expr {
        match value {
            IndexValue::Int(v) if self == Kind::Float => lit(*v as f64),
            IndexValue::Int(v) => lit(*v),
            IndexValue::Float(v) => lit(*v),
            IndexValue::Str(v) => lit(v.clone()),
        }
    }
}

/// Orders two values of one kind (floats by total order).
pub(crate) fn compare(a: &IndexValue, b: &IndexValue) -> Ordering {
    match (a, b) {
        (IndexValue::Int(x), IndexValue::Int(y)) => x.cmp(y),
        (IndexValue::Float(x), IndexValue::Float(y)) => x.total_cmp(y),
        (IndexValue::Int(x), IndexValue::Float(y)) => (*x as f64).total_cmp(y),
        (IndexValue::Float(x), IndexValue::Int(y)) => x.total_cmp(&(*y as f64)),
        (IndexValue::Str(x), IndexValue::Str(y)) => x.cmp(y),
        // Different kinds never meet: values are coerced to the index's kind first.
        (IndexValue::Str(_), _) => Ordering::Greater,
        (_, IndexValue::Str(_)) => Ordering::Less,
    }
}

/// The values of an index column as values of `kind`; nulls (and NaN) are `None`.
fn values(column: &Column, kind: Kind) -> PolarsResult<Vec<Option<IndexValue>>> {
    let physical = column.to_physical_repr();
    let cast = physical.cast(&kind.dtype())?;
    Ok(match kind {
        Kind::Int => cast.i64()?.iter().map(|v| v.map(IndexValue::Int)).collect(),
        Kind::Float => cast
            .f64()?
            .iter()
            .map(|v| v.filter(|v| !v.is_nan()).map(IndexValue::Float))
            .collect(),
        Kind::Str => cast
            .str()?
            .iter()
            .map(|v| v.map(|s| IndexValue::Str(s.to_string())))
            .collect(),
    })
}

/// The partition that holds `v` under `divisions` (values below or above them go to the
/// first or last partition).
pub(crate) fn partition_of(divisions: &[IndexValue], v: &IndexValue) -> usize {
    if divisions.len() < 3 {
        return 0;
    }
    divisions[1..divisions.len() - 1].partition_point(|d| compare(d, v) != Ordering::Greater)
}

/// What is known about a frame's index: its column, how its values compare, and (when known)
/// its divisions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct IndexSpec {
    pub column: String,
    pub kind: Kind,
    pub divisions: Option<Vec<IndexValue>>,
}

/// How `set_index` lays its rows out.
pub(crate) enum IndexLayout {
    /// Range-shuffled on the divisions.
    Shuffle(super::ShuffleMethod),
    /// Already in index order: output partition `j` concatenates these input partitions.
    Groups(Vec<Vec<usize>>),
}

/// The index of a frame, when one is known: set by `set_index`, kept by per-partition steps
/// that keep every row in its partition and leave the index column alone, sliced by `loc`,
/// and carried by joins on the index.
pub(crate) fn index_of(frame: &Frame) -> Option<IndexSpec> {
    match &frame.node {
        Node::SetIndex { index, .. } | Node::Align { index, .. } => Some((**index).clone()),
        Node::Join {
            left,
            spec,
            layout: super::plan::JoinLayout::Divisions,
            ..
        } if spec.how != super::JoinHow::Right => index_of(left),
        Node::Partitions { input, range } => {
            let mut index = index_of(input)?;
            index.divisions = index
                .divisions
                .and_then(|d| d.get(range.start..=range.end).map(|s| s.to_vec()));
            Some(index)
        }
        Node::Map { input, step } => {
            let index = index_of(input)?;
            let key = index.column.as_str();
            let keeps = match step {
                Step::Filter(_) | Step::Sort(_) | Step::Unique { .. } => true,
                Step::Head(_) | Step::Tail(_) => true,
                Step::WithColumns(exprs) => !exprs.iter().any(|e| {
                    e.to_field(&input.schema)
                        .is_ok_and(|f| f.name().as_str() == key)
                }),
                Step::Select(exprs) => exprs
                    .iter()
                    .any(|e| matches!(e, Expr::Column(name) if name.as_str() == key)),
                Step::Drop(cols) => !cols.iter().any(|c| c == key),
                Step::Rename(_) | Step::Custom { .. } => false,
            };
            keeps.then_some(index)
        }
        _ => None,
    }
}

/// What one partition's index column looks like: a quantile sketch (numeric kinds), its
/// least and greatest value, its row and null counts.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct IndexSketch {
    pub summary: Option<Summary>,
    pub min: Option<IndexValue>,
    pub max: Option<IndexValue>,
    pub rows: u64,
}

impl IndexSketch {
    fn of(df: &polars::prelude::DataFrame, column: &str, kind: Kind) -> PolarsResult<Self> {
        let c = df.column(column)?;
        let mut min: Option<IndexValue> = None;
        let mut max: Option<IndexValue> = None;
        for v in values(c, kind)?.into_iter().flatten() {
            if min
                .as_ref()
                .is_none_or(|m| compare(&v, m) == Ordering::Less)
            {
                min = Some(v.clone());
            }
            if max
                .as_ref()
                .is_none_or(|m| compare(&v, m) == Ordering::Greater)
            {
                max = Some(v);
            }
        }
        let summary = match kind {
            Kind::Str => None,
            _ => Some(Summary::of(&c.to_physical_repr())?),
        };
        Ok(IndexSketch {
            summary,
            min,
            max,
            rows: df.height() as u64,
        })
    }

    fn merge(parts: Vec<IndexSketch>) -> IndexSketch {
        let mut out = IndexSketch::default();
        let mut summaries = Vec::new();
        for p in parts {
            out.rows += p.rows;
            if let Some(s) = p.summary {
                summaries.push(s);
            }
            if let Some(v) = p.min {
                if out
                    .min
                    .as_ref()
                    .is_none_or(|m| compare(&v, m) == Ordering::Less)
                {
                    out.min = Some(v);
                }
            }
            if let Some(v) = p.max {
                if out
                    .max
                    .as_ref()
                    .is_none_or(|m| compare(&v, m) == Ordering::Greater)
                {
                    out.max = Some(v);
                }
            }
        }
        out.summary = (!summaries.is_empty()).then(|| Summary::merge(summaries));
        out
    }

    /// Divisions for `n` partitions of about equal row counts: the exact least and greatest
    /// values around the approximate `i/n` quantiles, repeated values dropped (a value holding
    /// many rows fills one partition). Empty when there are no values.
    fn divisions(&self, kind: Kind, n: usize) -> Vec<IndexValue> {
        let (Some(min), Some(max)) = (self.min.clone(), self.max.clone()) else {
            return Vec::new();
        };
        let mut out = vec![min.clone()];
        if let Some(summary) = &self.summary {
            for i in 1..n.max(1) {
                let Some(q) = summary.quantile(i as f64 / n as f64) else {
                    continue;
                };
                let v = match kind {
                    // A boundary that is a value of the column: the next integer up.
                    Kind::Int => IndexValue::Int(q.ceil() as i64),
                    _ => IndexValue::Float(q),
                };
                let v = if compare(&v, &min) == Ordering::Less {
                    min.clone()
                } else if compare(&v, &max) == Ordering::Greater {
                    max.clone()
                } else {
                    v
                };
                out.push(v);
            }
        }
        out.push(max);
        out.dedup_by(|a, b| compare(a, b) == Ordering::Equal);
        if out.len() == 1 {
            out.push(out[0].clone());
        }
        out
    }
}

/// Sketches the index column of one partition.
#[derive(Serialize, Deserialize)]
pub(crate) struct IndexSketchOp {
    pub column: String,
    pub kind: Kind,
}

impl Op for IndexSketchOp {
    fn name(&self) -> &str {
        "index-sketch"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let df = inputs[0].as_frame()?;
        Ok(Data::encode(&IndexSketch::of(
            df,
            &self.column,
            self.kind,
        )?)?)
    }
}

/// Merges index sketches; the last one (`finish`: the partition count) yields the divisions
/// as a one-column frame.
#[derive(Serialize, Deserialize)]
pub(crate) struct MergeIndexSketchOp {
    pub kind: Kind,
    pub finish: Option<usize>,
}

impl Op for MergeIndexSketchOp {
    fn name(&self) -> &str {
        if self.finish.is_some() {
            "divisions"
        } else {
            "index-sketch-merge"
        }
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let parts = inputs
            .iter()
            .map(|d| d.decode::<IndexSketch>())
            .collect::<Result<Vec<_>, _>>()?;
        let merged = IndexSketch::merge(parts);
        let Some(n) = self.finish else {
            return Ok(Data::encode(&merged)?);
        };
        Ok(Data::Frame(divisions_frame(
            self.kind,
            &merged.divisions(self.kind, n),
        )?))
    }
}

/// Divisions as a one-column frame `divisions`.
fn divisions_frame(
    kind: Kind,
    divisions: &[IndexValue],
) -> PolarsResult<polars::prelude::DataFrame> {
    let column = match kind {
        Kind::Int => Column::new(
            "divisions".into(),
            divisions
                .iter()
                .map(|v| match v {
                    IndexValue::Int(v) => Some(*v),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
        Kind::Float => Column::new(
            "divisions".into(),
            divisions
                .iter()
                .map(|v| match v {
                    IndexValue::Float(v) => Some(*v),
                    IndexValue::Int(v) => Some(*v as f64),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
        Kind::Str => Column::new(
            "divisions".into(),
            divisions
                .iter()
                .map(|v| match v {
                    IndexValue::Str(v) => Some(v.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
    };
    polars::prelude::DataFrame::new_infer_height(vec![column])
}

/// Reads divisions back from [`divisions_frame`].
fn divisions_from_frame(df: &polars::prelude::DataFrame) -> Result<Vec<IndexValue>, FrameError> {
    let c = df
        .column("divisions")
        .map_err(|e| FrameError::polars("read divisions", e))?;
    let kind = Kind::of(c.dtype()).ok_or_else(|| {
        FrameError::Unsupported(format!("divisions of type {} cannot be read", c.dtype()))
    })?;
    let vals = values(c, kind).map_err(|e| FrameError::polars("read divisions", e))?;
    Ok(vals.into_iter().flatten().collect())
}

/// Splits one partition into pieces by the divisions: nulls (and NaN) go to the last piece;
/// a value outside the divisions is an error (the divisions would not hold).
#[derive(Serialize, Deserialize)]
pub(crate) struct DivisionSplitOp {
    pub column: String,
    pub kind: Kind,
    pub divisions: Arc<Vec<IndexValue>>,
    pub radix: Radix,
    pub index: usize,
    pub spill: Option<Spill>,
}

impl Op for DivisionSplitOp {
    fn name(&self) -> &str {
        "set-index-split"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let df = inputs[0].as_frame()?;
        let d = self.divisions.as_slice();
        let n = d.len().saturating_sub(1).max(1);
        let (Some(first), Some(last)) = (d.first(), d.last()) else {
            return Err("set_index: no divisions".into());
        };
        let mut buckets = Vec::with_capacity(df.height());
        for v in values(df.column(self.column.as_str())?, self.kind)? {
            let b = match v {
                None => n - 1,
                Some(v) => {
                    if compare(&v, first) == Ordering::Less
                        || compare(&v, last) == Ordering::Greater
                    {
                        return Err(format!(
                            "set_index: value {v} of `{}` is outside the divisions [{first}, \
                             {last}]",
                            self.column
                        )
                        .into());
                    }
                    partition_of(d, &v)
                }
            };
            buckets.push(b as u32);
        }
        let bucket_of = |row: usize| buckets[row];
        hand_on_split(df, n, bucket_of, self.radix, &self.spill, self.index)
    }
}

/// One partition cut to new divisions: the rows of the inputs whose index value lies in
/// `[lo, hi)` (`[lo, hi]` when `closed`), plus the null-index rows of the inputs marked in
/// `keep_nulls` (each input's nulls go to exactly one output).
#[derive(Serialize, Deserialize)]
pub(crate) struct DivisionSliceOp {
    pub column: String,
    pub kind: Kind,
    pub lo: IndexValue,
    pub hi: IndexValue,
    pub closed: bool,
    pub keep_nulls: Vec<bool>,
    /// The schema of an output no input reaches.
    pub schema: SchemaRef,
}

impl Op for DivisionSliceOp {
    fn name(&self) -> &str {
        "align-divisions"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let mut frames = Vec::with_capacity(inputs.len());
        for (i, d) in inputs.iter().enumerate() {
            let df = d.as_frame()?;
            let keep_nulls = self.keep_nulls.get(i).copied().unwrap_or(false);
            let mask: BooleanChunked = values(df.column(self.column.as_str())?, self.kind)?
                .iter()
                .map(|v| match v {
                    None => keep_nulls,
                    Some(v) => {
                        compare(v, &self.lo) != Ordering::Less
                            && match compare(v, &self.hi) {
                                Ordering::Less => true,
                                Ordering::Equal => self.closed,
                                Ordering::Greater => false,
                            }
                    }
                })
                .collect();
            frames.push(df.filter(&mask)?);
        }
        if frames.is_empty() {
            return Ok(Data::Frame(polars::prelude::DataFrame::empty_with_schema(
                &self.schema,
            )));
        }
        Ok(Data::Frame(concat_frames(frames)?))
    }
}

super::kernels::frame_ops! {
    IndexSketchOp => "dusk.frame.index-sketch",
    MergeIndexSketchOp => "dusk.frame.index-sketch-merge",
    DivisionSplitOp => "dusk.frame.division-split",
    DivisionSliceOp => "dusk.frame.division-slice",
}

/// For output partitions with `to` divisions built from input partitions with `from`
/// divisions: each output's inputs (those whose range meets its range) and, per input, whether
/// the output takes that input's null-index rows (the first output meeting it does).
pub(crate) fn align_plan(from: &[IndexValue], to: &[IndexValue]) -> Vec<(Vec<usize>, Vec<bool>)> {
    let n_out = to.len().saturating_sub(1).max(1);
    let mut plan: Vec<(Vec<usize>, Vec<bool>)> = vec![(Vec::new(), Vec::new()); n_out];
    for (i, range) in from.windows(2).enumerate() {
        // Closed hulls of the ranges: a conservative overlap test (extra inputs are filtered).
        let meets = |j: usize| {
            compare(&range[0], &to[j + 1]) != Ordering::Greater
                && compare(&to[j], &range[1]) != Ordering::Greater
        };
        let mut outs: Vec<usize> = (0..n_out).filter(|&j| meets(j)).collect();
        if outs.is_empty() {
            // Outside the new range (cannot happen for a union of divisions): still read by
            // an output, so that its null-index rows are not lost.
            outs.push(if compare(&range[0], &to[0]) == Ordering::Less {
                0
            } else {
                n_out - 1
            });
        }
        for (k, &j) in outs.iter().enumerate() {
            plan[j].0.push(i);
            plan[j].1.push(k == 0);
        }
    }
    plan
}

/// The sorted union of two division lists.
fn union(a: &[IndexValue], b: &[IndexValue]) -> Vec<IndexValue> {
    let mut out: Vec<IndexValue> = a.iter().chain(b).cloned().collect();
    out.sort_by(compare);
    out.dedup_by(|x, y| compare(x, y) == Ordering::Equal);
    if out.len() == 1 {
        out.push(out[0].clone());
    }
    out
}

impl DataFrame {
    fn index_column(&self, column: &str, operation: &str) -> Result<Kind, FrameError> {
        self.check_columns(&[col(column)])?;
        let dtype = self.column_dtype(column);
        Kind::of(&dtype).ok_or_else(|| {
            FrameError::Unsupported(format!(
                "{operation}: `{column}` is {dtype}; an index column must be an integer, \
                 temporal, float or string column"
            ))
        })
    }

    /// Divisions for range-partitioning this frame on `column` into about `npartitions`
    /// partitions, as a lazy value: approximate quantiles from mergeable sketches of each
    /// partition (as [`DataFrame::quantile`]), bracketed by the exact least and greatest
    /// value; repeated boundaries are dropped, so a value holding many rows fills one
    /// partition and there may be fewer partitions. Empty when the column has no values.
    /// Compute it on any scheduler, then hand it to [`DataFrame::set_index_with_divisions`].
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// use dusk_collections::dataframe::{from_polars, IndexValue};
    /// let ddf = from_polars(df!("t" => [5i64, 1, 9, 3, 7, 2]).unwrap(), 3);
    /// let divisions = ddf.divisions_for("t", 2).unwrap().compute().unwrap();
    /// assert_eq!(divisions.first(), Some(&IndexValue::Int(1)));
    /// assert_eq!(divisions.last(), Some(&IndexValue::Int(9)));
    /// let indexed = ddf.set_index_with_divisions("t", divisions).unwrap();
    /// assert!(indexed.known_divisions());
    /// ```
    pub fn divisions_for(
        &self,
        column: &str,
        npartitions: usize,
    ) -> Result<Scalar<Vec<IndexValue>>, FrameError> {
        let kind = self.index_column(column, "divisions_for")?;
        if kind == Kind::Str {
            return Err(FrameError::Unsupported(format!(
                "divisions_for: `{column}` is a string column; quantiles are computed for \
                 numeric and temporal columns — give divisions (set_index_with_divisions) or, \
                 for partitions already in order, use set_index_sorted"
            )));
        }
        let n = npartitions.max(1);
        let token = Tokenizer::new("divisions")
            .write(&self.frame.token)
            .write(column)
            .write(&n)
            .finish();
        let schema = Schema::from_iter([Field::new("divisions".into(), kind.dtype())]);
        let frame = DataFrame {
            frame: Arc::new(Frame {
                schema: Arc::new(schema),
                npartitions: 1,
                node: Node::Divisions {
                    input: self.frame.clone(),
                    column: column.to_string(),
                    kind,
                    npartitions: n,
                    split_every: 8,
                },
                token,
            }),
        };
        Ok(Scalar::new(frame, |df| divisions_from_frame(&df)))
    }

    /// Sets `column` as the index (Dask's `set_index`): computes divisions now with a quantile
    /// pass over the column (see [`DataFrame::divisions_for`]; it runs in this thread, reading
    /// only that column), then range-partitions the rows on them and sorts each partition by
    /// the column (nulls last, in the last partition). The frame keeps the column and records
    /// the divisions, which [`DataFrame::loc`] and joins on the column use.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// use dusk_collections::dataframe::{from_polars, IndexValue};
    /// let ddf = from_polars(df!("t" => [5i64, 1, 9, 3, 7, 2], "v" => [0, 1, 2, 3, 4, 5]).unwrap(), 3);
    /// let indexed = ddf.set_index("t").unwrap();
    /// let divisions = indexed.divisions().unwrap();
    /// assert_eq!(divisions.len(), indexed.npartitions() + 1);
    /// assert_eq!(divisions[0], IndexValue::Int(1));
    /// let t = indexed.compute().unwrap();
    /// assert_eq!(t.column("t").unwrap().i64().unwrap().into_no_null_iter().collect::<Vec<_>>(), [1, 2, 3, 5, 7, 9]);
    /// assert!(ddf.set_index("nope").is_err());
    /// ```
    pub fn set_index(&self, column: &str) -> Result<DataFrame, FrameError> {
        let divisions = self.divisions_for(column, self.frame.npartitions)?;
        let mut graph = Graph::new();
        let failed = |why: String| FrameError::Divisions {
            column: column.to_string(),
            message: format!("set_index could not compute them: {why}"),
        };
        let keys = divisions
            .frame()
            .frame
            .lower(&None, &mut graph)
            .map_err(|e| failed(e.to_string()))?;
        let out = crate::probe::run_locally(&graph, &keys).map_err(|e| failed(e.to_string()))?;
        let df = out
            .first()
            .ok_or_else(|| failed("the pass gave no result".into()))?
            .as_frame()
            .map_err(|e| failed(e.to_string()))?;
        let divisions = divisions_from_frame(df)?;
        if divisions.is_empty() {
            // No values at all: one partition, divisions unknown.
            let kind = self.index_column(column, "set_index")?;
            return self.gathered_index(column, kind);
        }
        self.set_index_with_divisions(column, divisions)
    }

    /// Sets `column` as the index with the given divisions (Dask's `set_index(divisions=...)`);
    /// reads no data now. There are `divisions.len() - 1` partitions; the divisions must
    /// increase, except that the last two may be equal (a last partition of one value). A value outside them fails the
    /// computation, naming it; nulls go to the last partition.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// use dusk_collections::dataframe::from_polars;
    /// let ddf = from_polars(df!("k" => ["b", "a", "d", "c"]).unwrap(), 2);
    /// let indexed = ddf.set_index_with_divisions("k", vec!["a", "c", "d"]).unwrap();
    /// assert_eq!(indexed.npartitions(), 2);
    /// assert_eq!(indexed.loc("b").unwrap().npartitions(), 1);
    /// assert!(ddf.set_index_with_divisions("k", vec!["c", "a"]).is_err());
    /// ```
    pub fn set_index_with_divisions<V: Into<IndexValue>>(
        &self,
        column: &str,
        divisions: Vec<V>,
    ) -> Result<DataFrame, FrameError> {
        let kind = self.index_column(column, "set_index_with_divisions")?;
        let divisions = divisions
            .into_iter()
            .map(|v| {
                let v = v.into();
                kind.coerce(v.clone())
                    .ok_or_else(|| self.type_error(column, &v))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let bad = |why: &str| FrameError::Divisions {
            column: column.to_string(),
            message: format!("{why}: {divisions:?}"),
        };
        if divisions.len() < 2 {
            return Err(bad("need at least two divisions (one partition)"));
        }
        // Increasing; the last two may be equal (a last partition holding a single value).
        let k = divisions.len() - 2;
        let increasing = divisions[..=k]
            .windows(2)
            .all(|w| compare(&w[0], &w[1]) == Ordering::Less)
            && compare(&divisions[k], &divisions[k + 1]) != Ordering::Greater;
        if !increasing {
            return Err(bad("divisions must increase"));
        }
        let n = divisions.len() - 1;
        let index = Arc::new(IndexSpec {
            column: column.to_string(),
            kind,
            divisions: Some(divisions),
        });
        let method = super::shuffle_method();
        let token = Tokenizer::new("set-index")
            .write(&self.frame.token)
            .write(&format!("{index:?}"))
            .write(&method)
            .finish();
        let moved = DataFrame {
            frame: Arc::new(Frame {
                schema: self.frame.schema.clone(),
                npartitions: n,
                node: Node::SetIndex {
                    input: self.frame.clone(),
                    index,
                    layout: IndexLayout::Shuffle(method),
                },
                token,
            }),
        };
        moved.map(Step::Sort(index_sort(column)))
    }

    /// Sets `column` as the index of a frame whose partitions are already in index order
    /// (Dask's `set_index(sorted=True)`): reads the least and greatest value of each partition
    /// now, checks that each partition's values come before the next one's, and records the
    /// divisions; no row moves (empty partitions are merged into a neighbour, and each
    /// partition is sorted by the column). Overlapping partitions are an error naming them.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_collections::dataframe::{from_polars, IndexValue};
    /// let ddf = from_polars(df!("t" => [1i64, 2, 3, 4, 5, 6]).unwrap(), 3);
    /// let indexed = ddf.set_index_sorted("t").unwrap();
    /// assert_eq!(indexed.divisions().unwrap(), [1, 3, 5, 6].map(IndexValue::Int));
    /// assert!(!indexed.explain().contains("shuffle"));
    /// let unsorted = from_polars(df!("t" => [3i64, 4, 1, 2]).unwrap(), 2);
    /// assert!(unsorted.set_index_sorted("t").is_err());
    /// ```
    pub fn set_index_sorted(&self, column: &str) -> Result<DataFrame, FrameError> {
        let kind = self.index_column(column, "set_index_sorted")?;
        let mut graph = Graph::new();
        let need = Some([column.to_string()].into_iter().collect());
        let failed = |why: String| FrameError::Divisions {
            column: column.to_string(),
            message: format!("set_index_sorted could not read the partition bounds: {why}"),
        };
        let parts = self
            .frame
            .lower(&need, &mut graph)
            .map_err(|e| failed(e.to_string()))?;
        let name = Tokenizer::new("index-sketch")
            .write(&self.frame.token)
            .write(column)
            .name("index-sketch");
        let sketches: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let key = dusk_core::Key::part(name.as_str(), i as u32);
                let op = IndexSketchOp {
                    column: column.to_string(),
                    kind,
                };
                graph.add(key.clone(), op, vec![p.clone()]);
                key
            })
            .collect();
        let out =
            crate::probe::run_locally(&graph, &sketches).map_err(|e| failed(e.to_string()))?;
        let stats = out
            .iter()
            .map(|d| d.decode::<IndexSketch>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| failed(e.to_string()))?;
        // Each partition with values starts a group; partitions without any join the group
        // before them (the first group takes leading ones).
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut bounds: Vec<(IndexValue, IndexValue)> = Vec::new();
        let mut pending: Vec<usize> = Vec::new();
        for (i, s) in stats.iter().enumerate() {
            match (&s.min, &s.max) {
                (Some(lo), Some(hi)) => {
                    if let Some((_, prev_hi)) = bounds.last() {
                        if compare(prev_hi, lo) != Ordering::Less {
                            return Err(FrameError::Divisions {
                                column: column.to_string(),
                                message: format!(
                                    "partitions are not in index order: partition {i} starts \
                                     at {lo}, but an earlier partition reaches {prev_hi}; use \
                                     set_index to sort"
                                ),
                            });
                        }
                    }
                    let mut group = std::mem::take(&mut pending);
                    group.push(i);
                    groups.push(group);
                    bounds.push((lo.clone(), hi.clone()));
                }
                _ => match groups.last_mut() {
                    Some(g) => g.push(i),
                    None => pending.push(i),
                },
            }
        }
        if groups.is_empty() {
            return self.gathered_index(column, kind);
        }
        let mut divisions: Vec<IndexValue> = bounds.iter().map(|(lo, _)| lo.clone()).collect();
        divisions.extend(bounds.last().map(|(_, hi)| hi.clone()));
        let index = Arc::new(IndexSpec {
            column: column.to_string(),
            kind,
            divisions: Some(divisions),
        });
        self.grouped_index(index, groups)
            .map(Step::Sort(index_sort(column)))
    }

    /// Every partition in one, sorted, with the index known but not its divisions.
    fn gathered_index(&self, column: &str, kind: Kind) -> Result<DataFrame, FrameError> {
        let index = Arc::new(IndexSpec {
            column: column.to_string(),
            kind,
            divisions: None,
        });
        let all = (0..self.frame.npartitions).collect();
        self.grouped_index(index, vec![all])
            .map(Step::Sort(index_sort(column)))
    }

    fn grouped_index(&self, index: Arc<IndexSpec>, groups: Vec<Vec<usize>>) -> DataFrame {
        let token = Tokenizer::new("set-index-sorted")
            .write(&self.frame.token)
            .write(&format!("{index:?}"))
            .write(&groups)
            .finish();
        DataFrame {
            frame: Arc::new(Frame {
                schema: self.frame.schema.clone(),
                npartitions: groups.len(),
                node: Node::SetIndex {
                    input: self.frame.clone(),
                    index,
                    layout: IndexLayout::Groups(groups),
                },
                token,
            }),
        }
    }

    /// The index column, when the frame has one (see [`DataFrame::set_index`]).
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("t" => [1i64, 2]).unwrap(), 1);
    /// assert_eq!(ddf.index(), None);
    /// assert_eq!(ddf.set_index_sorted("t").unwrap().index().as_deref(), Some("t"));
    /// ```
    pub fn index(&self) -> Option<String> {
        index_of(&self.frame).map(|i| i.column)
    }

    /// The divisions of the index (`npartitions() + 1` values), when known.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_collections::dataframe::{from_polars, IndexValue};
    /// let ddf = from_polars(df!("t" => [1i64, 2, 3]).unwrap(), 1).set_index_sorted("t").unwrap();
    /// assert_eq!(ddf.divisions(), Some(vec![IndexValue::Int(1), IndexValue::Int(3)]));
    /// ```
    pub fn divisions(&self) -> Option<Vec<IndexValue>> {
        index_of(&self.frame).and_then(|i| i.divisions)
    }

    /// Whether the divisions of an index are known (Dask's `known_divisions`).
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("t" => [1i64, 2]).unwrap(), 2);
    /// assert!(!ddf.known_divisions());
    /// assert!(ddf.set_index("t").unwrap().known_divisions());
    /// ```
    pub fn known_divisions(&self) -> bool {
        self.divisions().is_some()
    }

    fn type_error(&self, column: &str, value: &IndexValue) -> FrameError {
        FrameError::IndexType {
            column: column.to_string(),
            dtype: self.column_dtype(column),
            value: format!("{value:?}"),
        }
    }

    /// The rows whose index equals `value` (Dask's `df.loc[value]`); only the partitions whose
    /// divisions can hold it are read.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// use dusk_collections::dataframe::{from_polars, FrameError};
    /// let ddf = from_polars(df!("t" => (0..100i64).collect::<Vec<_>>()).unwrap(), 10)
    ///     .set_index_sorted("t").unwrap();
    /// let row = ddf.loc(42).unwrap();
    /// assert_eq!(row.npartitions(), 1);
    /// assert_eq!(row.compute().unwrap().height(), 1);
    /// assert!(matches!(ddf.loc("x"), Err(FrameError::IndexType { .. })));
    /// ```
    pub fn loc<V: Into<IndexValue>>(&self, value: V) -> Result<DataFrame, FrameError> {
        let v = value.into();
        self.loc_range(v.clone(), v)
    }

    /// The rows whose index lies in `[lo, hi]`, both ends included (Dask's
    /// `df.loc[lo:hi]`); only the partitions whose divisions meet that range are read.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("t" => (0..100i64).collect::<Vec<_>>()).unwrap(), 10)
    ///     .set_index_sorted("t").unwrap();
    /// let some = ddf.loc_range(15, 34).unwrap();
    /// assert_eq!(some.npartitions(), 3);
    /// assert_eq!(some.compute().unwrap().height(), 20);
    /// ```
    pub fn loc_range<V: Into<IndexValue>>(&self, lo: V, hi: V) -> Result<DataFrame, FrameError> {
        let index = index_of(&self.frame).ok_or_else(|| FrameError::NoIndex {
            operation: "loc".into(),
            columns: self.columns(),
        })?;
        let coerce = |v: V| {
            let v = v.into();
            index
                .kind
                .coerce(v.clone())
                .ok_or_else(|| self.type_error(&index.column, &v))
        };
        let (lo, hi) = (coerce(lo)?, coerce(hi)?);
        let range = match &index.divisions {
            Some(d) if compare(&lo, &hi) != Ordering::Greater => {
                partition_of(d, &lo)..partition_of(d, &hi) + 1
            }
            // An empty range: read one partition, which the filter empties.
            Some(_) => 0..1,
            None => 0..self.frame.npartitions,
        };
        let read = if range.len() == self.frame.npartitions {
            self.clone()
        } else {
            self.partitions(range)
        };
        let key = index.kind.expr(&index.column);
        read.filter(
            key.clone()
                .gt_eq(index.kind.literal(&lo))
                .and(key.lt_eq(index.kind.literal(&hi))),
        )
    }

    /// This frame cut to other divisions (no shuffle: each output reads the partitions whose
    /// range meets its own and keeps the rows in range).
    pub(crate) fn aligned_to(&self, index: &IndexSpec, to: &[IndexValue]) -> DataFrame {
        if index.divisions.as_deref() == Some(to) {
            return self.clone();
        }
        let new = Arc::new(IndexSpec {
            column: index.column.clone(),
            kind: index.kind,
            divisions: Some(to.to_vec()),
        });
        let from = Arc::new(index.divisions.clone().unwrap_or_default());
        let token = Tokenizer::new("align-divisions")
            .write(&self.frame.token)
            .write(&format!("{new:?}"))
            .finish();
        DataFrame {
            frame: Arc::new(Frame {
                schema: self.frame.schema.clone(),
                npartitions: to.len() - 1,
                node: Node::Align {
                    input: self.frame.clone(),
                    index: new,
                    from,
                },
                token,
            }),
        }
    }
}

/// For a join of `left` on `left_on` with `right` on `right_on`: when both are the index
/// columns of frames with known divisions of one kind, the common divisions to align both on.
pub(crate) fn join_divisions(
    left: &Frame,
    right: &Frame,
    left_on: &[String],
    right_on: &[String],
) -> Option<(IndexSpec, IndexSpec, Vec<IndexValue>)> {
    let (l, r) = (index_of(left)?, index_of(right)?);
    if left_on != [l.column.clone()] || right_on != [r.column.clone()] || l.kind != r.kind {
        return None;
    }
    let common = union(l.divisions.as_deref()?, r.divisions.as_deref()?);
    Some((l, r, common))
}

fn index_sort(column: &str) -> SortSpec {
    SortSpec {
        by: vec![column.to_string()],
        descending: vec![false],
        nulls_last: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[i64]) -> Vec<IndexValue> {
        v.iter().map(|&x| IndexValue::Int(x)).collect()
    }

    #[test]
    fn values_find_their_partition() {
        let d = ints(&[0, 10, 20, 30]);
        let at = |v| partition_of(&d, &IndexValue::Int(v));
        assert_eq!(
            [at(-5), at(0), at(9), at(10), at(29), at(30), at(99)],
            [0, 0, 0, 1, 2, 2, 2]
        );
        assert_eq!(partition_of(&ints(&[4, 4]), &IndexValue::Int(4)), 0);
    }

    #[test]
    fn alignment_keeps_every_row_once() {
        let plan = align_plan(&ints(&[0, 10, 20]), &ints(&[0, 5, 10, 15, 20, 40]));
        assert_eq!(plan.len(), 5);
        assert_eq!(plan[0].0, [0]);
        assert_eq!(plan[1].0, [0, 1]); // [5, 10) meets [0, 10] by its closed hull
                                       // Each input's nulls go to exactly one output.
        for i in 0..2 {
            let takers = plan
                .iter()
                .filter(|(ins, nulls)| ins.iter().zip(nulls).any(|(&x, &k)| x == i && k))
                .count();
            assert_eq!(takers, 1);
        }
    }

    #[test]
    fn divisions_drop_repeated_boundaries() {
        let c = Column::new("x".into(), [0i64, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
        let df = polars::prelude::DataFrame::new_infer_height(vec![c]).unwrap();
        let s = IndexSketch::of(&df, "x", Kind::Int).unwrap();
        let d = s.divisions(Kind::Int, 4);
        assert_eq!(d.first(), Some(&IndexValue::Int(0)));
        assert_eq!(d.last(), Some(&IndexValue::Int(4)));
        assert!(d.windows(2).all(|w| compare(&w[0], &w[1]).is_lt()), "{d:?}");
    }
}
