//! Parquet data files (`{db}.{tbl}[.N].parquet`, as Dumpling and Lightning name them): the
//! row groups a plan cuts a file at, and the rows of a chunk as neutral [`Value`]s, with the
//! type mapping Lightning documents for Parquet.
//!
//! A chunk is a run of whole row groups: those whose first byte is in the chunk's byte range
//! (the plan cuts at row-group starts, so the ranges tile the file). Its resume point is a row
//! index: the chunk's rows done (`ChunkProgress::rows`), so a resumed reader skips whole row
//! groups without reading them and, inside the first group left, skips the rows done. The
//! position's byte offset moves through each group in proportion to its rows, for progress only.
//!
//! Bytes are fetched a row group at a time (one ranged read of the group's column chunks, local
//! file or object alike); a compressed file (`.parquet.gz`, rare: Parquet compresses its pages
//! itself) is first spooled, decompressed, into an unnamed temporary file.
//!
//! The mapping (column by column, by name to the table's columns): BOOLEAN as 1/0; INT32/INT64
//! (signed or not, by their INTEGER/UINT annotation) as integers; DECIMAL (INT32, INT64,
//! BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY) as decimal text of its scale; FLOAT/DOUBLE as the
//! shortest text that reads back the same (NaN and infinities are refused: MySQL has none);
//! DATE as `YYYY-MM-DD`; TIME (ms, us, ns) as `HH:MM:SS[.frac]`; TIMESTAMP (ms, us, ns) and
//! INT96 as `YYYY-MM-DD HH:MM:SS[.frac]` in UTC (fractions without trailing zeros), loaded under
//! `time_zone = '+00:00'`; STRING/ENUM/JSON as text; BSON, UUID and unannotated byte arrays
//! as the bytes (binary for a binary column, characters otherwise, as Lightning reads them).
//! Nested columns (LIST, MAP, structs), FLOAT16, INTERVAL and the newer logical types are
//! refused with the column's name.

use std::borrow::Cow;
use std::sync::Mutex;

use bytes::{Buf, Bytes};
use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use parquet::column::reader::ColumnReader;
use parquet::data_type::{ByteArray, FixedLenByteArray, Int96};
use parquet::errors::ParquetError;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::reader::{ChunkReader, FileReader, Length, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;

use crate::error::{Classified, SourceError};
use crate::rows::Value;
use crate::source::{Compression, Source, SourceFile};

/// What went wrong reading a Parquet file: its storage (retried, or a changed file), or its
/// bytes (at `offset`, as near as the format says).
#[derive(Debug)]
pub enum Failure {
    Source(SourceError),
    Data { offset: u64, message: String },
}

// ---------------------------------------------------------------- mapping --

/// A time unit of TIME and TIMESTAMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    fn per_second(self) -> i64 {
        match self {
            Unit::Millis => 1_000,
            Unit::Micros => 1_000_000,
            Unit::Nanos => 1_000_000_000,
        }
    }
}

/// How a column's values become row values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int {
        unsigned: bool,
    },
    Decimal {
        scale: u32,
    },
    Float,
    Double,
    Date,
    Time(Unit),
    Timestamp(Unit),
    /// Impala's and Spark's nanosecond timestamps (Julian day, nanoseconds of the day).
    Int96,
    /// Characters (STRING, ENUM, JSON).
    Text,
    /// Bytes without a character annotation (BSON, UUID, plain BYTE_ARRAY).
    Bytes,
}

/// The mapping of one column, from its logical type (or, in files older than those, its
/// converted type) and its physical type.
pub fn kind_of(column: &ColumnDescriptor) -> Result<Kind, String> {
    if column.max_rep_level() > 0 || column.path().parts().len() > 1 {
        return Err("a nested column (LIST, MAP or struct): only flat columns are loaded".into());
    }
    let physical = column.physical_type();
    let unit = |u: &TimeUnit| match u {
        TimeUnit::MILLIS => Unit::Millis,
        TimeUnit::MICROS => Unit::Micros,
        TimeUnit::NANOS => Unit::Nanos,
    };
    let kind = match (column.logical_type_ref(), column.converted_type()) {
        (Some(LogicalType::Decimal(d)), _) => Kind::Decimal { scale: d.scale.max(0) as u32 },
        (None, ConvertedType::DECIMAL) => Kind::Decimal { scale: column.type_scale().max(0) as u32 },
        (Some(LogicalType::Date), _) | (None, ConvertedType::DATE) => Kind::Date,
        (Some(LogicalType::Time(t)), _) => Kind::Time(unit(&t.unit)),
        (None, ConvertedType::TIME_MILLIS) => Kind::Time(Unit::Millis),
        (None, ConvertedType::TIME_MICROS) => Kind::Time(Unit::Micros),
        (Some(LogicalType::Timestamp(t)), _) => Kind::Timestamp(unit(&t.unit)),
        (None, ConvertedType::TIMESTAMP_MILLIS) => Kind::Timestamp(Unit::Millis),
        (None, ConvertedType::TIMESTAMP_MICROS) => Kind::Timestamp(Unit::Micros),
        (Some(LogicalType::Integer(i)), _) => Kind::Int { unsigned: !i.is_signed },
        (None, ConvertedType::UINT_8 | ConvertedType::UINT_16 | ConvertedType::UINT_32 | ConvertedType::UINT_64) => {
            Kind::Int { unsigned: true }
        }
        (None, ConvertedType::INT_8 | ConvertedType::INT_16 | ConvertedType::INT_32 | ConvertedType::INT_64) => {
            Kind::Int { unsigned: false }
        }
        (Some(LogicalType::String | LogicalType::Enum | LogicalType::Json), _)
        | (None, ConvertedType::UTF8 | ConvertedType::ENUM | ConvertedType::JSON) => Kind::Text,
        (Some(LogicalType::Bson | LogicalType::Uuid), _) | (None, ConvertedType::BSON) => Kind::Bytes,
        // UNKNOWN is the type of a column that is always NULL: read by its physical type.
        (None | Some(LogicalType::Unknown), ConvertedType::NONE) => match physical {
            Physical::BOOLEAN => Kind::Bool,
            Physical::INT32 | Physical::INT64 => Kind::Int { unsigned: false },
            Physical::INT96 => Kind::Int96,
            Physical::FLOAT => Kind::Float,
            Physical::DOUBLE => Kind::Double,
            Physical::BYTE_ARRAY | Physical::FIXED_LEN_BYTE_ARRAY => Kind::Bytes,
        },
        (Some(other), _) => return Err(format!("the logical type {} is not supported", logical_name(other))),
        (None, other) => return Err(format!("the converted type {other} is not supported")),
    };
    let fits = match kind {
        Kind::Bool => physical == Physical::BOOLEAN,
        Kind::Int { .. } => matches!(physical, Physical::INT32 | Physical::INT64),
        Kind::Decimal { .. } => physical != Physical::BOOLEAN && physical != Physical::INT96 && !is_float(physical),
        Kind::Float => physical == Physical::FLOAT,
        Kind::Double => physical == Physical::DOUBLE,
        Kind::Date | Kind::Time(Unit::Millis) => physical == Physical::INT32,
        Kind::Time(_) | Kind::Timestamp(_) => physical == Physical::INT64,
        Kind::Int96 => physical == Physical::INT96,
        Kind::Text | Kind::Bytes => matches!(physical, Physical::BYTE_ARRAY | Physical::FIXED_LEN_BYTE_ARRAY),
    };
    match fits {
        true => Ok(kind),
        false => Err(format!("{kind:?} stored as {physical} is not a valid Parquet column")),
    }
}

