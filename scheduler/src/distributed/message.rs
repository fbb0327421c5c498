//! Messages: everything the scheduler, workers and clients say to each other.
//!
//! One enum for the whole protocol keeps the wire format in one place and lets every
//! connection use the same reader and writer. Messages that could be sent once per task
//! (`Compute`, `Finished`, `Failed`, `Free`) carry *batches*, because per-message costs
//! (headers, wake-ups, syscalls) dominate when tasks take microseconds. Tasks are named on the
//! wire by the scheduler's numeric [`TaskId`], not by their keys, so the hot path hashes
//! integers instead of strings; keys travel only where a human will read them (errors) or where
//! a client needs them.
//!
//! Result data travels in the frame's payload, not in the header: a [`DataHeader`] says what
//! each item is and how many payload bytes it takes.

use dusk_core::{ArrayBlock, Data, Key, SerializedValue, WireOp};
use ndarray::{ArcArray, IxDyn};
use serde::{Deserialize, Serialize};

/// The scheduler's number for a task; unique for the scheduler's lifetime.
pub type TaskId = u64;

/// The version of this protocol; peers with another version are refused.
pub const PROTOCOL_VERSION: u32 = 4;

/// Who is on the other side of a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// A worker joining the scheduler.
    Worker(WorkerInfo),
    /// A client of the scheduler.
    Client,
    /// A worker or client asking a worker for data.
    Peer,
}

/// What a worker tells the scheduler about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    /// A display name.
    pub name: String,
    /// Threads running tasks.
    pub nthreads: u32,
    /// The memory limit in bytes (0: none).
    pub memory_limit: u64,
    /// Where the worker serves its data to peers, `host:port`.
    pub data_addr: String,
}

/// The identity of a build, checked when two processes connect.
///
/// Protocol version, dusk version and target must match exactly. The executable's fingerprint
/// may differ (a generic `dusk worker` serves a user's program), and is reported so that a
/// missing registered function can be explained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildId {
    /// [`PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The dusk version.
    pub dusk_version: String,
    /// Architecture, OS and pointer width.
    pub target: String,
    /// A fingerprint of the executable (its size and the hash of its first and last MiB).
    pub executable: u64,
}

impl BuildId {
    /// This process's build identity.
    ///
    /// ```
    /// use dusk_scheduler::distributed::message::BuildId;
    /// let me = BuildId::current();
    /// assert!(me.mismatch(&me).is_none());
    /// let mut other = me.clone();
    /// other.protocol += 1;
    /// assert!(me.mismatch(&other).unwrap().contains("protocol"));
    /// ```
    pub fn current() -> BuildId {
        BuildId {
            protocol: PROTOCOL_VERSION,
            dusk_version: env!("CARGO_PKG_VERSION").to_string(),
            target: format!(
                "{}-{}-{}bit",
                std::env::consts::ARCH,
                std::env::consts::OS,
                usize::BITS
            ),
            executable: executable_fingerprint(),
        }
    }

    /// Why a peer with identity `other` cannot talk to this process, if it cannot.
    pub fn mismatch(&self, other: &BuildId) -> Option<String> {
        if self.protocol != other.protocol {
            return Some(format!(
                "protocol version {} does not match this process's protocol version {}",
                other.protocol, self.protocol
            ));
        }
        if self.dusk_version != other.dusk_version {
            return Some(format!(
                "dusk {} does not match this process's dusk {}; run the same version everywhere",
                other.dusk_version, self.dusk_version
            ));
        }
        if self.target != other.target {
            return Some(format!(
                "target {} does not match this process's target {}",
                other.target, self.target
            ));
        }
        None
    }
}

fn executable_fingerprint() -> u64 {
    use std::io::{Read, Seek, SeekFrom};
    static FP: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *FP.get_or_init(|| {
        let read = || -> std::io::Result<u64> {
            let mut f = std::fs::File::open(std::env::current_exe()?)?;
            let len = f.metadata()?.len();
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            h.update(&len.to_le_bytes());
            let mut chunk = vec![0u8; 1 << 20];
            let n = f.read(&mut chunk)?;
            h.update(&chunk[..n]);
            f.seek(SeekFrom::Start(len.saturating_sub(1 << 20)))?;
            let n = f.read(&mut chunk)?;
            h.update(&chunk[..n]);
            Ok(h.digest())
        };
        read().unwrap_or(0)
    })
}

