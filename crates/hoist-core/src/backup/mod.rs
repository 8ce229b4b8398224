//! `hoist backup`: a consistent snapshot of a MySQL-family server, written as a dump that
//! `hoist import` and `hoist restore full` load, with `backupmeta.json` written last.
//!
//! source (N connections in one snapshot, [`snapshot`]) -> tables and key ranges ([`tables`])
//! -> N workers, one chunk at a time: rows in key order, each hashed as it is read
//! ([`row_hash`], or by the server in the same scan: [`crate::row_checksum`]), written as
//! INSERT statements ([`values`])
//! into a file that appears only when complete ([`crate::storage`]) -> schema files
//! ([`objects`]) -> the manifest.
//!
//! A snapshot cannot be reopened once its transactions are gone, so a backup that was killed
//! is not continued: the next run removes the files the killed one left (it finds the
//! in-progress mark), takes a new snapshot and says so. A directory with a manifest is never
//! written again.

mod objects;
mod row_hash;
pub(crate) mod snapshot;
mod tables;
mod values;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, Value};

pub use snapshot::Flavor;
use tables::TableInfo;

use crate::error::TargetError;
use crate::filter::TableFilter;
use crate::manifest::{self, BackupMeta, BinlogPosition, ChunkMeta, DatabaseMeta, KeyRange, ObjectMeta, TableMeta};
use crate::redact::redact_url;
use crate::row_checksum;
use crate::source::Compression;
use crate::status::{JobState, Status, TableStatus};
use crate::storage::{AtomicFile, Storage, PARTIAL_SUFFIX};
use crate::target::mysql::{check_source_url, classify, connect_source, server_identity};

/// Left in the directory while a backup runs; its presence means "interrupted".
pub const IN_PROGRESS_FILE: &str = "hoist-backup-in-progress.json";

#[derive(Debug, Clone)]
pub struct BackupSettings {
    /// `mysql://user:pass@host:port`
    pub source: String,
    pub storage: PathBuf,
    pub filter: Vec<String>,
    /// Worker connections, each in the same snapshot.
    pub threads: usize,
    /// About how many bytes of table data one chunk (one file) holds.
    pub chunk_size: u64,
    /// Bytes of one INSERT statement in the files.
    pub statement_size: usize,
    pub compression: Compression,
    /// Hash each row as it is read, for the restore to verify content and not only counts.
    pub checksum: bool,
    /// For every connection to the source.
    pub tls: crate::tls::Tls,
    /// The job's progress model, which the caller may serve (`--status-addr`).
    pub status: Status,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error("source: {0}")]
    Source(TargetError),
    #[error("storage {location}: {message}")]
    Storage { location: String, message: String },
    #[error("{0}")]
    Refused(String),
    #[error("interrupted; the files written so far are not a backup: run the same command again for a new one")]
    Interrupted,
}

impl From<mysql_async::Error> for BackupError {
    fn from(e: mysql_async::Error) -> Self {
        BackupError::Source(classify(e))
    }
}

#[derive(Debug, Clone)]
pub struct BackupReport {
    pub storage: String,
    pub position: Option<BinlogPosition>,
    pub backup_ts: String,
    pub writers_blocked: Duration,
    /// (`db`.`tbl`, rows, bytes written)
    pub tables: Vec<(String, u64, u64)>,
    pub notes: Vec<String>,
    pub elapsed: Duration,
}

/// A chunk to read: which table (index into the list) and which key range.
struct ChunkJob {
    table: usize,
    index: usize,
    range: Option<KeyRange>,
}

struct Shared {
    settings: BackupSettings,
    dir: Storage,
    tables: Vec<TableInfo>,
    queue: Mutex<VecDeque<ChunkJob>>,
    done: Mutex<BTreeMap<(usize, usize), ChunkMeta>>,
    stop: Arc<AtomicBool>,
    /// Each table's entry in the job's model, by index into `tables`.
    progress: Vec<Arc<TableStatus>>,
}

impl Shared {
    /// Rows read and bytes written for table `table`.
    fn count(&self, table: usize, bytes: u64, rows: u64) {
        self.progress[table].meter.add(bytes, rows);
        self.settings.status.total().add(bytes, rows);
    }
}

