//! Parquet sources: one partition per row group.
//!
//! A Parquet file already comes cut into row groups, each readable on its own, so they are the
//! natural partitions (Dask's `split_row_groups`). Planning reads only the footers: the row
//! counts give the partitions and the schemas are checked against the first file's. Reading a
//! partition asks Polars for that row group's rows and only the columns the plan needs.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::FrameError;

/// One partition: a row range of one file (one row group).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct ParquetPiece {
    pub path: PathBuf,
    pub offset: usize,
    pub len: usize,
}

/// The files, their row groups and the shared schema.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct ParquetSource {
    pub pieces: Vec<ParquetPiece>,
    pub schema: SchemaRef,
}

fn open(path: &Path) -> Result<File, FrameError> {
    File::open(path).map_err(|source| FrameError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn context(path: &Path) -> String {
    format!("read the Parquet footer of {}", path.display())
}

/// Reads the footers of `files` and plans one partition per row group.
pub(crate) fn plan(files: Vec<PathBuf>) -> Result<ParquetSource, FrameError> {
    let mut pieces = Vec::new();
    let mut first: Option<(PathBuf, SchemaRef)> = None;
    for path in files {
        let mut reader = ParquetReader::new(open(&path)?);
        let arrow = reader
            .schema()
            .map_err(|e| FrameError::polars(context(&path), e))?;
        let schema: SchemaRef = Arc::new(Schema::from_arrow_schema(&arrow));
        match &first {
            None => first = Some((path.clone(), schema.clone())),
            Some((first_path, expected)) if expected != &schema => {
                return Err(FrameError::SchemaMismatch {
                    path,
                    first: first_path.clone(),
                    expected: describe(expected),
                    found: describe(&schema),
                })
            }
            Some(_) => {}
        }
        let metadata = reader
            .get_metadata()
            .map_err(|e| FrameError::polars(context(&path), e))?;
        let mut offset = 0;
        for group in &metadata.row_groups {
            let len = group.num_rows();
            pieces.push(ParquetPiece {
                path: path.clone(),
                offset,
                len,
            });
            offset += len;
        }
        if metadata.row_groups.is_empty() {
            pieces.push(ParquetPiece {
                path: path.clone(),
                offset: 0,
                len: 0,
            });
        }
    }
    let (_, schema) = first.ok_or_else(|| FrameError::Unsupported("no Parquet files".into()))?;
    Ok(ParquetSource { pieces, schema })
}

fn describe(schema: &Schema) -> Vec<String> {
    schema
        .iter()
        .map(|(name, dtype)| format!("{name}: {dtype}"))
        .collect()
}

/// Reads one piece, keeping `columns` (all when `None`).
pub(crate) fn read_piece(
    source: &ParquetSource,
    piece: &ParquetPiece,
    columns: Option<&[String]>,
) -> Result<DataFrame, FrameError> {
    let what = || {
        format!(
            "read rows {}..{} of {}",
            piece.offset,
            piece.offset + piece.len,
            piece.path.display()
        )
    };
    if piece.len == 0 {
        let empty = DataFrame::empty_with_schema(&source.schema);
        return match columns {
            Some(cols) => empty
                .select(cols.iter().map(|c| c.as_str()))
                .map_err(|e| FrameError::polars(what(), e)),
            None => Ok(empty),
        };
    }
    ParquetReader::new(open(&piece.path)?)
        .with_columns(columns.map(<[String]>::to_vec))
        .with_slice(Some((piece.offset, piece.len)))
        .finish()
        .map_err(|e| FrameError::polars(what(), e))
}
