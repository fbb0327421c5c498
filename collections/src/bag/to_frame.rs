//! `Bag::to_dataframe`: items to a table, through serde.
//!
//! A bag usually ends as a table: parsed log records become rows. Each item is serialized with
//! serde (so any `Serialize` struct, map, tuple or scalar works) and its fields become columns:
//! a struct or map by field name, a tuple or sequence by position, a scalar as one column named
//! `value`. Each partition is converted by its own task, streaming its items straight into
//! column builders, so the items are never held twice.
//!
//! The schema is known when the frame is built, as everywhere in the DataFrame collection:
//! either given, or — as Dask does without `meta` — inferred by computing the first partition
//! (integers give `Int64`, any other number `Float64`, then `Boolean` and `String`; a column
//! with mixed kinds is an error asking for a schema).

use std::sync::Arc;

use dusk_core::{BoxError, ComputeError, Data, Graph, Key};
use polars::prelude::{Column, DataType, Field, Schema, SchemaRef};
use serde::Serialize;
use serde_json::Value;

use super::error::BagError;
use super::stream::{fresh_token, Elem, Stream};
use super::wire::{describe_partition, BagOp, Work};
use super::Bag;
use crate::dataframe::DataFrame;

/// Where a row's values come from.
#[derive(Clone, Copy)]
enum Shape {
    /// Fields of a struct or map, by name.
    Named,
    /// Elements of a tuple or sequence, by position.
    Positional,
    /// The item itself.
    Scalar,
}

fn shape_of(value: &Value) -> Shape {
    match value {
        Value::Object(_) => Shape::Named,
        Value::Array(_) => Shape::Positional,
        _ => Shape::Scalar,
    }
}

/// The value of column `i` (named `name`) in `row`.
fn field<'v>(row: &'v Value, i: usize, name: &str) -> Option<&'v Value> {
    match row {
        Value::Object(map) => map.get(name),
        Value::Array(items) => items.get(i),
        scalar if i == 0 => Some(scalar),
        _ => None,
    }
}

/// Builds one column of a fixed type from JSON values.
enum Builder {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<String>>),
}

impl Builder {
    fn new(dtype: &DataType, column: &str) -> Result<Builder, BagError> {
        Ok(match dtype {
            DataType::Int64 => Builder::Int(Vec::new()),
            DataType::Float64 => Builder::Float(Vec::new()),
            DataType::Boolean => Builder::Bool(Vec::new()),
            DataType::String => Builder::Str(Vec::new()),
            other => {
                return Err(BagError::InvalidArgument(format!(
                    "to_dataframe: column `{column}` has type {other}; items convert to \
                     Int64, Float64, Boolean or String columns"
                )))
            }
        })
    }

