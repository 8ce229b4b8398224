//! Where rows go. One [`Target`] trait, two implementations: the MySQL family
//! ([`mysql::MysqlTarget`]) and SQLite ([`sqlite::SqliteTarget`]).
//!
//! A batch is encoded on the reader's blocking thread by the target's [`BatchEncoder`] (so the
//! async writers only send), then written by a [`Writer`] in ONE transaction together with the
//! chunk's progress marker: data and progress commit together (DESIGN.md, invariant 1).

#[cfg(test)]
mod conformance;
pub mod mysql;
mod mysql_rows;
mod mysql_writer;
pub mod sqlite;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;

use crate::checkpoint::ChunkProgress;
use crate::config::ConflictStrategy;
use crate::error::TargetError;
use crate::redact::redact_url;
use crate::rows::Row;

/// What kind of values a column holds, as far as encoding rows is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnClass {
    /// Characters, dates, times, ENUM, SET, JSON: values travel as text.
    Text,
    /// BLOB, BINARY...: values are bytes.
    Binary,
    /// Integers, DECIMAL, floating point, YEAR.
    Numeric,
    /// BIT: LOAD DATA cannot fill it from text.
    Bit,
    /// GEOMETRY and the other spatial types.
    Spatial,
}

/// A target table's column as the target reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetColumn {
    pub name: String,
    pub class: ColumnClass,
    /// Computed by the server; never written.
    pub generated: bool,
}

/// Everything an encoder needs to know about the table it writes to.
#[derive(Debug, Clone)]
pub struct TableTarget {
    pub database: String,
    pub name: String,
    pub columns: Vec<TargetColumn>,
    pub conflict: ConflictStrategy,
    /// Its rows commit with the marker (not a MyISAM, Aria or MEMORY table): only then may a
    /// refused batch be written again row by row with some rows left out (`import/skip.rs`).
    pub transactional: bool,
}

impl TableTarget {
    /// Position of a column by name, ignoring ASCII case as MySQL does.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// A table as a log's row events need it: every column in order (row events carry them all)
/// and the key that finds one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDescription {
    pub columns: Vec<ColumnDescription>,
    /// The primary key's columns, else those of a unique key over NOT NULL columns; None when
    /// the table has neither (a row is then found by its whole image).
    pub key: Option<Vec<usize>>,
}

/// What [`Target::table_facts`] learns of a table.
#[derive(Debug, Clone)]
pub struct TableFacts {
    pub columns: Vec<TargetColumn>,
    /// As [`Target::table_identity`] has it.
    pub identity: Option<String>,
    /// The table's engine when it commits outside transactions (MyISAM, Aria, MEMORY...): its
    /// rows cannot commit together with a marker. None for a transactional table.
    pub non_transactional_engine: Option<String>,
    /// The columns and key as a MySQL-family server describes them; None for SQLite.
    pub description: Option<TableDescription>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDescription {
    pub name: String,
    /// information_schema's DATA_TYPE, lower case (`int`, `varchar`, `timestamp`...).
    pub data_type: String,
    /// information_schema's COLUMN_TYPE (`decimal(8,3) unsigned`, `enum('a','b')`...).
    pub column_type: String,
    pub unsigned: bool,
    /// The character set of a character column; None for every other column.
    pub charset: Option<String>,
    /// Computed by the server; never written.
    pub generated: bool,
}

/// The character set a `SET NAMES` / `SET CHARACTER SET` statement chooses, lower case; None
/// for any other statement. The LOAD DATA path declares it, the row hashes read text in it.
pub fn charset_set_by(statement: &str) -> Option<String> {
    let lower = statement.trim().to_ascii_lowercase();
    let rest = lower.strip_prefix("set names").or_else(|| lower.strip_prefix("set character set"))?;
    let cs = rest.split([' ', ',']).find(|w| !w.is_empty())?.trim_matches(['\'', '"', '`']);
    cs.chars().all(|c| c.is_ascii_alphanumeric() || c == '_').then(|| cs.to_string())
}

/// Session settings a dump's SET statements ask for (character set, time zone, sql_mode).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Session {
    pub statements: Vec<String>,
}

