//! `compute`: lower a collection, optimize its graph, plan it and run it.
//!
//! This is the one path every `.compute()` takes:
//! `Collection::lower` → [`dusk_core::optimize`] → [`Plan::new`] (validation and ordering) →
//! a scheduler → `Collection::finalize`. When a distributed client is the default (see
//! [`crate::distributed::client::default_client`]) and the call does not choose a scheduler,
//! the optimized graph runs on the cluster instead.

use dusk_core::{
    optimize, Collection, ComputeError, Data, Graph, Key, OptimizeOptions, Persist, Plan,
};

use crate::config::{self, Scheduler};
use crate::progress::{ProgressBar, ProgressMode};
use crate::stats::RunStats;

/// Options of one computation.
///
/// ```
/// use dusk_scheduler::{ComputeOptions, Scheduler};
/// let opts = ComputeOptions::default().scheduler(Scheduler::Sync).no_optimize();
/// assert_eq!(opts.scheduler, Some(Scheduler::Sync));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ComputeOptions {
    /// The scheduler; `None` follows [`config::scheduler`].
    pub scheduler: Option<Scheduler>,
    /// The graph optimizations to run.
    pub optimize: OptimizeOptions,
    /// Whether to draw a progress bar.
    pub progress: ProgressMode,
}

impl ComputeOptions {
    /// Runs on `scheduler`.
    pub fn scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// Runs the graph exactly as built.
    pub fn no_optimize(mut self) -> Self {
        self.optimize = OptimizeOptions::none();
        self
    }

    /// Never draws a progress bar.
    pub fn quiet(mut self) -> Self {
        self.progress = ProgressMode::Never;
        self
    }
}

/// Computes the results of `outputs` in `graph` (Dask's `get`), with run statistics.
///
/// ```
/// use dusk_core::{Data, FnOp, Graph, Key, LiteralOp};
/// use dusk_scheduler::{get, ComputeOptions};
/// let mut g = Graph::new();
/// g.add(Key::new("x"), LiteralOp::new(Data::local(3i64)), vec![]);
/// g.add(Key::new("y"), FnOp::new("neg", |x| Ok(Data::local(-x[0].downcast_ref::<i64>()?))), vec![Key::new("x")]);
/// let (out, stats) = get(&g, &[Key::new("y"), Key::new("x")], &ComputeOptions::default()).unwrap();
/// assert_eq!(*out[0].downcast_ref::<i64>().unwrap(), -3);
/// assert_eq!(*out[1].downcast_ref::<i64>().unwrap(), 3);
/// ```
pub fn get(
    graph: &Graph,
    outputs: &[Key],
    options: &ComputeOptions,
) -> Result<(Vec<Data>, RunStats), ComputeError> {
    let scheduler = match options.scheduler {
        Some(s) => s,
        None => {
            let client = crate::distributed::client::default_client()
                .map_err(|e| ComputeError::Scheduler(e.to_string()))?;
            if let Some(client) = client {
                let start = std::time::Instant::now();
                let graph = optimize(graph, outputs, options.optimize);
                let results = client.get(&graph, outputs)?;
                let stats = RunStats {
                    tasks: graph.len(),
                    elapsed: start.elapsed(),
                    ..RunStats::default()
                };
                return Ok((results, stats));
            }
            config::scheduler().map_err(|e| ComputeError::Scheduler(e.to_string()))?
        }
    };
    let optimized;
    let graph = if options.optimize == OptimizeOptions::none() {
        graph
    } else {
        optimized = optimize(graph, outputs, options.optimize);
        &optimized
    };
    let plan = Plan::new(graph, outputs)?;
    run_plan(&plan, scheduler, options.progress)
}

/// Runs an already built plan on `scheduler`.
pub fn run_plan(
    plan: &Plan,
    scheduler: Scheduler,
    progress: ProgressMode,
) -> Result<(Vec<Data>, RunStats), ComputeError> {
    let bar = ProgressBar::start(plan.len(), progress);
    let result = match scheduler {
        Scheduler::Sync => crate::local::sync::run(plan, &bar),
        Scheduler::Threads(_) => crate::local::threaded::run(plan, scheduler.threads(), &bar),
    };
    bar.finish();
    result
}

/// Computes a collection (or a tuple or vector of them) with `options`.
pub fn compute_with<C: Collection + ?Sized>(
    collection: &C,
    options: &ComputeOptions,
) -> Result<C::Output, ComputeError> {
    let mut graph = Graph::new();
    let keys = collection.lower(&mut graph)?;
    let (results, _) = get(&graph, &keys, options)?;
    collection.finalize(results)
}

/// `.compute()` and `.persist()` for every collection.
///
/// ```
/// use dusk_core::{Collection, ComputeError, Data, Graph, Key, LiteralOp};
/// use dusk_scheduler::Compute;
///
/// struct Answer;
/// impl Collection for Answer {
///     type Output = u8;
///     fn lower(&self, g: &mut Graph) -> Result<Vec<Key>, ComputeError> {
///         g.add(Key::new("answer"), LiteralOp::new(Data::local(42u8)), vec![]);
///         Ok(vec![Key::new("answer")])
///     }
///     fn num_outputs(&self) -> usize { 1 }
///     fn finalize(&self, r: Vec<Data>) -> Result<u8, ComputeError> {
///         r[0].downcast_ref::<u8>().copied().map_err(|e| ComputeError::Result { key: Key::new("answer"), source: e })
///     }
/// }
/// assert_eq!(Answer.compute().unwrap(), 42);
/// ```
pub trait Compute: Collection {
    /// Computes the value on the configured scheduler.
    fn compute(&self) -> Result<Self::Output, ComputeError> {
        compute_with(self, &ComputeOptions::default())
    }

    /// Computes the value with explicit options (scheduler, optimizations, progress).
    fn compute_with(&self, options: &ComputeOptions) -> Result<Self::Output, ComputeError> {
        compute_with(self, options)
    }

    /// Computes the collection and returns it backed by the results, so later computations
    /// that use it start from there (Dask's `persist`).
    fn persist(&self) -> Result<Self, ComputeError>
    where
        Self: Persist,
    {
        let mut graph = Graph::new();
        let keys = self.lower(&mut graph)?;
        let (results, _) = get(&graph, &keys, &ComputeOptions::default())?;
        Ok(self.with_results(results))
    }
}

impl<C: Collection + ?Sized> Compute for C {}
