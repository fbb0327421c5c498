//! `Delayed`: lazy calls of ordinary Rust functions, for custom graphs.
//!
//! Dask's `delayed` wraps a function so that calling it records a task instead of running it.
//! Rust cannot intercept calls, so a `Delayed<T>` is built by *mapping* functions over other
//! delayed values: [`Delayed::map`] for one input, [`Delayed::zip_with`] and [`apply3`] for
//! more, and [`apply_list`] for a list of them (the `summarize(results)` of Dask's
//! documentation). Nothing runs until `compute()`.
//!
//! A `Delayed` is a cheap handle to a node of an immutable DAG; building a chain of 10,000 calls
//! is linear in its length (no graph is copied per call). The graph is materialized only when
//! computed, and shared inputs appear once.
//!
//! Keys: each call gets a fresh key (`load-<token>`), like Dask's default `pure=False`: a Rust
//! closure can capture anything, so two calls of the same closure type are not assumed to be
//! the same computation. Functions are closures and run on the local schedulers; for a cluster,
//! register functions by name.
//!
//! ```
//! use dusk_collections::delayed::{delayed, apply_list};
//! use dusk_scheduler::Compute;
//!
//! fn inc(x: &i64) -> i64 { x + 1 }
//! fn add(x: &i64, y: &i64) -> i64 { x + y }
//!
//! let x = delayed(1i64).map(inc);
//! let y = delayed(2i64).map(inc);
//! let z = x.zip_with(&y, add);
//! assert_eq!(z.compute().unwrap(), 5);
//!
//! let total = apply_list(&[x, y, z], |xs: &[&i64]| xs.iter().copied().sum::<i64>());
//! assert_eq!(total.compute().unwrap(), 10);
//! ```

use std::any::type_name;
use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dusk_core::{
    BoxError, Collection, ComputeError, Data, FnOp, Graph, Key, LiteralOp, Op, Persist, Task,
    Tokenizer,
};

struct Node {
    key: Key,
    op: Arc<dyn Op>,
    deps: Vec<Arc<Node>>,
}

impl Drop for Node {
    // Dropping a long chain recursively would overflow the stack: unlink it iteratively.
    fn drop(&mut self) {
        let mut stack = std::mem::take(&mut self.deps);
        while let Some(n) = stack.pop() {
            if let Ok(mut inner) = Arc::try_unwrap(n) {
                stack.append(&mut inner.deps);
            }
        }
    }
}

/// A lazily computed value of type `T`.
pub struct Delayed<T> {
    node: Arc<Node>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Self {
        Delayed {
            node: self.node.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Delayed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Delayed<{}>({})", type_name::<T>(), self.node.key)
    }
}

/// A counter that makes every call's key unique within the process.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// The readable part of a key: the function's name (`load` for `fn load`), or the enclosing
/// function's name for a closure.
fn label_of<F>() -> String {
    // Drop generic arguments first: they contain `::` of their own.
    let mut path = String::new();
    let mut depth = 0usize;
    for c in type_name::<F>().chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => path.push(c),
            _ => {}
        }
    }
    let last = path
        .split("::")
        .filter(|p| !p.starts_with("{{") && !p.is_empty())
        .last()
        .unwrap_or("call");
    let label: String = last
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    if label.is_empty() {
        "call".to_string()
    } else {
        label
    }
}

fn fresh_key(label: &str, deps: &[Arc<Node>]) -> Key {
    let mut t = Tokenizer::new("delayed");
    t.write(label).write(&CALLS.fetch_add(1, Ordering::Relaxed));
    for d in deps {
        t.write(&d.key);
    }
    Key::new(t.name(label))
}

fn node<T>(label: &str, op: Arc<dyn Op>, deps: Vec<Arc<Node>>) -> Delayed<T> {
    let key = fresh_key(label, &deps);
    Delayed {
        node: Arc::new(Node { key, op, deps }),
        _type: PhantomData,
    }
}

fn arg<T: 'static>(inputs: &[Data], i: usize) -> Result<&T, BoxError> {
    let data = inputs
        .get(i)
        .ok_or_else(|| format!("delayed call is missing input {i}"))?;
    Ok(data.downcast_ref::<T>()?)
}

