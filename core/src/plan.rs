//! `Plan`: the part of a graph needed for some outputs, checked and compiled for execution.
//!
//! Schedulers do not work on keys: hashing a key per dependency edge would cost more than a
//! trivial task. A plan numbers the tasks densely (in insertion order of the graph, restricted to
//! what the outputs need), stores dependencies and dependents as flat adjacency arrays, and
//! carries the priority of each task from [`crate::order`]. Building a plan validates the graph:
//! a missing dependency or a cycle is an error naming the keys.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::GraphError;
use crate::graph::Graph;
use crate::key::Key;
use crate::op::Op;

/// Flat adjacency lists: the neighbours of node `i` are `list[start[i]..start[i + 1]]`.
#[derive(Clone, Debug, Default)]
pub struct Adjacency {
    start: Vec<u32>,
    list: Vec<u32>,
}

impl Adjacency {
    fn from_lists(lists: impl Iterator<Item = impl IntoIterator<Item = u32>>) -> Adjacency {
        let mut start = vec![0u32];
        let mut list = Vec::new();
        for l in lists {
            list.extend(l);
            start.push(list.len() as u32);
        }
        Adjacency { start, list }
    }

    /// The neighbours of node `i`.
    #[inline]
    pub fn of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.list[self.start[i] as usize..self.start[i + 1] as usize]
    }

    fn of_mut(&mut self, i: u32) -> &mut [u32] {
        let i = i as usize;
        &mut self.list[self.start[i] as usize..self.start[i + 1] as usize]
    }
}

/// A validated, densely numbered, ordered graph restricted to what `outputs` need.
///
/// ```
/// use dusk_core::{Data, FnOp, Graph, Key, LiteralOp, Plan};
/// let mut g = Graph::new();
/// g.add(Key::new("a"), LiteralOp::new(Data::local(1)), vec![]);
/// g.add(Key::new("unused"), LiteralOp::new(Data::local(2)), vec![]);
/// g.add(Key::new("b"), FnOp::new("f", |x| Ok(x[0].clone())), vec![Key::new("a"), Key::new("a")]);
/// let plan = Plan::new(&g, &[Key::new("b")]).unwrap();
/// assert_eq!(plan.len(), 2);                 // "unused" is not needed
/// let b = plan.index_of(&Key::new("b")).unwrap();
/// assert_eq!(plan.inputs(b).len(), 2);        // the op receives "a" twice
/// assert_eq!(plan.dependencies(b).len(), 1);  // but depends on it once
/// ```
pub struct Plan {
    keys: Vec<Key>,
    ops: Vec<Arc<dyn Op>>,
    inputs: Adjacency,
    dependencies: Adjacency,
    dependents: Adjacency,
    priority: Vec<u32>,
    outputs: Vec<u32>,
    is_output: Vec<bool>,
}

impl Plan {
    /// Compiles the part of `graph` needed for `outputs`.
    pub fn new(graph: &Graph, outputs: &[Key]) -> Result<Plan, GraphError> {
        // Reachability from the outputs, iteratively (chains can be very long).
        let mut index: HashMap<&Key, u32> = HashMap::with_capacity(graph.len());
        let mut stack: Vec<&Key> = Vec::new();
        for key in outputs {
            let Some((k, _)) = graph.get_key_value(key) else {
                return Err(GraphError::MissingOutput { key: key.clone() });
            };
            stack.push(k);
        }
        let mut seen: std::collections::HashSet<&Key> = std::collections::HashSet::new();
        while let Some(k) = stack.pop() {
            if !seen.insert(k) {
                continue;
            }
            let task = graph.get(k).expect("reachable keys are in the graph");
            for d in &task.deps {
                match graph.get_key_value(d) {
                    Some((dk, _)) => {
                        if !seen.contains(dk) {
                            stack.push(dk)
                        }
                    }
                    None => {
                        return Err(GraphError::MissingDependency {
                            key: k.clone(),
                            dependency: d.clone(),
                        })
                    }
                }
            }
        }
        // Number the needed tasks in the graph's insertion order, for determinism.
        let needed = seen;
        let mut keys = Vec::with_capacity(needed.len());
        let mut ops = Vec::with_capacity(needed.len());
        for (k, t) in graph.iter() {
            if needed.contains(k) {
                index.insert(k, keys.len() as u32);
                keys.push(k.clone());
                ops.push(t.op.clone());
            }
        }
        let inputs = Adjacency::from_lists(keys.iter().map(|k| {
            graph
                .get(k)
                .expect("needed keys are in the graph")
                .deps
                .iter()
                .map(|d| index[d])
                .collect::<Vec<_>>()
        }));
        let n = keys.len() as u32;
        let dependencies = Adjacency::from_lists((0..n).map(|i| {
            let mut d = inputs.of(i).to_vec();
            d.sort_unstable();
            d.dedup();
            d
        }));
        let mut dependent_lists: Vec<Vec<u32>> = vec![Vec::new(); keys.len()];
        for i in 0..n {
            for &d in dependencies.of(i) {
                dependent_lists[d as usize].push(i);
            }
        }
        let dependents = Adjacency::from_lists(dependent_lists.into_iter());
        let outputs: Vec<u32> = outputs.iter().map(|k| index[k]).collect();
        let mut is_output = vec![false; keys.len()];
        for &o in &outputs {
            is_output[o as usize] = true;
        }
        let mut plan = Plan {
            keys,
            ops,
            inputs,
            dependencies,
            dependents,
            priority: Vec::new(),
            outputs,
            is_output,
        };
        plan.priority = crate::order::priorities(&mut plan)?;
        Ok(plan)
    }

    /// The number of tasks.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the plan has no tasks.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key of task `i`.
    pub fn key(&self, i: u32) -> &Key {
        &self.keys[i as usize]
    }

    /// All keys, by task number.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The op of task `i`.
    pub fn op(&self, i: u32) -> &Arc<dyn Op> {
        &self.ops[i as usize]
    }

    /// The inputs of task `i` in the order its op receives them (repeats kept).
    pub fn inputs(&self, i: u32) -> &[u32] {
        self.inputs.of(i)
    }

    /// The distinct tasks that task `i` depends on.
    pub fn dependencies(&self, i: u32) -> &[u32] {
        self.dependencies.of(i)
    }

    /// The distinct tasks that depend on task `i`.
    pub fn dependents(&self, i: u32) -> &[u32] {
        self.dependents.of(i)
    }

    pub(crate) fn dependencies_mut(&mut self, i: u32) -> &mut [u32] {
        self.dependencies.of_mut(i)
    }

    /// The priority of task `i`: lower runs first when several are ready (see [`crate::order`]).
    pub fn priority(&self, i: u32) -> u32 {
        self.priority[i as usize]
    }

    /// The output tasks, in the order they were requested (repeats kept).
    pub fn outputs(&self) -> &[u32] {
        &self.outputs
    }

    /// Whether task `i` is a requested output (outputs are kept until the end).
    pub fn is_output(&self, i: u32) -> bool {
        self.is_output[i as usize]
    }

    /// The task number of `key`, if the plan has it.
    pub fn index_of(&self, key: &Key) -> Option<u32> {
        self.keys.iter().position(|k| k == key).map(|i| i as u32)
    }
}
