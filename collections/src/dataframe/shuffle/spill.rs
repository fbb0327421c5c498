//! Shuffling through disk ([`ShuffleMethod::Disk`](super::ShuffleMethod::Disk)): each split
//! writes its pieces to Arrow IPC files and hands on only their paths, and each gather reads (and
//! deletes) its pieces, so the pieces of a shuffle never sit in memory together.

use std::path::PathBuf;

use dusk_core::{BoxError, Data};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::pieces::SplitRows;

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

/// Pieces written to files, one per output partition.
#[derive(Clone, Serialize, Deserialize)]
struct SpilledPieces(Vec<PathBuf>);

/// Cuts a split's pieces, writes them to files and hands on their paths.
pub(crate) fn spill_pieces(
    split: &SplitRows,
    spill: &Spill,
    index: usize,
) -> Result<Data, BoxError> {
    std::fs::create_dir_all(&spill.dir)
        .map_err(|e| format!("create the shuffle directory {}: {e}", spill.dir.display()))?;
    let mut paths = Vec::with_capacity(split.pieces());
    for j in 0..split.pieces() {
        let mut piece = split.cut(j)?;
        let path = spill.dir.join(format!("split-{index}-{j}.arrow"));
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

/// Piece `j` of a spilled split: the file holding it.
pub(crate) fn spilled_piece(split: &Data, j: usize) -> Result<Data, BoxError> {
    let paths = match split {
        Data::Value(_) => split.decode::<SpilledPieces>()?.0,
        _ => split.downcast_ref::<SpilledPieces>()?.0.clone(),
    };
    let path = paths
        .get(j)
        .ok_or_else(|| format!("a split has {} pieces, not a piece {j}", paths.len()))?
        .clone();
    let size = path.as_os_str().len();
    Ok(Data::local_sendable(SpilledPiece(path), size))
}

/// The frame of a spilled piece, read from its file (which is deleted: each piece has exactly
/// one reader, and the directory goes once it is empty).
pub(crate) fn read_spilled_piece(data: &Data) -> Result<DataFrame, BoxError> {
    let SpilledPiece(path) = data.decode::<SpilledPiece>()?;
    let file = std::fs::File::open(&path).map_err(|e| format!("open {}: {e}", path.display()))?;
    let df = IpcReader::new(file).finish()?;
    let _ = std::fs::remove_file(&path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir);
    }
    Ok(df)
}
