//! `Graph`: a task graph as plain data — `{Key → Task}`.
//!
//! Collections lower themselves into a graph; the optimizer rewrites it; a scheduler runs it.
//! Because the graph is data, the same graph runs on the local threads or crosses the network to
//! a cluster ([`Graph::to_wire`]). Tasks keep their insertion order, so everything derived from a
//! graph (orderings, pictures, wire forms) is deterministic.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::GraphError;
use crate::key::Key;
use crate::op::{Op, WireError, WireOp};
use crate::task::Task;

/// A task graph.
///
/// ```
/// use dusk_core::{Data, FnOp, Graph, Key, LiteralOp};
/// let mut g = Graph::new();
/// g.add(Key::new("one"), LiteralOp::new(Data::local(1i64)), vec![]);
/// g.add(Key::new("two"), FnOp::new("inc", |x| Ok(Data::local(x[0].downcast_ref::<i64>()? + 1))),
///       vec![Key::new("one")]);
/// assert_eq!(g.len(), 2);
/// g.validate(&[Key::new("two")]).unwrap();
/// assert!(g.validate(&[Key::new("three")]).is_err());
/// ```
#[derive(Clone, Default)]
pub struct Graph {
    tasks: IndexMap<Key, Task>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// The number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the graph has no tasks.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Inserts a task, replacing (and returning) any task under the same key.
    pub fn insert(&mut self, key: Key, task: Task) -> Option<Task> {
        self.tasks.insert(key, task)
    }

    /// Inserts a task running `op` on `deps`.
    pub fn add(&mut self, key: Key, op: impl Op, deps: Vec<Key>) {
        self.tasks.insert(key, Task::new(op, deps));
    }

    /// The task under `key`.
    pub fn get(&self, key: &Key) -> Option<&Task> {
        self.tasks.get(key)
    }

    pub(crate) fn get_key_value(&self, key: &Key) -> Option<(&Key, &Task)> {
        self.tasks.get_key_value(key)
    }

    /// Whether a task produces `key`.
    pub fn contains(&self, key: &Key) -> bool {
        self.tasks.contains_key(key)
    }

    /// Removes and returns the task under `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &Key) -> Option<Task> {
        self.tasks.shift_remove(key)
    }

    /// The tasks in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Task)> {
        self.tasks.iter()
    }

    /// The keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.tasks.keys()
    }

    /// Adds every task of `other` that this graph does not already have. Equal keys mean equal
    /// computations (keys are tokens of their inputs), so shared subgraphs are kept once.
    pub fn merge(&mut self, other: &Graph) {
        for (k, t) in other.iter() {
            if !self.tasks.contains_key(k) {
                self.tasks.insert(k.clone(), t.clone());
            }
        }
    }

    /// For each key, the distinct keys that depend on it (in insertion order).
    pub fn dependents(&self) -> HashMap<Key, Vec<Key>> {
        let mut out: HashMap<Key, Vec<Key>> =
            self.tasks.keys().map(|k| (k.clone(), Vec::new())).collect();
        for (k, t) in &self.tasks {
            let mut seen = HashSet::new();
            for d in &t.deps {
                if seen.insert(d) {
                    if let Some(v) = out.get_mut(d) {
                        v.push(k.clone());
                    }
                }
            }
        }
        out
    }

    /// Checks that every dependency exists, every output exists and there is no cycle.
    pub fn validate(&self, outputs: &[Key]) -> Result<(), GraphError> {
        for key in outputs {
            if !self.contains(key) {
                return Err(GraphError::MissingOutput { key: key.clone() });
            }
        }
        // Dependencies as indices (checking that each exists), then Kahn's algorithm: a graph
        // is acyclic when every task can be released once its dependencies are. This is the
        // whole check; it does not build an execution plan.
        let n = self.tasks.len();
        let mut deps: Vec<u32> = Vec::new();
        let mut starts: Vec<u32> = Vec::with_capacity(n + 1);
        let mut waiting: Vec<u32> = Vec::with_capacity(n);
        let mut dependent_counts = vec![0u32; n];
        for (k, t) in &self.tasks {
            starts.push(deps.len() as u32);
            for d in &t.deps {
                let i =
                    self.tasks
                        .get_index_of(d)
                        .ok_or_else(|| GraphError::MissingDependency {
                            key: k.clone(),
                            dependency: d.clone(),
                        })?;
                deps.push(i as u32);
                dependent_counts[i] += 1;
            }
            waiting.push(t.deps.len() as u32);
        }
        starts.push(deps.len() as u32);
        // Dependents in CSR form.
        let mut dependent_starts = Vec::with_capacity(n + 1);
        let mut total = 0u32;
        for &c in &dependent_counts {
            dependent_starts.push(total);
            total += c;
        }
        dependent_starts.push(total);
        let mut fill = dependent_starts.clone();
        let mut dependents = vec![0u32; total as usize];
        for i in 0..n {
            for &d in &deps[starts[i] as usize..starts[i + 1] as usize] {
                dependents[fill[d as usize] as usize] = i as u32;
                fill[d as usize] += 1;
            }
        }
        let mut ready: Vec<u32> = (0..n as u32)
            .filter(|&i| waiting[i as usize] == 0)
            .collect();
        let mut released = 0;
        while let Some(i) = ready.pop() {
            released += 1;
            let range =
                dependent_starts[i as usize] as usize..dependent_starts[i as usize + 1] as usize;
            for &j in &dependents[range] {
                waiting[j as usize] -= 1;
                if waiting[j as usize] == 0 {
                    ready.push(j);
                }
            }
        }
        if released == n {
            return Ok(());
        }
        // Every task still waiting has a waiting dependency: walk those until a task repeats.
        let mut cur = (0..n).find(|&i| waiting[i] > 0).unwrap_or(0) as u32;
        let mut position = vec![usize::MAX; n];
        let mut path = Vec::new();
        while position[cur as usize] == usize::MAX {
            position[cur as usize] = path.len();
            path.push(cur);
            let own = &deps[starts[cur as usize] as usize..starts[cur as usize + 1] as usize];
            match own.iter().find(|&&d| waiting[d as usize] > 0) {
                Some(&next) => cur = next,
                None => break,
            }
        }
        let from = position[cur as usize].min(path.len().saturating_sub(1));
        let keys = path[from..]
            .iter()
            .filter_map(|&i| self.tasks.get_index(i as usize).map(|(k, _)| k.clone()))
            .collect();
        Err(GraphError::Cycle { keys })
    }

    /// The graph in its wire form; fails naming the first task whose op is a closure.
    ///
    /// ```
    /// use dusk_core::{Data, FnOp, Graph, Key};
    /// let mut g = Graph::new();
    /// g.add(Key::new("f"), FnOp::new("my-closure", |_| Ok(Data::local(()))), vec![]);
    /// let err = g.to_wire().unwrap_err().to_string();
    /// assert!(err.contains("'f'") && err.contains("my-closure"), "{err}");
    /// ```
    pub fn to_wire(&self) -> Result<WireGraph, GraphError> {
        let mut tasks = Vec::with_capacity(self.len());
        for (k, t) in &self.tasks {
            let op = t.op.to_wire().map_err(|e| match e {
                WireError::Closure => GraphError::NotSerializable {
                    key: k.clone(),
                    op: t.op.name().to_string(),
                },
                WireError::Codec(message) => GraphError::Codec {
                    kind: t.op.name().to_string(),
                    action: "encoded",
                    message: format!("in task {k}: {message}"),
                },
            })?;
            tasks.push(WireTask {
                key: k.clone(),
                op,
                deps: t.deps.clone(),
            });
        }
        Ok(WireGraph { tasks })
    }

    /// Rebuilds a graph from its wire form, through the op registry.
    pub fn from_wire(wire: &WireGraph) -> Result<Graph, GraphError> {
        let mut g = Graph::new();
        for t in &wire.tasks {
            let op = t.op.decode()?;
            g.insert(t.key.clone(), Task::from_arc(op, t.deps.clone()));
        }
        Ok(g)
    }
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.tasks.iter()).finish()
    }
}