/// Rows ready to send, in the target's own form.
pub enum EncodedRows {
    /// One SQL statement (multi-row INSERT/REPLACE): `sql[..prefix]` is `INSERT ... VALUES `,
    /// row `i` ends at `row_ends[i]` (a comma separates rows).
    Statement { sql: Vec<u8>, prefix: usize, row_ends: Vec<usize> },
    /// A LOAD DATA stream (tab-separated rows ending at `row_ends`) for `table` `columns`.
    LoadData { data: bytes::Bytes, row_ends: Vec<usize>, table: String, columns: String, conflict: ConflictStrategy },
    /// A parameterised INSERT and its values, row after row.
    Params(ParamRows),
    /// Statements that replay a log's row changes, each ended by `;\n`, and the rows each must
    /// affect (matched, for an UPDATE): a row the log changes that the target does not have
    /// means the target is not the upstream's copy, and the batch fails naming the statement.
    Changes { sql: Vec<u8>, affected: Vec<u64> },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Real(f64),
    /// A range of [`ParamRows::data`] holding UTF-8 text.
    Text(usize, usize),
    /// A range of [`ParamRows::data`] holding bytes.
    Blob(usize, usize),
}

#[derive(Debug, Default)]
pub struct ParamRows {
    pub insert: String,
    pub width: usize,
    pub values: Vec<Param>,
    pub data: Vec<u8>,
}

pub struct EncodedBatch {
    pub rows: EncodedRows,
    pub row_count: u64,
    pub session: Arc<Session>,
    /// Conflicts are counted (`[conflict] threshold`): a REPLACE that deleted rows with the same
    /// key fails the batch (code 1062, nothing kept), which is then written row by row to learn
    /// which rows did ([`Writer::replay`]).
    pub count_replaced: bool,
}

/// What the server did with one row sent alone ([`Writer::replay`]).
#[derive(Debug)]
pub enum RowOutcome {
    Stored,
    /// Stored by REPLACE, which first deleted this many rows that had one of its keys.
    Replaced(u64),
    /// Refused; nothing of the row is kept.
    Refused(TargetError),
}

/// A row recorded in the target's error tables (Lightning's `type_error_v2` and
/// `conflict_records`, in the schema of `[lightning] task-info-schema-name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipRecord {
    pub fault: crate::error_class::RowFault,
    /// `` `db`.`tbl` ``
    pub table: String,
    pub path: String,
    /// Where the row starts in the file.
    pub offset: u64,
    pub error: String,
    pub row: String,
}

/// The tables rows skipped by a limit are recorded in, by fault.
pub fn record_table(fault: crate::error_class::RowFault) -> &'static str {
    match fault {
        crate::error_class::RowFault::Type => "type_error_v2",
        crate::error_class::RowFault::Conflict => "conflict_records",
    }
}

/// Why a row could not be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// This encoding cannot express the row exactly (e.g. a hex literal into a text column in
    /// a LOAD DATA stream); an INSERT encoder can. Nothing was appended.
    NeedsInsert,
    /// The row is not valid for the table.
    Invalid(String),
}

/// Builds one batch for one table and one column list.
pub trait BatchEncoder: Send {
    /// Append a row; the caller has checked its field count.
    fn push(&mut self, row: &Row<'_>) -> Result<(), EncodeError>;
    /// Approximate size of what has been encoded so far.
    fn bytes(&self) -> usize;
    fn rows(&self) -> u64;
    /// The encoded rows; the encoder is empty again afterwards.
    fn take(&mut self) -> EncodedRows;
}

/// The marker a batch commits with: which chunk of which task, and its new position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub task_id: i64,
    pub chunk_id: i64,
    pub progress: ChunkProgress,
}

