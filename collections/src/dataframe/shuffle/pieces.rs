//! A split's pieces without copying them, and the gather that reads rows straight out of the
//! splits.
//!
//! Cutting a split into its pieces copies every row once, and concatenating the pieces of an
//! output partition leaves a frame in as many chunks as there were splits, which later kernels
//! (a join above all) pay for on every access, or copy once more to rechunk. So none of that
//! happens in memory:
//!
//! - a split ([`SplitRows`]) keeps its partition as it is and each piece's list of row numbers,
//!   which the piece's gather takes away: a split holds 4 bytes a row at first and nothing once
//!   its pieces are gathered. Should a piece be asked for again, a hash split finds its rows by
//!   hashing the keys again; a range split keeps one byte per row naming the row's piece;
//! - a piece is a reference to its split ([`piece_data`]), made in constant time;
//! - a gather ([`gather`]) finds each piece's rows and copies every output column once, from the
//!   splits' columns into one contiguous buffer.
//!
//! A piece becomes a frame of its own only when it leaves the process: sent to another worker
//! or spilled to disk, its serialized form is cut from the split then.

use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard};

use dusk_core::{BoxError, Data, DataError};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::hash::{bucket_of_hash, row_hashes};
use super::Radix;

/// Each row's piece number, in the narrowest unsigned integer that holds every piece number.
#[derive(Clone, Serialize, Deserialize)]
enum PieceOfRow {
    Narrow(Vec<u8>),
    Medium(Vec<u16>),
    Wide(Vec<u32>),
}

/// How a split finds a piece's rows once the piece's list was handed over.
#[derive(Clone, Serialize, Deserialize)]
enum Refind {
    /// From each row's piece number, kept (one byte a row for up to 256 pieces).
    Tags(PieceOfRow),
    /// By hashing the keys again: a hash split keeps nothing per row.
    Hash(HashRecipe),
}

/// What a hash split computed each row's piece from: `(bucket / radix.div) % radix.k` of the
/// row's bucket among `buckets` by the hash of the `on` columns.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct HashRecipe {
    pub on: Vec<String>,
    pub buckets: usize,
    pub radix: Radix,
}

/// A split whose pieces are not cut: the partition, how many rows each piece has, each piece's
/// rows until its gather takes them, and how to find them again.
#[derive(Serialize, Deserialize)]
pub(crate) struct SplitRows {
    frame: DataFrame,
    counts: Vec<u32>,
    refind: Refind,
    /// Each piece's row numbers, listed in the split's one pass over its rows and handed to the
    /// piece's gather, which drops them: the lists shrink as the pieces are gathered. A piece
    /// asked for again (a gather run twice), or a split that crossed the wire, finds its rows
    /// through `refind` instead.
    #[serde(skip)]
    listed: Vec<Mutex<Option<Vec<IdxSize>>>>,
}

impl Clone for SplitRows {
    fn clone(&self) -> SplitRows {
        SplitRows {
            frame: self.frame.clone(),
            counts: self.counts.clone(),
            refind: self.refind.clone(),
            listed: self
                .listed
                .iter()
                .map(|rows| Mutex::new(lock(rows).clone()))
                .collect(),
        }
    }
}

/// A piece's row list, whatever a panicking holder left (a list is replaced whole, never torn).
fn lock(rows: &Mutex<Option<Vec<IdxSize>>>) -> MutexGuard<'_, Option<Vec<IdxSize>>> {
    rows.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The row numbers of each piece, in order, each list allocated at its size.
fn list_rows<T: Copy + Into<u32>>(tags: &[T], counts: &[u32]) -> Vec<Vec<IdxSize>> {
    let mut lists: Vec<Vec<IdxSize>> = counts
        .iter()
        .map(|&c| Vec::with_capacity(c as usize))
        .collect();
    for (row, &tag) in tags.iter().enumerate() {
        lists[tag.into() as usize].push(row as IdxSize);
    }
    lists
}