fn is_float(physical: Physical) -> bool {
    matches!(physical, Physical::FLOAT | Physical::DOUBLE)
}

fn logical_name(t: &LogicalType) -> String {
    let debug = format!("{t:?}");
    debug.split(['(', ' ', '{']).next().unwrap_or(&debug).to_ascii_uppercase()
}

// ------------------------------------------------------------------ bytes --

/// Where a file's bytes come from.
enum Backend {
    /// Ranged reads of the source (a local file or an object), each failure on the medium tried
    /// again up to `retries` times in a row.
    Source { source: Box<Source>, handle: tokio::runtime::Handle, path: String, retries: u32 },
    /// A compressed file's content, decompressed into an unnamed temporary file.
    Spooled(std::fs::File),
}

/// The file as the parquet crate reads it: a row group's bytes are fetched in one read
/// ([`Ranged::prefetch`]) and its pages served from them.
struct Ranged {
    backend: Backend,
    len: u64,
    window: Mutex<(u64, Bytes)>,
}

impl Ranged {
    fn fetch(&self, start: u64, len: usize) -> Result<Bytes, SourceError> {
        match &self.backend {
            Backend::Spooled(file) => {
                use std::os::unix::fs::FileExt;
                let mut buf = vec![0; len];
                file.read_exact_at(&mut buf, start).map_err(|e| SourceError::io("spooled copy", "", &e))?;
                Ok(buf.into())
            }
            Backend::Source { source, handle, path, retries } => {
                let mut attempt = 0;
                loop {
                    match source.read_range(handle, path, start, len) {
                        Err(e) if e.is_transient() && attempt < *retries => {
                            attempt += 1;
                            let delay = crate::error_class::backoff_delay(attempt);
                            tracing::warn!("reading {path} failed at byte {start}, retry {attempt} in {delay:?}: {e}");
                            std::thread::sleep(delay);
                        }
                        other => return other,
                    }
                }
            }
        }
    }

    /// Fetch `start..end` in one read: the pages read next are served from it.
    fn prefetch(&self, start: u64, end: u64) -> Result<(), SourceError> {
        let end = end.min(self.len);
        let bytes = self.fetch(start, end.saturating_sub(start) as usize)?;
        *self.window.lock().unwrap_or_else(|p| p.into_inner()) = (start, bytes);
        Ok(())
    }

    fn cached(&self, start: u64, len: u64) -> Option<Bytes> {
        let window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let (at, bytes) = &*window;
        let from = start.checked_sub(*at)? as usize;
        (from as u64 + len <= bytes.len() as u64).then(|| bytes.slice(from..from + len as usize))
    }
}

/// The reader the parquet crate owns, shared with the chunk that prefetches for it.
#[derive(Clone)]
struct Shared(std::sync::Arc<Ranged>);

impl Length for Shared {
    fn len(&self) -> u64 {
        self.0.len
    }
}

impl ChunkReader for Shared {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let window = self.0.window.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(from) = start.checked_sub(window.0).filter(|&f| f < window.1.len() as u64) {
            return Ok(window.1.slice(from as usize..).reader());
        }
        let rest = self.0.len.saturating_sub(start) as usize;
        Ok(self.get_bytes(start, rest)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        if let Some(bytes) = self.0.cached(start, length as u64) {
            return Ok(bytes);
        }
        if start + length as u64 > self.0.len {
            return Err(ParquetError::EOF(format!("{length} bytes at byte {start} are past the end of the file")));
        }
        self.0.fetch(start, length).map_err(|e| ParquetError::External(Box::new(e)))
    }
}

/// A parquet crate error as ours: a source error it carried, or the bytes' fault.
fn failure(e: ParquetError, offset: u64) -> Failure {
    match e {
        ParquetError::External(inner) => match inner.downcast::<SourceError>() {
            Ok(source) => Failure::Source(*source),
            Err(other) => Failure::Data { offset, message: other.to_string() },
        },
        other => Failure::Data { offset, message: other.to_string() },
    }
}

impl Failure {
    /// The failure, said to be in row group `group` of the file.
    fn in_group(self, group: usize) -> Failure {
        match self {
            Failure::Data { offset, message } => {
                Failure::Data { offset, message: format!("row group {group}: {message}") }
            }
            other => other,
        }
    }
}

/// Bytes read from a file's end at first, to hold its footer.
const FOOTER_GUESS: u64 = 64 << 10;

