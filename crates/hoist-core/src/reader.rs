//! Reads one chunk from its resume position, parses it and encodes batches for the target.
//! Runs on a blocking thread and hands batches to the async writer through a bounded channel,
//! so at most a few batches per worker are in memory.
//!
//! Every batch carries the chunk's position right after its last row: where a resumed run
//! starts. Inside a long INSERT the position also names the statement's start, so a resume can
//! read the statement's header (table and column list) again and continue after the row.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hoist_parse::csv::{CsvScanner, CsvStep};
use hoist_parse::sql::{InsertHeader, SqlEvent, SqlOptions, SqlScanner, SqlStep};
use tokio::sync::mpsc;

use crate::catalog::DataFormat;
use crate::charset::{DataCharset, InvalidBytes};
use crate::checkpoint::{ChunkProgress, ChunkRecord, TO_END};
use crate::content_hash::{ContentSum, Scratch, SourceSession, TableHasher};
use crate::error::{Classified, DataError, FilePosition, SourceError};
use crate::input::Input;
use crate::parquet_file::{Failure, ParquetChunk};
use crate::rows::{Row, Value};
use crate::source::Source;
use crate::target::{BatchEncoder, ColumnClass, EncodeError, EncodedBatch, Session, TableTarget, Target};

/// How CSV files of this import are read.
#[derive(Debug, Clone)]
pub struct CsvSettings {
    pub options: hoist_parse::csv::CsvOptions,
    pub header: bool,
    /// The header must name the table's columns (else it is only skipped).
    pub header_schema_match: bool,
}

pub struct ChunkJob {
    pub chunk: ChunkRecord,
    pub table: Arc<TableTarget>,
    pub resume: ChunkProgress,
    pub csv: Arc<CsvSettings>,
    /// How the chunk's bytes are decoded before they are parsed (`binary`: not at all).
    pub charset: DataCharset,
    pub batch_bytes: usize,
    /// Times a read that failed on the medium is tried again (the import's `max_retries`).
    pub retries: u32,
    /// Hashes each row's content as the target will print it; None when the content is not
    /// checked (then the chunk's sum is marked unknown, so a later run that checks it knows).
    pub hasher: Option<Arc<TableHasher>>,
    /// See [`EncodedBatch::count_replaced`].
    pub count_replaced: bool,
}

/// A batch and the chunk position after it.
pub struct ReadBatch {
    pub batch: EncodedBatch,
    pub progress: ChunkProgress,
    /// Source bytes this batch advanced over.
    pub bytes: u64,
    /// Where each row of the batch starts in the file, to name the one a server rejects.
    pub row_offsets: Vec<u64>,
    /// Where each row ends in the file, to record the row's text when it is skipped.
    pub row_ends: Vec<u64>,
    /// Each row's content hash (0 where not known: the chunk's sum is unknown then), to take a
    /// row the target refuses out of the marker's checksum.
    pub row_hashes: Vec<u32>,
    /// The first row of the chunk whose content hash could not be known, and why.
    pub unpredictable: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The writer went away (it failed, or the run is stopping).
    #[error("stopped")]
    Stopped,
}

struct Reader<'a> {
    source: &'a Source,
    handle: &'a tokio::runtime::Handle,
    job: &'a ChunkJob,
    target: &'a dyn Target,
    tx: &'a mpsc::Sender<ReadBatch>,
    stop: &'a AtomicBool,
    progress: ChunkProgress,
    /// Position of the last progress sent, to count bytes per batch.
    sent_offset: u64,
    session: Arc<Session>,
    /// The session the row hashes were last computed under, as far as it changes them.
    hash_session: Option<(Arc<Session>, SourceSession)>,
    hash_scratch: Scratch,
    row_offsets: Vec<u64>,
    row_ends: Vec<u64>,
    row_hashes: Vec<u32>,
    unpredictable: Option<String>,
}

pub fn read_chunk(
    source: &Source,
    handle: &tokio::runtime::Handle,
    job: &ChunkJob,
    target: &dyn Target,
    tx: &mpsc::Sender<ReadBatch>,
    stop: &AtomicBool,
) -> Result<(), ReadError> {
    let mut reader = Reader {
        source,
        handle,
        job,
        target,
        tx,
        stop,
        progress: job.resume,
        sent_offset: job.resume.offset,
        session: Arc::new(Session::default()),
        hash_session: None,
        hash_scratch: Scratch::default(),
        row_offsets: Vec::new(),
        row_ends: Vec::new(),
        row_hashes: Vec::new(),
        unpredictable: None,
    };
    match job.chunk.format {
        DataFormat::Sql => reader.read_sql(),
        DataFormat::Csv => reader.read_csv(),
        DataFormat::Parquet => reader.read_parquet(),
    }
}

