//! `hoist checkpoint ...` (and tidb-lightning-ctl's `--checkpoint-*` spellings): read and
//! resolve a checkpoint. A table is named `` `db`.`tbl` `` (backquoted, case-sensitive, a
//! backquote inside doubled), `db.tbl` when neither name holds a dot or a backquote (then it
//! cannot be read two ways), or `all`.
//!
//! A control that writes acts only on the target the checkpoint was recorded against (DESIGN.md
//! invariant 4): the one given (`--target` or the config), else the recorded one; either way
//! its identity must be the recorded one, or nothing is done. Otherwise a control meant for one
//! import could drop a table of the same name on another server.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::checkpoint::{Checkpoint, CheckpointStore, ChunkRecord, TableRecord, TableState, TO_END};
use crate::error::CheckpointError;
use crate::target::{self, Target, TargetOptions};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableSelector {
    All,
    One { database: String, name: String },
}

impl std::str::FromStr for TableSelector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "all" {
            return Ok(TableSelector::All);
        }
        let bad = || {
            format!(
                "{s:?} is not a table name: write `db`.`table` (with the backquotes; db.table without them \
                 when neither name holds a dot or a backquote) or all"
            )
        };
        if let Some((database, name)) = unquoted(s) {
            return Ok(TableSelector::One { database, name });
        }
        let (database, rest) = backquoted(s).ok_or_else(bad)?;
        let rest = rest.strip_prefix('.').ok_or_else(bad)?;
        let (name, rest) = backquoted(rest).ok_or_else(bad)?;
        if !rest.is_empty() {
            return Err(bad());
        }
        Ok(TableSelector::One { database, name })
    }
}

/// `db.tbl` without backquotes: exactly one dot, no backquote, neither name empty.
fn unquoted(s: &str) -> Option<(String, String)> {
    let (database, name) = s.split_once('.')?;
    let plain = |n: &str| !n.is_empty() && !n.contains(['.', '`']);
    (plain(database) && plain(name)).then(|| (database.to_string(), name.to_string()))
}

/// A leading `` `name` `` (with ``` `` ``` for a backquote) and what follows it.
fn backquoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('`')?.char_indices().peekable();
    let mut name = String::new();
    while let Some((i, c)) = chars.next() {
        if c == '`' {
            if chars.peek().map(|&(_, c)| c) == Some('`') {
                chars.next();
                name.push('`');
            } else {
                return Some((name, &s[i + 2..]));
            }
        } else {
            name.push(c);
        }
    }
    None
}

fn quoted(t: &TableRecord) -> String {
    hoist_schema::qualified_mysql_name(&t.database, &t.name)
}

async fn load(store: &dyn CheckpointStore) -> Result<Checkpoint, CheckpointError> {
    store
        .load()
        .await?
        .ok_or_else(|| CheckpointError::Refused(format!("there is no checkpoint in {}", store.location())))
}

/// The tables a selector names; an unknown name lists the known ones.
fn select<'a>(cp: &'a Checkpoint, sel: &TableSelector) -> Result<Vec<&'a TableRecord>, CheckpointError> {
    match sel {
        TableSelector::All => Ok(cp.tables.iter().collect()),
        TableSelector::One { database, name } => {
            match cp.tables.iter().find(|t| &t.database == database && &t.name == name) {
                Some(t) => Ok(vec![t]),
                None => {
                    let known: Vec<String> = cp.tables.iter().map(quoted).collect();
                    Err(CheckpointError::Refused(format!(
                        "the checkpoint has no table `{database}`.`{name}` (names are case-sensitive); it has: {}",
                        known.join(", ")
                    )))
                }
            }
        }
    }
}

fn chunks_of(cp: &Checkpoint, table_id: i64) -> impl Iterator<Item = &ChunkRecord> {
    cp.chunks.iter().filter(move |c| c.table_id == table_id)
}

fn chunk_bytes(c: &ChunkRecord) -> (u64, Option<u64>) {
    let done = c.progress.offset.saturating_sub(c.start);
    (done, (c.end != TO_END).then(|| c.end - c.start))
}

