//! DataFrame partitions as Arrow IPC stream bytes.
//!
//! A partition leaves its process in exactly one form: the Arrow IPC stream format, the one
//! every Arrow implementation reads. Polars writes and reads it without converting the columns
//! (they are Arrow memory already), and keeps each column's sortedness flags in the stream's
//! metadata so that a partition sorted on one worker is still known to be sorted on the next.
//! Workers send partitions this way, and a literal frame inside a shipped graph travels the
//! same way.

use std::io::Cursor;

use polars::frame::DataFrame;

use crate::error::DataError;

const FRAME: &str = "polars::frame::DataFrame";

/// Writes a partition as one Arrow IPC stream.
///
/// ```
/// use polars::prelude::*;
/// let df = df!("a" => [1i64, 2, 3], "b" => ["x", "y", "z"]).unwrap();
/// let bytes = dusk_core::ipc::frame_to_ipc(&df).unwrap();
/// let back = dusk_core::ipc::frame_from_ipc(&bytes).unwrap();
/// assert!(back.equals_missing(&df));
/// ```
pub fn frame_to_ipc(df: &DataFrame) -> Result<Vec<u8>, DataError> {
    // Writing needs `&mut` (it may rechunk); the clone shares the column buffers.
    df.clone()
        .serialize_to_bytes()
        .map_err(|e| DataError::Encode {
            type_name: FRAME,
            message: e.to_string(),
        })
}

/// Reads a partition back from an Arrow IPC stream (an empty stream keeps its schema).
///
/// ```
/// let err = dusk_core::ipc::frame_from_ipc(b"not arrow").unwrap_err().to_string();
/// assert!(err.contains("DataFrame"), "{err}");
/// ```
pub fn frame_from_ipc(bytes: &[u8]) -> Result<DataFrame, DataError> {
    DataFrame::deserialize_from_reader(&mut Cursor::new(bytes)).map_err(|e| DataError::Decode {
        expected: FRAME,
        found: "Arrow IPC stream".to_string(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn empty_frames_keep_their_schema() {
        let df = DataFrame::empty_with_schema(&Schema::from_iter([
            Field::new("k".into(), DataType::Int32),
            Field::new("s".into(), DataType::String),
        ]));
        let back = frame_from_ipc(&frame_to_ipc(&df).unwrap()).unwrap();
        assert_eq!(back.height(), 0);
        assert_eq!(back.schema(), df.schema());
    }

    #[test]
    fn nulls_and_many_chunks_survive() {
        let mut a = df!("v" => [Some(1.5), None, Some(-2.0)]).unwrap();
        let b = df!("v" => [None::<f64>, Some(4.0)]).unwrap();
        a.vstack_mut(&b).unwrap();
        let back = frame_from_ipc(&frame_to_ipc(&a).unwrap()).unwrap();
        assert!(back.equals_missing(&a));
    }

    #[test]
    fn sortedness_flags_travel() {
        let df = df!("k" => [1i64, 2, 3]).unwrap();
        let sorted = df.sort(["k"], SortMultipleOptions::default()).unwrap();
        let back = frame_from_ipc(&frame_to_ipc(&sorted).unwrap()).unwrap();
        assert_eq!(
            back.column("k").unwrap().is_sorted_flag(),
            sorted.column("k").unwrap().is_sorted_flag()
        );
    }
}
