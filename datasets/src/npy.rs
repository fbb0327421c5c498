//! A 2-D `float64` array in NumPy's `.npy` format, for the array examples and benchmarks.
//!
//! The file is exactly what `numpy.save` (NumPy ≥ 1.24) writes for a C-order `<f8` array of
//! shape `(rows, cols)`: format version 1.0, header
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (R, C), }` followed by NumPy's spare
//! "growth" spaces and padding so that the data starts at a multiple of 64 bytes, terminated
//! by `\n`; then `rows × cols` little-endian `f64`s in row-major order.
//!
//! Element `(i, j)` is [`npy_value`]`(seed, i, j)`: a hash of `(seed, i, j)` mapped to a
//! uniform float in `[0, 1)`. It does not depend on the array's shape or on any other
//! element, so any block can be recomputed on its own (tests check chunked reads against
//! it without opening the file), and the writer streams row bands to disk in parallel —
//! even a 2 GB array never sits in memory.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{at, DatasetError};
use crate::rng::{key, mix64, stream, unit_f64, GOLDEN};
use crate::util::{create_parent, for_each_index, worker_count, WRITE_BUFFER};

/// NumPy's `ARRAY_ALIGN`: the data offset is a multiple of this.
const ARRAY_ALIGN: usize = 64;
/// NumPy's `GROWTH_AXIS_MAX_DIGITS`: spare header room for growing the first axis in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;
/// Magic string plus format version 1.0.
const MAGIC_V1: &[u8; 8] = b"\x93NUMPY\x01\x00";

/// The value of element `(i, j)` of the array generated with `seed`: uniform in `[0, 1)`.
///
/// This is the very function [`write_npy`] uses, so `npy_value(seed, i, j)` equals element
/// `(i, j)` of any array written with that seed, whatever its shape (as long as it contains
/// `(i, j)`).
#[inline]
pub fn npy_value(seed: u64, i: usize, j: usize) -> f64 {
    value_in_row(row_key(seed, i), j)
}

#[inline]
fn row_key(seed: u64, i: usize) -> u64 {
    key(seed, stream::NPY, i as u64)
}

#[inline]
fn value_in_row(row_key: u64, j: usize) -> f64 {
    unit_f64(mix64(
        row_key.wrapping_add((j as u64).wrapping_add(1).wrapping_mul(GOLDEN)),
    ))
}

/// The complete `.npy` header (magic, version, length, dictionary, padding, `\n`) for a C-order
/// `<f8` array of shape `(rows, cols)`. Its length is a multiple of 64.
pub fn npy_header(rows: usize, cols: usize) -> Vec<u8> {
    let mut dict =
        format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let first_axis_digits = rows.to_string().len();
    dict.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(first_axis_digits)));
    let hlen = dict.len() + 1;
    // As in numpy's `_wrap_header`: a full 64 bytes of padding when already aligned.
    let pad = ARRAY_ALIGN - (MAGIC_V1.len() + 2 + hlen) % ARRAY_ALIGN;
    let header_len =
        u16::try_from(hlen + pad).expect("a 2-D header is far below the 64 KiB limit of v1.0");
    let mut out = Vec::with_capacity(MAGIC_V1.len() + 2 + hlen + pad);
    out.extend_from_slice(MAGIC_V1);
    out.extend_from_slice(&header_len.to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(out.len() + pad, b' ');
    out.push(b'\n');
    out
}

/// Writes the `(rows, cols)` array for `seed` to `path` (parent directories are created) and
/// returns `path`. Row bands are generated and written in parallel through independent file
/// handles; memory use is a few MiB whatever the size.
pub fn write_npy(
    path: &Path,
    rows: usize,
    cols: usize,
    seed: u64,
) -> Result<PathBuf, DatasetError> {
    let too_big =
        || DatasetError::InvalidParameter(format!("npy: shape ({rows}, {cols}) is too large"));
    let data_bytes = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(8))
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(too_big)?;
    let header = npy_header(rows, cols);
    let total = data_bytes
        .checked_add(header.len() as u64)
        .ok_or_else(too_big)?;

    create_parent(path)?;
    {
        let mut file = File::create(path).map_err(at(path))?;
        file.write_all(&header).map_err(at(path))?;
        file.set_len(total).map_err(at(path))?;
    }

    // Small arrays are written by one thread; big ones in several bands per core.
    let bands = if data_bytes < (8 << 20) {
        1
    } else {
        (worker_count(usize::MAX) * 4).min(rows)
    };
    let rows_per_band = rows.div_ceil(bands.max(1)).max(1);
    let row_bytes = cols * 8;
    let n_bands = rows.div_ceil(rows_per_band);
    for_each_index(n_bands, |band| {
        let start = band * rows_per_band;
        let end = (start + rows_per_band).min(rows);
        let mut file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(at(path))?;
        let offset = header.len() as u64 + (start as u64) * (row_bytes as u64);
        file.seek(SeekFrom::Start(offset)).map_err(at(path))?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut row = vec![0u8; row_bytes];
        for i in start..end {
            let k = row_key(seed, i);
            for (j, cell) in row.chunks_exact_mut(8).enumerate() {
                cell.copy_from_slice(&value_in_row(k, j).to_le_bytes());
            }
            out.write_all(&row).map_err(at(path))?;
        }
        out.into_inner()
            .map_err(|e| DatasetError::io(path, e.into_error()))?;
        Ok(())
    })?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{read, TempDir};

    /// Parses the header the way numpy's `read_array_header_1_0` does, returning
    /// `(data offset, rows, cols)`.
    fn parse_header(bytes: &[u8]) -> (usize, usize, usize) {
        assert_eq!(&bytes[..8], MAGIC_V1);
        let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let offset = 10 + hlen;
        assert_eq!(offset % 64, 0, "data is 64-byte aligned");
        let dict = std::str::from_utf8(&bytes[10..offset]).unwrap();
        assert!(dict.ends_with('\n'));
        let dict = dict.trim_end();
        assert!(dict.starts_with("{'descr': '<f8', 'fortran_order': False, 'shape': ("));
        assert!(dict.ends_with("), }"));
        let shape = &dict[dict.find("'shape': (").unwrap() + 10..dict.len() - 4];
        let (r, c) = shape.split_once(", ").unwrap();
        (offset, r.parse().unwrap(), c.parse().unwrap())
    }

    #[test]
    fn header_matches_numpy_byte_for_byte() {
        // What numpy 1.24+/2.x `np.save` writes for np.zeros((200, 150)).
        let mut expected = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        expected
            .extend_from_slice(b"{'descr': '<f8', 'fortran_order': False, 'shape': (200, 150), }");
        expected.resize(127, b' ');
        expected.push(b'\n');
        assert_eq!(npy_header(200, 150), expected);
        for (r, c) in [
            (0, 0),
            (1, 1),
            (16000, 16000),
            (123_456_789_012, 3),
            (7, 99_999_999_999),
        ] {
            let h = npy_header(r, c);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(parse_header(&h), (h.len(), r, c));
        }
    }

    #[test]
    fn file_layout_and_values() {
        let dir = TempDir::new("npy-layout");
        let path = write_npy(&dir.path().join("sub/a.npy"), 37, 23, 5).unwrap();
        let bytes = read(&path);
        let (offset, rows, cols) = parse_header(&bytes);
        assert_eq!((rows, cols), (37, 23));
        assert_eq!(bytes.len(), offset + 8 * 37 * 23);
        let mut sum = 0.0;
        for i in 0..rows {
            for j in 0..cols {
                let at = offset + 8 * (i * cols + j);
                let v = f64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
                assert_eq!(v.to_bits(), npy_value(5, i, j).to_bits(), "({i}, {j})");
                assert!((0.0..1.0).contains(&v));
                sum += v;
            }
        }
        let mean = sum / (rows * cols) as f64;
        assert!((mean - 0.5).abs() < 0.03, "{mean}");
        // Values do not depend on the shape.
        let other = read(&write_npy(&dir.path().join("b.npy"), 10, 40, 5).unwrap());
        let (off2, _, _) = parse_header(&other);
        let at = off2 + 8 * (4 * 40 + 7);
        assert_eq!(
            f64::from_le_bytes(other[at..at + 8].try_into().unwrap()),
            npy_value(5, 4, 7)
        );
        assert_ne!(npy_value(5, 4, 7), npy_value(6, 4, 7));
        assert_ne!(npy_value(5, 4, 7), npy_value(5, 7, 4));
    }

    #[test]
    fn multi_band_write_is_deterministic() {
        // 1100 × 1000 × 8 B = 8.8 MB, above the single-band threshold.
        let dir = TempDir::new("npy-bands");
        let a = write_npy(&dir.path().join("a.npy"), 1100, 1000, 1).unwrap();
        let b = write_npy(&dir.path().join("b.npy"), 1100, 1000, 1).unwrap();
        let (ba, bb) = (read(&a), read(&b));
        assert_eq!(ba, bb);
        let (offset, rows, cols) = parse_header(&ba);
        assert_eq!(ba.len(), offset + 8 * rows * cols);
        for (i, j) in [
            (0, 0),
            (0, 999),
            (549, 500),
            (550, 0),
            (1099, 999),
            (777, 3),
        ] {
            let at = offset + 8 * (i * cols + j);
            let v = f64::from_le_bytes(ba[at..at + 8].try_into().unwrap());
            assert_eq!(v, npy_value(1, i, j), "({i}, {j})");
        }
    }

    #[test]
    fn empty_and_oversized_shapes() {
        let dir = TempDir::new("npy-edge");
        let p = write_npy(&dir.path().join("e.npy"), 0, 5, 1).unwrap();
        assert_eq!(read(&p), npy_header(0, 5));
        let err = write_npy(&dir.path().join("x.npy"), usize::MAX, 2, 1).unwrap_err();
        assert!(matches!(err, DatasetError::InvalidParameter(_)));
    }
}
