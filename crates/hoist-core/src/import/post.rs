//! After the data: per table, the deferred indexes, the verification and ANALYZE (each step
//! recorded, so a rerun goes on from the first one not done); once every table is in, views,
//! triggers and routines.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::job::{ImportReport, Verification};
use super::lease::{Turn, Work};
use super::state::{adopt, advance_state, fail_table, retrying, set_state_at_least, Shared, StepError, TableRun};
use crate::catalog::{Catalog, CatalogObject};
use crate::charset::SchemaCharset;
use crate::checkpoint::TableState;
use crate::config::{ConflictStrategy, PostLevel};
use crate::content_hash::ContentSum;
use crate::ddl_file;
use crate::manifest::KeyRange;
use crate::source::Source;
use crate::target::Target;

/// The fewest rows for which a table is analyzed after its load.
const ANALYZE_FROM_ROWS: u64 = 1000;

/// The fewest rows for which a table's content check is split into key ranges, and into how
/// many at most (the load's concurrency, if lower).
const SPLIT_CHECK_FROM_ROWS: u64 = 100_000;
const SPLIT_CHECK_PARTS: usize = 4;

/// Deferred indexes, verification and analyze, once the table's last chunk is in: under the
/// lease of the table's post steps, so that of the processes sharing the job one runs them, from
/// the step the store says the table is at (another may have run some of them, or all).
pub(super) async fn finish_table(shared: &Shared, run: &Arc<TableRun>) {
    if run.failed.load(Ordering::SeqCst) {
        return;
    }
    let id = run.record.lock().unwrap_or_else(|p| p.into_inner()).id;
    let _lease = match shared.leases.take(Work::Post(id)).await {
        Ok(Turn::Ours(lease, table)) => {
            if adopt(run, table) {
                return;
            }
            lease
        }
        Ok(Turn::Theirs) => return,
        Err(e) => return shared.abort(e.into()),
    };
    let began = run.begin();
    let outcome = post_steps(shared, run).await;
    run.end(began);
    match outcome {
        Ok(()) => run.progress.finish(),
        Err(StepError::Table(message)) => fail_table(shared, run, message).await,
        Err(StepError::Stopped) => {}
        Err(why) => shared.abort(why),
    }
}

async fn post_steps(shared: &Shared, run: &Arc<TableRun>) -> Result<(), StepError> {
    let (id, db, name) = {
        let r = run.record.lock().unwrap_or_else(|p| p.into_inner());
        (r.id, r.database.clone(), r.name.clone())
    };
    let target = shared.target.as_ref();
    let retries = shared.settings.max_retries;
    set_state_at_least(shared, run, TableState::Written).await;
    crate::failpoint::pause("import.post-steps").await;
    // One after the other: a content check started beside the index build holds the table's
    // metadata lock, and the ALTER waits for it to end before it starts (measured: no time won).
    if state_of(run) < TableState::IndexesAdded {
        match add_deferred_indexes(shared, run, id, &db, &name).await? {
            true => set_state_at_least(shared, run, TableState::IndexesAdded).await,
            false => drop(advance_state(run, TableState::IndexesAdded)),
        }
    }
    if state_of(run) < TableState::Verified {
        match shared.settings.checksum {
            PostLevel::Off => drop(advance_state(run, TableState::Verified)),
            _ => {
                let found = check_table(shared, run, &db, &name).await?;
                *run.verification.lock().unwrap_or_else(|p| p.into_inner()) = Some(found);
                set_state_at_least(shared, run, TableState::Verified).await;
            }
        }
    }
    if state_of(run) < TableState::Analyzed {
        // A table of a few rows is left to the server's own statistics (InnoDB recomputes them
        // in the background once a tenth of a table changed, as a load from empty always does):
        // with thousands of small tables, ANALYZE's round trip per table was a tenth of the run.
        if shared.settings.analyze && run.rows_loaded.load(Ordering::SeqCst) >= ANALYZE_FROM_ROWS {
            run.progress.step("analyzing");
            retrying(retries, || target.analyze(&db, &name)).await.map_err(|e| match e.transient {
                true => StepError::Transient(e.message),
                false => StepError::Table(format!("analyze: {}", e.message)),
            })?;
            set_state_at_least(shared, run, TableState::Analyzed).await;
        } else {
            advance_state(run, TableState::Analyzed);
        }
    }
    set_state_at_least(shared, run, TableState::Done).await;
    Ok(())
}

