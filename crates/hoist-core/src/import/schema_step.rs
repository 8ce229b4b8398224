//! Before any data: plan what the checkpoint does not know, refuse non-empty tables, and per
//! table create the database and table (or find them) and learn the columns. A table that was
//! dropped and created again since its rows were recorded starts over (DESIGN.md invariant 4).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::job::ImportSettings;
use super::state::{defers_indexes, retrying, StepError};
use crate::catalog::Catalog;
use crate::charset::SchemaCharset;
use crate::checkpoint::sqlite::SqliteStore;
use crate::checkpoint::{Checkpoint, CheckpointStore, ChunkProgress, ChunkRecord, TableError, TableRecord, TableState};
use crate::config::{ConflictStrategy, PostLevel};
use crate::content_hash::TableHasher;
use crate::ddl_file;
use crate::error::{CheckpointError, ImportError, SourceError};
use crate::plan::{make_plan, PlanSettings};
use crate::refusal::TableName;
use crate::source::Source;
use crate::target::{TableDescription, TableFacts, TableTarget, Target};

/// Plan the tables the checkpoint does not know (`hoist checkpoint remove` forgot them) and
/// plan again those in `replan` (nothing loaded, files changed): both load from their start.
/// The recorded file list becomes the current one. New chunk ids stay clear of any marker left.
#[allow(clippy::too_many_arguments)]
pub(super) async fn plan_tables(
    mut cp: Checkpoint,
    replan: &BTreeSet<TableName>,
    catalog: &Catalog,
    source: &Source,
    files: &[crate::source::SourceFile],
    settings: &PlanSettings,
    markers: &HashMap<i64, ChunkProgress>,
    store: &dyn CheckpointStore,
) -> Result<Checkpoint, ImportError> {
    let is_replanned = |t: &TableRecord| replan.contains(&(t.database.clone(), t.name.clone()));
    let dropped: HashSet<i64> = cp.tables.iter().filter(|t| is_replanned(t)).map(|t| t.id).collect();
    let known: HashSet<(&str, &str)> =
        cp.tables.iter().filter(|t| !dropped.contains(&t.id)).map(|t| (t.database.as_str(), t.name.as_str())).collect();
    let missing: Vec<_> =
        catalog.tables.iter().filter(|t| !known.contains(&(t.database.as_str(), t.name.as_str()))).cloned().collect();
    if missing.is_empty() {
        return Ok(cp);
    }
    let sub = Catalog { tables: missing, ..Default::default() };
    let (src, fl, ps, task) = (source.clone(), files.to_vec(), settings.clone(), cp.task.clone());
    let handle = tokio::runtime::Handle::current();
    let extra = tokio::task::spawn_blocking(move || make_plan(&src, &handle, &sub, &fl, &ps, task))
        .await
        .map_err(|e| SourceError::Layout(format!("planning failed: {e}")))??;
    let table_base = cp.tables.iter().map(|t| t.id).max().unwrap_or(0);
    let chunk_base = cp.chunks.iter().map(|c| c.id).chain(markers.keys().copied()).max().unwrap_or(0);
    cp.tables.retain(|t| !dropped.contains(&t.id));
    cp.chunks.retain(|c| !dropped.contains(&c.table_id));
    for mut t in extra.tables {
        tracing::info!(
            "`{}`.`{}`: planned from its files as they are now; it is loaded from its start",
            t.database,
            t.name
        );
        t.id += table_base;
        cp.tables.push(t);
    }
    for mut c in extra.chunks {
        c.id += chunk_base;
        c.table_id += table_base;
        cp.chunks.push(c);
    }
    cp.files = extra.files;
    store.create(&cp).await?;
    Ok(cp)
}

