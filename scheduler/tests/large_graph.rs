//! A graph of a million tasks on a real scheduler and two worker processes, while another
//! client keeps asking for small results.
//!
//! The scheduler takes a large graph in a slice at a time and answers everyone else between
//! slices, and a small submission is placed at once rather than queued behind the large graph's
//! root tasks. The test shows both with facts of order, not times: client B's round trips are
//! answered while the scheduler is still taking client A's graph in, again while most of A's
//! tasks still wait in the queue, and again while the scheduler forgets A's graph once A lets
//! it go. An ignored test prints B's round-trip latencies during A's submission, to measure
//! what the test only orders.

mod common;

use common::{add, deadline};

use std::time::{Duration, Instant};

use dusk_core::{Graph, Key};
use dusk_scheduler::distributed::cluster::{run_if_cluster_process, LocalCluster};
use dusk_scheduler::distributed::{Client, FutureStatus, RemoteFuture};

/// The body of the cluster's processes, started from this test binary.
#[test]
fn cluster_process_entry() {
    run_if_cluster_process();
}

/// Leaves of the big graph: with their sums, 1,001,001 tasks.
const LEAVES: u32 = 1_000_000;
const FAN_IN: u32 = 1_000;

/// A tree reduction: `leaves` tasks, one sum per `fan_in` of them, and one total.
fn tree(leaves: u32, fan_in: u32) -> (Graph, Key) {
    let mut g = Graph::new();
    for i in 0..leaves {
        g.add(Key::part("leaf", i), add(u64::from(i)), vec![]);
    }
    let groups = leaves.div_ceil(fan_in);
    for j in 0..groups {
        let deps = (j * fan_in..((j + 1) * fan_in).min(leaves))
            .map(|i| Key::part("leaf", i))
            .collect();
        g.add(Key::part("sum", j), add(0), deps);
    }
    let total = Key::new("total");
    let deps = (0..groups).map(|j| Key::part("sum", j)).collect();
    g.add(total.clone(), add(0), deps);
    (g, total)
}

/// One small submission and its result.
fn round_trip(client: &Client, i: u64) {
    let f = client.submit(add(i), vec![]).expect("submitted");
    let got = f
        .result()
        .expect("a result")
        .decode::<u64>()
        .expect("a u64");
    assert_eq!(got, i);
}

/// Sends A's graph; returns its future and its number of tasks.
fn submit_big(a: &Client) -> (RemoteFuture, u64) {
    let (g, total) = tree(LEAVES, FAN_IN);
    let n = g.len() as u64;
    let f = a.submit_graph(&g, &[total]).expect("submitted").remove(0);
    (f, n)
}

fn check_total(f: &RemoteFuture) {
    let got = f
        .result()
        .expect("A's total")
        .decode::<u64>()
        .expect("a u64");
    assert_eq!(got, (0..u64::from(LEAVES)).sum::<u64>());
}

#[test]
fn a_million_task_graph_does_not_stall_other_clients() {
    deadline(600, || {
        let cluster = LocalCluster::test_processes("cluster_process_entry", 2, 1).expect("cluster");
        let a = Client::connect(cluster.address()).expect("client A");
        let b = Client::connect(cluster.address()).expect("client B");
        let (total, n) = submit_big(&a);
        let mut i = 0u64;

        // B's questions are answered while A's graph is taken in: the scheduler is seen
        // taking it in, not only before and after.
        loop {
            let info = b.scheduler_info().expect("info");
            if info.graphs_arriving > 0 {
                break;
            }
            assert!(
                info.tasks < n,
                "the scheduler took A's {n} tasks in without answering B in between"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut during_intake = 0;
        while during_intake < 5 {
            round_trip(&b, i);
            i += 1;
            if b.scheduler_info().expect("info").graphs_arriving == 0 {
                break;
            }
            during_intake += 1;
        }
        assert!(
            during_intake > 0,
            "no round trip of B finished while A's graph was being taken in"
        );

        // Once it is in, B's submissions start at once instead of waiting behind the hundreds
        // of thousands of A's root tasks queued for a free worker.
        while b.scheduler_info().expect("info").graphs_arriving > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        for _ in 0..10 {
            round_trip(&b, i);
            i += 1;
            let queued = b.scheduler_info().expect("info").queued;
            assert!(
                queued > n / 2,
                "B's round trip {i} finished only once A's queue was down to {queued} tasks"
            );
            assert_eq!(
                total.status().expect("status"),
                FutureStatus::Pending,
                "A's graph finished before B's round trip {i}"
            );
        }
        check_total(&total);

        // Dropping A's result releases its million tasks, a slice at a time: B is answered
        // while they go.
        drop(total);
        while b.scheduler_info().expect("info").tasks >= n {
            std::thread::sleep(Duration::from_millis(1));
        }
        round_trip(&b, i);
        assert!(
            b.scheduler_info().expect("info").tasks > 0,
            "the scheduler forgot A's graph without answering B in between"
        );
    });
}

/// Prints client B's round-trip latencies while client A's million tasks are sent, taken in
/// and run, and how long A's graph takes with and without B. A measurement, not a test:
/// `cargo test -p dusk-scheduler --test large_graph -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement that prints latencies; run it by hand"]
fn round_trip_latency_during_a_million_task_graph() {
    let cluster = LocalCluster::test_processes("cluster_process_entry", 2, 1).expect("cluster");
    let a = Client::connect(cluster.address()).expect("client A");
    let b = Client::connect(cluster.address()).expect("client B");
    for i in 0..20 {
        round_trip(&b, 1 << 40 | i);
    }

    let start = Instant::now();
    let (total, _) = submit_big(&a);
    let sent = start.elapsed();
    check_total(&total);
    println!(
        "A alone: graph built and sent in {sent:.2?}, result after {:.2?}",
        start.elapsed()
    );
    drop(total);
    while b.scheduler_info().expect("info").tasks > 0 {
        std::thread::sleep(Duration::from_millis(10));
    }

    let start = Instant::now();
    let (total, _) = submit_big(&a);
    let sent = start.elapsed();
    let mut latencies = Vec::new();
    let mut worst_at = Duration::ZERO;
    let mut i = 1 << 41;
    while total.status().expect("status") == FutureStatus::Pending {
        let t = Instant::now();
        round_trip(&b, i);
        i += 1;
        let took = t.elapsed();
        if latencies.iter().all(|l| *l < took) {
            worst_at = start.elapsed();
        }
        latencies.push(took);
    }
    check_total(&total);
    let done = start.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "A with B: graph built and sent in {sent:.2?}, result after {done:.2?}; {} round trips \
         of B meanwhile: median {:.2?}, p99 {:.2?}, max {:.2?} (at {worst_at:.2?})",
        latencies.len(),
        at(0.5),
        at(0.99),
        at(1.0),
    );
}
