//! Taking a graph in a slice at a time, so that a graph of a million tasks never holds up the
//! scheduler's other clients.
//!
//! The scheduler's event loop is single-threaded: while it takes in one graph, no other client
//! or worker is heard. Taking in a million tasks at once kept every other client waiting for
//! seconds. So a graph update is taken in two stages:
//!
//! 1. [`PreparedGraph::new`] does everything that needs no scheduler state: it drops repeated
//!    keys, turns each dependency into a position in the graph (or names it as a key the cluster
//!    must already hold), and orders the tasks so that every task comes after its inputs,
//!    finding cycles on the way. It runs on any thread — the scheduler runs it beside the event
//!    loop for large graphs.
//! 2. [`SchedulerState::begin_graph`] and [`SchedulerState::continue_graph`] take the prepared
//!    graph into the state at most a given number of tasks per call; between calls the event
//!    loop handles everything else.
//!
//! Two rules keep the state consistent while a graph is half taken in:
//!
//! - **Tasks enter whole.** Thanks to the order, a task's inputs exist when the task is added, so
//!   it is added with its inputs and dependents already linked. Another client naming the same
//!   key between two slices finds a complete task it can run.
//! - **Tasks named by the graph are pinned** until the graph is in: a pinned task is never
//!   forgotten and its result never freed, so another client releasing a key between two slices
//!   cannot remove a task this graph depends on. Unpinning, the last step, releases and forgets
//!   what the graph named but nothing needs (tasks no wanted key depends on).

use dusk_core::{Key, WireOp, WireTask};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::{ClientId, GraphRefused, Outbox, SchedulerState, TaskRecord, TaskState};
use crate::distributed::message::TaskId;

/// A dependency or wanted key of a prepared graph: a task of the graph (by position) or a key
/// the cluster must already know (by position in [`PreparedGraph::external`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ref {
    Local(u32),
    External(u32),
}

/// One task of a prepared graph.
#[derive(Debug)]
struct PreparedTask {
    key: Key,
    op: WireOp,
    inputs: Vec<Ref>,
}

/// A graph update made ready to be taken in a slice at a time (see the [module docs](self)).
///
/// ```
/// use dusk_core::{Key, WireOp, WireTask};
/// use dusk_scheduler::distributed::state::PreparedGraph;
///
/// let task = |k: &str, deps: &[&str]| WireTask {
///     key: Key::new(k),
///     op: WireOp { kind: "my.op".into(), payload: vec![] },
///     deps: deps.iter().map(|d| Key::new(*d)).collect(),
/// };
/// // `b` comes first but needs `a`; `x` is not in the graph, so the cluster must know it.
/// let g = PreparedGraph::new(
///     vec![task("b", &["a", "x"]), task("a", &[]), task("a", &[])],
///     vec![Key::new("b")],
///     vec![],
///     0,
/// );
/// assert_eq!(g.len(), 2, "the repeated `a` is dropped");
/// assert_eq!(g.wanted_keys(), vec![Key::new("b")]);
/// ```
#[derive(Debug)]
pub struct PreparedGraph {
    /// Every task once, each after its inputs; each is taken out as it enters the state (so
    /// what is left is freed a slice at a time, not all at once at the end).
    tasks: Vec<Option<PreparedTask>>,
    /// Keys needed from the cluster, with the position of the first task needing each (none
    /// when only wanted).
    external: Vec<(Key, Option<u32>)>,
    wanted: Vec<Ref>,
    retries: u32,
    /// A key on a cycle, if the graph has one.
    cycle: Option<Key>,
    ignored_positions: usize,
}