    /// Appends a value; `Err` carries the kind of value that does not fit.
    fn push(&mut self, value: Option<&Value>) -> Result<(), &'static str> {
        let value = value.filter(|v| !v.is_null());
        match (self, value) {
            (Builder::Int(v), None) => v.push(None),
            (Builder::Float(v), None) => v.push(None),
            (Builder::Bool(v), None) => v.push(None),
            (Builder::Str(v), None) => v.push(None),
            (Builder::Int(v), Some(x)) => v.push(Some(x.as_i64().ok_or(kind(x))?)),
            (Builder::Float(v), Some(x)) => v.push(Some(x.as_f64().ok_or(kind(x))?)),
            (Builder::Bool(v), Some(x)) => v.push(Some(x.as_bool().ok_or(kind(x))?)),
            (Builder::Str(v), Some(x)) => v.push(Some(x.as_str().ok_or(kind(x))?.to_string())),
        }
        Ok(())
    }

    fn finish(self, name: &str) -> Column {
        match self {
            Builder::Int(v) => Column::new(name.into(), v),
            Builder::Float(v) => Column::new(name.into(), v),
            Builder::Bool(v) => Column::new(name.into(), v),
            Builder::Str(v) => Column::new(name.into(), v),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Converts a stream of items into a frame of `schema`.
struct Converter {
    schema: SchemaRef,
    builders: Vec<Builder>,
    partition: usize,
    rows: usize,
}

impl Converter {
    fn new(schema: SchemaRef, partition: usize) -> Result<Converter, BagError> {
        let builders = schema
            .iter()
            .map(|(name, dtype)| Builder::new(dtype, name))
            .collect::<Result<_, _>>()?;
        Ok(Converter {
            schema,
            builders,
            partition,
            rows: 0,
        })
    }

    fn push(&mut self, row: &Value) -> Result<(), BagError> {
        for (i, ((name, dtype), builder)) in
            self.schema.iter().zip(self.builders.iter_mut()).enumerate()
        {
            builder.push(field(row, i, name)).map_err(|found| {
                BagError::InvalidArgument(format!(
                    "to_dataframe: item {} of partition {} has {found} in column `{name}`, \
                     which is {dtype}",
                    self.rows, self.partition
                ))
            })?;
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(self) -> Result<polars::prelude::DataFrame, BagError> {
        let columns: Vec<Column> = self
            .schema
            .iter_names()
            .zip(self.builders)
            .map(|(name, b)| b.finish(name))
            .collect();
        polars::prelude::DataFrame::new(self.rows, columns)
            .map_err(|e| BagError::InvalidArgument(format!("to_dataframe: {e}")))
    }
}

/// The schema of a partition's rows, inferred as the module docs say; `first_fields` is the
/// first item's field order (JSON objects here are sorted by key; structs are not).
fn infer_schema(rows: &[Value], first_fields: Vec<String>) -> Result<Schema, BagError> {
    let first = rows.first().ok_or_else(|| {
        BagError::InvalidArgument(
            "to_dataframe: the first partition is empty, so no schema can be inferred; pass one"
                .into(),
        )
    })?;
    let names: Vec<String> = match (shape_of(first), first) {
        (Shape::Named, Value::Object(map)) => {
            // Fields in order of first appearance over the partition.
            let mut names: Vec<String> = first_fields;
            names.extend(
                map.keys()
                    .filter(|k| !names.contains(*k))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            for row in rows {
                if let Value::Object(m) = row {
                    for k in m.keys() {
                        if !names.contains(k) {
                            names.push(k.clone());
                        }
                    }
                }
            }
            names
        }
        (Shape::Positional, Value::Array(items)) => {
            (0..items.len()).map(|i| i.to_string()).collect()
        }
        _ => vec!["value".to_string()],
    };
    let mut fields = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let mut dtype: Option<DataType> = None;
        for row in rows {
            let Some(v) = field(row, i, name).filter(|v| !v.is_null()) else {
                continue;
            };
            let here = match v {
                Value::Number(n) if n.is_i64() => DataType::Int64,
                Value::Number(_) => DataType::Float64,
                Value::Bool(_) => DataType::Boolean,
                Value::String(_) => DataType::String,
                other => {
                    return Err(BagError::InvalidArgument(format!(
                        "to_dataframe: column `{name}` holds {}; nested values are not \
                         supported, flatten them with map first",
                        kind(other)
                    )))
                }
            };
            dtype = Some(match (dtype, here) {
                (None, h) => h,
                (Some(a), b) if a == b => a,
                (Some(DataType::Int64), DataType::Float64)
                | (Some(DataType::Float64), DataType::Int64) => DataType::Float64,
                (Some(a), b) => {
                    return Err(BagError::InvalidArgument(format!(
                        "to_dataframe: column `{name}` mixes {a} and {b} values; pass a schema"
                    )))
                }
            });
        }
        fields.push(Field::new(
            name.as_str().into(),
            dtype.unwrap_or(DataType::String),
        ));
    }
    Ok(Schema::from_iter(fields))
}

fn to_value<T: Serialize>(item: &T, partition: usize, index: usize) -> Result<Value, BagError> {
    serde_json::to_value(item).map_err(|source| BagError::JsonItem {
        partition,
        index,
        source,
    })
}

/// The rows of one partition as JSON values, and the first item's field names in the order
/// it serializes them (for inference only).
fn partition_rows<T: Serialize + 'static>(
    stream: &dyn Stream<T>,
    inputs: &[Data],
    partition: usize,
) -> Result<(Vec<Value>, Vec<String>), BoxError> {
    let mut rows = Vec::new();
    let mut fields = Vec::new();
    stream.run(partition, inputs, &mut |e: Elem<'_, T>| {
        if rows.is_empty() {
            let text = serde_json::to_string(e.get())?;
            if let Ok(map) = serde_json::from_str::<indexmap::IndexMap<String, Value>>(&text) {
                fields = map.into_keys().collect();
            }
        }
        rows.push(to_value(e.get(), partition, rows.len())?);
        Ok(())
    })?;
    Ok((rows, fields))
}

/// Partition `part` of `stream` as a DataFrame of `schema`.
pub(crate) fn partition_frame<T: Serialize + 'static>(
    stream: &dyn Stream<T>,
    part: usize,
    inputs: &[Data],
    schema: &SchemaRef,
) -> Result<Data, BoxError> {
    let mut conv = Converter::new(schema.clone(), part)?;
    stream.run(part, inputs, &mut |e: Elem<'_, T>| {
        let row = to_value(e.get(), part, conv.rows)?;
        conv.push(&row)?;
        Ok(())
    })?;
    Ok(Data::Frame(conv.finish()?))
}

