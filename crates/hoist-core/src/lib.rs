//! hoist's engine. The binary parses flags and config and calls [`import::run`]; everything
//! else lives here, one module per stage of DESIGN.md's data flow:
//!
//! - [`source`]: files of the dump through `object_store`, decompressed on the fly
//! - [`catalog`] and [`filter`]: which databases, tables and files the dump holds
//! - [`mysqldump`]: a single mysqldump file, scanned into the same catalog
//! - [`route`]: `[[routes]]`, which source table loads into which target table
//! - [`plan`]: tables and chunks (file, byte range), persisted once in the [`checkpoint`]
//! - [`reader`] (with [`input`] and [`charset`]): parse a chunk from its resume position into batches
//! - [`target`]: MySQL family and SQLite; each batch commits with its progress marker
//! - [`import`]: the workers, the post steps per table and the report
//! - [`refusal`]: when a recorded checkpoint may not be reused
//! - [`backup`] and [`log_backup`]: a snapshot of a server, and its binlog kept continuously
//! - [`tls`]: how every MySQL connection is made (options, TLS, the first connection)

pub mod backup;
pub mod binlog;
pub mod catalog;
pub mod charset;
pub mod checkpoint;
pub mod config;
pub mod config_keys;
pub mod content_hash;
pub mod control;
pub mod data_type;
pub mod ddl_file;
pub mod error;
pub mod error_class;
pub mod failpoint;
pub mod filter;
pub mod import;
pub mod input;
pub mod jobspec;
pub mod log_backup;
pub mod manifest;
pub mod mysql_url;
pub mod mysqldump;
pub mod parquet_file;
pub mod plan;
pub mod progress;
pub mod reader;
pub mod redact;
pub mod refusal;
pub mod restore;
pub mod restore_point;
pub mod route;
pub mod row_checksum;
pub mod rows;
pub mod s3;
pub mod source;
pub mod sql_literal;
pub mod status;
pub mod status_http;
pub mod storage;
pub mod target;
pub mod tls;
pub mod utc;
