//! Graph pictures: DOT text for Graphviz (Dask's `visualize`).
//!
//! Each task is a node labelled with its key's readable prefix, its partition index and its op;
//! an edge runs from each dependency to the task that uses it. With `order` set, nodes are
//! coloured by their run priority (Dask's `color="order"`), which shows at a glance whether a
//! reduction finishes one group before starting the next.

use std::fmt::Write;

use crate::graph::Graph;
use crate::key::Key;

/// What [`to_dot`] draws.
#[derive(Clone, Debug, Default)]
pub struct DotOptions {
    /// Colour nodes by priority, from the given outputs.
    pub order: Option<Vec<Key>>,
    /// Left-to-right layout instead of bottom-to-top.
    pub left_to_right: bool,
}

/// The graph as DOT text.
///
/// ```
/// use dusk_core::{to_dot, Data, DotOptions, FnOp, Graph, Key, LiteralOp};
/// let mut g = Graph::new();
/// g.add(Key::part("load", 0), LiteralOp::new(Data::local(1)), vec![]);
/// g.add(Key::new("total"), FnOp::new("sum", |x| Ok(x[0].clone())), vec![Key::part("load", 0)]);
/// let dot = to_dot(&g, &DotOptions::default());
/// assert!(dot.starts_with("digraph"));
/// assert!(dot.contains("load, 0") && dot.contains("sum"));
/// assert!(dot.contains("n0 -> n1"));
/// ```
pub fn to_dot(graph: &Graph, options: &DotOptions) -> String {
    let ids: std::collections::HashMap<&Key, usize> =
        graph.keys().enumerate().map(|(i, k)| (k, i)).collect();
    let order = options
        .order
        .as_ref()
        .and_then(|outs| crate::order::order(graph, outs).ok());
    let max = order
        .as_ref()
        .map(|o| o.values().copied().max().unwrap_or(0).max(1))
        .unwrap_or(1);
    let mut s = String::new();
    let rank = if options.left_to_right { "LR" } else { "BT" };
    let _ = writeln!(s, "digraph dusk {{\n  rankdir={rank};\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eeeeee\", fontname=\"Helvetica\"];");
    for (k, t) in graph.iter() {
        let id = ids[k];
        let mut label = escape(k.prefix());
        if !k.index().is_empty() {
            let idx: Vec<String> = k.index().iter().map(|i| i.to_string()).collect();
            label = format!("{label}, {}", idx.join(", "));
        }
        let op = escape(t.op.name());
        let mut attrs = format!("label=\"{label}\\n{op}\"");
        if let Some(p) = order.as_ref().and_then(|o| o.get(k)) {
            // Early tasks blue, late tasks red.
            let x = *p as f64 / max as f64;
            let (r, b) = ((255.0 * x) as u8, (255.0 * (1.0 - x)) as u8);
            let _ = write!(attrs, ", fillcolor=\"#{r:02x}80{b:02x}\", xlabel=\"{p}\"");
        }
        let _ = writeln!(s, "  n{id} [{attrs}];");
    }
    for (k, t) in graph.iter() {
        let mut seen = std::collections::HashSet::new();
        for d in &t.deps {
            if let Some(&from) = ids.get(d) {
                if seen.insert(from) {
                    let _ = writeln!(s, "  n{from} -> n{};", ids[k]);
                }
            }
        }
    }
    s.push_str("}\n");
    s
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
