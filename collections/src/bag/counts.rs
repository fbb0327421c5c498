//! Ranking counted items: `topk_by_count` and the order that breaks its ties.
//!
//! `frequencies().topk(k, key)` ranks with a closure, which runs only in the process that made
//! it. Ranking `(item, count)` pairs by count is common enough (it is the seed example of
//! `dask.bag`) to be a built-in, so it also runs on a cluster. Ties between equal counts need
//! an order on the items that does not depend on partitioning or hash order, so results are
//! the same on every scheduler and every run: [`TieOrder`].

use std::cmp::Ordering;

use serde_json::Value;

use super::tree::{ops, Reduction};
use super::Bag;

/// A total order on items, used to break ties between equal counts.
///
/// Strings and numbers use their natural order (floats `f64::total_cmp`). A JSON [`Value`]
/// ranks as it prints: a string by its text (without quotes), any other value by its JSON
/// text, so `"Bob"` ranks before `"alice"` and `10` before `9`.
///
/// ```
/// use dusk_collections::bag::TieOrder;
/// use serde_json::json;
/// use std::cmp::Ordering;
/// assert_eq!(json!("Bob").tie_cmp(&json!("alice")), Ordering::Less);
/// assert_eq!(json!(10).tie_cmp(&json!(9)), Ordering::Less);
/// assert_eq!(2u64.tie_cmp(&10), Ordering::Less);
/// ```
pub trait TieOrder {
    /// Compares two items.
    fn tie_cmp(&self, other: &Self) -> Ordering;
}

macro_rules! tie_by_ord {
    ($($t:ty),*) => {$(
        impl TieOrder for $t {
            fn tie_cmp(&self, other: &Self) -> Ordering {
                self.cmp(other)
            }
        }
    )*};
}
tie_by_ord!(String, &str, char, bool, u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl TieOrder for f64 {
    fn tie_cmp(&self, other: &Self) -> Ordering {
        self.total_cmp(other)
    }
}

impl TieOrder for Value {
    fn tie_cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::String(a), b) => a.as_str().cmp(b.to_string().as_str()),
            (a, Value::String(b)) => a.to_string().as_str().cmp(b.as_str()),
            (a, b) => a.to_string().cmp(&b.to_string()),
        }
    }
}

impl<X: TieOrder + Clone + Send + Sync + 'static> Bag<(X, u64)> {
    /// The `k` pairs with the highest counts, highest first; equal counts are ordered by the
    /// item ([`TieOrder`]). A built-in, so it runs on a cluster too: the usual end of
    /// `frequencies()`.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let words = from_sequence(vec!["b", "a", "c", "a", "b", "d"], 3);
    /// let top = words.frequencies().topk_by_count(3);
    /// assert_eq!(top.compute().unwrap(), vec![("a", 2), ("b", 2), ("c", 1)]);
    /// ```
    pub fn topk_by_count(&self, k: usize) -> Bag<(X, u64)> {
        self.reduce_bag(
            "topk",
            self.reduction_token("topk-by-count", &[k as u64]),
            ops::topk_by_count::<X>(k),
            Some(Reduction::TopKByCount { k: k as u64 }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_values_rank_as_they_print() {
        let mut v = vec![json!("b"), json!(null), json!(2), json!("A"), json!(true)];
        v.sort_by(|a, b| a.tie_cmp(b));
        assert_eq!(
            v,
            vec![json!(2), json!("A"), json!("b"), json!(null), json!(true)]
        );
    }
}
