//! The scheduler's state machine: what every task is doing, decided without any networking.
//!
//! Keeping the decisions in plain data, driven by plain method calls (a graph arrived, a task
//! finished, a worker left), makes them testable without sockets and keeps the scheduler's event
//! loop single-threaded and fast: every call mutates a few hash maps and appends what must be
//! said to an [`Outbox`], which the server then sends in batches.
//!
//! A task moves through the states of [`TaskState`]:
//!
//! ```text
//! released ──► waiting ──► queued ──► processing ──► memory ──► released ──► forgotten
//!                  │  └──────────────────►│     │                  ▲
//!                  └─────────► erred ◄────┘     └──(worker lost)───┘
//! ```
//!
//! - *released*: known, but no result exists and none is being made;
//! - *waiting*: wanted, waiting for inputs to be in memory;
//! - *queued*: ready, but held back because no worker has room (root-task queuing: a worker gets
//!   at most `saturation × threads` tasks at once, so a million ready inputs do not flood it);
//! - *processing*: sent to one worker;
//! - *memory*: the result is held by one or more workers;
//! - *erred*: the task (or one of its inputs) failed;
//! - *forgotten*: no client and no dependent needs it; the record is gone.
//!
//! Clients hold references to keys; a result no client wants and no pending task needs is freed
//! on the workers at once. When a worker is lost, results only it held and still needed are
//! recomputed, and tasks it was running are rescheduled — up to `allowed_failures` times.
//!
//! **Cancelling** ([`SchedulerState::cancel_keys`]) is a client dropping its interest in keys
//! (and in their dependents it wants, when no other client wants the key) at once, whatever
//! their state. What no one needs any more then leaves through these transitions only:
//!
//! ```text
//! waiting ───┐
//! queued ────┼──► released ──► forgotten      (nothing was sent, or nothing is left to send)
//! processing ┘                                (the worker is told to drop it if not started;
//!                                              a result that still arrives is freed)
//! memory ───────► released ──► forgotten      (the result is freed on its workers)
//! erred ─────────────────────► forgotten
//! ```
//!
//! A task another client still wants, directly or through a dependent, keeps its state.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dusk_core::{Key, WireOp, WireTask};
use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;

use super::message::TaskId;

mod intake;
use intake::Visit;
pub use intake::{GraphIntake, PreparedGraph};

/// Bytes per second assumed for moving a stolen task's inputs (Dask's
/// `distributed.scheduler.bandwidth`).
pub const STEAL_BANDWIDTH: f64 = 100e6;

/// How long a task is assumed to run on a worker with no measured rate yet (Dask's
/// `distributed.scheduler.unknown-task-duration`).
pub const UNKNOWN_TASK_SECONDS: f64 = 0.5;

/// A worker's number.
pub type WorkerId = u64;

/// The work of following released keys through done at most per change of the state (see
/// [`SchedulerState::release_some`]): a few milliseconds.
///
/// ```
/// assert_eq!(dusk_scheduler::distributed::state::RELEASE_SLICE, 4096);
/// ```
pub const RELEASE_SLICE: usize = 4096;

/// How many times a task is rescheduled because its inputs could not be fetched before the
/// fetch error becomes the task's error.
pub const MAX_FETCH_FAILURES: u32 = 10;
/// A client's number.
pub type ClientId = u64;

/// The state of one task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Known, no result, nothing running.
    Released,
    /// Wanted; waiting for inputs.
    Waiting,
    /// Ready, waiting for a worker with room.
    Queued,
    /// Running on this worker.
    Processing(WorkerId),
    /// Result held by workers.
    Memory,
    /// Failed.
    Erred,
    /// Dropped.
    Forgotten,
}

impl TaskState {
    /// Whether a task may move from this state to `next`.
    ///
    /// ```
    /// use dusk_scheduler::distributed::state::TaskState::*;
    /// assert!(Released.can_become(Waiting));
    /// assert!(Processing(1).can_become(Memory));
    /// assert!(!Released.can_become(Memory));
    /// assert!(!Forgotten.can_become(Waiting));
    /// ```
    pub fn can_become(self, next: TaskState) -> bool {
        use TaskState::*;
        matches!(
            (self, next),
            (Released, Waiting)
                | (Released, Forgotten)
                | (Released, Erred)
                | (Waiting, Queued)
                | (Waiting, Processing(_))
                | (Waiting, Released)
                | (Waiting, Erred)
                | (Queued, Processing(_))
                | (Queued, Waiting)
                | (Queued, Released)
                | (Queued, Erred)
                | (Processing(_), Memory)
                | (Processing(_), Erred)
                | (Processing(_), Released)
                | (Memory, Released)
                | (Memory, Forgotten)
                | (Erred, Released)
                | (Erred, Forgotten)
        )
    }

    fn is_pending(self) -> bool {
        matches!(
            self,
            TaskState::Waiting | TaskState::Queued | TaskState::Processing(_)
        )
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskState::Released => f.write_str("released"),
            TaskState::Waiting => f.write_str("waiting"),
            TaskState::Queued => f.write_str("queued"),
            TaskState::Processing(w) => write!(f, "processing on worker {w}"),
            TaskState::Memory => f.write_str("memory"),
            TaskState::Erred => f.write_str("erred"),
            TaskState::Forgotten => f.write_str("forgotten"),
        }
    }
}

/// Settings of the state machine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StateConfig {
    /// How many workers may die while running a task before it is marked failed (Dask's
    /// `allowed-failures`).
    pub allowed_failures: u32,
    /// A worker gets at most `saturation × threads` ready tasks at once; the rest queue.
    pub saturation: f64,
    /// How long tasks may wait with no worker connected before they fail.
    pub no_workers_timeout: Duration,
    /// On top of `saturation × threads`, a worker may hold as many ready tasks as it finishes
    /// in this much time (measured). Slow tasks gain nothing from it; microsecond tasks keep
    /// the worker busy across a network round trip instead of idling between batches.
    pub queue_time: Duration,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            allowed_failures: 3,
            saturation: 2.0,
            no_workers_timeout: Duration::from_secs(30),
            queue_time: Duration::from_millis(10),
        }
    }
}

struct TaskRecord {
    key: Key,
    op: Arc<WireOp>,
    inputs: Vec<TaskId>,
    deps: Vec<TaskId>,
    dependents: Vec<TaskId>,
    state: TaskState,
    waiting_on: u32,
    who_has: SmallVec<[WorkerId; 2]>,
    nbytes: u64,
    wanted_by: u32,
    /// Graphs being taken in that name this task (see [`intake`]): while pinned, a task is
    /// neither forgotten nor freed.
    pins: u32,
    suspicious: u32,
    retries: u32,
    fetch_failures: u32,
    error: Option<String>,
}

struct WorkerRecord {
    data_addr: String,
    nthreads: u32,
    processing: FxHashSet<TaskId>,
    has: FxHashSet<TaskId>,
    /// Tasks finished since the last rate measurement.
    done: u64,
    /// Measured tasks finished per second (moving average).
    rate: f64,
    /// Paused by its memory: sent no new task until it resumes.
    paused: bool,
}

/// What the state machine wants said, gathered per recipient so the server sends batches.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Tasks to send to each worker.
    pub compute: FxHashMap<WorkerId, Vec<TaskId>>,
    /// Tasks sent to each worker that no one needs any more: drop them if not started. Sent
    /// before `compute`, so a task released and placed again in one batch is not dropped.
    pub cancel: FxHashMap<WorkerId, Vec<TaskId>>,
    /// Results each worker should drop.
    pub free: FxHashMap<WorkerId, Vec<TaskId>>,
    /// Tasks each worker should give back if not started (work stealing).
    pub steal: FxHashMap<WorkerId, Vec<TaskId>>,
    /// Results now in memory, per client.
    pub ready: FxHashMap<ClientId, Vec<TaskId>>,
    /// Failed keys, per client: `(key, error)`.
    pub erred: FxHashMap<ClientId, Vec<(Key, String)>>,
}

impl Outbox {
    /// Whether nothing is to be said.
    pub fn is_empty(&self) -> bool {
        self.compute.is_empty()
            && self.cancel.is_empty()
            && self.free.is_empty()
            && self.steal.is_empty()
            && self.ready.is_empty()
            && self.erred.is_empty()
    }
}

/// A graph refused by [`SchedulerState::update_graph`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphRefused {
    /// A task depends on a key neither in the graph nor known to the scheduler.
    #[error(
        "task {key} depends on {dependency}, which is neither in the graph nor on the cluster"
    )]
    MissingDependency {
        /// The task.
        key: Key,
        /// The unknown key.
        dependency: Key,
    },
    /// A wanted key is not in the graph.
    #[error("requested key {0} is neither in the graph nor on the cluster")]
    MissingKey(Key),
    /// The graph's tasks depend on each other in a cycle, so none of them could ever run.
    #[error("task {0} depends on itself through a cycle of tasks")]
    Cycle(Key),
}

/// Every task's record in a dense arena, indexed by its [`TaskId`].
///
/// The low 32 bits of a task's number are its slot, the high 32 bits the slot's generation, which
/// changes each time the slot is freed: looking a task up is an index and a comparison (no
/// hashing), freed slots are reused so the arena stays as large as the live tasks, and a number
/// still travelling after its task was forgotten never finds the slot's next task.
struct TaskSlab {
    slots: Vec<Slot>,
    free: Vec<u32>,
    len: usize,
}