/// A task the target records as under way (see [`Target::record_task`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfinishedTask {
    pub task_id: i64,
    /// Where its checkpoint is: the store's location when the plan was made.
    pub checkpoint: String,
    pub started: String,
}

/// A connection that writes batches.
#[async_trait]
pub trait Writer: Send {
    /// Take a chunk: wait until no other session works on it, then read its committed
    /// position. A killed run's session may still be finishing its last statements on the
    /// server (even a COMMIT it sent just before dying); positions read before it is gone
    /// would be stale. The claim lasts until [`Writer::release`] or the session ends.
    async fn claim(&mut self, task_id: i64, chunk_id: i64) -> Result<Option<ChunkProgress>, TargetError>;
    async fn release(&mut self);
    /// Write the rows of every batch (one table each; several tables may share a transaction,
    /// as one upstream transaction of a log does) and the marker in one transaction. Without
    /// rows only the marker is written; without a marker (checkpoints off) only the rows.
    async fn write(&mut self, batches: &[EncodedBatch], marker: Option<&Marker>) -> Result<(), TargetError>;
    /// After the target rejected a batch without saying which row, find the first row it
    /// rejects and why (nothing is kept). None when that cannot be told.
    async fn find_rejected_row(&mut self, batch: &EncodedBatch) -> Option<(usize, TargetError)> {
        let outcomes = self.replay(batch, true).await;
        self.abandon().await;
        outcomes.ok()?.into_iter().enumerate().find_map(|(i, o)| match o {
            RowOutcome::Refused(e) => Some((i, e)),
            _ => None,
        })
    }
    /// Send the batch's rows one at a time in a new transaction, each alone so that a row the
    /// server refuses leaves nothing of itself while the others stay: what each did (with
    /// `first_refusal`, up to the first refused). The transaction stays open for
    /// [`Writer::commit_replayed`] or [`Writer::abandon`].
    async fn replay(&mut self, _batch: &EncodedBatch, _first_refusal: bool) -> Result<Vec<RowOutcome>, TargetError> {
        Err(TargetError::permanent("this target cannot write a batch row by row"))
    }
    /// In the transaction [`Writer::replay`] left open: add `records` to the error tables of
    /// `schema` for task `task_id`, write the marker, commit. All of it or nothing.
    async fn commit_replayed(
        &mut self,
        _task_id: i64,
        _schema: &str,
        _records: &[SkipRecord],
        _marker: Option<&Marker>,
    ) -> Result<(), TargetError> {
        Err(TargetError::permanent("this target cannot write a batch row by row"))
    }
    /// Roll back what [`Writer::replay`] left open.
    async fn abandon(&mut self) {}
}

