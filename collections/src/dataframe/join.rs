//! Joins: `DataFrame::join` and the kernel each join task runs.
//!
//! A distributed join must bring matching rows into the same task. dusk picks one of two
//! layouts, as Dask does, and `explain()` shows which:
//!
//! - **broadcast** — when the right side is small (at most [`BROADCAST_PARTITIONS`]
//!   partitions) and the join keeps only left rows or matches (`inner`, `left`, `semi`,
//!   `anti`), every left partition is joined with the whole right side: the big side never
//!   moves.
//! - **hash-partitioned** — otherwise both sides are hash-shuffled on the keys into the same
//!   number of partitions and joined partition by partition. A side that is already
//!   hash-partitioned on its keys (the output of a shuffle or of such a join, through steps that
//!   keep rows in place) is not shuffled again; the other side follows its layout.
//!
//! - **aligned on the index** — when both sides are joined on their index columns (see
//!   [`DataFrame::set_index`]) and both divisions are known, partition `i` meets partition `i`
//!   after both sides are cut to the union of their divisions: no shuffle.
//!
//! Each inner join task lets Polars build its hash table on the side with far fewer distinct
//! keys rather than on the shorter one (see `build_side`): after a shuffle, which side of a
//! partition is a few rows shorter is chance, and the wrong one costs several times more.
//!
//! `semi` and `anti` joins are a left join against the right side's distinct keys with a
//! marker column, so they need no extra Polars features.

use std::sync::Arc;

use dusk_core::op::encode_serde;
use dusk_core::{BoxError, Data, Op, Tokenizer, WireError, WireOp};
use polars::prelude::*;

use super::build_side::{join_in_pieces, pieces_of_longer_side};
use super::kernels::{concat_frames, Step};
use super::plan::{Frame, JoinLayout, JoinSpec, Node, Split};
use super::{DataFrame, FrameError};

/// Right sides with at most this many partitions are broadcast (for the joins that allow it).
pub const BROADCAST_PARTITIONS: usize = 4;

/// Which rows a join keeps (pandas' and Dask's `how`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum JoinHow {
    /// Rows with a match on both sides.
    Inner,
    /// Every left row, with the right columns where a match exists.
    Left,
    /// Every right row, with the left columns where a match exists.
    Right,
    /// Every row of both sides; the key columns are merged (pandas' `outer`).
    Outer,
    /// Left rows that have a match (left columns only).
    Semi,
    /// Left rows without a match (left columns only).
    Anti,
}

const MARKER: &str = "__dusk_join_marker";

/// Joins two frames as the spec says: the kernel of every join task, and the oracle-shaped
/// definition of what a dusk join returns.
pub(crate) fn join_frames(
    left: polars::prelude::DataFrame,
    right: polars::prelude::DataFrame,
    spec: &JoinSpec,
) -> PolarsResult<polars::prelude::DataFrame> {
    let left_on: Vec<Expr> = spec.left_on.iter().map(|c| col(c.as_str())).collect();
    let right_on: Vec<Expr> = spec.right_on.iter().map(|c| col(c.as_str())).collect();
    let args = |how: JoinType| {
        let full = how == JoinType::Full;
        let args = JoinArgs::new(how).with_suffix(Some(spec.suffix.as_str().into()));
        if full {
            args.with_coalesce(JoinCoalesce::CoalesceColumns)
        } else {
            args
        }
    };
    match spec.how {
        JoinHow::Inner | JoinHow::Left | JoinHow::Right | JoinHow::Outer => {
            let how = match spec.how {
                JoinHow::Inner => JoinType::Inner,
                JoinHow::Left => JoinType::Left,
                JoinHow::Right => JoinType::Right,
                _ => JoinType::Full,
            };
            let join = |left: polars::prelude::DataFrame, right: polars::prelude::DataFrame| {
                left.lazy()
                    .join(
                        right.lazy(),
                        left_on.clone(),
                        right_on.clone(),
                        args(how.clone()),
                    )
                    .collect()
            };
            if spec.how == JoinHow::Inner {
                let cut = pieces_of_longer_side(&left, &right, &spec.left_on, &spec.right_on)?;
                if let Some(pieces) = cut {
                    return join_in_pieces(&left, &right, pieces, join);
                }
            }
            join(left, right)
        }
        JoinHow::Semi | JoinHow::Anti => {
            // The right side's distinct keys, renamed to the left names, with a marker.
            let keys: Vec<Expr> = spec
                .right_on
                .iter()
                .zip(&spec.left_on)
                .map(|(r, l)| col(r.as_str()).alias(l.as_str()))
                .collect();
            let distinct = right
                .lazy()
                .select(keys)
                .unique_stable(None, UniqueKeepStrategy::First)
                .with_column(lit(true).alias(MARKER));
            let matched = left
                .lazy()
                .join(distinct, left_on.clone(), left_on, args(JoinType::Left))
                .filter(if spec.how == JoinHow::Semi {
                    col(MARKER).is_not_null()
                } else {
                    col(MARKER).is_null()
                });
            matched
                .drop(Selector::ByName {
                    names: Arc::new([MARKER.into()]),
                    strict: true,
                })
                .collect()
        }
    }
}

