//! Linear fusion: a chain of single-consumer tasks becomes one task.
//!
//! `read → filter → select → partial-sum` on one partition is four tasks that can only run one
//! after another, each handing its result to exactly one consumer. Run as one task they cost one
//! scheduling decision instead of four, and the intermediate frames never enter the scheduler's
//! store. Fusion only merges a task into its dependent when that dependent has no other input:
//! fusing the many inputs of a reduction into it would serialize work that should run in parallel.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::fused::{FusedOp, FusedStep, StepInput};
use crate::graph::Graph;
use crate::key::Key;
use crate::task::Task;

/// Fuses every linear chain of `graph`. The last task of a chain keeps its key; outputs are never
/// fused into their dependents. A graph with a cycle is returned unchanged.
///
/// ```
/// use dusk_core::{fuse_linear, Data, FnOp, Graph, Key, LiteralOp};
/// let mut g = Graph::new();
/// g.add(Key::new("a"), LiteralOp::new(Data::local(1i32)), vec![]);
/// g.add(Key::new("b"), FnOp::new("inc", |x| Ok(Data::local(x[0].downcast_ref::<i32>()? + 1))), vec![Key::new("a")]);
/// g.add(Key::new("c"), FnOp::new("inc", |x| Ok(Data::local(x[0].downcast_ref::<i32>()? + 1))), vec![Key::new("b")]);
/// let out = fuse_linear(&g, &[Key::new("c")]);
/// assert_eq!(out.len(), 1);
/// assert_eq!(out.get(&Key::new("c")).unwrap().op.name(), "literal+inc+inc");
/// ```
pub fn fuse_linear(graph: &Graph, outputs: &[Key]) -> Graph {
    if topological_keys(graph).is_none() {
        return graph.clone();
    }
    let dependents = graph.dependents();
    // parent[y] = x when x is fused into y.
    let mut parent: HashMap<&Key, &Key> = HashMap::new();
    let mut fused_away: HashMap<&Key, ()> = HashMap::new();
    for (x, _) in graph.iter() {
        if outputs.contains(x) {
            continue;
        }
        let users = &dependents[x];
        if users.len() != 1 {
            continue;
        }
        let y = &users[0];
        let Some(yt) = graph.get(y) else { continue };
        if yt.deps.iter().all(|d| d == x) {
            let (yk, _) = graph.get_key_value(y).expect("dependent is in the graph");
            parent.insert(yk, x);
            fused_away.insert(x, ());
        }
    }
    let mut out = Graph::new();
    for (key, task) in graph.iter() {
        if fused_away.contains_key(key) {
            continue;
        }
        if !parent.contains_key(key) {
            out.insert(key.clone(), task.clone());
            continue;
        }
        // Walk up the chain, then run it top to bottom.
        let mut chain: Vec<&Key> = vec![key];
        let mut cur = key;
        while let Some(&p) = parent.get(cur) {
            chain.push(p);
            cur = p;
        }
        chain.reverse();
        let top = graph.get(chain[0]).expect("chain keys are in the graph");
        let mut steps = Vec::with_capacity(chain.len());
        steps.push(FusedStep {
            key: chain[0].clone(),
            op: top.op.clone(),
            inputs: (0..top.deps.len() as u32)
                .map(StepInput::External)
                .collect(),
        });
        for (i, k) in chain.iter().enumerate().skip(1) {
            let t = graph.get(k).expect("chain keys are in the graph");
            steps.push(FusedStep {
                key: (*k).clone(),
                op: t.op.clone(),
                inputs: vec![StepInput::Step(i as u32 - 1); t.deps.len()],
            });
        }
        out.insert(
            key.clone(),
            Task::from_arc(Arc::new(FusedOp::new(steps)), top.deps.clone()),
        );
    }
    out
}

/// The keys in an order where every task comes after its dependencies (dependencies missing from
/// the graph are ignored), or `None` if the graph has a cycle.
pub(crate) fn topological_keys(graph: &Graph) -> Option<Vec<Key>> {
    let dependents = graph.dependents();
    let mut waiting: HashMap<&Key, usize> = graph
        .iter()
        .map(|(k, t)| {
            let mut deps: Vec<&Key> = t.deps.iter().filter(|d| graph.contains(d)).collect();
            deps.sort();
            deps.dedup();
            (k, deps.len())
        })
        .collect();
    let mut queue: VecDeque<&Key> = graph.keys().filter(|k| waiting[k] == 0).collect();
    let mut order = Vec::with_capacity(graph.len());
    while let Some(k) = queue.pop_front() {
        order.push(k.clone());
        for d in &dependents[k] {
            let w = waiting.get_mut(d).expect("dependents are in the graph");
            *w -= 1;
            if *w == 0 {
                let (dk, _) = graph.get_key_value(d).expect("dependents are in the graph");
                queue.push_back(dk);
            }
        }
    }
    (order.len() == graph.len()).then_some(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Data;
    use crate::op::{FnOp, LiteralOp};

    fn pass() -> FnOp {
        FnOp::new("pass", |x| {
            Ok(x.into_iter().next().unwrap_or(Data::local(0i64)))
        })
    }

    #[test]
    fn reduction_inputs_are_not_fused_into_the_reduction() {
        let mut g = Graph::new();
        for i in 0..4 {
            g.add(Key::part("load", i), LiteralOp::new(Data::local(i)), vec![]);
            g.add(Key::part("map", i), pass(), vec![Key::part("load", i)]);
        }
        g.add(
            Key::new("sum"),
            pass(),
            (0..4).map(|i| Key::part("map", i)).collect(),
        );
        let out = fuse_linear(&g, &[Key::new("sum")]);
        // load+map fuse per partition; the reduction stays a task of its own.
        assert_eq!(out.len(), 5);
        assert_eq!(
            out.get(&Key::part("map", 2)).unwrap().op.name(),
            "literal+pass"
        );
        assert!(out.get(&Key::part("load", 2)).is_none());
    }

    #[test]
    fn outputs_are_not_fused_away() {
        let mut g = Graph::new();
        g.add(Key::new("a"), LiteralOp::new(Data::local(1)), vec![]);
        g.add(Key::new("b"), pass(), vec![Key::new("a")]);
        let out = fuse_linear(&g, &[Key::new("a"), Key::new("b")]);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn shared_results_are_not_fused() {
        let mut g = Graph::new();
        g.add(Key::new("a"), LiteralOp::new(Data::local(1)), vec![]);
        g.add(Key::new("b"), pass(), vec![Key::new("a")]);
        g.add(Key::new("c"), pass(), vec![Key::new("a")]);
        let out = fuse_linear(&g, &[Key::new("b"), Key::new("c")]);
        assert_eq!(out.len(), 3);
    }
}