/// hoist loads into empty tables: rows already there would be mixed with the dump's (and
/// duplicated if they came from an earlier load of it). Refuse before writing anything. Under
/// `replace` / `ignore` a key decides between the rows, and Lightning's logical mode loads into
/// such tables: so does hoist, and returns them with the rows they held (see [`rows_before`]).
/// `catalog` (when given) names the sources of routed tables, which the filter sees.
pub(super) async fn refuse_non_empty_tables(
    target: &dyn Target,
    tables: &[(String, String)],
    catalog: Option<&Catalog>,
    conflict: ConflictStrategy,
) -> Result<Vec<((String, String), u64)>, ImportError> {
    let mut full = Vec::new();
    for (db, name) in target.existing_tables(tables).await? {
        let rows = target.row_count(&db, &name).await?;
        if rows > 0 {
            full.push(((db, name), rows));
        }
    }
    full.sort();
    if full.is_empty() {
        return Ok(full);
    }
    let listed: Vec<String> = full
        .iter()
        .map(|((db, name), rows)| format!("{} ({rows} rows)", hoist_schema::qualified_mysql_name(db, name)))
        .collect();
    if conflict != ConflictStrategy::Error {
        tracing::warn!(
            "loading into tables that already hold rows ([conflict] strategy {conflict:?} decides between rows with \
             the same key; their content is not compared with the source): {}",
            listed.join(", ")
        );
        return Ok(full);
    }
    // An exclusion-only filter means "all but": these options load everything else. The filter
    // sees the dump's names, so a routed table is left out by its sources'.
    let skip: Vec<String> = full
        .iter()
        .flat_map(|((db, name), _)| {
            let table = catalog.and_then(|c| c.tables.iter().find(|t| (&t.database, &t.name) == (db, name)));
            match table.filter(|t| !t.sources.is_empty()) {
                Some(t) => t.sources.iter().map(|s| (s.database.clone(), s.name.clone())).collect(),
                None => vec![(db.clone(), name.clone())],
            }
        })
        .map(|(db, name)| format!("--tables '!{}'", hoist_schema::qualified_mysql_name(&db, &name)))
        .collect();
    Err(CheckpointError::Refused(format!(
        "these target tables already hold rows, and hoist loads only into empty tables: {}. \
         Empty or drop them, or leave them out: run again with {}, or choose --conflict replace or ignore. \
         (A finished import is not run twice: its checkpoint was removed when it succeeded.)",
        listed.join(", "),
        skip.join(" ")
    ))
    .into())
}

/// The marker that records how many rows a table held before the task loaded into it, under
/// [`rows_before_unit`]: it lives and goes with the task's markers, in the target. The
/// verification compares only the count then.
pub(super) fn rows_before(task_id: i64, table_id: i64, rows: u64) -> crate::target::Marker {
    let progress = ChunkProgress { rows, ..Default::default() };
    crate::target::Marker { task_id, chunk_id: rows_before_unit(table_id), progress }
}

/// A unit id no chunk has (they are positive) nor a log's (`restore_point::mark::LOG_UNIT`).
pub(super) fn rows_before_unit(table_id: i64) -> i64 {
    -(1 << 32) - table_id
}

/// Record [`rows_before`] of the tables in `held` (by name) that `tables` plans.
pub(super) async fn record_rows_before(
    target: &dyn Target,
    task_id: i64,
    tables: &[TableRecord],
    held: &[((String, String), u64)],
    markers: &mut HashMap<i64, ChunkProgress>,
) -> Result<(), crate::error::TargetError> {
    if held.is_empty() {
        return Ok(());
    }
    let mut writer = target.writer(None).await?;
    for t in tables {
        if let Some((_, rows)) = held.iter().find(|(k, _)| k.0 == t.database && k.1 == t.name) {
            let marker = rows_before(task_id, t.id, *rows);
            writer.write(&[], Some(&marker)).await?;
            markers.insert(marker.chunk_id, marker.progress);
        }
    }
    Ok(())
}

/// A run that finds no checkpoint where it looks, while the target records an unfinished task
/// of this dump with its checkpoint elsewhere (the default checkpoint is relative to the
/// current directory), would plan anew over that task's rows: refuse, and say where it is. A
/// record whose checkpoint is gone (removed by hand, or the very one looked in) is stale.
pub(super) async fn refuse_unfinished_elsewhere(
    target: &dyn Target,
    fingerprint: &str,
    store: &dyn CheckpointStore,
) -> Result<(), ImportError> {
    let Some(task) = target.unfinished(fingerprint).await? else {
        return Ok(());
    };
    let path = Path::new(&task.checkpoint);
    let is_file = !task.checkpoint.starts_with("mysql://");
    if task.checkpoint == store.location() || (is_file && !SqliteStore::holds_task(path, task.task_id)) {
        return Ok(());
    }
    let how = match path.parent().filter(|_| is_file) {
        Some(dir) => format!(
            "its checkpoint is at {}: run from {} or pass --checkpoint {}",
            task.checkpoint,
            dir.display(),
            task.checkpoint
        ),
        None => format!(
            "its checkpoint is in {}: pass that run's --checkpoint-driver, --checkpoint and --checkpoint-schema",
            task.checkpoint
        ),
    };
    Err(CheckpointError::Refused(format!(
        "an unfinished import of this dump exists (task {}, started {}); {how}",
        task.task_id, task.started
    ))
    .into())
}