/// A source table's line under its target table in `show`: its label and its chunks.
type SourceLine<'a> = (String, Vec<&'a ChunkRecord>);

/// Each table's state, error and progress, as a person reads it. With a target given, also
/// the rows the task skipped under `[lightning] max-error` and `[conflict] threshold`, as the
/// target's records (in `schema`) count them: they commit with the markers, the store's copy
/// of progress does not know them.
pub async fn show(
    store: &dyn CheckpointStore,
    target: &TargetArg<'_>,
    schema: &str,
) -> Result<String, CheckpointError> {
    let cp = load(store).await?;
    let t = &cp.task;
    let mut out = format!(
        "checkpoint {}\ntask {} from {} into {} (target identity {})\n\n",
        store.location(),
        t.task_id,
        t.source,
        t.target,
        t.target_identity
    );
    // A table that `[[routes]]` merged from several of the dump's tables (or renamed) lists each
    // source under it, named by its data files, with its own chunks' progress.
    let sources = |table: &TableRecord| -> Vec<SourceLine<'_>> {
        let mut by: std::collections::BTreeMap<String, Vec<&ChunkRecord>> = Default::default();
        for c in chunks_of(&cp, table.id) {
            let name = c.path.rsplit('/').next().unwrap_or(&c.path);
            let Some((db, name)) = crate::catalog::data_file_table(name) else { return Vec::new() };
            by.entry(hoist_schema::qualified_mysql_name(&db, &name)).or_default().push(c);
        }
        match by.len() == 1 && by.contains_key(&quoted(table)) {
            true => Vec::new(),
            false => by.into_iter().map(|(name, chunks)| (format!("  <- {name}"), chunks)).collect(),
        }
    };
    let listed: Vec<(&TableRecord, Vec<SourceLine<'_>>)> = cp.tables.iter().map(|t| (t, sources(t))).collect();
    let width = listed
        .iter()
        .flat_map(|(t, s)| std::iter::once(quoted(t).len()).chain(s.iter().map(|(n, _)| n.len())))
        .max()
        .unwrap_or(5)
        .max(5);
    out.push_str(&format!(
        "{:<width$}  {:<14}  {:>11}  {:>12}  {:>21}  error\n",
        "table", "state", "chunks", "rows", "MB"
    ));
    let line = |name: &str, state: &str, chunks: &[&ChunkRecord], error: &str| {
        let done = chunks.iter().filter(|c| c.progress.done).count();
        let rows: u64 = chunks.iter().map(|c| c.progress.rows).sum();
        let bytes: u64 = chunks.iter().map(|c| chunk_bytes(c).0).sum();
        let total: Option<u64> = chunks.iter().map(|c| chunk_bytes(c).1).sum();
        let total = total.map(|b| format!("{:.1}", b as f64 / 1e6)).unwrap_or_else(|| "?".into());
        format!(
            "{name:<width$}  {state:<14}  {:>11}  {rows:>12}  {:>21}  {error}\n",
            format!("{done}/{}", chunks.len()),
            format!("{:.1}/{total}", bytes as f64 / 1e6),
        )
    };
    for (table, sources) in &listed {
        let chunks: Vec<_> = chunks_of(&cp, table.id).collect();
        let error =
            table.error.as_ref().map(|e| format!("{} (failed in state {})", e.message, e.step)).unwrap_or_default();
        out.push_str(&line(&quoted(table), table.state.as_str(), &chunks, &error));
        for (name, chunks) in sources {
            out.push_str(&line(name, "", chunks, ""));
        }
    }
    // Only a target given: the recorded one may be a server that is down, and show must not wait.
    if target.given.is_some() {
        if let Ok(Reach::Bound(t)) = reach(&cp, store, target).await {
            if let Ok(Some((types, conflicts))) = t.error_counts(schema, cp.task.task_id).await {
                if types + conflicts > 0 {
                    let task = cp.task.task_id;
                    out.push_str(&format!(
                        "\nrows skipped: {types} refused for their values (`{schema}`.`type_error_v2`), {conflicts} \
                         conflicts (`{schema}`.`conflict_records`), WHERE task_id = {task}\n"
                    ));
                }
            }
        }
    }
    let objects = store.object_errors().await?;
    if !objects.is_empty() {
        out.push_str("\nviews, triggers and routines that the last run could not create (a rerun tries them again):\n");
        for e in objects {
            out.push_str(&format!("  {e}\n"));
        }
    }
    out.push_str("\n(progress as last saved; the target's markers may be a little ahead, and they win on resume)\n");
    Ok(out)
}

