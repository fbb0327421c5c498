//! Element-wise operations with NumPy broadcasting, fused into one task per block.
//!
//! Every element-wise result carries a small expression tree ([`Expr`]) over its *leaves* (the
//! non-element-wise arrays it reads). An element-wise operation on such a result does not add a
//! task: it builds a bigger tree over the union of the leaves. At lowering, each output block is
//! one task that evaluates the whole tree on the matching leaf blocks, so `(x - m) * 2.0 + 1.0`
//! reads each block of `x` once and writes one block, with no intermediate task or key.
//!
//! Types are settled when the expression is built (NumPy's promotion: [`DType::promote`]),
//! and the tree holds explicit casts, so the kernel never guesses. Broadcasting follows NumPy:
//! shapes are aligned on the right and a length-1 dimension stretches; blocks along stretched
//! dimensions are reused, and chunks along shared dimensions are unified (by rechunking to the
//! common refinement) before the tree is built.
//!
//! Typed arrays meet Rust's operators as follows: `&a + &b` needs both arrays of one element
//! type and panics (like ndarray's operators) when the shapes do not broadcast — the methods of
//! the same name (`a.add(&b)`) return the error instead. An operator with a scalar keeps the
//! array's type: `&ints * 2.5` computes in `f64` and truncates back to integers, so convert
//! first (`ints.astype::<f64>()`) for a float result. `/` is true division and yields floats.

use std::ops;
use std::sync::Arc;

use dusk_core::{ArrayBlock, BoxError, Key, Tokenizer};
use ndarray::{ArcArray, ArrayD, IxDyn, Zip};
use serde::{Deserialize, Serialize};

use super::dtype::{cast, DType, Element};
use super::error::ArrayError;
use super::ops::ArrayOp;
use super::{chunks, Array, Node};

/// A scalar operand.
///
/// ```
/// use dusk_collections::array::Scalar;
/// assert_eq!(Scalar::from(2.5), Scalar::F64(2.5));
/// assert_eq!(Scalar::from(3i32), Scalar::I64(3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Scalar {
    /// A float (takes the array's float type, or `f64` with an integer array).
    F64(f64),
    /// An integer (takes the array's type).
    I64(i64),
    /// A boolean (takes the array's type).
    Bool(bool),
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Self {
        Scalar::F64(v)
    }
}
impl From<f32> for Scalar {
    fn from(v: f32) -> Self {
        Scalar::F64(v as f64)
    }
}
impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Scalar::I64(v)
    }
}
impl From<i32> for Scalar {
    fn from(v: i32) -> Self {
        Scalar::I64(v as i64)
    }
}
impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}

impl Scalar {
    /// The dtype this scalar takes next to an array of `other` (NumPy's weak scalars).
    fn dtype_with(self, other: DType) -> DType {
        match self {
            Scalar::F64(_) if !other.is_float() => DType::F64,
            Scalar::I64(_) if other == DType::Bool => DType::I64,
            _ => other,
        }
    }

    fn own_dtype(self) -> DType {
        match self {
            Scalar::F64(_) => DType::F64,
            Scalar::I64(_) => DType::I64,
            Scalar::Bool(_) => DType::Bool,
        }
    }

    fn block(self, dtype: DType) -> ArrayBlock {
        let b = match self {
            Scalar::F64(v) => ArrayBlock::from(ArrayD::from_elem(IxDyn(&[]), v)),
            Scalar::I64(v) => ArrayBlock::from(ArrayD::from_elem(IxDyn(&[]), v)),
            Scalar::Bool(v) => ArrayBlock::from(ArrayD::from_elem(IxDyn(&[]), v)),
        };
        cast(&b, dtype)
    }
}

/// Binary element-wise operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Minimum,
    Maximum,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    fn is_comparison(self) -> bool {
        use BinOp::*;
        matches!(self, Eq | Ne | Lt | Le | Gt | Ge)
    }
}

/// Unary element-wise operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum UnOp {
    Neg,
    Abs,
    Sqrt,
    Exp,
    Log,
    Sin,
    Cos,
    Tan,
    Floor,
    Ceil,
    Not,
    IsNan,
}

impl UnOp {
    fn float_only(self) -> bool {
        use UnOp::*;
        matches!(
            self,
            Sqrt | Exp | Log | Sin | Cos | Tan | Floor | Ceil | IsNan
        )
    }
}

/// An element-wise expression over the leaf blocks of a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Expr {
    Input(u32),
    Scalar(Scalar, DType),
    Cast(DType, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Where(Box<Expr>, Box<Expr>, Box<Expr>),
}

impl Expr {
    fn shift(&self, by: &[u32]) -> Expr {
        match self {
            Expr::Input(i) => Expr::Input(by[*i as usize]),
            Expr::Scalar(s, d) => Expr::Scalar(*s, *d),
            Expr::Cast(d, e) => Expr::Cast(*d, Box::new(e.shift(by))),
            Expr::Unary(o, e) => Expr::Unary(*o, Box::new(e.shift(by))),
            Expr::Binary(o, a, b) => Expr::Binary(*o, Box::new(a.shift(by)), Box::new(b.shift(by))),
            Expr::Where(c, a, b) => Expr::Where(
                Box::new(c.shift(by)),
                Box::new(a.shift(by)),
                Box::new(b.shift(by)),
            ),
        }
    }