/// What the schema step learned about a table that has work left.
pub(super) struct Prepared {
    pub record: TableRecord,
    pub table: TableTarget,
    pub create_sql: Option<String>,
    /// The table was found dropped or created again, and starts over: its markers are void.
    pub reset: bool,
    /// Hashes its source rows for the content check (see [`table_hasher`]).
    pub hasher: Option<Arc<TableHasher>>,
    /// Its key, when that is one integer column (see [`integer_key`]).
    pub split_key: Option<String>,
}

/// Create each database that a not-started table needs (with the dump's options).
pub(super) async fn create_databases(
    tables: &[TableRecord],
    catalog: &Catalog,
    source: &Source,
    target: &dyn Target,
    charset: SchemaCharset,
    retries: u32,
) -> Result<(), crate::error::TargetError> {
    let needed: BTreeSet<&str> =
        tables.iter().filter(|t| t.state == TableState::Pending).map(|t| t.database.as_str()).collect();
    for db in needed {
        let db_sql = match catalog.databases.get(db).cloned().flatten() {
            Some(f) => source
                .read_all(&f.path)
                .await
                .ok()
                .and_then(|b| ddl_file::statements(&f.path, &b, charset).ok())
                .and_then(|s| {
                    ddl_file::find(&s, |h| h.starts_with("create database") || h.starts_with("create schema")).cloned()
                }),
            None => None,
        };
        retrying(retries, || target.create_database(db, db_sql.as_deref())).await?;
    }
    Ok(())
}

/// Create the table when needed and learn its columns. Ok(None): nothing to do for it.
#[allow(clippy::too_many_arguments)]
pub(super) async fn prepare_table(
    settings: &ImportSettings,
    source: &Source,
    target: &dyn Target,
    store: &dyn CheckpointStore,
    task_id: i64,
    record: &TableRecord,
    chunks: &[ChunkRecord],
    hashing: &Hashing,
) -> Result<Option<Prepared>, StepError> {
    let mut record = record.clone();
    let mut reset = false;
    let steps = async {
        let prepared = prepare_steps(settings, source, target, store, task_id, &mut record, chunks, &mut reset).await?;
        let Some((table, description, create_sql)) = prepared else { return Ok(None) };
        let split_key = description.as_ref().and_then(integer_key);
        let hasher = table_hasher(settings, &table, description.as_ref(), hashing);
        Ok(Some((table, create_sql, hasher, split_key)))
    };
    match steps.await {
        Ok(None) => Ok(None),
        Ok(Some((table, create_sql, hasher, split_key))) => {
            Ok(Some(Prepared { record, table, create_sql, reset, hasher, split_key }))
        }
        Err(StepError::Table(message)) => {
            let error = TableError { step: record.state.as_str().into(), message: message.clone() };
            store.set_table_state(record.id, record.state, Some(&error)).await?;
            Err(StepError::Table(message))
        }
        Err(other) => Err(other),
    }
}