/// Open a data file: the footer read and checked, every column mapped.
fn open(
    source: &Source,
    handle: &tokio::runtime::Handle,
    path: &str,
    compression: Compression,
    retries: u32,
) -> Result<(SerializedFileReader<Shared>, Shared, Vec<Kind>), Failure> {
    let (backend, len) = match compression {
        Compression::None => {
            let len = source.size_of(handle, path).map_err(Failure::Source)?;
            (
                Backend::Source {
                    source: Box::new(source.clone()),
                    handle: handle.clone(),
                    path: path.to_string(),
                    retries,
                },
                len,
            )
        }
        _ => {
            let mut spool =
                tempfile::tempfile().map_err(|e| Failure::Source(SourceError::io("a temporary file", "", &e)))?;
            let mut reader = source.open_at(handle, path, compression, 0).map_err(Failure::Source)?;
            let len = std::io::copy(&mut reader, &mut spool).map_err(|e| Failure::Data {
                offset: 0,
                message: format!("cannot decompress the file (truncated or corrupt?): {e}"),
            })?;
            (Backend::Spooled(spool), len)
        }
    };
    let ranged = Shared(std::sync::Arc::new(Ranged { backend, len, window: Mutex::new((0, Bytes::new())) }));
    let footer = len.saturating_sub(8);
    // The footer's length and its metadata in one read: most footers are much smaller.
    ranged.0.prefetch(len.saturating_sub(FOOTER_GUESS), len).map_err(Failure::Source)?;
    let file = SerializedFileReader::new(ranged.clone()).map_err(|e| match failure(e, footer) {
        Failure::Data { offset, message } => {
            Failure::Data { offset, message: format!("not a readable Parquet file (its footer): {message}") }
        }
        other => other,
    })?;
    let schema = file.metadata().file_metadata().schema_descr_ptr();
    let mut kinds = Vec::new();
    for column in schema.columns() {
        let kind = kind_of(column).map_err(|why| Failure::Data {
            offset: footer,
            message: format!("column `{}`: {why}", column.path().string()),
        })?;
        kinds.push(kind);
    }
    Ok((file, ranged, kinds))
}

/// Where a row group's bytes are: from its first column chunk's first page to the end of its
/// last one.
fn group_range(group: &RowGroupMetaData) -> (u64, u64) {
    let ranges = group.columns().iter().map(|c| c.byte_range());
    let start = ranges.clone().map(|(s, _)| s).min().unwrap_or(0);
    let end = ranges.map(|(s, l)| s + l).max().unwrap_or(start);
    (start, end)
}

/// Where the plan may cut an uncompressed file into chunks of about `region` bytes: at the
/// start of a row group.
pub fn group_boundaries(
    source: &Source,
    handle: &tokio::runtime::Handle,
    file: &SourceFile,
    region: u64,
) -> Result<Vec<u64>, SourceError> {
    let (reader, _, _) = open(source, handle, &file.path, Compression::None, 0).map_err(|e| match e {
        Failure::Source(e) => e,
        Failure::Data { offset, message } => SourceError::Layout(format!("{} (byte {offset}): {message}", file.path)),
    })?;
    let mut bounds = Vec::new();
    let mut last = 0;
    // Never before the first group: the chunk in front of it would hold no rows.
    for group in reader.metadata().row_groups().iter().skip(1) {
        let (start, _) = group_range(group);
        if start.saturating_sub(last) >= region {
            bounds.push(start);
            last = start;
        }
    }
    Ok(bounds)
}

// ------------------------------------------------------------------- rows --

/// One row group of a chunk.
struct Group {
    index: usize,
    rows: u64,
    /// The chunk's bytes this group stands for in positions: from its start to the next one's.
    span: (u64, u64),
    range: (u64, u64),
}

/// The values one read of a column gave, dense (NULLs are only in the levels).
enum Values {
    Bool(Vec<bool>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Int96(Vec<Int96>),
    Float(Vec<f32>),
    Double(Vec<f64>),
    Bytes(Vec<ByteArray>),
    Fixed(Vec<FixedLenByteArray>),
}

struct Column {
    kind: Kind,
    /// Raw bytes go to a binary column as bytes, to any other as characters.
    binary_target: bool,
    reader: Option<ColumnReader>,
    max_def: i16,
    defs: Vec<i16>,
    values: Values,
    /// The next value of `values` (rows are taken in order).
    next: usize,
}

/// Where a row is: its row group (of the file), its index there, and the chunk position in
/// bytes before and after it.
#[derive(Debug, Clone, Copy)]
pub struct RowAt {
    pub group: usize,
    pub row: u64,
    pub offset: u64,
    pub after: u64,
}

/// A chunk's rows, read in batches of column values.
pub struct ParquetChunk {
    file: SerializedFileReader<Shared>,
    bytes: Shared,
    names: Vec<String>,
    columns: Vec<Column>,
    groups: Vec<Group>,
    /// The group being read (an index into `groups`), its rows taken, and rows read into the
    /// columns' buffers and not taken yet.
    current: usize,
    taken: u64,
    buffered: usize,
    end: u64,
    /// The current row's values before they borrow, and the texts made for them.
    slots: Vec<Slot>,
    arena: Vec<u8>,
}

/// Rows read from each column at once.
const BATCH: usize = 1024;

impl ParquetChunk {
    /// The row groups of the chunk `start..end` (`end` may be [`crate::checkpoint::TO_END`]).
    pub fn open(
        source: &Source,
        handle: &tokio::runtime::Handle,
        path: &str,
        compression: Compression,
        (start, end): (u64, u64),
        retries: u32,
    ) -> Result<ParquetChunk, Failure> {
        let (file, bytes, kinds) = open(source, handle, path, compression, retries)?;
        let meta = file.metadata();
        let schema = meta.file_metadata().schema_descr_ptr();
        let names = schema.columns().iter().map(|c| c.name().to_string()).collect();
        let columns = schema
            .columns()
            .iter()
            .zip(kinds)
            .map(|(c, kind)| Column {
                kind,
                binary_target: false,
                reader: None,
                max_def: c.max_def_level(),
                defs: Vec::new(),
                values: Values::Bool(Vec::new()),
                next: 0,
            })
            .collect();
        let chunk_end = end.min(bytes.len());
        let mut groups: Vec<Group> = Vec::new();
        for (index, group) in meta.row_groups().iter().enumerate() {
            let range = group_range(group);
            if range.0 < start || range.0 >= chunk_end {
                continue;
            }
            // The spans tile the chunk: the first from its start, each to the next one's start.
            let from = match groups.last_mut() {
                None => start,
                Some(last) => {
                    last.span.1 = range.0.max(last.span.0);
                    last.span.1
                }
            };
            groups.push(Group { index, rows: group.num_rows().max(0) as u64, span: (from, chunk_end), range });
        }
        Ok(ParquetChunk {
            file,
            bytes,
            names,
            columns,
            groups,
            current: 0,
            taken: 0,
            buffered: 0,
            end: chunk_end,
            slots: Vec::new(),
            arena: Vec::new(),
        })
    }