impl PreparedGraph {
    /// Prepares the tasks of an update: `wanted` are the keys the client holds, and
    /// `wanted_tasks` more of them given as positions in `tasks` (positions past the end are
    /// ignored and counted, see [`PreparedGraph::ignored_positions`]). Each new task that fails
    /// is run again up to `retries` times.
    ///
    /// ```
    /// use dusk_core::{Key, WireOp, WireTask};
    /// use dusk_scheduler::distributed::state::PreparedGraph;
    ///
    /// let t = WireTask {
    ///     key: Key::new("a"),
    ///     op: WireOp { kind: "my.op".into(), payload: vec![] },
    ///     deps: vec![],
    /// };
    /// let g = PreparedGraph::new(vec![t], vec![], vec![0, 7], 0);
    /// assert_eq!(g.wanted_keys(), vec![Key::new("a")]);
    /// assert_eq!(g.ignored_positions(), 1);
    /// ```
    pub fn new(
        tasks: Vec<WireTask>,
        wanted: Vec<Key>,
        wanted_tasks: Vec<u32>,
        retries: u32,
    ) -> PreparedGraph {
        // `unique[i]`: the position among distinct tasks of the task sent at position `i`;
        // `first[u]`: where distinct task `u` was first sent. Keys are borrowed, not copied.
        let mut position: FxHashMap<&Key, u32> = FxHashMap::default();
        position.reserve(tasks.len());
        let mut unique: Vec<u32> = Vec::with_capacity(tasks.len());
        let mut first: Vec<u32> = Vec::with_capacity(tasks.len());
        for (i, t) in tasks.iter().enumerate() {
            let next = first.len() as u32;
            let u = *position.entry(&t.key).or_insert_with(|| {
                first.push(i as u32);
                next
            });
            unique.push(u);
        }
        let mut external: Vec<(Key, Option<u32>)> = Vec::new();
        let mut external_at: FxHashMap<Key, u32> = FxHashMap::default();
        let mut resolve = |k: &Key, needed_by: Option<u32>| -> Ref {
            if let Some(&i) = position.get(k) {
                return Ref::Local(i);
            }
            let next = external.len() as u32;
            let i = *external_at.entry(k.clone()).or_insert_with(|| {
                external.push((k.clone(), needed_by));
                next
            });
            Ref::External(i)
        };
        let mut inputs: Vec<Vec<Ref>> = Vec::with_capacity(first.len());
        for (u, &i) in first.iter().enumerate() {
            let deps = &tasks[i as usize].deps;
            inputs.push(deps.iter().map(|d| resolve(d, Some(u as u32))).collect());
        }
        let mut wanted_refs: Vec<Ref> = wanted.iter().map(|k| resolve(k, None)).collect();
        drop(position);
        let mut ignored_positions = 0;
        for p in wanted_tasks {
            match unique.get(p as usize) {
                Some(&u) => wanted_refs.push(Ref::Local(u)),
                None => ignored_positions += 1,
            }
        }
        let repeats = first.len() < tasks.len();
        // Graphs are usually built inputs first: then there is nothing to reorder.
        let in_order = inputs.iter().enumerate().all(|(u, refs)| {
            refs.iter()
                .all(|r| !matches!(r, Ref::Local(d) if *d as usize >= u))
        });
        if in_order && !repeats {
            let tasks = tasks
                .into_iter()
                .zip(inputs)
                .map(|(t, inputs)| {
                    Some(PreparedTask {
                        key: t.key,
                        op: t.op,
                        inputs,
                    })
                })
                .collect();
            return PreparedGraph {
                tasks,
                external,
                wanted: wanted_refs,
                retries,
                cycle: None,
                ignored_positions,
            };
        }
        let (order, cycle) = if in_order {
            ((0..first.len() as u32).collect(), None)
        } else {
            topological_order(&inputs)
        };
        let cycle = cycle.map(|u| tasks[first[u as usize] as usize].key.clone());
        // Renumber so that position = place in the order.
        let mut place = vec![0u32; first.len()];
        for (p, &u) in order.iter().enumerate() {
            place[u as usize] = p as u32;
        }
        let renumber = |r: Ref| match r {
            Ref::Local(u) => Ref::Local(place[u as usize]),
            e => e,
        };
        for (_, needed_by) in &mut external {
            if let Some(u) = needed_by {
                *u = place[*u as usize];
            }
        }
        for r in &mut wanted_refs {
            *r = renumber(*r);
        }
        // Repeats of a key are dropped here.
        let mut slots: Vec<Option<WireTask>> = tasks.into_iter().map(Some).collect();
        let mut inputs: Vec<Option<Vec<Ref>>> = inputs.into_iter().map(Some).collect();
        let tasks = order
            .iter()
            .filter_map(|&u| {
                let t = slots[first[u as usize] as usize].take()?;
                let refs = inputs[u as usize].take()?;
                Some(Some(PreparedTask {
                    key: t.key,
                    op: t.op,
                    inputs: refs.into_iter().map(renumber).collect(),
                }))
            })
            .collect();
        PreparedGraph {
            tasks,
            external,
            wanted: wanted_refs,
            retries,
            cycle,
            ignored_positions,
        }
    }

