//! A terminal progress bar for computations that take more than a moment.
//!
//! The schedulers only store a counter (one relaxed atomic store per task); a separate thread
//! wakes ten times a second, and only after half a second draws a bar with `indicatif` on
//! stderr. Quick computations therefore print nothing, and the bar costs the hot path nothing.
//! It is off when stdout or stderr is not a terminal (pipes, CI logs, tests) and can be switched
//! off globally with [`crate::config::set_progress`] or `DUSK_PROGRESS=0`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// When to show the progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressMode {
    /// Follow the global setting: on when attached to a terminal.
    #[default]
    Auto,
    /// Never show a bar.
    Never,
}

struct Inner {
    done: AtomicUsize,
    finished: AtomicBool,
}

/// A progress bar handle given to schedulers; hidden bars cost nothing.
///
/// ```
/// let bar = dusk_scheduler::ProgressBar::hidden();
/// bar.set(3); // no-op
/// bar.finish();
/// ```
pub struct ProgressBar {
    inner: Option<Arc<Inner>>,
    thread: Option<JoinHandle<()>>,
}

/// How long a computation runs before its bar appears.
const DELAY: Duration = Duration::from_millis(500);

impl ProgressBar {
    /// A bar that never draws.
    pub fn hidden() -> ProgressBar {
        ProgressBar {
            inner: None,
            thread: None,
        }
    }

    /// A bar over `total` tasks, drawn if `mode` and the environment allow it.
    pub fn start(total: usize, mode: ProgressMode) -> ProgressBar {
        let enabled = mode == ProgressMode::Auto
            && crate::config::progress_enabled()
            && std::io::stdout().is_terminal()
            && std::io::stderr().is_terminal();
        if !enabled || total == 0 {
            return ProgressBar::hidden();
        }
        let inner = Arc::new(Inner {
            done: AtomicUsize::new(0),
            finished: AtomicBool::new(false),
        });
        let watch = inner.clone();
        let thread = std::thread::Builder::new()
            .name("dusk-progress".into())
            .spawn(move || draw(total, &watch))
            .ok();
        ProgressBar {
            inner: Some(inner),
            thread,
        }
    }

    /// Records that `done` tasks have finished.
    #[inline]
    pub fn set(&self, done: usize) {
        if let Some(inner) = &self.inner {
            inner.done.store(done, Ordering::Relaxed);
        }
    }

    /// Stops drawing and removes the bar.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(inner) = &self.inner {
            inner.finished.store(true, Ordering::Relaxed);
        }
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Drop for ProgressBar {
    fn drop(&mut self) {
        self.stop();
    }
}

fn draw(total: usize, inner: &Inner) {
    let start = Instant::now();
    let mut bar: Option<indicatif::ProgressBar> = None;
    while !inner.finished.load(Ordering::Relaxed) {
        std::thread::park_timeout(Duration::from_millis(100));
        if bar.is_none() && start.elapsed() >= DELAY {
            let b = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "[{bar:40}] {percent:>3}% | {pos}/{len} tasks | {elapsed_precise}",
            ) {
                b.set_style(style.progress_chars("## "));
            }
            bar = Some(b);
        }
        if let Some(b) = &bar {
            b.set_position(inner.done.load(Ordering::Relaxed) as u64);
        }
    }
    if let Some(b) = bar {
        b.set_position(inner.done.load(Ordering::Relaxed) as u64);
        b.finish_and_clear();
    }
}
