//! Error types of the engine. Each carries what a user needs to act: the file and byte offset
//! for bad data, the server's code for target errors, the next command for refusals.

use std::fmt;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// Where in a source file something happened. `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePosition {
    pub file: String,
    pub offset: u64,
    pub line: Option<u64>,
}

impl fmt::Display for FilePosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{} (byte {})", self.file, line, self.offset),
            None => write!(f, "{} (byte {})", self.file, self.offset),
        }
    }
}

/// A problem with the bytes of a data file. It stops the file's table and is recorded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{position}: {message}")]
pub struct DataError {
    pub position: FilePosition,
    pub message: String,
}

/// Whether an error may pass when the same work is tried again (`error_class` decides).
pub trait Classified {
    fn is_transient(&self) -> bool;
}

/// A data file that is not the one the run listed any more: another size or modification time,
/// or gone. Reads check it after every read (`Source::open_at`), so no batch holds bytes of the
/// changed file: what was loaded is the listed file's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} changed during the run ({}): a dump must stay as it is until its import is done", self.what())]
pub struct FileChanged {
    pub path: String,
    /// Size and modification time (ms since the epoch) when the run listed the file.
    pub listed: (u64, i64),
    /// The same now; `None`: the file is gone.
    pub now: Option<(u64, i64)>,
}

impl FileChanged {
    fn what(&self) -> String {
        let (size, modified) = self.listed;
        match self.now {
            None => "it was removed".into(),
            Some((now_size, now_modified)) => format!(
                "size {size} -> {now_size} bytes, modified {} -> {}",
                modified_text(modified),
                modified_text(now_modified)
            ),
        }
    }
}

/// A file's modification time as a person reads it: `2026-12-02 03:43:24.366 UTC`.
pub fn modified_text(ms: i64) -> String {
    format!("{}.{:03} UTC", crate::utc::utc_text(ms.div_euclid(1000)), ms.rem_euclid(1000))
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The store or the file system failed; `transient` as `error_class::io_is_transient` or
    /// `object_store_is_transient` says.
    #[error("cannot read the source {location}: {message}")]
    Storage { location: String, message: String, transient: bool },
    #[error("{0}")]
    Layout(String),
    #[error(transparent)]
    Data(#[from] DataError),
    /// A data file changed under the run (`FileChanged`): the run stops; the rows loaded so far
    /// are the listed file's.
    #[error(transparent)]
    Changed(#[from] FileChanged),
}

impl SourceError {
    /// The file system failed on `location` (`what`: the file, when it is not the location).
    pub fn io(location: impl Into<String>, what: &str, e: &std::io::Error) -> Self {
        let transient = crate::error_class::io_is_transient(e);
        SourceError::Storage { location: location.into(), message: with_what(what, e), transient }
    }

    /// The object store failed on `location` (`what` as for `io`).
    pub fn object_store(location: impl Into<String>, what: &str, e: &object_store::Error) -> Self {
        let transient = crate::error_class::object_store_is_transient(e);
        SourceError::Storage { location: location.into(), message: with_what(what, e), transient }
    }
}

fn with_what(what: &str, e: &dyn fmt::Display) -> String {
    match what {
        "" => e.to_string(),
        what => format!("{what}: {e}"),
    }
}

impl Classified for SourceError {
    /// A bad layout or bad bytes are the same on every read.
    fn is_transient(&self) -> bool {
        matches!(self, SourceError::Storage { transient: true, .. })
    }
}

/// An error reported by a target server or file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TargetError {
    /// MySQL error code when the server gave one.
    pub code: Option<u16>,
    pub message: String,
    pub transient: bool,
}

impl TargetError {
    pub fn permanent(message: impl Into<String>) -> Self {
        TargetError { code: None, message: message.into(), transient: false }
    }
}

impl TargetError {
    /// The server's disk is full (`error_class::mysql_disk_full`): no table's fault, and not
    /// worth retrying; the run stops and says to free space.
    pub fn disk_full(&self) -> bool {
        self.code.is_some_and(|code| crate::error_class::mysql_disk_full(code, &self.message))
    }

    /// The server refused a connection at this limit (`error_class::mysql_connection_limit`).
    pub fn connection_limit(&self) -> Option<&'static str> {
        self.code.and_then(|code| crate::error_class::mysql_connection_limit(code, &self.message))
    }
}

impl Classified for TargetError {
    fn is_transient(&self) -> bool {
        self.transient
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The store failed; `transient` as `error_class` says for its driver's error.
    #[error("checkpoint store {location}: {message}")]
    Store { location: String, message: String, transient: bool },
    #[error("{0}")]
    Refused(String),
}

impl CheckpointError {
    /// A store whose content or answer is not what hoist wrote: the same on every try.
    pub fn store(location: impl Into<String>, message: impl Into<String>) -> Self {
        CheckpointError::Store { location: location.into(), message: message.into(), transient: false }
    }

    pub fn sqlite(location: impl Into<String>, e: &rusqlite::Error) -> Self {
        let transient = crate::error_class::sqlite_is_transient(e);
        let message = match crate::error_class::sqlite_disk_full(e) {
            // SQLite's own words ("database or disk is full") leave the user to guess which.
            true => format!("the disk that holds this file is full ({e}): free space on it"),
            false => e.to_string(),
        };
        CheckpointError::Store { location: location.into(), message, transient }
    }

    pub fn mysql(location: impl Into<String>, e: &mysql_async::Error) -> Self {
        let transient = crate::error_class::mysql_is_transient(e);
        CheckpointError::Store { location: location.into(), message: e.to_string(), transient }
    }
}

impl Classified for CheckpointError {
    /// A refusal is a decision, never a failure to retry.
    fn is_transient(&self) -> bool {
        matches!(self, CheckpointError::Store { transient: true, .. })
    }
}

impl From<rusqlite::Error> for CheckpointError {
    fn from(e: rusqlite::Error) -> Self {
        CheckpointError::sqlite("sqlite", &e)
    }
}

impl From<TargetError> for ImportError {
    // Not `#[from]`: that would also make the target error the source, and `{:#}` would print
    // the message twice.
    fn from(e: TargetError) -> Self {
        ImportError::Target(e)
    }
}

/// Why a run could not start or could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("target: {0}")]
    Target(TargetError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("interrupted; run the same command to resume")]
    Interrupted,
    /// The run stopped on a failure that is no table's (the checkpoint store refused a write),
    /// recording nothing; the message says what happened and what to do.
    #[error("{0}")]
    Halted(String),
}
