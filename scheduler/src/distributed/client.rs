//! The client: how a program runs graphs on a cluster.
//!
//! The API is blocking, like the rest of dusk: [`Client::compute`] returns the value. Behind it
//! a small async core on its own thread keeps the connection to the scheduler, counts the
//! references this process holds to each key, and fetches results **directly from the workers**
//! that hold them (the scheduler only says where they are). Dropping the last
//! [`RemoteFuture`] to a key tells the scheduler this client no longer needs it, so the workers
//! free it.
//!
//! Futures follow Dask's: [`Client::submit`], [`Client::map`], [`Client::gather`],
//! [`Client::scatter`], [`Client::wait`], [`Client::as_completed`] (results in the order they
//! finish) and [`Client::cancel`] (stop work no one needs; its `result` says
//! [`ComputeError::Cancelled`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dusk_core::op::BoundOp;
use dusk_core::{
    optimize, Collection, ComputeError, Data, Graph, Key, LiteralOp, Op, OptimizeOptions, Task,
    Tokenizer, WireTask,
};
use rustc_hash::FxHashMap;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::connection::{self, FrameReader, Sender};
use super::frame::FrameLimits;
use super::message::{data_from_wire, Heartbeat, Message, Role, SchedulerInfo, TaskId};
use super::worker::{fetch_pooled, Pool};
use super::{parse_address, DistributedError};

type Reply<T> = std::sync::mpsc::Sender<Result<T, ComputeError>>;

/// What [`AsCompleted`] hears from the core: a key that is done, or the loss of the scheduler.
type Completion = Result<Key, ComputeError>;

enum Request {
    Submit {
        tasks: Vec<WireTask>,
        keys: Vec<Key>,
        retries: u32,
    },
    Gather {
        keys: Vec<Key>,
        reply: Reply<Vec<Data>>,
    },
    Wait {
        keys: Vec<Key>,
        reply: Reply<Vec<Data>>,
    },
    Decref {
        keys: Vec<Key>,
    },
    Workers {
        reply: Reply<Vec<WorkerSummary>>,
    },
    SchedulerInfo {
        reply: Reply<SchedulerInfo>,
    },
    Cancel {
        keys: Vec<Key>,
    },
    /// Send each key on `tx` once it is finished, erred or cancelled (once per occurrence).
    Notify {
        keys: Vec<Key>,
        tx: std::sync::mpsc::Sender<Completion>,
    },
    Status {
        key: Key,
        reply: Reply<FutureStatus>,
    },
    Close,
    Gathered {
        waiter: Waiter,
        result: Result<Vec<Data>, (Vec<Key>, String, bool)>,
    },
}

static DEFAULT: Mutex<Option<Client>> = Mutex::new(None);

/// The client `.compute()` uses when a call does not choose a scheduler: the one made default
/// with [`Client::set_as_default`], else one connected to `DUSK_SCHEDULER=tcp://HOST:PORT`
/// (unless a local scheduler was chosen with [`crate::config::set_scheduler`]). `Ok(None)`
/// means: compute locally.
pub fn default_client() -> Result<Option<Client>, DistributedError> {
    let mut slot = DEFAULT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = slot.as_ref() {
        return Ok(Some(c.clone()));
    }
    if crate::config::scheduler_is_set() {
        return Ok(None);
    }
    match std::env::var("DUSK_SCHEDULER") {
        Ok(v) if v.trim().starts_with("tcp://") => {
            let client = Client::connect(v.trim())?;
            *slot = Some(client.clone());
            Ok(Some(client))
        }
        _ => Ok(None),
    }
}

/// Stops `.compute()` from using a default client: it runs locally again.
pub fn clear_default() {
    DEFAULT.lock().unwrap_or_else(|e| e.into_inner()).take();
}

/// What the scheduler knows about one worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerSummary {
    /// The worker's name.
    pub name: String,
    /// Where it serves data.
    pub data_address: String,
    /// Its counters at its last heartbeat.
    pub counters: Heartbeat,
}

struct Inner {
    tx: mpsc::UnboundedSender<Request>,
    address: String,
    retries: std::sync::atomic::AtomicU32,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the request channel ends the core; the thread then exits.
        let (dead, _) = mpsc::unbounded_channel();
        self.tx = dead;
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// A connection to a cluster's scheduler.
///
/// ```
/// use dusk_core::{Data, Graph, Key, LiteralOp};
/// use dusk_scheduler::distributed::{Client, LocalCluster};
/// let cluster = LocalCluster::threads(1, 1).unwrap();
/// let client = Client::connect(cluster.address()).unwrap();
/// assert_eq!(client.workers().unwrap().len(), 1);
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// A result held on the cluster for this client; dropping the last handle releases it.
pub struct RemoteFuture {
    key: Key,
    client: Client,
}

impl RemoteFuture {
    /// The key of the result.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Waits for the result and fetches it.
    ///
    /// A cancelled future gives [`ComputeError::Cancelled`] naming its key.
    pub fn result(&self) -> Result<Data, ComputeError> {
        let mut v = self.client.gather_keys(std::slice::from_ref(&self.key))?;
        v.pop()
            .ok_or_else(|| ComputeError::Scheduler("no result returned".into()))
    }

    /// Cancels this future and every other handle to its key in this client (Dask's
    /// `future.cancel()`); see [`Client::cancel`].
    ///
    /// ```
    /// use dusk_core::{ComputeError, Data, Graph, Key, LiteralOp};
    /// use dusk_scheduler::distributed::{Client, LocalCluster};
    ///
    /// let cluster = LocalCluster::threads(1, 1).unwrap();
    /// let client = Client::connect(cluster.address()).unwrap();
    /// let mut g = Graph::new();
    /// g.add(Key::new("x"), LiteralOp::new(Data::encode(&1u8).unwrap()), vec![]);
    /// let x = client.submit_graph(&g, &[Key::new("x")]).unwrap().remove(0);
    /// x.cancel().unwrap();
    /// assert!(matches!(x.result(), Err(ComputeError::Cancelled { .. })));
    /// ```
    pub fn cancel(&self) -> Result<(), ComputeError> {
        self.client.cancel(std::slice::from_ref(self))
    }