    /// The number of distinct tasks.
    ///
    /// ```
    /// use dusk_scheduler::distributed::state::PreparedGraph;
    /// assert_eq!(PreparedGraph::new(vec![], vec![], vec![], 0).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the graph has no task (it may still want keys the cluster holds).
    ///
    /// ```
    /// use dusk_core::Key;
    /// use dusk_scheduler::distributed::state::PreparedGraph;
    /// let g = PreparedGraph::new(vec![], vec![Key::new("held")], vec![], 0);
    /// assert!(g.is_empty());
    /// assert_eq!(g.wanted_keys(), vec![Key::new("held")]);
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// How many wanted positions pointed past the end of the tasks sent (they are ignored).
    ///
    /// ```
    /// use dusk_scheduler::distributed::state::PreparedGraph;
    /// assert_eq!(PreparedGraph::new(vec![], vec![], vec![3], 0).ignored_positions(), 1);
    /// ```
    pub fn ignored_positions(&self) -> usize {
        self.ignored_positions
    }

    /// The keys the client wants, as it named them (to tell it which keys a refused graph
    /// will not compute). Once tasks have entered the state, their keys are no longer here.
    ///
    /// ```
    /// use dusk_core::Key;
    /// use dusk_scheduler::distributed::state::PreparedGraph;
    /// let g = PreparedGraph::new(vec![], vec![Key::new("a"), Key::new("b")], vec![], 0);
    /// assert_eq!(g.wanted_keys(), vec![Key::new("a"), Key::new("b")]);
    /// ```
    pub fn wanted_keys(&self) -> Vec<Key> {
        self.wanted
            .iter()
            .filter_map(|r| match *r {
                Ref::Local(i) => self.tasks[i as usize].as_ref().map(|t| t.key.clone()),
                Ref::External(i) => Some(self.external[i as usize].0.clone()),
            })
            .collect()
    }
}

/// Kahn's algorithm over local inputs: an order in which every task follows its inputs, and,
/// when some tasks can never be ordered (they are on or behind a cycle), one of them. The
/// unordered tasks are appended so that the order still names every task once.
fn topological_order(inputs: &[Vec<Ref>]) -> (Vec<u32>, Option<u32>) {
    let n = inputs.len();
    let mut waiting = vec![0u32; n];
    let mut dependent_count = vec![0u32; n];
    for (i, refs) in inputs.iter().enumerate() {
        for r in refs {
            if let Ref::Local(d) = r {
                waiting[i] += 1;
                dependent_count[*d as usize] += 1;
            }
        }
    }
    // Dependents in compressed form: those of task `d` are `dependents[starts[d]..starts[d+1]]`.
    let mut starts = Vec::with_capacity(n + 1);
    let mut total = 0u32;
    for &c in &dependent_count {
        starts.push(total);
        total += c;
    }
    starts.push(total);
    let mut fill = starts.clone();
    let mut dependents = vec![0u32; total as usize];
    for (i, refs) in inputs.iter().enumerate() {
        for r in refs {
            if let Ref::Local(d) = r {
                dependents[fill[*d as usize] as usize] = i as u32;
                fill[*d as usize] += 1;
            }
        }
    }
    // Ready tasks in sending order, so that a graph sent in order keeps it.
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&i| waiting[i as usize] == 0)
        .collect();
    let mut next = 0;
    while next < order.len() {
        let d = order[next] as usize;
        next += 1;
        for &i in &dependents[starts[d] as usize..starts[d + 1] as usize] {
            waiting[i as usize] -= 1;
            if waiting[i as usize] == 0 {
                order.push(i);
            }
        }
    }
    if order.len() == n {
        return (order, None);
    }
    let stuck: Vec<u32> = (0..n as u32).filter(|&i| waiting[i as usize] > 0).collect();
    let cycle = stuck.first().copied();
    order.extend(stuck);
    (order, cycle)
}

/// The steps of taking a graph in, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Finding and pinning the keys the graph needs from the cluster.
    External,
    /// Adding the tasks, inputs first.
    Insert,
    /// Recording the client's interest in the wanted keys.
    Wants,
    /// Marking what the wanted keys need as waiting (a depth-first walk).
    Activate,
    /// Failing tasks whose inputs had failed.
    Fail,
    /// Placing or queuing the tasks whose inputs are all in memory.
    Ready,
    /// Unpinning, and forgetting what nothing needs.
    Unpin,
    Done,
}

