//! Deterministic synthetic datasets for dusk's examples, tests and benchmarks.
//!
//! # The data
//!
//! | module      | files                                   | used for                                  |
//! |-------------|-----------------------------------------|-------------------------------------------|
//! | [`events`]  | daily CSVs `2015-01-01.csv`, ...        | dataframes: groupby, joins, nulls, dates  |
//! | [`users`]   | one `users.csv`                         | a small table to join `events` with       |
//! | [`json`]    | gzipped JSON lines `2015-01-01.json.gz` | bags: parsing, `frequencies().topk`       |
//! | [`npy`]     | one `.npy` `float64` matrix             | arrays: chunked reductions and slicing    |
//! | [`letters`] | `letters-000.txt`, ... of `a`–`z`       | the "count letters in 100 files" benchmark|
//!
//! Each module's documentation lists the columns, value distributions and null rates.
//!
//! A small sample of every dataset is committed under [`sample_dir()`] (about 1.2 MB; see
//! [`write_sample`]). The large benchmark datasets are generated on first use under
//! [`generated_dir()`] (git-ignored) by [`bench_events`], [`bench_json`], [`bench_npy`] and
//! [`bench_letters`], which regenerate only when their parameters change (see [`ensure`]).
//! The `dusk-datagen` binary exposes all of this on the command line.
//!
//! # Why the output is deterministic
//!
//! Nothing here reads the clock, the environment or an OS random source. Randomness comes
//! from a small counter-based generator (SplitMix64) whose starting point is a hash of
//! `(seed, dataset, file index)` — or `(seed, row)` for the array, whose element `(i, j)` is
//! a pure function [`npy_value`] of `(seed, i, j)`. So:
//!
//! * the same call always yields byte-identical files (gzip headers carry no name or time);
//! * file `k` never depends on the other files: `write_events_file(dir, &spec, 3)` writes
//!   the same bytes as the fourth file of `write_events(dir, &spec)`, and files are written
//!   in parallel (at most [`std::thread::available_parallelism`] threads) without changing
//!   a byte;
//! * tests can recompute expected values instead of storing them.
//!
//! Normal deviates use Box–Muller (`ln`, `sqrt`, `sin`, `cos`); on platforms whose math
//! library rounds these differently in the last bit, a printed `value` or `score` could
//! differ in its last decimal, extremely rarely. Everything else is integer arithmetic.
//!
//! Writers stream through large buffers with no per-row allocation, so the >1 GB
//! benchmark datasets take seconds, not minutes, in a release build.

#![warn(missing_docs)]

pub mod error;
pub mod events;
pub mod json;
pub mod letters;
pub mod npy;
mod rng;
pub mod users;
mod util;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

pub use error::DatasetError;
pub use events::{write_events, write_events_file, EventsSpec, EVENTS_HEADER, NAMES};
pub use json::{write_json, write_json_file, JsonSpec};
pub use letters::{write_letters, write_letters_file};
pub use npy::{npy_header, npy_value, write_npy};
pub use users::{write_users, USERS_HEADER};
pub use util::date_for_day;

use error::at;

/// Version of the generators' output. It is part of every [`ensure`] marker written by the
/// presets, so bumping it (whenever a generator's bytes change) regenerates cached data.
pub const GENERATOR_VERSION: u32 = 1;

/// The seed of the committed sample and of the benchmark presets.
pub const DEFAULT_SEED: u64 = 42;

/// The committed sample's events: 7 days × 2000 rows, 1000 users.
pub const SAMPLE_EVENTS: EventsSpec = EventsSpec {
    days: 7,
    rows_per_day: 2000,
    n_users: 1000,
    seed: DEFAULT_SEED,
};
/// Number of users in the committed sample's `users.csv`.
pub const SAMPLE_USERS: u32 = 1000;
/// The committed sample's JSON logs: 4 files × 2500 records.
pub const SAMPLE_JSON: JsonSpec = JsonSpec {
    files: 4,
    records_per_file: 2500,
    seed: DEFAULT_SEED,
};
/// Shape `(rows, cols)` of the committed sample's `array.npy`.
pub const SAMPLE_NPY_SHAPE: (usize, usize) = (200, 150);
/// Files and bytes per file of the committed sample's `letters/`.
pub const SAMPLE_LETTERS: (usize, usize) = (10, 10_000);

