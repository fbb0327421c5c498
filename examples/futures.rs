//! Dask's futures seed: submit functions to a cluster, pass futures on, gather the results.
//!
//! ```text
//! cargo run --release --example futures [GLOB]
//! ```
//!
//! Starts a `LocalCluster` of two worker processes (this program, started again), maps
//! `count_rows` over the CSV files matching GLOB (default: the bundled sample,
//! `datasets/sample/events/*.csv`), adds the counts pairwise with `add` submitted on futures —
//! the counts never come back to the client on the way — and prints one `file,rows` line per
//! file and then `total,N`.

use anyhow::Context;
use dusk::distributed::client::Arg;
use dusk::distributed::cluster::{current_program, run_if_cluster_process};
use dusk::prelude::*;

/// The number of data rows of a CSV file (lines after the header).
fn count_rows(path: String) -> u64 {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    text.lines().count().saturating_sub(1) as u64
}
register_fn!(count_rows: fn(String) -> u64);

/// The sum of two counts.
fn add(a: u64, b: u64) -> u64 {
    a + b
}
register_fn!(add: fn(u64, u64) -> u64);

fn main() -> anyhow::Result<()> {
    run_if_cluster_process();

    let pattern = std::env::args().nth(1).unwrap_or_else(|| {
        dusk_datasets::sample_dir()
            .join("events/*.csv")
            .to_string_lossy()
            .into_owned()
    });
    let mut files: Vec<String> = glob::glob(&pattern)
        .with_context(|| format!("bad pattern {pattern}"))?
        .filter_map(Result::ok)
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    anyhow::ensure!(!files.is_empty(), "no file matches {pattern}");

    let cluster = LocalCluster::processes(current_program()?, 2, 1)?;
    let client = Client::connect(cluster.address())?;

    // One task per file; the futures stand for results that stay on the workers.
    let counts = client.map(|| remote("count_rows"), files.iter().cloned())?;
    // Futures as arguments: add the counts pairwise, level by level, on the cluster (the
    // tree reduction of Dask's futures documentation).
    let mut level = counts.clone();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            next.push(match pair {
                [a, b] => client.submit(remote("add"), vec![Arg::Future(a), Arg::Future(b)])?,
                odd_one_out => odd_one_out[0].clone(),
            });
        }
        level = next;
    }
    let grand = &level[0];

    for (file, rows) in files.iter().zip(client.gather(&counts)?) {
        println!("{file},{}", rows.decode::<u64>()?);
    }
    println!("total,{}", grand.result()?.decode::<u64>()?);
    Ok(())
}
