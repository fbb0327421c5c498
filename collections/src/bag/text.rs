//! Text files: `read_text` (one item per line) and `to_textfiles`.
//!
//! A glob is expanded when the bag is built, files sorted by path, and a pattern that matches
//! nothing is an error naming the pattern. Each file is one partition, except that a large
//! uncompressed file is split into byte-range blocks of `block_size` bytes (64 MiB by
//! default), so one big log file still spreads over all cores. A line belongs to the block in
//! which it *starts*: a block skips the partial line at its start (the previous block reads
//! it) and reads past its end to finish its last line, so every line is read exactly once.
//! Compression is chosen by extension: `.gz` files are decompressed with flate2, `.zst` and
//! `.zstd` files with zstd. A compressed stream cannot be split, so a compressed file is always
//! one partition. Other codecs (`.bz2`, `.xz`, `.lzma`) are not supported: reading or writing
//! such a file is an error naming it when the bag is built.
//!
//! Lines are yielded without their line ending (`\n` or `\r\n`), like
//! [`BufRead::lines`](std::io::BufRead::lines). A line that is not UTF-8, or a corrupt gzip
//! or zstd stream, fails the computation with an error naming the file and line. Keys are
//! deterministic: they hash the paths, sizes and modification times of the files and the
//! block size, so an edited file gets new keys.

use std::fmt::Display;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use dusk_core::{BoxError, ComputeError, Data, Graph, Key, Tokenizer, WireError};
use serde::{Deserialize, Serialize};

use super::error::BagError;
use super::item::Item;
use super::stream::{leaf, Elem, Emit, Stream};
use super::wire::{collect_paths, describe, describe_partition, sendable, BagOp, StreamSpec, Work};
use super::Bag;

/// The default size of the blocks a large uncompressed file is split into: 64 MiB.
pub const DEFAULT_BLOCK_SIZE: u64 = 64 * 1024 * 1024;

/// A line of text with where it came from (see [`ReadText::lines_with_origin`]).
///
/// ```
/// use std::sync::Arc;
/// use std::path::Path;
/// use dusk_collections::bag::Line;
/// let l = Line { path: Arc::from(Path::new("a.txt")), number: 3, text: "hi".into() };
/// assert_eq!(l.to_string(), "hi");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Line {
    /// The file.
    pub path: Arc<Path>,
    /// The line number in the file, counting from 1.
    pub number: u64,
    /// The text, without its line ending.
    pub text: String,
}

impl Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The files to read.
#[derive(Clone, Debug)]
enum Inputs {
    Glob(String),
    Paths(Vec<PathBuf>),
}

/// Options of a text source: which files, and how large a block of a plain file may be.
///
/// ```
/// use dusk_collections::bag::ReadText;
/// let logs = format!("{}/../datasets/sample/logs/*.json.gz", env!("CARGO_MANIFEST_DIR"));
/// let bag = ReadText::glob(&logs).block_size(1 << 20).lines().unwrap();
/// assert_eq!(bag.npartitions(), 4); // gzip files are never split
/// ```
#[derive(Clone, Debug)]
pub struct ReadText {
    inputs: Inputs,
    block_size: u64,
}

/// A bag of the lines of the files matching a glob pattern (Dask's `read_text`), with the
/// default options of [`ReadText`].
///
/// ```
/// use dusk_collections::bag::read_text;
/// use dusk_scheduler::Compute;
/// let pattern = format!("{}/../datasets/sample/logs/*.json.gz", env!("CARGO_MANIFEST_DIR"));
/// let lines = read_text(&pattern).unwrap();
/// assert_eq!(lines.count().compute().unwrap(), 10_000);
/// ```
pub fn read_text(pattern: &str) -> Result<Bag<String>, BagError> {
    ReadText::glob(pattern).lines()
}

impl ReadText {
    /// Reads the files matching `pattern` (glob syntax: `*`, `?`, `[a-z]`, `**`).
    ///
    /// ```
    /// use dusk_collections::bag::ReadText;
    /// let err = ReadText::glob("[").lines().unwrap_err();
    /// assert!(err.to_string().contains("invalid glob pattern `[`"), "{err}");
    /// ```
    pub fn glob(pattern: &str) -> ReadText {
        ReadText {
            inputs: Inputs::Glob(pattern.to_string()),
            block_size: DEFAULT_BLOCK_SIZE,
        }
    }

