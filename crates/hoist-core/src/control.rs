//! `hoist checkpoint ...` (and tidb-lightning-ctl's `--checkpoint-*` spellings): read and
//! resolve a checkpoint. A table is named `` `db`.`tbl` `` (backquoted, case-sensitive, a
//! backquote inside doubled) or `all`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::checkpoint::{Checkpoint, CheckpointStore, ChunkRecord, TableRecord, TableState, TO_END};
use crate::error::CheckpointError;
use crate::target::Target;

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
        let bad = || format!("{s:?} is not a table name: write `db`.`table` (with the backquotes) or all");
        let (database, rest) = backquoted(s).ok_or_else(bad)?;
        let rest = rest.strip_prefix('.').ok_or_else(bad)?;
        let (name, rest) = backquoted(rest).ok_or_else(bad)?;
        if !rest.is_empty() {
            return Err(bad());
        }
        Ok(TableSelector::One { database, name })
    }
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
    format!("`{}`.`{}`", t.database.replace('`', "``"), t.name.replace('`', "``"))
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

/// Each table's state, error and progress, as a person reads it.
pub async fn show(store: &dyn CheckpointStore) -> Result<String, CheckpointError> {
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
    let width = cp.tables.iter().map(|t| quoted(t).len()).max().unwrap_or(5).max(5);
    out.push_str(&format!(
        "{:<width$}  {:<14}  {:>11}  {:>12}  {:>21}  error\n",
        "table", "state", "chunks", "rows", "MB"
    ));
    for table in &cp.tables {
        let chunks: Vec<_> = chunks_of(&cp, table.id).collect();
        let done = chunks.iter().filter(|c| c.progress.done).count();
        let rows: u64 = chunks.iter().map(|c| c.progress.rows).sum();
        let bytes: u64 = chunks.iter().map(|c| chunk_bytes(c).0).sum();
        let total: Option<u64> = chunks.iter().map(|c| chunk_bytes(c).1).sum();
        let total = total.map(|b| format!("{:.1}", b as f64 / 1e6)).unwrap_or_else(|| "?".into());
        let error =
            table.error.as_ref().map(|e| format!("{} (failed in state {})", e.message, e.step)).unwrap_or_default();
        out.push_str(&format!(
            "{:<width$}  {:<14}  {:>11}  {:>12}  {:>21}  {error}\n",
            quoted(table),
            table.state.as_str(),
            format!("{done}/{}", chunks.len()),
            rows,
            format!("{:.1}/{total}", bytes as f64 / 1e6),
        ));
    }
    out.push_str("\n(progress as last saved; the target's markers may be a little ahead, and they win on resume)\n");
    Ok(out)
}

/// The selected tables that are in error; the others are reported as left alone.
fn in_error<'a>(
    cp: &'a Checkpoint,
    sel: &TableSelector,
    said: &mut Vec<String>,
) -> Result<Vec<&'a TableRecord>, CheckpointError> {
    let (failed, fine): (Vec<_>, Vec<_>) = select(cp, sel)?.into_iter().partition(|t| t.error.is_some());
    said.extend(fine.into_iter().map(|t| format!("{}: not in error; left alone", quoted(t))));
    Ok(failed)
}

/// For tables in error: drop the target table, forget its markers, and start it over.
pub async fn error_destroy(
    store: &dyn CheckpointStore,
    target: &dyn Target,
    sel: &TableSelector,
) -> Result<Vec<String>, CheckpointError> {
    let cp = load(store).await?;
    let mut said = Vec::new();
    for t in in_error(&cp, sel, &mut said)? {
        let target_err = |e: crate::error::TargetError| CheckpointError::Store {
            location: target.describe(),
            message: format!("{}: {}", quoted(t), e.message),
        };
        target.drop_table(&t.database, &t.name).await.map_err(target_err)?;
        let ids: Vec<i64> = chunks_of(&cp, t.id).map(|c| c.id).collect();
        target.clear_markers(cp.task.task_id, Some(&ids)).await.map_err(target_err)?;
        store.reset_table(t.id).await?;
        said.push(format!("{}: dropped in the target; it will be loaded again from its start", quoted(t)));
    }
    Ok(said)
}

/// For tables in error: clear the error and go on from where they stopped.
pub async fn error_ignore(store: &dyn CheckpointStore, sel: &TableSelector) -> Result<Vec<String>, CheckpointError> {
    let cp = load(store).await?;
    let mut said = Vec::new();
    for t in in_error(&cp, sel, &mut said)? {
        store.set_table_state(t.id, t.state, None).await?;
        said.push(format!(
            "{}: error cleared; the run goes on from state {} (keep the verification on: the rows may not be right)",
            quoted(t),
            t.state.as_str()
        ));
    }
    Ok(said)
}

/// Forget tables whatever their state (`all`: the whole checkpoint). A forgotten table is
/// planned and loaded from its start by the next run.
pub async fn remove(
    store: &dyn CheckpointStore,
    target: Option<&dyn Target>,
    sel: &TableSelector,
) -> Result<Vec<String>, CheckpointError> {
    let cp = load(store).await?;
    if *sel == TableSelector::All {
        if let Some(target) = target {
            let _ = target.clear_markers(cp.task.task_id, None).await;
        }
        store.discard().await?;
        return Ok(vec![format!("checkpoint {} removed", store.location())]);
    }
    let mut said = Vec::new();
    for t in select(&cp, sel)? {
        if let Some(target) = target {
            let ids: Vec<i64> = chunks_of(&cp, t.id).map(|c| c.id).collect();
            let _ = target.clear_markers(cp.task.task_id, Some(&ids)).await;
        }
        store.remove_table(t.id).await?;
        let hint = if t.state > TableState::Pending {
            "; its rows in the target stay: empty or drop the table before the next run"
        } else {
            ""
        };
        said.push(format!("{}: removed from the checkpoint{hint}", quoted(t)));
    }
    Ok(said)
}

/// Write the checkpoint as CSV files with headers: task.csv, tables.csv, chunks.csv, files.csv.
/// The target is stored with its password redacted already.
pub async fn dump(store: &dyn CheckpointStore, dir: &Path) -> Result<Vec<PathBuf>, CheckpointError> {
    let cp = load(store).await?;
    let io = |e: std::io::Error| CheckpointError::Store { location: dir.display().to_string(), message: e.to_string() };
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
    let written = [
        (
            "task.csv",
            vec!["task_id", "source", "target", "target_identity", "spec", "created_ms"],
            vec![vec![
                t.task_id.to_string(),
                t.source.clone(),
                crate::target::redact_url(&t.target),
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
        for bad in ["shop.orders", "`shop`.orders", "`shop`", "`shop`.`orders` x", "ALL"] {
            assert!(bad.parse::<TableSelector>().is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
