//! The seed example of `dask.delayed`: load each file, process each, summarize the list.
//!
//! ```text
//! cargo run --release --example delayed [DIR]
//! ```
//!
//! DIR holds daily event CSV files (default: the bundled sample). Each file becomes two delayed
//! calls (`load`, then `process`); one `summarize` call takes the list of results. Nothing runs
//! until `compute()`, which runs the files in parallel on the threaded scheduler.
//!
//! Output: one line per file (`file,rows,mean_value`), then the totals.

use std::path::{Path, PathBuf};

use dusk::prelude::*;

/// Per-file statistics of the `value` column.
#[derive(Clone, Debug, Default)]
struct Stats {
    file: String,
    rows: u64,
    values: u64,
    sum: f64,
}

/// Reads one file.
fn load(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

/// Counts rows and sums the `value` column (the fourth) of one file's text.
fn process(file: &str, text: &str) -> Result<Stats, String> {
    let mut stats = Stats {
        file: file.to_string(),
        ..Stats::default()
    };
    for (n, line) in text.lines().enumerate().skip(1) {
        let value = line
            .split(',')
            .nth(3)
            .ok_or_else(|| format!("{file}:{}: expected at least 4 fields", n + 1))?;
        stats.rows += 1;
        if !value.is_empty() {
            stats.sum += value
                .parse::<f64>()
                .map_err(|e| format!("{file}:{}: value {value:?}: {e}", n + 1))?;
            stats.values += 1;
        }
    }
    Ok(stats)
}

/// Combines the per-file statistics.
fn summarize(parts: &[&Stats]) -> Stats {
    let mut total = Stats {
        file: "total".into(),
        ..Stats::default()
    };
    for p in parts {
        total.rows += p.rows;
        total.values += p.values;
        total.sum += p.sum;
    }
    total
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| dusk_datasets::sample_dir().join("events"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    anyhow::ensure!(!files.is_empty(), "no .csv files in {}", dir.display());

    // results = [process(load(f)) for f in files]
    let results: Vec<Delayed<Stats>> = files
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let path = path.clone();
            try_lazy(move || load(&path)).try_map(move |text: &String| process(&name, text))
        })
        .collect();
    // summary = summarize(results)
    let summary = apply_list(&results, summarize);

    // One pass computes every file's statistics and the summary.
    let (parts, total) = (&results, &summary).compute()?;
    println!("file,rows,mean_value");
    for s in parts.iter().chain(std::iter::once(&total)) {
        println!(
            "{},{},{:.4}",
            s.file,
            s.rows,
            s.sum / s.values.max(1) as f64
        );
    }
    Ok(())
}
