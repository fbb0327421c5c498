//! A cluster spread over separate network stacks: `dusk scheduler`, two `dusk worker`s and a
//! client each run in a network namespace of their own, joined by veth pairs to a bridge, so
//! every byte between them crosses a real (virtual) Ethernet interface instead of loopback.
//!
//! What this proves, beyond the single-host tests:
//!
//! - the scheduler's printed address, the address a worker advertises for its data (taken from
//!   its connection to the scheduler) and the peer-to-peer fetches all work when processes do
//!   not share `127.0.0.1`: a worker binding or advertising a loopback address would be
//!   unreachable here;
//! - a task whose inputs sit on two workers gets one of them from the other worker: the workers'
//!   own counters report the fetched bytes, and the interface counters of their veths show at
//!   least that many bytes received and sent;
//! - data does not pass through the scheduler: its interface carries only control messages,
//!   far fewer bytes than one block, while the client receives the result from a worker.
//!
//! The namespaces exist only for the test: the subnet (10.213.0.0/24) is assigned inside them,
//! nothing is added to the host's own network namespace, and a guard kills the processes and
//! deletes the namespaces on every path, panics included. Creating namespaces needs root and
//! `ip` (iproute2); where either is missing, or the kernel refuses, the test prints why on
//! standard error and passes without running. Set `DUSK_REQUIRE_NETNS=1` to make that a failure
//! instead (for machines where the real path must run).
//!
//! The client runs as this test binary started again inside its namespace, with only
//! [`multi_host_client_entry`] selected and the scheduler's address in the environment (the
//! way `tests/futures.rs` starts its worker processes).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dusk::array::arange;
use dusk::distributed::Client;

/// The environment variable that turns [`multi_host_client_entry`] into the client.
const CLIENT_ENV: &str = "DUSK_MULTI_HOST_SCHEDULER";
/// Elements of the array: two blocks of `N / 2` `i64`s, 4 MiB each.
const N: usize = 1 << 20;
/// Bytes of one block.
const BLOCK_BYTES: u64 = (N / 2 * std::mem::size_of::<i64>()) as u64;
/// The subnet's first three octets; it exists only inside the test's namespaces.
const SUBNET: &str = "10.213.0";
/// The hosts: (role, last octet).
const HOSTS: [(&str, u8); 4] = [("sched", 1), ("client", 2), ("w0", 10), ("w1", 11)];

/// The network namespaces of one run and the processes started in them; dropping it kills the
/// processes and deletes the namespaces.
struct Lab {
    prefix: String,
    namespaces: Vec<String>,
    children: Vec<Child>,
}

impl Lab {
    fn new() -> Lab {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Lab {
            prefix: format!("dusk-mh-{}-{}", std::process::id(), nanos % 1_000_000),
            namespaces: Vec::new(),
            children: Vec::new(),
        }
    }

    /// The namespace of `role`.
    fn ns(&self, role: &str) -> String {
        format!("{}-{role}", self.prefix)
    }

