//! The distributed runtime end to end: a real scheduler and workers on loopback TCP.
//!
//! Most tests use the in-process cluster (every message still crosses a socket); one starts real
//! processes from this test binary. Every test runs under a deadline so a bug shows up as a
//! failure, never as a hung CI job.

mod common;

use common::{add, deadline, slow, Add};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dusk_core::{
    op::encode_serde, register_op, BoxError, ComputeError, Data, FnOp, Graph, Key, LiteralOp, Op,
    SerdeOp, WireError, WireOp,
};
use dusk_scheduler::distributed::client::Arg;
use dusk_scheduler::distributed::cluster::{run_if_cluster_process, LocalCluster};
use dusk_scheduler::distributed::state::StateConfig;
use dusk_scheduler::distributed::{Client, FutureStatus, SchedulerConfig};
use dusk_scheduler::{get, ComputeOptions, Scheduler};
use serde::{Deserialize, Serialize};

/// A vector of `n` ones.
#[derive(Serialize, Deserialize)]
struct Ones {
    n: u64,
}
impl SerdeOp for Ones {
    const KIND: &'static str = "test.ones";
}
impl Op for Ones {
    fn name(&self) -> &str {
        "ones"
    }
    fn run(&self, _: Vec<Data>) -> Result<Data, BoxError> {
        Ok(Data::encode(&vec![1u64; self.n as usize])?)
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}
register_op!(Ones);

/// The total of its `Vec<u64>` inputs.
#[derive(Serialize, Deserialize)]
struct Total;
impl SerdeOp for Total {
    const KIND: &'static str = "test.total";
}
impl Op for Total {
    fn name(&self) -> &str {
        "total"
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let mut s = 0u64;
        for i in &inputs {
            s += i.decode::<Vec<u64>>()?.iter().sum::<u64>();
        }
        Ok(Data::encode(&s)?)
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}
register_op!(Total);

/// Fails, by error or by panic.
#[derive(Serialize, Deserialize)]
struct Boom {
    panic: bool,
}
impl SerdeOp for Boom {
    const KIND: &'static str = "test.boom";
}
impl Op for Boom {
    fn name(&self) -> &str {
        "boom"
    }
    fn run(&self, _: Vec<Data>) -> Result<Data, BoxError> {
        if self.panic {
            panic!("kaboom");
        }
        Err("bad input".into())
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}
register_op!(Boom);

/// An op whose kind no build registers.
struct Unregistered;
impl Op for Unregistered {
    fn name(&self) -> &str {
        "unregistered"
    }
    fn run(&self, _: Vec<Data>) -> Result<Data, BoxError> {
        Ok(Data::encode(&0u64)?)
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        Ok(WireOp {
            kind: "test.not-in-this-build".into(),
            payload: vec![],
        })
    }
}

fn lit(v: u64) -> LiteralOp {
    LiteralOp::new(Data::encode(&v).expect("u64 encodes"))
}

/// A layered graph: each node adds its index to up to three earlier nodes.
fn layered(n: usize) -> (Graph, Vec<Key>) {
    let mut g = Graph::new();
    let keys: Vec<Key> = (0..n).map(|i| Key::part("node", i as u32)).collect();
    for i in 0..n {
        if i < 4 {
            g.add(keys[i].clone(), lit(i as u64), vec![]);
        } else {
            let deps = vec![
                keys[i - 1].clone(),
                keys[(i * 7) % i].clone(),
                keys[i / 2].clone(),
            ];
            g.add(keys[i].clone(), add(i as u64), deps);
        }
    }
    let outputs = vec![keys[n - 1].clone(), keys[n / 2].clone(), keys[0].clone()];
    (g, outputs)
}

fn values(data: &[Data]) -> Vec<u64> {
    data.iter()
        .map(|d| d.decode::<u64>().expect("a u64 result"))
        .collect()
}

#[test]
fn results_equal_the_local_scheduler() {
    deadline(60, || {
        let (g, outputs) = layered(300);
        let opts = ComputeOptions::default()
            .scheduler(Scheduler::Threads(Some(2)))
            .quiet()
            .no_optimize();
        let (local, _) = get(&g, &outputs, &opts).unwrap();
        let cluster = LocalCluster::threads(3, 2).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let remote = client.get(&g, &outputs).unwrap();
        assert_eq!(values(&remote), values(&local));
        // Again, on the same client: shared keys are recomputed or reused, same answer.
        let again = client.get(&g, &outputs).unwrap();
        assert_eq!(values(&again), values(&local));
    });
}

#[test]
fn dependencies_move_worker_to_worker() {
    deadline(60, || {
        let cluster = LocalCluster::threads(2, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let mut g = Graph::new();
        g.add(Key::new("x"), Ones { n: 1000 }, vec![]);
        g.add(Key::new("y"), Ones { n: 2000 }, vec![]);
        g.add(Key::new("t"), Total, vec![Key::new("x"), Key::new("y")]);
        let out = client.get(&g, &[Key::new("t")]).unwrap();
        assert_eq!(values(&out), vec![3000]);
        let fetches: u64 = cluster
            .workers()
            .map(|w| w.stats().peer_fetches.load(Ordering::Relaxed))
            .sum();
        let bytes: u64 = cluster
            .workers()
            .map(|w| w.stats().peer_bytes.load(Ordering::Relaxed))
            .sum();
        assert_eq!(
            fetches, 1,
            "one root ran on each worker; the total fetched the other"
        );
        assert!(bytes >= 1000, "{bytes} bytes moved");
    });
}

#[test]
fn garbage_on_the_scheduler_port_closes_that_connection_only() {
    deadline(60, || {
        let cluster = LocalCluster::threads(1, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        for junk in [
            &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            &[0xff; 64][..],
            &[8, 0, 0, 0, 4, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef][..],
        ] {
            let mut s = TcpStream::connect(cluster.address()).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            s.write_all(junk).unwrap();
            let mut buf = [0u8; 64];
            // The scheduler closes the connection (0 bytes or a reset), it does not hang.
            let n = s.read(&mut buf).unwrap_or(0);
            assert_eq!(n, 0, "expected the connection to be closed");
        }
        let mut g = Graph::new();
        g.add(Key::new("a"), lit(20), vec![]);
        g.add(Key::new("b"), add(22), vec![Key::new("a")]);
        assert_eq!(values(&client.get(&g, &[Key::new("b")]).unwrap()), vec![42]);
        // A fresh client still connects.
        let other = Client::connect(cluster.address()).unwrap();
        assert_eq!(other.workers().unwrap().len(), 1);
    });
}

#[test]
fn a_killed_worker_does_not_change_the_answer() {
    deadline(120, || {
        let mut cluster = LocalCluster::threads(2, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let mut g = Graph::new();
        let mut parts = Vec::new();
        for i in 0..16u32 {
            let k = Key::part("slow", i);
            g.add(
                k.clone(),
                Add {
                    extra: i as u64,
                    sleep_ms: 40,
                },
                vec![],
            );
            parts.push(k);
        }
        g.add(Key::new("sum"), add(0), parts);
        let futures = client.submit_graph(&g, &[Key::new("sum")]).unwrap();
        std::thread::sleep(Duration::from_millis(150));
        assert!(cluster.kill_worker(0));
        let out = client.gather(&futures).unwrap();
        assert_eq!(values(&out), vec![(0..16).sum::<u64>()]);
    });
}

#[test]
fn no_workers_is_an_error_not_a_hang() {
    deadline(60, || {
        let config = SchedulerConfig {
            state: StateConfig {
                no_workers_timeout: Duration::from_millis(300),
                ..StateConfig::default()
            },
            ..SchedulerConfig::default()
        };
        let cluster = LocalCluster::threads_with(config, 0, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let mut g = Graph::new();
        g.add(Key::new("a"), lit(1), vec![]);
        let err = client.get(&g, &[Key::new("a")]).unwrap_err().to_string();
        assert!(err.contains("no workers"), "{err}");
    });
}

#[test]
fn every_worker_dying_is_an_error_not_a_hang() {
    deadline(60, || {
        let config = SchedulerConfig {
            state: StateConfig {
                no_workers_timeout: Duration::from_millis(300),
                ..StateConfig::default()
            },
            ..SchedulerConfig::default()
        };
        let mut cluster = LocalCluster::threads_with(config, 1, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let mut g = Graph::new();
        g.add(
            Key::new("slow"),
            Add {
                extra: 1,
                sleep_ms: 2000,
            },
            vec![],
        );
        let futures = client.submit_graph(&g, &[Key::new("slow")]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        cluster.kill_worker(0);
        let err = client.gather(&futures).unwrap_err().to_string();
        assert!(err.contains("no workers"), "{err}");
    });
}

#[test]
fn task_errors_and_panics_name_the_task() {
    deadline(60, || {
        let cluster = LocalCluster::threads(1, 2).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        for (panic, text) in [(false, "bad input"), (true, "kaboom")] {
            let mut g = Graph::new();
            g.add(Key::part("boom", 1), Boom { panic }, vec![]);
            g.add(Key::new("after"), add(0), vec![Key::part("boom", 1)]);
            let err = client.get(&g, &[Key::new("after")]).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(text) && msg.contains("('boom', 1)"), "{msg}");
            assert!(matches!(err, ComputeError::TaskFailed { .. }));
        }
        // The worker survived the panic.
        let mut g = Graph::new();
        g.add(Key::new("ok"), lit(3), vec![]);
        assert_eq!(values(&client.get(&g, &[Key::new("ok")]).unwrap()), vec![3]);
    });
}

#[test]
fn missing_functions_and_closures_are_named() {
    deadline(60, || {
        let cluster = LocalCluster::threads(1, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let mut g = Graph::new();
        g.add(Key::new("u"), Unregistered, vec![]);
        let err = client.get(&g, &[Key::new("u")]).unwrap_err().to_string();
        assert!(err.contains("test.not-in-this-build"), "{err}");
        let mut g = Graph::new();
        g.add(
            Key::new("c"),
            FnOp::new("my-closure", |_| Ok(Data::encode(&1u64)?)),
            vec![],
        );
        let err = client.get(&g, &[Key::new("c")]).unwrap_err().to_string();
        assert!(err.contains("my-closure") && err.contains("'c'"), "{err}");
    });
}

#[test]
fn futures_submit_map_and_release_on_drop() {
    deadline(60, || {
        let cluster = LocalCluster::threads(2, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let xs = client.map(|| add(1), 0..10u64).unwrap();
        let got = values(&client.gather(&xs).unwrap());
        assert_eq!(got, (1..=10).collect::<Vec<u64>>());
        // Futures as arguments.
        let total = client
            .submit(
                add(0),
                xs.iter()
                    .map(Arg::Future)
                    .chain([Arg::Value(Data::encode(&100u64).unwrap())])
                    .collect(),
            )
            .unwrap();
        assert_eq!(values(&[total.result().unwrap()]), vec![155]);
        let stored = |c: &LocalCluster| -> u64 {
            c.workers()
                .map(|w| w.stats().stored.load(Ordering::Relaxed))
                .sum()
        };
        assert!(stored(&cluster) > 0);
        drop(xs);
        drop(total);
        let start = std::time::Instant::now();
        while stored(&cluster) > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{} results still held after every future was dropped",
                stored(&cluster)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    });
}

/// Fails on its first `fail_times` runs in this process, then adds one to its input.
#[derive(Serialize, Deserialize)]
struct Flaky {
    name: String,
    fail_times: u32,
}
impl SerdeOp for Flaky {
    const KIND: &'static str = "test.flaky";
}
impl Op for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        static RUNS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        let mut runs = RUNS.lock().unwrap_or_else(|e| e.into_inner());
        let before = runs.iter().filter(|n| **n == self.name).count() as u32;
        runs.push(self.name.clone());
        if before < self.fail_times {
            return Err(format!("flaky failure {}", before + 1).into());
        }
        Ok(Data::encode(&(inputs[0].decode::<u64>()? + 1))?)
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}
register_op!(Flaky);

#[test]
fn scatter_wait_and_retries() {
    deadline(60, || {
        let cluster = LocalCluster::threads(2, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let x = client.scatter(Data::encode(&41u64).unwrap()).unwrap();
        let flaky = |name: &str, fail_times| Flaky {
            name: name.into(),
            fail_times,
        };
        // Without retries the first failure is final.
        let once = client
            .submit(flaky("once", 1), vec![Arg::Future(&x)])
            .unwrap();
        let err = client.wait(&[once]).unwrap_err().to_string();
        assert!(err.contains("flaky failure 1"), "{err}");
        // With two retries, two failures are survived.
        client.set_retries(2);
        let twice = client
            .submit(flaky("twice", 2), vec![Arg::Future(&x)])
            .unwrap();
        client.wait(std::slice::from_ref(&twice)).unwrap();
        assert_eq!(values(&[twice.result().unwrap()]), vec![42]);
    });
}

#[test]
fn a_disconnected_client_releases_its_data() {
    deadline(60, || {
        let cluster = LocalCluster::threads(1, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let xs = client.map(|| add(1), 0..5u64).unwrap();
        client.gather(&xs).unwrap();
        let stored = || -> u64 {
            cluster
                .workers()
                .map(|w| w.stats().stored.load(Ordering::Relaxed))
                .sum()
        };
        assert!(stored() > 0);
        // The futures are still alive: only the disconnect can release them.
        client.close();
        let start = std::time::Instant::now();
        while stored() > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "data not released"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(xs[0].result().is_err());
    });
}

#[test]
fn two_clients_at_once() {
    deadline(60, || {
        let cluster = LocalCluster::threads(2, 1).unwrap();
        let addr = cluster.address().to_string();
        let handles: Vec<_> = (0..2u64)
            .map(|c| {
                let addr = addr.clone();
                std::thread::spawn(move || {
                    let client = Client::connect(&addr).unwrap();
                    let xs = client.map(move || add(c * 1000), 0..50u64).unwrap();
                    values(&client.gather(&xs).unwrap()).iter().sum::<u64>()
                })
            })
            .collect();
        let sums: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(sums, vec![1225, 1225 + 50_000]);
    });
}

/// Entry point of the cluster processes started by `real_processes_survive_a_sigkill`: the
/// test binary re-runs itself with only this test selected and a role in the environment.
#[test]
fn cluster_process_entry() {
    run_if_cluster_process();
}

#[test]
fn real_processes_survive_a_sigkill() {
    deadline(120, || {
        let mut cluster = LocalCluster::test_processes("cluster_process_entry", 2, 1).unwrap();
        assert_eq!(cluster.pids().len(), 3);
        let client = Client::connect(cluster.address()).unwrap();
        let (g, outputs) = layered(200);
        let opts = ComputeOptions::default()
            .scheduler(Scheduler::Sync)
            .quiet()
            .no_optimize();
        let (local, _) = get(&g, &outputs, &opts).unwrap();
        assert_eq!(values(&client.get(&g, &outputs).unwrap()), values(&local));
        // SIGKILL one worker process in the middle of a slow computation.
        let mut g = Graph::new();
        let parts: Vec<Key> = (0..12u32).map(|i| Key::part("slow", i)).collect();
        for (i, k) in parts.iter().enumerate() {
            g.add(
                k.clone(),
                Add {
                    extra: i as u64,
                    sleep_ms: 50,
                },
                vec![],
            );
        }
        g.add(Key::new("sum"), add(0), parts);
        let futures = client.submit_graph(&g, &[Key::new("sum")]).unwrap();
        std::thread::sleep(Duration::from_millis(120));
        assert!(cluster.kill_worker(0));
        assert_eq!(values(&client.gather(&futures).unwrap()), vec![66]);
        let pids = cluster.pids();
        drop(client);
        drop(cluster);
        for pid in pids {
            assert!(
                !std::path::Path::new(&format!("/proc/{pid}")).exists()
                    || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                        .map(|s| s.contains(") Z"))
                        .unwrap_or(true),
                "process {pid} outlived its cluster"
            );
        }
    });
}

/// A quick look at throughput and latency without criterion:
/// `cargo test -p dusk-scheduler --test distributed throughput_probe -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput_probe() {
    deadline(300, || {
        let cluster = LocalCluster::threads(2, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        for n in [1_000u32, 10_000, 100_000] {
            let mut g = Graph::new();
            let keys: Vec<Key> = (0..n).map(|i| Key::part(format!("t{n}"), i)).collect();
            for (i, k) in keys.iter().enumerate() {
                g.add(k.clone(), add(i as u64), vec![]);
            }
            let t = std::time::Instant::now();
            let futures = client.submit_graph(&g, &keys).unwrap();
            let out = client.gather(&futures).unwrap();
            let el = t.elapsed();
            eprintln!(
                "{n} tasks: {el:?}, {:.0} tasks/s ({} results)",
                n as f64 / el.as_secs_f64(),
                out.len()
            );
        }
        let mut times = Vec::new();
        for i in 0..200u64 {
            let t = std::time::Instant::now();
            let f = client.submit(add(i), vec![]).unwrap();
            f.result().unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        eprintln!("round trip: median {:?}", times[100]);
    });
}

/// A collection whose value is the sum of `0..n` plus `n`, computed by registered ops.
struct SumPlusN(u64);

impl dusk_core::Collection for SumPlusN {
    type Output = u64;
    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        let parts: Vec<Key> = (0..self.0 as u32)
            .map(|i| Key::part(format!("sum-plus-{}", self.0), i))
            .collect();
        for (i, k) in parts.iter().enumerate() {
            graph.add(k.clone(), lit(i as u64), vec![]);
        }
        let total = Key::new(format!("sum-plus-total-{}", self.0));
        graph.add(total.clone(), add(self.0), parts);
        Ok(vec![total])
    }
    fn num_outputs(&self) -> usize {
        1
    }
    fn finalize(&self, results: Vec<Data>) -> Result<u64, ComputeError> {
        results[0]
            .decode::<u64>()
            .map_err(|source| ComputeError::Result {
                key: Key::new("sum-plus-total"),
                source,
            })
    }
}

#[test]
fn compute_runs_on_the_default_client() {
    use dusk_scheduler::Compute;
    deadline(60, || {
        let cluster = LocalCluster::threads(2, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let local = SumPlusN(20)
            .compute_with(&ComputeOptions::default().scheduler(Scheduler::Sync))
            .unwrap();
        assert_eq!(client.compute(&SumPlusN(20)).unwrap(), local);
        client.set_as_default();
        let on_cluster = SumPlusN(30).compute();
        dusk_scheduler::distributed::client::clear_default();
        assert_eq!(on_cluster.unwrap(), (0..30).sum::<u64>() + 30);
        let ran: u64 = cluster
            .workers()
            .map(|w| w.stats().tasks_run.load(Ordering::Relaxed))
            .sum();
        assert!(ran >= 2, "the workers ran {ran} tasks");
    });
}

#[test]
fn idle_workers_steal_queued_work() {
    deadline(60, || {
        let cluster = LocalCluster::threads(2, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let mut g = Graph::new();
        g.add(Key::new("base"), lit(1), vec![]);
        let users: Vec<Key> = (0..16u32).map(|i| Key::part("user", i)).collect();
        for (i, k) in users.iter().enumerate() {
            g.add(
                k.clone(),
                Add {
                    extra: i as u64,
                    sleep_ms: 40,
                },
                vec![Key::new("base")],
            );
        }
        // Placement sends every user to the worker holding `base`; stealing spreads them.
        let out = client.get(&g, &users).unwrap();
        assert_eq!(values(&out), (1..=16).collect::<Vec<u64>>());
        let runs: Vec<u64> = cluster
            .workers()
            .map(|w| w.stats().tasks_run.load(Ordering::Relaxed))
            .collect();
        assert!(
            runs.iter().all(|r| *r >= 3),
            "tasks run per worker: {runs:?}"
        );
    });
}

#[test]
fn large_results_come_from_workers_small_ones_with_the_scheduler() {
    deadline(60, || {
        let cluster = LocalCluster::threads(1, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let mut g = Graph::new();
        // 200,000 ones: ~200 KB encoded, above the inline limit.
        g.add(Key::new("large"), Ones { n: 200_000 }, vec![]);
        g.add(Key::new("small"), Ones { n: 10 }, vec![]);
        let out = client
            .get(&g, &[Key::new("large"), Key::new("small")])
            .unwrap();
        assert_eq!(out[0].decode::<Vec<u64>>().unwrap().len(), 200_000);
        assert_eq!(out[1].decode::<Vec<u64>>().unwrap(), vec![1; 10]);
    });
}

#[test]
fn a_silent_worker_is_removed_after_missed_heartbeats() {
    use dusk_scheduler::distributed::connection::handshake;
    use dusk_scheduler::distributed::frame::FrameLimits;
    use dusk_scheduler::distributed::message::{Role, WorkerInfo};
    deadline(60, || {
        let config = SchedulerConfig {
            heartbeat_timeout: Duration::from_millis(300),
            state: StateConfig {
                no_workers_timeout: Duration::from_millis(300),
                ..StateConfig::default()
            },
            ..SchedulerConfig::default()
        };
        let cluster = LocalCluster::threads_with(config, 0, 1).unwrap();
        let address = cluster.address().to_string();
        // A "worker" that joins, takes tasks and then never says anything again.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _silent = rt.block_on(async {
            let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            let info = WorkerInfo {
                name: "silent".into(),
                nthreads: 1,
                memory_limit: 0,
                data_addr: "127.0.0.1:9".into(),
            };
            handshake(stream, Role::Worker(info), FrameLimits::default())
                .await
                .unwrap()
        });
        let client = Client::connect(cluster.address()).unwrap();
        assert_eq!(client.workers().unwrap().len(), 1);
        let mut g = Graph::new();
        g.add(Key::new("a"), lit(1), vec![]);
        let err = client.get(&g, &[Key::new("a")]).unwrap_err().to_string();
        assert!(err.contains("no workers"), "{err}");
        assert_eq!(client.workers().unwrap().len(), 0);
    });
}

fn stored(cluster: &LocalCluster) -> u64 {
    cluster
        .workers()
        .map(|w| w.stats().stored.load(Ordering::Relaxed))
        .sum()
}

/// Polls `cond` until it holds, failing the test after ten seconds.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(10), "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn as_completed_yields_futures_in_the_order_they_finish() {
    deadline(60, || {
        let cluster = LocalCluster::threads(1, 5).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        // Submitted slowest first; all run at once on the worker's five threads.
        let sleeps = [1200u64, 0, 600];
        let mut futures: Vec<_> = sleeps
            .iter()
            .map(|ms| client.submit(slow(*ms, *ms), vec![]).unwrap())
            .collect();
        futures.push(client.submit(Boom { panic: false }, vec![]).unwrap());
        // Cancelled as soon as the first future is yielded: yielded then, not after 5 s.
        let stuck = client.submit(slow(1, 5000), vec![]).unwrap();
        futures.push(stuck.clone());
        let boom = futures[3].key().clone();
        let mut order = Vec::new();
        let mut erred = 0;
        let mut cancelled_at = None;
        for (i, f) in client.as_completed(futures).enumerate() {
            let f = f.unwrap();
            if i == 0 {
                stuck.cancel().unwrap();
            }
            if f.key() == &boom {
                let err = f.result().unwrap_err().to_string();
                assert!(err.contains("bad input"), "{err}");
                erred += 1;
            } else if f.key() == stuck.key() {
                assert!(matches!(f.result(), Err(ComputeError::Cancelled { .. })));
                cancelled_at = Some(order.len());
            } else {
                order.push(values(&[f.result().unwrap()])[0]);
            }
        }
        assert_eq!(erred, 1, "the failed future is yielded too");
        assert_eq!(
            order,
            vec![0, 600, 1200],
            "by completion, not by submission"
        );
        assert!(
            cancelled_at.is_some_and(|at| at <= 1),
            "the cancelled future comes when cancelled: {cancelled_at:?}"
        );
        // Futures done before the call, and the same key twice.
        let x = client.submit(add(5), vec![]).unwrap();
        client.wait(std::slice::from_ref(&x)).unwrap();
        let y = x.clone();
        let done: Vec<_> = client.as_completed(vec![x, y]).collect();
        assert_eq!(done.len(), 2);
        assert!(done.iter().all(|f| f.is_ok()));
    });
}

#[test]
fn as_completed_ends_with_an_error_when_the_scheduler_is_lost() {
    deadline(60, || {
        let cluster = LocalCluster::threads(1, 2).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let quick = client.submit(add(1), vec![]).unwrap();
        let stuck = client.submit(slow(2, 30_000), vec![]).unwrap();
        let mut done = client.as_completed(vec![stuck, quick]);
        assert_eq!(
            values(&[done.next().unwrap().unwrap().result().unwrap()]),
            vec![1]
        );
        // The scheduler goes away while `stuck` runs.
        drop(cluster);
        let err = done.next().unwrap().unwrap_err().to_string();
        assert!(err.contains("lost the connection"), "{err}");
        assert!(done.next().is_none());
    });
}

#[test]
fn cancel_stops_queued_and_running_work_and_the_cluster_carries_on() {
    deadline(60, || {
        let cluster = LocalCluster::threads(1, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let tasks_run = || -> u64 {
            cluster
                .workers()
                .map(|w| w.stats().tasks_run.load(Ordering::Relaxed))
                .sum()
        };
        // One thread: `running` runs, `queued` waits in the worker's queue, `dependent`
        // waits for `running` on the scheduler.
        let running = client.submit(slow(1, 1500), vec![]).unwrap();
        let queued = client.submit(slow(2, 1500), vec![]).unwrap();
        let dependent = client.submit(add(0), vec![Arg::Future(&running)]).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        client.cancel(&[running.clone(), queued.clone()]).unwrap();
        for f in [&running, &queued] {
            match f.result() {
                Err(ComputeError::Cancelled { key }) => assert_eq!(&key, f.key()),
                other => panic!("expected a cancellation, got {other:?}"),
            }
        }
        // The dependent goes with the key it needs.
        match dependent.result() {
            Err(ComputeError::Cancelled { key }) => assert_eq!(&key, dependent.key()),
            other => panic!("expected a cancellation, got {other:?}"),
        }
        assert_eq!(
            tasks_run(),
            0,
            "cancelled results must not wait for the running task to end"
        );
        // A new task runs once the thread is free: after `running` ends, not after `queued`.
        let later = client.submit(add(40), vec![]).unwrap();
        assert_eq!(values(&[later.result().unwrap()]), vec![40]);
        assert_eq!(
            tasks_run(),
            2,
            "`running` and `later` ran; the queued copy was dropped"
        );
        // A submission that needs a cancelled result is refused, not left hanging.
        let orphan = client.submit(add(7), vec![Arg::Future(&queued)]).unwrap();
        let err = orphan.result().unwrap_err().to_string();
        assert!(err.contains(&queued.key().to_string()), "{err}");
        // The result `running` still produced was freed; only `later` is held.
        eventually("only `later` is held", || stored(&cluster) == 1);
        // Submitted again, a cancelled key is computed again.
        let again = client.submit(slow(2, 1500), vec![]).unwrap();
        assert_eq!(values(&[again.result().unwrap()]), vec![2]);
    });
}

#[test]
fn cancelling_finished_futures_frees_their_data_but_not_another_clients() {
    deadline(60, || {
        let cluster = LocalCluster::threads(2, 1).unwrap();
        let a = Client::connect(cluster.address()).unwrap();
        let b = Client::connect(cluster.address()).unwrap();
        // The same keys in both clients for 0..3; client A alone holds 3..6.
        let fa = a.map(|| add(1), 0..6u64).unwrap();
        let fb = b.map(|| add(1), 0..3u64).unwrap();
        assert_eq!(values(&a.gather(&fa).unwrap()), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(values(&b.gather(&fb).unwrap()), vec![1, 2, 3]);
        eventually("six results held", || stored(&cluster) == 6);
        a.cancel(&fa).unwrap();
        assert!(matches!(
            fa[0].result(),
            Err(ComputeError::Cancelled { .. })
        ));
        // Client B's three stay; A's own three go.
        eventually("B's three results held", || stored(&cluster) == 3);
        assert_eq!(values(&b.gather(&fb).unwrap()), vec![1, 2, 3]);
        fb[0].cancel().unwrap();
        eventually("two results held", || stored(&cluster) == 2);
        assert_eq!(values(&b.gather(&fb[1..]).unwrap()), vec![2, 3]);
        // The cancelled handles still drop cleanly, and B's last two are released on drop.
        drop(fa);
        drop(fb);
        eventually("nothing held", || stored(&cluster) == 0);
    });
}

#[test]
fn real_processes_cancel_and_yield_as_completed() {
    deadline(120, || {
        let cluster = LocalCluster::test_processes("cluster_process_entry", 1, 3).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        let stuck = client.submit(slow(9, 20_000), vec![]).unwrap();
        let futures: Vec<_> = [400u64, 0]
            .iter()
            .map(|ms| client.submit(slow(*ms, *ms), vec![]).unwrap())
            .collect();
        let order: Vec<u64> = client
            .as_completed(futures)
            .map(|f| values(&[f.unwrap().result().unwrap()])[0])
            .collect();
        assert_eq!(order, vec![0, 400]);
        stuck.cancel().unwrap();
        assert!(matches!(
            stuck.result(),
            Err(ComputeError::Cancelled { .. })
        ));
        // One thread is still busy with the cancelled task; the others serve new work.
        let next = client.submit(add(3), vec![]).unwrap();
        assert_eq!(values(&[next.result().unwrap()]), vec![3]);
    });
}

#[test]
fn a_key_cancelled_and_submitted_again_at_once_is_computed() {
    deadline(60, || {
        let cluster = LocalCluster::threads(2, 1).unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        for i in 0..30u64 {
            // Cancelled while pending, or once finished: the answer to the cancel, still on
            // its way, must not cancel the new submission.
            let first = client.submit(add(i), vec![]).unwrap();
            if i % 2 == 1 {
                client.wait(std::slice::from_ref(&first)).unwrap();
            }
            first.cancel().unwrap();
            let second = client.submit(add(i), vec![]).unwrap();
            assert_eq!(second.key(), first.key());
            match second.result() {
                Ok(d) => assert_eq!(values(&[d]), vec![i]),
                Err(e) => panic!("round {i}: {e}"),
            }
        }
    });
}

#[test]
fn a_worker_over_its_memory_target_spills_to_disk_and_still_serves_everything() {
    use dusk_scheduler::distributed::{WorkerConfig, WorkerHandle};
    deadline(60, || {
        let cluster = LocalCluster::threads(0, 1).unwrap();
        // 1 MB limit: about 600 KB stay in memory.
        let worker = WorkerHandle::start(WorkerConfig {
            memory_limit: 1_000_000,
            ..WorkerConfig::new(cluster.address(), 1)
        })
        .unwrap();
        let client = Client::connect(cluster.address()).unwrap();
        eventually("the worker joins", || client.workers().unwrap().len() == 1);
        // 20 results of 100,000 ones (~100 KB each): 2 MB held while the futures live.
        let mut g = Graph::new();
        let keys: Vec<Key> = (0..20).map(|i| Key::part("ones", i)).collect();
        for k in &keys {
            g.add(k.clone(), Ones { n: 100_000 }, vec![]);
        }
        let futures = client.submit_graph(&g, &keys).unwrap();
        client.wait(&futures).unwrap();
        let stats = worker.stats();
        eventually("20 results held", || {
            stats.stored.load(Ordering::Relaxed) == 20
        });
        let in_memory = stats.stored_bytes.load(Ordering::Relaxed);
        let on_disk = stats.spilled_bytes.load(Ordering::Relaxed);
        assert!(in_memory <= 600_000, "{in_memory} bytes in memory");
        assert!(on_disk >= 1_300_000, "{on_disk} bytes on disk");
        // Spilled results feed tasks and travel to the client unchanged.
        let total = client
            .submit(Total, futures.iter().map(Arg::Future).collect())
            .unwrap();
        assert_eq!(total.result().unwrap().decode::<u64>().unwrap(), 2_000_000);
        drop(total);
        for d in client.gather(&futures).unwrap() {
            assert_eq!(d.decode::<Vec<u64>>().unwrap(), vec![1; 100_000]);
        }
        drop(futures);
        eventually("everything is released, from memory and disk", || {
            stats.stored.load(Ordering::Relaxed) == 0
                && stats.spilled_bytes.load(Ordering::Relaxed) == 0
        });
    });
}

/// `n` ones after sleeping `sleep_ms`: a result of about `n` bytes that arrives a little later.
#[derive(Serialize, Deserialize)]
struct Ballast {
    n: u64,
    sleep_ms: u64,
}
impl SerdeOp for Ballast {
    const KIND: &'static str = "test.ballast";
}
impl Op for Ballast {
    fn name(&self) -> &str {
        "ballast"
    }
    fn run(&self, _: Vec<Data>) -> Result<Data, BoxError> {
        std::thread::sleep(Duration::from_millis(self.sleep_ms));
        Ok(Data::encode(&vec![1u64; self.n as usize])?)
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}
register_op!(Ballast);

/// A one-thread worker with a 1 MB memory limit that never spills: past 800 KB of results
/// it pauses.
fn small_worker(cluster: &LocalCluster, name: &str) -> dusk_scheduler::distributed::WorkerHandle {
    use dusk_scheduler::distributed::{WorkerConfig, WorkerHandle};
    WorkerHandle::start(WorkerConfig {
        memory_limit: 1_000_000,
        memory_target_fraction: None,
        name: name.to_string(),
        ..WorkerConfig::new(cluster.address(), 1)
    })
    .unwrap()
}

#[test]
fn a_paused_worker_hands_its_work_to_the_other_worker_and_still_serves_its_results() {
    use dusk_scheduler::distributed::{WorkerConfig, WorkerHandle};
    deadline(60, || {
        let cluster = LocalCluster::threads(0, 1).unwrap();
        let small = small_worker(&cluster, "small");
        let client = Client::connect(cluster.address()).unwrap();
        eventually("the worker joins", || client.workers().unwrap().len() == 1);
        // The ballast (900 KB) runs first; four slow tasks wait behind it on the same worker.
        let ballast = client
            .submit(
                Ballast {
                    n: 900_000,
                    sleep_ms: 300,
                },
                vec![],
            )
            .unwrap();
        let behind: Vec<_> = (0..4u64)
            .map(|i| client.submit(slow(100 + i, 500), vec![]).unwrap())
            .collect();
        client.wait(std::slice::from_ref(&ballast)).unwrap();
        let stats = small.stats();
        eventually("the worker pauses", || stats.paused.load(Ordering::Relaxed));
        eventually("the scheduler's clients see it paused", || {
            client.workers().unwrap()[0].counters.paused
        });
        // Another worker joins and runs what the paused one had not started.
        let big = WorkerHandle::start(WorkerConfig {
            name: "big".into(),
            ..WorkerConfig::new(cluster.address(), 1)
        })
        .unwrap();
        assert_eq!(
            values(&client.gather(&behind).unwrap()),
            vec![100, 101, 102, 103]
        );
        // The paused worker started at most the task its thread took up as the ballast
        // finished (it runs half a second, long before the next could start).
        assert!(
            big.stats().tasks_run.load(Ordering::Relaxed) >= 3,
            "the paused worker kept the tasks it had not started"
        );
        // Everything new goes to the running worker; the paused one still serves its result.
        let ran_before = stats.tasks_run.load(Ordering::Relaxed);
        let more: Vec<_> = (0..10u64)
            .map(|i| client.submit(add(200 + i), vec![]).unwrap())
            .collect();
        assert_eq!(
            values(&client.gather(&more).unwrap()),
            (200..210).collect::<Vec<u64>>()
        );
        let total = client.submit(Total, vec![Arg::Future(&ballast)]).unwrap();
        assert_eq!(values(&[total.result().unwrap()]), vec![900_000]);
        assert_eq!(stats.tasks_run.load(Ordering::Relaxed), ran_before);
        assert!(stats.paused.load(Ordering::Relaxed));
        // Its result released, it resumes.
        drop(total);
        drop(ballast);
        eventually("the worker resumes", || {
            !stats.paused.load(Ordering::Relaxed)
        });
    });
}

#[test]
fn a_lone_paused_worker_resumes_once_its_results_are_released() {
    deadline(60, || {
        let cluster = LocalCluster::threads(0, 1).unwrap();
        let small = small_worker(&cluster, "alone");
        let client = Client::connect(cluster.address()).unwrap();
        eventually("the worker joins", || client.workers().unwrap().len() == 1);
        let ballast = client
            .submit(
                Ballast {
                    n: 900_000,
                    sleep_ms: 0,
                },
                vec![],
            )
            .unwrap();
        client.wait(std::slice::from_ref(&ballast)).unwrap();
        let stats = small.stats();
        eventually("the worker pauses", || stats.paused.load(Ordering::Relaxed));
        let ran = stats.tasks_run.load(Ordering::Relaxed);
        // Work submitted now waits at the scheduler: the only worker is paused.
        let waiting: Vec<_> = (0..3u64)
            .map(|i| client.submit(add(10 + i), vec![]).unwrap())
            .collect();
        eventually("the scheduler queues the new tasks", || {
            client.scheduler_info().unwrap().queued == 3
        });
        assert_eq!(stats.tasks_run.load(Ordering::Relaxed), ran);
        for f in &waiting {
            assert_eq!(f.status().unwrap(), FutureStatus::Pending);
        }
        // Releasing the ballast brings memory under the threshold: the worker resumes and
        // runs them.
        drop(ballast);
        assert_eq!(values(&client.gather(&waiting).unwrap()), vec![10, 11, 12]);
        assert!(!stats.paused.load(Ordering::Relaxed));
    });
}
