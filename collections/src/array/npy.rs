//! `.npy` files: reading an array block by block, and writing one block by block.
//!
//! [`from_npy`] reads only the header when the array is built — so a truncated file, a
//! Fortran-ordered one or one of another dtype is an error right there, naming the file — and
//! each block's task then reads just that block's bytes with positioned reads (`pread`), one
//! contiguous run per row of the block, never the whole file. [`Array::to_npy`] writes the
//! header once, then each block's task writes its rows at their offsets, so blocks are written
//! in parallel and no task holds more than its block.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dusk_core::{
    ArrayBlock, BoxError, Collection, ComputeError, Data, Graph, Key, Op, Task, Tokenizer,
};
use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

use super::chunks::{block_indices, offsets, ChunkSpec};
use super::dtype::{DType, Element};
use super::error::ArrayError;
use super::ops::ArrayOp;
use super::{blockwise_node, Array};

/// Bytes read per `pread` at most (bounds the read buffer of a task).
const READ_PIECE: usize = 4 << 20;

fn npy_err(path: &Path, message: impl Into<String>) -> ArrayError {
    ArrayError::Npy {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn descr_of(d: DType) -> &'static str {
    match d {
        DType::F64 => "<f8",
        DType::F32 => "<f4",
        DType::I64 => "<i8",
        DType::I32 => "<i4",
        DType::Bool => "|b1",
    }
}

fn dtype_of_descr(descr: &str) -> Option<DType> {
    Some(match descr {
        "<f8" | "=f8" | "f8" => DType::F64,
        "<f4" | "=f4" | "f4" => DType::F32,
        "<i8" | "=i8" | "i8" => DType::I64,
        "<i4" | "=i4" | "i4" => DType::I32,
        "|b1" | "<b1" | "=b1" | "b1" | "?" | "|?" => DType::Bool,
        _ => return None,
    })
}

/// What a `.npy` header says.
#[derive(Debug, Clone)]
struct Header {
    dtype: DType,
    shape: Vec<usize>,
    data_offset: u64,
}

fn value_after<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let k1 = format!("'{key}'");
    let k2 = format!("\"{key}\"");
    let pos = dict
        .find(&k1)
        .map(|p| p + k1.len())
        .or_else(|| dict.find(&k2).map(|p| p + k2.len()))?;
    let rest = dict[pos..].trim_start();
    rest.strip_prefix(':').map(str::trim_start)
}