    fn add_namespace(&mut self, role: &str) -> Result<String, String> {
        let name = self.ns(role);
        ip(&["netns", "add", &name])?;
        self.namespaces.push(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
        Ok(name)
    }

    /// A bridge in namespace `lan` and, for each host, a namespace whose `eth0` is one end of a
    /// veth pair whose other end is a port of that bridge.
    fn build(&mut self) -> Result<(), String> {
        let lan = self.add_namespace("lan")?;
        ip(&["-n", &lan, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &lan, "link", "set", "br0", "up"])?;
        for (role, octet) in HOSTS {
            let ns = self.add_namespace(role)?;
            let port = format!("p-{role}");
            ip(&[
                "-n", &lan, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ])?;
            ip(&["-n", &lan, "link", "set", &port, "master", "br0"])?;
            ip(&["-n", &lan, "link", "set", &port, "up"])?;
            let address = format!("{SUBNET}.{octet}/24");
            ip(&["-n", &ns, "addr", "add", &address, "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        }
        Ok(())
    }

    /// Starts `program args` inside the namespace of `role`; the lab kills it when dropped.
    fn spawn(
        &mut self,
        role: &str,
        program: &str,
        args: &[&str],
        envs: &[(&str, &str)],
        stdout: Stdio,
    ) -> &mut Child {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(role), program])
            .args(args)
            .envs(envs.iter().copied())
            .stdout(stdout)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program} in {}: {e}", self.ns(role)));
        self.children.push(child);
        self.children.last_mut().expect("just pushed")
    }

    /// Bytes received and sent by `eth0` in the namespace of `role`.
    fn eth0_bytes(&self, role: &str) -> (u64, u64) {
        let out = Command::new("ip")
            .args([
                "-j",
                "-s",
                "-n",
                &self.ns(role),
                "link",
                "show",
                "dev",
                "eth0",
            ])
            .output()
            .expect("ip runs");
        assert!(out.status.success(), "ip -s link failed for {role}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip's JSON");
        let stats = &json[0]["stats64"];
        let get = |dir: &str| {
            stats[dir]["bytes"]
                .as_u64()
                .unwrap_or_else(|| panic!("no {dir} byte counter for {role}: {json}"))
        };
        (get("rx"), get("tx"))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Deleting `lan` destroys the bridge's veth ends and with them their peers.
        for ns in self.namespaces.iter().rev() {
            if let Err(e) = ip(&["netns", "delete", ns]) {
                eprintln!("multi_host: could not delete namespace {ns}: {e}");
            }
        }
    }
}

/// Runs `ip ARGS`; its standard error is the error.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Reports why the test cannot run here; a failure if `DUSK_REQUIRE_NETNS` is set.
fn skip(reason: &str) {
    if std::env::var_os("DUSK_REQUIRE_NETNS").is_some_and(|v| v != "0") {
        panic!("network namespaces are required (DUSK_REQUIRE_NETNS) but {reason}");
    }
    eprintln!("multi_host: skipped: {reason}");
}

/// Waits for `child` at most `limit`; kills it if it takes longer.
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn scheduler_workers_and_client_in_separate_network_namespaces() {
    if Command::new("ip").arg("-V").output().is_err() {
        return skip("`ip` (iproute2) is not installed");
    }
    let mut lab = Lab::new();
    if let Err(e) = lab.build() {
        return skip(&format!(
            "the network namespaces could not be set up (root and a kernel with network \
             namespaces, veth and bridge support are needed): {e}"
        ));
    }
    let exe = env!("CARGO_BIN_EXE_dusk");
    let sched_ip = format!("{SUBNET}.1");

    // The scheduler picks a free port and prints its address, as in `tests/cli_cluster.rs`.
    let scheduler = lab.spawn(
        "sched",
        exe,
        &["scheduler", "--host", &sched_ip, "--port", "0"],
        &[],
        Stdio::piped(),
    );
    let stdout = scheduler.stdout.take().expect("piped stdout");
    let (line_tx, line_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = line_tx.send(lines.next());
        // Keep reading until the scheduler exits, so it never writes into a closed pipe.
        for _ in lines {}
    });
    let line = match line_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(Ok(line))) => line,
        other => panic!("the scheduler did not print its address: {other:?}"),
    };
    let address = line
        .strip_prefix("scheduler listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from the scheduler: {line}"))
        .to_string();
    assert!(
        address.starts_with(&format!("tcp://{sched_ip}:")),
        "the scheduler listens on its veth address: {address}"
    );

    for w in ["w0", "w1"] {
        lab.spawn(
            w,
            exe,
            &["worker", &address, "--nthreads", "1", "--name", w],
            &[],
            Stdio::inherit(),
        );
    }

    let before: Vec<(u64, u64)> = HOSTS.iter().map(|(r, _)| lab.eth0_bytes(r)).collect();

    // The client: this test binary again, inside the client namespace.
    let me = std::env::current_exe().expect("the test binary");
    let me = me.to_str().expect("a UTF-8 path");
    let client = lab.spawn(
        "client",
        me,
        &[
            "--exact",
            "multi_host_client_entry",
            "--nocapture",
            "--test-threads=1",
        ],
        &[(CLIENT_ENV, address.as_str())],
        Stdio::piped(),
    );
    let mut client_out = client.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = client_out.read_to_string(&mut s);
        s
    });
    let status = wait_bounded(client, Duration::from_secs(120), "the client");
    let output = reader.join().expect("the reader thread");
    assert!(status.success(), "the client failed ({status}):\n{output}");

    let after: Vec<(u64, u64)> = HOSTS.iter().map(|(r, _)| lab.eth0_bytes(r)).collect();
    let delta = |role: &str| {
        let i = HOSTS.iter().position(|(r, _)| *r == role).expect("a host");
        (after[i].0 - before[i].0, after[i].1 - before[i].1)
    };

    // The workers' own counters, as the client printed them: `peer-bytes NAME BYTES` (the test
    // harness may print its own text before it on the same line).
    let fetched: Vec<(String, u64)> = output
        .lines()
        .filter_map(|l| {
            l.find("peer-bytes ")
                .map(|at| &l[at + "peer-bytes ".len()..])
        })
        .map(|l| {
            let (name, bytes) = l.split_once(' ').expect("peer-bytes NAME BYTES");
            (
                name.to_string(),
                bytes.trim().parse().expect("a byte count"),
            )
        })
        .collect();
    assert_eq!(fetched.len(), 2, "both workers reported:\n{output}");
    let total: u64 = fetched.iter().map(|(_, b)| b).sum();
    assert!(
        total >= BLOCK_BYTES,
        "one block moved between the workers: {fetched:?}"
    );

    let mut report = String::new();
    for (role, _) in HOSTS {
        let (rx, tx) = delta(role);
        report.push_str(&format!("{role}: eth0 received {rx} B, sent {tx} B\n"));
    }
    eprint!("{report}");
    for (name, bytes) in &fetched {
        if *bytes == 0 {
            continue;
        }
        let (rx, _) = delta(name);
        let other = if name == "w0" { "w1" } else { "w0" };
        let (_, other_tx) = delta(other);
        assert!(
            rx >= *bytes && other_tx >= *bytes,
            "{name} fetched {bytes} B from {other}: its veth must have received and {other}'s \
             sent at least that\n{report}"
        );
    }
    let result_bytes = (N * std::mem::size_of::<i64>()) as u64;
    let (client_rx, _) = delta("client");
    assert!(
        client_rx >= result_bytes,
        "the client received the {result_bytes} B result over its veth\n{report}"
    );
    let (sched_rx, sched_tx) = delta("sched");
    assert!(
        sched_rx + sched_tx < BLOCK_BYTES / 4,
        "data went worker to worker and worker to client, not through the scheduler\n{report}"
    );
}

