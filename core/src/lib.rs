//! # dusk-core: task graphs
//!
//! Everything dusk computes is a task graph: a map from [`Key`] to [`Task`], where a task is an
//! [`Op`] plus the keys of its inputs and yields one [`Data`]. Collections (DataFrame, Array,
//! Bag, Delayed) lower themselves into graphs; the optimizer ([`optimize`]: cull, inline, fuse)
//! rewrites them; [`Plan`] checks a graph and numbers its tasks with a memory-friendly
//! [`order`](mod@order); schedulers run plans.
//!
//! This crate knows nothing about threads or sockets. Graphs are data: built-in ops serialize
//! ([`Graph::to_wire`]) so that a graph can cross to another process, while closures run on the
//! local schedulers only and refuse the wire with an error naming the task.
//!
//! ```
//! use dusk_core::{optimize, Data, FnOp, Graph, Key, LiteralOp, OptimizeOptions, Plan};
//!
//! let mut g = Graph::new();
//! g.add(Key::new("x"), LiteralOp::new(Data::local(20i64)), vec![]);
//! g.add(Key::new("y"), FnOp::new("double", |x| Ok(Data::local(x[0].downcast_ref::<i64>()? * 2))),
//!       vec![Key::new("x")]);
//! let g = optimize(&g, &[Key::new("y")], OptimizeOptions::default());
//! let plan = Plan::new(&g, &[Key::new("y")]).unwrap();
//! assert_eq!(plan.len(), 1);
//! ```

pub mod collection;
pub mod data;
pub mod error;
pub mod fused;
pub mod graph;
pub mod ipc;
pub mod key;
pub mod op;
pub mod optimize;
pub mod order;
pub mod plan;
pub mod remote;
pub mod task;
pub mod visualize;

#[doc(hidden)]
pub use inventory;

pub use collection::{Collection, Persist};
pub use data::{ArrayBlock, Data, LocalValue, SerializedValue};
pub use error::{BoxError, ComputeError, DataError, GraphError};
pub use fused::{FusedOp, FusedStep, StepError, StepInput};
pub use graph::{Graph, WireGraph, WireTask};
pub use key::{tokenize, Key, Tokenizer};
pub use op::{FnOp, LiteralOp, Op, OpDecoder, SerdeOp, WireError, WireOp};
pub use optimize::{cull, fuse_linear, inline_cheap, optimize, OptimizeOptions};
pub use plan::Plan;
pub use remote::{remote, RemoteFn};
pub use task::Task;
pub use visualize::{to_dot, DotOptions};