impl Reader<'_> {
    fn file(&self) -> &str {
        &self.job.chunk.path
    }

    fn open(&self, from: u64) -> Result<Input, ReadError> {
        let ch = &self.job.chunk;
        let reader = self.source.open_at(self.handle, &ch.path, ch.compression, from)?;
        let limit = if ch.end == TO_END { u64::MAX } else { ch.end.saturating_sub(from) };
        Ok(Input::decoded(reader, from, limit, self.job.charset.transcoder(from)))
    }

    /// Whether the text is decoded: it reaches the target as UTF-8 then, whatever the dump's
    /// `SET NAMES` says of its bytes.
    fn decoded(&self) -> bool {
        self.job.charset.charset.is_some()
    }

    /// The session rows of this chunk start under: for decoded text, one that has the server
    /// convert it from UTF-8 into each column's character set.
    fn start_session(&mut self, undecoded: &[&str]) {
        let statements = if self.decoded() { &["SET NAMES utf8mb4"][..] } else { undecoded };
        self.session = Arc::new(Session { statements: statements.iter().map(|s| s.to_string()).collect() });
    }

    /// A data error at `offset`, with its line and the text found there.
    fn data_error(&self, offset: u64, message: impl Into<String>) -> ReadError {
        let (line, near) = locate(self.source, self.handle, &self.job.chunk, &self.job.charset, offset);
        let mut message = message.into();
        if !near.is_empty() {
            message.push_str(&format!(", near {near:?}"));
        }
        ReadError::Data(DataError { position: FilePosition { file: self.file().to_string(), offset, line }, message })
    }

    /// Read more. A read that failed on the medium (a network or object store hiccup) opens
    /// the file again where it stopped, with backoff, up to the job's retries in a row without
    /// a byte read (a read that makes progress starts the count again); then the run stops
    /// without blaming the table. A failure that is the bytes' own (a corrupt or
    /// truncated compressed stream) is the table's error at once: every read gives it again.
    fn fill(&self, input: &mut Input) -> Result<(), ReadError> {
        let mut attempt = 0;
        loop {
            let Err(e) = input.fill() else { return Ok(()) };
            let at = input.read_to();
            if let Some(changed) = e.get_ref().and_then(|i| i.downcast_ref::<crate::error::FileChanged>()) {
                return Err(ReadError::Source(changed.clone().into()));
            }
            if let Some(invalid) = e.get_ref().and_then(|i| i.downcast_ref::<InvalidBytes>()) {
                let message = format!(
                    "{invalid} ([mydumper] data-character-set = \"{}\"); fix the file, or set \
                     [mydumper] data-invalid-char-replace to load such bytes replaced",
                    self.job.charset.name()
                );
                return Err(self.data_error(invalid.offset, message));
            }
            if !crate::error_class::io_is_transient(&e) {
                return Err(self.data_error(at, format!("cannot read the file (truncated or corrupt?): {e}")));
            }
            loop {
                if attempt >= self.job.retries {
                    let what = format!("{} at byte {at}", self.file());
                    return Err(ReadError::Source(SourceError::io(self.source.location(), &what, &e)));
                }
                attempt += 1;
                let delay = crate::error_class::backoff_delay(attempt);
                tracing::warn!("reading {} failed at byte {at}, retry {attempt} in {delay:?}: {e}", self.file());
                std::thread::sleep(delay);
                let ch = &self.job.chunk;
                match self.source.open_at(self.handle, &ch.path, ch.compression, at) {
                    Ok(reader) => {
                        input.replace_reader(reader);
                        break;
                    }
                    Err(again) if again.is_transient() => continue,
                    Err(other) => return Err(other.into()),
                }
            }
        }
    }

    /// Send the encoder's rows with the position reached. A batch without rows is sent only
    /// when it finishes the chunk, to record that.
    fn flush(&mut self, encoder: &mut dyn BatchEncoder, position: u64, done: bool) -> Result<(), ReadError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(ReadError::Stopped);
        }
        self.progress.offset = position;
        self.progress.done = done;
        let rows = encoder.rows();
        if rows == 0 && !done {
            return Ok(());
        }
        let batch = EncodedBatch {
            rows: encoder.take(),
            row_count: rows,
            session: self.session.clone(),
            count_replaced: self.job.count_replaced,
        };
        let bytes = position.saturating_sub(self.sent_offset);
        self.sent_offset = position;
        let row_offsets = std::mem::take(&mut self.row_offsets);
        let row_ends = std::mem::take(&mut self.row_ends);
        let row_hashes = std::mem::take(&mut self.row_hashes);
        let unpredictable = self.unpredictable.take();
        let progress = self.progress;
        self.tx
            .blocking_send(ReadBatch { batch, progress, bytes, row_offsets, row_ends, row_hashes, unpredictable })
            .map_err(|_| ReadError::Stopped)
    }

    /// `header`: the names are a CSV file's header.
    fn column_map(&self, names: Option<&[String]>, at: u64, header: bool) -> Result<Vec<usize>, ReadError> {
        let table = &self.job.table;
        match names {
            None => Ok(table.columns.iter().enumerate().filter(|(_, c)| !c.generated).map(|(i, _)| i).collect()),
            Some(names) => names
                .iter()
                .map(|n| {
                    table.column_index(n).ok_or_else(|| {
                        // Lightning's words for a CSV header, which users search for.
                        let what = if header { "unknown columns in header: " } else { "" };
                        self.data_error(
                            at,
                            format!(
                                "{what}column `{n}` does not exist in the target table `{}`.`{}`",
                                table.database, table.name
                            ),
                        )
                    })
                })
                .collect(),
        }
    }

    /// Add a row's content hash to the chunk's sum, and keep it beside the row's offset (0
    /// when not known). The first row whose hash cannot be known marks the sum unknown for
    /// good, and is reported once.
    fn hash_row(&mut self, map: &[usize], values: &[Value], at: u64) {
        let mut sum = ContentSum(self.progress.checksum);
        if sum.known().is_none() {
            self.row_hashes.push(0);
            return;
        }
        let mut row_hash = 0;
        let job = self.job;
        match job.hasher.as_deref() {
            None => sum.mark_unknown(),
            Some(hasher) => {
                let session = match &self.hash_session {
                    Some((of, session)) if Arc::ptr_eq(of, &self.session) => session,
                    _ => {
                        let session = hasher.session(&self.session.statements);
                        &self.hash_session.insert((self.session.clone(), session)).1
                    }
                };
                let hashed = hasher.row_hash(session, map, values, &mut self.hash_scratch);
                match hashed {
                    Ok(hash) => {
                        row_hash = hash;
                        sum.add_row(hash)
                    }
                    Err(why) => {
                        sum.mark_unknown();
                        self.unpredictable = Some(format!("{} at byte {at}: {}", self.file(), why.0));
                    }
                }
            }
        }
        self.progress.checksum = sum.0;
        self.row_hashes.push(row_hash);
    }

    fn check_width(&self, got: usize, want: usize, at: u64) -> Result<(), ReadError> {
        if got == want {
            return Ok(());
        }
        let t = &self.job.table;
        Err(self.data_error(
            at,
            format!("row has {got} values but {want} columns are expected for `{}`.`{}`", t.database, t.name),
        ))
    }

    // ---- SQL ----

    /// The SET statements of the file's header, for chunks that start later: those before its
    /// first INSERT or first statement that is not about rows. (A mysqldump file's header ends
    /// at its first DDL; the SETs between its tables belong to triggers and routines.)
    fn sql_prologue(&mut self, options: &mut SqlOptions) -> Result<(), ReadError> {
        let ch = &self.job.chunk;
        let reader = self.source.open_at(self.handle, &ch.path, ch.compression, 0)?;
        // Lossy: the header's SETs are ASCII, and the first MiB may end inside a character.
        let mut input = Input::decoded(reader, 0, 1 << 20, self.job.charset.lossy_transcoder(0));
        let mut scanner = SqlScanner::new(*options);
        loop {
            let step = scanner.next(input.data(), input.eof());
            match step {
                Ok(SqlStep::NeedMore) => self.fill(&mut input)?,
                Ok(SqlStep::Event { event: SqlEvent::Set(text), consumed }) => {
                    let text = String::from_utf8_lossy(text).into_owned();
                    self.apply_set(&text, options);
                    scanner.set_options(*options);
                    input.consume(consumed);
                }
                Ok(SqlStep::Event { event: SqlEvent::Other(text), consumed }) if is_ignorable_statement(text) => {
                    input.consume(consumed)
                }
                // The first INSERT or DDL ends the prologue; so does anything unreadable (the main
                // pass reports it).
                _ => return Ok(()),
            }
        }
    }

    /// Apply a SET statement from the dump when it changes how rows read: character set,
    /// time zone, NO_BACKSLASH_ESCAPES. Others (foreign_key_checks, @OLD_ variables...) are
    /// hoist's own business and skipped.
    fn apply_set(&mut self, text: &str, options: &mut SqlOptions) -> bool {
        let body = strip_version_comment(text);
        let lower = body.to_ascii_lowercase();
        let mut session = (*self.session).clone();
        if let Some(nbe) = no_backslash_escapes_set_by(text) {
            if nbe != options.no_backslash_escapes {
                options.no_backslash_escapes = nbe;
                let stmt = if nbe {
                    "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')".to_string()
                } else {
                    "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')".to_string()
                };
                session.statements.push(stmt);
            }
        } else if lower.starts_with("set names") || lower.starts_with("set character set") {
            // Decoded text is UTF-8 whatever the file's bytes were.
            if self.decoded() {
                return false;
            }
            session.statements.push(body.to_string());
        } else if lower.contains("time_zone") {
            session.statements.push(body.to_string());
        } else {
            return false;
        }
        self.session = Arc::new(session);
        true
    }

    fn read_sql(&mut self) -> Result<(), ReadError> {
        self.start_session(&[]);
        let mut options = SqlOptions::default();
        let from = self.progress.offset;
        if from > 0 {
            self.sql_prologue(&mut options)?;
        }
        // Resuming inside a statement: read its header again, then continue after the row.
        let mut scanner = match self.progress.stmt_start {
            Some(stmt_start) if stmt_start < from => {
                let header = self.read_insert_header(stmt_start, options)?;
                SqlScanner::resume_in_values(options, header)
            }
            _ => SqlScanner::new(options),
        };
        let mut stmt_start = self.progress.stmt_start.filter(|_| scanner.header().is_some());
        let mut input = self.open(from)?;
        let mut encoder: Option<(Vec<usize>, Box<dyn BatchEncoder>)> = None;
        // The column map of the current INSERT, and how many of its rows were read.
        let mut statement_map = Vec::new();
        let mut rows_in_statement = 0u64;
        // Set once a row needed the INSERT form: the rest of the chunk uses it too.
        let mut force_insert = false;
        if let Some(h) = scanner.header() {
            statement_map = self.column_map(h.columns.as_deref(), from, false)?;
            rows_in_statement = 1;
            encoder = Some((statement_map.clone(), self.target.encoder(&self.job.table, &statement_map, force_insert)));
        }
        loop {
            let at = input.position();
            let step = scanner.next(input.data(), input.eof());
            let (consumed, flush) = match step {
                Err(e) => {
                    let msg = e.kind.to_string();
                    return Err(self.data_error(input.offset_at(e.offset), msg));
                }
                Ok(SqlStep::NeedMore) => {
                    if input.eof() {
                        return Err(self.data_error(at, "the file ends inside a statement"));
                    }
                    self.fill(&mut input)?;
                    continue;
                }
                Ok(SqlStep::End) => break,
                Ok(SqlStep::Event { event, consumed }) => match event {
                    SqlEvent::Insert(header) => {
                        stmt_start = Some(at);
                        rows_in_statement = 0;
                        let columns = header.columns.clone();
                        let map = self.column_map(columns.as_deref(), at, false)?;
                        statement_map = map.clone();
                        let same = encoder.as_ref().is_some_and(|(m, _)| *m == map);
                        if !same {
                            if let Some((_, mut old)) = encoder.take() {
                                self.progress.stmt_start = None;
                                self.flush(old.as_mut(), at, false)?;
                            }
                            encoder = Some((map.clone(), self.target.encoder(&self.job.table, &map, force_insert)));
                        }
                        (consumed, false)
                    }
                    SqlEvent::Row(row) => {
                        let row_at = input.offset_at(row.raw.as_ptr() as usize - input.data().as_ptr() as usize);
                        // `()` inserts a row of defaults: it needs an empty column list.
                        let wanted = if row.fields.is_empty() { &[][..] } else { &statement_map[..] };
                        if encoder.as_ref().is_some_and(|(m, _)| m.as_slice() != wanted) {
                            let (_, mut old) = encoder.take().expect("checked above");
                            let (resume_at, resume_stmt) = match (rows_in_statement, stmt_start) {
                                (0, Some(begin)) => (begin, None),
                                (_, stmt) => (at, stmt),
                            };
                            self.progress.stmt_start = resume_stmt;
                            self.flush(old.as_mut(), resume_at, false)?;
                            encoder =
                                Some((wanted.to_vec(), self.target.encoder(&self.job.table, wanted, force_insert)));
                        }
                        rows_in_statement += 1;
                        let Some((map, enc)) = encoder.as_mut() else {
                            return Err(self.data_error(row_at, "a row outside of an INSERT statement"));
                        };
                        self.check_width(row.fields.len(), map.len(), row_at)?;
                        let source_row = sql_row(row.raw, row.fields, options);
                        match enc.push(&source_row) {
                            Ok(()) => {}
                            Err(EncodeError::Invalid(m)) => return Err(self.data_error(row_at, m)),
                            Err(EncodeError::NeedsInsert) => {
                                // Send what came before in its form, then go on with INSERT.
                                let (resume_at, resume_stmt) = match (rows_in_statement, stmt_start) {
                                    (1, Some(begin)) => (begin, None),
                                    (_, stmt) => (at, stmt),
                                };
                                self.progress.stmt_start = resume_stmt;
                                self.flush(enc.as_mut(), resume_at, false)?;
                                force_insert = true;
                                *enc = self.target.encoder(&self.job.table, map, true);
                                enc.push(&source_row).map_err(|e| self.data_error(row_at, format!("{e:?}")))?;
                            }
                        }
                        self.row_offsets.push(row_at);
                        self.row_ends.push(row_at + row.raw.len() as u64);
                        self.progress.rows += 1;
                        self.hash_row(map, &source_row.values, row_at);
                        (consumed, enc.bytes() >= self.job.batch_bytes)
                    }
                    SqlEvent::EndInsert => {
                        stmt_start = None;
                        (consumed, false)
                    }
                    SqlEvent::Set(text) => {
                        let text = String::from_utf8_lossy(text).into_owned();
                        let before = self.session.clone();
                        if self.apply_set(&text, &mut options) {
                            scanner.set_options(options);
                            // Rows before the SET keep the session they were written under.
                            let after = std::mem::replace(&mut self.session, before);
                            if let Some((_, enc)) = encoder.as_mut() {
                                self.progress.stmt_start = stmt_start;
                                self.flush(enc.as_mut(), at, false)?;
                            }
                            self.session = after;
                        }
                        (consumed, false)
                    }
                    SqlEvent::Other(text) => {
                        if !is_ignorable_statement(text) {
                            let shown = String::from_utf8_lossy(&text[..text.len().min(60)]).into_owned();
                            return Err(self.data_error(
                                at,
                                format!(
                                    "unexpected statement in a data file (only INSERT and SET are loaded): {shown}"
                                ),
                            ));
                        }
                        (consumed, false)
                    }
                },
            };
            input.consume(consumed);
            if flush {
                if let Some((_, enc)) = encoder.as_mut() {
                    self.progress.stmt_start = stmt_start;
                    self.flush(enc.as_mut(), input.position(), false)?;
                }
            }
        }
        self.progress.stmt_start = None;
        let end = input.position();
        let mut empty;
        let enc: &mut dyn BatchEncoder = match encoder.as_mut() {
            Some((_, e)) => e.as_mut(),
            None => {
                empty = self.target.encoder(&self.job.table, &[], force_insert);
                empty.as_mut()
            }
        };
        self.flush(enc, end, true)
    }

    fn read_insert_header(&self, stmt_start: u64, options: SqlOptions) -> Result<InsertHeader, ReadError> {
        let mut input = self.open(stmt_start)?;
        let mut scanner = SqlScanner::new(options);
        loop {
            match scanner.next(input.data(), input.eof()) {
                Ok(SqlStep::NeedMore) if !input.eof() => self.fill(&mut input)?,
                Ok(SqlStep::Event { event: SqlEvent::Insert(h), .. }) => return Ok(h.clone()),
                Ok(SqlStep::Event { consumed, .. }) => input.consume(consumed),
                Err(e) => return Err(self.data_error(input.offset_at(e.offset), e.kind.to_string())),
                _ => {
                    return Err(self.data_error(
                        stmt_start,
                        "the checkpoint says an INSERT statement starts here, but none does: the file changed",
                    ))
                }
            }
        }
    }

    // ---- CSV ----

    /// A UTF-8 byte-order mark at the start of a file is not data. Returns its length.
    fn skip_bom(&self, input: &mut Input) -> Result<u64, ReadError> {
        while input.data().len() < 3 && !input.eof() {
            self.fill(input)?;
        }
        if input.data().starts_with(b"\xEF\xBB\xBF") {
            input.consume(3);
            return Ok(3);
        }
        Ok(0)
    }

    /// The column names of the header line and the offset after it.
    fn csv_header(&self) -> Result<(Vec<String>, u64), ReadError> {
        let mut input = self.open(0)?;
        self.skip_bom(&mut input)?;
        let mut scanner = CsvScanner::new(self.job.csv.options.clone());
        loop {
            match scanner.next(input.data(), input.eof()) {
                Ok(CsvStep::NeedMore) => self.fill(&mut input)?,
                Ok(CsvStep::Record { record, consumed }) => {
                    let names =
                        record.iter().map(|f| String::from_utf8_lossy(f.unwrap_or(b"")).trim().to_string()).collect();
                    return Ok((names, input.offset_at(consumed)));
                }
                Ok(CsvStep::End) => return Ok((Vec::new(), 0)),
                Err(e) => return Err(self.data_error(input.offset_at(e.offset), e.kind.to_string())),
            }
        }
    }

    fn read_csv(&mut self) -> Result<(), ReadError> {
        // CSV fields are bytes: the target takes them as they are (or as UTF-8, decoded).
        self.start_session(&["SET NAMES binary"]);
        let csv = self.job.csv.clone();
        let mut from = self.progress.offset;
        let map = if csv.header {
            let (names, header_len) = self.csv_header()?;
            if from == 0 {
                from = header_len;
            }
            if csv.header_schema_match {
                self.column_map(Some(&names), 0, true)?
            } else {
                self.column_map(None, 0, true)?
            }
        } else {
            self.column_map(None, 0, true)?
        };
        let mut encoder = self.target.encoder(&self.job.table, &map, false);
        let mut input = self.open(from)?;
        if from == 0 {
            self.skip_bom(&mut input)?;
        }
        let mut scanner = CsvScanner::new(csv.options.clone());
        loop {
            let at = input.position();
            let step = scanner.next(input.data(), input.eof());
            let consumed = match step {
                Err(e) => {
                    let msg = e.kind.to_string();
                    return Err(self.data_error(input.offset_at(e.offset), msg));
                }
                Ok(CsvStep::NeedMore) => {
                    if input.eof() {
                        return Err(self.data_error(at, "the file ends inside a record"));
                    }
                    self.fill(&mut input)?;
                    continue;
                }
                Ok(CsvStep::End) => break,
                Ok(CsvStep::Record { record, consumed }) => {
                    self.check_width(record.len(), map.len(), at)?;
                    let row = csv_row(&record);
                    encoder.push(&row).map_err(|e| match e {
                        EncodeError::Invalid(m) => self.data_error(at, m),
                        EncodeError::NeedsInsert => self.data_error(at, "a CSV field the target cannot take"),
                    })?;
                    self.row_offsets.push(at);
                    self.row_ends.push(at + consumed as u64);
                    self.progress.rows += 1;
                    self.hash_row(&map, &row.values, at);
                    consumed
                }
            };
            input.consume(consumed);
            if encoder.bytes() >= self.job.batch_bytes {
                self.flush(encoder.as_mut(), input.position(), false)?;
            }
        }
        let end = input.position();
        self.flush(encoder.as_mut(), end, true)
    }
}