impl FromIterator<(Key, Task)> for Graph {
    fn from_iter<I: IntoIterator<Item = (Key, Task)>>(iter: I) -> Graph {
        Graph {
            tasks: iter.into_iter().collect(),
        }
    }
}

/// A graph in its wire form: serde data, ready for any serde format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireGraph {
    /// The tasks, in the graph's order.
    pub tasks: Vec<WireTask>,
}

/// A task in its wire form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireTask {
    /// The task's key.
    pub key: Key,
    /// Its op.
    pub op: WireOp,
    /// Its inputs.
    pub deps: Vec<Key>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Data;
    use crate::op::{FnOp, LiteralOp};

    fn lit(v: u32) -> LiteralOp {
        LiteralOp::new(Data::encode(&v).unwrap())
    }

    #[test]
    fn missing_dependency_names_both_keys() {
        let mut g = Graph::new();
        g.add(Key::new("a"), lit(1), vec![Key::part("ghost", 2)]);
        let err = g.validate(&[]).unwrap_err().to_string();
        assert!(err.contains("'a'") && err.contains("('ghost', 2)"), "{err}");
    }

    #[test]
    fn cycle_names_its_keys() {
        let mut g = Graph::new();
        let f = || FnOp::new("f", |_| Ok(Data::local(())));
        g.add(Key::new("root"), lit(0), vec![]);
        g.add(Key::new("a"), f(), vec![Key::new("root"), Key::new("c")]);
        g.add(Key::new("b"), f(), vec![Key::new("a")]);
        g.add(Key::new("c"), f(), vec![Key::new("b")]);
        let err = g.validate(&[]).unwrap_err();
        let GraphError::Cycle { keys } = &err else {
            panic!("expected a cycle, got {err}")
        };
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, vec![Key::new("a"), Key::new("b"), Key::new("c")]);
    }

    #[test]
    fn wire_round_trip_keeps_tasks() {
        let mut g = Graph::new();
        g.add(Key::part("x", 0), lit(5), vec![]);
        g.add(Key::part("x", 1), lit(6), vec![Key::part("x", 0)]);
        let wire = g.to_wire().unwrap();
        let bytes = postcard::to_stdvec(&wire).unwrap();
        let back: WireGraph = postcard::from_bytes(&bytes).unwrap();
        let g2 = Graph::from_wire(&back).unwrap();
        assert_eq!(g2.len(), 2);
        assert_eq!(
            g2.get(&Key::part("x", 1)).unwrap().deps,
            vec![Key::part("x", 0)]
        );
        let out = g2.get(&Key::part("x", 1)).unwrap().op.run(vec![]).unwrap();
        assert_eq!(out.decode::<u32>().unwrap(), 6);
    }

    #[test]
    fn merge_keeps_shared_tasks_once() {
        let mut a = Graph::new();
        a.add(Key::new("s"), lit(1), vec![]);
        a.add(Key::new("a"), lit(2), vec![Key::new("s")]);
        let mut b = Graph::new();
        b.add(Key::new("s"), lit(1), vec![]);
        b.add(Key::new("b"), lit(3), vec![Key::new("s")]);
        a.merge(&b);
        assert_eq!(a.len(), 3);
        let deps = a.dependents();
        assert_eq!(deps[&Key::new("s")], vec![Key::new("a"), Key::new("b")]);
    }
}
