//! The checkpoint: the plan of a task and where each table and chunk stands.
//!
//! Invariants (DESIGN.md, "The checkpoint protocol"):
//! - The plan (tables, chunks with byte ranges, the files they came from) is written once,
//!   before any data, and only loaded after that.
//! - A chunk's progress here may lag the marker that the target commits with the chunk's rows,
//!   but never leads it: the import saves progress only after the target's commit. On resume
//!   the target's marker wins.
//! - A table in error blocks reuse of the checkpoint until `hoist checkpoint error-ignore` or
//!   `error-destroy` resolves it.
//!
//! Tables: `task` (one row), `tables`, `chunks`, `files`, `source_scan` (what the scan of a
//! single-file dump found, kept so that a rerun does not read the file again). Stores: [`sqlite::SqliteStore`]
//! (the default) and [`mysql::MysqlStore`]; `conformance` tests both the same way.

pub mod mysql;
pub mod sqlite;

#[cfg(test)]
pub(crate) mod conformance;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

use crate::catalog::DataFormat;
use crate::config::{CheckpointDriver, CheckpointSection};
use crate::error::CheckpointError;
use crate::source::Compression;

/// Table states, in the order a table passes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TableState {
    Pending,
    SchemaCreated,
    Writing,
    Written,
    IndexesAdded,
    Verified,
    Analyzed,
    Done,
}

impl TableState {
    pub const ALL: [TableState; 8] = [
        TableState::Pending,
        TableState::SchemaCreated,
        TableState::Writing,
        TableState::Written,
        TableState::IndexesAdded,
        TableState::Verified,
        TableState::Analyzed,
        TableState::Done,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            TableState::Pending => "pending",
            TableState::SchemaCreated => "schema_created",
            TableState::Writing => "writing",
            TableState::Written => "written",
            TableState::IndexesAdded => "indexes_added",
            TableState::Verified => "verified",
            TableState::Analyzed => "analyzed",
            TableState::Done => "done",
        }
    }
    pub fn parse(s: &str) -> Option<TableState> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// What a task is: where it reads, where it writes, and what shaped its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    pub task_id: i64,
    pub source: String,
    /// The target as given, with any password redacted.
    pub target: String,
    /// The target's own identity (server_uuid / file identity) when the plan was made.
    pub target_identity: String,
    /// The job's spec ([`crate::jobspec::JobSpec`]) as JSON: what shaped the plan.
    pub spec: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    /// The state the table was in when it failed (the step after it did not complete).
    pub step: String,
    pub message: String,
}

/// A `tables` row as both stores read it: id, database, name, schema file, state, error
/// state, error message, target identity.
pub(crate) type TableRow =
    (i64, String, String, Option<String>, String, Option<String>, Option<String>, Option<String>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRecord {
    pub id: i64,
    pub database: String,
    pub name: String,
    pub schema_file: Option<String>,
    pub state: TableState,
    pub error: Option<TableError>,
    /// The target table's identity (table id or creation time) once created.
    pub target_identity: Option<String>,
}

impl TableRecord {
    /// The record of a stored row; Err(the state text) when the state is unknown.
    pub(crate) fn from_row(row: TableRow) -> Result<TableRecord, String> {
        let (id, database, name, schema_file, state, step, message, target_identity) = row;
        Ok(TableRecord {
            id,
            database,
            name,
            schema_file,
            state: TableState::parse(&state).ok_or(state)?,
            error: message.map(|message| TableError { step: step.unwrap_or_default(), message }),
            target_identity,
        })
    }
}

/// Where a chunk stands: the next byte to read, and what has been loaded before it.
///
/// The store keeps a unit's position as serialised data that it never reads into: a unit of
/// another kind of job (a range of a binlog) keeps a position of another shape in the same
/// column. NULL there means "at the unit's start".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ChunkProgress {
    /// Offset (in the uncompressed file) right after the last loaded row.
    pub offset: u64,
    /// Start of the INSERT statement that `offset` is inside of, when it is inside one.
    pub stmt_start: Option<u64>,
    pub rows: u64,
    /// The loaded rows' content: a [`crate::content_hash::ContentSum`].
    pub checksum: u64,
    pub done: bool,
}

impl ChunkProgress {
    /// The position as the store keeps it.
    pub(crate) fn to_position(self) -> String {
        serde_json::to_string(&self).expect("a position always serialises")
    }