pub async fn run(settings: BackupSettings, stop: Arc<AtomicBool>) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    let status = &settings.status;
    let dir = Storage::create(&settings.storage).map_err(|e| storage_error(&settings, e))?;
    status.set_job(redact_url(&dir.location()));
    let mut notes = prepare_directory(&dir).map_err(|e| match e {
        Prepared::Refused(m) => BackupError::Refused(m),
        Prepared::Io(e) => storage_error(&settings, e),
    })?;
    let filter = TableFilter::new(&settings.filter).map_err(|e| BackupError::Refused(e.to_string()))?;
    check_source_url(&settings.source).map_err(BackupError::Refused)?;
    let (opts, mut coordinator) =
        crate::tls::connect(&settings.source, &settings.tls).await.map_err(BackupError::Source)?;
    let version: String = coordinator.query_first("SELECT VERSION()").await?.unwrap_or_default();
    let Some(flavor) = Flavor::from_version(&version) else {
        return Err(BackupError::Refused(
            "the source is TiDB: hoist backup reads MySQL and MariaDB servers; use TiDB's br backup".into(),
        ));
    };
    let cluster_id = server_identity(&mut coordinator).await?;
    let listed = tables::list(&mut coordinator, &filter).await?;
    if listed.tables.is_empty() && listed.views.is_empty() {
        return Err(BackupError::Refused(format!(
            "{} holds no tables that the filter {:?} keeps",
            redact_url(&settings.source),
            settings.filter
        )));
    }
    let non_transactional: Vec<String> =
        listed.tables.iter().filter(|t| !t.transactional()).map(|t| format!("{} ({})", t.label(), t.engine)).collect();
    if !non_transactional.is_empty() {
        let msg = format!(
            "non-transactional tables have no snapshot; writers stay blocked while they are read: {}",
            non_transactional.join(", ")
        );
        tracing::warn!("{msg}");
        notes.push(msg);
    }

    status.set_state(JobState::Planning);
    dir.put(IN_PROGRESS_FILE, serde_json::json!({ "source": cluster_id }).to_string().as_bytes())
        .map_err(|e| storage_error(&settings, e))?;
    let threads = settings.threads.max(1);
    let mut workers = Vec::with_capacity(threads);
    for _ in 0..threads {
        let mut conn = connect(&opts).await?;
        conn.query_drop(format!(
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ; SET NAMES binary; {}; \
             SET SESSION net_write_timeout = 3600, wait_timeout = 86400",
            row_checksum::SESSION_SETUP
        ))
        .await?;
        workers.push(conn);
    }
    let mut snap = snapshot::open(flavor, &mut coordinator, &mut workers, !non_transactional.is_empty()).await?;
    tracing::info!(
        "snapshot at {} ({}), {} worker connections",
        snap.position.as_ref().map_or("no binlog".to_string(), |p| format!("{}:{} gtid {}", p.file, p.pos, p.gtid)),
        snap.backup_ts,
        threads
    );

    // Schema and key ranges, read in the snapshot of the first worker.
    let mut meta_tables = Vec::new();
    let mut jobs = VecDeque::new();
    let mut later = VecDeque::new();
    let mut objects = Vec::new();
    let mut databases = BTreeSet::new();
    let mut progress = Vec::new();
    {
        let conn = &mut workers[0];
        for (i, t) in listed.tables.iter().enumerate() {
            databases.insert(t.database.clone());
            let (file, ddl) = objects::table(conn, &t.database, &t.name).await?;
            put(&dir, &settings, &file)?;
            if let Some(trg) = objects::triggers(conn, &t.database, &t.name).await? {
                put(&dir, &settings, &trg)?;
                objects.push(ObjectMeta {
                    kind: "triggers".into(),
                    database: t.database.clone(),
                    name: t.name.clone(),
                    file: trg.name,
                });
            }
            let ranges = tables::ranges(conn, t, settings.chunk_size).await?;
            let table = status.table(&hoist_schema::qualified_mysql_name(&t.database, &t.name), None);
            table.set_units(ranges.len() as u64, 0);
            progress.push(table);
            // Non-transactional tables first: the block is released once they are read.
            let queue = if t.transactional() { &mut later } else { &mut jobs };
            for (index, range) in ranges.into_iter().enumerate() {
                queue.push_back(ChunkJob { table: i, index, range });
            }
            meta_tables.push(TableMeta {
                database: t.database.clone(),
                name: t.name.clone(),
                schema_file: file.name,
                ddl,
                upstream_id: t.create_time.clone(),
                engine: t.engine.clone(),
                rows: 0,
                checksum: settings.checksum.then_some(0),
                chunks: Vec::new(),
            });
        }
        for (db, name) in &listed.views {
            databases.insert(db.clone());
            let file = objects::view(conn, db, name).await?;
            put(&dir, &settings, &file)?;
            objects.push(ObjectMeta { kind: "view".into(), database: db.clone(), name: name.clone(), file: file.name });
        }
        for db in &databases {
            if let Some(file) = objects::routines(conn, db).await? {
                put(&dir, &settings, &file)?;
                objects.push(ObjectMeta {
                    kind: "routines".into(),
                    database: db.clone(),
                    name: db.clone(),
                    file: file.name,
                });
            }
        }
    }
    let mut database_meta = Vec::new();
    for db in &databases {
        let file = objects::database(&mut coordinator, db).await?;
        put(&dir, &settings, &file)?;
        database_meta.push(DatabaseMeta { name: db.clone(), schema_file: file.name });
    }

    let shared = Arc::new(Shared {
        settings: settings.clone(),
        dir: dir.clone(),
        tables: listed.tables.clone(),
        queue: Mutex::new(jobs),
        done: Mutex::new(BTreeMap::new()),
        stop: stop.clone(),
        progress,
    });
    status.set_state(JobState::Writing);
    if !shared.queue.lock().unwrap_or_else(|p| p.into_inner()).is_empty() {
        workers = run_workers(&shared, workers).await?;
    }
    snapshot::finish(&mut coordinator, &mut snap).await?;
    tracing::info!("writers were blocked for {:.1} ms", snap.blocked.as_secs_f64() * 1000.0);
    *shared.queue.lock().unwrap_or_else(|p| p.into_inner()) = later;
    let workers = run_workers(&shared, workers).await?;
    drop(workers);

    let done = std::mem::take(&mut *shared.done.lock().unwrap_or_else(|p| p.into_inner()));
    for ((table, _), chunk) in done {
        let t = &mut meta_tables[table];
        t.rows += chunk.rows;
        t.checksum = t.checksum.zip(chunk.checksum).map(|(a, b)| a.wrapping_add(b));
        t.chunks.push(chunk);
    }
    let meta = BackupMeta {
        format_version: manifest::FORMAT_VERSION,
        tool: format!("hoist {}", env!("CARGO_PKG_VERSION")),
        cluster_id,
        flavor: flavor.as_str().into(),
        server_version: version,
        position: snap.position.clone(),
        backup_ts: snap.backup_ts.clone(),
        writers_blocked_ms: snap.blocked.as_secs_f64() * 1000.0,
        databases: database_meta,
        tables: meta_tables,
        objects,
    };
    dir.put(manifest::MANIFEST_FILE, &meta.to_json()).map_err(|e| storage_error(&settings, e))?;
    dir.remove(IN_PROGRESS_FILE).map_err(|e| storage_error(&settings, e))?;
    Ok(BackupReport {
        storage: dir.location(),
        position: meta.position,
        backup_ts: meta.backup_ts,
        writers_blocked: snap.blocked,
        tables: meta
            .tables
            .iter()
            .map(|t| {
                (
                    hoist_schema::qualified_mysql_name(&t.database, &t.name),
                    t.rows,
                    t.chunks.iter().map(|c| c.bytes).sum::<u64>(),
                )
            })
            .collect(),
        notes,
        elapsed: started.elapsed(),
    })
}

