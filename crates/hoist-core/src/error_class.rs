//! Which failures may pass when the same work is tried again, decided in one place per driver
//! error type (DESIGN.md, "Errors stop reuse until resolved").
//!
//! - **transient**: the same work may succeed on a new connection or a new read (a lost
//!   connection, a deadlock, a busy file, a network hiccup of an object store). Retried with
//!   backoff; if it outlasts the retries the run stops and records nothing, so the same command
//!   resumes.
//! - **permanent**: trying again does the same thing (the server refused the data, the bytes of
//!   the file are bad, the server or the store is not one hoist can work with, the server asked
//!   for something hoist will not do). For a table's data it is recorded as the table's error;
//!   elsewhere the run stops and says why.
//!
//! Each layer builds its own error with these rules: the target (`target::mysql::classify`,
//! the SQLite target's `err`), the source (`Source`'s reads, `reader.rs`), and the checkpoint
//! store (`CheckpointError::sqlite` / `CheckpointError::mysql`). A new case goes here with a
//! row in the tests below, not in a caller.

use std::io;
use std::time::Duration;

use mysql_async::DriverError;

/// How long to wait before retry `attempt` (from 1) of a transient failure: 0.4 s doubling
/// to 10 s.
pub fn backoff_delay(attempt: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(10))
}

/// MySQL error codes after which the same work may succeed when tried again: lost or refused
/// connections, server restarts, deadlocks and lock waits, too many connections, TiDB's
/// write conflicts and region errors. Every other code is the server refusing the work itself
/// (syntax, duplicates, bad values, missing tables, privileges): permanent.
pub fn mysql_code_is_transient(code: u16) -> bool {
    matches!(
        code,
        1040 // too many connections
            | 1053 // server shutdown in progress
            | 1205 // lock wait timeout
            | 1213 // deadlock
            | 1317 // query interrupted
            | 1927 // connection killed (MariaDB)
            | 2002 | 2003 | 2006 | 2013 // cannot connect, gone away, lost
            | 4031 // disconnected by the server for inactivity (MySQL 8)
            | 8002 | 8022 | 8027 | 8028 // TiDB: retryable transaction errors, schema changed
            | 9001..=9008 // TiDB: PD/TiKV/region unavailable, write conflict
    )
}

/// MySQL error codes that say a transaction lost a race with another one and was rolled back
/// (or its statement was): a deadlock, a lock wait that timed out, TiDB's write conflicts and
/// retryable transaction errors. Running the same transaction again at once is the cure, so the
/// checkpoint store does that itself (`checkpoint/mysql.rs`): they are what several processes
/// sharing one job meet there. A subset of [`mysql_code_is_transient`].
pub fn mysql_code_is_conflict(code: u16) -> bool {
    matches!(code, 1205 | 1213 | 8002 | 8022 | 8028 | 9007)
}

/// A `mysql_async` error that is a lost race ([`mysql_code_is_conflict`]).
pub fn mysql_is_conflict(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if mysql_code_is_conflict(s.code))
}

/// Why the server refused one row, for `[lightning] max-error` and `[conflict] threshold`
/// (`import/skip.rs`), as Lightning sorts them: a value of the row (its "type errors") or a key
/// another row holds (its "conflict errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFault {
    Type,
    Conflict,
}

