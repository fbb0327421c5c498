//! Joins and sorts of 10-million-row tables, each beside Polars' own lazy join or sort of the
//! same in-memory data in the same run:
//!
//! - a 10M-row table joined with a 100k-row table (dusk broadcasts the small side);
//! - two 10M-row tables joined (dusk hash-shuffles both sides);
//! - a sort of 10M rows on a float column (dusk range-partitions from quantile sketches).
//!
//! `cargo bench --bench shuffle`. The tables are generated in memory (deterministic), so the
//! benchmark needs no files. Before the timed runs it prints, for one run of each join, the
//! peak of heap memory allocated beyond what the inputs already hold (a counting allocator
//! wraps the system's, for both sides alike).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use dusk::dataframe::{with_shuffle_method, JoinHow, ShuffleMethod};
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

/// The system allocator, counting live bytes and their peak while `COUNTING` is set.
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        let live = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters move.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Runs `f` and returns the peak of bytes allocated beyond those live when it started
/// (frees of older memory lower the count, so this is the peak of the net growth).
fn peak_growth<R>(f: impl FnOnce() -> R) -> (R, f64) {
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let out = f();
    COUNTING.store(false, Ordering::Relaxed);
    (out, PEAK.load(Ordering::Relaxed) as f64 / 1e6)
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

/// Polars' own lazy inner join of the same tables, not yet run.
fn polars_joined(
    left: &polars::prelude::DataFrame,
    right: &polars::prelude::DataFrame,
) -> LazyFrame {
    left.clone().lazy().join(
        right.clone().lazy(),
        [col("key")],
        [col("key")],
        JoinArgs::new(JoinType::Inner).with_suffix(Some("_r".into())),
    )
}

/// Polars' own lazy inner join of the same tables.
fn polars_join(left: &polars::prelude::DataFrame, right: &polars::prelude::DataFrame) -> usize {
    polars_joined(left, right)
        .collect()
        .expect("polars join")
        .height()
}

/// The sum of both value columns of the 10M x 10M inner join, by dusk.
fn dusk_join_sum(left: &polars::prelude::DataFrame, right: &polars::prelude::DataFrame) -> f64 {
    let left = from_polars(left.clone(), PARTITIONS);
    let right = from_polars(right.clone(), PARTITIONS);
    let sums = left
        .join(&right, &["key"], &["key"], JoinHow::Inner, "_r")
        .expect("join")
        .with_columns([(col("value") + col("value_r")).alias("both")])
        .expect("both")
        .agg([col("both").sum()])
        .expect("sum")
        .compute_with(&quiet())
        .expect("compute");
    first_f64(&sums)
}

/// The same sum by Polars' lazy engine.
fn polars_join_sum(left: &polars::prelude::DataFrame, right: &polars::prelude::DataFrame) -> f64 {
    let sums = polars_joined(left, right)
        .select([(col("value") + col("value_r")).sum()])
        .collect()
        .expect("polars join");
    first_f64(&sums)
}

fn first_f64(df: &polars::prelude::DataFrame) -> f64 {
    df.columns()[0]
        .f64()
        .expect("a float sum")
        .get(0)
        .expect("one value")
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
        let (rows_dusk, dusk_mb) =
            peak_growth(|| dusk_join(&big, right, (PARTITIONS, right_partitions)));
        let (rows_polars, polars_mb) = peak_growth(|| polars_join(&big, right));
        assert_eq!(
            rows_dusk, rows_polars,
            "{name}: both joins find the same rows"
        );
        println!(
            "{name}: peak memory beyond the inputs: dusk {dusk_mb:.0} MB, Polars {polars_mb:.0} MB \
             ({rows_dusk} rows out)"
        );
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

    // The usual shape of a large join: reduced right away, never collected whole. Memory is then
    // what the shuffle holds (in memory, or on disk) against Polars' whole join result.
    let (sum_tasks, tasks_mb) = peak_growth(|| dusk_join_sum(&big, &other_big));
    let (sum_disk, disk_mb) = peak_growth(|| {
        with_shuffle_method(ShuffleMethod::Disk, || dusk_join_sum(&big, &other_big))
    });
    let (sum_polars, polars_mb) = peak_growth(|| polars_join_sum(&big, &other_big));
    for sum in [sum_tasks, sum_disk] {
        assert!(
            (sum - sum_polars).abs() <= 1e-6 * sum_polars.abs(),
            "{sum} vs {sum_polars}"
        );
    }
    println!(
        "shuffle/join-10M-10M then sum: peak memory beyond the inputs: dusk {tasks_mb:.0} MB \
         (shuffle in memory), {disk_mb:.0} MB (shuffle through disk), Polars {polars_mb:.0} MB"
    );

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
