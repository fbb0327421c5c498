//! Moving items between partitions: `groupby` (a full hash shuffle) and `repartition`.
//!
//! `groupby` sends every item to the partition chosen by the hash of its key: one *split*
//! task per input partition cuts the stream into one bucket per output partition, and one
//! *group* task per output partition gathers its bucket from every split task and groups it.
//! That is `n × n` edges and every item is copied once, which is why [`Bag::foldby`] (a tree
//! reduction of per-key accumulators) is preferred when a reduction is all that is needed.
//! The hash is SipHash with fixed keys, so the same key lands in the same partition in every
//! run and every process.
//!
//! `repartition` keeps the order of items: fewer partitions concatenate neighbours, more
//! partitions cut each partition into near-equal pieces.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use dusk_core::{BoxError, ComputeError, Data, FnOp, Graph, Key, Tokenizer, WireError};

use super::stream::{
    fresh_token, input, leaf, lower_per_partition, materialize, store_vec, Custom, Elem, Emit,
    Stored, Stream,
};
use super::wire::StreamSpec;
use super::Bag;

/// The output partition of a key.
fn bucket_of<K: Hash>(key: &K, n: usize) -> usize {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % n as u64) as usize
}

impl<T: Clone + Send + Sync + 'static> Bag<T> {
    /// Groups the items by `key` with a full shuffle (Dask's `groupby`): a bag of
    /// `(key, items)` pairs, one per distinct key, with the same number of partitions. Items
    /// of a group keep their order in the bag; groups come in no particular order.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// let mut groups = range(10, 3).groupby(|x: &u64| x % 3).compute().unwrap();
    /// groups.sort();
    /// assert_eq!(groups[1], (1, vec![1, 4, 7]));
    /// assert_eq!(groups.len(), 3);
    /// ```
    pub fn groupby<K, F>(&self, key: F) -> Bag<(K, Vec<T>)>
    where
        K: Clone + Eq + Hash + Send + Sync + 'static,
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        let n = self.npartitions().max(1);
        let token = fresh_token("groupby", self.stream.token());
        let key = Arc::new(key);
        let stream = self.stream.clone();
        let group_name: Arc<str> = Arc::from(format!("groupby-{token}"));
        let keys: Vec<Key> = (0..n)
            .map(|j| Key::part(group_name.clone(), j as u32))
            .collect();
        let out_keys = keys.clone();
        let split_token = token.clone();
        let lower = Arc::new(move |g: &mut Graph| -> Result<(), ComputeError> {
            if out_keys.iter().all(|k| g.contains(k)) {
                return Ok(());
            }
            let kf = key.clone();
            let splits = lower_per_partition(
                &stream,
                g,
                &format!("groupby-split-{split_token}"),
                "groupby-split",
                move |s, part, inputs| {
                    let mut buckets: Vec<Vec<(K, T)>> = (0..n).map(|_| Vec::new()).collect();
                    s.run(part, inputs, &mut |e: Elem<'_, T>| {
                        let k = kf(e.get());
                        buckets[bucket_of(&k, n)].push((k, e.into_owned()));
                        Ok(())
                    })?;
                    Ok(buckets)
                },
            )?;
            for (j, out) in out_keys.iter().enumerate() {
                let op = FnOp::new("groupby", move |inputs: Vec<Data>| {
                    let mut index: HashMap<K, usize> = HashMap::new();
                    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
                    for i in 0..inputs.len() {
                        let buckets = input(&inputs, i)?.downcast_ref::<Vec<Vec<(K, T)>>>()?;
                        for (k, t) in buckets.get(j).into_iter().flatten() {
                            match index.get(k) {
                                Some(&at) => groups[at].1.push(t.clone()),
                                None => {
                                    index.insert(k.clone(), groups.len());
                                    groups.push((k.clone(), vec![t.clone()]));
                                }
                            }
                        }
                    }
                    Ok(store_vec(groups))
                });
                g.add(out.clone(), op, splits.clone());
            }
            Ok(())
        });
        self.derive(Arc::new(Stored {
            label: "groupby".to_string(),
            token,
            keys,
            lower,
            _type: PhantomData,
        }))
    }

    /// The same items in order, in `npartitions` partitions (at least one): neighbours are
    /// concatenated to make fewer partitions, and partitions are cut into near-equal pieces
    /// to make more.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_scheduler::Compute;
    /// let b = range(10, 2).repartition(5);
    /// assert_eq!(b.npartitions(), 5);
    /// assert_eq!(b.compute().unwrap(), (0..10).collect::<Vec<_>>());
    /// let sizes = b.map_partitions(|p: Vec<u64>| vec![p.len()]).compute().unwrap();
    /// assert_eq!(sizes, vec![2, 3, 1, 2, 2]); // 2 and 3 pieces of the two partitions
    /// ```
    pub fn repartition(&self, npartitions: usize) -> Bag<T> {
        let new = npartitions.max(1);
        let old = self.npartitions();
        // For each output partition: (input partition, piece, pieces).
        let mut plan: Vec<Vec<(usize, usize, usize)>> = Vec::with_capacity(new);
        if new <= old {
            for j in 0..new {
                plan.push(
                    (j * old / new..(j + 1) * old / new)
                        .map(|i| (i, 0, 1))
                        .collect(),
                );
            }
        } else {
            for i in 0..old {
                let pieces = (i + 1) * new / old - i * new / old;
                for p in 0..pieces {
                    plan.push(vec![(i, p, pieces)]);
                }
            }
        }
        let token = Tokenizer::new("bag-repartition")
            .write(self.stream.token())
            .write(&new)
            .finish();
        let stream = self.stream.clone();
        let deps_plan = plan.clone();
        let deps = move |g: &mut Graph| -> Result<Vec<Vec<Key>>, ComputeError> {
            let parts = materialize(&stream, g)?;
            Ok(deps_plan
                .iter()
                .map(|sources| sources.iter().map(|&(i, _, _)| parts[i].clone()).collect())
                .collect())
        };
        // Each output partition's inputs, as (piece, pieces) of each stored input in order.
        let cuts: Arc<Vec<Vec<(usize, usize)>>> = Arc::new(
            plan.iter()
                .map(|sources| sources.iter().map(|&(_, p, n)| (p, n)).collect())
                .collect(),
        );
        let run_cuts = cuts.clone();
        let run =
            move |part: usize, inputs: &[Data], emit: &mut Emit<'_, T>| -> Result<(), BoxError> {
                let cuts = run_cuts.get(part).map(Vec::as_slice).unwrap_or(&[]);
                emit_pieces(cuts, inputs, emit)
            };
        let spec = move |part: usize| -> Result<StreamSpec, WireError> {
            let cuts = cuts.get(part).map(Vec::as_slice).unwrap_or(&[]);
            Ok(StreamSpec::Pieces(
                cuts.iter().map(|&(p, n)| (p as u64, n as u64)).collect(),
            ))
        };
        self.derive(Arc::new(Custom {
            label: "repartition".to_string(),
            token,
            npartitions: new,
            deps: Box::new(deps),
            run: Box::new(run),
            spec: Some(Box::new(spec)),
        }))
    }
}