    /// Evaluates the expression on the leaf blocks.
    pub(crate) fn eval(&self, inputs: &[ArrayBlock]) -> Result<ArrayBlock, BoxError> {
        Ok(match self {
            Expr::Input(i) => inputs
                .get(*i as usize)
                .cloned()
                .ok_or_else(|| format!("element-wise input {i} is missing"))?,
            Expr::Scalar(s, d) => s.block(*d),
            Expr::Cast(d, e) => cast(&e.eval(inputs)?, *d),
            Expr::Unary(o, e) => unary(*o, &e.eval(inputs)?)?,
            Expr::Binary(o, a, b) => binary(*o, &a.eval(inputs)?, &b.eval(inputs)?)?,
            Expr::Where(c, a, b) => {
                let c = c.eval(inputs)?;
                let (a, b) = (a.eval(inputs)?, b.eval(inputs)?);
                let ArrayBlock::Bool(c) = c else {
                    return Err("where: condition is not boolean".into());
                };
                macro_rules! sel {
                    ($($v:ident),*) => {
                        match (&a, &b) {
                            $((ArrayBlock::$v(x), ArrayBlock::$v(y)) => {
                                ArrayBlock::from(zip3(&c, x, y, |c, x, y| if c { x } else { y })?)
                            })*
                            _ => return Err("where: branches of different types".into()),
                        }
                    };
                }
                sel!(F64, F32, I64, I32, Bool)
            }
        })
    }
}

fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for (i, o) in out.iter_mut().enumerate() {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        *o = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
    }
    Some(out)
}

fn zip2<A: Copy, B: Copy, R>(
    a: &ArcArray<A, IxDyn>,
    b: &ArcArray<B, IxDyn>,
    f: impl Fn(A, B) -> R,
) -> Result<ArrayD<R>, BoxError> {
    let shape = broadcast_shape(a.shape(), b.shape()).ok_or_else(|| {
        format!(
            "blocks {:?} and {:?} do not broadcast",
            a.shape(),
            b.shape()
        )
    })?;
    let sh = IxDyn(&shape);
    let (av, bv) = match (a.broadcast(sh.clone()), b.broadcast(sh)) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err("blocks do not broadcast".into()),
    };
    Ok(Zip::from(&av).and(&bv).map_collect(|&x, &y| f(x, y)))
}

fn zip3<A: Copy>(
    c: &ArcArray<bool, IxDyn>,
    a: &ArcArray<A, IxDyn>,
    b: &ArcArray<A, IxDyn>,
    f: impl Fn(bool, A, A) -> A,
) -> Result<ArrayD<A>, BoxError> {
    let shape = broadcast_shape(a.shape(), b.shape())
        .and_then(|s| broadcast_shape(&s, c.shape()))
        .ok_or("where: blocks do not broadcast")?;
    let sh = IxDyn(&shape);
    match (
        c.broadcast(sh.clone()),
        a.broadcast(sh.clone()),
        b.broadcast(sh),
    ) {
        (Some(cv), Some(av), Some(bv)) => Ok(Zip::from(&cv)
            .and(&av)
            .and(&bv)
            .map_collect(|&c, &x, &y| f(c, x, y))),
        _ => Err("where: blocks do not broadcast".into()),
    }
}

/// Arithmetic that never panics: integers wrap and divide by zero to zero, as NumPy does
/// (without its warning).
trait Arith: Copy + PartialOrd {
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn rem(self, o: Self) -> Self;
    fn pow(self, o: Self) -> Self;
    fn neg(self) -> Self;
    fn abs(self) -> Self;
    fn min_of(self, o: Self) -> Self;
    fn max_of(self, o: Self) -> Self;
}

macro_rules! arith_int {
    ($t:ty) => {
        impl Arith for $t {
            fn add(self, o: Self) -> Self {
                self.wrapping_add(o)
            }
            fn sub(self, o: Self) -> Self {
                self.wrapping_sub(o)
            }
            fn mul(self, o: Self) -> Self {
                self.wrapping_mul(o)
            }
            fn div(self, o: Self) -> Self {
                if o == 0 {
                    0
                } else {
                    self.wrapping_div_euclid(o)
                        - if (self.wrapping_rem_euclid(o) != 0) && o < 0 {
                            1
                        } else {
                            0
                        }
                }
            }
            fn rem(self, o: Self) -> Self {
                if o == 0 {
                    0
                } else {
                    let r = self.wrapping_rem(o);
                    if r != 0 && ((r < 0) != (o < 0)) {
                        r + o
                    } else {
                        r
                    }
                }
            }
            fn pow(self, o: Self) -> Self {
                if o < 0 {
                    0
                } else {
                    self.wrapping_pow(o.min(u32::MAX as $t) as u32)
                }
            }
            fn neg(self) -> Self {
                self.wrapping_neg()
            }
            fn abs(self) -> Self {
                self.wrapping_abs()
            }
            fn min_of(self, o: Self) -> Self {
                if o < self {
                    o
                } else {
                    self
                }
            }
            fn max_of(self, o: Self) -> Self {
                if o > self {
                    o
                } else {
                    self
                }
            }
        }
    };
}
arith_int!(i64);
arith_int!(i32);