/// The first message on every connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The sender's build.
    pub build: BuildId,
    /// What the sender is.
    pub role: Role,
}

/// A task for a worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ComputeTask {
    /// The task's number.
    pub id: TaskId,
    /// Its key, for errors.
    pub key: Key,
    /// What runs.
    pub op: std::sync::Arc<WireOp>,
    /// The inputs, in the order the op takes them (repeats allowed).
    pub inputs: Vec<TaskId>,
    /// Where the inputs this worker does not hold live: `(input, data address of a holder)`.
    pub who_has: Vec<(TaskId, String)>,
    /// Whether a client waits for this result: if it is small, the worker sends it along with
    /// `Finished`, saving the client a round trip to the worker.
    pub wanted: bool,
}

/// Results up to this size travel with `Finished` when a client wants them.
pub const INLINE_LIMIT: usize = 64 * 1024;

/// A task that finished on a worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    /// The task.
    pub id: TaskId,
    /// The size of its result.
    pub nbytes: u64,
    /// Payload bytes of the result sent inline (0: not sent).
    pub inline: u64,
    /// The kind of the inline result.
    pub kind: Option<DataKind>,
}

/// A task that failed on a worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failed {
    /// The task.
    pub id: TaskId,
    /// What went wrong, for the user.
    pub error: String,
    /// Whether the failure is the worker's (an input could not be fetched) rather than the
    /// task's; such a task is rescheduled instead of failed.
    pub missing_input: bool,
}

/// Counters a worker reports with each heartbeat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Tasks run since start.
    pub tasks_run: u64,
    /// Inputs fetched from peer workers since start.
    pub peer_fetches: u64,
    /// Bytes of those inputs.
    pub peer_bytes: u64,
    /// Results held now.
    pub stored: u64,
    /// Bytes held now.
    pub stored_bytes: u64,
    /// Whether the worker is paused (its memory is past its pause threshold).
    pub paused: bool,
}

/// What the scheduler is doing, in counts (Dask's `client.scheduler_info()`, with the task
/// counts of its dashboard).
///
/// ```
/// use dusk_scheduler::distributed::message::SchedulerInfo;
/// let idle = SchedulerInfo::default();
/// assert_eq!((idle.tasks, idle.graphs_arriving), (0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerInfo {
    /// Workers connected.
    pub workers: u64,
    /// Tasks the scheduler knows, in any state.
    pub tasks: u64,
    /// Ready root tasks waiting for a worker with room.
    pub queued: u64,
    /// Graphs received and not yet wholly taken in (large graphs are taken in a slice at a
    /// time, answering other clients in between).
    pub graphs_arriving: u64,
    /// Tasks of those graphs not yet added.
    pub tasks_arriving: u64,
}

/// A result the scheduler tells a client about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyReady {
    /// The key.
    pub key: Key,
    /// Its task number (to ask workers for it).
    pub id: TaskId,
    /// Data addresses of workers holding it.
    pub who_has: Vec<String>,
    /// The result itself when it is small: its kind and payload bytes, in payload order.
    pub inline: Option<(DataKind, u64)>,
}

/// What one item of a data payload is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataKind {
    /// A serde value: its Rust type name (shared: the same few names tag every value).
    Value(#[serde(deserialize_with = "deserialize_type_name")] std::sync::Arc<str>),
    /// A raw little-endian array buffer.
    Array {
        /// `f64`, `f32`, `i64`, `i32` or `bool`.
        dtype: String,
        /// The shape.
        shape: Vec<usize>,
    },
    /// A DataFrame partition as an Arrow IPC stream.
    Frame,
    /// The holder does not have it (any more).
    Missing,
    /// The holder has it but it cannot cross the wire; the text says why.
    Unsendable(String),
}

/// Reads a type name into the thread's shared copy of it: no allocation per value.
fn deserialize_type_name<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<std::sync::Arc<str>, D::Error> {
    struct Name;
    impl serde::de::Visitor<'_> for Name {
        type Value = std::sync::Arc<str>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a type name")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(dusk_core::data::intern_type_name(v))
        }
    }
    d.deserialize_str(Name)
}