    /// Where the future is, without waiting (Dask's `future.status`).
    ///
    /// ```
    /// use dusk_core::{Data, Graph, Key, LiteralOp};
    /// use dusk_scheduler::distributed::client::FutureStatus;
    /// use dusk_scheduler::distributed::{Client, LocalCluster};
    ///
    /// let cluster = LocalCluster::threads(1, 1).unwrap();
    /// let client = Client::connect(cluster.address()).unwrap();
    /// let mut g = Graph::new();
    /// g.add(Key::new("x"), LiteralOp::new(Data::encode(&1u8).unwrap()), vec![]);
    /// let x = client.submit_graph(&g, &[Key::new("x")]).unwrap().remove(0);
    /// client.wait(std::slice::from_ref(&x)).unwrap();
    /// assert_eq!(x.status().unwrap(), FutureStatus::Finished);
    /// x.cancel().unwrap();
    /// assert_eq!(x.status().unwrap(), FutureStatus::Cancelled);
    /// ```
    pub fn status(&self) -> Result<FutureStatus, ComputeError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.client.send(Request::Status {
            key: self.key.clone(),
            reply: tx,
        })?;
        rx.recv()
            .map_err(|_| sched_err("the client's connection to the scheduler is gone"))?
    }
}

/// Where a [`RemoteFuture`] is (Dask's `future.status`).
///
/// ```
/// use dusk_core::{Data, Graph, Key, LiteralOp};
/// use dusk_scheduler::distributed::{Client, FutureStatus, LocalCluster};
///
/// let cluster = LocalCluster::threads(1, 1).unwrap();
/// let client = Client::connect(cluster.address()).unwrap();
/// let mut g = Graph::new();
/// g.add(Key::new("x"), LiteralOp::new(Data::encode(&1u8).unwrap()), vec![]);
/// let x = client.submit_graph(&g, &[Key::new("x")]).unwrap().remove(0);
/// x.result().unwrap();
/// assert_eq!(x.status().unwrap(), FutureStatus::Finished);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FutureStatus {
    /// Not computed yet (waiting, queued or running).
    Pending,
    /// The result is in memory on the cluster.
    Finished,
    /// The task failed; [`RemoteFuture::result`] gives the error.
    Error,
    /// The future was cancelled.
    Cancelled,
}

/// The futures given to [`Client::as_completed`], yielded in the order they finish
/// (successfully, with an error, or cancelled), like Dask's `as_completed`.
///
/// Each call to `next` blocks until one more future is done; nothing polls. Futures that failed
/// are yielded too: their [`RemoteFuture::result`] gives the error. If the connection to the
/// scheduler is lost, the iterator yields that error once and then ends.
///
/// ```
/// use dusk_core::{Data, Graph, Key, LiteralOp};
/// use dusk_scheduler::distributed::{Client, LocalCluster};
///
/// let cluster = LocalCluster::threads(2, 1).unwrap();
/// let client = Client::connect(cluster.address()).unwrap();
/// let mut g = Graph::new();
/// let keys: Vec<Key> = (0..4u32).map(|i| Key::part("x", i)).collect();
/// for (i, k) in keys.iter().enumerate() {
///     g.add(k.clone(), LiteralOp::new(Data::encode(&(i as u64)).unwrap()), vec![]);
/// }
/// let futures = client.submit_graph(&g, &keys).unwrap();
/// let mut total = 0;
/// for f in client.as_completed(futures) {
///     total += f.unwrap().result().unwrap().decode::<u64>().unwrap();
/// }
/// assert_eq!(total, 6);
/// ```
pub struct AsCompleted {
    /// Futures not yielded yet, by key (a key may be given more than once).
    pending: FxHashMap<Key, Vec<RemoteFuture>>,
    count: usize,
    tx: std::sync::mpsc::Sender<Completion>,
    rx: std::sync::mpsc::Receiver<Completion>,
    ended: bool,
}

impl AsCompleted {
    /// Adds a future to those being waited for (Dask's `as_completed.add`).
    ///
    /// ```
    /// use dusk_core::{Data, Graph, Key, LiteralOp};
    /// use dusk_scheduler::distributed::{Client, LocalCluster};
    ///
    /// let cluster = LocalCluster::threads(1, 1).unwrap();
    /// let client = Client::connect(cluster.address()).unwrap();
    /// let one = |k: &str| {
    ///     let mut g = Graph::new();
    ///     g.add(Key::new(k), LiteralOp::new(Data::encode(&1u8).unwrap()), vec![]);
    ///     client.submit_graph(&g, &[Key::new(k)]).unwrap().remove(0)
    /// };
    /// let mut done = client.as_completed(vec![one("a")]);
    /// assert_eq!(done.next().unwrap().unwrap().key(), &Key::new("a"));
    /// done.add(one("b")).unwrap();
    /// assert_eq!(done.len(), 1);
    /// assert_eq!(done.next().unwrap().unwrap().key(), &Key::new("b"));
    /// assert!(done.next().is_none());
    /// ```
    pub fn add(&mut self, future: RemoteFuture) -> Result<(), ComputeError> {
        future.client.send(Request::Notify {
            keys: vec![future.key.clone()],
            tx: self.tx.clone(),
        })?;
        self.pending
            .entry(future.key.clone())
            .or_default()
            .push(future);
        self.count += 1;
        self.ended = false;
        Ok(())
    }

