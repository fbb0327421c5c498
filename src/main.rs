//! The `dusk` command-line tool: configuration, and the processes of a cluster.
//!
//! `dusk scheduler` and `dusk worker ADDRESS` start the distributed runtime's processes; any
//! process manager (systemd, Kubernetes, Slurm, ssh) can run them on many machines.

use clap::{Parser, Subcommand};
use dusk::distributed::store::parse_fraction;
use dusk::distributed::{server, worker, SchedulerConfig, WorkerConfig};

#[derive(Parser)]
#[command(
    name = "dusk",
    version,
    about = "dusk: parallel computing with lazy task graphs (Dask for Rust)",
    long_about = "dusk: parallel computing with lazy task graphs (Dask for Rust).\n\n\
        Programs use dusk as a library; this tool inspects its configuration and runs the \
        scheduler and worker processes of a cluster."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the scheduler and settings that `compute()` uses in this environment
    /// (DUSK_SCHEDULER, DUSK_NUM_WORKERS, DUSK_PROGRESS).
    Config,
    /// Start a dusk scheduler: workers and clients connect to it.
    ///
    /// Prints `scheduler listening on tcp://HOST:PORT` once it accepts connections.
    Scheduler {
        /// Serving host: the interface to listen on.
        #[arg(long, default_value = "0.0.0.0")]
        host: String,
        /// Serving port (0 picks a free one).
        #[arg(long, default_value_t = 8786)]
        port: u16,
        /// How many workers may die while running one task before it is marked failed.
        #[arg(long, default_value_t = 3)]
        allowed_failures: u32,
    },
    /// Start a dusk worker connected to the scheduler at SCHEDULER (tcp://HOST:PORT).
    ///
    /// The worker runs built-in ops and ops registered in this binary; it serves its results
    /// to other workers on a port of its own.
    Worker {
        /// The scheduler's address, e.g. tcp://127.0.0.1:8786.
        scheduler: String,
        /// Number of threads running tasks (default: one per core).
        #[arg(long)]
        nthreads: Option<usize>,
        /// Bytes of memory that the worker can use (0: no memory management). Past the target
        /// fraction of it results spill to disk; past the pause fraction the worker pauses.
        #[arg(long, default_value_t = 0)]
        memory_limit: u64,
        /// Fraction of the memory limit at which the worker starts spilling its least
        /// recently used results to disk (`off`: never spill).
        #[arg(long, default_value = "0.6", value_name = "FRACTION", value_parser = target_fraction)]
        memory_target_fraction: Fraction,
        /// Fraction of the memory limit at which the worker pauses: it starts no new tasks,
        /// and hands those it has not started to other workers, until its results fall back
        /// under it (`off`: never pause).
        #[arg(long, default_value = "0.8", value_name = "FRACTION", value_parser = pause_fraction)]
        memory_pause_fraction: Fraction,
        /// A name for this worker in logs and dashboards.
        #[arg(long)]
        name: Option<String>,
    },
}

/// A share of the memory limit, or `None` for `off`.
#[derive(Clone, Copy, Debug)]
struct Fraction(Option<f64>);

fn target_fraction(text: &str) -> Result<Fraction, String> {
    parse_fraction("memory target fraction", text)
        .map(Fraction)
        .map_err(|e| e.to_string())
}

fn pause_fraction(text: &str) -> Result<Fraction, String> {
    parse_fraction("memory pause fraction", text)
        .map(Fraction)
        .map_err(|e| e.to_string())
}

fn main() -> anyhow::Result<()> {
    dusk::distributed::cluster::run_if_cluster_process();
    let cli = Cli::parse();
    match cli.command {
        Command::Config => {
            let scheduler = dusk::config::scheduler()?;
            println!("scheduler: {scheduler:?}");
            println!("threads: {}", scheduler.threads());
            println!(
                "cores: {}",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            );
            println!("progress: {}", dusk::config::progress_enabled());
        }
        Command::Scheduler {
            host,
            port,
            allowed_failures,
        } => {
            let mut config = SchedulerConfig {
                listen: format!("{host}:{port}"),
                ..SchedulerConfig::default()
            };
            config.state.allowed_failures = allowed_failures;
            server::run_blocking(config, |addr| {
                println!("scheduler listening on tcp://{addr}");
            })?;
        }
        Command::Worker {
            scheduler,
            nthreads,
            memory_limit,
            memory_target_fraction,
            memory_pause_fraction,
            name,
        } => {
            let threads = nthreads.unwrap_or_else(dusk::config::default_threads);
            let mut config = WorkerConfig::new(scheduler, threads);
            config.memory_limit = memory_limit;
            config.memory_target_fraction = memory_target_fraction.0;
            config.memory_pause_fraction = memory_pause_fraction.0;
            if let Some(name) = name {
                config.name = name;
            }
            worker::run_blocking(config)?;
        }
    }
    Ok(())
}
