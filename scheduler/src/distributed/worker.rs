//! The worker: runs tasks on a thread pool, keeps their results, and serves them to peers.
//!
//! A worker has two faces. To the scheduler it is a connection that receives batches of tasks
//! and answers with batches of results. To everyone else it is a small data server on its own
//! port: peer workers and clients ask it for results by task number and it streams their bytes
//! back. Inputs therefore travel worker to worker, never through the scheduler, which would
//! otherwise become the bottleneck of every shuffle.
//!
//! Ops run on plain threads, not on the async runtime, so a long task never stalls the
//! networking; a task's panic is caught and reported as that task's error.
//!
//! A worker whose results hold more memory than its pause threshold even after spilling
//! pauses (see [`super::store`]): it tells the scheduler, starts no new task, and hands back
//! the tasks it has not started — and any sent to it before the scheduler heard — so other
//! workers run them. It keeps serving its results to peers, and resumes, telling the
//! scheduler, once memory is back under the threshold.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use dusk_core::{Data, Key, WireOp};
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::connection::{self, FrameReader, Sender};
use super::frame::FrameLimits;
use super::message::{
    data_from_wire, data_to_wire, ComputeTask, DataHeader, DataKind, Failed, Finished, Heartbeat,
    Message, Role, TaskId, WorkerInfo, INLINE_LIMIT,
};
use super::store::{check_fraction, MemoryPause, Store, PAUSE_FRACTION, SPILL_FRACTION};
use super::{log_info, log_warn, parse_address, DistributedError};

/// Settings of a worker.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The scheduler's address, `tcp://HOST:PORT` or `HOST:PORT`.
    pub scheduler: String,
    /// Threads running tasks.
    pub nthreads: usize,
    /// Memory limit in bytes (0: none): past `memory_target_fraction` of it results spill to
    /// disk, past `memory_pause_fraction` the worker pauses.
    pub memory_limit: u64,
    /// The share of the memory limit kept in memory before the least recently used results
    /// spill to disk (Dask's `distributed.worker.memory.target`; `None`: never spill).
    pub memory_target_fraction: Option<f64>,
    /// The share of the memory limit past which the worker pauses: it starts no new task until
    /// its results are back under it (Dask's `distributed.worker.memory.pause`; `None`: never
    /// pause).
    pub memory_pause_fraction: Option<f64>,
    /// A display name.
    pub name: String,
    /// How often to tell the scheduler the worker is alive.
    pub heartbeat: Duration,
    /// How long to keep trying to reach a scheduler that is not up yet.
    pub connect_timeout: Duration,
    /// Frame limits.
    pub limits: FrameLimits,
}

impl WorkerConfig {
    /// A worker of `nthreads` threads for the scheduler at `scheduler`.
    ///
    /// ```
    /// let c = dusk_scheduler::distributed::WorkerConfig::new("tcp://127.0.0.1:8786", 2);
    /// assert_eq!(c.nthreads, 2);
    /// ```
    pub fn new(scheduler: impl Into<String>, nthreads: usize) -> WorkerConfig {
        WorkerConfig {
            scheduler: scheduler.into(),
            nthreads: nthreads.max(1),
            memory_limit: 0,
            memory_target_fraction: Some(SPILL_FRACTION),
            memory_pause_fraction: Some(PAUSE_FRACTION),
            name: format!("worker-{}", std::process::id()),
            heartbeat: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(10),
            limits: FrameLimits::default(),
        }
    }
}

/// Counters of one worker, readable while it runs.
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// Tasks run.
    pub tasks_run: AtomicU64,
    /// Inputs fetched from other workers.
    pub peer_fetches: AtomicU64,
    /// Bytes of those inputs.
    pub peer_bytes: AtomicU64,
    /// Results held.
    pub stored: AtomicU64,
    /// Bytes held in memory (by `Data::sizeof`).
    pub stored_bytes: AtomicU64,
    /// Bytes of results spilled to disk (see [`super::store`]).
    pub spilled_bytes: AtomicU64,
    /// Whether the worker is paused: its results hold more memory than its pause threshold,
    /// so it starts no new task (see [`super::store`]).
    pub paused: AtomicBool,
}

impl WorkerStats {
    fn record(&self, store: &Store) {
        self.stored.store(store.len() as u64, Ordering::Relaxed);
        self.stored_bytes
            .store(store.memory_bytes(), Ordering::Relaxed);
        self.spilled_bytes
            .store(store.spilled_bytes(), Ordering::Relaxed);
    }