/// What a MySQL error code on a one-row statement says of the row: None when it is not about
/// the row's values (a privilege, a missing table, a full disk...), which no limit lets pass.
pub fn mysql_row_fault(code: u16) -> Option<RowFault> {
    match code {
        1062 | 1586 => Some(RowFault::Conflict), // duplicate entry (for key)
        1048 // column cannot be null
        | 1138 // invalid use of NULL
        | 1263 // NULL supplied to a NOT NULL column
        | 1264 // out of range value
        | 1265 // data truncated
        | 1292 // incorrect (truncated) date/time/number value
        | 1300 // invalid character string
        | 1364 // field has no default value
        | 1366 // incorrect integer/decimal/string value
        | 1367 // illegal value
        | 1406 // data too long for column
        | 1411 // incorrect value for a function (STR_TO_DATE...)
        | 1416 // not a geometry value
        | 1690 // value out of range in an expression
        | 1906 // a value given for a generated column (MariaDB)
        | 3105 // a value given for a generated column (MySQL)
        | 3140 // invalid JSON text (MySQL)
        | 3819 // CHECK constraint violated (MySQL)
        | 4025 // CHECK constraint failed (MariaDB)
        => Some(RowFault::Type),
        _ => None,
    }
}

/// Which connection limit of the server refused a connection: `max_connections` (1040: every
/// slot taken), or `max_user_connections`, the server's (1203) or the account's (1226, which
/// also reports the hourly limits `max_questions`, `max_updates` and `max_connections_per_hour`:
/// those are not connections, and pass only within the hour). A refused connection may pass
/// when other sessions end, so it is transient; the import also takes it as word that the
/// server allows fewer connections than it asked for (`import/workers.rs`).
pub fn mysql_connection_limit(code: u16, message: &str) -> Option<&'static str> {
    match code {
        1040 => Some("max_connections"),
        1203 => Some("max_user_connections"),
        1226 if message.contains("'max_user_connections'") => Some("max_user_connections"),
        _ => None,
    }
}

/// Whether a server error says that the server's disk is full: InnoDB and Aria answer 1114
/// "The table is full" when a tablespace cannot grow, MyISAM 1021 "Disk full"; errors that carry
/// the OS's or the engine's error number (cannot create a table, cannot write a file, an
/// engine's error) say 28 (ENOSPC) or 135 (no more room in the record file). Retrying does not
/// free space, and the rows are not at fault: the run stops, records nothing, and says to free
/// space. (A full disk under the binary log or a MyISAM table makes MariaDB wait for space
/// instead: no error arrives, and the statement finishes once there is room.)
pub fn mysql_disk_full(code: u16, message: &str) -> bool {
    match code {
        1021 | 1114 => true,
        // Error writing file (EE_WRITE, ER_ERROR_ON_WRITE), can't create table, got error from
        // the storage engine.
        3 | 1005 | 1026 | 1030 => matches!(error_number(message), Some(28 | 135)),
        _ => false,
    }
}

