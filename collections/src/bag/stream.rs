//! Partition streams: how a bag's per-partition steps run as one pass over the items.
//!
//! A bag is a lazy expression. Element-wise steps (`map`, `filter`, `flat_map`, `pluck`,
//! `parse_json`, ...) do not become tasks of their own: they are merged, when the bag is
//! lowered, into the one task that needs their items (the dask-expr "merge per-partition steps"
//! optimization, done on the expression rather than on the graph). Each item then travels
//! through the whole chain before the next one is read, so a partition of a gzipped JSON-lines
//! file is never held as a `Vec<String>` and then again as a `Vec<Value>`: only what the
//! consumer keeps (a table of counts, say) stays in memory. The graph still has one task per
//! partition, and reductions and shuffles are ordinary tasks between them.
//!
//! Items are pushed, not pulled: a stream calls `emit` for every item. An item is an [`Elem`],
//! either owned (just produced by a `map`) or borrowed (from a stored partition, a reused line
//! buffer, or a field inside the previous item), so passing an item along never copies it;
//! only steps that must keep items (`compute`, `groupby`, ...) clone borrowed ones.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dusk_core::{BoxError, ComputeError, Data, FnOp, Graph, Key, Tokenizer, WireError};

use super::wire::{describe_partition, sendable, BagOp, StepSpec, StreamSpec, Work};

/// One item on its way through a chain: owned, or borrowed from whoever holds it.
pub(crate) enum Elem<'a, T> {
    Owned(T),
    Borrowed(&'a T),
}

impl<T> Elem<'_, T> {
    pub(crate) fn get(&self) -> &T {
        match self {
            Elem::Owned(t) => t,
            Elem::Borrowed(t) => t,
        }
    }

    pub(crate) fn into_owned(self) -> T
    where
        T: Clone,
    {
        match self {
            Elem::Owned(t) => t,
            Elem::Borrowed(t) => t.clone(),
        }
    }
}

/// Where a stream pushes its items; an error stops the stream.
pub(crate) type Emit<'e, T> = dyn for<'a> FnMut(Elem<'a, T>) -> Result<(), BoxError> + 'e;

/// One element-wise step: receives an item and emits zero or more items.
pub(crate) type Step<S, T> =
    dyn for<'a, 'e> Fn(usize, Elem<'a, S>, &mut Emit<'e, T>) -> Result<(), BoxError> + Send + Sync;

/// The lazy, per-partition description of a bag's items.
pub(crate) trait Stream<T>: Send + Sync + 'static {
    /// The readable prefix of the bag's keys (`read-text`, `map`).
    fn label(&self) -> &str;
    /// The token naming this expression: a hash of its inputs, or fresh when closures are
    /// involved.
    fn token(&self) -> &str;
    /// The number of partitions.
    fn npartitions(&self) -> usize;
    /// Adds the tasks this stream reads to `graph`, and returns, per partition, the keys whose
    /// results [`Stream::run`] receives.
    fn lower(&self, graph: &mut Graph) -> Result<Vec<Vec<Key>>, ComputeError>;
    /// Pushes the items of partition `part` into `emit`, given the results of its keys.
    fn run(&self, part: usize, inputs: &[Data], emit: &mut Emit<'_, T>) -> Result<(), BoxError>;
    /// For a stream that parses JSON: a stream yielding `field` of each parsed item that
    /// parses only that field, named `token` (see `Bag::pluck`). `None` for other streams.
    fn pluck_json(&self, _field: &str, _token: &str) -> Option<Arc<dyn Stream<serde_json::Value>>> {
        None
    }
    /// Partition `part` of this stream as data, for a task sent to a cluster (see the `wire`
    /// module). Streams that run closures keep the default, which refuses.
    fn spec(&self, _part: usize) -> Result<StreamSpec, WireError> {
        Err(WireError::Closure)
    }
}

/// A counter that makes tokens of closure-built expressions unique within the process.
static FRESH: AtomicU64 = AtomicU64::new(0);

/// A token for an expression that involves a closure: unique, like Delayed's calls.
pub(crate) fn fresh_token(label: &str, parent: &str) -> String {
    Tokenizer::new("bag-fresh")
        .write(label)
        .write(parent)
        .write(&FRESH.fetch_add(1, Ordering::Relaxed))
        .finish()
}

/// An element-wise step applied to a parent stream.
pub(crate) struct Pipe<S, T> {
    pub(crate) parent: Arc<dyn Stream<S>>,
    pub(crate) label: String,
    pub(crate) token: String,
    pub(crate) step: Box<Step<S, T>>,
    /// The step as data, for a built-in step; `None` for a user closure.
    pub(crate) step_spec: Option<StepSpec>,
}

impl<S: 'static, T: 'static> Stream<T> for Pipe<S, T> {
    fn label(&self) -> &str {
        &self.label
    }
    fn token(&self) -> &str {
        &self.token
    }
    fn npartitions(&self) -> usize {
        self.parent.npartitions()
    }
    fn lower(&self, graph: &mut Graph) -> Result<Vec<Vec<Key>>, ComputeError> {
        self.parent.lower(graph)
    }
    fn run(&self, part: usize, inputs: &[Data], emit: &mut Emit<'_, T>) -> Result<(), BoxError> {
        let step = &self.step;
        self.parent.run(part, inputs, &mut |e: Elem<'_, S>| {
            step(part, e, &mut *emit)
        })
    }
    fn spec(&self, part: usize) -> Result<StreamSpec, WireError> {
        let step = self.step_spec.clone().ok_or(WireError::Closure)?;
        Ok(StreamSpec::Step {
            parent: Box::new(self.parent.spec(part)?),
            step,
        })
    }
}

