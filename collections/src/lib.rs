//! # dusk-collections: lazy collections
//!
//! The user-facing values of dusk. Each is an immutable, lazy description of a computation that
//! lowers itself into a task graph ([`dusk_core::Collection`]) when computed:
//!
//! - [`dataframe`]: lazy partitioned frames on Polars, read from CSV files or memory;
//! - [`delayed`]: lazy calls of ordinary Rust functions, for custom graphs.
//!
//! This crate builds graphs and never runs them: computing is the schedulers' job
//! (`dusk_scheduler::Compute`, re-exported by the `dusk` facade's prelude).

pub mod dataframe;
pub mod delayed;

pub use dataframe::DataFrame;
pub use delayed::Delayed;
