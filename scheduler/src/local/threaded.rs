//! The threaded scheduler: a pool of threads sharing one queue of ready tasks.
//!
//! All bookkeeping sits behind one mutex and costs one lock acquisition per task: a thread that
//! finishes a task records the result, releases inputs nobody needs any more, queues the
//! dependents that became ready and takes the next task, all in the same critical section. Ops
//! run outside the lock. Ready tasks are taken by priority (see `dusk_core::order`), so each
//! thread keeps finishing what was started and intermediates stay few.
//!
//! Threads are scoped to one computation: the calling thread is one of the workers, and a task
//! may itself call `compute` without deadlocking the pool. When a task fails, the others stop
//! taking new work; running tasks finish and their results are dropped.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use dusk_core::{ComputeError, Data, Plan};

use super::execution::{run_task, Execution};
use crate::progress::ProgressBar;
use crate::stats::RunStats;

struct Shared<'p> {
    ex: Execution<'p>,
    idle: usize,
}

/// Runs `plan` on `threads` threads (the caller's included) and returns the outputs' results.
///
/// ```
/// use dusk_core::{Data, FnOp, Graph, Key, LiteralOp, Plan};
/// let mut g = Graph::new();
/// let parts: Vec<Key> = (0..8).map(|i| Key::part("x", i)).collect();
/// for (i, k) in parts.iter().enumerate() {
///     g.add(k.clone(), LiteralOp::new(Data::local(i as u64)), vec![]);
/// }
/// g.add(Key::new("sum"), FnOp::new("sum", |xs| {
///     let mut s = 0u64;
///     for x in &xs { s += x.downcast_ref::<u64>()?; }
///     Ok(Data::local(s))
/// }), parts);
/// let plan = Plan::new(&g, &[Key::new("sum")]).unwrap();
/// let (out, _) = dusk_scheduler::local::threaded::run(&plan, 4, &dusk_scheduler::ProgressBar::hidden()).unwrap();
/// assert_eq!(*out[0].downcast_ref::<u64>().unwrap(), 28);
/// ```
pub fn run(
    plan: &Plan,
    threads: usize,
    progress: &ProgressBar,
) -> Result<(Vec<Data>, RunStats), ComputeError> {
    let start = std::time::Instant::now();
    let threads = threads.max(1).min(plan.len().max(1));
    let shared = Mutex::new(Shared {
        ex: Execution::new(plan),
        idle: 0,
    });
    let wake = Condvar::new();
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|| work(plan, &shared, &wake, progress));
        }
        work(plan, &shared, &wake, progress);
    });
    let shared = shared.into_inner().unwrap_or_else(PoisonError::into_inner);
    let mut ex = shared.ex;
    ex.stats.elapsed = start.elapsed();
    ex.stats.threads = threads;
    ex.into_outputs()
}

fn lock<'a, 'p>(m: &'a Mutex<Shared<'p>>) -> MutexGuard<'a, Shared<'p>> {
    // Ops run outside the lock and their panics are caught, so poisoning cannot leave the
    // bookkeeping half-updated; recover rather than propagate.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn work(plan: &Plan, shared: &Mutex<Shared<'_>>, wake: &Condvar, progress: &ProgressBar) {
    let mut state = lock(shared);
    loop {
        if state.ex.error.is_some() || state.ex.is_done() {
            wake.notify_all();
            return;
        }
        match state.ex.next_task() {
            Some((task, inputs)) => {
                // More work is queued and someone sleeps: hand it over before running ours.
                if state.idle > 0 && state.ex.ready_len() > 0 {
                    wake.notify_one();
                }
                drop(state);
                let outcome = run_task(plan, task, inputs);
                state = lock(shared);
                state.ex.complete(task, outcome);
                progress.set(state.ex.finished());
            }
            None => {
                state.idle += 1;
                state = wake.wait(state).unwrap_or_else(PoisonError::into_inner);
                state.idle -= 1;
            }
        }
    }
}
