//! `DataFrame`: a lazy, partitioned frame whose partitions are Polars DataFrames.
//!
//! Build a frame from CSV files ([`read_csv`]) or an in-memory Polars frame ([`from_polars`]),
//! transform it with Polars expressions (`select`, `with_columns`, `filter`, ...), aggregate it
//! (`agg`, `group_by(...).agg(...)`), and compute it into one Polars DataFrame. Every step
//! checks its expressions against the schema when it is built, so an unknown column is an error
//! before any task runs. Aggregations become tree reductions (see [`agg`](self) internals);
//! per-partition steps run as one Polars query per partition.
//!
//! ```
//! use dusk_collections::dataframe::from_polars;
//! use dusk_scheduler::Compute;
//! use polars::prelude::*;
//!
//! let pdf = df!("user_id" => [1i64, 2, 1, 3, 2, 1], "value" => [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
//! let ddf = from_polars(pdf, 3);
//! let means = ddf
//!     .filter(col("value").gt(lit(1.5))).unwrap()
//!     .group_by(["user_id"]).agg([col("value").mean()]).unwrap()
//!     .compute().unwrap();
//! assert_eq!(means.column("user_id").unwrap().i64().unwrap().into_no_null_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
//! assert_eq!(means.column("value").unwrap().f64().unwrap().get(0), Some(4.5));
//! ```

mod agg;
mod build_side;
mod csv;
mod error;
mod index;
mod join;
mod kernels;
mod parquet;
mod plan;
mod reorganize;
mod scalar;
mod shuffle;
mod summary;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dusk_core::{Collection, ComputeError, Data, Graph, Key, Tokenizer};
use polars::prelude::*;

pub use csv::{default_blocksize, CsvOptions};
pub use error::FrameError;
pub use index::IndexValue;
pub use join::{JoinHow, BROADCAST_PARTITIONS};
pub use reorganize::{concat, Keep};
pub use scalar::Scalar;
pub use shuffle::{set_shuffle_method, shuffle_method, with_shuffle_method, ShuffleMethod};

use agg::{has_aggregation, AggSpec};
use kernels::{SortSpec, Step, SummaryFinish};
use plan::{roots, Frame, Node};
use write::{WriteFormat, WriteTarget};

/// A lazy, partitioned DataFrame.
#[derive(Clone)]
pub struct DataFrame {
    frame: Arc<Frame>,
}

impl std::fmt::Debug for DataFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DataFrame({} partitions, columns {:?})",
            self.frame.npartitions,
            self.columns()
        )
    }
}

/// Reads CSV files matching a glob (`data/2015-*.csv`) with default options.
///
/// ```
/// let events = dusk_datasets::sample_dir().join("events/*.csv");
/// let df = dusk_collections::dataframe::read_csv(events.to_str().unwrap()).unwrap();
/// assert_eq!(df.columns()[..2], ["timestamp", "user_id"]);
/// assert!(dusk_collections::dataframe::read_csv("no/such/*.csv").is_err());
/// ```
pub fn read_csv(pattern: &str) -> Result<DataFrame, FrameError> {
    read_csv_with(pattern, CsvOptions::default())
}

/// Reads CSV files matching a glob with explicit options.
///
/// ```
/// use dusk_collections::dataframe::{read_csv_with, CsvOptions};
/// let events = dusk_datasets::sample_dir().join("events/*.csv");
/// let df = read_csv_with(events.to_str().unwrap(), CsvOptions::default().blocksize(Some(30_000))).unwrap();
/// assert!(df.npartitions() > 7); // each file is cut into blocks
/// ```
pub fn read_csv_with(pattern: &str, options: CsvOptions) -> Result<DataFrame, FrameError> {
    let files = csv::expand(pattern)?;
    read_csv_files(&files, options)
}

/// Reads the given CSV files, in the given order.
///
/// ```
/// use dusk_collections::dataframe::{read_csv_files, CsvOptions};
/// let file = dusk_datasets::sample_dir().join("users.csv");
/// let df = read_csv_files(&[file], CsvOptions::default()).unwrap();
/// assert_eq!(df.columns(), ["user_id", "country", "age"]);
/// ```
pub fn read_csv_files<P: AsRef<Path>>(
    files: &[P],
    options: CsvOptions,
) -> Result<DataFrame, FrameError> {
    if files.is_empty() {
        return Err(FrameError::NoFiles {
            pattern: "(empty list of files)".into(),
        });
    }
    let files: Vec<_> = files.iter().map(|p| p.as_ref().to_path_buf()).collect();
    let source = csv::plan(files, options)?;
    let mut schema: Schema = (*source.file_schema).clone();
    if let Some(cols) = &source.options.usecols {
        let mut picked = Schema::default();
        for c in cols {
            let dtype =
                schema
                    .get(c.as_str())
                    .cloned()
                    .ok_or_else(|| FrameError::ColumnNotFound {
                        column: c.clone(),
                        available: schema.iter_names().map(|n| n.to_string()).collect(),
                    })?;
            picked.with_column(c.as_str().into(), dtype);
        }
        schema = picked;
    }
    if let Some(name) = &source.options.include_path_column {
        schema.with_column(name.as_str().into(), DataType::String);
    }
    let npartitions = source.blocks.len();
    let token = source.token.clone();
    Ok(DataFrame {
        frame: Arc::new(Frame {
            node: Node::Csv(Arc::new(source)),
            schema: Arc::new(schema),
            npartitions,
            token,
        }),
    })
}