/// A graph update being taken in (see the [module docs](self)); made by
/// [`SchedulerState::begin_graph`], advanced by [`SchedulerState::continue_graph`].
///
/// ```
/// use dusk_core::{Key, WireOp, WireTask};
/// use dusk_scheduler::distributed::state::{
///     Outbox, PreparedGraph, SchedulerState, StateConfig, TaskState,
/// };
///
/// let tasks: Vec<WireTask> = (0..100u32)
///     .map(|i| WireTask {
///         key: Key::part("t", i),
///         op: WireOp { kind: "my.op".into(), payload: vec![] },
///         deps: vec![],
///     })
///     .collect();
/// let mut s = SchedulerState::new(StateConfig::default());
/// let mut out = Outbox::default();
/// s.add_worker(1, "127.0.0.1:9000".into(), 1, &mut out);
/// let g = PreparedGraph::new(tasks, vec![], (0..100).collect(), 0);
/// let mut intake = s.begin_graph(7, g);
/// let mut steps = 1;
/// while !s.continue_graph(&mut intake, 10, &mut out).unwrap() {
///     steps += 1;
/// }
/// assert!(steps > 10, "taken in ten tasks at a time");
/// assert_eq!(s.state_of(&Key::part("t", 0)), TaskState::Processing(1));
/// assert_eq!(s.state_of(&Key::part("t", 99)), TaskState::Queued);
/// ```
#[derive(Debug)]
pub struct GraphIntake {
    client: ClientId,
    graph: PreparedGraph,
    step: Step,
    /// Where the current step is, in its list.
    cursor: usize,
    external_ids: Vec<TaskId>,
    ids: Vec<TaskId>,
    stack: Vec<TaskId>,
    ready: Vec<TaskId>,
    ready_roots: usize,
    failed: Vec<(TaskId, TaskId)>,
    queue_roots: bool,
}

impl GraphIntake {
    /// The client whose graph this is.
    ///
    /// ```
    /// use dusk_scheduler::distributed::state::{PreparedGraph, SchedulerState, StateConfig};
    /// let mut s = SchedulerState::new(StateConfig::default());
    /// let intake = s.begin_graph(7, PreparedGraph::new(vec![], vec![], vec![], 0));
    /// assert_eq!(intake.client(), 7);
    /// ```
    pub fn client(&self) -> ClientId {
        self.client
    }

    /// The keys the client wants (for the reply to a refused graph).
    ///
    /// ```
    /// use dusk_core::Key;
    /// use dusk_scheduler::distributed::state::{PreparedGraph, SchedulerState, StateConfig};
    /// let mut s = SchedulerState::new(StateConfig::default());
    /// let g = PreparedGraph::new(vec![], vec![Key::new("a")], vec![], 0);
    /// let intake = s.begin_graph(7, g);
    /// assert_eq!(intake.wanted_keys(), vec![Key::new("a")]);
    /// ```
    pub fn wanted_keys(&self) -> Vec<Key> {
        self.graph.wanted_keys()
    }

    /// How many tasks of the graph are not in the state yet.
    ///
    /// ```
    /// use dusk_scheduler::distributed::state::{PreparedGraph, SchedulerState, StateConfig};
    /// let mut s = SchedulerState::new(StateConfig::default());
    /// let intake = s.begin_graph(7, PreparedGraph::new(vec![], vec![], vec![], 0));
    /// assert_eq!(intake.tasks_left(), 0);
    /// ```
    pub fn tasks_left(&self) -> usize {
        match self.step {
            Step::External => self.graph.len(),
            Step::Insert => self.graph.len() - self.cursor,
            _ => 0,
        }
    }

    fn resolve(&self, r: Ref) -> TaskId {
        match r {
            Ref::Local(i) => self.ids[i as usize],
            Ref::External(i) => self.external_ids[i as usize],
        }
    }
}

impl SchedulerState {
    /// Starts taking in `graph` for `client`; nothing changes until
    /// [`SchedulerState::continue_graph`].
    ///
    /// ```
    /// use dusk_core::Key;
    /// use dusk_scheduler::distributed::state::{PreparedGraph, SchedulerState, StateConfig};
    /// let mut s = SchedulerState::new(StateConfig::default());
    /// let g = PreparedGraph::new(vec![], vec![Key::new("ghost")], vec![], 0);
    /// let intake = s.begin_graph(7, g);
    /// assert_eq!(intake.client(), 7);
    /// assert!(s.is_empty(), "nothing taken in yet");
    /// ```
    pub fn begin_graph(&mut self, client: ClientId, graph: PreparedGraph) -> GraphIntake {
        GraphIntake {
            client,
            step: Step::External,
            cursor: 0,
            external_ids: Vec::with_capacity(graph.external.len()),
            ids: Vec::with_capacity(graph.len()),
            stack: Vec::new(),
            ready: Vec::new(),
            ready_roots: 0,
            failed: Vec::new(),
            queue_roots: true,
            graph,
        }
    }

