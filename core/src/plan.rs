//! `Plan`: the part of a graph needed for some outputs, checked and compiled for execution.
//!
//! Schedulers do not work on keys: hashing a key per dependency edge would cost more than a
//! trivial task. A plan numbers the tasks densely (in insertion order of the graph, restricted to
//! what the outputs need), stores dependencies and dependents as flat adjacency arrays, and
//! carries the priority of each task from [`crate::order`]. Building a plan validates the graph:
//! a missing dependency or a cycle is an error naming the keys.

use std::sync::Arc;

use rustc_hash::FxHashMap;

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
    fn with_capacity(nodes: usize, edges: usize) -> Adjacency {
        let mut start = Vec::with_capacity(nodes + 1);
        start.push(0);
        Adjacency {
            start,
            list: Vec::with_capacity(edges),
        }
    }

    fn push(&mut self, neighbours: &[u32]) {
        self.list.extend_from_slice(neighbours);
        self.start.push(self.list.len() as u32);
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
        // Number every task once (one hash per task, one per edge), then work on numbers.
        let mut all: FxHashMap<&Key, u32> =
            FxHashMap::with_capacity_and_hasher(graph.len(), Default::default());
        for (i, k) in graph.keys().enumerate() {
            all.insert(k, i as u32);
        }
        let tasks: Vec<(&Key, &crate::task::Task)> = graph.iter().collect();
        let mut edges: Vec<u32> = Vec::new();
        let mut edge_start: Vec<u32> = Vec::with_capacity(tasks.len() + 1);
        edge_start.push(0);
        for (k, t) in &tasks {
            for d in &t.deps {
                match all.get(d) {
                    Some(&j) => edges.push(j),
                    None => {
                        return Err(GraphError::MissingDependency {
                            key: (*k).clone(),
                            dependency: d.clone(),
                        })
                    }
                }
            }
            edge_start.push(edges.len() as u32);
        }
        let deps_of =
            |i: u32| &edges[edge_start[i as usize] as usize..edge_start[i as usize + 1] as usize];

        // Reachability from the outputs, iteratively (chains can be very long).
        let mut output_ids = Vec::with_capacity(outputs.len());
        for key in outputs {
            match all.get(key) {
                Some(&i) => output_ids.push(i),
                None => return Err(GraphError::MissingOutput { key: key.clone() }),
            }
        }
        let mut needed = vec![false; tasks.len()];
        let mut stack: Vec<u32> = output_ids.clone();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut needed[i as usize], true) {
                continue;
            }
            stack.extend(deps_of(i).iter().filter(|&&d| !needed[d as usize]));
        }
        // Compact numbering of the needed tasks, in the graph's insertion order.
        const NONE: u32 = u32::MAX;
        let mut compact = vec![NONE; tasks.len()];
        let mut keys = Vec::new();
        let mut ops = Vec::new();
        for (i, (k, t)) in tasks.iter().enumerate() {
            if needed[i] {
                compact[i] = keys.len() as u32;
                keys.push((*k).clone());
                ops.push(t.op.clone());
            }
        }
        let n = keys.len();
        let mut inputs = Adjacency::with_capacity(n, edges.len());
        let mut dependencies = Adjacency::with_capacity(n, edges.len());
        let mut dependent_count = vec![0u32; n];
        let mut scratch: Vec<u32> = Vec::new();
        for (i, &c) in compact.iter().enumerate() {
            if c == NONE {
                continue;
            }
            scratch.clear();
            scratch.extend(deps_of(i as u32).iter().map(|&d| compact[d as usize]));
            inputs.push(&scratch);
            scratch.sort_unstable();
            scratch.dedup();
            for &d in &scratch {
                dependent_count[d as usize] += 1;
            }
            dependencies.push(&scratch);
        }
        // Dependents, filled by counting sort so each list is in task order.
        let mut start = Vec::with_capacity(n + 1);
        start.push(0u32);
        for &c in &dependent_count {
            start.push(start.last().copied().unwrap_or(0) + c);
        }
        let mut fill: Vec<u32> = start[..n].to_vec();
        let mut list = vec![0u32; start[n] as usize];
        for i in 0..n as u32 {
            for &d in dependencies.of(i) {
                list[fill[d as usize] as usize] = i;
                fill[d as usize] += 1;
            }
        }
        let dependents = Adjacency { start, list };
        let outputs: Vec<u32> = output_ids.iter().map(|&o| compact[o as usize]).collect();
        let mut is_output = vec![false; n];
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