fn store<R: Send + Sync + 'static>(value: R) -> Data {
    Data::local_with_size(value, std::mem::size_of::<R>())
}

/// A delayed value that is already known (Dask's `delayed(value)`).
///
/// ```
/// use dusk_collections::delayed::delayed;
/// use dusk_scheduler::Compute;
/// assert_eq!(delayed(vec![1, 2]).compute().unwrap(), vec![1, 2]);
/// ```
pub fn delayed<T: Send + Sync + 'static>(value: T) -> Delayed<T> {
    node(
        "literal",
        Arc::new(LiteralOp::new(store(value))),
        Vec::new(),
    )
}

/// A delayed call of a function without inputs (Dask's `delayed(f)()`).
///
/// ```
/// use dusk_collections::delayed::lazy;
/// use dusk_scheduler::Compute;
/// let answer = lazy(|| 6 * 7);
/// assert_eq!(answer.compute().unwrap(), 42);
/// ```
pub fn lazy<R, F>(f: F) -> Delayed<R>
where
    R: Send + Sync + 'static,
    F: Fn() -> R + Send + Sync + 'static,
{
    let label = label_of::<F>();
    let op = FnOp::new(label.clone(), move |_| Ok(store(f())));
    node(&label, Arc::new(op), Vec::new())
}

/// Like [`lazy`], for a function that can fail; its error fails the computation, naming the key.
///
/// ```
/// use dusk_collections::delayed::try_lazy;
/// use dusk_scheduler::Compute;
/// let bad = try_lazy(|| "x1".parse::<i32>());
/// let err = bad.compute().unwrap_err().to_string();
/// assert!(err.contains("invalid digit"), "{err}");
/// ```
pub fn try_lazy<R, E, F>(f: F) -> Delayed<R>
where
    R: Send + Sync + 'static,
    E: Into<BoxError>,
    F: Fn() -> Result<R, E> + Send + Sync + 'static,
{
    let label = label_of::<F>();
    let op = FnOp::new(label.clone(), move |_| f().map(store).map_err(Into::into));
    node(&label, Arc::new(op), Vec::new())
}

impl<T: Send + Sync + 'static> Delayed<T> {
    /// The key of this value's task.
    pub fn key(&self) -> &Key {
        &self.node.key
    }

    /// A delayed call of `f` on this value.
    ///
    /// ```
    /// use dusk_collections::delayed::delayed;
    /// use dusk_scheduler::Compute;
    /// let words = delayed("a b c".to_string()).map(|s: &String| s.split(' ').count());
    /// assert_eq!(words.compute().unwrap(), 3);
    /// ```
    pub fn map<R, F>(&self, f: F) -> Delayed<R>
    where
        R: Send + Sync + 'static,
        F: Fn(&T) -> R + Send + Sync + 'static,
    {
        let label = label_of::<F>();
        let op = FnOp::new(label.clone(), move |inputs| {
            Ok(store(f(arg::<T>(&inputs, 0)?)))
        });
        node(&label, Arc::new(op), vec![self.node.clone()])
    }

    /// A delayed call of a fallible `f` on this value.
    ///
    /// ```
    /// use dusk_collections::delayed::delayed;
    /// use dusk_scheduler::Compute;
    /// let n = delayed("12".to_string()).try_map(|s: &String| s.parse::<u32>());
    /// assert_eq!(n.compute().unwrap(), 12);
    /// ```
    pub fn try_map<R, E, F>(&self, f: F) -> Delayed<R>
    where
        R: Send + Sync + 'static,
        E: Into<BoxError>,
        F: Fn(&T) -> Result<R, E> + Send + Sync + 'static,
    {
        let label = label_of::<F>();
        let op = FnOp::new(label.clone(), move |inputs| {
            f(arg::<T>(&inputs, 0)?).map(store).map_err(Into::into)
        });
        node(&label, Arc::new(op), vec![self.node.clone()])
    }

    /// A delayed call of `f` on this value and another one.
    ///
    /// ```
    /// use dusk_collections::delayed::delayed;
    /// use dusk_scheduler::Compute;
    /// let s = delayed(2).zip_with(&delayed(3), |a: &i32, b: &i32| a * b);
    /// assert_eq!(s.compute().unwrap(), 6);
    /// ```
    pub fn zip_with<U, R, F>(&self, other: &Delayed<U>, f: F) -> Delayed<R>
    where
        U: Send + Sync + 'static,
        R: Send + Sync + 'static,
        F: Fn(&T, &U) -> R + Send + Sync + 'static,
    {
        let label = label_of::<F>();
        let op = FnOp::new(label.clone(), move |inputs| {
            Ok(store(f(arg::<T>(&inputs, 0)?, arg::<U>(&inputs, 1)?)))
        });
        node(
            &label,
            Arc::new(op),
            vec![self.node.clone(), other.node.clone()],
        )
    }

    /// The task graph of this value, as built (not optimized).
    pub fn graph(&self) -> Graph {
        let mut g = Graph::new();
        lower_node(&self.node, &mut g);
        g
    }
}

