//! `Op`: what a task runs.
//!
//! An op receives the results of the task's dependencies, in the order the task lists them, and
//! returns one [`Data`]. There are two families:
//!
//! - **Serializable ops** — every built-in op of dusk, and user functions registered by name —
//!   carry their arguments as serde data. [`Op::to_wire`] turns them into a [`WireOp`] (a kind
//!   name plus bytes) and the registry of [`OpDecoder`]s, filled at link time with
//!   [`register_op!`](crate::register_op), turns the bytes back into an op in another process.
//! - **Closures** ([`FnOp`]) run only in the process that built them. They make the local
//!   schedulers pleasant to use, and refuse to serialize with an error naming the task.
//!
//! Registration happens through `inventory`, so a worker started from the user's binary knows
//! every op that binary links, and an op kind it does not know is reported by name.

use rustc_hash::FxHashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::data::Data;
use crate::error::{BoxError, GraphError};

/// What a task runs.
///
/// ```
/// use dusk_core::{BoxError, Data, Op};
///
/// struct AddOne;
/// impl Op for AddOne {
///     fn name(&self) -> &str { "add-one" }
///     fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
///         let x = *inputs[0].downcast_ref::<i64>()?;
///         Ok(Data::local(x + 1))
///     }
/// }
/// let out = AddOne.run(vec![Data::local(41i64)]).unwrap();
/// assert_eq!(*out.downcast_ref::<i64>().unwrap(), 42);
/// ```
pub trait Op: Send + Sync + 'static {
    /// A short label for keys, progress and graph pictures (`read-csv`, `sum-chunk`).
    fn name(&self) -> &str;

    /// Runs the op on its inputs (the dependencies' results, in the task's order).
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError>;

    /// Whether the op is so cheap that copying it into each dependent beats scheduling it as a
    /// task of its own (constants, field access). Such tasks are candidates for inlining.
    fn is_cheap(&self) -> bool {
        false
    }

    /// The op in its wire form. Closures keep the default, which refuses.
    fn to_wire(&self) -> Result<WireOp, WireError> {
        Err(WireError::Closure)
    }
}

impl fmt::Debug for dyn Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Op({})", self.name())
    }
}

/// Why an op could not take its wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The op is a closure.
    Closure,
    /// The op's arguments failed to encode.
    Codec(String),
}

/// An op in its wire form: a registered kind plus its serde-encoded arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireOp {
    /// The registered kind, e.g. `dusk.fused`.
    pub kind: String,
    /// The arguments, encoded with postcard.
    #[serde(with = "crate::op::byte_vec")]
    pub payload: Vec<u8>,
}

/// Byte vectors written and read as one block rather than byte by byte. In postcard the two
/// encodings are the same bytes (a length, then the bytes), so this changes speed, not format;
/// formats that write bytes as a list of numbers (JSON) are read back either way.
pub(crate) mod byte_vec {
    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl<'de> Visitor<'de> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_bytes(Bytes)
    }
}

impl WireOp {
    /// Rebuilds the op through the registry.
    pub fn decode(&self) -> Result<Arc<dyn Op>, GraphError> {
        decode_op(&self.kind, &self.payload)
    }
}

/// Rebuilds an op of `kind` from `payload` through the registry.
fn decode_op(kind: &str, payload: &[u8]) -> Result<Arc<dyn Op>, GraphError> {
    let decoder = registry().get(kind).ok_or_else(|| GraphError::UnknownOp {
        kind: kind.to_string(),
    })?;
    (decoder.decode)(payload)
}