macro_rules! arith_float {
    ($t:ty) => {
        impl Arith for $t {
            fn add(self, o: Self) -> Self {
                self + o
            }
            fn sub(self, o: Self) -> Self {
                self - o
            }
            fn mul(self, o: Self) -> Self {
                self * o
            }
            fn div(self, o: Self) -> Self {
                self / o
            }
            fn rem(self, o: Self) -> Self {
                let r = self % o;
                if r != 0.0 && ((r < 0.0) != (o < 0.0)) {
                    r + o
                } else {
                    r
                }
            }
            fn pow(self, o: Self) -> Self {
                self.powf(o)
            }
            fn neg(self) -> Self {
                -self
            }
            fn abs(self) -> Self {
                self.abs()
            }
            // NumPy's minimum/maximum propagate NaN.
            fn min_of(self, o: Self) -> Self {
                if self.is_nan() || o.is_nan() {
                    <$t>::NAN
                } else if o < self {
                    o
                } else {
                    self
                }
            }
            fn max_of(self, o: Self) -> Self {
                if self.is_nan() || o.is_nan() {
                    <$t>::NAN
                } else if o > self {
                    o
                } else {
                    self
                }
            }
        }
    };
}
arith_float!(f64);
arith_float!(f32);

fn arith<T: Arith>(
    op: BinOp,
    a: &ArcArray<T, IxDyn>,
    b: &ArcArray<T, IxDyn>,
) -> Result<ArrayD<T>, BoxError> {
    use BinOp::*;
    match op {
        Add => zip2(a, b, T::add),
        Sub => zip2(a, b, T::sub),
        Mul => zip2(a, b, T::mul),
        Div => zip2(a, b, T::div),
        Rem => zip2(a, b, T::rem),
        Pow => zip2(a, b, T::pow),
        Minimum => zip2(a, b, T::min_of),
        Maximum => zip2(a, b, T::max_of),
        _ => Err(format!("{op:?} is not arithmetic").into()),
    }
}

fn compare<T: Copy + PartialOrd>(
    op: BinOp,
    a: &ArcArray<T, IxDyn>,
    b: &ArcArray<T, IxDyn>,
) -> Result<ArrayD<bool>, BoxError> {
    use BinOp::*;
    match op {
        Eq => zip2(a, b, |x, y| x == y),
        Ne => zip2(a, b, |x, y| x != y),
        Lt => zip2(a, b, |x, y| x < y),
        Le => zip2(a, b, |x, y| x <= y),
        Gt => zip2(a, b, |x, y| x > y),
        Ge => zip2(a, b, |x, y| x >= y),
        _ => Err(format!("{op:?} is not a comparison").into()),
    }
}

pub(crate) fn binary(op: BinOp, a: &ArrayBlock, b: &ArrayBlock) -> Result<ArrayBlock, BoxError> {
    use ArrayBlock as B;
    if op.is_comparison() {
        return Ok(B::from(match (a, b) {
            (B::F64(x), B::F64(y)) => compare(op, x, y)?,
            (B::F32(x), B::F32(y)) => compare(op, x, y)?,
            (B::I64(x), B::I64(y)) => compare(op, x, y)?,
            (B::I32(x), B::I32(y)) => compare(op, x, y)?,
            (B::Bool(x), B::Bool(y)) => compare(op, x, y)?,
            _ => return Err("comparison of blocks of different types".into()),
        }));
    }
    Ok(match (a, b) {
        (B::Bool(x), B::Bool(y)) => B::from(match op {
            BinOp::And => zip2(x, y, |p, q| p && q)?,
            BinOp::Or => zip2(x, y, |p, q| p || q)?,
            _ => return Err(format!("{op:?} of boolean blocks").into()),
        }),
        (B::F64(x), B::F64(y)) => B::from(arith(op, x, y)?),
        (B::F32(x), B::F32(y)) => B::from(arith(op, x, y)?),
        (B::I64(x), B::I64(y)) => B::from(arith(op, x, y)?),
        (B::I32(x), B::I32(y)) => B::from(arith(op, x, y)?),
        _ => return Err("arithmetic on blocks of different types".into()),
    })
}

fn unary(op: UnOp, a: &ArrayBlock) -> Result<ArrayBlock, BoxError> {
    use ArrayBlock as B;
    use UnOp::*;
    macro_rules! float {
        ($x:expr, $t:ty) => {
            match op {
                Neg => B::from($x.mapv(|v: $t| -v)),
                Abs => B::from($x.mapv(|v: $t| v.abs())),
                Sqrt => B::from($x.mapv(|v: $t| v.sqrt())),
                Exp => B::from($x.mapv(|v: $t| v.exp())),
                Log => B::from($x.mapv(|v: $t| v.ln())),
                Sin => B::from($x.mapv(|v: $t| v.sin())),
                Cos => B::from($x.mapv(|v: $t| v.cos())),
                Tan => B::from($x.mapv(|v: $t| v.tan())),
                Floor => B::from($x.mapv(|v: $t| v.floor())),
                Ceil => B::from($x.mapv(|v: $t| v.ceil())),
                IsNan => B::from($x.mapv(|v: $t| v.is_nan())),
                Not => return Err("logical not of a float block".into()),
            }
        };
    }
    Ok(match a {
        B::F64(x) => float!(x, f64),
        B::F32(x) => float!(x, f32),
        B::I64(x) => match op {
            Neg => B::from(x.mapv(Arith::neg)),
            Abs => B::from(x.mapv(Arith::abs)),
            _ => return Err(format!("{op:?} of an integer block").into()),
        },
        B::I32(x) => match op {
            Neg => B::from(x.mapv(Arith::neg)),
            Abs => B::from(x.mapv(Arith::abs)),
            _ => return Err(format!("{op:?} of an integer block").into()),
        },
        B::Bool(x) => match op {
            Not => B::from(x.mapv(|v| !v)),
            _ => return Err(format!("{op:?} of a boolean block").into()),
        },
        _ => return Err("unsupported block type".into()),
    })
}

