//! A cluster of real `dusk scheduler` and `dusk worker` processes for tests: the generic
//! binary, which knows only the built-in ops, on loopback ports the system picks.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dusk::distributed::Client;

/// Kills and reaps the process when dropped, so a failing test leaves nothing behind.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A scheduler and workers started from the `dusk` binary; all stop when this is dropped.
pub struct CliCluster {
    /// `tcp://127.0.0.1:PORT`.
    pub address: String,
    /// The worker processes (dropped first, then the scheduler).
    pub workers: Vec<Reaped>,
    _scheduler: Reaped,
}

impl CliCluster {
    /// Starts a scheduler and `n` one-thread workers named `cli-0`, `cli-1`, ... and waits
    /// (up to 30 s) until every worker has joined.
    pub fn start(n: usize) -> CliCluster {
        let exe = env!("CARGO_BIN_EXE_dusk");
        let mut scheduler = Reaped(
            Command::new(exe)
                .args(["scheduler", "--host", "127.0.0.1", "--port", "0"])
                .stdout(Stdio::piped())
                .spawn()
                .expect("the scheduler starts"),
        );
        let line = BufReader::new(scheduler.0.stdout.take().expect("piped stdout"))
            .lines()
            .next()
            .expect("a line")
            .expect("readable");
        let address = line
            .strip_prefix("scheduler listening on ")
            .expect("the address line")
            .to_string();
        let workers = (0..n)
            .map(|i| {
                Reaped(
                    Command::new(exe)
                        .args(["worker", &address, "--nthreads", "1", "--name"])
                        .arg(format!("cli-{i}"))
                        .spawn()
                        .expect("a worker starts"),
                )
            })
            .collect();
        let cluster = CliCluster {
            address,
            workers,
            _scheduler: scheduler,
        };
        let client = cluster.client();
        let start = Instant::now();
        while client.workers().expect("workers").len() < n {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "workers did not join"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        cluster
    }

    /// A new client of this cluster.
    pub fn client(&self) -> Client {
        Client::connect(&self.address).expect("connected")
    }
}

/// Runs `f` on another thread and fails the test if it takes longer than `secs`.
pub fn deadline(secs: u64, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => handle.join().expect("the test body"),
        // The body panicked before finishing: report its panic.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("the test body stopped without finishing"),
        },
        // Still running: fail now rather than wait for a body that may never end.
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("the test took longer than {secs} s")
        }
    }
}