/// Emits, for each stored input in order, its piece `piece` of `pieces` near-equal pieces.
pub(crate) fn emit_pieces<T: 'static>(
    cuts: &[(usize, usize)],
    inputs: &[Data],
    emit: &mut Emit<'_, T>,
) -> Result<(), BoxError> {
    for (d, &(piece, pieces)) in cuts.iter().enumerate() {
        let items = input(inputs, d)?.downcast_ref::<Vec<T>>()?;
        let len = items.len();
        for item in &items[piece * len / pieces..(piece + 1) * len / pieces] {
            emit(Elem::Borrowed(item))?;
        }
    }
    Ok(())
}

/// The stream of `cuts` of the task's stored inputs.
pub(crate) fn pieces<T: Send + Sync + 'static>(
    cuts: &[(u64, u64)],
) -> Result<Arc<dyn Stream<T>>, BoxError> {
    let cuts = cuts
        .iter()
        .map(|&(p, n)| {
            let p = usize::try_from(p)?;
            let n = usize::try_from(n)?;
            if n == 0 || p >= n {
                return Err(format!("piece {p} of {n} pieces").into());
            }
            Ok((p, n))
        })
        .collect::<Result<Vec<_>, BoxError>>()?;
    Ok(leaf(
        "repartition",
        move |inputs, emit: &mut Emit<'_, T>| emit_pieces(&cuts, inputs, emit),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_in_range() {
        for n in [1, 3, 7] {
            for k in 0..100u64 {
                let b = bucket_of(&k, n);
                assert!(b < n);
                assert_eq!(b, bucket_of(&k, n));
            }
        }
    }
}
