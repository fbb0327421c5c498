//! Gzipped JSON-lines files of people records: the dataset behind the bag examples.
//!
//! Files are named `2015-01-01.json.gz`, `2015-01-02.json.gz`, ...; each decompresses to
//! `records_per_file` lines, one JSON object per line, with keys in this order:
//!
//! ```text
//! {"id":7,"name":"Alice","age":34,"occupation":"Engineer","city":"Paris","score":61.25,"tags":["red","fast"]}
//! ```
//!
//! | key          | type            | content                                                       |
//! |--------------|-----------------|---------------------------------------------------------------|
//! | `id`         | integer         | unique: `file * records_per_file + line + 1`                  |
//! | `name`       | string          | one of [`NAMES`], Zipf-distributed: P(rank k) ∝ 1/k           |
//! | `age`        | integer         | uniform in `18..=80`                                          |
//! | `occupation` | string          | uniform over [`OCCUPATIONS`]                                  |
//! | `city`       | string          | uniform over [`CITIES`]                                       |
//! | `score`      | float           | normal, mean 50, sd 15, at most 3 decimals, always has a `.`  |
//! | `tags`       | array of string | 1 to 3 distinct entries of [`TAGS`]                           |
//!
//! Names follow the order of [`NAMES`] in popularity: `Alice` is the most frequent (about 26%
//! of records), then `Bob` (13%), `Charlie` (8.7%), ..., so `frequencies().topk(k)` has a
//! clear, known answer. There are no nulls. The gzip header has no file name and mtime 0,
//! so the compressed bytes are reproducible too.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};

use crate::error::{at, DatasetError};
pub use crate::events::NAMES;
use crate::rng::{stream, SplitMix64};
use crate::util::{create_dir, date_for_day, for_each_index, push_f64_3, push_u64, WRITE_BUFFER};

/// The occupations of the `occupation` key.
pub const OCCUPATIONS: [&str; 15] = [
    "Engineer",
    "Teacher",
    "Doctor",
    "Nurse",
    "Artist",
    "Lawyer",
    "Chef",
    "Farmer",
    "Pilot",
    "Scientist",
    "Writer",
    "Designer",
    "Accountant",
    "Musician",
    "Electrician",
];

/// The cities of the `city` key.
pub const CITIES: [&str; 12] = [
    "New York",
    "London",
    "Paris",
    "Tokyo",
    "Berlin",
    "Sydney",
    "Toronto",
    "Madrid",
    "Rome",
    "Mumbai",
    "Beijing",
    "Sao Paulo",
];

/// The vocabulary of the `tags` array.
pub const TAGS: [&str; 8] = ["red", "green", "blue", "fast", "slow", "new", "old", "vip"];

/// Parameters of a JSON-lines dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JsonSpec {
    /// Number of `.json.gz` files, named by consecutive dates from 2015-01-01.
    pub files: usize,
    /// Lines (records) in each file.
    pub records_per_file: usize,
    /// Seed of the whole dataset.
    pub seed: u64,
}

impl Default for JsonSpec {
    /// The committed sample: 4 files × 2500 records, seed 42.
    fn default() -> Self {
        crate::SAMPLE_JSON
    }
}

/// The file name of file `index` (0 = `2015-01-01.json.gz`).
pub fn json_file_name(index: usize) -> String {
    format!("{}.json.gz", date_for_day(index))
}

/// The probability of each entry of [`NAMES`] in the `name` key (Zipf with exponent 1).
pub fn name_probabilities() -> [f64; 26] {
    let mut p = [0.0; 26];
    let mut total = 0.0;
    for (k, slot) in p.iter_mut().enumerate() {
        *slot = 1.0 / (k + 1) as f64;
        total += *slot;
    }
    for slot in &mut p {
        *slot /= total;
    }
    p
}