    /// Takes in about `budget` more tasks of `intake` (each step of the work counts one);
    /// `Ok(true)` once the whole graph is in. A graph with a cycle, or needing a key the
    /// cluster does not hold, is refused before anything changes; the intake is then over.
    ///
    /// ```
    /// use dusk_core::{Key, WireOp, WireTask};
    /// use dusk_scheduler::distributed::state::{
    ///     GraphRefused, Outbox, PreparedGraph, SchedulerState, StateConfig,
    /// };
    /// let task = |k: &str, deps: &[&str]| WireTask {
    ///     key: Key::new(k),
    ///     op: WireOp { kind: "my.op".into(), payload: vec![] },
    ///     deps: deps.iter().map(|d| Key::new(*d)).collect(),
    /// };
    /// let mut s = SchedulerState::new(StateConfig::default());
    /// let mut out = Outbox::default();
    /// // `a` needs a key the cluster does not hold: refused, and nothing was added.
    /// let g = PreparedGraph::new(vec![task("a", &["ghost"])], vec![Key::new("a")], vec![], 0);
    /// let mut intake = s.begin_graph(7, g);
    /// let refused = s.continue_graph(&mut intake, 100, &mut out).unwrap_err();
    /// assert!(matches!(refused, GraphRefused::MissingDependency { .. }));
    /// assert!(s.is_empty());
    /// // A cycle is refused too.
    /// let g = PreparedGraph::new(
    ///     vec![task("x", &["y"]), task("y", &["x"])],
    ///     vec![Key::new("x")],
    ///     vec![],
    ///     0,
    /// );
    /// let mut intake = s.begin_graph(7, g);
    /// assert!(matches!(
    ///     s.continue_graph(&mut intake, 100, &mut out),
    ///     Err(GraphRefused::Cycle(_))
    /// ));
    /// ```
    pub fn continue_graph(
        &mut self,
        intake: &mut GraphIntake,
        budget: usize,
        out: &mut Outbox,
    ) -> Result<bool, GraphRefused> {
        let taken = self.take_in(intake, budget, out);
        // What unpinning or a refusal let go of.
        self.settle(out);
        taken
    }

    fn take_in(
        &mut self,
        intake: &mut GraphIntake,
        budget: usize,
        out: &mut Outbox,
    ) -> Result<bool, GraphRefused> {
        let mut budget = budget.max(1);
        while budget > 0 {
            match intake.step {
                Step::External => {
                    if let Some(key) = intake.graph.cycle.clone() {
                        intake.step = Step::Done;
                        return Err(GraphRefused::Cycle(key));
                    }
                    self.pin_external(intake, &mut budget)?
                }
                Step::Insert => self.insert_tasks(intake, &mut budget),
                Step::Wants => self.record_wants(intake, &mut budget, out),
                Step::Activate => self.activate_some(intake, &mut budget),
                Step::Fail => {
                    while budget > 0 {
                        let Some((id, dep)) = intake.failed.pop() else {
                            intake.step = Step::Ready;
                            // Many roots at once queue (root-task queuing); a few are placed
                            // at once, so a small submission never waits behind a large
                            // graph's queue.
                            intake.queue_roots = intake.ready_roots > self.cluster_slots();
                            intake.cursor = intake.ready.len();
                            break;
                        };
                        budget -= 1;
                        let msg = self.dependency_error(dep);
                        self.fail(id, msg, out);
                    }
                }
                Step::Ready => self.place_ready(intake, &mut budget, out),
                Step::Unpin => self.unpin_some(intake, &mut budget),
                Step::Done => return Ok(true),
            }
        }
        Ok(intake.step == Step::Done)
    }