/// The columns and partition count this frame is known to be hash-partitioned by: the output
/// of a hash shuffle or of a partition-wise join (on its left keys), through per-partition
/// steps that keep every row in its partition and leave the key columns alone.
pub(crate) fn partitioning(frame: &Frame) -> Option<(Vec<String>, usize)> {
    match &frame.node {
        Node::Shuffle {
            split: Split::Hash(on),
            ..
        } => Some((on.clone(), frame.npartitions)),
        Node::Join {
            spec,
            layout: JoinLayout::Hash,
            ..
        } if matches!(
            spec.how,
            JoinHow::Inner | JoinHow::Left | JoinHow::Semi | JoinHow::Anti
        ) =>
        {
            Some((spec.left_on.clone(), frame.npartitions))
        }
        Node::Map { input, step } => {
            let (on, n) = partitioning(input)?;
            let keeps_keys = match step {
                Step::Filter(_) | Step::Sort(_) | Step::Unique { .. } => true,
                Step::Head(_) | Step::Tail(_) => true,
                Step::WithColumns(exprs) => exprs.iter().all(|e| {
                    !on.iter().any(|k| {
                        e.to_field(&input.schema)
                            .is_ok_and(|f| f.name().as_str() == k)
                    })
                }),
                Step::Select(exprs) => on.iter().all(|k| {
                    exprs
                        .iter()
                        .any(|e| matches!(e, Expr::Column(name) if name.as_str() == k))
                }),
                Step::Drop(cols) => !cols.iter().any(|c| on.contains(c)),
                Step::Rename(_) | Step::Custom { .. } => false,
            };
            keeps_keys.then_some((on, n))
        }
        _ => None,
    }
}

/// Joins partition 0 (left) with the concatenation of the other inputs (right).
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct JoinOp {
    pub spec: Arc<JoinSpec>,
}

