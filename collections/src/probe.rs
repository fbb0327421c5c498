//! Running a small graph in the calling thread, for facts a collection needs while it is being
//! built: the schema an aggregation produces (run on an empty frame), the schema a bag's items
//! give (run on its first partition).
//!
//! Collections do not depend on the schedulers (the schedulers depend on collections' traits),
//! so this walks the plan in priority order itself. It is only for small graphs.

use dusk_core::{BoxError, Data, Graph, Key, Plan};

/// Computes `outputs` of `graph` in this thread.
pub(crate) fn run_locally(graph: &Graph, outputs: &[Key]) -> Result<Vec<Data>, BoxError> {
    let plan = Plan::new(graph, outputs)?;
    let mut order: Vec<u32> = (0..plan.len() as u32).collect();
    order.sort_by_key(|&i| plan.priority(i));
    let mut results: Vec<Option<Data>> = vec![None; plan.len()];
    // Each result is dropped once its last dependent has run, so a pass over many
    // partitions holds only a few at a time.
    let mut uses = vec![0usize; plan.len()];
    for i in 0..plan.len() as u32 {
        for &d in plan.inputs(i) {
            uses[d as usize] += 1;
        }
    }
    for i in order {
        let inputs = plan
            .inputs(i)
            .iter()
            .map(|&d| results[d as usize].clone().ok_or("missing input"))
            .collect::<Result<Vec<_>, _>>()?;
        results[i as usize] = Some(plan.op(i).run(inputs)?);
        for &d in plan.inputs(i) {
            uses[d as usize] -= 1;
            if uses[d as usize] == 0 && !plan.is_output(d) {
                results[d as usize] = None;
            }
        }
    }
    plan.outputs()
        .iter()
        .map(|&o| {
            results[o as usize]
                .clone()
                .ok_or_else(|| "missing output".into())
        })
        .collect()
}
