//! Ordering: which ready task to run first, so that memory stays low.
//!
//! When many tasks are ready, the scheduler runs the one with the lowest priority number. The
//! numbers come from a depth-first, post-order walk from the outputs (the idea behind Dask's
//! `dask.order`):
//!
//! - **finish what was started** — a post-order walk numbers all of one subtree before moving to
//!   the next, so a tree reduction combines its first group of partitions before the scheduler
//!   reads the partitions of the second group. Intermediates are released as soon as they are
//!   combined, and the number held at once stays near `threads × split_every`, not the number of
//!   partitions;
//! - **prefer the critical path** — among the dependencies of a task, the one with the longest
//!   chain below it is walked first, so long chains start early and do not end up alone at the
//!   end of the computation.
//!
//! The walk is iterative: a chain of a million tasks must not overflow the stack.

use crate::error::GraphError;
use crate::plan::Plan;

/// Computes the priority of each task of `plan`; fails on a cycle, naming its keys.
///
/// Also sorts each task's dependency list by the walk order (longest chain first).
pub(crate) fn priorities(plan: &mut Plan) -> Result<Vec<u32>, GraphError> {
    let n = plan.len();
    let topo = topological_order(plan)?;

    // Height: length of the longest chain of dependencies below (and including) a task.
    let mut height = vec![0u32; n];
    for &i in &topo {
        let h = plan
            .dependencies(i)
            .iter()
            .map(|&d| height[d as usize])
            .max()
            .unwrap_or(0);
        height[i as usize] = h + 1;
    }
    for i in 0..n as u32 {
        plan.dependencies_mut(i)
            .sort_by_key(|&d| (std::cmp::Reverse(height[d as usize]), d));
    }

    const UNSET: u32 = u32::MAX;
    let mut priority = vec![UNSET; n];
    let mut next = 0u32;
    let mut stack: Vec<(u32, usize)> = Vec::new();
    let mut on_stack = vec![false; n];
    let outputs = plan.outputs().to_vec();
    for root in outputs {
        if priority[root as usize] != UNSET || on_stack[root as usize] {
            continue;
        }
        stack.push((root, 0));
        on_stack[root as usize] = true;
        while let Some(&mut (node, ref mut child)) = stack.last_mut() {
            let deps = plan.dependencies(node);
            let mut pushed = false;
            while *child < deps.len() {
                let d = deps[*child];
                *child += 1;
                if priority[d as usize] == UNSET && !on_stack[d as usize] {
                    on_stack[d as usize] = true;
                    stack.push((d, 0));
                    pushed = true;
                    break;
                }
            }
            if !pushed {
                stack.pop();
                priority[node as usize] = next;
                next += 1;
            }
        }
    }
    debug_assert!(priority.iter().all(|&p| p != UNSET));
    Ok(priority)
}