/// One item of a data payload: which task, what kind, how many payload bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataHeader {
    /// The task whose result this is.
    pub id: TaskId,
    /// What the bytes are.
    pub kind: DataKind,
    /// Payload bytes taken.
    pub len: u64,
}

/// A message of the protocol.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Message {
    /// Opens every connection.
    Hello(Hello),
    /// Accepts a connection; `id` is the number given to the worker or client.
    Welcome {
        /// The number given to the peer.
        id: u64,
    },
    /// Refuses a connection, saying why.
    Refused {
        /// The reason.
        reason: String,
    },
    /// Client → scheduler: tasks to know and keys this client wants.
    UpdateGraph {
        /// The tasks.
        tasks: Vec<dusk_core::WireTask>,
        /// The keys the client holds references to, besides those in `wanted_tasks`.
        wanted: Vec<Key>,
        /// More keys the client holds references to, as positions in `tasks`: a key sent
        /// once, not twice, when a client wants the tasks it sends (`client.map`).
        wanted_tasks: Vec<u32>,
        /// How many times a failing task of this graph is run again before its error is
        /// final (Dask's `retries`).
        retries: u32,
    },
    /// Client → scheduler: the client no longer holds these keys.
    Release {
        /// The keys.
        keys: Vec<Key>,
    },
    /// Scheduler → client: the graph was refused; nothing of it was added.
    GraphRefused {
        /// Why.
        error: String,
        /// The keys the refused graph asked for: they will not be computed.
        keys: Vec<Key>,
    },
    /// Scheduler → client: results in memory.
    Ready {
        /// The results.
        items: Vec<KeyReady>,
    },
    /// Scheduler → client: results that failed.
    Erred {
        /// `(key, error)` pairs.
        items: Vec<(Key, String)>,
    },
    /// Scheduler → worker: run these.
    Compute {
        /// The tasks.
        tasks: Vec<ComputeTask>,
    },
    /// Scheduler → worker: give back these tasks if they have not started (work stealing).
    Steal {
        /// The tasks.
        ids: Vec<TaskId>,
    },
    /// Worker → scheduler: the worker paused (its results hold more memory than its pause
    /// threshold: it starts no new task) or resumed.
    WorkerStatus {
        /// Whether it is paused now.
        paused: bool,
    },
    /// Worker → scheduler: the tasks given back (the others had started); the answer to
    /// `Steal`, and also sent unasked by a paused worker for the tasks it will not start.
    Stolen {
        /// The tasks.
        ids: Vec<TaskId>,
    },
    /// Scheduler → worker: drop these results.
    Free {
        /// The tasks.
        ids: Vec<TaskId>,
    },
    /// Worker → scheduler: results stored.
    Finished {
        /// The tasks.
        items: Vec<Finished>,
    },
    /// Worker → scheduler: tasks failed.
    Failed {
        /// The tasks.
        items: Vec<Failed>,
    },
    /// Worker → scheduler: alive, with counters.
    Heartbeat(Heartbeat),
    /// Peer → worker: send these results.
    GetData {
        /// The tasks.
        ids: Vec<TaskId>,
    },
    /// Worker → peer: the requested results, bytes in the payload.
    Data {
        /// One header per item, in payload order.
        items: Vec<DataHeader>,
    },
    /// Client → scheduler: counters of every worker.
    GetWorkers,
    /// Scheduler → client: `(name, data address, last heartbeat)` per worker.
    Workers {
        /// The workers.
        items: Vec<(String, String, Heartbeat)>,
    },
    /// Client → scheduler: what are you doing?
    GetSchedulerInfo,
    /// Scheduler → client: the answer to `GetSchedulerInfo`.
    SchedulerInfo(SchedulerInfo),
    /// Client → scheduler: cancel these keys (Dask's `client.cancel`). The client drops its
    /// interest in them; the tasks no other client needs are forgotten, with their dependents
    /// this client wants and the inputs nothing else needs.
    Cancel {
        /// The keys.
        keys: Vec<Key>,
    },
    /// Scheduler → client: the answer to one `Cancel`, in order: the keys of the client it
    /// cancelled (those asked for that the client held, and the dependents cancelled with
    /// them). Nothing said about them before this answer is news of their cancelled
    /// computation.
    Cancelled {
        /// The keys.
        keys: Vec<Key>,
    },
    /// Scheduler → worker: these tasks are no longer wanted; drop them if they have not started
    /// (a started task runs to its end and its result is freed).
    CancelCompute {
        /// The tasks.
        ids: Vec<TaskId>,
    },
}