struct Slot {
    generation: u32,
    task: Option<TaskRecord>,
}

impl TaskSlab {
    fn new() -> TaskSlab {
        TaskSlab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    fn split(id: TaskId) -> (usize, u32) {
        ((id & 0xffff_ffff) as usize, (id >> 32) as u32)
    }

    fn id(slot: usize, generation: u32) -> TaskId {
        ((generation as u64) << 32) | slot as u64
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Makes room for `n` more tasks.
    fn reserve(&mut self, n: usize) {
        self.slots.reserve(n.saturating_sub(self.free.len()));
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores `task` and returns its number (never 0: generations start at 1).
    fn insert(&mut self, task: TaskRecord) -> TaskId {
        self.len += 1;
        match self.free.pop() {
            Some(slot) => {
                let s = &mut self.slots[slot as usize];
                s.task = Some(task);
                TaskSlab::id(slot as usize, s.generation)
            }
            None => {
                self.slots.push(Slot {
                    generation: 1,
                    task: Some(task),
                });
                TaskSlab::id(self.slots.len() - 1, 1)
            }
        }
    }

    fn get(&self, id: &TaskId) -> Option<&TaskRecord> {
        let (slot, generation) = TaskSlab::split(*id);
        match self.slots.get(slot) {
            Some(s) if s.generation == generation => s.task.as_ref(),
            _ => None,
        }
    }

    fn get_mut(&mut self, id: &TaskId) -> Option<&mut TaskRecord> {
        let (slot, generation) = TaskSlab::split(*id);
        match self.slots.get_mut(slot) {
            Some(s) if s.generation == generation => s.task.as_mut(),
            _ => None,
        }
    }

    fn remove(&mut self, id: &TaskId) -> Option<TaskRecord> {
        let (slot, generation) = TaskSlab::split(*id);
        let s = self.slots.get_mut(slot)?;
        if s.generation != generation {
            return None;
        }
        let task = s.task.take()?;
        s.generation = s.generation.wrapping_add(1).max(1);
        self.free.push(slot as u32);
        self.len -= 1;
        Some(task)
    }

    fn iter(&self) -> impl Iterator<Item = (TaskId, &TaskRecord)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.task.as_ref().map(|t| (TaskSlab::id(i, s.generation), t)))
    }
}

/// The scheduler's view of every task, worker and client.
pub struct SchedulerState {
    config: StateConfig,
    tasks: TaskSlab,
    ids: FxHashMap<Key, TaskId>,
    workers: FxHashMap<WorkerId, WorkerRecord>,
    clients: FxHashMap<ClientId, FxHashSet<TaskId>>,
    queue: VecDeque<TaskId>,
    /// Tasks to release, and to forget, if nothing needs them once their turn comes (see
    /// [`SchedulerState::release_some`]).
    releasing: Vec<TaskId>,
    forgetting: Vec<TaskId>,
    /// Tasks in the `Queued` state (the queue may also hold entries that left it).
    queued: usize,
    no_workers_since: Option<Instant>,
    /// Tasks the state has sent to workers, over its lifetime.
    pub tasks_sent: u64,
}

impl SchedulerState {
    /// An empty state.
    pub fn new(config: StateConfig) -> SchedulerState {
        SchedulerState {
            config,
            tasks: TaskSlab::new(),
            ids: FxHashMap::default(),
            workers: FxHashMap::default(),
            clients: FxHashMap::default(),
            queue: VecDeque::new(),
            releasing: Vec::new(),
            forgetting: Vec::new(),
            queued: 0,
            no_workers_since: Some(Instant::now()),
            tasks_sent: 0,
        }
    }

    /// The state of the task producing `key`, `Forgotten` if unknown.
    pub fn state_of(&self, key: &Key) -> TaskState {
        self.ids
            .get(key)
            .and_then(|id| self.tasks.get(id))
            .map_or(TaskState::Forgotten, |t| t.state)
    }

    /// Makes room for `n` more tasks (see [`intake`]).
    fn reserve(&mut self, n: usize) {
        self.tasks.reserve(n);
        self.ids.reserve(n);
    }

    /// The number of tasks known.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// The number of ready root tasks waiting for a worker with room.
    ///
    /// ```
    /// use dusk_core::{Key, WireOp, WireTask};
    /// use dusk_scheduler::distributed::state::{Outbox, SchedulerState, StateConfig};
    /// let task = |i: u32| WireTask {
    ///     key: Key::part("t", i),
    ///     op: WireOp { kind: "my.op".into(), payload: vec![] },
    ///     deps: vec![],
    /// };
    /// let mut s = SchedulerState::new(StateConfig::default());
    /// let mut out = Outbox::default();
    /// s.add_worker(1, "127.0.0.1:9000".into(), 1, &mut out);
    /// let keys: Vec<Key> = (0..10).map(|i| Key::part("t", i)).collect();
    /// s.update_graph(7, (0..10).map(task).collect(), &keys, &mut out).unwrap();
    /// assert_eq!(s.queued(), 8, "one thread holds two tasks at a time");
    /// ```
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Whether no task is known.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The key, op and inputs of a task, to build the message that runs it.
    pub fn task(&self, id: TaskId) -> Option<(&Key, &Arc<WireOp>, &[TaskId], bool)> {
        self.tasks
            .get(&id)
            .map(|t| (&t.key, &t.op, t.inputs.as_slice(), t.wanted_by > 0))
    }

    /// The data addresses of workers holding the result of `id`.
    pub fn who_has(&self, id: TaskId) -> impl Iterator<Item = &str> {
        self.tasks
            .get(&id)
            .into_iter()
            .flat_map(|t| t.who_has.iter())
            .filter_map(|w| self.workers.get(w).map(|r| r.data_addr.as_str()))
    }

    /// Whether `worker` holds the result of `id`.
    pub fn worker_has(&self, worker: WorkerId, id: TaskId) -> bool {
        self.workers
            .get(&worker)
            .is_some_and(|w| w.has.contains(&id))
    }

    /// The key of task `id`.
    pub fn key_of(&self, id: TaskId) -> Option<&Key> {
        self.tasks.get(&id).map(|t| &t.key)
    }

    /// The number of workers.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    fn set_state(&mut self, id: TaskId, next: TaskState) {
        if let Some(t) = self.tasks.get_mut(&id) {
            debug_assert!(
                t.state.can_become(next),
                "invalid transition of {}: {} -> {}",
                t.key,
                t.state,
                next
            );
            match (t.state, next) {
                (TaskState::Queued, TaskState::Queued) => {}
                (TaskState::Queued, _) => self.queued = self.queued.saturating_sub(1),
                (_, TaskState::Queued) => self.queued += 1,
                _ => {}
            }
            t.state = next;
        }
    }

    /// A worker joined.
    pub fn add_worker(&mut self, id: WorkerId, data_addr: String, nthreads: u32, out: &mut Outbox) {
        self.workers.insert(
            id,
            WorkerRecord {
                data_addr,
                nthreads: nthreads.max(1),
                processing: FxHashSet::default(),
                has: FxHashSet::default(),
                done: 0,
                rate: 0.0,
                paused: false,
            },
        );
        self.no_workers_since = None;
        self.drain_queue(out);
    }

    /// The workers not paused: those new work may go to.
    fn running(&self) -> impl Iterator<Item = (&WorkerId, &WorkerRecord)> {
        self.workers.iter().filter(|(_, w)| !w.paused)
    }

    /// A worker paused (its results hold more memory than its pause threshold) or resumed.
    /// A paused worker is sent no new task — its tasks not started come back from it and are
    /// placed elsewhere ([`SchedulerState::stolen`]), or queue until a worker runs; resuming,
    /// it takes queued work at once.
    ///
    /// ```
    /// use dusk_core::{Key, WireOp, WireTask};
    /// use dusk_scheduler::distributed::state::{Outbox, SchedulerState, StateConfig, TaskState};
    /// let task = |k: &str| WireTask {
    ///     key: Key::new(k),
    ///     op: WireOp { kind: "my.op".into(), payload: vec![] },
    ///     deps: vec![],
    /// };
    /// let mut s = SchedulerState::new(StateConfig::default());
    /// let mut out = Outbox::default();
    /// s.add_worker(1, "127.0.0.1:9000".into(), 1, &mut out);
    /// s.set_paused(1, true, &mut out);
    /// s.update_graph(7, vec![task("a")], &[Key::new("a")], &mut out).unwrap();
    /// assert_eq!(s.state_of(&Key::new("a")), TaskState::Queued, "nowhere to run");
    /// s.set_paused(1, false, &mut out);
    /// assert_eq!(s.state_of(&Key::new("a")), TaskState::Processing(1));
    /// ```
    pub fn set_paused(&mut self, worker: WorkerId, paused: bool, out: &mut Outbox) {
        let Some(w) = self.workers.get_mut(&worker) else {
            return;
        };
        w.paused = paused;
        if !paused {
            self.drain_queue(out);
        }
    }

