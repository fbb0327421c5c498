//! Global configuration: which scheduler `compute()` uses by default, and whether progress bars
//! are drawn.
//!
//! Precedence, highest first: the options of one call ([`crate::ComputeOptions`]), the value set
//! in this process with [`set_scheduler`], the `DUSK_SCHEDULER` environment variable, and the
//! built-in default (threads, one per core). This mirrors `dask.config.set(scheduler=...)` and
//! Dask's `DASK_SCHEDULER` variable.

use std::str::FromStr;
use std::sync::RwLock;

/// A local scheduler choice.
///
/// ```
/// use dusk_scheduler::Scheduler;
/// assert_eq!("sync".parse::<Scheduler>().unwrap(), Scheduler::Sync);
/// assert_eq!("threads".parse::<Scheduler>().unwrap(), Scheduler::Threads(None));
/// assert_eq!("threads:3".parse::<Scheduler>().unwrap(), Scheduler::Threads(Some(3)));
/// assert!("gpu".parse::<Scheduler>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheduler {
    /// A thread pool; `None` means one thread per core.
    Threads(Option<usize>),
    /// Everything on the calling thread, one task at a time.
    Sync,
}

impl Scheduler {
    /// The number of threads this choice runs on.
    pub fn threads(&self) -> usize {
        match self {
            Scheduler::Threads(Some(n)) => (*n).max(1),
            Scheduler::Threads(None) => default_threads(),
            Scheduler::Sync => 1,
        }
    }
}

/// The threads a pool uses by default: `DUSK_NUM_WORKERS`, or one per core.
pub fn default_threads() -> usize {
    std::env::var("DUSK_NUM_WORKERS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

/// A scheduler name that is not one of dusk's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scheduler `{0}`: expected `threads`, `threads:N`, `sync` or `tcp://HOST:PORT`")]
pub struct UnknownScheduler(pub String);

impl FromStr for Scheduler {
    type Err = UnknownScheduler;

    fn from_str(s: &str) -> Result<Scheduler, UnknownScheduler> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "threads" | "threading" | "threaded" => Ok(Scheduler::Threads(None)),
            "sync" | "synchronous" | "single-threaded" => Ok(Scheduler::Sync),
            _ => match t.strip_prefix("threads:").map(|n| n.parse::<usize>()) {
                Some(Ok(n)) if n > 0 => Ok(Scheduler::Threads(Some(n))),
                _ => Err(UnknownScheduler(s.to_string())),
            },
        }
    }
}

static SCHEDULER: RwLock<Option<Scheduler>> = RwLock::new(None);
static PROGRESS: RwLock<Option<bool>> = RwLock::new(None);

/// Sets the scheduler that `compute()` uses in this process when a call does not choose one.
///
/// ```
/// use dusk_scheduler::{config, Scheduler};
/// config::set_scheduler(Some(Scheduler::Sync));
/// assert_eq!(config::scheduler().unwrap(), Scheduler::Sync);
/// config::set_scheduler(None); // back to DUSK_SCHEDULER or the default
/// ```
pub fn set_scheduler(scheduler: Option<Scheduler>) {
    *SCHEDULER.write().unwrap_or_else(|e| e.into_inner()) = scheduler;
}

/// Whether a scheduler was chosen in this process with [`set_scheduler`].
pub fn scheduler_is_set() -> bool {
    SCHEDULER
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .is_some()
}

/// The scheduler to use when a call does not choose one; an invalid `DUSK_SCHEDULER` is an
/// error rather than silently ignored.
pub fn scheduler() -> Result<Scheduler, UnknownScheduler> {
    if let Some(s) = *SCHEDULER.read().unwrap_or_else(|e| e.into_inner()) {
        return Ok(s);
    }
    match std::env::var("DUSK_SCHEDULER") {
        Ok(v) if !v.trim().is_empty() => v.parse(),
        _ => Ok(Scheduler::Threads(None)),
    }
}

/// Switches progress bars on or off in this process (`None`: follow `DUSK_PROGRESS`).
pub fn set_progress(enabled: Option<bool>) {
    *PROGRESS.write().unwrap_or_else(|e| e.into_inner()) = enabled;
}

/// Whether progress bars may be drawn (they still need a terminal).
pub fn progress_enabled() -> bool {
    if let Some(p) = *PROGRESS.read().unwrap_or_else(|e| e.into_inner()) {
        return p;
    }
    !matches!(
        std::env::var("DUSK_PROGRESS").as_deref().map(str::trim),
        Ok("0") | Ok("false") | Ok("off") | Ok("no")
    )
}
