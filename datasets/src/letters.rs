//! Files of random lowercase letters, for the "count letters in 100 files" benchmark.
//!
//! Files are named `letters-000.txt`, `letters-001.txt`, ... (three digits, more when there
//! are over a thousand files). Each holds exactly `bytes_per_file` ASCII letters `a`–`z`,
//! uniform and independent, with no newline or any other byte. File `k` comes from its own
//! random stream seeded by `(seed, k)`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{at, DatasetError};
use crate::rng::{stream, SplitMix64};
use crate::util::{create_dir, for_each_index};

const CHUNK: usize = 1 << 16;

/// The file name of file `index`, e.g. `letters-007.txt`.
pub fn letters_file_name(index: usize) -> String {
    format!("letters-{index:03}.txt")
}

/// Writes `files` files of `bytes_per_file` letters into `dir` (created if missing), in
/// parallel, and returns their paths in order.
pub fn write_letters(
    dir: &Path,
    files: usize,
    bytes_per_file: usize,
    seed: u64,
) -> Result<Vec<PathBuf>, DatasetError> {
    create_dir(dir)?;
    for_each_index(files, |i| {
        write_letters_file(dir, i, bytes_per_file, seed).map(drop)
    })?;
    Ok((0..files).map(|i| dir.join(letters_file_name(i))).collect())
}

/// Writes only file `index` into `dir` and returns its path; the bytes equal those of the
/// same file written by [`write_letters`].
pub fn write_letters_file(
    dir: &Path,
    index: usize,
    bytes_per_file: usize,
    seed: u64,
) -> Result<PathBuf, DatasetError> {
    create_dir(dir)?;
    let path = dir.join(letters_file_name(index));
    let mut file = File::create(&path).map_err(at(&path))?;
    let mut rng = SplitMix64::for_stream(seed, stream::LETTERS, index as u64);
    // Writes of whole 64 KiB chunks need no BufWriter.
    let mut chunk = vec![0u8; CHUNK];
    let mut remaining = bytes_per_file;
    while remaining > 0 {
        let n = remaining.min(CHUNK);
        // Two letters per 64-bit draw: each 32-bit half, scaled to 0..26 by multiply-shift.
        for pair in chunk[..n].chunks_mut(2) {
            let x = rng.next_u64();
            let hi = (((x >> 32) * 26) >> 32) as u8;
            let lo = (((x & 0xFFFF_FFFF) * 26) >> 32) as u8;
            pair[0] = b'a' + hi;
            if let Some(second) = pair.get_mut(1) {
                *second = b'a' + lo;
            }
        }
        file.write_all(&chunk[..n]).map_err(at(&path))?;
        remaining -= n;
    }
    file.flush().map_err(at(&path))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{read, TempDir};

    #[test]
    fn only_letters_with_the_right_length() {
        let dir = TempDir::new("letters-shape");
        // An odd size that is not a multiple of the chunk, to exercise both tails.
        let paths = write_letters(dir.path(), 3, CHUNK * 2 + 7, 42).unwrap();
        assert_eq!(paths.len(), 3);
        assert_eq!(paths[2].file_name().unwrap(), "letters-002.txt");
        let mut counts = [0usize; 26];
        for p in &paths {
            let bytes = read(p);
            assert_eq!(bytes.len(), CHUNK * 2 + 7);
            for &b in &bytes {
                assert!(b.is_ascii_lowercase(), "byte {b}");
                counts[(b - b'a') as usize] += 1;
            }
        }
        let expected = (3 * (CHUNK * 2 + 7)) as f64 / 26.0;
        for c in counts {
            assert!((c as f64 - expected).abs() < expected * 0.05, "{counts:?}");
        }
        let empty = write_letters_file(dir.path(), 9, 0, 42).unwrap();
        assert!(read(&empty).is_empty());
        assert_eq!(letters_file_name(1234), "letters-1234.txt");
    }

    #[test]
    fn deterministic_and_single_file_matches_full_run() {
        let a = TempDir::new("letters-det-a");
        let b = TempDir::new("letters-det-b");
        let c = TempDir::new("letters-det-c");
        let pa = write_letters(a.path(), 5, 1001, 3).unwrap();
        let pb = write_letters(b.path(), 5, 1001, 3).unwrap();
        for (x, y) in pa.iter().zip(&pb) {
            assert_eq!(read(x), read(y));
        }
        let single = write_letters_file(c.path(), 3, 1001, 3).unwrap();
        assert_eq!(read(&single), read(&pa[3]));
        assert_ne!(read(&pa[2]), read(&pa[3]));
        let reseeded = write_letters_file(c.path(), 3, 1001, 4).unwrap();
        assert_ne!(read(&reseeded), read(&pa[3]));
    }
}
