//! Moving rows between partitions: hash and range splits, and the tasks that gather them.
//!
//! A shuffle is three layers of tasks. Each input partition is **split** into one piece per
//! output partition — by a hash of the key columns ([`hash`]: joins, `drop_duplicates`) or by
//! ranges of a sort column ([`range`]: `sort_values`). A small **piece** task takes piece `j`
//! out of a split (Dask's `shuffle-getitem`); it runs where the split is, so on a cluster only
//! the pieces travel. Each output partition then **gathers** its piece of every split. Rows keep
//! their relative order: a split preserves the order within its partition and a gather
//! concatenates pieces in input order, so "first" and "last" still mean something afterwards.
//! Splitting `m` partitions into `n` takes `m × n` piece tasks; past [`ONE_STAGE_PIECES`] the
//! shuffle runs in stages instead ([`add_shuffle`], Dask's multi-stage task shuffle), each
//! moving rows by one base-`k` digit of their output partition, so a stage makes only `k`
//! pieces per partition.
//!
//! In memory nothing is copied until the gather: a split keeps its partition and one byte per
//! row naming the row's piece, a piece is a reference to its split, and a gather copies each
//! column once into its output ([`pieces`]). A split leaves its worker whole only when another
//! worker steals one of its piece tasks, and a piece is cut into a frame of its own only when a
//! gather on another worker needs it.
//!
//! With [`ShuffleMethod::Disk`] each split writes its pieces to Arrow IPC files and hands on only
//! their paths, and each gather reads (and deletes) its pieces ([`spill`]): the pieces of a
//! shuffle then never sit in memory together, so a shuffle of data larger than memory completes
//! with a few partitions in memory at a time — Dask's `shuffle="disk"`.

mod hash;
mod method;
mod pieces;
mod range;
mod repartition;
mod spill;

use std::sync::Arc;

use dusk_core::op::encode_serde;
use dusk_core::{BoxError, Data, Op, WireError, WireOp};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

pub(crate) use hash::{row_hashes, HashSplitOp};
pub use method::{set_shuffle_method, shuffle_method, with_shuffle_method, ShuffleMethod};
use pieces::{gather, piece_data, HashRecipe, Source, SplitRows};
pub(crate) use range::RangeSplitOp;
pub(crate) use repartition::{CutConcatOp, SliceOp};
pub(crate) use spill::Spill;

/// Which digit of an output partition's number a split cuts by: `(bucket / div) % k`. A
/// one-stage shuffle into `n` takes `div = 1, k = n` (the bucket itself); a stage of a
/// multi-stage shuffle takes one base-`k` digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Radix {
    pub div: u32,
    pub k: u32,
}

impl Radix {
    /// The one-stage radix of a shuffle into `n` partitions.
    pub(crate) fn whole(n: usize) -> Radix {
        Radix {
            div: 1,
            k: n as u32,
        }
    }
}

/// Hands on the split of `df` by the digit `radix` takes of each row's output partition
/// `bucket_of(row)` (one of `buckets`): as a split to cut later, or, spilling, as pieces cut now
/// and written to files.
pub(crate) fn hand_on_split(
    df: &DataFrame,
    buckets: usize,
    bucket_of: impl Fn(usize) -> u32,
    radix: Radix,
    spill: &Option<Spill>,
    index: usize,
) -> Result<Data, BoxError> {
    hand_on(df, buckets, bucket_of, radix, spill, index, None)
}

/// [`hand_on_split`] for a hash split, which can find a piece's rows again from `recipe`.
#[allow(clippy::too_many_arguments)]
fn hand_on(
    df: &DataFrame,
    buckets: usize,
    bucket_of: impl Fn(usize) -> u32,
    radix: Radix,
    spill: &Option<Spill>,
    index: usize,
    recipe: Option<HashRecipe>,
) -> Result<Data, BoxError> {
    let (div, k) = (radix.div.max(1), radix.k.max(1));
    // A one-stage split takes the bucket as it is: no division per row.
    let split = if div == 1 && buckets <= k as usize {
        SplitRows::new(df.clone(), k as usize, bucket_of, recipe)?
    } else {
        SplitRows::new(df.clone(), k as usize, |i| (bucket_of(i) / div) % k, recipe)?
    };
    if let Some(spill) = spill {
        return spill::spill_pieces(&split, spill, index);
    }
    let size = df.estimated_size() + split.own_size();
    Ok(Data::local_sendable(split, size))
}

/// Takes piece `index` out of one split (Dask's `shuffle-getitem`). It runs where the split is,
/// so a gather on another worker fetches only its own pieces, not every split whole.
#[derive(Serialize, Deserialize)]
pub(crate) struct PieceOp {
    pub index: usize,
}

impl Op for PieceOp {
    fn name(&self) -> &str {
        "shuffle-piece"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let split = inputs.first().ok_or("a shuffle piece needs its split")?;
        match split {
            Data::Local(_) => {
                if let Ok(split) = split.clone().downcast_arc::<SplitRows>() {
                    return piece_data(split, self.index);
                }
            }
            // A split stolen from another worker, whole.
            Data::Value(v) if v.type_name() == std::any::type_name::<SplitRows>() => {
                return piece_data(Arc::new(split.decode::<SplitRows>()?), self.index);
            }
            _ => {}
        }
        spill::spilled_piece(split, self.index)
    }
}