/// Splits an in-memory Polars frame into `npartitions` partitions of nearly equal row counts
/// (at least one; trailing partitions may be empty when there are fewer rows than partitions).
///
/// ```
/// use polars::prelude::*;
/// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3]).unwrap(), 2);
/// assert_eq!(ddf.npartitions(), 2);
/// ```
pub fn from_polars(df: polars::prelude::DataFrame, npartitions: usize) -> DataFrame {
    let n = npartitions.max(1);
    let rows = df.height();
    let mut parts = Vec::with_capacity(n);
    let mut tokenizer = Tokenizer::new("from-polars");
    tokenizer.write(&rows).write(&n);
    for i in 0..n {
        let start = rows * i / n;
        let end = rows * (i + 1) / n;
        parts.push(df.slice(start as i64, end - start));
    }
    // Frames are not hashable: the token is unique per call, like Dask's random token for
    // in-memory data it does not hash.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    tokenizer.write(&CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    DataFrame {
        frame: Arc::new(Frame {
            schema: df.schema().clone(),
            node: Node::Memory(Arc::new(parts)),
            npartitions: n,
            token: tokenizer.finish(),
        }),
    }
}

/// Reads Parquet files matching a glob (sorted), one partition per row group. Only the footers
/// are read now; the schemas of all files must agree.
///
/// ```
/// use polars::prelude::*;
/// use dusk_scheduler::Compute;
/// let dir = std::env::temp_dir().join(format!("dusk-doc-parquet-{}", std::process::id()));
/// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1i64, 2, 3]).unwrap(), 2);
/// ddf.to_parquet(dir.join("part-*.parquet").to_str().unwrap()).unwrap().compute().unwrap();
/// let back = dusk_collections::dataframe::read_parquet(dir.join("*.parquet").to_str().unwrap()).unwrap();
/// assert_eq!(back.npartitions(), 2);
/// assert_eq!(back.compute().unwrap().height(), 3);
/// # std::fs::remove_dir_all(dir).ok();
/// ```
pub fn read_parquet(pattern: &str) -> Result<DataFrame, FrameError> {
    read_parquet_files(&csv::expand(pattern)?)
}

/// Reads the given Parquet files, in order (see [`read_parquet`]).
///
/// ```
/// let err = dusk_collections::dataframe::read_parquet_files(&["no-such-file.parquet"]).unwrap_err();
/// assert!(err.to_string().contains("no-such-file.parquet"));
/// ```
pub fn read_parquet_files<P: AsRef<Path>>(paths: &[P]) -> Result<DataFrame, FrameError> {
    let files: Vec<PathBuf> = paths.iter().map(|p| p.as_ref().to_path_buf()).collect();
    let mut token = Tokenizer::new("read-parquet");
    for f in &files {
        token.write(f);
        if let Ok(meta) = std::fs::metadata(f) {
            token.write(&meta.len());
            if let Ok(modified) = meta.modified() {
                token.write(&modified);
            }
        }
    }
    let token = token.finish();
    let source = parquet::plan(files)?;
    Ok(DataFrame {
        frame: Arc::new(Frame {
            schema: source.schema.clone(),
            npartitions: source.pieces.len(),
            node: Node::Parquet(Arc::new(source)),
            token,
        }),
    })
}

impl DataFrame {
    /// The schema of the computed frame.
    pub fn schema(&self) -> &SchemaRef {
        &self.frame.schema
    }

    /// The column names.
    pub fn columns(&self) -> Vec<String> {
        self.frame
            .schema
            .iter_names()
            .map(|n| n.to_string())
            .collect()
    }

    /// The number of partitions.
    pub fn npartitions(&self) -> usize {
        self.frame.npartitions
    }