/// The OS or engine error number in a server message: `(errno: 28 ...`, `(Errcode: 28 ...`,
/// `Got error 28 ...`.
fn error_number(message: &str) -> Option<u32> {
    ["errno: ", "Errcode: ", "Got error "].iter().find_map(|label| {
        let (_, rest) = message.split_once(label)?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// A `mysql_async` error, from a target, a checkpoint store in MySQL or a source server.
pub fn mysql_is_transient(e: &mysql_async::Error) -> bool {
    match e {
        mysql_async::Error::Server(s) => {
            mysql_code_is_transient(s.code) || mysql_connection_limit(s.code, &s.message).is_some()
        }
        // A packet over max_allowed_packet: the driver refuses it before sending, the same on
        // every try, until the server's limit or the batch size changes.
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) if is_packet_too_large(io) => false,
        // The socket failed (reset, refused, timed out): a new connection may work.
        mysql_async::Error::Io(mysql_async::IoError::Io(_)) => true,
        // A TLS failure (a certificate that does not verify, a handshake the server refuses) is
        // the same on every try: the flags or the server's certificate must change
        // (`tls::failure` says which).
        mysql_async::Error::Io(mysql_async::IoError::Tls(_)) => false,
        mysql_async::Error::Driver(d) => match d {
            // The connection went away under the driver, or its bytes were mangled on the way.
            DriverError::ConnectionClosed
            | DriverError::PoolDisconnected
            | DriverError::PacketOutOfOrder
            | DriverError::BadCompressedPacketHeader => true,
            // The server asked for a file hoist did not offer (a hostile or broken server), or
            // the stream could not be sent: asking again gets the same answer, and retrying
            // forever would hammer a server that is attacking its client.
            DriverError::LocalInfile(_) => false,
            // The server speaks something hoist cannot (version, auth plugin, no TLS where the
            // flags require it: NoClientSslFlagFromServer), a value
            // does not convert, a packet exceeds max_allowed_packet, or hoist misused the
            // driver: the same every time.
            _ => false,
        },
        // A bad URL, or a hook that refused the connection: the same every time.
        mysql_async::Error::Url(_) | mysql_async::Error::Other(_) => false,
    }
}

/// The driver's refusal of a packet larger than the server's max_allowed_packet (it comes as an
/// I/O error, which would otherwise be a lost connection).
pub fn is_packet_too_large(io: &std::io::Error) -> bool {
    io.to_string().contains("max_allowed_packet")
}

/// A `rusqlite` error, from the SQLite target or the SQLite checkpoint store.
pub fn sqlite_is_transient(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        // Another connection holds the file (beyond busy_timeout), or its schema changed
        // under a prepared statement: both pass once the other side is done.
        Some(C::DatabaseBusy | C::DatabaseLocked | C::SchemaChanged) => true,
        // The OS failed a read or write (SQLITE_IOERR: a network file system's hiccup) or
        // memory ran out for a moment.
        Some(C::SystemIoFailure | C::OutOfMemory) => true,
        // A full disk, a read-only or unopenable file, a corrupt one or not a database at
        // all, a constraint or type error: the user must act, retrying does not help.
        Some(_) => false,
        // Not from SQLite itself: a value that does not convert, a row that is not there.
        // The file's content is not what hoist wrote: the same every time.
        None => false,
    }
}

/// Whether SQLite (the target file or the checkpoint store) failed because its disk is full
/// (SQLITE_FULL). Permanent, as [`sqlite_is_transient`] says; the callers word it as a full disk.
pub fn sqlite_disk_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

/// An I/O error reading a source file (local or through an object store).
pub fn io_is_transient(e: &io::Error) -> bool {
    // The file is not the one the run listed any more: every read sees the same change.
    if e.get_ref().is_some_and(|i| i.is::<crate::error::FileChanged>()) {
        return false;
    }
    // Object store streams arrive as `io::Error::other(object_store::Error)`.
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<object_store::Error>()) {
        return object_store_is_transient(inner);
    }
    use io::ErrorKind as K;
    match e.kind() {
        // The bytes themselves are bad: a decoder's verdict (corrupt or truncated gzip/zstd) is
        // the same on every read of the same file.
        K::InvalidData | K::UnexpectedEof | K::InvalidInput => false,
        // The file is gone or not readable, the medium is full: the user must act (a file
        // removed from the dump is refused by name on the rerun).
        K::NotFound | K::PermissionDenied | K::IsADirectory | K::StorageFull | K::QuotaExceeded => false,
        K::Unsupported | K::OutOfMemory => false,
        // Networks and network file systems: a new request may work.
        K::Interrupted
        | K::WouldBlock
        | K::TimedOut
        | K::ConnectionReset
        | K::ConnectionAborted
        | K::ConnectionRefused
        | K::NotConnected
        | K::BrokenPipe
        | K::NetworkDown
        | K::NetworkUnreachable
        | K::HostUnreachable
        | K::ResourceBusy
        | K::StaleNetworkFileHandle => true,
        // EIO and anything unnamed: a read failure of the medium, not a verdict on the bytes.
        // A retry reads again from the last committed position; if it persists the run stops
        // without blaming the table.
        _ => true,
    }
}

