//! Functions registered by name as bag steps: user code that also runs on a cluster.
//!
//! A closure passed to `map` or `filter` exists only in the process that built the bag. A
//! plain function registered with [`register_bag_fn!`](crate::register_bag_fn) can be named
//! instead ([`Bag::map_named`], [`Bag::filter_named`]): the step then travels as its name, and
//! every process of the same program finds the function in its own registry — the bag
//! counterpart of [`register_fn!`](dusk_core::register_fn). Workers started from the user's
//! program (`LocalCluster::processes(current_program(), ..)`) run such steps; a generic
//! `dusk worker` does not know them and says which name it is missing.
//!
//! The registry keeps, per name, a [`NamedStep`]: the function with its input and output
//! types, so a use with other types is refused when the bag is built, and a worker can rebuild
//! the step over its parent's stream without knowing the types statically. Items between two
//! named steps may be of any type (they stream through one task); what a task finally
//! produces must still be a bag item type that can travel (see the `wire` module).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use dusk_core::{BoxError, Tokenizer};

use super::error::BagError;
use super::stream::{Elem, Emit, Pipe, Stream};
use super::wire::{build, StepSpec, StreamSpec};
use super::Bag;

/// One registered bag function (made by [`register_bag_fn!`](crate::register_bag_fn)).
pub struct BagFnEntry {
    /// The name it is used by.
    pub name: &'static str,
    /// Makes the step.
    pub make: fn() -> Box<dyn NamedStep>,
}

dusk_core::inventory::collect!(BagFnEntry);

/// A registered function as a bag step, with its types (made by
/// [`register_bag_fn!`](crate::register_bag_fn); not implemented by hand).
pub trait NamedStep: Send + Sync {
    /// `map` or `filter`.
    fn kind(&self) -> &'static str;
    /// The input item type, and its name.
    fn input(&self) -> (TypeId, &'static str);
    /// The output item type, and its name.
    fn output(&self) -> (TypeId, &'static str);
    /// The step over `parent` (an `Arc` of the crate's stream type of the input items),
    /// named `token`; returns the stream of the output items, boxed the same way.
    #[doc(hidden)]
    fn apply(
        &self,
        name: &str,
        token: String,
        parent: Box<dyn Any>,
    ) -> Result<Box<dyn Any>, BoxError>;
    /// The step over the stream a wire description of its parent describes.
    #[doc(hidden)]
    fn rebuild(&self, name: &str, parent: &dyn Any) -> Result<Box<dyn Any>, BoxError>;
}

fn signature(step: &dyn NamedStep) -> String {
    format!(
        "{} fn(&{}) -> {}",
        step.kind(),
        step.input().1,
        step.output().1
    )
}

/// `map` with a registered function.
struct MapStep<In, Out>(fn(&In) -> Out);

/// `filter` with a registered predicate.
struct FilterStep<T>(fn(&T) -> bool);

fn parent_stream<T: 'static>(parent: Box<dyn Any>) -> Result<Arc<dyn Stream<T>>, BoxError> {
    parent
        .downcast::<Arc<dyn Stream<T>>>()
        .map(|s| *s)
        .map_err(|_| {
            format!(
                "a named step expected items of {}",
                std::any::type_name::<T>()
            )
            .into()
        })
}

/// The step `step` of the registered function `name` over `parent` (a boxed stream of `S`),
/// as a boxed stream of `T`.
fn named_pipe<S: 'static, T: 'static>(
    label: &str,
    name: &str,
    token: String,
    parent: Box<dyn Any>,
    step: impl for<'a, 'e> Fn(usize, Elem<'a, S>, &mut Emit<'e, T>) -> Result<(), BoxError>
        + Send
        + Sync
        + 'static,
) -> Result<Box<dyn Any>, BoxError> {
    let stream: Arc<dyn Stream<T>> = Arc::new(Pipe {
        parent: parent_stream::<S>(parent)?,
        label: label.to_string(),
        token,
        step: Box::new(step),
        step_spec: Some(StepSpec::Named {
            name: name.to_string(),
        }),
    });
    Ok(Box::new(stream))
}

fn parent_spec(parent: &dyn Any) -> Result<&StreamSpec, BoxError> {
    parent
        .downcast_ref::<StreamSpec>()
        .ok_or_else(|| "a named step was given no stream description".into())
}

impl<In: Send + Sync + 'static, Out: Send + Sync + 'static> NamedStep for MapStep<In, Out> {
    fn kind(&self) -> &'static str {
        "map"
    }
    fn input(&self) -> (TypeId, &'static str) {
        (TypeId::of::<In>(), std::any::type_name::<In>())
    }
    fn output(&self) -> (TypeId, &'static str) {
        (TypeId::of::<Out>(), std::any::type_name::<Out>())
    }
    fn apply(
        &self,
        name: &str,
        token: String,
        parent: Box<dyn Any>,
    ) -> Result<Box<dyn Any>, BoxError> {
        let f = self.0;
        named_pipe(
            "map",
            name,
            token,
            parent,
            move |_, e: Elem<'_, In>, emit: &mut Emit<'_, Out>| emit(Elem::Owned(f(e.get()))),
        )
    }
    fn rebuild(&self, name: &str, parent: &dyn Any) -> Result<Box<dyn Any>, BoxError> {
        let parent = build::<In>(parent_spec(parent)?)?;
        self.apply(name, String::new(), Box::new(parent))
    }
}