/// An op whose arguments are plain serde data, and whose wire form is derived from them.
///
/// ```
/// use dusk_core::{register_op, BoxError, Data, Op, SerdeOp, WireError, WireOp};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Scale { factor: f64 }
/// impl SerdeOp for Scale { const KIND: &'static str = "doc.scale"; }
/// impl Op for Scale {
///     fn name(&self) -> &str { "scale" }
///     fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
///         Ok(Data::local(inputs[0].downcast_ref::<f64>()? * self.factor))
///     }
///     fn to_wire(&self) -> Result<WireOp, WireError> { dusk_core::op::encode_serde(self) }
/// }
/// register_op!(Scale);
///
/// let wire = Scale { factor: 2.0 }.to_wire().unwrap();
/// let back = wire.decode().unwrap();
/// let out = back.run(vec![Data::local(1.5f64)]).unwrap();
/// assert_eq!(*out.downcast_ref::<f64>().unwrap(), 3.0);
/// ```
pub trait SerdeOp: Op + Serialize + DeserializeOwned {
    /// The registered kind; by convention `crate.op-name`.
    const KIND: &'static str;
}

/// The wire form of a [`SerdeOp`].
pub fn encode_serde<T: SerdeOp>(op: &T) -> Result<WireOp, WireError> {
    let payload = postcard::to_stdvec(op).map_err(|e| WireError::Codec(e.to_string()))?;
    Ok(WireOp {
        kind: T::KIND.to_string(),
        payload,
    })
}

/// Decodes a [`SerdeOp`] from its wire payload.
pub fn decode_serde<T: SerdeOp>(payload: &[u8]) -> Result<Arc<dyn Op>, GraphError> {
    let op: T = postcard::from_bytes(payload).map_err(|e| GraphError::Codec {
        kind: T::KIND.to_string(),
        action: "decoded",
        message: e.to_string(),
    })?;
    Ok(Arc::new(op))
}

/// Rebuilds an op of one kind from its wire payload.
pub type DecodeFn = fn(&[u8]) -> Result<Arc<dyn Op>, GraphError>;

/// An entry of the op registry: how to rebuild ops of one kind from bytes.
pub struct OpDecoder {
    /// The kind this decoder handles.
    pub kind: &'static str,
    /// Rebuilds an op from its payload.
    pub decode: DecodeFn,
}

inventory::collect!(OpDecoder);

/// Registers a [`SerdeOp`] so that graphs containing it can be decoded in any process of this
/// build. Use it once per op type, at module level.
#[macro_export]
macro_rules! register_op {
    ($ty:ty) => {
        $crate::inventory::submit! {
            $crate::OpDecoder {
                kind: <$ty as $crate::SerdeOp>::KIND,
                decode: $crate::op::decode_serde::<$ty>,
            }
        }
    };
}

fn registry() -> &'static FxHashMap<&'static str, &'static OpDecoder> {
    static REGISTRY: OnceLock<FxHashMap<&'static str, &'static OpDecoder>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut map = FxHashMap::default();
        for decoder in inventory::iter::<OpDecoder> {
            map.entry(decoder.kind).or_insert(decoder);
        }
        map
    })
}

/// Whether this build can decode ops of `kind`.
///
/// ```
/// assert!(dusk_core::op::is_registered("dusk.fused"));
/// assert!(!dusk_core::op::is_registered("no.such-op"));
/// ```
pub fn is_registered(kind: &str) -> bool {
    registry().contains_key(kind)
}

type BoxedFn = dyn Fn(Vec<Data>) -> Result<Data, BoxError> + Send + Sync;

/// A closure as an op: runs on the local schedulers only.
///
/// ```
/// use dusk_core::{Data, FnOp, Op};
/// let double = FnOp::new("double", |inputs| Ok(Data::local(inputs[0].downcast_ref::<i32>()? * 2)));
/// let out = double.run(vec![Data::local(21i32)]).unwrap();
/// assert_eq!(*out.downcast_ref::<i32>().unwrap(), 42);
/// assert!(double.to_wire().is_err());
/// ```
pub struct FnOp {
    name: String,
    f: Box<BoxedFn>,
}

impl FnOp {
    /// Wraps a closure under a label.
    pub fn new<F>(name: impl Into<String>, f: F) -> FnOp
    where
        F: Fn(Vec<Data>) -> Result<Data, BoxError> + Send + Sync + 'static,
    {
        FnOp {
            name: name.into(),
            f: Box::new(f),
        }
    }
}

