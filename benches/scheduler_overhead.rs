//! Scheduler overhead: 100,000 trivial tasks through the local schedulers, in three shapes —
//! independent, a chain, a tree reduction — beside the anchor, a plain loop calling the same
//! functions. Also: building a 10,000-call `Delayed` chain.
//!
//! Run with `cargo bench --bench scheduler_overhead`. Criterion reports time per iteration;
//! divide by the task count (printed with each group name) for µs per task. The graphs run
//! unoptimized, so every task goes through the scheduler (fusion would turn the chain into one
//! task).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dusk::prelude::*;
use dusk_core::{FnOp, LiteralOp};
use dusk_scheduler::get;

const N: u32 = 100_000;

/// A graph and the keys to compute.
type Shape = (Graph, Vec<Key>);

/// A named graph builder.
type Builder = (&'static str, fn() -> Shape);

fn trivial(inputs: Vec<Data>) -> Result<Data, dusk_core::BoxError> {
    let mut s = 1u64;
    for x in &inputs {
        s = s.wrapping_add(*x.downcast_ref::<u64>()?);
    }
    Ok(Data::local(s))
}

fn independent() -> Shape {
    let mut g = Graph::new();
    let keys: Vec<Key> = (0..N).map(|i| Key::part("task", i)).collect();
    for k in &keys {
        g.add(k.clone(), FnOp::new("trivial", trivial), vec![]);
    }
    (g, keys)
}

fn chain() -> Shape {
    let mut g = Graph::new();
    g.add(
        Key::part("chain", 0),
        LiteralOp::new(Data::local(0u64)),
        vec![],
    );
    for i in 1..N {
        g.add(
            Key::part("chain", i),
            FnOp::new("trivial", trivial),
            vec![Key::part("chain", i - 1)],
        );
    }
    (g, vec![Key::part("chain", N - 1)])
}

fn tree() -> Shape {
    let mut g = Graph::new();
    let mut level: Vec<Key> = (0..N).map(|i| Key::part("leaf", i)).collect();
    for k in &level {
        g.add(k.clone(), FnOp::new("trivial", trivial), vec![]);
    }
    let mut depth = 0;
    while level.len() > 1 {
        let name = format!("combine-{depth}");
        level = level
            .chunks(8)
            .enumerate()
            .map(|(j, group)| {
                let k = Key::part(name.as_str(), j as u32);
                g.add(k.clone(), FnOp::new("trivial", trivial), group.to_vec());
                k
            })
            .collect();
        depth += 1;
    }
    (g, level)
}

fn overhead(c: &mut Criterion) {
    let shapes: [Builder; 3] = [
        ("independent", independent),
        ("chain", chain),
        ("tree", tree),
    ];
    for (name, build) in shapes {
        let (graph, outputs) = build();
        let tasks = graph.len() as u64;
        let mut group = c.benchmark_group(format!("overhead/{name}-{tasks}-tasks"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(tasks));
        // Anchor: the same function called in a plain loop, no scheduling at all.
        group.bench_function("plain-loop", |b| {
            b.iter(|| {
                let mut last = Data::local(0u64);
                for _ in 0..tasks {
                    last = trivial(vec![last]).expect("trivial task");
                }
                black_box(last)
            })
        });
        for (label, scheduler) in [
            ("sync", Scheduler::Sync),
            ("threads-2", Scheduler::Threads(Some(2))),
        ] {
            let opts = ComputeOptions::default()
                .scheduler(scheduler)
                .no_optimize()
                .quiet();
            group.bench_function(label, |b| {
                b.iter(|| black_box(get(&graph, &outputs, &opts).expect("runs")))
            });
        }
        group.finish();
    }
}

fn build_chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("build/delayed-chain-10000");
    group.sample_size(10);
    group.bench_function("delayed", |b| {
        b.iter_batched(
            || (),
            |_| {
                let mut d = delayed(0u64);
                for _ in 0..10_000 {
                    d = d.map(|x: &u64| x + 1);
                }
                let mut g = Graph::new();
                let keys = d.lower(&mut g).expect("lowers");
                black_box((g, keys, d))
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, overhead, build_chain);
criterion_main!(benches);
