//! DataFrame pipelines on a cluster of real processes: a `dusk scheduler` and generic
//! `dusk worker`s, which know only the built-in ops. Every graph below crosses the network
//! (expressions in Polars' serde form, partitions as Arrow IPC), and its result must equal the
//! local threaded scheduler's on the same collection, and Polars' own answer.

mod common;

use common::{deadline, CliCluster};
use dusk::dataframe::{from_polars, read_csv_with, CsvOptions, JoinHow, Keep};
use dusk::polars::prelude::*;
use dusk::prelude::*;

fn sample_glob() -> String {
    dusk_datasets::sample_dir()
        .join("events/*.csv")
        .to_string_lossy()
        .into_owned()
}

/// The same collection computed on the local threaded scheduler.
fn local<C: Collection>(c: &C) -> C::Output {
    c.compute_with(&ComputeOptions::default().scheduler(Scheduler::Threads(Some(2))))
        .expect("computed locally")
}

fn sorted(df: &polars::prelude::DataFrame, by: &[&str]) -> polars::prelude::DataFrame {
    df.sort(
        by.to_vec(),
        SortMultipleOptions::default().with_nulls_last(true),
    )
    .expect("sorted")
}

/// Float columns within a relative 1e-9 (sums in another order), the rest exactly.
fn assert_frames_close(a: &polars::prelude::DataFrame, b: &polars::prelude::DataFrame) {
    assert_eq!(a.shape(), b.shape(), "\n{a}\n{b}");
    assert_eq!(a.get_column_names(), b.get_column_names());
    for (ca, cb) in a.columns().iter().zip(b.columns()) {
        if ca.dtype().is_float() {
            let xa = ca.cast(&DataType::Float64).unwrap();
            let xb = cb.cast(&DataType::Float64).unwrap();
            for (va, vb) in xa.f64().unwrap().iter().zip(xb.f64().unwrap().iter()) {
                match (va, vb) {
                    (Some(x), Some(y)) => assert!(
                        (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())),
                        "{}: {x} vs {y}",
                        ca.name()
                    ),
                    (x, y) => assert_eq!(x.is_none(), y.is_none(), "{}", ca.name()),
                }
            }
        } else {
            let xb = cb.cast(ca.dtype()).unwrap();
            assert!(ca.equals_missing(&xb), "column {}", ca.name());
        }
    }
}

#[test]
fn csv_filter_group_by_on_worker_processes_matches_local_and_polars() {
    deadline(180, || {
        let cluster = CliCluster::start(2);
        let client = cluster.client();
        // Several blocks per file, so partitions outnumber the files.
        let events = read_csv_with(
            &sample_glob(),
            CsvOptions::default().blocksize(Some(40_000)),
        )
        .expect("the sample");
        assert!(events.npartitions() > 4);
        let per_user = events
            .filter(col("value").gt(lit(10.0)))
            .unwrap()
            .group_by(["user_id"])
            .agg([
                col("value").mean().alias("mean"),
                col("value").max().alias("max"),
                len().alias("n"),
            ])
            .unwrap();
        let remote = client.compute(&per_user).expect("computed on the cluster");
        assert!(remote.height() > 10, "{remote}");
        assert_frames_close(&remote, &local(&per_user));

        let mut files: Vec<_> = std::fs::read_dir(dusk_datasets::sample_dir().join("events"))
            .unwrap()
            .map(|e| PlRefPath::from(e.unwrap().path().to_string_lossy().as_ref()))
            .collect();
        files.sort();
        let oracle = LazyCsvReader::new_paths(files.into())
            .with_has_header(true)
            .finish()
            .unwrap()
            .filter(col("value").gt(lit(10.0)))
            .group_by([col("user_id")])
            .agg([
                col("value").mean().alias("mean"),
                col("value").max().alias("max"),
                len().alias("n"),
            ])
            .collect()
            .unwrap();
        assert_frames_close(
            &sorted(&remote, &["user_id"]),
            &sorted(&oracle, &["user_id"]),
        );

        // Whole-frame reductions and lazy scalars take the same road.
        assert_eq!(client.compute(&events.len()).unwrap(), local(&events.len()));
        let summary = events.select([col("value")]).unwrap().describe();
        assert_frames_close(&client.compute(&summary).unwrap(), &local(&summary));
    });
}

