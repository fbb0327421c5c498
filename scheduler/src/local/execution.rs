//! The bookkeeping of one local run, shared by the threaded and the synchronous scheduler.
//!
//! `Execution` knows which tasks are ready, which results are held, and when a result can be
//! released: every task counts the distinct dependents that have not yet taken its result; when
//! the last one takes it, the store lets go (the dependent's copy is then the only one, so the
//! memory goes away as soon as that dependent is done with it). Outputs are kept to the end.
//!
//! It does no locking and runs no ops: the threaded scheduler wraps it in a mutex and runs ops
//! outside the lock; the synchronous one drives it in a plain loop.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use dusk_core::fused::panic_message;
use dusk_core::{ComputeError, Data, Plan, StepError};

use crate::stats::RunStats;

/// The state of one run of a plan.
pub(crate) struct Execution<'p> {
    plan: &'p Plan,
    /// Ready tasks, lowest priority number first.
    ready: BinaryHeap<Reverse<(u32, u32)>>,
    /// Per task: dependencies not yet finished.
    waiting: Vec<u32>,
    /// Per task: dependents that have not yet taken its result.
    users_left: Vec<u32>,
    results: Vec<Option<Data>>,
    finished: usize,
    held: usize,
    held_bytes: usize,
    sizes: Vec<usize>,
    pub(crate) stats: RunStats,
    pub(crate) error: Option<ComputeError>,
}

impl<'p> Execution<'p> {
    pub(crate) fn new(plan: &'p Plan) -> Execution<'p> {
        let n = plan.len();
        let waiting: Vec<u32> = (0..n as u32)
            .map(|i| plan.dependencies(i).len() as u32)
            .collect();
        let users_left = (0..n as u32)
            .map(|i| plan.dependents(i).len() as u32)
            .collect();
        let ready = (0..n as u32)
            .filter(|&i| waiting[i as usize] == 0)
            .map(|i| Reverse((plan.priority(i), i)))
            .collect::<Vec<_>>()
            .into();
        Execution {
            plan,
            ready,
            waiting,
            users_left,
            results: vec![None; n],
            finished: 0,
            held: 0,
            held_bytes: 0,
            sizes: vec![0; n],
            stats: RunStats {
                tasks: n,
                ..RunStats::default()
            },
            error: None,
        }
    }

    /// Whether every task has finished.
    pub(crate) fn is_done(&self) -> bool {
        self.finished == self.plan.len()
    }

    /// How many tasks have finished.
    pub(crate) fn finished(&self) -> usize {
        self.finished
    }

    /// How many tasks are ready to start.
    pub(crate) fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Takes the most urgent ready task and gathers its inputs.
    pub(crate) fn next_task(&mut self) -> Option<(u32, Vec<Data>)> {
        let Reverse((_, task)) = self.ready.pop()?;
        let plan = self.plan;
        let mut inputs = Vec::with_capacity(plan.inputs(task).len());
        for &d in plan.inputs(task) {
            inputs.push(
                self.results[d as usize]
                    .clone()
                    .expect("a ready task's dependencies hold results"),
            );
        }
        for &d in plan.dependencies(task) {
            let left = &mut self.users_left[d as usize];
            *left -= 1;
            if *left == 0 && !plan.is_output(d) {
                self.results[d as usize] = None;
                self.held -= 1;
                self.held_bytes -= self.sizes[d as usize];
            }
        }
        Some((task, inputs))
    }

    /// Records the outcome of a task; on success, its dependents may become ready.
    pub(crate) fn complete(&mut self, task: u32, outcome: Result<Data, ComputeError>) {
        self.finished += 1;
        match outcome {
            Ok(data) => {
                let size = data.sizeof();
                self.sizes[task as usize] = size;
                self.results[task as usize] = Some(data);
                self.held += 1;
                self.held_bytes += size;
                self.stats.peak_held = self.stats.peak_held.max(self.held);
                self.stats.peak_bytes = self.stats.peak_bytes.max(self.held_bytes);
                let plan = self.plan;
                for &u in plan.dependents(task) {
                    let w = &mut self.waiting[u as usize];
                    *w -= 1;
                    if *w == 0 {
                        self.ready.push(Reverse((plan.priority(u), u)));
                    }
                }
            }
            Err(e) => {
                if self.error.is_none() {
                    self.error = Some(e);
                }
            }
        }
    }

    /// The outputs' results, in the requested order.
    pub(crate) fn into_outputs(self) -> Result<(Vec<Data>, RunStats), ComputeError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let outputs = self
            .plan
            .outputs()
            .iter()
            .map(|&o| {
                self.results[o as usize]
                    .clone()
                    .expect("outputs are kept until the end")
            })
            .collect();
        Ok((outputs, self.stats))
    }
}

/// Runs one task's op, turning errors and panics into a [`ComputeError`] naming the task (or,
/// inside a fused task, the original step).
pub(crate) fn run_task(plan: &Plan, task: u32, inputs: Vec<Data>) -> Result<Data, ComputeError> {
    let op = plan.op(task);
    match catch_unwind(AssertUnwindSafe(|| op.run(inputs))) {
        Ok(Ok(data)) => Ok(data),
        Ok(Err(e)) => Err(match e.downcast::<StepError>() {
            Ok(step) => match *step {
                StepError::Failed { key, source } => ComputeError::TaskFailed { key, source },
                StepError::Panicked { key, message } => ComputeError::TaskPanicked { key, message },
            },
            Err(source) => ComputeError::TaskFailed {
                key: plan.key(task).clone(),
                source,
            },
        }),
        Err(payload) => Err(ComputeError::TaskPanicked {
            key: plan.key(task).clone(),
            message: panic_message(payload.as_ref()),
        }),
    }
}
