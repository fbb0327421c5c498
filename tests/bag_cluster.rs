//! Bag pipelines on a cluster of real processes: a `dusk scheduler` and generic `dusk worker`s,
//! which know only the built-in ops. Tasks travel as descriptions of their partition (a file
//! block, a range, encoded items, then `parse_json`/`pluck`), partitions and partial results as
//! MessagePack; every result must equal std iterators over the same items and the local
//! threaded scheduler's answer.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use common::{deadline, CliCluster};
use dusk::bag::{from_sequence, range, ReadText, Value};
use dusk::distributed::cluster::run_if_cluster_process;
use dusk::prelude::*;

/// The domain of an e-mail address in a JSON record (user code, registered by name).
fn email_domain(v: &Value) -> String {
    v["email"]
        .as_str()
        .and_then(|e| e.split_once('@'))
        .map(|(_, d)| d.to_string())
        .unwrap_or_default()
}
register_bag_fn!(map email_domain: fn(&Value) -> String);

fn has_email(v: &Value) -> bool {
    v.get("email").is_some()
}
register_bag_fn!(filter has_email: fn(&Value) -> bool);

/// Entry point of the cluster processes: the test binary re-runs itself with only this test
/// selected and a role in the environment, so its workers know the functions above.
#[test]
fn cluster_process_entry() {
    run_if_cluster_process();
}

/// A fresh, empty directory under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dusk-bag-cluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The same collection computed on the local threaded scheduler.
fn local<C: Collection>(c: &C) -> C::Output {
    c.compute_with(&ComputeOptions::default().scheduler(Scheduler::Threads(Some(2))))
        .expect("computed locally")
}

