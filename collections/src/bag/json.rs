//! JSON records: `parse_json` (errors name the file and line) and `pluck`.
//!
//! Parsing is a step of the partition's stream like `map`, so a gzipped JSON-lines file is
//! read, decompressed, parsed and reduced in one pass, one line at a time. A bag of [`Line`]s
//! (from [`ReadText::lines_with_origin`](super::ReadText::lines_with_origin)) knows where each
//! line came from, so a malformed line is reported as `path:line: invalid JSON: ...`; a bag of
//! plain strings reports the partition and the item's position instead.

use std::sync::Arc;

use dusk_core::{BoxError, ComputeError, Data, Graph, Key, Tokenizer, WireError};
use serde_json::Value;

use super::error::{preview, BagError};
use super::stream::{Custom, Elem, Emit, Pipe, Stream};
use super::text::Line;
use super::wire::{StepSpec, StreamSpec};
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
    /// field of a struct, use [`Bag::map`]. Right after `parse_json`, only the field's value
    /// is built; the rest of each item is still parsed and checked, so the items and errors
    /// are the same.
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
        let token = token(self.stream.token(), "pluck", field);
        if let Some(fused) = self.stream.pluck_json(field, &token) {
            // Right after `parse_json`: parse only the field (same items, same errors).
            return self.derive(fused);
        }
        self.derive(pluck_stream(self.stream.clone(), field, token))
    }
}

/// `pluck(field)` over `parent`, named `token`.
pub(crate) fn pluck_stream(
    parent: Arc<dyn Stream<Value>>,
    field: &str,
    token: String,
) -> Arc<dyn Stream<Value>> {
    let name = field.to_string();
    Arc::new(Pipe {
        parent,
        label: "pluck".to_string(),
        token,
        step: Box::new(
            move |part, e: Elem<'_, Value>, emit: &mut Emit<'_, Value>| {
                pluck_one(part, &name, e.get(), emit)
            },
        ),
        step_spec: Some(StepSpec::Pluck {
            field: field.to_string(),
        }),
    })
}

/// Emits `field` of `value`, or fails naming the field and the item.
fn pluck_one(
    part: usize,
    field: &str,
    value: &Value,
    emit: &mut Emit<'_, Value>,
) -> Result<(), BoxError> {
    match value.get(field) {
        Some(v) => emit(Elem::Borrowed(v)),
        None => Err(BagError::MissingField {
            field: field.to_string(),
            item: preview(value),
            partition: part,
        }
        .into()),
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
        let token = token(self.stream.token(), "parse-json", "");
        self.derive(parse_lines(self.stream.clone(), token))
    }
}

/// `parse_json` over lines, named `token`.
pub(crate) fn parse_lines(parent: Arc<dyn Stream<Line>>, token: String) -> Arc<dyn Stream<Value>> {
    Arc::new(ParseLines { token, parent })
}

/// `parse_json` over strings, named `token`.
pub(crate) fn parse_strings(
    parent: Arc<dyn Stream<String>>,
    token: String,
) -> Arc<dyn Stream<Value>> {
    Arc::new(ParseStrings { token, parent })
}

/// Parses lines, naming the file and line of a malformed one.
struct ParseLines {
    token: String,
    parent: Arc<dyn Stream<Line>>,
}

fn parse_line(line: &Line) -> Result<Value, BagError> {
    serde_json::from_str(&line.text).map_err(|source| BagError::Json {
        path: line.path.to_path_buf(),
        line: line.number,
        source,
    })
}

impl Stream<Value> for ParseLines {
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
        self.parent.run(part, inputs, &mut |e: Elem<'_, Line>| {
            emit(Elem::Owned(parse_line(e.get())?))
        })
    }
    fn spec(&self, part: usize) -> Result<StreamSpec, WireError> {
        Ok(StreamSpec::ParseJson {
            parent: Box::new(self.parent.spec(part)?),
            lines: true,
        })
    }
    fn pluck_json(&self, field: &str, token: &str) -> Option<Arc<dyn Stream<Value>>> {
        let (parent, deps) = (self.parent.clone(), self.parent.clone());
        let spec = pluck_parsed_spec(self.parent.clone(), field, true);
        let field = field.to_string();
        Some(Arc::new(Custom {
            label: "pluck".to_string(),
            token: token.to_string(),
            npartitions: self.parent.npartitions(),
            deps: Box::new(move |g: &mut Graph| deps.lower(g)),
            run: Box::new(
                move |part: usize, inputs: &[Data], emit: &mut Emit<'_, Value>| {
                    parent.run(part, inputs, &mut |e: Elem<'_, Line>| {
                        let line = e.get();
                        match parse_field(&line.text, &field) {
                            Some(v) => emit(Elem::Owned(v)),
                            None => pluck_one(part, &field, &parse_line(line)?, emit),
                        }
                    })
                },
            ),
            spec: Some(spec),
        }))
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
        let token = token(self.stream.token(), "parse-json", "");
        self.derive(parse_strings(self.stream.clone(), token))
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
            let value = parse_item(e.get(), part, index)?;
            index += 1;
            emit(Elem::Owned(value))
        })
    }
    fn spec(&self, part: usize) -> Result<StreamSpec, WireError> {
        Ok(StreamSpec::ParseJson {
            parent: Box::new(self.parent.spec(part)?),
            lines: false,
        })
    }
    fn pluck_json(&self, field: &str, token: &str) -> Option<Arc<dyn Stream<Value>>> {
        let (parent, deps) = (self.parent.clone(), self.parent.clone());
        let spec = pluck_parsed_spec(self.parent.clone(), field, false);
        let field = field.to_string();
        Some(Arc::new(Custom {
            label: "pluck".to_string(),
            token: token.to_string(),
            npartitions: self.parent.npartitions(),
            deps: Box::new(move |g: &mut Graph| deps.lower(g)),
            run: Box::new(
                move |part: usize, inputs: &[Data], emit: &mut Emit<'_, Value>| {
                    let mut index = 0usize;
                    parent.run(part, inputs, &mut |e: Elem<'_, String>| {
                        let text = e.get();
                        let r = match parse_field(text, &field) {
                            Some(v) => emit(Elem::Owned(v)),
                            None => pluck_one(part, &field, &parse_item(text, part, index)?, emit),
                        };
                        index += 1;
                        r
                    })
                },
            ),
            spec: Some(spec),
        }))
    }
}