    /// The position the store kept for a chunk starting at `start`.
    pub(crate) fn from_position(text: Option<&str>, start: u64) -> Result<ChunkProgress, String> {
        match text {
            None => Ok(ChunkProgress { offset: start, ..Default::default() }),
            Some(t) => serde_json::from_str(t).map_err(|e| format!("chunk position {t:?}: {e}")),
        }
    }
}

/// Reads to the end of the file: compressed files are one chunk whose length is not known.
pub const TO_END: u64 = u64::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRecord {
    pub id: i64,
    pub table_id: i64,
    pub path: String,
    pub format: DataFormat,
    pub compression: Compression,
    pub start: u64,
    /// Exclusive end, or [`TO_END`].
    pub end: u64,
    pub progress: ChunkProgress,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    pub path: String,
    pub size: u64,
    pub modified_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub task: TaskRecord,
    pub tables: Vec<TableRecord>,
    pub chunks: Vec<ChunkRecord>,
    pub files: Vec<FileRecord>,
    /// For a single-file dump: its scan (`crate::mysqldump::Scan` as JSON: the tables' DDL and
    /// INSERT ranges, views, triggers, routines), from which the plan was made. The store keeps
    /// the text and never reads into it.
    pub scan: Option<String>,
}

#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// Where the store lives, for messages (passwords redacted).
    fn location(&self) -> String;
    async fn load(&self) -> Result<Option<Checkpoint>, CheckpointError>;
    /// Persist a new plan, replacing any previous checkpoint, in one transaction.
    async fn create(&self, checkpoint: &Checkpoint) -> Result<(), CheckpointError>;
    async fn set_table_state(
        &self,
        table_id: i64,
        state: TableState,
        error: Option<&TableError>,
    ) -> Result<(), CheckpointError>;
    async fn set_table_identity(&self, table_id: i64, identity: Option<&str>) -> Result<(), CheckpointError>;
    async fn save_progress(&self, updates: &[(i64, ChunkProgress)]) -> Result<(), CheckpointError>;
    /// The views, triggers and routines that could not be created in the last run (replaced
    /// whole: an empty list clears them), for `hoist checkpoint show`.
    async fn set_object_errors(&self, errors: &[String]) -> Result<(), CheckpointError>;
    async fn object_errors(&self) -> Result<Vec<String>, CheckpointError>;
    /// Back to not started: state pending, no error, every chunk at its start.
    async fn reset_table(&self, table_id: i64) -> Result<(), CheckpointError>;
    /// Forget a table and its chunks.
    async fn remove_table(&self, table_id: i64) -> Result<(), CheckpointError>;
    /// Delete the checkpoint entirely (the file, or the schema).
    async fn discard(&self) -> Result<(), CheckpointError>;
    /// Keep the checkpoint under a name that carries the task id, and free the usual place.
    /// Returns the new location.
    async fn archive(&self, task_id: i64) -> Result<String, CheckpointError>;
}

/// Open the store that `[checkpoint]` names: an SQLite file (default `hoist-checkpoint.db`), or
/// a schema on a MySQL-family server (the dsn's, else the target's), reached with `tls`.
pub async fn open(
    section: &CheckpointSection,
    target_url: &str,
    tls: &crate::tls::Tls,
) -> Result<Arc<dyn CheckpointStore>, CheckpointError> {
    match section.driver {
        CheckpointDriver::Sqlite => {
            let path = PathBuf::from(section.dsn.clone().unwrap_or_else(|| "hoist-checkpoint.db".into()));
            // Absolute, because the target records where a task's checkpoint is, for a run
            // started from another directory to find it.
            let path = std::path::absolute(&path).unwrap_or(path);
            Ok(Arc::new(sqlite::SqliteStore::open(&path)?))
        }
        CheckpointDriver::Mysql => {
            let url = match &section.dsn {
                Some(dsn) => mysql::dsn_to_url(dsn)?,
                None if target_url.starts_with("mysql://") => target_url.to_string(),
                None => {
                    return Err(CheckpointError::Refused(
                        "[checkpoint] driver = \"mysql\" needs a dsn when the target is not a MySQL server".into(),
                    ))
                }
            };
            Ok(Arc::new(mysql::MysqlStore::open(&url, &section.schema, tls).await?))
        }
    }
}