/// The element-wise expression of a node and the arrays it reads.
pub(crate) struct Fused {
    pub expr: Expr,
    pub leaves: Vec<Arc<Node>>,
}

/// An operand while an expression is being built.
#[derive(Clone)]
pub(crate) enum Operand {
    Array(Arc<Node>),
    Scalar(Scalar),
}

impl Operand {
    fn dtype(&self) -> Option<DType> {
        match self {
            Operand::Array(n) => Some(n.dtype),
            Operand::Scalar(_) => None,
        }
    }
}

/// Adds `node`'s expression to `leaves`, returning it with inputs renumbered.
fn absorb(node: &Arc<Node>, leaves: &mut Vec<Arc<Node>>) -> Expr {
    let (expr, own): (Expr, Vec<Arc<Node>>) = match &node.fused {
        Some(f) => (f.expr.clone(), f.leaves.clone()),
        None => (Expr::Input(0), vec![node.clone()]),
    };
    let map: Vec<u32> = own
        .iter()
        .map(|l| {
            let pos = leaves
                .iter()
                .position(|x| x.name == l.name)
                .unwrap_or_else(|| {
                    leaves.push(l.clone());
                    leaves.len() - 1
                });
            pos as u32
        })
        .collect();
    expr.shift(&map)
}

/// The dtype each operand is cast to, and the result dtype, of `op` on `dtypes`.
fn operand_dtype(dtypes: &[Option<DType>], scalars: &[Option<Scalar>]) -> DType {
    let arrays: Vec<DType> = dtypes.iter().flatten().copied().collect();
    let base = arrays
        .iter()
        .copied()
        .reduce(DType::promote_same)
        .unwrap_or_else(|| {
            scalars
                .iter()
                .flatten()
                .map(|s| s.own_dtype())
                .fold(DType::Bool, DType::promote_same)
        });
    scalars
        .iter()
        .flatten()
        .fold(base, |d, s| DType::promote_same(d, s.dtype_with(d)))
}

impl DType {
    /// Promotion that keeps equal types equal (`bool` with `bool` stays `bool`).
    fn promote_same(a: DType, b: DType) -> DType {
        if a == b {
            a
        } else {
            DType::promote(a, b)
        }
    }
}

