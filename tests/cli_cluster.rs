//! `dusk scheduler` and `dusk worker` as real processes: a client in this process computes on
//! them, and a function registered only in this program is reported by name by the generic
//! workers, which do not have it.

mod common;

use common::{deadline, CliCluster};
use dusk_core::op::encode_serde;
use dusk_core::{
    register_op, BoxError, Data, Graph, Key, LiteralOp, Op, SerdeOp, WireError, WireOp,
};
use serde::{Deserialize, Serialize};

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
    deadline(120, run);
}

fn run() {
    let cluster = CliCluster::start(2);
    let client = cluster.client();
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

#[test]
fn worker_memory_fractions_are_checked_on_the_command_line() {
    let exe = env!("CARGO_BIN_EXE_dusk");
    let help = std::process::Command::new(exe)
        .args(["worker", "--help"])
        .output()
        .expect("dusk runs");
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in ["--memory-target-fraction", "--memory-pause-fraction"] {
        assert!(help.contains(flag), "{help}");
    }
    // Refused before connecting to anything.
    let bad = std::process::Command::new(exe)
        .args([
            "worker",
            "tcp://127.0.0.1:1",
            "--memory-pause-fraction",
            "80%",
        ])
        .output()
        .expect("dusk runs");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("invalid memory pause fraction `80%`"), "{err}");
}
