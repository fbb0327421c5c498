//! The scheduler: accepts workers and clients, and drives the [state machine](super::state).
//!
//! Every connection gets two small tasks — a reader turning frames into events, a writer
//! coalescing outgoing messages — and all events go to **one** loop that owns the
//! [`SchedulerState`]. That loop is the only place decisions are made, so the state needs no
//! locks, and it handles events in batches: it takes every event already waiting, lets the state
//! machine react to all of them, and only then sends what the [`Outbox`] collected, one message
//! per recipient. Under load, batches grow and the cost per task falls.
//!
//! A connection that sends a malformed frame is closed with its reason logged; the loop and
//! every other connection carry on.
//!
//! **Large graphs do not stall the loop.** A client's graph is prepared by its connection's
//! reader ([`PreparedGraph`]: keys resolved, tasks ordered), on the blocking pool when its frame
//! is large, so decoding a million tasks never runs on the loop's thread. A graph of more than
//! [`SchedulerConfig::graph_slice`] tasks is then taken in that many tasks per turn of the loop
//! ([`SchedulerState::continue_graph`]); between turns the loop answers everyone else, so a
//! small submission from another client waits for one slice, not for the whole graph. Until
//! its graph is in, that client's reader reads nothing more from it, so the client's later
//! messages (releasing a key, another graph) still come after it.
//!
//! Releasing such a graph is sliced the same way: the tasks its last key leaves unneeded are
//! released and forgotten a slice per turn ([`SchedulerState::release_some`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dusk_core::Key;
use rustc_hash::FxHashMap;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::connection::{self, message_name, Sender};
use super::frame::{FrameError, FrameLimits, RawFrame};
use super::message::{
    ComputeTask, DataKind, Heartbeat, KeyReady, Message, Role, SchedulerInfo, TaskId,
};
use super::state::{GraphIntake, GraphRefused, Outbox, PreparedGraph, SchedulerState, StateConfig};
use super::{log_info, log_warn, DistributedError};

/// Settings of a scheduler.
#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// Where to listen, `HOST:PORT` (port 0 picks a free one).
    pub listen: String,
    /// Task state machine settings.
    pub state: StateConfig,
    /// A worker silent for this long is considered dead.
    pub heartbeat_timeout: Duration,
    /// Frame limits.
    pub limits: FrameLimits,
    /// A graph of more tasks than this is taken in this many tasks per turn of the event loop,
    /// answering other connections in between.
    pub graph_slice: usize,
}

/// The default of [`SchedulerConfig::graph_slice`]: a few milliseconds of work per turn.
///
/// ```
/// use dusk_scheduler::distributed::server::{SchedulerConfig, GRAPH_SLICE};
/// assert_eq!(SchedulerConfig::default().graph_slice, GRAPH_SLICE);
/// ```
pub const GRAPH_SLICE: usize = 4096;

/// Frame headers larger than this are decoded on the blocking pool rather than on the thread
/// of the event loop (a graph of a few thousand tasks is about this size).
///
/// ```
/// use dusk_scheduler::distributed::server::DECODE_ASIDE_BYTES;
/// assert_eq!(DECODE_ASIDE_BYTES, 256 * 1024);
/// ```
pub const DECODE_ASIDE_BYTES: usize = 256 * 1024;

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            listen: "127.0.0.1:0".to_string(),
            state: StateConfig::default(),
            heartbeat_timeout: Duration::from_secs(10),
            limits: FrameLimits::default(),
            graph_slice: GRAPH_SLICE,
        }
    }
}

enum Event {
    Connected {
        conn: u64,
        role: Role,
        tx: Sender,
    },
    Message {
        conn: u64,
        message: Message,
        payload: Bytes,
    },
    /// A client's graph, prepared. `taken`, when present, is answered once the whole graph is
    /// in; the connection reads nothing more until then.
    Graph {
        conn: u64,
        graph: Box<PreparedGraph>,
        taken: Option<oneshot::Sender<()>>,
    },
    Closed {
        conn: u64,
    },
}