    fn snapshot(&self) -> Heartbeat {
        Heartbeat {
            tasks_run: self.tasks_run.load(Ordering::Relaxed),
            peer_fetches: self.peer_fetches.load(Ordering::Relaxed),
            peer_bytes: self.peer_bytes.load(Ordering::Relaxed),
            stored: self.stored.load(Ordering::Relaxed),
            stored_bytes: self.stored_bytes.load(Ordering::Relaxed),
            paused: self.paused.load(Ordering::Relaxed),
        }
    }
}

/// A worker running on its own threads; stops (abruptly, like a killed process) when dropped.
pub struct WorkerHandle {
    data_addr: String,
    stats: Arc<WorkerStats>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WorkerHandle {
    /// Starts a worker and returns once the scheduler has accepted it.
    pub fn start(config: WorkerConfig) -> Result<WorkerHandle, DistributedError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let stats = Arc::new(WorkerStats::default());
        let st = stats.clone();
        let thread = std::thread::Builder::new()
            .name("dusk-worker".into())
            .spawn(move || {
                let rt = match super::current_thread_runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let stop = async {
                        let _ = stop_rx.await;
                    };
                    if let Err(e) = run(config, st, Some(ready_tx.clone()), stop).await {
                        let _ = ready_tx.send(Err(e));
                    }
                });
            })
            .map_err(|e| DistributedError::Cluster(e.to_string()))?;
        let data_addr = ready_rx
            .recv()
            .map_err(|_| DistributedError::Cluster("the worker thread died".into()))??;
        Ok(WorkerHandle {
            data_addr,
            stats,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Where the worker serves data.
    pub fn data_address(&self) -> &str {
        &self.data_addr
    }

    /// The worker's counters.
    pub fn stats(&self) -> &WorkerStats {
        &self.stats
    }

    /// Stops the worker at once: connections drop, results are lost, running tasks are
    /// abandoned — what the scheduler sees when a worker process is killed.
    pub fn kill(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Runs a worker on the current thread until the scheduler goes away (the `dusk worker`
/// command).
pub fn run_blocking(config: WorkerConfig) -> Result<(), DistributedError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DistributedError::Cluster(e.to_string()))?;
    let stats = Arc::new(WorkerStats::default());
    rt.block_on(run(config, stats, None, std::future::pending()))
}

type Shared = Arc<Mutex<Store>>;

fn lock(store: &Shared) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

struct Job {
    id: TaskId,
    key: Key,
    op: Arc<WireOp>,
    inputs: Vec<Data>,
    wanted: bool,
}

type JobResult = (TaskId, bool, Result<Data, String>);

/// The tasks waiting for a thread. Unlike a channel, it lets the scheduler take back (steal)
/// tasks that have not started.
#[derive(Default)]
struct JobQueue {
    jobs: Mutex<(std::collections::VecDeque<Job>, bool)>,
    ready: std::sync::Condvar,
}

impl JobQueue {
    /// Queues `jobs` under one lock, waking the threads once.
    fn push_many(&self, jobs: &mut Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        let one = jobs.len() == 1;
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .extend(jobs.drain(..));
        if one {
            self.ready.notify_one();
        } else {
            self.ready.notify_all();
        }
    }

    /// The next job; `None` once closed.
    fn pop(&self) -> Option<Job> {
        let mut q = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if q.1 {
                return None;
            }
            if let Some(j) = q.0.pop_front() {
                return Some(j);
            }
            q = self.ready.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Removes the jobs among `ids` that have not started; returns their ids.
    fn steal(&self, ids: &[TaskId]) -> Vec<TaskId> {
        let mut q = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let mut taken = Vec::new();
        q.0.retain(|j| {
            let steal = ids.contains(&j.id);
            if steal {
                taken.push(j.id);
            }
            !steal
        });
        taken
    }

    /// Removes every job that has not started; returns their ids.
    fn take_all(&self) -> Vec<TaskId> {
        let mut q = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        q.0.drain(..).map(|j| j.id).collect()
    }

    fn close(&self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.ready.notify_all();
    }
}

enum Internal {
    Fetched {
        task: ComputeTask,
        result: Result<FxHashMap<TaskId, Data>, (String, bool)>,
    },
}

async fn run(
    config: WorkerConfig,
    stats: Arc<WorkerStats>,
    ready: Option<std::sync::mpsc::Sender<Result<String, DistributedError>>>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), DistributedError> {
    let address = parse_address(&config.scheduler)?;
    let setting = |what: &str, value| {
        check_fraction(what, value).map_err(|e| DistributedError::Setting(e.to_string()))
    };
    let target_fraction = setting("memory target fraction", config.memory_target_fraction)?;
    let pause_fraction = setting("memory pause fraction", config.memory_pause_fraction)?;
    // A scheduler started at the same time may not listen yet: retry for a while.
    let deadline = tokio::time::Instant::now() + config.connect_timeout;
    let stream = loop {
        match TcpStream::connect(&address).await {
            Ok(s) => break s,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(source) => {
                return Err(DistributedError::Io {
                    action: "connect to",
                    address: address.clone(),
                    source,
                })
            }
        }
    };
    let local_ip = stream
        .local_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| "127.0.0.1".into());
    let listen = format!("{local_ip}:0");
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|source| DistributedError::Io {
            action: "listen on",
            address: listen.clone(),
            source,
        })?;
    let data_addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .map_err(|source| DistributedError::Io {
            action: "listen on",
            address: listen,
            source,
        })?;
    let info = WorkerInfo {
        name: config.name.clone(),
        nthreads: config.nthreads as u32,
        memory_limit: config.memory_limit,
        data_addr: data_addr.clone(),
    };
    let (mut reader, write, _id) =
        connection::handshake(stream, Role::Worker(info), config.limits).await?;
    let scheduler = connection::spawn_writer(write);
    if let Some(r) = &ready {
        let _ = r.send(Ok(data_addr.clone()));
    }

    let store: Shared = Arc::new(Mutex::new(Store::new(
        config.memory_limit,
        target_fraction,
        &config.name,
    )));
    let mut pause = MemoryPause::new(config.memory_limit, pause_fraction);
    let server = tokio::spawn(serve_data(listener, store.clone(), config.limits));

    // The thread pool.
    let job_tx = Arc::new(JobQueue::default());
    let (result_tx, mut results) = mpsc::unbounded_channel::<JobResult>();
    for i in 0..config.nthreads {
        let rx = job_tx.clone();
        let tx = result_tx.clone();
        let name = config.name.clone();
        let _ = std::thread::Builder::new()
            .name(format!("dusk-task-{i}"))
            .spawn(move || run_jobs(&name, &rx, &tx));
    }
    drop(result_tx);

    let (internal_tx, mut internal) = mpsc::unbounded_channel::<Internal>();
    let mut heartbeat = tokio::time::interval(config.heartbeat);
    let pool: Pool = Arc::default();
    // Tasks whose inputs are being fetched, and those of them cancelled meanwhile.
    let mut fetching: FxHashSet<TaskId> = FxHashSet::default();
    let mut cancelled: FxHashSet<TaskId> = FxHashSet::default();
    tokio::pin!(stop);
    let outcome = loop {
        tokio::select! {
            _ = &mut stop => break Ok(()),
            _ = heartbeat.tick() => {
                let _ = scheduler.send(Message::Heartbeat(stats.snapshot()).into());
            }
            frame = reader.read() => match frame {
                Ok(Some((Message::Compute { tasks }, _))) => {
                    if pause.is_paused() {
                        // Sent before the scheduler heard: for other workers to run.
                        let ids = tasks.iter().map(|t| t.id).collect();
                        let _ = scheduler.send(Message::Stolen { ids }.into());
                        continue;
                    }
                    let mut batch = Vec::with_capacity(tasks.len());
                    for task in tasks {
                        // Sent again after a cancel: it is wanted after all.
                        let id = task.id;
                        cancelled.remove(&id);
                        if start_task(task, &store, &mut batch, &internal_tx, &scheduler, &stats, &pool) {
                            fetching.insert(id);
                        }
                    }
                    job_tx.push_many(&mut batch);
                }
                Ok(Some((Message::CancelCompute { ids }, _))) => {
                    // Queued jobs go now; tasks still fetching inputs are dropped once the
                    // inputs arrive; a running task finishes and its result is freed.
                    let dropped = job_tx.steal(&ids);
                    for id in ids {
                        if !dropped.contains(&id) && fetching.contains(&id) {
                            cancelled.insert(id);
                        }
                    }
                }
                Ok(Some((Message::Steal { ids }, _))) => {
                    let ids = job_tx.steal(&ids);
                    let _ = scheduler.send(Message::Stolen { ids }.into());
                }
                Ok(Some((Message::Free { ids }, _))) => {
                    let change = {
                        let mut s = lock(&store);
                        for id in ids {
                            s.remove(id);
                        }
                        stats.record(&s);
                        pause.observe(s.memory_bytes())
                    };
                    if let Some(paused) = change {
                        pause_or_resume(paused, &config.name, &job_tx, &scheduler, &stats);
                    }
                }
                Ok(Some((other, _))) => log_warn(format_args!(
                    "worker ignoring unexpected {}",
                    connection::message_name(&other)
                )),
                Ok(None) => {
                    log_warn(format_args!("{}: the scheduler closed the connection; stopping", config.name));
                    break Ok(());
                }
                Err(e) => break Err(DistributedError::SchedulerLost(e.to_string())),
            },
            Some(first) = results.recv() => {
                let mut finished = Vec::new();
                let mut inline = Vec::new();
                let mut failed = Vec::new();
                let mut next = Some(first);
                let change = {
                    let mut s = lock(&store);
                    while let Some((id, wanted, out)) = next.take() {
                        stats.tasks_run.fetch_add(1, Ordering::Relaxed);
                        match out {
                            Ok(data) => {
                                let nbytes = data.sizeof() as u64;
                                let mut item = Finished { id, nbytes, inline: 0, kind: None };
                                if wanted && (nbytes as usize) <= INLINE_LIMIT {
                                    let (kind, bytes) = data_to_wire(&data);
                                    if !matches!(kind, DataKind::Unsendable(_)) {
                                        item.inline = bytes.len() as u64;
                                        item.kind = Some(kind);
                                        inline.push(bytes);
                                    }
                                }
                                s.insert(id, data);
                                finished.push(item);
                            }
                            Err(error) => failed.push(Failed { id, error, missing_input: false }),
                        }
                        next = results.try_recv().ok();
                    }
                    stats.record(&s);
                    pause.observe(s.memory_bytes())
                };
                // Before the news of these results, so their dependents go elsewhere.
                if let Some(paused) = change {
                    pause_or_resume(paused, &config.name, &job_tx, &scheduler, &stats);
                }
                if !finished.is_empty() {
                    let _ = scheduler.send(connection::Outgoing {
                        message: Message::Finished { items: finished },
                        payload: inline,
                    });
                }
                if !failed.is_empty() {
                    let _ = scheduler.send(Message::Failed { items: failed }.into());
                }
            }
            Some(Internal::Fetched { task, result }) = internal.recv() => {
                fetching.remove(&task.id);
                if cancelled.remove(&task.id) {
                    continue;
                }
                match result {
                    Ok(_) if pause.is_paused() => {
                        let _ = scheduler.send(Message::Stolen { ids: vec![task.id] }.into());
                    }
                    Ok(fetched) => {
                        let mut batch = Vec::with_capacity(1);
                        submit(task, &store, Some(fetched), &mut batch, &scheduler);
                        job_tx.push_many(&mut batch);
                    }
                    Err((error, missing_input)) => {
                        let _ = scheduler.send(Message::Failed {
                            items: vec![Failed { id: task.id, error, missing_input }],
                        }.into());
                    }
                }
            }
        }
    };
    job_tx.close();
    server.abort();
    outcome
}

/// Acts on a change of the pause decision: tells the scheduler first, then, pausing, hands back
/// the tasks not started (the scheduler places them on other workers, or queues them).
fn pause_or_resume(
    paused: bool,
    name: &str,
    jobs: &JobQueue,
    scheduler: &Sender,
    stats: &WorkerStats,
) {
    stats.paused.store(paused, Ordering::Relaxed);
    let _ = scheduler.send(Message::WorkerStatus { paused }.into());
    if paused {
        let ids = jobs.take_all();
        log_info(format_args!(
            "{name}: memory past the pause threshold; pausing, {} tasks handed back",
            ids.len()
        ));
        if !ids.is_empty() {
            let _ = scheduler.send(Message::Stolen { ids }.into());
        }
    } else {
        log_info(format_args!(
            "{name}: memory under the pause threshold; resuming"
        ));
    }
}

/// Queues `task`, or first fetches the inputs this worker lacks; returns whether it fetches.
fn start_task(
    task: ComputeTask,
    store: &Shared,
    jobs: &mut Vec<Job>,
    internal: &mpsc::UnboundedSender<Internal>,
    scheduler: &Sender,
    stats: &Arc<WorkerStats>,
    pool: &Pool,
) -> bool {
    let missing: Vec<TaskId> = if task.inputs.is_empty() {
        Vec::new()
    } else {
        let s = lock(store);
        let mut m: Vec<TaskId> = task
            .inputs
            .iter()
            .copied()
            .filter(|i| !s.contains(*i))
            .collect();
        m.sort_unstable();
        m.dedup();
        m
    };
    if missing.is_empty() {
        submit(task, store, None, jobs, scheduler);
        return false;
    }
    let internal = internal.clone();
    let stats = stats.clone();
    let pool = pool.clone();
    tokio::spawn(async move {
        let result = fetch_inputs(&task, &missing, &stats, &pool).await;
        let _ = internal.send(Internal::Fetched { task, result });
    });
    true
}

async fn fetch_inputs(
    task: &ComputeTask,
    missing: &[TaskId],
    stats: &WorkerStats,
    pool: &Pool,
) -> Result<FxHashMap<TaskId, Data>, (String, bool)> {
    let mut by_addr: FxHashMap<&str, Vec<TaskId>> = FxHashMap::default();
    for id in missing {
        let Some((_, addr)) = task.who_has.iter().find(|(x, _)| x == id) else {
            return Err((
                format!("no worker holds input #{id} of task {}", task.key),
                true,
            ));
        };
        by_addr.entry(addr.as_str()).or_default().push(*id);
    }
    let mut out = FxHashMap::default();
    for (addr, ids) in by_addr {
        let got = fetch_pooled(pool, addr, &ids).await.map_err(|e| {
            (
                format!(
                    "could not fetch inputs of task {} from {addr}: {e}",
                    task.key
                ),
                e.retryable() || matches!(e, FetchError::Missing(_)),
            )
        })?;
        for (id, data) in got {
            stats.peer_fetches.fetch_add(1, Ordering::Relaxed);
            stats
                .peer_bytes
                .fetch_add(data.sizeof() as u64, Ordering::Relaxed);
            out.insert(id, data);
        }
    }
    Ok(out)
}

/// An open data connection to a worker.
pub type PeerConn = (FrameReader, tokio::net::tcp::OwnedWriteHalf);

/// Idle data connections by worker address, reused so that a fetch costs one round trip
/// rather than a TCP connect and a handshake.
pub type Pool = Arc<tokio::sync::Mutex<FxHashMap<String, Vec<PeerConn>>>>;

/// Asks the worker serving data at `addr` for the results of `ids`, on a pooled connection.
pub async fn fetch_pooled(
    pool: &Pool,
    addr: &str,
    ids: &[TaskId],
) -> Result<Vec<(TaskId, Data)>, FetchError> {
    let unreachable = |e: &dyn std::fmt::Display| FetchError::Unreachable(e.to_string());
    let conn = pool.lock().await.get_mut(addr).and_then(|v| v.pop());
    let (mut reader, mut write) = match conn {
        Some(c) => c,
        None => {
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|e| unreachable(&e))?;
            let (r, w, _) = connection::handshake(stream, Role::Peer, FrameLimits::default())
                .await
                .map_err(|e| unreachable(&e))?;
            (r, w)
        }
    };
    let out = request(&mut reader, &mut write, ids).await?;
    pool.lock()
        .await
        .entry(addr.to_string())
        .or_default()
        .push((reader, write));
    Ok(out)
}

