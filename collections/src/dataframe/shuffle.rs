//! Moving rows between partitions: hash and range splits, and the tasks that gather them.
//!
//! A shuffle is three layers of tasks. Each input partition is **split** into one piece per
//! output partition — by a hash of the key columns (joins, `drop_duplicates`) or by ranges of a
//! sort column (`sort_values`). A small **piece** task takes piece `j` out of a split (Dask's
//! `shuffle-getitem`); it runs where the split is, so on a cluster only the pieces travel. Each
//! output partition then **gathers** its piece of every split. Rows keep their relative order:
//! a split preserves the order within its partition and a gather concatenates pieces in input
//! order, so "first" and "last" still mean something afterwards. Splitting `m` partitions into
//! `n` takes `m × n` piece tasks; past [`ONE_STAGE_PIECES`] the shuffle runs in stages instead
//! ([`add_shuffle`], Dask's multi-stage task shuffle), each moving rows by one base-`k` digit
//! of their output partition, so a stage makes only `k` pieces per partition.
//!
//! With [`ShuffleMethod::Disk`] each split writes its pieces to Arrow IPC files and hands on only
//! their paths, and each gather reads (and deletes) its pieces: the pieces of a shuffle then
//! never sit in memory together, so a shuffle of data larger than memory completes with a few
//! partitions in memory at a time — Dask's `shuffle="disk"`.
//!
//! A split in memory does not cut its pieces: it hands on its partition with the row numbers
//! of each piece, and each piece task cuts its own rows. A shuffle then holds 4 bytes a row
//! beyond its input rather than a copy of it, and a piece exists only from its piece task to its
//! gather. A split leaves its worker whole only when another worker steals one of its piece
//! tasks; it is serialized only then.
//!
//! The hash is computed here, not taken from Polars' internals, so that it is stable and equal
//! for equal keys of different integer widths (an `Int32` key on one side of a join and an
//! `Int64` key on the other land in the same partition).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};

use dusk_core::op::encode_serde;
use dusk_core::{BoxError, Data, Op, WireError, WireOp};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::kernels::concat_frames;

/// How a shuffle hands pieces from splits to gathers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShuffleMethod {
    /// Pieces stay in memory as task results (fast while the data fits).
    Tasks,
    /// Pieces go through Arrow IPC files in the temporary directory (bounded memory).
    Disk,
}

static METHOD: AtomicU8 = AtomicU8::new(0);

/// Sets the shuffle method of shuffles built from now on, process-wide (Dask's
/// `dask.config.set(shuffle=...)`). The default is [`ShuffleMethod::Tasks`], or `disk` /
/// `tasks` from the `DUSK_SHUFFLE` environment variable.
///
/// ```
/// use dusk_collections::dataframe::{set_shuffle_method, shuffle_method, ShuffleMethod};
/// set_shuffle_method(ShuffleMethod::Disk);
/// assert_eq!(shuffle_method(), ShuffleMethod::Disk);
/// set_shuffle_method(ShuffleMethod::Tasks);
/// ```
pub fn set_shuffle_method(method: ShuffleMethod) {
    METHOD.store(
        match method {
            ShuffleMethod::Tasks => 1,
            ShuffleMethod::Disk => 2,
        },
        Ordering::Relaxed,
    );
}

/// The shuffle method new shuffles use (see [`set_shuffle_method`]).
///
/// ```
/// assert!(matches!(
///     dusk_collections::dataframe::shuffle_method(),
///     dusk_collections::dataframe::ShuffleMethod::Tasks | dusk_collections::dataframe::ShuffleMethod::Disk
/// ));
/// ```
pub fn shuffle_method() -> ShuffleMethod {
    match METHOD.load(Ordering::Relaxed) {
        1 => ShuffleMethod::Tasks,
        2 => ShuffleMethod::Disk,
        _ => match std::env::var("DUSK_SHUFFLE").as_deref() {
            Ok("disk") => ShuffleMethod::Disk,
            _ => ShuffleMethod::Tasks,
        },
    }
}

/// The pieces one split produces, one per output partition.
type Pieces = Vec<DataFrame>;

/// Pieces written to files, one per output partition.
#[derive(Clone, Serialize, Deserialize)]
struct SpilledPieces(Vec<PathBuf>);

