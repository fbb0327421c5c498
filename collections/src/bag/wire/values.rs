//! Bag values as task data that can leave the process.
//!
//! A bag's partitions (`Vec<T>`) and the partial results of its reductions (a count table, a
//! set, a running mean) are plain Rust values behind [`Data::Local`]. On the local schedulers
//! they never need to be serialized; on a cluster a dependent task may run on another worker,
//! which then fetches them. So every value whose type is listed here is stored with
//! [`Data::local_sendable_with`]: it stays unserialized in its process and is encoded only when
//! a peer or the client asks for it.
//!
//! The encoding is MessagePack (`rmp-serde`) rather than the postcard used elsewhere, because
//! bag items include `serde_json::Value`, whose serde form can only be read back by a
//! self-describing format (postcard cannot tell a number from a string without the type).
//! The serialized form carries a name of its own (`dusk.bag:<type>`), so [`revive`] knows which
//! type to rebuild: the receiving task does not need to know the type statically, and nothing
//! mistakes these bytes for postcard.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};

use dusk_core::{Data, DataError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::bag::text::Line;
use crate::bag::tree::Moments;

/// Encodes the value behind `value`, which is an `X`.
fn encode<X: Serialize + 'static>(value: &(dyn Any + Send + Sync)) -> Result<Vec<u8>, DataError> {
    let value = value
        .downcast_ref::<X>()
        .ok_or_else(|| DataError::TypeMismatch {
            expected: std::any::type_name::<X>(),
            found: "another type".to_string(),
        })?;
    rmp_serde::to_vec(value).map_err(|e| DataError::Encode {
        type_name: std::any::type_name::<X>(),
        message: e.to_string(),
    })
}

/// Decodes bytes written by [`encode`] (or [`encode_value`]) as an `X`.
pub(crate) fn decode<X: DeserializeOwned>(bytes: &[u8], found: &str) -> Result<X, DataError> {
    rmp_serde::from_slice(bytes).map_err(|e| DataError::Decode {
        expected: std::any::type_name::<X>(),
        found: found.to_string(),
        message: e.to_string(),
    })
}

macro_rules! wire_values {
    ($($t:ty),* $(,)?) => {
        /// `value` as task data: sendable to other processes when its type is a bag value
        /// listed in this module, local to this process otherwise.
        pub(crate) fn sendable<X: Any + Send + Sync>(value: X, size: usize) -> Data {
            let id = TypeId::of::<X>();
            $(
                if id == TypeId::of::<$t>() {
                    return Data::local_sendable_with(
                        value,
                        size,
                        concat!("dusk.bag:", stringify!($t)),
                        encode::<$t>,
                    );
                }
            )*
            Data::local_with_size(value, size)
        }

        /// `value` encoded the way [`sendable`] sends it, or `None` if its type is not a bag
        /// value that can travel.
        pub(crate) fn encode_value<X: Any + Send + Sync>(
            value: &X,
        ) -> Option<Result<Vec<u8>, DataError>> {
            let id = TypeId::of::<X>();
            $(
                if id == TypeId::of::<$t>() {
                    return Some(encode::<$t>(value));
                }
            )*
            None
        }

        /// Task data received from another process, turned back into the local value it was
        /// sent from, when it is a bag value ([`sendable`]) or a value of a bag type encoded
        /// with [`Data::encode`] (a registered function returning a partition). Anything else
        /// is returned unchanged.
        pub(crate) fn revive(data: Data) -> Result<Data, DataError> {
            let Data::Value(v) = &data else {
                return Ok(data);
            };
            let size = v.bytes().len();
            $(
                if v.type_name() == concat!("dusk.bag:", stringify!($t)) {
                    let value: $t = decode(v.bytes(), v.type_name())?;
                    return Ok(sendable(value, size));
                }
                if v.type_name() == std::any::type_name::<$t>() {
                    let value: $t = data.decode()?;
                    return Ok(sendable(value, size));
                }
            )*
            Ok(data)
        }
    };
}

wire_values!(
    // Partitions, and the results of `collect`, `distinct`, `frequencies`, `topk_by_count`.
    Vec<String>,
    Vec<Value>,
    Vec<Line>,
    Vec<u64>,
    Vec<i64>,
    Vec<f64>,
    Vec<bool>,
    Vec<(String, u64)>,
    Vec<(Value, u64)>,
    Vec<(u64, u64)>,
    Vec<(i64, u64)>,
    Vec<(bool, u64)>,
    // Partial results of `frequencies` and `distinct`.
    HashMap<String, u64>,
    HashMap<Value, u64>,
    HashMap<u64, u64>,
    HashMap<i64, u64>,
    HashMap<bool, u64>,
    HashSet<String>,
    HashSet<Value>,
    HashSet<u64>,
    HashSet<i64>,
    HashSet<bool>,
    // `min` and `max`.
    Option<String>,
    Option<u64>,
    Option<i64>,
    Option<f64>,
    Option<bool>,
    // `count`, `sum`, `mean`, `var`, `std` and their partials.
    u64,
    i64,
    f64,
    Moments,
    // `to_textfiles`.
    std::path::PathBuf,
    Vec<std::path::PathBuf>,
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What a peer receives when it fetches `data`.
    fn sent(data: &Data) -> Data {
        let Data::Local(v) = data else {
            panic!("not local: {}", data.describe())
        };
        Data::Value(v.to_serialized().expect("sendable").expect("encodes"))
    }

    #[test]
    fn json_values_survive_the_trip() {
        let items = vec![
            json!({"name": "Alice", "tags": [1, 2.5, null]}),
            json!("x"),
            json!(-3),
        ];
        let back = revive(sent(&sendable(items.clone(), 0))).unwrap();
        assert_eq!(back.downcast_ref::<Vec<Value>>().unwrap(), &items);
        let mut counts = HashMap::new();
        counts.insert(json!({"a": 1}), 2u64);
        counts.insert(json!(7), 1u64);
        let back = revive(sent(&sendable(counts.clone(), 0))).unwrap();
        assert_eq!(back.downcast_ref::<HashMap<Value, u64>>().unwrap(), &counts);
    }

    #[test]
    fn revived_values_can_be_sent_on() {
        let once = revive(sent(&sendable(vec![1u64, 2], 16))).unwrap();
        let twice = revive(sent(&once)).unwrap();
        assert_eq!(twice.downcast_ref::<Vec<u64>>().unwrap(), &vec![1, 2]);
    }

    #[test]
    fn postcard_encoded_partitions_are_read_too() {
        let d = Data::encode(&vec!["a".to_string()]).unwrap();
        let back = revive(d).unwrap();
        assert_eq!(
            back.downcast_ref::<Vec<String>>().unwrap(),
            &vec!["a".to_string()]
        );
    }

    #[test]
    fn other_types_stay_local_and_other_data_passes() {
        #[derive(Clone)]
        struct Mine;
        let Data::Local(v) = sendable(vec![Mine], 0) else {
            panic!()
        };
        assert!(!v.is_sendable());
        assert!(encode_value(&vec![Mine]).is_none());
        let other = Data::encode(&(1u8, 2u8)).unwrap();
        assert!(matches!(revive(other).unwrap(), Data::Value(_)));
    }

    #[test]
    fn corrupt_bytes_are_an_error_naming_the_type() {
        let bad = Data::Value(dusk_core::SerializedValue::from_parts(
            "dusk.bag:Vec<Value>",
            vec![0xc1u8, 0xff],
        ));
        let err = revive(bad).unwrap_err().to_string();
        assert!(err.contains("Vec<Value>"), "{err}");
    }
}