    /// How many futures are not yielded yet.
    ///
    /// ```
    /// use dusk_scheduler::distributed::{Client, LocalCluster};
    /// let cluster = LocalCluster::threads(1, 1).unwrap();
    /// let client = Client::connect(cluster.address()).unwrap();
    /// assert_eq!(client.as_completed(Vec::new()).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether every future was yielded.
    ///
    /// ```
    /// use dusk_scheduler::distributed::{Client, LocalCluster};
    /// let cluster = LocalCluster::threads(1, 1).unwrap();
    /// let client = Client::connect(cluster.address()).unwrap();
    /// assert!(client.as_completed(Vec::new()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl Iterator for AsCompleted {
    type Item = Result<RemoteFuture, ComputeError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.ended && self.count > 0 {
            // The core answers every registration, or reports the loss of the scheduler. The
            // timeout only notices a core that stopped without saying so.
            let got = match self.rx.recv_timeout(Duration::from_millis(500)) {
                Ok(got) => got,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    let gone = self
                        .pending
                        .values()
                        .flatten()
                        .any(|f| f.client.inner.tx.is_closed());
                    if gone {
                        Err(sched_err(
                            "the client's connection to the scheduler is gone",
                        ))
                    } else {
                        continue;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(sched_err(
                    "the client's connection to the scheduler is gone",
                )),
            };
            match got {
                Ok(key) => {
                    let Some(list) = self.pending.get_mut(&key) else {
                        continue;
                    };
                    let Some(future) = list.pop() else { continue };
                    if list.is_empty() {
                        self.pending.remove(&key);
                    }
                    self.count -= 1;
                    return Some(Ok(future));
                }
                Err(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.ended {
            (0, Some(0))
        } else {
            (0, Some(self.count))
        }
    }
}

impl std::fmt::Debug for AsCompleted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AsCompleted({} pending)", self.count)
    }
}

impl Clone for RemoteFuture {
    fn clone(&self) -> Self {
        let _ = self.client.inner.tx.send(Request::Submit {
            tasks: Vec::new(),
            keys: vec![self.key.clone()],
            retries: 0,
        });
        RemoteFuture {
            key: self.key.clone(),
            client: self.client.clone(),
        }
    }
}

impl Drop for RemoteFuture {
    fn drop(&mut self) {
        let _ = self.client.inner.tx.send(Request::Decref {
            keys: vec![self.key.clone()],
        });
    }
}

impl std::fmt::Debug for RemoteFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RemoteFuture({})", self.key)
    }
}

/// An argument of [`Client::submit`]: a value, or the result of an earlier submission.
pub enum Arg<'a> {
    /// A serialized value (see [`Data::encode`]).
    Value(Data),
    /// A result on the cluster.
    Future(&'a RemoteFuture),
}

/// Groups the keys of `futures` by the client holding them, in first-seen order.
fn by_client<'a>(futures: impl Iterator<Item = &'a RemoteFuture>) -> Vec<(Client, Vec<Key>)> {
    let mut groups: Vec<(Client, Vec<Key>)> = Vec::new();
    for f in futures {
        match groups
            .iter_mut()
            .find(|(c, _)| Arc::ptr_eq(&c.inner, &f.client.inner))
        {
            Some((_, keys)) => keys.push(f.key.clone()),
            None => groups.push((f.client.clone(), vec![f.key.clone()])),
        }
    }
    groups
}

fn sched_err(e: impl std::fmt::Display) -> ComputeError {
    ComputeError::Scheduler(e.to_string())
}