/// Writes all `spec.files` files into `dir` (created if missing), in parallel, and returns
/// their paths in order.
pub fn write_json(dir: &Path, spec: &JsonSpec) -> Result<Vec<PathBuf>, DatasetError> {
    create_dir(dir)?;
    for_each_index(spec.files, |i| write_json_file(dir, spec, i).map(drop))?;
    Ok((0..spec.files)
        .map(|i| dir.join(json_file_name(i)))
        .collect())
}

/// Writes only file `index` into `dir` and returns its path; the bytes equal those of the
/// same file written by [`write_json`].
pub fn write_json_file(dir: &Path, spec: &JsonSpec, index: usize) -> Result<PathBuf, DatasetError> {
    create_dir(dir)?;
    let path = dir.join(json_file_name(index));
    let file = File::create(&path).map_err(at(&path))?;
    let mut gz = GzBuilder::new().mtime(0).operating_system(255).write(
        BufWriter::with_capacity(WRITE_BUFFER, file),
        Compression::default(),
    );
    write_records(&mut gz, spec, index).map_err(at(&path))?;
    let out = gz.finish().map_err(at(&path))?;
    out.into_inner()
        .map_err(|e| DatasetError::io(&path, e.into_error()))?;
    Ok(path)
}

fn write_records(
    gz: &mut GzEncoder<BufWriter<File>>,
    spec: &JsonSpec,
    index: usize,
) -> std::io::Result<()> {
    let mut rng = SplitMix64::for_stream(spec.seed, stream::JSON, index as u64);
    let mut cumulative = name_probabilities();
    for k in 1..cumulative.len() {
        cumulative[k] += cumulative[k - 1];
    }
    let first_id = (index as u64) * (spec.records_per_file as u64) + 1;
    let mut chunk: Vec<u8> = Vec::with_capacity(1 << 16);
    for r in 0..spec.records_per_file as u64 {
        chunk.extend_from_slice(b"{\"id\":");
        push_u64(&mut chunk, first_id + r);

        let u = rng.next_f64();
        let name = cumulative.partition_point(|&c| c <= u).min(NAMES.len() - 1);
        chunk.extend_from_slice(b",\"name\":\"");
        chunk.extend_from_slice(NAMES[name].as_bytes());

        chunk.extend_from_slice(b"\",\"age\":");
        push_u64(&mut chunk, rng.range_inclusive(18, 80));

        chunk.extend_from_slice(b",\"occupation\":\"");
        chunk.extend_from_slice(
            OCCUPATIONS[rng.below(OCCUPATIONS.len() as u64) as usize].as_bytes(),
        );

        chunk.extend_from_slice(b"\",\"city\":\"");
        chunk.extend_from_slice(CITIES[rng.below(CITIES.len() as u64) as usize].as_bytes());

        chunk.extend_from_slice(b"\",\"score\":");
        push_f64_3(&mut chunk, rng.normal(50.0, 15.0));

        chunk.extend_from_slice(b",\"tags\":[");
        let n_tags = rng.range_inclusive(1, 3);
        let mut used = 0u32;
        let mut written = 0;
        while written < n_tags {
            let t = rng.below(TAGS.len() as u64) as u32;
            if used & (1 << t) != 0 {
                continue;
            }
            used |= 1 << t;
            if written > 0 {
                chunk.push(b',');
            }
            chunk.push(b'"');
            chunk.extend_from_slice(TAGS[t as usize].as_bytes());
            chunk.push(b'"');
            written += 1;
        }
        chunk.extend_from_slice(b"]}\n");

        if chunk.len() >= (1 << 16) - 256 {
            gz.write_all(&chunk)?;
            chunk.clear();
        }
    }
    gz.write_all(&chunk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{read, TempDir};
    use std::io::Read;

    fn gunzip(path: &Path) -> String {
        let mut text = String::new();
        flate2::read::GzDecoder::new(File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    /// The value of `"key":` in a line: a string without its quotes, an array with its
    /// brackets, or a bare number.
    fn field<'a>(line: &'a str, key: &str) -> &'a str {
        let pat = format!("\"{key}\":");
        let start = line.find(&pat).unwrap_or_else(|| panic!("{key} in {line}")) + pat.len();
        let rest = &line[start..];
        if let Some(s) = rest.strip_prefix('"') {
            &s[..s.find('"').unwrap()]
        } else if rest.starts_with('[') {
            &rest[..=rest.find(']').unwrap()]
        } else {
            &rest[..rest.find([',', '}']).unwrap()]
        }
    }

    #[test]
    fn probabilities_sum_to_one_and_decrease() {
        let p = name_probabilities();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p.windows(2).all(|w| w[0] > w[1]));
    }

    #[test]
    fn deterministic_and_single_file_matches_full_run() {
        let a = TempDir::new("json-det-a");
        let b = TempDir::new("json-det-b");
        let c = TempDir::new("json-det-c");
        let spec = JsonSpec {
            files: 5,
            records_per_file: 300,
            seed: 9,
        };
        let pa = write_json(a.path(), &spec).unwrap();
        let pb = write_json(b.path(), &spec).unwrap();
        for (x, y) in pa.iter().zip(&pb) {
            assert_eq!(read(x), read(y));
        }
        let single = write_json_file(c.path(), &spec, 3).unwrap();
        assert_eq!(single.file_name().unwrap(), "2015-01-04.json.gz");
        assert_eq!(read(&single), read(&pa[3]));
        assert_ne!(gunzip(&pa[2]), gunzip(&pa[3]));
    }

    #[test]
    fn records_decode_with_every_key() {
        let dir = TempDir::new("json-shape");
        let spec = JsonSpec {
            files: 3,
            records_per_file: 4000,
            seed: 42,
        };
        let paths = write_json(dir.path(), &spec).unwrap();
        let mut name_counts = [0usize; 26];
        let mut ids = Vec::new();
        for path in &paths {
            let text = gunzip(path);
            assert!(text.ends_with('\n'));
            let mut n = 0;
            for line in text.lines() {
                n += 1;
                assert!(
                    line.starts_with("{\"id\":") && line.ends_with("]}"),
                    "{line}"
                );
                // Balanced quotes and exactly the seven keys, in order.
                assert_eq!(line.matches('"').count() % 2, 0);
                let keys = ["id", "name", "age", "occupation", "city", "score", "tags"];
                let mut pos = 0;
                for key in keys {
                    let at = line[pos..].find(&format!("\"{key}\":")).expect(key);
                    pos += at + 1;
                }
                ids.push(field(line, "id").parse::<u64>().unwrap());
                let name = field(line, "name");
                name_counts[NAMES.iter().position(|&x| x == name).unwrap()] += 1;
                let age: u32 = field(line, "age").parse().unwrap();
                assert!((18..=80).contains(&age));
                assert!(OCCUPATIONS.contains(&field(line, "occupation")));
                assert!(CITIES.contains(&field(line, "city")));
                let score = field(line, "score");
                assert!(score.contains('.'));
                score.parse::<f64>().unwrap();
                let tags = field(line, "tags");
                let inner = &tags[1..tags.len() - 1];
                let list: Vec<&str> = inner.split(',').map(|t| t.trim_matches('"')).collect();
                assert!((1..=3).contains(&list.len()), "{tags}");
                assert!(list.iter().all(|t| TAGS.contains(t)), "{tags}");
                let mut dedup = list.clone();
                dedup.sort();
                dedup.dedup();
                assert_eq!(dedup.len(), list.len(), "{tags}");
            }
            assert_eq!(n, 4000);
        }
        let expected: Vec<u64> = (1..=12_000).collect();
        assert_eq!(ids, expected);
        // Zipf: the top of the ranking is in NAMES order, with clear gaps.
        assert!(name_counts[0] > name_counts[1] && name_counts[1] > name_counts[2]);
        assert!(name_counts[2] > name_counts[3] && name_counts[3] > name_counts[4]);
        let share = name_counts[0] as f64 / 12_000.0;
        assert!((share - name_probabilities()[0]).abs() < 0.015, "{share}");
    }
}