fn read_header(path: &Path) -> Result<Header, ArrayError> {
    let mut f = File::open(path).map_err(|source| ArrayError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut pre = [0u8; 8];
    f.read_exact(&mut pre)
        .map_err(|_| npy_err(path, "too short to be a .npy file (no header)"))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(npy_err(path, "not a .npy file (bad magic string)"));
    }
    let (len, start) = match pre[6] {
        1 => {
            let mut b = [0u8; 2];
            f.read_exact(&mut b)
                .map_err(|_| npy_err(path, "truncated header"))?;
            (u16::from_le_bytes(b) as usize, 10)
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            f.read_exact(&mut b)
                .map_err(|_| npy_err(path, "truncated header"))?;
            (u32::from_le_bytes(b) as usize, 12)
        }
        v => {
            return Err(npy_err(
                path,
                format!("unsupported .npy format version {v}"),
            ))
        }
    };
    let mut dict = vec![0u8; len];
    f.read_exact(&mut dict)
        .map_err(|_| npy_err(path, "truncated header"))?;
    let dict = String::from_utf8_lossy(&dict).to_string();
    let descr = value_after(&dict, "descr")
        .and_then(|r| {
            let q = r.chars().next()?;
            let r = &r[1..];
            r.find(q).map(|e| &r[..e])
        })
        .ok_or_else(|| npy_err(path, "header has no 'descr'"))?;
    let dtype = dtype_of_descr(descr).ok_or_else(|| {
        npy_err(
            path,
            format!("unsupported dtype '{descr}' (dusk reads little-endian f8, f4, i8, i4 and b1)"),
        )
    })?;
    let fortran = value_after(&dict, "fortran_order")
        .ok_or_else(|| npy_err(path, "header has no 'fortran_order'"))?;
    if fortran.starts_with("True") {
        return Err(npy_err(
            path,
            "Fortran-ordered arrays are not supported; save it in C order",
        ));
    }
    let shape_txt = value_after(&dict, "shape")
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.find(')').map(|e| &r[..e]))
        .ok_or_else(|| npy_err(path, "header has no 'shape'"))?;
    let shape = shape_txt
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| npy_err(path, format!("bad shape entry '{s}'")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let data_offset = (start + len) as u64;
    let need = data_offset + shape.iter().product::<usize>() as u64 * dtype.itemsize() as u64;
    let have = f
        .metadata()
        .map_err(|source| ArrayError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if have < need {
        return Err(npy_err(
            path,
            format!("truncated: the header promises {shape:?} {} ({need} bytes with the header) but the file has {have} bytes", dtype.name()),
        ));
    }
    Ok(Header {
        dtype,
        shape,
        data_offset,
    })
}

/// Visits the contiguous runs of a block of a C-ordered array: `(element offset in the whole
/// array, run length in elements)`, in the block's C order.
fn runs(
    full: &[usize],
    offset: &[usize],
    shape: &[usize],
    mut f: impl FnMut(usize, usize) -> Result<(), BoxError>,
) -> Result<(), BoxError> {
    let nd = full.len();
    if nd == 0 {
        return f(0, 1);
    }
    if shape.contains(&0) {
        return Ok(());
    }
    // Trailing axes the block covers whole merge into one run.
    let mut k = nd - 1;
    while k > 0 && shape[k] == full[k] {
        k -= 1;
    }
    let run: usize = shape[k..].iter().product();
    let strides: Vec<usize> = (0..nd).map(|d| full[d + 1..].iter().product()).collect();
    for prefix in block_indices(&shape[..k]) {
        let mut pos = 0usize;
        for d in 0..k {
            pos += (offset[d] + prefix[d]) * strides[d];
        }
        for (d, s) in strides.iter().enumerate().skip(k) {
            pos += offset[d] * s;
        }
        f(pos, run)?;
    }
    Ok(())
}

/// Reads one block of a `.npy` file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct NpyRead {
    pub path: PathBuf,
    pub data_offset: u64,
    pub dtype: DType,
    pub full_shape: Vec<usize>,
    pub offset: Vec<usize>,
    pub shape: Vec<usize>,
}

fn decode<T>(bytes: &[u8], width: usize, out: &mut Vec<T>, f: impl Fn(&[u8]) -> T) {
    out.extend(bytes.chunks_exact(width).map(f));
}

impl NpyRead {
    fn read_typed<T: Element>(
        &self,
        file: &File,
        conv: impl Fn(&[u8]) -> T + Copy,
    ) -> Result<ArrayBlock, BoxError> {
        let w = self.dtype.itemsize();
        let total: usize = self.shape.iter().product();
        let mut out: Vec<T> = Vec::with_capacity(total);
        let mut buf = vec![0u8; READ_PIECE.min(total.max(1) * w)];
        runs(&self.full_shape, &self.offset, &self.shape, |pos, len| {
            let mut done = 0usize;
            while done < len {
                let n = (len - done).min(buf.len() / w).max(1);
                let bytes = &mut buf[..n * w];
                let at = self.data_offset + ((pos + done) * w) as u64;
                file.read_exact_at(bytes, at).map_err(|e| {
                    format!(
                        "{}: reading {} bytes at offset {at}: {e}",
                        self.path.display(),
                        n * w
                    )
                })?;
                decode(bytes, w, &mut out, conv);
                done += n;
            }
            Ok(())
        })?;
        let a = ArrayD::from_shape_vec(IxDyn(&self.shape), out)?;
        Ok(T::into_block(a.into_shared()))
    }

