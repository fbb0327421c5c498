//! JSON records: `parse_json` (errors name the file and line) and `pluck`.
//!
//! Parsing is a step of the partition's stream like `map`, so a gzipped JSON-lines file is
//! read, decompressed, parsed and reduced in one pass, one line at a time. A bag of [`Line`]s
//! (from [`ReadText::lines_with_origin`](super::ReadText::lines_with_origin)) knows where each
//! line came from, so a malformed line is reported as `path:line: invalid JSON: ...`; a bag of
//! plain strings reports the partition and the item's position instead.

use std::sync::Arc;

use dusk_core::{BoxError, ComputeError, Data, Graph, Key, Tokenizer};
use serde_json::Value;

use super::error::{preview, BagError};
use super::stream::{Elem, Emit, Stream};
use super::text::Line;
use super::Bag;

fn token(parent: &str, op: &str, arg: &str) -> String {
    Tokenizer::new("bag-json")
        .write(parent)
        .write(op)
        .write(arg)
        .finish()
}

impl Bag<Value> {
    /// The value of `field` of every item (Dask's `pluck`); an item without it (or that is not
    /// an object) fails the computation with an error naming the field and the item. To take a
    /// field of a struct, use [`Bag::map`].
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// use serde_json::json;
    /// let people = from_sequence(vec![json!({"name": "Alice"}), json!({"name": "Bob"})], 2);
    /// assert_eq!(people.pluck("name").compute().unwrap(), vec![json!("Alice"), json!("Bob")]);
    /// let err = people.pluck("age").compute().unwrap_err().to_string();
    /// assert!(err.contains("field `age` is missing"), "{err}");
    /// ```
    pub fn pluck(&self, field: &str) -> Bag<Value> {
        let name = field.to_string();
        self.pipe_token(
            "pluck",
            token(self.stream.token(), "pluck", field),
            move |part, e: Elem<'_, Value>, emit: &mut Emit<'_, Value>| match e.get().get(&name) {
                Some(v) => emit(Elem::Borrowed(v)),
                None => Err(BagError::MissingField {
                    field: name.clone(),
                    item: preview(e.get()),
                    partition: part,
                }
                .into()),
            },
        )
    }
}

impl Bag<Line> {
    /// Parses every line as JSON; a malformed line fails the computation with an error naming
    /// its file and line number.
    ///
    /// ```
    /// use dusk_collections::bag::ReadText;
    /// use dusk_scheduler::Compute;
    /// let dir = std::env::temp_dir().join(format!("dusk-doc-parse-json-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.json"), "{\"x\": 1}\n{\"x\": oops}\n").unwrap();
    /// let bag = ReadText::glob(&format!("{}/*.json", dir.display())).lines_with_origin().unwrap();
    /// let err = bag.parse_json().compute().unwrap_err().to_string();
    /// assert!(err.contains("a.json:2: invalid JSON"), "{err}");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn parse_json(&self) -> Bag<Value> {
        self.pipe_token(
            "parse-json",
            token(self.stream.token(), "parse-json", ""),
            |_, e: Elem<'_, Line>, emit: &mut Emit<'_, Value>| {
                let line = e.get();
                let value = serde_json::from_str(&line.text).map_err(|source| BagError::Json {
                    path: line.path.to_path_buf(),
                    line: line.number,
                    source,
                })?;
                emit(Elem::Owned(value))
            },
        )
    }
}

impl Bag<String> {
    /// Parses every string as JSON; a malformed one fails the computation with an error naming
    /// the partition and the item's position in it. (Read files with
    /// [`ReadText::lines_with_origin`](super::ReadText::lines_with_origin) to have errors name
    /// the file and line instead.)
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// let ok = from_sequence(vec![r#"{"a": 1}"#.to_string()], 1).parse_json();
    /// assert_eq!(ok.compute().unwrap(), vec![serde_json::json!({"a": 1})]);
    /// let bad = from_sequence(vec!["1".to_string(), "{".to_string()], 1).parse_json();
    /// let err = bad.compute().unwrap_err().to_string();
    /// assert!(err.contains("item 1 of partition 0"), "{err}");
    /// ```
    pub fn parse_json(&self) -> Bag<Value> {
        self.derive(Arc::new(ParseStrings {
            token: token(self.stream.token(), "parse-json", ""),
            parent: self.stream.clone(),
        }))
    }
}

/// Parses strings, counting items to name the malformed one.
struct ParseStrings {
    token: String,
    parent: Arc<dyn Stream<String>>,
}

impl Stream<Value> for ParseStrings {
    fn label(&self) -> &str {
        "parse-json"
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
    fn run(
        &self,
        part: usize,
        inputs: &[Data],
        emit: &mut Emit<'_, Value>,
    ) -> Result<(), BoxError> {
        let mut index = 0usize;
        self.parent.run(part, inputs, &mut |e: Elem<'_, String>| {
            let value = serde_json::from_str(e.get()).map_err(|source| BagError::JsonItem {
                partition: part,
                index,
                source,
            })?;
            index += 1;
            emit(Elem::Owned(value))
        })
    }
}
