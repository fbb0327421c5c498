//! Keys name the tasks of a graph and the results they produce.
//!
//! A key is a name plus an optional partition index, the same shape as Dask's keys:
//! `'sum-aggregate-3f2a91…'` for a single result and `('read-csv-3f2a91…', 4)` for partition 4
//! of a collection (or `('ones-77ab…', 1, 2)` for block (1, 2) of an array).
//!
//! Names are built from a human-readable prefix and a *token*: a hash of everything that
//! determines the result (the operation, its arguments and the keys of its inputs). The same
//! expression built twice therefore gets the same keys, which is what lets two collections that
//! share a subexpression share its tasks, and any change of input gives a different key.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use xxhash_rust::xxh3::Xxh3;

/// The name of one task's result: a name plus zero or more partition indices.
///
/// ```
/// use dusk_core::Key;
/// let whole = Key::new("total-ab12");
/// let part = Key::part("read-csv-ab12", 4);
/// assert_eq!(whole.to_string(), "'total-ab12'");
/// assert_eq!(part.to_string(), "('read-csv-ab12', 4)");
/// assert_eq!(part.name(), "read-csv-ab12");
/// assert_eq!(part.index(), &[4]);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    #[serde(deserialize_with = "deserialize_name")]
    name: Arc<str>,
    index: SmallVec<[u32; 2]>,
}

/// Reads a key's name straight into its shared string: one allocation per key received, where
/// going through `Box<str>` would take two.
fn deserialize_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    struct Name;
    impl serde::de::Visitor<'_> for Name {
        type Value = Arc<str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a key name")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Arc<str>, E> {
            Ok(Arc::from(v))
        }
    }
    d.deserialize_str(Name)
}

impl Key {
    /// A key without a partition index.
    pub fn new(name: impl Into<Arc<str>>) -> Key {
        Key {
            name: name.into(),
            index: SmallVec::new(),
        }
    }

    /// The key of partition `index` of the collection called `name`.
    ///
    /// ```
    /// # use dusk_core::Key;
    /// assert_eq!(Key::part("x", 0).to_string(), "('x', 0)");
    /// ```
    pub fn part(name: impl Into<Arc<str>>, index: u32) -> Key {
        let mut idx = SmallVec::new();
        idx.push(index);
        Key {
            name: name.into(),
            index: idx,
        }
    }

    /// The key of block `index` (one entry per dimension) of the array called `name`.
    ///
    /// ```
    /// # use dusk_core::Key;
    /// assert_eq!(Key::block("x", &[1, 2]).to_string(), "('x', 1, 2)");
    /// ```
    pub fn block(name: impl Into<Arc<str>>, index: &[u32]) -> Key {
        Key {
            name: name.into(),
            index: SmallVec::from_slice(index),
        }
    }

    /// The name part of the key.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shared name, cheap to clone into sibling keys.
    pub fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The partition (or block) indices; empty for a key without an index.
    pub fn index(&self) -> &[u32] {
        &self.index
    }