/// The names in the bundled logs, counted by a plain loop, ranked by count then name.
fn names_counted_by_a_loop() -> Vec<(String, u64)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dusk_datasets::sample_dir().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let mut text = String::new();
        let file = std::fs::File::open(f).unwrap();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(file), &mut text)
            .unwrap();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            *counts
                .entry(v["name"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

#[test]
fn seed_pipeline_on_worker_processes_matches_a_loop() {
    deadline(180, || {
        let cluster = CliCluster::start(2);
        let client = cluster.client();
        let logs = format!("{}/logs/*.json.gz", dusk_datasets::sample_dir().display());
        let names = ReadText::glob(&logs)
            .lines_with_origin()
            .unwrap()
            .parse_json()
            .pluck("name");
        let top = client
            .compute(&names.frequencies().topk_by_count(10))
            .expect("computed on the cluster");
        let got: Vec<(String, u64)> = top
            .into_iter()
            .map(|(v, n)| (v.as_str().unwrap().to_string(), n))
            .collect();
        let mut want = names_counted_by_a_loop();
        want.truncate(10);
        assert_eq!(got, want);

        // Items themselves come back through the network.
        let all: Vec<Value> = client.compute(&names).unwrap();
        assert_eq!(all.len(), 10_000);
        assert_eq!(all, local(&names));
        let distinct = client.compute(&names.distinct().count()).unwrap();
        assert_eq!(distinct as usize, names_counted_by_a_loop().len());
    });
}

#[test]
fn numbers_and_text_blocks_on_worker_processes_match_iterators() {
    deadline(180, || {
        let cluster = CliCluster::start(2);
        let client = cluster.client();
        let xs: Vec<i64> = (0..500).map(|i| (i * 7919 % 263) - 100).collect();
        // 1, 3 and more partitions than items (empty partitions).
        for n in [1, 3, 600] {
            let b = from_sequence(xs.clone(), n);
            assert_eq!(client.compute(&b).unwrap(), xs, "{n}");
            let (sum, count, min, max) = client
                .compute(&(b.sum(), b.count(), b.min(), b.max()))
                .unwrap();
            assert_eq!(sum, xs.iter().sum::<i64>());
            assert_eq!(count, xs.len() as u64);
            assert_eq!(min, xs.iter().min().copied());
            assert_eq!(max, xs.iter().max().copied());
            let mean = client.compute(&b.mean()).unwrap();
            let want = xs.iter().sum::<i64>() as f64 / xs.len() as f64;
            assert!((mean - want).abs() < 1e-12, "{mean} vs {want}");
            let mut distinct = client.compute(&b.distinct()).unwrap();
            distinct.sort();
            let mut want: Vec<i64> = xs
                .iter()
                .copied()
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            want.sort();
            assert_eq!(distinct, want);
            let top = client.compute(&b.frequencies().topk_by_count(4)).unwrap();
            assert_eq!(top, local(&b.frequencies().topk_by_count(4)));
            assert_eq!(client.compute(&b.repartition(7)).unwrap(), xs, "{n}");
            let r = range(10_000, n);
            assert_eq!(
                client.compute(&r.sum()).unwrap(),
                (0..10_000u64).sum::<u64>()
            );
        }

        // A plain file split into byte blocks reads every line once, on the workers.
        let dir = temp_dir("blocks");
        let text: String = (0..2_000)
            .map(|i| format!("line {i} {}\n", "x".repeat(i % 40)))
            .collect();
        std::fs::write(dir.join("big.txt"), &text).unwrap();
        let lines = ReadText::glob(&format!("{}/*.txt", dir.display()))
            .block_size(4_096)
            .lines()
            .unwrap();
        assert!(lines.npartitions() > 10);
        let want: Vec<String> = text.lines().map(str::to_string).collect();
        assert_eq!(client.compute(&lines).unwrap(), want);
        assert_eq!(client.compute(&lines.count()).unwrap(), 2_000);
        assert_eq!(
            client.compute(&lines.take(700)).unwrap(),
            want[..700].to_vec()
        );

        // Workers write the files; they read back as the lines written.
        let pattern = format!("{}/out/part-*.txt.zst", dir.display());
        let written = client
            .compute(&lines.to_textfiles(&pattern).unwrap())
            .unwrap();
        assert_eq!(written.len(), lines.npartitions());
        let back = dusk::bag::read_text(&pattern).unwrap();
        assert_eq!(local(&back), want);
        std::fs::remove_dir_all(dir).unwrap();
    });
}

#[test]
fn bad_input_and_closures_give_clear_errors_on_the_cluster() {
    deadline(120, || {
        let cluster = CliCluster::start(1);
        let client = cluster.client();
        let dir = temp_dir("bad");
        std::fs::write(dir.join("a.json"), "{\"name\": \"x\"}\n{\"name\": oops}\n").unwrap();
        let names = ReadText::glob(&format!("{}/*.json", dir.display()))
            .lines_with_origin()
            .unwrap()
            .parse_json()
            .pluck("name");
        let err = client.compute(&names.count()).unwrap_err().to_string();
        assert!(err.contains("a.json:2: invalid JSON"), "{err}");

        let mapped = range(10, 2).map(|x: &u64| x * 2);
        let err = client.compute(&mapped.sum()).unwrap_err().to_string();
        assert!(
            err.contains("closure") && err.contains("sum-partial"),
            "{err}"
        );
        // The cluster keeps serving.
        assert_eq!(client.compute(&range(10, 2).sum()).unwrap(), 45);
        std::fs::remove_dir_all(dir).unwrap();
    });
}

#[test]
fn named_functions_run_on_workers_started_from_this_program() {
    deadline(180, || {
        let dir = temp_dir("named");
        let records: String = (0..3_000)
            .map(|i| match i % 5 {
                0 => format!("{{\"id\": {i}}}\n"),
                _ => format!("{{\"id\": {i}, \"email\": \"u{i}@d{}.org\"}}\n", i % 7),
            })
            .collect();
        std::fs::write(dir.join("records.json"), &records).unwrap();
        let domains = ReadText::glob(&format!("{}/*.json", dir.display()))
            .block_size(10_000)
            .lines_with_origin()
            .unwrap()
            .parse_json()
            .filter_named("has_email")
            .unwrap()
            .map_named::<String>("email_domain")
            .unwrap();
        let ranked = domains.frequencies().topk_by_count(3);

        let cluster = LocalCluster::test_processes("cluster_process_entry", 2, 1).unwrap();
        let client = Client::connect(cluster.address()).expect("a client");
        let got = client.compute(&ranked).expect("computed on the cluster");
        let mut counts: HashMap<String, u64> = HashMap::new();
        for line in records.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if has_email(&v) {
                *counts.entry(email_domain(&v)).or_default() += 1;
            }
        }
        let mut want: Vec<(String, u64)> = counts.into_iter().collect();
        want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        want.truncate(3);
        assert_eq!(got, want);
        assert_eq!(got, local(&ranked));

        // Items become a DataFrame on the workers, and the frame's steps run there too.
        let frame = ReadText::glob(&format!("{}/*.json", dir.display()))
            .block_size(10_000)
            .lines()
            .unwrap()
            .parse_json()
            .to_dataframe(None)
            .unwrap();
        let per_domain = frame
            .group_by(["id"])
            .agg([dusk::polars::prelude::len()])
            .unwrap();
        let remote = client.compute(&per_domain).unwrap();
        assert_eq!(remote.height(), 3_000);
        assert_eq!(client.compute(&frame.len()).unwrap(), 3_000);

        // A generic `dusk worker` does not know the function, and says which.
        let generic = CliCluster::start(1);
        let err = generic.client().compute(&ranked).unwrap_err().to_string();
        assert!(
            err.contains("has_email") || err.contains("email_domain"),
            "{err}"
        );
        assert!(err.contains("register_bag_fn!"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    });
}
