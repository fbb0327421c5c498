//! `FusedOp`: several tasks run as one.
//!
//! Fusion and inlining replace a small subgraph by a single task whose op runs the original ops
//! in sequence, passing results along in memory. That saves the scheduler a round trip per
//! original task and keeps a partition's chain of steps on one thread (hot in cache).
//!
//! Each step remembers the key it had, so an error or panic inside a fused task still names the
//! original task (`StepError`). A fused op is serializable when all its steps are.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::data::Data;
use crate::error::{BoxError, GraphError};
use crate::key::Key;
use crate::op::{Op, OpDecoder, WireError, WireOp};

/// Where a step of a fused op takes an input from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepInput {
    /// Input `i` of the fused task itself.
    External(u32),
    /// The result of an earlier step.
    Step(u32),
}

/// One original task inside a fused op.
#[derive(Clone)]
pub struct FusedStep {
    /// The key the task had before fusion.
    pub key: Key,
    /// Its op.
    pub op: Arc<dyn Op>,
    /// Its inputs, in the order its op takes them.
    pub inputs: Vec<StepInput>,
}

/// Several ops run in sequence as one task; the last step's result is the task's result.
///
/// ```
/// use std::sync::Arc;
/// use dusk_core::{Data, FnOp, FusedOp, FusedStep, Key, Op, StepInput};
/// let inc = || Arc::new(FnOp::new("inc", |x| Ok(Data::local(x[0].downcast_ref::<i32>()? + 1)))) as Arc<dyn Op>;
/// let op = FusedOp::new(vec![
///     FusedStep { key: Key::new("a"), op: inc(), inputs: vec![StepInput::External(0)] },
///     FusedStep { key: Key::new("b"), op: inc(), inputs: vec![StepInput::Step(0)] },
/// ]);
/// let out = op.run(vec![Data::local(1i32)]).unwrap();
/// assert_eq!(*out.downcast_ref::<i32>().unwrap(), 3);
/// assert_eq!(op.name(), "inc+inc");
/// ```
pub struct FusedOp {
    name: String,
    steps: Vec<FusedStep>,
    /// How many steps read each external input, and each step's result.
    external_uses: Vec<u32>,
    step_uses: Vec<u32>,
}

impl FusedOp {
    /// Fuses `steps`; each step may only read external inputs and earlier steps.
    ///
    /// # Panics
    /// If `steps` is empty or a step reads a later step (a bug in the optimizer, not user input).
    pub fn new(steps: Vec<FusedStep>) -> FusedOp {
        assert!(!steps.is_empty(), "a fused op needs at least one step");
        let mut external_uses = Vec::new();
        let mut step_uses = vec![0u32; steps.len()];
        for (s, step) in steps.iter().enumerate() {
            for input in &step.inputs {
                match *input {
                    StepInput::External(i) => {
                        let i = i as usize;
                        if external_uses.len() <= i {
                            external_uses.resize(i + 1, 0);
                        }
                        external_uses[i] += 1;
                    }
                    StepInput::Step(j) => {
                        assert!((j as usize) < s, "fused step {s} reads later step {j}");
                        step_uses[j as usize] += 1;
                    }
                }
            }
        }
        let mut name = String::new();
        for (i, s) in steps.iter().enumerate() {
            if i > 0 {
                name.push('+');
            }
            name.push_str(s.op.name());
        }
        FusedOp {
            name,
            steps,
            external_uses,
            step_uses,
        }
    }

    /// The steps, in execution order.
    pub fn steps(&self) -> &[FusedStep] {
        &self.steps
    }
}

/// The failure of one step of a fused op, naming the step's original key.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The step returned an error.
    #[error("task {key} failed: {source}")]
    Failed {
        /// The step's original key.
        key: Key,
        /// The error.
        #[source]
        source: BoxError,
    },
    /// The step panicked.
    #[error("task {key} panicked: {message}")]
    Panicked {
        /// The step's original key.
        key: Key,
        /// The panic message.
        message: String,
    },
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

