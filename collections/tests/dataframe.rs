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

/// A fresh directory for one test, removed when the test ends, passed or failed.
struct TempDir(std::path::PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    let d = std::env::temp_dir().join(format!("dusk-df-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
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

/// A frame with nulls, repeated keys and a boolean column, for the reductions below.
fn mixed_frame(rows: usize) -> polars::prelude::DataFrame {
    let k: Vec<Option<&str>> = (0..rows)
        .map(|i| match i % 7 {
            0 => None,
            1..=3 => Some("a"),
            4 => Some("b"),
            _ => Some("c"),
        })
        .collect();
    let x: Vec<Option<f64>> = (0..rows)
        .map(|i| (i % 5 != 3).then(|| ((i * 37) % 101) as f64 - 20.0))
        .collect();
    let n: Vec<i64> = (0..rows).map(|i| ((i * 13) % 17) as i64).collect();
    let b: Vec<Option<bool>> = (0..rows)
        .map(|i| (i % 4 != 0).then_some(i % 9 == 0))
        .collect();
    df!("k" => k, "x" => x, "n" => n, "b" => b).unwrap()
}

const PARTITIONS: [usize; 4] = [1, 2, 7, 40];

#[test]
fn n_unique_any_all_match_polars_grouped_and_whole() {
    let pdf = mixed_frame(300);
    let aggs = || {
        vec![
            col("x").n_unique().alias("xu"),
            col("n").n_unique().alias("nu"),
            col("b").any(true).alias("any"),
            col("b").all(true).alias("all"),
            col("b").any(false).alias("any_kleene"),
            col("b").all(false).alias("all_kleene"),
        ]
    };
    let whole = pdf.clone().lazy().select(aggs()).collect().unwrap();
    let grouped = sorted(
        &pdf.clone()
            .lazy()
            .group_by([col("k")])
            .agg(aggs())
            .collect()
            .unwrap(),
        &["k"],
    );
    for n in PARTITIONS {
        let ddf = from_polars(pdf.clone(), n);
        let got = ddf.agg(aggs()).unwrap().compute().unwrap();
        assert_frames_close(&got, &whole);
        for split in [2, 8] {
            let got = ddf
                .group_by(["k"])
                .split_every(split)
                .agg(aggs())
                .unwrap()
                .compute()
                .unwrap();
            assert_frames_close(&sorted(&got, &["k"]), &grouped);
        }
    }
}

#[test]
fn column_reductions_and_len_match_polars() {
    let pdf = mixed_frame(123);
    let numeric = [col("x"), col("n")];
    let all = [col("k"), col("x"), col("n"), col("b")];
    let eager = |exprs: Vec<Expr>| pdf.clone().lazy().select(exprs).collect().unwrap();
    for n in PARTITIONS {
        let ddf = from_polars(pdf.clone(), n);
        assert_eq!(ddf.len().compute().unwrap(), 123);
        let cases = [
            (
                ddf.sum(),
                eager(numeric.iter().map(|c| c.clone().sum()).collect()),
            ),
            (
                ddf.mean(),
                eager(numeric.iter().map(|c| c.clone().mean()).collect()),
            ),
            (
                ddf.std(),
                eager(numeric.iter().map(|c| c.clone().std(1)).collect()),
            ),
            (
                ddf.var(),
                eager(numeric.iter().map(|c| c.clone().var(1)).collect()),
            ),
            (
                ddf.min(),
                eager(all.iter().map(|c| c.clone().min()).collect()),
            ),
            (
                ddf.max(),
                eager(all.iter().map(|c| c.clone().max()).collect()),
            ),
            (
                ddf.count(),
                eager(all.iter().map(|c| c.clone().count()).collect()),
            ),
            (
                ddf.n_unique(),
                eager(all.iter().map(|c| c.clone().n_unique()).collect()),
            ),
            (ddf.any(), eager(vec![col("b").any(true)])),
            (ddf.all(), eager(vec![col("b").all(true)])),
        ];
        for (got, expected) in cases {
            assert_frames_close(&got.unwrap().compute().unwrap(), &expected);
        }
    }
    // Empty partitions (a filter that keeps nothing in most of them) and an empty frame.
    let ddf = from_polars(pdf.clone(), 7)
        .filter(col("n").eq(lit(3i64)))
        .unwrap();
    let expected = pdf
        .clone()
        .lazy()
        .filter(col("n").eq(lit(3i64)))
        .collect()
        .unwrap();
    assert_eq!(ddf.len().compute().unwrap(), expected.height());
    let none = from_polars(pdf.clone(), 3)
        .filter(col("n").lt(lit(0i64)))
        .unwrap();
    assert_eq!(none.len().compute().unwrap(), 0);
}

#[test]
fn map_partitions_with_a_declared_schema_checks_it() {
    let pdf = mixed_frame(50);
    let ddf = from_polars(pdf.clone(), 3);
    let schema = Schema::from_iter([Field::new("n".into(), DataType::Int64)]);
    let ok = ddf.map_partitions_with_schema("keep-n", schema.clone(), |df| {
        df.lazy().select([col("n")]).collect()
    });
    assert_eq!(ok.columns(), ["n"]);
    assert_frames_close(&ok.compute().unwrap(), &pdf.select(["n"]).unwrap());
    let wrong = ddf.map_partitions_with_schema("keep-x", schema, |df| {
        df.lazy().select([col("x")]).collect()
    });
    let err = wrong.compute().unwrap_err().to_string();
    assert!(
        err.contains("keep-x") && err.contains("declared schema"),
        "{err}"
    );
}

#[test]
fn tail_reads_the_last_partition() {
    let pdf = mixed_frame(100);
    let ddf = from_polars(pdf.clone(), 4);
    let tail = ddf.tail(5);
    let mut g = dusk_core::Graph::new();
    use dusk_core::Collection;
    let keys = tail.lower(&mut g).unwrap();
    assert_eq!(
        dusk_core::cull(&g, &keys).len(),
        2,
        "one source and one tail task"
    );
    assert_frames_close(&tail.compute().unwrap(), &pdf.tail(Some(5)));
}

#[test]
fn value_counts_and_top_rows_match_polars() {
    let eager = eager_events();
    let expected = eager
        .clone()
        .lazy()
        .group_by([col("name")])
        .agg([len().alias("count")])
        .sort(
            ["count", "name"],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()
        .unwrap();
    for bs in [None, Some(9_000)] {
        let ddf = read_csv_with(&sample_glob(), CsvOptions::default().blocksize(bs)).unwrap();
        let got = ddf.value_counts("name").unwrap().compute().unwrap();
        assert_frames_close(&got, &expected);

        // nlargest / nsmallest on (value, user_id): compare the sort keys, which are unique
        // enough in the sample that ties do not matter.
        for (largest, n) in [(true, 10), (false, 7), (true, 0)] {
            let top = if largest {
                ddf.nlargest(n, &["value", "user_id"])
            } else {
                ddf.nsmallest(n, &["value", "user_id"])
            }
            .unwrap()
            .compute()
            .unwrap();
            let expected = eager
                .clone()
                .lazy()
                .sort(
                    ["value", "user_id"],
                    SortMultipleOptions::default()
                        .with_order_descending(largest)
                        .with_nulls_last(true),
                )
                .limit(n as IdxSize)
                .select([col("value"), col("user_id")])
                .collect()
                .unwrap();
            let got = top.select(["value", "user_id"]).unwrap();
            assert_frames_close(&got, &expected);
        }
    }
    assert!(from_polars(eager.clone(), 2)
        .nlargest(3, &["nope"])
        .is_err());
}

#[test]
fn quantiles_and_describe_match_polars() {
    // Small partitions: the sketches hold every value, so the answer is exact.
    let pdf = mixed_frame(1_000);
    let qs = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0];
    let x = pdf.column("x").unwrap().as_materialized_series().clone();
    let exact = |q: f64| {
        x.quantile_reduce(q, QuantileMethod::Linear)
            .unwrap()
            .value()
            .extract::<f64>()
            .unwrap()
    };
    for n in PARTITIONS {
        let ddf = from_polars(pdf.clone(), n);
        let got = ddf.quantile("x", &qs).unwrap().compute().unwrap();
        let values: Vec<f64> = got
            .column("x")
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        for (q, v) in qs.iter().zip(&values) {
            assert!(
                (v - exact(*q)).abs() < 1e-9,
                "q={q} with {n} partitions: {v} vs {}",
                exact(*q)
            );
        }
        let d = ddf.describe().compute().unwrap();
        assert_eq!(d.get_column_names(), ["statistic", "x", "n"]);
        let col_x: Vec<Option<f64>> = d.column("x").unwrap().f64().unwrap().iter().collect();
        let stats = pdf
            .clone()
            .lazy()
            .select([
                col("x").count().cast(DataType::Float64),
                col("x").mean().alias("mean"),
                col("x").std(1).alias("std"),
                col("x").min().alias("min"),
                col("x").max().alias("max"),
            ])
            .collect()
            .unwrap();
        let s = |name: &str| stats.column(name).unwrap().f64().unwrap().get(0).unwrap();
        let want = [
            s("x"),
            s("mean"),
            s("std"),
            s("min"),
            exact(0.25),
            exact(0.5),
            exact(0.75),
            s("max"),
        ];
        for (g, w) in col_x.iter().zip(want) {
            assert!((g.unwrap() - w).abs() < 1e-9 * (1.0 + w.abs()), "{d}");
        }
    }
    // Large partitions: approximate, within a small rank error.
    let big: Vec<f64> = (0..100_000u64)
        .map(|i| ((i * 7919) % 100_000) as f64)
        .collect();
    let got = from_polars(df!("v" => big).unwrap(), 5)
        .quantile("v", &[0.05, 0.5, 0.95])
        .unwrap()
        .compute()
        .unwrap();
    for (q, v) in [0.05, 0.5, 0.95]
        .iter()
        .zip(got.column("v").unwrap().f64().unwrap().into_no_null_iter())
    {
        assert!((v - q * 99_999.0).abs() < 200.0, "q={q}: {v}");
    }
    let ddf = from_polars(pdf.clone(), 2);
    assert!(ddf.quantile("k", &[0.5]).is_err(), "not numeric");
    assert!(ddf.quantile("x", &[1.5]).is_err(), "outside [0, 1]");
}

#[test]
fn csv_and_parquet_round_trips() {
    let eager = eager_events();
    let d = temp_dir("write");
    for n in [1, 3, 10] {
        let ddf = from_polars(eager.clone(), n);
        let pattern = d.join(format!("csv{n}/part-*.csv"));
        let paths = ddf
            .to_csv(pattern.to_str().unwrap())
            .unwrap()
            .compute()
            .unwrap();
        assert_eq!(paths.len(), n);
        assert!(
            paths.windows(2).all(|w| w[0] < w[1]),
            "paths sort in partition order"
        );
        let back = read_csv_with(
            d.join(format!("csv{n}/*.csv")).to_str().unwrap(),
            CsvOptions::default(),
        )
        .unwrap()
        .compute()
        .unwrap();
        assert_frames_close(&back, &eager);

        let pattern = d.join(format!("pq{n}/*.parquet"));
        ddf.to_parquet(pattern.to_str().unwrap())
            .unwrap()
            .compute()
            .unwrap();
        let back = dusk_collections::dataframe::read_parquet(pattern.to_str().unwrap()).unwrap();
        assert_eq!(back.npartitions(), n);
        assert_frames_close(&back.compute().unwrap(), &eager);
    }
    // Row groups become partitions; projection and filters reach the reader.
    let path = d.join("groups.parquet");
    let mut df = eager.clone();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .with_row_group_size(Some(1_000))
        .finish(&mut df)
        .unwrap();
    let ddf = dusk_collections::dataframe::read_parquet(path.to_str().unwrap()).unwrap();
    assert_eq!(ddf.npartitions(), eager.height().div_ceil(1_000));
    let q = ddf
        .filter(col("value").gt(lit(120.0)))
        .unwrap()
        .group_by(["name"])
        .agg([col("count").sum()])
        .unwrap();
    let plan = q.explain();
    assert!(
        plan.contains("read_parquet") && plan.contains("filter while reading"),
        "{plan}"
    );
    assert!(plan.contains("[\"count\", \"name\", \"value\"]"), "{plan}");
    let expected = eager
        .clone()
        .lazy()
        .filter(col("value").gt(lit(120.0)))
        .group_by([col("name")])
        .agg([col("count").sum()])
        .collect()
        .unwrap();
    assert_frames_close(
        &sorted(&q.compute().unwrap(), &["name"]),
        &sorted(&expected, &["name"]),
    );

    // A pattern without `*`, a glob that matches nothing, mismatched schemas, a corrupt file.
    assert!(from_polars(eager.clone(), 2).to_csv("out.csv").is_err());
    let err = dusk_collections::dataframe::read_parquet("no/such/*.parquet").unwrap_err();
    assert!(err.to_string().contains("no/such/*.parquet"), "{err}");
    let bad = temp_dir("bad-parquet");
    from_polars(df!("a" => [1i64]).unwrap(), 1)
        .to_parquet(bad.join("a*.parquet").to_str().unwrap())
        .unwrap()
        .compute()
        .unwrap();
    from_polars(df!("a" => ["x"]).unwrap(), 1)
        .to_parquet(bad.join("b*.parquet").to_str().unwrap())
        .unwrap()
        .compute()
        .unwrap();
    let err = dusk_collections::dataframe::read_parquet(bad.join("*.parquet").to_str().unwrap())
        .unwrap_err();
    assert!(matches!(err, FrameError::SchemaMismatch { .. }), "{err}");
    std::fs::write(bad.join("c.parquet"), b"this is not parquet").unwrap();
    let err =
        dusk_collections::dataframe::read_parquet_files(&[bad.join("c.parquet")]).unwrap_err();
    assert!(err.to_string().contains("c.parquet"), "{err}");
}

#[test]
fn filters_are_pushed_into_the_csv_reader() {
    let ddf = read_csv_with(&sample_glob(), CsvOptions::default()).unwrap();
    let q = ddf
        .filter(col("value").gt(lit(110.0)))
        .unwrap()
        .filter(col("active").eq(lit(true)))
        .unwrap()
        .select([col("user_id")])
        .unwrap();
    let plan = q.explain();
    assert!(plan.contains("filter while reading"), "{plan}");
    let mut g = dusk_core::Graph::new();
    use dusk_core::Collection;
    let keys = q.lower(&mut g).unwrap();
    assert_eq!(
        g.len(),
        2 * keys.len(),
        "a read (with the filters) and a select per partition"
    );
    let expected = eager_events()
        .lazy()
        .filter(col("value").gt(lit(110.0)).and(col("active").eq(lit(true))))
        .select([col("user_id")])
        .collect()
        .unwrap();
    assert_frames_close(&q.compute().unwrap(), &expected);
}

/// Left rows with a skewed key (half of them `0`), nulls in the key, and a clashing column.
fn join_sides() -> (polars::prelude::DataFrame, polars::prelude::DataFrame) {
    let n = 400;
    let k: Vec<Option<i64>> = (0..n)
        .map(|i| match i {
            i if i % 2 == 0 => Some(0),
            i if i % 11 == 0 => None,
            i => Some((i % 37) as i64),
        })
        .collect();
    let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let left = df!("k" => k, "v" => v).unwrap();
    let rk: Vec<Option<i64>> = (0..60)
        .map(|i| if i == 7 { None } else { Some((i % 45) as i64) })
        .collect();
    let name: Vec<String> = (0..60).map(|i| format!("n{i}")).collect();
    let rv: Vec<f64> = (0..60).map(|i| -(i as f64)).collect();
    let right = df!("k" => rk, "name" => name, "v" => rv).unwrap();
    (left, right)
}

/// Polars' own inner join on `k`, right columns suffixed `_r`: the oracle of the join tests.
fn polars_inner_join_on_k(
    left: &polars::prelude::DataFrame,
    right: &polars::prelude::DataFrame,
) -> polars::prelude::DataFrame {
    left.clone()
        .lazy()
        .join(
            right.clone().lazy(),
            [col("k")],
            [col("k")],
            JoinArgs::new(JoinType::Inner).with_suffix(Some("_r".into())),
        )
        .collect()
        .unwrap()
}

fn sort_all(df: &polars::prelude::DataFrame) -> polars::prelude::DataFrame {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    df.sort(names, SortMultipleOptions::default().with_nulls_last(true))
        .unwrap()
}

#[test]
fn joins_match_polars_for_every_layout() {
    use dusk_collections::dataframe::JoinHow;
    let (left, right) = join_sides();
    let polars_join = |how: JoinType| {
        let full = how == JoinType::Full;
        let mut args = JoinArgs::new(how).with_suffix(Some("_r".into()));
        if full {
            args = args.with_coalesce(JoinCoalesce::CoalesceColumns);
        }
        left.clone()
            .lazy()
            .join(right.clone().lazy(), [col("k")], [col("k")], args)
            .collect()
            .unwrap()
    };
    // Semi and anti joins from first principles: the set of right keys (nulls never match).
    let right_keys: std::collections::HashSet<i64> = right
        .column("k")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let matches: Vec<bool> = left
        .column("k")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|k| k.is_some_and(|k| right_keys.contains(&k)))
        .collect();
    let keep = |want: bool| {
        let mask = BooleanChunked::from_iter(matches.iter().map(|m| *m == want));
        left.filter(&mask).unwrap()
    };
    let cases = [
        (JoinHow::Inner, polars_join(JoinType::Inner)),
        (JoinHow::Left, polars_join(JoinType::Left)),
        (JoinHow::Right, polars_join(JoinType::Right)),
        (JoinHow::Outer, polars_join(JoinType::Full)),
        (JoinHow::Semi, keep(true)),
        (JoinHow::Anti, keep(false)),
    ];
    for (nl, nr) in [(1, 1), (3, 1), (7, 4), (4, 9), (12, 5)] {
        let l = from_polars(left.clone(), nl);
        let r = from_polars(right.clone(), nr);
        for (how, expected) in &cases {
            let joined = l.join(&r, &["k"], &["k"], *how, "_r").unwrap();
            let plan = joined.explain();
            let broadcast = nr <= 4
                && matches!(
                    how,
                    JoinHow::Inner | JoinHow::Left | JoinHow::Semi | JoinHow::Anti
                );
            assert_eq!(
                plan.contains("broadcast"),
                broadcast,
                "{how:?} {nl}x{nr}:\n{plan}"
            );
            assert_eq!(plan.contains("hash shuffle"), !broadcast, "{plan}");
            let got = joined.compute().unwrap();
            assert_eq!(
                got.get_column_names(),
                expected.get_column_names(),
                "{how:?}"
            );
            assert_frames_close(&sort_all(&got), &sort_all(expected));
        }
    }
    // A side already partitioned on its keys is not shuffled again, nor is the result of a
    // partition-wise join when it is joined again on the same keys.
    let l = from_polars(left.clone(), 6).shuffle(&["k"], 5).unwrap();
    let r = from_polars(right.clone(), 9);
    let once = l
        .filter(col("v").gt(lit(10.0)))
        .unwrap()
        .join(&r, &["k"], &["k"], JoinHow::Left, "_r")
        .unwrap();
    let plan = once.explain();
    assert_eq!(plan.matches("hash shuffle").count(), 2, "{plan}");
    assert_eq!(once.npartitions(), 5);
    let twice = once
        .join(
            &r.select([col("k"), col("name").alias("again")]).unwrap(),
            &["k"],
            &["k"],
            JoinHow::Inner,
            "_2",
        )
        .unwrap();
    let plan = twice.explain();
    assert_eq!(
        plan.matches("hash shuffle").count(),
        3,
        "only the new right side moves:\n{plan}"
    );
    let expected = left
        .clone()
        .lazy()
        .filter(col("v").gt(lit(10.0)))
        .join(
            right.clone().lazy(),
            [col("k")],
            [col("k")],
            JoinArgs::new(JoinType::Left).with_suffix(Some("_r".into())),
        )
        .join(
            right
                .clone()
                .lazy()
                .select([col("k"), col("name").alias("again")]),
            [col("k")],
            [col("k")],
            JoinArgs::new(JoinType::Inner).with_suffix(Some("_2".into())),
        )
        .collect()
        .unwrap();
    assert_frames_close(&sort_all(&twice.compute().unwrap()), &sort_all(&expected));

    // Keys must exist on their side, and come in pairs.
    let l = from_polars(left.clone(), 2);
    let r = from_polars(right.clone(), 2);
    assert!(matches!(
        l.join(&r, &["nope"], &["k"], JoinHow::Inner, "_r"),
        Err(FrameError::ColumnNotFound { .. })
    ));
    assert!(l
        .join(&r, &["k", "v"], &["k"], JoinHow::Inner, "_r")
        .is_err());
    // Keys of different integer widths still meet in the same partition.
    let r32 = from_polars(
        right
            .clone()
            .lazy()
            .with_column(col("k").cast(DataType::Int32))
            .collect()
            .unwrap(),
        9,
    );
    let got = l.join(&r32, &["k"], &["k"], JoinHow::Outer, "_r");
    if let Ok(joined) = got {
        let expected = polars_join(JoinType::Full);
        assert_eq!(joined.compute().unwrap().height(), expected.height());
    }
}

#[test]
fn sort_values_matches_polars_and_orders_partitions() {
    let (left, _) = join_sides();
    let df = left
        .lazy()
        .with_column((col("v") * lit(7.0) % lit(13.0)).alias("w"))
        .collect()
        .unwrap();
    let cases: [(&[&str], &[bool], bool); 4] = [
        (&["v"], &[false], true),
        (&["k", "w"], &[true, false], true),
        (&["k", "v"], &[false, true], false),
        (&["w", "k"], &[true, true], true),
    ];
    for n in [1, 2, 7, 30] {
        let ddf = from_polars(df.clone(), n);
        for (by, desc, nulls_last) in cases {
            let sorted_ddf = ddf.sort_values(by, desc, nulls_last).unwrap();
            let expected = df
                .sort(
                    by.to_vec(),
                    SortMultipleOptions::default()
                        .with_order_descending_multi(desc.to_vec())
                        .with_nulls_last(nulls_last)
                        .with_maintain_order(true),
                )
                .unwrap();
            assert_frames_close(&sorted_ddf.compute().unwrap(), &expected);
        }
    }
    // Partition i holds values no greater than partition i + 1 (nulls last).
    let sorted_ddf = from_polars(df.clone(), 7)
        .sort_values(&["v"], &[false], true)
        .unwrap();
    let mut g = dusk_core::Graph::new();
    use dusk_core::Collection;
    let keys = sorted_ddf.lower(&mut g).unwrap();
    let (parts, _) = dusk_scheduler::get(&g, &keys, &ComputeOptions::default()).unwrap();
    let ranges: Vec<(f64, f64)> = parts
        .iter()
        .filter_map(|p| {
            let v = p
                .as_frame()
                .unwrap()
                .column("v")
                .unwrap()
                .f64()
                .unwrap()
                .clone();
            Some((v.min()?, v.max()?))
        })
        .collect();
    assert!(
        ranges.len() > 3,
        "the rows are spread over partitions: {ranges:?}"
    );
    assert!(ranges.windows(2).all(|w| w[0].1 <= w[1].0), "{ranges:?}");
    // head() after a sort is a top-n of the unsorted frame: no shuffle, whole-frame answer.
    let top = from_polars(df.clone(), 7)
        .sort_values(&["k", "v"], &[true, false], true)
        .unwrap()
        .head(25);
    assert!(!top.explain().contains("shuffle"), "{}", top.explain());
    let expected = df
        .sort(
            ["k", "v"],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .unwrap()
        .head(Some(25));
    assert_frames_close(&top.compute().unwrap(), &expected);
    // A string first column falls back to one partition, still sorted.
    let names = df!("s" => ["b", "a", "c", "a"]).unwrap();
    let got = from_polars(names, 3)
        .sort_values(&["s"], &[false], true)
        .unwrap()
        .compute()
        .unwrap();
    let s: Vec<&str> = got
        .column("s")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(s, ["a", "a", "b", "c"]);
}

#[test]
fn drop_duplicates_repartition_concat_match_polars() {
    use dusk_collections::dataframe::{concat, Keep};
    let (left, _) = join_sides();
    let df = left
        .lazy()
        .with_column((col("v") % lit(3.0)).alias("m"))
        .collect()
        .unwrap();
    for n in [1, 3, 8] {
        let ddf = from_polars(df.clone(), n);
        for (subset, keep, strategy) in [
            (Some(&["k"][..]), Keep::First, UniqueKeepStrategy::First),
            (Some(&["k", "m"][..]), Keep::Last, UniqueKeepStrategy::Last),
            (None, Keep::First, UniqueKeepStrategy::First),
        ] {
            let got = ddf
                .drop_duplicates(subset, keep)
                .unwrap()
                .compute()
                .unwrap();
            let selector = subset.map(|s| Selector::ByName {
                names: s.iter().map(|c| PlSmallStr::from(*c)).collect(),
                strict: true,
            });
            let expected = df
                .clone()
                .lazy()
                .unique_stable(selector, strategy)
                .collect()
                .unwrap();
            assert_frames_close(&sort_all(&got), &sort_all(&expected));
        }
        for m in [1, 2, 5, 17] {
            let re = ddf.repartition(m).unwrap();
            assert_eq!(re.npartitions(), m);
            assert_frames_close(&re.compute().unwrap(), &df);
        }
        let both = concat(&[ddf.clone(), from_polars(df.clone(), 2)]).unwrap();
        assert_eq!(both.npartitions(), n + 2);
        let mut expected = df.clone();
        expected.vstack_mut(&df).unwrap();
        assert_frames_close(&both.compute().unwrap(), &expected);
        // A shuffle puts each key in exactly one partition.
        let shuffled = ddf.shuffle(&["k"], 4).unwrap();
        let mut g = dusk_core::Graph::new();
        use dusk_core::Collection;
        let keys = shuffled.lower(&mut g).unwrap();
        let (parts, _) = dusk_scheduler::get(&g, &keys, &ComputeOptions::default()).unwrap();
        let mut seen = std::collections::HashMap::new();
        for (i, p) in parts.iter().enumerate() {
            for k in p
                .as_frame()
                .unwrap()
                .column("k")
                .unwrap()
                .i64()
                .unwrap()
                .iter()
            {
                assert_eq!(
                    *seen.entry(k).or_insert(i),
                    i,
                    "key {k:?} in two partitions"
                );
            }
        }
    }
    let other = from_polars(df!("x" => [1]).unwrap(), 1);
    assert!(concat(&[from_polars(df.clone(), 1), other]).is_err());
}

#[test]
fn group_by_split_out_spreads_groups_over_partitions() {
    let eager = eager_events();
    let aggs = || {
        vec![
            col("value").mean().alias("mean"),
            col("value").std(1).alias("std"),
            col("name").n_unique().alias("names"),
            len().alias("n"),
        ]
    };
    let expected = sorted(
        &eager
            .clone()
            .lazy()
            .group_by([col("user_id")])
            .agg(aggs())
            .collect()
            .unwrap(),
        &["user_id"],
    );
    for bs in [None, Some(9_000)] {
        let ddf = read_csv_with(&sample_glob(), CsvOptions::default().blocksize(bs)).unwrap();
        for split_out in [2, 5] {
            let grouped = ddf
                .group_by(["user_id"])
                .split_out(split_out)
                .agg(aggs())
                .unwrap();
            assert_eq!(grouped.npartitions(), split_out);
            assert!(grouped.explain().contains("hash-partitioned"));
            let got = grouped.compute().unwrap();
            assert_frames_close(&sorted(&got, &["user_id"]), &expected);
        }
    }
}

#[test]
fn disk_shuffle_stays_within_a_memory_budget_four_times_smaller_than_the_data() {
    use dusk_collections::dataframe::{with_shuffle_method, ShuffleMethod};
    use dusk_core::Collection;
    // About 6 MB of rows in memory, read in ~80 blocks.
    let d = temp_dir("spill");
    let mut text = String::from("k,v,s\n");
    for i in 0..200_000u64 {
        text.push_str(&format!(
            "{},{}.5,name{}\n",
            (i * 7919) % 5003,
            i % 1000,
            i % 97
        ));
    }
    std::fs::write(d.join("data.csv"), &text).unwrap();
    let pattern = format!("{}/*.csv", d.display());
    let eager = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(d.join("data.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let budget = eager.estimated_size() / 4;
    let expected = sorted(
        &eager
            .clone()
            .lazy()
            .group_by([col("k")])
            .agg([col("v").sum(), col("s").max()])
            .collect()
            .unwrap(),
        &["k"],
    );
    let build = |method: ShuffleMethod| {
        let ddf = with_shuffle_method(method, || {
            read_csv_with(&pattern, CsvOptions::default().blocksize(Some(40_000)))
                .unwrap()
                .shuffle(&["k"], 40)
                .unwrap()
        });
        // Each shuffled partition is reduced right away, so only the shuffle holds data.
        ddf.map_partitions("sum-per-key", |df| {
            df.lazy()
                .group_by([col("k")])
                .agg([col("v").sum(), col("s").max()])
                .collect()
        })
        .unwrap()
    };
    let run = |ddf: &dusk_collections::DataFrame| {
        let mut g = dusk_core::Graph::new();
        let keys = ddf.lower(&mut g).unwrap();
        let options = ComputeOptions::default().scheduler(Scheduler::Threads(Some(2)));
        let (parts, stats) = dusk_scheduler::get(&g, &keys, &options).unwrap();
        let frames: Vec<_> = parts
            .iter()
            .map(|p| p.as_frame().unwrap().clone())
            .collect();
        let mut all = frames[0].clone();
        for f in &frames[1..] {
            all.vstack_mut(f).unwrap();
        }
        (sorted(&all, &["k"]), stats)
    };
    let disk = build(ShuffleMethod::Disk);
    assert!(disk.explain().contains("Disk"), "{}", disk.explain());
    let (got, stats) = run(&disk);
    assert_frames_close(&got, &expected);
    assert!(
        stats.peak_bytes <= budget,
        "the disk shuffle held {} bytes at once; budget {budget}",
        stats.peak_bytes
    );
    // The same shuffle through memory holds every piece until the gathers run: the budget is
    // a real constraint.
    let (got, stats) = run(&build(ShuffleMethod::Tasks));
    assert_frames_close(&got, &expected);
    assert!(
        stats.peak_bytes > budget,
        "{} <= {budget}",
        stats.peak_bytes
    );
    // set_index moves its rows through the same files, and its graph still ships.
    let indexed = with_shuffle_method(ShuffleMethod::Disk, || {
        from_polars(indexed_frame(400), 6).set_index("k").unwrap()
    });
    assert!(
        indexed.explain().contains("through Disk"),
        "{}",
        indexed.explain()
    );
    assert_divisions_hold(&indexed, "k");
    assert_wire_graph_computes_the_same("set_index on disk", &indexed);
}

/// The graph of `df`, optimized as `compute` does, encoded as a client sends it and decoded
/// as a worker does, computed, and compared with the collection computed directly.
fn assert_wire_graph_computes_the_same(name: &str, df: &dusk_collections::dataframe::DataFrame) {
    use dusk_core::{optimize, Collection, Graph, OptimizeOptions, WireGraph};
    let mut graph = Graph::new();
    let keys = df.lower(&mut graph).unwrap();
    let graph = optimize(&graph, &keys, OptimizeOptions::default());
    let bytes = postcard::to_stdvec(&graph.to_wire().unwrap()).unwrap();
    let wire: WireGraph = postcard::from_bytes(&bytes).unwrap();
    let decoded = Graph::from_wire(&wire).unwrap();
    let (out, _) = dusk_scheduler::get(&decoded, &keys, &ComputeOptions::default()).unwrap();
    let shipped = df.finalize(out).unwrap();
    let direct = df.compute().unwrap();
    assert!(
        shipped.equals_missing(&direct),
        "{name}:\n{shipped}\n{direct}"
    );
}

#[test]
fn every_built_in_op_survives_its_wire_form() {
    use dusk_collections::dataframe::{JoinHow, Keep};
    let events = read_csv_with(
        &sample_glob(),
        CsvOptions::default().blocksize(Some(40_000)),
    )
    .unwrap();
    let filtered = events.filter(col("value").gt(lit(50.0))).unwrap();
    let grouped = filtered
        .group_by(["user_id"])
        .agg([
            col("value").mean(),
            col("value").std(1).alias("sd"),
            len().alias("n"),
        ])
        .unwrap();
    let left = from_polars(mixed_frame(700), 5);
    let right = from_polars(mixed_frame(300), 6);
    let joined = left
        .join(&right, &["k"], &["k"], JoinHow::Left, "_r")
        .unwrap();
    let indexed_input = from_polars(indexed_frame(400), 6);
    let indexed = indexed_input.set_index("k").unwrap();
    let sorted_index = from_polars(
        df!("k" => (-200..900i64).step_by(3).collect::<Vec<_>>()).unwrap(),
        4,
    )
    .set_index_sorted("k")
    .unwrap();
    let dir = temp_dir("wire");
    let written = events
        .to_parquet(&dir.join("part-*.parquet").to_string_lossy())
        .unwrap();
    written.compute().unwrap();
    let parquet =
        dusk_collections::dataframe::read_parquet(&dir.join("*.parquet").to_string_lossy())
            .unwrap();
    let cases = [
        (
            "csv + filter + select",
            filtered
                .select([col("user_id"), col("value") * lit(2.0)])
                .unwrap(),
        ),
        ("group_by", grouped),
        (
            "whole-frame agg",
            events
                .agg([col("value").sum(), col("user_id").n_unique()])
                .unwrap(),
        ),
        (
            "describe",
            events.select([col("value")]).unwrap().describe(),
        ),
        ("quantile", events.quantile("value", &[0.1, 0.5]).unwrap()),
        ("nlargest", events.nlargest(7, &["value"]).unwrap()),
        ("hash join", joined),
        ("sort", left.sort_values(&["x"], &[true], true).unwrap()),
        (
            "drop_duplicates",
            left.drop_duplicates(Some(&["k"]), Keep::Last).unwrap(),
        ),
        ("repartition", left.repartition(2).unwrap()),
        ("repartition by size", left.repartition_size(2_000).unwrap()),
        (
            "concat",
            dusk_collections::dataframe::concat(&[left.clone(), right.clone()]).unwrap(),
        ),
        (
            "parquet",
            parquet.filter(col("value").lt(lit(5.0))).unwrap(),
        ),
        ("set_index", indexed.clone()),
        ("loc", indexed.loc_range(-50, 300).unwrap()),
        (
            "index join with aligned divisions",
            indexed
                .join(&sorted_index, &["k"], &["k"], JoinHow::Left, "_r")
                .unwrap(),
        ),
        (
            "divisions",
            indexed_input.divisions_for("k", 5).unwrap().frame().clone(),
        ),
        (
            "split_out_auto",
            from_polars(mixed_frame(600), 30)
                .group_by(["n"])
                .split_out_auto()
                .agg([col("x").mean()])
                .unwrap(),
        ),
    ];
    for (name, df) in &cases {
        assert_wire_graph_computes_the_same(name, df);
    }
    drop(dir);
}

#[test]
fn closures_refuse_the_wire_naming_their_task() {
    use dusk_core::{optimize, Collection, Graph, OptimizeOptions};
    let df = from_polars(df!("a" => [1i64, 2]).unwrap(), 2)
        .map_partitions("my-step", Ok)
        .unwrap();
    let mut graph = Graph::new();
    let keys = df.lower(&mut graph).unwrap();
    let graph = optimize(&graph, &keys, OptimizeOptions::default());
    let err = graph.to_wire().unwrap_err().to_string();
    assert!(err.contains("my-step"), "{err}");
}

/// Skewed integer keys (one key holds half the rows), nulls, a value column.
fn indexed_frame(rows: usize) -> polars::prelude::DataFrame {
    let k: Vec<Option<i64>> = (0..rows)
        .map(|i| match i {
            i if i % 2 == 0 => Some(500),
            i if i % 13 == 0 => None,
            i => Some(((i * 7919) % 1000) as i64 - 100),
        })
        .collect();
    let v: Vec<f64> = (0..rows).map(|i| i as f64).collect();
    df!("k" => k, "v" => v).unwrap()
}

/// The partitions of a frame, each computed on its own.
fn partitions_of(ddf: &dusk_collections::dataframe::DataFrame) -> Vec<polars::prelude::DataFrame> {
    use dusk_core::Collection;
    let mut g = dusk_core::Graph::new();
    let keys = ddf.lower(&mut g).unwrap();
    let (parts, _) = dusk_scheduler::get(&g, &keys, &ComputeOptions::default()).unwrap();
    parts
        .iter()
        .map(|p| p.as_frame().unwrap().clone())
        .collect()
}

/// How many tasks computing a frame runs (its graph culled to what the outputs need).
fn task_count(ddf: &dusk_collections::dataframe::DataFrame) -> usize {
    use dusk_core::Collection;
    let mut g = dusk_core::Graph::new();
    let keys = ddf.lower(&mut g).unwrap();
    dusk_core::cull(&g, &keys).len()
}

/// Checks Dask's invariants of divisions on computed partitions: one more division than
/// partitions, increasing, every value of partition `i` in `[d_i, d_(i+1))` (the last closed),
/// nulls only in the last partition, each partition sorted by the index.
fn assert_divisions_hold(ddf: &dusk_collections::dataframe::DataFrame, column: &str) {
    use dusk_collections::dataframe::IndexValue;
    let divisions = ddf.divisions().expect("known divisions");
    assert_eq!(divisions.len(), ddf.npartitions() + 1, "{divisions:?}");
    let as_f64 = |v: &IndexValue| match v {
        IndexValue::Int(x) => *x as f64,
        IndexValue::Float(x) => *x,
        IndexValue::Str(_) => unreachable!(),
    };
    let d: Vec<f64> = divisions.iter().map(as_f64).collect();
    // Increasing; the last two may be equal (a last partition holding one value).
    assert!(
        d.windows(2).all(|w| w[0] < w[1]) || {
            let k = d.len() - 2;
            d[..=k].windows(2).all(|w| w[0] < w[1]) && d[k] == d[k + 1]
        },
        "{d:?}"
    );
    let parts = partitions_of(ddf);
    assert_eq!(parts.len(), ddf.npartitions());
    let last = parts.len() - 1;
    for (i, p) in parts.iter().enumerate() {
        let c = p.column(column).unwrap().cast(&DataType::Float64).unwrap();
        let values: Vec<Option<f64>> = c.f64().unwrap().iter().collect();
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        assert!(
            present.windows(2).all(|w| w[0] <= w[1]),
            "partition {i} is sorted"
        );
        if i != last {
            assert!(values.iter().all(Option::is_some), "nulls only last");
        }
        // Non-null values come first, then the nulls.
        let first_null = values
            .iter()
            .position(Option::is_none)
            .unwrap_or(values.len());
        assert!(values[first_null..].iter().all(Option::is_none));
        for x in present {
            let below = if i == last {
                x <= d[i + 1]
            } else {
                x < d[i + 1]
            };
            assert!(d[i] <= x && below, "partition {i}: {x} outside {d:?}");
        }
    }
}

#[test]
fn set_index_matches_polars_and_records_covering_divisions() {
    let df = indexed_frame(600);
    let expected = df
        .sort(
            ["k"],
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .unwrap();
    let values: Vec<i64> = df
        .column("k")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let (min, max) = (*values.iter().min().unwrap(), *values.iter().max().unwrap());
    for n in [1, 2, 5, 13, 40] {
        let ddf = from_polars(df.clone(), n).set_index("k").unwrap();
        assert_eq!(ddf.index().as_deref(), Some("k"));
        assert!(
            ddf.npartitions() <= n,
            "at most the input's partition count"
        );
        let d = ddf.divisions().unwrap();
        use dusk_collections::dataframe::IndexValue;
        assert_eq!(d.first(), Some(&IndexValue::Int(min)));
        assert_eq!(d.last(), Some(&IndexValue::Int(max)));
        assert_divisions_hold(&ddf, "k");
        // Rows keep their relative order within equal keys, as a stable sort does.
        assert_frames_close(&ddf.compute().unwrap(), &expected);
    }
    // Many partitions over few rows: empty partitions, repeated quantiles.
    let tiny = indexed_frame(9);
    let ddf = from_polars(tiny.clone(), 20).set_index("k").unwrap();
    assert_divisions_hold(&ddf, "k");
    assert_frames_close(&sort_all(&ddf.compute().unwrap()), &sort_all(&tiny));

    // A float index with NaN and nulls: both go last, outside the divisions.
    let f = df!(
        "x" => [Some(2.5), None, Some(f64::NAN), Some(-1.0), Some(7.0), Some(2.5), None, Some(0.0)],
        "v" => [0, 1, 2, 3, 4, 5, 6, 7]
    )
    .unwrap();
    for n in [1, 3, 8] {
        let ddf = from_polars(f.clone(), n).set_index("x").unwrap();
        let got = ddf.compute().unwrap();
        assert_eq!(got.height(), f.height());
        let x: Vec<Option<f64>> = got.column("x").unwrap().f64().unwrap().iter().collect();
        assert_eq!(
            &x[..5],
            [Some(-1.0), Some(0.0), Some(2.5), Some(2.5), Some(7.0)]
        );
        let last_part = partitions_of(&ddf).pop().unwrap();
        assert_eq!(last_part.column("x").unwrap().null_count(), 2);
    }

    // A date index, compared on days since the epoch.
    let dates = df!("day" => [3i32, 1, 2, 9, 5, 4], "v" => [0, 1, 2, 3, 4, 5])
        .unwrap()
        .lazy()
        .with_column(col("day").cast(DataType::Date))
        .collect()
        .unwrap();
    let ddf = from_polars(dates.clone(), 3).set_index("day").unwrap();
    assert_eq!(ddf.loc_range(2, 4).unwrap().compute().unwrap().height(), 3);

    // An index with no values at all: one partition, divisions unknown, still sorted.
    let empty = df!("k" => [None::<i64>, None], "v" => [1, 2]).unwrap();
    let ddf = from_polars(empty, 2).set_index("k").unwrap();
    assert_eq!(ddf.npartitions(), 1);
    assert!(!ddf.known_divisions());
    assert_eq!(ddf.loc(3).unwrap().compute().unwrap().height(), 0);
}

#[test]
fn set_index_with_divisions_and_sorted_partitions() {
    use dusk_collections::dataframe::IndexValue;
    let df = indexed_frame(300);
    // Divisions computed lazily (on any scheduler), then given.
    let ddf = from_polars(df.clone(), 6);
    let divisions = ddf.divisions_for("k", 4).unwrap().compute().unwrap();
    let given = ddf
        .set_index_with_divisions("k", divisions.clone())
        .unwrap();
    assert_eq!(given.divisions().unwrap(), divisions);
    assert_divisions_hold(&given, "k");
    assert_frames_close(&sort_all(&given.compute().unwrap()), &sort_all(&df));
    // Values outside given divisions fail the computation, naming the value.
    let narrow = ddf
        .set_index_with_divisions("k", vec![0, 100, 200])
        .unwrap();
    let err = narrow.compute().unwrap_err().to_string();
    assert!(err.contains("outside the divisions"), "{err}");
    // Divisions must increase and match the column's type.
    assert!(matches!(
        ddf.set_index_with_divisions("k", vec![5, 1]),
        Err(FrameError::Divisions { .. })
    ));
    assert!(matches!(
        ddf.set_index_with_divisions("k", vec!["a", "b"]),
        Err(FrameError::IndexType { .. })
    ));

    // Partitions already in order: no row moves; empty partitions are merged away.
    let sorted_df = df
        .sort(["k"], SortMultipleOptions::default().with_nulls_last(true))
        .unwrap();
    for n in [1, 3, 7, 350] {
        let ddf = from_polars(sorted_df.clone(), n).set_index_sorted("k");
        let ddf = match ddf {
            Ok(ddf) => ddf,
            // The key holding half the rows spans two input partitions: not in order.
            Err(e) => {
                assert!(matches!(e, FrameError::Divisions { .. }), "{e}");
                assert!(e.to_string().contains("not in index order"), "{e}");
                continue;
            }
        };
        assert!(!ddf.explain().contains("shuffle"), "{}", ddf.explain());
        assert_divisions_hold(&ddf, "k");
        assert_frames_close(&ddf.compute().unwrap(), &sorted_df);
    }
    let distinct =
        df!("k" => (0..50i64).collect::<Vec<_>>(), "v" => (0..50i64).collect::<Vec<_>>()).unwrap();
    let ddf = from_polars(distinct.clone(), 80)
        .set_index_sorted("k")
        .unwrap();
    assert_eq!(
        ddf.npartitions(),
        50,
        "empty partitions merged into neighbours"
    );
    let some = ddf.loc_range(10, 12).unwrap();
    assert_eq!(some.npartitions(), 3);
    assert!(
        task_count(&some) * 10 < task_count(&ddf),
        "{}",
        some.explain()
    );
    assert_frames_close(&some.compute().unwrap(), &distinct.slice(10, 3));
    assert_eq!(ddf.divisions().unwrap().last(), Some(&IndexValue::Int(49)));
    assert_divisions_hold(&ddf, "k");
    // Strings: given divisions or sorted partitions (no quantiles of strings).
    let names = df!("s" => ["a", "b", "c", "d", "e", "f"], "v" => [1, 2, 3, 4, 5, 6]).unwrap();
    let ddf = from_polars(names.clone(), 3).set_index_sorted("s").unwrap();
    assert_eq!(ddf.loc("d").unwrap().npartitions(), 1);
    assert_eq!(
        ddf.loc_range("b", "e").unwrap().compute().unwrap().height(),
        4
    );
    assert!(from_polars(names, 3).set_index("s").is_err());
}

#[test]
fn loc_matches_polars_filters_and_reads_fewer_partitions() {
    let df = indexed_frame(500);
    let polars_range = |lo: i64, hi: i64| {
        df.clone()
            .lazy()
            .filter(col("k").gt_eq(lit(lo)).and(col("k").lt_eq(lit(hi))))
            .collect()
            .unwrap()
    };
    for n in [1, 4, 9, 30] {
        let ddf = from_polars(df.clone(), n).set_index("k").unwrap();
        let full = task_count(&ddf);
        for (lo, hi) in [
            (500, 500),
            (-100, -100),
            (3, 3),
            (-1000, -500),
            (2000, 3000),
            (0, 250),
            (-1000, 5000),
            (700, 100),
        ] {
            let got = ddf.loc_range(lo, hi).unwrap();
            let expected = polars_range(lo, hi);
            assert_frames_close(&sort_all(&got.compute().unwrap()), &sort_all(&expected));
            if ddf.npartitions() > 2 && (lo == hi || hi < lo) {
                assert!(got.npartitions() < ddf.npartitions(), "{}", got.explain());
                assert!(
                    got.explain().contains("the others are not computed"),
                    "{}",
                    got.explain()
                );
                assert!(task_count(&got) < full, "{}", got.explain());
            }
        }
        let one = ddf.loc(500).unwrap();
        assert_frames_close(
            &sort_all(&one.compute().unwrap()),
            &sort_all(&polars_range(500, 500)),
        );
        if ddf.npartitions() > 1 {
            assert_eq!(one.npartitions(), 1, "{}", one.explain());
        }
        // A lookup keeps the index and its divisions for further lookups.
        let narrowed = ddf.loc_range(0, 300).unwrap();
        assert_eq!(narrowed.index().as_deref(), Some("k"));
        assert_eq!(
            narrowed.divisions().map(|d| d.len()),
            Some(narrowed.npartitions() + 1)
        );
    }
    // Bad lookups are clear errors when the expression is built.
    let plain = from_polars(df.clone(), 3);
    assert!(matches!(plain.loc(5), Err(FrameError::NoIndex { .. })));
    let ddf = plain.set_index("k").unwrap();
    let err = ddf.loc("x").unwrap_err();
    assert!(matches!(err, FrameError::IndexType { .. }));
    assert!(err.to_string().contains("`k` is i64"), "{err}");
    assert!(matches!(ddf.loc(2.5), Err(FrameError::IndexType { .. })));
    assert!(matches!(
        plain.set_index("nope"),
        Err(FrameError::ColumnNotFound { .. })
    ));
    let flags = from_polars(df!("b" => [true, false]).unwrap(), 1);
    assert!(flags.set_index("b").is_err());
    // Dropping or overwriting the index column forgets the index.
    assert!(ddf.drop(&["k"]).unwrap().index().is_none());
    assert!(ddf
        .with_columns([lit(1i64).alias("k")])
        .unwrap()
        .index()
        .is_none());
    assert_eq!(
        ddf.filter(col("v").gt(lit(3.0)))
            .unwrap()
            .index()
            .as_deref(),
        Some("k")
    );
}

#[test]
fn joins_on_the_index_align_divisions_without_a_shuffle() {
    use dusk_collections::dataframe::JoinHow;
    let (left, right) = join_sides();
    let polars_join =
        |how: JoinHow| match how {
            JoinHow::Semi | JoinHow::Anti => {
                let right_keys: std::collections::HashSet<i64> = right
                    .column("k")
                    .unwrap()
                    .i64()
                    .unwrap()
                    .iter()
                    .flatten()
                    .collect();
                let mask =
                    BooleanChunked::from_iter(left.column("k").unwrap().i64().unwrap().iter().map(
                        |k| k.is_some_and(|k| right_keys.contains(&k)) == (how == JoinHow::Semi),
                    ));
                left.filter(&mask).unwrap()
            }
            _ => {
                let jt = match how {
                    JoinHow::Inner => JoinType::Inner,
                    JoinHow::Left => JoinType::Left,
                    JoinHow::Right => JoinType::Right,
                    _ => JoinType::Full,
                };
                let full = jt == JoinType::Full;
                let mut args = JoinArgs::new(jt).with_suffix(Some("_r".into()));
                if full {
                    args = args.with_coalesce(JoinCoalesce::CoalesceColumns);
                }
                left.clone()
                    .lazy()
                    .join(right.clone().lazy(), [col("k")], [col("k")], args)
                    .collect()
                    .unwrap()
            }
        };
    let hows = [
        JoinHow::Inner,
        JoinHow::Left,
        JoinHow::Right,
        JoinHow::Outer,
        JoinHow::Semi,
        JoinHow::Anti,
    ];
    for (nl, nr) in [(1, 1), (3, 2), (7, 5), (12, 9)] {
        // Shuffled into place by set_index: the join itself moves nothing.
        let l = from_polars(left.clone(), nl).set_index("k").unwrap();
        let r = from_polars(right.clone(), nr).set_index("k").unwrap();
        for how in hows {
            let joined = l.join(&r, &["k"], &["k"], how, "_r").unwrap();
            let plan = joined.explain();
            assert!(plan.contains("index divisions"), "{plan}");
            assert!(!plan.contains("hash shuffle"), "{plan}");
            assert!(!plan.contains("broadcast"), "{plan}");
            let got = joined.compute().unwrap();
            let expected = polars_join(how);
            assert_eq!(
                got.get_column_names(),
                expected.get_column_names(),
                "{how:?}"
            );
            assert_frames_close(&sort_all(&got), &sort_all(&expected));
            if how != JoinHow::Right {
                assert_eq!(
                    joined.divisions().map(|d| d.len()),
                    Some(joined.npartitions() + 1)
                );
            }
        }
    }
    // Already in order: no shuffle anywhere in the plan; equal divisions need no alignment.
    let sorted = |df: &polars::prelude::DataFrame| {
        df.sort(["k"], SortMultipleOptions::default().with_nulls_last(true))
            .unwrap()
    };
    let distinct_right = sorted(
        &right
            .clone()
            .lazy()
            .unique_stable(Some(cols(["k"])), UniqueKeepStrategy::First)
            .collect()
            .unwrap(),
    );
    let distinct_left = sorted(
        &left
            .clone()
            .lazy()
            .group_by([col("k")])
            .agg([col("v").sum()])
            .collect()
            .unwrap(),
    );
    let l = from_polars(distinct_left.clone(), 4)
        .set_index_sorted("k")
        .unwrap();
    let r = from_polars(distinct_right.clone(), 6)
        .set_index_sorted("k")
        .unwrap();
    let joined = l.join(&r, &["k"], &["k"], JoinHow::Inner, "_r").unwrap();
    let plan = joined.explain();
    assert!(!plan.contains("shuffle"), "{plan}");
    assert!(
        plan.contains("align to"),
        "different divisions are aligned:\n{plan}"
    );
    let expected = polars_inner_join_on_k(&distinct_left, &distinct_right);
    assert_frames_close(&sort_all(&joined.compute().unwrap()), &sort_all(&expected));
    let same = l.join(&l, &["k"], &["k"], JoinHow::Inner, "_r").unwrap();
    assert!(!same.explain().contains("align to"), "{}", same.explain());
    assert_eq!(same.npartitions(), l.npartitions());
    // Joining on another column than the index falls back to the usual layouts.
    let other = l.join(&r, &["v"], &["v"], JoinHow::Inner, "_r").unwrap();
    assert!(!other.explain().contains("index divisions"));
}

#[test]
fn group_by_split_out_auto_follows_the_input_partition_count() {
    let df = mixed_frame(3000);
    let expected = sorted(
        &df.clone()
            .lazy()
            .group_by([col("n"), col("k")])
            .agg([col("x").sum(), len().alias("len")])
            .collect()
            .unwrap(),
        &["n", "k"],
    );
    for (n, one_key, two_keys) in [(1, 1, 1), (7, 1, 1), (16, 2, 2), (40, 3, 4)] {
        let ddf = from_polars(df.clone(), n);
        let by_n = ddf.group_by(["n"]).split_out_auto().agg([len()]).unwrap();
        assert_eq!(by_n.npartitions(), one_key, "{n} partitions, one key");
        let grouped = ddf
            .group_by(["n", "k"])
            .split_out_auto()
            .agg([col("x").sum(), len().alias("len")])
            .unwrap();
        assert_eq!(grouped.npartitions(), two_keys, "{n} partitions, two keys");
        assert_eq!(
            grouped.explain().contains("hash-partitioned"),
            two_keys > 1,
            "{}",
            grouped.explain()
        );
        assert_frames_close(&sorted(&grouped.compute().unwrap(), &["n", "k"]), &expected);
    }
}

#[test]
fn repartition_by_size_cuts_big_partitions_and_joins_small_ones() {
    // Uneven partitions: concat of a 1-partition big frame, empty ones and small ones.
    let big = from_polars(mixed_frame(20_000), 1);
    let empty = from_polars(mixed_frame(0), 3);
    let small = from_polars(mixed_frame(500), 10);
    let frame = dusk_collections::dataframe::concat(&[small.clone(), big, empty, small]).unwrap();
    let whole = frame.compute().unwrap();
    let sizes: Vec<usize> = [mixed_frame(20_000), mixed_frame(500)]
        .iter()
        .map(|f| f.estimated_size())
        .collect();
    for target in [sizes[0] / 7, sizes[1] * 3, sizes[0] * 2] {
        let re = frame.repartition_size(target).unwrap();
        assert!(re.explain().contains("repartition by size"));
        let out = re.compute().unwrap();
        assert!(
            out.equals_missing(&whole),
            "rows and order kept for {target} bytes"
        );
        // Each output is at most the target (plus rounding of the slices).
        let mut g = dusk_core::Graph::new();
        use dusk_core::Collection;
        let keys = re.lower(&mut g).unwrap();
        let (parts, _) = dusk_scheduler::get(&g, &keys, &ComputeOptions::default()).unwrap();
        for p in &parts {
            let size = p.as_frame().unwrap().estimated_size();
            assert!(size <= target + target / 10 + 1_000, "{size} > {target}");
        }
        let expected_min = whole.estimated_size() / target;
        assert!(
            re.npartitions() >= expected_min,
            "{} partitions for {} bytes in parts of {target}",
            re.npartitions(),
            whole.estimated_size()
        );
    }
    assert!(frame.repartition_size(0).is_err());
}

#[test]
fn many_partitions_shuffle_in_stages_and_keep_row_order() {
    use dusk_collections::dataframe::{JoinHow, Keep};
    use dusk_core::Collection;
    let (left, right) = join_sides();
    // 90 x 90 pieces are more than one stage takes: two stages of 10.
    let l = from_polars(left.clone(), 90);
    let r = from_polars(right.clone(), 70);
    let shuffled = l.shuffle(&["k"], 90).unwrap();
    let mut g = dusk_core::Graph::new();
    shuffled.lower(&mut g).unwrap();
    let staged = g.keys().any(|k| k.name().contains("stage1"));
    assert!(staged, "a 90 x 90 shuffle runs in stages");
    // Within each output partition, rows keep their input order.
    let out = shuffled.compute().unwrap();
    assert_eq!(out.height(), left.height());
    assert_frames_close(&sort_all(&out), &sort_all(&left));

    let sorted_frame = l.sort_values(&["v"], &[false], true).unwrap();
    let expected = left
        .sort(
            ["v"],
            SortMultipleOptions::default()
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .unwrap();
    assert_frames_close(&sorted_frame.compute().unwrap(), &expected);

    // keep-first after a staged shuffle is only right if order survived every stage.
    let firsts = l.drop_duplicates(Some(&["k"]), Keep::First).unwrap();
    let expected = left
        .clone()
        .lazy()
        .unique_stable(
            Some(Selector::ByName {
                names: [PlSmallStr::from("k")].into_iter().collect(),
                strict: true,
            }),
            UniqueKeepStrategy::First,
        )
        .collect()
        .unwrap();
    assert_frames_close(&sort_all(&firsts.compute().unwrap()), &sort_all(&expected));

    let joined = l
        .repartition(80)
        .unwrap()
        .join(&r, &["k"], &["k"], JoinHow::Inner, "_r")
        .unwrap();
    let expected = polars_inner_join_on_k(&left, &right);
    assert_frames_close(&sort_all(&joined.compute().unwrap()), &sort_all(&expected));
}

#[test]
fn n_unique_with_split_out_matches_polars() {
    let df = mixed_frame(1_000);
    for parts in [1, 3, 40] {
        let ddf = from_polars(df.clone(), parts);
        for column in ["k", "x", "n", "b"] {
            let expected = df.column(column).unwrap().n_unique().unwrap();
            for split_out in [1, 4, 7] {
                let got = ddf
                    .n_unique_split(column, split_out)
                    .unwrap()
                    .compute()
                    .unwrap();
                assert_eq!(
                    got, expected,
                    "{column} over {parts} partitions, split_out {split_out}"
                );
            }
        }
    }
    let empty = from_polars(mixed_frame(0), 3);
    assert_eq!(empty.n_unique_split("k", 2).unwrap().compute().unwrap(), 0);
}

#[test]
fn group_by_spreads_many_partitions_over_several_outputs_by_default() {
    // Many groups, with nulls among the keys.
    let n = 30_000usize;
    let keys: Vec<Option<i64>> = (0..n)
        .map(|i| {
            if i % 97 == 0 {
                None
            } else {
                Some((i * 7919 % 12_000) as i64)
            }
        })
        .collect();
    let values: Vec<f64> = (0..n).map(|i| (i % 13) as f64 * 0.5).collect();
    let eager = df!("k" => keys, "v" => values).unwrap();
    let expected = eager
        .clone()
        .lazy()
        .group_by([col("k")])
        .agg([col("v").sum(), len().alias("n")])
        .collect()
        .unwrap();
    // Dask's rule for one key: one output per 15 input partitions.
    for (parts, outputs) in [(1, 1), (15, 1), (16, 2), (45, 3), (200, 14)] {
        let ddf = from_polars(eager.clone(), parts);
        let grouped = ddf
            .group_by(["k"])
            .agg([col("v").sum(), len().alias("n")])
            .unwrap();
        assert_eq!(grouped.npartitions(), outputs, "{parts} partitions");
        let got = grouped.compute().unwrap();
        assert_frames_close(&sorted(&got, &["k"]), &sorted(&expected, &["k"]));
        // One output partition is sorted by the keys as it comes.
        if outputs == 1 {
            assert_frames_close(&got, &sorted(&expected, &["k"]));
        }
    }
    // Asked for, one partition stays one partition.
    let one = from_polars(eager, 45)
        .group_by(["k"])
        .split_out(1)
        .agg([col("v").sum(), len().alias("n")])
        .unwrap();
    assert_eq!(one.npartitions(), 1);
    assert_frames_close(&one.compute().unwrap(), &sorted(&expected, &["k"]));
}

#[test]
fn group_by_with_more_outputs_than_groups_keeps_the_empty_outputs_well_formed() {
    // Two groups over eight outputs: most outputs receive no partial aggregate at all.
    let eager = df!(
        "k" => (0..400).map(|i| if i % 3 == 0 { "a" } else { "b" }).collect::<Vec<_>>(),
        "v" => (0..400).map(|i| i as f64).collect::<Vec<_>>()
    )
    .unwrap();
    let expected = eager
        .clone()
        .lazy()
        .group_by([col("k")])
        .agg([col("v").sum(), col("v").mean().alias("m")])
        .collect()
        .unwrap();
    for parts in [1, 7] {
        let grouped = from_polars(eager.clone(), parts)
            .group_by(["k"])
            .split_out(8)
            .agg([col("v").sum(), col("v").mean().alias("m")])
            .unwrap();
        let got = grouped.compute().unwrap();
        assert_frames_close(&sorted(&got, &["k"]), &sorted(&expected, &["k"]));
    }
}

#[test]
fn inner_joins_build_on_the_side_with_fewer_keys_and_find_the_same_rows() {
    use dusk_collections::dataframe::JoinHow;
    // Per partition, the left side is a little longer but has few keys: dusk has Polars build
    // on the left anyway (in slices), which must not change the rows found.
    let spread = |i: u64| {
        let z = (i ^ (i >> 31)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 29)
    };
    let left = df!(
        "key" => (0..400_000u64).map(|i| (spread(i) % 300) as i64).collect::<Vec<_>>(),
        "v" => (0..400_000).map(|i| i as f64).collect::<Vec<_>>()
    )
    .unwrap();
    let right = df!(
        "key" => (0..350_000u64).map(|i| (spread(i + (1 << 40)) % 1_000_000) as i64).collect::<Vec<_>>(),
        "w" => (0..350_000).map(|i| i as f64).collect::<Vec<_>>()
    )
    .unwrap();
    let expected = left
        .clone()
        .lazy()
        .join(
            right.clone().lazy(),
            [col("key")],
            [col("key")],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()
        .unwrap();
    assert!(expected.height() > 1_000);
    // One partition a side (broadcast) and five (hash-partitioned): 80k rows against 70k.
    for parts in [1, 5] {
        let joined = from_polars(left.clone(), parts)
            .join(
                &from_polars(right.clone(), parts),
                &["key"],
                &["key"],
                JoinHow::Inner,
                "_r",
            )
            .unwrap();
        let got = joined.compute().unwrap();
        assert_frames_close(
            &sorted(&got, &["key", "v", "w"]),
            &sorted(&expected, &["key", "v", "w"]),
        );
    }
}
