//! `hoist import`: one way through the data flow of DESIGN.md.
//!
//! catalog -> plan (persisted once, then only loaded) -> schema step per table -> N workers,
//! each taking one chunk at a time (a blocking reader parses and encodes, the async writer
//! commits every batch with its marker) -> per table, when its last chunk is in: deferred
//! indexes, verification, analyze -> views, triggers and routines -> summary.
//!
//! Resume: the target's markers say where each chunk stands; the checkpoint store holds the
//! plan and the table states. A table in error stops only itself; the others go on.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::catalog::{Catalog, CatalogObject};
use crate::checkpoint::sqlite::SqliteStore;
use crate::checkpoint::{
    CheckpointStore, ChunkProgress, ChunkRecord, TableError, TableRecord, TableState, TaskRecord,
};
use crate::config::{CheckpointSection, ConflictStrategy, CsvSection, KeepAfterSuccess};
use crate::ddl_file;
use crate::error::{CheckpointError, ImportError, SourceError, TargetError};
use crate::filter::TableFilter;
use crate::plan::{make_plan, PlanSettings};
use crate::progress::{Progress, ProgressMode, TableProgress};
use crate::reader::{read_chunk, ChunkJob, CsvSettings, ReadError};
use crate::refusal;
use crate::source::Source;
use crate::target::{self, Marker, TableTarget, Target, TargetOptions, Writer};

/// Everything `hoist import` needs, after config file and flags were merged.
#[derive(Debug, Clone)]
pub struct ImportSettings {
    pub source: String,
    pub target: String,
    pub filter: Vec<String>,
    pub no_schema: bool,
    pub csv: CsvSection,
    pub batch_bytes: usize,
    pub concurrency: usize,
    pub conflict: ConflictStrategy,
    pub sql_mode: String,
    pub checkpoint: CheckpointSection,
    pub max_region_size: u64,
    pub strict_format: bool,
    pub meta_schema: String,
    pub analyze: bool,
    pub disable_binlog: bool,
    pub max_retries: u32,
    pub progress: ProgressMode,
}

impl ImportSettings {
    pub fn target_options(&self) -> TargetOptions {
        TargetOptions {
            meta_schema: self.meta_schema.clone(),
            sql_mode: self.sql_mode.clone(),
            defer_indexes: true,
            connections: self.concurrency,
            disable_binlog: self.disable_binlog,
        }
    }

    /// Where the SQLite checkpoint lives.
    pub fn checkpoint_path(&self) -> PathBuf {
        PathBuf::from(
            self.checkpoint
                .dsn
                .clone()
                .unwrap_or_else(|| "hoist-checkpoint.db".into()),
        )
    }