impl Op for FnOp {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        (self.f)(inputs)
    }
}

/// A constant: yields a copy of the data it holds. Cheap, so it is inlined into its dependents.
///
/// ```
/// use dusk_core::{Data, LiteralOp, Op};
/// let op = LiteralOp::new(Data::local(7u8));
/// assert_eq!(*op.run(vec![]).unwrap().downcast_ref::<u8>().unwrap(), 7);
/// ```
pub struct LiteralOp {
    data: Data,
}

impl LiteralOp {
    /// A literal op yielding `data`.
    pub fn new(data: Data) -> LiteralOp {
        LiteralOp { data }
    }

    /// The data it yields.
    pub fn data(&self) -> &Data {
        &self.data
    }
}

const LITERAL_KIND: &str = "dusk.literal";

impl Op for LiteralOp {
    fn name(&self) -> &str {
        "literal"
    }

    fn run(&self, _inputs: Vec<Data>) -> Result<Data, BoxError> {
        Ok(self.data.clone())
    }

    fn is_cheap(&self) -> bool {
        true
    }

    fn to_wire(&self) -> Result<WireOp, WireError> {
        let literal = wire_literal(&self.data)?;
        let payload = postcard::to_stdvec(&literal).map_err(|e| WireError::Codec(e.to_string()))?;
        Ok(WireOp {
            kind: LITERAL_KIND.to_string(),
            payload,
        })
    }
}

/// The wire form of a literal value.
fn wire_literal(data: &Data) -> Result<WireLiteral, WireError> {
    let codec = |e: crate::error::DataError| WireError::Codec(e.to_string());
    Ok(match data {
        Data::Value(v) => WireLiteral::Value {
            type_name: v.type_name().to_string(),
            bytes: v.bytes().to_vec(),
        },
        Data::Frame(df) => WireLiteral::Frame(crate::ipc::frame_to_ipc(df).map_err(codec)?),
        Data::Local(v) => match v.to_serialized() {
            Some(sent) => {
                let sent = sent.map_err(codec)?;
                WireLiteral::Value {
                    type_name: sent.type_name().to_string(),
                    bytes: sent.bytes().to_vec(),
                }
            }
            None => return Err(WireError::Closure),
        },
        other => {
            return Err(WireError::Codec(format!(
                "a literal {} travels through the data channel, not inside a graph",
                other.describe()
            )))
        }
    })
}

/// A literal's wire form: a serialized value, or a DataFrame as Arrow IPC.
#[derive(Serialize, Deserialize)]
enum WireLiteral {
    Value {
        type_name: String,
        #[serde(with = "byte_vec")]
        bytes: Vec<u8>,
    },
    Frame(#[serde(with = "byte_vec")] Vec<u8>),
}

fn decode_literal(payload: &[u8]) -> Result<Arc<dyn Op>, GraphError> {
    let codec = |message: String| GraphError::Codec {
        kind: LITERAL_KIND.to_string(),
        action: "decoded",
        message,
    };
    let literal: WireLiteralRef<'_> =
        postcard::from_bytes(payload).map_err(|e| codec(e.to_string()))?;
    let data = literal_data_ref(literal).map_err(codec)?;
    Ok(Arc::new(LiteralOp::new(data)))
}

inventory::submit! {
    OpDecoder { kind: LITERAL_KIND, decode: decode_literal }
}

/// An op with its first inputs bound to values: runs the inner op on `args` followed by the
/// task's own inputs.
///
/// This is how a call's arguments travel inside its task, as in Dask, instead of each becoming
/// a task of its own: `Client::map` over a hundred thousand items sends a hundred thousand
/// tasks, not twice as many.
///
/// ```
/// use std::sync::Arc;
/// use dusk_core::op::BoundOp;
/// use dusk_core::{Data, FnOp, Op};
/// let add = FnOp::new("add", |inputs: Vec<Data>| {
///     let a = inputs[0].decode::<u64>()?;
///     let b = inputs[1].decode::<u64>()?;
///     Ok(Data::encode(&(a + b))?)
/// });
/// let bound = BoundOp::new(Arc::new(add), vec![Data::encode(&40u64).unwrap()]);
/// let out = bound.run(vec![Data::encode(&2u64).unwrap()]).unwrap();
/// assert_eq!(out.decode::<u64>().unwrap(), 42);
/// assert_eq!(bound.name(), "add");
/// ```
pub struct BoundOp {
    op: Arc<dyn Op>,
    args: Vec<Data>,
}

impl BoundOp {
    /// `op` with `args` as its first inputs.
    pub fn new(op: Arc<dyn Op>, args: Vec<Data>) -> BoundOp {
        BoundOp { op, args }
    }
}

const BOUND_KIND: &str = "dusk.bound";

/// A bound op's wire form, written from borrowed parts (the same bytes as a `WireOp` and a list
/// of `WireLiteral`s).
#[derive(Serialize)]
struct WireBoundOut<'a> {
    op: &'a WireOp,
    args: Vec<WireLiteralOut<'a>>,
}

