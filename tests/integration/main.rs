//! Integration tests: each runs the built `hoist` binary on a dump in a fresh temp dir and
//! compares the target with the source, row by row (a checksum over every row).

mod backup;
mod bad_input;
mod charsets;
mod checkpoint;
mod content_checksum;
mod crash;
mod engines;
mod faults;
mod generated;
mod hostile_server;
mod lightning;
mod log_backup;
mod log_s3;
mod max_error;
mod mysqldump;
mod output;
mod parquet;
mod restore_point;
mod routes;
mod s3;
mod sakila;
mod secrets;
mod shared_job;
mod status_api;
mod tls;
mod util;
