//! `Data`: what a task yields, and what the tasks that depend on it receive.
//!
//! Every variant is cheap to clone (its payload sits behind reference counting), because the
//! scheduler hands one result to several dependents. The variants follow what moves between
//! tasks in dusk:
//!
//! - [`Data::Frame`]: a DataFrame partition, a `polars::DataFrame` (Arrow memory);
//! - [`Data::Array`]: an ndarray block of one of the supported element types;
//! - [`Data::Value`]: a user value already serialized with serde (postcard), which can cross a
//!   process boundary as it is;
//! - [`Data::Local`]: any Rust value behind an `Arc<dyn Any>`; fast, but only for the threads
//!   of the process that made it — unless it was made with [`Data::local_sendable`], which
//!   keeps it unserialized in its own process and serializes it only when it must leave
//!   (the receiver then holds it as a [`Data::Value`], which [`Data::decode`] reads alike).
//!
//! Each carries a size estimate in bytes (Dask's `sizeof`) so schedulers can account memory.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use ndarray::{ArcArray, IxDyn};
use polars::frame::DataFrame;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::DataError;

/// An n-dimensional block of an array, by element type.
///
/// ```
/// use dusk_core::ArrayBlock;
/// let block = ArrayBlock::from(ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]).into_dyn());
/// assert_eq!(block.dtype(), "f64");
/// assert_eq!(block.shape(), &[2, 2]);
/// assert_eq!(block.nbytes(), 32);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ArrayBlock {
    /// 64-bit floats.
    F64(ArcArray<f64, IxDyn>),
    /// 32-bit floats.
    F32(ArcArray<f32, IxDyn>),
    /// 64-bit signed integers.
    I64(ArcArray<i64, IxDyn>),
    /// 32-bit signed integers.
    I32(ArcArray<i32, IxDyn>),
    /// Booleans.
    Bool(ArcArray<bool, IxDyn>),
}

macro_rules! block_dispatch {
    ($self:expr, $a:ident => $e:expr) => {
        match $self {
            ArrayBlock::F64($a) => $e,
            ArrayBlock::F32($a) => $e,
            ArrayBlock::I64($a) => $e,
            ArrayBlock::I32($a) => $e,
            ArrayBlock::Bool($a) => $e,
        }
    };
}

impl ArrayBlock {
    /// The element type's name, as NumPy spells it (`f64` is NumPy's `float64`).
    pub fn dtype(&self) -> &'static str {
        match self {
            ArrayBlock::F64(_) => "f64",
            ArrayBlock::F32(_) => "f32",
            ArrayBlock::I64(_) => "i64",
            ArrayBlock::I32(_) => "i32",
            ArrayBlock::Bool(_) => "bool",
        }
    }

    /// The block's shape.
    pub fn shape(&self) -> &[usize] {
        block_dispatch!(self, a => a.shape())
    }

    /// Bytes held by the elements.
    pub fn nbytes(&self) -> usize {
        block_dispatch!(self, a => nbytes_of(a))
    }
}

fn nbytes_of<T>(a: &ArcArray<T, IxDyn>) -> usize {
    a.len() * std::mem::size_of::<T>()
}

macro_rules! block_from {
    ($t:ty, $v:ident) => {
        impl From<ndarray::ArrayD<$t>> for ArrayBlock {
            fn from(a: ndarray::ArrayD<$t>) -> Self {
                ArrayBlock::$v(a.into_shared())
            }
        }
        impl From<ArcArray<$t, IxDyn>> for ArrayBlock {
            fn from(a: ArcArray<$t, IxDyn>) -> Self {
                ArrayBlock::$v(a)
            }
        }
    };
}
block_from!(f64, F64);
block_from!(f32, F32);
block_from!(i64, I64);
block_from!(i32, I32);
block_from!(bool, Bool);

/// A shared copy of a type name: the same few names tag millions of values, so each thread keeps
/// the names it has seen and hands out clones instead of allocating a copy per value.
///
/// ```
/// use std::sync::Arc;
/// let a = dusk_core::data::intern_type_name("u64");
/// let b = dusk_core::data::intern_type_name("u64");
/// assert!(Arc::ptr_eq(&a, &b));
/// ```
pub fn intern_type_name(name: &str) -> Arc<str> {
    const MAX: usize = 64;
    thread_local! {
        static NAMES: std::cell::RefCell<Vec<Arc<str>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        if let Some(n) = names.iter().find(|n| &***n == name) {
            return n.clone();
        }
        let n: Arc<str> = Arc::from(name);
        if names.len() >= MAX {
            names.remove(0);
        }
        names.push(n.clone());
        n
    })
}