/// Concatenates one piece of every split into one partition.
#[derive(Serialize, Deserialize)]
pub(crate) struct GatherOp {
    pub schema: SchemaRef,
}

impl Op for GatherOp {
    fn name(&self) -> &str {
        "shuffle-gather"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let sources = inputs
            .iter()
            .map(|d| match Source::of_piece(d)? {
                Some(source) => Ok(source),
                None => Ok(Source::Frame(spill::read_spilled_piece(d)?)),
            })
            .collect::<Result<Vec<Source>, BoxError>>()?;
        Ok(Data::Frame(gather(sources, &self.schema)?))
    }
}

/// Adds the `outputs` gathers of one shuffle stage: gather `j` concatenates, in order, piece
/// `piece` of split `s` for each `(s, piece)` that `sources(j)` lists, each taken out by a
/// piece task keyed `(piece_name, s * pieces_per_split + piece)`.
#[allow(clippy::too_many_arguments)]
fn add_gathers(
    graph: &mut dusk_core::Graph,
    splits: &[dusk_core::Key],
    pieces_per_split: usize,
    outputs: usize,
    piece_name: &str,
    gather_name: &str,
    schema: &SchemaRef,
    sources: impl Fn(usize) -> Vec<(usize, usize)>,
) -> Vec<dusk_core::Key> {
    let piece_name: std::sync::Arc<str> = piece_name.into();
    let gather_name: std::sync::Arc<str> = gather_name.into();
    (0..outputs)
        .map(|j| {
            let pieces: Vec<dusk_core::Key> = sources(j)
                .into_iter()
                .map(|(s, piece)| {
                    let index = (s * pieces_per_split + piece) as u32;
                    let key = dusk_core::Key::part(piece_name.clone(), index);
                    graph.add(
                        key.clone(),
                        PieceOp { index: piece },
                        vec![splits[s].clone()],
                    );
                    key
                })
                .collect();
            let key = dusk_core::Key::part(gather_name.clone(), j as u32);
            graph.add(
                key.clone(),
                GatherOp {
                    schema: schema.clone(),
                },
                pieces,
            );
            key
        })
        .collect()
}

/// Shuffles of at most this many pieces (inputs × outputs) run in one stage.
pub(crate) const ONE_STAGE_PIECES: usize = 4096;

/// The most pieces one split makes in a stage of a multi-stage shuffle (Dask's `max_branch`).
pub(crate) const MAX_BRANCH: usize = 32;

/// How a shuffle of `m` partitions into `n` is staged: `(stages, k)` with `k^stages` at least
/// `max(m, n)`. One stage when `m × n` pieces are few enough; otherwise each row moves
/// `stages` times, but a stage makes only `k` pieces per partition (Dask's task shuffle).
pub(crate) fn stages(m: usize, n: usize) -> (u32, usize) {
    if m.saturating_mul(n) <= ONE_STAGE_PIECES {
        return (1, n);
    }
    let width = m.max(n) as f64;
    let stages = width.log(MAX_BRANCH as f64).ceil().max(2.0) as u32;
    let mut k = width.powf(1.0 / stages as f64).ceil() as usize;
    while k.pow(stages) < m.max(n) {
        k += 1;
    }
    (stages, k.max(2))
}