impl<T: Send + Sync + 'static> NamedStep for FilterStep<T> {
    fn kind(&self) -> &'static str {
        "filter"
    }
    fn input(&self) -> (TypeId, &'static str) {
        (TypeId::of::<T>(), std::any::type_name::<T>())
    }
    fn output(&self) -> (TypeId, &'static str) {
        (TypeId::of::<bool>(), "bool")
    }
    fn apply(
        &self,
        name: &str,
        token: String,
        parent: Box<dyn Any>,
    ) -> Result<Box<dyn Any>, BoxError> {
        let keep = self.0;
        named_pipe(
            "filter",
            name,
            token,
            parent,
            move |_, e: Elem<'_, T>, emit: &mut Emit<'_, T>| {
                if keep(e.get()) {
                    emit(e)
                } else {
                    Ok(())
                }
            },
        )
    }
    fn rebuild(&self, name: &str, parent: &dyn Any) -> Result<Box<dyn Any>, BoxError> {
        let parent = build::<T>(parent_spec(parent)?)?;
        self.apply(name, String::new(), Box::new(parent))
    }
}

/// The step of a function registered for `map` (used by `register_bag_fn!`).
#[doc(hidden)]
pub fn named_map<In: Send + Sync + 'static, Out: Send + Sync + 'static>(
    f: fn(&In) -> Out,
) -> Box<dyn NamedStep> {
    Box::new(MapStep(f))
}

/// The step of a predicate registered for `filter` (used by `register_bag_fn!`).
#[doc(hidden)]
pub fn named_filter<T: Send + Sync + 'static>(f: fn(&T) -> bool) -> Box<dyn NamedStep> {
    Box::new(FilterStep(f))
}

/// Registers a function as a bag step, usable by name in this process and in every worker
/// started from the same program: `register_bag_fn!(map NAME: fn(&IN) -> OUT)` for
/// [`Bag::map_named`], `register_bag_fn!(filter NAME: fn(&T) -> bool)` for
/// [`Bag::filter_named`]. Use it once per function, at module level.
///
/// ```
/// use dusk_collections::bag::range;
/// use dusk_collections::register_bag_fn;
/// use dusk_scheduler::Compute;
///
/// fn is_even(x: &u64) -> bool { x % 2 == 0 }
/// fn square(x: &u64) -> u64 { x * x }
/// register_bag_fn!(filter is_even: fn(&u64) -> bool);
/// register_bag_fn!(map square: fn(&u64) -> u64);
///
/// let b = range(10, 3).filter_named("is_even").unwrap().map_named::<u64>("square").unwrap();
/// assert_eq!(b.compute().unwrap(), vec![0, 4, 16, 36, 64]);
/// ```
#[macro_export]
macro_rules! register_bag_fn {
    (map $f:ident : fn(& $in:ty) -> $out:ty) => {
        $crate::bag::__inventory::submit! {
            $crate::bag::BagFnEntry {
                name: stringify!($f),
                make: {
                    fn make() -> Box<dyn $crate::bag::NamedStep> {
                        $crate::bag::named_map::<$in, $out>($f)
                    }
                    make
                },
            }
        }
    };
    (filter $f:ident : fn(& $t:ty) -> bool) => {
        $crate::bag::__inventory::submit! {
            $crate::bag::BagFnEntry {
                name: stringify!($f),
                make: {
                    fn make() -> Box<dyn $crate::bag::NamedStep> {
                        $crate::bag::named_filter::<$t>($f)
                    }
                    make
                },
            }
        }
    };
}