/// Sends one `GetData` on an open peer connection and decodes the reply.
pub async fn request(
    reader: &mut FrameReader,
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    ids: &[TaskId],
) -> Result<Vec<(TaskId, Data)>, FetchError> {
    connection::write_now(write, &Message::GetData { ids: ids.to_vec() })
        .await
        .map_err(|e| FetchError::Unreachable(e.to_string()))?;
    match reader.read().await {
        Ok(Some((Message::Data { items }, payload))) => decode_items(&items, &payload),
        Ok(Some((other, _))) => Err(FetchError::Unsendable(format!(
            "unexpected reply {}",
            connection::message_name(&other)
        ))),
        Ok(None) => Err(FetchError::Unreachable(
            "the worker closed the connection".into(),
        )),
        Err(e) => Err(FetchError::Unreachable(e.to_string())),
    }
}

/// Why results could not be fetched from a worker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The worker could not be reached (it may have died): worth trying again once the
    /// scheduler has reacted.
    #[error("{0}")]
    Unreachable(String),
    /// The worker answered but does not hold the result.
    #[error("the worker no longer holds result #{0}")]
    Missing(TaskId),
    /// The result cannot cross the network, or arrived corrupt; trying again will not help.
    #[error("{0}")]
    Unsendable(String),
}

impl FetchError {
    /// Whether trying again later may succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, FetchError::Unreachable(_))
    }
}