/// A running scheduler; stops when dropped.
pub struct SchedulerHandle {
    address: String,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SchedulerHandle {
    /// Starts a scheduler on its own thread and returns once it listens.
    pub fn start(config: SchedulerConfig) -> Result<SchedulerHandle, DistributedError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("dusk-scheduler".into())
            .spawn(move || {
                let rt = match super::current_thread_runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    match TcpListener::bind(&config.listen).await {
                        Ok(listener) => {
                            let addr = listener
                                .local_addr()
                                .map(|a| a.to_string())
                                .unwrap_or_default();
                            let _ = ready_tx.send(Ok(addr));
                            serve(listener, config, async {
                                let _ = stop_rx.await;
                            })
                            .await;
                        }
                        Err(source) => {
                            let _ = ready_tx.send(Err(DistributedError::Io {
                                action: "listen on",
                                address: config.listen.clone(),
                                source,
                            }));
                        }
                    }
                });
            })
            .map_err(|e| DistributedError::Cluster(e.to_string()))?;
        let address = ready_rx
            .recv()
            .map_err(|_| DistributedError::Cluster("the scheduler thread died".into()))??;
        Ok(SchedulerHandle {
            address,
            shutdown: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address clients and workers connect to, `HOST:PORT`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl Drop for SchedulerHandle {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs a scheduler on `listener` in the current runtime until `stop` completes.
pub async fn serve(
    listener: TcpListener,
    config: SchedulerConfig,
    stop: impl std::future::Future<Output = ()>,
) {
    let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
    let next_conn = Arc::new(AtomicU64::new(1));
    let limits = config.limits;
    let slice = config.graph_slice.max(1);
    let accept_tx = events_tx.clone();
    let acceptor = tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                // Out of file descriptors or similar: do not spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let tx = accept_tx.clone();
            let conn = next_conn.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(handle_connection(stream, peer, conn, limits, slice, tx));
        }
    });
    let mut sched = Scheduler {
        state: SchedulerState::new(config.state),
        workers: FxHashMap::default(),
        clients: FxHashMap::default(),
        heartbeat_timeout: config.heartbeat_timeout,
        last_tick: Instant::now(),
        inline: FxHashMap::default(),
        intakes: VecDeque::new(),
        slice,
    };
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tokio::pin!(stop);
    loop {
        // Large graphs arriving or released: their work goes a slice per turn.
        let sliced_work = !sched.intakes.is_empty() || sched.state.is_releasing();
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {
                let mut out = Outbox::default();
                sched.tick(&mut out);
                sched.flush(out);
            }
            ev = events.recv(), if !sliced_work => {
                let Some(ev) = ev else { break };
                let mut out = Outbox::default();
                sched.handle(ev, &mut out);
                sched.handle_waiting(&mut events, &mut out);
                sched.flush(out);
            }
            _ = std::future::ready(()), if sliced_work => {
                // Whoever spoke since the last slice is answered before the next slice.
                let mut out = Outbox::default();
                sched.handle_waiting(&mut events, &mut out);
                sched.take_in_slice(&mut out);
                sched.state.release_some(sched.slice, &mut out);
                sched.flush(out);
                // Let the connections' readers run: their messages are handled next turn.
                tokio::task::yield_now().await;
            }
        }
    }
    acceptor.abort();
}

/// What a connection's reader made of one frame.
enum Incoming {
    Message(Message, Bytes),
    Graph(Box<PreparedGraph>),
}

/// Decodes a frame; a client's graph is prepared too (see [`PreparedGraph`]).
fn decode_incoming(raw: RawFrame, from_client: bool) -> Result<Incoming, FrameError> {
    let (message, payload) = raw.decode()?;
    Ok(match message {
        Message::UpdateGraph {
            tasks,
            wanted,
            wanted_tasks,
            retries,
        } if from_client => Incoming::Graph(Box::new(PreparedGraph::new(
            tasks,
            wanted,
            wanted_tasks,
            retries,
        ))),
        other => Incoming::Message(other, payload),
    })
}

