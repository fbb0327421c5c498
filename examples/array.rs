//! The seed example of `dask.array`: `x - x.mean(axis=1)` over an array larger than a block.
//!
//! ```text
//! cargo run --release --example array [PATH.npy] [--scheduler tcp://HOST:PORT]
//! ```
//!
//! PATH is a square 2-D `float64` `.npy` file (C order), read block by block. Without it, `x` is
//! a generated array: 2000 × 2000 uniform random floats in `[0, 1)` with seed 42 (the same
//! values whatever the chunking), in blocks of 500 × 500.
//!
//! Output (a contract): six lines, one number each — first
//! `(x - x.mean(axis=1, keepdims=True)).std()`, then the first five values of
//! `(x + x.T).sum(axis=0)`. A file that is not square (so `x + x.T` is undefined), not 2-D,
//! not `float64`, or truncated stops the program with an error naming the file. With
//! `--scheduler`, the work runs on that cluster's workers (generic `dusk worker`s will do);
//! the output is the same.

use anyhow::{bail, Context};
use dusk::array::{self, Array, Axes, ChunkSpec};
use dusk::prelude::*;

fn main() -> anyhow::Result<()> {
    let (args, _client) = dusk::take_scheduler_flag(std::env::args_os().skip(1))?;
    let x: Array<f64> = match args.into_iter().next() {
        Some(path) => {
            let x = array::from_npy::<f64>(&path, ChunkSpec::Auto)
                .with_context(|| format!("opening {}", path.to_string_lossy()))?;
            let shape = x.shape().to_vec();
            if shape.len() != 2 || shape[0] != shape[1] {
                bail!(
                    "{}: x + x.T needs a square 2-D array, but this one has shape {shape:?}",
                    path.to_string_lossy()
                );
            }
            // Square blocks, so x and x.T line up block for block.
            let n = x.chunks()[0][0].min(x.chunks()[1][0]).max(1);
            x.rechunk([n, n])?
        }
        None => array::random_uniform(42, 0.0, 1.0, &[2000, 2000], [500, 500])?,
    };

    let centered = &x - &x.mean(1, true)?;
    let spread = centered.std(Axes::All, false)?;
    let sym = (&x + &x.t()).sum(0, false)?;
    let firsts = sym.slice(&[array::Idx::range(None, Some(5), 1)])?;

    let (spread, firsts) = (&spread, &firsts).compute()?;
    let spread = spread.first().copied().context("std yielded no value")?;
    println!("{spread}");
    for v in firsts.iter() {
        println!("{v}");
    }
    Ok(())
}
