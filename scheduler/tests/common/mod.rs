//! Helpers shared by the scheduler's integration tests: a registered test op and a deadline.
// Each test binary uses only some of these.
#![allow(dead_code)]

use std::time::Duration;

use dusk_core::op::encode_serde;
use dusk_core::{register_op, BoxError, Data, Op, SerdeOp, WireError, WireOp};
use serde::{Deserialize, Serialize};

/// Sums its `u64` inputs plus `extra`, after sleeping `sleep_ms`.
#[derive(Serialize, Deserialize)]
pub struct Add {
    pub extra: u64,
    pub sleep_ms: u64,
}
impl SerdeOp for Add {
    const KIND: &'static str = "test.add";
}
impl Op for Add {
    fn name(&self) -> &str {
        "add"
    }
    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        if self.sleep_ms > 0 {
            std::thread::sleep(Duration::from_millis(self.sleep_ms));
        }
        let mut s = self.extra;
        for i in &inputs {
            s = s.wrapping_add(i.decode::<u64>()?);
        }
        Ok(Data::encode(&s)?)
    }
    fn to_wire(&self) -> Result<WireOp, WireError> {
        encode_serde(self)
    }
}
register_op!(Add);

/// An `Add` that runs at once.
pub fn add(extra: u64) -> Add {
    Add { extra, sleep_ms: 0 }
}

/// An `Add` that sleeps `sleep_ms` first.
pub fn slow(extra: u64, sleep_ms: u64) -> Add {
    Add { extra, sleep_ms }
}

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
