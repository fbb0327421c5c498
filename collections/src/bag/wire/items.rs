//! The item types a bag can have on a cluster, and how a worker gets back to the Rust type.
//!
//! A worker rebuilds a bag task from data, so it has to pick the monomorphized code for the
//! item type the client used. The generic worker binary can only contain code for types it
//! knows, so the types are a closed list: the ones the built-in sources and steps produce
//! (text lines, JSON values, numbers) and the `(item, count)` pairs `frequencies` makes of
//! them. A bag of another type runs on the local schedulers, and says so when sent to a
//! cluster. [`ItemType::of`] recognizes a type at run time by its `TypeId`, so the generic
//! collection code needs no extra bounds.

use std::any::TypeId;
use std::path::Path;
use std::sync::Arc;

use dusk_core::{BoxError, Data};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bag::stream::Stream;
use crate::bag::text::{write_partition, Line};
use crate::bag::tree::{Reduction, TreeOps};

/// An item type that bags can have on a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ItemType {
    Text,
    Json,
    Line,
    U64,
    I64,
    F64,
    Bool,
    TextCount,
    JsonCount,
    U64Count,
    I64Count,
    BoolCount,
}

/// Runs `$body` with `$T` bound to the Rust type of the item type `$ty`.
macro_rules! with_item_type {
    ($ty:expr, $T:ident => $body:expr) => {
        match $ty {
            $crate::bag::wire::ItemType::Text => {
                type $T = String;
                $body
            }
            $crate::bag::wire::ItemType::Json => {
                type $T = serde_json::Value;
                $body
            }
            $crate::bag::wire::ItemType::Line => {
                type $T = $crate::bag::Line;
                $body
            }
            $crate::bag::wire::ItemType::U64 => {
                type $T = u64;
                $body
            }
            $crate::bag::wire::ItemType::I64 => {
                type $T = i64;
                $body
            }
            $crate::bag::wire::ItemType::F64 => {
                type $T = f64;
                $body
            }
            $crate::bag::wire::ItemType::Bool => {
                type $T = bool;
                $body
            }
            $crate::bag::wire::ItemType::TextCount => {
                type $T = (String, u64);
                $body
            }
            $crate::bag::wire::ItemType::JsonCount => {
                type $T = (serde_json::Value, u64);
                $body
            }
            $crate::bag::wire::ItemType::U64Count => {
                type $T = (u64, u64);
                $body
            }
            $crate::bag::wire::ItemType::I64Count => {
                type $T = (i64, u64);
                $body
            }
            $crate::bag::wire::ItemType::BoolCount => {
                type $T = (bool, u64);
                $body
            }
        }
    };
}
pub(crate) use with_item_type;

impl ItemType {
    /// The item type of `T`, if bags of `T` can run on a cluster.
    pub(crate) fn of<T: 'static>() -> Option<ItemType> {
        let id = TypeId::of::<T>();
        let table = [
            (TypeId::of::<String>(), ItemType::Text),
            (TypeId::of::<Value>(), ItemType::Json),
            (TypeId::of::<Line>(), ItemType::Line),
            (TypeId::of::<u64>(), ItemType::U64),
            (TypeId::of::<i64>(), ItemType::I64),
            (TypeId::of::<f64>(), ItemType::F64),
            (TypeId::of::<bool>(), ItemType::Bool),
            (TypeId::of::<(String, u64)>(), ItemType::TextCount),
            (TypeId::of::<(Value, u64)>(), ItemType::JsonCount),
            (TypeId::of::<(u64, u64)>(), ItemType::U64Count),
            (TypeId::of::<(i64, u64)>(), ItemType::I64Count),
            (TypeId::of::<(bool, u64)>(), ItemType::BoolCount),
        ];
        table.iter().find(|(t, _)| *t == id).map(|(_, it)| *it)
    }
}

