//! # dusk-collections: lazy collections
//!
//! The user-facing values of dusk. Each is an immutable, lazy description of a computation that
//! lowers itself into a task graph ([`dusk_core::Collection`]) when computed:
//!
//! - [`delayed`]: lazy calls of ordinary Rust functions, for custom graphs.
//!
//! This crate builds graphs and never runs them: computing is the schedulers' job
//! (`dusk_scheduler::Compute`, re-exported by the `dusk` facade's prelude).

pub mod delayed;

pub use delayed::Delayed;
