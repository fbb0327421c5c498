//! The seed Bag pipeline on generated logs (16 gzipped JSON-lines files, 4 million records)
//! beside its anchor, a plain single-threaded Rust loop doing the same work: gunzip, parse
//! every line as JSON, count the `name` field, take the top 10.
//!
//! Run with `cargo bench --bench bag`. The data is generated on first use (see
//! `dusk_datasets::bench_json`). The ratio of the two times is the speed-up dusk gets from
//! the cores, less its per-item overhead, plus what it saves per item: `parse_json` followed
//! by `pluck` parses every record in full (so a malformed one is still an error) but builds
//! only the plucked field, while the loop builds each record as a `serde_json::Value`, as a
//! plain program would. With one worker (`DUSK_NUM_WORKERS=1`) the ratio shows that saving
//! alone.
//!
//! A third line runs the same pipeline (ranked with the built-in `topk_by_count`) on a
//! `LocalCluster` of two one-thread worker processes: the tasks travel as descriptions, the
//! per-file counts as MessagePack.

use std::cmp::Reverse;
use std::collections::HashMap;

use std::io::BufRead;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, Criterion};
use dusk::bag::Value;
use dusk::distributed::cluster::{current_program, run_if_cluster_process};
use dusk::prelude::*;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the benchmark data directory is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    files
}

/// The anchor: one thread, no framework.
fn plain_loop(files: &[PathBuf]) -> Vec<(String, u64)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut line = String::new();
    for path in files {
        let file = std::fs::File::open(path).expect("a data file opens");
        let mut reader =
            std::io::BufReader::with_capacity(1 << 18, flate2::read::MultiGzDecoder::new(file));
        loop {
            line.clear();
            if reader.read_line(&mut line).expect("a line reads") == 0 {
                break;
            }
            let record: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
            let name = record.get("name").expect("a name field");
            let name = name.as_str().expect("a string name");
            match counts.get_mut(name) {
                Some(c) => *c += 1,
                None => {
                    counts.insert(name.to_string(), 1);
                }
            }
        }
    }
    let mut top: Vec<(String, u64)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(10);
    top
}

/// The counted names of the seed pipeline.
fn name_counts(pattern: &str) -> Bag<(Value, u64)> {
    ReadText::glob(pattern)
        .lines_with_origin()
        .expect("the glob matches")
        .parse_json()
        .pluck("name")
        .frequencies()
}

/// The seed pipeline, ranked with a key closure.
fn dusk_pipeline(pattern: &str) -> Vec<(String, u64)> {
    let top = name_counts(pattern)
        .topk(10, |(name, n): &(Value, u64)| {
            (*n, Reverse(name.as_str().unwrap_or_default().to_string()))
        })
        .compute_with(&ComputeOptions::default().quiet())
        .expect("the pipeline runs");
    top.into_iter()
        .map(|(v, n)| (v.as_str().unwrap_or_default().to_string(), n))
        .collect()
}

/// The seed pipeline with the built-in ranking, computed by `client`'s cluster.
fn dusk_on_cluster(client: &Client, pattern: &str) -> Vec<(String, u64)> {
    let top = name_counts(pattern).topk_by_count(10);
    client
        .compute(&top)
        .expect("the pipeline runs on the cluster")
        .into_iter()
        .map(|(v, n)| (v.as_str().unwrap_or_default().to_string(), n))
        .collect()
}

fn seed(c: &mut Criterion) {
    let dir = dusk_datasets::bench_json().expect("benchmark data can be generated");
    let files = files(&dir);
    let pattern = format!("{}/*.json.gz", dir.display());
    assert_eq!(plain_loop(&files), dusk_pipeline(&pattern), "same answer");

    let mut group = c.benchmark_group(format!("bag-seed ({} files)", files.len()));
    group.sample_size(10);
    group.bench_function("dusk read_text.parse_json.pluck.frequencies.topk", |b| {
        b.iter(|| dusk_pipeline(&pattern))
    });
    group.bench_function("plain loop (1 thread)", |b| b.iter(|| plain_loop(&files)));
    let program = current_program().expect("this program");
    let cluster = LocalCluster::processes(program, 2, 1).expect("a process cluster");
    let client = Client::connect(cluster.address()).expect("a client");
    assert_eq!(
        plain_loop(&files),
        dusk_on_cluster(&client, &pattern),
        "same answer"
    );
    group.bench_function("dusk on LocalCluster (2 worker processes)", |b| {
        b.iter(|| dusk_on_cluster(&client, &pattern))
    });
    group.finish();
}

criterion_group!(benches, seed);

fn main() {
    // The cluster's processes are this binary again, told their role by an environment variable.
    run_if_cluster_process();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