/// What the cluster can do with bags of an item type: every built-in reduction the type
/// supports, rebuilt from its description.
pub(crate) trait WireItem:
    Clone + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The reduction `r` over bags of this type, or `None` if the type does not support it
    /// (the client only describes reductions its bounds allowed, so `None` means a mismatched
    /// build).
    fn reduction(r: &Reduction) -> Option<Arc<dyn TreeOps<Self>>>;

    /// Writes partition `part` of `stream` to `path`, one item per line (`to_textfiles`);
    /// items without a text form refuse.
    fn write_text(
        _stream: &dyn Stream<Self>,
        _part: usize,
        _inputs: &[Data],
        _path: &Path,
    ) -> Result<(), BoxError> {
        Err(format!(
            "items of type {} have no text form to write",
            std::any::type_name::<Self>()
        )
        .into())
    }
}

use crate::bag::tree::ops;

/// `WireItem::write_text` for an item type with a text form.
macro_rules! writes_text {
    () => {
        fn write_text(
            stream: &dyn Stream<Self>,
            part: usize,
            inputs: &[Data],
            path: &Path,
        ) -> Result<(), BoxError> {
            write_partition(stream, part, inputs, path)
        }
    };
}

impl WireItem for String {
    fn reduction(r: &Reduction) -> Option<Arc<dyn TreeOps<Self>>> {
        ops::any(r)
            .or_else(|| ops::hashed(r))
            .or_else(|| ops::ordered(r))
    }
    writes_text!();
}

impl WireItem for Value {
    fn reduction(r: &Reduction) -> Option<Arc<dyn TreeOps<Self>>> {
        ops::any(r).or_else(|| ops::hashed(r))
    }
    writes_text!();
}

impl WireItem for Line {
    fn reduction(r: &Reduction) -> Option<Arc<dyn TreeOps<Self>>> {
        ops::any(r)
    }
    writes_text!();
}

impl WireItem for bool {
    fn reduction(r: &Reduction) -> Option<Arc<dyn TreeOps<Self>>> {
        ops::any(r)
            .or_else(|| ops::hashed(r))
            .or_else(|| ops::ordered(r))
    }
    writes_text!();
}

macro_rules! integer_items {
    ($($t:ty),*) => {$(
        impl WireItem for $t {
            fn reduction(r: &Reduction) -> Option<Arc<dyn TreeOps<Self>>> {
                ops::any(r)
                    .or_else(|| ops::hashed(r))
                    .or_else(|| ops::ordered(r))
                    .or_else(|| ops::numeric(r))
            }
            writes_text!();
        }
    )*};
}
integer_items!(u64, i64);

impl WireItem for f64 {
    fn reduction(r: &Reduction) -> Option<Arc<dyn TreeOps<Self>>> {
        ops::any(r)
            .or_else(|| ops::ordered(r))
            .or_else(|| ops::numeric(r))
    }
    writes_text!();
}

macro_rules! counted_items {
    ($($t:ty),*) => {$(
        impl WireItem for ($t, u64) {
            fn reduction(r: &Reduction) -> Option<Arc<dyn TreeOps<Self>>> {
                ops::any(r).or_else(|| ops::counted(r))
            }
        }
    )*};
}
counted_items!(String, Value, u64, i64, bool);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_types_are_recognized_by_type() {
        assert_eq!(ItemType::of::<String>(), Some(ItemType::Text));
        assert_eq!(ItemType::of::<(Value, u64)>(), Some(ItemType::JsonCount));
        assert_eq!(ItemType::of::<&str>(), None);
        assert_eq!(ItemType::of::<(String, u32)>(), None);
    }

    #[test]
    fn dispatch_names_the_same_type() {
        for ty in [
            ItemType::Text,
            ItemType::Json,
            ItemType::F64,
            ItemType::BoolCount,
        ] {
            let back = with_item_type!(ty, T => ItemType::of::<T>());
            assert_eq!(back, Some(ty));
        }
    }
}
