//! Streams as data: what a worker needs to produce one partition's items.
//!
//! On the client a bag's per-partition chain is a tree of [`Stream`] objects, some holding
//! closures. A task sent to a worker carries instead a [`StreamSpec`] of the one partition it
//! reads: the file block, the range bounds or the encoded items, then the built-in steps on
//! top (`parse_json`, `pluck`). [`Stream::spec`] makes it; [`build`] turns it back into a
//! stream on the worker, through the same constructors the client used, so both run the same
//! code and report the same errors. A chain with a user closure has no spec: such a task is
//! refused when the graph is sent, naming the task.

use std::any::Any;
use std::sync::Arc;

use dusk_core::BoxError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::items::{with_item_type, ItemType};
use super::values::decode;
use crate::bag::stream::{Stored, Stream};
use crate::bag::text::{Block, Line};
use crate::bag::{json, named, shuffle, sources, text};

/// One partition of a bag's stream, as data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum StreamSpec {
    /// A stored partition: the `Vec` of items that is the task's first input.
    Stored,
    /// The partition's items, encoded (a sequence given in memory).
    Items(Vec<u8>),
    /// The numbers `lo..hi`.
    Range { lo: u64, hi: u64 },
    /// Pieces of the task's stored inputs, in order: piece `.0` of `.1` near-equal pieces
    /// of each (`repartition`).
    Pieces(Vec<(u64, u64)>),
    /// The lines of a file block, with their origin (`Line`) or without (`String`).
    Text { block: Block, origin: bool },
    /// `parse_json` over lines (`Line`) or strings.
    ParseJson {
        parent: Box<StreamSpec>,
        lines: bool,
    },
    /// `parse_json` then `pluck(field)`, parsing only the field.
    PluckParsed {
        parent: Box<StreamSpec>,
        lines: bool,
        field: String,
    },
    /// A built-in element-wise step.
    Step {
        parent: Box<StreamSpec>,
        step: StepSpec,
    },
}

/// A built-in element-wise step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum StepSpec {
    /// `pluck(field)` of JSON values.
    Pluck { field: String },
    /// A function registered by name (`map_named`, `filter_named`).
    Named { name: String },
}

/// `stream` as a stream of `T`: it must be one already (the spec names the types).
fn cast<T: 'static, U: 'static>(
    stream: Arc<dyn Stream<U>>,
) -> Result<Arc<dyn Stream<T>>, BoxError> {
    let any: Box<dyn Any> = Box::new(stream);
    any.downcast::<Arc<dyn Stream<T>>>()
        .map(|s| *s)
        .map_err(|_| {
            format!(
                "a stream of {} was described where one of {} was expected",
                std::any::type_name::<U>(),
                std::any::type_name::<T>()
            )
            .into()
        })
}

/// The stream `spec` describes, yielding items of type `T`.
pub(crate) fn build<T: Send + Sync + 'static>(
    spec: &StreamSpec,
) -> Result<Arc<dyn Stream<T>>, BoxError> {
    match spec {
        StreamSpec::Stored => Ok(Arc::new(Stored::<T>::input())),
        StreamSpec::Items(bytes) => {
            let ty = ItemType::of::<T>().ok_or_else(|| {
                format!(
                    "the items of a sequence of {} cannot be decoded here",
                    std::any::type_name::<T>()
                )
            })?;
            with_item_type!(ty, X => {
                let items: Vec<X> = decode(bytes, "the items of a sequence")?;
                cast(sources::one_partition(items))
            })
        }
        StreamSpec::Range { lo, hi } => cast(sources::span(*lo, *hi)),
        StreamSpec::Pieces(cuts) => shuffle::pieces::<T>(cuts),
        StreamSpec::Text {
            block,
            origin: false,
        } => cast(text::block_lines(block.clone())),
        StreamSpec::Text {
            block,
            origin: true,
        } => cast(text::block_lines_with_origin(block.clone())),
        StreamSpec::ParseJson { parent, lines } => cast(parse(parent, *lines)?),
        StreamSpec::PluckParsed {
            parent,
            lines,
            field,
        } => {
            let parsed = parse(parent, *lines)?;
            let plucked = parsed
                .pluck_json(field, "")
                .ok_or("a parsed JSON stream did not fuse with pluck")?;
            cast(plucked)
        }
        StreamSpec::Step {
            parent,
            step: StepSpec::Pluck { field },
        } => cast(json::pluck_stream(
            build::<Value>(parent)?,
            field,
            String::new(),
        )),
        StreamSpec::Step {
            parent,
            step: StepSpec::Named { name },
        } => named::rebuild(name, parent)?
            .downcast::<Arc<dyn Stream<T>>>()
            .map(|s| *s)
            .map_err(|_| {
                format!(
                    "the bag function `{name}` does not make items of {}",
                    std::any::type_name::<T>()
                )
                .into()
            }),
    }
}

fn parse(parent: &StreamSpec, lines: bool) -> Result<Arc<dyn Stream<Value>>, BoxError> {
    Ok(if lines {
        json::parse_lines(build::<Line>(parent)?, String::new())
    } else {
        json::parse_strings(build::<String>(parent)?, String::new())
    })
}
