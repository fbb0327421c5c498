//! Joining events with a users table: the mean `value` per `country`.
//!
//! ```text
//! cargo run --release --example join [EVENTS_GLOB] [USERS_CSV] [--scheduler tcp://HOST:PORT]
//! ```
//!
//! EVENTS_GLOB matches CSV files with `user_id` and `value` columns (default: the bundled
//! sample, `datasets/sample/events/*.csv`); USERS_CSV has `user_id` and `country` columns
//! (default: `datasets/sample/users.csv`). Events whose user is not in the table are left out
//! (an inner join). Output: CSV with the header `country,value`, one row per country sorted by
//! `country`; `value` is the mean of the non-null values (empty if there are none). With
//! `--scheduler`, the work runs on that cluster's workers; the output is the same.

use dusk::dataframe::JoinHow;
use dusk::polars::prelude::*;
use dusk::prelude::*;

fn main() -> anyhow::Result<()> {
    let (args, _client) = dusk::take_scheduler_flag(std::env::args_os().skip(1))?;
    let mut args = args.into_iter().map(|a| a.to_string_lossy().into_owned());
    let sample = dusk_datasets::sample_dir();
    let events_glob = args
        .next()
        .unwrap_or_else(|| sample.join("events/*.csv").to_string_lossy().into_owned());
    let users_csv = args
        .next()
        .unwrap_or_else(|| sample.join("users.csv").to_string_lossy().into_owned());

    let events = read_csv(&events_glob)?.select([col("user_id"), col("value")])?;
    let users = read_csv(&users_csv)?.select([col("user_id"), col("country")])?;
    // A small users table is broadcast to every events partition; a big one is shuffled.
    let mut per_country = events
        .join(&users, &["user_id"], &["user_id"], JoinHow::Inner, "_user")?
        .group_by(["country"])
        .agg([col("value").mean()])?
        .compute()?
        // Over many partitions the groups come in several sorted partitions: one order.
        .sort(["country"], SortMultipleOptions::default())?;
    CsvWriter::new(std::io::stdout().lock())
        .include_header(true)
        .finish(&mut per_country)?;
    Ok(())
}