/// A delayed call of `f` on three values.
///
/// ```
/// use dusk_collections::delayed::{apply3, delayed};
/// use dusk_scheduler::Compute;
/// let v = apply3(&delayed(1), &delayed(2), &delayed(3), |a: &i32, b: &i32, c: &i32| a + b * c);
/// assert_eq!(v.compute().unwrap(), 7);
/// ```
pub fn apply3<A, B, C, R, F>(a: &Delayed<A>, b: &Delayed<B>, c: &Delayed<C>, f: F) -> Delayed<R>
where
    A: Send + Sync + 'static,
    B: Send + Sync + 'static,
    C: Send + Sync + 'static,
    R: Send + Sync + 'static,
    F: Fn(&A, &B, &C) -> R + Send + Sync + 'static,
{
    let label = label_of::<F>();
    let op = FnOp::new(label.clone(), move |inputs| {
        Ok(store(f(
            arg::<A>(&inputs, 0)?,
            arg::<B>(&inputs, 1)?,
            arg::<C>(&inputs, 2)?,
        )))
    });
    node(
        &label,
        Arc::new(op),
        vec![a.node.clone(), b.node.clone(), c.node.clone()],
    )
}

/// A delayed call of `f` on a list of delayed values (Dask's `summarize(results)`).
///
/// ```
/// use dusk_collections::delayed::{apply_list, delayed};
/// use dusk_scheduler::Compute;
/// let parts: Vec<_> = (1..=4).map(|i| delayed(i).map(|x: &u64| x * x)).collect();
/// let total = apply_list(&parts, |xs: &[&u64]| xs.iter().copied().sum::<u64>());
/// assert_eq!(total.compute().unwrap(), 30);
/// ```
pub fn apply_list<T, R, F>(items: &[Delayed<T>], f: F) -> Delayed<R>
where
    T: Send + Sync + 'static,
    R: Send + Sync + 'static,
    F: Fn(&[&T]) -> R + Send + Sync + 'static,
{
    let label = label_of::<F>();
    let op = FnOp::new(label.clone(), move |inputs| {
        let refs: Vec<&T> = (0..inputs.len())
            .map(|i| arg::<T>(&inputs, i))
            .collect::<Result<_, _>>()?;
        Ok(store(f(&refs)))
    });
    node(
        &label,
        Arc::new(op),
        items.iter().map(|d| d.node.clone()).collect(),
    )
}

/// Adds the tasks of `root` and everything it depends on to `graph`, iteratively (a chain of
/// delayed calls can be longer than the stack is deep) and skipping keys already present.
fn lower_node(root: &Arc<Node>, graph: &mut Graph) {
    let mut stack = vec![root.clone()];
    let mut seen: HashSet<Key> = HashSet::new();
    while let Some(n) = stack.pop() {
        if graph.contains(&n.key) || !seen.insert(n.key.clone()) {
            continue;
        }
        graph.insert(
            n.key.clone(),
            Task::from_arc(n.op.clone(), n.deps.iter().map(|d| d.key.clone()).collect()),
        );
        stack.extend(n.deps.iter().cloned());
    }
}

