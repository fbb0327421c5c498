//! What a run measured: for tests of memory behaviour and for diagnostics.

use std::time::Duration;

/// Measurements of one local run.
///
/// ```
/// let s = dusk_scheduler::RunStats::default();
/// assert_eq!(s.peak_held, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Tasks run.
    pub tasks: usize,
    /// Threads used.
    pub threads: usize,
    /// The most results held in the store at once.
    pub peak_held: usize,
    /// The most bytes (by `Data::sizeof`) held in the store at once.
    pub peak_bytes: usize,
    /// Wall time of the run (after optimization and planning).
    pub elapsed: Duration,
}
