//! DataFrame pipelines over ≥ 1 GB of daily CSV files (24 files, generated on first run into
//! `datasets/generated/`), each beside Polars' own lazy `scan_csv` over the same files in the
//! same run:
//!
//! - `read_csv(glob) → group_by(user_id) → mean(value)`;
//! - `filter(value > 100) → group_by(name) → sum, count, max`.
//!
//! `cargo bench --bench dataframe`. The ratio dusk/Polars of the two medians is the number the
//! README reports.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dusk::polars::prelude::*;
use dusk::prelude::*;

fn files() -> (String, Vec<PathBuf>) {
    let dir = dusk_datasets::bench_events().expect("generate benchmark data");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("benchmark data directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    (format!("{}/*.csv", dir.display()), files)
}

fn polars_scan(files: &[PathBuf]) -> LazyFrame {
    let paths: Vec<PlRefPath> = files
        .iter()
        .map(|p| PlRefPath::from(p.to_string_lossy().as_ref()))
        .collect();
    LazyCsvReader::new_paths(paths.into())
        .with_try_parse_dates(true)
        .finish()
        .expect("polars scan_csv")
}

fn pipelines(c: &mut Criterion) {
    let (pattern, files) = files();
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();

    let mut group = c.benchmark_group("dataframe/groupby-user-mean");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("dusk", |b| {
        b.iter(|| {
            let df = read_csv(&pattern).expect("read_csv");
            let out = df
                .group_by(["user_id"])
                .agg([col("value").mean()])
                .expect("agg")
                .compute()
                .expect("compute");
            black_box(out)
        })
    });
    group.bench_function("polars-scan-csv", |b| {
        b.iter(|| {
            let out = polars_scan(&files)
                .group_by([col("user_id")])
                .agg([col("value").mean()])
                .sort(["user_id"], Default::default())
                .collect()
                .expect("polars");
            black_box(out)
        })
    });
    group.finish();

    let mut group = c.benchmark_group("dataframe/filter-groupby-name");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    let aggs = || {
        [
            col("value").sum().alias("sum"),
            col("value").count().alias("count"),
            col("value").max().alias("max"),
        ]
    };
    group.bench_function("dusk", |b| {
        b.iter(|| {
            let df = read_csv(&pattern).expect("read_csv");
            let out = df
                .filter(col("value").gt(lit(100.0)))
                .expect("filter")
                .group_by(["name"])
                .agg(aggs())
                .expect("agg")
                .compute()
                .expect("compute");
            black_box(out)
        })
    });
    group.bench_function("polars-scan-csv", |b| {
        b.iter(|| {
            let out = polars_scan(&files)
                .filter(col("value").gt(lit(100.0)))
                .group_by([col("name")])
                .agg(aggs())
                .sort(["name"], Default::default())
                .collect()
                .expect("polars");
            black_box(out)
        })
    });
    group.finish();
}

criterion_group!(benches, pipelines);
criterion_main!(benches);
