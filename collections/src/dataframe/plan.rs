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

use dusk_core::{ComputeError, Data, Graph, Key, LiteralOp, Op, Tokenizer};
use polars::prelude::*;

use super::agg::AggSpec;
use super::csv::CsvSource;
use super::index::{
    align_plan, DivisionSliceOp, DivisionSplitOp, IndexLayout, IndexSketchOp, IndexSpec,
    IndexValue, Kind, MergeIndexSketchOp,
};
use super::join::{JoinHow, JoinOp};
use super::kernels::{
    AggChunkOp, AggCombineOp, ConcatStepsOp, MergeSummaryOp, ReadCsvOp, ReadParquetOp, Step,
    StepsOp, SummarizeOp, SummaryFinish, WriteOp,
};
use super::parquet::ParquetSource;
use super::shuffle::{
    add_shuffle, CutConcatOp, HashSplitOp, RangeSplitOp, ShuffleMethod, SliceOp, Spill,
};
use super::write::WriteTarget;

/// A node of the plan.
pub(crate) enum Node {
    Csv(Arc<CsvSource>),
    Parquet(Arc<ParquetSource>),
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
        split_out: usize,
    },
    Partitions {
        input: Arc<Frame>,
        range: std::ops::Range<usize>,
    },
    /// Steps on each partition, then on concatenations of their results, level by level, down
    /// to one partition (`nlargest`: sort and head at every level).
    Reduce {
        input: Arc<Frame>,
        steps: Vec<Step>,
        label: &'static str,
        split_every: usize,
    },
    /// Mergeable summaries of numeric columns (`quantile`, `describe`).
    Summary {
        input: Arc<Frame>,
        columns: Vec<String>,
        finish: SummaryFinish,
        split_every: usize,
    },
    /// Rows moved between partitions: split each input partition, gather the pieces.
    Shuffle {
        input: Arc<Frame>,
        split: Split,
        method: ShuffleMethod,
    },
    /// Partition `i` of `left` joined with partition `i` of `right` (both hash-partitioned
    /// alike, or both on the same index divisions), or, when broadcast, with all of `right`.
    Join {
        left: Arc<Frame>,
        right: Arc<Frame>,
        spec: Arc<JoinSpec>,
        layout: JoinLayout,
    },
    /// Rows placed by an index column's divisions (`set_index`).
    SetIndex {
        input: Arc<Frame>,
        index: Arc<IndexSpec>,
        layout: IndexLayout,
    },
    /// An indexed frame cut from the divisions `from` to those of `index` (no shuffle).
    Align {
        input: Arc<Frame>,
        index: Arc<IndexSpec>,
        from: Arc<Vec<IndexValue>>,
    },
    /// Divisions for an index column, as a one-row-per-division frame (a tree of sketches).
    Divisions {
        input: Arc<Frame>,
        column: String,
        kind: Kind,
        npartitions: usize,
        split_every: usize,
    },
    /// The partitions of several frames, one after the other.
    Concat(Vec<Arc<Frame>>),
    /// Neighbouring partitions concatenated (to fewer) or sliced (to more).
    Repartition {
        input: Arc<Frame>,
    },
    /// Output `j` concatenates, in order, slice `piece` of `of` of each input `(input, piece,
    /// of)` in `outputs[j]` (`repartition_size`).
    Recut {
        input: Arc<Frame>,
        outputs: Arc<Vec<Vec<(usize, usize, usize)>>>,
    },
    /// Partitions made by another collection's tasks (a bag's `to_dataframe`).
    External {
        label: String,
        lower: Arc<ExternalLower>,
    },
    /// One file written per partition; each partition becomes the path written.
    Write {
        input: Arc<Frame>,
        target: Arc<WriteTarget>,
    },
}