/// Where a split spills its pieces: `dir/split-<i>-<j>.arrow`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Spill {
    pub dir: PathBuf,
}

impl Spill {
    /// The directory of one stage of a multi-stage shuffle.
    pub(crate) fn stage(&self, stage: usize) -> Spill {
        Spill {
            dir: self.dir.join(format!("stage-{stage}")),
        }
    }

    /// A fresh spill directory name for the shuffle whose keys are named `name`.
    pub(crate) fn for_shuffle(name: &str) -> Spill {
        Spill {
            dir: std::env::temp_dir().join(format!("dusk-shuffle-{}-{name}", std::process::id())),
        }
    }
}

/// Writes a split's pieces to files and hands on their paths.
fn spill_pieces(pieces: Pieces, spill: &Spill, split: usize) -> Result<Data, BoxError> {
    std::fs::create_dir_all(&spill.dir)
        .map_err(|e| format!("create the shuffle directory {}: {e}", spill.dir.display()))?;
    let mut paths = Vec::with_capacity(pieces.len());
    for (j, mut piece) in pieces.into_iter().enumerate() {
        let path = spill.dir.join(format!("split-{split}-{j}.arrow"));
        let file =
            std::fs::File::create(&path).map_err(|e| format!("create {}: {e}", path.display()))?;
        IpcWriter::new(std::io::BufWriter::new(file)).finish(&mut piece)?;
        paths.push(path);
    }
    let size = paths.iter().map(|p| p.as_os_str().len()).sum();
    Ok(Data::local_sendable(SpilledPieces(paths), size))
}

/// One spilled piece: the file holding it, read (and deleted) by the gather that needs it.
#[derive(Clone, Serialize, Deserialize)]
struct SpilledPiece(PathBuf);

/// Piece `j` of a split's output: the frame itself, or for a spilled split the file holding it.
///
/// A split computed in this process is read in place; one that came from another worker (a
/// stolen piece task) arrives serialized.
fn piece_of(data: &Data, j: usize) -> Result<Data, BoxError> {
    let missing = || format!("a split has no piece {j}");
    let cut = |split: &SplitRows| -> Result<Data, BoxError> {
        let rows = split.rows.get(j).ok_or_else(missing)?;
        Ok(Data::Frame(take_rows(&split.frame, rows.clone())?))
    };
    if let Ok(split) = data.downcast_ref::<SplitRows>() {
        return cut(split);
    }
    if matches!(data, Data::Value(v) if v.type_name() == std::any::type_name::<SplitRows>()) {
        return cut(&data.decode::<SplitRows>()?);
    }
    let paths = match data {
        Data::Value(_) => data.decode::<SpilledPieces>()?.0,
        _ => data.downcast_ref::<SpilledPieces>()?.0.clone(),
    };
    let path = paths.get(j).ok_or_else(missing)?.clone();
    let size = path.as_os_str().len();
    Ok(Data::local_sendable(SpilledPiece(path), size))
}

/// The frame of a piece, reading (and deleting) a spilled one.
fn read_piece(data: &Data) -> Result<DataFrame, BoxError> {
    if let Data::Frame(df) = data {
        return Ok(df.clone());
    }
    let SpilledPiece(path) = data.decode::<SpilledPiece>()?;
    let file = std::fs::File::open(&path).map_err(|e| format!("open {}: {e}", path.display()))?;
    let df = IpcReader::new(file).finish()?;
    // Each piece has exactly one reader; the directory goes once it is empty.
    let _ = std::fs::remove_file(&path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir);
    }
    Ok(df)
}

/// Mixes a 64-bit value (splitmix64's finalizer).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Folds `hash(value)` into each row's hash, for a column of `T` whose missing values hash as
/// `u64::MAX`. Chunks without nulls are read as plain slices: no per-row validity check, which
/// makes hashing the key column a small part of a split, not a large one.
fn fold_column<T, F>(hashes: &mut [u64], ca: &ChunkedArray<T>, hash: F)
where
    T: PolarsNumericType,
    F: Fn(T::Native) -> u64,
{
    let combine = |h: &mut u64, v: u64| *h = mix(h.rotate_left(5) ^ v);
    let mut offset = 0;
    for arr in ca.downcast_iter() {
        let rows = &mut hashes[offset..offset + arr.len()];
        if arr.validity().is_none_or(|valid| valid.unset_bits() == 0) {
            for (h, &v) in rows.iter_mut().zip(arr.values().iter()) {
                combine(h, hash(v));
            }
        } else {
            for (h, v) in rows.iter_mut().zip(arr.iter()) {
                combine(h, v.map_or(u64::MAX, |&v| hash(v)));
            }
        }
        offset += arr.len();
    }
}