/// The indexes the table was created without, added (and the table's identity, which an index
/// build may change, recorded again). Whether there were any.
async fn add_deferred_indexes(
    shared: &Shared,
    run: &TableRun,
    id: i64,
    db: &str,
    name: &str,
) -> Result<bool, StepError> {
    let target = shared.target.as_ref();
    let retries = shared.settings.max_retries;
    let statements = match &run.create_sql {
        Some(sql) => target.deferred_indexes(name, sql, run.defer_indexes)?,
        None => Vec::new(),
    };
    if statements.is_empty() {
        return Ok(false);
    }
    // An index build may rebuild the table and give it a new identity: forget the recorded one
    // until the new one is known, so a crash in between is not taken for a table dropped by
    // someone else.
    retrying(retries, || shared.store.set_table_identity(id, None)).await?;
    run.progress.step("adding indexes");
    let t = Instant::now();
    retrying(retries, || target.run_statements(db, &statements)).await.map_err(|e| match e.transient {
        true => StepError::Transient(e.message),
        false => StepError::Table(format!("adding the deferred indexes: {}", e.message)),
    })?;
    *run.index_time.lock().unwrap_or_else(|p| p.into_inner()) = t.elapsed();
    let identity = retrying(retries, || target.table_identity(db, name)).await?;
    retrying(retries, || shared.store.set_table_identity(id, identity.as_deref())).await?;
    run.record.lock().unwrap_or_else(|p| p.into_inner()).target_identity = identity;
    Ok(true)
}

/// The content check of `--checksum required|optional`: a difference fails the table when
/// the check is required.
async fn check_table(shared: &Shared, run: &TableRun, db: &str, name: &str) -> Result<Verification, StepError> {
    run.progress.step("verifying");
    match verify_table(shared, run, db, name).await? {
        Verification::Differs(why) if shared.settings.checksum == PostLevel::Required => {
            Err(StepError::Table(format!(
                "verification failed: {why} (was the table not empty before the import, or changed during it? \
             `--checksum optional` makes this a warning)"
            )))
        }
        other => Ok(other),
    }
}

/// Compare the table in the target with its source: the rows and, where every row's hash
/// was known, a checksum over them all; for a restore, with the backup's manifest.
async fn verify_table(shared: &Shared, run: &TableRun, db: &str, name: &str) -> Result<Verification, StepError> {
    let target = shared.target.as_ref();
    let retries = shared.settings.max_retries;
    let expected = run.rows_loaded.load(Ordering::SeqCst);
    let show = |(rows, sum): (u64, Option<u64>)| match sum {
        Some(sum) => format!("{rows} rows with checksum {sum:016x}"),
        None => format!("{rows} rows"),
    };
    // A backup made with checksums: against its manifest. One made without them is checked
    // as an import is, against the rows read from its files.
    let backup = shared.settings.restore.as_ref().and_then(|r| r.expected.get(&(db.to_string(), name.to_string())));
    if let Some((want, sum)) = backup.and_then(|want| Some((want, want.checksum?))) {
        // Every file's key range checked as it came in: the table's checksum is their sum.
        let ranges_checked = run.files_verified.load(Ordering::SeqCst) == want.files.len();
        let found = match ranges_checked {
            true => (retrying(retries, || target.row_count(db, name)).await?, sum),
            false => content_checksum(shared, run, db, name).await?,
        };
        if found != (want.rows, sum) {
            return Ok(Verification::Differs(format!(
                "the target holds {}, the backup's manifest says {}",
                show((found.0, Some(found.1))),
                show((want.rows, Some(sum)))
            )));
        }
        return Ok(Verification::Content);
    }
    // A table that held rows before: Lightning's logical mode compares nothing there; hoist
    // checks that it holds no more rows than it had plus those loaded (fewer where keys met).
    if let Some(before) = run.rows_before {
        let count = retrying(retries, || target.row_count(db, name)).await?;
        let most = before + expected;
        if count > most {
            return Ok(Verification::Differs(format!(
                "the target holds {count} rows, more than the {before} it held before the import and the {expected} \
                 loaded"
            )));
        }
        return Ok(Verification::CountOnly(format!(
            "it held {before} rows before the import ({count} now, {expected} loaded from the source)"
        )));
    }
    let content = run.content().known().filter(|_| target.checksums_content());
    let (count, sum) = match content {
        Some(_) => {
            let (rows, sum) = content_checksum(shared, run, db, name).await?;
            (rows, Some(ContentSum::of_server(sum).known().unwrap_or_default()))
        }
        None => (retrying(retries, || target.row_count(db, name)).await?, None),
    };
    let loaded = format!("{expected} were loaded from the source");
    match shared.settings.conflict {
        ConflictStrategy::Error if count != expected => {
            return Ok(Verification::Differs(format!("the target holds {count} rows but {loaded}")))
        }
        // Rows of the source with the same key collapse into one.
        _ if count > expected => {
            return Ok(Verification::Differs(format!("the target holds {count} rows but {loaded}")))
        }
        _ if count < expected => {
            return Ok(Verification::CountOnly(format!(
                "{} rows of the source had a key another row had ([conflict] strategy {:?})",
                expected - count,
                shared.settings.conflict
            )))
        }
        _ => {}
    }
    Ok(match (content, sum) {
        (Some(want), Some(got)) if want != got => Verification::Differs(format!(
            "the target's {count} rows have checksum {got:016x}, the source's {want:016x}: some row differs"
        )),
        (Some(_), Some(_)) => Verification::Content,
        _ if !target.checksums_content() => Verification::Counted,
        _ => Verification::CountOnly(
            run.unpredictable.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_else(|| {
                "an earlier run loaded rows whose printed form the server decides (or ran with --checksum off)".into()
            }),
        ),
    })
}