    /// A client connected.
    pub fn add_client(&mut self, id: ClientId) {
        self.clients.entry(id).or_default();
    }

    /// Adds the tasks of a graph and records that `client` wants `wanted`, all at once (the
    /// scheduler takes large graphs in a slice at a time instead: see [`GraphIntake`]). A
    /// graph needing a key neither in it nor on the cluster, or with a cycle, is refused and
    /// changes nothing. Tasks that no wanted key needs are not kept.
    ///
    /// ```
    /// use dusk_core::{Key, WireOp, WireTask};
    /// use dusk_scheduler::distributed::state::{Outbox, SchedulerState, StateConfig, TaskState};
    ///
    /// let task = |k: &str, deps: &[&str]| WireTask {
    ///     key: Key::new(k),
    ///     op: WireOp { kind: "my.op".into(), payload: vec![] },
    ///     deps: deps.iter().map(|d| Key::new(*d)).collect(),
    /// };
    /// let mut s = SchedulerState::new(StateConfig::default());
    /// let mut out = Outbox::default();
    /// s.add_worker(1, "127.0.0.1:9000".into(), 1, &mut out);
    /// let graph = vec![task("b", &["a"]), task("a", &[]), task("unused", &[])];
    /// s.update_graph(7, graph, &[Key::new("b")], &mut out).unwrap();
    /// assert_eq!(s.state_of(&Key::new("a")), TaskState::Processing(1));
    /// assert_eq!(s.state_of(&Key::new("b")), TaskState::Waiting);
    /// assert_eq!(s.state_of(&Key::new("unused")), TaskState::Forgotten);
    /// let refused = s.update_graph(7, vec![task("c", &["ghost"])], &[Key::new("c")], &mut out);
    /// assert!(refused.unwrap_err().to_string().contains("'ghost'"));
    /// ```
    pub fn update_graph(
        &mut self,
        client: ClientId,
        tasks: Vec<WireTask>,
        wanted: &[Key],
        out: &mut Outbox,
    ) -> Result<(), GraphRefused> {
        self.update_graph_with_retries(client, tasks, wanted, 0, out)
    }

    /// Like [`SchedulerState::update_graph`]; each new task that fails is run again up to
    /// `retries` times before its error is final.
    pub fn update_graph_with_retries(
        &mut self,
        client: ClientId,
        tasks: Vec<WireTask>,
        wanted: &[Key],
        retries: u32,
        out: &mut Outbox,
    ) -> Result<(), GraphRefused> {
        let graph = PreparedGraph::new(tasks, wanted.to_vec(), Vec::new(), retries);
        let mut intake = self.begin_graph(client, graph);
        while !self.continue_graph(&mut intake, usize::MAX, out)? {}
        Ok(())
    }

    /// Makes every released task among `roots` and their inputs run (released → waiting), and
    /// sends the ready ones to workers.
    fn activate(&mut self, roots: &[TaskId], out: &mut Outbox) {
        let mut stack: Vec<TaskId> = roots
            .iter()
            .copied()
            .filter(|id| self.tasks.get(id).map(|t| t.state) == Some(TaskState::Released))
            .collect();
        let mut ready = Vec::new();
        let mut failed = Vec::new();
        while let Some(id) = stack.pop() {
            match self.visit_for_activation(id, &mut stack) {
                Visit::Skipped | Visit::Waiting => {}
                Visit::Ready { .. } => ready.push(id),
                Visit::InputErred(dep) => failed.push((id, dep)),
            }
        }
        for (id, dep) in failed {
            let msg = self.dependency_error(dep);
            self.fail(id, msg, out);
        }
        for id in ready.into_iter().rev() {
            self.make_ready(id, out);
        }
    }

    /// One step of the activation walk: a released task becomes waiting, counting the inputs
    /// not in memory; its released inputs go on `stack` to be visited next.
    fn visit_for_activation(&mut self, id: TaskId, stack: &mut Vec<TaskId>) -> Visit {
        let Some(t) = self.tasks.get(&id) else {
            return Visit::Skipped;
        };
        if t.state != TaskState::Released {
            return Visit::Skipped;
        }
        let mut waiting_on = 0;
        let mut erred_dep = None;
        for d in &t.deps {
            match self.tasks.get(d).map(|x| x.state) {
                Some(TaskState::Memory) => {}
                Some(TaskState::Erred) => erred_dep = Some(*d),
                Some(TaskState::Released) => {
                    waiting_on += 1;
                    stack.push(*d);
                }
                Some(_) => waiting_on += 1,
                None => {}
            }
        }
        let root = t.deps.is_empty();
        // Deps pushed above are still `Released` and become `Waiting` when popped; they are
        // counted here already.
        self.set_state(id, TaskState::Waiting);
        if let Some(t) = self.tasks.get_mut(&id) {
            t.waiting_on = waiting_on;
        }
        match erred_dep {
            Some(d) => Visit::InputErred(d),
            None if waiting_on == 0 => Visit::Ready { root },
            None => Visit::Waiting,
        }
    }

    fn dependency_error(&self, dep: TaskId) -> String {
        match self.tasks.get(&dep) {
            Some(d) => match &d.error {
                Some(e) if e.starts_with("input ") => e.clone(),
                Some(e) => format!("input {} failed: {e}", d.key),
                None => format!("input {} failed", d.key),
            },
            None => "an input failed".to_string(),
        }
    }

    fn capacity(&self, w: &WorkerRecord) -> usize {
        let base = (w.nthreads as f64 * self.config.saturation).ceil();
        let extra = w.rate * self.config.queue_time.as_secs_f64();
        ((base + extra) as usize).max(1)
    }

    /// Called periodically with the time since the last call: updates each worker's measured
    /// task rate (which sets how much work it may hold) and hands out queued work.
    pub fn measure(&mut self, elapsed: Duration, out: &mut Outbox) {
        let secs = elapsed.as_secs_f64();
        if secs <= 0.0 {
            return;
        }
        for w in self.workers.values_mut() {
            if w.done == 0 && w.processing.is_empty() {
                // Idle for want of work: nothing was measured, keep what is known, so the next
                // burst of tasks starts at the speed the worker last showed.
                continue;
            }
            let now = w.done as f64 / secs;
            w.rate = if w.rate == 0.0 {
                now
            } else {
                0.5 * w.rate + 0.5 * now
            };
            w.done = 0;
        }
        self.drain_queue(out);
        self.balance(out);
    }

    /// Work stealing: when a worker has nothing to do while another holds more tasks than it
    /// has threads, ask that worker to give back half of its surplus; what it has not started
    /// is placed again ([`SchedulerState::stolen`]). A task is only taken when moving its
    /// inputs (at [`STEAL_BANDWIDTH`]) would take less time than the task itself is expected to
    /// run (from the worker's measured rate), as Dask weighs transfer against compute: a quick
    /// task next to a large input stays where the input is.
    pub fn balance(&mut self, out: &mut Outbox) {
        let idle = self
            .running()
            .filter(|(_, w)| w.processing.is_empty())
            .count();
        if idle == 0 || !self.queue.is_empty() {
            return;
        }
        for (id, w) in &self.workers {
            let surplus = w.processing.len().saturating_sub(w.nthreads as usize);
            if surplus < 2 {
                continue;
            }
            let run_seconds = if w.rate > 0.0 {
                f64::from(w.nthreads.max(1)) / w.rate
            } else {
                UNKNOWN_TASK_SECONDS
            };
            let take: Vec<TaskId> = w
                .processing
                .iter()
                .copied()
                .filter(|&t| self.input_bytes(t) as f64 / STEAL_BANDWIDTH <= run_seconds)
                .take(surplus / 2)
                .collect();
            if !take.is_empty() {
                out.steal.entry(*id).or_default().extend(take);
            }
        }
    }

    /// The bytes of a task's inputs (what a thief would have to fetch).
    fn input_bytes(&self, id: TaskId) -> u64 {
        self.tasks.get(&id).map_or(0, |t| {
            t.deps
                .iter()
                .filter_map(|d| self.tasks.get(d))
                .map(|d| d.nbytes)
                .sum()
        })
    }

    /// `worker` gave back `ids` (they had not started): place them again, elsewhere if
    /// another worker has room.
    pub fn stolen(&mut self, worker: WorkerId, ids: &[TaskId], out: &mut Outbox) {
        for &id in ids {
            if self.tasks.get(&id).map(|t| t.state) != Some(TaskState::Processing(worker)) {
                continue;
            }
            if let Some(w) = self.workers.get_mut(&worker) {
                w.processing.remove(&id);
            }
            // Back to ready: processing → released → waiting, then placed.
            self.set_state(id, TaskState::Released);
            self.set_state(id, TaskState::Waiting);
            let thief = self
                .running()
                .filter(|(w, _)| **w != worker)
                .min_by_key(|(w, r)| (r.processing.len(), **w))
                .map(|(w, _)| *w);
            match thief {
                Some(t) => self.send_to(id, t, out),
                None => self.make_ready(id, out),
            }
        }
    }