    pub fn run(&self) -> Result<ArrayBlock, BoxError> {
        let file = File::open(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
        match self.dtype {
            DType::F64 => self.read_typed::<f64>(&file, |b| {
                f64::from_le_bytes(b.try_into().unwrap_or([0; 8]))
            }),
            DType::F32 => self.read_typed::<f32>(&file, |b| {
                f32::from_le_bytes(b.try_into().unwrap_or([0; 4]))
            }),
            DType::I64 => self.read_typed::<i64>(&file, |b| {
                i64::from_le_bytes(b.try_into().unwrap_or([0; 8]))
            }),
            DType::I32 => self.read_typed::<i32>(&file, |b| {
                i32::from_le_bytes(b.try_into().unwrap_or([0; 4]))
            }),
            DType::Bool => self.read_typed::<bool>(&file, |b| b[0] != 0),
        }
    }
}

/// A lazy array over a `.npy` file, read block by block.
///
/// The header is read now: a missing, truncated, Fortran-ordered or non-`T` file is an error
/// naming the file.
///
/// ```
/// use dusk_collections::array;
/// use dusk_scheduler::Compute;
/// let dir = std::env::temp_dir().join(format!("dusk-npy-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("x.npy");
/// let x = array::arange(10, 4).unwrap().reshape(&[2, 5]).unwrap();
/// x.to_npy(&path).unwrap().compute().unwrap();
/// let y = array::from_npy::<i64>(&path, [1, 3]).unwrap();
/// assert_eq!(y.compute().unwrap(), x.compute().unwrap());
/// assert!(array::from_npy::<f64>(&path, 2).unwrap_err().to_string().contains("x.npy"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn from_npy<T: Element>(
    path: impl AsRef<Path>,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>, ArrayError> {
    let path = path.as_ref();
    let h = read_header(path)?;
    if h.dtype != T::DTYPE {
        return Err(npy_err(
            path,
            format!("holds {} values, not {}", h.dtype.name(), T::DTYPE.name()),
        ));
    }
    let chunks = chunks.into().normalize(&h.shape, h.dtype.itemsize())?;
    let meta = std::fs::metadata(path).map_err(|source| ArrayError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = Tokenizer::new("array-from-npy")
        .write(&path.to_string_lossy())
        .write(&(meta.len(), mtime))
        .write(&chunks)
        .name("from-npy");
    let offs: Vec<Vec<usize>> = chunks.iter().map(|c| offsets(c)).collect();
    let path = path.to_path_buf();
    let node = blockwise_node(
        name,
        h.shape.clone(),
        chunks,
        h.dtype,
        vec![],
        move |n, idx| {
            let op = ArrayOp::NpyRead(NpyRead {
                path: path.clone(),
                data_offset: h.data_offset,
                dtype: h.dtype,
                full_shape: h.shape.clone(),
                offset: idx.iter().enumerate().map(|(d, &i)| offs[d][i]).collect(),
                shape: n.block_shape(idx),
            });
            (Arc::new(op) as Arc<dyn Op>, vec![])
        },
    );
    Ok(Array::from_node(node))
}

/// The header NumPy writes (format 1.0, data aligned to 64 bytes).
fn header_bytes(dtype: DType, shape: &[usize]) -> Vec<u8> {
    let shape_txt = match shape {
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_txt}, }}",
        descr_of(dtype)
    );
    let total = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - total % 64) % 64));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Creates (or truncates) the file and writes the header.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct NpyWrite {
    pub path: PathBuf,
    pub dtype: DType,
    pub full_shape: Vec<usize>,
    pub data_offset: u64,
    /// None: create the file; Some(offset): write the block at that position.
    pub offset: Option<Vec<usize>>,
}

fn encode_block(b: &ArrayBlock) -> Vec<u8> {
    fn go<T: Copy, const W: usize>(
        a: &ndarray::ArcArray<T, IxDyn>,
        f: impl Fn(T) -> [u8; W],
    ) -> Vec<u8> {
        let mut v = Vec::with_capacity(a.len() * W);
        for &x in a.iter() {
            v.extend_from_slice(&f(x));
        }
        v
    }
    match b {
        ArrayBlock::F64(a) => go(a, f64::to_le_bytes),
        ArrayBlock::F32(a) => go(a, f32::to_le_bytes),
        ArrayBlock::I64(a) => go(a, i64::to_le_bytes),
        ArrayBlock::I32(a) => go(a, i32::to_le_bytes),
        ArrayBlock::Bool(a) => go(a, |x| [x as u8]),
        _ => Vec::new(),
    }
}