/// Events benchmark preset: 24 daily files × 980 000 rows, 1 077 273 361 bytes of CSV in total
/// (just over 1 GiB).
pub const BENCH_EVENTS: EventsSpec = EventsSpec {
    days: 24,
    rows_per_day: 980_000,
    n_users: 1000,
    seed: DEFAULT_SEED,
};
/// JSON benchmark preset: 16 gzipped files, 4 million records in total.
pub const BENCH_JSON: JsonSpec = JsonSpec {
    files: 16,
    records_per_file: 250_000,
    seed: DEFAULT_SEED,
};
/// Shape of the array benchmark preset: 16000 × 16000 `f64` (2.05 GB).
pub const BENCH_NPY_SHAPE: (usize, usize) = (16_000, 16_000);
/// Letters benchmark preset: 100 files × 10 MB.
pub const BENCH_LETTERS: (usize, usize) = (100, 10_000_000);

/// Name of the marker file written by [`ensure`] once generation has completed.
pub const PARAMS_MARKER: &str = ".params";
/// Name of the marker file [`ensure`] writes before generating, claiming the directory as
/// generated (and so safe to delete and regenerate).
pub const OWNER_MARKER: &str = ".dusk-datasets";

/// The committed sample data: `<datasets crate>/sample`.
///
/// Layout: `events/` (7 daily CSVs), `users.csv`, `logs/` (4 `.json.gz`), `array.npy`
/// (200 × 150) and `letters/` (10 files); see [`write_sample`].
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample")
}

/// Where the benchmark presets put their data: `<datasets crate>/generated` (git-ignored).
pub fn generated_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("generated")
}

/// Makes sure `dir` holds the data described by `params`, generating it with `make` if not.
///
/// If `dir/.params` ([`PARAMS_MARKER`]) exists and holds exactly `params`, nothing is done.
/// Otherwise, when `dir` carries either marker (so it was made by an earlier `ensure`,
/// possibly interrupted or with other parameters) it is deleted; then `dir` is created,
/// [`OWNER_MARKER`] written, `make(dir)` run, and `.params` written last, so an interrupted
/// generation is redone on the next call. A directory without markers is never deleted;
/// `make` then writes over it.
///
/// Calls are serialised within a process; two processes generating the same directory at
/// once are not coordinated. Returns `dir`.
pub fn ensure<F>(dir: &Path, params: &str, make: F) -> Result<PathBuf, DatasetError>
where
    F: FnOnce(&Path) -> Result<(), DatasetError>,
{
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(PoisonError::into_inner);

    let marker = dir.join(PARAMS_MARKER);
    let owner = dir.join(OWNER_MARKER);
    let has_marker = match fs::read(&marker) {
        Ok(existing) if existing == params.as_bytes() => return Ok(dir.to_path_buf()),
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => return Err(DatasetError::io(&marker, e)),
    };
    if has_marker || owner.is_file() {
        fs::remove_dir_all(dir).map_err(at(dir))?;
    }
    fs::create_dir_all(dir).map_err(at(dir))?;
    fs::write(&owner, b"generated by dusk-datasets; safe to delete\n").map_err(at(&owner))?;
    make(dir)?;
    fs::write(&marker, params).map_err(at(&marker))?;
    Ok(dir.to_path_buf())
}

fn preset_params(name: &str, details: impl std::fmt::Debug) -> String {
    format!("{name} v{GENERATOR_VERSION} {details:?}\n")
}