/// An object store error (listing, opening or streaming a source file).
pub fn object_store_is_transient(e: &object_store::Error) -> bool {
    use object_store::Error as E;
    match e {
        // The store's client already retried timeouts and 5xx answers; what is left is a
        // network or service failure that a later request may not have. The local file
        // system reports its I/O errors here too: judge those by their kind. S3's listing
        // reports every answer here, a refusal (403, 404 NoSuchBucket) too: judge it by its
        // status.
        E::Generic { source, .. } => {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
            while let Some(c) = cause {
                if let Some(io) = c.downcast_ref::<io::Error>() {
                    return io_is_transient(io);
                }
                if c.is::<object_store::client::HttpError>() {
                    return true;
                }
                cause = c.source();
            }
            !status_of(e).is_some_and(status_is_permanent)
        }
        E::JoinError { .. } => true,
        // Missing, forbidden, unauthenticated, unsupported, changed (precondition): the same
        // every time until the user acts.
        _ => false,
    }
}

/// A 4xx answer is the store's verdict on the request (credentials, bucket, name), the same
/// on every try; but a timed-out request (408) and throttling (429) pass.
fn status_is_permanent(status: u16) -> bool {
    (400..500).contains(&status) && status != 408 && status != 429
}

/// The HTTP status an S3 answer carried, from the error's text: object_store keeps its
/// `RetryError` (which has `status()`) in a private module, and its listing errors reach us
/// only as `Generic` with that error as the source. Its message reads "Server returned non-2xx
/// status code: 403 Forbidden: <body>".
fn status_of(e: &(dyn std::error::Error + 'static)) -> Option<u16> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if let Some(at) = text.find("status code: ") {
            let digits: String = text[at + 13..].chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(status) = digits.parse() {
                return Some(status);
            }
        }
        cause = c.source();
    }
    None
}

/// Why an object store refused a request, when it is the store's setup and not one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreRefusal {
    /// 401, 403: the credentials are wrong, or may not read the bucket.
    Credentials,
    /// 404 NoSuchBucket.
    NoBucket,
}

impl StoreRefusal {
    pub fn what(self) -> &'static str {
        match self {
            StoreRefusal::Credentials => "access denied to the",
            StoreRefusal::NoBucket => "there is no",
        }
    }

    pub fn advice(self) -> &'static str {
        match self {
            StoreRefusal::Credentials => {
                "check the access key and the secret key (access-key and secret-access-key in the URL, or \
                 AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; AWS_SESSION_TOKEN for temporary ones), the region, \
                 and that they may list and read the bucket"
            }
            StoreRefusal::NoBucket => {
                "check the bucket's name in s3://BUCKET/prefix, the endpoint (endpoint= or AWS_ENDPOINT_URL) and \
                 the region"
            }
        }
    }
}