    /// The file's column names, in order.
    pub fn column_names(&self) -> &[String] {
        &self.names
    }

    /// Which columns' target is a binary column (in the order of [`Self::column_names`]).
    pub fn set_binary_targets(&mut self, binary: &[bool]) {
        for (column, &b) in self.columns.iter_mut().zip(binary) {
            column.binary_target = b;
        }
    }

    /// The byte position where the chunk ends.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The position of the chunk's first byte, for errors before any row.
    pub fn start(&self) -> u64 {
        self.groups.first().map_or(0, |g| g.span.0)
    }

    /// Skip the chunk's first `rows` rows (done by earlier runs): whole groups unread, then
    /// rows of the first group left.
    pub fn skip(&mut self, mut rows: u64) -> Result<(), Failure> {
        while let Some(group) = self.groups.get(self.current) {
            if rows < group.rows {
                break;
            }
            rows -= group.rows;
            self.current += 1;
        }
        if rows == 0 {
            return Ok(());
        }
        if self.current >= self.groups.len() {
            return Err(Failure::Data {
                offset: self.end,
                message: format!("the checkpoint has {rows} more rows done than the chunk holds: the file changed"),
            });
        }
        self.open_group()?;
        let (at, index) = (self.groups[self.current].range.0, self.groups[self.current].index);
        for column in &mut self.columns {
            let reader = column.reader.as_mut().expect("opened above");
            let skipped = skip_records(reader, rows as usize).map_err(|e| failure(e, at).in_group(index))?;
            if skipped as u64 != rows {
                return Err(Failure::Data { offset: at, message: format!("the row group ends before row {rows}") });
            }
        }
        self.taken = rows;
        Ok(())
    }

    fn open_group(&mut self) -> Result<(), Failure> {
        let group = &self.groups[self.current];
        let (at, index) = (group.range.0, group.index);
        self.bytes.0.prefetch(group.range.0, group.range.1).map_err(Failure::Source)?;
        let reader = self.file.get_row_group(index).map_err(|e| failure(e, at).in_group(index))?;
        for (i, column) in self.columns.iter_mut().enumerate() {
            column.reader = Some(reader.get_column_reader(i).map_err(|e| failure(e, at).in_group(index))?);
        }
        self.taken = 0;
        self.buffered = 0;
        Ok(())
    }

    /// The next row's values (in the order of [`Self::column_names`]) and where it is; None
    /// after the chunk's last row.
    pub fn next_row(&mut self) -> Result<Option<(Vec<Value<'_>>, RowAt)>, Failure> {
        if self.buffered == 0 {
            loop {
                let Some(group) = self.groups.get(self.current) else { return Ok(None) };
                if self.taken >= group.rows {
                    self.current += 1;
                    self.columns.iter_mut().for_each(|c| c.reader = None);
                    self.taken = 0;
                    continue;
                }
                if self.columns.first().is_some_and(|c| c.reader.is_none()) {
                    let taken = self.taken;
                    self.open_group()?;
                    self.taken = taken;
                }
                self.fill()?;
                break;
            }
        }
        let group = &self.groups[self.current];
        let position = |k: u64| group.span.0 + (group.span.1 - group.span.0) * k / group.rows.max(1);
        let at = RowAt {
            group: group.index,
            row: self.taken,
            offset: position(self.taken),
            after: position(self.taken + 1),
        };
        self.taken += 1;
        self.buffered -= 1;
        // First take every column's value for the row (texts into the arena), then lend them
        // out: the values borrow the buffers and the arena the first pass writes.
        self.arena.clear();
        self.slots.clear();
        for (c, column) in self.columns.iter_mut().enumerate() {
            let present = column.max_def == 0 || column.defs[column.defs.len() - self.buffered - 1] == column.max_def;
            let slot = match present {
                false => Slot::Null,
                true => {
                    column.next += 1;
                    column.slot(column.next - 1, &mut self.arena).map_err(|why| Failure::Data {
                        offset: at.offset,
                        message: format!("row group {}, row {}: column `{}`: {why}", at.group, at.row, self.names[c]),
                    })?
                }
            };
            self.slots.push(slot);
        }
        let arena = &self.arena;
        let values = self.columns.iter().zip(&self.slots).map(|(column, &slot)| column.value(slot, arena)).collect();
        Ok(Some((values, at)))
    }

    /// Read the next batch of the current group into every column's buffers.
    fn fill(&mut self) -> Result<(), Failure> {
        let group = &self.groups[self.current];
        let want = ((group.rows - self.taken) as usize).min(BATCH);
        let at = group.range.0;
        for column in &mut self.columns {
            column.defs.clear();
            column.next = 0;
            let reader = column.reader.as_mut().expect("the group is open");
            let read = read_records(reader, want, &mut column.defs, &mut column.values)
                .map_err(|e| failure(e, at).in_group(group.index))?;
            if read != want {
                return Err(Failure::Data {
                    offset: at,
                    message: format!("row group {}: a column ends after {read} of its rows", group.index),
                });
            }
            if column.max_def == 0 {
                column.defs.clear();
            }
        }
        self.buffered = want;
        Ok(())
    }
}

/// A row's value, before it borrows: texts made for it are in the chunk's arena.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Null,
    UInt(u64),
    /// A number's text: `arena[from..to]`.
    Number(usize, usize),
    /// A date's or time's text: `arena[from..to]`.
    Chars(usize, usize),
    /// The byte array at this index of the buffer.
    Bytes(usize),
}

