//! The seed example of `dask.bag`: count the names in gzipped JSON-lines logs.
//!
//! ```text
//! cargo run --release --example bag [GLOB] [--scheduler tcp://HOST:PORT]
//! ```
//!
//! GLOB matches gzipped JSON-lines files (default: the bundled sample,
//! `datasets/sample/logs/*.json.gz`). The pipeline is Dask's
//! `read_text(glob).map(json.loads).pluck('name').frequencies().topk(10, key=count)`: each
//! file is one partition, read, decompressed, parsed and counted in one pass, and the
//! per-file counts are merged in a tree. It runs on the threaded scheduler, or with
//! `--scheduler` on an existing cluster of `dusk worker`s (every step is a built-in, so the
//! generic workers run it; they must see the files at the same paths).
//!
//! Output (a contract): CSV with a header line `name,count`, then the ten most frequent names,
//! highest count first, ties by name ascending. A malformed line stops the program with an
//! error naming its file and line.

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
    let (args, _client) = dusk::take_scheduler_flag(std::env::args_os().skip(1))?;
    let pattern = match args.first() {
        Some(glob) => glob.to_string_lossy().into_owned(),
        None => format!("{}/logs/*.json.gz", dusk_datasets::sample_dir().display()),
    };
    let top = ReadText::glob(&pattern)
        .lines_with_origin()?
        .parse_json()
        .pluck("name")
        .frequencies()
        // Highest count first, equal counts by the name as printed (`TieOrder` of a JSON value).
        .topk_by_count(10)
        .compute()
        .with_context(|| format!("counting names in {pattern}"))?;
    println!("name,count");
    for (name, count) in top {
        println!("{},{count}", csv_field(&name_of(&name)));
    }
    Ok(())
}
