//! The worker's store: the results it holds, with byte accounting, spilling to disk, and the
//! decision to pause.
//!
//! Dask workers that hold more than their memory get killed by the operating system, which is
//! the failure Dask users meet most. A dusk worker with a memory limit keeps its results in
//! memory up to a target (by default [`SPILL_FRACTION`] of the limit, Dask's
//! `distributed.worker.memory.target`); past it, the least recently used results are written
//! to files in the worker's own spill directory and read back when a task or a peer needs them.
//!
//! A result spills in its wire form (Arrow IPC for partitions, raw buffers for arrays, serde
//! bytes for values), so serving a spilled result to a peer sends the file's bytes as they are,
//! and reading it back is the same decoding a fetch does. Process-local values that cannot be
//! serialized never spill; they count against the limit like everything else.
//!
//! When memory stays past a higher threshold even so (by default [`PAUSE_FRACTION`] of the
//! limit, Dask's `distributed.worker.memory.pause`: results that cannot spill, a disk that
//! refuses them, or spilling switched off), running more tasks would only add to it: the worker
//! pauses ([`MemoryPause`]). It starts no new task — tasks already running finish — and hands
//! the ones it has not started back to the scheduler, which gives them to other workers. It
//! resumes as soon as memory is back under the threshold, typically when the results it holds
//! are released, so a lone paused worker waits for its clients, not forever for itself.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use dusk_core::Data;
use rustc_hash::FxHashMap;

use super::message::{data_from_wire, data_to_wire, DataKind, TaskId};

/// The share of the memory limit kept in memory before results spill to disk, by default
/// (Dask's `distributed.worker.memory.target`).
///
/// ```
/// use dusk_scheduler::distributed::store::{PAUSE_FRACTION, SPILL_FRACTION};
/// assert!(SPILL_FRACTION < PAUSE_FRACTION);
/// ```
pub const SPILL_FRACTION: f64 = 0.6;

/// The share of the memory limit past which a worker pauses, by default (Dask's
/// `distributed.worker.memory.pause`).
///
/// ```
/// use dusk_scheduler::distributed::store::PAUSE_FRACTION;
/// assert_eq!(PAUSE_FRACTION, 0.8);
/// ```
pub const PAUSE_FRACTION: f64 = 0.8;

/// A memory fraction given as text: a number above 0 and at most 1, or `off` (also `false`,
/// `none`) for never. `what` names the setting in the error.
///
/// ```
/// use dusk_scheduler::distributed::store::parse_fraction;
/// assert_eq!(parse_fraction("pause", "0.8").unwrap(), Some(0.8));
/// assert_eq!(parse_fraction("pause", "off").unwrap(), None);
/// let err = parse_fraction("pause", "80%").unwrap_err().to_string();
/// assert!(err.contains("pause") && err.contains("80%"), "{err}");
/// assert!(parse_fraction("pause", "1.5").is_err());
/// ```
pub fn parse_fraction(what: &str, text: &str) -> Result<Option<f64>, BadFraction> {
    let t = text.trim();
    if matches!(t.to_ascii_lowercase().as_str(), "off" | "false" | "none") {
        return Ok(None);
    }
    let value: f64 = t.parse().map_err(|_| BadFraction {
        what: what.to_string(),
        text: text.to_string(),
    })?;
    check_fraction(what, Some(value))
}

/// Checks a memory fraction: `None` (never), or a number above 0 and at most 1.
///
/// ```
/// use dusk_scheduler::distributed::store::check_fraction;
/// assert_eq!(check_fraction("target", Some(0.6)).unwrap(), Some(0.6));
/// assert_eq!(check_fraction("target", None).unwrap(), None);
/// assert!(check_fraction("target", Some(0.0)).is_err());
/// assert!(check_fraction("target", Some(f64::NAN)).is_err());
/// ```
pub fn check_fraction(what: &str, value: Option<f64>) -> Result<Option<f64>, BadFraction> {
    match value {
        Some(v) if !(v > 0.0 && v <= 1.0) => Err(BadFraction {
            what: what.to_string(),
            text: v.to_string(),
        }),
        v => Ok(v),
    }
}

/// A memory fraction that is not a number above 0 and at most 1, nor `off`.
///
/// ```
/// use dusk_scheduler::distributed::store::parse_fraction;
/// let err = parse_fraction("memory target fraction", "2").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid memory target fraction `2`: expected a number above 0 and at most 1, or `off`"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{text}`: expected a number above 0 and at most 1, or `off`")]
pub struct BadFraction {
    /// The setting.
    pub what: String,
    /// What was given.
    pub text: String,
}