impl Reader<'_> {
    // ---- Parquet ----

    fn parquet_error(&self, e: Failure) -> ReadError {
        match e {
            Failure::Source(e) => ReadError::Source(e),
            Failure::Data { offset, message } => ReadError::Data(DataError {
                position: FilePosition { file: self.file().to_string(), offset, line: None },
                message,
            }),
        }
    }

    /// A chunk of whole row groups, resumed after the rows done. Columns go to the table's by
    /// name; times are UTC (the file's own convention), so the session's time zone is too.
    fn read_parquet(&mut self) -> Result<(), ReadError> {
        self.session = Arc::new(Session { statements: vec!["SET time_zone = '+00:00'".into()] });
        let ch = &self.job.chunk;
        let range = (ch.start, ch.end);
        let mut file = ParquetChunk::open(self.source, self.handle, &ch.path, ch.compression, range, self.job.retries)
            .map_err(|e| self.parquet_error(e))?;
        let map = self.column_map(Some(file.column_names()), file.start(), false)?;
        let table = &self.job.table;
        let binary: Vec<bool> = map.iter().map(|&i| table.columns[i].class == ColumnClass::Binary).collect();
        file.set_binary_targets(&binary);
        file.skip(self.progress.rows).map_err(|e| self.parquet_error(e))?;
        let mut encoder = self.target.encoder(table, &map, false);
        let file_name = self.file().to_string();
        loop {
            let (values, at) = match file.next_row() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => return Err(self.parquet_error(e)),
            };
            let row = Row { values, sql: None };
            let rejected = |e: EncodeError| {
                let why = match e {
                    EncodeError::Invalid(m) => m,
                    EncodeError::NeedsInsert => "a value the target cannot take".into(),
                };
                let position = FilePosition { file: file_name.clone(), offset: at.offset, line: None };
                ReadError::Data(DataError {
                    position,
                    message: format!("row group {}, row {}: {why}", at.group, at.row),
                })
            };
            if let Err(e) = encoder.push(&row) {
                // A value LOAD DATA cannot carry: what came before goes as it was, the rest as INSERT.
                if !matches!(e, EncodeError::NeedsInsert) {
                    return Err(rejected(e));
                }
                self.flush(encoder.as_mut(), at.offset, false)?;
                encoder = self.target.encoder(table, &map, true);
                encoder.push(&row).map_err(rejected)?;
            }
            self.row_offsets.push(at.offset);
            self.progress.rows += 1;
            self.hash_row(&map, &row.values, at.offset);
            if encoder.bytes() >= self.job.batch_bytes {
                self.flush(encoder.as_mut(), at.after, false)?;
            }
        }
        self.flush(encoder.as_mut(), file.end(), true)
    }
}