impl Op for JoinOp {
    fn name(&self) -> &str {
        "join"
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let left = inputs[0].as_frame()?.clone();
        let rights = inputs[1..]
            .iter()
            .map(|d| d.as_frame().cloned())
            .collect::<Result<Vec<_>, _>>()?;
        let right = concat_frames(rights)?;
        Ok(Data::Frame(join_frames(left, right, &self.spec)?))
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}

super::kernels::frame_ops! {
    JoinOp => "dusk.frame.join",
}

impl DataFrame {
    /// Joins with `right` where `left_on` equals `right_on` (column lists of equal length),
    /// keeping rows as `how` says; right columns whose names clash get `suffix`. Key nulls
    /// never match. See the module docs for how the work is laid out.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use dusk_scheduler::Compute;
    /// use dusk_collections::dataframe::{from_polars, JoinHow};
    /// let events = from_polars(df!("user" => [1, 2, 1, 3], "v" => [1.0, 2.0, 3.0, 4.0]).unwrap(), 2);
    /// let users = from_polars(df!("user" => [1, 2], "country" => ["fr", "jp"]).unwrap(), 1);
    /// let joined = events.join(&users, &["user"], &["user"], JoinHow::Inner, "_right").unwrap();
    /// assert!(joined.explain().contains("broadcast"));
    /// assert_eq!(joined.compute().unwrap().height(), 3);
    /// ```
    pub fn join(
        &self,
        right: &DataFrame,
        left_on: &[&str],
        right_on: &[&str],
        how: JoinHow,
        suffix: &str,
    ) -> Result<DataFrame, FrameError> {
        if left_on.is_empty() || left_on.len() != right_on.len() {
            return Err(FrameError::Unsupported(format!(
                "join needs as many left keys as right keys, and at least one: {left_on:?} vs \
                 {right_on:?}"
            )));
        }
        self.check_columns(&left_on.iter().map(|c| col(*c)).collect::<Vec<_>>())?;
        right.check_columns(&right_on.iter().map(|c| col(*c)).collect::<Vec<_>>())?;
        let spec = Arc::new(JoinSpec {
            left_on: left_on.iter().map(|c| c.to_string()).collect(),
            right_on: right_on.iter().map(|c| c.to_string()).collect(),
            how,
            suffix: suffix.to_string(),
        });
        // The output schema, and a type check of the keys, from a join of empty frames.
        let schema = join_frames(
            polars::prelude::DataFrame::empty_with_schema(&self.frame.schema),
            polars::prelude::DataFrame::empty_with_schema(&right.frame.schema),
            &spec,
        )
        .map_err(|e| FrameError::polars(format!("join on {left_on:?} = {right_on:?}"), e))?
        .schema()
        .clone();
        let broadcast = right.frame.npartitions <= BROADCAST_PARTITIONS
            && matches!(
                how,
                JoinHow::Inner | JoinHow::Left | JoinHow::Semi | JoinHow::Anti
            );
        let aligned =
            super::index::join_divisions(&self.frame, &right.frame, &spec.left_on, &spec.right_on);
        let (layout, left_frame, right_frame, n) = if let Some((l, r, common)) = aligned {
            // Both sides are indexed on the keys: cut both to common divisions, join
            // partition by partition.
            (
                JoinLayout::Divisions,
                self.aligned_to(&l, &common).frame,
                right.aligned_to(&r, &common).frame,
                common.len() - 1,
            )
        } else if broadcast {
            (
                JoinLayout::Broadcast,
                self.frame.clone(),
                right.frame.clone(),
                self.frame.npartitions,
            )
        } else {
            // A side already hash-partitioned on its keys keeps its layout; the other follows.
            let left_layout = partitioning(&self.frame).filter(|(on, _)| *on == spec.left_on);
            let right_layout = partitioning(&right.frame).filter(|(on, _)| *on == spec.right_on);
            let n = match (left_layout, right_layout) {
                (Some((_, n)), _) | (None, Some((_, n))) => n,
                (None, None) => self.frame.npartitions.max(right.frame.npartitions),
            };
            (
                JoinLayout::Hash,
                self.hash_partitioned(&spec.left_on, n).frame,
                right.hash_partitioned(&spec.right_on, n).frame,
                n,
            )
        };
        let token = Tokenizer::new("join")
            .write(&self.frame.token)
            .write(&right.frame.token)
            .write(spec.as_ref())
            .write(&format!("{layout:?}"))
            .finish();
        Ok(DataFrame {
            frame: Arc::new(Frame {
                schema,
                npartitions: n,
                node: Node::Join {
                    left: left_frame,
                    right: right_frame,
                    spec,
                    layout,
                },
                token,
            }),
        })
    }

    /// This frame hash-partitioned on `on` into `n` partitions (no-op when it already is).
    pub(crate) fn hash_partitioned(&self, on: &[String], n: usize) -> DataFrame {
        if partitioning(&self.frame).is_some_and(|(keys, m)| keys == on && m == n) {
            return self.clone();
        }
        let token = Tokenizer::new("hash-shuffle")
            .write(&self.frame.token)
            .write(on)
            .write(&n)
            .write(&super::shuffle_method())
            .finish();
        DataFrame {
            frame: Arc::new(Frame {
                schema: self.frame.schema.clone(),
                npartitions: n,
                node: Node::Shuffle {
                    input: self.frame.clone(),
                    split: Split::Hash(on.to_vec()),
                    method: super::shuffle_method(),
                },
                token,
            }),
        }
    }
}
