//! `hoist import`: one way through the data flow of DESIGN.md.
//!
//! catalog (routed by `[[routes]]`) -> plan (persisted once, then only loaded) -> schema step
//! per table -> N workers, each taking one chunk at a time (a blocking reader parses and
//! encodes, the async writer commits every batch with its marker) -> per table, when its last
//! chunk is in: deferred indexes, verification, analyze -> views, triggers and routines ->
//! summary.
//!
//! Resume: the target's markers say where each chunk stands; the checkpoint store holds the
//! plan and the table states. A table in error stops only itself; the others go on.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;

mod job;
mod lease;
mod post;
mod schema_step;
mod skip;
mod state;
mod workers;

pub use job::{
    ExpectedFile, ExpectedTable, ImportReport, ImportSettings, LogStage, RestoreSettings, Sharing, TableReport,
    Verification,
};
use state::{defers_indexes, Shared, StepError, TableRun};

use lease::{EndTurn, Leases, Member};
use post::{create_post_data_objects, finish_table};
use schema_step::{
    create_databases, plan_tables, prepare_table, record_rows_before, refuse_non_empty_tables,
    refuse_unfinished_elsewhere, rows_before_unit, Hashing,
};
use skip::Skips;
use workers::{save_progress_loop, worker};

use crate::catalog::Catalog;
use crate::charset::SchemaCharset;
use crate::checkpoint::sqlite::SqliteStore;
use crate::checkpoint::{CheckpointStore, ChunkProgress, ChunkRecord, TableState, TaskRecord};
use crate::config::{KeepAfterSuccess, Tolerance};
use crate::error::{CheckpointError, ConfigError, ImportError, SourceError, TargetError};
use crate::filter::TableFilter;
use crate::plan::make_plan;
use crate::progress::Progress;
use crate::reader::CsvSettings;
use crate::refusal;
use crate::route::{route_catalog, Router};
use crate::source::Source;
use crate::status::JobState;
use crate::target;

/// Open the checkpoint store the settings name. With checkpoints disabled, a throwaway store
/// in a temporary directory holds the plan for this run only.
pub async fn open_store(
    settings: &ImportSettings,
) -> Result<(Arc<dyn CheckpointStore>, Option<tempfile::TempDir>), ImportError> {
    if !settings.checkpoint.enable {
        let dir = tempfile::tempdir().map_err(|e| CheckpointError::store("temp", e.to_string()))?;
        let store = SqliteStore::open(&dir.path().join("plan.db"))?;
        return Ok((Arc::new(store), Some(dir)));
    }
    Ok((crate::checkpoint::open(&settings.checkpoint, &settings.target, &settings.tls).await?, None))
}

/// Open the checkpoint store and enter the job as one of the processes that may share it: the
/// first to come plans it and creates its tables, the others wait for that (`end_setup`, after
/// the schema step) and then load its plan.
async fn enter(
    settings: &ImportSettings,
    stop: &AtomicBool,
) -> Result<(Arc<dyn CheckpointStore>, Option<tempfile::TempDir>, String), ImportError> {
    let (store, temp) = open_store(settings).await?;
    let owner = lease::owner_name();
    store.join(&owner).await?;
    lease::begin_setup(store.as_ref(), &owner, stop).await?;
    Ok((store, temp, owner))
}

/// A single mysqldump file is scanned for its statements on its bytes, which is exact for
/// every character set whose characters hold no ASCII byte; GBK and GB18030 ones may (a `\`
/// trail byte), so that scan would need the decoded text, which it does not read yet.
fn refuse_single_file_charsets(settings: &ImportSettings) -> Result<(), ConfigError> {
    let schema = match settings.schema_charset {
        SchemaCharset::Is(c) => Some(c),
        _ => None,
    };
    match [settings.data_charset.charset, schema].into_iter().flatten().find(|c| c.hides_ascii()) {
        Some(c) => Err(ConfigError::Invalid(format!(
            "character set {} is not supported yet for a single mysqldump file, only for a dump directory; \
             mysqldump writes UTF-8 unless --default-character-set said otherwise",
            c.name()
        ))),
        None => Ok(()),
    }
}