/// The selected tables that are in error. The others are left alone: a table named by the user
/// is named back; for `all`, one line counts them (a checkpoint of thousands of tables would
/// otherwise bury the few lines that say what was done).
fn in_error<'a>(
    cp: &'a Checkpoint,
    sel: &TableSelector,
    said: &mut Vec<String>,
) -> Result<Vec<&'a TableRecord>, CheckpointError> {
    let (failed, fine): (Vec<_>, Vec<_>) = select(cp, sel)?.into_iter().partition(|t| t.error.is_some());
    match (sel, fine.as_slice()) {
        (_, []) => {}
        (TableSelector::One { .. }, [t]) => said.push(format!("{}: not in error; left alone", quoted(t))),
        _ => said.push(format!("{} table(s) not in error: left alone", fine.len())),
    }
    Ok(failed)
}

/// Where a control finds its target.
pub struct TargetArg<'a> {
    /// The URL given by `--target` or the config; None: the one the checkpoint records.
    pub given: Option<&'a str>,
    pub options: &'a TargetOptions,
}

/// The target of a control, once known to be the checkpoint's own.
enum Reach {
    Bound(Arc<dyn Target>),
    /// It could not be opened (a server down, a file that is not there): why.
    Unreachable(String),
}

/// Open the target a control acts on and check that it is the one the checkpoint was recorded
/// against. Refused: another target, or a recorded URL whose password was redacted.
async fn reach(cp: &Checkpoint, store: &dyn CheckpointStore, arg: &TargetArg<'_>) -> Result<Reach, CheckpointError> {
    let recorded = &cp.task.target;
    let url = match arg.given {
        Some(url) => url.to_string(),
        None if crate::redact::has_password(recorded) => {
            return Err(CheckpointError::Refused(format!(
                "no target given, and the checkpoint {} records its target without the password \
                 ({recorded}); nothing was changed. Give the import's own target, password included: \
                 --target mysql://USER:PASSWORD@HOST:PORT",
                store.location()
            )))
        }
        None => recorded.clone(),
    };
    let shown = crate::redact::redact_url(&url);
    let other = |what: &str| {
        CheckpointError::Refused(format!(
            "the checkpoint {} belongs to the import into {recorded} (identity {}), and {shown} is {what}; \
             nothing was changed. Give that import's own target with --target, or leave --target out to use the \
             recorded one",
            store.location(),
            cp.task.target_identity
        ))
    };
    // A file is checked before it is opened: opening creates it and adds hoist's tables.
    if let Some(path) = url.strip_prefix("sqlite://") {
        match target::sqlite::SqliteTarget::identity_at(Path::new(path)) {
            Ok(Some(id)) if id == cp.task.target_identity => {}
            Ok(Some(id)) => return Err(other(&format!("another target (identity {id})"))),
            Ok(None) if !Path::new(path).exists() => return Ok(Reach::Unreachable(format!("{shown} does not exist"))),
            Ok(None) => return Err(other("another file, not a hoist target")),
            Err(e) => return Ok(Reach::Unreachable(format!("{shown}: {}", e.message))),
        }
    }
    let opened = match target::open(&url, arg.options).await {
        Ok(t) => t,
        Err(e) => return Ok(Reach::Unreachable(format!("{shown}: {}", e.message))),
    };
    match opened.identity().await {
        Ok(id) if id == cp.task.target_identity => Ok(Reach::Bound(opened)),
        Ok(id) => Err(other(&format!("another target (identity {id})"))),
        Err(e) => Ok(Reach::Unreachable(format!("{shown}: {}", e.message))),
    }
}