    /// Reads the given files, in the given order.
    ///
    /// ```
    /// use dusk_collections::bag::ReadText;
    /// let err = ReadText::paths(["no-such-file.txt"]).lines().unwrap_err();
    /// assert!(err.to_string().contains("no-such-file.txt"), "{err}");
    /// ```
    pub fn paths<I, P>(paths: I) -> ReadText
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        ReadText {
            inputs: Inputs::Paths(paths.into_iter().map(Into::into).collect()),
            block_size: DEFAULT_BLOCK_SIZE,
        }
    }

    /// Splits uncompressed files larger than `bytes` into blocks of `bytes`; `0` keeps every
    /// file whole.
    ///
    /// ```
    /// use dusk_collections::bag::ReadText;
    /// let opts = ReadText::glob("*.txt").block_size(0);
    /// # let _ = opts;
    /// ```
    pub fn block_size(mut self, bytes: u64) -> ReadText {
        self.block_size = bytes;
        self
    }

    /// A bag of the lines.
    ///
    /// ```
    /// use dusk_collections::bag::ReadText;
    /// use dusk_scheduler::Compute;
    /// let dir = std::env::temp_dir().join(format!("dusk-doc-lines-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.txt"), "one\ntwo\r\nthree").unwrap();
    /// let bag = ReadText::paths([dir.join("a.txt")]).block_size(5).lines().unwrap();
    /// assert_eq!(bag.npartitions(), 3);
    /// assert_eq!(bag.compute().unwrap(), vec!["one", "two", "three"]);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn lines(&self) -> Result<Bag<String>, BagError> {
        let text = self.resolve()?;
        Ok(Bag::from_stream(Arc::new(text) as Arc<dyn Stream<String>>))
    }

    /// A bag of the lines with their file and line number, so that later errors (such as
    /// [`Bag::<Line>::parse_json`]) can say where a bad line is. Numbering lines of a block
    /// that starts inside a file costs one extra scan of the file up to the block.
    ///
    /// ```
    /// use dusk_collections::bag::ReadText;
    /// use dusk_scheduler::Compute;
    /// let dir = std::env::temp_dir().join(format!("dusk-doc-origin-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.txt"), "x\ny\nz\n").unwrap();
    /// let lines = ReadText::paths([dir.join("a.txt")]).block_size(3).lines_with_origin().unwrap();
    /// let numbers: Vec<u64> = lines.map(|l| l.number).compute().unwrap();
    /// assert_eq!(numbers, vec![1, 2, 3]);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn lines_with_origin(&self) -> Result<Bag<Line>, BagError> {
        let text = self.resolve()?;
        Ok(Bag::from_stream(Arc::new(text) as Arc<dyn Stream<Line>>))
    }

    fn files(&self) -> Result<Vec<PathBuf>, BagError> {
        match &self.inputs {
            Inputs::Paths(p) => Ok(p.clone()),
            Inputs::Glob(pattern) => {
                let entries = glob::glob(pattern).map_err(|e| BagError::Pattern {
                    pattern: pattern.clone(),
                    message: e.to_string(),
                })?;
                let mut files = Vec::new();
                for entry in entries {
                    let path = entry.map_err(|e| BagError::Io {
                        path: e.path().to_path_buf(),
                        source: e.into(),
                    })?;
                    if path.is_file() {
                        files.push(path);
                    }
                }
                if files.is_empty() {
                    return Err(BagError::NoMatch {
                        pattern: pattern.clone(),
                    });
                }
                files.sort();
                Ok(files)
            }
        }
    }

    fn resolve(&self) -> Result<Text, BagError> {
        // Absolute paths, as fsspec makes them for Dask: a worker started in another directory
        // reads the same files.
        let files = self
            .files()?
            .into_iter()
            .map(|path| {
                std::path::absolute(&path).map_err(|source| BagError::Io {
                    path: path.clone(),
                    source,
                })
            })
            .collect::<Result<Vec<PathBuf>, BagError>>()?;
        if files.is_empty() {
            return Err(BagError::InvalidArgument(
                "read_text needs at least one file".into(),
            ));
        }
        let mut tok = Tokenizer::new("bag-read-text");
        tok.write(&self.block_size);
        let mut blocks = Vec::new();
        for path in files {
            let meta = std::fs::metadata(&path).map_err(|source| BagError::Io {
                path: path.clone(),
                source,
            })?;
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos());
            tok.write(&path).write(&meta.len()).write(&modified);
            check_codec(&path)?;
            let codec = Codec::of(&path);
            let path: Arc<Path> = Arc::from(path.as_path());
            let size = meta.len();
            if codec != Codec::Plain || self.block_size == 0 || size <= self.block_size {
                blocks.push(Block {
                    path,
                    codec,
                    start: 0,
                    end: None,
                });
            } else {
                let mut start = 0;
                while start < size {
                    let end = start.saturating_add(self.block_size).min(size);
                    blocks.push(Block {
                        path: path.clone(),
                        codec,
                        start,
                        end: Some(end),
                    });
                    start = end;
                }
            }
        }
        let token = tok.finish();
        Ok(Text {
            origin_token: Tokenizer::new("bag-read-text-origin")
                .write(&token)
                .finish(),
            token,
            blocks,
        })
    }
}