    fn check_columns(&self, exprs: &[Expr]) -> Result<(), FrameError> {
        if let Some(names) = roots(exprs) {
            for name in names {
                if self.frame.schema.get(name.as_str()).is_none() {
                    return Err(FrameError::ColumnNotFound {
                        column: name,
                        available: self.columns(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The type of `column` (`Null` when there is no such column; check it first).
    pub(crate) fn column_dtype(&self, column: &str) -> DataType {
        self.frame
            .schema
            .get(column)
            .cloned()
            .unwrap_or(DataType::Null)
    }

    fn map(&self, step: Step) -> Result<DataFrame, FrameError> {
        let what = format!("{step:?}");
        let empty = polars::prelude::DataFrame::empty_with_schema(&self.frame.schema);
        let out = kernels::apply_steps(empty, std::slice::from_ref(&step))
            .map_err(|e| FrameError::polars(what.clone(), e))?;
        let token = Tokenizer::new("map")
            .write(&self.frame.token)
            .write(&what)
            .finish();
        Ok(DataFrame {
            frame: Arc::new(Frame {
                schema: out.schema().clone(),
                npartitions: self.frame.npartitions,
                node: Node::Map {
                    input: self.frame.clone(),
                    step,
                },
                token,
            }),
        })
    }

    /// Selects (and computes) columns. Aggregating expressions (`col("x").sum()`) make this a
    /// reduction over the whole frame, as [`DataFrame::agg`].
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2], "b" => [3, 4]).unwrap(), 2);
    /// assert_eq!(ddf.select([col("b"), (col("a") * lit(2)).alias("c")]).unwrap().columns(), ["b", "c"]);
    /// assert!(ddf.select([col("zzz")]).unwrap_err().to_string().contains("zzz"));
    /// ```
    pub fn select<E: AsRef<[Expr]>>(&self, exprs: E) -> Result<DataFrame, FrameError> {
        let exprs = exprs.as_ref().to_vec();
        self.check_columns(&exprs)?;
        if exprs.iter().any(has_aggregation) {
            return self.agg(exprs);
        }
        self.map(Step::Select(exprs))
    }

    /// Adds or replaces columns.
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2]).unwrap(), 1);
    /// assert_eq!(ddf.with_columns([(col("a") + lit(1)).alias("b")]).unwrap().columns(), ["a", "b"]);
    /// ```
    pub fn with_columns<E: AsRef<[Expr]>>(&self, exprs: E) -> Result<DataFrame, FrameError> {
        let exprs = exprs.as_ref().to_vec();
        self.check_columns(&exprs)?;
        if let Some(e) = exprs.iter().find(|e| has_aggregation(e)) {
            return Err(FrameError::Unsupported(format!(
                "`{e}` aggregates over the whole frame and cannot run partition by partition; \
                 compute the aggregate first (agg) and use its value"
            )));
        }
        self.map(Step::WithColumns(exprs))
    }

    /// Keeps the rows where `predicate` is true.
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3]).unwrap(), 2);
    /// assert!(ddf.filter(col("a").gt(lit(1))).is_ok());
    /// assert!(ddf.filter(col("b").gt(lit(1))).is_err());
    /// ```
    pub fn filter(&self, predicate: Expr) -> Result<DataFrame, FrameError> {
        self.check_columns(std::slice::from_ref(&predicate))?;
        if has_aggregation(&predicate) {
            return Err(FrameError::Unsupported(format!(
                "the predicate `{predicate}` aggregates over the whole frame and cannot run \
                 partition by partition"
            )));
        }
        self.map(Step::Filter(predicate))
    }

    /// Renames columns (`old → new`).
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1]).unwrap(), 1);
    /// assert_eq!(ddf.rename(&[("a", "x")]).unwrap().columns(), ["x"]);
    /// ```
    pub fn rename(&self, pairs: &[(&str, &str)]) -> Result<DataFrame, FrameError> {
        let exprs: Vec<Expr> = pairs.iter().map(|(old, _)| col(*old)).collect();
        self.check_columns(&exprs)?;
        self.map(Step::Rename(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        ))
    }

    /// Removes columns.
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1], "b" => [2]).unwrap(), 1);
    /// assert_eq!(ddf.drop(&["a"]).unwrap().columns(), ["b"]);
    /// ```
    pub fn drop(&self, columns: &[&str]) -> Result<DataFrame, FrameError> {
        let exprs: Vec<Expr> = columns.iter().map(|c| col(*c)).collect();
        self.check_columns(&exprs)?;
        self.map(Step::Drop(columns.iter().map(|c| c.to_string()).collect()))
    }

    /// Casts a column.
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1i64]).unwrap(), 1);
    /// let cast = ddf.cast("a", DataType::Float64).unwrap();
    /// assert_eq!(cast.schema().get("a"), Some(&DataType::Float64));
    /// ```
    pub fn cast(&self, column: &str, dtype: DataType) -> Result<DataFrame, FrameError> {
        self.with_columns([col(column).cast(dtype)])
    }

    /// Replaces nulls in every column with `value`.
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [Some(1i64), None]).unwrap(), 1);
    /// assert!(ddf.fill_null(lit(0i64)).is_ok());
    /// ```
    pub fn fill_null(&self, value: Expr) -> Result<DataFrame, FrameError> {
        let exprs: Vec<Expr> = self
            .columns()
            .iter()
            .map(|c| col(c.as_str()).fill_null(value.clone()))
            .collect();
        self.with_columns(exprs)
    }

    /// Applies a function to every partition. Its output schema is found by calling it on an
    /// empty frame with this frame's schema.
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3]).unwrap(), 2);
    /// let doubled = ddf.map_partitions("double", |df| df.lazy().select([col("a") * lit(2)]).collect()).unwrap();
    /// assert_eq!(doubled.columns(), ["a"]);
    /// ```
    pub fn map_partitions<F>(&self, name: &str, f: F) -> Result<DataFrame, FrameError>
    where
        F: Fn(polars::prelude::DataFrame) -> PolarsResult<polars::prelude::DataFrame>
            + Send
            + Sync
            + 'static,
    {
        self.map(Step::Custom {
            name: name.to_string(),
            f: Arc::new(f),
        })
    }

    /// As [`DataFrame::map_partitions`], with the output schema given (Dask's `meta`) instead
    /// of found by a call on an empty frame — for functions that cannot run on one. A
    /// partition whose result has another schema fails with an error naming both.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3]).unwrap(), 2);
    /// let schema = Schema::from_iter([Field::new("n".into(), DataType::UInt32)]);
    /// let counts = ddf.map_partitions_with_schema("count", schema, |df| {
    ///     df.lazy().select([len().alias("n")]).collect()
    /// });
    /// assert_eq!(counts.compute().unwrap().height(), 2);
    /// ```
    pub fn map_partitions_with_schema<F>(&self, name: &str, schema: Schema, f: F) -> DataFrame
    where
        F: Fn(polars::prelude::DataFrame) -> PolarsResult<polars::prelude::DataFrame>
            + Send
            + Sync
            + 'static,
    {
        let schema: SchemaRef = Arc::new(schema);
        let expected = schema.clone();
        let label = name.to_string();
        let checked = move |df: polars::prelude::DataFrame| {
            let out = f(df)?;
            if out.schema().as_ref() != expected.as_ref() {
                polars::prelude::polars_bail!(SchemaMismatch:
                    "map_partitions `{label}` returned {:?}, but its declared schema is {:?}",
                    out.schema(), expected);
            }
            Ok(out)
        };
        let step = Step::Custom {
            name: name.to_string(),
            f: Arc::new(checked),
        };
        let token = Tokenizer::new("map")
            .write(&self.frame.token)
            .write(&format!("{step:?}"))
            .finish();
        DataFrame {
            frame: Arc::new(Frame {
                schema,
                npartitions: self.frame.npartitions,
                node: Node::Map {
                    input: self.frame.clone(),
                    step,
                },
                token,
            }),
        }
    }

    /// The first `n` rows of the first partition (Dask's `head`, which reads only what it
    /// needs: one partition). Right after `sort_values`, the first `n` rows of the whole sorted
    /// frame, computed as a top-n (`nsmallest`/`nlargest`) without the sort's shuffle.
    ///
    /// ```
    /// use polars::prelude::*;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3, 4]).unwrap(), 2);
    /// assert_eq!(ddf.head(1).npartitions(), 1);
    /// ```
    pub fn head(&self, n: usize) -> DataFrame {
        // After a sort, the first rows are a top-n of the unsorted frame: no shuffle needed,
        // and the answer does not depend on how many rows the first partition holds.
        if let Node::Map {
            input,
            step: Step::Sort(spec),
        } = &self.frame.node
        {
            if let Node::Shuffle {
                input: unsorted,
                split: plan::Split::Range { .. },
                ..
            } = &input.node
            {
                let steps = vec![Step::Sort(spec.clone()), Step::Head(n)];
                return self.top_rows(unsorted.clone(), steps, "sort-head");
            }
        }
        let first = self.partitions(0..1.min(self.frame.npartitions));
        first.map(Step::Head(n)).unwrap_or_else(|_| first.clone())
    }

    /// A frame of some of this frame's partitions; the others are never computed.
    fn partitions(&self, range: std::ops::Range<usize>) -> DataFrame {
        let token = Tokenizer::new("partitions")
            .write(&self.frame.token)
            .write(&(range.start, range.end))
            .finish();
        DataFrame {
            frame: Arc::new(Frame {
                schema: self.frame.schema.clone(),
                npartitions: range.len(),
                node: Node::Partitions {
                    input: self.frame.clone(),
                    range,
                },
                token,
            }),
        }
    }

    /// A frame whose partitions another collection's tasks produce (`Bag::to_dataframe`).
    pub(crate) fn from_external(
        schema: SchemaRef,
        npartitions: usize,
        label: String,
        token: String,
        lower: Arc<plan::ExternalLower>,
    ) -> DataFrame {
        DataFrame {
            frame: Arc::new(Frame {
                schema,
                npartitions,
                node: Node::External { label, lower },
                token,
            }),
        }
    }

    /// The last `n` rows of the last partition (Dask's `tail`, which reads only the last
    /// partition).
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3, 4]).unwrap(), 2);
    /// assert_eq!(ddf.tail(1).compute().unwrap().column("a").unwrap().i32().unwrap().get(0), Some(4));
    /// ```
    pub fn tail(&self, n: usize) -> DataFrame {
        let total = self.frame.npartitions;
        let last = self.partitions(total.saturating_sub(1)..total);
        last.map(Step::Tail(n)).unwrap_or_else(|_| last.clone())
    }

    /// The number of rows, as a lazy value (a tree reduction of partition lengths).
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3]).unwrap(), 3);
    /// assert_eq!(ddf.len().compute().unwrap(), 3);
    /// ```
    // A lazy frame's length is a computation, so there is no `is_empty` to go with it.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> Scalar<usize> {
        let token = Tokenizer::new("len").write(&self.frame.token).finish();
        let counted = DataFrame {
            frame: Arc::new(Frame {
                schema: Arc::new(Schema::from_iter([Field::new(
                    "len".into(),
                    DataType::UInt32,
                )])),
                npartitions: 1,
                node: Node::Aggregate {
                    input: self.frame.clone(),
                    keys: Vec::new(),
                    aggs: vec![AggSpec::size("len")],
                    split_every: 8,
                    split_out: 1,
                },
                token,
            }),
        };
        Scalar::new(counted, |df| Ok(scalar::single_u64(&df)? as usize))
    }

    /// Sums of the numeric columns, as one row (a tree reduction).
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1.0, 2.0], "s" => ["x", "y"]).unwrap(), 2);
    /// let sums = ddf.sum().unwrap().compute().unwrap();
    /// assert_eq!(sums.get_column_names(), ["a"]);
    /// assert_eq!(sums.column("a").unwrap().f64().unwrap().get(0), Some(3.0));
    /// ```
    pub fn sum(&self) -> Result<DataFrame, FrameError> {
        self.reduce_columns(true, |c| col(c).sum())
    }

    /// Means of the numeric columns, as one row.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1.0, 2.0]).unwrap(), 2);
    /// assert_eq!(ddf.mean().unwrap().compute().unwrap().column("a").unwrap().f64().unwrap().get(0), Some(1.5));
    /// ```
    pub fn mean(&self) -> Result<DataFrame, FrameError> {
        self.reduce_columns(true, |c| col(c).mean())
    }

    /// Minimums of every column, as one row.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [3, 1, 2]).unwrap(), 2);
    /// assert_eq!(ddf.min().unwrap().compute().unwrap().column("a").unwrap().i32().unwrap().get(0), Some(1));
    /// ```
    pub fn min(&self) -> Result<DataFrame, FrameError> {
        self.reduce_columns(false, |c| col(c).min())
    }

    /// Maximums of every column, as one row.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [3, 1, 2]).unwrap(), 2);
    /// assert_eq!(ddf.max().unwrap().compute().unwrap().column("a").unwrap().i32().unwrap().get(0), Some(3));
    /// ```
    pub fn max(&self) -> Result<DataFrame, FrameError> {
        self.reduce_columns(false, |c| col(c).max())
    }

    /// Non-null counts of every column, as one row.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [Some(1), None]).unwrap(), 2);
    /// assert_eq!(ddf.count().unwrap().compute().unwrap().column("a").unwrap().u32().unwrap().get(0), Some(1));
    /// ```
    pub fn count(&self) -> Result<DataFrame, FrameError> {
        self.reduce_columns(false, |c| col(c).count())
    }

    /// Sample standard deviations (`ddof` 1) of the numeric columns, as one row.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1.0, 3.0]).unwrap(), 2);
    /// let std = ddf.std().unwrap().compute().unwrap();
    /// assert!((std.column("a").unwrap().f64().unwrap().get(0).unwrap() - 2f64.sqrt()).abs() < 1e-12);
    /// ```
    pub fn std(&self) -> Result<DataFrame, FrameError> {
        self.reduce_columns(true, |c| col(c).std(1))
    }

    /// Sample variances (`ddof` 1) of the numeric columns, as one row.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1.0, 3.0]).unwrap(), 2);
    /// assert_eq!(ddf.var().unwrap().compute().unwrap().column("a").unwrap().f64().unwrap().get(0), Some(2.0));
    /// ```
    pub fn var(&self) -> Result<DataFrame, FrameError> {
        self.reduce_columns(true, |c| col(c).var(1))
    }

    /// Distinct-value counts of every column (a null counts as a value), as one row.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 1, 2, 3]).unwrap(), 3);
    /// assert_eq!(ddf.n_unique().unwrap().compute().unwrap().column("a").unwrap().u32().unwrap().get(0), Some(3));
    /// ```
    pub fn n_unique(&self) -> Result<DataFrame, FrameError> {
        self.reduce_columns(false, |c| col(c).n_unique())
    }

    /// Whether any value of each boolean column is true (nulls ignored), as one row.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("b" => [false, true, false]).unwrap(), 3);
    /// assert_eq!(ddf.any().unwrap().compute().unwrap().column("b").unwrap().bool().unwrap().get(0), Some(true));
    /// ```
    pub fn any(&self) -> Result<DataFrame, FrameError> {
        self.agg(
            self.boolean_columns()
                .iter()
                .map(|c| col(c.as_str()).any(true))
                .collect::<Vec<_>>(),
        )
    }

    /// Whether every value of each boolean column is true (nulls ignored), as one row.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("b" => [true, true, false]).unwrap(), 2);
    /// assert_eq!(ddf.all().unwrap().compute().unwrap().column("b").unwrap().bool().unwrap().get(0), Some(false));
    /// ```
    pub fn all(&self) -> Result<DataFrame, FrameError> {
        self.agg(
            self.boolean_columns()
                .iter()
                .map(|c| col(c.as_str()).all(true))
                .collect::<Vec<_>>(),
        )
    }

    fn boolean_columns(&self) -> Vec<String> {
        self.frame
            .schema
            .iter()
            .filter(|(_, dtype)| dtype.is_bool())
            .map(|(name, _)| name.to_string())
            .collect()
    }

    fn numeric_columns(&self) -> Vec<String> {
        self.frame
            .schema
            .iter()
            .filter(|(_, dtype)| dtype.is_primitive_numeric())
            .map(|(name, _)| name.to_string())
            .collect()
    }

    fn reduce_columns(
        &self,
        numeric_only: bool,
        f: impl Fn(&str) -> Expr,
    ) -> Result<DataFrame, FrameError> {
        let columns = if numeric_only {
            self.numeric_columns()
        } else {
            self.columns()
        };
        let exprs: Vec<Expr> = columns.iter().map(|c| f(c)).collect();
        self.agg(exprs)
    }

    /// How often each value of `column` occurs: columns `column` and `count`, most frequent
    /// first (ties by value).
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("k" => ["a", "b", "a"]).unwrap(), 2);
    /// let counts = ddf.value_counts("k").unwrap().compute().unwrap();
    /// assert_eq!(counts.column("count").unwrap().u32().unwrap().get(0), Some(2));
    /// ```
    pub fn value_counts(&self, column: &str) -> Result<DataFrame, FrameError> {
        // One partition, so that one sort orders every value.
        let counted = self
            .group_by([column])
            .split_out(1)
            .agg([polars::prelude::len().alias("count")])?;
        counted.map(Step::Sort(SortSpec {
            by: vec!["count".into(), column.into()],
            descending: vec![true, false],
            nulls_last: true,
        }))
    }

    /// The `n` rows with the largest values of `columns` (compared in order), largest first.
    /// Each partition keeps its own top `n`, and merges keep the top `n` of those.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [5, 1, 9, 3]).unwrap(), 3);
    /// let top = ddf.nlargest(2, &["a"]).unwrap().compute().unwrap();
    /// assert_eq!(top.column("a").unwrap().i32().unwrap().into_no_null_iter().collect::<Vec<_>>(), [9, 5]);
    /// ```
    pub fn nlargest(&self, n: usize, columns: &[&str]) -> Result<DataFrame, FrameError> {
        self.top(n, columns, true)
    }

    /// The `n` rows with the smallest values of `columns`, smallest first.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [5, 1, 9, 3]).unwrap(), 3);
    /// let low = ddf.nsmallest(2, &["a"]).unwrap().compute().unwrap();
    /// assert_eq!(low.column("a").unwrap().i32().unwrap().into_no_null_iter().collect::<Vec<_>>(), [1, 3]);
    /// ```
    pub fn nsmallest(&self, n: usize, columns: &[&str]) -> Result<DataFrame, FrameError> {
        self.top(n, columns, false)
    }

    fn top(&self, n: usize, columns: &[&str], largest: bool) -> Result<DataFrame, FrameError> {
        let exprs: Vec<Expr> = columns.iter().map(|c| col(*c)).collect();
        self.check_columns(&exprs)?;
        if columns.is_empty() {
            return Err(FrameError::Unsupported(
                "nlargest / nsmallest need at least one column".into(),
            ));
        }
        let steps = vec![
            Step::Sort(SortSpec {
                by: columns.iter().map(|c| c.to_string()).collect(),
                descending: vec![largest; columns.len()],
                nulls_last: true,
            }),
            Step::Head(n),
        ];
        let label = if largest { "nlargest" } else { "nsmallest" };
        Ok(self.top_rows(self.frame.clone(), steps, label))
    }

    /// Sort-and-head steps run on each partition of `input` and again on merged results.
    fn top_rows(&self, input: Arc<Frame>, steps: Vec<Step>, label: &'static str) -> DataFrame {
        let token = Tokenizer::new(label)
            .write(&input.token)
            .write(&format!("{steps:?}"))
            .finish();
        DataFrame {
            frame: Arc::new(Frame {
                schema: self.frame.schema.clone(),
                npartitions: 1,
                node: Node::Reduce {
                    input,
                    steps,
                    label,
                    split_every: 8,
                },
                token,
            }),
        }
    }

    /// Approximate quantiles of a numeric column, as Dask's: each partition is summarized by a
    /// sketch of its sorted values and the sketches are merged (exact while a partition has at
    /// most a few thousand values). The result has columns `quantile` and `column`; nulls and
    /// NaNs are skipped.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1.0, 2.0, 3.0, 4.0, 5.0]).unwrap(), 2);
    /// let q = ddf.quantile("a", &[0.5, 0.75]).unwrap().compute().unwrap();
    /// assert_eq!(q.column("a").unwrap().f64().unwrap().into_no_null_iter().collect::<Vec<_>>(), [3.0, 4.0]);
    /// ```
    pub fn quantile(&self, column: &str, qs: &[f64]) -> Result<DataFrame, FrameError> {
        self.check_columns(&[col(column)])?;
        if let Some(q) = qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            return Err(FrameError::Unsupported(format!(
                "quantile {q} is outside [0, 1]"
            )));
        }
        let dtype = self.column_dtype(column);
        if !dtype.is_primitive_numeric() {
            return Err(FrameError::Unsupported(format!(
                "quantile needs a numeric column; `{column}` is {dtype}"
            )));
        }
        let schema = Schema::from_iter([
            Field::new("quantile".into(), DataType::Float64),
            Field::new(column.into(), DataType::Float64),
        ]);
        Ok(self.summary(
            vec![column.to_string()],
            SummaryFinish::Quantiles(qs.to_vec()),
            schema,
        ))
    }

    /// pandas' `describe()` of the numeric columns: count, mean, std, min, 25%, 50%, 75%, max
    /// (quantiles approximate as in [`DataFrame::quantile`]); a `statistic` column names the
    /// rows.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1.0, 2.0, 3.0], "s" => ["x", "y", "z"]).unwrap(), 2);
    /// let d = ddf.describe().compute().unwrap();
    /// assert_eq!(d.get_column_names(), ["statistic", "a"]);
    /// assert_eq!(d.column("a").unwrap().f64().unwrap().get(5), Some(2.0)); // the median
    /// ```
    pub fn describe(&self) -> DataFrame {
        let columns = self.numeric_columns();
        let mut fields = vec![Field::new("statistic".into(), DataType::String)];
        fields.extend(
            columns
                .iter()
                .map(|c| Field::new(c.as_str().into(), DataType::Float64)),
        );
        self.summary(columns, SummaryFinish::Describe, Schema::from_iter(fields))
    }

    fn summary(&self, columns: Vec<String>, finish: SummaryFinish, schema: Schema) -> DataFrame {
        let token = Tokenizer::new("summary")
            .write(&self.frame.token)
            .write(&columns)
            .write(&format!("{finish:?}"))
            .finish();
        DataFrame {
            frame: Arc::new(Frame {
                schema: Arc::new(schema),
                npartitions: 1,
                node: Node::Summary {
                    input: self.frame.clone(),
                    columns,
                    finish,
                    split_every: 8,
                },
                token,
            }),
        }
    }

    /// Writes one CSV file per partition (with a header); the `*` in `pattern` becomes the
    /// zero-padded partition number. Nothing is written until the returned value is computed;
    /// it computes to the paths written.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let dir = std::env::temp_dir().join(format!("dusk-doc-csv-{}", std::process::id()));
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3, 4]).unwrap(), 2);
    /// let paths = ddf.to_csv(dir.join("part-*.csv").to_str().unwrap()).unwrap().compute().unwrap();
    /// assert_eq!(paths.len(), 2);
    /// assert_eq!(std::fs::read_to_string(&paths[0]).unwrap(), "a\n1\n2\n");
    /// # std::fs::remove_dir_all(dir).ok();
    /// ```
    pub fn to_csv(&self, pattern: &str) -> Result<Scalar<Vec<PathBuf>>, FrameError> {
        self.write(pattern, WriteFormat::Csv)
    }

    /// Writes one Parquet file per partition (see [`DataFrame::to_csv`] for the pattern).
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let dir = std::env::temp_dir().join(format!("dusk-doc-pq-{}", std::process::id()));
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3]).unwrap(), 3);
    /// let paths = ddf.to_parquet(dir.join("*.parquet").to_str().unwrap()).unwrap().compute().unwrap();
    /// assert_eq!(paths.len(), 3);
    /// # std::fs::remove_dir_all(dir).ok();
    /// ```
    pub fn to_parquet(&self, pattern: &str) -> Result<Scalar<Vec<PathBuf>>, FrameError> {
        self.write(pattern, WriteFormat::Parquet)
    }

    fn write(
        &self,
        pattern: &str,
        format: WriteFormat,
    ) -> Result<Scalar<Vec<PathBuf>>, FrameError> {
        let paths = write::expand_pattern(pattern, self.frame.npartitions)?;
        let token = Tokenizer::new("write")
            .write(&self.frame.token)
            .write(pattern)
            .write(&format)
            .finish();
        let written = DataFrame {
            frame: Arc::new(Frame {
                schema: Arc::new(Schema::from_iter([Field::new(
                    "path".into(),
                    DataType::String,
                )])),
                npartitions: self.frame.npartitions,
                node: Node::Write {
                    input: self.frame.clone(),
                    target: Arc::new(WriteTarget { format, paths }),
                },
                token,
            }),
        };
        Ok(Scalar::new(written, write::written_paths))
    }

    /// Aggregates the whole frame into one row: `agg([col("value").mean(), len()])`.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1.0, 2.0, 6.0]).unwrap(), 2);
    /// let out = ddf.agg([col("a").sum().alias("s"), col("a").mean().alias("m")]).unwrap().compute().unwrap();
    /// assert_eq!(out.column("s").unwrap().f64().unwrap().get(0), Some(9.0));
    /// assert_eq!(out.column("m").unwrap().f64().unwrap().get(0), Some(3.0));
    /// ```
    pub fn agg<E: AsRef<[Expr]>>(&self, exprs: E) -> Result<DataFrame, FrameError> {
        self.aggregate(Vec::new(), exprs.as_ref(), 8, 1)
    }

    /// Groups rows by the values of `keys` for an aggregation. How many partitions the result
    /// gets is chosen as Dask does by default ([`GroupBy::split_out_auto`]): one for up to 15
    /// input partitions with one key, more for more partitions or keys, so a group-by over
    /// many partitions (likely many groups) does not end in one task holding every group.
    pub fn group_by<I: IntoIterator<Item = S>, S: Into<String>>(&self, keys: I) -> GroupBy {
        GroupBy {
            frame: self.clone(),
            keys: keys.into_iter().map(Into::into).collect(),
            split_every: 8,
            split_out: SplitOut::Auto,
        }
    }

    fn aggregate(
        &self,
        keys: Vec<String>,
        exprs: &[Expr],
        split_every: usize,
        split_out: usize,
    ) -> Result<DataFrame, FrameError> {
        let key_exprs: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
        self.check_columns(&key_exprs)?;
        self.check_columns(exprs)?;
        let aggs = exprs
            .iter()
            .map(AggSpec::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if aggs.is_empty() {
            return Err(FrameError::Unsupported(
                "an aggregation needs at least one expression".into(),
            ));
        }
        // Run the whole reduction on an empty frame: checks types now and yields the schema.
        let schema = {
            let mut g = Graph::new();
            let probe = from_polars(
                polars::prelude::DataFrame::empty_with_schema(&self.frame.schema),
                1,
            );
            let frame = Frame {
                schema: self.frame.schema.clone(),
                npartitions: 1,
                token: String::new(),
                node: Node::Aggregate {
                    input: probe.frame.clone(),
                    keys: keys.clone(),
                    aggs: aggs.clone(),
                    split_every,
                    split_out: 1,
                },
            };
            let out_keys = frame.lower(&None, &mut g).map_err(|e| {
                FrameError::Unsupported(format!("aggregation could not be planned: {e}"))
            })?;
            let (out, _) = probe_frame(&g, &out_keys).map_err(|e| {
                FrameError::Unsupported(format!("aggregation failed on an empty frame: {e}"))
            })?;
            out.schema().clone()
        };
        let token = Tokenizer::new("aggregate")
            .write(&self.frame.token)
            .write(&keys)
            .write(&format!("{aggs:?}"))
            .write(&split_every)
            .write(&split_out)
            .finish();
        Ok(DataFrame {
            frame: Arc::new(Frame {
                schema,
                npartitions: split_out,
                node: Node::Aggregate {
                    input: self.frame.clone(),
                    keys,
                    aggs,
                    split_every,
                    split_out,
                },
                token,
            }),
        })
    }

    /// The optimized plan, as text: what each partition task does and which columns each
    /// source reads.
    ///
    /// ```
    /// use polars::prelude::*;
    /// let events = dusk_datasets::sample_dir().join("events/*.csv");
    /// let df = dusk_collections::dataframe::read_csv(events.to_str().unwrap()).unwrap();
    /// let plan = df.filter(col("value").gt(lit(100.0))).unwrap()
    ///     .group_by(["user_id"]).agg([col("value").mean()]).unwrap()
    ///     .explain();
    /// assert!(plan.contains("read_csv"), "{plan}");
    /// assert!(plan.contains("\"user_id\", \"value\""), "{plan}"); // only two columns are parsed
    /// ```
    pub fn explain(&self) -> String {
        let mut out = String::new();
        self.frame.explain(&None, 0, &mut out);
        out
    }
}