/// Why a result could not be turned into wire bytes or back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireDataError {
    /// The payload is shorter than the headers announce.
    #[error("data payload truncated: {need} bytes announced, {have} present")]
    Truncated {
        /// Announced bytes.
        need: u64,
        /// Present bytes.
        have: u64,
    },
    /// The array buffer does not match its dtype and shape.
    #[error("array of dtype {dtype} and shape {shape:?} does not match {len} bytes")]
    BadArray {
        /// The dtype.
        dtype: String,
        /// The shape.
        shape: Vec<usize>,
        /// The buffer length.
        len: usize,
    },
}

/// Turns a result into its wire kind and bytes.
///
/// ```
/// use dusk_core::Data;
/// use dusk_scheduler::distributed::message::{data_from_wire, data_to_wire};
/// let d = Data::encode(&vec![1u32, 2, 3]).unwrap();
/// let (kind, bytes) = data_to_wire(&d);
/// let back = data_from_wire(&kind, &bytes).unwrap().unwrap();
/// assert_eq!(back.decode::<Vec<u32>>().unwrap(), vec![1, 2, 3]);
/// ```
pub fn data_to_wire(data: &Data) -> (DataKind, bytes::Bytes) {
    match data {
        Data::Value(v) => (
            DataKind::Value(dusk_core::data::intern_type_name(v.type_name())),
            bytes::Bytes::copy_from_slice(v.bytes()),
        ),
        Data::Array(a) => {
            let (dtype, shape) = (a.dtype().to_string(), a.shape().to_vec());
            (DataKind::Array { dtype, shape }, array_bytes(a).into())
        }
        Data::Frame(df) => match dusk_core::ipc::frame_to_ipc(df) {
            Ok(bytes) => (DataKind::Frame, bytes.into()),
            Err(e) => (DataKind::Unsendable(e.to_string()), bytes::Bytes::new()),
        },
        Data::Local(v) => match v.to_serialized() {
            Some(Ok(sent)) => (
                DataKind::Value(dusk_core::data::intern_type_name(sent.type_name())),
                bytes::Bytes::copy_from_slice(sent.bytes()),
            ),
            Some(Err(e)) => (DataKind::Unsendable(e.to_string()), bytes::Bytes::new()),
            None => (
                DataKind::Unsendable(format!(
                    "a process-local value of type {} cannot cross the network; \
                     return a serialized value (Data::encode) from ops that run on workers",
                    v.type_name()
                )),
                bytes::Bytes::new(),
            ),
        },
        other => (
            DataKind::Unsendable(format!("{} cannot cross the network", other.describe())),
            bytes::Bytes::new(),
        ),
    }
}

fn array_bytes(a: &ArrayBlock) -> Vec<u8> {
    macro_rules! le {
        ($a:expr) => {{
            let mut out = Vec::with_capacity($a.len() * std::mem::size_of_val(&$a.first()));
            for x in $a.iter() {
                out.extend_from_slice(&x.to_le_bytes());
            }
            out
        }};
    }
    match a {
        ArrayBlock::F64(x) => le!(x),
        ArrayBlock::F32(x) => le!(x),
        ArrayBlock::I64(x) => le!(x),
        ArrayBlock::I32(x) => le!(x),
        ArrayBlock::Bool(x) => x.iter().map(|b| *b as u8).collect(),
        _ => Vec::new(),
    }
}

