//! Inline: copy cheap tasks into the tasks that use them.
//!
//! A constant or a field access costs less to recompute than to schedule, store and release.
//! Each dependent of a cheap task gets a fused op that first runs the cheap op and then its own,
//! and the cheap task disappears from the graph. Outputs are never inlined away.

use std::sync::Arc;

use crate::fused::{FusedOp, FusedStep, StepInput};
use crate::graph::Graph;
use crate::key::Key;
use crate::task::Task;

/// Inlines every cheap task (see [`crate::Op::is_cheap`]) that is not an output into its
/// dependents. A graph with a cycle is returned unchanged (validation reports the cycle).
///
/// ```
/// use dusk_core::{inline_cheap, Data, FnOp, Graph, Key, LiteralOp};
/// let mut g = Graph::new();
/// g.add(Key::new("two"), LiteralOp::new(Data::local(2i32)), vec![]);
/// for name in ["a", "b"] {
///     g.add(Key::new(name), FnOp::new("double", |x| Ok(Data::local(x[0].downcast_ref::<i32>()? * 2))),
///           vec![Key::new("two")]);
/// }
/// let out = inline_cheap(&g, &[Key::new("a"), Key::new("b")]);
/// assert_eq!(out.len(), 2);
/// assert!(out.get(&Key::new("a")).unwrap().deps.is_empty());
/// ```
pub fn inline_cheap(graph: &Graph, outputs: &[Key]) -> Graph {
    let Some(topo) = super::fuse::topological_keys(graph) else {
        return graph.clone();
    };
    let dependents = graph.dependents();
    let mut work = graph.clone();
    for key in topo {
        if outputs.contains(&key) {
            continue;
        }
        let Some(task) = work.get(&key) else { continue };
        let users = &dependents[&key];
        if !task.op.is_cheap() || users.is_empty() {
            continue;
        }
        let cheap = task.clone();
        for user in users {
            let Some(u) = work.get(user) else { continue };
            let fused = inline_into(&key, &cheap, user, u);
            work.insert(user.clone(), fused);
        }
        work.remove(&key);
    }
    work
}

fn inline_into(cheap_key: &Key, cheap: &Task, user_key: &Key, user: &Task) -> Task {
    let mut deps: Vec<Key> = cheap.deps.clone();
    let first = FusedStep {
        key: cheap_key.clone(),
        op: cheap.op.clone(),
        inputs: (0..cheap.deps.len() as u32)
            .map(StepInput::External)
            .collect(),
    };
    let mut inputs = Vec::with_capacity(user.deps.len());
    for d in &user.deps {
        if d == cheap_key {
            inputs.push(StepInput::Step(0));
        } else {
            inputs.push(StepInput::External(deps.len() as u32));
            deps.push(d.clone());
        }
    }
    let second = FusedStep {
        key: user_key.clone(),
        op: user.op.clone(),
        inputs,
    };
    Task::from_arc(Arc::new(FusedOp::new(vec![first, second])), deps)
}