impl Column {
    /// The value at `i` of the buffers, as the mapping says; texts are written to `arena`.
    fn slot(&self, i: usize, arena: &mut Vec<u8>) -> Result<Slot, String> {
        let finite = |ok: bool| match ok {
            true => Ok(()),
            false => Err("NaN and infinities cannot be stored in MySQL".to_string()),
        };
        let slot = match (&self.values, self.kind) {
            (Values::Bool(v), _) => Slot::UInt(u64::from(v[i])),
            (Values::Int32(v), Kind::Int { unsigned: true }) => Slot::UInt(u64::from(v[i] as u32)),
            (Values::Int64(v), Kind::Int { unsigned: true }) => Slot::UInt(v[i] as u64),
            (Values::Int32(v), Kind::Int { .. }) => number(arena, itoa::Buffer::new().format(v[i])),
            (Values::Int64(v), Kind::Int { .. }) => number(arena, itoa::Buffer::new().format(v[i])),
            (Values::Int32(v), Kind::Decimal { scale }) => number(arena, &decimal_text(i128::from(v[i]), scale)),
            (Values::Int64(v), Kind::Decimal { scale }) => number(arena, &decimal_text(i128::from(v[i]), scale)),
            (Values::Bytes(v), Kind::Decimal { scale }) => number(arena, &decimal_of_bytes(v[i].data(), scale)),
            (Values::Fixed(v), Kind::Decimal { scale }) => number(arena, &decimal_of_bytes(v[i].data(), scale)),
            (Values::Float(v), _) => {
                finite(v[i].is_finite())?;
                number(arena, ryu::Buffer::new().format(v[i]))
            }
            (Values::Double(v), _) => {
                finite(v[i].is_finite())?;
                number(arena, ryu::Buffer::new().format(v[i]))
            }
            (Values::Int32(v), Kind::Date) => chars(arena, &date_text(i64::from(v[i]))),
            (Values::Int32(v), Kind::Time(unit)) => chars(arena, &time_text(i64::from(v[i]), unit)),
            (Values::Int64(v), Kind::Time(unit)) => chars(arena, &time_text(v[i], unit)),
            (Values::Int64(v), Kind::Timestamp(unit)) => chars(arena, &timestamp_text(i128::from(v[i]), unit)),
            (Values::Int96(v), _) => chars(arena, &int96_text(&v[i])),
            (Values::Bytes(_) | Values::Fixed(_), _) => Slot::Bytes(i),
            (_, kind) => return Err(format!("{kind:?} values of an unexpected physical type")),
        };
        Ok(slot)
    }

    /// The value a slot stands for, borrowing the buffers and the arena.
    fn value<'a>(&'a self, slot: Slot, arena: &'a [u8]) -> Value<'a> {
        match slot {
            Slot::Null => Value::Null,
            Slot::UInt(n) => Value::UInt(n),
            Slot::Number(from, to) => Value::Number(&arena[from..to]),
            Slot::Chars(from, to) => Value::Text(Cow::Borrowed(&arena[from..to])),
            Slot::Bytes(i) => {
                let bytes = match &self.values {
                    Values::Bytes(v) => v[i].data(),
                    Values::Fixed(v) => v[i].data(),
                    _ => &[],
                };
                match (self.kind, self.binary_target) {
                    (Kind::Bytes, true) => Value::Binary(Cow::Borrowed(bytes)),
                    _ => Value::Text(Cow::Borrowed(bytes)),
                }
            }
        }
    }
}

fn number(arena: &mut Vec<u8>, text: &str) -> Slot {
    let from = arena.len();
    arena.extend_from_slice(text.as_bytes());
    Slot::Number(from, arena.len())
}

fn chars(arena: &mut Vec<u8>, text: &str) -> Slot {
    let from = arena.len();
    arena.extend_from_slice(text.as_bytes());
    Slot::Chars(from, arena.len())
}

fn read_records(
    reader: &mut ColumnReader,
    n: usize,
    defs: &mut Vec<i16>,
    values: &mut Values,
) -> parquet::errors::Result<usize> {
    macro_rules! read {
        ($r:expr, $variant:ident) => {{
            if !matches!(values, Values::$variant(_)) {
                *values = Values::$variant(Vec::with_capacity(n));
            }
            let Values::$variant(v) = values else { unreachable!() };
            v.clear();
            $r.read_records(n, Some(defs), None, v)?.0
        }};
    }
    Ok(match reader {
        ColumnReader::BoolColumnReader(r) => read!(r, Bool),
        ColumnReader::Int32ColumnReader(r) => read!(r, Int32),
        ColumnReader::Int64ColumnReader(r) => read!(r, Int64),
        ColumnReader::Int96ColumnReader(r) => read!(r, Int96),
        ColumnReader::FloatColumnReader(r) => read!(r, Float),
        ColumnReader::DoubleColumnReader(r) => read!(r, Double),
        ColumnReader::ByteArrayColumnReader(r) => read!(r, Bytes),
        ColumnReader::FixedLenByteArrayColumnReader(r) => read!(r, Fixed),
    })
}

fn skip_records(reader: &mut ColumnReader, n: usize) -> parquet::errors::Result<usize> {
    match reader {
        ColumnReader::BoolColumnReader(r) => r.skip_records(n),
        ColumnReader::Int32ColumnReader(r) => r.skip_records(n),
        ColumnReader::Int64ColumnReader(r) => r.skip_records(n),
        ColumnReader::Int96ColumnReader(r) => r.skip_records(n),
        ColumnReader::FloatColumnReader(r) => r.skip_records(n),
        ColumnReader::DoubleColumnReader(r) => r.skip_records(n),
        ColumnReader::ByteArrayColumnReader(r) => r.skip_records(n),
        ColumnReader::FixedLenByteArrayColumnReader(r) => r.skip_records(n),
    }
}

// ------------------------------------------------------------------ texts --

/// An unscaled integer with `scale` digits after the point: `-12345`, 2 -> `-123.45`.
fn decimal_text(unscaled: i128, scale: u32) -> String {
    digits_with_point(unscaled < 0, unscaled.unsigned_abs().to_string(), scale)
}