#[allow(clippy::too_many_arguments)]
async fn prepare_steps(
    settings: &ImportSettings,
    source: &Source,
    target: &dyn Target,
    store: &dyn CheckpointStore,
    task_id: i64,
    record: &mut TableRecord,
    chunks: &[ChunkRecord],
    reset: &mut bool,
) -> Result<Option<(TableTarget, Option<TableDescription>, Option<String>)>, StepError> {
    let retries = settings.max_retries;
    let (db, name) = (record.database.clone(), record.name.clone());
    let label = hoist_schema::qualified_mysql_name(&db, &name);
    let create_sql = match &record.schema_file {
        Some(path) => Some(read_create_table(source, path, settings.schema_charset).await.map_err(StepError::Table)?),
        None => None,
    };
    if record.state > TableState::Pending {
        let now = retrying(retries, || target.table_identity(&db, &name)).await?;
        match (&record.target_identity, &now) {
            // Recorded as unknown while hoist's own ALTER ran: take the table as it is now.
            (None, Some(_)) => {
                retrying(retries, || store.set_table_identity(record.id, now.as_deref())).await?;
                record.target_identity = now;
            }
            (Some(was), Some(is)) if was == is => {}
            _ => {
                tracing::warn!(
                    "{label} changed in the target since the checkpoint was recorded (dropped or created again); \
                     importing it again from its start"
                );
                let ids: Vec<i64> = chunks.iter().map(|c| c.id).chain([rows_before_unit(record.id)]).collect();
                retrying(retries, || target.clear_markers(task_id, Some(&ids))).await?;
                if settings.tolerance.skips(settings.conflict) {
                    let schema = &settings.tolerance.schema;
                    retrying(retries, || target.clear_error_records(schema, task_id, &label)).await?;
                }
                retrying(retries, || store.reset_table(record.id)).await?;
                *reset = true;
                record.state = TableState::Pending;
                record.target_identity = None;
                let held = refuse_non_empty_tables(target, &[(db.clone(), name.clone())], None, settings.conflict)
                    .await
                    .map_err(|e| match e {
                        ImportError::Checkpoint(e) => StepError::Table(e.to_string()),
                        other => StepError::Transient(other.to_string()),
                    })?;
                if let (true, Some((_, rows))) = (settings.checkpoint.enable, held.first()) {
                    let marker = rows_before(task_id, record.id, *rows);
                    retrying(retries, || async { target.writer(None).await?.write(&[], Some(&marker)).await }).await?;
                }
                if !settings.no_schema {
                    retrying(retries, || target.create_database(&db, None)).await?;
                }
            }
        }
    }
    if record.state == TableState::Done {
        return Ok(None);
    }
    let facts = if record.state == TableState::Pending {
        crate::failpoint::pause("import.schema-step").await;
        // CREATE TABLE IF NOT EXISTS leaves a table that is there as it is: no look before it.
        let created = match (&create_sql, settings.no_schema) {
            (Some(sql), false) => Some(
                retrying(retries, || {
                    target.create_table(&db, &name, sql, defers_indexes(chunks, settings.defer_indexes_from))
                })
                .await
                .map_err(|e| with_context(e, "cannot create table")),
            ),
            _ => None,
        };
        let facts = retrying(retries, || target.table_facts(&db, &name)).await?;
        match (created, &facts) {
            (Some(Err(StepError::Table(why))), Some(_)) => {
                tracing::warn!("{label} is in the target already; loading into it as it is ({why})")
            }
            (Some(Err(e)), _) => return Err(e),
            (None, None) => {
                let file = chunks.first().map(|c| c.path.clone()).unwrap_or_default();
                let why = if settings.no_schema { "--no-schema is set" } else { "the dump has no schema file for it" };
                return Err(StepError::Table(format!(
                    "data file {file}: table {label} does not exist in the target and {why}"
                )));
            }
            _ => {}
        }
        record.target_identity = facts.as_ref().and_then(|f| f.identity.clone());
        retrying(retries, || store.set_table_identity(record.id, record.target_identity.as_deref())).await?;
        record.state = TableState::SchemaCreated;
        retrying(retries, || store.set_table_state(record.id, record.state, None)).await?;
        facts
    } else {
        retrying(retries, || target.table_facts(&db, &name)).await?
    };
    let Some(facts) = facts else {
        return Err(StepError::Table(format!("table {label} is missing from the target")));
    };
    let (conflict, transactional) = conflict_for(settings, &facts, &label)?;
    let table = TableTarget { database: db, name, columns: facts.columns, conflict, transactional };
    Ok(Some((table, facts.description, create_sql)))
}

/// The row hasher of a table whose content is checked from its source rows, made from the
/// target table's columns as the schema step found them (a target that hashes content is a
/// MySQL-family server, which describes its tables). A restore whose manifest has checksums
/// checks against those instead (the server computed them with the same expression when the
/// backup was made).
fn table_hasher(
    settings: &ImportSettings,
    table: &TableTarget,
    description: Option<&TableDescription>,
    hashing: &Hashing,
) -> Option<Arc<TableHasher>> {
    let Hashing::On { server_offset } = *hashing else { return None };
    let key = (table.database.clone(), table.name.clone());
    let restore = settings.restore.as_ref().and_then(|r| r.expected.get(&key));
    if restore.is_some_and(|t| t.checksum.is_some()) {
        return None;
    }
    description.map(|t| Arc::new(TableHasher::new(t, server_offset)))
}