    fn plan_settings(&self) -> PlanSettings {
        let c = &self.csv;
        PlanSettings {
            max_region_size: self.max_region_size,
            strict_format: self.strict_format,
            shaping: format!(
                "filter={:?} no-schema={} csv(separator={:?} delimiter={:?} terminator={:?} header={} \
                 header-schema-match={} null={:?} backslash-escape={} trim-last-separator={} not-null={})",
                self.filter,
                self.no_schema,
                c.separator,
                c.delimiter,
                c.terminator,
                c.header,
                c.header_schema_match,
                c.null.0,
                c.backslash_escape,
                c.trim_last_separator,
                c.not_null
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TableReport {
    pub database: String,
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    pub index_time: Duration,
    /// None when the table is done; else what went wrong.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub target: String,
    pub checkpoint: Option<String>,
    pub tables: Vec<TableReport>,
    /// Views, triggers and routines that could not be created.
    pub object_errors: Vec<String>,
    pub notes: Vec<String>,
    pub elapsed: Duration,
}

impl ImportReport {
    pub fn success(&self) -> bool {
        self.tables.iter().all(|t| t.error.is_none()) && self.object_errors.is_empty()
    }
}

/// A table being loaded in this run.
struct TableRun {
    record: Mutex<TableRecord>,
    target: Arc<TableTarget>,
    create_sql: Option<String>,
    chunks_left: AtomicUsize,
    failed: AtomicBool,
    /// Rows the target holds from this table's chunks, per the markers.
    rows_loaded: AtomicU64,
    progress: TableProgress,
    started: Instant,
    index_time: Mutex<Duration>,
}

impl TableRun {
    fn label(&self) -> String {
        let r = self.record.lock().unwrap_or_else(|p| p.into_inner());
        format!("`{}`.`{}`", r.database, r.name)
    }
}

struct Shared {
    settings: ImportSettings,
    source: Source,
    target: Arc<dyn Target>,
    store: Arc<dyn CheckpointStore>,
    task_id: i64,
    queue: Mutex<VecDeque<(ChunkRecord, ChunkProgress)>>,
    tables: HashMap<i64, Arc<TableRun>>,
    csv: Arc<CsvSettings>,
    progress: Arc<Progress>,
    progress_tx: mpsc::UnboundedSender<(i64, ChunkProgress)>,
    stop: Arc<AtomicBool>,
    markers: bool,
}

/// Open the checkpoint store the settings name. With checkpoints disabled, a throwaway store
/// in a temporary directory holds the plan for this run only.
pub fn open_store(
    settings: &ImportSettings,
) -> Result<(Arc<dyn CheckpointStore>, Option<tempfile::TempDir>), ImportError> {
    if !settings.checkpoint.enable {
        let dir = tempfile::tempdir().map_err(|e| CheckpointError::Store {
            location: "temp".into(),
            message: e.to_string(),
        })?;
        let store = SqliteStore::open(&dir.path().join("plan.db"))?;
        return Ok((Arc::new(store), Some(dir)));
    }
    match settings.checkpoint.driver {
        crate::config::CheckpointDriver::Sqlite => Ok((
            Arc::new(SqliteStore::open(&settings.checkpoint_path())?),
            None,
        )),
        crate::config::CheckpointDriver::Mysql => {
            Err(ImportError::Config(crate::error::ConfigError::Invalid(
                "[checkpoint] driver = \"mysql\" is not available yet; use driver = \"sqlite\""
                    .into(),
            )))
        }
    }
}

pub async fn run(
    settings: ImportSettings,
    stop: Arc<AtomicBool>,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let source = Source::open(&settings.source)?;
    let files = source.list().await?;
    let filter = TableFilter::new(&settings.filter)?;
    let catalog = Catalog::from_files(&files, &filter)?;
    if catalog.tables.is_empty() && catalog.views.is_empty() {
        return Err(SourceError::Layout(format!(
            "no tables found in {} (expected mydumper/Dumpling files such as db.table-schema.sql and db.table.sql; \
             check the directory and the filter)",
            source.location()
        ))
        .into());
    }
    let target = target::open(&settings.target, &settings.target_options()).await?;
    let target_identity = target.identity().await?;
    let (store, _temp_store) = open_store(&settings)?;
    let plan_settings = settings.plan_settings();

    let checkpoint = match store.load().await? {
        Some(cp) => {
            refusal::check_reuse(
                &cp,
                &source,
                &target_identity,
                &files,
                &plan_settings.describe(),
                &store.location(),
            )?;
            tracing::info!(
                task = cp.task.task_id,
                "resuming from the checkpoint in {}",
                store.location()
            );
            cp
        }
        None => {
            let task = TaskRecord {
                task_id: (rand::random::<u64>() >> 1) as i64,
                source: source.location().to_string(),
                target: target.describe(),
                target_identity: target_identity.clone(),
                plan_settings: plan_settings.describe(),
                created_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0),
            };
            let names: Vec<(String, String)> = catalog
                .tables
                .iter()
                .map(|t| (t.database.clone(), t.name.clone()))
                .collect();
            refuse_non_empty_tables(target.as_ref(), &names).await?;
            let (src, cat, fl, ps) = (
                source.clone(),
                catalog.clone(),
                files.clone(),
                plan_settings.clone(),
            );
            let handle = tokio::runtime::Handle::current();
            let plan =
                tokio::task::spawn_blocking(move || make_plan(&src, &handle, &cat, &fl, &ps, task))
                    .await
                    .map_err(|e| SourceError::Layout(format!("planning failed: {e}")))??;
            store.create(&plan).await?;
            plan
        }
    };
    let task_id = checkpoint.task.task_id;
    // A table not started yet must still be empty: rows there now were not loaded by this task.
    let not_started: Vec<(String, String)> = checkpoint
        .tables
        .iter()
        .filter(|t| t.state == TableState::Pending)
        .map(|t| (t.database.clone(), t.name.clone()))
        .collect();
    refuse_non_empty_tables(target.as_ref(), &not_started).await?;
    if settings.checkpoint.enable {
        target.prepare_markers().await?;
    }
    let markers = if settings.checkpoint.enable {
        target.read_markers(task_id).await?
    } else {
        HashMap::new()
    };

    let total_bytes: u64 = checkpoint
        .chunks
        .iter()
        .map(|c| {
            if c.end == crate::checkpoint::TO_END {
                file_size(&files, &c.path)
            } else {
                c.end - c.start
            }
        })
        .sum();
    let progress = Progress::new(settings.progress, total_bytes);
    let log_done = Arc::new(tokio::sync::Notify::new());
    let log_task = tokio::spawn(progress.clone().log_loop(log_done.clone()));

    let mut report = ImportReport {
        target: target.describe(),
        checkpoint: settings.checkpoint.enable.then(|| store.location()),
        ..Default::default()
    };

    // ---- schema step ----
    let mut created_databases = HashSet::new();
    let mut runs: HashMap<i64, Arc<TableRun>> = HashMap::new();
    let mut queue = VecDeque::new();
    let chunks_by_table = group_chunks(&checkpoint.chunks);
    for record in &checkpoint.tables {
        let chunks = chunks_by_table.get(&record.id).cloned().unwrap_or_default();
        match prepare_table(
            &settings,
            &source,
            &catalog,
            target.as_ref(),
            store.as_ref(),
            task_id,
            record,
            &chunks,
            &markers,
            &mut created_databases,
        )
        .await
        {
            Ok(Some((run_record, table_target, create_sql))) => {
                let table_bytes: u64 = chunks.iter().map(|c| chunk_len(c, &files)).sum();
                let label = format!("{}.{}", record.database, record.name);
                let mut left = 0;
                let mut rows_loaded = 0;
                let mut bytes_done = 0;
                for c in &chunks {
                    let p = markers.get(&c.id).copied().unwrap_or(ChunkProgress {
                        offset: c.start,
                        ..Default::default()
                    });
                    rows_loaded += p.rows;
                    if p.done {
                        bytes_done += chunk_len(c, &files);
                    } else {
                        bytes_done += p.offset - c.start;
                        left += 1;
                        if run_record.state <= TableState::Writing {
                            queue.push_back((c.clone(), p));
                        }
                    }
                }
                let run = Arc::new(TableRun {
                    record: Mutex::new(run_record),
                    target: Arc::new(table_target),
                    create_sql,
                    chunks_left: AtomicUsize::new(left),
                    failed: AtomicBool::new(false),
                    rows_loaded: AtomicU64::new(rows_loaded),
                    progress: progress.table(&label, table_bytes),
                    started: Instant::now(),
                    index_time: Mutex::new(Duration::ZERO),
                });
                run.progress.add(bytes_done, 0);
                progress.add(bytes_done, 0);
                runs.insert(record.id, run);
            }
            Ok(None) => {}
            Err(message) => {
                report.tables.push(TableReport {
                    database: record.database.clone(),
                    name: record.name.clone(),
                    rows: 0,
                    bytes: 0,
                    elapsed: Duration::ZERO,
                    index_time: Duration::ZERO,
                    error: Some(message),
                });
            }
        }
    }

    // ---- data ----
    let (progress_tx, progress_rx) = mpsc::unbounded_channel();
    let progress_writer = tokio::spawn(save_progress_loop(store.clone(), progress_rx));
    let shared = Arc::new(Shared {
        csv: Arc::new(CsvSettings {
            options: settings.csv.options()?,
            header: settings.csv.header,
            header_schema_match: settings.csv.header_schema_match,
        }),
        settings: settings.clone(),
        source: source.clone(),
        target: target.clone(),
        store: store.clone(),
        task_id,
        queue: Mutex::new(queue),
        tables: runs.clone(),
        progress: progress.clone(),
        progress_tx,
        stop: stop.clone(),
        markers: settings.checkpoint.enable,
    });
    // Tables with nothing left to load still need their post steps (a rerun after a crash there).
    let finished: Vec<Arc<TableRun>> = runs
        .values()
        .filter(|r| r.chunks_left.load(Ordering::SeqCst) == 0)
        .cloned()
        .collect();
    let mut workers = Vec::new();
    for run in finished {
        let shared = shared.clone();
        workers.push(tokio::spawn(
            async move { finish_table(&shared, &run).await },
        ));
    }
    for _ in 0..settings.concurrency.max(1) {
        let shared = shared.clone();
        workers.push(tokio::spawn(async move { worker(shared).await }));
    }
    for w in workers {
        let _ = w.await;
    }
    drop(shared);
    let _ = progress_writer.await;
    log_done.notify_one();
    let _ = log_task.await;
    progress.finish();
    if stop.load(Ordering::SeqCst) {
        return Err(ImportError::Interrupted);
    }

    // ---- report and post-data objects ----
    let mut ids: Vec<_> = runs.keys().copied().collect();
    ids.sort();
    for id in ids {
        let run = &runs[&id];
        let record = run.record.lock().unwrap_or_else(|p| p.into_inner()).clone();
        report.tables.push(TableReport {
            database: record.database.clone(),
            name: record.name.clone(),
            rows: run.rows_loaded.load(Ordering::SeqCst),
            bytes: run.progress.bytes.load(Ordering::SeqCst),
            elapsed: run.started.elapsed(),
            index_time: *run.index_time.lock().unwrap_or_else(|p| p.into_inner()),
            error: record
                .error
                .as_ref()
                .map(|e| format!("{} (failed in state {})", e.message, e.step)),
        });
    }
    report
        .tables
        .sort_by(|a, b| (&a.database, &a.name).cmp(&(&b.database, &b.name)));
    if report.tables.iter().all(|t| t.error.is_none()) {
        create_post_data_objects(&source, &catalog, target.as_ref(), &mut report).await;
    } else {
        report
            .notes
            .push("views, triggers and routines are created once every table has loaded".into());
    }
    if report.success() {
        if settings.checkpoint.enable {
            target.clear_markers(task_id, None).await?;
        }
        finish_checkpoint(&settings, store.as_ref(), task_id, &mut report).await?;
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// hoist loads into empty tables: rows already there would be mixed with the dump's (and
/// duplicated if they came from an earlier load of it). Refuse before writing anything.
async fn refuse_non_empty_tables(
    target: &dyn Target,
    tables: &[(String, String)],
) -> Result<(), ImportError> {
    let mut full = Vec::new();
    for (db, name) in tables {
        if target.columns(db, name).await?.is_some() {
            let rows = target.row_count(db, name).await?;
            if rows > 0 {
                full.push(format!("`{db}`.`{name}` ({rows} rows)"));
            }
        }
    }
    if full.is_empty() {
        return Ok(());
    }
    Err(CheckpointError::Refused(format!(
        "these target tables already hold rows, and hoist loads only into empty tables: {}. \
         Empty or drop them, or leave them out with --tables '!db.table'. \
         (A finished import is not run twice: its checkpoint was removed when it succeeded.)",
        full.join(", ")
    ))
    .into())
}

fn file_size(files: &[crate::source::SourceFile], path: &str) -> u64 {
    files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.size)
        .unwrap_or(0)
}

fn chunk_len(c: &ChunkRecord, files: &[crate::source::SourceFile]) -> u64 {
    if c.end == crate::checkpoint::TO_END {
        file_size(files, &c.path)
    } else {
        c.end - c.start
    }
}

fn group_chunks(chunks: &[ChunkRecord]) -> HashMap<i64, Vec<ChunkRecord>> {
    let mut map: HashMap<i64, Vec<ChunkRecord>> = HashMap::new();
    for c in chunks {
        map.entry(c.table_id).or_default().push(c.clone());
    }
    map
}

/// Create the table when needed and learn its columns. Ok(None): nothing to do for it.
#[allow(clippy::too_many_arguments)]
async fn prepare_table(
    settings: &ImportSettings,
    source: &Source,
    catalog: &Catalog,
    target: &dyn Target,
    store: &dyn CheckpointStore,
    task_id: i64,
    record: &TableRecord,
    chunks: &[ChunkRecord],
    markers: &HashMap<i64, ChunkProgress>,
    created_databases: &mut HashSet<String>,
) -> Result<Option<(TableRecord, TableTarget, Option<String>)>, String> {
    let mut record = record.clone();
    if record.state == TableState::Done {
        return Ok(None);
    }
    let label = format!("`{}`.`{}`", record.database, record.name);
    let fail = |record: &TableRecord, message: String| {
        record_failure(store, record.id, record.state, message)
    };
    let create_sql = match &record.schema_file {
        Some(path) => match read_create_table(source, path).await {
            Ok(sql) => Some(sql),
            Err(m) => return Err(fail(&record, m).await),
        },
        None => None,
    };
    // A table dropped and created again since its rows were recorded is loaded again from its start.
    if record.state > TableState::Pending {
        let now = target
            .table_identity(&record.database, &record.name)
            .await
            .map_err(|e| e.message)?;
        if now.is_none() || now != record.target_identity {
            tracing::warn!(
                "{label} changed in the target since the checkpoint was recorded (dropped or created again); \
                 importing it again from its start"
            );
            let ids: Vec<i64> = chunks.iter().map(|c| c.id).collect();
            target
                .clear_markers(task_id, Some(&ids))
                .await
                .map_err(|e| e.message)?;
            store
                .reset_table(record.id)
                .await
                .map_err(|e| e.to_string())?;
            record.state = TableState::Pending;
            record.target_identity = None;
        }
    }
    if record.state == TableState::Pending {
        if created_databases.insert(record.database.clone()) && !settings.no_schema {
            let db_sql = match catalog.databases.get(&record.database).cloned().flatten() {
                Some(f) => source
                    .read_all(&f.path)
                    .await
                    .ok()
                    .and_then(|b| ddl_file::statements(&f.path, &b).ok())
                    .and_then(|s| {
                        ddl_file::find(&s, |h| {
                            h.starts_with("create database") || h.starts_with("create schema")
                        })
                        .cloned()
                    }),
                None => None,
            };
            if let Err(e) = target
                .create_database(&record.database, db_sql.as_deref())
                .await
            {
                return Err(fail(&record, format!("cannot create database: {e}")).await);
            }
        }
        let exists = target
            .columns(&record.database, &record.name)
            .await
            .map_err(|e| e.message)?
            .is_some();
        if !exists {
            match (&create_sql, settings.no_schema) {
                (Some(sql), false) => {
                    if let Err(e) = target
                        .create_table(&record.database, &record.name, sql)
                        .await
                    {
                        return Err(fail(&record, format!("cannot create table: {e}")).await);
                    }
                }
                _ => {
                    let file = chunks.first().map(|c| c.path.clone()).unwrap_or_default();
                    let why = if settings.no_schema {
                        "--no-schema is set"
                    } else {
                        "the dump has no schema file for it"
                    };
                    return Err(fail(
                        &record,
                        format!("data file {file}: table {label} does not exist in the target and {why}"),
                    )
                    .await);
                }
            }
        }
        record.target_identity = target
            .table_identity(&record.database, &record.name)
            .await
            .map_err(|e| e.message)?;
        store
            .set_table_identity(record.id, record.target_identity.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        record.state = TableState::SchemaCreated;
        store
            .set_table_state(record.id, record.state, None)
            .await
            .map_err(|e| e.to_string())?;
    }
    let Some(columns) = target
        .columns(&record.database, &record.name)
        .await
        .map_err(|e| e.message)?
    else {
        return Err(fail(&record, format!("table {label} is missing from the target")).await);
    };
    let _ = markers;
    let table_target = TableTarget {
        database: record.database.clone(),
        name: record.name.clone(),
        columns,
        conflict: settings.conflict,
    };
    Ok(Some((record, table_target, create_sql)))
}

/// Record a table's error in the store and give the message back.
async fn record_failure(
    store: &dyn CheckpointStore,
    id: i64,
    state: TableState,
    message: String,
) -> String {
    let error = TableError {
        step: state.as_str().into(),
        message: message.clone(),
    };
    if let Err(e) = store.set_table_state(id, state, Some(&error)).await {
        tracing::warn!("saving the table's error to the checkpoint failed: {e}");
    }
    message
}

async fn read_create_table(source: &Source, path: &str) -> Result<String, String> {
    let bytes = source.read_all(path).await.map_err(|e| e.to_string())?;
    let statements = ddl_file::statements(path, &bytes)?;
    ddl_file::find(&statements, ddl_file::is_create_table)
        .cloned()
        .ok_or_else(|| format!("{path}: no CREATE TABLE statement in the schema file"))
}

/// Coalesces progress updates and saves them about once a second (DESIGN.md invariant 6).
async fn save_progress_loop(
    store: Arc<dyn CheckpointStore>,
    mut rx: mpsc::UnboundedReceiver<(i64, ChunkProgress)>,
) {
    let mut pending: HashMap<i64, ChunkProgress> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some((id, p)) => { pending.insert(id, p); }
                None => break,
            },
            _ = tick.tick() => {
                if !pending.is_empty() {
                    let updates: Vec<_> = pending.drain().collect();
                    if let Err(e) = store.save_progress(&updates).await {
                        tracing::warn!("saving progress to the checkpoint failed (the target's markers still hold it): {e}");
                    }
                }
            }
        }
    }
    let updates: Vec<_> = pending.drain().collect();
    if let Err(e) = store.save_progress(&updates).await {
        tracing::warn!(
            "saving progress to the checkpoint failed (the target's markers still hold it): {e}"
        );
    }
}

async fn worker(shared: Arc<Shared>) {
    let mut writer: Option<Box<dyn Writer>> = None;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let next = shared
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        let Some((chunk, resume)) = next else { return };
        let Some(run) = shared.tables.get(&chunk.table_id).cloned() else {
            continue;
        };
        if run.failed.load(Ordering::SeqCst) {
            continue;
        }
        set_state_at_least(&shared, &run, TableState::Writing).await;
        match load_chunk(&shared, &run, &chunk, resume, &mut writer).await {
            Ok(()) => {
                if run.chunks_left.fetch_sub(1, Ordering::SeqCst) == 1 {
                    finish_table(&shared, &run).await;
                }
            }
            Err(ChunkFailure::Stopped) => return,
            Err(ChunkFailure::Table(message)) => {
                fail_table(&shared, &run, message).await;
            }
        }
    }
}

enum ChunkFailure {
    Stopped,
    Table(String),
}

async fn load_chunk(
    shared: &Shared,
    run: &Arc<TableRun>,
    chunk: &ChunkRecord,
    resume: ChunkProgress,
    writer: &mut Option<Box<dyn Writer>>,
) -> Result<(), ChunkFailure> {
    let (tx, mut rx) = mpsc::channel(2);
    let job = ChunkJob {
        chunk: chunk.clone(),
        table: run.target.clone(),
        resume,
        csv: shared.csv.clone(),
        batch_bytes: shared.settings.batch_bytes,
    };
    let source = shared.source.clone();
    let target = shared.target.clone();
    let handle = tokio::runtime::Handle::current();
    let reader_stop = Arc::new(AtomicBool::new(false));
    let stop_flag = reader_stop.clone();
    let reader = tokio::task::spawn_blocking(move || {
        read_chunk(&source, &handle, &job, target.as_ref(), &tx, &stop_flag)
    });
    let mut outcome = Ok(());
    while let Some(batch) = rx.recv().await {
        if shared.stop.load(Ordering::SeqCst) || run.failed.load(Ordering::SeqCst) {
            outcome = Err(ChunkFailure::Stopped);
            break;
        }
        let marker = Marker {
            task_id: shared.task_id,
            chunk_id: chunk.id,
            progress: batch.progress,
        };
        if let Err(e) = write_with_retry(shared, writer, &batch.batch, &marker).await {
            outcome = Err(ChunkFailure::Table(
                rejected_rows(shared, chunk, &batch.row_offsets, &e).await,
            ));
            break;
        }
        let _ = shared.progress_tx.send((chunk.id, batch.progress));
        run.progress.add(batch.bytes, batch.batch.row_count);
        run.rows_loaded
            .fetch_add(batch.batch.row_count, Ordering::SeqCst);
        shared.progress.add(batch.bytes, batch.batch.row_count);
    }
    reader_stop.store(true, Ordering::SeqCst);
    drop(rx);
    let read = reader.await.unwrap_or_else(|e| {
        Err(ReadError::Source(SourceError::Layout(format!(
            "reader failed: {e}"
        ))))
    });
    if outcome.is_err() {
        if run.failed.load(Ordering::SeqCst) && matches!(outcome, Err(ChunkFailure::Stopped)) {
            // Another chunk of the table failed; this one just stops.
            return Err(ChunkFailure::Table(String::new()));
        }
        return outcome;
    }
    match read {
        Ok(()) => Ok(()),
        Err(ReadError::Stopped) => Err(ChunkFailure::Stopped),
        Err(e) => Err(ChunkFailure::Table(e.to_string())),
    }
}

/// A message for rows the target refused, naming the file position of the row when the server
/// says which (MySQL: "... at row N", N counted in the statement), else of the batch's first row.
async fn rejected_rows(
    shared: &Shared,
    chunk: &ChunkRecord,
    row_offsets: &[u64],
    e: &TargetError,
) -> String {
    let row = e
        .message
        .rsplit_once(" at row ")
        .and_then(|(_, n)| n.trim().parse::<usize>().ok())
        .and_then(|n| n.checked_sub(1))
        .filter(|&i| i < row_offsets.len());
    let (offset, which) = match row {
        Some(i) => (row_offsets[i], "the target rejected this row"),
        None => (
            row_offsets.first().copied().unwrap_or(chunk.start),
            "the target rejected the batch of rows starting here",
        ),
    };
    let (source, ch) = (shared.source.clone(), chunk.clone());
    let handle = tokio::runtime::Handle::current();
    let (line, near) =
        tokio::task::spawn_blocking(move || crate::reader::locate(&source, &handle, &ch, offset))
            .await
            .unwrap_or_default();
    let position = crate::error::FilePosition {
        file: chunk.path.clone(),
        offset,
        line,
    };
    format!("{position}: {which} ({near:?}): {}", e.message)
}

/// Write one batch, retrying transient errors with backoff. After a broken connection the
/// commit may or may not have happened: the marker in the target tells, so a batch is never
/// written twice.
async fn write_with_retry(
    shared: &Shared,
    writer: &mut Option<Box<dyn Writer>>,
    batch: &crate::target::EncodedBatch,
    marker: &Marker,
) -> Result<(), TargetError> {
    let mut attempt = 0u32;
    loop {
        if writer.is_none() {
            match shared.target.writer().await {
                Ok(w) => *writer = Some(w),
                Err(e) if e.transient && attempt < shared.settings.max_retries => {
                    attempt += 1;
                    backoff(attempt, &e).await;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        let w = writer.as_mut().expect("set above");
        match w.write(batch, marker).await {
            Ok(()) => return Ok(()),
            Err(e) if e.transient && attempt < shared.settings.max_retries => {
                *writer = None;
                attempt += 1;
                backoff(attempt, &e).await;
                if shared.markers {
                    if let Ok(markers) = shared.target.read_markers(shared.task_id).await {
                        if markers.get(&marker.chunk_id) == Some(&marker.progress) {
                            return Ok(());
                        }
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
}

async fn backoff(attempt: u32, e: &TargetError) {
    let delay = Duration::from_millis(200u64.saturating_mul(1 << attempt.min(6)))
        .min(Duration::from_secs(10));
    tracing::warn!(
        "transient target error, retry {attempt} in {delay:?}: {}",
        e.message
    );
    tokio::time::sleep(delay).await;
}

async fn set_state_at_least(shared: &Shared, run: &TableRun, state: TableState) {
    let id = {
        let mut r = run.record.lock().unwrap_or_else(|p| p.into_inner());
        if r.state >= state {
            return;
        }
        r.state = state;
        r.id
    };
    if let Err(e) = shared.store.set_table_state(id, state, None).await {
        tracing::warn!("saving table state to the checkpoint failed: {e}");
    }
}

async fn fail_table(shared: &Shared, run: &TableRun, message: String) {
    if run.failed.swap(true, Ordering::SeqCst) || message.is_empty() {
        return;
    }
    let (id, state) = {
        let mut r = run.record.lock().unwrap_or_else(|p| p.into_inner());
        r.error = Some(TableError {
            step: r.state.as_str().into(),
            message: message.clone(),
        });
        (r.id, r.state)
    };
    tracing::error!("{}: {message}", run.label());
    run.progress.finish("failed");
    let error = run
        .record
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .error
        .clone();
    if let Err(e) = shared
        .store
        .set_table_state(id, state, error.as_ref())
        .await
    {
        tracing::warn!("saving the table's error to the checkpoint failed: {e}");
    }
}

/// Deferred indexes, verification and analyze, once the table's last chunk is in.
async fn finish_table(shared: &Shared, run: &Arc<TableRun>) {
    if run.failed.load(Ordering::SeqCst) {
        return;
    }
    if let Err(message) = post_steps(shared, run).await {
        fail_table(shared, run, message).await;
    } else {
        run.progress.finish("done");
    }
}

async fn post_steps(shared: &Shared, run: &Arc<TableRun>) -> Result<(), String> {
    let (db, name) = {
        let r = run.record.lock().unwrap_or_else(|p| p.into_inner());
        (r.database.clone(), r.name.clone())
    };
    let target = shared.target.as_ref();
    set_state_at_least(shared, run, TableState::Written).await;
    if state_of(run) < TableState::IndexesAdded {
        if let Some(sql) = &run.create_sql {
            let statements = target.deferred_indexes(&name, sql).map_err(|e| e.message)?;
            let t = Instant::now();
            target
                .run_statements(&db, &statements)
                .await
                .map_err(|e| format!("adding the deferred indexes: {e}"))?;
            *run.index_time.lock().unwrap_or_else(|p| p.into_inner()) = t.elapsed();
        }
        set_state_at_least(shared, run, TableState::IndexesAdded).await;
    }
    if state_of(run) < TableState::Verified {
        let expected = run.rows_loaded.load(Ordering::SeqCst);
        let count = target.row_count(&db, &name).await.map_err(|e| e.message)?;
        let ok = match shared.settings.conflict {
            ConflictStrategy::Error => count == expected,
            _ => count <= expected,
        };
        if !ok {
            return Err(format!(
                "verification failed: the target holds {count} rows but {expected} were loaded from the dump \
                 (was the table not empty before the import, or changed during it?)"
            ));
        }
        set_state_at_least(shared, run, TableState::Verified).await;
    }
    if state_of(run) < TableState::Analyzed {
        if shared.settings.analyze {
            target
                .analyze(&db, &name)
                .await
                .map_err(|e| format!("analyze: {e}"))?;
        }
        set_state_at_least(shared, run, TableState::Analyzed).await;
    }
    set_state_at_least(shared, run, TableState::Done).await;
    Ok(())
}

fn state_of(run: &TableRun) -> TableState {
    run.record.lock().unwrap_or_else(|p| p.into_inner()).state
}

/// Views, then triggers, then routines: after all data, so no trigger fires during the load.
async fn create_post_data_objects(
    source: &Source,
    catalog: &Catalog,
    target: &dyn Target,
    report: &mut ImportReport,
) {
    // A view may select from another view: create what can be created, then try the rest
    // again, until a round makes no progress.
    let mut pending: Vec<&CatalogObject> = catalog.views.iter().collect();
    let mut errors = Vec::new();
    while !pending.is_empty() {
        errors.clear();
        let mut left = Vec::new();
        for view in pending.iter().copied() {
            let result = async {
                let statements = file_statements(source, view).await?;
                let sql = ddl_file::find(&statements, ddl_file::is_create_view)
                    .ok_or_else(|| format!("{}: no CREATE VIEW statement", view.file.path))?;
                target
                    .create_view(&view.database, &view.name, sql)
                    .await
                    .map_err(|e| e.message)
            }
            .await;
            if let Err(e) = result {
                errors.push(format!("view `{}`.`{}`: {e}", view.database, view.name));
                left.push(view);
            }
        }
        if left.len() == pending.len() {
            break;
        }
        pending = left;
    }
    report.object_errors.append(&mut errors);
    for (kind, objects) in [
        ("triggers", &catalog.triggers),
        ("routines", &catalog.routines),
    ] {
        for obj in objects {
            let result = async {
                let statements = file_statements(source, obj).await?;
                target
                    .run_post_ddl(&obj.database, &statements)
                    .await
                    .map_err(|e| e.message)
            }
            .await;
            match result {
                Ok(notes) => report.notes.extend(notes),
                Err(e) => report.object_errors.push(format!(
                    "{kind} of `{}` ({}): {e}",
                    obj.database, obj.file.path
                )),
            }
        }
    }
}

async fn file_statements(source: &Source, obj: &CatalogObject) -> Result<Vec<String>, String> {
    let bytes = source
        .read_all(&obj.file.path)
        .await
        .map_err(|e| e.to_string())?;
    ddl_file::statements(&obj.file.path, &bytes)
}

/// After success: remove, rename or keep the checkpoint, as `keep-after-success` says.
async fn finish_checkpoint(
    settings: &ImportSettings,
    store: &dyn CheckpointStore,
    task_id: i64,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if !settings.checkpoint.enable {
        return Ok(());
    }
    match settings.checkpoint.keep_after_success {
        KeepAfterSuccess::Origin => {}
        KeepAfterSuccess::Remove => {
            store.remove_all().await?;
            if settings.checkpoint.driver == crate::config::CheckpointDriver::Sqlite {
                remove_sqlite_files(&settings.checkpoint_path());
            }
            report.checkpoint = None;
        }
        KeepAfterSuccess::Rename => {
            let from = settings.checkpoint_path();
            let to = PathBuf::from(format!("{}.{task_id}.done", from.display()));
            std::fs::rename(&from, &to).map_err(|e| CheckpointError::Store {
                location: from.display().to_string(),
                message: format!("cannot rename to {}: {e}", to.display()),
            })?;
            report.checkpoint = Some(to.display().to_string());
        }
    }
    Ok(())
}

fn remove_sqlite_files(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