#[async_trait]
pub trait Target: Send + Sync {
    /// The target as the user gave it, password redacted.
    fn describe(&self) -> String;
    /// Identifies the server (server_uuid) or file, to bind a task to it.
    async fn identity(&self) -> Result<String, TargetError>;
    /// Create the meta schema and the markers table if missing.
    async fn prepare_markers(&self) -> Result<(), TargetError>;
    /// All markers of a task, by chunk id.
    async fn read_markers(&self, task_id: i64) -> Result<HashMap<i64, ChunkProgress>, TargetError>;
    /// Remove a task's markers (for a table being reset, or the whole task's: then also its
    /// record as unfinished, since its checkpoint is being removed).
    async fn clear_markers(&self, task_id: i64, chunk_ids: Option<&[i64]>) -> Result<(), TargetError>;
    /// In one transaction: remove the task's markers and record that the import of the dump
    /// `fingerprint` names finished. A rerun that finds no checkpoint (removed after success)
    /// learns from this record that there is nothing left to do.
    async fn record_finished(&self, task_id: i64, fingerprint: &str) -> Result<(), TargetError>;
    /// The task recorded as finished for `fingerprint`, and when.
    async fn finished(&self, fingerprint: &str) -> Result<Option<(i64, String)>, TargetError>;
    /// Record, before the task writes anything, that task `task_id` imports the dump
    /// `fingerprint` with its checkpoint at `checkpoint` (replacing an earlier record for that
    /// dump). A run that finds no checkpoint, because it was started from another directory,
    /// learns from it where the checkpoint is. [`Target::record_finished`] deletes it.
    async fn record_task(&self, task_id: i64, fingerprint: &str, checkpoint: &str) -> Result<(), TargetError>;
    /// The unfinished task recorded for `fingerprint`.
    async fn unfinished(&self, fingerprint: &str) -> Result<Option<UnfinishedTask>, TargetError>;
    async fn create_database(&self, database: &str, create_sql: Option<&str>) -> Result<(), TargetError>;
    /// Create a table from a dump's CREATE TABLE; with `defer`, without the secondary indexes
    /// that [`Target::deferred_indexes`] adds after the data.
    async fn create_table(&self, database: &str, name: &str, create_sql: &str, defer: bool) -> Result<(), TargetError>;
    /// Statements that add the indexes `create_table` left out. Running them again is harmless.
    fn deferred_indexes(&self, name: &str, create_sql: &str, defer: bool) -> Result<Vec<String>, TargetError>;
    /// Which of the tables exist, in one look.
    async fn existing_tables(&self, tables: &[(String, String)]) -> Result<HashSet<(String, String)>, TargetError>;
    /// What loading needs to know of the table, in one visit (with thousands of small tables,
    /// a round trip per fact was a large part of each table's time); None when it does not exist.
    async fn table_facts(&self, database: &str, name: &str) -> Result<Option<TableFacts>, TargetError>;
    /// Identity of the table as the target knows it (changes when it is dropped and created again).
    async fn table_identity(&self, database: &str, name: &str) -> Result<Option<String>, TargetError>;
    async fn row_count(&self, database: &str, name: &str) -> Result<u64, TargetError>;
    /// What the tables of [`record_table`] in `schema` hold for the task: (type errors,
    /// conflicts); None when there are no such tables.
    async fn error_counts(&self, _schema: &str, _task_id: i64) -> Result<Option<(u64, u64)>, TargetError> {
        Ok(None)
    }
    /// Create `schema` and the tables of [`record_table`] when missing, and count what they
    /// hold for the task: (type errors, conflicts).
    async fn prepare_error_tables(&self, _schema: &str, _task_id: i64) -> Result<(u64, u64), TargetError> {
        Err(TargetError::permanent(format!(
            "{} cannot skip the rows it refuses ([lightning] max-error, [conflict] threshold): that needs a \
             MySQL-family target",
            self.describe()
        )))
    }
    /// Forget a table's records of the task (it is loaded again from its start).
    async fn clear_error_records(&self, _schema: &str, _task_id: i64, _table: &str) -> Result<(), TargetError> {
        Ok(())
    }
    /// The time zone of a new session as an offset from UTC in seconds, when it is a fixed
    /// one: what TIMESTAMP values of a dump that sets no time zone are read in.
    async fn session_utc_offset(&self) -> Result<Option<i64>, TargetError> {
        Ok(None)
    }
    /// Whether [`Self::content_checksum`] is there: the row hash is a MySQL server's.
    fn checksums_content(&self) -> bool {
        false
    }
    /// Rows and content checksum ([`crate::row_checksum`]) of a table, or of one key range of
    /// it, computed by the target.
    async fn content_checksum(
        &self,
        database: &str,
        name: &str,
        range: Option<&crate::manifest::KeyRange>,
    ) -> Result<(u64, u64), TargetError>;
    /// The lowest and highest value of an integer column (None for an empty table, or where
    /// the target does not compute content checksums).
    async fn key_bounds(
        &self,
        _database: &str,
        _name: &str,
        _column: &str,
    ) -> Result<Option<(i128, i128)>, TargetError> {
        Ok(None)
    }
    async fn drop_table(&self, database: &str, name: &str) -> Result<(), TargetError>;
    /// The table as a log's row events need it, or None when it does not exist.
    async fn describe_table(&self, _database: &str, _name: &str) -> Result<Option<TableDescription>, TargetError> {
        Err(TargetError::permanent(format!(
            "{} cannot replay a binlog (it needs a MySQL-family server)",
            self.describe()
        )))
    }
    /// A hash of every database, table, column and index outside the system schemas and those
    /// named in `skip`: a DDL statement that ran changes it.
    async fn schema_shape(&self, _skip: &[&str]) -> Result<u64, TargetError> {
        Err(TargetError::permanent(format!(
            "{} cannot replay a binlog (it needs a MySQL-family server)",
            self.describe()
        )))
    }
    /// Run one statement of a log as the upstream ran it, with `database` as the default
    /// database, on a connection of its own (DDL commits on its own anyway).
    async fn run_logged(&self, _database: Option<&str>, _sql: &str) -> Result<(), TargetError> {
        Err(TargetError::permanent(format!(
            "{} cannot replay a binlog (it needs a MySQL-family server)",
            self.describe()
        )))
    }
    async fn run_statements(&self, database: &str, statements: &[String]) -> Result<(), TargetError>;
    async fn analyze(&self, database: &str, name: &str) -> Result<(), TargetError>;
    /// Create a view (from a dump's CREATE VIEW), replacing a placeholder table of that name.
    /// `Some(reason)`: the target leaves this view out, and says why.
    async fn create_view(&self, database: &str, name: &str, create_sql: &str) -> Result<Option<String>, TargetError>;
    /// Run a dump's post-data DDL (triggers, routines); SQLite skips what it cannot run and
    /// returns what it skipped: (kind, name) as [`crate::ddl_file::created_object`] gives them.
    async fn run_post_ddl(
        &self,
        database: &str,
        statements: &[String],
    ) -> Result<Vec<(&'static str, String)>, TargetError>;
    /// An encoder for rows of `columns` (indexes into the table's columns). `insert` asks for
    /// the INSERT form, after a row that the default form cannot express.
    fn encoder(&self, table: &TableTarget, columns: &[usize], insert: bool) -> Box<dyn BatchEncoder>;
    /// A connection for batches. `now` (seconds since the epoch) is what the session takes as
    /// the current time, so that `DEFAULT CURRENT_TIMESTAMP` gets one value in every run of a task.
    async fn writer(&self, now: Option<f64>) -> Result<Box<dyn Writer>, TargetError>;
}

/// Open a target from its URL: `mysql://user:pass@host:port` or `sqlite:///path/file.db`.
pub async fn open(url: &str, options: &TargetOptions) -> Result<Arc<dyn Target>, TargetError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let target = sqlite::SqliteTarget::open(std::path::Path::new(path), options)?;
        Ok(Arc::new(target))
    } else if url.starts_with("mysql://") {
        Ok(Arc::new(mysql::MysqlTarget::connect(url, options).await?))
    } else {
        Err(TargetError::permanent(format!(
            "unknown target {}: use mysql://user:pass@host:port or sqlite:///path/file.db",
            redact_url(url)
        )))
    }
}

/// How the MySQL family receives rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// LOAD DATA LOCAL INFILE where it gives exactly the rows INSERT would, else INSERT.
    #[default]
    Auto,
    Insert,
    LoadData,
}

impl std::str::FromStr for WriteMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(WriteMode::Auto),
            "insert" => Ok(WriteMode::Insert),
            "load-data" => Ok(WriteMode::LoadData),
            _ => Err(format!("unknown write mode {s:?} (auto, insert or load-data)")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TargetOptions {
    pub meta_schema: String,
    pub sql_mode: String,
    pub disable_binlog: bool,
    pub write_mode: WriteMode,
    /// For a MySQL-family target (and the checkpoint store the controls open with it).
    pub tls: crate::tls::Tls,
}
