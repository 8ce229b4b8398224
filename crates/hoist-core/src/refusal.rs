//! Whether a recorded checkpoint may be reused for this run (DESIGN.md invariants 3-5). Each
//! refusal says what differs and the command that resolves it.
//!
//! A table with nothing loaded yet (state `pending`, e.g. after `error-destroy`) may have
//! changed files: it is planned again from them. A change under loaded rows is refused.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::Catalog;
use crate::checkpoint::{Checkpoint, TableState};
use crate::error::CheckpointError;
use crate::jobspec::{self, JobSpec};
use crate::source::{Source, SourceFile};

/// A table as (database, name).
pub type TableName = (String, String);

/// The command-line options that locate a run's target and checkpoint (password redacted),
/// appended to the `hoist checkpoint ...` commands that messages suggest.
#[derive(Debug, Clone, Default)]
pub struct Locate {
    pub all: String,
    /// The same without `--target`: for a command that must name the checkpoint's own target.
    pub without_target: String,
}

/// What refusals suggest: the command that throws this job's checkpoint away (`hoist
/// checkpoint remove all`, or `hoist restore clean` for a restore), and the options that
/// locate the run's target and checkpoint.
pub struct Advice<'a> {
    pub start_over: &'a str,
    pub locate: &'a Locate,
}

/// Ok: the tables to plan again because their files changed while nothing of them was loaded.
pub fn check_reuse(
    cp: &Checkpoint,
    source: &Source,
    target_identity: &str,
    files: &[SourceFile],
    catalog: &Catalog,
    spec: &JobSpec,
    advice: &Advice<'_>,
) -> Result<BTreeSet<TableName>, CheckpointError> {
    // Whether this is the checkpoint's own job comes first: the advice below about table
    // errors (error-destroy drops tables) is for that job only.
    check_same_job(cp, source, target_identity, spec, advice)?;
    refuse_table_errors(cp, &advice.locate.all)?;
    let start_over =
        format!("to start over, dropping the tables it loaded into: {}{}", advice.start_over, advice.locate.all);
    let owner = file_owners(cp, catalog);
    let pending: BTreeSet<TableName> = cp
        .tables
        .iter()
        .filter(|t| t.state == TableState::Pending)
        .map(|t| (t.database.clone(), t.name.clone()))
        .collect();
    let planned: BTreeSet<TableName> = cp.tables.iter().map(|t| (t.database.clone(), t.name.clone())).collect();
    let recorded: BTreeMap<&str, (u64, i64)> =
        cp.files.iter().map(|f| (f.path.as_str(), (f.size, f.modified_ms))).collect();
    let now: BTreeMap<&str, (u64, i64)> = files.iter().map(|f| (f.path.as_str(), (f.size, f.modified_ms))).collect();
    let mut replan = BTreeSet::new();
    let mut changes = Vec::new();
    for (path, was) in &recorded {
        match now.get(path) {
            None => changes.push((*path, "was removed".to_string())),
            Some(is) if is != was => changes.push((
                *path,
                format!(
                    "was modified (size {} -> {} bytes, modified {} -> {})",
                    was.0,
                    is.0,
                    crate::error::modified_text(was.1),
                    crate::error::modified_text(is.1)
                ),
            )),
            _ => {}
        }
    }
    for path in now.keys().filter(|p| !recorded.contains_key(*p)) {
        changes.push((path, "was added".to_string()));
    }
    for (path, what) in changes {
        let loaded: Vec<String> = owner
            .get(path)
            .into_iter()
            .flatten()
            .filter(|t| !pending.contains(*t) && planned.contains(*t))
            .map(|(db, name)| hoist_schema::qualified_mysql_name(db, name))
            .collect();
        match (owner.get(path), loaded.as_slice()) {
            // Nothing of its tables is loaded (or the checkpoint forgot them): plan them again.
            (Some(tables), []) => replan.extend(tables.iter().cloned()),
            // Files that belong to no table (metadata, notes) do not matter.
            (None, _) if !is_dump_file(path, catalog) => {}
            (Some(_), [table]) => {
                return Err(CheckpointError::Refused(format!(
                    "the source changed since the checkpoint was recorded: {path} {what}, under rows of {table} \
                     already loaded; restore the file as it was (hoist compares its size and modification time), or load {table} again from its files as they are now: \
                     hoist checkpoint remove '{table}' --drop-tables{}",
                    advice.locate.all
                )));
            }
            // A file of several tables (a single mysqldump file): their chunks are ranges of it.
            (Some(_), tables) => {
                return Err(CheckpointError::Refused(format!(
                    "the source changed since the checkpoint was recorded: {path} {what}, under rows of {} \
                     already loaded; restore the file as it was (hoist compares its size and modification time), or \
                     {start_over}",
                    tables.join(", ")
                )));
            }
            (None, _) => {
                return Err(CheckpointError::Refused(format!(
                    "the source changed since the checkpoint was recorded: {path} {what}; restore it, or {start_over}"
                )))
            }
        }
    }
    Ok(replan)
}