/// The 1-based line of `offset` in the chunk's file (counted from the file's start) and up to
/// 40 bytes of the text there, for a message. Blocking; used only to report an error.
pub fn locate(
    source: &Source,
    handle: &tokio::runtime::Handle,
    chunk: &ChunkRecord,
    charset: &DataCharset,
    offset: u64,
) -> (Option<u64>, String) {
    // A Parquet file has no lines, and its bytes are no text to show.
    if chunk.format == DataFormat::Parquet {
        return (None, String::new());
    }
    let Ok(mut reader) = source.open_at(handle, &chunk.path, chunk.compression, 0) else {
        return (None, String::new());
    };
    let mut remaining = offset;
    let mut lines = 1u64;
    let mut buf = vec![0u8; 1 << 20];
    while remaining > 0 {
        let want = buf.len().min(remaining as usize);
        match reader.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => {
                lines += hoist_parse::count_lines(&buf[..n]) as u64;
                remaining -= n as u64;
            }
            Err(_) => return (None, String::new()),
        }
    }
    let mut near = Vec::new();
    let _ = reader.take(40).read_to_end(&mut near);
    let near = near.split(|&b| b == b'\n').next().unwrap_or_default();
    (Some(lines), charset.display(near))
}

/// The bytes `start..end` of the chunk's file (at most `limit`), without a final line break: a
/// skipped row's text, for its record. Blocking; empty when the file cannot be read.
pub fn source_text(
    source: &Source,
    handle: &tokio::runtime::Handle,
    chunk: &ChunkRecord,
    start: u64,
    end: u64,
    limit: usize,
) -> Vec<u8> {
    let Ok(reader) = source.open_at(handle, &chunk.path, chunk.compression, start) else {
        return Vec::new();
    };
    let mut text = Vec::new();
    let _ = reader.take(end.saturating_sub(start).min(limit as u64)).read_to_end(&mut text);
    while text.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
        text.pop();
    }
    text
}