/// How a file is compressed, by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Codec {
    Plain,
    Gzip,
    Zstd,
}

/// The extensions of compressed files no codec here reads or writes.
const UNSUPPORTED: [&str; 3] = ["bz2", "xz", "lzma"];

/// An error if `path` names a compressed file of a codec that is not supported.
fn check_codec(path: &Path) -> Result<(), BagError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if UNSUPPORTED.iter().any(|u| e.eq_ignore_ascii_case(u)) => {
            Err(BagError::UnsupportedCompression {
                path: path.to_path_buf(),
                extension: e.to_string(),
            })
        }
        _ => Ok(()),
    }
}

impl Codec {
    fn of(path: &Path) -> Codec {
        match path.extension() {
            Some(e) if e.eq_ignore_ascii_case("gz") => Codec::Gzip,
            Some(e) if e.eq_ignore_ascii_case("zst") || e.eq_ignore_ascii_case("zstd") => {
                Codec::Zstd
            }
            _ => Codec::Plain,
        }
    }
}

/// A byte range of a file; `end: None` reads to the end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Block {
    path: Arc<Path>,
    codec: Codec,
    start: u64,
    end: Option<u64>,
}

/// The resolved files of a text source.
struct Text {
    token: String,
    origin_token: String,
    blocks: Vec<Block>,
}

impl Text {
    fn lower_blocks(&self) -> Vec<Vec<Key>> {
        vec![Vec::new(); self.blocks.len()]
    }

    fn block(&self, part: usize) -> Result<&Block, BoxError> {
        self.blocks
            .get(part)
            .ok_or_else(|| format!("read-text has no partition {part}").into())
    }
}

impl Stream<String> for Text {
    fn label(&self) -> &str {
        "read-text"
    }
    fn token(&self) -> &str {
        &self.token
    }
    fn npartitions(&self) -> usize {
        self.blocks.len()
    }
    fn lower(&self, _graph: &mut Graph) -> Result<Vec<Vec<Key>>, ComputeError> {
        Ok(self.lower_blocks())
    }
    fn run(&self, part: usize, _: &[Data], emit: &mut Emit<'_, String>) -> Result<(), BoxError> {
        emit_lines(self.block(part)?, emit)
    }
    fn spec(&self, part: usize) -> Result<StreamSpec, WireError> {
        let block = self
            .block(part)
            .map_err(|e| WireError::Codec(e.to_string()))?;
        Ok(StreamSpec::Text {
            block: block.clone(),
            origin: false,
        })
    }
}

impl Stream<Line> for Text {
    fn label(&self) -> &str {
        "read-text-lines"
    }
    // The lines-with-origin bag is another expression than the plain lines: its own token.
    #[allow(clippy::misnamed_getters)]
    fn token(&self) -> &str {
        &self.origin_token
    }
    fn npartitions(&self) -> usize {
        self.blocks.len()
    }
    fn lower(&self, _graph: &mut Graph) -> Result<Vec<Vec<Key>>, ComputeError> {
        Ok(self.lower_blocks())
    }
    fn run(&self, part: usize, _: &[Data], emit: &mut Emit<'_, Line>) -> Result<(), BoxError> {
        emit_lines_with_origin(self.block(part)?, emit)
    }
    fn spec(&self, part: usize) -> Result<StreamSpec, WireError> {
        let block = self
            .block(part)
            .map_err(|e| WireError::Codec(e.to_string()))?;
        Ok(StreamSpec::Text {
            block: block.clone(),
            origin: true,
        })
    }
}

/// Emits the lines of `block`.
fn emit_lines(block: &Block, emit: &mut Emit<'_, String>) -> Result<(), BoxError> {
    read_block(block, false, &mut |_, line: &String| {
        emit(Elem::Borrowed(line))
    })
}