/// A [`WireLiteral`] written from borrowed parts.
#[derive(Serialize)]
enum WireLiteralOut<'a> {
    Value {
        type_name: &'a str,
        #[serde(serialize_with = "byte_vec::serialize")]
        bytes: &'a [u8],
    },
    Frame(#[serde(serialize_with = "byte_vec::serialize")] &'a [u8]),
}

impl Op for BoundOp {
    fn name(&self) -> &str {
        self.op.name()
    }

    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let mut all = Vec::with_capacity(self.args.len() + inputs.len());
        all.extend(self.args.iter().cloned());
        all.extend(inputs);
        self.op.run(all)
    }

    fn to_wire(&self) -> Result<WireOp, WireError> {
        let op = self.op.to_wire()?;
        // Serialized values are written from where they are; only frames need an encoding.
        let mut frames = Vec::new();
        for a in &self.args {
            if !matches!(a, Data::Value(_)) {
                frames.push(wire_literal(a)?);
            }
        }
        let mut frames = frames.iter();
        let args = self
            .args
            .iter()
            .map(|a| match a {
                Data::Value(v) => WireLiteralOut::Value {
                    type_name: v.type_name(),
                    bytes: v.bytes(),
                },
                _ => match frames.next() {
                    Some(WireLiteral::Value { type_name, bytes }) => {
                        WireLiteralOut::Value { type_name, bytes }
                    }
                    Some(WireLiteral::Frame(bytes)) => WireLiteralOut::Frame(bytes),
                    None => WireLiteralOut::Frame(&[]),
                },
            })
            .collect::<Vec<_>>();
        let payload = postcard::to_stdvec(&WireBoundOut { op: &op, args })
            .map_err(|e| WireError::Codec(e.to_string()))?;
        Ok(WireOp {
            kind: BOUND_KIND.to_string(),
            payload,
        })
    }
}

/// A bound op's wire form, read in place: names and bytes borrowed from the payload.
#[derive(Deserialize)]
struct WireBoundRef<'a> {
    #[serde(borrow)]
    op: WireOpRef<'a>,
    #[serde(borrow)]
    args: Vec<WireLiteralRef<'a>>,
}

/// A [`WireOp`] read in place.
#[derive(Deserialize)]
struct WireOpRef<'a> {
    kind: &'a str,
    payload: &'a [u8],
}

/// A [`WireLiteral`] read in place.
#[derive(Deserialize)]
enum WireLiteralRef<'a> {
    Value { type_name: &'a str, bytes: &'a [u8] },
    Frame(&'a [u8]),
}