async fn handle_connection(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    conn: u64,
    limits: FrameLimits,
    slice: usize,
    events: mpsc::UnboundedSender<Event>,
) {
    let (mut reader, mut write, hello) = match connection::accept(stream, limits).await {
        Ok(x) => x,
        Err(e) => {
            log_warn(format_args!("closing connection from {peer}: {e}"));
            return;
        }
    };
    if matches!(hello.role, Role::Peer) {
        let _ = connection::write_now(
            &mut write,
            &Message::Refused {
                reason: "this is a scheduler; ask workers for data".into(),
            },
        )
        .await;
        return;
    }
    if connection::write_now(&mut write, &Message::Welcome { id: conn })
        .await
        .is_err()
    {
        return;
    }
    let tx = connection::spawn_writer(write);
    log_info(format_args!("{peer} connected as {:?}", hello.role));
    let from_client = matches!(hello.role, Role::Client);
    if events
        .send(Event::Connected {
            conn,
            role: hello.role,
            tx,
        })
        .is_err()
    {
        return;
    }
    loop {
        let raw = match reader.read_raw().await {
            Ok(Some(raw)) => raw,
            Ok(None) => break,
            Err(e) => {
                log_warn(format_args!("closing connection from {peer}: {e}"));
                break;
            }
        };
        let incoming = if raw.header_len() > DECODE_ASIDE_BYTES {
            match tokio::task::spawn_blocking(move || decode_incoming(raw, from_client)).await {
                Ok(decoded) => decoded,
                Err(e) => Err(FrameError::Header(format!("decoding stopped: {e}"))),
            }
        } else {
            decode_incoming(raw, from_client)
        };
        let event = match incoming {
            Ok(Incoming::Message(message, payload)) => Event::Message {
                conn,
                message,
                payload,
            },
            Ok(Incoming::Graph(graph)) => {
                let (taken, was_taken) = if graph.len() > slice {
                    let (tx, rx) = oneshot::channel();
                    (Some(tx), Some(rx))
                } else {
                    (None, None)
                };
                if events.send(Event::Graph { conn, graph, taken }).is_err() {
                    return;
                }
                // Nothing more from this client until its graph is in: its later messages
                // stay behind it.
                if let Some(rx) = was_taken {
                    let _ = rx.await;
                }
                continue;
            }
            Err(e) => {
                log_warn(format_args!("closing connection from {peer}: {e}"));
                break;
            }
        };
        if events.send(event).is_err() {
            return;
        }
    }
    let _ = events.send(Event::Closed { conn });
}

struct WorkerConn {
    tx: Sender,
    name: String,
    data_addr: String,
    last_seen: Instant,
    heartbeat: Heartbeat,
}

struct Scheduler {
    state: SchedulerState,
    workers: FxHashMap<u64, WorkerConn>,
    clients: FxHashMap<u64, Sender>,
    heartbeat_timeout: Duration,
    last_tick: Instant,
    /// Small results workers sent along with `Finished`, until the next flush.
    inline: FxHashMap<TaskId, (DataKind, Bytes)>,
    /// Large graphs being taken in, a slice per turn, first come first served; each with the
    /// sender telling its connection the graph is in.
    intakes: VecDeque<(GraphIntake, Option<oneshot::Sender<()>>)>,
    /// Tasks taken in per slice.
    slice: usize,
}

impl Scheduler {
    /// Handles the events already waiting, up to a batch.
    fn handle_waiting(&mut self, events: &mut mpsc::UnboundedReceiver<Event>, out: &mut Outbox) {
        for _ in 1..4096 {
            match events.try_recv() {
                Ok(ev) => self.handle(ev, out),
                Err(_) => break,
            }
        }
    }

    /// Takes in one slice of the oldest large graph.
    fn take_in_slice(&mut self, out: &mut Outbox) {
        let Some((intake, _)) = self.intakes.front_mut() else {
            return;
        };
        let result = self.state.continue_graph(intake, self.slice, out);
        if matches!(result, Ok(false)) {
            return;
        }
        let Some((intake, taken)) = self.intakes.pop_front() else {
            return;
        };
        if let Err(e) = result {
            self.refuse(intake.client(), &e, intake.wanted_keys());
        }
        if let Some(taken) = taken {
            let _ = taken.send(());
        }
    }

    fn refuse(&self, conn: u64, error: &GraphRefused, keys: Vec<Key>) {
        if let Some(tx) = self.clients.get(&conn) {
            let _ = tx.send(
                Message::GraphRefused {
                    error: error.to_string(),
                    keys,
                }
                .into(),
            );
        }
    }

    /// A client's graph arrived: small ones are taken in at once, large ones a slice per turn.
    fn graph(
        &mut self,
        conn: u64,
        graph: PreparedGraph,
        taken: Option<oneshot::Sender<()>>,
        out: &mut Outbox,
    ) {
        if !self.clients.contains_key(&conn) {
            return;
        }
        if graph.ignored_positions() > 0 {
            log_warn(format_args!(
                "client {conn} wants {} tasks past the end of a graph of {} tasks; ignored",
                graph.ignored_positions(),
                graph.len()
            ));
        }
        let large = graph.len() > self.slice;
        let mut intake = self.state.begin_graph(conn, graph);
        if large {
            self.intakes.push_back((intake, taken));
            return;
        }
        if let Err(e) = self.state.continue_graph(&mut intake, usize::MAX, out) {
            self.refuse(conn, &e, intake.wanted_keys());
        }
        if let Some(taken) = taken {
            let _ = taken.send(());
        }
    }