/// Runs a tiny graph in this thread and returns its single frame.
fn probe_frame(
    graph: &Graph,
    outputs: &[Key],
) -> Result<(polars::prelude::DataFrame, ()), dusk_core::BoxError> {
    let out = crate::probe::run_locally(graph, outputs)?;
    let first = out.first().ok_or("missing output")?;
    Ok((first.as_frame()?.clone(), ()))
}

/// A pending group-by: choose the aggregations with [`GroupBy::agg`].
pub struct GroupBy {
    frame: DataFrame,
    keys: Vec<String>,
    split_every: usize,
    split_out: SplitOut,
}

/// How many partitions a group-by's result gets.
#[derive(Clone, Copy, Debug)]
enum SplitOut {
    Fixed(usize),
    /// Chosen from the input's partition count and the number of keys.
    Auto,
}

/// dask-expr's rule for `split_out=True`: with one key, one output partition per 15 input
/// partitions; with `k` keys, `(k - 1)` per 10 (more keys, more likely distinct groups).
fn auto_split_out(npartitions: usize, keys: usize) -> usize {
    let n = if keys <= 1 {
        npartitions.div_ceil(15)
    } else {
        (npartitions * (keys - 1)).div_ceil(10)
    };
    n.clamp(1, npartitions.max(1))
}