/// How the fused `parse_json` + `pluck(field)` over `parent` travels: as the parent's
/// partition and the field.
fn pluck_parsed_spec<P: 'static>(
    parent: Arc<dyn Stream<P>>,
    field: &str,
    lines: bool,
) -> Box<dyn Fn(usize) -> Result<StreamSpec, WireError> + Send + Sync> {
    let field = field.to_string();
    Box::new(move |part| {
        Ok(StreamSpec::PluckParsed {
            parent: Box::new(parent.spec(part)?),
            lines,
            field: field.clone(),
        })
    })
}

fn parse_item(text: &str, partition: usize, index: usize) -> Result<Value, BagError> {
    serde_json::from_str(text).map_err(|source| BagError::JsonItem {
        partition,
        index,
        source,
    })
}

/// The value of `field` of the JSON object `text`, or `None` when `text` is malformed, not an
/// object, or has no such field (the caller then parses the whole item to report it). The
/// other fields go through the same parser as a full parse into [`Value`] (strings decoded,
/// numbers converted, nesting counted against the recursion limit), only nothing is built
/// from them, so an item is accepted exactly when the full parse accepts it, and the field's
/// value is the one that parse would give. Duplicate keys keep the last value, as in a
/// [`Value`] object.
fn parse_field(text: &str, field: &str) -> Option<Value> {
    use serde::Deserializer as _;
    let mut de = serde_json::Deserializer::from_str(text);
    let found = de.deserialize_map(FieldOf(field)).ok()?;
    de.end().ok()?;
    found
}

/// Visits an object, keeping the value of one field.
struct FieldOf<'f>(&'f str);

impl<'de> serde::de::Visitor<'de> for FieldOf<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(is_field) = map.next_key_seed(KeyIs(self.0))? {
            if is_field {
                found = Some(map.next_value::<Value>()?);
            } else {
                map.next_value::<Skip>()?;
            }
        }
        Ok(found)
    }
}

/// A JSON value parsed like a [`Value`] (through `deserialize_any`, unlike
/// [`IgnoredAny`](serde::de::IgnoredAny), which a JSON deserializer may skip more leniently)
/// and dropped as it is read.
struct Skip;

impl<'de> serde::Deserialize<'de> for Skip {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
        d.deserialize_any(Skip)
    }
}

impl<'de> serde::de::Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Skip, D::Error> {
        d.deserialize_any(Skip)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_key::<Skip>()?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(Skip)
    }
}

/// Reads an object key, saying whether it is the wanted one (without allocating).
struct KeyIs<'f>(&'f str);

impl<'de> serde::de::DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full parse followed by the field lookup: what `parse_field` must agree with.
    fn oracle(text: &str, field: &str) -> Option<Value> {
        serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get(field).cloned())
    }

    #[test]
    fn parse_field_agrees_with_a_full_parse() {
        let deep = format!(
            "{{\"name\": 1, \"x\": {}{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        let shallow = format!(
            "{{\"x\": {}{}, \"name\": 1}}",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(serde_json::from_str::<Value>(&shallow).is_ok());
        let cases = [
            r#"{"name": "Alice", "age": 3}"#,
            r#"  {"age": [1, {"name": 2}], "name": {"first": "B", "n": [1.5, -2, null]}}  "#,
            r#"{"name": 1, "name": 2}"#,
            r#"{"na\u006de": "escaped key"}"#,
            r#"{"name": "x", "other": "\ud800"}"#,
            r#"{"name": "x", "big": 1e400}"#,
            r#"{"name": 12345678901234567890123, "f": 0.1}"#,
            r#"{"name": "x"} trailing"#,
            r#"{"name": "x",}"#,
            r#"{"name": "tab\tand \"quotes\""}"#,
            r#"{"age": 3}"#,
            r#"["name"]"#,
            r#""name""#,
            "5",
            "",
            "{",
            deep.as_str(),
            shallow.as_str(),
            r#"{"x": {"\ud800": 1}, "name": 2}"#,
            r#"{"x": {"": null, "y": [true, false, -0.0, 1E-7, -2e3]}, "name": [{}]}"#,
            r#"{"name": "x", "o": [1, 2,]}"#,
            r#"{"name": "x", "o": "\u00e9\n"}"#,
        ];
        for text in cases {
            assert_eq!(parse_field(text, "name"), oracle(text, "name"), "{text}");
        }
        // What a full parse rejects is rejected.
        for text in [
            r#"{"name": "x", "o": "\ud800"}"#,
            r#"{"name": "x", "o": 1e400}"#,
            &deep,
        ] {
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
        }
        assert_eq!(
            parse_field(r#"{"id": 7, "name": "Bob", "tags": ["a", "b"]}"#, "name"),
            Some(Value::from("Bob"))
        );
    }
}
