//! Test support for hoist: real parts, never mocks.
//!
//! * [`mariadb`]: private MariaDB servers in temp dirs on free ports, which a
//!   test can kill (`SIGKILL`, a crash) and restart on the same datadir. Every
//!   server dies with the test process, even when that process is killed.
//!   [`mariadb::ServerOptions`] gives one TLS (and `require_secure_transport`), with
//!   certificates that [`certs`] makes with `openssl`.
//! * [`dump`]: deterministic mydumper/Dumpling-style dump directories (SQL or
//!   CSV, plain/gzip/zstd) whose exact rows are returned as a [`dump::Dataset`].
//! * [`fake_mysql`]: a fake MySQL server that answers scripted statements and
//!   misbehaves on cue (a LOCAL INFILE request for a file of its choosing).
//! * [`rows`]: order-independent row checksums ([`rows::TableSum`]) read from a
//!   MySQL-family server or an SQLite file, so a test can assert "the target
//!   holds exactly the rows of the source".
//! * [`s3`]: a private S3-compatible server (moto's) with buckets and uploaded dumps.
//!
//! Values are compared in one canonical form: the text MariaDB prints for the
//! column in the text protocol. The generator produces values already in that
//! form, and the readers convert what they read back into it.
//!
//! No async in the API: database access runs on a private current-thread tokio
//! runtime on a helper thread, so it also works from inside `#[tokio::test]`.

pub mod certs;
pub mod dump;
pub mod fake_mysql;
pub mod mariadb;
pub mod rows;
pub mod s3;

mod sync;

pub use dump::{ColType, ColumnSpec, Compression, Dataset, DumpSpec, Format, TableData};
pub use mariadb::MariaDb;
pub use rows::TableSum;
