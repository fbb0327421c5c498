//! `dusk-datagen`: writes dusk's deterministic synthetic datasets from the command line.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use dusk_datasets as ds;

/// Generate dusk's deterministic synthetic datasets.
///
/// Every output depends only on the seed and the parameters: the same command always
/// writes byte-identical files, and files are generated in parallel. Run in release mode
/// for large outputs: `cargo run --release -p dusk-datasets --bin dusk-datagen -- ...`.
#[derive(Debug, Parser)]
#[command(name = "dusk-datagen", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Daily CSV event files 2015-01-01.csv, 2015-01-02.csv, ...
    ///
    /// Header `timestamp,user_id,name,value,count,active`. `timestamp` is
    /// `YYYY-MM-DD HH:MM:SS` within the file's day and non-decreasing; `user_id` is in
    /// 1..=USERS; `name` is one of 26 first names (empty in ~1% of rows); `value` is
    /// normal(100, 25) with up to 3 decimals (empty in ~2%); `count` is in 0..=99; `active`
    /// is true/false (empty in ~1%).
    Events {
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Number of daily files, starting at 2015-01-01.
        #[arg(long, default_value_t = 7)]
        days: usize,
        /// Data rows per file.
        #[arg(long, default_value_t = 2000)]
        rows_per_day: usize,
        /// Number of distinct user ids.
        #[arg(long, default_value_t = 1000)]
        users: u32,
        /// Random seed.
        #[arg(long, default_value_t = ds::DEFAULT_SEED)]
        seed: u64,
    },
    /// A users table `user_id,country,age` to join with the events.
    ///
    /// One row per user 1..=USERS, in order; `country` is one of 12 country names and
    /// `age` is in 18..=90.
    Users {
        /// Output CSV file (parent directories are created).
        #[arg(long)]
        out: PathBuf,
        /// Number of users.
        #[arg(long, default_value_t = 1000)]
        users: u32,
        /// Random seed.
        #[arg(long, default_value_t = ds::DEFAULT_SEED)]
        seed: u64,
    },
    /// Gzipped JSON-lines files 2015-01-01.json.gz, ...
    ///
    /// Each line is an object with keys id, name, age, occupation, city, score and tags.
    /// Names are Zipf-distributed (Alice most frequent, then Bob, Charlie, ...), so
    /// frequency rankings have a known answer.
    Json {
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Number of files.
        #[arg(long, default_value_t = 4)]
        files: usize,
        /// Records (lines) per file.
        #[arg(long, default_value_t = 2500)]
        records: usize,
        /// Random seed.
        #[arg(long, default_value_t = ds::DEFAULT_SEED)]
        seed: u64,
    },
    /// A ROWS x COLS float64 matrix in NumPy .npy format.
    ///
    /// Format 1.0, dtype <f8, C order, exactly as numpy.save writes it. Element (i, j) is
    /// uniform in [0, 1) and a pure function of (seed, i, j) (`dusk_datasets::npy_value`).
    /// Rows are streamed to disk, so arrays larger than memory are fine.
    Npy {
        /// Output .npy file (parent directories are created).
        #[arg(long)]
        out: PathBuf,
        /// Number of rows.
        #[arg(long, default_value_t = 200)]
        rows: usize,
        /// Number of columns.
        #[arg(long, default_value_t = 150)]
        cols: usize,
        /// Random seed.
        #[arg(long, default_value_t = ds::DEFAULT_SEED)]
        seed: u64,
    },
    /// Files letters-000.txt, ... of random lowercase letters a-z (no newlines).
    Letters {
        /// Output directory (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Number of files.
        #[arg(long, default_value_t = 10)]
        files: usize,
        /// Letters (bytes) per file.
        #[arg(long, default_value_t = 10_000)]
        bytes: usize,
        /// Random seed.
        #[arg(long, default_value_t = ds::DEFAULT_SEED)]
        seed: u64,
    },
    /// Regenerate the committed sample in datasets/sample with the default parameters.
    ///
    /// Writes events/ (7 days x 2000 rows), users.csv (1000 users), logs/ (4 json.gz x 2500
    /// records), array.npy (200 x 150) and letters/ (10 x 10000 bytes), seed 42.
    Sample,
    /// Generate the benchmark datasets in datasets/generated (git-ignored) if missing.
    ///
    /// events: 24 daily CSVs, just over 1 GB; json: 16 gzipped files, 4 million records;
    /// npy: a 16000 x 16000 float64 array (2 GB); letters: 100 files x 10 MB. Data whose
    /// parameters are unchanged is not regenerated. Prints each path and its total size.
    Bench {
        /// Which preset to generate.
        #[arg(value_enum, default_value_t = Preset::All)]
        which: Preset,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// The events CSVs.
    Events,
    /// The gzipped JSON lines.
    Json,
    /// The float64 array.
    Npy,
    /// The letter files.
    Letters,
    /// All of the above.
    All,
}

fn report(what: &str, path: &Path, started: Instant) -> anyhow::Result<()> {
    let size = ds::total_size(path)?;
    println!(
        "{what}: {} ({size} bytes, {:.1} MB) in {:.1} s",
        path.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let started = Instant::now();
    match cli.command {
        Command::Events {
            out,
            days,
            rows_per_day,
            users,
            seed,
        } => {
            let spec = ds::EventsSpec {
                days,
                rows_per_day,
                n_users: users,
                seed,
            };
            ds::write_events(&out, &spec).context("writing events")?;
            report("events", &out, started)?;
        }
        Command::Users { out, users, seed } => {
            ds::write_users(&out, users, seed).context("writing users")?;
            report("users", &out, started)?;
        }
        Command::Json {
            out,
            files,
            records,
            seed,
        } => {
            let spec = ds::JsonSpec {
                files,
                records_per_file: records,
                seed,
            };
            ds::write_json(&out, &spec).context("writing json")?;
            report("json", &out, started)?;
        }
        Command::Npy {
            out,
            rows,
            cols,
            seed,
        } => {
            ds::write_npy(&out, rows, cols, seed).context("writing npy")?;
            report("npy", &out, started)?;
        }
        Command::Letters {
            out,
            files,
            bytes,
            seed,
        } => {
            ds::write_letters(&out, files, bytes, seed).context("writing letters")?;
            report("letters", &out, started)?;
        }
        Command::Sample => {
            let dir = ds::sample_dir();
            let files = ds::write_sample(&dir).context("writing the sample")?;
            for file in &files {
                println!("{}", file.display());
            }
            report("sample", &dir, started)?;
        }
        Command::Bench { which } => {
            type PresetFn = fn() -> Result<PathBuf, ds::DatasetError>;
            let presets: [(Preset, &str, PresetFn); 4] = [
                (Preset::Events, "events", ds::bench_events),
                (Preset::Json, "json", ds::bench_json),
                (Preset::Npy, "npy", ds::bench_npy),
                (Preset::Letters, "letters", ds::bench_letters),
            ];
            for (preset, name, make) in presets {
                if which == Preset::All || which == preset {
                    let started = Instant::now();
                    let path = make().with_context(|| format!("generating {name}"))?;
                    report(name, &path, started)?;
                }
            }
        }
    }
    Ok(())
}
