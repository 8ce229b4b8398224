//! Binlogs: the log a MySQL-family server writes, as `hoist log start` keeps it and as
//! `hoist restore point` replays it.
//!
//! - [`position`]: upstream positions (`FILE:POS`) and MariaDB GTIDs, ordered as the server
//!   orders them.
//! - [`file`]: events read from binlog bytes (a server's binlog file, a `mysqlbinlog --raw`
//!   copy or one of hoist's segments: all are valid binlog files), grouped into transactions.
//! - [`index`]: which upstream range each file of a log directory covers, and the check that
//!   the files cover a range without a gap.

pub mod file;
pub mod index;
pub mod position;
