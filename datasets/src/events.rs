//! Daily CSV files of user events: the dataset behind the dataframe examples and benchmarks.
//!
//! One file per day, named `2015-01-01.csv`, `2015-01-02.csv`, ... (consecutive calendar
//! days, crossing month and year boundaries correctly). Every file starts with the header
//! [`EVENTS_HEADER`] and has `rows_per_day` data rows:
//!
//! | column      | type    | content                                                     | nulls |
//! |-------------|---------|-------------------------------------------------------------|-------|
//! | `timestamp` | string  | `YYYY-MM-DD HH:MM:SS` within the file's day, non-decreasing | none  |
//! | `user_id`   | integer | uniform in `1..=n_users`                                    | none  |
//! | `name`      | string  | uniform over the 26 names of [`NAMES`]                      | ~1%   |
//! | `value`     | float   | normal, mean 100, sd 25, at most 3 decimals                 | ~2%   |
//! | `count`     | integer | uniform in `0..=99`                                         | none  |
//! | `active`    | boolean | `true` / `false` with equal odds                            | ~1%   |
//!
//! A null is an empty field (`...,42,,true`). Day `k` is generated from its own random
//! stream seeded by `(seed, k)`, so [`write_events_file`] can produce any single day.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{at, DatasetError};
use crate::rng::{stream, SplitMix64};
use crate::util::{
    create_dir, date_for_day, for_each_index, push_2digits, push_f64_3, push_u64, WRITE_BUFFER,
};

/// The header line of every events file (without the trailing newline).
pub const EVENTS_HEADER: &str = "timestamp,user_id,name,value,count,active";

/// The first names used by the `events` and `json` datasets, one per letter of the alphabet.
pub const NAMES: [&str; 26] = [
    "Alice", "Bob", "Charlie", "Dan", "Edith", "Frank", "George", "Hannah", "Ingrid", "Jerry",
    "Kevin", "Laura", "Michael", "Norbert", "Oliver", "Patricia", "Quinn", "Ray", "Sarah", "Tim",
    "Ursula", "Victor", "Wendy", "Xavier", "Yvonne", "Zelda",
];

/// Probability that `name` is null (empty).
pub const NAME_NULL_RATE: f64 = 0.01;
/// Probability that `value` is null (empty).
pub const VALUE_NULL_RATE: f64 = 0.02;
/// Probability that `active` is null (empty).
pub const ACTIVE_NULL_RATE: f64 = 0.01;

const SECONDS_PER_DAY: u128 = 86_400;

/// Parameters of an events dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventsSpec {
    /// Number of daily files, starting at 2015-01-01.
    pub days: usize,
    /// Data rows in each file (not counting the header).
    pub rows_per_day: usize,
    /// `user_id` is drawn from `1..=n_users`; must be at least 1.
    pub n_users: u32,
    /// Seed of the whole dataset.
    pub seed: u64,
}

impl Default for EventsSpec {
    /// The committed sample: 7 days × 2000 rows, 1000 users, seed 42.
    fn default() -> Self {
        crate::SAMPLE_EVENTS
    }
}

/// The file name of day `day` (0 = 2015-01-01), e.g. `2015-02-01.csv` for day 31.
pub fn events_file_name(day: usize) -> String {
    format!("{}.csv", date_for_day(day))
}

/// Writes all `spec.days` daily files into `dir` (created if missing), in parallel, and
/// returns their paths in date order (which is also lexicographic order).
pub fn write_events(dir: &Path, spec: &EventsSpec) -> Result<Vec<PathBuf>, DatasetError> {
    validate(spec)?;
    create_dir(dir)?;
    for_each_index(spec.days, |day| write_events_file(dir, spec, day).map(drop))?;
    Ok((0..spec.days)
        .map(|day| dir.join(events_file_name(day)))
        .collect())
}

/// Writes only the file of day `day` (0-based; it need not be `< spec.days`) into `dir`
/// and returns its path. The bytes equal those of the same file written by
/// [`write_events`].
pub fn write_events_file(
    dir: &Path,
    spec: &EventsSpec,
    day: usize,
) -> Result<PathBuf, DatasetError> {
    validate(spec)?;
    create_dir(dir)?;
    let path = dir.join(events_file_name(day));
    let file = File::create(&path).map_err(at(&path))?;
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
    write_day(&mut out, spec, day).map_err(at(&path))?;
    out.into_inner()
        .map_err(|e| DatasetError::io(&path, e.into_error()))?;
    Ok(path)
}

