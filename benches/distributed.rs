//! Distributed runtime: task throughput and round-trip latency through a real scheduler and two
//! workers talking over loopback TCP (the in-process `LocalCluster`, so the numbers measure
//! the protocol and the scheduler, not process start-up).
//!
//! - `tree-100k`: 100,000 trivial leaf tasks reduced by a two-level tree of sums
//!   (101,001 tasks, one result fetched): the scheduler's tasks per second.
//! - `map-100k`: 100,000 independent tasks whose 100,000 results are all gathered by the
//!   client: throughput including result transfer.
//! - `round-trip`: one `submit` of a trivial task plus its `result`.
//!
//! Run with `cargo bench --bench distributed`. Divide the reported time by the element count
//! for time per task; criterion prints elements per second directly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
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

fn bench(c: &mut Criterion) {
    let cluster = LocalCluster::threads(2, 1).expect("a local cluster");
    let client = Client::connect(cluster.address()).expect("a client");
    let expected: u64 = (0..N as u64).sum();

    let mut group = c.benchmark_group("distributed");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(N as u64));
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
    group.bench_function("map-100k", |b| {
        b.iter_batched(
            independent,
            |(g, keys)| {
                let out = client.get(&g, &keys).expect("computed");
                assert_eq!(out.len(), N as usize);
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();

    let mut group = c.benchmark_group("distributed");
    group.throughput(Throughput::Elements(1));
    group.bench_function("round-trip", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            let f = client.submit(Add(i), vec![]).expect("submitted");
            assert_eq!(f.result().expect("result").decode::<u64>().expect("u64"), i);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
