//! Operations that change which rows live in which partition: `shuffle`, `sort_values`,
//! `drop_duplicates`, `repartition`, `concat`.
//!
//! Sorting follows Dask's `sort_values`: approximate quantiles of the first sort column (the
//! same mergeable sketches as [`DataFrame::quantile`]) give the partition boundaries, a range
//! shuffle moves the rows, and each partition is sorted on its own, so partition `i` holds
//! values no greater than partition `i + 1`. The boundaries are a task of the graph, not a pass
//! run while the expression is built. Deduplication hash-shuffles on the subset, so equal rows
//! meet in one partition, then keeps one of each there.

use std::sync::Arc;

use dusk_core::{Data, FnOp, Graph, Key, Tokenizer};
use polars::prelude::*;

use super::kernels::{SortSpec, Step};
use super::plan::{Frame, Node, Split};
use super::{DataFrame, FrameError};

/// Which of a set of duplicate rows `drop_duplicates` keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Keep {
    /// The first in the frame's order.
    First,
    /// The last in the frame's order.
    Last,
}

impl DataFrame {
    /// Moves rows so that equal values of `on` share a partition; `n` output partitions.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("k" => [1, 2, 1, 2, 3]).unwrap(), 3);
    /// let s = ddf.shuffle(&["k"], 2).unwrap();
    /// assert_eq!(s.npartitions(), 2);
    /// assert_eq!(s.compute().unwrap().height(), 5);
    /// ```
    pub fn shuffle(&self, on: &[&str], n: usize) -> Result<DataFrame, FrameError> {
        self.check_columns(&on.iter().map(|c| col(*c)).collect::<Vec<_>>())?;
        if on.is_empty() || n == 0 {
            return Err(FrameError::Unsupported(
                "shuffle needs at least one column and one output partition".into(),
            ));
        }
        let on: Vec<String> = on.iter().map(|c| c.to_string()).collect();
        Ok(self.hash_partitioned(&on, n))
    }

    /// Sorts by `by` (each ascending unless its `descending` flag is set), nulls last or
    /// first. The first column must be numeric or temporal to be range-partitioned; otherwise
    /// the frame is gathered into one partition and sorted there.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [3, 1, 2, 5, 4]).unwrap(), 2);
    /// let s = ddf.sort_values(&["a"], &[false], true).unwrap().compute().unwrap();
    /// assert_eq!(s.column("a").unwrap().i32().unwrap().into_no_null_iter().collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    /// ```
    pub fn sort_values(
        &self,
        by: &[&str],
        descending: &[bool],
        nulls_last: bool,
    ) -> Result<DataFrame, FrameError> {
        self.check_columns(&by.iter().map(|c| col(*c)).collect::<Vec<_>>())?;
        if by.is_empty() || descending.len() != by.len() {
            return Err(FrameError::Unsupported(format!(
                "sort_values needs one descending flag per column: {by:?} vs {descending:?}"
            )));
        }
        let spec = SortSpec {
            by: by.iter().map(|c| c.to_string()).collect(),
            descending: descending.to_vec(),
            nulls_last,
        };
        let n = self.frame.npartitions;
        let first = by[0];
        let dtype = self.column_dtype(first);
        let rangeable = dtype.is_primitive_numeric() || dtype.is_temporal();
        let moved = if n <= 1 {
            self.clone()
        } else if !rangeable {
            self.repartition(1)?
        } else {
            let qs: Vec<f64> = (1..n).map(|i| i as f64 / n as f64).collect();
            let as_number = self.with_columns([col(first).cast(DataType::Float64)])?;
            let bounds = as_number.quantile(first, &qs)?;
            let token = Tokenizer::new("range-shuffle")
                .write(&self.frame.token)
                .write(&spec)
                .write(&super::shuffle_method())
                .finish();
            DataFrame {
                frame: Arc::new(Frame {
                    schema: self.frame.schema.clone(),
                    npartitions: n,
                    node: Node::Shuffle {
                        input: self.frame.clone(),
                        split: Split::Range {
                            column: first.to_string(),
                            descending: descending[0],
                            nulls_last,
                            bounds: bounds.frame.clone(),
                        },
                        method: super::shuffle_method(),
                    },
                    token,
                }),
            }
        };
        moved.map(Step::Sort(spec))
    }

