//! Writing partitions to files: one file per partition, as Dask's `to_csv` / `to_parquet`.
//!
//! Every partition is written by its own task, so writing streams: a partition is dropped as
//! soon as it is on disk and the whole frame never sits in memory. The file names come from a
//! pattern whose `*` is replaced by the zero-padded partition number, so the files sort in
//! partition order and reading them back with a glob restores the frame.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::FrameError;

/// The file format written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum WriteFormat {
    Csv,
    Parquet,
}

/// Where each partition goes.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct WriteTarget {
    pub format: WriteFormat,
    pub paths: Vec<PathBuf>,
}

/// The file names for `n` partitions from a pattern with one `*`.
pub(crate) fn expand_pattern(pattern: &str, n: usize) -> Result<Vec<PathBuf>, FrameError> {
    if pattern.matches('*').count() != 1 {
        return Err(FrameError::Unsupported(format!(
            "the output pattern `{pattern}` needs exactly one `*` to number the files"
        )));
    }
    // Absolute, so that workers started in another directory write where asked.
    let pattern = std::path::absolute(pattern)
        .map_err(|source| FrameError::Io {
            path: PathBuf::from(pattern),
            source,
        })?
        .to_string_lossy()
        .into_owned();
    let width = n.saturating_sub(1).to_string().len();
    Ok((0..n)
        .map(|i| PathBuf::from(pattern.replacen('*', &format!("{i:0width$}"), 1)))
        .collect())
}

fn create(path: &Path) -> Result<BufWriter<File>, FrameError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| FrameError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    File::create(path)
        .map(BufWriter::new)
        .map_err(|source| FrameError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Writes one partition; returns a one-row frame holding the path written.
pub(crate) fn write_partition(
    mut df: DataFrame,
    format: WriteFormat,
    path: &Path,
) -> Result<DataFrame, FrameError> {
    let what = || format!("write {}", path.display());
    let file = create(path)?;
    match format {
        WriteFormat::Csv => CsvWriter::new(file)
            .include_header(true)
            .finish(&mut df)
            .map_err(|e| FrameError::polars(what(), e))?,
        WriteFormat::Parquet => {
            ParquetWriter::new(file)
                .finish(&mut df)
                .map_err(|e| FrameError::polars(what(), e))?;
        }
    }
    DataFrame::new_infer_height(vec![Column::new(
        "path".into(),
        [path.to_string_lossy().into_owned()],
    )])
    .map_err(|e| FrameError::polars(what(), e))
}

/// Reads the paths back from the concatenated results of the write tasks.
pub(crate) fn written_paths(df: DataFrame) -> Result<Vec<PathBuf>, FrameError> {
    let column = df
        .column("path")
        .map_err(|e| FrameError::polars("read the written paths", e))?;
    let paths = column
        .str()
        .map_err(|e| FrameError::polars("read the written paths", e))?;
    Ok(paths.iter().flatten().map(PathBuf::from).collect())
}
