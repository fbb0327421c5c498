//! The seed example of `dask.dataframe`: `df.groupby(df.user_id).value.mean()` over a glob.
//!
//! ```text
//! cargo run --release --example dataframe [GLOB] [--scheduler tcp://HOST:PORT]
//! ```
//!
//! GLOB matches CSV files with `user_id` and `value` columns (default: the bundled sample,
//! `datasets/sample/events/*.csv`). Output: CSV with the header `user_id,value`, one row per
//! user sorted by `user_id`; `value` is the mean of the non-null values (empty if there are
//! none). With `--scheduler`, the work runs on that cluster's workers (generic `dusk worker`s
//! will do); the output is the same.

use dusk::polars::prelude::*;
use dusk::prelude::*;

fn main() -> anyhow::Result<()> {
    let (args, _client) = dusk::take_scheduler_flag(std::env::args_os().skip(1))?;
    let pattern = match args.first() {
        Some(p) => p.to_string_lossy().into_owned(),
        None => dusk_datasets::sample_dir()
            .join("events/*.csv")
            .to_string_lossy()
            .into_owned(),
    };
    let df = read_csv(&pattern)?;
    let mut means = df
        .group_by(["user_id"])
        .agg([col("value").mean()])?
        .compute()?
        // Over many partitions the groups come in several sorted partitions: one order.
        .sort(["user_id"], SortMultipleOptions::default())?;
    CsvWriter::new(std::io::stdout().lock())
        .include_header(true)
        .finish(&mut means)?;
    Ok(())
}