/// The events benchmark data ([`BENCH_EVENTS`]) in `generated_dir()/events`, generated on
/// first use; returns the directory.
pub fn bench_events() -> Result<PathBuf, DatasetError> {
    ensure(
        &generated_dir().join("events"),
        &preset_params("events", BENCH_EVENTS),
        |dir| write_events(dir, &BENCH_EVENTS).map(drop),
    )
}

/// The JSON benchmark data ([`BENCH_JSON`]) in `generated_dir()/json`, generated on first
/// use; returns the directory.
pub fn bench_json() -> Result<PathBuf, DatasetError> {
    ensure(
        &generated_dir().join("json"),
        &preset_params("json", BENCH_JSON),
        |dir| write_json(dir, &BENCH_JSON).map(drop),
    )
}

/// The array benchmark data ([`BENCH_NPY_SHAPE`], seed [`DEFAULT_SEED`]) as
/// `generated_dir()/npy/array.npy`, generated on first use; returns the file's path.
pub fn bench_npy() -> Result<PathBuf, DatasetError> {
    let (rows, cols) = BENCH_NPY_SHAPE;
    let dir = ensure(
        &generated_dir().join("npy"),
        &preset_params("npy", (rows, cols, DEFAULT_SEED)),
        |dir| write_npy(&dir.join("array.npy"), rows, cols, DEFAULT_SEED).map(drop),
    )?;
    Ok(dir.join("array.npy"))
}

/// The letters benchmark data ([`BENCH_LETTERS`], seed [`DEFAULT_SEED`]) in
/// `generated_dir()/letters`, generated on first use; returns the directory.
pub fn bench_letters() -> Result<PathBuf, DatasetError> {
    let (files, bytes) = BENCH_LETTERS;
    ensure(
        &generated_dir().join("letters"),
        &preset_params("letters", (files, bytes, DEFAULT_SEED)),
        |dir| write_letters(dir, files, bytes, DEFAULT_SEED).map(drop),
    )
}

/// Writes the complete sample into `dir` and returns every file written, in a fixed order:
/// `events/` ([`SAMPLE_EVENTS`]), `users.csv` ([`SAMPLE_USERS`]), `logs/` ([`SAMPLE_JSON`]),
/// `array.npy` ([`SAMPLE_NPY_SHAPE`]) and `letters/` ([`SAMPLE_LETTERS`]), all with seed
/// [`DEFAULT_SEED`]. The `events/`, `logs/` and `letters/` subdirectories are emptied first
/// so no stale file survives. `write_sample(&sample_dir())` regenerates the committed sample.
pub fn write_sample(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    for sub in ["events", "logs", "letters"] {
        let path = dir.join(sub);
        match fs::remove_dir_all(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(DatasetError::io(path, e)),
            _ => {}
        }
    }
    let mut written = write_events(&dir.join("events"), &SAMPLE_EVENTS)?;
    written.push(write_users(
        &dir.join("users.csv"),
        SAMPLE_USERS,
        DEFAULT_SEED,
    )?);
    written.extend(write_json(&dir.join("logs"), &SAMPLE_JSON)?);
    let (rows, cols) = SAMPLE_NPY_SHAPE;
    written.push(write_npy(&dir.join("array.npy"), rows, cols, DEFAULT_SEED)?);
    let (files, bytes) = SAMPLE_LETTERS;
    written.extend(write_letters(
        &dir.join("letters"),
        files,
        bytes,
        DEFAULT_SEED,
    )?);
    Ok(written)
}

/// The total size in bytes of the file at `path`, or of all files below the directory
/// `path` (recursively; symbolic links are not followed).
pub fn total_size(path: &Path) -> Result<u64, DatasetError> {
    let meta = fs::symlink_metadata(path).map_err(at(path))?;
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for entry in fs::read_dir(path).map_err(at(path))? {
        let entry = entry.map_err(at(path))?;
        total += total_size(&entry.path())?;
    }
    Ok(total)
}

