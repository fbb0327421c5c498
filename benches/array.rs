//! The seed Array expressions over the 16000 × 16000 `f64` benchmark array (2 GB, `.npy`),
//! beside their anchor: plain ndarray on one thread, which loads the whole file and computes
//! the same expressions.
//!
//! - `(x - x.mean(axis=1, keepdims)).std()`
//! - `(x + x.T).sum(axis=0)`
//!
//! Both sides read the file in every iteration (from the page cache once warm), and criterion
//! reports GB/s of input. dusk reads the file block by block; before the timed runs the
//! benchmark prints the peak resident memory of one dusk run of each expression, to compare
//! with the array's size.
//!
//! The data comes from `cargo run -p dusk-datasets --bin dusk-datagen -- bench npy`; without
//! it the benchmark prints how to make it and does nothing. Run with
//! `cargo bench --bench array` (add `-- --quick` for a shorter run).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dusk::array::{self, Array, Axes};
use dusk::prelude::*;
use ndarray::{Array1, Array2, ArrayD, Axis};

/// Row bands of 256 full rows (32 MB), each one contiguous read, for the row-wise expression.
const BAND_CHUNKS: [usize; 2] = [256, 16000];
/// Square 2000 × 2000 blocks (32 MB), so that x and x.T line up block for block.
const SQUARE_CHUNKS: [usize; 2] = [2000, 2000];

fn data_path() -> PathBuf {
    dusk_datasets::generated_dir().join("npy").join("array.npy")
}

/// The anchor's loader: the whole file into one `Array2` (what `numpy.load` does).
fn load_whole(path: &Path) -> Array2<f64> {
    let (rows, cols) = dusk_datasets::BENCH_NPY_SHAPE;
    let header = dusk_datasets::npy_header(rows, cols).len() as u64;
    let mut file = File::open(path).expect("the benchmark array opens");
    file.seek(SeekFrom::Start(header))
        .expect("seek past the header");
    let mut values = Vec::with_capacity(rows * cols);
    let mut buf = vec![0u8; 8 << 20];
    while values.len() < rows * cols {
        let want = ((rows * cols - values.len()) * 8).min(buf.len());
        file.read_exact(&mut buf[..want]).expect("the array reads");
        values.extend(
            buf[..want]
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))),
        );
    }
    Array2::from_shape_vec((rows, cols), values).expect("the shape matches")
}

fn plain_centered_std(path: &Path) -> f64 {
    let x = load_whole(path);
    let m = x
        .mean_axis(Axis(1))
        .expect("non-empty")
        .insert_axis(Axis(1));
    (&x - &m).std(0.0)
}

fn plain_sym_sum(path: &Path) -> Array1<f64> {
    let x = load_whole(path);
    (&x + &x.t()).sum_axis(Axis(0))
}

fn dusk_centered_std(path: &Path) -> f64 {
    let x: Array<f64> = array::from_npy(path, BAND_CHUNKS).expect("the header reads");
    let centered = &x - &x.mean(1, true).expect("axis 1 exists");
    let s = centered.std(Axes::All, false).expect("std builds");
    let out = s
        .compute_with(&ComputeOptions::default().quiet())
        .expect("the expression runs");
    out.first().copied().expect("a 0-d result")
}

fn dusk_sym_sum(path: &Path) -> ArrayD<f64> {
    let x: Array<f64> = array::from_npy(path, SQUARE_CHUNKS).expect("the header reads");
    let s = (&x + &x.t()).sum(0, false).expect("sum builds");
    s.compute_with(&ComputeOptions::default().quiet())
        .expect("the expression runs")
}

/// Peak resident memory of `f` in MB, from Linux's high-water mark (reset first).
fn peak_rss_mb<R>(f: impl FnOnce() -> R) -> (R, Option<f64>) {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let out = f();
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        });
    (out, hwm.filter(|_| reset).map(|kb| kb / 1024.0))
}

fn seed(c: &mut Criterion) {
    let path = data_path();
    if !path.is_file() {
        println!(
            "skipping the array benchmark: {} is missing; make it with \
             `cargo run -p dusk-datasets --bin dusk-datagen -- bench npy` (2 GB)",
            path.display()
        );
        return;
    }
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let array_mb = bytes as f64 / (1 << 20) as f64;

    // One checked, measured run of each before timing (dusk first, so the peak is its own).
    let (std_dusk, peak_std) = peak_rss_mb(|| dusk_centered_std(&path));
    let (sum_dusk, peak_sum) = peak_rss_mb(|| dusk_sym_sum(&path));
    for (what, peak) in [("centered std", peak_std), ("(x + x.T).sum(0)", peak_sum)] {
        match peak {
            Some(mb) => println!(
                "dusk {what}: peak resident memory {mb:.0} MB = {:.1}% of the {array_mb:.0} MB array",
                100.0 * mb / array_mb
            ),
            None => println!("dusk {what}: peak memory not measurable on this system"),
        }
    }
    let std_plain = plain_centered_std(&path);
    assert!(
        (std_dusk - std_plain).abs() < 1e-9,
        "{std_dusk} vs {std_plain}"
    );
    let sum_plain = plain_sym_sum(&path);
    let sum_dusk = sum_dusk.into_dimensionality::<ndarray::Ix1>().expect("1-D");
    assert!(
        sum_dusk
            .iter()
            .zip(&sum_plain)
            .all(|(a, b)| (a - b).abs() < 1e-9 * b.abs().max(1.0)),
        "same sums"
    );

    let mut group = c.benchmark_group("array-seed (16000x16000 f64 from .npy)");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("dusk (x - x.mean(1, keepdims)).std()", |b| {
        b.iter(|| dusk_centered_std(&path))
    });
    group.bench_function("ndarray 1 thread (x - x.mean(1, keepdims)).std()", |b| {
        b.iter(|| plain_centered_std(&path))
    });
    group.bench_function("dusk (x + x.T).sum(0)", |b| b.iter(|| dusk_sym_sum(&path)));
    group.bench_function("ndarray 1 thread (x + x.T).sum(0)", |b| {
        b.iter(|| plain_sym_sum(&path))
    });
    group.finish();
}

criterion_group!(benches, seed);
criterion_main!(benches);