/// How the partitions of a join meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum JoinLayout {
    /// Every left partition with the whole right side.
    Broadcast,
    /// Partition `i` with partition `i`, both hash-partitioned on the keys.
    Hash,
    /// Partition `i` with partition `i`, both range-partitioned on the same index divisions.
    Divisions,
}

/// How a shuffle assigns rows to output partitions.
pub(crate) enum Split {
    /// By a hash of these columns.
    Hash(Vec<String>),
    /// By ranges of a numeric column; `bounds` computes the boundaries (a quantile frame).
    Range {
        column: String,
        descending: bool,
        nulls_last: bool,
        bounds: Arc<Frame>,
    },
}

/// What a join matches and keeps.
#[derive(Debug, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct JoinSpec {
    pub left_on: Vec<String>,
    pub right_on: Vec<String>,
    pub how: JoinHow,
    pub suffix: String,
}

/// Adds another collection's tasks producing frames; returns one key per partition.
pub(crate) type ExternalLower = dyn Fn(&mut Graph) -> Result<Vec<Key>, ComputeError> + Send + Sync;

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
        Step::Drop(_) | Step::Head(_) | Step::Tail(_) => required.clone(),
        Step::Unique { subset, .. } => {
            let mut need = required.clone()?;
            need.extend(subset.iter().cloned());
            Some(need)
        }
        Step::Sort(spec) => {
            let mut need = required.clone()?;
            need.extend(spec.by.iter().cloned());
            Some(need)
        }
        Step::Custom { .. } => None,
    }
}

/// What the input of a chain of `steps` must provide so that the chain can provide `required`.
fn needs_before<'a>(
    steps: impl DoubleEndedIterator<Item = &'a Step>,
    required: &Required,
) -> Required {
    steps
        .rev()
        .fold(required.clone(), |need, step| required_before(step, &need))
}

/// Adds one task per partition: `task(i)` gives partition `i`'s op and dependencies.
fn add_partitions<O: Op>(
    graph: &mut Graph,
    name: &str,
    n: usize,
    mut task: impl FnMut(usize) -> (O, Vec<Key>),
) -> Vec<Key> {
    (0..n)
        .map(|i| {
            let key = Key::part(name, i as u32);
            let (op, deps) = task(i);
            graph.add(key.clone(), op, deps);
            key
        })
        .collect()
}

/// Adds a tree reduction over `level`: groups of `split_every` merged by `merge()` until one
/// group is left, which `last` merges into the single output.
fn add_tree<O: Op, L: Op>(
    graph: &mut Graph,
    name: &str,
    mut level: Vec<Key>,
    split_every: usize,
    merge: impl Fn() -> O,
    last: L,
) -> Key {
    let split = split_every.max(2);
    let combine_name = format!("{name}-combine");
    let mut depth = 0u32;
    while level.len() > split {
        level = level
            .chunks(split)
            .enumerate()
            .map(|(j, group)| {
                let key = Key::block(combine_name.as_str(), &[depth, j as u32]);
                graph.add(key.clone(), merge(), group.to_vec());
                key
            })
            .collect();
        depth += 1;
    }
    let key = Key::part(name, 0);
    graph.add(key.clone(), last, level);
    key
}

/// The leading filters of a step chain, which a file source can apply while reading.
fn pushed_predicate(base: &Frame, steps: &[Step]) -> (Option<Expr>, usize) {
    if !matches!(base.node, Node::Csv(_) | Node::Parquet(_)) {
        return (None, 0);
    }
    let mut predicate: Option<Expr> = None;
    let mut taken = 0;
    for step in steps {
        let Step::Filter(p) = step else { break };
        predicate = Some(match predicate {
            Some(q) => q.and(p.clone()),
            None => p.clone(),
        });
        taken += 1;
    }
    (predicate, taken)
}