pub async fn run(settings: ImportSettings, stop: Arc<AtomicBool>) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let status = settings.status.clone();
    let source = Source::open(&settings.source)?;
    status.set_job(crate::redact::redact_url(source.location()));
    let files = source.list().await?;
    // From here on, a data file that changes under the run stops it (the plan and the rows
    // loaded are of the files as listed).
    let source = source.watching(&files);
    let filter = TableFilter::new(&settings.filter)?;
    let router = Router::new(&settings.routes, settings.case_sensitive)?;
    // A single mysqldump file's catalog comes from its scan, which its checkpoint keeps: the
    // store is read first, so that a rerun does not scan the file again.
    let single_file = source.single_file().is_some();
    let mut file_notes = Vec::new();
    let (source, catalog, scan, single_store) = match files.first().filter(|_| single_file) {
        Some(file) => {
            refuse_single_file_charsets(&settings)?;
            let (store, temp, owner) = enter(&settings, &stop).await?;
            let recorded = store.load().await?;
            let region = settings.plan_settings().max_region_size;
            let read = crate::mysqldump::read(source, file, recorded.as_ref(), &filter, region).await;
            let read = match read {
                Ok(read) => read,
                Err(e) => {
                    // Nothing was planned: leave no empty checkpoint behind.
                    if recorded.is_none() {
                        let _ = store.discard().await;
                    }
                    return Err(e.into());
                }
            };
            file_notes = read.notes;
            (read.source, read.catalog, Some(read.scan), Some((store, temp, owner, recorded)))
        }
        None => (source, Catalog::from_files(&files, &filter)?, None, None),
    };
    // The filter saw the dump's names; from here on every table is its target table.
    let catalog = match route_catalog(catalog, &router) {
        Ok(routed) => {
            file_notes.extend(routed.notes);
            routed.catalog
        }
        Err(e) => {
            if let Some((store, _, _, None)) = &single_store {
                let _ = store.discard().await;
            }
            return Err(e.into());
        }
    };
    if catalog.tables.is_empty() && catalog.views.is_empty() {
        let expected = match scan {
            Some(_) => "expected a mysqldump file: CREATE TABLE and INSERT statements",
            None => "expected mydumper/Dumpling files such as db.table-schema.sql and db.table.sql",
        };
        if let Some((store, _, _, None)) = &single_store {
            let _ = store.discard().await;
        }
        return Err(SourceError::Layout(format!(
            "no tables found in {} ({expected}; check the source and the filter)",
            source.location()
        ))
        .into());
    }
    if settings.target.starts_with("sqlite://") {
        if let Some(refused) = target::sqlite::name_collisions(&catalog) {
            return Err(crate::error::ConfigError::Invalid(refused).into());
        }
    }
    let target = target::open(&settings.target, &settings.target_options()).await?;
    let target_identity = target.identity().await?;
    let (store, _temp_store, owner, recorded) = match single_store {
        Some(opened) => opened,
        None => {
            let (store, temp, owner) = enter(&settings, &stop).await?;
            let recorded = store.load().await?;
            (store, temp, owner, recorded)
        }
    };
    let plan_settings = settings.plan_settings();
    let spec = settings.spec();
    let fingerprint = dump_fingerprint(source.location(), &spec.to_text(), &files);
    let mut report = ImportReport {
        target: target.describe(),
        checkpoint: settings.checkpoint.enable.then(|| store.location()),
        notes: file_notes,
        ..Default::default()
    };

    // Tables that held rows before the task loaded into them (allowed under replace / ignore).
    let mut held = Vec::new();
    let (mut checkpoint, replan, resumed) = match recorded {
        Some(mut cp) => {
            let replan = refusal::check_reuse(
                &cp,
                &source,
                &target_identity,
                &files,
                &catalog,
                &spec,
                &refusal::Advice { start_over: settings.start_over_command(), locate: &settings.locate },
            )?;
            tracing::info!(task = cp.task.task_id, "resuming from the checkpoint in {}", store.location());
            // A single file's scan: the recorded one, or of the file as it is now when the
            // tables it changed under are planned again (`plan_tables` stores it).
            if scan.is_some() {
                cp.scan = scan.clone();
            }
            (cp, replan, true)
        }
        None => {
            if settings.checkpoint.enable {
                if let Err(refused) = refuse_unfinished_elsewhere(target.as_ref(), &fingerprint, store.as_ref()).await {
                    // Nothing was planned: leave no empty checkpoint behind.
                    let _ = store.discard().await;
                    return Err(refused);
                }
            }
            let task = TaskRecord {
                task_id: (rand::random::<u64>() >> 1) as i64,
                source: source.location().to_string(),
                target: target.describe(),
                target_identity: target_identity.clone(),
                spec: spec.to_text(),
                created_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0),
            };
            let names: Vec<(String, String)> =
                catalog.tables.iter().map(|t| (t.database.clone(), t.name.clone())).collect();
            let refused = refuse_non_empty_tables(target.as_ref(), &names, Some(&catalog), settings.conflict).await;
            if let Ok(full) = &refused {
                held = full.clone();
            }
            if let Err(refused) = refused {
                // Nothing was planned: leave no empty checkpoint behind.
                let _ = store.discard().await;
                // A run killed after it finished (checkpoint already removed) left this record.
                if let Some((task, at)) = target.finished(&fingerprint).await? {
                    report.notes.push(format!(
                        "this dump was imported into this target already (task {task}, finished {at}); nothing to do. \
                         To load it again, empty or drop its tables first"
                    ));
                    report.elapsed = started.elapsed();
                    return Ok(report);
                }
                return Err(refused);
            }
            status.set_state(JobState::Planning);
            let (src, cat, fl, ps) = (source.clone(), catalog.clone(), files.clone(), plan_settings.clone());
            let handle = tokio::runtime::Handle::current();
            let planned = tokio::task::spawn_blocking(move || make_plan(&src, &handle, &cat, &fl, &ps, task))
                .await
                .map_err(|e| SourceError::Layout(format!("planning failed: {e}")))
                .and_then(|planned| planned);
            let mut plan = match planned {
                Ok(plan) => plan,
                Err(e) => {
                    // Nothing was planned (shards of other columns, say): leave no empty checkpoint.
                    let _ = store.discard().await;
                    return Err(e.into());
                }
            };
            plan.scan = scan.clone();
            store.create(&plan).await?;
            // Without checkpoints the plan is held in a throwaway file: say so, not "saved".
            let kept = match settings.checkpoint.enable {
                true => format!("saved the checkpoint in {}", store.location()),
                false => "no checkpoint kept (checkpoints are off: a crash means starting over)".into(),
            };
            tracing::info!(
                "planned {} tables in {} chunks in {:.1}s; {kept}",
                plan.tables.len(),
                plan.chunks.len(),
                started.elapsed().as_secs_f64()
            );
            (plan, Default::default(), false)
        }
    };
    let task_id = checkpoint.task.task_id;
    if settings.checkpoint.enable {
        target.prepare_markers().await?;
        // Before any data, and again on each resume (the checkpoint may have moved): where a
        // run from another directory finds this task's checkpoint.
        target.record_task(task_id, &fingerprint, &store.location()).await?;
    }
    // What rows the limits let pass, counted from what earlier runs recorded.
    let skips = Skips::open(&settings, target.as_ref(), task_id).await?;
    // Nothing skipped: every step below writes as without limits (`ignore` as INSERT IGNORE).
    let mut settings = settings;
    if skips.is_none() {
        settings.tolerance = Tolerance { max_type_errors: 0, conflict_threshold: Some(0), ..settings.tolerance };
    }
    // A new task has no markers yet, and its tables were checked for rows before planning.
    let mut markers = HashMap::new();
    let log_stage = settings.restore.as_ref().and_then(|r| r.log.clone());
    // Once a log replay began, the snapshot's tables are final: the log may have altered,
    // dropped or created them, and none may be loaded again.
    let log_begun = match (&log_stage, resumed) {
        (Some(stage), true) => stage.begun(target.as_ref(), task_id).await?,
        _ => false,
    };
    if resumed && settings.checkpoint.enable {
        markers = target.read_markers(task_id).await?;
    }
    if resumed && !log_begun {
        checkpoint =
            plan_tables(checkpoint, &replan, &catalog, &source, &files, &plan_settings, &markers, store.as_ref())
                .await?;
        // A table not started yet must still be empty: rows there now were not loaded by this task.
        let not_started: Vec<(String, String)> = checkpoint
            .tables
            .iter()
            .filter(|t| t.state == TableState::Pending)
            .map(|t| (t.database.clone(), t.name.clone()))
            .collect();
        held = refuse_non_empty_tables(target.as_ref(), &not_started, Some(&catalog), settings.conflict).await?;
    }
    if settings.checkpoint.enable {
        record_rows_before(target.as_ref(), task_id, &checkpoint.tables, &held, &mut markers).await?;
    } else {
        for t in &checkpoint.tables {
            if let Some((_, rows)) = held.iter().find(|(k, _)| k.0 == t.database && k.1 == t.name) {
                markers.insert(rows_before_unit(t.id), ChunkProgress { rows: *rows, ..Default::default() });
            }
        }
    }

    if !markers.is_empty() {
        let ids: HashMap<i64, &ChunkRecord> = checkpoint.chunks.iter().map(|c| (c.id, c)).collect();
        let loaded: u64 = markers.iter().filter_map(|(id, p)| Some(p.offset.saturating_sub(ids.get(id)?.start))).sum();
        let done = markers.values().filter(|p| p.done).count();
        tracing::info!(
            "resuming: {done} of {} chunks done, {:.1} MB of the dump already loaded",
            checkpoint.chunks.len(),
            loaded as f64 / 1e6
        );
    }
    let total_bytes: u64 = checkpoint.chunks.iter().map(|c| chunk_len(c, &files)).sum();
    let progress = Progress::new(settings.progress, &status, total_bytes);
    if let Some(restore) = &settings.restore {
        let expected = |t: &crate::checkpoint::TableRecord| {
            restore.expected.get(&(t.database.clone(), t.name.clone())).map_or(0, |e| e.rows)
        };
        status.set_rows_total(checkpoint.tables.iter().map(expected).sum());
    }
    let log_done = Arc::new(tokio::sync::Notify::new());
    let log_task = tokio::spawn(progress.clone().log_loop(log_done.clone()));

    // ---- schema step ----
    let mut runs: HashMap<i64, Arc<TableRun>> = HashMap::new();
    let mut queue = VecDeque::new();
    let chunks_by_table = group_chunks(&checkpoint.chunks);
    // Databases first (few, and shared by tables), then the tables, several at once: with
    // thousands of small tables the round trips of this step would otherwise dominate.
    if !settings.no_schema && !log_begun {
        create_databases(
            &checkpoint.tables,
            &catalog,
            &source,
            target.as_ref(),
            settings.schema_charset,
            settings.max_retries,
        )
        .await
        .map_err(|e| TargetError {
            code: e.code,
            message: format!("creating databases: {}", e.message),
            ..e
        })?;
    }
    let hashing = Hashing::of(&settings, target.as_ref()).await?;
    let prepared: Vec<_> = match log_begun {
        true => checkpoint.tables.iter().map(|_| Ok(None)).collect(),
        false => {
            futures::stream::iter(checkpoint.tables.iter())
                .map(|record| {
                    let chunks = chunks_by_table.get(&record.id).map(Vec::as_slice).unwrap_or_default();
                    prepare_table(
                        &settings,
                        &source,
                        target.as_ref(),
                        store.as_ref(),
                        task_id,
                        record,
                        chunks,
                        &hashing,
                    )
                })
                .buffered(settings.concurrency.max(1) * 2)
                .collect()
                .await
        }
    };
    for (record, prepared) in checkpoint.tables.iter().zip(prepared) {
        let chunks = chunks_by_table.get(&record.id).cloned().unwrap_or_default();
        let label = hoist_schema::qualified_mysql_name(&record.database, &record.name);
        if let Ok(Some(p)) = &prepared {
            if p.reset {
                for c in &chunks {
                    markers.remove(&c.id);
                }
                // The reset recorded the rows the table holds now, if any, in place of the old count.
                let unit = rows_before_unit(record.id);
                markers.remove(&unit);
                if settings.checkpoint.enable {
                    if let Some(p) = target.read_markers(task_id).await?.get(&unit) {
                        markers.insert(unit, *p);
                    }
                }
            }
        }
        match prepared.map(|p| p.map(|p| (p.record, p.table, p.create_sql, p.hasher, p.split_key))) {
            Ok(Some((run_record, table_target, create_sql, hasher, split_key))) => {
                let table_bytes: u64 = chunks.iter().map(|c| chunk_len(c, &files)).sum();
                let mut left = 0;
                let mut rows_loaded = 0;
                let mut bytes_done = 0;
                let mut files_left: HashMap<String, usize> = HashMap::new();
                let mut chunk_sums = HashMap::new();
                for c in &chunks {
                    let p =
                        markers.get(&c.id).copied().unwrap_or(ChunkProgress { offset: c.start, ..Default::default() });
                    rows_loaded += p.rows;
                    chunk_sums.insert(c.id, p.checksum);
                    if p.done {
                        bytes_done += chunk_len(c, &files);
                    } else {
                        bytes_done += p.offset - c.start;
                        left += 1;
                        if run_record.state <= TableState::Writing {
                            *files_left.entry(c.path.clone()).or_default() += 1;
                            queue.push_back((c.clone(), p));
                        }
                    }
                }
                let run = Arc::new(TableRun {
                    record: Mutex::new(run_record),
                    target: Arc::new(table_target),
                    create_sql,
                    defer_indexes: defers_indexes(&chunks, settings.defer_indexes_from),
                    chunks_left: AtomicUsize::new(left),
                    failed: AtomicBool::new(false),
                    rows_loaded: AtomicU64::new(rows_loaded),
                    progress: progress.table(&label, table_bytes),
                    busy_micros: AtomicU64::new(0),
                    index_time: Mutex::new(Duration::ZERO),
                    files_left: Mutex::new(files_left),
                    files_verified: AtomicUsize::new(0),
                    chunk_sums: Mutex::new(chunk_sums),
                    unpredictable: Mutex::new(None),
                    hasher,
                    split_key,
                    verification: Mutex::new(None),
                    rows_before: markers.get(&rows_before_unit(record.id)).map(|p| p.rows),
                });
                // Earlier runs' share: done from the start, never counted as moved by this run.
                // (A chunk not done in a table past its data is not loaded again either.)
                let units_done = match run.record.lock().unwrap_or_else(|p| p.into_inner()).state {
                    s if s > TableState::Writing => chunks.len(),
                    _ => chunks.len() - left,
                };
                run.progress.set_units(chunks.len() as u64, units_done as u64);
                run.progress.add_before(bytes_done, rows_loaded);
                progress.add_before(bytes_done, rows_loaded);
                runs.insert(record.id, run);
            }
            // Loaded by an earlier run of this task: listed with the rows its chunks recorded,
            // and part of the total as done from the start (so that the total reaches 100 %).
            Ok(None) => {
                let rows = chunks.iter().map(|c| markers.get(&c.id).map_or(c.progress.rows, |p| p.rows)).sum();
                let bytes = chunks.iter().map(|c| chunk_len(c, &files)).sum();
                progress.table_done_before(&label, bytes, rows, chunks.len() as u64);
                report.tables.push(TableReport {
                    database: record.database.clone(),
                    name: record.name.clone(),
                    rows,
                    rows_before: rows,
                    bytes,
                    elapsed: Duration::ZERO,
                    index_time: Duration::ZERO,
                    verification: None,
                    error: None,
                })
            }
            Err(StepError::Stopped) => return Err(ImportError::Interrupted),
            Err(why @ (StepError::Transient(_) | StepError::Halt(_))) => return Err(stopped_early(why)),
            Err(StepError::Table(message)) => {
                progress.table_failed(&label, &message);
                report.tables.push(TableReport {
                    database: record.database.clone(),
                    name: record.name.clone(),
                    rows: 0,
                    rows_before: 0,
                    bytes: 0,
                    elapsed: Duration::ZERO,
                    index_time: Duration::ZERO,
                    verification: None,
                    error: Some(message),
                });
            }
        }
    }

    store.end_setup(&owner).await;

    // ---- data ----
    status.set_state(JobState::Writing);
    // The biggest table first, with every worker on it: its post steps (the index build above
    // all) are the longest, and so overlap the loading of the smaller tables instead of
    // running alone at the end (longest-first keeps both cores busy to the last table).
    let queue = biggest_table_first(queue, &chunks_by_table, &files);
    let member = Member { store: store.clone(), target: target.clone(), fingerprint: fingerprint.clone(), owner };
    let leases = Arc::new(Leases::new(member, settings.checkpoint.lease_expiry(), stop.clone()));
    let _keeper = leases.keep();
    let (progress_tx, progress_rx) = mpsc::unbounded_channel();
    let progress_writer = tokio::spawn(save_progress_loop(store.clone(), progress_rx, stop.clone()));
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
        leases: leases.clone(),
        task_id,
        queue: Mutex::new(queue),
        chunk_bytes: checkpoint.chunks.iter().map(|c| (c.id, chunk_len(c, &files))).collect(),
        tables: runs.clone(),
        progress: progress.clone(),
        progress_tx,
        stop: stop.clone(),
        abort: Mutex::new(None),
        markers: settings.checkpoint.enable,
        now: checkpoint.task.created_ms as f64 / 1000.0,
        loading: AtomicUsize::new(0),
        most_loading: AtomicUsize::new(0),
        writer_cap: AtomicUsize::new(usize::MAX),
        refused: Mutex::new(None),
        posts: Mutex::new(Vec::new()),
        skips: skips.clone(),
    });
    // Tables with nothing left to load still need their post steps (a rerun after a crash there).
    let finished: Vec<Arc<TableRun>> =
        runs.values().filter(|r| r.chunks_left.load(Ordering::SeqCst) == 0).cloned().collect();
    let mut workers = Vec::new();
    for run in finished {
        let shared = shared.clone();
        workers.push(tokio::spawn(async move { finish_table(&shared, &run).await }));
    }
    // Until no work waits for another process: the post steps of a table (started by a worker,
    // or found due above) may be another's, and leave their lease to be waited for.
    loop {
        for _ in 0..settings.concurrency.max(1) {
            let shared = shared.clone();
            workers.push(tokio::spawn(async move { worker(shared).await }));
        }
        for w in workers.drain(..) {
            let _ = w.await;
        }
        // The workers are done: no table's post steps start after these.
        let posts = std::mem::take(&mut *shared.posts.lock().unwrap_or_else(|p| p.into_inner()));
        for post in posts {
            let _ = post.await;
        }
        if stop.load(Ordering::SeqCst) || !leases.waiting() {
            break;
        }
    }
    let aborted = shared.abort.lock().unwrap_or_else(|p| p.into_inner()).take();
    report.notes.extend(shared.refused_note());
    report.notes.extend(skips.as_ref().and_then(|s| s.summary()));
    drop(shared);
    let saved = progress_writer.await.unwrap_or(Ok(()));
    log_done.notify_one();
    let _ = log_task.await;
    progress.finish();
    // A process that finished the job removed the checkpoint under this one's last writes to it.
    if leases.finished_elsewhere() || (saved.is_err() && leases.finished_meanwhile().await) {
        report.tables = tables_report(&runs, report.tables);
        return Ok(finished_elsewhere(report, started, &leases).await);
    }
    if let Some(why) = aborted {
        return Err(stopped_early(why));
    }
    // The store refused to save progress: it stopped the workers.
    if let Err(e) = saved {
        return Err(stopped_early(e.into()));
    }
    if let Some(why) = leases.failure() {
        return Err(stopped_early(StepError::Transient(why)));
    }
    if stop.load(Ordering::SeqCst) {
        return Err(ImportError::Interrupted);
    }

    // ---- report and post-data objects ----
    report.tables = tables_report(&runs, report.tables);
    // Once, by whichever process sharing the job comes first; the others wait for it.
    let end = match report.tables.iter().all(|t| t.error.is_none()) {
        true => Some(leases.take_end().await?),
        false => None,
    };
    match end {
        Some(EndTurn::FinishedElsewhere) => return Ok(finished_elsewhere(report, started, &leases).await),
        Some(EndTurn::Ours(lease)) => {
            if let Some(stage) = &log_stage {
                status.set_state(JobState::Replaying);
                let lines = stage.run(target.clone(), task_id, stop.clone()).await?;
                report.notes.extend(lines);
            }
            create_post_data_objects(
                &source,
                &catalog,
                target.as_ref(),
                (settings.schema_charset, settings.skip_definer),
                &mut report,
            )
            .await;
            // Kept for `hoist checkpoint show`: no table failed, so nothing else there says why the
            // job is not finished.
            if settings.checkpoint.enable {
                store.set_object_errors(&report.object_errors).await?;
            }
            if report.success() && settings.checkpoint.enable {
                target.record_finished(task_id, &fingerprint).await?;
            }
            // Released before the checkpoint goes: a process waiting for the end learns from the
            // target that the job is finished.
            drop(lease);
            leases.settle().await;
            if report.success() {
                finish_checkpoint(&settings, store.as_ref(), task_id, &mut report).await?;
            }
        }
        None => report.notes.push("views, triggers and routines are created once every table has loaded".into()),
    }
    leases.leave().await;
    report.shared = leases.met_others().then_some(Sharing::WithOthers);
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The report of a run whose job another process finished: this process may not have seen
/// every table's last rows, so its tables count the rows it loaded itself.
async fn finished_elsewhere(mut report: ImportReport, started: Instant, leases: &Leases) -> ImportReport {
    leases.leave().await;
    for t in &mut report.tables {
        t.rows -= t.rows_before;
        t.rows_before = 0;
    }
    report.shared = Some(Sharing::FinishedElsewhere);
    report.elapsed = started.elapsed();
    report
}