    fn pin_external(
        &mut self,
        intake: &mut GraphIntake,
        budget: &mut usize,
    ) -> Result<(), GraphRefused> {
        while *budget > 0 {
            let Some((key, needed_by)) = intake.graph.external.get(intake.cursor) else {
                intake.step = Step::Insert;
                intake.cursor = 0;
                // Room for the whole graph now: growing a million-entry table on the way would
                // rehash it all within one slice, several times.
                self.reserve(intake.graph.len());
                return Ok(());
            };
            *budget -= 1;
            match self.ids.get(key).copied() {
                Some(id) => {
                    self.pin(id);
                    intake.external_ids.push(id);
                    intake.cursor += 1;
                }
                None => {
                    let dependent = needed_by
                        .and_then(|i| intake.graph.tasks[i as usize].as_ref())
                        .map(|t| t.key.clone());
                    let refused = match dependent {
                        Some(key_of_task) => GraphRefused::MissingDependency {
                            key: key_of_task,
                            dependency: key.clone(),
                        },
                        None => GraphRefused::MissingKey(key.clone()),
                    };
                    // Nothing else changed: let go of what was pinned (which may free what
                    // its holders let go of meanwhile).
                    for id in std::mem::take(&mut intake.external_ids) {
                        self.unpin(id);
                    }
                    intake.step = Step::Done;
                    return Err(refused);
                }
            }
        }
        Ok(())
    }

    fn insert_tasks(&mut self, intake: &mut GraphIntake, budget: &mut usize) {
        while *budget > 0 {
            let Some(slot) = intake.graph.tasks.get_mut(intake.cursor) else {
                intake.step = Step::Wants;
                intake.cursor = 0;
                intake.graph.tasks = Vec::new();
                return;
            };
            intake.cursor += 1;
            let Some(PreparedTask { key, op, inputs }) = slot.take() else {
                *budget -= 1;
                continue;
            };
            // A task with a thousand inputs is a thousand times the work.
            *budget = budget.saturating_sub(1 + inputs.len());
            // One lookup for both cases: the key is hashed once.
            let slot = match self.ids.entry(key) {
                Entry::Occupied(known) => {
                    // Known already (another graph, or an earlier one): the graph shares it.
                    let id = *known.get();
                    self.pin(id);
                    intake.ids.push(id);
                    continue;
                }
                Entry::Vacant(slot) => slot,
            };
            // Inputs come earlier in the order, so they have ids already.
            let inputs: Vec<TaskId> = inputs.iter().map(|r| intake.resolve(*r)).collect();
            let mut deps = inputs.clone();
            deps.sort_unstable();
            deps.dedup();
            let id = self.tasks.insert(TaskRecord {
                key: slot.key().clone(),
                op: Arc::new(op),
                inputs,
                deps: Vec::new(),
                dependents: Vec::new(),
                state: TaskState::Released,
                waiting_on: 0,
                who_has: SmallVec::new(),
                nbytes: 0,
                wanted_by: 0,
                pins: 1,
                suspicious: 0,
                retries: intake.graph.retries,
                fetch_failures: 0,
                error: None,
            });
            slot.insert(id);
            for d in &deps {
                if let Some(dep) = self.tasks.get_mut(d) {
                    dep.dependents.push(id);
                }
            }
            if let Some(rec) = self.tasks.get_mut(&id) {
                rec.deps = deps;
            }
            intake.ids.push(id);
        }
    }

    fn record_wants(&mut self, intake: &mut GraphIntake, budget: &mut usize, out: &mut Outbox) {
        let client = intake.client;
        while *budget > 0 {
            let Some(&r) = intake.graph.wanted.get(intake.cursor) else {
                intake.step = Step::Activate;
                intake.cursor = 0;
                // Walked from the end, as a stack.
                return;
            };
            *budget -= 1;
            intake.cursor += 1;
            let id = intake.resolve(r);
            if self.clients.entry(client).or_default().insert(id) {
                if let Some(t) = self.tasks.get_mut(&id) {
                    t.wanted_by += 1;
                }
            }
            match self.tasks.get(&id).map(|t| t.state) {
                Some(TaskState::Memory) => out.ready.entry(client).or_default().push(id),
                Some(TaskState::Erred) => {
                    if let Some(t) = self.tasks.get(&id) {
                        out.erred
                            .entry(client)
                            .or_default()
                            .push((t.key.clone(), t.error.clone().unwrap_or_default()));
                    }
                }
                Some(TaskState::Released) => intake.stack.push(id),
                _ => {}
            }
        }
    }

    fn activate_some(&mut self, intake: &mut GraphIntake, budget: &mut usize) {
        while *budget > 0 {
            let Some(id) = intake.stack.pop() else {
                intake.step = Step::Fail;
                return;
            };
            let inputs = self.tasks.get(&id).map_or(0, |t| t.deps.len());
            *budget = budget.saturating_sub(1 + inputs);
            match self.visit_for_activation(id, &mut intake.stack) {
                Visit::Skipped | Visit::Waiting => {}
                Visit::Ready { root } => {
                    intake.ready.push(id);
                    intake.ready_roots += usize::from(root);
                }
                Visit::InputErred(dep) => intake.failed.push((id, dep)),
            }
        }
    }