/// The columns a source parses: the schema's columns that are needed, in file order (at least
/// one: something must be parsed to know the number of rows).
fn source_columns(schema: &Schema, required: &Required) -> Option<Vec<String>> {
    required.as_ref().map(|need| {
        let mut cols: Vec<String> = schema
            .iter_names()
            .map(|n| n.to_string())
            .filter(|n| need.contains(n))
            .collect();
        if cols.is_empty() {
            if let Some(first) = schema.iter_names().next() {
                cols.push(first.to_string());
            }
        }
        cols
    })
}

/// The per-partition steps above `frame` (in execution order) and the node below them.
fn step_chain(frame: &Frame) -> (Vec<&Step>, &Frame) {
    let mut steps: Vec<&Step> = Vec::new();
    let mut base = frame;
    while let Node::Map { input, step } = &base.node {
        steps.push(step);
        base = input;
    }
    steps.reverse();
    (steps, base)
}

/// The columns of `schema` that are required, in schema order.
fn projected(schema: &SchemaRef, required: &Required) -> SchemaRef {
    match required {
        Some(cols) => Arc::new(
            schema
                .iter()
                .filter(|(name, _)| cols.contains(name.as_str()))
                .map(|(name, dtype)| Field::new(name.clone(), dtype.clone()))
                .collect(),
        ),
        None => schema.clone(),
    }
}

/// `required` and `column` too.
fn with_column(required: &Required, column: &str) -> Required {
    required.clone().map(|mut need| {
        need.insert(column.to_string());
        need
    })
}