impl NpyWrite {
    pub fn run(&self, inputs: &[Data]) -> Result<Data, BoxError> {
        let shown = self.path.display();
        match &self.offset {
            None => {
                let header = header_bytes(self.dtype, &self.full_shape);
                let f = OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&self.path)
                    .map_err(|e| format!("{shown}: {e}"))?;
                f.write_all_at(&header, 0)
                    .map_err(|e| format!("{shown}: {e}"))?;
                let len = header.len() as u64
                    + self.full_shape.iter().product::<usize>() as u64
                        * self.dtype.itemsize() as u64;
                f.set_len(len).map_err(|e| format!("{shown}: {e}"))?;
                Ok(Data::local(()))
            }
            Some(offset) => {
                let b = inputs.first().ok_or("to-npy: missing block")?.as_array()?;
                let bytes = encode_block(b);
                let w = self.dtype.itemsize();
                let f = OpenOptions::new()
                    .write(true)
                    .open(&self.path)
                    .map_err(|e| format!("{shown}: {e}"))?;
                let mut at = 0usize;
                runs(&self.full_shape, offset, b.shape(), |pos, len| {
                    let chunk = &bytes[at..at + len * w];
                    f.write_all_at(chunk, self.data_offset + (pos * w) as u64)
                        .map_err(|e| format!("{shown}: {e}"))?;
                    at += len * w;
                    Ok(())
                })?;
                Ok(Data::local(()))
            }
        }
    }
}

/// A pending write of an array to a `.npy` file; `compute()` it to write.
///
/// ```
/// use dusk_collections::array;
/// use dusk_scheduler::Compute;
/// let path = std::env::temp_dir().join(format!("dusk-store-doc-{}.npy", std::process::id()));
/// array::eye::<f32>(4, 3).unwrap().to_npy(&path).unwrap().compute().unwrap();
/// let back = array::from_npy::<f32>(&path, 4).unwrap().compute().unwrap();
/// assert_eq!(back, ndarray::Array2::<f32>::eye(4).into_dyn());
/// std::fs::remove_file(&path).unwrap();
/// ```
pub struct NpyStore {
    array: Arc<super::Node>,
    path: PathBuf,
}

impl<T: Element> Array<T> {
    /// Writes the array to a `.npy` file block by block when the result is computed.
    pub fn to_npy(&self, path: impl AsRef<Path>) -> Result<NpyStore, ArrayError> {
        let path = path.as_ref().to_path_buf();
        if path.as_os_str().is_empty() {
            return Err(npy_err(&path, "empty path"));
        }
        Ok(NpyStore {
            array: self.node.clone(),
            path,
        })
    }
}

impl Collection for NpyStore {
    type Output = ();

    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        let n = &self.array;
        n.lower_into(graph)?;
        let token = Tokenizer::new("array-to-npy")
            .write(&*n.name)
            .write(&self.path.to_string_lossy())
            .finish();
        let create = Key::new(format!("npy-create-{token}"));
        let data_offset = header_bytes(n.dtype, &n.shape).len() as u64;
        let base = NpyWrite {
            path: self.path.clone(),
            dtype: n.dtype,
            full_shape: n.shape.clone(),
            data_offset,
            offset: None,
        };
        graph.insert(
            create.clone(),
            Task::new(ArrayOp::NpyWrite(base.clone()), vec![]),
        );
        let offs: Vec<Vec<usize>> = n.chunks.iter().map(|c| offsets(c)).collect();
        let name: Arc<str> = Arc::from(format!("npy-write-{token}"));
        let mut writes = Vec::new();
        for idx in block_indices(&n.numblocks()) {
            let mut w = base.clone();
            w.offset = Some(idx.iter().enumerate().map(|(d, &i)| offs[d][i]).collect());
            let k = Key::block(
                name.clone(),
                &idx.iter().map(|&i| i as u32).collect::<Vec<_>>(),
            );
            graph.insert(
                k.clone(),
                Task::new(ArrayOp::NpyWrite(w), vec![n.key(&idx), create.clone()]),
            );
            writes.push(k);
        }
        let done = Key::new(format!("npy-done-{token}"));
        graph.insert(done.clone(), Task::new(ArrayOp::Done, writes));
        Ok(vec![done])
    }

    fn num_outputs(&self) -> usize {
        1
    }

    fn finalize(&self, _results: Vec<Data>) -> Result<(), ComputeError> {
        Ok(())
    }
}