/// The summary's rows for the tables this run loaded, after those it found loaded, sorted.
fn tables_report(runs: &HashMap<i64, Arc<TableRun>>, mut tables: Vec<TableReport>) -> Vec<TableReport> {
    for run in runs.values() {
        let record = run.record.lock().unwrap_or_else(|p| p.into_inner()).clone();
        tables.push(TableReport {
            database: record.database.clone(),
            name: record.name.clone(),
            rows: run.rows_loaded.load(Ordering::SeqCst),
            rows_before: run.progress.reading().rows_before,
            bytes: run.progress.reading().bytes,
            elapsed: run.elapsed(),
            index_time: *run.index_time.lock().unwrap_or_else(|p| p.into_inner()),
            error: record.error.as_ref().map(|e| format!("{} (failed in state {})", e.message, e.step)),
            verification: run.verification.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        });
    }
    tables.sort_by(|a, b| (&a.database, &a.name).cmp(&(&b.database, &b.name)));
    tables
}

/// Names a dump as this run sees it: where it is, the settings that shape its plan, and every
/// file with its size and modification time.
fn dump_fingerprint(source: &str, spec: &str, files: &[crate::source::SourceFile]) -> String {
    let mut text = format!("{source}\n{spec}\n");
    for f in files {
        text.push_str(&format!("{}\t{}\t{}\n", f.path, f.size, f.modified_ms));
    }
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(text.as_bytes()))
}

