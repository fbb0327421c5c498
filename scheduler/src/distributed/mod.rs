//! The distributed runtime: a scheduler, workers and clients talking over TCP.
//!
//! Dask's distributed scheduler is what lets a computation outgrow one machine; this module is
//! dusk's. The pieces mirror Dask's, one concept per file:
//!
//! - [`frame`]: how messages are cut out of a byte stream (length-prefixed, size-limited);
//! - [`message`]: the protocol's messages and the wire form of results;
//! - [`connection`]: reading frames, writing them with few syscalls, the handshake;
//! - [`state`]: the scheduler's task state machine, with no networking in it;
//! - [`server`]: the scheduler process: accepts workers and clients, drives the state machine;
//! - [`worker`]: runs tasks on a thread pool, stores results, serves them to peers and fetches
//!   its inputs directly from the workers holding them;
//! - [`store`]: a worker's results, with byte accounting and spilling to disk;
//! - [`client`]: the blocking API programs use to run graphs on a cluster, with Dask's futures
//!   (`submit`, `map`, `gather`, `scatter`, `wait`, `as_completed`, `cancel`, retries);
//! - [`cluster`]: [`LocalCluster`], a scheduler and workers on this machine.
//!
//! Graphs cross the network in their wire form ([`dusk_core::Graph::to_wire`]): built-in ops and
//! ops registered with [`dusk_core::register_op!`] run on any worker built with them; closures
//! are refused at submit time with an error naming the task.
//!
//! Results cross the network in the form of their kind: DataFrame partitions as Arrow IPC
//! streams, array blocks as raw little-endian buffers, serialized values as they are, and
//! process-local values made with [`dusk_core::Data::local_sendable`] serialized on the way out.
//! A plain process-local value cannot leave its worker; a task needing one elsewhere fails
//! saying so.
//!
//! A worker given a memory limit spills its least recently used results to disk past 60% of it,
//! and pauses past 80% (both adjustable, see [`store`]): a paused worker starts no new task and
//! hands back those it has not started; the scheduler sends it nothing until it resumes.
//!
//! Not there yet: a worker whose scheduler goes away stops rather than reconnecting; inputs a worker
//! fetches are used and dropped, not kept as replicas; cancelling a task that
//! already runs does not interrupt it (its result is freed when it ends, and its thread is busy
//! until then).
//!
//! ```
//! use dusk_core::{Data, Graph, Key, LiteralOp};
//! use dusk_scheduler::distributed::{Client, LocalCluster};
//!
//! let cluster = LocalCluster::threads(2, 1).unwrap();
//! let client = Client::connect(cluster.address()).unwrap();
//! let mut g = Graph::new();
//! g.add(Key::new("x"), LiteralOp::new(Data::encode(&41u64).unwrap()), vec![]);
//! let out = client.get(&g, &[Key::new("x")]).unwrap();
//! assert_eq!(out[0].decode::<u64>().unwrap(), 41);
//! ```

pub mod client;
pub mod cluster;
pub mod connection;
pub mod frame;
pub mod message;
pub mod server;
pub mod state;
pub mod store;
pub mod worker;

pub use client::{AsCompleted, Client, FutureStatus, RemoteFuture};
pub use cluster::LocalCluster;
pub use server::{SchedulerConfig, SchedulerHandle};
pub use worker::{WorkerConfig, WorkerHandle, WorkerStats};

/// What can go wrong talking to a cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DistributedError {
    /// A socket or frame problem.
    #[error(transparent)]
    Frame(#[from] frame::FrameError),
    /// The peer refused us (another build, another protocol).
    #[error("connection refused by the peer: {0}")]
    Refused(String),
    /// The handshake went wrong.
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// Could not connect or listen.
    #[error("could not {action} {address}: {source}")]
    Io {
        /// `connect to` or `listen on`.
        action: &'static str,
        /// The address.
        address: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An address is not `tcp://HOST:PORT` or `HOST:PORT`.
    #[error("invalid address `{0}`: expected tcp://HOST:PORT")]
    BadAddress(String),
    /// The scheduler went away.
    #[error("lost the connection to the scheduler: {0}")]
    SchedulerLost(String),
    /// The cluster could not be started.
    #[error("could not start the cluster: {0}")]
    Cluster(String),
    /// A setting of a worker or scheduler is out of range.
    #[error("invalid setting: {0}")]
    Setting(String),
}

/// Strips an optional `tcp://` scheme.
///
/// ```
/// use dusk_scheduler::distributed::parse_address;
/// assert_eq!(parse_address("tcp://127.0.0.1:8786").unwrap(), "127.0.0.1:8786");
/// assert_eq!(parse_address("localhost:1").unwrap(), "localhost:1");
/// assert!(parse_address("udp://x:1").is_err());
/// assert!(parse_address("nohost").is_err());
/// ```
pub fn parse_address(address: &str) -> Result<String, DistributedError> {
    let a = address.trim();
    let rest = a.strip_prefix("tcp://").unwrap_or(a);
    if rest.contains("://") || !rest.contains(':') {
        return Err(DistributedError::BadAddress(address.to_string()));
    }
    Ok(rest.to_string())
}

/// The single-threaded tokio runtime each scheduler, worker and client thread runs its
/// connections on.
pub(crate) fn current_thread_runtime() -> Result<tokio::runtime::Runtime, DistributedError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DistributedError::Cluster(e.to_string()))
}

/// Logs a warning to standard error (malformed frames, lost peers). Silence with
/// `DUSK_LOG=off`.
pub(crate) fn log_warn(args: std::fmt::Arguments<'_>) {
    if log_level() >= 1 {
        eprintln!("dusk: {args}");
    }
}

/// Logs routine events (connections) when `DUSK_LOG=info` or `debug`.
pub(crate) fn log_info(args: std::fmt::Arguments<'_>) {
    if log_level() >= 2 {
        eprintln!("dusk: {args}");
    }
}

fn log_level() -> u8 {
    static LEVEL: std::sync::OnceLock<u8> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| match std::env::var("DUSK_LOG").as_deref() {
        Ok("off") | Ok("0") | Ok("none") => 0,
        Ok("info") | Ok("debug") => 2,
        _ => 1,
    })
}