/// The checkpoint's own target, or a refusal: error-destroy and error-ignore must not act on
/// a checkpoint without knowing its target is the one given.
async fn reach_or_refuse(
    cp: &Checkpoint,
    store: &dyn CheckpointStore,
    arg: &TargetArg<'_>,
) -> Result<Arc<dyn Target>, CheckpointError> {
    match reach(cp, store, arg).await? {
        Reach::Bound(t) => Ok(t),
        Reach::Unreachable(why) => Err(out_of_reach(cp, store, &why)),
    }
}

fn out_of_reach(cp: &Checkpoint, store: &dyn CheckpointStore, why: &str) -> CheckpointError {
    CheckpointError::Refused(format!(
        "cannot reach the target to check that it is the checkpoint's own ({why}); nothing was changed. \
         The checkpoint {} belongs to the import into {}: run this again when it can be reached",
        store.location(),
        cp.task.target
    ))
}

/// A target failure while a control acts on table `t`, as the control's error.
fn target_failed(target: &dyn Target, t: &TableRecord, e: crate::error::TargetError) -> CheckpointError {
    let message = format!("{}: {}", quoted(t), e.message);
    CheckpointError::Store { location: target.describe(), message, transient: e.transient }
}

/// A table is dropped only if it is still the one the import created: one dropped and created
/// again since (by someone else) holds rows that are not the import's.
async fn check_table_identity(target: &dyn Target, t: &TableRecord) -> Result<(), CheckpointError> {
    let Some(was) = &t.target_identity else {
        return Ok(());
    };
    let now = target.table_identity(&t.database, &t.name).await.map_err(|e| target_failed(target, t, e))?;
    match now {
        Some(is) if &is != was => Err(CheckpointError::Refused(format!(
            "{} in {} is not the table the import created (recorded {was}, now {is}): it was dropped and created \
             again since; nothing was dropped. If its rows may go, drop it yourself, then run this again",
            quoted(t),
            target.describe()
        ))),
        _ => Ok(()),
    }
}

/// For tables in error: drop the target table, forget its markers, and start it over.
pub async fn error_destroy(
    store: &dyn CheckpointStore,
    arg: &TargetArg<'_>,
    sel: &TableSelector,
) -> Result<Vec<String>, CheckpointError> {
    let cp = load(store).await?;
    let target = reach_or_refuse(&cp, store, arg).await?;
    let mut said = Vec::new();
    let failed = in_error(&cp, sel, &mut said)?;
    // Every table is checked before any is dropped: a refusal leaves all of them as they were.
    for t in &failed {
        check_table_identity(target.as_ref(), t).await?;
    }
    for t in failed {
        let target_err = |e| target_failed(target.as_ref(), t, e);
        target.drop_table(&t.database, &t.name).await.map_err(target_err)?;
        let ids: Vec<i64> = chunks_of(&cp, t.id).map(|c| c.id).collect();
        target.clear_markers(cp.task.task_id, Some(&ids)).await.map_err(target_err)?;
        store.reset_table(t.id).await?;
        said.push(format!(
            "{}: dropped in the target {}; it will be loaded again from its start",
            quoted(t),
            target.describe()
        ));
    }
    Ok(said)
}

/// For tables in error: clear the error and go on from where they stopped. Only the checkpoint
/// changes, but the target is checked all the same: the rows the run goes on from are there.
pub async fn error_ignore(
    store: &dyn CheckpointStore,
    arg: &TargetArg<'_>,
    sel: &TableSelector,
) -> Result<Vec<String>, CheckpointError> {
    let cp = load(store).await?;
    reach_or_refuse(&cp, store, arg).await?;
    let mut said = Vec::new();
    for t in in_error(&cp, sel, &mut said)? {
        store.set_table_state(t.id, t.state, None).await?;
        said.push(format!(
            "{}: error cleared; the next run goes on from state {}, where it stopped. The rows loaded before the \
             error stay as they are: if they may be wrong, use error-destroy instead, which loads the table again",
            quoted(t),
            t.state.as_str()
        ));
    }
    Ok(said)
}