/// The columns an aggregation reads.
fn aggregate_needs(keys: &[String], aggs: &[AggSpec]) -> Required {
    let mut need: BTreeSet<String> = keys.iter().cloned().collect();
    need.extend(aggs.iter().filter_map(|a| a.column.clone()));
    Some(need)
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
    pub(crate) fn lower(
        &self,
        required: &Required,
        graph: &mut Graph,
    ) -> Result<Vec<Key>, ComputeError> {
        self.lower_source(required, None, graph)
    }

    /// As [`Frame::lower`], with a predicate a file source applies while reading.
    fn lower_source(
        &self,
        required: &Required,
        predicate: Option<Expr>,
        graph: &mut Graph,
    ) -> Result<Vec<Key>, ComputeError> {
        // A file source's partitions are named by what they read: columns and predicate.
        let source_name = |prefix: &str| {
            Tokenizer::new(prefix)
                .write(&self.token)
                .write(required)
                .write(&predicate.as_ref().map(|p| p.to_string()))
                .name(prefix)
        };
        let columns = source_columns(&self.schema, required);
        let keys = match &self.node {
            Node::Csv(source) => {
                add_partitions(graph, &source_name("read-csv"), source.blocks.len(), |i| {
                    let op = ReadCsvOp {
                        source: source.clone(),
                        block: i,
                        columns: columns.clone(),
                        predicate: predicate.clone(),
                    };
                    (op, vec![])
                })
            }
            Node::Parquet(source) => add_partitions(
                graph,
                &source_name("read-parquet"),
                source.pieces.len(),
                |i| {
                    let op = ReadParquetOp {
                        source: source.clone(),
                        piece: i,
                        columns: columns.clone(),
                        predicate: predicate.clone(),
                    };
                    (op, vec![])
                },
            ),
            Node::Memory(parts) => {
                let name = self.name("from-polars", required);
                add_partitions(graph, &name, parts.len(), |i| {
                    let df = &parts[i];
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
                    (LiteralOp::new(Data::Frame(df)), vec![])
                })
            }
            Node::Map { .. } => {
                // The run of per-partition steps down to the next other node becomes one task
                // per partition; leading filters go into a file source's read.
                let (steps, base) = step_chain(self);
                let need = needs_before(steps.iter().copied(), required);
                let steps: Vec<Step> = steps.into_iter().cloned().collect();
                let (predicate, pushed) = pushed_predicate(base, &steps);
                let inputs = base.lower_source(&need, predicate, graph)?;
                let rest = steps[pushed..].to_vec();
                if rest.is_empty() {
                    return Ok(inputs);
                }
                let label = rest.last().map_or("map", |s| s.label()).to_string();
                let name = self.name(&label, required);
                add_partitions(graph, &name, inputs.len(), |i| {
                    let op = StepsOp {
                        steps: rest.clone(),
                        name: label.clone(),
                    };
                    (op, vec![inputs[i].clone()])
                })
            }
            Node::Partitions { input, range } => {
                let keys = input.lower(required, graph)?;
                keys[range.start.min(keys.len())..range.end.min(keys.len())].to_vec()
            }
            Node::Aggregate {
                input,
                keys,
                aggs,
                split_every,
                split_out,
            } => {
                let parts = input.lower(&aggregate_needs(keys, aggs), graph)?;
                let grouped = !keys.is_empty();
                let chunk: Vec<Expr> = aggs
                    .iter()
                    .enumerate()
                    .flat_map(|(i, a)| a.chunk(i, grouped))
                    .collect();
                let combine: Vec<Expr> = aggs
                    .iter()
                    .enumerate()
                    .flat_map(|(i, a)| a.combine(i, grouped))
                    .collect();
                let finish: Vec<Expr> = aggs.iter().enumerate().map(|(i, a)| a.finish(i)).collect();
                let chunk_name = self.name("aggregate-chunk", &None);
                let level = add_partitions(graph, &chunk_name, parts.len(), |i| {
                    let op = AggChunkOp {
                        keys: keys.clone(),
                        exprs: chunk.clone(),
                    };
                    (op, vec![parts[i].clone()])
                });
                let last = || AggCombineOp {
                    keys: keys.clone(),
                    exprs: combine.clone(),
                    finish: Some(finish.clone()),
                };
                if *split_out > 1 && grouped {
                    // Partial aggregates are hash-split on the keys; output j merges piece j
                    // of every partition, so each group is finished in exactly one task.
                    let split_name = self.name("aggregate-split", &None);
                    let gather_name = self.name("aggregate-gather", &None);
                    let chunk_schema = Arc::new(Schema::default());
                    let gathered = add_shuffle(
                        graph,
                        &level,
                        *split_out,
                        &split_name,
                        &gather_name,
                        &chunk_schema,
                        &None,
                        |i, radix, spill, input| {
                            let op = HashSplitOp {
                                on: keys.clone(),
                                n: *split_out,
                                radix,
                                index: i,
                                spill,
                            };
                            (op, vec![input])
                        },
                    );
                    let name = self.name("aggregate", &None);
                    return Ok(add_partitions(graph, &name, *split_out, |j| {
                        (last(), vec![gathered[j].clone()])
                    }));
                }
                let merge = || AggCombineOp {
                    keys: keys.clone(),
                    exprs: combine.clone(),
                    finish: None,
                };
                let name = self.name("aggregate", &None);
                vec![add_tree(graph, &name, level, *split_every, merge, last())]
            }
            Node::Reduce {
                input,
                steps,
                label,
                split_every,
            } => {
                let need = needs_before(steps.iter(), required);
                let parts = input.lower(&need, graph)?;
                let chunk_name = self.name(&format!("{label}-chunk"), required);
                let level = add_partitions(graph, &chunk_name, parts.len(), |i| {
                    let op = StepsOp {
                        steps: steps.clone(),
                        name: format!("{label}-chunk"),
                    };
                    (op, vec![parts[i].clone()])
                });
                let merge = || ConcatStepsOp {
                    steps: steps.clone(),
                    name: label.to_string(),
                };
                let name = self.name(label, required);
                vec![add_tree(graph, &name, level, *split_every, merge, merge())]
            }
            Node::Summary {
                input,
                columns,
                finish,
                split_every,
            } => {
                let need: BTreeSet<String> = columns.iter().cloned().collect();
                let parts = input.lower(&Some(need), graph)?;
                let chunk_name = self.name("summarize", &None);
                let level = add_partitions(graph, &chunk_name, parts.len(), |i| {
                    let op = SummarizeOp {
                        columns: columns.clone(),
                    };
                    (op, vec![parts[i].clone()])
                });
                let merge = || MergeSummaryOp {
                    columns: columns.clone(),
                    finish: SummaryFinish::Merge,
                };
                let last = MergeSummaryOp {
                    columns: columns.clone(),
                    finish: finish.clone(),
                };
                let name = self.name("summary", &None);
                vec![add_tree(graph, &name, level, *split_every, merge, last)]
            }
            Node::Write { input, target } => {
                let parts = input.lower(&None, graph)?;
                let name = self.name("write", &None);
                add_partitions(graph, &name, parts.len(), |i| {
                    let op = WriteOp {
                        target: target.clone(),
                        partition: i,
                    };
                    (op, vec![parts[i].clone()])
                })
            }
            Node::Shuffle {
                input,
                split,
                method,
            } => {
                let parts = input.lower(&None, graph)?;
                let n = self.npartitions;
                let split_name = self.name("shuffle-split", &None);
                let spill =
                    (*method == ShuffleMethod::Disk).then(|| Spill::for_shuffle(&split_name));
                let name = self.name("shuffle-gather", &None);
                let (parts, schema) = (&parts, &self.schema);
                match split {
                    Split::Hash(on) => add_shuffle(
                        graph,
                        parts,
                        n,
                        &split_name,
                        &name,
                        schema,
                        &spill,
                        |i, radix, spill, input| {
                            let op = HashSplitOp {
                                on: on.clone(),
                                n,
                                radix,
                                index: i,
                                spill,
                            };
                            (op, vec![input])
                        },
                    ),
                    Split::Range {
                        column,
                        descending,
                        nulls_last,
                        bounds,
                    } => {
                        let bounds = bounds.lower(&None, graph)?;
                        add_shuffle(
                            graph,
                            parts,
                            n,
                            &split_name,
                            &name,
                            schema,
                            &spill,
                            |i, radix, spill, input| {
                                let op = RangeSplitOp {
                                    column: column.clone(),
                                    n,
                                    radix,
                                    descending: *descending,
                                    nulls_last: *nulls_last,
                                    index: i,
                                    spill,
                                };
                                (op, vec![input, bounds[0].clone()])
                            },
                        )
                    }
                }
            }
            Node::Join {
                left,
                right,
                spec,
                layout,
            } => {
                let broadcast = *layout == JoinLayout::Broadcast;
                let l = left.lower(&None, graph)?;
                let r = right.lower(&None, graph)?;
                let name = self.name("join", &None);
                add_partitions(graph, &name, l.len(), |i| {
                    let op = JoinOp { spec: spec.clone() };
                    let mut deps = vec![l[i].clone()];
                    if broadcast {
                        deps.extend(r.iter().cloned());
                    } else {
                        deps.push(r[i].clone());
                    }
                    (op, deps)
                })
            }
            Node::Concat(inputs) => {
                let mut keys = Vec::new();
                for input in inputs {
                    keys.extend(input.lower(required, graph)?);
                }
                keys
            }
            Node::Repartition { input } => {
                let parts = input.lower(required, graph)?;
                let (n_in, n) = (parts.len(), self.npartitions);
                let name = self.name("repartition", required);
                if n <= n_in {
                    add_partitions(graph, &name, n, |j| {
                        let group = parts[n_in * j / n..n_in * (j + 1) / n].to_vec();
                        (SliceOp { piece: 0, of: 1 }, group)
                    })
                } else {
                    // Input i is cut into the outputs [n*i/n_in, n*(i+1)/n_in).
                    add_partitions(graph, &name, n, |j| {
                        let i = (0..n_in)
                            .find(|&i| j < n * (i + 1) / n_in)
                            .unwrap_or(n_in - 1);
                        let first = n * i / n_in;
                        let of = n * (i + 1) / n_in - first;
                        (
                            SliceOp {
                                piece: j - first,
                                of,
                            },
                            vec![parts[i].clone()],
                        )
                    })
                }
            }
            Node::Recut { input, outputs } => {
                let parts = input.lower(required, graph)?;
                let name = self.name("repartition", required);
                add_partitions(graph, &name, outputs.len(), |j| {
                    let cuts = outputs[j].iter().map(|&(_, p, of)| (p, of)).collect();
                    let deps = outputs[j]
                        .iter()
                        .map(|&(i, _, _)| parts[i].clone())
                        .collect();
                    (CutConcatOp { cuts }, deps)
                })
            }
            Node::SetIndex {
                input,
                index,
                layout,
            } => {
                let required = &with_column(required, &index.column);
                let parts = input.lower(required, graph)?;
                match layout {
                    IndexLayout::Groups(groups) => {
                        let name = self.name("set-index-sorted", required);
                        add_partitions(graph, &name, groups.len(), |j| {
                            let deps = groups[j].iter().map(|&i| parts[i].clone()).collect();
                            (SliceOp { piece: 0, of: 1 }, deps)
                        })
                    }
                    IndexLayout::Shuffle(method) => {
                        let divisions = Arc::new(index.divisions.clone().unwrap_or_default());
                        let n = self.npartitions;
                        let split_name = self.name("set-index-split", required);
                        let spill = (*method == ShuffleMethod::Disk)
                            .then(|| Spill::for_shuffle(&split_name));
                        let schema = projected(&self.schema, required);
                        let name = self.name("set-index-gather", required);
                        add_shuffle(
                            graph,
                            &parts,
                            n,
                            &split_name,
                            &name,
                            &schema,
                            &spill,
                            |i, radix, spill, input| {
                                let op = DivisionSplitOp {
                                    column: index.column.clone(),
                                    kind: index.kind,
                                    divisions: divisions.clone(),
                                    radix,
                                    index: i,
                                    spill,
                                };
                                (op, vec![input])
                            },
                        )
                    }
                }
            }
            Node::Align { input, index, from } => {
                let required = &with_column(required, &index.column);
                let parts = input.lower(required, graph)?;
                let to = index.divisions.clone().unwrap_or_default();
                let plan = align_plan(from, &to);
                let last = plan.len().saturating_sub(1);
                let schema = projected(&self.schema, required);
                let name = self.name("align-divisions", required);
                add_partitions(graph, &name, plan.len(), |j| {
                    let (inputs, nulls) = &plan[j];
                    let op = DivisionSliceOp {
                        column: index.column.clone(),
                        kind: index.kind,
                        lo: to[j].clone(),
                        hi: to[j + 1].clone(),
                        closed: j == last,
                        keep_nulls: nulls.clone(),
                        schema: schema.clone(),
                    };
                    (op, inputs.iter().map(|&i| parts[i].clone()).collect())
                })
            }
            Node::Divisions {
                input,
                column,
                kind,
                npartitions,
                split_every,
            } => {
                let need: BTreeSet<String> = [column.clone()].into_iter().collect();
                let parts = input.lower(&Some(need), graph)?;
                let chunk_name = self.name("index-sketch", &None);
                let level = add_partitions(graph, &chunk_name, parts.len(), |i| {
                    let op = IndexSketchOp {
                        column: column.clone(),
                        kind: *kind,
                    };
                    (op, vec![parts[i].clone()])
                });
                let merge = || MergeIndexSketchOp {
                    kind: *kind,
                    finish: None,
                };
                let last = MergeIndexSketchOp {
                    kind: *kind,
                    finish: Some(*npartitions),
                };
                let name = self.name("divisions", &None);
                vec![add_tree(graph, &name, level, *split_every, merge, last)]
            }
            Node::External { lower, .. } => lower(graph)?,
        };
        Ok(keys)
    }

    /// The plan as an indented tree, with the columns each source reads.
    pub(crate) fn explain(&self, required: &Required, depth: usize, out: &mut String) {
        self.explain_source(required, None, depth, out)
    }

    fn explain_source(
        &self,
        required: &Required,
        predicate: Option<&Expr>,
        depth: usize,
        out: &mut String,
    ) {
        let pad = "  ".repeat(depth);
        let cols = |r: &Required| match r {
            Some(c) => format!("{:?}", c.iter().collect::<Vec<_>>()),
            None => "all".to_string(),
        };
        let filter = predicate.map_or(String::new(), |p| format!(", filter while reading: {p}"));
        match &self.node {
            Node::Csv(source) => {
                let files: BTreeSet<_> = source.blocks.iter().map(|b| &b.path).collect();
                let _ = writeln!(
                    out,
                    "{pad}read_csv: {} files, {} partitions, columns {}{filter}",
                    files.len(),
                    self.npartitions,
                    cols(required)
                );
            }
            Node::Parquet(source) => {
                let files: BTreeSet<_> = source.pieces.iter().map(|p| &p.path).collect();
                let _ = writeln!(
                    out,
                    "{pad}read_parquet: {} files, {} row groups, columns {}{filter}",
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
                let (steps, base) = step_chain(self);
                let need = needs_before(steps.iter().copied(), required);
                let steps: Vec<Step> = steps.into_iter().cloned().collect();
                let (predicate, pushed) = pushed_predicate(base, &steps);
                let rest = &steps[pushed..];
                if rest.is_empty() {
                    return base.explain_source(&need, predicate.as_ref(), depth, out);
                }
                let chain: Vec<String> = rest.iter().map(|s| format!("{s:?}")).collect();
                let _ = writeln!(
                    out,
                    "{pad}per partition (one task each, {} partitions): {}",
                    self.npartitions,
                    chain.join(" -> ")
                );
                base.explain_source(&need, predicate.as_ref(), depth + 1, out);
            }
            Node::Partitions { input, range } => {
                let _ = writeln!(
                    out,
                    "{pad}partitions {range:?} of {} (the others are not computed):",
                    input.npartitions
                );
                input.explain(required, depth + 1, out);
            }
            Node::Aggregate {
                input,
                keys,
                aggs,
                split_every,
                split_out,
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
                let layout = if *split_out > 1 && !keys.is_empty() {
                    format!("partials hash-partitioned into {split_out} outputs")
                } else {
                    format!("tree reduction, split_every {split_every}")
                };
                let _ = writeln!(
                    out,
                    "{pad}aggregate by {keys:?}: {} ({layout})",
                    what.join(", ")
                );
                input.explain(&aggregate_needs(keys, aggs), depth + 1, out);
            }
            Node::Reduce {
                input,
                steps,
                label,
                split_every,
            } => {
                let chain: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
                let _ = writeln!(
                    out,
                    "{pad}{label}: {} on each partition, then on merged results (tree, split_every {split_every})",
                    chain.join(" -> ")
                );
                let need = needs_before(steps.iter(), required);
                input.explain(&need, depth + 1, out);
            }
            Node::Summary {
                input,
                columns,
                finish,
                split_every,
            } => {
                let _ = writeln!(
                    out,
                    "{pad}{finish:?} of {columns:?}: mergeable summaries (tree, split_every {split_every})"
                );
                let need: BTreeSet<String> = columns.iter().cloned().collect();
                input.explain(&Some(need), depth + 1, out);
            }
            Node::External { label, .. } => {
                let _ = writeln!(out, "{pad}{label}: {} partitions", self.npartitions);
            }
            Node::Shuffle {
                input,
                split,
                method,
            } => {
                let _ = writeln!(out, "{pad}shuffle through {method:?}:");
                match split {
                    Split::Hash(on) => {
                        let _ = writeln!(
                            out,
                            "{pad}hash shuffle on {on:?}: {} -> {} partitions",
                            input.npartitions, self.npartitions
                        );
                    }
                    Split::Range { column, bounds, .. } => {
                        let _ = writeln!(
                            out,
                            "{pad}range shuffle on {column:?}: {} -> {} partitions, boundaries from:",
                            input.npartitions, self.npartitions
                        );
                        bounds.explain(&None, depth + 2, out);
                        let _ = writeln!(out, "{pad}  of:");
                    }
                }
                input.explain(&None, depth + 1, out);
            }
            Node::Join {
                left,
                right,
                spec,
                layout,
            } => {
                let how = match layout {
                    JoinLayout::Broadcast => {
                        "broadcast join (the right side is sent whole to each left partition)"
                    }
                    JoinLayout::Hash => "partition-wise join",
                    JoinLayout::Divisions => {
                        "partition-wise join on the index divisions, sides aligned without moving rows"
                    }
                };
                let _ = writeln!(
                    out,
                    "{pad}{how}: {:?} on {:?} = {:?}",
                    spec.how, spec.left_on, spec.right_on
                );
                left.explain(&None, depth + 1, out);
                right.explain(&None, depth + 1, out);
            }
            Node::Concat(inputs) => {
                let _ = writeln!(out, "{pad}concat of {} frames:", inputs.len());
                for input in inputs {
                    input.explain(required, depth + 1, out);
                }
            }
            Node::Repartition { input } => {
                let _ = writeln!(
                    out,
                    "{pad}repartition: {} -> {} partitions",
                    input.npartitions, self.npartitions
                );
                input.explain(required, depth + 1, out);
            }
            Node::Recut { input, .. } => {
                let _ = writeln!(
                    out,
                    "{pad}repartition by size: {} -> {} partitions",
                    input.npartitions, self.npartitions
                );
                input.explain(required, depth + 1, out);
            }
            Node::SetIndex {
                input,
                index,
                layout,
            } => {
                let divisions = match &index.divisions {
                    Some(d) => format!(
                        "{} divisions [{}]",
                        d.len(),
                        d.iter()
                            .map(|v| v.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => "unknown divisions".to_string(),
                };
                match layout {
                    IndexLayout::Shuffle(method) => {
                        let _ = writeln!(
                            out,
                            "{pad}set_index {:?}: range shuffle through {method:?} on {divisions}: {} -> {} partitions",
                            index.column, input.npartitions, self.npartitions
                        );
                    }
                    IndexLayout::Groups(_) => {
                        let _ = writeln!(
                            out,
                            "{pad}set_index {:?} (partitions already in order, no rows move) on {divisions}: {} -> {} partitions",
                            index.column, input.npartitions, self.npartitions
                        );
                    }
                }
                input.explain(required, depth + 1, out);
            }
            Node::Align { input, index, .. } => {
                let _ = writeln!(
                    out,
                    "{pad}align to {} divisions of {:?} (partitions cut by value, no rows move between ranges): {} -> {} partitions",
                    index.divisions.as_ref().map_or(0, Vec::len),
                    index.column,
                    input.npartitions,
                    self.npartitions
                );
                input.explain(required, depth + 1, out);
            }
            Node::Divisions {
                input,
                column,
                npartitions,
                split_every,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "{pad}divisions of {column:?} for {npartitions} partitions: mergeable sketches (tree, split_every {split_every})"
                );
                let need: BTreeSet<String> = [column.clone()].into_iter().collect();
                input.explain(&Some(need), depth + 1, out);
            }
            Node::Write { input, target } => {
                let _ = writeln!(
                    out,
                    "{pad}write {:?}: one file per partition ({} files)",
                    target.format,
                    target.paths.len()
                );
                input.explain(&None, depth + 1, out);
            }
        }
    }
}
