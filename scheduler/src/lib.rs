//! # dusk-scheduler: running task graphs
//!
//! A scheduler takes a [`Plan`](dusk_core::Plan) — a validated, ordered task graph — and runs
//! it. This crate has the local schedulers:
//!
//! - the **threaded** scheduler ([`local::threaded`]), the default: a pool of threads, one per
//!   core unless configured;
//! - the **synchronous** scheduler ([`local::sync`]): one task at a time on the calling thread.
//!
//! Choose per call with [`ComputeOptions`], or for the whole process with
//! [`config::set_scheduler`] or the `DUSK_SCHEDULER` environment variable (`threads`,
//! `threads:4`, `sync`). Both release each intermediate result as soon as its last dependent has
//! taken it, run shared subgraphs once, and turn a task's error or panic into a
//! [`ComputeError`](dusk_core::ComputeError) naming the task.
//!
//! ```
//! use dusk_core::{Data, FnOp, Graph, Key, LiteralOp};
//! use dusk_scheduler::{get, ComputeOptions, Scheduler};
//!
//! let mut g = Graph::new();
//! g.add(Key::new("x"), LiteralOp::new(Data::local(1i64)), vec![]);
//! g.add(Key::new("y"), FnOp::new("inc", |x| Ok(Data::local(x[0].downcast_ref::<i64>()? + 1))), vec![Key::new("x")]);
//! for s in [Scheduler::Sync, Scheduler::Threads(Some(2))] {
//!     let (out, _) = get(&g, &[Key::new("y")], &ComputeOptions::default().scheduler(s)).unwrap();
//!     assert_eq!(*out[0].downcast_ref::<i64>().unwrap(), 2);
//! }
//! ```

pub mod compute;
pub mod config;
pub mod distributed;
pub mod local;
pub mod progress;
pub mod stats;

pub use compute::{compute_with, get, run_plan, Compute, ComputeOptions};
pub use config::{Scheduler, UnknownScheduler};
pub use progress::{ProgressBar, ProgressMode};
pub use stats::RunStats;
