//! # dusk: parallel computing with lazy task graphs
//!
//! dusk is Dask for Rust. Build a lazy computation — a [`Delayed`](delayed::Delayed) call graph
//! today, DataFrames, Arrays and Bags as they land — and call `.compute()`: dusk lowers it into
//! a task graph, optimizes the graph (cull, inline, fuse), orders it to keep memory low, and
//! runs it on a thread pool in this process.
//!
//! ```
//! use dusk::prelude::*;
//!
//! fn inc(x: &i64) -> i64 { x + 1 }
//! fn add(x: &i64, y: &i64) -> i64 { x + y }
//!
//! let x = delayed(1).map(inc);
//! let y = delayed(2).map(inc);
//! let z = x.zip_with(&y, add);
//! assert_eq!(z.compute().unwrap(), 5);
//!
//! // Several values in one pass; shared inputs run once.
//! let (a, b) = (&x, &z).compute().unwrap();
//! assert_eq!((a, b), (2, 5));
//! ```
//!
//! ## Choosing a scheduler
//!
//! The default is the threaded scheduler with one thread per core. Choose another per call
//! with [`ComputeOptions`](prelude::ComputeOptions), for the process with
//! [`config::set_scheduler`], or from outside with `DUSK_SCHEDULER=sync` (or `threads:4`).
//!
//! ```
//! use dusk::prelude::*;
//! let v = lazy(|| 21 * 2);
//! let answer = v.compute_with(&ComputeOptions::default().scheduler(Scheduler::Sync)).unwrap();
//! assert_eq!(answer, 42);
//! ```
//!
//! ## Crates
//!
//! - [`core`]: keys, data, ops, graphs, optimizations and ordering;
//! - [`scheduler`]: the schedulers and `compute`;
//! - [`collections`]: the lazy collections.

mod scheduler_flag;
pub mod visualize;

pub use scheduler_flag::take_scheduler_flag;

pub use dusk_collections as collections;
pub use dusk_core as core;
pub use dusk_scheduler as scheduler;

pub use dusk_collections::array;
pub use dusk_collections::bag;
pub use dusk_collections::dataframe;
pub use dusk_collections::delayed;
pub use dusk_scheduler::config;
pub use dusk_scheduler::distributed;

/// The Polars version dusk's DataFrame partitions use, for expressions and results.
pub use polars;

/// The ndarray version dusk's Array blocks and results use.
pub use ndarray;

/// The names most programs need: `use dusk::prelude::*;`.
pub mod prelude {
    pub use crate::visualize::Visualize;
    pub use dusk_collections::array::{from_npy, Array, Axes, Idx};
    pub use dusk_collections::bag::{
        from_delayed, from_sequence, from_sequence_sized, range, read_text, Bag, ReadText,
    };
    pub use dusk_collections::dataframe::{
        from_polars, read_csv, read_csv_with, read_parquet, CsvOptions,
    };
    pub use dusk_collections::delayed::{apply3, apply_list, delayed, lazy, try_lazy, Delayed};
    pub use dusk_collections::register_bag_fn;
    pub use dusk_core::{register_fn, remote, Collection, ComputeError, Data, Graph, Key, Persist};
    pub use dusk_scheduler::distributed::{Client, LocalCluster};
    pub use dusk_scheduler::{Compute, ComputeOptions, Scheduler};
}