/// Forget tables whatever their state (`all`: the whole checkpoint). A forgotten table is
/// planned and loaded from its start by the next run, which needs it empty: with
/// `drop_tables`, each table the job created or wrote into (and that is still the table it
/// recorded) is dropped first, so that the next run finishes. Another target is refused. The
/// recorded target out of reach (a server gone for good) does not stop a plain remove: its
/// markers stay, and they are harmless, since new chunks get ids clear of them. Another URL
/// out of reach is refused: nothing tells that it is the recorded target.
pub async fn remove(
    store: &dyn CheckpointStore,
    arg: &TargetArg<'_>,
    sel: &TableSelector,
    drop_tables: bool,
) -> Result<Vec<String>, CheckpointError> {
    let cp = load(store).await?;
    let mut said = Vec::new();
    let recorded = arg.given.is_none_or(|url| crate::redact::redact_url(url) == cp.task.target);
    let target = match reach(&cp, store, arg).await? {
        Reach::Bound(t) => Some(t),
        Reach::Unreachable(why) if recorded && !drop_tables => {
            said.push(format!("the target could not be reached ({why}): its progress markers stay"));
            None
        }
        Reach::Unreachable(why) => return Err(out_of_reach(&cp, store, &why)),
    };
    let target = target.as_deref();
    if let (true, Some(target)) = (drop_tables, target) {
        // Every table is checked before any is dropped: a refusal leaves all of them as they were.
        let written: Vec<&TableRecord> =
            select(&cp, sel)?.into_iter().filter(|t| t.state > TableState::Pending).collect();
        for t in &written {
            check_table_identity(target, t).await?;
        }
        for t in written {
            target.drop_table(&t.database, &t.name).await.map_err(|e| target_failed(target, t, e))?;
            said.push(format!("{}: dropped in the target {}", quoted(t), target.describe()));
        }
    }
    if *sel == TableSelector::All {
        if let Some(target) = target {
            let _ = target.clear_markers(cp.task.task_id, None).await;
        }
        store.discard().await?;
        said.push(format!("checkpoint {} removed", store.location()));
        return Ok(said);
    }
    for t in select(&cp, sel)? {
        if let Some(target) = target {
            let ids: Vec<i64> = chunks_of(&cp, t.id).map(|c| c.id).collect();
            let _ = target.clear_markers(cp.task.task_id, Some(&ids)).await;
        }
        store.remove_table(t.id).await?;
        let hint = if t.state > TableState::Pending && !drop_tables {
            "; its rows in the target stay: empty or drop the table before the next run (--drop-tables does it)"
        } else {
            ""
        };
        said.push(format!("{}: removed from the checkpoint{hint}", quoted(t)));
    }
    Ok(said)
}