/// The description of an npy stack, `info.json` in its directory.
fn stack_info(dtype: DType, axis: usize, chunks: &[Vec<usize>]) -> String {
    serde_json::json!({ "dtype": dtype.name(), "axis": axis, "chunks": chunks }).to_string()
}

/// A pending write of an array as an npy stack; `compute()` it to write the blocks.
///
/// ```
/// use dusk_collections::array;
/// use dusk_scheduler::Compute;
/// let dir = std::env::temp_dir().join(format!("dusk-stack-doc-{}", std::process::id()));
/// let x = array::arange(12, 5).unwrap().reshape(&[6, 2]).unwrap();
/// x.to_npy_stack(&dir, 0).unwrap().compute().unwrap();
/// let back = array::from_npy_stack::<i64>(&dir).unwrap();
/// assert_eq!(back.numblocks(), x.numblocks());
/// assert_eq!(back.compute().unwrap(), x.compute().unwrap());
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct NpyStackStore {
    array: Arc<super::Node>,
    dir: PathBuf,
    axis: usize,
}

impl<T: Element> Array<T> {
    /// Writes the array as an npy stack (Dask's `to_npy_stack`): a directory holding one
    /// `.npy` file per block along `axis` (`0.npy`, `1.npy`, ...; the array is rechunked so
    /// the other axes are whole) and `info.json` with the dtype, axis and chunks. The directory
    /// and `info.json` are written now; the blocks when the result is computed.
    pub fn to_npy_stack(
        &self,
        dir: impl AsRef<Path>,
        axis: isize,
    ) -> Result<NpyStackStore, ArrayError> {
        let dir = dir.as_ref().to_path_buf();
        let axis = super::error::norm_axis(axis, self.ndim())?;
        let n = &self.node;
        let chunks: Vec<Vec<usize>> = (0..n.ndim())
            .map(|d| {
                if d == axis {
                    n.chunks[d].clone()
                } else {
                    vec![n.shape[d]]
                }
            })
            .collect();
        let node = if chunks == n.chunks {
            n.clone()
        } else {
            super::rechunk::rechunk_node(n, chunks.clone())
        };
        std::fs::create_dir_all(&dir).map_err(|source| ArrayError::Io {
            path: dir.clone(),
            source,
        })?;
        let info = dir.join("info.json");
        std::fs::write(&info, stack_info(n.dtype, axis, &chunks)).map_err(|source| {
            ArrayError::Io {
                path: info.clone(),
                source,
            }
        })?;
        Ok(NpyStackStore {
            array: node,
            dir,
            axis,
        })
    }
}

impl Collection for NpyStackStore {
    type Output = ();

    fn lower(&self, graph: &mut Graph) -> Result<Vec<Key>, ComputeError> {
        let n = &self.array;
        n.lower_into(graph)?;
        let token = Tokenizer::new("array-to-npy-stack")
            .write(&*n.name)
            .write(&self.dir.to_string_lossy())
            .finish();
        let name: Arc<str> = Arc::from(format!("npy-stack-write-{token}"));
        let create_name: Arc<str> = Arc::from(format!("npy-stack-create-{token}"));
        let mut writes = Vec::new();
        for idx in block_indices(&n.numblocks()) {
            let i = idx[self.axis];
            let shape = n.block_shape(&idx);
            let base = NpyWrite {
                path: self.dir.join(format!("{i}.npy")),
                dtype: n.dtype,
                full_shape: shape.clone(),
                data_offset: header_bytes(n.dtype, &shape).len() as u64,
                offset: None,
            };
            let create = Key::part(create_name.clone(), i as u32);
            graph.insert(
                create.clone(),
                Task::new(ArrayOp::NpyWrite(base.clone()), vec![]),
            );
            let mut w = base;
            w.offset = Some(vec![0; shape.len()]);
            let k = Key::part(name.clone(), i as u32);
            graph.insert(
                k.clone(),
                Task::new(ArrayOp::NpyWrite(w), vec![n.key(&idx), create]),
            );
            writes.push(k);
        }
        let done = Key::new(format!("npy-stack-done-{token}"));
        graph.insert(done.clone(), Task::new(ArrayOp::Done, writes));
        Ok(vec![done])
    }