/// Each worker takes chunks until none is left; the connections come back for the next phase.
async fn run_workers(shared: &Arc<Shared>, workers: Vec<Conn>) -> Result<Vec<Conn>, BackupError> {
    let handles: Vec<_> = workers
        .into_iter()
        .map(|conn| {
            let shared = shared.clone();
            tokio::spawn(async move { worker(shared, conn).await })
        })
        .collect();
    let mut conns = Vec::new();
    let mut first_error = None;
    for h in handles {
        match h.await {
            Ok(Ok(conn)) => conns.push(conn),
            Ok(Err(e)) => {
                // One failure stops the others: their snapshot is worth nothing without it.
                shared.stop.store(true, Ordering::SeqCst);
                first_error.get_or_insert(e);
            }
            Err(e) => {
                shared.stop.store(true, Ordering::SeqCst);
                first_error.get_or_insert(BackupError::Refused(format!("a backup worker failed: {e}")));
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None if shared.stop.load(Ordering::SeqCst) => Err(BackupError::Interrupted),
        None => Ok(conns),
    }
}

async fn worker(shared: Arc<Shared>, mut conn: Conn) -> Result<Conn, BackupError> {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(conn);
        }
        let Some(job) = shared.queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front() else {
            return Ok(conn);
        };
        let table = &shared.progress[job.table];
        let unit = table.unit();
        table.begin();
        let chunk = read_chunk(&shared, &mut conn, &job).await?;
        shared.done.lock().unwrap_or_else(|p| p.into_inner()).insert((job.table, job.index), chunk);
        if unit.done() {
            table.set_state(crate::status::DONE);
        }
        // Tests hold a backup here to watch it mid-run.
        crate::failpoint::pause("backup.chunk-written").await;
    }
}