fn join_sides() -> (polars::prelude::DataFrame, polars::prelude::DataFrame) {
    let n = 3_000usize;
    // Skewed keys (every third row has key 0), nulls in keys, strings alongside.
    let keys: Vec<Option<i64>> = (0..n)
        .map(|i| match i % 7 {
            0 => None,
            _ if i % 3 == 0 => Some(0),
            _ => Some((i % 101) as i64),
        })
        .collect();
    let values: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
    let tags: Vec<String> = (0..n).map(|i| format!("t{}", i % 13)).collect();
    let left = df!("k" => keys, "v" => values, "tag" => tags).unwrap();
    let rkeys: Vec<Option<i64>> = (0..150)
        .map(|i| if i % 11 == 0 { None } else { Some(i % 120) })
        .collect();
    let weights: Vec<i64> = (0..150).map(|i| i * 10).collect();
    let right = df!("k" => rkeys, "w" => weights).unwrap();
    (left, right)
}

#[test]
fn joins_sorts_and_shuffles_on_worker_processes_match_local() {
    deadline(180, || {
        let cluster = CliCluster::start(2);
        let client = cluster.client();
        let (left, right) = join_sides();
        for (lparts, rparts) in [(1, 1), (6, 2), (7, 5)] {
            let l = from_polars(left.clone(), lparts);
            let r = from_polars(right.clone(), rparts);
            for how in [JoinHow::Inner, JoinHow::Left, JoinHow::Outer, JoinHow::Anti] {
                let joined = l.join(&r, &["k"], &["k"], how, "_r").unwrap();
                let remote = client.compute(&joined).expect("joined on the cluster");
                // Polars places an outer join's unmatched right rows in hash order: compare
                // the rows as sets.
                let names: Vec<String> = remote
                    .get_column_names()
                    .iter()
                    .map(|c| c.to_string())
                    .collect();
                let all: Vec<&str> = names.iter().map(String::as_str).collect();
                assert!(
                    sorted(&remote, &all).equals_missing(&sorted(&local(&joined), &all)),
                    "{how:?} with {lparts}x{rparts} partitions:\n{remote}"
                );
            }
            let sorted_frame = l.sort_values(&["v", "k"], &[true, false], true).unwrap();
            let remote = client.compute(&sorted_frame).unwrap();
            let oracle = left
                .sort(
                    ["v", "k"],
                    SortMultipleOptions::default()
                        .with_order_descending_multi([true, false])
                        .with_nulls_last(true)
                        .with_maintain_order(true),
                )
                .unwrap();
            assert!(
                remote.equals_missing(&oracle),
                "sort with {lparts} partitions"
            );

            let distinct = l.drop_duplicates(Some(&["tag"]), Keep::Last).unwrap();
            assert!(client
                .compute(&distinct)
                .unwrap()
                .equals_missing(&local(&distinct)));
            let by_tag = l
                .group_by(["tag"])
                .split_out(3)
                .agg([col("v").sum(), col("k").n_unique()])
                .unwrap();
            assert_frames_close(
                &sorted(&client.compute(&by_tag).unwrap(), &["tag"]),
                &sorted(&local(&by_tag), &["tag"]),
            );
            // Divisions: a range shuffle on the index, lookups that read only some partitions,
            // and a join of two indexed frames without a shuffle.
            let indexed = l.set_index("k").unwrap();
            let r_indexed = r.set_index("k").unwrap();
            for part in [
                indexed.clone(),
                indexed.loc_range(10i64, 40i64).unwrap(),
                indexed
                    .join(&r_indexed, &["k"], &["k"], JoinHow::Inner, "_r")
                    .unwrap(),
            ] {
                let names: Vec<String> = part.columns();
                let all: Vec<&str> = names.iter().map(String::as_str).collect();
                assert!(sorted(&client.compute(&part).unwrap(), &all)
                    .equals_missing(&sorted(&local(&part), &all)));
            }
            let regrouped = l
                .repartition(3)
                .unwrap()
                .with_columns([col("v") * lit(2.0)])
                .unwrap();
            assert!(client
                .compute(&regrouped)
                .unwrap()
                .equals_missing(&local(&regrouped)));
        }
    });
}