impl SplitRows {
    /// The split of `frame` into `pieces` pieces, row `i` going to piece `piece_of(i)` (below
    /// `pieces`, or the split fails). A hash split gives its `recipe`, and then keeps nothing
    /// per row once each piece's rows are listed.
    pub(crate) fn new(
        frame: DataFrame,
        pieces: usize,
        piece_of: impl Fn(usize) -> u32,
        recipe: Option<HashRecipe>,
    ) -> Result<SplitRows, BoxError> {
        let rows = frame.height();
        let mut counts = vec![0u32; pieces.max(1)];
        let out_of_range = |p: u32| format!("a shuffle split put a row in piece {p} of {pieces}");
        let piece_of_row = if pieces <= 1 << 8 {
            PieceOfRow::Narrow(
                tally(rows, &mut counts, piece_of, |p| p as u8).map_err(out_of_range)?,
            )
        } else if pieces <= 1 << 16 {
            PieceOfRow::Medium(
                tally(rows, &mut counts, piece_of, |p| p as u16).map_err(out_of_range)?,
            )
        } else {
            PieceOfRow::Wide(tally(rows, &mut counts, piece_of, |p| p).map_err(out_of_range)?)
        };
        let listed = if counts.len() <= 1 {
            Vec::new()
        } else {
            match &piece_of_row {
                PieceOfRow::Narrow(t) => list_rows(t, &counts),
                PieceOfRow::Medium(t) => list_rows(t, &counts),
                PieceOfRow::Wide(t) => list_rows(t, &counts),
            }
            .into_iter()
            .map(|rows| Mutex::new(Some(rows)))
            .collect()
        };
        let refind = match recipe {
            Some(recipe) => Refind::Hash(recipe),
            None => Refind::Tags(piece_of_row),
        };
        Ok(SplitRows {
            frame,
            counts,
            refind,
            listed,
        })
    }

    /// How many pieces the split has.
    pub(crate) fn pieces(&self) -> usize {
        self.counts.len()
    }

    /// The rows of piece `piece`, in order, for its gather: the listed rows, handed over.
    fn take_rows(&self, piece: usize) -> PolarsResult<Vec<IdxSize>> {
        match self.listed.get(piece).and_then(|rows| lock(rows).take()) {
            Some(rows) => Ok(rows),
            None => self.find_rows(piece),
        }
    }

    /// The rows of piece `piece`, in order, leaving the list in place.
    fn rows_of(&self, piece: usize) -> PolarsResult<Vec<IdxSize>> {
        match self.listed.get(piece).and_then(|rows| lock(rows).clone()) {
            Some(rows) => Ok(rows),
            None => self.find_rows(piece),
        }
    }

    /// The rows of piece `piece`, found from each row's piece number.
    fn find_rows(&self, piece: usize) -> PolarsResult<Vec<IdxSize>> {
        let count = self.counts.get(piece).copied().unwrap_or(0) as usize;
        Ok(match &self.refind {
            Refind::Tags(PieceOfRow::Narrow(p)) => positions_of_byte(p, piece as u8, count),
            Refind::Tags(PieceOfRow::Medium(p)) => positions_of(p, piece as u16, count),
            Refind::Tags(PieceOfRow::Wide(p)) => positions_of(p, piece as u32, count),
            Refind::Hash(recipe) => {
                let (div, k) = (recipe.radix.div.max(1), recipe.radix.k.max(1));
                let n = recipe.buckets as u64;
                let pieces: Vec<u32> = row_hashes(&self.frame, &recipe.on)?
                    .into_iter()
                    .map(|h| (bucket_of_hash(h, n) / div) % k)
                    .collect();
                positions_of(&pieces, piece as u32, count)
            }
        })
    }

    /// Piece `piece` as a frame of its own.
    pub(crate) fn cut(&self, piece: usize) -> PolarsResult<DataFrame> {
        if self.pieces() == 1 {
            return Ok(self.frame.clone());
        }
        let rows = self.rows_of(piece)?;
        self.frame.take(&IdxCa::from_vec("rows".into(), rows))
    }