/// The refusal an object store error is, if it is one of the store's setup.
pub fn object_store_refusal(e: &object_store::Error) -> Option<StoreRefusal> {
    use object_store::Error as E;
    let text = e.to_string();
    match e {
        E::Unauthenticated { .. } | E::PermissionDenied { .. } => Some(StoreRefusal::Credentials),
        _ if text.contains("NoSuchBucket") => Some(StoreRefusal::NoBucket),
        E::Generic { .. } => match status_of(e)? {
            401 | 403 => Some(StoreRefusal::Credentials),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: u16) -> mysql_async::Error {
        server_says(code, "m")
    }

    fn server_says(code: u16, message: &str) -> mysql_async::Error {
        mysql_async::Error::Server(mysql_async::ServerError { code, message: message.into(), state: "HY000".into() })
    }

    /// The messages MariaDB 10.11 gave when its datadir's disk filled (and some that are not
    /// about a disk), and the limits it reported when it refused connections.
    #[test]
    fn full_disks_and_connection_limits() {
        let cases: Vec<(u16, &str, bool)> = vec![
            (1114, "The table 'orders' is full", true),
            (
                1021,
                "Disk full (./d/t.MYD); waiting for someone to free some space... (errno: 28 \"No space left\")",
                true,
            ),
            (1005, "Can't create table `d`.`u` (errno: 135 \"No more room in record file\")", true),
            (1005, "Can't create table `d`.`u` (errno: 150 \"Foreign key constraint is incorrectly formed\")", false),
            (3, "Error writing file './binlog.000001' (Errcode: 28 \"No space left on device\")", true),
            (1030, "Got error 28 \"No space left on device\" from storage engine InnoDB", true),
            (1030, "Got error 168 \"Unknown (generic) error from engine\" from storage engine InnoDB", false),
            (1062, "Duplicate entry '28' for key 'PRIMARY'", false),
        ];
        for (code, message, full) in cases {
            assert_eq!(mysql_disk_full(code, message), full, "{code}: {message}");
        }
        let limits: Vec<(u16, &str, Option<&str>)> = vec![
            (1040, "Too many connections", Some("max_connections")),
            (
                1203,
                "User u already has more than 'max_user_connections' active connections",
                Some("max_user_connections"),
            ),
            (
                1226,
                "User 'u' has exceeded the 'max_user_connections' resource (current value: 2)",
                Some("max_user_connections"),
            ),
            (1226, "User 'u' has exceeded the 'max_updates' resource (current value: 5)", None),
            (1045, "Access denied for user 'u'", None),
        ];
        for (code, message, limit) in limits {
            assert_eq!(mysql_connection_limit(code, message), limit, "{code}: {message}");
        }
    }

    fn infile_refused() -> mysql_async::Error {
        mysql_async::Error::Driver(DriverError::LocalInfile(mysql_async::LocalInfileError::OtherError(Box::new(
            io::Error::other("hoist refuses to send \"/etc/passwd\""),
        ))))
    }

    #[test]
    fn mysql_errors() {
        let io = |kind| mysql_async::Error::Io(mysql_async::IoError::Io(io::Error::from(kind)));
        let driver = mysql_async::Error::Driver;
        let cases: Vec<(&str, mysql_async::Error, bool)> = vec![
            ("deadlock", server(1213), true),
            ("lock wait timeout", server(1205), true),
            ("too many connections", server(1040), true),
            ("the server's max_user_connections", server(1203), true),
            (
                "the account's MAX_USER_CONNECTIONS",
                server_says(1226, "User 'u' has exceeded the 'max_user_connections' resource (current value: 2)"),
                true,
            ),
            (
                "the account's MAX_QUERIES_PER_HOUR: not before the hour is over",
                server_says(1226, "User 'u' has exceeded the 'max_questions' resource (current value: 10)"),
                false,
            ),
            ("the table is full", server(1114), false),
            ("server shutdown", server(1053), true),
            ("gone away", server(2006), true),
            ("lost", server(2013), true),
            ("TiDB region unavailable", server(9005), true),
            ("duplicate key", server(1062), false),
            ("syntax", server(1064), false),
            ("no such table", server(1146), false),
            ("bad value", server(1366), false),
            ("access denied", server(1045), false),
            ("connection reset", io(io::ErrorKind::ConnectionReset), true),
            ("connection refused", io(io::ErrorKind::ConnectionRefused), true),
            ("closed", driver(DriverError::ConnectionClosed), true),
            ("pool gone", driver(DriverError::PoolDisconnected), true),
            ("out of order", driver(DriverError::PacketOutOfOrder), true),
            ("a LOCAL INFILE request refused", infile_refused(), false),
            ("no infile handler", driver(DriverError::LocalInfile(mysql_async::LocalInfileError::NoHandler)), false),
            ("packet too large", driver(DriverError::PacketTooLarge), false),
            ("unknown auth plugin", driver(DriverError::UnknownAuthPlugin { name: "x".into() }), false),
            ("no TLS where it is required", driver(DriverError::NoClientSslFlagFromServer), false),
            ("MySQL: insecure transport prohibited", server(3159), false),
            ("unexpected packet", driver(DriverError::UnexpectedPacket { payload: vec![] }), false),
            ("bad url", mysql_async::Error::Url(mysql_async::UrlError::Invalid), false),
            ("other", mysql_async::Error::Other("rejected".into()), false),
        ];
        for (name, e, transient) in cases {
            assert_eq!(mysql_is_transient(&e), transient, "{name}: {e}");
        }
    }

    /// The errors the checkpoint store runs its transaction again for, at once.
    #[test]
    fn lost_races() {
        let cases: Vec<(&str, u16, bool)> = vec![
            ("deadlock", 1213, true),
            ("lock wait timeout", 1205, true),
            ("TiDB: write conflict", 9007, true),
            ("TiDB: retryable transaction error", 8022, true),
            ("TiDB: schema changed during the transaction", 8028, true),
            ("TiDB: cannot retry a SELECT FOR UPDATE", 8002, true),
            ("lost connection: a new connection, not the same transaction", 2013, false),
            ("too many connections", 1040, false),
            ("duplicate key", 1062, false),
            ("no such table", 1146, false),
        ];
        for (name, code, conflict) in cases {
            assert_eq!(mysql_is_conflict(&server(code)), conflict, "{name}");
            assert!(!conflict || mysql_code_is_transient(code), "{name}: a lost race is transient too");
        }
    }

    /// Which refusals of one row a limit may let pass, and of which kind.
    #[test]
    fn row_faults() {
        let cases: Vec<(&str, u16, Option<RowFault>)> = vec![
            ("duplicate primary key", 1062, Some(RowFault::Conflict)),
            ("duplicate key (MariaDB's wording with the key name)", 1586, Some(RowFault::Conflict)),
            ("NULL into NOT NULL", 1048, Some(RowFault::Type)),
            ("TINYINT 128", 1264, Some(RowFault::Type)),
            ("'2000-00-00' into a TIMESTAMP under strict mode", 1292, Some(RowFault::Type)),
            ("'NaN' into an INT", 1366, Some(RowFault::Type)),
            ("VARCHAR(1) given 'too long'", 1406, Some(RowFault::Type)),
            ("CHECK constraint (MariaDB)", 4025, Some(RowFault::Type)),
            ("no such table: every row would fail", 1146, None),
            ("no INSERT privilege", 1142, None),
            ("syntax error: hoist's statement, not the row's value", 1064, None),
            ("the table is full", 1114, None),
            ("deadlock: transient, not the row's", 1213, None),
        ];
        for (name, code, fault) in cases {
            assert_eq!(mysql_row_fault(code), fault, "{name}");
            assert!(fault.is_none() || !mysql_code_is_transient(code), "{name}: a row's fault is permanent");
        }
    }

    #[test]
    fn sqlite_errors() {
        let failure = |code: i32| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        use rusqlite::ffi;
        let cases: Vec<(&str, rusqlite::Error, bool)> = vec![
            ("busy", failure(ffi::SQLITE_BUSY), true),
            ("locked", failure(ffi::SQLITE_LOCKED), true),
            ("schema changed", failure(ffi::SQLITE_SCHEMA), true),
            ("I/O error", failure(ffi::SQLITE_IOERR), true),
            ("disk full", failure(ffi::SQLITE_FULL), false),
            ("read-only", failure(ffi::SQLITE_READONLY), false),
            ("cannot open", failure(ffi::SQLITE_CANTOPEN), false),
            ("corrupt", failure(ffi::SQLITE_CORRUPT), false),
            ("not a database", failure(ffi::SQLITE_NOTADB), false),
            ("constraint", failure(ffi::SQLITE_CONSTRAINT), false),
            ("no row", rusqlite::Error::QueryReturnedNoRows, false),
            ("bad column type", rusqlite::Error::InvalidColumnType(0, "x".into(), rusqlite::types::Type::Null), false),
        ];
        for (name, e, transient) in cases {
            assert_eq!(sqlite_is_transient(&e), transient, "{name}: {e}");
        }
    }

    #[test]
    fn io_errors() {
        use io::ErrorKind as K;
        let store = |e: object_store::Error| io::Error::other(e);
        let cases: Vec<(&str, io::Error, bool)> = vec![
            ("corrupt gzip", io::Error::new(K::InvalidData, "corrupt deflate stream"), false),
            ("truncated zstd", io::Error::from(K::UnexpectedEof), false),
            ("file removed", io::Error::from(K::NotFound), false),
            ("not readable", io::Error::from(K::PermissionDenied), false),
            ("connection reset", io::Error::from(K::ConnectionReset), true),
            ("timed out", io::Error::from(K::TimedOut), true),
            ("stale NFS handle", io::Error::from(K::StaleNetworkFileHandle), true),
            ("EIO", io::Error::from_raw_os_error(5), true),
            (
                "the file changed during the run",
                io::Error::other(crate::error::FileChanged {
                    path: "d.t.sql".into(),
                    listed: (10, 1),
                    now: Some((5, 2)),
                }),
                false,
            ),
            (
                "object store: network failure after its retries",
                store(object_store::Error::Generic { store: "S3", source: "error sending request".into() }),
                true,
            ),
            (
                "object store: local file system, permission denied",
                store(object_store::Error::Generic {
                    store: "LocalFileSystem",
                    source: Box::new(io::Error::from(K::PermissionDenied)),
                }),
                false,
            ),
            (
                "object store: object gone",
                store(object_store::Error::NotFound { path: "a/b.sql".into(), source: "404".into() }),
                false,
            ),
            (
                "object store: unauthenticated",
                store(object_store::Error::Unauthenticated { path: "a".into(), source: "401".into() }),
                false,
            ),
            (
                "object store: changed (precondition)",
                store(object_store::Error::Precondition { path: "a".into(), source: "412".into() }),
                false,
            ),
        ];
        for (name, e, transient) in cases {
            assert_eq!(io_is_transient(&e), transient, "{name}: {e}");
        }
    }

    /// S3's listing answers arrive as `Generic` with the status in the text.
    #[test]
    fn s3_answers() {
        let generic = |text: &str| object_store::Error::Generic { store: "S3", source: text.to_string().into() };
        let listed = |status: &str, body: &str| {
            generic(&format!(
                "Error performing list request: Error performing GET http://h/b?list-type=2 in 2ms - Server \
                 returned non-2xx status code: {status}: {body}"
            ))
        };
        let cases: Vec<(&str, object_store::Error, bool, Option<StoreRefusal>)> = vec![
            (
                "bad key",
                listed("403 Forbidden", "<Code>InvalidAccessKeyId</Code>"),
                false,
                Some(StoreRefusal::Credentials),
            ),
            ("unsigned", listed("401 Unauthorized", ""), false, Some(StoreRefusal::Credentials)),
            ("no bucket", listed("404 Not Found", "<Code>NoSuchBucket</Code>"), false, Some(StoreRefusal::NoBucket)),
            ("bad request", listed("400 Bad Request", "<Code>InvalidArgument</Code>"), false, None),
            ("throttled after retries", listed("429 Too Many Requests", ""), true, None),
            ("server error after retries", listed("503 Service Unavailable", "<Code>SlowDown</Code>"), true, None),
            ("network after retries", generic("error sending request"), true, None),
            (
                "GET of a forbidden object",
                object_store::Error::PermissionDenied { path: "a".into(), source: "403".into() },
                false,
                Some(StoreRefusal::Credentials),
            ),
            (
                "GET of a removed object",
                object_store::Error::NotFound { path: "a".into(), source: "<Code>NoSuchKey</Code>".into() },
                false,
                None,
            ),
        ];
        for (name, e, transient, refusal) in cases {
            assert_eq!(object_store_is_transient(&e), transient, "{name}: {e}");
            assert_eq!(object_store_refusal(&e), refusal, "{name}: {e}");
        }
    }
}
