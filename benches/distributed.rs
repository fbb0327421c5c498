//! Distributed runtime: task throughput and round-trip latency through a real scheduler and two
//! one-thread workers talking over loopback TCP, two ways side by side:
//!
//! - `distributed-threads/*`: the in-process `LocalCluster::threads` (scheduler and workers on
//!   threads of this process, each with its own sockets): the protocol and the scheduler
//!   without process start-up.
//! - `distributed-processes/*`: `LocalCluster::processes` — the scheduler and each worker a
//!   separate OS process started from this benchmark binary (so they know its registered op).
//!
//! Benchmarks:
//!
//! - `client-map-100k`: `client.map` over 100,000 items with a trivial op, then `client.gather`
//!   of all 100,000 results: tasks per second including result transfer.
//! - `round-trip`: one `submit` of a trivial task plus its `result`. Besides criterion's
//!   estimate, the median of 200 single round trips is printed.
//! - `chain-10k`: 10,000 tasks, each depending on the previous one (one result fetched).
//! - `tree-100k` (threads only): 100,000 trivial leaf tasks reduced by a two-level tree of sums
//!   (101,001 tasks, one result fetched).
//! - `get-100k` (threads only): a graph of 100,000 independent tasks through `client.get`, every
//!   result gathered.
//!
//! Run with `cargo bench --bench distributed`. Criterion prints elements (tasks) per second;
//! divide the time by the element count for time per task.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use dusk::distributed::cluster::{current_program, run_if_cluster_process};
use dusk::distributed::{Client, LocalCluster};
use dusk_core::op::encode_serde;
use dusk_core::{register_op, BoxError, Data, Graph, Key, Op, SerdeOp, WireError, WireOp};
use serde::{Deserialize, Serialize};

/// Sums its `u64` inputs plus a constant.
#[derive(Serialize, Deserialize)]
struct Add(u64);
impl SerdeOp for Add {
    const KIND: &'static str = "bench.add";
}
impl Op for Add {
    fn name(&self) -> &str {
        "add"
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let mut s = self.0;
        for i in &inputs {
            s = s.wrapping_add(i.decode::<u64>()?);
        }
        Ok(Data::encode(&s)?)
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}
register_op!(Add);

const N: u32 = 100_000;
const CHAIN: u32 = 10_000;
static RUN: AtomicU64 = AtomicU64::new(0);

/// Fresh key names per run, so nothing is served from the previous run's results.
fn run_name(prefix: &str) -> String {
    format!("{prefix}-{}", RUN.fetch_add(1, Ordering::Relaxed))
}

fn tree() -> (Graph, Key) {
    let leaf = run_name("leaf");
    let mid = run_name("mid");
    let mut g = Graph::new();
    for i in 0..N {
        g.add(Key::part(leaf.as_str(), i), Add(i as u64), vec![]);
    }
    let groups = N / 100;
    for j in 0..groups {
        let deps = (0..100)
            .map(|i| Key::part(leaf.as_str(), j * 100 + i))
            .collect();
        g.add(Key::part(mid.as_str(), j), Add(0), deps);
    }
    let total = Key::new(run_name("total"));
    let deps = (0..groups).map(|j| Key::part(mid.as_str(), j)).collect();
    g.add(total.clone(), Add(0), deps);
    (g, total)
}

fn independent() -> (Graph, Vec<Key>) {
    let name = run_name("task");
    let mut g = Graph::new();
    let keys: Vec<Key> = (0..N).map(|i| Key::part(name.as_str(), i)).collect();
    for (i, k) in keys.iter().enumerate() {
        g.add(k.clone(), Add(i as u64), vec![]);
    }
    (g, keys)
}

fn chain() -> (Graph, Key) {
    let name = run_name("chain");
    let mut g = Graph::new();
    g.add(Key::part(name.as_str(), 0), Add(1), vec![]);
    for i in 1..CHAIN {
        let prev = Key::part(name.as_str(), i - 1);
        g.add(Key::part(name.as_str(), i), Add(1), vec![prev]);
    }
    (g, Key::part(name.as_str(), CHAIN - 1))
}

/// Items no earlier run used, so every `client.map` computes afresh.
fn fresh_items() -> std::ops::Range<u64> {
    let base = RUN.fetch_add(1, Ordering::Relaxed) * N as u64 * 2;
    base..base + N as u64
}

fn round_trip(client: &Client, i: u64) {
    let f = client.submit(Add(i), vec![]).expect("submitted");
    assert_eq!(f.result().expect("result").decode::<u64>().expect("u64"), i);
}

/// The median of 200 single round trips, printed next to criterion's estimate.
fn print_round_trip_median(client: &Client, cluster: &str) {
    let base = 1 << 40;
    let mut times: Vec<Duration> = (0..200u64)
        .map(|i| {
            let t = Instant::now();
            round_trip(
                client,
                base + RUN.fetch_add(1, Ordering::Relaxed) * 1000 + i,
            );
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "distributed-{cluster}/round-trip: median of 200 = {:.1} µs (min {:.1} µs, max {:.1} µs)",
        times[100].as_secs_f64() * 1e6,
        times[0].as_secs_f64() * 1e6,
        times[199].as_secs_f64() * 1e6,
    );
}

fn run_on(c: &mut Criterion, cluster: &LocalCluster, label: &str, all: bool) {
    let client = Client::connect(cluster.address()).expect("a client");
    let expected: u64 = (0..N as u64).sum();

    let mut group = c.benchmark_group(format!("distributed-{label}"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("client-map-100k", |b| {
        b.iter_batched(
            fresh_items,
            |items| {
                let first = items.start;
                let futures = client.map(|| Add(1), items).expect("submitted");
                let out = client.gather(&futures).expect("gathered");
                assert_eq!(out.len(), N as usize);
                assert_eq!(out[0].decode::<u64>().expect("u64"), first + 1);
            },
            criterion::BatchSize::PerIteration,
        )
    });
    if all {
        group.bench_function("tree-100k", |b| {
            b.iter_batched(
                tree,
                |(g, total)| {
                    let out = client.get(&g, &[total]).expect("computed");
                    assert_eq!(out[0].decode::<u64>().expect("u64"), expected);
                },
                criterion::BatchSize::PerIteration,
            )
        });
        group.bench_function("get-100k", |b| {
            b.iter_batched(
                independent,
                |(g, keys)| {
                    let out = client.get(&g, &keys).expect("computed");
                    assert_eq!(out.len(), N as usize);
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.throughput(Throughput::Elements(CHAIN as u64));
    group.bench_function("chain-10k", |b| {
        b.iter_batched(
            chain,
            |(g, last)| {
                let out = client.get(&g, &[last]).expect("computed");
                assert_eq!(out[0].decode::<u64>().expect("u64"), CHAIN as u64);
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("round-trip", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            round_trip(&client, RUN.fetch_add(1, Ordering::Relaxed) * 1000 + i);
        })
    });
    group.finish();
    print_round_trip_median(&client, label);
}

fn bench(c: &mut Criterion) {
    {
        let cluster = LocalCluster::threads(2, 1).expect("a local cluster");
        run_on(c, &cluster, "threads", true);
    }
    let program = current_program().expect("this program");
    let cluster = LocalCluster::processes(program, 2, 1).expect("a process cluster");
    run_on(c, &cluster, "processes", false);
}

criterion_group!(benches, bench);

fn main() {
    // The cluster's processes are this binary again, told their role by an environment variable.
    run_if_cluster_process();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