    fn num_outputs(&self) -> usize {
        1
    }

    fn finalize(&self, _results: Vec<Data>) -> Result<(), ComputeError> {
        Ok(())
    }
}

/// Reads an npy stack written by [`Array::to_npy_stack`], block by block. `info.json` and
/// every block's header are checked now: a missing or mismatched file is an error naming it.
///
/// ```
/// let err = dusk_collections::array::from_npy_stack::<f64>("no/such/stack").unwrap_err();
/// assert!(err.to_string().contains("info.json"));
/// ```
pub fn from_npy_stack<T: Element>(dir: impl AsRef<Path>) -> Result<Array<T>, ArrayError> {
    let dir = dir.as_ref();
    let info_path = dir.join("info.json");
    let text = std::fs::read_to_string(&info_path).map_err(|source| ArrayError::Io {
        path: info_path.clone(),
        source,
    })?;
    let bad = |m: &str| npy_err(&info_path, m.to_string());
    let info: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(&format!("invalid JSON: {e}")))?;
    let dtype = info["dtype"].as_str().ok_or_else(|| bad("no dtype"))?;
    if dtype != T::DTYPE.name() {
        return Err(bad(&format!(
            "holds {dtype} values, not {}",
            T::DTYPE.name()
        )));
    }
    let axis = info["axis"].as_u64().ok_or_else(|| bad("no axis"))? as usize;
    let chunks: Vec<Vec<usize>> = serde_json::from_value(info["chunks"].clone())
        .map_err(|e| bad(&format!("bad chunks: {e}")))?;
    if axis >= chunks.len()
        || chunks
            .iter()
            .enumerate()
            .any(|(d, c)| d != axis && c.len() != 1)
    {
        return Err(bad("the chunks do not describe a stack along the axis"));
    }
    let shape: Vec<usize> = chunks.iter().map(|c| c.iter().sum()).collect();
    let mut offsets_of = Vec::new();
    for (i, &len) in chunks[axis].iter().enumerate() {
        let path = dir.join(format!("{i}.npy"));
        let h = read_header(&path)?;
        let mut want = shape.clone();
        want[axis] = len;
        if h.dtype != T::DTYPE || h.shape != want {
            return Err(npy_err(
                &path,
                format!(
                    "holds {:?} {}, but the stack expects {want:?} {}",
                    h.shape,
                    h.dtype.name(),
                    T::DTYPE.name()
                ),
            ));
        }
        offsets_of.push((path, h.data_offset));
    }
    let mut tok = Tokenizer::new("array-from-npy-stack");
    tok.write(&dir.to_string_lossy()).write(&text);
    for (p, _) in &offsets_of {
        let m = std::fs::metadata(p).map_err(|source| ArrayError::Io {
            path: p.clone(),
            source,
        })?;
        let t = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos());
        tok.write(&(m.len(), t));
    }
    let name = tok.name("from-npy-stack");
    let node = blockwise_node(name, shape, chunks, T::DTYPE, vec![], move |n, idx| {
        let (path, data_offset) = offsets_of[idx[axis]].clone();
        let shape = n.block_shape(idx);
        let op = ArrayOp::NpyRead(NpyRead {
            path,
            data_offset,
            dtype: T::DTYPE,
            full_shape: shape.clone(),
            offset: vec![0; shape.len()],
            shape,
        });
        (Arc::new(op) as Arc<dyn Op>, vec![])
    });
    Ok(Array::from_node(node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_whole_trailing_axes() {
        let mut v = Vec::new();
        runs(&[4, 5], &[1, 0], &[2, 5], |p, l| {
            v.push((p, l));
            Ok(())
        })
        .unwrap();
        assert_eq!(v, vec![(5, 10)]);
        let mut w = Vec::new();
        runs(&[4, 5], &[1, 2], &[2, 3], |p, l| {
            w.push((p, l));
            Ok(())
        })
        .unwrap();
        assert_eq!(w, vec![(7, 3), (12, 3)]);
    }

    #[test]
    fn header_is_aligned() {
        assert_eq!(header_bytes(DType::F64, &[3, 4]).len() % 64, 0);
    }
}