impl Client {
    /// Connects to the scheduler at `address` (`tcp://HOST:PORT` or `HOST:PORT`).
    pub fn connect(address: &str) -> Result<Client, DistributedError> {
        let addr = parse_address(address)?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (tx, rx) = mpsc::unbounded_channel();
        let core_tx = tx.clone();
        let a = addr.clone();
        let thread = std::thread::Builder::new()
            .name("dusk-client".into())
            .spawn(move || {
                let rt = match super::current_thread_runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let connected = async {
                        let stream = TcpStream::connect(&a).await.map_err(|source| {
                            DistributedError::Io {
                                action: "connect to",
                                address: a.clone(),
                                source,
                            }
                        })?;
                        connection::handshake(stream, Role::Client, FrameLimits::default()).await
                    };
                    match connected.await {
                        Ok((reader, write, _id)) => {
                            let _ = ready_tx.send(Ok(()));
                            let scheduler = connection::spawn_writer(write);
                            let core = Core::new(scheduler, core_tx);
                            core.run(reader, rx).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| DistributedError::Cluster(e.to_string()))?;
        ready_rx
            .recv()
            .map_err(|_| DistributedError::Cluster("the client thread died".into()))??;
        // The core holds a sender to itself (for finished gathers), so it cannot wait for the
        // channel to close: it stops once its own sender is the only one left (see `Core::run`).
        Ok(Client {
            inner: Arc::new(Inner {
                tx,
                address: addr,
                retries: std::sync::atomic::AtomicU32::new(0),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Disconnects from the scheduler now, even while futures are alive; the scheduler then
    /// releases everything this client held. Later calls fail.
    pub fn close(&self) {
        let _ = self.inner.tx.send(Request::Close);
    }

    /// Makes `.compute()` on any collection run on this client's cluster (when the call does
    /// not choose a scheduler), until [`clear_default`] — Dask's behaviour of the newest
    /// `Client`.
    pub fn set_as_default(&self) {
        *DEFAULT.lock().unwrap_or_else(|e| e.into_inner()) = Some(self.clone());
    }

    /// Runs every task submitted from now on up to `retries` more times when it fails
    /// (Dask's `retries=`); 0, the default, makes the first error final.
    pub fn set_retries(&self, retries: u32) {
        self.inner
            .retries
            .store(retries, std::sync::atomic::Ordering::Relaxed);
    }

    fn retries(&self) -> u32 {
        self.inner
            .retries
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Puts a value on the cluster (Dask's `scatter`): a future whose result is `data`,
    /// usable as an argument of later submissions.
    pub fn scatter(&self, data: Data) -> Result<RemoteFuture, ComputeError> {
        let lit = LiteralOp::new(data);
        let w = lit
            .to_wire()
            .map_err(|_| sched_err("scatter takes serialized values (Data::encode)"))?;
        let key = Key::new(
            Tokenizer::new("scatter")
                .write(&w.kind)
                .write_bytes(&w.payload)
                .name("scatter"),
        );
        let mut graph = Graph::new();
        graph.insert(key.clone(), Task::new(lit, vec![]));
        let mut f = self.submit_graph(&graph, &[key])?;
        f.pop().ok_or_else(|| sched_err("nothing scattered"))
    }

    /// Waits until every future's result is in memory on the cluster, or one failed, without
    /// fetching the results.
    pub fn wait(&self, futures: &[RemoteFuture]) -> Result<(), ComputeError> {
        let keys: Vec<Key> = futures.iter().map(|f| f.key.clone()).collect();
        let (tx, rx) = std::sync::mpsc::channel();
        self.send(Request::Wait { keys, reply: tx })?;
        rx.recv()
            .map_err(|_| sched_err("the client's connection to the scheduler is gone"))?
            .map(|_| ())
    }

    /// Cancels `futures` (Dask's `client.cancel`): their `result` gives
    /// [`ComputeError::Cancelled`] at once, and work no one needs stops.
    ///
    /// Every handle of this client to those keys is cancelled. On the cluster, this client drops
    /// its interest in them and, for a key no other client wants, in its dependents it holds
    /// (they are cancelled too). Tasks no one needs any more are forgotten: queued ones never
    /// run, workers drop the ones they have not started (a running task finishes, and its
    /// result is freed), and results already computed are freed with the inputs nothing else
    /// needs. Keys another client holds stay computed for it.
    ///
    /// A cancelled key submitted again is computed again.
    ///
    /// ```
    /// use dusk_core::{ComputeError, Data, Graph, Key, LiteralOp};
    /// use dusk_scheduler::distributed::{Client, LocalCluster};
    ///
    /// let cluster = LocalCluster::threads(1, 1).unwrap();
    /// let client = Client::connect(cluster.address()).unwrap();
    /// let mut g = Graph::new();
    /// g.add(Key::new("x"), LiteralOp::new(Data::encode(&1u8).unwrap()), vec![]);
    /// let futures = client.submit_graph(&g, &[Key::new("x")]).unwrap();
    /// client.cancel(&futures).unwrap();
    /// match futures[0].result() {
    ///     Err(ComputeError::Cancelled { key }) => assert_eq!(key, Key::new("x")),
    ///     other => panic!("{other:?}"),
    /// }
    /// // Submitted again, it runs again.
    /// let again = client.submit_graph(&g, &[Key::new("x")]).unwrap();
    /// assert_eq!(again[0].result().unwrap().decode::<u8>().unwrap(), 1);
    /// ```
    pub fn cancel(&self, futures: &[RemoteFuture]) -> Result<(), ComputeError> {
        // Each future is cancelled through the client holding it (normally this one).
        for (client, keys) in by_client(futures.iter()) {
            client.send(Request::Cancel { keys })?;
        }
        Ok(())
    }

    /// Yields `futures` in the order they finish — with a result, an error, or cancelled —
    /// like Dask's `as_completed`; see [`AsCompleted`].
    ///
    /// ```
    /// use dusk_core::{Data, Graph, Key, LiteralOp};
    /// use dusk_scheduler::distributed::{Client, LocalCluster};
    ///
    /// let cluster = LocalCluster::threads(1, 1).unwrap();
    /// let client = Client::connect(cluster.address()).unwrap();
    /// let mut g = Graph::new();
    /// g.add(Key::new("x"), LiteralOp::new(Data::encode(&7u8).unwrap()), vec![]);
    /// let futures = client.submit_graph(&g, &[Key::new("x")]).unwrap();
    /// let done: Vec<_> = client.as_completed(futures).collect::<Result<_, _>>().unwrap();
    /// assert_eq!(done[0].result().unwrap().decode::<u8>().unwrap(), 7);
    /// ```
    pub fn as_completed(&self, futures: impl IntoIterator<Item = RemoteFuture>) -> AsCompleted {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut it = AsCompleted {
            pending: FxHashMap::default(),
            count: 0,
            tx,
            rx,
            ended: false,
        };
        let futures: Vec<RemoteFuture> = futures.into_iter().collect();
        // Each client's core watches its own futures (normally all are this client's).
        for (client, keys) in by_client(futures.iter()) {
            let notify = Request::Notify {
                keys,
                tx: it.tx.clone(),
            };
            if client.send(notify).is_err() {
                // The core is gone: the first `next` says so.
                let _ = it.tx.send(Err(sched_err("the client is closed")));
            }
        }
        it.count = futures.len();
        for f in futures {
            it.pending.entry(f.key.clone()).or_default().push(f);
        }
        it
    }

    /// The scheduler's address.
    pub fn address(&self) -> &str {
        &self.inner.address
    }

    fn send(&self, r: Request) -> Result<(), ComputeError> {
        self.inner
            .tx
            .send(r)
            .map_err(|_| sched_err("the client is closed"))
    }

    /// Sends a graph and holds references to `keys`: one [`RemoteFuture`] per key.
    pub fn submit_graph(
        &self,
        graph: &Graph,
        keys: &[Key],
    ) -> Result<Vec<RemoteFuture>, ComputeError> {
        graph.validate(keys)?;
        let wire = graph.to_wire()?;
        self.send(Request::Submit {
            tasks: wire.tasks,
            keys: keys.to_vec(),
            retries: self.retries(),
        })?;
        Ok(keys
            .iter()
            .map(|k| RemoteFuture {
                key: k.clone(),
                client: self.clone(),
            })
            .collect())
    }

    /// Runs `op` on the cluster with `args` (values or earlier results) and returns a future
    /// of its result. The op must be serializable (registered with
    /// [`dusk_core::register_op!`]); a worker built without it reports which op it lacks.
    pub fn submit(&self, op: impl Op, args: Vec<Arg<'_>>) -> Result<RemoteFuture, ComputeError> {
        let op: Arc<dyn Op> = Arc::new(op);
        let wire_op = op
            .to_wire()
            .map_err(|_| dusk_core::GraphError::NotSerializable {
                key: Key::new(op.name()),
                op: op.name().to_string(),
            })?;
        let mut graph = Graph::new();
        let mut deps = Vec::with_capacity(args.len());
        let mut tok = Tokenizer::new("submit");
        tok.write(&wire_op.kind).write_bytes(&wire_op.payload);
        for a in args {
            match a {
                Arg::Value(d) => {
                    let lit = LiteralOp::new(d);
                    let w = lit.to_wire().map_err(|_| {
                        sched_err("submit arguments must be serialized values (Data::encode)")
                    })?;
                    let key = Key::new(
                        Tokenizer::new("literal")
                            .write_bytes(&w.payload)
                            .name("literal"),
                    );
                    graph.insert(key.clone(), Task::new(lit, vec![]));
                    tok.write(&key);
                    deps.push(key);
                }
                Arg::Future(f) => {
                    tok.write(&f.key);
                    deps.push(f.key.clone());
                }
            }
        }
        let key = Key::new(tok.name(op.name()));
        graph.insert(key.clone(), Task::from_arc(op, deps));
        let wire = graph.to_wire()?;
        self.send(Request::Submit {
            tasks: wire.tasks,
            keys: vec![key.clone()],
            retries: self.retries(),
        })?;
        Ok(RemoteFuture {
            key,
            client: self.clone(),
        })
    }

    /// Submits `make(item)` for every item, each with the item as its one argument.
    ///
    /// Each item travels inside its task (as in Dask), so `n` items make `n` tasks. Equal items
    /// with equal ops make the same key, computed once.
    pub fn map<T, O: Op>(
        &self,
        make: impl Fn() -> O,
        items: impl IntoIterator<Item = T>,
    ) -> Result<Vec<RemoteFuture>, ComputeError>
    where
        T: serde::Serialize,
    {
        // Tasks go in chunks, so the cluster starts on the first while later ones are built.
        const CHUNK: usize = 8192;
        let items = items.into_iter();
        let mut futures = Vec::with_capacity(items.size_hint().0);
        let mut tasks = Vec::with_capacity(items.size_hint().0.min(CHUNK));
        let mut keys = Vec::with_capacity(items.size_hint().0.min(CHUNK));
        for item in items {
            let op = make();
            let name = op.name().to_string();
            let data = Data::encode(&item).map_err(sched_err)?;
            let wop = BoundOp::new(Arc::new(op), vec![data])
                .to_wire()
                .map_err(|e| match e {
                    dusk_core::WireError::Closure => dusk_core::GraphError::NotSerializable {
                        key: Key::new(name.as_str()),
                        op: name.clone(),
                    },
                    dusk_core::WireError::Codec(message) => dusk_core::GraphError::Codec {
                        kind: name.clone(),
                        action: "encoded",
                        message,
                    },
                })?;
            let key = Key::new(
                Tokenizer::new("map")
                    .write(&wop.kind)
                    .write_bytes(&wop.payload)
                    .name(&name),
            );
            keys.push(key.clone());
            tasks.push(WireTask {
                key,
                op: wop,
                deps: Vec::new(),
            });
            if tasks.len() == CHUNK {
                self.submit_chunk(&mut tasks, &mut keys, &mut futures)?;
            }
        }
        if !tasks.is_empty() {
            self.submit_chunk(&mut tasks, &mut keys, &mut futures)?;
        }
        Ok(futures)
    }

    /// Sends `tasks`, holding references to `keys`, and adds their futures to `futures`.
    fn submit_chunk(
        &self,
        tasks: &mut Vec<WireTask>,
        keys: &mut Vec<Key>,
        futures: &mut Vec<RemoteFuture>,
    ) -> Result<(), ComputeError> {
        let keys = std::mem::take(keys);
        futures.extend(keys.iter().map(|key| RemoteFuture {
            key: key.clone(),
            client: self.clone(),
        }));
        self.send(Request::Submit {
            tasks: std::mem::take(tasks),
            keys,
            retries: self.retries(),
        })
    }

    /// Waits for every future and fetches the results, in order.
    pub fn gather(&self, futures: &[RemoteFuture]) -> Result<Vec<Data>, ComputeError> {
        let keys: Vec<Key> = futures.iter().map(|f| f.key.clone()).collect();
        self.gather_keys(&keys)
    }

    fn gather_keys(&self, keys: &[Key]) -> Result<Vec<Data>, ComputeError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.send(Request::Gather {
            keys: keys.to_vec(),
            reply: tx,
        })?;
        rx.recv()
            .map_err(|_| sched_err("the client's connection to the scheduler is gone"))?
    }

    /// Computes the results of `outputs` in `graph` on the cluster (Dask's `client.get`).
    pub fn get(&self, graph: &Graph, outputs: &[Key]) -> Result<Vec<Data>, ComputeError> {
        let futures = self.submit_graph(graph, outputs)?;
        self.gather(&futures)
    }

    /// Computes a collection on the cluster: the same value `.compute()` gives locally.
    pub fn compute<C: Collection + ?Sized>(
        &self,
        collection: &C,
    ) -> Result<C::Output, ComputeError> {
        let mut graph = Graph::new();
        let keys = collection.lower(&mut graph)?;
        let graph = optimize(&graph, &keys, OptimizeOptions::default());
        let results = self.get(&graph, &keys)?;
        collection.finalize(results)
    }

    /// What the scheduler is doing: its workers and tasks in counts (see [`SchedulerInfo`]).
    ///
    /// ```
    /// use dusk_scheduler::distributed::{Client, LocalCluster};
    /// let cluster = LocalCluster::threads(2, 1).unwrap();
    /// let client = Client::connect(cluster.address()).unwrap();
    /// let info = client.scheduler_info().unwrap();
    /// assert_eq!(info.workers, 2);
    /// assert_eq!(info.graphs_arriving, 0);
    /// ```
    pub fn scheduler_info(&self) -> Result<SchedulerInfo, ComputeError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.send(Request::SchedulerInfo { reply: tx })?;
        rx.recv()
            .map_err(|_| sched_err("the client's connection to the scheduler is gone"))?
    }

    /// The workers connected to the scheduler, with their latest counters.
    pub fn workers(&self) -> Result<Vec<WorkerSummary>, ComputeError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.send(Request::Workers { reply: tx })?;
        rx.recv_timeout(Duration::from_secs(30))
            .map_err(|_| sched_err("no answer from the scheduler"))?
    }
}

#[derive(Clone)]
enum Status {
    Pending,
    Ready(TaskId, Vec<String>, Option<Data>),
    Erred(String),
    Cancelled,
}

struct Entry {
    refs: u32,
    status: Status,
    /// Gathers and waits for this key.
    watchers: Vec<u64>,
    /// `as_completed` iterators to tell when the key is done.
    done: Vec<std::sync::mpsc::Sender<Completion>>,
    /// The number of the latest `Cancel` sent for this key (0: none). Until the scheduler
    /// answers it, what it says about the key is about the cancelled computation.
    cancel_seq: u64,
    /// How many `Cancel`s had been sent when the key was last submitted with its tasks: the
    /// answers to those cannot cancel this submission.
    submit_seq: u64,
}

impl Entry {
    fn new() -> Entry {
        Entry {
            refs: 0,
            status: Status::Pending,
            watchers: Vec::new(),
            done: Vec::new(),
            cancel_seq: 0,
            submit_seq: 0,
        }
    }

    /// Whether news of the key from the scheduler is about a computation this client has
    /// cancelled since (and should be ignored).
    fn stale(&self, cancels_answered: u64) -> bool {
        matches!(self.status, Status::Cancelled) || cancels_answered < self.cancel_seq
    }

    /// Tells the `as_completed` iterators waiting for `key` that it is done.
    fn notify_done(&mut self, key: &Key) {
        for tx in self.done.drain(..) {
            let _ = tx.send(Ok(key.clone()));
        }
    }
}

struct Waiter {
    keys: Vec<Key>,
    reply: Reply<Vec<Data>>,
    attempts: u32,
    /// Fetch the results (gather), or only wait for them to exist (wait).
    fetch: bool,
}

struct Core {
    scheduler: Sender,
    me: mpsc::UnboundedSender<Request>,
    /// Every key this client holds: its reference count, status and waiting gathers.
    entries: FxHashMap<Key, Entry>,
    waiters: FxHashMap<u64, Waiter>,
    pending: FxHashMap<u64, usize>,
    next_waiter: u64,
    workers_replies: Vec<Reply<Vec<WorkerSummary>>>,
    /// Waiting for `SchedulerInfo`, in the order they asked (the scheduler answers in order).
    info_replies: std::collections::VecDeque<Reply<SchedulerInfo>>,
    pool: Pool,
    lost: Option<String>,
    /// `Cancel` messages sent, and answered by the scheduler (it answers each, in order).
    cancels_sent: u64,
    cancels_answered: u64,
    /// Keys released since the last message to the scheduler, sent as one `Release` before any
    /// other message (so the scheduler hears everything in order).
    releases: Vec<Key>,
}

impl Core {
    fn new(scheduler: Sender, me: mpsc::UnboundedSender<Request>) -> Core {
        Core {
            scheduler,
            me,
            entries: FxHashMap::default(),
            waiters: FxHashMap::default(),
            pending: FxHashMap::default(),
            next_waiter: 0,
            workers_replies: Vec::new(),
            info_replies: std::collections::VecDeque::new(),
            pool: Arc::default(),
            lost: None,
            cancels_sent: 0,
            cancels_answered: 0,
            releases: Vec::new(),
        }
    }

    /// Sends the releases gathered so far.
    fn flush_releases(&mut self) {
        if !self.releases.is_empty() {
            let keys = std::mem::take(&mut self.releases);
            let _ = self.scheduler.send(Message::Release { keys }.into());
        }
    }

    async fn run(
        mut self,
        mut reader: FrameReader,
        mut requests: mpsc::UnboundedReceiver<Request>,
    ) {
        // `me` keeps the channel open; the core ends when only `me` is left.
        loop {
            tokio::select! {
                r = requests.recv() => {
                    // Take every request already waiting: dropping a hundred thousand futures
                    // then costs one `Release` message, not a hundred thousand.
                    let mut next = r;
                    let mut n = 0;
                    loop {
                        match next {
                            Some(Request::Close) | None => {
                                self.flush_releases();
                                self.lose("the client was closed".into());
                                return;
                            }
                            Some(r) => self.request(r),
                        }
                        n += 1;
                        if n >= 4096 {
                            break;
                        }
                        match requests.try_recv() {
                            Ok(r) => next = Some(r),
                            Err(_) => break,
                        }
                    }
                    self.flush_releases();
                }
                frame = reader.read(), if self.lost.is_none() => match frame {
                    Ok(Some((m, payload))) => self.message(m, payload),
                    Ok(None) => self.lose("the scheduler closed the connection".into()),
                    Err(e) => self.lose(e.to_string()),
                },
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    // The last `Client` handle is gone when only the core's own sender remains.
                    if self.me.strong_count() <= 1 && self.waiters.is_empty() {
                        return;
                    }
                }
            }
        }
    }

    fn lose(&mut self, why: String) {
        let msg = format!("lost the connection to the scheduler: {why}");
        self.fail_all(&msg);
        for e in self.entries.values_mut() {
            for tx in e.done.drain(..) {
                let _ = tx.send(Err(sched_err(&msg)));
            }
        }
        for r in self.workers_replies.drain(..) {
            let _ = r.send(Err(sched_err(&msg)));
        }
        for r in self.info_replies.drain(..) {
            let _ = r.send(Err(sched_err(&msg)));
        }
        self.lost = Some(msg);
    }

    fn request(&mut self, r: Request) {
        if !matches!(r, Request::Decref { .. }) {
            self.flush_releases();
        }
        match r {
            Request::Submit {
                tasks,
                keys,
                retries,
            } => {
                let mut all_held = true;
                for k in &keys {
                    let e = self.entries.entry(k.clone()).or_insert_with(Entry::new);
                    e.refs += 1;
                    all_held &= e.refs > 1;
                    if !tasks.is_empty() {
                        e.submit_seq = self.cancels_sent;
                        if matches!(e.status, Status::Cancelled) {
                            // Submitted again after a cancel: computed again.
                            e.status = Status::Pending;
                        }
                    }
                }
                if tasks.is_empty() && all_held {
                    return;
                }
                // A wanted key that is also the task at its position goes as that position.
                let mut wanted = Vec::new();
                let mut wanted_tasks = Vec::new();
                for (i, k) in keys.into_iter().enumerate() {
                    match tasks.get(i) {
                        Some(t) if t.key == k => wanted_tasks.push(i as u32),
                        _ => wanted.push(k),
                    }
                }
                let _ = self.scheduler.send(
                    Message::UpdateGraph {
                        tasks,
                        wanted,
                        wanted_tasks,
                        retries,
                    }
                    .into(),
                );
            }
            Request::Decref { keys } => {
                for k in keys {
                    if let Some(e) = self.entries.get_mut(&k) {
                        e.refs -= 1;
                        if e.refs == 0 {
                            self.entries.remove(&k);
                            self.releases.push(k);
                        }
                    }
                }
            }
            Request::Gather { keys, reply } => {
                if let Some(msg) = &self.lost {
                    let _ = reply.send(Err(sched_err(msg)));
                    return;
                }
                self.add_waiter(Waiter {
                    keys,
                    reply,
                    attempts: 0,
                    fetch: true,
                });
            }
            Request::Wait { keys, reply } => {
                if let Some(msg) = &self.lost {
                    let _ = reply.send(Err(sched_err(msg)));
                    return;
                }
                self.add_waiter(Waiter {
                    keys,
                    reply,
                    attempts: 0,
                    fetch: false,
                });
            }
            Request::Workers { reply } => {
                if let Some(msg) = &self.lost {
                    let _ = reply.send(Err(sched_err(msg)));
                    return;
                }
                self.workers_replies.push(reply);
                let _ = self.scheduler.send(Message::GetWorkers.into());
            }
            Request::SchedulerInfo { reply } => {
                if let Some(msg) = &self.lost {
                    let _ = reply.send(Err(sched_err(msg)));
                    return;
                }
                self.info_replies.push_back(reply);
                let _ = self.scheduler.send(Message::GetSchedulerInfo.into());
            }
            Request::Cancel { keys } => {
                let mut cancel: Vec<Key> = Vec::new();
                for k in keys {
                    let fresh = self
                        .entries
                        .get(&k)
                        .is_some_and(|e| !matches!(e.status, Status::Cancelled));
                    if fresh && !cancel.contains(&k) {
                        cancel.push(k);
                    }
                }
                if cancel.is_empty() {
                    return;
                }
                self.mark_cancelled(&cancel);
                if self.lost.is_none() {
                    self.cancels_sent += 1;
                    for k in &cancel {
                        if let Some(e) = self.entries.get_mut(k) {
                            e.cancel_seq = self.cancels_sent;
                        }
                    }
                    let _ = self.scheduler.send(Message::Cancel { keys: cancel }.into());
                }
            }
            Request::Notify { keys, tx } => {
                if let Some(msg) = &self.lost {
                    let _ = tx.send(Err(sched_err(msg)));
                    return;
                }
                for k in keys {
                    match self.entries.get_mut(&k) {
                        Some(e) if matches!(e.status, Status::Pending) => e.done.push(tx.clone()),
                        // Done already, or not held (its `result` says so).
                        _ => {
                            let _ = tx.send(Ok(k));
                        }
                    }
                }
            }
            Request::Status { key, reply } => {
                let status = match self.entries.get(&key).map(|e| &e.status) {
                    Some(Status::Pending) if self.lost.is_some() => {
                        Err(sched_err(self.lost.as_deref().unwrap_or_default()))
                    }
                    Some(Status::Pending) => Ok(FutureStatus::Pending),
                    Some(Status::Ready(..)) => Ok(FutureStatus::Finished),
                    Some(Status::Erred(_)) => Ok(FutureStatus::Error),
                    Some(Status::Cancelled) => Ok(FutureStatus::Cancelled),
                    None => Err(sched_err(format!("{key} is not held by this client"))),
                };
                let _ = reply.send(status);
            }
            Request::Close => {}
            Request::Gathered { waiter, result } => match result {
                Ok(data) => {
                    let _ = waiter.reply.send(Ok(data));
                }
                Err((lost_keys, error, retryable)) => {
                    // Cancelled while its results were being fetched (and perhaps freed).
                    let cancelled = waiter.keys.iter().find(|k| {
                        self.entries
                            .get(*k)
                            .is_some_and(|e| matches!(e.status, Status::Cancelled))
                    });
                    if let Some(key) = cancelled {
                        let _ = waiter
                            .reply
                            .send(Err(ComputeError::Cancelled { key: key.clone() }));
                        return;
                    }
                    if waiter.attempts >= 5 || !retryable {
                        let _ = waiter.reply.send(Err(sched_err(format!(
                            "could not fetch results from the workers: {error}"
                        ))));
                        return;
                    }
                    // The holder may have died: wait for the scheduler to say where the
                    // recomputed results are.
                    for k in lost_keys {
                        if let Some(e) = self.entries.get_mut(&k) {
                            e.status = Status::Pending;
                        }
                    }
                    self.add_waiter(Waiter {
                        attempts: waiter.attempts + 1,
                        ..waiter
                    });
                }
            },
        }
    }

    fn message(&mut self, m: Message, payload: bytes::Bytes) {
        match m {
            Message::Ready { items } => {
                let mut at = 0usize;
                for r in items {
                    let inline = match &r.inline {
                        Some((kind, len)) => {
                            let end = at.saturating_add(*len as usize);
                            let data = payload
                                .get(at..end)
                                .and_then(|b| data_from_wire(kind, b).ok().flatten());
                            at = end;
                            data
                        }
                        None => None,
                    };
                    if let Some(e) = self.entries.get_mut(&r.key) {
                        // A cancelled key stays cancelled, whatever was already on its way.
                        if e.stale(self.cancels_answered) {
                            continue;
                        }
                        e.status = Status::Ready(r.id, r.who_has, inline);
                        e.notify_done(&r.key);
                        let watchers = std::mem::take(&mut e.watchers);
                        self.key_ready(watchers);
                    }
                }
            }
            Message::Erred { items } => self.erred(items),
            Message::Cancelled { keys } => {
                self.cancels_answered += 1;
                let n = self.cancels_answered;
                // A key submitted again after this cancel was sent is wanted again.
                let keys: Vec<Key> = keys
                    .into_iter()
                    .filter(|k| self.entries.get(k).is_some_and(|e| e.submit_seq < n))
                    .collect();
                self.mark_cancelled(&keys);
            }
            Message::GraphRefused { error, keys } => {
                // Only the keys still waiting were this graph's to compute.
                let msg = format!("the scheduler refused the graph: {error}");
                let items: Vec<(Key, String)> = keys
                    .into_iter()
                    .filter(|k| {
                        self.entries
                            .get(k)
                            .is_some_and(|e| matches!(e.status, Status::Pending))
                    })
                    .map(|k| (k, msg.clone()))
                    .collect();
                self.erred(items);
            }
            Message::SchedulerInfo(info) => {
                if let Some(reply) = self.info_replies.pop_front() {
                    let _ = reply.send(Ok(info));
                }
            }
            Message::Workers { items } => {
                let list: Vec<WorkerSummary> = items
                    .into_iter()
                    .map(|(name, data_address, counters)| WorkerSummary {
                        name,
                        data_address,
                        counters,
                    })
                    .collect();
                for r in self.workers_replies.drain(..) {
                    let _ = r.send(Ok(list.clone()));
                }
            }
            _ => {}
        }
    }

    /// Marks keys failed and answers whoever waits for them.
    fn erred(&mut self, items: Vec<(Key, String)>) {
        for (k, e) in items {
            let Some(entry) = self.entries.get_mut(&k) else {
                continue;
            };
            if entry.stale(self.cancels_answered) {
                continue;
            }
            entry.status = Status::Erred(e.clone());
            entry.notify_done(&k);
            for id in std::mem::take(&mut entry.watchers) {
                self.pending.remove(&id);
                if let Some(w) = self.waiters.remove(&id) {
                    let _ = w.reply.send(Err(ComputeError::TaskFailed {
                        key: k.clone(),
                        source: e.clone().into(),
                    }));
                }
            }
        }
    }

    /// Marks keys cancelled and answers whoever waits for them.
    fn mark_cancelled(&mut self, keys: &[Key]) {
        for k in keys {
            let Some(entry) = self.entries.get_mut(k) else {
                continue;
            };
            if matches!(entry.status, Status::Cancelled) {
                continue;
            }
            entry.status = Status::Cancelled;
            entry.notify_done(k);
            for id in std::mem::take(&mut entry.watchers) {
                self.pending.remove(&id);
                if let Some(w) = self.waiters.remove(&id) {
                    let _ = w
                        .reply
                        .send(Err(ComputeError::Cancelled { key: k.clone() }));
                }
            }
        }
    }

    fn fail_all(&mut self, msg: &str) {
        for (_, w) in self.waiters.drain() {
            let _ = w.reply.send(Err(sched_err(msg)));
        }
        self.pending.clear();
        for e in self.entries.values_mut() {
            e.watchers.clear();
        }
    }

    /// Registers a gather: answered at once if a key failed, fetched once no key is pending.
    fn add_waiter(&mut self, w: Waiter) {
        let mut pending = 0;
        for k in &w.keys {
            match self.entries.get(k).map(|e| &e.status) {
                Some(Status::Ready(..)) => {}
                Some(Status::Pending) => pending += 1,
                Some(Status::Erred(e)) => {
                    let _ = w.reply.send(Err(ComputeError::TaskFailed {
                        key: k.clone(),
                        source: e.clone().into(),
                    }));
                    return;
                }
                Some(Status::Cancelled) => {
                    let _ = w
                        .reply
                        .send(Err(ComputeError::Cancelled { key: k.clone() }));
                    return;
                }
                None => {
                    let _ = w
                        .reply
                        .send(Err(sched_err(format!("{k} is not held by this client"))));
                    return;
                }
            }
        }
        if pending == 0 {
            self.dispatch(w);
            return;
        }
        let id = self.next_waiter;
        self.next_waiter += 1;
        for k in &w.keys {
            if let Some(e) = self.entries.get_mut(k) {
                if matches!(e.status, Status::Pending) {
                    e.watchers.push(id);
                }
            }
        }
        self.pending.insert(id, pending);
        self.waiters.insert(id, w);
    }

    fn key_ready(&mut self, watchers: Vec<u64>) {
        for id in watchers {
            let done = match self.pending.get_mut(&id) {
                Some(n) => {
                    *n -= 1;
                    *n == 0
                }
                None => false,
            };
            if done {
                self.pending.remove(&id);
                if let Some(w) = self.waiters.remove(&id) {
                    self.dispatch(w);
                }
            }
        }
    }

    /// Fetches a waiter's results from the workers, off the core's loop.
    fn dispatch(&mut self, w: Waiter) {
        if !w.fetch {
            let _ = w.reply.send(Ok(Vec::new()));
            return;
        }
        // Small results came with the scheduler's message: only the others are fetched.
        let inline: Vec<Option<Data>> = w
            .keys
            .iter()
            .map(|k| match self.entries.get(k).map(|e| &e.status) {
                Some(Status::Ready(_, _, Some(d))) => Some(d.clone()),
                _ => None,
            })
            .collect();
        if inline.iter().all(Option::is_some) {
            let _ = w.reply.send(Ok(inline.into_iter().flatten().collect()));
            return;
        }
        let locations: Vec<(Key, TaskId, Vec<String>)> = w
            .keys
            .iter()
            .zip(&inline)
            .filter(|(_, d)| d.is_none())
            .filter_map(|(k, _)| match self.entries.get(k).map(|e| &e.status) {
                Some(Status::Ready(id, who, _)) => Some((k.clone(), *id, who.clone())),
                _ => None,
            })
            .collect();
        let pool = self.pool.clone();
        let me = self.me.clone();
        tokio::spawn(async move {
            let result = gather(&pool, &locations).await.map(|fetched| {
                let mut fetched = fetched.into_iter();
                inline
                    .into_iter()
                    .filter_map(|d| d.or_else(|| fetched.next()))
                    .collect()
            });
            let _ = me.send(Request::Gathered { waiter: w, result });
        });
    }
}

async fn gather(
    pool: &Pool,
    locations: &[(Key, TaskId, Vec<String>)],
) -> Result<Vec<Data>, (Vec<Key>, String, bool)> {
    let mut by_addr: FxHashMap<&str, Vec<TaskId>> = FxHashMap::default();
    for (key, id, who) in locations {
        let Some(addr) = who.first() else {
            return Err((vec![key.clone()], format!("no worker holds {key}"), true));
        };
        by_addr.entry(addr.as_str()).or_default().push(*id);
    }
    let mut fetches = Vec::new();
    for (addr, ids) in by_addr {
        let pool = pool.clone();
        let addr = addr.to_string();
        fetches.push(tokio::spawn(async move {
            let r = fetch_pooled(&pool, &addr, &ids).await;
            (addr, ids, r)
        }));
    }
    let mut got: FxHashMap<TaskId, Data> = FxHashMap::default();
    for f in fetches {
        let (addr, ids, r) = f.await.map_err(|e| (Vec::new(), e.to_string(), false))?;
        match r {
            Ok(items) => got.extend(items),
            Err(e) => {
                let lost: Vec<Key> = locations
                    .iter()
                    .filter(|(_, id, _)| ids.contains(id))
                    .map(|(k, _, _)| k.clone())
                    .collect();
                let retryable = e.retryable();
                return Err((lost, format!("{addr}: {e}"), retryable));
            }
        }
    }
    locations
        .iter()
        .map(|(k, id, _)| {
            got.get(id)
                .cloned()
                .ok_or_else(|| (vec![k.clone()], format!("{k} was not returned"), false))
        })
        .collect()
}