/// The text inside `/*!NNNNN ... */`, or the statement itself.
fn strip_version_comment(text: &str) -> &str {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix("/*!") {
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        return rest.strip_suffix("*/").unwrap_or(rest).trim();
    }
    t
}

/// Whether a SET statement turns NO_BACKSLASH_ESCAPES on or off (it sets `sql_mode`); None
/// for any other. This changes how strings read, so whoever splits a file into statements
/// must follow it as the reader does.
pub(crate) fn no_backslash_escapes_set_by(text: &str) -> Option<bool> {
    let lower = strip_version_comment(text).to_ascii_lowercase();
    lower.contains("sql_mode").then(|| lower.contains("no_backslash_escapes"))
}

/// Statements that dump tools write around their INSERTs and that mean nothing to a load.
pub(crate) fn is_ignorable_statement(text: &[u8]) -> bool {
    let text = String::from_utf8_lossy(text);
    let body = strip_version_comment(&text).to_ascii_lowercase();
    let words: Vec<&str> = body.split_whitespace().take(2).collect();
    match words.as_slice() {
        [] => true,
        ["use", ..] | ["lock", "tables"] | ["unlock", "tables"] | ["begin", ..] | ["commit", ..] => true,
        ["start", "transaction"] | ["rollback", ..] => true,
        ["alter", "table"] => body.ends_with("disable keys") || body.ends_with("enable keys"),
        _ => false,
    }
}