/// Write the checkpoint as CSV files with headers: task.csv, tables.csv, chunks.csv, files.csv;
/// and for a single-file dump its scan, source_scan.json. The target is stored with its password
/// redacted already.
pub async fn dump(store: &dyn CheckpointStore, dir: &Path) -> Result<Vec<PathBuf>, CheckpointError> {
    let cp = load(store).await?;
    let io = |e: std::io::Error| CheckpointError::store(dir.display().to_string(), e.to_string());
    std::fs::create_dir_all(dir).map_err(io)?;
    let t = &cp.task;
    let tables: Vec<Vec<String>> = cp
        .tables
        .iter()
        .map(|t| {
            vec![
                t.id.to_string(),
                t.database.clone(),
                t.name.clone(),
                t.schema_file.clone().unwrap_or_default(),
                t.state.as_str().into(),
                t.error.as_ref().map(|e| e.step.clone()).unwrap_or_default(),
                t.error.as_ref().map(|e| e.message.clone()).unwrap_or_default(),
                t.target_identity.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let chunks: Vec<Vec<String>> = cp
        .chunks
        .iter()
        .map(|c| {
            let p = &c.progress;
            vec![
                c.id.to_string(),
                c.table_id.to_string(),
                c.path.clone(),
                c.format.as_str().into(),
                c.compression.as_str().into(),
                c.start.to_string(),
                if c.end == TO_END { String::new() } else { c.end.to_string() },
                p.offset.to_string(),
                p.stmt_start.map(|v| v.to_string()).unwrap_or_default(),
                p.rows.to_string(),
                p.checksum.to_string(),
                p.done.to_string(),
            ]
        })
        .collect();
    let files: Vec<Vec<String>> =
        cp.files.iter().map(|f| vec![f.path.clone(), f.size.to_string(), f.modified_ms.to_string()]).collect();
    let mut written = [
        (
            "task.csv",
            vec!["task_id", "source", "target", "target_identity", "spec", "created_ms"],
            vec![vec![
                t.task_id.to_string(),
                t.source.clone(),
                crate::redact::redact_url(&t.target),
                t.target_identity.clone(),
                t.spec.clone(),
                t.created_ms.to_string(),
            ]],
        ),
        (
            "tables.csv",
            vec!["id", "database", "table", "schema_file", "state", "error_state", "error", "target_identity"],
            tables,
        ),
        (
            "chunks.csv",
            vec![
                "id",
                "table_id",
                "path",
                "format",
                "compression",
                "start",
                "end",
                "offset",
                "stmt_start",
                "rows",
                "checksum",
                "done",
            ],
            chunks,
        ),
        ("files.csv", vec!["path", "size", "modified_ms"], files),
    ]
    .into_iter()
    .map(|(name, header, rows)| {
        let path = dir.join(name);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        writeln!(f, "{}", header.join(","))?;
        for row in rows {
            let fields: Vec<String> = row.iter().map(|v| csv_field(v)).collect();
            writeln!(f, "{}", fields.join(","))?;
        }
        f.flush()?;
        Ok(path)
    })
    .collect::<Result<Vec<_>, std::io::Error>>()
    .map_err(io)?;
    if let Some(scan) = &cp.scan {
        let path = dir.join("source_scan.json");
        std::fs::write(&path, scan).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names() {
        assert_eq!("all".parse::<TableSelector>(), Ok(TableSelector::All));
        assert_eq!(
            "`shop`.`order``s`".parse::<TableSelector>(),
            Ok(TableSelector::One { database: "shop".into(), name: "order`s".into() })
        );
        assert_eq!(
            "`a.b`.`c`".parse::<TableSelector>(),
            Ok(TableSelector::One { database: "a.b".into(), name: "c".into() })
        );
        assert_eq!(
            "shop.orders".parse::<TableSelector>(),
            Ok(TableSelector::One { database: "shop".into(), name: "orders".into() })
        );
        for bad in ["a.b.c", "`shop`.orders", "shop.`orders`", "shop.", ".orders", "`shop`", "`shop`.`orders` x", "ALL"]
        {
            assert!(bad.parse::<TableSelector>().is_err(), "{bad}");
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_redacted_recorded_target_needs_the_target_given() {
        let dir = tempfile::tempdir().unwrap();
        // Its target is recorded as mysql://root:xxxxx@db:3306, and a table is in error.
        let store = crate::checkpoint::sqlite::SqliteStore::open(&dir.path().join("cp.db")).unwrap();
        store.create(&crate::checkpoint::conformance::sample()).await.unwrap();
        let options = TargetOptions {
            meta_schema: "hoist_meta".into(),
            sql_mode: String::new(),
            disable_binlog: false,
            write_mode: crate::target::WriteMode::Insert,
            tls: Default::default(),
        };
        let arg = TargetArg { given: None, options: &options };
        let all = TableSelector::All;
        for result in [
            error_destroy(&store, &arg, &all).await,
            error_ignore(&store, &arg, &all).await,
            remove(&store, &arg, &all, false).await,
        ] {
            let message = result.unwrap_err().to_string();
            assert!(message.contains("without the password (mysql://root:xxxxx@db:3306)"), "{message}");
            assert!(message.contains("--target mysql://USER:PASSWORD@HOST:PORT"), "{message}");
        }
        assert!(store.load().await.unwrap().is_some(), "the checkpoint is as it was");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
