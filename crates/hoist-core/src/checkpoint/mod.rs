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
//! - Several processes may share a job (DESIGN.md, "Scale beyond one machine"): each joins it
//!   under an owner name, the first to arrive makes the plan and creates the tables while the
//!   others wait ([`CheckpointStore::begin_setup`]), and each unit of work (a chunk, a table's
//!   post steps, the job's end) is done under a lease: an owner and an expiry on the unit's row.
//!   A lease ends when its holder releases it, lets it expire (a hung or cut-off host), or
//!   leaves the job (a killed process: its session on the store's server ends). The lease only
//!   divides the work; where a chunk stands is still its marker in the target, read under the
//!   target's claim.
//!
//! Tables: `task` (one row), `tables`, `chunks`, `files`, `objects`, `source_scan` (what the
//! scan of a single-file dump found, kept so that a rerun does not read the file again); `task`,
//! `tables` and `chunks` carry the lease columns of the job's end, the post steps and the
//! chunks. Stores: [`sqlite::SqliteStore`] (the default; one process at a time) and
//! [`mysql::MysqlStore`]; `conformance` tests both the same way.

pub mod mysql;
pub mod sqlite;

#[cfg(test)]
pub(crate) mod conformance;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    /// Rows loaded from the chunk. A Parquet chunk resumes by this count (its rows have no byte
    /// offsets: `offset` only moves through each row group in proportion, for progress).
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

/// Work that the processes sharing a job do one at a time, each under a lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    /// Loading the chunk of this id.
    Chunk(i64),
    /// The post steps (deferred indexes, verification, analyze) of the table of this id.
    Post(i64),
    /// The job's end: views, triggers, routines, finishing the task.
    End,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unit::Chunk(id) => write!(f, "chunk {id}"),
            Unit::Post(id) => write!(f, "the post steps of table {id}"),
            Unit::End => write!(f, "the job's end"),
        }
    }
}

/// A table as the store has it at the moment a lease is taken: another process may have moved
/// it on, or failed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStatus {
    pub state: TableState,
    pub error: Option<TableError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// The caller holds the unit until the expiry it asked for, unless it renews the lease.
    /// `table`: the unit's table (none for the job's end). `previous`: the owner it was taken
    /// from, whose lease had expired or who had left the job.
    Taken { table: Option<TableStatus>, previous: Option<String> },
    /// Another owner holds it and is still in the job; its lease runs out in `expires_in`
    /// unless it renews it.
    Held { owner: String, expires_in: Duration },
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

    /// Take part in the job as `owner` until [`Self::leave`] (or the end of the process): the
    /// other owners see it present and take its units only once its leases expire. The SQLite
    /// store serves one process: while one has joined, another process is refused.
    async fn join(&self, owner: &str) -> Result<(), CheckpointError>;
    /// `owner` leaves the job: its leases are free for the others at once.
    async fn leave(&self, owner: &str);
    /// Hold the job's setup for `owner` (planning, creating the tables), waiting up to `wait`
    /// for another owner to end its own: Ok(false) when it still holds it then.
    async fn begin_setup(&self, owner: &str, wait: Duration) -> Result<bool, CheckpointError>;
    async fn end_setup(&self, owner: &str);
    /// Lease `unit` to `owner` for `expiry`, unless another owner that is still in the job
    /// holds an unexpired lease on it. Taking a unit one holds renews it.
    async fn lease(&self, unit: Unit, owner: &str, expiry: Duration) -> Result<Lease, CheckpointError>;
    /// Extend `owner`'s leases on `units` by `expiry`; returns those it holds no more.
    async fn renew(&self, units: &[Unit], owner: &str, expiry: Duration) -> Result<Vec<Unit>, CheckpointError>;
    /// End `owner`'s lease on `unit` (nothing when another owner holds it).
    async fn release(&self, unit: Unit, owner: &str) -> Result<(), CheckpointError>;
}

/// Milliseconds since the epoch: lease expiries in the SQLite store (the MySQL store takes
/// its server's clock, which every process sharing the job reads alike).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A lease's expiry in milliseconds, as the stores add it to their clock.
pub(crate) fn expiry_ms(expiry: Duration) -> i64 {
    i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Whether a unit held by `holder` until `expires_in_ms` from now may go to `owner`: it is
/// free, or the owner's own, or its lease ran out, or its holder left the job.
pub(crate) fn may_take(holder: Option<&str>, expires_in_ms: i64, owner: &str, present: bool) -> bool {
    match holder {
        None => true,
        Some(h) if h == owner => true,
        Some(_) => expires_in_ms <= 0 || !present,
    }
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