    fn handle(&mut self, ev: Event, out: &mut Outbox) {
        match ev {
            Event::Connected { conn, role, tx } => match role {
                Role::Worker(info) => {
                    self.state
                        .add_worker(conn, info.data_addr.clone(), info.nthreads, out);
                    self.workers.insert(
                        conn,
                        WorkerConn {
                            tx,
                            name: info.name,
                            data_addr: info.data_addr,
                            last_seen: Instant::now(),
                            heartbeat: Heartbeat::default(),
                        },
                    );
                }
                Role::Client => {
                    self.state.add_client(conn);
                    self.clients.insert(conn, tx);
                }
                Role::Peer => {}
            },
            Event::Closed { conn } => {
                if self.workers.remove(&conn).is_some() {
                    // With no client connected (a cluster being torn down) this is routine.
                    if self.clients.is_empty() {
                        log_info(format_args!("worker {conn} left"));
                    } else {
                        log_warn(format_args!("worker {conn} left; rescheduling its work"));
                    }
                    self.state.remove_worker(conn, out);
                } else if self.clients.remove(&conn).is_some() {
                    self.state.remove_client(conn, out);
                }
            }
            Event::Graph { conn, graph, taken } => self.graph(conn, *graph, taken, out),
            Event::Message {
                conn,
                message,
                payload,
            } => {
                if let Some(w) = self.workers.get_mut(&conn) {
                    w.last_seen = Instant::now();
                    self.worker_message(conn, message, payload, out);
                } else if self.clients.contains_key(&conn) {
                    self.client_message(conn, message, out);
                }
            }
        }
    }

    fn worker_message(&mut self, conn: u64, message: Message, payload: Bytes, out: &mut Outbox) {
        match message {
            Message::Finished { items } => {
                let mut at = 0usize;
                for f in items {
                    if let Some(kind) = f.kind {
                        let end = at.saturating_add(f.inline as usize);
                        if end <= payload.len() {
                            self.inline.insert(f.id, (kind, payload.slice(at..end)));
                        }
                        at = end;
                    }
                    self.state.task_finished(conn, f.id, f.nbytes, out);
                }
            }
            Message::Failed { items } => {
                for f in items {
                    self.state
                        .task_failed(conn, f.id, f.error, f.missing_input, out);
                }
            }
            Message::Stolen { ids } => self.state.stolen(conn, &ids, out),
            Message::WorkerStatus { paused } => {
                log_info(format_args!(
                    "worker {conn} {}",
                    if paused { "paused" } else { "resumed" }
                ));
                self.state.set_paused(conn, paused, out);
            }
            Message::Heartbeat(h) => {
                if let Some(w) = self.workers.get_mut(&conn) {
                    w.heartbeat = h;
                }
            }
            other => log_warn(format_args!(
                "ignoring unexpected {} from worker {conn}",
                message_name(&other)
            )),
        }
    }

    fn client_message(&mut self, conn: u64, message: Message, out: &mut Outbox) {
        match message {
            Message::UpdateGraph { .. } => {
                // Readers turn client graphs into `Event::Graph`.
                log_warn(format_args!("unprepared graph from client {conn}; ignored"));
            }
            Message::Release { keys } => self.state.release_keys(conn, &keys, out),
            Message::Cancel { keys } => {
                let keys = self.state.cancel_keys(conn, &keys, out);
                log_info(format_args!("client {conn} cancelled {} keys", keys.len()));
                // One reply per request, ahead of this batch's other news (see `cancel_keys`).
                if let Some(tx) = self.clients.get(&conn) {
                    let _ = tx.send(Message::Cancelled { keys }.into());
                }
            }
            Message::GetSchedulerInfo => {
                let info = SchedulerInfo {
                    workers: self.workers.len() as u64,
                    tasks: self.state.len() as u64,
                    queued: self.state.queued() as u64,
                    graphs_arriving: self.intakes.len() as u64,
                    tasks_arriving: self
                        .intakes
                        .iter()
                        .map(|(i, _)| i.tasks_left() as u64)
                        .sum(),
                };
                if let Some(tx) = self.clients.get(&conn) {
                    let _ = tx.send(Message::SchedulerInfo(info).into());
                }
            }
            Message::GetWorkers => {
                let mut items: Vec<(String, String, Heartbeat)> = self
                    .workers
                    .values()
                    .map(|w| (w.name.clone(), w.data_addr.clone(), w.heartbeat))
                    .collect();
                items.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
                if let Some(tx) = self.clients.get(&conn) {
                    let _ = tx.send(Message::Workers { items }.into());
                }
            }
            other => log_warn(format_args!(
                "ignoring unexpected {} from client {conn}",
                message_name(&other)
            )),
        }
    }

