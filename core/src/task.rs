//! `Task`: one node of a graph — an op and the keys whose results it takes as inputs.

use std::fmt;
use std::sync::Arc;

use crate::key::Key;
use crate::op::Op;

/// An op plus the keys of its inputs, in the order the op receives them.
///
/// A key may appear more than once (`add(x, x)`); the task then receives that result twice.
///
/// ```
/// use dusk_core::{Data, Key, LiteralOp, Task};
/// let t = Task::new(LiteralOp::new(Data::local(1u8)), vec![]);
/// assert!(t.deps.is_empty());
/// assert_eq!(t.op.name(), "literal");
/// let u = Task::new(LiteralOp::new(Data::local(2u8)), vec![Key::part("x", 0)]);
/// assert_eq!(u.deps, vec![Key::part("x", 0)]);
/// ```
#[derive(Clone)]
pub struct Task {
    /// What runs.
    pub op: Arc<dyn Op>,
    /// The keys of the inputs.
    pub deps: Vec<Key>,
}

impl Task {
    /// A task running `op` on the results of `deps`.
    pub fn new(op: impl Op, deps: Vec<Key>) -> Task {
        Task {
            op: Arc::new(op),
            deps,
        }
    }

    /// A task running an already shared op.
    pub fn from_arc(op: Arc<dyn Op>, deps: Vec<Key>) -> Task {
        Task { op, deps }
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.op.name())?;
        for (i, d) in self.deps.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, ")")
    }
}