/// Builds the element-wise node `f(operands...)`.
///
/// `compute_dtype` is the type the operands are cast to (None: promote them), `out` maps it to
/// the result type, and `build` assembles the expression from the cast operand expressions.
pub(crate) fn elementwise(
    label: &str,
    operands: Vec<Operand>,
    compute_dtype: impl FnOnce(DType) -> Result<DType, ArrayError>,
    out_dtype: impl FnOnce(DType) -> DType,
    build: impl FnOnce(Vec<Expr>) -> Expr,
) -> Result<Arc<Node>, ArrayError> {
    // Shapes.
    let mut shape: Vec<usize> = Vec::new();
    let mut first = true;
    for o in &operands {
        if let Operand::Array(n) = o {
            shape = if first {
                n.shape.clone()
            } else {
                broadcast_shape(&shape, &n.shape).ok_or_else(|| ArrayError::Broadcast {
                    left: shape.clone(),
                    right: n.shape.clone(),
                })?
            };
            first = false;
        }
    }
    // Types.
    let dtypes: Vec<Option<DType>> = operands.iter().map(Operand::dtype).collect();
    let scalars: Vec<Option<Scalar>> = operands
        .iter()
        .map(|o| match o {
            Operand::Scalar(s) => Some(*s),
            Operand::Array(_) => None,
        })
        .collect();
    let cd = compute_dtype(operand_dtype(&dtypes, &scalars))?;
    let od = out_dtype(cd);
    // Chunks: the common refinement of every operand along each shared dimension.
    let ndim = shape.len();
    let mut out_chunks: Vec<Option<Vec<usize>>> = vec![None; ndim];
    for o in &operands {
        if let Operand::Array(n) = o {
            let off = ndim - n.ndim();
            for (k, c) in n.chunks.iter().enumerate() {
                if n.shape[k] == shape[k + off] {
                    let slot = &mut out_chunks[k + off];
                    *slot = Some(match slot.take() {
                        None => c.clone(),
                        Some(prev) => chunks::refine(&prev, c),
                    });
                }
            }
        }
    }
    let out_chunks: Vec<Vec<usize>> = out_chunks
        .into_iter()
        .zip(&shape)
        .map(|(c, &d)| c.unwrap_or_else(|| chunks::regular(d, d.max(1))))
        .collect();
    // Operand expressions over a shared list of leaves (rechunked where needed).
    let mut leaves: Vec<Arc<Node>> = Vec::new();
    let mut exprs = Vec::with_capacity(operands.len());
    for o in &operands {
        let e = match o {
            Operand::Scalar(s) => Expr::Scalar(*s, cd),
            Operand::Array(n) => {
                let e = absorb(n, &mut leaves);
                if n.dtype == cd {
                    e
                } else {
                    Expr::Cast(cd, Box::new(e))
                }
            }
        };
        exprs.push(e);
    }
    let mut expr = build(exprs);
    // Rechunk leaves whose chunks differ from the output's along a shared dimension.
    for leaf in leaves.iter_mut() {
        let off = ndim - leaf.ndim();
        let want: Vec<Vec<usize>> = leaf
            .chunks
            .iter()
            .enumerate()
            .map(|(k, c)| {
                if leaf.shape[k] == shape[k + off] {
                    out_chunks[k + off].clone()
                } else {
                    c.clone()
                }
            })
            .collect();
        if want != leaf.chunks {
            *leaf = super::rechunk::rechunk_node(leaf, want);
        }
    }
    // The same leaf may now appear twice; that is harmless (the task lists its key twice).
    if matches!(expr, Expr::Input(_)) && od != cd {
        expr = Expr::Cast(od, Box::new(expr));
    }
    let mut tok = Tokenizer::new("array-elementwise");
    tok.write(&format!("{expr:?}"));
    for l in &leaves {
        tok.write(&*l.name);
    }
    let name = tok.name(label);
    let fused = Arc::new(Fused {
        expr: expr.clone(),
        leaves: leaves.clone(),
    });
    let out_shape = shape.clone();
    let lower_leaves = leaves.clone();
    let node = super::blockwise_node(name, shape, out_chunks, od, leaves, move |_n, idx| {
        let deps: Vec<Key> = lower_leaves
            .iter()
            .map(|l| {
                let off = out_shape.len() - l.ndim();
                let li: Vec<usize> = (0..l.ndim())
                    .map(|k| {
                        if l.shape[k] == out_shape[k + off] {
                            idx[k + off]
                        } else {
                            0
                        }
                    })
                    .collect();
                l.key(&li)
            })
            .collect();
        (
            Arc::new(ArrayOp::Elementwise { expr: expr.clone() }) as Arc<dyn dusk_core::Op>,
            deps,
        )
    });
    let mut node = Arc::try_unwrap(node).unwrap_or_else(|_| unreachable!("a fresh node"));
    node.fused = Some(fused);
    Ok(Arc::new(node))
}

fn bin_node(op: BinOp, a: Operand, b: Operand) -> Result<Arc<Node>, ArrayError> {
    let label = format!("{op:?}").to_lowercase();
    let compute = move |d: DType| -> Result<DType, ArrayError> {
        Ok(match op {
            BinOp::Div => d.to_float(),
            BinOp::Pow if d == DType::Bool => DType::I64,
            BinOp::And | BinOp::Or => DType::Bool,
            _ if !op.is_comparison() && d == DType::Bool => DType::I64,
            _ => d,
        })
    };
    let out = move |d: DType| if op.is_comparison() { DType::Bool } else { d };
    elementwise(&label, vec![a, b], compute, out, |mut e| {
        let r = e.pop().unwrap_or(Expr::Input(0));
        let l = e.pop().unwrap_or(Expr::Input(0));
        Expr::Binary(op, Box::new(l), Box::new(r))
    })
}

fn un_node(op: UnOp, a: &Arc<Node>) -> Result<Arc<Node>, ArrayError> {
    let label = format!("{op:?}").to_lowercase();
    elementwise(
        &label,
        vec![Operand::Array(a.clone())],
        |d| {
            if op == UnOp::Not {
                return Ok(DType::Bool);
            }
            if op.float_only() {
                return Ok(d.to_float());
            }
            if d == DType::Bool {
                return Err(ArrayError::Dtype {
                    op: "negation/abs",
                    dtype: "bool",
                });
            }
            Ok(d)
        },
        |d| if op == UnOp::IsNan { DType::Bool } else { d },
        |mut e| Expr::Unary(op, Box::new(e.pop().unwrap_or(Expr::Input(0)))),
    )
}

/// Panics with the error's message: the operator traits cannot return a `Result`.
fn or_panic(r: Result<Arc<Node>, ArrayError>) -> Arc<Node> {
    match r {
        Ok(n) => n,
        Err(e) => panic!("{e}"),
    }
}

