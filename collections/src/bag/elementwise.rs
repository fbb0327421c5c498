//! Element-wise operations: `map`, `try_map`, `filter`, `flat_map`, `map_partitions`.
//!
//! None of them adds a task: each wraps the bag's stream in a [`Pipe`] whose step runs on every
//! item as it passes (see the `stream` module). Closures take items by reference, like
//! `Iterator::filter`, so a step never needs to own (or clone) its input.

use std::marker::PhantomData;
use std::sync::Arc;

use dusk_core::BoxError;

use super::stream::{fresh_token, Elem, Emit, Pipe, Stream};
use super::Bag;

impl<T: Send + Sync + 'static> Bag<T> {
    pub(crate) fn pipe<U, F>(&self, label: &str, step: F) -> Bag<U>
    where
        U: Send + Sync + 'static,
        F: for<'a, 'e> Fn(usize, Elem<'a, T>, &mut Emit<'e, U>) -> Result<(), BoxError>
            + Send
            + Sync
            + 'static,
    {
        self.pipe_token(label, fresh_token(label, self.stream.token()), step)
    }

    pub(crate) fn pipe_token<U, F>(&self, label: &str, token: String, step: F) -> Bag<U>
    where
        U: Send + Sync + 'static,
        F: for<'a, 'e> Fn(usize, Elem<'a, T>, &mut Emit<'e, U>) -> Result<(), BoxError>
            + Send
            + Sync
            + 'static,
    {
        let stream: Arc<dyn Stream<U>> = Arc::new(Pipe {
            parent: self.stream.clone(),
            label: label.to_string(),
            token,
            step: Box::new(step),
            step_spec: None,
        });
        self.derive(stream)
    }

    /// Applies `f` to every item.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let b = from_sequence(vec![1, 2, 3], 2).map(|x: &i32| x * 10);
    /// assert_eq!(b.compute().unwrap(), vec![10, 20, 30]);
    /// ```
    pub fn map<U, F>(&self, f: F) -> Bag<U>
    where
        U: Send + Sync + 'static,
        F: Fn(&T) -> U + Send + Sync + 'static,
    {
        self.pipe("map", move |_, e: Elem<'_, T>, emit: &mut Emit<'_, U>| {
            emit(Elem::Owned(f(e.get())))
        })
    }

    /// Applies a fallible `f` to every item; its first error fails the computation.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let ok = from_sequence(vec!["1", "2"], 1).try_map(|s: &&str| s.parse::<i32>());
    /// assert_eq!(ok.compute().unwrap(), vec![1, 2]);
    /// let bad = from_sequence(vec!["1", "x"], 1).try_map(|s: &&str| s.parse::<i32>());
    /// assert!(bad.compute().unwrap_err().to_string().contains("invalid digit"));
    /// ```
    pub fn try_map<U, E, F>(&self, f: F) -> Bag<U>
    where
        U: Send + Sync + 'static,
        E: Into<BoxError>,
        F: Fn(&T) -> Result<U, E> + Send + Sync + 'static,
    {
        self.pipe("map", move |_, e: Elem<'_, T>, emit: &mut Emit<'_, U>| {
            emit(Elem::Owned(f(e.get()).map_err(Into::into)?))
        })
    }

    /// Keeps the items for which `keep` is true.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// let even = range(10, 3).filter(|x: &u64| x % 2 == 0);
    /// assert_eq!(even.compute().unwrap(), vec![0, 2, 4, 6, 8]);
    /// ```
    pub fn filter<F>(&self, keep: F) -> Bag<T>
    where
        F: Fn(&T) -> bool + Send + Sync + 'static,
    {
        self.pipe(
            "filter",
            move |_, e: Elem<'_, T>, emit: &mut Emit<'_, T>| {
                if keep(e.get()) {
                    emit(e)
                } else {
                    Ok(())
                }
            },
        )
    }

    /// Replaces every item by the items of `f(item)`.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let words = from_sequence(vec!["a b", "c"], 2)
    ///     .flat_map(|s: &&str| s.split(' ').map(str::to_string).collect::<Vec<_>>());
    /// assert_eq!(words.compute().unwrap(), vec!["a", "b", "c"]);
    /// ```
    pub fn flat_map<U, I, F>(&self, f: F) -> Bag<U>
    where
        U: Send + Sync + 'static,
        I: IntoIterator<Item = U>,
        F: Fn(&T) -> I + Send + Sync + 'static,
    {
        self.pipe(
            "flat-map",
            move |_, e: Elem<'_, T>, emit: &mut Emit<'_, U>| {
                for u in f(e.get()) {
                    emit(Elem::Owned(u))?;
                }
                Ok(())
            },
        )
    }
}

impl<T: Clone + Send + Sync + 'static> Bag<T> {
    /// Applies `f` to each whole partition (its items, in order) and makes a bag of what it
    /// returns; the partition count is unchanged.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// // One item per partition: its length.
    /// let sizes = range(10, 3).map_partitions(|part: Vec<u64>| vec![part.len()]);
    /// assert_eq!(sizes.compute().unwrap(), vec![3, 3, 4]);
    /// ```
    pub fn map_partitions<U, I, F>(&self, f: F) -> Bag<U>
    where
        U: Send + Sync + 'static,
        I: IntoIterator<Item = U> + 'static,
        F: Fn(Vec<T>) -> I + Send + Sync + 'static,
    {
        let stream = Arc::new(Partitions {
            parent: self.stream.clone(),
            token: fresh_token("map-partitions", self.stream.token()),
            f,
            _out: PhantomData::<fn() -> I>,
        });
        self.derive(stream)
    }
}

struct Partitions<T, I, F> {
    parent: Arc<dyn Stream<T>>,
    token: String,
    f: F,
    _out: PhantomData<fn() -> I>,
}

impl<T, I, F> Stream<I::Item> for Partitions<T, I, F>
where
    T: Clone + Send + Sync + 'static,
    I: IntoIterator + 'static,
    I::Item: Send + Sync + 'static,
    F: Fn(Vec<T>) -> I + Send + Sync + 'static,
{
    fn label(&self) -> &str {
        "map-partitions"
    }
    fn token(&self) -> &str {
        &self.token
    }
    fn npartitions(&self) -> usize {
        self.parent.npartitions()
    }
    fn lower(
        &self,
        graph: &mut dusk_core::Graph,
    ) -> Result<Vec<Vec<dusk_core::Key>>, dusk_core::ComputeError> {
        self.parent.lower(graph)
    }
    fn run(
        &self,
        part: usize,
        inputs: &[dusk_core::Data],
        emit: &mut Emit<'_, I::Item>,
    ) -> Result<(), BoxError> {
        let mut items = Vec::new();
        self.parent.run(part, inputs, &mut |e: Elem<'_, T>| {
            items.push(e.into_owned());
            Ok(())
        })?;
        for u in (self.f)(items) {
            emit(Elem::Owned(u))?;
        }
        Ok(())
    }
}