    /// Bytes held beyond the partition (shared with its producer), when made.
    pub(crate) fn own_size(&self) -> usize {
        let listed = if self.listed.is_empty() {
            0
        } else {
            std::mem::size_of::<IdxSize>() * self.frame.height()
        };
        listed
            + match &self.refind {
                Refind::Tags(PieceOfRow::Narrow(p)) => p.len(),
                Refind::Tags(PieceOfRow::Medium(p)) => 2 * p.len(),
                Refind::Tags(PieceOfRow::Wide(p)) => 4 * p.len(),
                Refind::Hash(_) => 0,
            }
    }

    /// The partition's estimated bytes for `rows` of its rows.
    fn bytes_for(&self, rows: usize) -> usize {
        let height = self.frame.height().max(1);
        self.frame.estimated_size() / height * rows
    }
}

/// Each row's piece as `narrow` stores it, counting the rows of each piece; `Err(piece)` for a
/// piece number out of range.
fn tally<T>(
    rows: usize,
    counts: &mut [u32],
    piece_of: impl Fn(usize) -> u32,
    narrow: impl Fn(u32) -> T,
) -> Result<Vec<T>, u32> {
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        let piece = piece_of(row);
        *counts.get_mut(piece as usize).ok_or(piece)? += 1;
        out.push(narrow(piece));
    }
    Ok(out)
}

/// The positions in `values` equal to `target` (of which there are `count`), in order.
fn positions_of<T: Copy + Eq>(values: &[T], target: T, count: usize) -> Vec<IdxSize> {
    let mut out = Vec::with_capacity(count);
    out.extend(
        values
            .iter()
            .enumerate()
            .filter(|(_, &v)| v == target)
            .map(|(i, _)| i as IdxSize),
    );
    out
}

/// [`positions_of`] for bytes, eight at a time: a piece's rows are found in about the time it
/// takes to read one byte per row, which matters because every gather scans every split it
/// reads from.
fn positions_of_byte(values: &[u8], target: u8, count: usize) -> Vec<IdxSize> {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let broadcast = u64::from_ne_bytes([target; 8]);
    let mut out = Vec::with_capacity(count);
    let mut words = values.chunks_exact(8);
    let mut base = 0usize;
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes) ^ broadcast;
        // The high bit of each byte that is zero in `x` (equal to `target`), exactly: adding
        // 0x7f to the low seven bits of a byte never carries into the next byte.
        let mut equal = !(((x & LOW7) + LOW7) | x | LOW7);
        while equal != 0 {
            out.push((base + (equal.trailing_zeros() as usize >> 3)) as IdxSize);
            equal &= equal - 1;
        }
        base += 8;
    }
    for (i, &v) in words.remainder().iter().enumerate() {
        if v == target {
            out.push((base + i) as IdxSize);
        }
    }
    out
}

/// One piece of a split held in this process: the split, shared, and the piece's number.
struct PieceRef {
    split: Arc<SplitRows>,
    piece: usize,
}

/// The name a piece's serialized form (Arrow IPC of the cut piece) carries.
const PIECE_WIRE_NAME: &str = "dusk.frame.shuffle-piece";

fn encode_piece(value: &(dyn Any + Send + Sync)) -> Result<Vec<u8>, DataError> {
    let encode_error = |message: String| DataError::Encode {
        type_name: PIECE_WIRE_NAME,
        message,
    };
    let piece = value
        .downcast_ref::<PieceRef>()
        .ok_or_else(|| encode_error("not a shuffle piece".to_string()))?;
    let frame = piece
        .split
        .cut(piece.piece)
        .map_err(|e| encode_error(e.to_string()))?;
    dusk_core::ipc::frame_to_ipc(&frame)
}

/// Piece `piece` of `split` as a task result: a reference to the split in this process, cut
/// into a frame of its own only if it is sent elsewhere.
pub(crate) fn piece_data(split: Arc<SplitRows>, piece: usize) -> Result<Data, BoxError> {
    if piece >= split.pieces() {
        return Err(format!(
            "a shuffle split has {} pieces, not a piece {piece}",
            split.pieces()
        )
        .into());
    }
    let rows = split.counts[piece] as usize;
    let size = split.bytes_for(rows);
    Ok(Data::local_sendable_with(
        PieceRef { split, piece },
        size,
        PIECE_WIRE_NAME,
        encode_piece,
    ))
}

