//! Delayed through the public API: the seed pipeline against a plain loop over the same files,
//! every scheduler, persist, and pictures.

use std::path::PathBuf;

use dusk::prelude::*;

fn sample_files() -> Vec<PathBuf> {
    let dir = dusk_datasets::sample_dir().join("events");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    files
}

/// Number of rows and the sum of `count` (the fifth column) of one file's text.
fn stats(text: &str) -> (u64, u64) {
    text.lines().skip(1).fold((0, 0), |(rows, sum), line| {
        let count: u64 = line.split(',').nth(4).unwrap().parse().unwrap();
        (rows + 1, sum + count)
    })
}

fn schedulers() -> [Scheduler; 3] {
    [
        Scheduler::Sync,
        Scheduler::Threads(Some(1)),
        Scheduler::Threads(Some(3)),
    ]
}

#[test]
fn load_process_summarize_matches_a_plain_loop() {
    let files = sample_files();
    assert!(files.len() >= 2);
    let expected = files.iter().fold((0, 0), |acc, f| {
        let (r, s) = stats(&std::fs::read_to_string(f).unwrap());
        (acc.0 + r, acc.1 + s)
    });
    for take in [1, 2, files.len()] {
        let results: Vec<Delayed<(u64, u64)>> = files[..take]
            .iter()
            .map(|f| {
                let f = f.clone();
                try_lazy(move || std::fs::read_to_string(&f)).map(|t: &String| stats(t))
            })
            .collect();
        let summary = apply_list(&results, |xs: &[&(u64, u64)]| {
            xs.iter().fold((0, 0), |a, x| (a.0 + x.0, a.1 + x.1))
        });
        let want = files[..take].iter().fold((0, 0), |acc, f| {
            let (r, s) = stats(&std::fs::read_to_string(f).unwrap());
            (acc.0 + r, acc.1 + s)
        });
        for s in schedulers() {
            let got = summary
                .compute_with(&ComputeOptions::default().scheduler(s))
                .unwrap();
            assert_eq!(got, want, "{take} files on {s:?}");
        }
        if take == files.len() {
            assert_eq!(summary.compute().unwrap(), expected);
        }
    }
}

#[test]
fn an_empty_list_is_summarized_too() {
    let none: Vec<Delayed<u32>> = Vec::new();
    let total = apply_list(&none, |xs: &[&u32]| xs.len());
    assert_eq!(total.compute().unwrap(), 0);
}

#[test]
fn a_missing_file_fails_with_the_task_key_and_the_os_error() {
    let d = try_lazy(|| std::fs::read_to_string("no/such/file.csv"));
    let err = d.compute().unwrap_err();
    assert_eq!(err.key(), Some(d.key()));
    assert!(
        err.to_string().to_lowercase().contains("no such file"),
        "{err}"
    );
}

#[test]
fn persist_keeps_results_and_drops_the_graph_behind_them() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let base = lazy(|| {
        RUNS.fetch_add(1, Ordering::SeqCst);
        vec![1u32, 2, 3]
    })
    .map(|v: &Vec<u32>| v.iter().sum::<u32>());
    let kept = base.persist().unwrap();
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    let doubled = kept.map(|s: &u32| s * 2);
    assert_eq!(doubled.compute().unwrap(), 12);
    assert_eq!(doubled.compute().unwrap(), 12);
    assert_eq!(
        RUNS.load(Ordering::SeqCst),
        1,
        "persisted inputs must not rerun"
    );
}

#[test]
fn graphs_draw_as_dot() {
    let parts: Vec<Delayed<u32>> = (0..3).map(|i| delayed(i).map(|x: &u32| x + 1)).collect();
    let total = apply_list(&parts, |xs: &[&u32]| xs.iter().copied().sum::<u32>());
    let dot = total.to_dot(false).unwrap();
    assert_eq!(dot.matches("[label=").count(), 7, "{dot}");
    assert_eq!(dot.matches(" -> ").count(), 6, "{dot}");
    // Optimized: literals are inlined into the maps.
    let dot = total.to_dot(true).unwrap();
    assert_eq!(dot.matches("[label=").count(), 4, "{dot}");
    let path = std::env::temp_dir().join(format!("dusk-graph-{}.dot", std::process::id()));
    total.visualize(&path).unwrap();
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .starts_with("digraph"));
    let _ = std::fs::remove_file(path);
}

#[test]
fn the_process_wide_scheduler_setting_is_used_and_validated() {
    dusk::config::set_scheduler(Some(Scheduler::Sync));
    assert_eq!(dusk::config::scheduler().unwrap(), Scheduler::Sync);
    // Sync runs every task on the calling thread.
    let me = std::thread::current().id();
    let on = lazy(move || std::thread::current().id() == me);
    assert!(on.compute().unwrap());
    dusk::config::set_scheduler(None);
    assert!("threads:0".parse::<Scheduler>().is_err());
    assert!("fast"
        .parse::<Scheduler>()
        .unwrap_err()
        .to_string()
        .contains("fast"));
}