/// Rows and content checksum of the whole table, computed by the target. A large table with
/// an integer key is summed in key ranges side by side (the row hashes' sum is the same in
/// any partition of the rows): one scan would keep one server core busy while the others idle
/// at the end of the run, when the last table is checked.
async fn content_checksum(shared: &Shared, run: &TableRun, db: &str, name: &str) -> Result<(u64, u64), StepError> {
    let target = shared.target.as_ref();
    let retries = shared.settings.max_retries;
    let parts = shared.settings.concurrency.clamp(1, SPLIT_CHECK_PARTS) as i128;
    let bounds = match (&run.split_key, run.rows_loaded.load(Ordering::SeqCst) >= SPLIT_CHECK_FROM_ROWS) {
        (Some(key), true) if parts > 1 => retrying(retries, || target.key_bounds(db, name, key)).await?,
        _ => None,
    };
    let (Some((low, high)), Some(key)) = (bounds, &run.split_key) else {
        return Ok(retrying(retries, || target.content_checksum(db, name, None)).await?);
    };
    let step = ((high - low) / parts).max(1);
    let ranges: Vec<KeyRange> = (0..parts)
        .map(|i| KeyRange {
            column: key.clone(),
            from: (i > 0).then(|| low + i * step),
            to: (i < parts - 1).then(|| low + (i + 1) * step),
        })
        .collect();
    let sums = futures::future::try_join_all(
        ranges.iter().map(|range| retrying(retries, move || target.content_checksum(db, name, Some(range)))),
    )
    .await?;
    Ok(sums.into_iter().fold((0, 0), |(rows, sum), (r, s)| (rows + r, sum.wrapping_add(s))))
}