/// Read one chunk in the snapshot and write it as a data file of INSERT statements.
async fn read_chunk(shared: &Shared, conn: &mut Conn, job: &ChunkJob) -> Result<ChunkMeta, BackupError> {
    let table = &shared.tables[job.table];
    let settings = &shared.settings;
    let name = format!(
        "{}.{}.{:09}.sql{}",
        table.database,
        table.name,
        job.index + 1,
        match settings.compression {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
            Compression::Snappy => ".snappy",
        }
    );
    let file = shared.dir.create_file(&name).map_err(|e| storage_error(settings, e))?;
    let mut out = DataFile::new(file, settings.compression).map_err(|e| storage_error(settings, e))?;
    let kinds: Vec<values::ValueKind> = table
        .description
        .columns
        .iter()
        .filter(|c| !c.generated)
        .map(|c| values::kind_of(&c.data_type, &c.column_type))
        .collect();
    let mut printed = values::PrintedRow::default();
    let columns: Vec<String> = table.columns.iter().map(|(c, _)| hoist_schema::quote_mysql_ident(c)).collect();
    let insert =
        format!("INSERT INTO {} ({}) VALUES\n", hoist_schema::quote_mysql_ident(&table.name), columns.join(","));
    let mut buf: Vec<u8> = Vec::with_capacity(settings.statement_size + (64 << 10));
    buf.extend_from_slice(objects::FILE_HEADER.as_bytes());
    buf.extend_from_slice(b"/*!40103 SET TIME_ZONE='+00:00' */;\n");
    let mut in_statement = false;
    // None without checksums, or once a row could not be hashed.
    let (mut rows, mut checksum) = (0u64, settings.checksum.then_some(0u64));
    // Rows already counted in the job's model: its rows move with each statement, its bytes
    // when the file is whole (what a compressed file holds is known only then).
    let mut counted = 0;
    // Rows are hashed here where the hasher knows every column, else by the server.
    let mut hasher = match settings.checksum {
        true => {
            row_hash::RowHasher::new(&table.description).map_err(|why| tracing::debug!("{}: {why}", table.label())).ok()
        }
        false => None,
    };
    let server_hashes = settings.checksum && hasher.is_none();
    let query = tables::chunk_query(table, job.range.as_ref(), server_hashes);
    let mut result = conn.exec_iter(query, ()).await?;
    while let Some(row) = result.next().await? {
        let mut row = row.unwrap();
        if server_hashes {
            let hash = match row.pop() {
                Some(Value::UInt(h)) => h,
                Some(Value::Int(h)) => h as u64,
                other => {
                    let what = format!("{}: the row checksum came back as {other:?}", table.label());
                    return Err(BackupError::Refused(what));
                }
            };
            checksum = checksum.map(|sum| sum.wrapping_add(hash));
        }
        printed.fill(&row, &kinds);
        if let Some(h) = hasher.as_mut() {
            match h.hash(&row, &kinds, &printed) {
                Ok(hash) => checksum = checksum.map(|sum| sum.wrapping_add(u64::from(hash))),
                Err(why) => {
                    // Not guessed: the chunk (and so its table) is verified by its count.
                    tracing::warn!("{}: {}: rows of {name} are verified by count only", table.label(), why.0);
                    hasher = None;
                    checksum = None;
                }
            }
        }
        rows += 1;
        buf.extend_from_slice(if in_statement { b",\n(" } else { b"(" });
        if !in_statement {
            let at = buf.len() - 1;
            buf.splice(at..at, insert.bytes());
            in_statement = true;
        }
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            values::push_value(&mut buf, kinds[i], v, printed.get(i));
        }
        buf.push(b')');
        if buf.len() >= settings.statement_size {
            buf.extend_from_slice(b";\n");
            in_statement = false;
            out.write_all(&buf).map_err(|e| storage_error(settings, e))?;
            buf.clear();
            shared.count(job.table, 0, rows - counted);
            counted = rows;
            if shared.stop.load(Ordering::SeqCst) {
                return Err(BackupError::Interrupted);
            }
        }
    }
    drop(result);
    if in_statement {
        buf.extend_from_slice(b";\n");
    }
    out.write_all(&buf).map_err(|e| storage_error(settings, e))?;
    let bytes = out.commit().map_err(|e| storage_error(settings, e))?;
    shared.count(job.table, bytes, rows - counted);
    Ok(ChunkMeta { file: name, key: job.range.clone(), rows, checksum, bytes })
}

