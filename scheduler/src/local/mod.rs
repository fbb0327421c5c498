//! The local schedulers: run a plan on the threads of this process.
//!
//! - [`threaded`]: a pool of threads (the default), each taking the most urgent ready task;
//! - [`sync`]: one task at a time on the calling thread, for debugging and profiling.
//!
//! Both share [`execution`]: which tasks are ready, which results are held, when they are
//! released.

pub(crate) mod execution;
pub mod sync;
pub mod threaded;