/// Emits the lines of `block` with their origin.
fn emit_lines_with_origin(block: &Block, emit: &mut Emit<'_, Line>) -> Result<(), BoxError> {
    let mut line = Line {
        path: block.path.clone(),
        number: 0,
        text: String::new(),
    };
    read_block(block, true, &mut |number, text: &String| {
        // One Line is reused for the whole block: only its text is copied.
        line.number = number;
        line.text.clone_from(text);
        emit(Elem::Borrowed(&line))
    })
}

/// The lines of `block` (how a worker rebuilds a partition of a text source).
pub(crate) fn block_lines(block: Block) -> Arc<dyn Stream<String>> {
    leaf("read-text", move |_, emit: &mut Emit<'_, String>| {
        emit_lines(&block, emit)
    })
}

/// The lines of `block`, with their origin.
pub(crate) fn block_lines_with_origin(block: Block) -> Arc<dyn Stream<Line>> {
    leaf("read-text-lines", move |_, emit: &mut Emit<'_, Line>| {
        emit_lines_with_origin(&block, emit)
    })
}

/// How to say where a line is in errors.
fn location(block: &Block, numbered: bool, line: u64) -> String {
    if block.start == 0 || numbered {
        format!("line {line}")
    } else {
        format!("line {line} of the block at byte {}", block.start)
    }
}

/// Reads the lines that start in `block`, calling `f` with each line's number and text. With
/// `numbered`, numbers count from the start of the file (scanning the file up to the block);
/// otherwise from the start of the block.
fn read_block(
    block: &Block,
    numbered: bool,
    f: &mut dyn FnMut(u64, &String) -> Result<(), BoxError>,
) -> Result<(), BoxError> {
    let path = &block.path;
    let io = |source| BagError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut number = 1u64;
    let mut pos = block.start;
    let mut reader: Box<dyn BufRead> = match block.codec {
        Codec::Gzip => Box::new(BufReader::with_capacity(
            1 << 18,
            flate2::read::MultiGzDecoder::new(file),
        )),
        Codec::Zstd => {
            // The decoder reads the file through its own buffer; frames written one after the
            // other (as `cat a.zst b.zst` does) are all read.
            let decoder = zstd::stream::read::Decoder::new(file).map_err(io)?;
            Box::new(BufReader::with_capacity(1 << 18, decoder))
        }
        Codec::Plain => {
            if block.start > 0 {
                file.seek(SeekFrom::Start(block.start - 1)).map_err(io)?;
            }
            Box::new(BufReader::with_capacity(1 << 18, file))
        }
    };
    let mut buf = Vec::new();
    if block.start > 0 {
        // Skip the rest of the line that started before the block (the previous block reads
        // it). If the byte before the block is a newline, this skips just that byte.
        let skipped = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| BagError::Read {
                path: path.to_path_buf(),
                location: format!("the block at byte {}", block.start),
                source,
            })?;
        pos = block.start - 1 + skipped as u64;
        if numbered {
            number = count_newlines(path, pos)? + 1;
        }
    }
    loop {
        if block.end.is_some_and(|end| pos >= end) {
            break;
        }
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| BagError::Read {
                path: path.to_path_buf(),
                location: location(block, numbered, number),
                source,
            })?;
        if n == 0 {
            break;
        }
        pos += n as u64;
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        // Reuse one allocation for every line: bytes -> String -> bytes.
        let text = match String::from_utf8(std::mem::take(&mut buf)) {
            Ok(s) => s,
            Err(e) => {
                return Err(BagError::Read {
                    path: path.to_path_buf(),
                    location: location(block, numbered, number),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
                }
                .into())
            }
        };
        f(number, &text)?;
        buf = text.into_bytes();
        number += 1;
    }
    Ok(())
}

