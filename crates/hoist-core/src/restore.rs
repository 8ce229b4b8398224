//! `hoist restore full`: an import of a backup through the same engine, bound to the backup.
//!
//! What it adds to [`crate::import::run`]: the backup must be complete (its manifest is there);
//! the checkpoint lives in the target, in a schema of its own (default
//! `hoist_restore_checkpoint`), and records the upstream's `cluster_id` and the `backup_ts`, so
//! a rerun with another backup is refused; each table is verified against the manifest (rows
//! and content checksum). Progress per chunk commits with the chunk's rows as for any import,
//! and a table dropped and created again between runs is restored again from its start.
//!
//! `hoist restore clean` throws an unfinished restore away: the tables it restored into (those
//! whose identity is still the one the restore recorded) and its checkpoint.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::config::{CheckpointSection, KeepAfterSuccess};
use crate::control::{self, TableSelector, TargetArg};
use crate::error::{ImportError, SourceError};
use crate::import::{ExpectedFile, ExpectedTable, ImportReport, ImportSettings, LogStage, RestoreSettings};
use crate::jobspec::{JobKind, Upstream};
use crate::manifest;
use crate::target::TargetOptions;

/// The largest chunk a restore reads: SQL files are cut at statement boundaries.
const RESTORE_REGION_SIZE: u64 = 24 << 20;

/// Where a restore keeps its checkpoint in the target, unless told otherwise.
pub const DEFAULT_CHECKPOINT_SCHEMA: &str = "hoist_restore_checkpoint";

/// Restore the backup in `settings.source` into `settings.target`. `settings` carries the
/// run's tuning (workers, batch size, write mode...) as for an import; this fills in the rest.
pub async fn full(settings: ImportSettings, stop: Arc<AtomicBool>) -> Result<ImportReport, ImportError> {
    let meta = read_backup(&settings).await?;
    restore(settings, &meta, JobKind::RestoreFull, None, stop).await
}

/// The backup's manifest; refused unless the target is a MySQL-family server.
pub(crate) async fn read_backup(settings: &ImportSettings) -> Result<manifest::BackupMeta, ImportError> {
    if !settings.target.starts_with("mysql://") {
        return Err(SourceError::Layout(format!(
            "restore full writes to a MySQL-family server (--target mysql://user:pass@host:port), not {}",
            crate::redact::redact_url(&settings.target)
        ))
        .into());
    }
    if settings.source.starts_with("s3://") {
        return Ok(read_stored_backup(&settings.source).await?);
    }
    Ok(manifest::read(Path::new(&settings.source)).map_err(SourceError::Layout)?)
}

/// The manifest of a backup in an object store.
async fn read_stored_backup(location: &str) -> Result<manifest::BackupMeta, SourceError> {
    let source = crate::source::Source::open(location)?;
    let shown = format!("{}/{}", source.location(), manifest::MANIFEST_FILE);
    match source.read_if_exists(manifest::MANIFEST_FILE).await? {
        Some(text) => manifest::parse(&text, &shown).map_err(SourceError::Layout),
        None => Err(SourceError::Layout(format!(
            "the backup in {} is incomplete or does not exist: it has no {}, which hoist backup writes last; run \
             hoist backup again, or point --storage at a complete backup",
            source.location(),
            manifest::MANIFEST_FILE
        ))),
    }
}

/// Run the restore of `meta` (a snapshot, then for `restore point` the `log` stage) through
/// the import engine, bound to the backup.
pub(crate) async fn restore(
    mut settings: ImportSettings,
    meta: &manifest::BackupMeta,
    kind: JobKind,
    log: Option<Arc<dyn LogStage>>,
    stop: Arc<AtomicBool>,
) -> Result<ImportReport, ImportError> {
    let expected: HashMap<(String, String), ExpectedTable> = meta
        .tables
        .iter()
        .map(|t| {
            let files = t
                .chunks
                .iter()
                .map(|c| (c.file.clone(), ExpectedFile { key: c.key.clone(), rows: c.rows, checksum: c.checksum }))
                .collect();
            ((t.database.clone(), t.name.clone()), ExpectedTable { files, rows: t.rows, checksum: t.checksum })
        })
        .collect();
    settings.kind = kind;
    settings.restore = Some(RestoreSettings {
        upstream: Upstream { cluster_id: meta.cluster_id.clone(), backup_ts: meta.backup_ts.clone() },
        expected,
        log,
    });
    // The checkpoint stays in the target (the CLI picks the schema): progress and rows share
    // a server, and the restore leaves nothing behind once it finished.
    settings.checkpoint.enable = true;
    settings.checkpoint.keep_after_success = KeepAfterSuccess::Remove;
    // A keyless table is one file in a backup, however large: cut files into chunks of a few
    // tens of MB so that such a table loads on every connection (the benchmark's 90 MB keyless
    // table took a third of the restore on one).
    settings.max_region_size = settings.max_region_size.min(RESTORE_REGION_SIZE);
    tracing::info!(
        "restoring the backup of {} taken at {} UTC ({} tables)",
        meta.cluster_id,
        meta.backup_ts,
        meta.tables.len()
    );
    crate::import::run(settings, stop).await
}

/// Drop what an unfinished restore wrote (tables whose identity is the one it recorded) and
/// its checkpoint: `hoist checkpoint remove all --drop-tables` on the restore's checkpoint.
pub async fn clean(
    target_url: Option<&str>,
    checkpoint: &CheckpointSection,
    options: &TargetOptions,
) -> Result<Vec<String>, ImportError> {
    let store = crate::checkpoint::open(checkpoint, target_url.unwrap_or_default(), &options.tls).await?;
    if store.load().await?.is_none() {
        return Ok(vec![format!("there is no restore checkpoint in {}; nothing to clean", store.location())]);
    }
    let arg = TargetArg { given: target_url, options };
    let mut lines = control::remove(store.as_ref(), &arg, &TableSelector::All, true).await?;
    lines.push("the next restore full starts anew".into());
    Ok(lines)
}