/// The checkpoint is of this job: the same backup (for a restore), source, target and spec.
fn check_same_job(
    cp: &Checkpoint,
    source: &Source,
    target_identity: &str,
    spec: &JobSpec,
    advice: &Advice<'_>,
) -> Result<(), CheckpointError> {
    let locate = advice.locate;
    let start_over = format!("to start over, dropping the tables it loaded into: {}{}", advice.start_over, locate.all);
    let recorded =
        JobSpec::from_text(&cp.task.spec).map_err(|e| CheckpointError::Refused(format!("{e}; {start_over}")))?;
    let differences = jobspec::differences(&recorded, spec);
    // What a restore is bound to comes first: another backup, then another point of the log.
    let fields = |prefix: &str| -> Vec<String> {
        differences.iter().filter(|d| d.field.starts_with(prefix)).map(|d| d.to_string()).collect()
    };
    let bound = |what: &str, diffs: Vec<String>, recorded: String, given: String, finish: &str| {
        CheckpointError::Refused(format!(
            "the restore checkpoint in this target {what} ({}):\n  recorded: {recorded}\n  given:    {given}\n\
             {finish}, or clear the checkpoint and the tables it restored: {}{}",
            diffs.join("; "),
            advice.start_over,
            locate.all,
        ))
    };
    let upstream = fields("upstream");
    if !upstream.is_empty() {
        let show = |u: Option<&jobspec::Upstream>| {
            u.map_or("-".to_string(), |u| format!("cluster_id {}, backup_ts {}", u.cluster_id, u.backup_ts))
        };
        let (r, g) = (show(recorded.upstream.as_ref()), show(spec.upstream.as_ref()));
        return Err(bound("belongs to another backup", upstream, r, g, "restore the recorded backup again"));
    }
    let log = fields("log");
    if !log.is_empty() && recorded.kind == spec.kind {
        let show = |l: Option<&jobspec::LogRange>| {
            l.map_or("-".to_string(), |l| format!("from {} to {}", l.start, l.restored))
        };
        let (r, g) = (show(recorded.log.as_ref()), show(spec.log.as_ref()));
        return Err(bound(
            "replays the log to another point",
            log,
            r,
            g,
            "finish the recorded restore by giving its point again",
        ));
    }
    if cp.task.source != source.location() {
        return Err(CheckpointError::Refused(format!(
            "the checkpoint belongs to an import of {}, not of {}; {start_over}",
            cp.task.source,
            source.location()
        )));
    }
    if cp.task.target_identity != target_identity {
        // The controls act only on the checkpoint's own target: the command names it.
        let password = if crate::redact::has_password(&cp.task.target) { " (with its password for xxxxx)" } else { "" };
        return Err(CheckpointError::Refused(format!(
            "the checkpoint was recorded against another target ({}, identity {}), this one is {target_identity}; \
             point hoist at the original target, or to start over, remove the checkpoint: \
             hoist checkpoint remove all --target {}{}{password}",
            cp.task.target, cp.task.target_identity, cp.task.target, locate.without_target
        )));
    }
    if !differences.is_empty() {
        let lines: Vec<String> = differences.iter().map(|d| format!("  {d}")).collect();
        return Err(CheckpointError::Refused(format!(
            "the settings that shape the plan changed since the checkpoint was recorded:\n{}\nrun with the \
             recorded settings, or {start_over}",
            lines.join("\n")
        )));
    }
    Ok(())
}

/// Tables in error block the run until resolved; the message gives the commands that do it.
fn refuse_table_errors(cp: &Checkpoint, locate: &str) -> Result<(), CheckpointError> {
    let errors: Vec<_> = cp.tables.iter().filter(|t| t.error.is_some()).collect();
    if errors.is_empty() {
        return Ok(());
    }
    let mut msg =
        format!("the checkpoint records errors in {} table(s); fix the cause, then resolve each:\n", errors.len());
    for t in errors {
        let e = t.error.as_ref().expect("filtered");
        let name = hoist_schema::qualified_mysql_name(&t.database, &t.name);
        msg.push_str(&format!(
            "  {name}: {} (failed in state {})\n    to drop the table in the target and load it again (after a fix of its \
             file, this one: the other goes on from a position in the old file): \
             hoist checkpoint error-destroy '{name}'{locate}\n    to clear the error and go on from where it \
             stopped: hoist checkpoint error-ignore '{name}'{locate}\n",
            e.message, e.step
        ));
    }
    Err(CheckpointError::Refused(msg.trim_end().to_string()))
}

/// Which tables each schema and data file belongs to, as recorded and as the dump is now (a
/// single mysqldump file holds several).
fn file_owners(cp: &Checkpoint, catalog: &Catalog) -> BTreeMap<String, BTreeSet<TableName>> {
    let mut owner: BTreeMap<String, BTreeSet<TableName>> = BTreeMap::new();
    let by_id: BTreeMap<i64, TableName> =
        cp.tables.iter().map(|t| (t.id, (t.database.clone(), t.name.clone()))).collect();
    for c in &cp.chunks {
        if let Some(t) = by_id.get(&c.table_id) {
            owner.entry(c.path.clone()).or_default().insert(t.clone());
        }
    }
    for t in &cp.tables {
        if let Some(f) = &t.schema_file {
            owner.entry(f.clone()).or_default().insert((t.database.clone(), t.name.clone()));
        }
    }
    for t in &catalog.tables {
        let name = (t.database.clone(), t.name.clone());
        for f in t.schema_file.iter().chain(t.data_files.iter().map(|d| &d.file)) {
            owner.entry(f.path.clone()).or_default().insert(name.clone());
        }
    }
    owner
}

/// Whether a path is part of what the dump loads (as opposed to a stray file).
fn is_dump_file(path: &str, catalog: &Catalog) -> bool {
    let objects = catalog.views.iter().chain(&catalog.triggers).chain(&catalog.routines);
    catalog.databases.values().flatten().any(|f| f.path == path) || objects.into_iter().any(|o| o.file.path == path)
}