    /// A task whose inputs are all in memory: place it, or queue it.
    fn make_ready(&mut self, id: TaskId, out: &mut Outbox) {
        let Some(t) = self.tasks.get(&id) else { return };
        let worker = if t.deps.is_empty() {
            // Root task: the least busy worker with room, else queue.
            self.running()
                .filter(|(_, w)| w.processing.len() < self.capacity(w))
                .min_by(|(ia, a), (ib, b)| {
                    let la = a.processing.len() as f64 / a.nthreads as f64;
                    let lb = b.processing.len() as f64 / b.nthreads as f64;
                    la.total_cmp(&lb).then(ia.cmp(ib))
                })
                .map(|(id, _)| *id)
        } else {
            // The worker holding most input bytes; ties go to the least busy.
            let mut held: smallvec::SmallVec<[(WorkerId, u64); 4]> = smallvec::SmallVec::new();
            for d in &t.deps {
                if let Some(dep) = self.tasks.get(d) {
                    for w in &dep.who_has {
                        match held.iter_mut().find(|(x, _)| x == w) {
                            Some((_, b)) => *b += dep.nbytes.max(1),
                            None => held.push((*w, dep.nbytes.max(1))),
                        }
                    }
                }
            }
            let mut best: Option<(u64, usize, WorkerId)> = None;
            for (w, bytes) in held {
                let busy = self
                    .workers
                    .get(&w)
                    .map_or(usize::MAX, |r| r.processing.len());
                let better = match best {
                    None => true,
                    Some((bb, bbusy, bw)) => {
                        (bytes, std::cmp::Reverse(busy), std::cmp::Reverse(w))
                            > (bb, std::cmp::Reverse(bbusy), std::cmp::Reverse(bw))
                    }
                };
                if better && self.workers.get(&w).is_some_and(|r| !r.paused) {
                    best = Some((bytes, busy, w));
                }
            }
            best.map(|(_, _, w)| w).or_else(|| {
                self.running()
                    .min_by_key(|(i, w)| (w.processing.len(), **i))
                    .map(|(i, _)| *i)
            })
        };
        match worker {
            Some(w) => self.send_to(id, w, out),
            None => {
                self.set_state(id, TaskState::Queued);
                self.queue.push_back(id);
            }
        }
    }

    /// Places a ready root task on the least busy worker, room or not (a small submission
    /// that should not wait behind a large graph's queue); queues it only with no worker
    /// running.
    fn place_now(&mut self, id: TaskId, out: &mut Outbox) {
        let worker = self
            .running()
            .min_by(|(ia, a), (ib, b)| {
                let la = a.processing.len() as f64 / a.nthreads as f64;
                let lb = b.processing.len() as f64 / b.nthreads as f64;
                la.total_cmp(&lb).then(ia.cmp(ib))
            })
            .map(|(id, _)| *id);
        match worker {
            Some(w) => self.send_to(id, w, out),
            None => {
                self.set_state(id, TaskState::Queued);
                self.queue.push_back(id);
            }
        }
    }

    fn send_to(&mut self, id: TaskId, worker: WorkerId, out: &mut Outbox) {
        self.set_state(id, TaskState::Processing(worker));
        if let Some(w) = self.workers.get_mut(&worker) {
            w.processing.insert(id);
        }
        out.compute.entry(worker).or_default().push(id);
        self.tasks_sent += 1;
    }

    fn drain_queue(&mut self, out: &mut Outbox) {
        while let Some(&id) = self.queue.front() {
            if self.tasks.get(&id).map(|t| t.state) != Some(TaskState::Queued) {
                self.queue.pop_front();
                continue;
            }
            let has_room = self
                .running()
                .any(|(_, w)| w.processing.len() < self.capacity(w));
            let is_root = self.tasks.get(&id).is_some_and(|t| t.deps.is_empty());
            // With every worker paused (or none), nothing can be placed: placing would only
            // queue the task again.
            if self.running().next().is_none() || (is_root && !has_room) {
                return;
            }
            self.queue.pop_front();
            self.set_state(id, TaskState::Waiting);
            self.make_ready(id, out);
        }
    }

    fn needs_result(&self, id: TaskId) -> bool {
        self.tasks.get(&id).is_some_and(|t| {
            t.wanted_by > 0
                || t.pins > 0
                || t.dependents
                    .iter()
                    .any(|d| self.tasks.get(d).is_some_and(|x| x.state.is_pending()))
        })
    }

    /// A worker stored the result of `id`.
    pub fn task_finished(&mut self, worker: WorkerId, id: TaskId, nbytes: u64, out: &mut Outbox) {
        let state = self.tasks.get(&id).map(|t| t.state);
        match state {
            Some(TaskState::Processing(w)) if w == worker => {}
            Some(TaskState::Memory) => {
                // A duplicate (e.g. a rescheduled task that also finished): one more holder.
                if let Some(t) = self.tasks.get_mut(&id) {
                    if !t.who_has.contains(&worker) {
                        t.who_has.push(worker);
                    }
                }
                if let Some(w) = self.workers.get_mut(&worker) {
                    w.has.insert(id);
                }
                return;
            }
            _ => {
                out.free.entry(worker).or_default().push(id);
                return;
            }
        }
        self.set_state(id, TaskState::Memory);
        if let Some(w) = self.workers.get_mut(&worker) {
            w.processing.remove(&id);
            w.has.insert(id);
            w.done += 1;
        }
        let (deps, dependents) = match self.tasks.get_mut(&id) {
            Some(t) => {
                t.who_has.clear();
                t.who_has.push(worker);
                t.nbytes = nbytes;
                (t.deps.clone(), t.dependents.clone())
            }
            None => return,
        };
        for (client, wants) in &self.clients {
            if wants.contains(&id) {
                out.ready.entry(*client).or_default().push(id);
            }
        }
        for d in dependents {
            let ready = match self.tasks.get_mut(&d) {
                Some(t) if t.state == TaskState::Waiting => {
                    t.waiting_on = t.waiting_on.saturating_sub(1);
                    t.waiting_on == 0
                }
                _ => false,
            };
            if ready {
                self.make_ready(d, out);
            }
        }
        for d in deps {
            self.release_if_unneeded(d, out);
        }
        self.release_if_unneeded(id, out);
        self.drain_queue(out);
        self.settle(out);
    }

    /// A task failed on a worker. `missing_input` failures (an input could not be fetched)
    /// reschedule the task instead.
    pub fn task_failed(
        &mut self,
        worker: WorkerId,
        id: TaskId,
        error: String,
        missing_input: bool,
        out: &mut Outbox,
    ) {
        if self.tasks.get(&id).map(|t| t.state) != Some(TaskState::Processing(worker)) {
            return;
        }
        if let Some(w) = self.workers.get_mut(&worker) {
            w.processing.remove(&id);
        }
        // A task whose inputs keep failing to arrive would otherwise bounce forever.
        let missing_input = missing_input
            && match self.tasks.get_mut(&id) {
                Some(t) => {
                    t.fetch_failures += 1;
                    t.fetch_failures <= MAX_FETCH_FAILURES
                }
                None => false,
            };
        let retry = !missing_input
            && match self.tasks.get_mut(&id) {
                Some(t) if t.retries > 0 => {
                    t.retries -= 1;
                    true
                }
                _ => false,
            };
        if missing_input || retry {
            self.set_state(id, TaskState::Released);
            // Inputs the worker could not fetch are gone from their holders.
            self.activate(&[id], out);
        } else {
            self.fail(id, error, out);
        }
        self.drain_queue(out);
    }

    /// Marks `id` and every pending task depending on it as failed, telling the clients.
    fn fail(&mut self, id: TaskId, error: String, out: &mut Outbox) {
        let mut stack = vec![(id, error)];
        while let Some((id, error)) = stack.pop() {
            let Some(t) = self.tasks.get(&id) else {
                continue;
            };
            if t.state == TaskState::Erred || t.state == TaskState::Memory {
                continue;
            }
            if let TaskState::Processing(w) = t.state {
                if let Some(w) = self.workers.get_mut(&w) {
                    w.processing.remove(&id);
                }
            }
            self.set_state(id, TaskState::Erred);
            let (key, dependents) = match self.tasks.get_mut(&id) {
                Some(t) => {
                    t.error = Some(error.clone());
                    (t.key.clone(), t.dependents.clone())
                }
                None => continue,
            };
            for (client, wants) in &self.clients {
                if wants.contains(&id) {
                    out.erred
                        .entry(*client)
                        .or_default()
                        .push((key.clone(), error.clone()));
                }
            }
            let dep_error = if error.starts_with("input ") {
                error.clone()
            } else {
                format!("input {key} failed: {error}")
            };
            for d in dependents {
                if self.tasks.get(&d).is_some_and(|t| t.state.is_pending()) {
                    stack.push((d, dep_error.clone()));
                }
            }
        }
    }

    /// Frees the result of `id` on its workers if nobody needs it, and forgets what can be.
    fn release_if_unneeded(&mut self, id: TaskId, out: &mut Outbox) {
        if self.needs_result(id) {
            return;
        }
        let Some(t) = self.tasks.get(&id) else { return };
        match t.state {
            TaskState::Memory => {
                let holders = match self.tasks.get_mut(&id) {
                    Some(t) => std::mem::take(&mut t.who_has),
                    None => SmallVec::new(),
                };
                for w in holders {
                    out.free.entry(w).or_default().push(id);
                    if let Some(r) = self.workers.get_mut(&w) {
                        r.has.remove(&id);
                    }
                }
                self.set_state(id, TaskState::Released);
            }
            TaskState::Waiting | TaskState::Queued => self.set_state(id, TaskState::Released),
            _ => {}
        }
        self.forget_if_unreferenced(id);
    }