/// Whether a worker is paused, decided from the bytes its results hold in memory (after
/// spilling): paused past the pause threshold, running again at or under it — Dask's rule,
/// which has no band between the two, so a worker resumes as soon as anything is released.
///
/// ```
/// use dusk_scheduler::distributed::store::MemoryPause;
/// // A 1,000-byte limit, pausing past 80%.
/// let mut pause = MemoryPause::new(1_000, Some(0.8));
/// assert_eq!(pause.observe(800), None, "at the threshold: still running");
/// assert_eq!(pause.observe(801), Some(true), "past it: pause");
/// assert_eq!(pause.observe(900), None, "already paused");
/// assert!(pause.is_paused());
/// assert_eq!(pause.observe(700), Some(false), "back under it: resume");
/// // No limit, or pausing switched off: never paused.
/// assert_eq!(MemoryPause::new(0, Some(0.8)).observe(u64::MAX), None);
/// assert_eq!(MemoryPause::new(1_000, None).observe(u64::MAX), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryPause {
    /// Bytes past which the worker pauses (`None`: never).
    threshold: Option<u64>,
    paused: bool,
}

impl MemoryPause {
    /// The pause decision for a worker with `memory_limit` bytes (0: no limit) pausing past
    /// `fraction` of it (`None`: never).
    ///
    /// ```
    /// use dusk_scheduler::distributed::store::MemoryPause;
    /// assert!(!MemoryPause::new(1_000, Some(0.8)).is_paused());
    /// ```
    pub fn new(memory_limit: u64, fraction: Option<f64>) -> MemoryPause {
        MemoryPause {
            threshold: fraction
                .filter(|_| memory_limit > 0)
                .map(|f| (memory_limit as f64 * f) as u64),
            paused: false,
        }
    }

    /// Whether the worker is paused.
    ///
    /// ```
    /// use dusk_scheduler::distributed::store::MemoryPause;
    /// let mut pause = MemoryPause::new(100, Some(0.5));
    /// pause.observe(60);
    /// assert!(pause.is_paused());
    /// ```
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Takes in the bytes now held in memory; returns the new decision when it changes
    /// (`Some(true)`: pause, `Some(false)`: resume).
    ///
    /// ```
    /// use dusk_scheduler::distributed::store::MemoryPause;
    /// let mut pause = MemoryPause::new(100, Some(0.5));
    /// assert_eq!(pause.observe(51), Some(true));
    /// assert_eq!(pause.observe(50), Some(false));
    /// ```
    pub fn observe(&mut self, memory_bytes: u64) -> Option<bool> {
        let over = self.threshold.is_some_and(|t| memory_bytes > t);
        if over == self.paused {
            return None;
        }
        self.paused = over;
        Some(over)
    }
}

/// Numbers the stores of this process, so in-process workers spill into separate directories.
static NEXT_STORE: AtomicU64 = AtomicU64::new(0);

/// A result written to disk: its wire kind, and where its bytes are.
struct Spilled {
    kind: DataKind,
    path: PathBuf,
    len: u64,
}

/// The results one worker holds.
pub(crate) struct Store {
    memory: FxHashMap<TaskId, (Data, u64)>,
    spilled: FxHashMap<TaskId, Spilled>,
    /// Use order of the results in memory: tick → id (the first is the least recently used).
    recency: BTreeMap<u64, TaskId>,
    ticks: FxHashMap<TaskId, u64>,
    tick: u64,
    memory_bytes: u64,
    spilled_bytes: u64,
    /// Bytes kept in memory before spilling (`None`: no limit).
    target: Option<u64>,
    dir: PathBuf,
}

impl Store {
    /// A store for a worker with `memory_limit` bytes (0: no limit) that spills past
    /// `target_fraction` of it (`None`: never), into a directory named after `name` and this
    /// process (created on the first spill).
    pub(crate) fn new(memory_limit: u64, target_fraction: Option<f64>, name: &str) -> Store {
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        Store {
            memory: FxHashMap::default(),
            spilled: FxHashMap::default(),
            recency: BTreeMap::new(),
            ticks: FxHashMap::default(),
            tick: 0,
            memory_bytes: 0,
            spilled_bytes: 0,
            target: target_fraction
                .filter(|_| memory_limit > 0)
                .map(|f| (memory_limit as f64 * f) as u64),
            dir: std::env::temp_dir().join(format!(
                "dusk-spill-{}-{safe}-{}",
                std::process::id(),
                NEXT_STORE.fetch_add(1, Ordering::Relaxed)
            )),
        }
    }