    /// The human-readable prefix of the name: everything before the trailing token.
    ///
    /// ```
    /// # use dusk_core::{Key, tokenize};
    /// let key = Key::part(format!("read-csv-{}", tokenize(&"a.csv")), 0);
    /// assert_eq!(key.prefix(), "read-csv");
    /// ```
    pub fn prefix(&self) -> &str {
        match self.name.rsplit_once('-') {
            Some((head, tail))
                if !head.is_empty()
                    && tail.len() >= 8
                    && tail.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                head
            }
            _ => &self.name,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.index.is_empty() {
            write!(f, "'{}'", self.name)
        } else {
            write!(f, "('{}'", self.name)?;
            for i in &self.index {
                write!(f, ", {i}")?;
            }
            write!(f, ")")
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<&str> for Key {
    fn from(name: &str) -> Key {
        Key::new(name)
    }
}

/// Builds a deterministic token from any number of inputs.
///
/// The hash is XXH3-128, seeded with zero, so a token is the same in every process that runs the
/// same build of dusk (the client and its workers agree on keys).
///
/// ```
/// use dusk_core::Tokenizer;
/// let mut a = Tokenizer::new("read-csv");
/// a.write(&"data/2015-*.csv").write(&1024u64);
/// let mut b = Tokenizer::new("read-csv");
/// b.write(&"data/2015-*.csv").write(&1024u64);
/// assert_eq!(a.finish(), b.finish());
/// ```
#[derive(Clone)]
pub struct Tokenizer {
    hasher: Xxh3,
}

impl Tokenizer {
    /// Starts a token; `domain` separates tokens of different kinds of operation.
    pub fn new(domain: &str) -> Tokenizer {
        let mut hasher = Xxh3::new();
        domain.hash(&mut hasher);
        Tokenizer { hasher }
    }

    /// Adds a hashable input.
    pub fn write<T: Hash + ?Sized>(&mut self, value: &T) -> &mut Self {
        value.hash(&mut self.hasher);
        self
    }

    /// Adds a float by its bit pattern (floats are not `Hash`).
    pub fn write_f64(&mut self, value: f64) -> &mut Self {
        self.hasher.write_u64(value.to_bits());
        self
    }

    /// Adds raw bytes.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.hasher.write_usize(bytes.len());
        self.hasher.write(bytes);
        self
    }

    /// The token: 32 lowercase hex digits, like Dask's.
    pub fn finish(&self) -> String {
        format!("{:032x}", self.hasher.digest128())
    }

    /// A key name `prefix-token`.
    ///
    /// ```
    /// # use dusk_core::Tokenizer;
    /// let name = Tokenizer::new("sum").write(&3u32).name("sum");
    /// assert!(name.starts_with("sum-"));
    /// assert_eq!(name.len(), "sum-".len() + 32);
    /// ```
    pub fn name(&self, prefix: &str) -> String {
        use std::fmt::Write;
        let mut name = String::with_capacity(prefix.len() + 33);
        name.push_str(prefix);
        name.push('-');
        let _ = write!(name, "{:032x}", self.hasher.digest128());
        name
    }
}

/// The token of a single hashable value.
///
/// ```
/// use dusk_core::tokenize;
/// assert_eq!(tokenize(&("a", 1)), tokenize(&("a", 1)));
/// assert_ne!(tokenize(&("a", 1)), tokenize(&("a", 2)));
/// ```
pub fn tokenize<T: Hash + ?Sized>(value: &T) -> String {
    Tokenizer::new("").write(value).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_dask() {
        assert_eq!(Key::new("x").to_string(), "'x'");
        assert_eq!(Key::part("x", 3).to_string(), "('x', 3)");
        assert_eq!(Key::block("x", &[0, 7, 1]).to_string(), "('x', 0, 7, 1)");
    }

    #[test]
    fn tokens_are_deterministic_and_sensitive() {
        let t1 = Tokenizer::new("op")
            .write(&"file.csv")
            .write_f64(0.5)
            .finish();
        let t2 = Tokenizer::new("op")
            .write(&"file.csv")
            .write_f64(0.5)
            .finish();
        let t3 = Tokenizer::new("op")
            .write(&"file.csv")
            .write_f64(0.25)
            .finish();
        let t4 = Tokenizer::new("other")
            .write(&"file.csv")
            .write_f64(0.5)
            .finish();
        assert_eq!(t1, t2);
        assert_ne!(t1, t3);
        assert_ne!(t1, t4);
        assert_eq!(t1.len(), 32);
    }

    #[test]
    fn prefix_strips_token_only() {
        let name = Tokenizer::new("x").name("read-csv");
        assert_eq!(Key::new(name).prefix(), "read-csv");
        assert_eq!(Key::new("my-key").prefix(), "my-key");
        assert_eq!(Key::new("plain").prefix(), "plain");
    }

    #[test]
    fn keys_order_by_name_then_index() {
        let mut keys = vec![Key::part("b", 0), Key::part("a", 2), Key::part("a", 1)];
        keys.sort();
        assert_eq!(
            keys,
            vec![Key::part("a", 1), Key::part("a", 2), Key::part("b", 0)]
        );
    }
}