    /// Forgets `id` (and then its inputs) if no client wants it and no task depends on it.
    /// Forgets `id` (and then its inputs) if no client wants it and no task depends on it,
    /// when its turn comes (see [`SchedulerState::release_some`]).
    fn forget_if_unreferenced(&mut self, id: TaskId) {
        self.forgetting.push(id);
    }

    fn forget_step(&mut self, id: TaskId, out: &mut Outbox) -> usize {
        let Some(t) = self.tasks.get(&id) else {
            return 0;
        };
        if t.wanted_by > 0
            || t.pins > 0
            || !t.dependents.is_empty()
            || !matches!(t.state, TaskState::Released | TaskState::Erred)
        {
            return 0;
        }
        self.set_state(id, TaskState::Forgotten);
        let Some(t) = self.tasks.remove(&id) else {
            return 0;
        };
        self.ids.remove(&t.key);
        let work = t.deps.len();
        for d in t.deps {
            if let Some(dep) = self.tasks.get_mut(&d) {
                dep.dependents.retain(|x| *x != id);
            }
            // An input nobody needs any more: free it, then maybe forget it.
            if !self.needs_result(d) {
                if self.tasks.get(&d).map(|x| x.state) == Some(TaskState::Memory) {
                    self.release_if_unneeded_no_forget(d, out);
                }
                self.forgetting.push(d);
            }
        }
        work
    }

    /// Whether released keys still wait to be followed through (see
    /// [`SchedulerState::release_some`]).
    ///
    /// ```
    /// use dusk_scheduler::distributed::state::{SchedulerState, StateConfig};
    /// assert!(!SchedulerState::new(StateConfig::default()).is_releasing());
    /// ```
    pub fn is_releasing(&self) -> bool {
        !self.releasing.is_empty() || !self.forgetting.is_empty()
    }

    /// Follows released keys through about `budget` tasks (each input looked at counts one):
    /// tasks no one needs any more are released — taken back from their workers, their
    /// results freed — and forgotten, with the inputs only they needed. Returns whether some
    /// work is left.
    ///
    /// Dropping the last key of a graph of a million tasks releases and forgets them all,
    /// which takes long enough to stall every other client. So each change of the state does
    /// at most [`RELEASE_SLICE`] of this work, and the scheduler calls this between its other
    /// events until nothing is left. Until its turn comes, a task keeps its state; if
    /// something needs it again meanwhile, it stays.
    ///
    /// ```
    /// use dusk_core::{Key, WireOp, WireTask};
    /// use dusk_scheduler::distributed::state::{
    ///     Outbox, SchedulerState, StateConfig, RELEASE_SLICE,
    /// };
    /// let n = 3 * RELEASE_SLICE as u32;
    /// let task = |i: u32| WireTask {
    ///     key: Key::part("chain", i),
    ///     op: WireOp { kind: "my.op".into(), payload: vec![] },
    ///     deps: if i == 0 { vec![] } else { vec![Key::part("chain", i - 1)] },
    /// };
    /// let mut s = SchedulerState::new(StateConfig::default());
    /// let mut out = Outbox::default();
    /// let last = Key::part("chain", n - 1);
    /// s.update_graph(7, (0..n).map(task).collect(), &[last.clone()], &mut out).unwrap();
    /// s.release_keys(7, &[last], &mut out);
    /// assert!(s.is_releasing(), "a slice at a time");
    /// while s.release_some(1000, &mut out) {}
    /// assert!(s.is_empty());
    /// ```
    pub fn release_some(&mut self, budget: usize, out: &mut Outbox) -> bool {
        let mut budget = budget.max(1);
        let mut worked = false;
        while budget > 0 {
            // Forgetting first: a task released is forgotten before the walk goes deeper.
            let work = if let Some(id) = self.forgetting.pop() {
                self.forget_step(id, out)
            } else if let Some(id) = self.releasing.pop() {
                self.release_step(id, out)
            } else {
                break;
            };
            worked = true;
            budget = budget.saturating_sub(1 + work);
        }
        if worked {
            self.drain_queue(out);
        }
        self.is_releasing()
    }

    /// Does a slice of the release work a change of the state set off.
    fn settle(&mut self, out: &mut Outbox) {
        if self.is_releasing() {
            self.release_some(RELEASE_SLICE, out);
        }
    }

    fn release_if_unneeded_no_forget(&mut self, id: TaskId, out: &mut Outbox) {
        let holders = match self.tasks.get_mut(&id) {
            Some(t) => std::mem::take(&mut t.who_has),
            None => return,
        };
        for w in holders {
            out.free.entry(w).or_default().push(id);
            if let Some(r) = self.workers.get_mut(&w) {
                r.has.remove(&id);
            }
        }
        self.set_state(id, TaskState::Released);
    }

    /// `client` no longer holds `keys`.
    pub fn release_keys(&mut self, client: ClientId, keys: &[Key], out: &mut Outbox) {
        for k in keys {
            let Some(&id) = self.ids.get(k) else { continue };
            let removed = self.clients.get_mut(&client).is_some_and(|w| w.remove(&id));
            if !removed {
                continue;
            }
            if let Some(t) = self.tasks.get_mut(&id) {
                t.wanted_by = t.wanted_by.saturating_sub(1);
            }
            self.release_unwanted(id);
        }
        self.settle(out);
    }

    /// After `id` lost a client: release it and whatever only it needed, when its turn comes
    /// (see [`SchedulerState::release_some`]).
    fn release_unwanted(&mut self, id: TaskId) {
        self.releasing.push(id);
    }

    /// Releases `id` if nothing needs it; its inputs are checked next.
    fn release_step(&mut self, id: TaskId, out: &mut Outbox) -> usize {
        if self.needs_result(id) {
            return 0;
        }
        let Some(t) = self.tasks.get(&id) else {
            return 0;
        };
        let deps = t.deps.clone();
        match t.state {
            TaskState::Processing(w) => {
                // The worker drops it if it has not started; a result that still arrives
                // is freed then (`task_finished`).
                if let Some(r) = self.workers.get_mut(&w) {
                    r.processing.remove(&id);
                }
                out.cancel.entry(w).or_default().push(id);
                self.set_state(id, TaskState::Released);
            }
            TaskState::Waiting | TaskState::Queued => {
                self.set_state(id, TaskState::Released);
            }
            _ => {}
        }
        self.release_if_unneeded(id, out);
        let work = deps.len();
        self.releasing.extend(deps);
        work
    }

    /// `client` cancels `keys` (Dask's `client.cancel`); returns the keys cancelled for it.
    ///
    /// The client drops its interest in each key it holds among `keys`. When no other client
    /// wants such a key, the dependents this client wants are cancelled with it (they could
    /// not be computed without it), found through intermediate tasks no one wants; a dependent
    /// another client wants stops the search, and keeps what it needs alive. Then everything
    /// no one needs any more is released, as if the client had dropped those keys
    /// ([`SchedulerState::release_keys`]): tasks waiting or queued are released and
    /// forgotten, tasks running are taken back from their workers ([`Outbox::cancel`]),
    /// results in memory are freed — and so are their inputs that nothing else needs.
    ///
    /// The keys returned are every key cancelled for the client; the outbox says nothing more
    /// to the client about them (news of them gathered earlier in this batch is dropped), so
    /// a reply listing them, sent before the outbox, is the last word on them until the
    /// client submits them again. Keys the client does not hold are ignored.
    ///
    /// ```
    /// use dusk_core::{Key, WireOp, WireTask};
    /// use dusk_scheduler::distributed::state::{Outbox, SchedulerState, StateConfig, TaskState};
    ///
    /// let task = |k: &str| WireTask {
    ///     key: Key::new(k),
    ///     op: WireOp { kind: "my.op".into(), payload: vec![] },
    ///     deps: vec![],
    /// };
    /// let mut s = SchedulerState::new(StateConfig::default());
    /// let mut out = Outbox::default();
    /// s.add_worker(1, "127.0.0.1:9000".into(), 1, &mut out);
    /// s.update_graph(7, vec![task("a")], &[Key::new("a")], &mut out).unwrap();
    /// assert_eq!(s.state_of(&Key::new("a")), TaskState::Processing(1));
    /// let gone = s.cancel_keys(7, &[Key::new("a")], &mut out);
    /// assert_eq!(gone, vec![Key::new("a")]);
    /// assert_eq!(s.state_of(&Key::new("a")), TaskState::Forgotten);
    /// assert_eq!(out.cancel[&1].len(), 1, "the worker is told to drop it");
    /// ```
    pub fn cancel_keys(&mut self, client: ClientId, keys: &[Key], out: &mut Outbox) -> Vec<Key> {
        let Some(wants) = self.clients.get(&client) else {
            return Vec::new();
        };
        // Breadth first, the keys asked for before any dependent: a key asked for is cancelled
        // even when another client wants it; a dependent only when no other client does.
        let mut todo: VecDeque<(TaskId, bool)> = keys
            .iter()
            .filter_map(|k| self.ids.get(k).copied())
            .filter(|id| wants.contains(id))
            .map(|id| (id, true))
            .collect();
        let mut seen: FxHashSet<TaskId> = FxHashSet::default();
        let mut cancel = Vec::new();
        while let Some((id, asked)) = todo.pop_front() {
            if !seen.insert(id) {
                continue;
            }
            let Some(t) = self.tasks.get(&id) else {
                continue;
            };
            let mine = wants.contains(&id);
            let others = t.wanted_by.saturating_sub(u32::from(mine)) > 0;
            if others {
                if asked {
                    cancel.push(id);
                }
                continue;
            }
            if mine {
                cancel.push(id);
            }
            todo.extend(t.dependents.iter().map(|d| (*d, false)));
        }
        let mut keys = Vec::with_capacity(cancel.len());
        for &id in &cancel {
            if let Some(w) = self.clients.get_mut(&client) {
                w.remove(&id);
            }
            if let Some(t) = self.tasks.get_mut(&id) {
                t.wanted_by = t.wanted_by.saturating_sub(1);
                keys.push(t.key.clone());
            }
        }
        if out.ready.contains_key(&client) || out.erred.contains_key(&client) {
            let ids: FxHashSet<TaskId> = cancel.iter().copied().collect();
            let named: FxHashSet<&Key> = keys.iter().collect();
            if let Some(ready) = out.ready.get_mut(&client) {
                ready.retain(|id| !ids.contains(id));
            }
            if let Some(erred) = out.erred.get_mut(&client) {
                erred.retain(|(k, _)| !named.contains(k));
            }
        }
        for &id in &cancel {
            self.release_unwanted(id);
        }
        self.settle(out);
        keys
    }

