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

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("cannot read the source {location}: {message}")]
    Storage { location: String, message: String },
    #[error("{0}")]
    Layout(String),
    #[error(transparent)]
    Data(#[from] DataError),
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

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    #[error("checkpoint store {location}: {message}")]
    Store { location: String, message: String },
    #[error("{0}")]
    Refused(String),
}

impl From<rusqlite::Error> for CheckpointError {
    fn from(e: rusqlite::Error) -> Self {
        CheckpointError::Store { location: "sqlite".into(), message: e.to_string() }
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
}