impl<T: Serialize + Send + Sync + 'static> Bag<T> {
    /// A DataFrame of this bag's items: fields become columns (see the module docs). With
    /// `schema` `None`, the first partition is computed now to infer it, as Dask does without
    /// `meta`.
    ///
    /// ```
    /// use dusk_collections::bag::from_sequence;
    /// use dusk_scheduler::Compute;
    /// #[derive(serde::Serialize)]
    /// struct Visit { user: String, seconds: f64 }
    /// let visits = from_sequence(vec![
    ///     Visit { user: "ann".into(), seconds: 3.5 },
    ///     Visit { user: "bob".into(), seconds: 1.0 },
    /// ], 2);
    /// let df = visits.to_dataframe(None).unwrap();
    /// assert_eq!(df.columns(), ["user", "seconds"]);
    /// assert_eq!(df.compute().unwrap().height(), 2);
    /// ```
    pub fn to_dataframe(&self, schema: Option<Schema>) -> Result<DataFrame, BagError> {
        let stream = self.stream.clone();
        let schema: SchemaRef = Arc::new(match schema {
            Some(s) => s,
            None => {
                let mut graph = Graph::new();
                let deps = stream
                    .lower(&mut graph)
                    .map_err(|e| BagError::InvalidArgument(format!("to_dataframe: {e}")))?;
                let first_deps = deps.into_iter().next().unwrap_or_default();
                let inputs = crate::probe::run_locally(&graph, &first_deps)
                    .map_err(|e| BagError::InvalidArgument(format!("to_dataframe: {e}")))?;
                let (rows, fields) = partition_rows(stream.as_ref(), &inputs, 0)
                    .map_err(|e| BagError::InvalidArgument(format!("to_dataframe: {e}")))?;
                infer_schema(&rows, fields)?
            }
        });
        // Check the types now, so an unsupported one is an error before any task runs.
        Converter::new(schema.clone(), 0)?;
        let token = fresh_token("to-dataframe", stream.token());
        let name: Arc<str> = Arc::from(format!("to-dataframe-{token}"));
        let target = schema.clone();
        let lower = Arc::new(move |graph: &mut Graph| -> Result<Vec<Key>, ComputeError> {
            let keys: Vec<Key> = (0..stream.npartitions())
                .map(|i| Key::part(name.clone(), i as u32))
                .collect();
            if keys.iter().all(|k| graph.contains(k)) {
                return Ok(keys);
            }
            let deps = stream.lower(graph)?;
            for (i, (key, deps)) in keys.iter().zip(deps).enumerate() {
                let (s, d) = (stream.clone(), stream.clone());
                let (schema, wire_schema) = (target.clone(), target.clone());
                let op = BagOp::new(
                    "to-dataframe",
                    move |inputs: Vec<Data>| partition_frame(s.as_ref(), i, &inputs, &schema),
                    move || {
                        describe_partition("to-dataframe", d.as_ref(), i, |stream, part| {
                            Work::ToFrame {
                                stream,
                                part,
                                schema: (*wire_schema).clone(),
                            }
                        })
                    },
                );
                graph.add(key.clone(), op, deps);
            }
            Ok(keys)
        });
        Ok(DataFrame::from_external(
            schema,
            self.npartitions(),
            format!("bag to_dataframe ({})", self.name()),
            token,
            lower,
        ))
    }
}