    /// A client went away: everything it held is released.
    pub fn remove_client(&mut self, client: ClientId, out: &mut Outbox) {
        let Some(wants) = self.clients.remove(&client) else {
            return;
        };
        for id in wants {
            if let Some(t) = self.tasks.get_mut(&id) {
                t.wanted_by = t.wanted_by.saturating_sub(1);
            }
            self.release_unwanted(id);
        }
        self.settle(out);
    }

    /// A worker is gone: its results are lost, its tasks rescheduled (or failed after
    /// `allowed_failures` deaths).
    pub fn remove_worker(&mut self, worker: WorkerId, out: &mut Outbox) {
        let Some(rec) = self.workers.remove(&worker) else {
            return;
        };
        out.compute.remove(&worker);
        out.cancel.remove(&worker);
        out.free.remove(&worker);
        if self.workers.is_empty() {
            self.no_workers_since = Some(Instant::now());
        }
        let mut to_activate = Vec::new();
        // Results only this worker held.
        for id in rec.has {
            let lost = match self.tasks.get_mut(&id) {
                Some(t) => {
                    t.who_has.retain(|w| *w != worker);
                    t.who_has.is_empty() && t.state == TaskState::Memory
                }
                None => false,
            };
            if !lost {
                continue;
            }
            self.set_state(id, TaskState::Released);
            let dependents = self
                .tasks
                .get(&id)
                .map(|t| t.dependents.clone())
                .unwrap_or_default();
            for d in dependents {
                let state = self.tasks.get(&d).map(|t| t.state);
                match state {
                    Some(TaskState::Waiting) => {
                        if let Some(t) = self.tasks.get_mut(&d) {
                            t.waiting_on += 1;
                        }
                    }
                    Some(TaskState::Processing(w)) if w != worker => {
                        // Its worker may never get this input: start it over. (Tasks on the
                        // dying worker itself are counted below.)
                        if let Some(r) = self.workers.get_mut(&w) {
                            r.processing.remove(&d);
                        }
                        self.set_state(d, TaskState::Released);
                        to_activate.push(d);
                    }
                    _ => {}
                }
            }
            to_activate.push(id);
        }
        // Tasks it was running.
        for id in rec.processing {
            let (suspicious, key) = match self.tasks.get_mut(&id) {
                Some(t) if t.state == TaskState::Processing(worker) => {
                    t.suspicious += 1;
                    (t.suspicious, t.key.clone())
                }
                _ => continue,
            };
            if suspicious > self.config.allowed_failures {
                let msg = format!(
                    "task {key} was running on {suspicious} workers that died \
                     (allowed-failures is {}); it may be what kills them",
                    self.config.allowed_failures
                );
                self.fail(id, msg, out);
            } else {
                self.set_state(id, TaskState::Released);
                to_activate.push(id);
            }
        }
        let needed: Vec<TaskId> = to_activate
            .into_iter()
            .filter(|id| self.needs_result(*id))
            .collect();
        self.activate(&needed, out);
        // Lost results nobody needs: forget them.
        self.drain_queue(out);
    }

    /// Called periodically: fails pending work when no worker has been connected for the
    /// configured timeout. Returns how many tasks failed.
    pub fn check_no_workers(&mut self, now: Instant, out: &mut Outbox) -> usize {
        let Some(since) = self.no_workers_since else {
            return 0;
        };
        if now.duration_since(since) < self.config.no_workers_timeout {
            return 0;
        }
        let pending: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.state.is_pending())
            .map(|(id, _)| id)
            .collect();
        let n = pending.len();
        let msg = format!(
            "no workers connected to the scheduler for {:?}; start workers with \
             `dusk worker ADDRESS`",
            self.config.no_workers_timeout
        );
        for id in pending {
            self.fail(id, msg.clone(), out);
        }
        self.queue.clear();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dusk_core::WireOp;

    /// A task running a test op (shared with the intake tests).
    pub(super) fn task(key: &str, deps: &[&str]) -> WireTask {
        WireTask {
            key: Key::new(key),
            op: WireOp {
                kind: "test.op".into(),
                payload: vec![],
            },
            deps: deps.iter().map(|d| Key::new(*d)).collect(),
        }
    }

    fn id(s: &SchedulerState, k: &str) -> TaskId {
        s.ids[&Key::new(k)]
    }

    fn sent(out: &mut Outbox, w: WorkerId) -> Vec<TaskId> {
        out.compute.remove(&w).unwrap_or_default()
    }

    #[test]
    fn transitions_follow_the_diagram() {
        use TaskState::*;
        let all = [
            Released,
            Waiting,
            Queued,
            Processing(1),
            Memory,
            Erred,
            Forgotten,
        ];
        for s in all {
            assert!(!s.can_become(s), "{s} -> {s}");
            assert!(!Forgotten.can_become(s));
        }
        assert!(Memory.can_become(Released));
        assert!(!Memory.can_become(Processing(2)));
        assert!(!Waiting.can_become(Memory));
    }

