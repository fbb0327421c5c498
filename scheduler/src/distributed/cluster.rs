//! `LocalCluster`: a scheduler and workers on this machine, torn down when dropped.
//!
//! Two flavours. [`LocalCluster::threads`] runs the scheduler and the workers on threads of this
//! process, each with its own sockets: everything still crosses TCP, so it exercises the whole
//! protocol, but starts in milliseconds — the right tool for tests. [`LocalCluster::processes`]
//! starts real processes from a program that understands the `scheduler` and `worker`
//! subcommands (the `dusk` binary, or any program calling [`run_if_cluster_process`] first
//! thing in `main`); dropping the cluster kills and reaps every one of them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::server::{SchedulerConfig, SchedulerHandle};
use super::worker::{WorkerConfig, WorkerHandle};
use super::{Client, DistributedError};

/// The environment variable that turns a program into a cluster process (see
/// [`run_if_cluster_process`]).
pub const ROLE_ENV: &str = "DUSK_CLUSTER_ROLE";

/// A scheduler and workers on this machine.
pub struct LocalCluster {
    address: String,
    // Field order matters: workers stop before the scheduler.
    workers: Vec<Option<WorkerHandle>>,
    scheduler: Option<SchedulerHandle>,
    children: Vec<Child>,
}

impl LocalCluster {
    /// A scheduler and `n_workers` workers of `nthreads` threads, on threads of this process.
    ///
    /// ```
    /// let cluster = dusk_scheduler::distributed::LocalCluster::threads(2, 1).unwrap();
    /// assert!(cluster.address().starts_with("127.0.0.1:"));
    /// ```
    pub fn threads(n_workers: usize, nthreads: usize) -> Result<LocalCluster, DistributedError> {
        LocalCluster::threads_with(SchedulerConfig::default(), n_workers, nthreads)
    }

    /// Like [`LocalCluster::threads`], with scheduler settings.
    pub fn threads_with(
        config: SchedulerConfig,
        n_workers: usize,
        nthreads: usize,
    ) -> Result<LocalCluster, DistributedError> {
        let scheduler = SchedulerHandle::start(config)?;
        let address = scheduler.address().to_string();
        let mut cluster = LocalCluster {
            address,
            workers: Vec::new(),
            scheduler: Some(scheduler),
            children: Vec::new(),
        };
        for i in 0..n_workers {
            cluster.add_worker(nthreads, &format!("worker-{i}"))?;
        }
        Ok(cluster)
    }

    /// Starts one more in-process worker.
    pub fn add_worker(&mut self, nthreads: usize, name: &str) -> Result<(), DistributedError> {
        let mut config = WorkerConfig::new(self.address.clone(), nthreads);
        config.name = name.to_string();
        self.workers.push(Some(WorkerHandle::start(config)?));
        Ok(())
    }

    /// A scheduler and `n_workers` worker processes of `nthreads` threads, started from
    /// `program`, which must call [`run_if_cluster_process`] first thing in `main` (the `dusk`
    /// binary does; so can any program whose registered functions the workers should know —
    /// pass [`current_program`] for that).
    pub fn processes(
        program: impl AsRef<Path>,
        n_workers: usize,
        nthreads: usize,
    ) -> Result<LocalCluster, DistributedError> {
        let program = program.as_ref().to_path_buf();
        LocalCluster::processes_from(|| Command::new(&program), n_workers, nthreads)
    }

    /// Like [`LocalCluster::processes`], with each process started from the command `command`
    /// returns (a program plus arguments, e.g. a test binary told which test to run). The
    /// scheduler's address is read from the first line of its standard output that contains
    /// `scheduler listening on`.
    /// A scheduler and `n_workers` worker processes started from the running test binary,
    /// each running only the test `entry` (see [`test_entry_command`]).
    pub fn test_processes(
        entry: &str,
        n_workers: usize,
        nthreads: usize,
    ) -> Result<LocalCluster, DistributedError> {
        LocalCluster::processes_from(test_entry_command(entry)?, n_workers, nthreads)
    }

