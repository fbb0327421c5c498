//! User functions on a cluster of real processes: registered by name, called with futures as
//! arguments, errors and panics reported with the function's name.

mod common;

use common::deadline;
use dusk::distributed::client::Arg;
use dusk::distributed::cluster::run_if_cluster_process;
use dusk::prelude::*;

fn square(x: u64) -> u64 {
    x * x
}
register_fn!(square: fn(u64) -> u64);

fn concat(a: String, b: Vec<u64>) -> String {
    format!("{a}{b:?}")
}
register_fn!(concat: fn(String, Vec<u64>) -> String);

fn explode(x: u64) -> u64 {
    if x == 3 {
        panic!("three is not allowed");
    }
    x
}
register_fn!(explode: fn(u64) -> u64);

/// Entry point of the cluster processes: the test binary re-runs itself with only this test
/// selected and a role in the environment.
#[test]
fn cluster_process_entry() {
    run_if_cluster_process();
}

#[test]
fn registered_functions_run_on_worker_processes() {
    deadline(120, || {
        let cluster = LocalCluster::test_processes("cluster_process_entry", 2, 1).unwrap();
        let client = Client::connect(cluster.address()).expect("a client");

        // map + gather against the same function called here.
        let futures = client.map(|| remote("square"), 0..40u64).unwrap();
        let got: Vec<u64> = client
            .gather(&futures)
            .unwrap()
            .iter()
            .map(|d| d.decode::<u64>().unwrap())
            .collect();
        let expected: Vec<u64> = (0..40u64).map(square).collect();
        assert_eq!(got, expected);

        // Futures as arguments, mixed with values, of different types.
        let list = client
            .submit(
                remote("square"),
                vec![Arg::Value(Data::encode(&7u64).unwrap())],
            )
            .unwrap();
        let pair = client
            .submit(
                remote("concat"),
                vec![
                    Arg::Value(Data::encode(&"squares: ".to_string()).unwrap()),
                    Arg::Value(Data::encode(&vec![1u64, 4]).unwrap()),
                ],
            )
            .unwrap();
        assert_eq!(list.result().unwrap().decode::<u64>().unwrap(), 49);
        assert_eq!(
            pair.result().unwrap().decode::<String>().unwrap(),
            "squares: [1, 4]"
        );

        // A panic is that task's error; a missing function and a wrong argument are named.
        let bad = client.map(|| remote("explode"), 0..5u64).unwrap();
        let err = client.gather(&bad).unwrap_err().to_string();
        assert!(err.contains("three is not allowed"), "{err}");
        let missing = client
            .submit(
                remote("nowhere"),
                vec![Arg::Value(Data::encode(&1u64).unwrap())],
            )
            .unwrap();
        let err = missing.result().unwrap_err().to_string();
        assert!(
            err.contains("nowhere") && err.contains("not registered"),
            "{err}"
        );
        let wrong = client
            .submit(
                remote("square"),
                vec![Arg::Value(Data::encode(&"x".to_string()).unwrap())],
            )
            .unwrap();
        assert!(wrong.result().is_err());
        let short = client
            .submit(remote("concat"), vec![Arg::Future(&list)])
            .unwrap();
        let err = short.result().unwrap_err().to_string();
        assert!(err.contains("takes 2 arguments, got 1"), "{err}");
    });
}

#[test]
fn array_expressions_compute_on_a_cluster_as_locally() {
    deadline(120, || {
        use dusk::array::{self, Axes};
        let cluster = LocalCluster::threads(2, 1).expect("a cluster");
        let client = Client::connect(cluster.address()).expect("a client");
        let x = array::random_uniform(7, 0.0, 1.0, &[300, 200], [70, 90]).unwrap();
        let centered = &x - &x.mean(1, true).unwrap();
        let spread = centered.std(Axes::All, false).unwrap();
        let local = spread.compute().unwrap();
        let remote = client.compute(&spread).unwrap();
        assert_eq!(local, remote);
        let sums = (&x * 2.0).sum(0, false).unwrap();
        assert_eq!(client.compute(&sums).unwrap(), sums.compute().unwrap());
    });
}