    /// How many results are held, in memory or on disk.
    pub(crate) fn len(&self) -> usize {
        self.memory.len() + self.spilled.len()
    }

    /// Bytes held in memory (by [`Data::sizeof`]).
    pub(crate) fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    /// Bytes held on disk.
    pub(crate) fn spilled_bytes(&self) -> u64 {
        self.spilled_bytes
    }

    /// Whether the result of `id` is held.
    pub(crate) fn contains(&self, id: TaskId) -> bool {
        self.memory.contains_key(&id) || self.spilled.contains_key(&id)
    }

    fn touch(&mut self, id: TaskId) {
        self.tick += 1;
        if let Some(old) = self.ticks.insert(id, self.tick) {
            self.recency.remove(&old);
        }
        self.recency.insert(self.tick, id);
    }

    /// Keeps `data` as the result of `id` (replacing an older one), then spills the least
    /// recently used results while memory is over the target.
    pub(crate) fn insert(&mut self, id: TaskId, data: Data) {
        self.remove(id);
        let size = data.sizeof() as u64;
        self.memory_bytes += size;
        self.memory.insert(id, (data, size));
        self.touch(id);
        self.spill_to_target();
    }

    /// Forgets the result of `id`, deleting its file if it spilled.
    pub(crate) fn remove(&mut self, id: TaskId) {
        if let Some((_, size)) = self.memory.remove(&id) {
            self.memory_bytes = self.memory_bytes.saturating_sub(size);
            if let Some(t) = self.ticks.remove(&id) {
                self.recency.remove(&t);
            }
        }
        if let Some(s) = self.spilled.remove(&id) {
            self.spilled_bytes = self.spilled_bytes.saturating_sub(s.len);
            let _ = std::fs::remove_file(&s.path);
        }
    }

    /// The result of `id`, read back from disk if it spilled (it stays on disk: a result read
    /// once is often not read again).
    pub(crate) fn get(&mut self, id: TaskId) -> Option<Result<Data, String>> {
        if let Some((data, _)) = self.memory.get(&id) {
            let data = data.clone();
            self.touch(id);
            return Some(Ok(data));
        }
        let spilled = self.spilled.get(&id)?;
        Some(read_back(spilled).and_then(|(kind, bytes)| {
            data_from_wire(&kind, &bytes)?
                .ok_or_else(|| format!("the spilled result of task {id} is missing"))
        }))
    }

    /// The result of `id` in its wire form, for a peer: a spilled result is sent as its file's
    /// bytes.
    pub(crate) fn wire(&mut self, id: TaskId) -> (DataKind, Bytes) {
        if let Some((data, _)) = self.memory.get(&id) {
            return data_to_wire(data);
        }
        match self.spilled.get(&id) {
            Some(spilled) => match read_back(spilled) {
                Ok((kind, bytes)) => (kind, bytes),
                Err(why) => (DataKind::Unsendable(why), Bytes::new()),
            },
            None => (DataKind::Missing, Bytes::new()),
        }
    }

    fn spill_to_target(&mut self) {
        let Some(target) = self.target else { return };
        // Results that cannot spill are passed over (and stay in the use order).
        let mut passed = Vec::new();
        while self.memory_bytes > target {
            let Some((&tick, &id)) = self.recency.iter().next() else {
                break;
            };
            self.recency.remove(&tick);
            if !self.spill(id) {
                passed.push((tick, id));
            }
        }
        self.recency.extend(passed);
    }

    /// Writes the result of `id` to disk; false when it cannot leave memory.
    fn spill(&mut self, id: TaskId) -> bool {
        let Some((data, _)) = self.memory.get(&id) else {
            return false;
        };
        let (kind, bytes) = data_to_wire(data);
        if matches!(kind, DataKind::Unsendable(_) | DataKind::Missing) {
            return false;
        }
        if let Err(e) = std::fs::create_dir_all(&self.dir) {
            super::log_warn(format_args!(
                "cannot create the spill directory {}: {e}",
                self.dir.display()
            ));
            return false;
        }
        let path = self.dir.join(format!("{id}.bin"));
        if let Err(e) = std::fs::write(&path, &bytes) {
            super::log_warn(format_args!("cannot spill to {}: {e}", path.display()));
            let _ = std::fs::remove_file(&path);
            return false;
        }
        if let Some((_, size)) = self.memory.remove(&id) {
            self.memory_bytes = self.memory_bytes.saturating_sub(size);
        }
        self.ticks.remove(&id);
        self.spilled_bytes += bytes.len() as u64;
        self.spilled.insert(
            id,
            Spilled {
                kind,
                path,
                len: bytes.len() as u64,
            },
        );
        true
    }
}

