//! Graph optimizations, one pass per file, each switched by a flag of [`OptimizeOptions`].
//!
//! - [`cull`]: drop every task no requested output needs;
//! - [`inline`]: copy cheap tasks (constants, field access) into their dependents;
//! - [`fuse`]: merge linear chains of single-consumer tasks into one task.
//!
//! Requested outputs are never removed or renamed, so results are read back by the same keys.
//! Every pass keeps the results identical; the property tests of the workspace check this on
//! random graphs, on every scheduler.

pub mod cull;
pub mod fuse;
pub mod inline;

use crate::graph::Graph;
use crate::key::Key;

pub use cull::cull;
pub use fuse::fuse_linear;
pub use inline::inline_cheap;

/// Which passes [`optimize`] runs.
///
/// ```
/// use dusk_core::OptimizeOptions;
/// let all = OptimizeOptions::default();
/// assert!(all.cull && all.inline && all.fuse);
/// let none = OptimizeOptions::none();
/// assert!(!none.cull && !none.inline && !none.fuse);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptimizeOptions {
    /// Remove tasks that no output needs.
    pub cull: bool,
    /// Copy cheap tasks into their dependents.
    pub inline: bool,
    /// Fuse linear chains into single tasks.
    pub fuse: bool,
}

impl Default for OptimizeOptions {
    fn default() -> Self {
        OptimizeOptions {
            cull: true,
            inline: true,
            fuse: true,
        }
    }
}

impl OptimizeOptions {
    /// No pass at all: the graph runs as built.
    pub fn none() -> Self {
        OptimizeOptions {
            cull: false,
            inline: false,
            fuse: false,
        }
    }
}

/// Runs the enabled passes in order: cull, inline, fuse.
///
/// ```
/// use dusk_core::{optimize, Data, FnOp, Graph, Key, LiteralOp, OptimizeOptions};
/// let mut g = Graph::new();
/// g.add(Key::new("a"), LiteralOp::new(Data::local(1i32)), vec![]);
/// g.add(Key::new("b"), FnOp::new("inc", |x| Ok(Data::local(x[0].downcast_ref::<i32>()? + 1))), vec![Key::new("a")]);
/// g.add(Key::new("c"), FnOp::new("inc", |x| Ok(Data::local(x[0].downcast_ref::<i32>()? + 1))), vec![Key::new("b")]);
/// g.add(Key::new("unused"), LiteralOp::new(Data::local(0i32)), vec![]);
/// let out = optimize(&g, &[Key::new("c")], OptimizeOptions::default());
/// assert_eq!(out.len(), 1); // a inlined, b fused into c, unused culled
/// assert!(out.contains(&Key::new("c")));
/// ```
pub fn optimize(graph: &Graph, outputs: &[Key], options: OptimizeOptions) -> Graph {
    let mut g = if options.cull {
        cull(graph, outputs)
    } else {
        graph.clone()
    };
    if options.inline {
        g = inline_cheap(&g, outputs);
    }
    if options.fuse {
        g = fuse_linear(&g, outputs);
    }
    g
}