/// Adds the task graph of stored partitions (see [`Stored`]).
pub(crate) type LowerFn = dyn Fn(&mut Graph) -> Result<(), ComputeError> + Send + Sync;

/// Partitions that are task results holding a `Vec<T>` each (after a reduction or shuffle, from
/// `Delayed` values, or persisted).
pub(crate) struct Stored<T> {
    pub(crate) label: String,
    pub(crate) token: String,
    pub(crate) keys: Vec<Key>,
    pub(crate) lower: Arc<LowerFn>,
    pub(crate) _type: std::marker::PhantomData<fn() -> T>,
}

impl<T> Stored<T> {
    /// Stored partitions as a worker sees them: the task's first input, nothing to lower.
    pub(crate) fn input() -> Stored<T> {
        Stored {
            label: "stored".to_string(),
            token: String::new(),
            keys: Vec::new(),
            lower: Arc::new(|_: &mut Graph| Ok(())),
            _type: std::marker::PhantomData,
        }
    }
}

impl<T: Send + Sync + 'static> Stream<T> for Stored<T> {
    fn label(&self) -> &str {
        &self.label
    }
    fn token(&self) -> &str {
        &self.token
    }
    fn npartitions(&self) -> usize {
        self.keys.len()
    }
    fn lower(&self, graph: &mut Graph) -> Result<Vec<Vec<Key>>, ComputeError> {
        (self.lower)(graph)?;
        Ok(self.keys.iter().map(|k| vec![k.clone()]).collect())
    }
    fn run(&self, _part: usize, inputs: &[Data], emit: &mut Emit<'_, T>) -> Result<(), BoxError> {
        let items = input(inputs, 0)?.downcast_ref::<Vec<T>>()?;
        for item in items {
            emit(Elem::Borrowed(item))?;
        }
        Ok(())
    }
    fn spec(&self, _part: usize) -> Result<StreamSpec, WireError> {
        Ok(StreamSpec::Stored)
    }
}

/// Input `i` of a task, or an error saying it is missing.
pub(crate) fn input(inputs: &[Data], i: usize) -> Result<&Data, BoxError> {
    inputs
        .get(i)
        .ok_or_else(|| format!("bag task is missing input {i}").into())
}

/// Stores a partition as task data, with a size estimate of its items (sendable to other
/// processes when its items can travel).
pub(crate) fn store_vec<T: Send + Sync + 'static>(items: Vec<T>) -> Data {
    let size = items.capacity() * std::mem::size_of::<T>();
    sendable(items, size)
}

/// The items of partition `part` of `stream`, collected into a stored partition.
pub(crate) fn collect_partition<T: Clone + Send + Sync + 'static>(
    stream: &dyn Stream<T>,
    part: usize,
    inputs: &[Data],
) -> Result<Data, BoxError> {
    let mut out = Vec::new();
    stream.run(part, inputs, &mut |e: Elem<'_, T>| {
        out.push(e.into_owned());
        Ok(())
    })?;
    Ok(store_vec(out))
}

/// Adds one task per partition running `per_part` on the partition's items and returns the
/// keys, named `name`. Tasks already in the graph are kept (equal keys, equal work).
pub(crate) fn lower_per_partition<T, A, F>(
    stream: &Arc<dyn Stream<T>>,
    graph: &mut Graph,
    name: &str,
    op_label: &str,
    per_part: F,
) -> Result<Vec<Key>, ComputeError>
where
    T: 'static,
    A: Send + Sync + 'static,
    F: Fn(&dyn Stream<T>, usize, &[Data]) -> Result<A, BoxError> + Send + Sync + 'static,
{
    let name: Arc<str> = Arc::from(name);
    let keys: Vec<Key> = (0..stream.npartitions())
        .map(|i| Key::part(name.clone(), i as u32))
        .collect();
    if keys.iter().all(|k| graph.contains(k)) {
        return Ok(keys);
    }
    let deps = stream.lower(graph)?;
    let per_part = Arc::new(per_part);
    for (i, (key, deps)) in keys.iter().zip(deps).enumerate() {
        let s = stream.clone();
        let f = per_part.clone();
        let op = FnOp::new(op_label, move |inputs: Vec<Data>| {
            let out = f(s.as_ref(), i, &inputs)?;
            Ok(Data::local_with_size(out, std::mem::size_of::<A>()))
        });
        graph.add(key.clone(), op, deps);
    }
    Ok(keys)
}