    /// Drops duplicate rows (equal in `subset`, or in every column when `None`), keeping the
    /// first or last of each set. Rows come out grouped by the hash partition they were moved
    /// to, as in Dask.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// use dusk_collections::dataframe::{from_polars, Keep};
    /// let ddf = from_polars(df!("k" => [1, 2, 1, 2], "v" => [10, 20, 30, 40]).unwrap(), 2);
    /// let out = ddf.drop_duplicates(Some(&["k"]), Keep::Last).unwrap().compute().unwrap();
    /// assert_eq!(out.height(), 2);
    /// ```
    pub fn drop_duplicates(
        &self,
        subset: Option<&[&str]>,
        keep: Keep,
    ) -> Result<DataFrame, FrameError> {
        let subset: Vec<String> = match subset {
            Some(cols) => {
                self.check_columns(&cols.iter().map(|c| col(*c)).collect::<Vec<_>>())?;
                cols.iter().map(|c| c.to_string()).collect()
            }
            None => self.columns(),
        };
        let moved = self.hash_partitioned(&subset, self.frame.npartitions.max(1));
        moved.map(Step::Unique {
            subset,
            keep_last: keep == Keep::Last,
        })
    }

    /// The number of distinct values of `column` (null counts as one value, as in Polars),
    /// counted over `split_out` hash partitions of the values (Dask's
    /// `nunique(split_out=...)`): each partition is made distinct, the distinct values are
    /// hash-shuffled, and each output counts its own, so no task holds every distinct value.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("k" => [1, 2, 1, 3, 2]).unwrap(), 2);
    /// assert_eq!(ddf.n_unique_split("k", 3).unwrap().compute().unwrap(), 3);
    /// assert!(ddf.n_unique_split("nope", 3).is_err());
    /// ```
    pub fn n_unique_split(
        &self,
        column: &str,
        split_out: usize,
    ) -> Result<super::Scalar<usize>, FrameError> {
        let subset = vec![column.to_string()];
        let distinct = || Step::Unique {
            subset: subset.clone(),
            keep_last: false,
        };
        let local = self.select([col(column)])?.map(distinct())?;
        let moved = local.hash_partitioned(&subset, split_out.max(1));
        Ok(moved.map(distinct())?.len())
    }

    /// The distinct rows (`drop_duplicates` over every column, keeping the first).
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("k" => [1, 1, 2]).unwrap(), 2);
    /// assert_eq!(ddf.unique().unwrap().compute().unwrap().height(), 2);
    /// ```
    pub fn unique(&self) -> Result<DataFrame, FrameError> {
        self.drop_duplicates(None, Keep::First)
    }

    /// The same rows in `n` partitions: neighbouring partitions are concatenated (fewer) or
    /// each is cut into even slices (more). Row order is kept; nothing is shuffled.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => [1, 2, 3, 4, 5]).unwrap(), 2);
    /// assert_eq!(ddf.repartition(5).unwrap().npartitions(), 5);
    /// assert_eq!(ddf.repartition(1).unwrap().compute().unwrap().height(), 5);
    /// ```
    pub fn repartition(&self, n: usize) -> Result<DataFrame, FrameError> {
        if n == 0 {
            return Err(FrameError::Unsupported(
                "repartition needs at least one partition".into(),
            ));
        }
        if n == self.frame.npartitions {
            return Ok(self.clone());
        }
        let token = Tokenizer::new("repartition")
            .write(&self.frame.token)
            .write(&n)
            .finish();
        Ok(DataFrame {
            frame: Arc::new(Frame {
                schema: self.frame.schema.clone(),
                npartitions: n,
                node: Node::Repartition {
                    input: self.frame.clone(),
                },
                token,
            }),
        })
    }
}

impl DataFrame {
    /// The same rows in partitions of about `bytes` of memory each (Dask's
    /// `repartition(partition_size=...)`): partitions larger than `bytes` are cut into even
    /// slices and neighbouring small ones are joined up to `bytes`. Row order is kept; nothing
    /// is shuffled. As in Dask, the size of every partition is computed now, with a pass over
    /// the data in this thread (persist the frame first if it is expensive to compute).
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// let rows: Vec<i64> = (0..10_000).collect();
    /// let ddf = dusk_collections::dataframe::from_polars(df!("a" => rows).unwrap(), 2);
    /// // Each partition holds 40 KB: cut into 4 KB slices.
    /// let small = ddf.repartition_size(4_000).unwrap();
    /// assert_eq!(small.npartitions(), 20);
    /// // Joined again up to 100 KB.
    /// assert_eq!(small.repartition_size(100_000).unwrap().npartitions(), 1);
    /// assert_eq!(small.compute().unwrap().height(), 10_000);
    /// assert!(ddf.repartition_size(0).is_err());
    /// ```
    pub fn repartition_size(&self, bytes: usize) -> Result<DataFrame, FrameError> {
        if bytes == 0 {
            return Err(FrameError::Unsupported(
                "repartition_size needs a positive partition size".into(),
            ));
        }
        if self.frame.npartitions == 0 {
            return Ok(self.clone());
        }
        let sizes = self.partition_sizes()?;
        let outputs = Arc::new(plan_cuts(&sizes, bytes as u64));
        let token = Tokenizer::new("repartition-size")
            .write(&self.frame.token)
            .write(&*outputs)
            .finish();
        Ok(DataFrame {
            frame: Arc::new(Frame {
                schema: self.frame.schema.clone(),
                npartitions: outputs.len(),
                node: Node::Recut {
                    input: self.frame.clone(),
                    outputs,
                },
                token,
            }),
        })
    }