fn decode_bound(payload: &[u8]) -> Result<Arc<dyn Op>, GraphError> {
    let codec = |message: String| GraphError::Codec {
        kind: BOUND_KIND.to_string(),
        action: "decoded",
        message,
    };
    let bound: WireBoundRef<'_> =
        postcard::from_bytes(payload).map_err(|e| codec(e.to_string()))?;
    let op = decode_op(bound.op.kind, bound.op.payload)?;
    let args = bound
        .args
        .into_iter()
        .map(|a| literal_data_ref(a).map_err(codec))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(BoundOp::new(op, args)))
}

/// A literal value from its wire form read in place.
fn literal_data_ref(literal: WireLiteralRef<'_>) -> Result<Data, String> {
    Ok(match literal {
        WireLiteralRef::Value { type_name, bytes } => {
            Data::Value(crate::data::SerializedValue::from_parts(
                crate::data::intern_type_name(type_name),
                bytes,
            ))
        }
        WireLiteralRef::Frame(bytes) => {
            Data::Frame(crate::ipc::frame_from_ipc(bytes).map_err(|e| e.to_string())?)
        }
    })
}

inventory::submit! {
    OpDecoder { kind: BOUND_KIND, decode: decode_bound }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_literal_round_trips() {
        let op = LiteralOp::new(Data::encode(&vec![1u32, 2]).unwrap());
        let back = op.to_wire().unwrap().decode().unwrap();
        let out = back.run(vec![]).unwrap();
        assert_eq!(out.decode::<Vec<u32>>().unwrap(), vec![1, 2]);
    }

    #[test]
    fn frame_and_sendable_literals_round_trip() {
        use polars::prelude::*;
        let df = df!("a" => [1i64, 2], "b" => ["x", "y"]).unwrap();
        let back = LiteralOp::new(Data::Frame(df.clone()))
            .to_wire()
            .unwrap()
            .decode()
            .unwrap();
        assert!(back.run(vec![]).unwrap().as_frame().unwrap().equals(&df));
        let sendable = LiteralOp::new(Data::local_sendable(vec![3u16], 2));
        let back = sendable.to_wire().unwrap().decode().unwrap();
        let out = back.run(vec![]).unwrap();
        assert_eq!(out.decode::<Vec<u16>>().unwrap(), vec![3]);
    }

    #[test]
    fn bound_ops_round_trip_with_their_arguments() {
        let lit = LiteralOp::new(Data::encode(&5u32).unwrap());
        let bound = BoundOp::new(Arc::new(lit), vec![Data::encode(&7u64).unwrap()]);
        let wire = bound.to_wire().unwrap();
        assert_eq!(wire.kind, BOUND_KIND);
        let back = wire.decode().unwrap();
        assert_eq!(back.name(), "literal");
        assert_eq!(back.run(vec![]).unwrap().decode::<u32>().unwrap(), 5);
        let closure = BoundOp::new(Arc::new(FnOp::new("f", |_| Ok(Data::local(())))), vec![]);
        assert_eq!(closure.to_wire().unwrap_err(), WireError::Closure);
    }

    #[test]
    fn payloads_keep_the_postcard_bytes_of_a_byte_list() {
        let wire = WireOp {
            kind: "k".into(),
            payload: (0..=255u8).collect(),
        };
        let fast = postcard::to_stdvec(&wire).unwrap();
        let as_list = postcard::to_stdvec(&(wire.kind.clone(), wire.payload.clone())).unwrap();
        assert_eq!(fast, as_list);
        let back: WireOp = postcard::from_bytes(&as_list).unwrap();
        assert_eq!(back, wire);
    }

    #[test]
    fn local_literal_refuses_the_wire() {
        let op = LiteralOp::new(Data::local(1u8));
        assert_eq!(op.to_wire().unwrap_err(), WireError::Closure);
    }

    #[test]
    fn unknown_kind_is_named() {
        let wire = WireOp {
            kind: "nope.missing".into(),
            payload: vec![],
        };
        let err = wire.decode().unwrap_err().to_string();
        assert!(err.contains("nope.missing"), "{err}");
    }
}
