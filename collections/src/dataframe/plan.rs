//! The logical plan of a DataFrame and its lowering into tasks.
//!
//! A [`Frame`] is one node of an immutable tree: a source (CSV blocks, in-memory frames), a
//! per-partition step, an aggregation, or a head. Each node knows its schema and partition
//! count when it is built. Lowering walks the tree once, top-down, carrying the set of columns
//! the consumers need — that is the projection pushdown: a CSV source only parses the columns
//! someone reads. Consecutive per-partition steps lower into one task per partition running one
//! Polars query; aggregations lower into a tree reduction.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::sync::Arc;

use dusk_core::{Data, Graph, Key, LiteralOp, Tokenizer};
use polars::prelude::*;

use super::agg::AggSpec;
use super::csv::CsvSource;
use super::kernels::{AggChunkOp, AggCombineOp, ReadCsvOp, Step, StepsOp};

/// A node of the plan.
pub(crate) enum Node {
    Csv(Arc<CsvSource>),
    Memory(Arc<Vec<DataFrame>>),
    Map {
        input: Arc<Frame>,
        step: Step,
    },
    Aggregate {
        input: Arc<Frame>,
        keys: Vec<String>,
        aggs: Vec<AggSpec>,
        split_every: usize,
    },
    Partitions {
        input: Arc<Frame>,
        range: std::ops::Range<usize>,
    },
}

/// A plan node with what is known about its output.
pub(crate) struct Frame {
    pub node: Node,
    pub schema: SchemaRef,
    pub npartitions: usize,
    /// A token of the node and its inputs: equal plans get equal keys.
    pub token: String,
}

/// Columns a consumer needs; `None` means all of them.
type Required = Option<BTreeSet<String>>;

/// The column names an expression reads; `None` if it reads columns by pattern or dtype.
pub(crate) fn roots(exprs: &[Expr]) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for e in exprs {
        for node in e {
            match node {
                Expr::Column(name) => {
                    out.insert(name.to_string());
                }
                Expr::Selector(_) => return None,
                _ => {}
            }
        }
    }
    Some(out)
}

/// The name of the column an expression produces, when it can be read off the expression.
fn output_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Alias(_, name) => Some(name.to_string()),
        Expr::Column(name) => Some(name.to_string()),
        e => e.into_iter().find_map(|n| match n {
            Expr::Column(name) => Some(name.to_string()),
            _ => None,
        }),
    }
}

/// What the input of `step` must provide so that the step can provide `required`.
fn required_before(step: &Step, required: &Required) -> Required {
    match step {
        Step::Select(exprs) => roots(exprs),
        Step::WithColumns(exprs) => {
            let mut need = required.clone()?;
            for e in exprs {
                need.remove(&output_name(e)?);
            }
            need.extend(roots(exprs)?);
            Some(need)
        }
        Step::Filter(e) => {
            let mut need = required.clone()?;
            need.extend(roots(std::slice::from_ref(e))?);
            Some(need)
        }
        Step::Rename(pairs) => {
            let need = required.clone()?;
            Some(
                need.into_iter()
                    .map(|c| {
                        pairs
                            .iter()
                            .find(|(_, new)| *new == c)
                            .map(|(old, _)| old.clone())
                            .unwrap_or(c)
                    })
                    .collect(),
            )
        }
        Step::Drop(_) | Step::Head(_) => required.clone(),
        Step::Custom { .. } => None,
    }
}

impl Frame {
    /// The key name of this node's partitions, given the columns it provides.
    fn name(&self, prefix: &str, required: &Required) -> String {
        Tokenizer::new(prefix)
            .write(&self.token)
            .write(required)
            .name(prefix)
    }