#[test]
fn closures_are_refused_at_submit_naming_the_task() {
    deadline(120, || {
        let cluster = CliCluster::start(1);
        let client = cluster.client();
        let df = from_polars(df!("a" => [1i64, 2, 3]).unwrap(), 2)
            .map_partitions("double-it", |df| {
                df.lazy().select([col("a") * lit(2)]).collect()
            })
            .unwrap();
        let err = client.compute(&df).unwrap_err().to_string();
        assert!(err.contains("double-it"), "{err}");
        assert!(err.contains("closure"), "{err}");
        // The cluster keeps serving.
        let plain = from_polars(df!("a" => [1i64, 2, 3]).unwrap(), 2);
        assert_eq!(client.compute(&plain).unwrap().height(), 3);
    });
}

/// A built example program (`cargo test` builds the examples next to the `dusk` binary).
fn example(name: &str) -> std::path::PathBuf {
    let dusk = std::path::Path::new(env!("CARGO_BIN_EXE_dusk"));
    let path = dusk
        .parent()
        .expect("the target directory")
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --examples` (cargo test --workspace builds it)",
        path.display()
    );
    path
}

fn stdout_of(command: &mut std::process::Command) -> String {
    let out = command.output().expect("the example runs");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("text output")
}

/// Equal text, except that numbers may differ in their last digits: Polars sums a partition
/// in an order that depends on how its columns are chunked, and a partition that crossed the
/// network arrives chunked differently.
fn assert_same_output(name: &str, here: &str, there: &str) {
    let here_lines: Vec<&str> = here.lines().collect();
    let there_lines: Vec<&str> = there.lines().collect();
    assert_eq!(
        here_lines.len(),
        there_lines.len(),
        "{name}:\n{here}\n{there}"
    );
    for (a, b) in here_lines.iter().zip(&there_lines) {
        let fields_a: Vec<&str> = a.split(',').collect();
        let fields_b: Vec<&str> = b.split(',').collect();
        assert_eq!(fields_a.len(), fields_b.len(), "{name}: {a} vs {b}");
        for (x, y) in fields_a.iter().zip(&fields_b) {
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) => assert!(
                    (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())),
                    "{name}: {a} vs {b}"
                ),
                _ => assert_eq!(x, y, "{name}: {a} vs {b}"),
            }
        }
    }
}

#[test]
fn examples_print_the_same_with_scheduler_flag() {
    deadline(240, || {
        let cluster = CliCluster::start(2);
        for name in ["dataframe", "join", "array", "bag"] {
            let exe = example(name);
            let here = stdout_of(std::process::Command::new(&exe).env("DUSK_PROGRESS", "0"));
            let there = stdout_of(
                std::process::Command::new(&exe)
                    .args(["--scheduler", &cluster.address])
                    .env("DUSK_PROGRESS", "0"),
            );
            assert!(here.lines().count() > 1, "{name}: {here}");
            assert_same_output(name, &here, &there);
        }
    });
}

#[test]
fn a_shuffle_moves_each_row_between_workers_at_most_once() {
    deadline(120, || {
        let cluster = CliCluster::start(2);
        let client = cluster.client();
        let rows = 400_000usize;
        let data = df!(
            "k" => (0..rows as i64).map(|i| (i * 7919) % 10_007).collect::<Vec<_>>(),
            "v" => (0..rows).map(|i| i as f64).collect::<Vec<_>>()
        )
        .unwrap();
        let data_bytes = data.estimated_size() as u64;
        let shuffled = from_polars(data, 8).shuffle(&["k"], 8).unwrap();
        // Only the row count comes back, so what moves is the shuffle itself.
        assert_eq!(client.compute(&shuffled.len()).unwrap(), rows);
        // Workers report their counters with each heartbeat.
        let moved = |client: &Client| -> u64 {
            client
                .workers()
                .unwrap()
                .iter()
                .map(|w| w.counters.peer_bytes)
                .sum()
        };
        std::thread::sleep(std::time::Duration::from_millis(1_200));
        let peer_bytes = moved(&client);
        // Half the pieces live on the other worker, so about half the data moves; piece tasks
        // stay next to their splits (stealing one would fetch its whole split), and gathers
        // that fetched whole splits would move about four times the data.
        assert!(peer_bytes > 0, "nothing moved between workers");
        assert!(
            peer_bytes < data_bytes * 3 / 2,
            "{peer_bytes} bytes moved for {data_bytes} bytes of data"
        );
    });
}
