//! `dusk scheduler` and `dusk worker` as real processes: a client in this process computes on
//! them, and a function registered only in this program is reported by name by the generic
//! workers, which do not have it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dusk::distributed::Client;
use dusk_core::op::encode_serde;
use dusk_core::{
    register_op, BoxError, Data, Graph, Key, LiteralOp, Op, SerdeOp, WireError, WireOp,
};
use serde::{Deserialize, Serialize};

/// Kills and reaps the process when dropped, so a failing test leaves nothing behind.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Serialize, Deserialize)]
struct OnlyHere;
impl SerdeOp for OnlyHere {
    const KIND: &'static str = "cli-test.only-here";
}
impl Op for OnlyHere {
    fn name(&self) -> &str {
        "only-here"
    }
    fn run(&self, _: Vec<Data>) -> Result<Data, BoxError> {
        Ok(Data::encode(&1u8)?)
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}
register_op!(OnlyHere);

#[test]
fn cli_scheduler_and_workers_run_built_in_ops_and_name_missing_ones() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        run();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(()) => {}
        Err(_) => panic!("the test exceeded its 120s deadline"),
    }
}

fn run() {
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
    let _workers: Vec<Reaped> = (0..2)
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
    let client = Client::connect(&address).expect("connected");
    let start = Instant::now();
    while client.workers().expect("workers").len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "workers did not join"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let names: Vec<String> = client
        .workers()
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, vec!["cli-0", "cli-1"]);

    let mut g = Graph::new();
    g.add(
        Key::new("hello"),
        LiteralOp::new(Data::encode(&String::from("hello")).unwrap()),
        vec![],
    );
    let out = client.get(&g, &[Key::new("hello")]).expect("computed");
    assert_eq!(out[0].decode::<String>().unwrap(), "hello");

    let mut g = Graph::new();
    g.add(Key::new("mine"), OnlyHere, vec![]);
    let err = client.get(&g, &[Key::new("mine")]).unwrap_err().to_string();
    assert!(err.contains("cli-test.only-here"), "{err}");
}