impl Op for FusedOp {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
        let mut external: Vec<Option<Data>> = inputs.into_iter().map(Some).collect();
        let mut external_left = self.external_uses.clone();
        let mut results: Vec<Option<Data>> = vec![None; self.steps.len()];
        let mut step_left = self.step_uses.clone();
        let last = self.steps.len() - 1;
        for (s, step) in self.steps.iter().enumerate() {
            let mut args = Vec::with_capacity(step.inputs.len());
            for input in &step.inputs {
                let (slot, left) = match *input {
                    StepInput::External(i) => {
                        (&mut external[i as usize], &mut external_left[i as usize])
                    }
                    StepInput::Step(j) => (&mut results[j as usize], &mut step_left[j as usize]),
                };
                *left -= 1;
                // The last reader takes the value, so a step can own (and reuse) its input.
                let value = if *left == 0 {
                    slot.take()
                } else {
                    slot.clone()
                };
                args.push(value.ok_or("fused op input read after release")?);
            }
            let out = match catch_unwind(AssertUnwindSafe(|| step.op.run(args))) {
                Ok(Ok(data)) => data,
                Ok(Err(e)) => {
                    return Err(if e.is::<StepError>() {
                        e
                    } else {
                        Box::new(StepError::Failed {
                            key: step.key.clone(),
                            source: e,
                        })
                    })
                }
                Err(payload) => {
                    return Err(Box::new(StepError::Panicked {
                        key: step.key.clone(),
                        message: panic_message(payload.as_ref()),
                    }))
                }
            };
            if s == last {
                return Ok(out);
            }
            if self.step_uses[s] > 0 {
                results[s] = Some(out);
            }
        }
        unreachable!("the loop returns at the last step")
    }

    fn is_cheap(&self) -> bool {
        self.steps.iter().all(|s| s.op.is_cheap())
    }

    fn to_wire(&self) -> Result<WireOp, WireError> {
        let mut steps = Vec::with_capacity(self.steps.len());
        for s in &self.steps {
            steps.push((s.key.clone(), s.op.to_wire()?, s.inputs.clone()));
        }
        let payload = postcard::to_stdvec(&steps).map_err(|e| WireError::Codec(e.to_string()))?;
        Ok(WireOp {
            kind: FUSED_KIND.to_string(),
            payload,
        })
    }
}

impl fmt::Debug for FusedOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FusedOp({})", self.name)
    }
}

const FUSED_KIND: &str = "dusk.fused";

fn decode_fused(payload: &[u8]) -> Result<Arc<dyn Op>, GraphError> {
    let steps: Vec<(Key, WireOp, Vec<StepInput>)> =
        postcard::from_bytes(payload).map_err(|e| GraphError::Codec {
            kind: FUSED_KIND.to_string(),
            action: "decoded",
            message: e.to_string(),
        })?;
    let mut out = Vec::with_capacity(steps.len());
    for (key, op, inputs) in steps {
        out.push(FusedStep {
            key,
            op: op.decode()?,
            inputs,
        });
    }
    if out.is_empty() {
        return Err(GraphError::Codec {
            kind: FUSED_KIND.to_string(),
            action: "decoded",
            message: "no steps".into(),
        });
    }
    Ok(Arc::new(FusedOp::new(out)))
}

inventory::submit! {
    OpDecoder { kind: FUSED_KIND, decode: decode_fused }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{FnOp, LiteralOp};

    fn step(key: &str, op: Arc<dyn Op>, inputs: Vec<StepInput>) -> FusedStep {
        FusedStep {
            key: Key::new(key),
            op,
            inputs,
        }
    }

    #[test]
    fn error_names_the_original_step() {
        let ok: Arc<dyn Op> = Arc::new(FnOp::new("ok", |x| Ok(x[0].clone())));
        let bad: Arc<dyn Op> = Arc::new(FnOp::new("bad", |_| Err("disk on fire".into())));
        let op = FusedOp::new(vec![
            step("first", ok.clone(), vec![StepInput::External(0)]),
            step("second", bad, vec![StepInput::Step(0)]),
            step("third", ok, vec![StepInput::Step(1)]),
        ]);
        let err = op.run(vec![Data::local(1)]).unwrap_err().to_string();
        assert!(
            err.contains("'second'") && err.contains("disk on fire"),
            "{err}"
        );
    }

    #[test]
    fn panic_names_the_original_step() {
        let boom: Arc<dyn Op> = Arc::new(FnOp::new("boom", |_| panic!("kaboom")));
        let op = FusedOp::new(vec![step("only", boom, vec![])]);
        let err = op.run(vec![]).unwrap_err().to_string();
        assert!(err.contains("'only'") && err.contains("kaboom"), "{err}");
    }

    #[test]
    fn diamond_inside_a_fused_op() {
        let lit: Arc<dyn Op> = Arc::new(LiteralOp::new(Data::local(3i64)));
        let add: Arc<dyn Op> = Arc::new(FnOp::new("add", |x| {
            Ok(Data::local(
                x[0].downcast_ref::<i64>()? + x[1].downcast_ref::<i64>()?,
            ))
        }));
        let op = FusedOp::new(vec![
            step("c", lit, vec![]),
            step(
                "s",
                add.clone(),
                vec![StepInput::Step(0), StepInput::External(0)],
            ),
            step("t", add, vec![StepInput::Step(1), StepInput::Step(0)]),
        ]);
        let out = op.run(vec![Data::local(10i64)]).unwrap();
        assert_eq!(*out.downcast_ref::<i64>().unwrap(), 16);
    }

    #[test]
    fn closures_inside_refuse_the_wire() {
        let f: Arc<dyn Op> = Arc::new(FnOp::new("f", |x| Ok(x[0].clone())));
        let op = FusedOp::new(vec![step("a", f, vec![StepInput::External(0)])]);
        assert_eq!(op.to_wire().unwrap_err(), WireError::Closure);
    }
}
