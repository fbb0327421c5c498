//! `read_csv`: many CSV files, or one huge one, as partitions.
//!
//! Files are sorted and each is cut into byte-range blocks (Dask's `blocksize`), so a single
//! large file still uses every core. A block starts at the first line that begins inside its
//! range and ends with the line that straddles its end, so every line is read exactly once.
//! (Like Dask, this assumes no quoted field contains a newline; pass `blocksize(None)` for
//! such files.) Gzipped files cannot be cut and become one partition each.
//!
//! The schema is inferred from a sample of the first file, with `dtypes` overriding it, and
//! every other file's header is checked against it when the frame is built. Each block is
//! parsed by Polars on one thread: the scheduler already runs one block per core, and letting
//! each parse fan out over Polars' own pool as well would oversubscribe the cores.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use super::error::FrameError;

/// How [`read_csv_with`](super::read_csv_with) reads files.
///
/// ```
/// use dusk_collections::dataframe::CsvOptions;
/// use polars::prelude::DataType;
/// let opts = CsvOptions::default()
///     .blocksize(Some(1 << 20))
///     .dtype("user_id", DataType::Int32)
///     .usecols(["user_id", "value"])
///     .null_values(["NA"]);
/// assert_eq!(opts.blocksize, Some(1 << 20));
/// ```
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CsvOptions {
    /// Bytes per partition for uncompressed files; `None` reads each file as one partition.
    pub blocksize: Option<u64>,
    /// Whether the first line of each file is a header.
    pub has_header: bool,
    /// The field separator.
    pub separator: u8,
    /// The quote character, if any.
    pub quote_char: Option<u8>,
    /// Strings read as null (besides empty fields).
    pub null_values: Vec<String>,
    /// Types that override inference, by column.
    pub dtypes: Vec<(String, DataType)>,
    /// Read only these columns.
    pub usecols: Option<Vec<String>>,
    /// Add a column of this name holding each row's source file.
    pub include_path_column: Option<String>,
    /// Parse date and datetime columns.
    pub try_parse_dates: bool,
    /// Rows of the first file used to infer types.
    pub infer_rows: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            blocksize: Some(default_blocksize()),
            has_header: true,
            separator: b',',
            quote_char: Some(b'"'),
            null_values: Vec::new(),
            dtypes: Vec::new(),
            usecols: None,
            include_path_column: None,
            try_parse_dates: true,
            infer_rows: 1000,
        }
    }
}

/// Dask's default: a tenth of the memory per core, at most 64 MB.
pub fn default_blocksize() -> u64 {
    const CAP: u64 = 64 * 1024 * 1024;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    match total_memory() {
        Some(mem) => (mem / cores / 10).clamp(1 << 20, CAP),
        None => CAP,
    }
}

fn total_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

impl CsvOptions {
    /// Sets the block size (`None`: one partition per file).
    pub fn blocksize(mut self, bytes: Option<u64>) -> Self {
        self.blocksize = bytes;
        self
    }
    /// Sets whether files have a header line.
    pub fn has_header(mut self, yes: bool) -> Self {
        self.has_header = yes;
        self
    }
    /// Sets the separator.
    pub fn separator(mut self, separator: u8) -> Self {
        self.separator = separator;
        self
    }
    /// Sets the quote character.
    pub fn quote_char(mut self, quote: Option<u8>) -> Self {
        self.quote_char = quote;
        self
    }
    /// Adds strings read as null.
    pub fn null_values<I: IntoIterator<Item = S>, S: Into<String>>(mut self, values: I) -> Self {
        self.null_values.extend(values.into_iter().map(Into::into));
        self
    }
    /// Overrides the inferred type of a column.
    pub fn dtype(mut self, column: impl Into<String>, dtype: DataType) -> Self {
        self.dtypes.push((column.into(), dtype));
        self
    }
    /// Reads only these columns.
    pub fn usecols<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.usecols = Some(columns.into_iter().map(Into::into).collect());
        self
    }
    /// Adds a column with each row's source path.
    pub fn include_path_column(mut self, name: impl Into<String>) -> Self {
        self.include_path_column = Some(name.into());
        self
    }
    /// Sets whether to parse dates.
    pub fn try_parse_dates(mut self, yes: bool) -> Self {
        self.try_parse_dates = yes;
        self
    }
}

