//! Joins and sorts of 10-million-row tables, each beside Polars' own lazy join or sort of the
//! same in-memory data in the same run:
//!
//! - a 10M-row table joined with a 100k-row table (dusk broadcasts the small side);
//! - two 10M-row tables joined (dusk hash-shuffles both sides);
//! - a sort of 10M rows on a float column (dusk range-partitions from quantile sketches).
//!
//! `cargo bench --bench shuffle`. The tables are generated in memory (deterministic), so the
//! benchmark needs no files.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use dusk::dataframe::JoinHow;
use dusk::polars::prelude::*;
use dusk::prelude::*;

const BIG: usize = 10_000_000;
const SMALL: usize = 100_000;
const PARTITIONS: usize = 16;

/// `rows` rows: a key spread over `keys` values, and a pseudo-random value.
fn table(rows: usize, keys: u64, seed: u64) -> polars::prelude::DataFrame {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut key = Vec::with_capacity(rows);
    let mut value = Vec::with_capacity(rows);
    for _ in 0..rows {
        key.push((next() % keys) as i64);
        value.push((next() >> 11) as f64 / (1u64 << 53) as f64);
    }
    df!("key" => key, "value" => value).expect("a table")
}

fn quiet() -> ComputeOptions {
    ComputeOptions::default().quiet()
}

/// dusk's inner join of two in-memory tables split into `partitions.0` and `.1` partitions.
fn dusk_join(
    left: &polars::prelude::DataFrame,
    right: &polars::prelude::DataFrame,
    partitions: (usize, usize),
) -> usize {
    let left = from_polars(left.clone(), partitions.0);
    let right = from_polars(right.clone(), partitions.1);
    left.join(&right, &["key"], &["key"], JoinHow::Inner, "_r")
        .expect("join")
        .compute_with(&quiet())
        .expect("compute")
        .height()
}

/// Polars' own lazy inner join of the same tables.
fn polars_join(left: &polars::prelude::DataFrame, right: &polars::prelude::DataFrame) -> usize {
    left.clone()
        .lazy()
        .join(
            right.clone().lazy(),
            [col("key")],
            [col("key")],
            JoinArgs::new(JoinType::Inner).with_suffix(Some("_r".into())),
        )
        .collect()
        .expect("polars join")
        .height()
}

fn joins_and_sorts(c: &mut Criterion) {
    let big = table(BIG, SMALL as u64, 1);
    let other_big = table(BIG, BIG as u64, 2);
    let small = {
        let keys: Vec<i64> = (0..SMALL as i64).collect();
        let labels: Vec<f64> = (0..SMALL).map(|i| i as f64).collect();
        df!("key" => keys, "label" => labels).expect("a table")
    };
    let cases = [
        ("shuffle/join-10M-100k", "dusk (broadcast)", &small, 1),
        (
            "shuffle/join-10M-10M",
            "dusk (hash shuffle)",
            &other_big,
            PARTITIONS,
        ),
    ];
    for (name, dusk_label, right, right_partitions) in cases {
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.bench_function(dusk_label, |b| {
            b.iter(|| black_box(dusk_join(&big, right, (PARTITIONS, right_partitions))))
        });
        group.bench_function("polars lazy join", |b| {
            b.iter(|| black_box(polars_join(&big, right)))
        });
        group.finish();
    }

    let mut group = c.benchmark_group("shuffle/sort-10M");
    group.sample_size(10);
    group.bench_function("dusk sort_values", |b| {
        b.iter(|| {
            let out = from_polars(big.clone(), PARTITIONS)
                .sort_values(&["value"], &[false], true)
                .expect("sort")
                .compute_with(&quiet())
                .expect("compute");
            black_box(out.height())
        })
    });
    group.bench_function("polars lazy sort", |b| {
        b.iter(|| {
            let out = big
                .clone()
                .lazy()
                .sort(["value"], SortMultipleOptions::default())
                .collect()
                .expect("polars sort");
            black_box(out.height())
        })
    });
    group.finish();
}

criterion_group!(benches, joins_and_sorts);
criterion_main!(benches);