fn read_back(spilled: &Spilled) -> Result<(DataKind, Bytes), String> {
    std::fs::read(&spilled.path)
        .map(|b| (spilled.kind.clone(), Bytes::from(b)))
        .map_err(|e| format!("cannot read back {}: {e}", spilled.path.display()))
}

impl Drop for Store {
    fn drop(&mut self) {
        // Even with nothing spilled now, the directory may exist (emptied by unspills).
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: usize, v: f64) -> Data {
        Data::Array(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[n]), v).into())
    }

    #[test]
    fn results_spill_least_recently_used_first_and_read_back() {
        // 10 KB limit: 6 KB stay in memory; each block is 4 KB.
        let mut store = Store::new(10_000, Some(SPILL_FRACTION), "test");
        store.insert(1, block(500, 1.0));
        store.insert(2, block(500, 2.0));
        assert_eq!(store.spilled_bytes(), 4_000, "the first block went to disk");
        assert_eq!(store.memory_bytes(), 4_000);
        // Using block 2 keeps it; the next insert spills it only after block 3 is older.
        assert!(store.get(2).unwrap().is_ok());
        store.insert(3, block(500, 3.0));
        assert_eq!(store.len(), 3);
        assert!(store.memory_bytes() <= 6_000);
        for (id, v) in [(1, 1.0), (2, 2.0), (3, 3.0)] {
            let d = store.get(id).unwrap().unwrap();
            let a = d.as_array().unwrap();
            assert_eq!(a, &block(500, v).as_array().unwrap().clone(), "block {id}");
            let (kind, bytes) = store.wire(id);
            assert!(matches!(kind, DataKind::Array { .. }));
            assert_eq!(bytes.len(), 4_000);
        }
        store.remove(1);
        store.remove(2);
        store.remove(3);
        assert_eq!((store.memory_bytes(), store.spilled_bytes()), (0, 0));
        assert_eq!(store.len(), 0);
    }

    #[test]
    fn unsendable_results_stay_in_memory() {
        let mut store = Store::new(100, Some(SPILL_FRACTION), "test");
        store.insert(7, Data::local_with_size(vec![0u8; 1000], 1000));
        assert_eq!(store.spilled_bytes(), 0);
        assert_eq!(store.memory_bytes(), 1000);
        assert!(store.get(7).unwrap().is_ok());
    }

    #[test]
    fn results_that_cannot_spill_pause_the_worker_until_released() {
        // 10 KB limit: spill past 6 KB, pause past 8 KB.
        let mut store = Store::new(10_000, Some(SPILL_FRACTION), "test");
        let mut pause = MemoryPause::new(10_000, Some(PAUSE_FRACTION));
        // Spillable results never keep memory past the target, so the worker keeps running.
        for id in 0..5 {
            store.insert(id, block(500, 1.0));
            assert_eq!(pause.observe(store.memory_bytes()), None, "block {id}");
        }
        assert!(store.spilled_bytes() >= 12_000);
        // Process-local values stay in memory whatever the target: 9 KB of them pause it.
        for id in 10..13 {
            store.insert(id, Data::local_with_size(vec![0u8; 3_000], 3_000));
        }
        assert!(store.memory_bytes() > 8_000);
        assert_eq!(pause.observe(store.memory_bytes()), Some(true));
        // Releasing one brings memory back to the threshold or under: it resumes.
        store.remove(10);
        assert!(store.memory_bytes() <= 8_000, "{}", store.memory_bytes());
        assert_eq!(pause.observe(store.memory_bytes()), Some(false));
    }

    #[test]
    fn with_spilling_off_results_stay_in_memory_and_pause_the_worker() {
        let mut store = Store::new(10_000, None, "test");
        let mut pause = MemoryPause::new(10_000, Some(PAUSE_FRACTION));
        for id in 0..3 {
            store.insert(id, block(500, 1.0));
        }
        assert_eq!(store.spilled_bytes(), 0);
        assert_eq!(store.memory_bytes(), 12_000);
        assert_eq!(pause.observe(store.memory_bytes()), Some(true));
        store.remove(0);
        store.remove(1);
        assert_eq!(pause.observe(store.memory_bytes()), Some(false));
    }

    #[test]
    fn no_limit_never_spills() {
        let mut store = Store::new(0, Some(SPILL_FRACTION), "test");
        for id in 0..10 {
            store.insert(id, block(10_000, 0.5));
        }
        assert_eq!(store.spilled_bytes(), 0);
        assert_eq!(store.memory_bytes(), 800_000);
        assert!(matches!(store.wire(99).0, DataKind::Missing));
    }
}