/// One partition of a CSV source: a byte range of a file (or a whole gzipped file).
#[derive(Clone, Debug, Hash, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct CsvBlock {
    pub path: PathBuf,
    pub start: u64,
    pub end: u64,
    pub gzip: bool,
}

/// Everything needed to read the blocks of a CSV source.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct CsvSource {
    pub blocks: Vec<CsvBlock>,
    /// The schema of the file's columns (before `usecols` and the path column).
    pub file_schema: SchemaRef,
    pub options: CsvOptions,
    /// A token of the files (paths, sizes, modification times) and the options.
    pub token: String,
}

/// Expands a glob (or a plain path) into sorted files.
pub(crate) fn expand(pattern: &str) -> Result<Vec<PathBuf>, FrameError> {
    let paths = glob::glob(pattern).map_err(|e| FrameError::BadPattern {
        pattern: pattern.to_string(),
        message: e.to_string(),
    })?;
    let mut files = Vec::new();
    for p in paths {
        let p = p.map_err(|e| FrameError::Io {
            path: e.path().to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;
        if p.is_file() {
            // Absolute, as fsspec makes them for Dask: a worker started in another directory
            // reads the same files.
            files.push(std::path::absolute(&p).map_err(io(&p))?);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(FrameError::NoFiles {
            pattern: pattern.to_string(),
        });
    }
    Ok(files)
}

fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> FrameError + '_ {
    move |source| FrameError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The first line of a file (decompressed if gzipped), without its line ending.
fn first_line(path: &Path) -> Result<String, FrameError> {
    let file = File::open(path).map_err(io(path))?;
    let mut reader: Box<dyn BufRead> = if is_gzip(path) {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut line = String::new();
    reader.read_line(&mut line).map_err(io(path))?;
    if line.is_empty() {
        return Err(FrameError::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Splits one line into fields, honouring the quote character.
fn split_fields(line: &str, separator: u8, quote: Option<u8>) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        if Some(c as u32) == quote.map(u32::from) {
            quoted = !quoted;
        } else if c as u32 == u32::from(separator) && !quoted {
            fields.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    fields.push(cur);
    fields
}

/// Plans a CSV source: lists blocks, infers the schema, checks every file's header.
pub(crate) fn plan(files: Vec<PathBuf>, options: CsvOptions) -> Result<CsvSource, FrameError> {
    let first = files[0].clone();
    let header = split_fields(&first_line(&first)?, options.separator, options.quote_char);
    let mut tokenizer = dusk_core::Tokenizer::new("read-csv");
    let mut blocks = Vec::new();
    for path in &files {
        let meta = std::fs::metadata(path).map_err(io(path))?;
        if meta.len() == 0 {
            return Err(FrameError::EmptyFile { path: path.clone() });
        }
        if options.has_header && path != &first {
            let found = split_fields(&first_line(path)?, options.separator, options.quote_char);
            if found != header {
                return Err(FrameError::SchemaMismatch {
                    path: path.clone(),
                    first: first.clone(),
                    expected: header.clone(),
                    found,
                });
            }
        }
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos());
        tokenizer.write(path).write(&meta.len()).write(&modified);
        let gzip = is_gzip(path);
        match options.blocksize {
            Some(size) if !gzip && size > 0 => {
                let mut start = 0;
                while start < meta.len() {
                    let end = (start + size).min(meta.len());
                    blocks.push(CsvBlock {
                        path: path.clone(),
                        start,
                        end,
                        gzip,
                    });
                    start = end;
                }
            }
            _ => blocks.push(CsvBlock {
                path: path.clone(),
                start: 0,
                end: meta.len(),
                gzip,
            }),
        }
    }
    let file_schema = infer_schema(&first, &options)?;
    tokenizer
        .write(&options.blocksize)
        .write(&options.has_header)
        .write(&options.separator)
        .write(&options.quote_char)
        .write(&options.null_values)
        .write(&format!("{:?}", options.dtypes))
        .write(&options.try_parse_dates)
        .write(&options.infer_rows);
    Ok(CsvSource {
        blocks,
        file_schema,
        options,
        token: tokenizer.finish(),
    })
}

fn reader_options(options: &CsvOptions, has_header: bool) -> CsvReadOptions {
    let nulls = if options.null_values.is_empty() {
        None
    } else {
        Some(NullValues::AllColumns(
            options
                .null_values
                .iter()
                .map(|s| s.as_str().into())
                .collect(),
        ))
    };
    let separator = options.separator;
    let quote = options.quote_char;
    let dates = options.try_parse_dates;
    CsvReadOptions::default()
        .with_has_header(has_header)
        .with_n_threads(Some(1))
        .with_rechunk(false)
        .map_parse_options(move |p| {
            p.with_separator(separator)
                .with_quote_char(quote)
                .with_null_values(nulls.clone())
                .with_try_parse_dates(dates)
        })
}

/// Infers the schema from the first rows of `path`, then applies the dtype overrides.
fn infer_schema(path: &Path, options: &CsvOptions) -> Result<SchemaRef, FrameError> {
    let sample = read_sample(path, options.infer_rows + 1)?;
    let mut overrides = Schema::default();
    for (name, dtype) in &options.dtypes {
        overrides.with_column(name.as_str().into(), dtype.clone());
    }
    let df = reader_options(options, options.has_header)
        .with_infer_schema_length(Some(options.infer_rows))
        .with_n_rows(Some(options.infer_rows))
        .with_schema_overwrite(Some(Arc::new(overrides)))
        .into_reader_with_file_handle(Cursor::new(&sample))
        .finish()
        .map_err(|e| {
            // A sample that does not parse usually holds a malformed row: name it.
            let block = CsvBlock {
                path: path.to_path_buf(),
                start: 0,
                end: sample.len() as u64,
                gzip: is_gzip(path),
            };
            let width = sample
                .split(|&b| b == b'\n')
                .next()
                .map(|l| {
                    split_fields(
                        &String::from_utf8_lossy(l),
                        options.separator,
                        options.quote_char,
                    )
                    .len()
                })
                .unwrap_or(0);
            locate_error(&block, 0, &sample, width, options, e)
        })?;
    let schema = df.schema().clone();
    for (name, _) in &options.dtypes {
        if schema.get(name.as_str()).is_none() {
            return Err(FrameError::ColumnNotFound {
                column: name.clone(),
                available: schema.iter_names().map(|n| n.to_string()).collect(),
            });
        }
    }
    Ok(schema)
}

/// The first `lines` lines of a file.
fn read_sample(path: &Path, lines: usize) -> Result<Vec<u8>, FrameError> {
    let file = File::open(path).map_err(io(path))?;
    let mut reader: Box<dyn BufRead> = if is_gzip(path) {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut out = Vec::new();
    for _ in 0..lines {
        if reader.read_until(b'\n', &mut out).map_err(io(path))? == 0 {
            break;
        }
    }
    Ok(out)
}

/// The bytes of one block, cut at line boundaries, and the offset where they start.
pub(crate) fn block_bytes(block: &CsvBlock) -> Result<(Vec<u8>, u64), FrameError> {
    let path = &block.path;
    let file = File::open(path).map_err(io(path))?;
    if block.gzip {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(file)
            .read_to_end(&mut out)
            .map_err(io(path))?;
        return Ok((out, 0));
    }
    let mut reader = BufReader::with_capacity(1 << 16, file);
    // Find where the first line of this block starts.
    let mut start = block.start;
    if start > 0 {
        reader.seek(SeekFrom::Start(start - 1)).map_err(io(path))?;
        let mut skipped = Vec::new();
        let n = reader.read_until(b'\n', &mut skipped).map_err(io(path))?;
        start = start - 1 + n as u64;
    }
    if start >= block.end {
        return Ok((Vec::new(), start));
    }
    let mut out = Vec::with_capacity((block.end - start) as usize + 256);
    (&mut reader)
        .take(block.end - start)
        .read_to_end(&mut out)
        .map_err(io(path))?;
    // Finish the line that straddles the end of the range.
    if out.last().is_some_and(|&b| b != b'\n') {
        reader.read_until(b'\n', &mut out).map_err(io(path))?;
    }
    Ok((out, start))
}

/// Reads one block into a frame with the source's schema, keeping `columns` (all if `None`).
pub(crate) fn read_block(
    source_schema: &SchemaRef,
    options: &CsvOptions,
    block: &CsvBlock,
    columns: Option<&[String]>,
) -> Result<DataFrame, FrameError> {
    let (bytes, offset) = block_bytes(block)?;
    let has_header = options.has_header && offset == 0;
    let mut reader = reader_options(options, has_header)
        .with_schema(Some(source_schema.clone()))
        .with_raise_if_empty(false);
    let wanted: Vec<String> = columns
        .map(|c| c.to_vec())
        .or_else(|| options.usecols.clone())
        .unwrap_or_else(|| source_schema.iter_names().map(|n| n.to_string()).collect());
    let path_column = options.include_path_column.as_deref();
    let file_columns: Vec<PlSmallStr> = wanted
        .iter()
        .filter(|c| Some(c.as_str()) != path_column)
        .map(|c| c.as_str().into())
        .collect();
    reader = reader.with_columns(Some(file_columns.into()));
    let mut df = if bytes.is_empty() {
        DataFrame::empty_with_schema(source_schema)
            .select(
                wanted
                    .iter()
                    .filter(|c| Some(c.as_str()) != path_column)
                    .map(|c| c.as_str()),
            )
            .map_err(|e| FrameError::polars(format!("reading {}", block.path.display()), e))?
    } else {
        match reader
            .into_reader_with_file_handle(Cursor::new(&bytes))
            .finish()
        {
            Ok(df) => df,
            Err(e) => {
                return Err(locate_error(
                    block,
                    offset,
                    &bytes,
                    source_schema.len(),
                    options,
                    e,
                ))
            }
        }
    };
    if let Some(name) = path_column {
        if wanted.iter().any(|c| c == name) {
            let path = block.path.display().to_string();
            let column = Column::new_scalar(
                name.into(),
                Scalar::new(DataType::String, AnyValue::StringOwned(path.into())),
                df.height(),
            );
            df.with_column(column)
                .map_err(|e| FrameError::polars(format!("reading {}", block.path.display()), e))?;
        }
    }
    Ok(df)
}

/// Turns a Polars parse error into one naming the file and line: finds the first line of the
/// block whose field count is wrong; otherwise reports the block's first line.
fn locate_error(
    block: &CsvBlock,
    offset: u64,
    bytes: &[u8],
    width: usize,
    options: &CsvOptions,
    error: PolarsError,
) -> FrameError {
    let lines_before = if offset == 0 {
        0
    } else {
        count_newlines(&block.path, offset).unwrap_or(0)
    };
    let text = String::from_utf8_lossy(bytes);
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let fields = split_fields(line, options.separator, options.quote_char).len();
        if fields != width {
            return FrameError::MalformedRow {
                path: block.path.clone(),
                line: lines_before + i as u64 + 1,
                message: format!("expected {width} fields, found {fields}: {line:?}"),
            };
        }
    }
    FrameError::MalformedRow {
        path: block.path.clone(),
        line: lines_before + 1,
        message: format!(
            "{error} (in the block starting here; if a column's type was inferred wrongly, pass \
             its type with `CsvOptions::dtype`)"
        ),
    }
}

fn count_newlines(path: &Path, upto: u64) -> std::io::Result<u64> {
    let mut reader = BufReader::new(File::open(path)?).take(upto);
    let mut buf = [0u8; 1 << 16];
    let mut n = 0;
    loop {
        let k = reader.read(&mut buf)?;
        if k == 0 {
            return Ok(n);
        }
        n += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dusk-csv-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn blocks_cover_every_line_once() {
        let mut text = String::from("a,b\n");
        for i in 0..100 {
            text.push_str(&format!("{i},{}\n", "x".repeat(i % 7)));
        }
        let p = temp_file("blocks.csv", &text);
        let len = text.len() as u64;
        for size in [1u64, 3, 7, 16, 50, 1000] {
            let mut joined = Vec::new();
            let mut start = 0;
            while start < len {
                let end = (start + size).min(len);
                let (bytes, _) = block_bytes(&CsvBlock {
                    path: p.clone(),
                    start,
                    end,
                    gzip: false,
                })
                .unwrap();
                joined.extend(bytes);
                start = end;
            }
            assert_eq!(
                String::from_utf8(joined).unwrap(),
                text,
                "block size {size}"
            );
        }
        std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
    }

    #[test]
    fn fields_split_with_quotes() {
        assert_eq!(
            split_fields("a,\"b,c\",d", b',', Some(b'"')),
            vec!["a", "b,c", "d"]
        );
        assert_eq!(split_fields("a;b", b';', None), vec!["a", "b"]);
    }
}
