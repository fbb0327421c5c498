//! Element types: the [`DType`] tag an expression carries, the [`Element`] trait that ties it to
//! a Rust type, NumPy's promotion rules, and casting of blocks.
//!
//! An expression's dtype is known when it is built (so `compute()` can return a typed
//! `ArrayD<T>`), but the blocks flowing between tasks are the untyped
//! [`ArrayBlock`](dusk_core::ArrayBlock), because one fused task may mix types
//! (`where_(x > 0.5, x, 0.0)` reads f64, makes bool, yields f64).

use dusk_core::ArrayBlock;
use ndarray::{ArcArray, ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

/// The element type of an array.
///
/// ```
/// use dusk_collections::array::DType;
/// assert_eq!(DType::F64.name(), "f64");
/// assert_eq!(DType::promote(DType::I32, DType::F32), DType::F64);
/// assert_eq!(DType::F32.itemsize(), 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum DType {
    /// Booleans.
    Bool,
    /// 32-bit signed integers.
    I32,
    /// 64-bit signed integers.
    I64,
    /// 32-bit floats.
    F32,
    /// 64-bit floats.
    F64,
}

impl DType {
    /// The name, as in [`ArrayBlock::dtype`].
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    /// Bytes per element.
    pub fn itemsize(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    /// Whether this is a floating-point type.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// NumPy's result type of an arithmetic operation between `a` and `b`: integers widen, an
    /// integer with `f32` gives `f64` (as in NumPy), and `bool` with `bool` gives `i64` (NumPy
    /// refuses arithmetic such as `bool - bool`; dusk counts instead).
    pub fn promote(a: DType, b: DType) -> DType {
        use DType::*;
        match (a, b) {
            (F64, _) | (_, F64) => F64,
            (F32, F32) | (F32, Bool) | (Bool, F32) => F32,
            (F32, _) | (_, F32) => F64,
            (I64, _) | (_, I64) => I64,
            (I32, _) | (_, I32) => I32,
            (Bool, Bool) => I64,
        }
    }

    /// The floating type an operation such as `sqrt` or `/` yields on this type.
    pub fn to_float(self) -> DType {
        if self == DType::F32 {
            DType::F32
        } else {
            DType::F64
        }
    }

    /// The type sums and products accumulate in (NumPy: integers and bools sum as `i64`).
    pub fn accumulator(self) -> DType {
        match self {
            DType::Bool | DType::I32 | DType::I64 => DType::I64,
            other => other,
        }
    }

    pub(crate) fn of_block(b: &ArrayBlock) -> DType {
        match b {
            ArrayBlock::F64(_) => DType::F64,
            ArrayBlock::F32(_) => DType::F32,
            ArrayBlock::I64(_) => DType::I64,
            ArrayBlock::I32(_) => DType::I32,
            _ => DType::Bool,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust element type an array can hold: `f64`, `f32`, `i64`, `i32` or `bool`.
///
/// ```
/// use dusk_collections::array::{DType, Element};
/// assert_eq!(<f32 as Element>::DTYPE, DType::F32);
/// assert_eq!(<i64 as Element>::from_f64(2.9), 2);
/// ```
pub trait Element:
    sealed::Sealed + Copy + Send + Sync + PartialEq + PartialOrd + std::fmt::Debug + Default + 'static
{
    /// The tag of this type.
    const DTYPE: DType;
    /// What sums and products of this type accumulate in (`i64` for integers and bools).
    type Acc: Element;
    /// What `sqrt`, `/` and `mean` of this type yield (`f32` for `f32`, else `f64`).
    type Float: Element;
    /// Wraps an array into a block.
    fn into_block(a: ArcArray<Self, IxDyn>) -> ArrayBlock;
    /// Takes the array out of a block of this type.
    fn from_block(b: ArrayBlock) -> Option<ArcArray<Self, IxDyn>>;
    /// Converts from `f64` (truncating for integers; non-zero is `true`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (`true` is 1).
    fn to_f64(self) -> f64;
}

macro_rules! element {
    ($t:ty, $v:ident, $d:ident, $acc:ty, $fl:ty, |$x:ident| $from:expr, |$y:ident| $to:expr) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            type Acc = $acc;
            type Float = $fl;
            fn into_block(a: ArcArray<Self, IxDyn>) -> ArrayBlock {
                ArrayBlock::$v(a)
            }
            fn from_block(b: ArrayBlock) -> Option<ArcArray<Self, IxDyn>> {
                match b {
                    ArrayBlock::$v(a) => Some(a),
                    _ => None,
                }
            }
            fn from_f64($x: f64) -> Self {
                $from
            }
            fn to_f64(self) -> f64 {
                let $y = self;
                $to
            }
        }
    };
}
element!(f64, F64, F64, f64, f64, |v| v, |y| y);
element!(f32, F32, F32, f32, f32, |v| v as f32, |y| y as f64);
element!(i64, I64, I64, i64, f64, |v| v as i64, |y| y as f64);
element!(i32, I32, I32, i64, f64, |v| v as i32, |y| y as f64);
element!(bool, Bool, Bool, i64, f64, |v| v != 0.0, |y| if y {
    1.0
} else {
    0.0
});

/// A block converted to `dtype` (shared, not copied, when it already has that type).
pub(crate) fn cast(b: &ArrayBlock, dtype: DType) -> ArrayBlock {
    if DType::of_block(b) == dtype {
        return b.clone();
    }
    match dtype {
        DType::F64 => ArrayBlock::from(map_f64(b, |x| x)),
        DType::F32 => ArrayBlock::from(map_via(
            b,
            |x| x as f32,
            |i| i as f32,
            |i| i as f32,
            |v| {
                if v {
                    1.0
                } else {
                    0.0
                }
            },
        )),
        DType::I64 => ArrayBlock::from(map_via(b, |x| x as i64, |i| i, |i| i as i64, i64::from)),
        DType::I32 => ArrayBlock::from(map_via(b, |x| x as i32, |i| i as i32, |i| i, i32::from)),
        DType::Bool => ArrayBlock::from(map_via(b, |x| x != 0.0, |i| i != 0, |i| i != 0, |v| v)),
    }
}

fn map_f64(b: &ArrayBlock, f: impl Fn(f64) -> f64) -> ArrayD<f64> {
    map_via(
        b,
        &f,
        |i| f(i as f64),
        |i| f(i as f64),
        |v| f(if v { 1.0 } else { 0.0 }),
    )
}

fn map_via<T>(
    b: &ArrayBlock,
    ff: impl Fn(f64) -> T,
    fi64: impl Fn(i64) -> T,
    fi32: impl Fn(i32) -> T,
    fb: impl Fn(bool) -> T,
) -> ArrayD<T> {
    match b {
        ArrayBlock::F64(a) => a.map(|&x| ff(x)),
        ArrayBlock::F32(a) => a.map(|&x| ff(x as f64)),
        ArrayBlock::I64(a) => a.map(|&x| fi64(x)),
        ArrayBlock::I32(a) => a.map(|&x| fi32(x)),
        ArrayBlock::Bool(a) => a.map(|&x| fb(x)),
        _ => ArrayD::from_shape_fn(IxDyn(b.shape()), |_| ff(f64::NAN)),
    }
}

/// A block as `f64` values.
pub(crate) fn to_f64_block(b: &ArrayBlock) -> ArcArray<f64, IxDyn> {
    match b {
        ArrayBlock::F64(a) => a.clone(),
        other => map_f64(other, |x| x).into_shared(),
    }
}