fn decode_items(items: &[DataHeader], payload: &Bytes) -> Result<Vec<(TaskId, Data)>, FetchError> {
    let mut out = Vec::with_capacity(items.len());
    let mut at = 0usize;
    for h in items {
        let end = at
            .checked_add(h.len as usize)
            .filter(|e| *e <= payload.len())
            .ok_or_else(|| FetchError::Unsendable("data payload shorter than announced".into()))?;
        match data_from_wire(&h.kind, &payload[at..end]).map_err(FetchError::Unsendable)? {
            Some(d) => out.push((h.id, d)),
            None => return Err(FetchError::Missing(h.id)),
        }
        at = end;
    }
    Ok(out)
}

fn submit(
    task: ComputeTask,
    store: &Shared,
    mut fetched: Option<FxHashMap<TaskId, Data>>,
    jobs: &mut Vec<Job>,
    scheduler: &Sender,
) {
    let inputs: Result<Vec<Data>, String> = if task.inputs.is_empty() {
        Ok(Vec::new())
    } else {
        let mut s = lock(store);
        task.inputs
            .iter()
            .map(|&i| match s.get(i) {
                Some(Ok(d)) => Ok(d),
                Some(Err(why)) => Err(why),
                None => fetched
                    .as_mut()
                    .and_then(|f| f.get(&i))
                    .cloned()
                    .ok_or_else(|| format!("input #{i} of task {} vanished", task.key)),
            })
            .collect()
    };
    match inputs {
        Ok(inputs) => {
            jobs.push(Job {
                id: task.id,
                key: task.key,
                op: task.op,
                inputs,
                wanted: task.wanted,
            });
        }
        Err(missing) => {
            let _ = scheduler.send(
                Message::Failed {
                    items: vec![Failed {
                        id: task.id,
                        error: missing,
                        missing_input: true,
                    }],
                }
                .into(),
            );
        }
    }
}