/// What a gather reads: some rows of a split in this process, or a whole frame.
pub(crate) enum Source {
    Split(Arc<SplitRows>, usize),
    Frame(DataFrame),
}

impl Source {
    /// The gather source a piece task's result stands for: a local piece reference, or a frame
    /// (a piece that came from another process as Arrow IPC, or any frame).
    pub(crate) fn of_piece(data: &Data) -> Result<Option<Source>, BoxError> {
        match data {
            Data::Frame(df) => Ok(Some(Source::Frame(df.clone()))),
            Data::Local(_) => match data.downcast_ref::<PieceRef>() {
                Ok(p) => Ok(Some(Source::Split(p.split.clone(), p.piece))),
                Err(_) => Ok(None),
            },
            Data::Value(v) if v.type_name() == PIECE_WIRE_NAME => Ok(Some(Source::Frame(
                dusk_core::ipc::frame_from_ipc(v.bytes())?,
            ))),
            _ => Ok(None),
        }
    }
}

/// A source with the rows it gives.
struct Part {
    frame: DataFrame,
    /// `None`: every row.
    rows: Option<Vec<IdxSize>>,
}

impl Part {
    fn height(&self) -> usize {
        self.rows.as_ref().map_or(self.frame.height(), Vec::len)
    }
}

/// Concatenates the sources' rows in order into one frame, every column in one contiguous chunk
/// (an empty frame with the sources' columns when none has a row; of `schema` without sources). Numeric columns without nulls are copied straight from the sources; other
/// columns are cut per source, appended and rechunked.
pub(crate) fn gather(sources: Vec<Source>, schema: &SchemaRef) -> PolarsResult<DataFrame> {
    let mut parts: Vec<Part> = Vec::with_capacity(sources.len());
    // Without rows, the result still has the sources' columns.
    let mut empty: Option<DataFrame> = None;
    for source in sources {
        let part = match source {
            Source::Frame(frame) => Part { frame, rows: None },
            Source::Split(split, _) if split.pieces() == 1 => Part {
                frame: split.frame.clone(),
                rows: None,
            },
            Source::Split(split, piece) => Part {
                rows: Some(split.take_rows(piece)?),
                frame: split.frame.clone(),
            },
        };
        if part.height() > 0 {
            parts.push(part);
        } else if empty.is_none() {
            empty = Some(part.frame.clear());
        }
    }
    match parts.as_slice() {
        [] => return Ok(empty.unwrap_or_else(|| DataFrame::empty_with_schema(schema))),
        [Part { frame, rows: None }] if frame.first_col_n_chunks() <= 1 => return Ok(frame.clone()),
        _ => {}
    }
    let height: usize = parts.iter().map(Part::height).sum();
    // The columns as the data has them: `schema` describes only an empty result (some
    // shuffles, of partial aggregates say, cannot know their columns when the graph is built).
    let names: Vec<PlSmallStr> = parts[0].frame.get_column_names_owned();
    let columns = names
        .iter()
        .map(|name| gather_column(&parts, name, height))
        .collect::<PolarsResult<Vec<Column>>>()?;
    DataFrame::new(height, columns)
}

fn gather_column(parts: &[Part], name: &PlSmallStr, height: usize) -> PolarsResult<Column> {
    let columns = parts
        .iter()
        .map(|p| p.frame.column(name.as_str()))
        .collect::<PolarsResult<Vec<&Column>>>()?;
    let fast = match columns[0].dtype() {
        DataType::Int64 => gather_numeric::<Int64Type>(parts, &columns, name, height),
        DataType::Int32 => gather_numeric::<Int32Type>(parts, &columns, name, height),
        DataType::UInt64 => gather_numeric::<UInt64Type>(parts, &columns, name, height),
        DataType::UInt32 => gather_numeric::<UInt32Type>(parts, &columns, name, height),
        DataType::Float64 => gather_numeric::<Float64Type>(parts, &columns, name, height),
        DataType::Float32 => gather_numeric::<Float32Type>(parts, &columns, name, height),
        _ => None,
    };
    if let Some(column) = fast {
        return Ok(column);
    }
    let mut out: Option<Column> = None;
    for (part, column) in parts.iter().zip(columns) {
        let piece = match &part.rows {
            Some(rows) => column.take(&IdxCa::from_vec("rows".into(), rows.clone()))?,
            None => column.clone(),
        };
        match &mut out {
            None => out = Some(piece),
            Some(out) => {
                out.append(&piece)?;
            }
        }
    }
    let out = out.ok_or_else(|| polars_err!(ComputeError: "a gather without sources"))?;
    Ok(out.rechunk())
}