    /// Adds the tasks of this node to `graph`; returns one key per partition.
    pub(crate) fn lower(&self, required: &Required, graph: &mut Graph) -> Vec<Key> {
        match &self.node {
            Node::Csv(source) => {
                let columns = required.as_ref().map(|need| {
                    let mut cols: Vec<String> = self
                        .schema
                        .iter_names()
                        .map(|n| n.to_string())
                        .filter(|n| need.contains(n))
                        .collect();
                    if cols.is_empty() {
                        // Something must be parsed to know the number of rows.
                        if let Some(first) = self.schema.iter_names().next() {
                            cols.push(first.to_string());
                        }
                    }
                    cols
                });
                let name = self.name("read-csv", required);
                (0..source.blocks.len())
                    .map(|i| {
                        let key = Key::part(name.as_str(), i as u32);
                        graph.add(
                            key.clone(),
                            ReadCsvOp {
                                source: source.clone(),
                                block: i,
                                columns: columns.clone(),
                            },
                            vec![],
                        );
                        key
                    })
                    .collect()
            }
            Node::Memory(parts) => {
                let name = self.name("from-polars", &None);
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, df)| {
                        let key = Key::part(name.as_str(), i as u32);
                        let df = match required {
                            Some(cols) => df
                                .select(
                                    df.get_column_names()
                                        .into_iter()
                                        .filter(|c| cols.contains(c.as_str()))
                                        .cloned(),
                                )
                                .unwrap_or_else(|_| df.clone()),
                            None => df.clone(),
                        };
                        graph.add(key.clone(), LiteralOp::new(Data::Frame(df)), vec![]);
                        key
                    })
                    .collect()
            }
            Node::Map { .. } => {
                // Gather the run of per-partition steps down to the next other node.
                let mut steps: Vec<&Step> = Vec::new();
                let mut base = self;
                while let Node::Map { input, step } = &base.node {
                    steps.push(step);
                    base = input;
                }
                steps.reverse();
                let mut need = required.clone();
                for step in steps.iter().rev() {
                    need = required_before(step, &need);
                }
                let inputs = base.lower(&need, graph);
                let label = steps.last().map_or("map", |s| s.label()).to_string();
                let name = self.name(&label, required);
                let steps: Vec<Step> = steps.into_iter().cloned().collect();
                inputs
                    .into_iter()
                    .enumerate()
                    .map(|(i, input)| {
                        let key = Key::part(name.as_str(), i as u32);
                        graph.add(
                            key.clone(),
                            StepsOp {
                                steps: steps.clone(),
                                name: label.clone(),
                            },
                            vec![input],
                        );
                        key
                    })
                    .collect()
            }
            Node::Partitions { input, range } => {
                let keys = input.lower(required, graph);
                keys[range.start.min(keys.len())..range.end.min(keys.len())].to_vec()
            }
            Node::Aggregate {
                input,
                keys,
                aggs,
                split_every,
            } => {
                let mut need: BTreeSet<String> = keys.iter().cloned().collect();
                need.extend(aggs.iter().filter_map(|a| a.column.clone()));
                let parts = input.lower(&Some(need), graph);
                let chunk: Vec<Expr> = aggs
                    .iter()
                    .enumerate()
                    .flat_map(|(i, a)| a.chunk(i))
                    .collect();
                let combine: Vec<Expr> = aggs
                    .iter()
                    .enumerate()
                    .flat_map(|(i, a)| a.combine(i))
                    .collect();
                let finish: Vec<Expr> = aggs.iter().enumerate().map(|(i, a)| a.finish(i)).collect();
                let chunk_name = self.name("aggregate-chunk", &None);
                let mut level: Vec<Key> = parts
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let key = Key::part(chunk_name.as_str(), i as u32);
                        graph.add(
                            key.clone(),
                            AggChunkOp {
                                keys: keys.clone(),
                                exprs: chunk.clone(),
                            },
                            vec![p],
                        );
                        key
                    })
                    .collect();
                let combine_name = self.name("aggregate-combine", &None);
                let split = (*split_every).max(2);
                let mut depth = 0u32;
                while level.len() > split {
                    level = level
                        .chunks(split)
                        .enumerate()
                        .map(|(j, group)| {
                            let key = Key::block(combine_name.as_str(), &[depth, j as u32]);
                            graph.add(
                                key.clone(),
                                AggCombineOp {
                                    keys: keys.clone(),
                                    exprs: combine.clone(),
                                    finish: None,
                                },
                                group.to_vec(),
                            );
                            key
                        })
                        .collect();
                    depth += 1;
                }
                let key = Key::part(self.name("aggregate", &None), 0);
                graph.add(
                    key.clone(),
                    AggCombineOp {
                        keys: keys.clone(),
                        exprs: combine,
                        finish: Some(finish),
                    },
                    level,
                );
                vec![key]
            }
        }
    }

    /// The plan as an indented tree, with the columns each source reads.
    pub(crate) fn explain(&self, required: &Required, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        let cols = |r: &Required| match r {
            Some(c) => format!("{:?}", c.iter().collect::<Vec<_>>()),
            None => "all".to_string(),
        };
        match &self.node {
            Node::Csv(source) => {
                let files: BTreeSet<_> = source.blocks.iter().map(|b| &b.path).collect();
                let _ = writeln!(
                    out,
                    "{pad}read_csv: {} files, {} partitions, columns {}",
                    files.len(),
                    self.npartitions,
                    cols(required)
                );
            }
            Node::Memory(parts) => {
                let _ = writeln!(
                    out,
                    "{pad}from_polars: {} partitions, columns {}",
                    parts.len(),
                    cols(required)
                );
            }
            Node::Map { .. } => {
                let mut steps: Vec<&Step> = Vec::new();
                let mut base = self;
                while let Node::Map { input, step } = &base.node {
                    steps.push(step);
                    base = input;
                }
                let mut need = required.clone();
                for step in &steps {
                    need = required_before(step, &need);
                }
                let chain: Vec<String> = steps.iter().rev().map(|s| format!("{s:?}")).collect();
                let _ = writeln!(
                    out,
                    "{pad}per partition (one task each, {} partitions): {}",
                    self.npartitions,
                    chain.join(" -> ")
                );
                base.explain(&need, depth + 1, out);
            }
            Node::Partitions { input, range } => {
                let _ = writeln!(out, "{pad}partitions {range:?} of:");
                input.explain(required, depth + 1, out);
            }
            Node::Aggregate {
                input,
                keys,
                aggs,
                split_every,
            } => {
                let what: Vec<String> = aggs
                    .iter()
                    .map(|a| {
                        format!(
                            "{:?}({}) as {}",
                            a.kind,
                            a.column.as_deref().unwrap_or("*"),
                            a.output
                        )
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "{pad}aggregate by {keys:?}: {} (tree reduction, split_every {split_every})",
                    what.join(", ")
                );
                let mut need: BTreeSet<String> = keys.iter().cloned().collect();
                need.extend(aggs.iter().filter_map(|a| a.column.clone()));
                input.explain(&Some(need), depth + 1, out);
            }
        }
    }
}