/// A task thread: runs jobs until the queue closes, sending each result as it is made.
fn run_jobs(name: &str, jobs: &JobQueue, results: &mpsc::UnboundedSender<JobResult>) {
    while let Some(job) = jobs.pop() {
        let out = run_job(name, job.key, &job.op, job.inputs);
        if results.send((job.id, job.wanted, out)).is_err() {
            return;
        }
    }
}

fn run_job(worker: &str, key: Key, op: &WireOp, inputs: Vec<Data>) -> Result<Data, String> {
    let op = op
        .decode()
        .map_err(|e| format!("{worker} cannot run task {key}: {e}"))?;
    match catch_unwind(AssertUnwindSafe(|| op.run(inputs))) {
        Ok(Ok(Data::Local(v))) if !v.is_sendable() => Err(format!(
            "task {key} returned a process-local value of type {}, which cannot leave the \
             worker; ops run on a cluster must return serialized data (Data::encode) or \
             sendable values (Data::local_sendable)",
            v.type_name()
        )),
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(format!("task {key} panicked: {msg}"))
        }
    }
}

async fn serve_data(listener: TcpListener, store: Shared, limits: FrameLimits) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // Out of file descriptors or similar: do not spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let store = store.clone();
        tokio::spawn(async move {
            let (mut reader, mut write, _hello) = match connection::accept(stream, limits).await {
                Ok(x) => x,
                Err(e) => {
                    log_warn(format_args!("closing data connection from {peer}: {e}"));
                    return;
                }
            };
            if connection::write_now(&mut write, &Message::Welcome { id: 0 })
                .await
                .is_err()
            {
                return;
            }
            let tx = connection::spawn_writer(write);
            loop {
                match reader.read().await {
                    Ok(Some((Message::GetData { ids }, _))) => {
                        let mut items = Vec::with_capacity(ids.len());
                        let mut payload = Vec::with_capacity(ids.len());
                        {
                            let mut s = lock(&store);
                            for id in ids {
                                let (kind, bytes) = s.wire(id);
                                items.push(DataHeader {
                                    id,
                                    kind,
                                    len: bytes.len() as u64,
                                });
                                payload.push(bytes);
                            }
                        }
                        let _ = tx.send(connection::Outgoing {
                            message: Message::Data { items },
                            payload,
                        });
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => return,
                    Err(e) => {
                        log_warn(format_args!("closing data connection from {peer}: {e}"));
                        return;
                    }
                }
            }
        });
    }
}