    #[test]
    fn a_chain_runs_in_order_and_frees_intermediates() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.add_client(7);
        s.update_graph(
            7,
            vec![task("a", &[]), task("b", &["a"]), task("c", &["b"])],
            &[Key::new("c")],
            &mut out,
        )
        .unwrap();
        assert_eq!(sent(&mut out, 1), vec![id(&s, "a")]);
        assert_eq!(s.state_of(&Key::new("b")), TaskState::Waiting);
        let a = id(&s, "a");
        s.task_finished(1, a, 8, &mut out);
        assert_eq!(sent(&mut out, 1), vec![id(&s, "b")]);
        let b = id(&s, "b");
        s.task_finished(1, b, 8, &mut out);
        // `a` is no longer needed by anyone.
        assert!(out.free[&1].contains(&a));
        let c = id(&s, "c");
        s.task_finished(1, c, 8, &mut out);
        assert_eq!(out.ready[&7], vec![c]);
        assert!(out.free[&1].contains(&b));
        assert_eq!(s.state_of(&Key::new("c")), TaskState::Memory);
        // Releasing the last reference forgets everything.
        s.release_keys(7, &[Key::new("c")], &mut out);
        assert!(out.free[&1].contains(&c));
        assert!(s.is_empty(), "{} tasks left", s.len());
    }

    #[test]
    fn placement_prefers_the_worker_holding_most_input_bytes() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 4, &mut out);
        s.add_worker(2, "w2".into(), 4, &mut out);
        s.update_graph(
            7,
            vec![
                task("small", &[]),
                task("big", &[]),
                task("sum", &["small", "big"]),
            ],
            &[Key::new("sum")],
            &mut out,
        )
        .unwrap();
        let (small, big) = (id(&s, "small"), id(&s, "big"));
        let mut on = FxHashMap::default();
        for w in [1, 2] {
            for t in sent(&mut out, w) {
                on.insert(t, w);
            }
        }
        assert_ne!(on[&small], on[&big], "root tasks spread over both workers");
        s.task_finished(on[&small], small, 10, &mut out);
        s.task_finished(on[&big], big, 1_000_000, &mut out);
        assert_eq!(sent(&mut out, on[&big]), vec![id(&s, "sum")]);
    }

    #[test]
    fn root_tasks_queue_beyond_saturation() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 2, &mut out);
        let tasks: Vec<WireTask> = (0..10).map(|i| task(&format!("t{i}"), &[])).collect();
        let keys: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
        s.update_graph(7, tasks, &keys, &mut out).unwrap();
        let first = sent(&mut out, 1);
        assert_eq!(first.len(), 4, "2 threads x saturation 2");
        assert_eq!(s.state_of(&keys[9]), TaskState::Queued);
        s.task_finished(1, first[0], 1, &mut out);
        assert_eq!(sent(&mut out, 1).len(), 1);
    }

    #[test]
    fn fast_workers_may_hold_more_ready_tasks() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        let tasks: Vec<WireTask> = (0..1000).map(|i| task(&format!("t{i}"), &[])).collect();
        let keys: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
        s.update_graph(7, tasks, &keys, &mut out).unwrap();
        let first = sent(&mut out, 1);
        assert_eq!(first.len(), 2);
        for id in first {
            s.task_finished(1, id, 1, &mut out);
        }
        sent(&mut out, 1);
        // 2 tasks in 1 ms: 2,000 tasks/s, so 10 ms of queue is 20 more tasks.
        s.measure(Duration::from_millis(1), &mut out);
        assert_eq!(sent(&mut out, 1).len(), 20);
    }

    /// One worker, given `big` and eight tasks that use it; `big` has been sent to it.
    fn one_worker_with_big_and_eight_users() -> (SchedulerState, Outbox, TaskId) {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        let mut tasks = vec![task("big", &[])];
        for i in 0..8 {
            tasks.push(task(&format!("use{i}"), &["big"]));
        }
        let keys: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
        s.update_graph(7, tasks, &keys, &mut out).unwrap();
        let big = id(&s, "big");
        sent(&mut out, 1);
        (s, out, big)
    }

    #[test]
    fn idle_workers_steal_from_saturated_ones() {
        let (mut s, mut out, big) = one_worker_with_big_and_eight_users();
        s.task_finished(1, big, 1 << 20, &mut out);
        // Every user of `big` goes where `big` is.
        assert_eq!(sent(&mut out, 1).len(), 8);
        s.add_worker(2, "w2".into(), 1, &mut out);
        s.balance(&mut out);
        let asked = out.steal.remove(&1).unwrap();
        assert_eq!(asked.len(), 3, "half of the 7 tasks beyond the one running");
        s.stolen(1, &asked, &mut out);
        let mut moved = sent(&mut out, 2);
        moved.sort();
        let mut asked = asked;
        asked.sort();
        assert_eq!(moved, asked);
    }

    #[test]
    fn quick_tasks_next_to_large_inputs_are_not_stolen() {
        let (mut s, mut out, big) = one_worker_with_big_and_eight_users();
        // 100 MB of input: a second to move, while this worker runs 1,000 tasks a second.
        s.task_finished(1, big, 100_000_000, &mut out);
        assert_eq!(sent(&mut out, 1).len(), 8);
        s.workers.get_mut(&1).unwrap().rate = 1_000.0;
        s.add_worker(2, "w2".into(), 1, &mut out);
        s.balance(&mut out);
        assert!(out.steal.is_empty(), "{:?}", out.steal);
    }

    #[test]
    fn paused_workers_get_no_new_work_and_what_they_hand_back_runs_elsewhere() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.add_worker(2, "w2".into(), 1, &mut out);
        let tasks: Vec<WireTask> = (0..4).map(|i| task(&format!("t{i}"), &[])).collect();
        let wanted: Vec<Key> = tasks.iter().map(|t| t.key.clone()).collect();
        s.update_graph(7, tasks, &wanted, &mut out).unwrap();
        let on_1 = sent(&mut out, 1);
        assert_eq!(on_1.len(), 2);
        assert_eq!(sent(&mut out, 2).len(), 2);
        // Worker 1 pauses and hands back what it had not started: it goes to worker 2.
        s.set_paused(1, true, &mut out);
        s.stolen(1, &on_1, &mut out);
        assert_eq!(sent(&mut out, 2), on_1);
        // New work, and the dependents of worker 1's results, go to worker 2 only.
        s.update_graph(7, vec![task("more", &[])], &keys(&["more"]), &mut out)
            .unwrap();
        assert_eq!(sent(&mut out, 2), vec![id(&s, "more")]);
        s.update_graph(
            7,
            vec![task("t9", &[]), task("next", &["t9"])],
            &keys(&["next"]),
            &mut out,
        )
        .unwrap();
        let t9 = id(&s, "t9");
        assert_eq!(sent(&mut out, 2), vec![t9]);
        assert!(out.compute.is_empty());
        // Worker 1 still finishes what it was running; its result's dependent runs on 2.
        s.stolen(2, &[t9], &mut out);
        assert_eq!(
            s.state_of(&Key::new("t9")),
            TaskState::Queued,
            "nowhere else to go"
        );
        s.set_paused(1, false, &mut out);
        assert_eq!(
            sent(&mut out, 1),
            vec![t9],
            "resumed, worker 1 takes the queue"
        );
        s.set_paused(1, true, &mut out);
        s.task_finished(1, t9, 8, &mut out);
        assert_eq!(sent(&mut out, 2), vec![id(&s, "next")]);
        assert!(!out.compute.contains_key(&1));
    }

    #[test]
    fn a_lone_paused_worker_queues_everything_and_takes_it_when_it_resumes() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.update_graph(7, vec![task("a", &[])], &keys(&["a"]), &mut out)
            .unwrap();
        let a = id(&s, "a");
        assert_eq!(sent(&mut out, 1), vec![a]);
        s.set_paused(1, true, &mut out);
        s.task_finished(1, a, 8, &mut out);
        // A dependent of a result the paused worker holds, and a new root: both wait.
        s.update_graph(
            7,
            vec![task("b", &["a"]), task("c", &[])],
            &keys(&["b", "c"]),
            &mut out,
        )
        .unwrap();
        assert!(out.compute.is_empty());
        assert_eq!(s.state_of(&Key::new("b")), TaskState::Queued);
        assert_eq!(s.state_of(&Key::new("c")), TaskState::Queued);
        s.measure(Duration::from_millis(100), &mut out);
        assert!(out.compute.is_empty() && out.steal.is_empty());
        s.set_paused(1, false, &mut out);
        let mut resumed = sent(&mut out, 1);
        resumed.sort();
        let mut expected = vec![id(&s, "b"), id(&s, "c")];
        expected.sort();
        assert_eq!(resumed, expected);
    }

    #[test]
    fn lost_results_are_recomputed_and_dying_tasks_eventually_fail() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.update_graph(
            7,
            vec![task("a", &[]), task("b", &[]), task("c", &["a", "b"])],
            &[Key::new("c")],
            &mut out,
        )
        .unwrap();
        let (a, b, c) = (id(&s, "a"), id(&s, "b"), id(&s, "c"));
        sent(&mut out, 1);
        s.task_finished(1, a, 1, &mut out);
        s.add_worker(2, "w2".into(), 1, &mut out);
        sent(&mut out, 2);
        // Worker 1 dies holding `a`, running `b`: both run again on worker 2.
        s.remove_worker(1, &mut out);
        let mut again = sent(&mut out, 2);
        again.sort();
        assert_eq!(again, vec![a, b]);
        s.task_finished(2, a, 1, &mut out);
        s.task_finished(2, b, 1, &mut out);
        assert_eq!(sent(&mut out, 2), vec![c]);
        // `c` kills every worker it runs on (after its inputs are recomputed there).
        let mut w = 2;
        for _ in 0..3 {
            s.remove_worker(w, &mut out);
            w += 1;
            s.add_worker(w, format!("w{w}"), 1, &mut out);
            loop {
                let ids = sent(&mut out, w);
                assert!(!ids.is_empty(), "nothing runs on worker {w}");
                if ids.contains(&c) {
                    break;
                }
                for x in ids {
                    s.task_finished(w, x, 1, &mut out);
                }
            }
        }
        s.remove_worker(w, &mut out);
        assert_eq!(s.state_of(&Key::new("c")), TaskState::Erred);
        let (_, err) = &out.erred[&7][0];
        assert!(err.contains("4 workers that died"), "{err}");
    }

    #[test]
    fn errors_propagate_to_dependents_and_clients() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.update_graph(
            7,
            vec![task("a", &[]), task("b", &["a"])],
            &[Key::new("b")],
            &mut out,
        )
        .unwrap();
        s.task_failed(1, id(&s, "a"), "boom".into(), false, &mut out);
        let (key, err) = &out.erred[&7][0];
        assert_eq!(key, &Key::new("b"));
        assert!(err.contains("'a'") && err.contains("boom"), "{err}");
    }

    #[test]
    fn failing_tasks_are_retried_then_fail() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.update_graph_with_retries(7, vec![task("a", &[])], &[Key::new("a")], 2, &mut out)
            .unwrap();
        let a = id(&s, "a");
        for _ in 0..2 {
            assert_eq!(sent(&mut out, 1), vec![a]);
            s.task_failed(1, a, "flaky".into(), false, &mut out);
            assert!(out.erred.is_empty());
        }
        assert_eq!(sent(&mut out, 1), vec![a]);
        s.task_failed(1, a, "flaky".into(), false, &mut out);
        assert_eq!(out.erred[&7][0].1, "flaky");
    }

    #[test]
    fn inputs_that_never_arrive_end_in_an_error() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.update_graph(7, vec![task("a", &[])], &[Key::new("a")], &mut out)
            .unwrap();
        let a = id(&s, "a");
        for _ in 0..MAX_FETCH_FAILURES {
            assert_eq!(sent(&mut out, 1), vec![a]);
            s.task_failed(1, a, "cannot fetch".into(), true, &mut out);
            assert!(out.erred.is_empty());
        }
        assert_eq!(sent(&mut out, 1), vec![a]);
        s.task_failed(1, a, "cannot fetch".into(), true, &mut out);
        assert_eq!(out.erred[&7][0].1, "cannot fetch");
    }

    #[test]
    fn unknown_dependencies_are_refused_without_changes() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        let err = s
            .update_graph(7, vec![task("b", &["ghost"])], &[Key::new("b")], &mut out)
            .unwrap_err();
        assert!(err.to_string().contains("'ghost'"), "{err}");
        assert!(s.is_empty());
    }

    #[test]
    fn no_workers_fails_pending_tasks_after_the_timeout() {
        let mut s = SchedulerState::new(StateConfig {
            no_workers_timeout: Duration::from_millis(0),
            ..StateConfig::default()
        });
        let mut out = Outbox::default();
        s.update_graph(7, vec![task("a", &[])], &[Key::new("a")], &mut out)
            .unwrap();
        assert_eq!(s.state_of(&Key::new("a")), TaskState::Queued);
        assert_eq!(s.check_no_workers(Instant::now(), &mut out), 1);
        assert!(out.erred[&7][0].1.contains("no workers"));
    }

    fn keys(names: &[&str]) -> Vec<Key> {
        names.iter().map(|n| Key::new(*n)).collect()
    }

    #[test]
    fn cancelling_queued_and_running_tasks_takes_them_back() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        let tasks = vec![task("t0", &[]), task("t1", &[]), task("t2", &[])];
        s.update_graph(7, tasks, &keys(&["t0", "t1", "t2"]), &mut out)
            .unwrap();
        let (t0, t1) = (id(&s, "t0"), id(&s, "t1"));
        assert_eq!(sent(&mut out, 1), vec![t0, t1], "1 thread x saturation 2");
        assert_eq!(s.state_of(&Key::new("t2")), TaskState::Queued);
        // Queued: forgotten, and no worker hears of it.
        assert_eq!(s.queued(), 1);
        let gone = s.cancel_keys(7, &keys(&["t2"]), &mut out);
        assert_eq!(gone, keys(&["t2"]));
        assert_eq!(s.state_of(&Key::new("t2")), TaskState::Forgotten);
        assert_eq!(s.queued(), 0);
        assert!(out.cancel.is_empty() && out.compute.is_empty());
        // Running: the worker is told to drop it; its slot is free again.
        s.cancel_keys(7, &keys(&["t0"]), &mut out);
        assert_eq!(out.cancel.remove(&1), Some(vec![t0]));
        assert_eq!(s.state_of(&Key::new("t0")), TaskState::Forgotten);
        assert_eq!(s.state_of(&Key::new("t1")), TaskState::Processing(1));
        s.update_graph(7, vec![task("t3", &[])], &keys(&["t3"]), &mut out)
            .unwrap();
        assert_eq!(sent(&mut out, 1), vec![id(&s, "t3")]);
        // A run that had started still reports: its result is freed at once.
        s.task_finished(1, t0, 8, &mut out);
        assert_eq!(out.free.remove(&1), Some(vec![t0]));
        assert!(out.ready.is_empty());
        // Submitted again, the key runs again: alone, it is placed at once rather than queued
        // behind a full worker.
        s.update_graph(7, vec![task("t0", &[])], &keys(&["t0"]), &mut out)
            .unwrap();
        assert_eq!(s.state_of(&Key::new("t0")), TaskState::Processing(1));
        assert_eq!(sent(&mut out, 1), vec![id(&s, "t0")]);
    }

    #[test]
    fn cancelling_frees_results_and_the_inputs_no_one_else_needs() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.update_graph(
            7,
            vec![task("a", &[]), task("b", &["a"]), task("done", &[])],
            &keys(&["b", "done"]),
            &mut out,
        )
        .unwrap();
        let (a, b, done) = (id(&s, "a"), id(&s, "b"), id(&s, "done"));
        sent(&mut out, 1);
        s.task_finished(1, done, 8, &mut out);
        s.task_finished(1, a, 8, &mut out);
        assert_eq!(sent(&mut out, 1), vec![b]);
        // `b` runs, its input `a` is held: cancelling `b` takes it back and frees `a`.
        // The news that `done` is ready, not yet sent, is dropped with it below.
        assert_eq!(out.ready[&7], vec![done]);
        assert_eq!(s.cancel_keys(7, &keys(&["b"]), &mut out), keys(&["b"]));
        assert_eq!(out.cancel.remove(&1), Some(vec![b]));
        assert_eq!(out.free.remove(&1), Some(vec![a]));
        assert_eq!(s.state_of(&Key::new("a")), TaskState::Forgotten);
        // A finished result: cancelling releases it.
        assert_eq!(s.state_of(&Key::new("done")), TaskState::Memory);
        assert_eq!(
            s.cancel_keys(7, &keys(&["done"]), &mut out),
            keys(&["done"])
        );
        assert_eq!(out.free.remove(&1), Some(vec![done]));
        assert!(out.ready[&7].is_empty());
        assert!(s.is_empty(), "{} tasks left", s.len());
    }

    #[test]
    fn cancelling_takes_this_clients_dependents_and_spares_other_clients() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 4, &mut out);
        // Client 7 wants `a` and `b`, which needs `a` through `x`, which no one wants.
        // Client 8 wants `e`, which needs `a`, and `s`, which client 7 wants too.
        s.update_graph(
            7,
            vec![
                task("a", &[]),
                task("x", &["a"]),
                task("b", &["x"]),
                task("s", &[]),
            ],
            &keys(&["a", "b", "s"]),
            &mut out,
        )
        .unwrap();
        s.update_graph(8, vec![task("e", &["a"])], &keys(&["e", "s"]), &mut out)
            .unwrap();
        let (a, sh) = (id(&s, "a"), id(&s, "s"));
        sent(&mut out, 1);
        // `s` is wanted by client 8 too: only client 7's interest goes.
        let gone = s.cancel_keys(7, &keys(&["s"]), &mut out);
        assert_eq!(gone, keys(&["s"]));
        assert_eq!(s.state_of(&Key::new("s")), TaskState::Processing(1));
        assert!(out.cancel.is_empty());
        // `a`: client 7's dependent `b` goes with it, but client 8's `e` keeps `a` running.
        let mut gone = s.cancel_keys(7, &keys(&["a"]), &mut out);
        gone.sort();
        assert_eq!(gone, keys(&["a", "b"]));
        assert_eq!(s.state_of(&Key::new("b")), TaskState::Forgotten);
        assert_eq!(s.state_of(&Key::new("x")), TaskState::Forgotten);
        assert_eq!(s.state_of(&Key::new("a")), TaskState::Processing(1));
        assert!(out.cancel.is_empty());
        // Results now go to client 8 only.
        s.task_finished(1, sh, 8, &mut out);
        s.task_finished(1, a, 8, &mut out);
        assert_eq!(out.ready.remove(&8), Some(vec![sh]));
        assert!(out.ready.is_empty());
        assert_eq!(sent(&mut out, 1), vec![id(&s, "e")]);
        // Cancelling what the client no longer holds changes nothing.
        assert!(s
            .cancel_keys(7, &keys(&["a", "e", "ghost"]), &mut out)
            .is_empty());
        assert_eq!(s.state_of(&Key::new("a")), TaskState::Memory);
    }

    #[test]
    fn a_forgotten_task_number_never_names_the_next_task_in_its_slot() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.update_graph(7, vec![task("a", &[])], &keys(&["a"]), &mut out)
            .unwrap();
        let a = id(&s, "a");
        s.cancel_keys(7, &keys(&["a"]), &mut out);
        assert!(s.is_empty());
        s.update_graph(7, vec![task("b", &[])], &keys(&["b"]), &mut out)
            .unwrap();
        let b = id(&s, "b");
        assert_ne!(a, b);
        assert_eq!(a & 0xffff_ffff, b & 0xffff_ffff, "the slot is reused");
        let mut out = Outbox::default();
        // The run of `a` that had started still reports: freed, and `b` is untouched.
        s.task_finished(1, a, 8, &mut out);
        assert_eq!(out.free.remove(&1), Some(vec![a]));
        assert!(out.ready.is_empty());
        assert_eq!(s.state_of(&Key::new("b")), TaskState::Processing(1));
    }

    #[test]
    fn cancelling_an_erred_key_forgets_it() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.update_graph(7, vec![task("a", &[])], &keys(&["a"]), &mut out)
            .unwrap();
        s.task_failed(1, id(&s, "a"), "boom".into(), false, &mut out);
        assert_eq!(s.state_of(&Key::new("a")), TaskState::Erred);
        assert_eq!(s.cancel_keys(7, &keys(&["a"]), &mut out), keys(&["a"]));
        assert!(s.is_empty());
    }
}