/// The number of newlines in the first `len` bytes of `path`.
fn count_newlines(path: &Path, len: u64) -> Result<u64, BagError> {
    let io = |source| BagError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?.take(len);
    let mut chunk = vec![0u8; 1 << 16];
    let mut count = 0u64;
    loop {
        let n = file.read(&mut chunk).map_err(io)?;
        if n == 0 {
            return Ok(count);
        }
        count += chunk[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

impl<T: Display + Send + Sync + 'static> Bag<T> {
    /// Writes one text file per partition, one item per line (Dask's `to_textfiles`), and
    /// yields the paths written. Every `*` in `pattern` is replaced by the partition number,
    /// zero-padded to the same width for all partitions so the files sort in order; a pattern
    /// ending in `.gz` writes gzip, one ending in `.zst` or `.zstd` writes zstd. Missing
    /// directories are created. Nothing is written until the returned value is computed.
    ///
    /// ```
    /// use dusk_collections::bag::{range, read_text};
    /// use dusk_scheduler::Compute;
    /// let dir = std::env::temp_dir().join(format!("dusk-doc-to-text-{}", std::process::id()));
    /// let pattern = format!("{}/part-*.txt.gz", dir.display());
    /// let written = range(12, 3).to_textfiles(&pattern).unwrap().compute().unwrap();
    /// assert_eq!(written.len(), 3);
    /// assert!(written[0].ends_with("part-0.txt.gz"));
    /// let back = read_text(&pattern).unwrap().map(|s: &String| s.parse::<u64>().unwrap());
    /// assert_eq!(back.compute().unwrap(), (0..12).collect::<Vec<_>>());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn to_textfiles(&self, pattern: &str) -> Result<Item<Vec<PathBuf>>, BagError> {
        if !pattern.contains('*') {
            return Err(BagError::InvalidArgument(format!(
                "to_textfiles needs a `*` in the pattern `{pattern}` to number the files"
            )));
        }
        check_codec(Path::new(pattern))?;
        // Absolute, so that workers started in another directory write where asked.
        let pattern = std::path::absolute(pattern)
            .map_err(|source| BagError::Io {
                path: PathBuf::from(pattern),
                source,
            })?
            .to_string_lossy()
            .into_owned();
        let n = self.npartitions();
        let width = (n.saturating_sub(1)).to_string().len();
        let paths: Arc<Vec<PathBuf>> = Arc::new(
            (0..n)
                .map(|i| PathBuf::from(pattern.replace('*', &format!("{i:0width$}"))))
                .collect(),
        );
        let token = Tokenizer::new("bag-to-textfiles")
            .write(self.stream.token())
            .write(&pattern)
            .finish();
        let stream = self.stream.clone();
        let final_key = Key::new(format!("to-textfiles-{token}"));
        let key = final_key.clone();
        let lower = Arc::new(move |g: &mut Graph| -> Result<(), ComputeError> {
            if g.contains(&key) {
                return Ok(());
            }
            let deps = stream.lower(g)?;
            let name: Arc<str> = Arc::from(format!("write-text-{token}"));
            let mut parts = Vec::with_capacity(deps.len());
            for (i, deps) in deps.into_iter().enumerate() {
                let path = paths.get(i).cloned().ok_or_else(|| {
                    ComputeError::Lowering(format!("no file name for partition {i}").into())
                })?;
                let (s, d, p) = (stream.clone(), stream.clone(), path.clone());
                let op = BagOp::new(
                    "write-text",
                    move |inputs: Vec<Data>| {
                        write_partition(s.as_ref(), i, &inputs, &path)?;
                        Ok(sendable(path.clone(), 0))
                    },
                    move || {
                        describe_partition("write-text", d.as_ref(), i, |stream, part| {
                            Work::WriteText {
                                stream,
                                part,
                                path: p.clone(),
                            }
                        })
                    },
                );
                let k = Key::part(name.clone(), i as u32);
                g.add(k.clone(), op, deps);
                parts.push(k);
            }
            let op = BagOp::new(
                "to-textfiles",
                |inputs: Vec<Data>| collect_paths(&inputs),
                || describe::<T>("to-textfiles", Work::Paths),
            );
            g.add(key.clone(), op, parts);
            Ok(())
        });
        Ok(Item::new(final_key, lower))
    }
}

/// Writes partition `part` of `stream` to `path`, one item per line, compressed by the
/// path's extension.
pub(crate) fn write_partition<T: Display + 'static>(
    stream: &dyn Stream<T>,
    part: usize,
    inputs: &[Data],
    path: &Path,
) -> Result<(), BoxError> {
    let io = |source| BagError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut file = BufWriter::new(File::create(path).map_err(io)?);
    let write_all = |out: &mut dyn Write| {
        stream.run(part, inputs, &mut |e: Elem<'_, T>| {
            writeln!(out, "{}", e.get()).map_err(|source| io(source).into())
        })
    };
    match Codec::of(path) {
        Codec::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
            write_all(&mut gz)?;
            gz.finish().map_err(io)?.flush().map_err(io)?;
        }
        Codec::Zstd => {
            let mut zst = zstd::stream::write::Encoder::new(file, 0).map_err(io)?;
            write_all(&mut zst)?;
            zst.finish().map_err(io)?.flush().map_err(io)?;
        }
        Codec::Plain => {
            write_all(&mut file)?;
            file.flush().map_err(io)?;
        }
    }
    Ok(())
}
