//! Quickstart: a lazy DataFrame over the bundled daily event files.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Reads every `datasets/sample/events/*.csv` file as partitions, keeps active events with a
//! value, aggregates per name, and prints the optimized plan and the result. Nothing is read
//! until `compute()`; then the files are parsed in parallel, only the three columns the query
//! uses are parsed, and partial aggregates are combined in a tree.

use dusk::polars::prelude::*;
use dusk::prelude::*;

fn main() -> anyhow::Result<()> {
    let pattern = dusk_datasets::sample_dir()
        .join("events/*.csv")
        .to_string_lossy()
        .into_owned();
    let events = read_csv(&pattern)?;
    println!(
        "{} partitions, columns {:?}\n",
        events.npartitions(),
        events.columns()
    );

    let per_name = events
        .filter(col("active").eq(lit(true)))?
        .group_by(["name"])
        .agg([
            len().alias("events"),
            col("value").mean().alias("mean_value"),
            col("value").max().alias("max_value"),
        ])?;

    println!("plan:\n{}", per_name.explain());
    println!("{}", per_name.compute()?);
    Ok(())
}
