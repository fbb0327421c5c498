//! DataFrame against Polars eager on the same data, over varied partitionings.

use dusk_collections::dataframe::{from_polars, read_csv_with, CsvOptions, FrameError};
use dusk_scheduler::{Compute, ComputeOptions, Scheduler};
use polars::prelude::*;

fn sample_glob() -> String {
    dusk_datasets::sample_dir()
        .join("events/*.csv")
        .to_string_lossy()
        .into_owned()
}

/// All sample files read eagerly by Polars itself, concatenated: the oracle.
fn eager_events() -> polars::prelude::DataFrame {
    let mut files: Vec<_> = std::fs::read_dir(dusk_datasets::sample_dir().join("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let frames: Vec<_> = files
        .iter()
        .map(|f| {
            CsvReadOptions::default()
                .with_has_header(true)
                .map_parse_options(|p| p.with_try_parse_dates(true))
                .try_into_reader_with_file_path(Some(f.clone()))
                .unwrap()
                .finish()
                .unwrap()
        })
        .collect();
    let mut out = frames[0].clone();
    for f in &frames[1..] {
        out.vstack_mut(f).unwrap();
    }
    out
}

fn sorted(df: &polars::prelude::DataFrame, by: &[&str]) -> polars::prelude::DataFrame {
    df.sort(
        by.to_vec(),
        SortMultipleOptions::default().with_nulls_last(true),
    )
    .unwrap()
}

fn assert_frames_close(a: &polars::prelude::DataFrame, b: &polars::prelude::DataFrame) {
    assert_eq!(a.shape(), b.shape(), "\n{a}\n{b}");
    assert_eq!(a.get_column_names(), b.get_column_names());
    for (ca, cb) in a.columns().iter().zip(b.columns()) {
        if ca.dtype().is_float() || cb.dtype().is_float() {
            let xa = ca.cast(&DataType::Float64).unwrap();
            let xb = cb.cast(&DataType::Float64).unwrap();
            for (va, vb) in xa.f64().unwrap().iter().zip(xb.f64().unwrap().iter()) {
                match (va, vb) {
                    (Some(x), Some(y)) => assert!(
                        (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())),
                        "{} : {x} vs {y}",
                        ca.name()
                    ),
                    (x, y) => assert_eq!(x.is_none(), y.is_none(), "{}", ca.name()),
                }
            }
        } else {
            let xb = cb.cast(ca.dtype()).unwrap();
            assert!(
                ca.equals_missing(&xb),
                "column {}:\n{ca:?}\n{xb:?}",
                ca.name()
            );
        }
    }
}

const BLOCKSIZES: [Option<u64>; 4] = [None, Some(40_000), Some(7_919), Some(1_000_000)];

#[test]
fn read_csv_matches_polars_for_any_blocksize() {
    let expected = eager_events();
    for bs in BLOCKSIZES {
        let ddf = read_csv_with(&sample_glob(), CsvOptions::default().blocksize(bs)).unwrap();
        if bs == Some(7_919) {
            assert!(ddf.npartitions() > 70, "{}", ddf.npartitions());
        }
        let got = ddf.compute().unwrap();
        assert_frames_close(&got, &expected);
    }
}

#[test]
fn filter_select_with_columns_match_polars() {
    let expected = eager_events()
        .lazy()
        .filter(col("value").gt(lit(110.0)).and(col("active").eq(lit(true))))
        .with_columns([(col("value") * lit(2.0)).alias("double")])
        .select([col("user_id"), col("double"), col("name")])
        .collect()
        .unwrap();
    for bs in BLOCKSIZES {
        let ddf = read_csv_with(&sample_glob(), CsvOptions::default().blocksize(bs)).unwrap();
        let out = ddf
            .filter(col("value").gt(lit(110.0)).and(col("active").eq(lit(true))))
            .unwrap()
            .with_columns([(col("value") * lit(2.0)).alias("double")])
            .unwrap()
            .select([col("user_id"), col("double"), col("name")])
            .unwrap();
        assert_eq!(out.columns(), ["user_id", "double", "name"]);
        for s in [Scheduler::Sync, Scheduler::Threads(Some(2))] {
            let got = out
                .compute_with(&ComputeOptions::default().scheduler(s))
                .unwrap();
            assert_frames_close(&got, &expected);
        }
    }
}

#[test]
fn group_by_aggregations_match_polars() {
    let aggs = || {
        vec![
            col("value").mean().alias("mean"),
            col("value").sum().alias("sum"),
            col("value").count().alias("count"),
            col("value").min().alias("min"),
            col("value").max().alias("max"),
            col("value").std(1).alias("std"),
            col("value").var(0).alias("var0"),
            col("count").first().alias("first"),
            col("count").last().alias("last"),
            len().alias("size"),
        ]
    };
    let eager = eager_events();
    for keys in [vec!["user_id"], vec!["name", "active"]] {
        let expected = sorted(
            &eager
                .clone()
                .lazy()
                .group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
                .agg(aggs())
                .collect()
                .unwrap(),
            &keys,
        );
        for bs in [None, Some(9_000)] {
            for split in [2, 8] {
                let ddf =
                    read_csv_with(&sample_glob(), CsvOptions::default().blocksize(bs)).unwrap();
                let got = ddf
                    .group_by(keys.clone())
                    .split_every(split)
                    .agg(aggs())
                    .unwrap()
                    .compute()
                    .unwrap();
                assert_frames_close(&sorted(&got, &keys), &expected);
            }
        }
    }
}

#[test]
fn whole_frame_reductions_match_polars_with_empty_partitions() {
    let pdf = df!(
        "x" => [Some(1.5), None, Some(-2.0), Some(4.0), Some(10.0)],
        "k" => [1i64, 2, 3, 4, 5]
    )
    .unwrap();
    let aggs = || {
        vec![
            col("x").sum().alias("sum"),
            col("x").mean().alias("mean"),
            col("x").min().alias("min"),
            col("x").max().alias("max"),
            col("x").count().alias("count"),
            col("x").var(1).alias("var"),
            col("k").sum().alias("ksum"),
            len().alias("n"),
        ]
    };
    let expected = pdf.clone().lazy().select(aggs()).collect().unwrap();
    // 1, 2, 5 and 9 partitions: the last has four empty partitions.
    for n in [1, 2, 5, 9] {
        let got = from_polars(pdf.clone(), n)
            .select(aggs())
            .unwrap()
            .compute()
            .unwrap();
        assert_frames_close(&got, &expected);
    }
}

#[test]
fn head_reads_one_partition() {
    let ddf = read_csv_with(
        &sample_glob(),
        CsvOptions::default().blocksize(Some(20_000)),
    )
    .unwrap();
    let head = ddf.head(5);
    let mut g = dusk_core::Graph::new();
    use dusk_core::Collection;
    let keys = head.lower(&mut g).unwrap();
    let optimized = dusk_core::cull(&g, &keys);
    assert_eq!(optimized.len(), 2, "one read and one head task");
    let got = head.compute().unwrap();
    assert_frames_close(&got, &eager_events().head(Some(5)));
}

#[test]
fn projection_pushdown_parses_only_needed_columns() {
    let ddf = read_csv_with(&sample_glob(), CsvOptions::default()).unwrap();
    let q = ddf.select([col("name")]).unwrap();
    let plan = q.explain();
    assert!(plan.contains("[\"name\"]"), "{plan}");
    let got = q.compute().unwrap();
    assert_eq!(got.width(), 1);
    assert_eq!(got.height(), eager_events().height());
}

#[test]
fn unknown_columns_fail_when_the_expression_is_built() {
    let ddf = read_csv_with(&sample_glob(), CsvOptions::default()).unwrap();
    for err in [
        ddf.select([col("nope")]).err(),
        ddf.filter(col("nope").gt(lit(1))).err(),
        ddf.group_by(["nope"]).agg([len()]).err(),
        ddf.group_by(["user_id"]).agg([col("nope").sum()]).err(),
    ] {
        let err = err.expect("must fail");
        assert!(matches!(err, FrameError::ColumnNotFound { .. }), "{err}");
        assert!(err.to_string().contains("nope"));
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dusk-df-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn bad_inputs_get_clear_errors() {
    // A glob that matches nothing.
    let err = read_csv_with("no/such/dir/*.csv", CsvOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no/such/dir/*.csv"), "{err}");

    // A malformed row: the error names the file and the line.
    let d = temp_dir("malformed");
    std::fs::write(d.join("a.csv"), "x,y\n1,2\n3,4\n5,6,7\n8,9\n").unwrap();
    let pattern = format!("{}/*.csv", d.display());
    let err = read_csv_with(&pattern, CsvOptions::default())
        .expect_err("found while inferring the schema")
        .to_string();
    assert!(err.contains("a.csv") && err.contains(":4"), "{err}");
    // Beyond the inference sample, the error comes from the partition that holds the row.
    let mut text = String::from("x,y\n");
    for i in 0..3000 {
        text.push_str(&format!("{i},{i}\n"));
    }
    text.push_str("1,2,3\n");
    std::fs::write(d.join("a.csv"), &text).unwrap();
    for bs in [None, Some(5_000)] {
        let ddf = read_csv_with(&pattern, CsvOptions::default().blocksize(bs)).unwrap();
        let err = ddf.compute().unwrap_err().to_string();
        assert!(err.contains("a.csv:3002"), "{err}");
    }

    // A schema mismatch between files names both files.
    let d = temp_dir("mismatch");
    std::fs::write(d.join("a.csv"), "x,y\n1,2\n").unwrap();
    std::fs::write(d.join("b.csv"), "x,z\n1,2\n").unwrap();
    let err = read_csv_with(&format!("{}/*.csv", d.display()), CsvOptions::default())
        .expect_err("mismatch");
    assert!(matches!(err, FrameError::SchemaMismatch { .. }), "{err}");
    assert!(err.to_string().contains("b.csv") && err.to_string().contains("a.csv"));

    // An empty file.
    let d = temp_dir("empty");
    std::fs::write(d.join("a.csv"), "").unwrap();
    let err =
        read_csv_with(&format!("{}/*.csv", d.display()), CsvOptions::default()).expect_err("empty");
    assert!(
        err.to_string().contains("a.csv") && err.to_string().contains("empty"),
        "{err}"
    );

    // An unreadable path (a directory named like a CSV file is skipped; a missing file errors).
    let err = dusk_collections::dataframe::read_csv_files(
        &[d.join("missing.csv")],
        CsvOptions::default(),
    )
    .expect_err("missing");
    assert!(err.to_string().contains("missing.csv"), "{err}");
}