impl GroupBy {
    /// Spreads the result over `n` partitions (Dask's `split_out`): partial aggregates are
    /// hash-partitioned on the keys, so no single task holds every group — for group-bys with
    /// millions of groups. Each output partition is sorted by the keys; together they are not.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("k" => [1, 2, 3, 1], "v" => [1, 2, 3, 4]).unwrap(), 2);
    /// let sums = ddf.group_by(["k"]).split_out(2).agg([col("v").sum()]).unwrap();
    /// assert_eq!(sums.npartitions(), 2);
    /// assert_eq!(sums.compute().unwrap().height(), 3);
    /// ```
    pub fn split_out(mut self, n: usize) -> GroupBy {
        self.split_out = SplitOut::Fixed(n.max(1));
        self
    }

    /// Chooses `split_out` from the shape of the input — the default, as in Dask (dask-expr
    /// tunes `split_out=None` this way) — never by reading data while the expression is built:
    /// with one key, one output partition per 15 input partitions (rounded up); with `k` keys,
    /// `k - 1` per 10 input partitions, since combinations of several keys are more likely to
    /// be distinct. At most one output per input partition. A group-by over few partitions
    /// stays a tree reduction into one partition; use [`GroupBy::split_out`] when the number of
    /// groups is known (`split_out(1)` for one sorted result).
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let keys: Vec<i64> = (0..600).map(|i| i % 97).collect();
    /// let ddf = dusk_collections::dataframe::from_polars(df!("k" => keys.clone(), "j" => keys).unwrap(), 30);
    /// let one_key = ddf.group_by(["k"]).split_out_auto().agg([len()]).unwrap();
    /// assert_eq!(one_key.npartitions(), 2); // 30 partitions / 15
    /// let two_keys = ddf.group_by(["k", "j"]).split_out_auto().agg([len()]).unwrap();
    /// assert_eq!(two_keys.npartitions(), 3); // 30 * (2 - 1) / 10
    /// assert_eq!(one_key.compute().unwrap().height(), 97);
    /// ```
    pub fn split_out_auto(mut self) -> GroupBy {
        self.split_out = SplitOut::Auto;
        self
    }