/// A numeric column gathered value by value into one buffer, if every source holds it in one
/// chunk without nulls (`None` otherwise: the general path handles it).
fn gather_numeric<T: PolarsNumericType>(
    parts: &[Part],
    columns: &[&Column],
    name: &PlSmallStr,
    height: usize,
) -> Option<Column> {
    let slices = columns
        .iter()
        .map(|c| {
            c.as_materialized_series()
                .unpack::<T>()
                .ok()?
                .cont_slice()
                .ok()
        })
        .collect::<Option<Vec<&[T::Native]>>>()?;
    let mut out = Vec::with_capacity(height);
    for (part, values) in parts.iter().zip(slices) {
        match &part.rows {
            Some(rows) => out.extend(rows.iter().map(|&i| values[i as usize])),
            None => out.extend_from_slice(values),
        }
    }
    Some(ChunkedArray::<T>::from_vec(name.clone(), out).into_column())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_of(df: &DataFrame, pieces: usize, piece_of: impl Fn(usize) -> u32) -> SplitRows {
        SplitRows::new(df.clone(), pieces, piece_of, None).unwrap()
    }

    #[test]
    fn positions_match_a_plain_filter() {
        for len in [0usize, 1, 7, 8, 9, 63, 64, 65, 1000] {
            let values: Vec<u8> = (0..len)
                .map(|i| [0u8, 1, 2, 127, 128, 255][i * 7 % 6])
                .collect();
            for target in [0u8, 1, 2, 3, 127, 128, 254, 255] {
                let want: Vec<IdxSize> = (0..len)
                    .filter(|&i| values[i] == target)
                    .map(|i| i as IdxSize)
                    .collect();
                assert_eq!(positions_of_byte(&values, target, want.len()), want);
                assert_eq!(positions_of(&values, target, want.len()), want);
            }
        }
    }

    #[test]
    fn narrow_medium_and_wide_splits_cut_the_same_pieces() {
        let df = df!("k" => (0..600i64).collect::<Vec<_>>()).unwrap();
        for pieces in [3usize, 300, 70_000] {
            let split = split_of(&df, pieces, |i| (i % 3) as u32);
            for j in 0..3 {
                let want: Vec<i64> = (0..600).filter(|i| i % 3 == j as i64).collect();
                let got: Vec<i64> = split
                    .cut(j)
                    .unwrap()
                    .column("k")
                    .unwrap()
                    .i64()
                    .unwrap()
                    .into_no_null_iter()
                    .collect();
                assert_eq!(got, want, "{pieces} pieces, piece {j}");
            }
            assert_eq!(split.cut(4).unwrap().height(), 0);
            // A gather run twice, or a split sent elsewhere, finds the same rows again.
            let sent: SplitRows =
                postcard::from_bytes(&postcard::to_stdvec(&split).unwrap()).unwrap();
            for j in 0..3 {
                let first = split.take_rows(j).unwrap();
                assert_eq!(first.len(), 200);
                assert_eq!(split.take_rows(j).unwrap(), first);
                assert_eq!(sent.take_rows(j).unwrap(), first);
                assert_eq!(split.clone().rows_of(j).unwrap(), first);
            }
        }
        assert!(SplitRows::new(df, 2, |_| 2, None).is_err());
    }

    #[test]
    fn a_hash_split_finds_rows_again_by_hashing() {
        let df = df!("k" => (0..1000i64).map(|i| i % 37).collect::<Vec<_>>()).unwrap();
        let on = vec!["k".to_string()];
        let hashes = row_hashes(&df, &on).unwrap();
        for (buckets, radix) in [(8, Radix::whole(8)), (16, Radix { div: 4, k: 4 })] {
            let piece_of =
                |row: usize| (bucket_of_hash(hashes[row], buckets as u64) / radix.div) % radix.k;
            let recipe = HashRecipe {
                on: on.clone(),
                buckets,
                radix,
            };
            let split =
                SplitRows::new(df.clone(), radix.k as usize, piece_of, Some(recipe)).unwrap();
            assert_eq!(split.own_size(), 4 * 1000, "no byte per row is kept");
            for j in 0..radix.k as usize {
                let want: Vec<IdxSize> = (0..1000)
                    .filter(|&r| piece_of(r) == j as u32)
                    .map(|r| r as IdxSize)
                    .collect();
                assert_eq!(split.take_rows(j).unwrap(), want);
                assert_eq!(split.take_rows(j).unwrap(), want, "found again by hashing");
            }
        }
    }

    #[test]
    fn a_gather_equals_the_concatenation_of_cut_pieces() {
        let a = df!(
            "k" => (0..40i64).collect::<Vec<_>>(),
            "f" => (0..40).map(|i| i as f64 / 2.0).collect::<Vec<_>>(),
            "n" => (0..40).map(|i| (i % 3 != 0).then_some(i)).collect::<Vec<_>>(),
            "s" => (0..40).map(|i| format!("r{i}")).collect::<Vec<_>>()
        )
        .unwrap();
        let b = a.slice(5, 20);
        let split_a = Arc::new(split_of(&a, 4, |i| (i * 5 % 4) as u32));
        let split_b = Arc::new(split_of(&b, 4, |i| (i % 4) as u32));
        let whole = a.slice(30, 7);
        for j in 0..4 {
            let sources = vec![
                Source::Split(split_a.clone(), j),
                Source::Frame(whole.clone()),
                Source::Split(split_b.clone(), j),
            ];
            let got = gather(sources, a.schema()).unwrap();
            // The columns come from the data, not from the schema for an empty result.
            let unknown = Arc::new(Schema::default());
            let sources = vec![
                Source::Split(split_a.clone(), j),
                Source::Frame(whole.clone()),
            ];
            assert_eq!(gather(sources, &unknown).unwrap().width(), 4);
            let mut want = split_a.cut(j).unwrap();
            want.vstack_mut(&whole).unwrap();
            want.vstack_mut(&split_b.cut(j).unwrap()).unwrap();
            assert!(got.equals_missing(&want), "piece {j}");
            assert!(got.columns().iter().all(|c| c.n_chunks() == 1));
        }
        let empty = gather(vec![], a.schema()).unwrap();
        assert_eq!((empty.height(), empty.width()), (0, 4));
        // Pieces without rows still give their columns (partial aggregates of a group-by
        // arrive with an empty schema, and an output may get no group at all).
        let nothing = Arc::new(split_of(&a, 4, |_| 0));
        let got = gather(
            vec![Source::Split(nothing, 3)],
            &Arc::new(Schema::default()),
        )
        .unwrap();
        assert_eq!((got.height(), got.width()), (0, 4));
    }

    #[test]
    fn a_piece_sent_away_is_its_cut_frame() {
        let df = df!("k" => (0..30i64).collect::<Vec<_>>()).unwrap();
        let split = Arc::new(split_of(&df, 3, |i| (i % 3) as u32));
        let local = piece_data(split.clone(), 1).unwrap();
        let Data::Local(v) = &local else {
            panic!("a piece stays a reference in its process")
        };
        let sent = Data::Value(v.to_serialized().unwrap().unwrap());
        let Some(Source::Frame(frame)) = Source::of_piece(&sent).unwrap() else {
            panic!("a piece from elsewhere is a frame")
        };
        assert!(frame.equals(&split.cut(1).unwrap()));
        assert!(piece_data(split, 3).is_err());
    }
}