    /// The in-memory size in bytes of every partition, computed now in this thread.
    fn partition_sizes(&self) -> Result<Vec<u64>, FrameError> {
        let failed = |e: String| {
            FrameError::Unsupported(format!("could not measure the partitions' sizes: {e}"))
        };
        let mut graph = Graph::new();
        let parts = self
            .frame
            .lower(&None, &mut graph)
            .map_err(|e| failed(e.to_string()))?;
        let name = format!("partition-size-{}", self.frame.token);
        let keys: Vec<Key> = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let key = Key::part(name.as_str(), i as u32);
                let op = FnOp::new("partition-size", |inputs: Vec<Data>| {
                    let df = inputs.first().ok_or("no partition")?.as_frame()?;
                    Ok(Data::local(df.estimated_size() as u64))
                });
                graph.add(key.clone(), op, vec![part.clone()]);
                key
            })
            .collect();
        let out = crate::probe::run_locally(&graph, &keys).map_err(|e| failed(e.to_string()))?;
        out.iter()
            .map(|d| {
                d.downcast_ref::<u64>()
                    .copied()
                    .map_err(|e| failed(e.to_string()))
            })
            .collect()
    }
}

/// Which slices of which inputs make each output: input `i` of `sizes[i]` bytes is cut into
/// `ceil(sizes[i] / bytes)` even slices, and consecutive slices are packed into outputs of at
/// most `bytes` (an output always takes at least one slice).
fn plan_cuts(sizes: &[u64], bytes: u64) -> Vec<Vec<(usize, usize, usize)>> {
    let mut outputs: Vec<Vec<(usize, usize, usize)>> = Vec::new();
    let mut current: Vec<(usize, usize, usize)> = Vec::new();
    let mut filled = 0u64;
    for (i, &size) in sizes.iter().enumerate() {
        let of = size.div_ceil(bytes).max(1) as usize;
        let each = size / of as u64;
        for piece in 0..of {
            if !current.is_empty() && filled + each > bytes {
                outputs.push(std::mem::take(&mut current));
                filled = 0;
            }
            current.push((i, piece, of));
            filled += each;
        }
    }
    if !current.is_empty() {
        outputs.push(current);
    }
    outputs
}

/// The partitions of `frames`, one after the other; their schemas must be equal.
///
/// ```
/// use polars::prelude::*;
/// use dusk_scheduler::Compute;
/// use dusk_collections::dataframe::{concat, from_polars};
/// let a = from_polars(df!("x" => [1, 2]).unwrap(), 1);
/// let b = from_polars(df!("x" => [3]).unwrap(), 1);
/// let both = concat(&[a, b]).unwrap();
/// assert_eq!(both.npartitions(), 2);
/// assert_eq!(both.compute().unwrap().height(), 3);
/// ```
pub fn concat(frames: &[DataFrame]) -> Result<DataFrame, FrameError> {
    let first = frames
        .first()
        .ok_or_else(|| FrameError::Unsupported("concat needs at least one frame".into()))?;
    for (i, f) in frames.iter().enumerate().skip(1) {
        if f.frame.schema != first.frame.schema {
            return Err(FrameError::Unsupported(format!(
                "concat: frame {i} has schema {:?} but frame 0 has {:?}",
                f.frame.schema, first.frame.schema
            )));
        }
    }
    let mut token = Tokenizer::new("concat");
    for f in frames {
        token.write(&f.frame.token);
    }
    Ok(DataFrame {
        frame: Arc::new(Frame {
            schema: first.frame.schema.clone(),
            npartitions: frames.iter().map(|f| f.frame.npartitions).sum(),
            node: Node::Concat(frames.iter().map(|f| f.frame.clone()).collect()),
            token: token.finish(),
        }),
    })
}