/// A data file being written, compressed as asked.
enum DataFile {
    Plain(AtomicFile),
    Gzip(flate2::write::GzEncoder<AtomicFile>),
    Zstd(zstd::Encoder<'static, AtomicFile>),
    // Boxed: its buffers make it several times the others' size.
    Snappy(Box<snap::write::FrameEncoder<AtomicFile>>),
}

impl DataFile {
    fn new(file: AtomicFile, compression: Compression) -> std::io::Result<DataFile> {
        Ok(match compression {
            Compression::None => DataFile::Plain(file),
            Compression::Gzip => DataFile::Gzip(flate2::write::GzEncoder::new(file, flate2::Compression::fast())),
            Compression::Zstd => DataFile::Zstd(zstd::Encoder::new(file, 3)?),
            Compression::Snappy => DataFile::Snappy(Box::new(snap::write::FrameEncoder::new(file))),
        })
    }
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            DataFile::Plain(f) => f.write_all(bytes),
            DataFile::Gzip(f) => f.write_all(bytes),
            DataFile::Zstd(f) => f.write_all(bytes),
            DataFile::Snappy(f) => f.write_all(bytes),
        }
    }
    fn commit(self) -> std::io::Result<u64> {
        match self {
            DataFile::Plain(f) => f.commit(),
            DataFile::Gzip(f) => f.finish()?.commit(),
            DataFile::Zstd(f) => f.finish()?.commit(),
            DataFile::Snappy(f) => f.into_inner().map_err(|e| e.into_error())?.commit(),
        }
    }
}

fn put(dir: &Storage, settings: &BackupSettings, file: &objects::SchemaFile) -> Result<(), BackupError> {
    dir.put(&file.name, &file.text).map_err(|e| storage_error(settings, e))
}

fn storage_error(settings: &BackupSettings, e: std::io::Error) -> BackupError {
    let location = crate::redact::redact_url(&settings.storage.display().to_string());
    BackupError::Storage { location, message: e.to_string() }
}

enum Prepared {
    Refused(String),
    Io(std::io::Error),
}

impl From<std::io::Error> for Prepared {
    fn from(e: std::io::Error) -> Self {
        Prepared::Io(e)
    }
}

/// An empty directory is used as it is. One an interrupted backup left is emptied of that
/// backup's files (a snapshot cannot be reopened). One with a complete backup, or with files
/// hoist did not write, is refused: nothing of the user's is overwritten.
fn prepare_directory(dir: &Storage) -> Result<Vec<String>, Prepared> {
    let names = dir.list()?;
    if names.iter().any(|n| n == manifest::MANIFEST_FILE) {
        return Err(Prepared::Refused(format!(
            "{} already holds a complete backup ({}); give --storage a new directory, or remove that backup first",
            dir.location(),
            manifest::MANIFEST_FILE
        )));
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    if !names.iter().any(|n| n == IN_PROGRESS_FILE) {
        return Err(Prepared::Refused(format!(
            "{} is not empty and holds no backup of hoist's ({} files, e.g. {}); give --storage an empty or new directory",
            dir.location(),
            names.len(),
            names[0]
        )));
    }
    let ours = |n: &str| {
        n == IN_PROGRESS_FILE
            || n.ends_with(PARTIAL_SUFFIX)
            || [".sql", ".sql.gz", ".sql.zst"].iter().any(|s| n.ends_with(s))
    };
    let mut removed = 0;
    for name in names.iter().filter(|n| ours(n)) {
        dir.remove(name)?;
        removed += 1;
    }
    let note = format!(
        "an interrupted backup was found in {}: its {removed} files were removed and a new snapshot is taken \
         (a snapshot cannot be continued once its transactions are gone)",
        dir.location()
    );
    tracing::warn!("{note}");
    Ok(vec![note])
}

async fn connect(opts: &Opts) -> Result<Conn, BackupError> {
    connect_source(opts).await.map_err(BackupError::Source)
}
