//! Combining a bag with something else: `zip` (another bag, partition by partition) and
//! `join` (an in-memory collection, by key).
//!
//! `zip` pairs items at the same position, so both bags must have the same partitions with
//! the same lengths (as Dask's `zip`); a length mismatch fails naming the partition.
//! `join` is Dask's `Bag.join` with an in-memory `other`: `other` is indexed by key once, when
//! the bag is built, and every item of the bag looks up its matches as it streams past (an
//! inner join), so the bag itself is never shuffled.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use dusk_core::{BoxError, ComputeError, Data, Graph, Key, Tokenizer};

use super::error::BagError;
use super::stream::{fresh_token, input, materialize, Custom, Elem, Emit};
use super::Bag;

impl<T: Clone + Send + Sync + 'static> Bag<T> {
    /// Pairs the items of two bags with the same partitioning, position by position.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// let a = range(4, 2);
    /// let b = a.map(|x: &u64| x * x);
    /// assert_eq!(a.zip(&b).unwrap().compute().unwrap(), vec![(0, 0), (1, 1), (2, 4), (3, 9)]);
    /// assert!(a.zip(&range(4, 3)).is_err());
    /// ```
    pub fn zip<U: Clone + Send + Sync + 'static>(
        &self,
        other: &Bag<U>,
    ) -> Result<Bag<(T, U)>, BagError> {
        let (left, right) = (self.npartitions(), other.npartitions());
        if left != right {
            return Err(BagError::PartitionMismatch {
                operation: "zip",
                left,
                right,
            });
        }
        let token = Tokenizer::new("bag-zip")
            .write(self.stream.token())
            .write(other.stream.token())
            .finish();
        let (a, b) = (self.stream.clone(), other.stream.clone());
        let deps = move |g: &mut Graph| -> Result<Vec<Vec<Key>>, ComputeError> {
            let ka = materialize(&a, g)?;
            let kb = materialize(&b, g)?;
            Ok(ka.into_iter().zip(kb).map(|(x, y)| vec![x, y]).collect())
        };
        let run =
            |part: usize, inputs: &[Data], emit: &mut Emit<'_, (T, U)>| -> Result<(), BoxError> {
                let xs = input(inputs, 0)?.downcast_ref::<Vec<T>>()?;
                let ys = input(inputs, 1)?.downcast_ref::<Vec<U>>()?;
                if xs.len() != ys.len() {
                    return Err(BagError::ZipLength {
                        partition: part,
                        left: xs.len(),
                        right: ys.len(),
                    }
                    .into());
                }
                for (x, y) in xs.iter().zip(ys) {
                    emit(Elem::Owned((x.clone(), y.clone())))?;
                }
                Ok(())
            };
        Ok(self.derive(Arc::new(Custom {
            label: "zip".to_string(),
            token,
            npartitions: left,
            deps: Box::new(deps),
            run: Box::new(run),
            spec: None,
        })))
    }

    /// Joins every item with the items of `other` that have the same key (an inner join;
    /// Dask's `Bag.join`). Pairs come in the bag's order, then in `other`'s order.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let orders = from_sequence(vec![(1, "pen"), (2, "ink"), (3, "cap")], 2);
    /// let names = vec![(1, "Ann"), (2, "Bo"), (1, "Al")];
    /// let joined = orders.join(names, |o: &(i32, &str)| o.0, |n: &(i32, &str)| n.0);
    /// let pairs: Vec<_> = joined.map(|(o, n)| (o.1, n.1)).compute().unwrap();
    /// assert_eq!(pairs, vec![("pen", "Ann"), ("pen", "Al"), ("ink", "Bo")]);
    /// ```
    pub fn join<U, K, I, FT, FU>(&self, other: I, on_self: FT, on_other: FU) -> Bag<(T, U)>
    where
        U: Clone + Send + Sync + 'static,
        K: Eq + Hash + Send + Sync + 'static,
        I: IntoIterator<Item = U>,
        FT: Fn(&T) -> K + Send + Sync + 'static,
        FU: Fn(&U) -> K,
    {
        let mut index: HashMap<K, Vec<U>> = HashMap::new();
        for u in other {
            index.entry(on_other(&u)).or_default().push(u);
        }
        self.pipe_token(
            "join",
            fresh_token("join", self.stream.token()),
            move |_, e: Elem<'_, T>, emit: &mut Emit<'_, (T, U)>| {
                if let Some(matches) = index.get(&on_self(e.get())) {
                    for u in matches {
                        emit(Elem::Owned((e.get().clone(), u.clone())))?;
                    }
                }
                Ok(())
            },
        )
    }
}
