//! Cull: keep only what the outputs need.
//!
//! A collection's graph often holds more than a given computation asks for — `head()` needs one
//! partition, a persisted value makes its inputs unnecessary. Culling walks back from the outputs
//! and drops everything it does not reach. Dependencies that are not in the graph are left for
//! validation to report.

use std::collections::HashSet;

use crate::graph::Graph;
use crate::key::Key;

/// The subgraph of `graph` that `outputs` depend on, in the original order.
///
/// ```
/// use dusk_core::{cull, Data, Graph, Key, LiteralOp};
/// let mut g = Graph::new();
/// g.add(Key::part("x", 0), LiteralOp::new(Data::local(0)), vec![]);
/// g.add(Key::part("x", 1), LiteralOp::new(Data::local(1)), vec![]);
/// let c = cull(&g, &[Key::part("x", 1)]);
/// assert_eq!(c.keys().cloned().collect::<Vec<_>>(), vec![Key::part("x", 1)]);
/// ```
pub fn cull(graph: &Graph, outputs: &[Key]) -> Graph {
    let mut needed: HashSet<&Key> = HashSet::new();
    let mut stack: Vec<&Key> = outputs.iter().collect();
    while let Some(k) = stack.pop() {
        let Some((key, task)) = graph.get_key_value(k) else {
            continue;
        };
        if needed.insert(key) {
            stack.extend(task.deps.iter().filter(|d| !needed.contains(d)));
        }
    }
    graph
        .iter()
        .filter(|(k, _)| needed.contains(k))
        .map(|(k, t)| (k.clone(), t.clone()))
        .collect()
}