    fn place_ready(&mut self, intake: &mut GraphIntake, budget: &mut usize, out: &mut Outbox) {
        // Last found, first placed: a graph's roots start in the order they were sent.
        while *budget > 0 {
            if intake.cursor == 0 {
                intake.step = Step::Unpin;
                intake.cursor = intake.ids.len();
                intake.ready = Vec::new();
                return;
            }
            intake.cursor -= 1;
            *budget -= 1;
            let id = intake.ready[intake.cursor];
            // Between slices another event may have placed it, or made it wait again.
            let still_ready = self
                .tasks
                .get(&id)
                .is_some_and(|t| t.state == TaskState::Waiting && t.waiting_on == 0);
            if !still_ready {
                continue;
            }
            let root = self.tasks.get(&id).is_some_and(|t| t.deps.is_empty());
            if root && !intake.queue_roots {
                self.place_now(id, out);
            } else {
                self.make_ready(id, out);
            }
        }
    }

    fn unpin_some(&mut self, intake: &mut GraphIntake, budget: &mut usize) {
        // Dependents before their inputs, so that what nothing needs is forgotten in one pass.
        while *budget > 0 {
            if intake.cursor == 0 {
                for id in std::mem::take(&mut intake.external_ids) {
                    self.unpin(id);
                }
                intake.step = Step::Done;
                return;
            }
            intake.cursor -= 1;
            *budget -= 1;
            let id = intake.ids[intake.cursor];
            self.unpin(id);
        }
    }

    fn pin(&mut self, id: TaskId) {
        if let Some(t) = self.tasks.get_mut(&id) {
            t.pins += 1;
        }
    }

    /// Drops one pin of `id`; a task that nothing needs any more is then released and, if
    /// nothing refers to it, forgotten.
    fn unpin(&mut self, id: TaskId) {
        let free = match self.tasks.get_mut(&id) {
            Some(t) => {
                t.pins = t.pins.saturating_sub(1);
                t.pins == 0
            }
            None => false,
        };
        if free && !self.needs_result(id) {
            self.release_unwanted(id);
        }
    }

    /// How many tasks the running workers hold at most before root tasks queue (without the
    /// extra of fast workers).
    fn cluster_slots(&self) -> usize {
        self.running()
            .map(|(_, w)| (w.nthreads as f64 * self.config.saturation).ceil() as usize)
            .sum()
    }
}

/// What the activation walk found at one task.
pub(super) enum Visit {
    /// Not released (already waiting, running, done or gone).
    Skipped,
    /// Waiting for inputs.
    Waiting,
    /// All inputs in memory; `root` when it has none.
    Ready { root: bool },
    /// This input failed.
    InputErred(TaskId),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributed::state::tests::task;
    use crate::distributed::state::StateConfig;

    fn keys(names: &[&str]) -> Vec<Key> {
        names.iter().map(|n| Key::new(*n)).collect()
    }

    #[test]
    fn tasks_are_ordered_after_their_inputs() {
        let g = PreparedGraph::new(
            vec![
                task("c", &["b", "a"]),
                task("b", &["a"]),
                task("a", &[]),
                task("d", &[]),
            ],
            keys(&["c"]),
            vec![],
            0,
        );
        let order: Vec<&str> = g.tasks.iter().flatten().map(|t| t.key.name()).collect();
        assert_eq!(order, vec!["a", "d", "b", "c"]);
        let c = g.tasks[3].as_ref().unwrap();
        assert_eq!(c.inputs, vec![Ref::Local(2), Ref::Local(0)]);
        assert!(g.cycle.is_none());
    }

    #[test]
    fn cycles_are_refused_naming_a_key_on_them() {
        let g = PreparedGraph::new(
            vec![task("a", &["b"]), task("b", &["a"]), task("c", &[])],
            keys(&["a"]),
            vec![],
            0,
        );
        let mut s = SchedulerState::new(StateConfig::default());
        let mut intake = s.begin_graph(7, g);
        let err = s
            .continue_graph(&mut intake, 1, &mut Outbox::default())
            .unwrap_err();
        assert!(matches!(&err, GraphRefused::Cycle(k) if k.name() == "a" || k.name() == "b"));
        assert!(err.to_string().contains("cycle"), "{err}");
        assert!(s.is_empty());
    }