/// The run's error when it stopped on a failure that is no table's: nothing was recorded, so
/// the same command resumes once the cause is gone.
fn stopped_early(why: StepError) -> ImportError {
    match why {
        StepError::Transient(reason) => ImportError::Halted(format!(
            "{reason}\nthis failure usually passes (a lost connection, a busy file, a network error) but it \
             outlasted every retry; nothing was recorded as an error: when it is fixed, run the same command to resume"
        )),
        StepError::Halt(reason) => ImportError::Halted(format!(
            "{reason}\nnothing was recorded as an error: fix this, then run the same command to resume"
        )),
        StepError::Table(reason) => ImportError::Halted(reason),
        StepError::Stopped => ImportError::Interrupted,
    }
}

fn file_size(files: &[crate::source::SourceFile], path: &str) -> u64 {
    files.iter().find(|f| f.path == path).map(|f| f.size).unwrap_or(0)
}

fn chunk_len(c: &ChunkRecord, files: &[crate::source::SourceFile]) -> u64 {
    if c.end == crate::checkpoint::TO_END {
        file_size(files, &c.path)
    } else {
        c.end - c.start
    }
}

/// The queue ordered by the size of each chunk's table, largest first; a table's chunks stay
/// together and in their order (the sort is stable).
fn biggest_table_first(
    queue: VecDeque<(ChunkRecord, ChunkProgress)>,
    chunks_by_table: &HashMap<i64, Vec<ChunkRecord>>,
    files: &[crate::source::SourceFile],
) -> VecDeque<(ChunkRecord, ChunkProgress)> {
    let table_bytes: HashMap<i64, u64> = chunks_by_table
        .iter()
        .map(|(id, chunks)| (*id, chunks.iter().map(|c| chunk_len(c, files)).fold(0, u64::saturating_add)))
        .collect();
    let mut queue: Vec<_> = queue.into();
    queue.sort_by_key(|(c, _)| std::cmp::Reverse(table_bytes.get(&c.table_id).copied().unwrap_or(0)));
    queue.into()
}

fn group_chunks(chunks: &[ChunkRecord]) -> HashMap<i64, Vec<ChunkRecord>> {
    let mut map: HashMap<i64, Vec<ChunkRecord>> = HashMap::new();
    for c in chunks {
        map.entry(c.table_id).or_default().push(c.clone());
    }
    map
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
            store.discard().await?;
            report.checkpoint = None;
        }
        KeepAfterSuccess::Rename => report.checkpoint = Some(store.archive(task_id).await?),
    }
    Ok(())
}