fn digits_with_point(negative: bool, digits: String, scale: u32) -> String {
    let scale = scale as usize;
    let digits =
        if digits.len() <= scale { format!("{}{digits}", "0".repeat(scale + 1 - digits.len())) } else { digits };
    let (int, frac) = digits.split_at(digits.len() - scale);
    let sign = if negative && digits.bytes().any(|b| b != b'0') { "-" } else { "" };
    match frac.is_empty() {
        true => format!("{sign}{int}"),
        false => format!("{sign}{int}.{frac}"),
    }
}

/// A DECIMAL stored as a big-endian two's complement integer of any length.
fn decimal_of_bytes(bytes: &[u8], scale: u32) -> String {
    let negative = bytes.first().is_some_and(|&b| b & 0x80 != 0);
    let mut magnitude: Vec<u8> = match negative {
        false => bytes.to_vec(),
        true => {
            // Two's complement: invert and add one.
            let mut m: Vec<u8> = bytes.iter().map(|b| !b).collect();
            for byte in m.iter_mut().rev() {
                let (sum, carry) = byte.overflowing_add(1);
                *byte = sum;
                if !carry {
                    break;
                }
            }
            m
        }
    };
    // Decimal digits by repeated division by 10^9 (the values are short: at most 65 digits).
    let mut groups = Vec::new();
    while magnitude.iter().any(|&b| b != 0) {
        let mut rem = 0u64;
        for byte in magnitude.iter_mut() {
            let cur = (rem << 8) | u64::from(*byte);
            *byte = (cur / 1_000_000_000) as u8;
            rem = cur % 1_000_000_000;
        }
        groups.push(rem);
    }
    let mut digits = groups.last().map_or("0".to_string(), |g| g.to_string());
    for g in groups.iter().rev().skip(1) {
        digits.push_str(&format!("{g:09}"));
    }
    digits_with_point(negative, digits, scale)
}

/// `.fraction` of `units` of 1/`per_second`, without trailing zeros; empty for none.
fn fraction(units: i64, per_second: i64) -> String {
    if units == 0 {
        return String::new();
    }
    let width = per_second.ilog10() as usize;
    let text = format!(".{units:0width$}");
    text.trim_end_matches('0').to_string()
}

fn date_text(days: i64) -> String {
    crate::utc::utc_text(days * 86_400)[..10].to_string()
}

fn time_text(value: i64, unit: Unit) -> String {
    let per = unit.per_second();
    let sign = if value < 0 { "-" } else { "" };
    let a = value.unsigned_abs() as i64;
    let secs = a / per;
    format!("{sign}{:02}:{:02}:{:02}{}", secs / 3600, secs / 60 % 60, secs % 60, fraction(a % per, per))
}

fn timestamp_text(value: i128, unit: Unit) -> String {
    let per = i128::from(unit.per_second());
    let secs = value.div_euclid(per) as i64;
    let units = value.rem_euclid(per) as i64;
    format!("{}{}", crate::utc::utc_text(secs), fraction(units, per as i64))
}