    fn take_in(s: &mut SchedulerState, client: ClientId, g: PreparedGraph, out: &mut Outbox) {
        let mut intake = s.begin_graph(client, g);
        while !s.continue_graph(&mut intake, 1, out).unwrap() {}
    }

    #[test]
    fn a_graph_taken_in_one_task_at_a_time_lets_other_clients_in_between() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        // Client 8 holds `x`, which client 7's graph uses.
        s.update_graph(8, vec![task("x", &[])], &keys(&["x"]), &mut out)
            .unwrap();
        let x = s.ids[&Key::new("x")];
        s.task_finished(1, x, 8, &mut out);
        out = Outbox::default();
        let g = PreparedGraph::new(
            vec![task("a", &["x"]), task("b", &["a"]), task("unused", &["a"])],
            keys(&["b"]),
            vec![],
            0,
        );
        let mut intake = s.begin_graph(7, g);
        let mut rounds = 0;
        while !s.continue_graph(&mut intake, 1, &mut out).unwrap() {
            rounds += 1;
            if rounds == 2 {
                // Between slices client 8 lets `x` go: the graph still has it.
                s.release_keys(8, &keys(&["x"]), &mut out);
                assert_eq!(s.state_of(&Key::new("x")), TaskState::Memory);
                assert!(out.free.is_empty());
            }
            if s.ids.contains_key(&Key::new("a")) && rounds < 100 {
                // Another client submits the same key: it runs at once, whole.
                s.update_graph(9, vec![task("a", &["x"])], &keys(&["a"]), &mut out)
                    .unwrap();
                rounds = 100;
            }
        }
        let a = s.ids[&Key::new("a")];
        assert_eq!(s.state_of(&Key::new("a")), TaskState::Processing(1));
        assert_eq!(s.task(a).unwrap().2, &[x]);
        assert_eq!(out.compute[&1], vec![a], "sent once");
        // What no wanted key needs is forgotten once the graph is in.
        assert_eq!(s.state_of(&Key::new("unused")), TaskState::Forgotten);
        assert_eq!(s.state_of(&Key::new("b")), TaskState::Waiting);
        s.task_finished(1, a, 8, &mut out);
        // `x` is freed once `a` no longer needs it.
        assert_eq!(s.state_of(&Key::new("x")), TaskState::Released);
        assert!(out.free[&1].contains(&x));
    }

    #[test]
    fn a_missing_key_refuses_the_graph_and_lets_go_of_the_rest() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        s.update_graph(8, vec![task("x", &[])], &keys(&["x"]), &mut out)
            .unwrap();
        let g = PreparedGraph::new(vec![task("a", &["x", "ghost"])], keys(&["a"]), vec![], 0);
        let mut intake = s.begin_graph(7, g);
        let err = loop {
            match s.continue_graph(&mut intake, 1, &mut out) {
                Ok(true) => panic!("a graph needing a missing key was taken in"),
                Ok(false) => s.release_keys(8, &keys(&["x"]), &mut out),
                Err(e) => break e,
            }
        };
        assert!(err.to_string().contains("'ghost'"), "{err}");
        assert_eq!(s.state_of(&Key::new("a")), TaskState::Forgotten);
        // `x` was pinned when its client let go; unpinned, it goes too.
        assert_eq!(s.state_of(&Key::new("x")), TaskState::Forgotten);
        assert!(s.is_empty(), "{} tasks left", s.len());
    }

    #[test]
    fn small_submissions_do_not_wait_behind_a_large_queue() {
        let mut s = SchedulerState::new(StateConfig::default());
        let mut out = Outbox::default();
        s.add_worker(1, "w1".into(), 1, &mut out);
        let big: Vec<WireTask> = (0..50).map(|i| task(&format!("big{i}"), &[])).collect();
        let n = big.len() as u32;
        take_in(
            &mut s,
            7,
            PreparedGraph::new(big, vec![], (0..n).collect(), 0),
            &mut out,
        );
        assert_eq!(out.compute[&1].len(), 2, "1 thread x saturation 2");
        assert_eq!(s.state_of(&Key::new("big49")), TaskState::Queued);
        let g = PreparedGraph::new(vec![task("small", &[])], keys(&["small"]), vec![], 0);
        take_in(&mut s, 8, g, &mut out);
        assert_eq!(s.state_of(&Key::new("small")), TaskState::Processing(1));
    }
}