#[cfg(test)]
pub(crate) mod test_util {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(name: &str) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "dusk-datasets-unit-{name}-{}-{n}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    pub fn read(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::{read, TempDir};
    use super::*;
    use std::cell::Cell;

    #[test]
    fn ensure_regenerates_only_when_params_change() {
        let tmp = TempDir::new("ensure");
        let dir = tmp.path().join("data");
        let runs = Cell::new(0);
        let make = |content: &'static str| {
            let runs = &runs;
            move |d: &Path| {
                runs.set(runs.get() + 1);
                fs::write(d.join(format!("file-{content}")), content).map_err(at(d))
            }
        };
        assert_eq!(ensure(&dir, "p1", make("a")).unwrap(), dir);
        assert_eq!(runs.get(), 1);
        assert_eq!(read(&dir.join(PARAMS_MARKER)), b"p1");
        // Same params: nothing happens.
        ensure(&dir, "p1", make("b")).unwrap();
        assert_eq!(runs.get(), 1);
        assert!(dir.join("file-a").exists() && !dir.join("file-b").exists());
        // New params: the old content is removed and regenerated.
        ensure(&dir, "p2", make("c")).unwrap();
        assert_eq!(runs.get(), 2);
        assert!(!dir.join("file-a").exists() && dir.join("file-c").exists());
        assert_eq!(read(&dir.join(PARAMS_MARKER)), b"p2");
        // A prefix of the params is not the same params.
        ensure(&dir, "p", make("d")).unwrap();
        assert_eq!(runs.get(), 3);
    }

    #[test]
    fn ensure_redoes_an_interrupted_generation() {
        let tmp = TempDir::new("ensure-interrupted");
        let dir = tmp.path().join("data");
        let err = ensure(&dir, "p", |_| {
            Err(DatasetError::InvalidParameter("interrupted".into()))
        })
        .unwrap_err();
        assert!(matches!(err, DatasetError::InvalidParameter(_)));
        assert!(!dir.join(PARAMS_MARKER).exists());
        assert!(dir.join(OWNER_MARKER).exists());
        fs::write(dir.join("partial"), b"x").unwrap();
        let ran = Cell::new(false);
        ensure(&dir, "p", |_| {
            ran.set(true);
            Ok(())
        })
        .unwrap();
        assert!(ran.get());
        assert!(!dir.join("partial").exists(), "partial output was cleared");
        assert_eq!(read(&dir.join(PARAMS_MARKER)), b"p");
    }

    #[test]
    fn ensure_never_deletes_a_foreign_directory() {
        let tmp = TempDir::new("ensure-foreign");
        fs::write(tmp.path().join("precious"), b"keep").unwrap();
        ensure(tmp.path(), "p", |_| Ok(())).unwrap();
        assert_eq!(read(&tmp.path().join("precious")), b"keep");
    }

    #[test]
    fn sample_writer_is_complete_and_sized() {
        let tmp = TempDir::new("sample");
        // A stale file from an older layout disappears.
        fs::create_dir_all(tmp.path().join("events")).unwrap();
        fs::write(tmp.path().join("events/2014-12-31.csv"), b"old").unwrap();
        let files = write_sample(tmp.path()).unwrap();
        assert_eq!(files.len(), 7 + 1 + 4 + 1 + 10);
        assert!(!tmp.path().join("events/2014-12-31.csv").exists());
        let total = total_size(tmp.path()).unwrap();
        assert_eq!(
            total,
            files
                .iter()
                .map(|f| fs::metadata(f).unwrap().len())
                .sum::<u64>()
        );
        assert!(total < 3_000_000, "sample is {total} bytes");
    }

    #[test]
    fn dirs_live_in_the_crate() {
        assert!(sample_dir().ends_with("datasets/sample"));
        assert!(generated_dir().ends_with("datasets/generated"));
        assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("Cargo.toml")
            .exists());
    }
}