/// Makes a registered step.
type MakeStep = fn() -> Box<dyn NamedStep>;

fn registry() -> &'static HashMap<&'static str, MakeStep> {
    static REGISTRY: OnceLock<HashMap<&'static str, MakeStep>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut map = HashMap::new();
        for entry in dusk_core::inventory::iter::<BagFnEntry> {
            map.entry(entry.name).or_insert(entry.make);
        }
        map
    })
}

fn lookup(name: &str) -> Result<Box<dyn NamedStep>, BagError> {
    registry()
        .get(name)
        .map(|make| make())
        .ok_or_else(|| BagError::UnknownFunction {
            name: name.to_string(),
        })
}

/// The named step `name` over the stream `parent` describes (how a worker rebuilds it);
/// returns the boxed stream of its output items.
pub(crate) fn rebuild(name: &str, parent: &StreamSpec) -> Result<Box<dyn Any>, BoxError> {
    lookup(name)?.rebuild(name, parent)
}

impl<T: Send + Sync + 'static> Bag<T> {
    fn named_step<U: Send + Sync + 'static>(
        &self,
        kind: &'static str,
        name: &str,
    ) -> Result<Bag<U>, BagError> {
        let step = lookup(name)?;
        let out = if kind == "filter" {
            TypeId::of::<bool>()
        } else {
            TypeId::of::<U>()
        };
        if step.kind() != kind || step.input().0 != TypeId::of::<T>() || step.output().0 != out {
            return Err(BagError::FunctionMismatch {
                name: name.to_string(),
                registered: signature(step.as_ref()),
                used: format!(
                    "{kind} fn(&{}) -> {}",
                    std::any::type_name::<T>(),
                    if kind == "filter" {
                        "bool"
                    } else {
                        std::any::type_name::<U>()
                    }
                ),
            });
        }
        // A registered function is named, so its steps get deterministic keys.
        let token = Tokenizer::new("bag-named")
            .write(self.stream.token())
            .write(kind)
            .write(name)
            .finish();
        let parent: Box<dyn Any> = Box::new(self.stream.clone());
        let stream = step
            .apply(name, token, parent)
            .and_then(|s| {
                s.downcast::<Arc<dyn Stream<U>>>()
                    .map(|s| *s)
                    .map_err(|_| "a named step made items of another type".into())
            })
            .map_err(|e| BagError::InvalidArgument(e.to_string()))?;
        Ok(self.derive(stream))
    }

    /// Applies the function registered as `name` with
    /// [`register_bag_fn!(map ...)`](crate::register_bag_fn) to every item — like
    /// [`Bag::map`], but the step travels to a cluster by name. Fails if no function is
    /// registered under `name`, or if it maps other types than `T` to `U`.
    ///
    /// ```
    /// use dusk_collections::bag::{from_sequence, BagError};
    /// use dusk_collections::register_bag_fn;
    /// use dusk_scheduler::Compute;
    ///
    /// fn shout(s: &String) -> String { s.to_uppercase() }
    /// register_bag_fn!(map shout: fn(&String) -> String);
    ///
    /// let words = from_sequence(vec!["a".to_string(), "b".to_string()], 2);
    /// assert_eq!(words.map_named::<String>("shout").unwrap().compute().unwrap(), vec!["A", "B"]);
    /// let err = words.map_named::<u64>("shout").unwrap_err();
    /// assert!(matches!(err, BagError::FunctionMismatch { .. }), "{err}");
    /// assert!(words.map_named::<String>("whisper").is_err());
    /// ```
    pub fn map_named<U: Send + Sync + 'static>(&self, name: &str) -> Result<Bag<U>, BagError> {
        self.named_step("map", name)
    }

    /// Keeps the items for which the predicate registered as `name` with
    /// [`register_bag_fn!(filter ...)`](crate::register_bag_fn) is true — like
    /// [`Bag::filter`], but the step travels to a cluster by name.
    ///
    /// ```
    /// use dusk_collections::bag::range;
    /// use dusk_collections::register_bag_fn;
    /// use dusk_scheduler::Compute;
    ///
    /// fn small(x: &u64) -> bool { *x < 3 }
    /// register_bag_fn!(filter small: fn(&u64) -> bool);
    ///
    /// assert_eq!(range(10, 4).filter_named("small").unwrap().compute().unwrap(), vec![0, 1, 2]);
    /// ```
    pub fn filter_named(&self, name: &str) -> Result<Bag<T>, BagError> {
        self.named_step("filter", name)
    }
}