/// Kahn's algorithm over the dependencies; on a cycle, returns the keys of one cycle.
fn topological_order(plan: &Plan) -> Result<Vec<u32>, GraphError> {
    let n = plan.len();
    let mut waiting: Vec<u32> = (0..n as u32)
        .map(|i| plan.dependencies(i).len() as u32)
        .collect();
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&i| waiting[i as usize] == 0)
        .collect();
    let mut head = 0;
    while head < order.len() {
        let i = order[head];
        head += 1;
        for &d in plan.dependents(i) {
            waiting[d as usize] -= 1;
            if waiting[d as usize] == 0 {
                order.push(d);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Every task still waiting has a waiting dependency: walk those until a task repeats.
    let start = (0..n)
        .find(|&i| waiting[i] > 0)
        .expect("some task is waiting") as u32;
    let mut path = vec![start];
    let mut position = vec![usize::MAX; n];
    position[start as usize] = 0;
    let mut cur = start;
    loop {
        let next = *plan
            .dependencies(cur)
            .iter()
            .find(|&&d| waiting[d as usize] > 0)
            .expect("a waiting task has a waiting dependency");
        if position[next as usize] != usize::MAX {
            let cycle = path[position[next as usize]..]
                .iter()
                .map(|&i| plan.key(i).clone())
                .collect();
            return Err(GraphError::Cycle { keys: cycle });
        }
        position[next as usize] = path.len();
        path.push(next);
        cur = next;
    }
}

/// The priority of every task needed for `outputs`, by key — for tests, pictures and tools.
///
/// ```
/// use dusk_core::{Data, FnOp, Graph, Key, LiteralOp};
/// let mut g = Graph::new();
/// for i in 0..2 {
///     g.add(Key::part("load", i), LiteralOp::new(Data::local(i)), vec![]);
///     g.add(Key::part("clean", i), FnOp::new("clean", |x| Ok(x[0].clone())), vec![Key::part("load", i)]);
/// }
/// g.add(Key::new("total"), FnOp::new("sum", |x| Ok(x[0].clone())),
///       vec![Key::part("clean", 0), Key::part("clean", 1)]);
/// let order = dusk_core::order::order(&g, &[Key::new("total")]).unwrap();
/// // The first partition is loaded and cleaned before the second one is loaded.
/// assert!(order[&Key::part("clean", 0)] < order[&Key::part("load", 1)]);
/// ```
pub fn order(
    graph: &crate::graph::Graph,
    outputs: &[crate::key::Key],
) -> Result<std::collections::HashMap<crate::key::Key, u32>, GraphError> {
    let plan = Plan::new(graph, outputs)?;
    Ok((0..plan.len() as u32)
        .map(|i| (plan.key(i).clone(), plan.priority(i)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Data;
    use crate::graph::Graph;
    use crate::key::Key;
    use crate::op::{FnOp, LiteralOp};

    fn pass() -> FnOp {
        FnOp::new("f", |x| Ok(x.into_iter().next().unwrap_or(Data::local(()))))
    }

    /// A tree reduction of `n` partitions: load -> map -> combine groups of `split` -> ... -> total.
    fn tree_reduction(n: u32, split: usize) -> (Graph, Key) {
        let mut g = Graph::new();
        let mut level: Vec<Key> = Vec::new();
        for i in 0..n {
            g.add(Key::part("load", i), LiteralOp::new(Data::local(i)), vec![]);
            g.add(Key::part("map", i), pass(), vec![Key::part("load", i)]);
            level.push(Key::part("map", i));
        }
        let mut depth = 0;
        while level.len() > 1 {
            let name = format!("combine{depth}");
            level = level
                .chunks(split)
                .enumerate()
                .map(|(j, group)| {
                    let k = Key::part(name.as_str(), j as u32);
                    g.add(k.clone(), pass(), group.to_vec());
                    k
                })
                .collect();
            depth += 1;
        }
        (g, level.pop().unwrap())
    }

    #[test]
    fn tree_reduction_finishes_each_group_first() {
        let (g, root) = tree_reduction(64, 8);
        let o = order(&g, std::slice::from_ref(&root)).unwrap();
        // Each first-level combine is ordered right after its own 8 partitions, before the
        // next group's partitions are loaded.
        for j in 0..7u32 {
            let combine = o[&Key::part("combine0", j)];
            let next_load = o[&Key::part("load", (j + 1) * 8)];
            assert!(combine < next_load, "group {j}: {combine} !< {next_load}");
            for i in j * 8..(j + 1) * 8 {
                assert!(o[&Key::part("map", i)] < combine);
            }
        }
        assert_eq!(o[&root], g.len() as u32 - 1);
    }

    #[test]
    fn map_reduce_interleaves_load_and_map() {
        let (g, root) = tree_reduction(10, 100);
        let o = order(&g, &[root]).unwrap();
        for i in 0..9u32 {
            assert!(o[&Key::part("map", i)] < o[&Key::part("load", i + 1)]);
        }
    }

    #[test]
    fn longer_chain_is_started_first() {
        let mut g = Graph::new();
        g.add(Key::new("short"), LiteralOp::new(Data::local(0)), vec![]);
        g.add(Key::part("long", 0), LiteralOp::new(Data::local(0)), vec![]);
        for i in 1..5 {
            g.add(Key::part("long", i), pass(), vec![Key::part("long", i - 1)]);
        }
        g.add(
            Key::new("join"),
            pass(),
            vec![Key::new("short"), Key::part("long", 4)],
        );
        let o = order(&g, &[Key::new("join")]).unwrap();
        assert_eq!(o[&Key::part("long", 0)], 0);
        assert!(o[&Key::new("short")] > o[&Key::part("long", 4)]);
    }

    #[test]
    fn very_long_chain_does_not_overflow() {
        let mut g = Graph::new();
        g.add(Key::part("c", 0), LiteralOp::new(Data::local(0)), vec![]);
        for i in 1..200_000 {
            g.add(Key::part("c", i), pass(), vec![Key::part("c", i - 1)]);
        }
        let o = order(&g, &[Key::part("c", 199_999)]).unwrap();
        assert_eq!(o[&Key::part("c", 0)], 0);
        assert_eq!(o[&Key::part("c", 199_999)], 199_999);
    }

    #[test]
    fn priorities_respect_dependencies() {
        let (g, root) = tree_reduction(100, 3);
        let o = order(&g, &[root]).unwrap();
        for (k, t) in g.iter() {
            for d in &t.deps {
                assert!(o[d] < o[k], "{d} must come before {k}");
            }
        }
    }
}