/// The client, when started by the test above inside its namespace; does nothing otherwise.
#[test]
fn multi_host_client_entry() {
    let Ok(address) = std::env::var(CLIENT_ENV) else {
        return;
    };
    let client = Client::connect(&address).expect("the client connects to the scheduler");
    let start = Instant::now();
    while client.workers().expect("workers").len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the workers did not join"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Two blocks made on different workers (each root goes to the least busy worker), joined
    // into one block by a task that runs where one of them is and fetches the other.
    let x = arange(N, N / 2)
        .expect("arange")
        .rechunk(N)
        .expect("rechunk");
    let got = client.compute(&x).expect("computed on the cluster");
    assert_eq!(got.shape(), &[N]);
    assert!(
        got.iter().copied().eq(0..N as i64),
        "the values are 0..{N} in order"
    );

    // Counters reach the scheduler with the workers' heartbeats (every 500 ms).
    let start = Instant::now();
    let workers = loop {
        let workers = client.workers().expect("workers");
        let total: u64 = workers.iter().map(|w| w.counters.peer_bytes).sum();
        if total >= BLOCK_BYTES || start.elapsed() > Duration::from_secs(10) {
            break workers;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for w in workers {
        println!("peer-bytes {} {}", w.name, w.counters.peer_bytes);
    }
}
