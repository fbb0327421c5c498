//! # dusk-collections: lazy collections
//!
//! The user-facing values of dusk. Each is an immutable, lazy description of a computation that
//! lowers itself into a task graph ([`dusk_core::Collection`]) when computed:
//!
//! - [`dataframe`]: lazy partitioned frames on Polars, read from CSV files or memory;
//! - [`delayed`]: lazy calls of ordinary Rust functions, for custom graphs;
//! - [`bag`]: partitioned collections of any Rust items (text lines, JSON records), with
//!   iterator-style operations.
//!
//! This crate builds graphs and never runs them: computing is the schedulers' job
//! (`dusk_scheduler::Compute`, re-exported by the `dusk` facade's prelude).

pub mod array;
pub mod bag;
pub mod dataframe;
pub mod delayed;
mod probe;

pub use bag::Bag;
pub use dataframe::DataFrame;
pub use delayed::Delayed;