/// A user value serialized with serde (postcard), tagged with its Rust type name.
#[derive(Clone, PartialEq, Eq)]
pub struct SerializedValue {
    type_name: Arc<str>,
    bytes: Arc<[u8]>,
}

impl SerializedValue {
    /// Wraps bytes that were produced elsewhere (e.g. received from another process).
    pub fn from_parts(type_name: impl Into<Arc<str>>, bytes: impl Into<Arc<[u8]>>) -> Self {
        SerializedValue {
            type_name: type_name.into(),
            bytes: bytes.into(),
        }
    }

    /// The Rust type name the value was serialized from.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for SerializedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({} bytes)", self.type_name, self.bytes.len())
    }
}

/// Serializes the value behind a [`LocalValue`], given that value (of the concrete type it was
/// made from); see [`Data::local_sendable_with`].
pub type EncodeFn = fn(&(dyn Any + Send + Sync)) -> Result<Vec<u8>, DataError>;

fn encode_as<T: Any + Serialize>(value: &(dyn Any + Send + Sync)) -> Result<Vec<u8>, DataError> {
    let value = value
        .downcast_ref::<T>()
        .ok_or_else(|| DataError::TypeMismatch {
            expected: std::any::type_name::<T>(),
            found: "another type".to_string(),
        })?;
    postcard::to_stdvec(value).map_err(|e| DataError::Encode {
        type_name: std::any::type_name::<T>(),
        message: e.to_string(),
    })
}

/// A Rust value that lives in this process, unserialized.
#[derive(Clone)]
pub struct LocalValue {
    value: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
    /// The name the serialized form carries (the type name, unless made by
    /// [`Data::local_sendable_with`]).
    wire_name: &'static str,
    size: usize,
    encode: Option<EncodeFn>,
}

impl LocalValue {
    /// The shared value.
    pub fn as_any(&self) -> &Arc<dyn Any + Send + Sync> {
        &self.value
    }

    /// The Rust type name of the value.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// Whether the value can be serialized for another process ([`Data::local_sendable`]).
    ///
    /// ```
    /// use dusk_core::Data;
    /// let Data::Local(v) = Data::local_sendable(1u8, 1) else { unreachable!() };
    /// assert!(v.is_sendable());
    /// ```
    pub fn is_sendable(&self) -> bool {
        self.encode.is_some()
    }

    /// The value serialized for another process, if it was made sendable
    /// ([`Data::local_sendable`]); `None` for values that must stay in this process.
    ///
    /// ```
    /// use dusk_core::Data;
    /// let Data::Local(v) = Data::local_sendable(vec![1u8, 2], 2) else { unreachable!() };
    /// let sent = v.to_serialized().unwrap().unwrap();
    /// assert_eq!(Data::Value(sent).decode::<Vec<u8>>().unwrap(), vec![1, 2]);
    /// let Data::Local(w) = Data::local(3u8) else { unreachable!() };
    /// assert!(w.to_serialized().is_none());
    /// ```
    pub fn to_serialized(&self) -> Option<Result<SerializedValue, DataError>> {
        let encode = self.encode?;
        Some(
            encode(self.value.as_ref())
                .map(|bytes| SerializedValue::from_parts(self.wire_name, bytes)),
        )
    }
}

impl fmt::Debug for LocalValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Local<{}>", self.type_name)
    }
}

/// What a task yields.
///
/// ```
/// use dusk_core::Data;
/// let d = Data::local(vec![1u64, 2, 3]);
/// assert_eq!(d.downcast_ref::<Vec<u64>>().unwrap(), &vec![1, 2, 3]);
/// assert!(d.sizeof() >= 24);
///
/// let v = Data::encode(&("word".to_string(), 3u32)).unwrap();
/// assert_eq!(v.decode::<(String, u32)>().unwrap(), ("word".to_string(), 3));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Data {
    /// A DataFrame partition.
    Frame(DataFrame),
    /// An array block.
    Array(ArrayBlock),
    /// A serialized user value.
    Value(SerializedValue),
    /// A process-local Rust value.
    Local(LocalValue),
}

impl Data {
    /// Wraps any value for use within this process. Its size estimate is `size_of::<T>()`;
    /// use [`Data::local_with_size`] when the value owns heap memory worth accounting.
    pub fn local<T: Any + Send + Sync>(value: T) -> Data {
        let size = std::mem::size_of::<T>();
        Data::local_with_size(value, size)
    }