/// INT96: nanoseconds of the day in the first eight bytes, the Julian day in the last four.
fn int96_text(v: &Int96) -> String {
    const JULIAN_DAY_OF_EPOCH: i128 = 2_440_588;
    let data = v.data();
    let nanos = i128::from(u64::from(data[0]) | (u64::from(data[1]) << 32));
    let days = i128::from(data[2]) - JULIAN_DAY_OF_EPOCH;
    timestamp_text(days * 86_400 * 1_000_000_000 + nanos, Unit::Nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::schema::parser::parse_message_type;
    use parquet::schema::types::SchemaDescriptor;
    use std::sync::Arc;

    /// Each column of a schema in Parquet's text form, mapped.
    fn kinds(schema: &str) -> Vec<Result<Kind, String>> {
        let descr = SchemaDescriptor::new(Arc::new(parse_message_type(schema).unwrap()));
        descr.columns().iter().map(|c| kind_of(c)).collect()
    }

    #[test]
    fn every_logical_and_converted_type_maps_as_lightning_reads_it() {
        let got = kinds(
            "message m {
                optional boolean b;
                required int32 i;
                optional int32 u8 (INTEGER(8, false));
                optional int64 u64 (UINT_64);
                optional int64 s64 (INT_64);
                optional int32 d1 (DECIMAL(9, 2));
                optional int64 d2 (DECIMAL(18, 4));
                optional fixed_len_byte_array(16) d3 (DECIMAL(38, 10));
                optional binary d4 (DECIMAL(60, 0));
                optional float f;
                optional double g;
                optional int32 dt (DATE);
                optional int32 tm (TIME(MILLIS, true));
                optional int64 tu (TIME_MICROS);
                optional int64 tn (TIME(NANOS, false));
                optional int64 sm (TIMESTAMP_MILLIS);
                optional int64 su (TIMESTAMP(MICROS, true));
                optional int64 sn (TIMESTAMP(NANOS, false));
                optional int96 i96;
                optional binary s (UTF8);
                optional binary e (ENUM);
                optional binary j (JSON);
                optional binary raw;
                optional binary bson (BSON);
                optional fixed_len_byte_array(16) id (UUID);
                optional fixed_len_byte_array(4) fixed;
            }",
        );
        use Kind::*;
        let want = [
            Bool,
            Int { unsigned: false },
            Int { unsigned: true },
            Int { unsigned: true },
            Int { unsigned: false },
            Decimal { scale: 2 },
            Decimal { scale: 4 },
            Decimal { scale: 10 },
            Decimal { scale: 0 },
            Float,
            Double,
            Date,
            Time(Unit::Millis),
            Time(Unit::Micros),
            Time(Unit::Nanos),
            Timestamp(Unit::Millis),
            Timestamp(Unit::Micros),
            Timestamp(Unit::Nanos),
            Int96,
            Text,
            Text,
            Text,
            Bytes,
            Bytes,
            Bytes,
            Bytes,
        ];
        assert_eq!(got, want.map(Ok));
    }

    #[test]
    fn nested_and_unsupported_columns_are_refused_with_why() {
        let got = kinds(
            "message m {
                optional group l (LIST) { repeated group list { optional int32 element; } }
                optional group s { optional int32 a; }
                repeated int32 r;
                optional fixed_len_byte_array(2) h (FLOAT16);
                optional fixed_len_byte_array(12) iv (INTERVAL);
            }",
        );
        let why: Vec<String> = got.into_iter().map(|k| k.unwrap_err()).collect();
        assert!(why[0].contains("nested"), "{why:?}");
        assert!(why[1].contains("nested"), "{why:?}");
        assert!(why[2].contains("nested"), "{why:?}");
        assert!(why[3].contains("FLOAT16"), "{why:?}");
        assert!(why[4].contains("INTERVAL"), "{why:?}");
    }

    #[test]
    fn decimals_of_every_storage() {
        assert_eq!(decimal_text(-12345, 2), "-123.45");
        assert_eq!(decimal_text(5, 3), "0.005");
        assert_eq!(decimal_text(-5, 3), "-0.005");
        assert_eq!(decimal_text(42, 0), "42");
        assert_eq!(decimal_text(0, 2), "0.00");
        assert_eq!(decimal_of_bytes(&[0x30, 0x39], 2), "123.45");
        assert_eq!(decimal_of_bytes(&[0xcf, 0xc7], 2), "-123.45");
        assert_eq!(decimal_of_bytes(&[0xff; 16], 0), "-1");
        assert_eq!(decimal_of_bytes(&[], 1), "0.0");
        // 10^40 - 1 (a DECIMAL(65) needs more than 16 bytes), and its negation.
        let big: i128 = 10i128.pow(38);
        let mut bytes = vec![0u8; 4];
        bytes.extend_from_slice(&big.to_be_bytes());
        assert_eq!(decimal_of_bytes(&bytes, 5), format!("1{}.00000", "0".repeat(33)));
        let negated: Vec<u8> = (-big).to_be_bytes().to_vec();
        let mut wide = vec![0xffu8; 4];
        wide.extend_from_slice(&negated);
        assert_eq!(decimal_of_bytes(&wide, 0), format!("-1{}", "0".repeat(38)));
    }

    #[test]
    fn times_in_utc_without_trailing_zeros() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(-1), "1969-12-31");
        assert_eq!(date_text(19_000), "2022-01-08");
        assert_eq!(time_text(45_296_789, Unit::Millis), "12:34:56.789");
        assert_eq!(time_text(45_296_000_000, Unit::Micros), "12:34:56");
        assert_eq!(time_text(45_296_000_000_100, Unit::Nanos), "12:34:56.0000001");
        assert_eq!(timestamp_text(1_000, Unit::Millis), "1970-01-01 00:00:01");
        assert_eq!(timestamp_text(-1, Unit::Micros), "1969-12-31 23:59:59.999999");
        assert_eq!(timestamp_text(1_700_000_000_123_450, Unit::Micros), "2023-11-14 22:13:20.12345");
        assert_eq!(timestamp_text(1_700_000_000_000_000_001, Unit::Nanos), "2023-11-14 22:13:20.000000001");
        // 2000-01-01 00:00:01.5: Julian day 2451545, 1.5 s of nanoseconds.
        let nanos: u64 = 1_500_000_000;
        let v = Int96::from(vec![nanos as u32, (nanos >> 32) as u32, 2_451_545]);
        assert_eq!(int96_text(&v), "2000-01-01 00:00:01.5");
    }

    #[test]
    fn values_of_each_kind() {
        let column = |kind, values| Column {
            kind,
            binary_target: false,
            reader: None,
            max_def: 1,
            defs: Vec::new(),
            values,
            next: 0,
        };
        let value = |c: &Column, i: usize| -> Result<String, String> {
            let mut arena = Vec::new();
            let slot = c.slot(i, &mut arena)?;
            Ok(match c.value(slot, &arena) {
                Value::Number(n) => format!("number {}", String::from_utf8_lossy(n)),
                Value::Text(t) => format!("text {}", String::from_utf8_lossy(&t)),
                Value::UInt(n) => format!("uint {n}"),
                other => format!("{other:?}"),
            })
        };
        let c = column(Kind::Int { unsigned: true }, Values::Int32(vec![-1]));
        assert_eq!(value(&c, 0).unwrap(), "uint 4294967295");
        let c = column(Kind::Int { unsigned: true }, Values::Int64(vec![-1]));
        assert_eq!(value(&c, 0).unwrap(), "uint 18446744073709551615");
        let c = column(Kind::Int { unsigned: false }, Values::Int64(vec![i64::MIN]));
        assert_eq!(value(&c, 0).unwrap(), format!("number {}", i64::MIN));
        let c = column(Kind::Bool, Values::Bool(vec![true, false]));
        assert_eq!((value(&c, 0).unwrap(), value(&c, 1).unwrap()), ("uint 1".into(), "uint 0".into()));
        let c = column(Kind::Decimal { scale: 2 }, Values::Int32(vec![-5]));
        assert_eq!(value(&c, 0).unwrap(), "number -0.05");
        let c = column(Kind::Float, Values::Float(vec![1.1, f32::NAN]));
        assert_eq!(value(&c, 0).unwrap(), "number 1.1");
        assert!(value(&c, 1).unwrap_err().contains("NaN"));
        let c = column(Kind::Double, Values::Double(vec![0.1 + 0.2, f64::INFINITY]));
        assert_eq!(value(&c, 0).unwrap(), "number 0.30000000000000004");
        assert!(value(&c, 1).is_err());
        let c = column(Kind::Timestamp(Unit::Millis), Values::Int64(vec![1_500]));
        assert_eq!(value(&c, 0).unwrap(), "text 1970-01-01 00:00:01.5");
        let c = column(Kind::Date, Values::Int32(vec![1]));
        assert_eq!(value(&c, 0).unwrap(), "text 1970-01-02");
        let mut c = column(Kind::Bytes, Values::Bytes(vec![ByteArray::from(vec![0xff, 0x00])]));
        assert_eq!(value(&c, 0).unwrap(), format!("text {}", String::from_utf8_lossy(&[0xff, 0x00])));
        c.binary_target = true;
        assert_eq!(value(&c, 0).unwrap(), format!("{:?}", Value::Binary(Cow::Borrowed(&[0xff, 0x00][..]))));
        let c = column(Kind::Text, Values::Bytes(vec![ByteArray::from("é".as_bytes().to_vec())]));
        assert_eq!(value(&c, 0).unwrap(), "text é");
    }

    /// A file without a row group (an empty table's export) is one chunk without rows.
    #[test]
    fn a_file_without_row_groups_has_no_rows() {
        use parquet::file::properties::WriterProperties;
        use parquet::file::writer::SerializedFileWriter;
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(parse_message_type("message m { required int64 id; }").unwrap());
        let file = std::fs::File::create(dir.path().join("d.e.parquet")).unwrap();
        SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build()))
            .unwrap()
            .close()
            .unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let source = Source::open(dir.path().to_str().unwrap()).unwrap();
        let size = std::fs::metadata(dir.path().join("d.e.parquet")).unwrap().len();
        let file = SourceFile { path: "d.e.parquet".into(), size, modified_ms: 0 };
        assert_eq!(group_boundaries(&source, rt.handle(), &file, 1).unwrap(), Vec::<u64>::new());
        let mut chunk = ParquetChunk::open(&source, rt.handle(), &file.path, Compression::None, (0, size), 0).unwrap();
        assert_eq!(chunk.column_names(), ["id"]);
        assert!(rows_of(&mut chunk, 0).is_empty());
    }

    /// A file of three row groups of ten rows (`id` 0..30, `s` NULL every third row), written
    /// by the parquet crate's own writer.
    fn three_groups(dir: &std::path::Path) -> SourceFile {
        use parquet::data_type::{ByteArrayType, Int64Type};
        use parquet::file::properties::WriterProperties;
        use parquet::file::writer::SerializedFileWriter;
        let schema =
            Arc::new(parse_message_type("message m { required int64 id; optional binary s (UTF8); }").unwrap());
        let path = dir.join("d.t.parquet");
        let file = std::fs::File::create(&path).unwrap();
        let mut writer =
            SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build())).unwrap();
        for g in 0..3i64 {
            let ids: Vec<i64> = (g * 10..g * 10 + 10).collect();
            let defs: Vec<i16> = ids.iter().map(|i| i16::from(i % 3 != 0)).collect();
            let texts: Vec<ByteArray> =
                ids.iter().filter(|i| *i % 3 != 0).map(|i| ByteArray::from(format!("s{i}").as_str())).collect();
            let mut group = writer.next_row_group().unwrap();
            let mut column = group.next_column().unwrap().unwrap();
            column.typed::<Int64Type>().write_batch(&ids, None, None).unwrap();
            column.close().unwrap();
            let mut column = group.next_column().unwrap().unwrap();
            column.typed::<ByteArrayType>().write_batch(&texts, Some(&defs), None).unwrap();
            column.close().unwrap();
            group.close().unwrap();
        }
        writer.close().unwrap();
        SourceFile { path: "d.t.parquet".into(), size: std::fs::metadata(&path).unwrap().len(), modified_ms: 0 }
    }

    /// Every row left of `chunk` after `skip` rows: (id, s); the positions move forward and
    /// each row group's first row is at the group's start (after the chunk's first group).
    fn rows_of(chunk: &mut ParquetChunk, skip: u64) -> Vec<(String, Option<String>)> {
        chunk.skip(skip).unwrap_or_else(|e| panic!("{e:?}"));
        let starts: Vec<(usize, u64)> = chunk.groups.iter().skip(1).map(|g| (g.index, g.range.0)).collect();
        let mut rows = Vec::new();
        let (mut last, end) = (chunk.start(), chunk.end());
        while let Some((values, at)) = chunk.next_row().unwrap() {
            assert!(at.offset >= last && at.after >= at.offset && at.after <= end, "{at:?}");
            if at.row == 0 {
                if let Some(&(_, start)) = starts.iter().find(|(g, _)| *g == at.group) {
                    assert_eq!(at.offset, start, "row group {} starts its span", at.group);
                }
            }
            last = at.after;
            let text = |v: &Value| match v {
                Value::Number(n) => Some(String::from_utf8_lossy(n).into_owned()),
                Value::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                _ => None,
            };
            rows.push((text(&values[0]).unwrap(), text(&values[1])));
        }
        if !rows.is_empty() {
            assert_eq!(last, end, "the last row's position is the chunk's end");
        }
        rows
    }

    fn expected(ids: std::ops::Range<i64>) -> Vec<(String, Option<String>)> {
        ids.map(|i| (i.to_string(), (i % 3 != 0).then(|| format!("s{i}")))).collect()
    }

    /// The plan cuts at row-group starts; a chunk holds the groups that start in its range; a
    /// resumed chunk skips whole groups, then rows of the next, and gives every row left once.
    #[test]
    fn chunks_of_row_groups_resume_at_a_row() {
        let dir = tempfile::tempdir().unwrap();
        let file = three_groups(dir.path());
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let source = Source::open(dir.path().to_str().unwrap()).unwrap();
        let handle = rt.handle();
        let bounds = group_boundaries(&source, handle, &file, 1).unwrap();
        assert_eq!(bounds.len(), 2, "a cut before the second and the third group: {bounds:?}");
        let open = |range| ParquetChunk::open(&source, handle, &file.path, Compression::None, range, 0).unwrap();
        assert_eq!(rows_of(&mut open((0, file.size)), 0), expected(0..30));
        assert_eq!(rows_of(&mut open((0, file.size)), 15), expected(15..30), "a group skipped, then 5 rows");
        assert_eq!(rows_of(&mut open((0, file.size)), 20), expected(20..30), "two groups skipped");
        assert_eq!(rows_of(&mut open((0, bounds[0])), 3), expected(3..10), "the first chunk: the first group");
        assert_eq!(rows_of(&mut open((bounds[0], file.size)), 12), expected(22..30), "the second chunk");
        assert_eq!(rows_of(&mut open((bounds[1], file.size)), 10), expected(0..0), "a chunk done");
        let Err(Failure::Data { message, .. }) = open((bounds[1], file.size)).skip(11) else {
            panic!("more rows done than held")
        };
        assert!(message.contains("the file changed"), "{message}");
    }
}