/// One hash per row over the key columns.
pub(crate) fn row_hashes(df: &DataFrame, on: &[String]) -> PolarsResult<Vec<u64>> {
    let mut hashes = vec![0x51_7c_c1_b7_27_22_0a_95u64; df.height()];
    for name in on {
        let column = df.column(name.as_str())?;
        let dtype = column.dtype();
        if dtype.is_integer() || dtype.is_temporal() || dtype.is_bool() {
            let c = column.cast(&DataType::Int64)?;
            fold_column(&mut hashes, c.i64()?, |v| mix(v as u64));
        } else if dtype.is_float() {
            let c = column.cast(&DataType::Float64)?;
            // -0.0 equals 0.0, and every NaN is one value.
            fold_column(&mut hashes, c.f64()?, |v| {
                let bits = if v == 0.0 {
                    0u64
                } else if v.is_nan() {
                    f64::NAN.to_bits()
                } else {
                    v.to_bits()
                };
                mix(bits)
            });
        } else {
            let combine = |h: &mut u64, v: u64| *h = mix(h.rotate_left(5) ^ v);
            let c = column.cast(&DataType::String)?;
            for (h, v) in hashes.iter_mut().zip(c.str()?.iter()) {
                combine(h, v.map_or(u64::MAX, |s| xxh3_64(s.as_bytes())));
            }
        }
    }
    Ok(hashes)
}

/// Splits `df` into `n` frames by `bucket[row]`, keeping row order within each.
pub(crate) fn split_by(df: &DataFrame, buckets: &[u32], n: usize) -> PolarsResult<Pieces> {
    if n == 1 {
        return Ok(vec![df.clone()]);
    }
    rows_by_bucket(buckets, n)
        .into_iter()
        .map(|idx| take_rows(df, idx))
        .collect()
}

/// The bucket in `0..n` of a row hash: the high bits of `hash * n` (Lemire's multiply-shift),
/// an even spread for a well-mixed hash at the cost of a multiplication instead of a division
/// per row.
pub(crate) fn bucket_of_hash(hash: u64, n: u64) -> u32 {
    ((hash as u128 * n as u128) >> 64) as u32
}

/// The row numbers of each bucket, in row order (each list allocated once, at its size).
fn rows_by_bucket(buckets: &[u32], n: usize) -> Vec<Vec<IdxSize>> {
    let mut counts = vec![0usize; n];
    for &b in buckets {
        counts[b as usize] += 1;
    }
    let mut rows: Vec<Vec<IdxSize>> = counts.into_iter().map(Vec::with_capacity).collect();
    for (i, &b) in buckets.iter().enumerate() {
        rows[b as usize].push(i as IdxSize);
    }
    rows
}

fn take_rows(df: &DataFrame, rows: Vec<IdxSize>) -> PolarsResult<DataFrame> {
    df.take(&IdxCa::from_vec("idx".into(), rows))
}

/// A split whose pieces are not cut yet: the partition, and per output the rows going there.
///
/// Cutting every piece in the split task would copy the whole partition at once, and a shuffle
/// would then hold a copy of all its input until the gathers run. Kept as row numbers (4 bytes
/// a row), each piece is cut by its own piece task, just before its gather needs it.
#[derive(Clone, Serialize, Deserialize)]
struct SplitRows {
    frame: DataFrame,
    rows: Vec<Vec<IdxSize>>,
}

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