impl<T: Clone + Send + Sync + 'static> Collection for Delayed<T> {
    type Output = T;

    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        lower_node(&self.node, graph);
        Ok(vec![self.node.key.clone()])
    }

    fn num_outputs(&self) -> usize {
        1
    }

    fn finalize(&self, results: Vec<Data>) -> Result<T, ComputeError> {
        let data = results
            .into_iter()
            .next()
            .ok_or_else(|| ComputeError::Scheduler("no result for a delayed value".into()))?;
        let arc = data
            .downcast_arc::<T>()
            .map_err(|source| ComputeError::Result {
                key: self.node.key.clone(),
                source,
            })?;
        Ok(Arc::try_unwrap(arc).unwrap_or_else(|shared| (*shared).clone()))
    }
}

impl<T: Clone + Send + Sync + 'static> Persist for Delayed<T> {
    /// The same value with the same key, its task now a literal holding the computed result.
    ///
    /// ```
    /// use dusk_collections::delayed::lazy;
    /// use dusk_scheduler::Compute;
    /// let slow = lazy(|| (1..=100u64).sum::<u64>());
    /// let kept = slow.persist().unwrap();
    /// assert_eq!(kept.key(), slow.key());
    /// assert_eq!(kept.graph().len(), 1);
    /// assert_eq!(kept.map(|s: &u64| s * 2).compute().unwrap(), 10100);
    /// ```
    fn with_results(&self, results: Vec<Data>) -> Self {
        let op: Arc<dyn Op> = match results.into_iter().next() {
            Some(data) => Arc::new(LiteralOp::new(data)),
            None => self.node.op.clone(),
        };
        Delayed {
            node: Arc::new(Node {
                key: self.node.key.clone(),
                op,
                deps: Vec::new(),
            }),
            _type: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dusk_scheduler::{Compute, ComputeOptions, Scheduler};
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn labels_come_from_function_names() {
        fn load(_: &u8) -> u8 {
            0
        }
        let d = delayed(1u8).map(load);
        assert!(d.key().name().starts_with("load-"), "{}", d.key());
        let c = delayed(1u8).map(|x: &u8| *x);
        assert!(!c.key().name().contains('{'), "{}", c.key());
    }

    #[test]
    fn two_calls_get_two_keys() {
        let a = delayed(1).map(|x: &i32| x + 1);
        let b = delayed(1).map(|x: &i32| x + 1);
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn shared_inputs_run_once() {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let base = lazy(|| {
            RUNS.fetch_add(1, Ordering::SeqCst);
            10
        });
        let a = base.map(|x: &i32| x + 1);
        let b = base.map(|x: &i32| x * 2);
        for s in [Scheduler::Sync, Scheduler::Threads(Some(2))] {
            RUNS.store(0, Ordering::SeqCst);
            let opts = ComputeOptions::default().scheduler(s);
            let (x, y) = (&a, &b).compute_with(&opts).unwrap();
            assert_eq!((x, y), (11, 20));
            assert_eq!(RUNS.load(Ordering::SeqCst), 1);
        }
    }

    #[test]
    fn long_chains_build_and_run() {
        let mut d = delayed(0u64);
        for _ in 0..20_000 {
            d = d.map(|x: &u64| x + 1);
        }
        assert_eq!(d.compute().unwrap(), 20_000);
    }

    #[test]
    fn vectors_of_values_compute_in_one_pass() {
        let parts: Vec<Delayed<usize>> = (0..10).map(|i| lazy(move || i * i)).collect();
        assert_eq!(
            parts.compute().unwrap(),
            (0..10).map(|i| i * i).collect::<Vec<_>>()
        );
    }

    #[test]
    fn errors_and_panics_name_the_call() {
        fn explode(_: &i32) -> i32 {
            panic!("exploded")
        }
        let d = delayed(1).map(explode);
        let err = d.compute().unwrap_err();
        assert_eq!(err.key(), Some(d.key()));
        assert!(err.to_string().contains("exploded"));
    }
}
