//! The "count letters in 100 files" benchmark of Dask's documentation, three ways.
//!
//! ```text
//! cargo run --release --example count_letters [DIR]
//! ```
//!
//! For every file in DIR (default: the bundled sample, `datasets/sample/letters/`): read it,
//! sort its characters, count them. The work runs three ways — a plain single-threaded loop,
//! the local threaded scheduler (one `Delayed` call per file), and `client.map` +
//! `client.gather` on a `LocalCluster` of two worker processes started from this program — and
//! each way prints one line (a contract):
//!
//! ```text
//! loop: 1.234 s, 1000000000 letters
//! threads: 0.650 s, 1000000000 letters
//! cluster: 0.700 s, 1000000000 letters
//! ```
//!
//! The function is registered by name with `register_fn!`, which is how the worker processes
//! (this same program, started again) find it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use dusk::prelude::*;

/// Reads a file, sorts its characters and counts them.
fn count_letters(path: String) -> u64 {
    let mut chars: Vec<char> = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
        .chars()
        .collect();
    chars.sort_unstable();
    chars.len() as u64
}
register_fn!(count_letters: fn(String) -> u64);

fn files(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    anyhow::ensure!(!files.is_empty(), "{} has no files", dir.display());
    Ok(files
        .into_iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect())
}

fn report(way: &str, start: Instant, total: u64) {
    println!(
        "{way}: {:.3} s, {total} letters",
        start.elapsed().as_secs_f64()
    );
}

fn main() -> anyhow::Result<()> {
    // Worker processes are this program started again: they serve and exit here.
    dusk::distributed::cluster::run_if_cluster_process();

    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| dusk_datasets::sample_dir().join("letters"));
    let files = files(&dir)?;

    let start = Instant::now();
    let total: u64 = files.iter().map(|f| count_letters(f.clone())).sum();
    report("loop", start, total);

    let start = Instant::now();
    let counts: Vec<Delayed<u64>> = files
        .iter()
        .map(|f| delayed(f.clone()).map(|p: &String| count_letters(p.clone())))
        .collect();
    let total = apply_list(&counts, |xs: &[&u64]| xs.iter().copied().sum::<u64>()).compute()?;
    report("threads", start, total);

    let cluster = LocalCluster::processes(dusk::distributed::cluster::current_program()?, 2, 1)?;
    let client = Client::connect(cluster.address())?;
    let start = Instant::now();
    let futures = client.map(|| remote("count_letters"), files.iter().cloned())?;
    let total: u64 = client
        .gather(&futures)?
        .iter()
        .map(|d| d.decode::<u64>())
        .sum::<Result<u64, _>>()?;
    report("cluster", start, total);
    Ok(())
}