fn validate(spec: &EventsSpec) -> Result<(), DatasetError> {
    if spec.n_users == 0 {
        return Err(DatasetError::InvalidParameter(
            "events: n_users must be at least 1".into(),
        ));
    }
    Ok(())
}

fn write_day(out: &mut impl Write, spec: &EventsSpec, day: usize) -> std::io::Result<()> {
    let mut rng = SplitMix64::for_stream(spec.seed, stream::EVENTS, day as u64);
    let mut date_prefix = date_for_day(day).into_bytes();
    date_prefix.push(b' ');

    let mut line = Vec::with_capacity(128);
    line.extend_from_slice(EVENTS_HEADER.as_bytes());
    line.push(b'\n');
    out.write_all(&line)?;

    let rows = spec.rows_per_day as u128;
    for row in 0..spec.rows_per_day {
        line.clear();
        // Row r gets a time in [r, r + 1) * 86400 / rows seconds: spread over the whole day,
        // never decreasing, and computed exactly in integers.
        let fraction = u128::from(rng.next_u64() >> 32);
        let second = (((row as u128) << 32 | fraction) * SECONDS_PER_DAY / (rows << 32)) as u32;
        line.extend_from_slice(&date_prefix);
        push_2digits(&mut line, second / 3600);
        line.push(b':');
        push_2digits(&mut line, second / 60 % 60);
        line.push(b':');
        push_2digits(&mut line, second % 60);
        line.push(b',');

        push_u64(&mut line, 1 + rng.below(u64::from(spec.n_users)));
        line.push(b',');

        let name = NAMES[rng.below(NAMES.len() as u64) as usize];
        if !rng.chance(NAME_NULL_RATE) {
            line.extend_from_slice(name.as_bytes());
        }
        line.push(b',');

        let value = rng.normal(100.0, 25.0);
        if !rng.chance(VALUE_NULL_RATE) {
            push_f64_3(&mut line, value);
        }
        line.push(b',');

        push_u64(&mut line, rng.below(100));
        line.push(b',');

        let active = rng.coin();
        if !rng.chance(ACTIVE_NULL_RATE) {
            line.extend_from_slice(if active { b"true" } else { b"false" });
        }
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{read, TempDir};

    fn spec(days: usize, rows: usize) -> EventsSpec {
        EventsSpec {
            days,
            rows_per_day: rows,
            n_users: 1000,
            seed: 42,
        }
    }

    #[test]
    fn file_names_cross_month_and_year_boundaries() {
        assert_eq!(events_file_name(0), "2015-01-01.csv");
        assert_eq!(events_file_name(31), "2015-02-01.csv");
        assert_eq!(events_file_name(365), "2016-01-01.csv");
    }

    #[test]
    fn deterministic_and_single_file_matches_full_run() {
        let a = TempDir::new("events-det-a");
        let b = TempDir::new("events-det-b");
        let c = TempDir::new("events-det-c");
        let s = spec(5, 500);
        let pa = write_events(a.path(), &s).unwrap();
        let pb = write_events(b.path(), &s).unwrap();
        assert_eq!(pa.len(), 5);
        for (x, y) in pa.iter().zip(&pb) {
            assert_eq!(x.file_name(), y.file_name());
            assert_eq!(read(x), read(y), "{}", x.display());
        }
        let single = write_events_file(c.path(), &s, 3).unwrap();
        assert_eq!(single.file_name(), pa[3].file_name());
        assert_eq!(read(&single), read(&pa[3]));
        // Only that one file was written.
        assert_eq!(std::fs::read_dir(c.path()).unwrap().count(), 1);
        // Different days and different seeds give different data.
        assert_ne!(read(&pa[2])[60..], read(&pa[3])[60..]);
        let d = TempDir::new("events-det-d");
        let other = write_events_file(d.path(), &EventsSpec { seed: 43, ..s }, 3).unwrap();
        assert_ne!(read(&other), read(&pa[3]));
    }

    #[test]
    fn csv_shape_values_and_null_rates() {
        let dir = TempDir::new("events-shape");
        let s = spec(40, 1500);
        let paths = write_events(dir.path(), &s).unwrap();
        assert_eq!(paths.len(), 40);
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(sorted, paths, "paths are returned sorted");
        assert_eq!(paths[30].file_name().unwrap(), "2015-01-31.csv");
        assert_eq!(paths[31].file_name().unwrap(), "2015-02-01.csv");
        assert_eq!(paths[39].file_name().unwrap(), "2015-02-09.csv");

        let (mut rows, mut null_name, mut null_value, mut null_active) = (0usize, 0, 0, 0);
        let (mut value_sum, mut value_n) = (0.0, 0usize);
        let mut names_seen = std::collections::HashSet::new();
        let mut actives = [0usize; 2];
        for (day, path) in paths.iter().enumerate() {
            let text = String::from_utf8(read(path)).unwrap();
            assert!(text.ends_with('\n'));
            let mut lines = text.lines();
            assert_eq!(lines.next(), Some(EVENTS_HEADER));
            let date = date_for_day(day);
            let mut last_ts = String::new();
            let mut n = 0;
            for line in lines {
                n += 1;
                let f: Vec<&str> = line.split(',').collect();
                assert_eq!(f.len(), 6, "{line}");
                let ts = f[0];
                assert_eq!(ts.len(), 19, "{ts}");
                assert!(ts.starts_with(&date) && ts.as_bytes()[10] == b' ', "{ts}");
                let h: u32 = ts[11..13].parse().unwrap();
                let m: u32 = ts[14..16].parse().unwrap();
                let sec: u32 = ts[17..19].parse().unwrap();
                assert!(h < 24 && m < 60 && sec < 60, "{ts}");
                assert!(ts >= last_ts.as_str(), "{ts} < {last_ts}");
                last_ts = ts.to_string();
                let user: u32 = f[1].parse().unwrap();
                assert!((1..=1000).contains(&user));
                if f[2].is_empty() {
                    null_name += 1;
                } else {
                    assert!(NAMES.contains(&f[2]), "{}", f[2]);
                    names_seen.insert(f[2].to_string());
                }
                if f[3].is_empty() {
                    null_value += 1;
                } else {
                    assert!(f[3].contains('.'), "{}", f[3]);
                    let decimals = f[3].split('.').nth(1).unwrap().len();
                    assert!((1..=3).contains(&decimals), "{}", f[3]);
                    value_sum += f[3].parse::<f64>().unwrap();
                    value_n += 1;
                }
                let count: u32 = f[4].parse().unwrap();
                assert!(count <= 99);
                match f[5] {
                    "" => null_active += 1,
                    "true" => actives[1] += 1,
                    "false" => actives[0] += 1,
                    other => panic!("bad active {other}"),
                }
            }
            assert_eq!(n, 1500);
            // Timestamps cover the whole day.
            assert!(last_ts.as_str() >= format!("{date} 23:50:00").as_str());
            rows += n;
        }
        let rate = |k: usize| k as f64 / rows as f64;
        assert!(
            (0.007..0.013).contains(&rate(null_name)),
            "{}",
            rate(null_name)
        );
        assert!(
            (0.016..0.024).contains(&rate(null_value)),
            "{}",
            rate(null_value)
        );
        assert!(
            (0.007..0.013).contains(&rate(null_active)),
            "{}",
            rate(null_active)
        );
        assert_eq!(names_seen.len(), 26);
        let mean = value_sum / value_n as f64;
        assert!((mean - 100.0).abs() < 0.5, "{mean}");
        let frac_true = actives[1] as f64 / (actives[0] + actives[1]) as f64;
        assert!((0.48..0.52).contains(&frac_true), "{frac_true}");
    }

    #[test]
    fn edge_cases() {
        let dir = TempDir::new("events-edge");
        assert!(write_events(dir.path(), &spec(0, 10)).unwrap().is_empty());
        let p = write_events_file(dir.path(), &spec(1, 0), 0).unwrap();
        assert_eq!(read(&p), format!("{EVENTS_HEADER}\n").into_bytes());
        let err = write_events(
            dir.path(),
            &EventsSpec {
                n_users: 0,
                ..spec(1, 1)
            },
        )
        .unwrap_err();
        assert!(matches!(err, DatasetError::InvalidParameter(_)));
        // More rows than seconds in a day still gives valid, non-decreasing timestamps.
        let p = write_events_file(dir.path(), &spec(1, 100_000), 1).unwrap();
        let text = String::from_utf8(read(&p)).unwrap();
        let last = text.lines().last().unwrap();
        assert!(last.starts_with("2015-01-02 23:59:59,"), "{last}");
    }

    #[test]
    fn io_errors_carry_the_path() {
        let dir = TempDir::new("events-ioerr");
        // A regular file where a directory is expected.
        let blocker = dir.path().join("not-a-dir");
        std::fs::write(&blocker, b"x").unwrap();
        let err = write_events(&blocker.join("sub"), &spec(1, 1)).unwrap_err();
        match err {
            DatasetError::Io { path, .. } => assert!(path.starts_with(&blocker)),
            other => panic!("unexpected {other:?}"),
        }
    }
}
