//! Which way a shuffle hands its pieces over: in memory or through disk.
//!
//! As in Dask, the choice is configuration read when a shuffle is built, not an argument of every
//! operation that shuffles: process-wide with [`set_shuffle_method`] or `DUSK_SHUFFLE`, or for
//! the graphs one thread builds inside [`with_shuffle_method`] (Dask's
//! `with dask.config.set(shuffle=...)`), which does not disturb other threads.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

/// How a shuffle hands pieces from splits to gathers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShuffleMethod {
    /// Pieces stay in memory as task results (fast while the data fits).
    Tasks,
    /// Pieces go through Arrow IPC files in the temporary directory (bounded memory).
    Disk,
}

static METHOD: AtomicU8 = AtomicU8::new(0);

/// Sets the shuffle method of shuffles built from now on, process-wide (Dask's
/// `dask.config.set(shuffle=...)`). The default is [`ShuffleMethod::Tasks`], or `disk` /
/// `tasks` from the `DUSK_SHUFFLE` environment variable.
///
/// ```
/// use dusk_collections::dataframe::{set_shuffle_method, shuffle_method, ShuffleMethod};
/// set_shuffle_method(ShuffleMethod::Disk);
/// assert_eq!(shuffle_method(), ShuffleMethod::Disk);
/// set_shuffle_method(ShuffleMethod::Tasks);
/// ```
pub fn set_shuffle_method(method: ShuffleMethod) {
    METHOD.store(
        match method {
            ShuffleMethod::Tasks => 1,
            ShuffleMethod::Disk => 2,
        },
        Ordering::Relaxed,
    );
}

/// The shuffle method new shuffles use: the one [`with_shuffle_method`] set on this thread, else
/// the process-wide one ([`set_shuffle_method`]).
///
/// ```
/// assert!(matches!(
///     dusk_collections::dataframe::shuffle_method(),
///     dusk_collections::dataframe::ShuffleMethod::Tasks | dusk_collections::dataframe::ShuffleMethod::Disk
/// ));
/// ```
pub fn shuffle_method() -> ShuffleMethod {
    if let Some(method) = SCOPED.with(Cell::get) {
        return method;
    }
    match METHOD.load(Ordering::Relaxed) {
        1 => ShuffleMethod::Tasks,
        2 => ShuffleMethod::Disk,
        _ => match std::env::var("DUSK_SHUFFLE").as_deref() {
            Ok("disk") => ShuffleMethod::Disk,
            _ => ShuffleMethod::Tasks,
        },
    }
}

thread_local! {
    static SCOPED: Cell<Option<ShuffleMethod>> = const { Cell::new(None) };
}

/// Runs `build` with `method` as the shuffle method of every shuffle built on this thread,
/// whatever the process-wide setting; the previous setting of the thread comes back afterwards,
/// even if `build` panics.
///
/// ```
/// use dusk_collections::dataframe::{from_polars, with_shuffle_method, ShuffleMethod};
/// use polars::prelude::*;
/// let df = from_polars(df!("k" => [3i64, 1, 2, 1]).unwrap(), 2);
/// let on_disk = with_shuffle_method(ShuffleMethod::Disk, || df.shuffle(&["k"], 2)).unwrap();
/// assert!(on_disk.explain().contains("Disk"));
/// assert!(!df.shuffle(&["k"], 2).unwrap().explain().contains("Disk"));
/// ```
pub fn with_shuffle_method<R>(method: ShuffleMethod, build: impl FnOnce() -> R) -> R {
    struct Restore(Option<ShuffleMethod>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPED.with(|scoped| scoped.set(self.0));
        }
    }
    let _restore = Restore(SCOPED.with(|scoped| scoped.replace(Some(method))));
    build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_method_wins_on_its_thread_only_and_is_restored() {
        let outside = shuffle_method();
        with_shuffle_method(ShuffleMethod::Disk, || {
            assert_eq!(shuffle_method(), ShuffleMethod::Disk);
            with_shuffle_method(ShuffleMethod::Tasks, || {
                assert_eq!(shuffle_method(), ShuffleMethod::Tasks)
            });
            assert_eq!(shuffle_method(), ShuffleMethod::Disk);
            let other = std::thread::spawn(shuffle_method).join().unwrap();
            assert_eq!(other, outside);
        });
        assert_eq!(shuffle_method(), outside);
        let panicked = std::panic::catch_unwind(|| {
            with_shuffle_method(ShuffleMethod::Disk, || panic!("while building"))
        });
        assert!(panicked.is_err());
        assert_eq!(shuffle_method(), outside);
    }
}