/// A restore: once a data file's chunks are all in, the rows of its key range are checked
/// against the manifest, while other chunks still load (a table's own check at the end would
/// read all of it again after its last chunk, on one connection).
pub(super) async fn verify_file(shared: &Shared, run: &TableRun, path: &str) -> Result<(), StepError> {
    let (db, name) = {
        let r = run.record.lock().unwrap_or_else(|p| p.into_inner());
        (r.database.clone(), r.name.clone())
    };
    let restore = shared.settings.restore.as_ref();
    let Some(want) = restore.and_then(|r| r.expected.get(&(db.clone(), name.clone()))?.files.get(path)) else {
        return Ok(());
    };
    let (Some(key), Some(sum)) = (&want.key, want.checksum) else { return Ok(()) };
    {
        let mut left = run.files_left.lock().unwrap_or_else(|p| p.into_inner());
        match left.get_mut(path) {
            Some(n) if *n > 1 => {
                *n -= 1;
                return Ok(());
            }
            Some(_) => {
                left.remove(path);
            }
            None => return Ok(()),
        }
    }
    let target = shared.target.as_ref();
    let found = retrying(shared.settings.max_retries, || target.content_checksum(&db, &name, Some(key))).await?;
    if found != (want.rows, sum) {
        return Err(StepError::Table(format!(
            "verification failed: the rows of {path} (`{}` in [{}, {})) in the target are {} with checksum {:016x}, \
             the backup's manifest says {} with checksum {sum:016x} (was the table changed during the restore, or \
             the file?)",
            key.column,
            key.from.map_or("-inf".into(), |v| v.to_string()),
            key.to.map_or("+inf".into(), |v| v.to_string()),
            found.0,
            found.1,
            want.rows
        )));
    }
    run.files_verified.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

fn state_of(run: &TableRun) -> TableState {
    run.record.lock().unwrap_or_else(|p| p.into_inner()).state
}

/// Views, then triggers, then routines: after all data, so no trigger fires during the load.
pub(super) async fn create_post_data_objects(
    source: &Source,
    catalog: &Catalog,
    target: &dyn Target,
    (charset, skip_definer): (SchemaCharset, bool),
    report: &mut ImportReport,
) {
    // A database may hold only views: it was not created with any table.
    let view_databases: std::collections::BTreeSet<&str> = catalog.views.iter().map(|v| v.database.as_str()).collect();
    for db in view_databases {
        if let Err(e) = target.create_database(db, None).await {
            report.object_errors.push(format!("database `{db}` for its views: {}", e.message));
        }
    }
    // A view may select from another view: create what can be created, then try the rest
    // again, until a round makes no progress.
    let mut pending: Vec<&CatalogObject> = catalog.views.iter().collect();
    let mut errors = Vec::new();
    // Per database: what the target does not create, by kind, with the names (and reasons).
    let mut left_out: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut skipped: BTreeMap<(&str, &'static str), Vec<String>> = BTreeMap::new();
    while !pending.is_empty() {
        errors.clear();
        let mut left = Vec::new();
        for view in pending.iter().copied() {
            let result = async {
                let statements = file_statements(source, view, charset, skip_definer).await?;
                let sql = ddl_file::find(&statements, ddl_file::is_create_view)
                    .ok_or_else(|| format!("{}: no CREATE VIEW statement", view.file.path))?;
                target.create_view(&view.database, &view.name, sql).await.map_err(|e| e.message)
            }
            .await;
            match result {
                Ok(None) => {}
                Ok(Some(reason)) => {
                    left_out.entry(&view.database).or_default().push(format!("{} ({reason})", view.name))
                }
                Err(e) => {
                    errors.push(format!("view `{}`.`{}`: {e}", view.database, view.name));
                    left.push(view);
                }
            }
        }
        if left.len() == pending.len() {
            break;
        }
        pending = left;
    }
    report.object_errors.append(&mut errors);
    for (db, views) in &left_out {
        report.notes.push(format!(
            "`{db}`: {} not created in SQLite, which must read the file from version {} on: {}",
            count(views.len(), "view"),
            hoist_schema::OLDEST_SQLITE,
            views.join(", ")
        ));
    }
    for (kind, objects) in [("triggers", &catalog.triggers), ("routines", &catalog.routines)] {
        for obj in objects {
            let result = async {
                let statements = file_statements(source, obj, charset, skip_definer).await?;
                target.run_post_ddl(&obj.database, &statements).await.map_err(|e| e.message)
            }
            .await;
            match result {
                Ok(objects) => {
                    for (kind, name) in objects {
                        skipped.entry((&obj.database, kind)).or_default().push(name);
                    }
                }
                Err(e) => report.object_errors.push(format!("{kind} of `{}` ({}): {e}", obj.database, obj.file.path)),
            }
        }
    }
    for ((db, kind), names) in &mut skipped {
        names.sort();
        report.notes.push(format!(
            "`{db}`: {} not created in SQLite (MySQL-only code): {}",
            count(names.len(), kind),
            names.join(", ")
        ));
    }
}

/// "1 view", "3 views".
fn count(n: usize, kind: &str) -> String {
    match n {
        1 => format!("1 {kind}"),
        n => format!("{n} {kind}s"),
    }
}

async fn file_statements(
    source: &Source,
    obj: &CatalogObject,
    charset: SchemaCharset,
    skip_definer: bool,
) -> Result<Vec<String>, String> {
    let bytes = source.read_all(&obj.file.path).await.map_err(|e| e.to_string())?;
    let statements = ddl_file::statements(&obj.file.path, &bytes, charset)?;
    Ok(if skip_definer { statements.iter().map(|s| ddl_file::strip_definer(s)).collect() } else { statements })
}