/// Rebuilds a result from its wire kind and bytes; `Ok(None)` for [`DataKind::Missing`], an
/// error text for [`DataKind::Unsendable`].
pub fn data_from_wire(kind: &DataKind, bytes: &[u8]) -> Result<Option<Data>, String> {
    match kind {
        DataKind::Value(t) => Ok(Some(Data::Value(SerializedValue::from_parts(
            t.clone(),
            bytes,
        )))),
        DataKind::Array { dtype, shape } => array_from(dtype, shape, bytes)
            .map(|a| Some(Data::Array(a)))
            .map_err(|e| e.to_string()),
        DataKind::Frame => dusk_core::ipc::frame_from_ipc(bytes)
            .map(|df| Some(Data::Frame(df)))
            .map_err(|e| e.to_string()),
        DataKind::Missing => Ok(None),
        DataKind::Unsendable(why) => Err(why.clone()),
    }
}

fn array_from(dtype: &str, shape: &[usize], bytes: &[u8]) -> Result<ArrayBlock, WireDataError> {
    let bad = || WireDataError::BadArray {
        dtype: dtype.to_string(),
        shape: shape.to_vec(),
        len: bytes.len(),
    };
    let n: usize = shape.iter().product();
    macro_rules! from_le {
        ($t:ty) => {{
            let w = std::mem::size_of::<$t>();
            if bytes.len() != n * w {
                return Err(bad());
            }
            let v: Vec<$t> = bytes
                .chunks_exact(w)
                .map(|c| {
                    <$t>::from_le_bytes(c.try_into().unwrap_or([0; std::mem::size_of::<$t>()]))
                })
                .collect();
            ArrayBlock::from(ArcArray::from_shape_vec(IxDyn(shape), v).map_err(|_| bad())?)
        }};
    }
    Ok(match dtype {
        "f64" => from_le!(f64),
        "f32" => from_le!(f32),
        "i64" => from_le!(i64),
        "i32" => from_le!(i32),
        "bool" => {
            if bytes.len() != n {
                return Err(bad());
            }
            let v: Vec<bool> = bytes.iter().map(|b| *b != 0).collect();
            ArrayBlock::from(ArcArray::from_shape_vec(IxDyn(shape), v).map_err(|_| bad())?)
        }
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_travel_as_arrow_ipc() {
        use polars::prelude::*;
        let df = df!("k" => [Some(1i32), None], "s" => ["a", "b"]).unwrap();
        let (kind, bytes) = data_to_wire(&Data::Frame(df.clone()));
        assert_eq!(kind, DataKind::Frame);
        let back = data_from_wire(&kind, &bytes).unwrap().unwrap();
        assert!(back.as_frame().unwrap().equals_missing(&df));
        let err = data_from_wire(&DataKind::Frame, b"garbage").unwrap_err();
        assert!(err.contains("Arrow IPC"), "{err}");
    }

    #[test]
    fn sendable_local_values_leave_as_serialized_values() {
        let (kind, bytes) = data_to_wire(&Data::local_sendable(vec![7u64, 8], 16));
        assert!(
            matches!(&kind, DataKind::Value(t) if t.contains("Vec<u64>")),
            "{kind:?}"
        );
        let back = data_from_wire(&kind, &bytes).unwrap().unwrap();
        assert_eq!(back.decode::<Vec<u64>>().unwrap(), vec![7, 8]);
        let (kind, _) = data_to_wire(&Data::local(1u8));
        assert!(matches!(kind, DataKind::Unsendable(_)));
    }

    #[test]
    fn arrays_round_trip_as_raw_buffers() {
        let a = ndarray::ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0f32, 2., 3., 4., 5., 6.])
            .unwrap();
        let d = Data::Array(a.clone().into());
        let (kind, bytes) = data_to_wire(&d);
        assert_eq!(bytes.len(), 24);
        let back = data_from_wire(&kind, &bytes).unwrap().unwrap();
        assert_eq!(back.as_array().unwrap(), &ArrayBlock::from(a));
        let b = ndarray::ArrayD::from_elem(IxDyn(&[3]), true);
        let (kind, bytes) = data_to_wire(&Data::Array(b.into()));
        assert!(data_from_wire(&kind, &bytes).is_ok());
        assert!(data_from_wire(&kind, &bytes[..2]).is_err());
    }

    #[test]
    fn local_values_say_why_they_cannot_travel() {
        let (kind, _) = data_to_wire(&Data::local(5u8));
        let err = data_from_wire(&kind, &[]).unwrap_err();
        assert!(err.contains("u8"), "{err}");
    }
}
