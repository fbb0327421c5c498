//! How bags run on a cluster.
//!
//! Bags are generic over their item type and built from closures, neither of which can cross a
//! process boundary as is. This module gives the built-in parts of a bag a second form, as
//! data, for the closed list of item types the generic workers are compiled for:
//!
//! - [`values`]: partitions and partial results travel as MessagePack, and are rebuilt by name;
//! - [`items`]: the item types, and the reductions each supports;
//! - [`spec`]: one partition's stream (source and built-in steps) as data;
//! - [`task`]: the op a client builds (runs its closure locally, describes itself when sent)
//!   and the op a worker decodes.
//!
//! What a bag does with a user closure (`map`, `filter`, `fold`, ...) runs on the local
//! schedulers; sending it to a cluster is an error naming the task.

pub(crate) mod items;
pub(crate) mod spec;
pub(crate) mod task;
pub(crate) mod values;

pub(crate) use items::ItemType;
pub(crate) use spec::{build, StepSpec, StreamSpec};
pub(crate) use task::{collect_paths, describe, describe_partition, BagOp, Work};
pub(crate) use values::{encode_value, revive, sendable};