/// Adds a shuffle of `parts` into `n` partitions and returns their keys. `split(i, radix,
/// spill, input)` makes the task splitting partition `i` (held by `input`) by `radix`; the
/// rest (pieces, gathers, stages) is the same for every kind of shuffle.
///
/// With many partitions the shuffle runs in stages: partitions are numbered in base `k`, and
/// stage `j` moves each row to the partition whose digit `j` matches its output's, gathering
/// from the `k` partitions that differ only in that digit. Taking the digits from the lowest,
/// each gather concatenates its pieces in input order, so rows keep their relative order.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_shuffle<O: Op>(
    graph: &mut dusk_core::Graph,
    parts: &[dusk_core::Key],
    n: usize,
    split_name: &str,
    gather_name: &str,
    schema: &SchemaRef,
    spill: &Option<Spill>,
    mut split: impl FnMut(usize, Radix, Option<Spill>, dusk_core::Key) -> (O, Vec<dusk_core::Key>),
) -> Vec<dusk_core::Key> {
    use dusk_core::Key;
    let (stages, k) = stages(parts.len(), n);
    // The split tasks of one stage, one per input, named `name`.
    let mut add_splits = |graph: &mut dusk_core::Graph,
                          name: &str,
                          inputs: &[Key],
                          radix: Radix,
                          spill: Option<Spill>| {
        let name: std::sync::Arc<str> = name.into();
        inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let key = Key::part(name.clone(), i as u32);
                let (op, deps) = split(i, radix, spill.clone(), input.clone());
                graph.add(key.clone(), op, deps);
                key
            })
            .collect::<Vec<Key>>()
    };
    if stages == 1 {
        let splits = add_splits(graph, split_name, parts, Radix::whole(n), spill.clone());
        let piece_name = format!("{split_name}-piece");
        return add_gathers(
            graph,
            &splits,
            n,
            n,
            &piece_name,
            gather_name,
            schema,
            |j| (0..splits.len()).map(|s| (s, j)).collect(),
        );
    }
    let width = k.pow(stages);
    let mut current: Vec<Key> = parts.to_vec();
    if current.len() < width {
        let empty = Key::new(format!("{split_name}-empty"));
        graph.add(
            empty.clone(),
            dusk_core::LiteralOp::new(Data::Frame(DataFrame::empty_with_schema(schema))),
            vec![],
        );
        current.resize(width, empty);
    }
    for stage in 0..stages as usize {
        let div = k.pow(stage as u32);
        let radix = Radix {
            div: div as u32,
            k: k as u32,
        };
        let spill = spill.as_ref().map(|s| s.stage(stage));
        let stage_gather = if stage + 1 == stages as usize {
            gather_name.to_string()
        } else {
            format!("{gather_name}-stage{stage}")
        };
        let stage_split = format!("{split_name}-stage{stage}");
        let splits = add_splits(graph, &stage_split, &current, radix, spill);
        // Partition `a` gathers digit `(a / div) % k` of the `k` splits that differ from it
        // only in that digit, in digit order.
        current = add_gathers(
            graph,
            &splits,
            k,
            width,
            &format!("{split_name}-piece{stage}"),
            &stage_gather,
            schema,
            |a| {
                let digit = (a / div) % k;
                let base = a - digit * div;
                (0..k).map(|t| (base + t * div, digit)).collect()
            },
        );
    }
    current.truncate(n);
    current
}

super::kernels::frame_ops! {
    HashSplitOp => "dusk.frame.hash-split",
    RangeSplitOp => "dusk.frame.range-split",
    GatherOp => "dusk.frame.gather",
    PieceOp => "dusk.frame.piece",
    SliceOp => "dusk.frame.slice",
    CutConcatOp => "dusk.frame.cut-concat",
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Piece `j` of `split` through a piece task, then alone through a gather.
    fn piece_through_tasks(split: &Data, j: usize, schema: &SchemaRef) -> DataFrame {
        let piece = PieceOp { index: j }.run(vec![split.clone()]).unwrap();
        let gathered = GatherOp {
            schema: schema.clone(),
        }
        .run(vec![piece])
        .unwrap();
        gathered.as_frame().unwrap().clone()
    }

    #[test]
    fn splits_give_the_same_pieces_here_after_the_wire_and_through_disk() {
        let df = df!(
            "k" => (0..50i64).collect::<Vec<_>>(),
            "s" => (0..50).map(|i| format!("r{i}")).collect::<Vec<_>>()
        )
        .unwrap();
        let bucket_of = |row: usize| (row as u32 * 7) % 4;
        let want = |j: u32| {
            let rows: Vec<IdxSize> = (0..50)
                .filter(|&r| bucket_of(r) == j)
                .map(|r| r as IdxSize)
                .collect();
            df.take(&IdxCa::from_vec("rows".into(), rows)).unwrap()
        };
        let schema = df.schema().clone();
        let split = hand_on_split(&df, 4, bucket_of, Radix::whole(4), &None, 0).unwrap();
        let Data::Local(local) = &split else {
            panic!("a split in memory stays unserialized")
        };
        let sent = Data::Value(local.to_serialized().unwrap().unwrap());
        let dir = std::env::temp_dir().join(format!("dusk-shuffle-test-{}", std::process::id()));
        let spill = Some(Spill { dir: dir.clone() });
        let spilled = hand_on_split(&df, 4, bucket_of, Radix::whole(4), &spill, 0).unwrap();
        for j in 0..4u32 {
            for data in [&split, &sent, &spilled] {
                let piece = piece_through_tasks(data, j as usize, &schema);
                assert!(piece.equals(&want(j)), "piece {j}");
            }
        }
        assert!(!dir.exists(), "every spilled piece was read and removed");
        assert!(PieceOp { index: 4 }.run(vec![split]).is_err());
    }

    #[test]
    fn a_stage_splits_by_one_digit_of_the_output_partition() {
        let df = df!("k" => (0..64i64).collect::<Vec<_>>()).unwrap();
        let schema = df.schema().clone();
        // 16 outputs in two base-4 digits; the second stage cuts by the high digit.
        let radix = Radix { div: 4, k: 4 };
        let split = hand_on_split(&df, 16, |row| (row % 16) as u32, radix, &None, 0).unwrap();
        for digit in 0..4 {
            let piece = piece_through_tasks(&split, digit, &schema);
            let keys: Vec<i64> = piece
                .column("k")
                .unwrap()
                .i64()
                .unwrap()
                .into_no_null_iter()
                .collect();
            let want: Vec<i64> = (0..64).filter(|k| (k % 16) / 4 == digit as i64).collect();
            assert_eq!(keys, want);
        }
    }
}