    /// Wraps any value with an explicit size estimate in bytes.
    pub fn local_with_size<T: Any + Send + Sync>(value: T, size: usize) -> Data {
        Data::Local(LocalValue {
            value: Arc::new(value),
            type_name: std::any::type_name::<T>(),
            wire_name: std::any::type_name::<T>(),
            size,
            encode: None,
        })
    }

    /// Wraps a value that stays unserialized in this process but can be sent to another one
    /// when a task there needs it (it arrives as a [`Data::Value`]). Readers use
    /// [`Data::decode`], which accepts both forms.
    ///
    /// ```
    /// use dusk_core::Data;
    /// let d = Data::local_sendable(vec!["a".to_string()], 25);
    /// assert_eq!(d.downcast_ref::<Vec<String>>().unwrap().len(), 1);
    /// assert_eq!(d.decode::<Vec<String>>().unwrap(), vec!["a".to_string()]);
    /// assert_eq!(d.sizeof(), 25);
    /// ```
    pub fn local_sendable<T: Any + Send + Sync + Serialize>(value: T, size: usize) -> Data {
        Data::Local(LocalValue {
            value: Arc::new(value),
            type_name: std::any::type_name::<T>(),
            wire_name: std::any::type_name::<T>(),
            size,
            encode: Some(encode_as::<T>),
        })
    }

    /// Like [`Data::local_sendable`], but serialized by `encode` in a format of the caller's
    /// choosing, under the name `wire_name`. For values whose serde form postcard cannot read
    /// back (a `serde_json::Value` needs a self-describing format): the receiver gets a
    /// [`Data::Value`] named `wire_name` and reads it with the matching decoder, not with
    /// [`Data::decode`] (which refuses it, the names differing).
    ///
    /// ```
    /// use std::any::Any;
    /// use dusk_core::{Data, DataError};
    /// fn as_text(v: &(dyn Any + Send + Sync)) -> Result<Vec<u8>, DataError> {
    ///     Ok(v.downcast_ref::<u32>().map(|n| n.to_string()).unwrap_or_default().into_bytes())
    /// }
    /// let d = Data::local_sendable_with(42u32, 4, "text:u32", as_text);
    /// assert_eq!(*d.downcast_ref::<u32>().unwrap(), 42);
    /// let Data::Local(v) = d else { unreachable!() };
    /// let sent = v.to_serialized().unwrap().unwrap();
    /// assert_eq!((sent.type_name(), sent.bytes()), ("text:u32", &b"42"[..]));
    /// assert!(Data::Value(sent).decode::<u32>().is_err());
    /// ```
    pub fn local_sendable_with<T: Any + Send + Sync>(
        value: T,
        size: usize,
        wire_name: &'static str,
        encode: EncodeFn,
    ) -> Data {
        Data::Local(LocalValue {
            value: Arc::new(value),
            type_name: std::any::type_name::<T>(),
            wire_name,
            size,
            encode: Some(encode),
        })
    }

    /// Wraps an already shared value.
    pub fn local_arc<T: Any + Send + Sync>(value: Arc<T>) -> Data {
        Data::Local(LocalValue {
            value,
            type_name: std::any::type_name::<T>(),
            wire_name: std::any::type_name::<T>(),
            size: std::mem::size_of::<T>(),
            encode: None,
        })
    }

    /// Serializes a value with serde so it can cross a process boundary.
    pub fn encode<T: Serialize>(value: &T) -> Result<Data, DataError> {
        let bytes = postcard::to_stdvec(value).map_err(|e| DataError::Encode {
            type_name: std::any::type_name::<T>(),
            message: e.to_string(),
        })?;
        Ok(Data::Value(SerializedValue::from_parts(
            intern_type_name(std::any::type_name::<T>()),
            bytes,
        )))
    }

    /// Reads a value back: decodes [`Data::Value`], or clones a matching [`Data::Local`].
    ///
    /// The type must be the one the value was encoded from (the same build of the program on
    /// both sides); anything else is a [`DataError::TypeMismatch`].
    pub fn decode<T: DeserializeOwned + Clone + Any>(&self) -> Result<T, DataError> {
        match self {
            Data::Value(v) if v.type_name() != std::any::type_name::<T>() => {
                Err(DataError::TypeMismatch {
                    expected: std::any::type_name::<T>(),
                    found: v.type_name().to_string(),
                })
            }
            Data::Value(v) => postcard::from_bytes(v.bytes()).map_err(|e| DataError::Decode {
                expected: std::any::type_name::<T>(),
                found: v.type_name().to_string(),
                message: e.to_string(),
            }),
            Data::Local(_) => self.downcast_ref::<T>().cloned(),
            other => Err(other.type_mismatch::<T>()),
        }
    }