/// Hands on the split of `df` by the digit `radix` takes of `buckets`: as rows to cut later,
/// or, spilling, as pieces cut now and written to files.
pub(crate) fn hand_on_buckets(
    df: &DataFrame,
    buckets: &[u32],
    radix: Radix,
    spill: &Option<Spill>,
    split: usize,
) -> Result<Data, BoxError> {
    let n = radix.k.max(1) as usize;
    let digits: Vec<u32>;
    let buckets = if radix.div == 1 && n > buckets.iter().copied().max().unwrap_or(0) as usize {
        buckets
    } else {
        digits = buckets
            .iter()
            .map(|b| (b / radix.div.max(1)) % n as u32)
            .collect();
        &digits
    };
    if let Some(spill) = spill {
        return spill_pieces(split_by(df, buckets, n)?, spill, split);
    }
    let rows = rows_by_bucket(buckets, n);
    let size = df.estimated_size() + std::mem::size_of_val(buckets);
    Ok(Data::local_sendable(
        SplitRows {
            frame: df.clone(),
            rows,
        },
        size,
    ))
}

/// Splits one partition by a hash of `on` into `n` pieces.
#[derive(Serialize, Deserialize)]
pub(crate) struct HashSplitOp {
    pub on: Vec<String>,
    pub n: usize,
    pub radix: Radix,
    pub index: usize,
    pub spill: Option<Spill>,
}

impl Op for HashSplitOp {
    fn name(&self) -> &str {
        "shuffle-split"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let df = inputs[0].as_frame()?;
        let n = self.n as u64;
        let buckets: Vec<u32> = row_hashes(df, &self.on)?
            .into_iter()
            .map(|h| bucket_of_hash(h, n))
            .collect();
        hand_on_buckets(df, &buckets, self.radix, &self.spill, self.index)
    }
}

/// Splits one partition by ranges of `column`: input 0 is the partition, input 1 a frame whose
/// second column holds the `n - 1` ascending boundaries. Equal values land in the same piece;
/// nulls go to the last piece (or the first, with `nulls_last` false).
#[derive(Serialize, Deserialize)]
pub(crate) struct RangeSplitOp {
    pub column: String,
    pub n: usize,
    pub radix: Radix,
    pub descending: bool,
    pub nulls_last: bool,
    pub index: usize,
    pub spill: Option<Spill>,
}

impl Op for RangeSplitOp {
    fn name(&self) -> &str {
        "sort-split"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let df = inputs[0].as_frame()?;
        let bounds_frame = inputs[1].as_frame()?;
        let bounds: Vec<f64> = bounds_frame
            .columns()
            .get(1)
            .ok_or("the sort boundaries are missing")?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .flatten()
            .collect();
        let n = self.n;
        let values = df.column(self.column.as_str())?.cast(&DataType::Float64)?;
        let buckets: Vec<u32> = values
            .f64()?
            .iter()
            .map(|v| {
                let ascending_bucket = match v {
                    None => return if self.nulls_last { n - 1 } else { 0 } as u32,
                    Some(v) if v.is_nan() => bounds.len(),
                    Some(v) => bounds.partition_point(|b| *b < v).min(n - 1),
                };
                let b = if self.descending {
                    n - 1 - ascending_bucket.min(n - 1)
                } else {
                    ascending_bucket
                };
                b as u32
            })
            .collect();
        hand_on_buckets(df, &buckets, self.radix, &self.spill, self.index)
    }
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
        piece_of(split, self.index)
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
        let mut frames = Vec::with_capacity(inputs.len());
        for d in &inputs {
            let piece = read_piece(d)?;
            if piece.height() > 0 || frames.is_empty() {
                frames.push(piece);
            }
        }
        if frames.is_empty() {
            return Ok(Data::Frame(DataFrame::empty_with_schema(&self.schema)));
        }
        Ok(Data::Frame(concat_frames(frames)?))
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

/// Rows `[k/m, (k+1)/m)` of a partition (`repartition` to more partitions), or the
/// concatenation of several partitions (to fewer).
#[derive(Serialize, Deserialize)]
pub(crate) struct SliceOp {
    pub piece: usize,
    pub of: usize,
}

impl Op for SliceOp {
    fn name(&self) -> &str {
        "repartition"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let frames = inputs
            .iter()
            .map(|d| d.as_frame().cloned())
            .collect::<Result<Vec<_>, _>>()?;
        let df = concat_frames(frames)?;
        if self.of <= 1 {
            return Ok(Data::Frame(df));
        }
        let rows = df.height();
        let start = rows * self.piece / self.of;
        let end = rows * (self.piece + 1) / self.of;
        Ok(Data::Frame(df.slice(start as i64, end - start)))
    }
}

/// Slice `piece` of `of` even row slices of each input, concatenated in input order
/// (`repartition_size`: big partitions cut, small neighbours joined).
#[derive(Serialize, Deserialize)]
pub(crate) struct CutConcatOp {
    /// `(piece, of)` for each input, in the task's input order.
    pub cuts: Vec<(usize, usize)>,
}

impl Op for CutConcatOp {
    fn name(&self) -> &str {
        "repartition"
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        if inputs.len() != self.cuts.len() {
            return Err(format!(
                "a repartition task got {} inputs for {} cuts",
                inputs.len(),
                self.cuts.len()
            )
            .into());
        }
        let mut frames = Vec::with_capacity(inputs.len());
        for (d, &(piece, of)) in inputs.iter().zip(&self.cuts) {
            let df = d.as_frame()?;
            let rows = df.height();
            let (start, end) = (rows * piece / of.max(1), rows * (piece + 1) / of.max(1));
            frames.push(df.slice(start as i64, end - start));
        }
        Ok(Data::Frame(concat_frames(frames)?))
    }
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