macro_rules! fallible_binary {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {
        impl<T: Element> Array<T> {
            $(
                $(#[$doc])*
                pub fn $name(&self, other: &Array<T>) -> Result<Array<T>, ArrayError> {
                    let n = bin_node(BinOp::$op, Operand::Array(self.node.clone()), Operand::Array(other.node.clone()))?;
                    Ok(self.derive(n))
                }
            )*
        }
    };
}

fallible_binary! {
    /// `self + other` with broadcasting; a shape mismatch is an error.
    ///
    /// ```
    /// use dusk_collections::array;
    /// use dusk_scheduler::Compute;
    /// let a = array::arange(6, 4).unwrap().reshape(&[2, 3]).unwrap();
    /// let b = array::arange(3, 2).unwrap();
    /// let s = a.add(&b).unwrap().compute().unwrap();
    /// assert_eq!(s, ndarray::arr2(&[[0, 2, 4], [3, 5, 7]]).into_dyn());
    /// assert!(a.add(&array::arange(2, 2).unwrap()).is_err());
    /// ```
    add => Add,
    /// `self - other` with broadcasting.
    ///
    /// ```
    /// let a = dusk_collections::array::ones::<f64>(&[3], 2).unwrap();
    /// assert!(a.sub(&a).is_ok());
    /// ```
    sub => Sub,
    /// `self * other` with broadcasting.
    ///
    /// ```
    /// let a = dusk_collections::array::ones::<f64>(&[3], 2).unwrap();
    /// assert!(a.mul(&a).is_ok());
    /// ```
    mul => Mul,
    /// `self % other` (NumPy's sign convention: the result has the divisor's sign).
    ///
    /// ```
    /// let a = dusk_collections::array::ones::<i64>(&[3], 2).unwrap();
    /// assert!(a.rem(&a).is_ok());
    /// ```
    rem => Rem,
    /// `self ** other`.
    ///
    /// ```
    /// let a = dusk_collections::array::ones::<f64>(&[3], 2).unwrap();
    /// assert!(a.pow(&a).is_ok());
    /// ```
    pow => Pow,
    /// Element-wise minimum (NaN propagates).
    ///
    /// ```
    /// let a = dusk_collections::array::ones::<f64>(&[3], 2).unwrap();
    /// assert!(a.minimum(&a).is_ok());
    /// ```
    minimum => Minimum,
    /// Element-wise maximum (NaN propagates).
    ///
    /// ```
    /// let a = dusk_collections::array::ones::<f64>(&[3], 2).unwrap();
    /// assert!(a.maximum(&a).is_ok());
    /// ```
    maximum => Maximum,
}

macro_rules! comparisons {
    ($($(#[$doc:meta])* $name:ident, $sname:ident => $op:ident),* $(,)?) => {
        impl<T: Element> Array<T> {
            $(
                $(#[$doc])*
                pub fn $name(&self, other: &Array<T>) -> Result<Array<bool>, ArrayError> {
                    let n = bin_node(BinOp::$op, Operand::Array(self.node.clone()), Operand::Array(other.node.clone()))?;
                    Ok(self.derive(n))
                }

                /// The same comparison against a scalar.
                ///
                /// ```
                /// let a = dusk_collections::array::arange(4, 2).unwrap();
                #[doc = concat!("let _mask = a.", stringify!($sname), "(2);")]
                /// ```
                pub fn $sname(&self, value: impl Into<Scalar>) -> Array<bool> {
                    self.derive(or_panic(bin_node(BinOp::$op, Operand::Array(self.node.clone()), Operand::Scalar(value.into()))))
                }
            )*
        }
    };
}

comparisons! {
    /// `self == other`, element-wise.
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let a = dusk_collections::array::arange(4, 3).unwrap();
    /// assert_eq!(a.eq_scalar(2).compute().unwrap().iter().filter(|&&b| b).count(), 1);
    /// assert!(a.equal(&a).is_ok());
    /// ```
    equal, eq_scalar => Eq,
    /// `self != other`.
    ///
    /// ```
    /// let a = dusk_collections::array::arange(4, 3).unwrap();
    /// assert!(a.not_equal(&a).is_ok());
    /// ```
    not_equal, ne_scalar => Ne,
    /// `self < other`.
    ///
    /// ```
    /// let a = dusk_collections::array::arange(4, 3).unwrap();
    /// assert!(a.less(&a).is_ok());
    /// ```
    less, lt_scalar => Lt,
    /// `self <= other`.
    ///
    /// ```
    /// let a = dusk_collections::array::arange(4, 3).unwrap();
    /// assert!(a.less_equal(&a).is_ok());
    /// ```
    less_equal, le_scalar => Le,
    /// `self > other`.
    ///
    /// ```
    /// let a = dusk_collections::array::arange(4, 3).unwrap();
    /// assert!(a.greater(&a).is_ok());
    /// ```
    greater, gt_scalar => Gt,
    /// `self >= other`.
    ///
    /// ```
    /// let a = dusk_collections::array::arange(4, 3).unwrap();
    /// assert!(a.greater_equal(&a).is_ok());
    /// ```
    greater_equal, ge_scalar => Ge,
}

impl<T: Element> Array<T> {
    /// `self / other` (true division: integers divide as floats).
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let a = dusk_collections::array::arange(4, 3).unwrap();
    /// let h = a.div(&dusk_collections::array::full(&[4], 2i64, 4).unwrap()).unwrap();
    /// assert_eq!(h.compute().unwrap().as_slice().unwrap(), &[0.0, 0.5, 1.0, 1.5]);
    /// ```
    pub fn div(&self, other: &Array<T>) -> Result<Array<T::Float>, ArrayError> {
        let n = bin_node(
            BinOp::Div,
            Operand::Array(self.node.clone()),
            Operand::Array(other.node.clone()),
        )?;
        Ok(self.derive(n))
    }

    /// `self ** value`.
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let a = dusk_collections::array::arange(3, 2).unwrap();
    /// assert_eq!(a.pow_scalar(2).compute().unwrap().as_slice().unwrap(), &[0, 1, 4]);
    /// ```
    pub fn pow_scalar(&self, value: impl Into<Scalar>) -> Array<T> {
        let n = bin_node(
            BinOp::Pow,
            Operand::Array(self.node.clone()),
            Operand::Scalar(value.into()),
        );
        self.derive(or_panic(n))
    }

    /// Clips the values into `[lo, hi]`.
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let a = dusk_collections::array::arange(5, 2).unwrap();
    /// assert_eq!(a.clip(1, 3).compute().unwrap().as_slice().unwrap(), &[1, 1, 2, 3, 3]);
    /// ```
    pub fn clip(&self, lo: impl Into<Scalar>, hi: impl Into<Scalar>) -> Array<T> {
        let lo = or_panic(bin_node(
            BinOp::Maximum,
            Operand::Array(self.node.clone()),
            Operand::Scalar(lo.into()),
        ));
        let n = or_panic(bin_node(
            BinOp::Minimum,
            Operand::Array(lo),
            Operand::Scalar(hi.into()),
        ));
        let n = if n.dtype == T::DTYPE {
            n
        } else {
            cast_node(&n, T::DTYPE)
        };
        self.derive(n)
    }

    /// The array converted to `U` (floats truncate toward zero into integers; non-zero is
    /// `true`).
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let a = dusk_collections::array::linspace(0.0, 2.0, 5, 2).unwrap();
    /// assert_eq!(a.astype::<i32>().compute().unwrap().as_slice().unwrap(), &[0, 0, 1, 1, 2]);
    /// ```
    pub fn astype<U: Element>(&self) -> Array<U> {
        if T::DTYPE == U::DTYPE {
            return self.derive(self.node.clone());
        }
        self.derive(cast_node(&self.node, U::DTYPE))
    }
}

fn cast_node(n: &Arc<Node>, to: DType) -> Arc<Node> {
    or_panic(elementwise(
        "astype",
        vec![Operand::Array(n.clone())],
        |_| Ok(to),
        |d| d,
        |mut e| match e.pop() {
            Some(Expr::Cast(_, inner)) => Expr::Cast(to, inner),
            Some(other) => Expr::Cast(to, Box::new(other)),
            None => Expr::Input(0),
        },
    ))
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {
        impl<T: Element> Array<T> {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Array<T::Float> {
                    self.derive(or_panic(un_node(UnOp::$op, &self.node)))
                }
            )*
        }
    };
}

unary_methods! {
    /// Square root (floats; integers become `f64`).
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let a = dusk_collections::array::full(&[2], 9.0, 1).unwrap();
    /// assert_eq!(a.sqrt().compute().unwrap().as_slice().unwrap(), &[3.0, 3.0]);
    /// ```
    sqrt => Sqrt,
    /// `e^x`.
    ///
    /// ```
    /// let _ = dusk_collections::array::zeros::<f64>(&[2], 1).unwrap().exp();
    /// ```
    exp => Exp,
    /// Natural logarithm.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[2], 1).unwrap().log();
    /// ```
    log => Log,
    /// Sine.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[2], 1).unwrap().sin();
    /// ```
    sin => Sin,
    /// Cosine.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[2], 1).unwrap().cos();
    /// ```
    cos => Cos,
    /// Tangent.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[2], 1).unwrap().tan();
    /// ```
    tan => Tan,
    /// Round down.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[2], 1).unwrap().floor();
    /// ```
    floor => Floor,
    /// Round up.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[2], 1).unwrap().ceil();
    /// ```
    ceil => Ceil,
}

impl<T: Element> Array<T> {
    /// Absolute value (same type; an error-free no-op is not offered for `bool`).
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let a = dusk_collections::array::arange(3, 2).unwrap();
    /// assert_eq!((-&a).abs().compute().unwrap().as_slice().unwrap(), &[0, 1, 2]);
    /// ```
    ///
    /// # Panics
    /// On a `bool` array.
    pub fn abs(&self) -> Array<T> {
        self.derive(or_panic(un_node(UnOp::Abs, &self.node)))
    }

    /// Which elements are NaN.
    ///
    /// ```
    /// let _ = dusk_collections::array::ones::<f64>(&[2], 1).unwrap().isnan();
    /// ```
    pub fn isnan(&self) -> Array<bool> {
        self.derive(or_panic(un_node(UnOp::IsNan, &self.node)))
    }
}

impl Array<bool> {
    /// Logical not.
    ///
    /// ```
    /// use dusk_scheduler::Compute;
    /// let m = dusk_collections::array::arange(3, 2).unwrap().gt_scalar(0);
    /// assert_eq!(m.not().compute().unwrap().as_slice().unwrap(), &[true, false, false]);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn not(&self) -> Array<bool> {
        self.derive(or_panic(un_node(UnOp::Not, &self.node)))
    }

    /// Logical and, with broadcasting.
    ///
    /// ```
    /// let m = dusk_collections::array::arange(3, 2).unwrap().gt_scalar(0);
    /// assert!(m.and(&m).is_ok());
    /// ```
    pub fn and(&self, other: &Array<bool>) -> Result<Array<bool>, ArrayError> {
        let n = bin_node(
            BinOp::And,
            Operand::Array(self.node.clone()),
            Operand::Array(other.node.clone()),
        )?;
        Ok(self.derive(n))
    }

    /// Logical or, with broadcasting.
    ///
    /// ```
    /// let m = dusk_collections::array::arange(3, 2).unwrap().gt_scalar(0);
    /// assert!(m.or(&m).is_ok());
    /// ```
    pub fn or(&self, other: &Array<bool>) -> Result<Array<bool>, ArrayError> {
        let n = bin_node(
            BinOp::Or,
            Operand::Array(self.node.clone()),
            Operand::Array(other.node.clone()),
        )?;
        Ok(self.derive(n))
    }
}

/// `where(cond, a, b)`: elements of `a` where `cond` holds, else of `b`, with broadcasting.
///
/// ```
/// use dusk_collections::array::{self, where_};
/// use dusk_scheduler::Compute;
/// let x = array::arange(5, 2).unwrap();
/// let y = where_(&x.gt_scalar(2), &x, &(&x * 10)).unwrap();
/// assert_eq!(y.compute().unwrap().as_slice().unwrap(), &[0, 10, 20, 3, 4]);
/// ```
pub fn where_<T: Element>(
    cond: &Array<bool>,
    a: &Array<T>,
    b: &Array<T>,
) -> Result<Array<T>, ArrayError> {
    let n = elementwise(
        "where",
        vec![
            Operand::Array(cond.node.clone()),
            Operand::Array(a.node.clone()),
            Operand::Array(b.node.clone()),
        ],
        |_| Ok(T::DTYPE),
        |_| T::DTYPE,
        |mut e| {
            let b = e.pop().unwrap_or(Expr::Input(0));
            let a = e.pop().unwrap_or(Expr::Input(0));
            let c = e.pop().unwrap_or(Expr::Input(0));
            // The condition was cast to T with the others; undo that.
            let c = match c {
                Expr::Cast(_, inner) => *inner,
                other => other,
            };
            Expr::Where(Box::new(c), Box::new(a), Box::new(b))
        },
    )?;
    Ok(a.derive(n))
}

macro_rules! operator_traits {
    ($($tr:ident $m:ident $op:ident),*) => {$(
        impl<T: Element> ops::$tr<&Array<T>> for &Array<T> {
            type Output = Array<T>;
            /// # Panics
            /// If the shapes do not broadcast (use the method of the same name for a `Result`).
            fn $m(self, rhs: &Array<T>) -> Array<T> {
                self.derive(or_panic(bin_node(BinOp::$op, Operand::Array(self.node.clone()), Operand::Array(rhs.node.clone()))))
            }
        }
        impl<T: Element> ops::$tr<Array<T>> for Array<T> {
            type Output = Array<T>;
            fn $m(self, rhs: Array<T>) -> Array<T> {
                ops::$tr::$m(&self, &rhs)
            }
        }
        impl<T: Element, S: Into<Scalar>> ops::$tr<S> for &Array<T> {
            type Output = Array<T>;
            fn $m(self, rhs: S) -> Array<T> {
                let n = bin_node(BinOp::$op, Operand::Array(self.node.clone()), Operand::Scalar(rhs.into()));
                let n = or_panic(n);
                let n = if n.dtype == T::DTYPE { n } else { cast_node(&n, T::DTYPE) };
                self.derive(n)
            }
        }
    )*};
}
operator_traits!(Add add Add, Sub sub Sub, Mul mul Mul, Rem rem Rem);

impl<T: Element> ops::Div<&Array<T>> for &Array<T> {
    type Output = Array<T::Float>;
    /// # Panics
    /// If the shapes do not broadcast (use [`Array::div`] for a `Result`).
    fn div(self, rhs: &Array<T>) -> Array<T::Float> {
        self.derive(or_panic(bin_node(
            BinOp::Div,
            Operand::Array(self.node.clone()),
            Operand::Array(rhs.node.clone()),
        )))
    }
}

impl<T: Element, S: Into<Scalar>> ops::Div<S> for &Array<T> {
    type Output = Array<T::Float>;
    fn div(self, rhs: S) -> Array<T::Float> {
        let n = or_panic(bin_node(
            BinOp::Div,
            Operand::Array(self.node.clone()),
            Operand::Scalar(rhs.into()),
        ));
        let n = if n.dtype == <T::Float as Element>::DTYPE {
            n
        } else {
            cast_node(&n, <T::Float as Element>::DTYPE)
        };
        self.derive(n)
    }
}

impl<T: Element> ops::Neg for &Array<T> {
    type Output = Array<T>;
    /// # Panics
    /// On a `bool` array.
    fn neg(self) -> Array<T> {
        self.derive(or_panic(un_node(UnOp::Neg, &self.node)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_shapes() {
        assert_eq!(broadcast_shape(&[4, 1], &[3]), Some(vec![4, 3]));
        assert_eq!(broadcast_shape(&[4, 2], &[3]), None);
        assert_eq!(broadcast_shape(&[], &[3]), Some(vec![3]));
    }

    #[test]
    fn integer_division_by_zero_is_zero() {
        assert_eq!(Arith::div(7i64, 0), 0);
        assert_eq!(Arith::div(-7i64, 2), -4);
        assert_eq!(Arith::rem(-7i64, 2), 1);
    }
}