    /// Borrows a [`Data::Local`] value as `T`.
    pub fn downcast_ref<T: Any>(&self) -> Result<&T, DataError> {
        match self {
            Data::Local(v) => v
                .value
                .downcast_ref::<T>()
                .ok_or_else(|| self.type_mismatch::<T>()),
            other => Err(other.type_mismatch::<T>()),
        }
    }

    /// Takes a [`Data::Local`] value as `Arc<T>`.
    pub fn downcast_arc<T: Any + Send + Sync>(self) -> Result<Arc<T>, DataError> {
        match self {
            Data::Local(v) => {
                let found = v.type_name;
                v.value
                    .downcast::<T>()
                    .map_err(|_| DataError::TypeMismatch {
                        expected: std::any::type_name::<T>(),
                        found: found.to_string(),
                    })
            }
            other => Err(other.type_mismatch::<T>()),
        }
    }

    /// Borrows the DataFrame of a [`Data::Frame`].
    pub fn as_frame(&self) -> Result<&DataFrame, DataError> {
        match self {
            Data::Frame(df) => Ok(df),
            other => Err(other.type_mismatch::<DataFrame>()),
        }
    }

    /// Borrows the block of a [`Data::Array`].
    pub fn as_array(&self) -> Result<&ArrayBlock, DataError> {
        match self {
            Data::Array(a) => Ok(a),
            other => Err(other.type_mismatch::<ArrayBlock>()),
        }
    }

    /// A short description of what this holds, for errors and displays.
    pub fn describe(&self) -> String {
        match self {
            Data::Frame(df) => format!("DataFrame({} rows x {} columns)", df.height(), df.width()),
            Data::Array(a) => format!("Array<{}>{:?}", a.dtype(), a.shape()),
            Data::Value(v) => format!("{v:?}"),
            Data::Local(v) => format!("{v:?}"),
        }
    }

    /// Estimated bytes held (Dask's `sizeof`).
    ///
    /// ```
    /// use dusk_core::Data;
    /// use polars::prelude::*;
    /// let df = df!("a" => [1i64, 2, 3, 4]).unwrap();
    /// assert!(Data::Frame(df).sizeof() >= 32);
    /// ```
    pub fn sizeof(&self) -> usize {
        match self {
            Data::Frame(df) => df.estimated_size(),
            Data::Array(a) => a.nbytes(),
            Data::Value(v) => v.bytes().len(),
            Data::Local(v) => v.size,
        }
    }

    fn type_mismatch<T>(&self) -> DataError {
        DataError::TypeMismatch {
            expected: std::any::type_name::<T>(),
            found: self.describe(),
        }
    }
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl From<DataFrame> for Data {
    fn from(df: DataFrame) -> Data {
        Data::Frame(df)
    }
}

impl From<ArrayBlock> for Data {
    fn from(a: ArrayBlock) -> Data {
        Data::Array(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn frame_size_tracks_rows() {
        let small = df!("a" => (0..10i64).collect::<Vec<_>>()).unwrap();
        let big = df!("a" => (0..10_000i64).collect::<Vec<_>>()).unwrap();
        assert!(Data::Frame(big).sizeof() >= 80_000);
        assert!(Data::Frame(small).sizeof() < 1_000);
    }

    #[test]
    fn array_size_counts_elements() {
        let a = ndarray::ArrayD::<f32>::zeros(IxDyn(&[10, 10]));
        assert_eq!(Data::Array(a.into()).sizeof(), 400);
        let b = ndarray::ArrayD::<bool>::from_elem(IxDyn(&[3]), true);
        assert_eq!(Data::Array(b.into()).sizeof(), 3);
    }

    #[test]
    fn wrong_type_is_an_error_naming_both_types() {
        let d = Data::local(5u8);
        let err = d.downcast_ref::<String>().unwrap_err().to_string();
        assert!(err.contains("String"), "{err}");
        assert!(err.contains("u8"), "{err}");
        assert!(d.as_frame().is_err());
    }

    #[test]
    fn encoded_values_round_trip() {
        let d = Data::encode(&vec![1.5f64, -2.0]).unwrap();
        assert_eq!(d.decode::<Vec<f64>>().unwrap(), vec![1.5, -2.0]);
        assert!(d.decode::<String>().is_err());
        let local = Data::local(String::from("x"));
        assert_eq!(local.decode::<String>().unwrap(), "x");
    }
}
