//! Turns the catalog into the persisted plan: tables and chunks with byte ranges.
//!
//! A large uncompressed file is split so that one big table uses every worker: SQL at statement
//! boundaries found by a fast pre-scan, CSV (only with `strict-format`, which promises that no
//! record contains a line break) at the first line end after each region boundary, Parquet at
//! row-group starts (from its footer: a chunk is a run of whole row groups). Compressed
//! files cannot be entered in the middle and stay one chunk each. A part of a file (a table's
//! INSERTs in a single mysqldump file) is one chunk: its scan already cut it at region size.

use std::io::Read;

use hoist_parse::split::StatementSplitter;
use hoist_parse::sql::SqlOptions;

use crate::catalog::{Catalog, DataFile, DataFormat};
use crate::charset::{DataCharset, SchemaCharset};
use crate::checkpoint::{
    Checkpoint, ChunkProgress, ChunkRecord, FileRecord, TableRecord, TableState, TaskRecord, TO_END,
};
use crate::error::SourceError;
use crate::source::{Compression, Source, SourceFile};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSettings {
    pub max_region_size: u64,
    pub strict_format: bool,
    /// SQL files are split where their decoded text ends a statement.
    pub data_charset: DataCharset,
    /// What schema files are decoded with (merged shards' columns are compared).
    pub schema_charset: SchemaCharset,
}

/// Build the plan. Blocking: it may read large files to split them (call from a blocking thread).
pub fn make_plan(
    source: &Source,
    handle: &tokio::runtime::Handle,
    catalog: &Catalog,
    files: &[SourceFile],
    settings: &PlanSettings,
    task: TaskRecord,
) -> Result<Checkpoint, SourceError> {
    let mut tables = Vec::new();
    let mut chunks = Vec::new();
    for (i, t) in catalog.tables.iter().enumerate() {
        let table_id = i as i64 + 1;
        // Shards merged by `[[routes]]` become one table only if their rows have one shape.
        if t.sources.len() > 1 {
            crate::route::check_sources_agree(t, |path| {
                let bytes = handle.block_on(source.read_all(path))?;
                crate::ddl_file::create_table(path, &bytes, settings.schema_charset).map_err(SourceError::Layout)
            })?;
        }
        tables.push(TableRecord {
            id: table_id,
            database: t.database.clone(),
            name: t.name.clone(),
            schema_file: t.schema_file.as_ref().map(|f| f.path.clone()),
            state: TableState::Pending,
            error: None,
            target_identity: None,
        });
        for df in &t.data_files {
            for (start, end) in split_file(source, handle, df, settings)? {
                chunks.push(ChunkRecord {
                    id: chunks.len() as i64 + 1,
                    table_id,
                    path: df.file.path.clone(),
                    format: df.format,
                    compression: df.compression,
                    start,
                    end,
                    progress: ChunkProgress { offset: start, ..Default::default() },
                });
            }
        }
    }
    let files =
        files.iter().map(|f| FileRecord { path: f.path.clone(), size: f.size, modified_ms: f.modified_ms }).collect();
    Ok(Checkpoint { task, tables, chunks, files, scan: None })
}

fn split_file(
    source: &Source,
    handle: &tokio::runtime::Handle,
    df: &DataFile,
    settings: &PlanSettings,
) -> Result<Vec<(u64, u64)>, SourceError> {
    let size = df.file.size;
    if let Some(range) = df.range {
        return Ok(vec![range]);
    }
    if df.compression != Compression::None {
        return Ok(vec![(0, TO_END)]);
    }
    if size <= settings.max_region_size {
        return Ok(vec![(0, size)]);
    }
    let bounds = match df.format {
        DataFormat::Sql => sql_boundaries(source, handle, &df.file, settings)?,
        DataFormat::Csv if settings.strict_format => {
            csv_boundaries(source, handle, &df.file, settings.max_region_size)?
        }
        DataFormat::Csv => Vec::new(),
        DataFormat::Parquet => {
            crate::parquet_file::group_boundaries(source, handle, &df.file, settings.max_region_size)?
        }
    };
    let mut ranges = Vec::new();
    let mut start = 0;
    for b in bounds.into_iter().filter(|&b| b > 0 && b < size) {
        ranges.push((start, b));
        start = b;
    }
    ranges.push((start, size));
    Ok(ranges)
}

/// Statement ends where a chunk of about `region` bytes may stop, found in the text as the
/// data character set decodes it (a GBK character may hold a `\` byte) and mapped back to
/// source offsets.
fn sql_boundaries(
    source: &Source,
    handle: &tokio::runtime::Handle,
    file: &SourceFile,
    settings: &PlanSettings,
) -> Result<Vec<u64>, SourceError> {
    let region = settings.max_region_size;
    let mut reader = source.open_at(handle, &file.path, Compression::None, 0)?;
    let mut splitter = StatementSplitter::new(SqlOptions::default(), b";");
    let mut transcoder = settings.data_charset.lossy_transcoder(0);
    let mut ends = Vec::new();
    let mut bounds = Vec::new();
    let mut last = 0u64;
    let mut base = 0u64;
    let mut buf = vec![0u8; 4 << 20];
    let mut decoded = Vec::new();
    loop {
        let n = reader.read(&mut buf).map_err(|e| SourceError::Layout(format!("{}: {e}", file.path)))?;
        let text = match &mut transcoder {
            None => &buf[..n],
            Some(t) => {
                decoded.clear();
                t.feed(&buf[..n], n == 0, &mut decoded).expect("a lossy transcoder takes any bytes");
                &decoded[..]
            }
        };
        if n == 0 && text.is_empty() {
            break;
        }
        ends.clear();
        splitter.feed(text, base, &mut ends);
        for &end in &ends {
            let end = transcoder.as_ref().map_or(end, |t| t.source_offset(end));
            if end - last >= region {
                bounds.push(end);
                last = end;
            }
        }
        base += text.len() as u64;
        if let Some(t) = &mut transcoder {
            t.forget_before(base);
        }
        if n == 0 {
            break;
        }
    }
    Ok(bounds)
}

/// The byte after the first LF at or after each multiple of `region`.
fn csv_boundaries(
    source: &Source,
    handle: &tokio::runtime::Handle,
    file: &SourceFile,
    region: u64,
) -> Result<Vec<u64>, SourceError> {
    let mut bounds = Vec::new();
    let mut at = region;
    while at < file.size {
        let reader = source.open_at(handle, &file.path, Compression::None, at)?;
        let mut window = Vec::new();
        reader
            .take(1 << 20)
            .read_to_end(&mut window)
            .map_err(|e| SourceError::Layout(format!("{}: {e}", file.path)))?;
        let Some(lf) = memchr_lf(&window) else { break };
        let bound = at + lf as u64 + 1;
        bounds.push(bound);
        at = bound.max(at) + region;
    }
    Ok(bounds)
}

fn memchr_lf(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}
