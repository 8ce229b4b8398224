//! `backupmeta.json`: what a backup holds, written last. A backup directory without it is
//! incomplete (interrupted, or still running), and `restore full` refuses it.
//!
//! Everything a restore is bound to and verified against lives here: the upstream's identity
//! (`cluster_id`), the binlog position and UTC time of the snapshot, and per table its DDL,
//! rows and content checksum ([`crate::row_checksum`]), per chunk its key range.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub const MANIFEST_FILE: &str = "backupmeta.json";
/// Bumped when a field changes meaning; a restore refuses a version it does not know.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupMeta {
    pub format_version: u32,
    /// The hoist that wrote it, e.g. `hoist 0.1.0`.
    pub tool: String,
    /// The upstream server's identity: `mysql:<server_uuid>`, or for MariaDB (which has no
    /// server_uuid) `mariadb:<hostname>:<datadir>:<server_id>`, the same identity `hoist import`
    /// binds a checkpoint to.
    pub cluster_id: String,
    /// `mariadb` or `mysql`.
    pub flavor: String,
    pub server_version: String,
    /// Where the snapshot stands in the upstream's binlog; None when the binlog is off.
    pub position: Option<BinlogPosition>,
    /// The snapshot's instant, UTC, `YYYY-MM-DD HH:MM:SS.ffffff`.
    pub backup_ts: String,
    /// How long writers were blocked while the workers' snapshots were opened.
    pub writers_blocked_ms: f64,
    pub databases: Vec<DatabaseMeta>,
    pub tables: Vec<TableMeta>,
    /// Views, triggers, routines and events, each in a file `hoist import` recognises.
    pub objects: Vec<ObjectMeta>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinlogPosition {
    pub file: String,
    pub pos: u64,
    /// The GTID position of the snapshot (MariaDB `BINLOG_GTID_POS`, MySQL's executed set).
    pub gtid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseMeta {
    pub name: String,
    pub schema_file: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableMeta {
    pub database: String,
    pub name: String,
    pub schema_file: String,
    pub ddl: String,
    /// The upstream table's identity (its CREATE_TIME): a restore of a log later needs to know
    /// that a table of the same name is another table.
    pub upstream_id: Option<String>,
    pub engine: String,
    pub rows: u64,
    /// Sum (mod 2^64) of the chunks' checksums: order-independent, so it equals the target's.
    /// None when the backup was taken with `--no-checksum`.
    pub checksum: Option<u64>,
    pub chunks: Vec<ChunkMeta>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkMeta {
    pub file: String,
    /// None for a table read whole (no usable key, or small).
    pub key: Option<KeyRange>,
    pub rows: u64,
    pub checksum: Option<u64>,
    /// Bytes of the file as written (compressed when compressed).
    pub bytes: u64,
}

/// Rows whose first key column is in `[from, to)`; an absent bound is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRange {
    pub column: String,
    pub from: Option<i128>,
    pub to: Option<i128>,
}

impl KeyRange {
    /// ` WHERE ...` selecting the range's rows (empty for a range open at both ends). The bounds
    /// are integers the server gave, written as literals: a string parameter would make the
    /// server compare as DOUBLE.
    pub fn where_sql(&self) -> String {
        let column = hoist_schema::quote_mysql_ident(&self.column);
        let mut conditions = Vec::new();
        if let Some(from) = self.from {
            conditions.push(format!("{column} >= {from}"));
        }
        if let Some(to) = self.to {
            conditions.push(format!("{column} < {to}"));
        }
        if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// view, triggers, routines (routines and events of a database share one file).
    pub kind: String,
    pub database: String,
    pub name: String,
    pub file: String,
}

/// Read the manifest of the backup in `dir`; the error says what is wrong and what to do.
pub fn read(dir: &Path) -> Result<BackupMeta, String> {
    let path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let what = if dir.is_dir() { "is incomplete" } else { "does not exist" };
            return Err(format!(
                "the backup in {} {what}: it has no {MANIFEST_FILE}, which hoist backup writes last (the backup was \
                 interrupted, or is still running); run hoist backup again, or point --storage at a complete backup",
                dir.display()
            ));
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    parse(&text, &path.display().to_string())
}

/// The manifest in `text`, read from `shown` (a file, or an object in a store).
pub fn parse(text: &[u8], shown: &str) -> Result<BackupMeta, String> {
    let meta: BackupMeta =
        serde_json::from_slice(text).map_err(|e| format!("{shown} is not a valid backup manifest: {e}"))?;
    if meta.format_version != FORMAT_VERSION {
        return Err(format!(
            "{shown} has format version {}; this hoist reads version {FORMAT_VERSION}",
            meta.format_version
        ));
    }
    Ok(meta)
}

impl BackupMeta {
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a manifest always serialises");
        out.push(b'\n');
        out
    }
}
