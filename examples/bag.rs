//! The seed example of `dask.bag`: count the names in gzipped JSON-lines logs.
//!
//! ```text
//! cargo run --release --example bag [GLOB]
//! ```
//!
//! GLOB matches gzipped JSON-lines files (default: the bundled sample,
//! `datasets/sample/logs/*.json.gz`). The pipeline is Dask's
//! `read_text(glob).map(json.loads).pluck('name').frequencies().topk(10, key=count)`: each
//! file is one partition, read, decompressed, parsed and counted in one pass on the threaded
//! scheduler, and the per-file counts are merged in a tree.
//!
//! Output (a contract): CSV with a header line `name,count`, then the ten most frequent names,
//! highest count first, ties by name ascending. A malformed line stops the program with an
//! error naming its file and line.

use std::cmp::Reverse;

use anyhow::Context;
use dusk::bag::Value;
use dusk::prelude::*;

/// The name as printed: a JSON string without quotes, anything else as JSON.
fn name_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A CSV field, quoted when it has to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn main() -> anyhow::Result<()> {
    let pattern = match std::env::args().nth(1) {
        Some(glob) => glob,
        None => format!("{}/logs/*.json.gz", dusk_datasets::sample_dir().display()),
    };
    let top = ReadText::glob(&pattern)
        .lines_with_origin()?
        .parse_json()
        .pluck("name")
        .frequencies()
        .topk(10, |(name, count): &(Value, u64)| {
            (*count, Reverse(name_of(name)))
        })
        .compute()
        .with_context(|| format!("counting names in {pattern}"))?;
    println!("name,count");
    for (name, count) in top {
        println!("{},{count}", csv_field(&name_of(&name)));
    }
    Ok(())
}