/// The table's key column when the key is one integer column, whose ranges split a check.
fn integer_key(description: &TableDescription) -> Option<String> {
    let [i] = description.key.as_deref()? else { return None };
    let column = description.columns.get(*i)?;
    let integer = matches!(column.data_type.as_str(), "tinyint" | "smallint" | "mediumint" | "int" | "bigint");
    integer.then(|| column.name.clone())
}

/// Whether this run hashes source rows for the content check, and in which time zone a dump
/// that sets none is stored.
pub(super) enum Hashing {
    Off,
    On { server_offset: Option<i64> },
}

impl Hashing {
    pub(super) async fn of(
        settings: &ImportSettings,
        target: &dyn Target,
    ) -> Result<Hashing, crate::error::TargetError> {
        if settings.checksum == PostLevel::Off || !target.checksums_content() {
            return Ok(Hashing::Off);
        }
        let server_offset = retrying(settings.max_retries, || target.session_utc_offset()).await?;
        Ok(Hashing::On { server_offset })
    }
}

/// How the table's rows are written. A table of a non-transactional engine keeps its rows even
/// when the marker's transaction does not commit, so exactly-once is out of reach (DESIGN.md,
/// invariant 1): a keyed one is written with REPLACE and resumes at-least-once from its last
/// durable marker, which the key makes harmless; a keyless one would get duplicates, and is
/// refused before any of its rows is written unless the user accepts that. Also whether the
/// table is transactional.
fn conflict_for(
    settings: &ImportSettings,
    facts: &TableFacts,
    label: &str,
) -> Result<(ConflictStrategy, bool), StepError> {
    let Some(engine) = &facts.non_transactional_engine else {
        // Counting conflicts, `ignore` is written as a plain INSERT, as Lightning does: a duplicate
        // is refused, so the row by row write records it (`skip.rs`), and a bad value is refused
        // too where INSERT IGNORE would store it adjusted.
        let conflict = match settings.conflict {
            ConflictStrategy::Ignore if settings.tolerance.conflicts(ConflictStrategy::Ignore).is_some() => {
                ConflictStrategy::Error
            }
            other => other,
        };
        return Ok((conflict, true));
    };
    // Only a MySQL-family server has non-transactional engines, and describes the table.
    let keyed = facts.description.as_ref().is_some_and(|d| d.key.is_some());
    if keyed {
        tracing::warn!(
            "{label} is {engine}, which commits outside transactions: its batches are written with REPLACE \
             and a resume re-sends those after the last durable marker (at-least-once; the key keeps it exact)"
        );
        return Ok((
            match settings.conflict {
                ConflictStrategy::Ignore => ConflictStrategy::Ignore,
                _ => ConflictStrategy::Replace,
            },
            false,
        ));
    }
    if settings.allow_keyless_non_transactional {
        tracing::warn!(
            "{label} is {engine} without a key: after a crash, the rows of the batches in flight may be loaded \
             twice (--allow-keyless-non-transactional)"
        );
        return Ok((settings.conflict, false));
    }
    Err(StepError::Table(format!(
        "{label} is {engine} and has no primary or unique key: its rows commit outside the progress marker's \
         transaction, so a crash could load some of them twice, and without a key they cannot be replaced. \
         Nothing of it was written. Convert it (ALTER TABLE ... ENGINE=InnoDB) or give it a key, or accept \
         possible duplicates after a crash with --allow-keyless-non-transactional"
    )))
}

/// A permanent target error as a table error with what was being done; a transient one as is.
fn with_context(e: crate::error::TargetError, doing: &str) -> StepError {
    match e.transient {
        true => StepError::Transient(e.message),
        false => StepError::Table(format!("{doing}: {}", e.message)),
    }
}

async fn read_create_table(source: &Source, path: &str, charset: SchemaCharset) -> Result<String, String> {
    let bytes = source.read_all(path).await.map_err(|e| e.to_string())?;
    ddl_file::create_table(path, &bytes, charset)
}