/// A SQL tuple as a neutral row: each literal decoded, the tuple kept for pass-through.
fn sql_row<'a>(raw: &'a [u8], fields: &[hoist_parse::sql::Literal], options: SqlOptions) -> Row<'a> {
    use hoist_parse::sql::{decode_literal, LiteralKind, Value as Literal};
    let values = fields
        .iter()
        .map(|f| match decode_literal(f.text(raw), f.kind, options) {
            Literal::Null => Value::Null,
            Literal::Number(n) => Value::Number(n),
            Literal::UInt(n) => Value::UInt(n),
            Literal::Bytes(b) if f.kind == LiteralKind::String => Value::Text(b),
            Literal::Bytes(b) => Value::Binary(b),
        })
        .collect();
    Row { values, sql: Some(raw) }
}

/// A CSV record as a neutral row: fields are character strings (or NULL).
fn csv_row<'a>(record: &hoist_parse::csv::Record<'a>) -> Row<'a> {
    let values = record.iter().map(|f| f.map_or(Value::Null, |v| Value::Text(std::borrow::Cow::Borrowed(v)))).collect();
    Row { values, sql: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_around_inserts() {
        assert!(is_ignorable_statement(b"/*!40000 ALTER TABLE `t` DISABLE KEYS */"));
        assert!(is_ignorable_statement(b"LOCK TABLES `t` WRITE"));
        assert!(is_ignorable_statement(b"UNLOCK TABLES"));
        assert!(is_ignorable_statement(b"USE `db`"));
        assert!(is_ignorable_statement(b"COMMIT"));
        assert!(!is_ignorable_statement(b"DELETE FROM t"));
        assert!(!is_ignorable_statement(b"DROP TABLE t"));
        assert_eq!(strip_version_comment("/*!40101 SET NAMES binary*/"), "SET NAMES binary");
    }

    /// An object store whose first `fail_reads` streams break after `keep` bytes, as a
    /// connection reset would.
    #[derive(Debug)]
    struct Flaky {
        inner: object_store::memory::InMemory,
        keep: usize,
        fail_reads: std::sync::atomic::AtomicUsize,
    }

    impl std::fmt::Display for Flaky {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Flaky")
        }
    }

    #[async_trait::async_trait]
    impl object_store::ObjectStore for Flaky {
        async fn put_opts(
            &self,
            location: &object_store::path::Path,
            payload: object_store::PutPayload,
            opts: object_store::PutOptions,
        ) -> object_store::Result<object_store::PutResult> {
            self.inner.put_opts(location, payload, opts).await
        }
        async fn put_multipart_opts(
            &self,
            location: &object_store::path::Path,
            opts: object_store::PutMultipartOptions,
        ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
            self.inner.put_multipart_opts(location, opts).await
        }
        async fn get_opts(
            &self,
            location: &object_store::path::Path,
            options: object_store::GetOptions,
        ) -> object_store::Result<object_store::GetResult> {
            use futures::StreamExt;
            let result = self.inner.get_opts(location, options).await?;
            if self.fail_reads.load(Ordering::SeqCst) == 0 {
                return Ok(result);
            }
            self.fail_reads.fetch_sub(1, Ordering::SeqCst);
            let (meta, range, attributes) = (result.meta.clone(), result.range.clone(), result.attributes.clone());
            let mut bytes = result.bytes().await?;
            bytes.truncate(self.keep);
            let broken = object_store::Error::Generic { store: "Flaky", source: "connection reset by peer".into() };
            let stream = futures::stream::iter([Ok(bytes), Err(broken)]).boxed();
            Ok(object_store::GetResult {
                payload: object_store::GetResultPayload::Stream(stream),
                meta,
                range,
                attributes,
                extensions: Default::default(),
            })
        }
        fn delete_stream(
            &self,
            locations: futures::stream::BoxStream<'static, object_store::Result<object_store::path::Path>>,
        ) -> futures::stream::BoxStream<'static, object_store::Result<object_store::path::Path>> {
            self.inner.delete_stream(locations)
        }
        fn list(
            &self,
            prefix: Option<&object_store::path::Path>,
        ) -> futures::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>> {
            self.inner.list(prefix)
        }
        async fn list_with_delimiter(
            &self,
            prefix: Option<&object_store::path::Path>,
        ) -> object_store::Result<object_store::ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }
        async fn copy_opts(
            &self,
            from: &object_store::path::Path,
            to: &object_store::path::Path,
            options: object_store::CopyOptions,
        ) -> object_store::Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }

    /// Read a chunk of 1,000 rows from a store whose first `fail_reads` reads break after
    /// `keep` bytes, with `retries`: the rows read, or the error.
    fn read_flaky(fail_reads: usize, keep: usize, retries: u32) -> Result<u64, ReadError> {
        use object_store::ObjectStoreExt;
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let rows: Vec<String> = (0..1000).map(|i| format!("({i})")).collect();
        let data = format!("INSERT INTO `t` VALUES {};\n", rows.join(","));
        let len = data.len() as u64;
        let flaky = Flaky { inner: Default::default(), keep, fail_reads: fail_reads.into() };
        rt.block_on(flaky.inner.put(&"d.t.000.sql".into(), data.into())).unwrap();
        let source = Source::from_store(Arc::new(flaky), "memory://dump");
        let dir = tempfile::tempdir().unwrap();
        let options = crate::target::TargetOptions {
            meta_schema: "hoist_meta".into(),
            sql_mode: String::new(),
            disable_binlog: false,
            write_mode: crate::target::WriteMode::Insert,
            tls: Default::default(),
        };
        let target = crate::target::sqlite::SqliteTarget::open(&dir.path().join("t.db"), &options).unwrap();
        let column = crate::target::TargetColumn {
            name: "a".into(),
            class: crate::target::ColumnClass::Numeric,
            generated: false,
        };
        let job = ChunkJob {
            chunk: ChunkRecord {
                id: 1,
                table_id: 1,
                path: "d.t.000.sql".into(),
                format: DataFormat::Sql,
                compression: crate::source::Compression::None,
                start: 0,
                end: TO_END,
                progress: ChunkProgress::default(),
            },
            table: Arc::new(TableTarget {
                database: "d".into(),
                name: "t".into(),
                columns: vec![column],
                conflict: Default::default(),
                transactional: true,
            }),
            resume: ChunkProgress::default(),
            csv: Arc::new(CsvSettings { options: Default::default(), header: false, header_schema_match: false }),
            charset: Default::default(),
            batch_bytes: 1000,
            retries,
            hasher: None,
            count_replaced: false,
        };
        let (tx, mut rx) = mpsc::channel(2);
        let handle = rt.handle().clone();
        let reader =
            std::thread::spawn(move || read_chunk(&source, &handle, &job, &target, &tx, &AtomicBool::new(false)));
        let (mut rows, mut last) = (0, ChunkProgress::default());
        while let Some(batch) = rx.blocking_recv() {
            rows += batch.batch.row_count;
            last = batch.progress;
        }
        reader.join().unwrap()?;
        assert!(last.done && last.offset >= len - 1, "the chunk ends at its end: {last:?}");
        Ok(rows)
    }

    #[test]
    fn a_read_broken_on_the_network_goes_on_where_it_stopped() {
        assert_eq!(read_flaky(2, 300, 3).unwrap(), 1000, "every row once");
        // A read that makes progress between failures is not running out of retries.
        assert_eq!(read_flaky(10, 300, 1).unwrap(), 1000, "every row once");
    }

    #[test]
    fn a_read_broken_through_every_retry_stops_the_run_without_blaming_the_table() {
        match read_flaky(5, 0, 2) {
            Err(ReadError::Source(e)) => {
                assert!(e.is_transient(), "{e}");
                assert!(e.to_string().contains("d.t.000.sql") && e.to_string().contains("connection reset"), "{e}");
            }
            other => panic!("expected a transient source error, got {:?}", other.map_err(|e| e.to_string())),
        }
    }
}