    pub fn processes_from(
        command: impl Fn() -> Command,
        n_workers: usize,
        nthreads: usize,
    ) -> Result<LocalCluster, DistributedError> {
        let program = PathBuf::from(command().get_program());
        let mut cluster = LocalCluster {
            address: String::new(),
            workers: Vec::new(),
            scheduler: None,
            children: Vec::new(),
        };
        let mut sched = command()
            .env(ROLE_ENV, "scheduler")
            .stdout(Stdio::piped())
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_error(&program, e))?;
        let stdout = sched.stdout.take();
        cluster.children.push(sched);
        let line = stdout
            .and_then(|s| {
                BufReader::new(s)
                    .lines()
                    .map_while(Result::ok)
                    .find(|l| l.contains("scheduler listening on"))
            })
            .ok_or_else(|| {
                DistributedError::Cluster("the scheduler process printed no address".into())
            })?;
        cluster.address = line
            .split_whitespace()
            .last()
            .map(|a| a.trim_start_matches("tcp://").to_string())
            .unwrap_or_default();
        for _ in 0..n_workers {
            let child = command()
                .env(ROLE_ENV, format!("worker:{}:{nthreads}", cluster.address))
                .stdout(Stdio::null())
                .stdin(Stdio::null())
                .spawn()
                .map_err(|e| spawn_error(&program, e))?;
            cluster.children.push(child);
        }
        cluster.wait_for_workers(n_workers, Duration::from_secs(30))?;
        Ok(cluster)
    }

    /// Waits until `n` workers are connected.
    pub fn wait_for_workers(&self, n: usize, timeout: Duration) -> Result<(), DistributedError> {
        let client = Client::connect(&self.address)?;
        let start = Instant::now();
        loop {
            let have = client.workers().map(|w| w.len()).unwrap_or(0);
            if have >= n {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(DistributedError::Cluster(format!(
                    "only {have} of {n} workers connected within {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The scheduler's address, `HOST:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The in-process workers (empty for a process cluster).
    pub fn workers(&self) -> impl Iterator<Item = &WorkerHandle> {
        self.workers.iter().flatten()
    }

    /// Kills in-process worker `i` as abruptly as a killed process dies (or, for a process
    /// cluster, SIGKILLs worker process `i`). Returns whether there was such a worker.
    pub fn kill_worker(&mut self, i: usize) -> bool {
        if let Some(slot) = self.workers.get_mut(i) {
            if let Some(w) = slot.take() {
                w.kill();
                return true;
            }
            return false;
        }
        // children[0] is the scheduler.
        match self.children.get_mut(i + 1) {
            Some(c) => {
                let _ = c.kill();
                let _ = c.wait();
                true
            }
            None => false,
        }
    }

    /// The process ids of the cluster's processes (scheduler first); empty for threads.
    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }
}

fn spawn_error(program: &Path, e: std::io::Error) -> DistributedError {
    DistributedError::Cluster(format!("could not start {}: {e}", program.display()))
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for w in self.workers.iter_mut() {
            if let Some(w) = w.take() {
                w.kill();
            }
        }
        self.scheduler.take();
        // Workers first, so they do not log the scheduler's departure.
        for c in self.children.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Makes the current program serve as a cluster process when [`ROLE_ENV`] says so: call it first
/// thing in `main`. With `DUSK_CLUSTER_ROLE=scheduler` it runs a scheduler (printing its address
/// on the first line of standard output); with `DUSK_CLUSTER_ROLE=worker:HOST:PORT:NTHREADS` a
/// worker. Either way the process exits when done; without the variable the call returns at once.
///
/// This is how workers started from a user's own binary know the functions it registers.
pub fn run_if_cluster_process() {
    let Ok(role) = std::env::var(ROLE_ENV) else {
        return;
    };
    let code = match run_role(&role) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("dusk: {e}");
            1
        }
    };
    std::process::exit(code);
}

fn run_role(role: &str) -> Result<(), DistributedError> {
    if role == "scheduler" {
        // Our parent holds the other end of standard input: when it goes away, even without
        // dropping its `LocalCluster`, the scheduler exits, and its workers follow.
        std::thread::spawn(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            std::process::exit(0);
        });
        return super::server::run_blocking(SchedulerConfig::default(), |addr| {
            println!("scheduler listening on tcp://{addr}");
        });
    }
    if let Some(rest) = role.strip_prefix("worker:") {
        let (addr, threads) = rest
            .rsplit_once(':')
            .ok_or_else(|| DistributedError::BadAddress(rest.to_string()))?;
        let nthreads = threads.parse().unwrap_or(1);
        return super::worker::run_blocking(WorkerConfig::new(addr, nthreads));
    }
    Err(DistributedError::Cluster(format!(
        "unknown {ROLE_ENV} `{role}`: expected `scheduler` or `worker:HOST:PORT:NTHREADS`"
    )))
}

/// A cluster of processes started from the running test binary: each runs only the test named
/// `entry`, whose body calls [`run_if_cluster_process`] (so the processes know every function
/// and op the test binary registers), with no other test and no captured output.
///
/// ```no_run
/// use dusk_scheduler::distributed::cluster::{run_if_cluster_process, LocalCluster};
///
/// #[test]
/// fn cluster_process_entry() {
///     run_if_cluster_process();
/// }
///
/// #[test]
/// fn on_real_processes() {
///     let cluster = LocalCluster::test_processes("cluster_process_entry", 2, 1).unwrap();
///     // ... Client::connect(cluster.address()) ...
/// }
/// ```
pub fn test_entry_command(entry: &str) -> Result<impl Fn() -> Command, DistributedError> {
    let exe = current_program()?;
    let entry = entry.to_string();
    Ok(move || {
        let mut c = Command::new(&exe);
        c.args(["--exact", &entry, "--nocapture", "--test-threads=1"]);
        c
    })
}

/// The path of the running program, to start cluster processes from.
pub fn current_program() -> Result<PathBuf, DistributedError> {
    std::env::current_exe().map_err(|e| DistributedError::Cluster(e.to_string()))
}
