//! `hoist restore point`: a snapshot restore (`restore full`, checkpointed as ever), then the
//! upstream's log from the backup's position to the restored point, exactly once.
//!
//! Before anything is written: the log must be the backup's upstream's, and cover every
//! transaction from the backup's position to the restored point (else the gap is named). The
//! job spec records the log range, so a rerun toward another point, or with another backup,
//! is refused. The log is a directory `hoist log start` writes (with its index), or a
//! directory of plain binlog files, indexed when first read.
//!
//! - [`point`]: the restored point and what it takes in
//! - [`changes`]: a transaction's row events and statements, decoded
//! - [`statements`]: row changes as SQL for the target
//! - [`mark`]: the log's marker
//! - [`replay`]: the stage itself

mod changes;
mod mark;
pub mod point;
mod replay;
mod statements;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::binlog::index::{index_plain_files, read_stored_index, Gap, LogIndex, Segment, INDEX_FILE};
use crate::binlog::position::{BinlogPos, Gtid};
use crate::error::{ImportError, SourceError};
use crate::filter::TableFilter;
use crate::import::{ImportReport, ImportSettings};
use crate::jobspec::JobKind;
use crate::manifest::BackupMeta;
use crate::source::Source;
use crate::utc::utc_text;
use point::RestoredPoint;
use replay::LogReplay;

/// What `restore point` adds to a restore's settings.
#[derive(Debug, Clone)]
pub struct PointSettings {
    /// The log: a directory of `hoist log start`, or of plain binlog files.
    pub log: PathBuf,
    pub point: RestoredPoint,
}

/// Restore the backup in `settings.source`, then its upstream's log up to the point.
pub async fn run(
    settings: ImportSettings,
    point: PointSettings,
    stop: Arc<AtomicBool>,
) -> Result<ImportReport, ImportError> {
    let meta = crate::restore::read_backup(&settings).await?;
    let start = meta.position.as_ref().map(|p| BinlogPos::new(&p.file, p.pos)).ok_or_else(|| {
        SourceError::Layout(format!(
            "the backup in {} has no binlog position (the upstream's binlog was off when it was taken): a \
                 point-in-time restore starts the log there; restore it with hoist restore full",
            crate::redact::redact_url(&settings.source)
        ))
    })?;
    let (log, store) = open_log(&point.log).await?;
    // Never a URL's parameters (they may hold a secret key).
    let shown = store.as_ref().map_or_else(|| point.log.display().to_string(), |s| s.location().to_string());
    check_upstream(&log, &meta, &shown)?;
    let segments = covering(&log, &start, &point.point, &shown)?;
    tracing::info!(
        "the log in {shown} covers {} to the restored point ({}) in {} files",
        start,
        point.point.describe(),
        segments.len()
    );
    let own_schemas = vec![settings.meta_schema.clone(), settings.checkpoint.schema.clone()];
    let replay = LogReplay {
        dir: point.log.clone(),
        store,
        segments,
        start,
        point: point.point.clone(),
        filter: TableFilter::new(&settings.filter)?,
        own_schemas,
        max_retries: settings.max_retries,
        batch_bytes: settings.batch_bytes,
        status: settings.status.clone(),
    };
    crate::restore::restore(settings, &meta, JobKind::RestorePoint, Some(Arc::new(replay)), stop).await
}

/// The log's index: `hoist-log.json` when `hoist log start` wrote the directory, else the
/// plain binlog files in it, read now. A log in object storage (`s3://`) is `hoist log
/// start`'s, read with its store (returned, for the replay to read the segments from).
pub async fn open_log(dir: &Path) -> Result<(LogIndex, Option<Source>), SourceError> {
    let text = dir.to_string_lossy();
    if text.starts_with("s3://") {
        let source = Source::open(&text)?;
        let Some(log) = read_stored_index(&source).await? else {
            return Err(SourceError::Layout(format!(
                "{} holds no {INDEX_FILE}: a log in object storage is one hoist log start wrote (plain binlog \
                 files are read from a local directory)",
                source.location()
            )));
        };
        if log.segments.is_empty() {
            return Err(SourceError::Layout(format!("the log {} holds no binlog files", source.location())));
        }
        return Ok((log, Some(source)));
    }
    let index_path = dir.join(INDEX_FILE);
    if !dir.is_dir() {
        return Err(SourceError::Layout(format!(
            "the log {} is not a directory: give --storage the directory of hoist log start, or one holding binlog files",
            dir.display()
        )));
    }
    let log = match std::fs::read(&index_path) {
        Ok(bytes) => LogIndex::parse(&bytes, &index_path.display().to_string()).map_err(SourceError::Layout)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => index_plain_files(dir)?,
        Err(e) => return Err(SourceError::io(index_path.display().to_string(), "", &e)),
    };
    if log.segments.is_empty() {
        return Err(SourceError::Layout(format!("the log {} holds no binlog files", dir.display())));
    }
    Ok((log, None))
}

/// The log must be of the server the backup was taken of.
fn check_upstream(log: &LogIndex, meta: &BackupMeta, dir: &str) -> Result<(), SourceError> {
    let same = match log.cluster_id.strip_prefix("server_id:") {
        // Plain files say only which server_id wrote them; a MariaDB identity ends with it.
        Some(id) => !meta.cluster_id.starts_with("mariadb:") || meta.cluster_id.rsplit(':').next() == Some(id),
        None => log.cluster_id == meta.cluster_id,
    };
    if same {
        return Ok(());
    }
    Err(SourceError::Layout(format!(
        "the log in {} is of another upstream than the backup:\n  log:    {}\n  backup: {}\ngive the log of the \
         server the backup was taken of",
        dir, log.cluster_id, meta.cluster_id
    )))
}

/// The files to read, or the gap that keeps the log from reaching the point.
fn covering(log: &LogIndex, start: &BinlogPos, point: &RestoredPoint, dir: &str) -> Result<Vec<Segment>, SourceError> {
    let to = match point {
        RestoredPoint::Position(p) => Some(p),
        _ => None,
    };
    let refuse = |gap: String| {
        SourceError::Layout(format!(
            "the log in {} cannot take the restore from the backup's position {start} to {}: {gap}; nothing was \
             written",
            dir,
            point.describe()
        ))
    };
    let chosen: Vec<Segment> =
        log.cover(start, to).map_err(|g: Gap| refuse(g.to_string()))?.into_iter().cloned().collect();
    match point {
        RestoredPoint::Time { epoch, .. } => {
            let last = chosen.iter().rev().find_map(|s| s.last_time);
            if last.is_none_or(|t| i64::from(t) < *epoch) {
                return Err(refuse(format!(
                    "its last transaction committed at {} UTC, before the restored time, so transactions up to that \
                     time may be missing (let hoist log start run past it)",
                    last.map_or("(none)".into(), |t| utc_text(i64::from(t)))
                )));
            }
        }
        RestoredPoint::Gtid(g) => {
            let holds = |s: &Segment| {
                let (Some(first), Some(last)) = (&s.first_gtid, &s.last_gtid) else { return false };
                let (Ok(first), Ok(last)) = (Gtid::parse(first), Gtid::parse(last)) else { return false };
                first.domain == g.domain && first.seq <= g.seq && g.seq <= last.seq
            };
            if !chosen.iter().any(holds) {
                return Err(refuse(format!("no file of the log holds the transaction {g}")));
            }
        }
        RestoredPoint::Position(_) => {}
    }
    Ok(chosen)
}
