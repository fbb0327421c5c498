//! Helpers shared by the scheduler's integration tests.

use std::time::Duration;

/// Runs `f` on another thread and returns its result; fails the test with the body's own panic
/// if it panics, and with a message if it takes longer than `secs` (without waiting for a body
/// that may never end).
pub fn deadline<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let body = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match body.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("the test body ended without a result"),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("test exceeded its {secs}s deadline")
        }
    }
}