    fn tick(&mut self, out: &mut Outbox) {
        let now = Instant::now();
        self.state.measure(now.duration_since(self.last_tick), out);
        self.last_tick = now;
        let dead: Vec<u64> = self
            .workers
            .iter()
            .filter(|(_, w)| now.duration_since(w.last_seen) > self.heartbeat_timeout)
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            log_warn(format_args!(
                "worker {id} missed its heartbeats for {:?}; removing it",
                self.heartbeat_timeout
            ));
            self.workers.remove(&id);
            self.state.remove_worker(id, out);
        }
        self.state.check_no_workers(now, out);
    }

    fn flush(&mut self, mut out: Outbox) {
        // Before `compute`: a task cancelled and placed again in one batch must survive.
        for (w, ids) in out.cancel.drain() {
            if let Some(conn) = self.workers.get(&w) {
                let _ = conn.tx.send(Message::CancelCompute { ids }.into());
            }
        }
        for (w, ids) in out.compute.drain() {
            let Some(conn) = self.workers.get(&w) else {
                continue;
            };
            let mut tasks = Vec::with_capacity(ids.len());
            for id in ids {
                let Some((key, op, inputs, wanted)) = self.state.task(id) else {
                    continue;
                };
                let mut who_has: Vec<(TaskId, String)> = Vec::new();
                for i in inputs {
                    if !self.state.worker_has(w, *i) && !who_has.iter().any(|(x, _)| x == i) {
                        for addr in self.state.who_has(*i) {
                            who_has.push((*i, addr.to_string()));
                        }
                    }
                }
                tasks.push(ComputeTask {
                    id,
                    key: key.clone(),
                    op: op.clone(),
                    inputs: inputs.to_vec(),
                    who_has,
                    wanted,
                });
            }
            let _ = conn.tx.send(Message::Compute { tasks }.into());
        }
        for (w, ids) in out.steal.drain() {
            if let Some(conn) = self.workers.get(&w) {
                let _ = conn.tx.send(Message::Steal { ids }.into());
            }
        }
        for (w, ids) in out.free.drain() {
            if let Some(conn) = self.workers.get(&w) {
                let _ = conn.tx.send(Message::Free { ids }.into());
            }
        }
        for (c, ids) in out.ready.drain() {
            let Some(tx) = self.clients.get(&c) else {
                continue;
            };
            let mut payload = Vec::new();
            let items = ids
                .into_iter()
                .filter_map(|id| {
                    let key = self.state.key_of(id)?.clone();
                    let inline = self.inline.get(&id).map(|(kind, bytes)| {
                        payload.push(bytes.clone());
                        (kind.clone(), bytes.len() as u64)
                    });
                    // A result sent inline needs no address: the client has it.
                    let who_has = match inline {
                        Some(_) => Vec::new(),
                        None => self.state.who_has(id).map(str::to_string).collect(),
                    };
                    Some(KeyReady {
                        key,
                        id,
                        who_has,
                        inline,
                    })
                })
                .collect();
            let _ = tx.send(connection::Outgoing {
                message: Message::Ready { items },
                payload,
            });
        }
        self.inline.clear();
        for (c, items) in out.erred.drain() {
            if let Some(tx) = self.clients.get(&c) {
                let _ = tx.send(Message::Erred { items }.into());
            }
        }
    }
}

/// Runs a scheduler on the current thread until the process ends (the `dusk scheduler`
/// command). `on_listen` receives the address once the scheduler listens.
pub fn run_blocking(
    config: SchedulerConfig,
    on_listen: impl FnOnce(&str),
) -> Result<(), DistributedError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DistributedError::Cluster(e.to_string()))?;
    rt.block_on(async move {
        let listener =
            TcpListener::bind(&config.listen)
                .await
                .map_err(|source| DistributedError::Io {
                    action: "listen on",
                    address: config.listen.clone(),
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        on_listen(&addr);
        serve(listener, config, std::future::pending()).await;
        Ok(())
    })
}
