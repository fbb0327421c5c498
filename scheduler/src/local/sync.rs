//! The synchronous scheduler: every task on the calling thread, in priority order.
//!
//! Useful for debugging (a panic's backtrace shows the caller's stack, a debugger steps through
//! tasks in order) and as the reference the threaded scheduler is tested against.

use dusk_core::{ComputeError, Data, Plan};

use super::execution::{run_task, Execution};
use crate::progress::ProgressBar;
use crate::stats::RunStats;

/// Runs `plan` on the calling thread and returns the outputs' results.
///
/// ```
/// use dusk_core::{Data, FnOp, Graph, Key, LiteralOp, Plan};
/// let mut g = Graph::new();
/// g.add(Key::new("a"), LiteralOp::new(Data::local(2i32)), vec![]);
/// g.add(Key::new("b"), FnOp::new("sq", |x| Ok(Data::local(x[0].downcast_ref::<i32>()?.pow(2)))), vec![Key::new("a")]);
/// let plan = Plan::new(&g, &[Key::new("b")]).unwrap();
/// let (out, stats) = dusk_scheduler::local::sync::run(&plan, &dusk_scheduler::ProgressBar::hidden()).unwrap();
/// assert_eq!(*out[0].downcast_ref::<i32>().unwrap(), 4);
/// assert_eq!(stats.tasks, 2);
/// ```
pub fn run(plan: &Plan, progress: &ProgressBar) -> Result<(Vec<Data>, RunStats), ComputeError> {
    let start = std::time::Instant::now();
    let mut ex = Execution::new(plan);
    while let Some((task, inputs)) = ex.next_task() {
        let outcome = run_task(plan, task, inputs);
        let failed = outcome.is_err();
        ex.complete(task, outcome);
        progress.set(ex.finished());
        if failed {
            break;
        }
    }
    ex.stats.elapsed = start.elapsed();
    ex.stats.threads = 1;
    ex.into_outputs()
}