    #[test]
    fn equal_keys_of_different_widths_hash_alike() {
        let a = df!("k" => [1i32, 2, 3, -7]).unwrap();
        let b = df!("k" => [1i64, 2, 3, -7]).unwrap();
        let on = vec!["k".to_string()];
        assert_eq!(row_hashes(&a, &on).unwrap(), row_hashes(&b, &on).unwrap());
        let s = df!("k" => ["x", "y"], "j" => [Some(1.0), None]).unwrap();
        let both = vec!["k".to_string(), "j".to_string()];
        let h = row_hashes(&s, &both).unwrap();
        assert_ne!(h[0], h[1]);
    }

    #[test]
    fn hashed_keys_spread_evenly_over_buckets() {
        let keys: Vec<i64> = (0..64_000).collect();
        let df = df!("k" => keys).unwrap();
        let hashes = row_hashes(&df, &["k".to_string()]).unwrap();
        for n in [1u64, 2, 7, 16, 100] {
            let mut counts = vec![0usize; n as usize];
            for &h in &hashes {
                let b = bucket_of_hash(h, n);
                assert!((b as u64) < n);
                counts[b as usize] += 1;
            }
            let expected = 64_000 / n as usize;
            // Within six standard deviations of an even share (a poor mix of the high bits,
            // say, would miss by far).
            let sd = (expected as f64).sqrt();
            assert!(
                counts
                    .iter()
                    .all(|&c| c.abs_diff(expected) as f64 <= 6.0 * sd),
                "{n} buckets: {counts:?}"
            );
        }
        assert_eq!(bucket_of_hash(u64::MAX, 16), 15);
        assert_eq!(bucket_of_hash(0, 16), 0);
    }

    #[test]
    fn uncut_splits_give_the_same_pieces_here_and_after_the_wire() {
        let df = df!(
            "k" => (0..50i64).collect::<Vec<_>>(),
            "s" => (0..50).map(|i| format!("r{i}")).collect::<Vec<_>>()
        )
        .unwrap();
        let buckets: Vec<u32> = (0..50u32).map(|i| (i * 7) % 4).collect();
        let expected = split_by(&df, &buckets, 4).unwrap();
        let split = hand_on_buckets(&df, &buckets, Radix::whole(4), &None, 0).unwrap();
        let Data::Local(local) = &split else {
            panic!("a split in memory stays unserialized")
        };
        let sent = Data::Value(local.to_serialized().unwrap().unwrap());
        for (j, want) in expected.iter().enumerate() {
            for data in [&split, &sent] {
                let piece = read_piece(&piece_of(data, j).unwrap()).unwrap();
                assert!(piece.equals(want), "piece {j}");
            }
        }
        assert!(piece_of(&split, 4).is_err());
    }

    #[test]
    fn splits_keep_every_row_once_in_order() {
        let df = df!("k" => (0..100i64).collect::<Vec<_>>()).unwrap();
        let buckets: Vec<u32> = (0..100u32).map(|i| i % 3).collect();
        let pieces = split_by(&df, &buckets, 3).unwrap();
        assert_eq!(pieces.iter().map(|p| p.height()).sum::<usize>(), 100);
        let first: Vec<i64> = pieces[1]
            .column("k")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(first[..3], [1, 4, 7]);
    }
}