/// Adds one task per partition that collects the partition's items into a `Vec<T>`.
pub(crate) fn materialize<T: Clone + Send + Sync + 'static>(
    stream: &Arc<dyn Stream<T>>,
    graph: &mut Graph,
) -> Result<Vec<Key>, ComputeError> {
    let name = format!("{}-{}", stream.label(), stream.token());
    let name: Arc<str> = Arc::from(name);
    let keys: Vec<Key> = (0..stream.npartitions())
        .map(|i| Key::part(name.clone(), i as u32))
        .collect();
    if keys.iter().all(|k| graph.contains(k)) {
        return Ok(keys);
    }
    let deps = stream.lower(graph)?;
    for (i, (key, deps)) in keys.iter().zip(deps).enumerate() {
        if deps.len() == 1 && &deps[0] == key {
            // Stored partitions under this very key (a persisted bag): nothing to add.
            continue;
        }
        let (s, d) = (stream.clone(), stream.clone());
        let label = stream.label().to_string();
        let op = BagOp::new(
            label.clone(),
            move |inputs: Vec<Data>| collect_partition(s.as_ref(), i, &inputs),
            move || {
                describe_partition(&label, d.as_ref(), i, |stream, part| Work::Collect {
                    stream,
                    part,
                })
            },
        );
        graph.add(key.clone(), op, deps);
    }
    Ok(keys)
}

/// Adds a stream's upstream tasks and returns each partition's input keys.
pub(crate) type DepsFn = dyn Fn(&mut Graph) -> Result<Vec<Vec<Key>>, ComputeError> + Send + Sync;

/// Produces a partition's items from its inputs.
pub(crate) type RunFn<T> =
    dyn Fn(usize, &[Data], &mut Emit<'_, T>) -> Result<(), BoxError> + Send + Sync;

/// A one-partition stream given by how it emits its items from the task's inputs, whatever
/// the partition number: how a worker rebuilds the source of the one partition a task reads
/// (a file block, a range, a sequence's items, pieces of stored partitions).
pub(crate) fn leaf<T: 'static>(
    label: &str,
    run: impl Fn(&[Data], &mut Emit<'_, T>) -> Result<(), BoxError> + Send + Sync + 'static,
) -> Arc<dyn Stream<T>> {
    Arc::new(Custom {
        label: label.to_string(),
        token: String::new(),
        npartitions: 1,
        deps: Box::new(|_: &mut Graph| Ok(vec![Vec::new()])),
        run: Box::new(
            move |_part: usize, inputs: &[Data], emit: &mut Emit<'_, T>| run(inputs, emit),
        ),
        spec: None,
    })
}

/// Describes a partition of a [`Custom`] stream as data.
pub(crate) type SpecFn = dyn Fn(usize) -> Result<StreamSpec, WireError> + Send + Sync;

/// A stream given by closures: used by operations that read stored partitions (`zip`,
/// `repartition`) and by fused steps.
pub(crate) struct Custom<T> {
    pub(crate) label: String,
    pub(crate) token: String,
    pub(crate) npartitions: usize,
    pub(crate) deps: Box<DepsFn>,
    pub(crate) run: Box<RunFn<T>>,
    /// How a partition travels to a cluster; `None` for operations that run on the local
    /// schedulers only.
    pub(crate) spec: Option<Box<SpecFn>>,
}

impl<T: 'static> Stream<T> for Custom<T> {
    fn label(&self) -> &str {
        &self.label
    }
    fn token(&self) -> &str {
        &self.token
    }
    fn npartitions(&self) -> usize {
        self.npartitions
    }
    fn lower(&self, graph: &mut Graph) -> Result<Vec<Vec<Key>>, ComputeError> {
        (self.deps)(graph)
    }
    fn run(&self, part: usize, inputs: &[Data], emit: &mut Emit<'_, T>) -> Result<(), BoxError> {
        (self.run)(part, inputs, emit)
    }
    fn spec(&self, part: usize) -> Result<StreamSpec, WireError> {
        match &self.spec {
            Some(spec) => spec(part),
            None => Err(WireError::Codec(format!(
                "`{}` runs on the local schedulers only, not yet on a cluster",
                self.label
            ))),
        }
    }
}