    /// How many partial results each combine task merges (Dask's `split_every`, default 8).
    pub fn split_every(mut self, n: usize) -> GroupBy {
        self.split_every = n.max(2);
        self
    }

    /// Aggregates each group; the result has one row per group, sorted by the keys within
    /// each output partition (one partition unless the input has more than 15 partitions, see
    /// [`GroupBy::split_out_auto`]).
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("k" => ["a", "b", "a"], "v" => [1, 2, 3]).unwrap(), 2);
    /// let out = ddf.group_by(["k"]).agg([col("v").sum().alias("total"), len()]).unwrap().compute().unwrap();
    /// assert_eq!(out.column("total").unwrap().i32().unwrap().get(0), Some(4));
    /// ```
    pub fn agg<E: AsRef<[Expr]>>(self, exprs: E) -> Result<DataFrame, FrameError> {
        if self.keys.is_empty() {
            return Err(FrameError::Unsupported(
                "group_by needs at least one key column".into(),
            ));
        }
        let split_out = match self.split_out {
            SplitOut::Fixed(n) => n,
            SplitOut::Auto => auto_split_out(self.frame.npartitions(), self.keys.len()),
        };
        self.frame
            .aggregate(self.keys, exprs.as_ref(), self.split_every, split_out)
    }
}

impl Collection for DataFrame {
    type Output = polars::prelude::DataFrame;

    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        self.frame.lower(&None, graph)
    }

    fn num_outputs(&self) -> usize {
        self.frame.npartitions
    }

    fn finalize(&self, results: Vec<Data>) -> Result<Self::Output, ComputeError> {
        let frames = results
            .iter()
            .map(|d| d.as_frame().cloned())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| ComputeError::Result {
                key: Key::new("dataframe"),
                source,
            })?;
        if frames.is_empty() {
            return Ok(polars::prelude::DataFrame::empty_with_schema(
                &self.frame.schema,
            ));
        }
        kernels::concat_frames(frames).map_err(|e| ComputeError::Lowering(Box::new(e)))
    }
}
