//! Named functions that any process of the same program can run: the way user code reaches
//! remote workers.
//!
//! A closure cannot cross a process boundary, but a function compiled into the program can be
//! named. [`register_fn!`](crate::register_fn) records a plain Rust function under its name;
//! [`remote`] makes an op that calls it by that name. The op travels as the name alone and
//! every worker started from the same program finds the function in its own registry (Dask
//! pickles functions; Rust programs register them). Arguments and the result are serialized
//! values ([`Data::encode`]), so they travel too.
//!
//! ```
//! use dusk_core::{remote, register_fn, Data, Op};
//!
//! fn add(a: u64, b: u64) -> u64 { a + b }
//! register_fn!(add: fn(u64, u64) -> u64);
//!
//! let op = remote("add");
//! let out = op.run(vec![Data::encode(&2u64).unwrap(), Data::encode(&40u64).unwrap()]).unwrap();
//! assert_eq!(out.decode::<u64>().unwrap(), 42);
//! // The op travels as its name.
//! assert_eq!(op.to_wire().unwrap().kind, "dusk.fn");
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::op::encode_serde;
use crate::{register_op, BoxError, Data, Op, SerdeOp, WireError, WireOp};

/// Calls a registered function on its serialized arguments.
pub type CallFn = fn(Vec<Data>) -> Result<Data, BoxError>;

/// An entry of the function registry (made by [`register_fn!`](crate::register_fn)).
pub struct FnEntry {
    /// The name the function is called by.
    pub name: &'static str,
    /// Decodes the arguments, calls the function, encodes the result.
    pub call: CallFn,
}

inventory::collect!(FnEntry);

fn registry() -> &'static HashMap<&'static str, CallFn> {
    static REGISTRY: OnceLock<HashMap<&'static str, CallFn>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut map = HashMap::new();
        for entry in inventory::iter::<FnEntry> {
            map.entry(entry.name).or_insert(entry.call);
        }
        map
    })
}

/// Whether this program has a function registered under `name`.
///
/// ```
/// assert!(!dusk_core::remote::is_registered_fn("no_such_function"));
/// ```
pub fn is_registered_fn(name: &str) -> bool {
    registry().contains_key(name)
}

/// Registers a function so that [`remote`] ops can call it by name, in this process and in
/// every worker started from the same program. Each argument and the result must implement
/// serde's traits (arguments also `Clone`); give the signature after the name:
/// `register_fn!(count: fn(String) -> u64);`.
#[macro_export]
macro_rules! register_fn {
    ($f:ident : fn($($arg:ty),* $(,)?) -> $ret:ty) => {
        $crate::inventory::submit! {
            $crate::remote::FnEntry {
                name: stringify!($f),
                call: {
                    fn call(inputs: Vec<$crate::Data>) -> Result<$crate::Data, $crate::BoxError> {
                        let expected = 0usize $(+ { let _ = stringify!($arg); 1 })*;
                        if inputs.len() != expected {
                            return Err(format!(
                                "function `{}` takes {} arguments, got {}",
                                stringify!($f), expected, inputs.len()
                            ).into());
                        }
                        #[allow(unused_mut, unused_variables)]
                        let mut args = inputs.iter();
                        let result: $ret = $f($(
                            args.next()
                                .ok_or("missing argument")?
                                .decode::<$arg>()?
                        ),*);
                        Ok($crate::Data::encode(&result)?)
                    }
                    call
                },
            }
        }
    };
}

/// An op that calls the function registered under `name` (see [`register_fn!`]).
///
/// ```
/// use dusk_core::Op;
/// let err = dusk_core::remote("nope").run(vec![]).unwrap_err();
/// assert!(err.to_string().contains("nope"));
/// ```
pub fn remote(name: &str) -> RemoteFn {
    RemoteFn {
        name: name.to_string(),
    }
}

/// The op [`remote`] makes: a registered function called by name.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RemoteFn {
    name: String,
}

impl SerdeOp for RemoteFn {
    const KIND: &'static str = "dusk.fn";
}

impl Op for RemoteFn {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let call = registry().get(self.name.as_str()).ok_or_else(|| {
            format!(
                "function `{}` is not registered in this program; register it with \
                 register_fn! and start the workers from the same program",
                self.name
            )
        })?;
        call(inputs)
    }

    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}

register_op!(RemoteFn);
