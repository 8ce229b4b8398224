//! What is checked before anything is streamed: that the server logs what a restore can
//! replay (binlog on, ROW format, FULL row images, no compressed events), that the user may
//! read it as a replica, and that the server still has the binlog from where the log starts.
//! Each refusal names the fix.

use std::path::Path;

use mysql_async::prelude::*;
use mysql_async::Conn;

use super::LogError;
use crate::backup::snapshot::master_position;
use crate::backup::Flavor;
use crate::binlog::position::{compare_files, BinlogPos};
use crate::redact::redact_url;
use crate::target::mysql::{classify, server_identity};

/// What the source server is, as the log needs it.
#[derive(Debug, Clone)]
pub struct Source {
    pub flavor: Flavor,
    pub cluster_id: String,
    pub server_id: u32,
    /// `'user'@'host'`, as a GRANT names it.
    pub user: String,
    /// Where its binlog ends now (`SHOW MASTER STATUS`).
    pub position: BinlogPos,
    /// Its binlog files and their sizes (`SHOW BINARY LOGS`), oldest first.
    pub files: Vec<(String, u64)>,
}

/// The grant a log needs, for the user the server sees.
pub fn grant(user: &str) -> String {
    format!("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO {user}")
}

/// The refusal for a privilege the server says the user lacks.
pub fn privilege_refusal(url: &str, user: &str, what: &str, error: &str) -> LogError {
    LogError::Refused(format!(
        "{}: the user {user} may not {what} ({error}); hoist log start reads the binlog as a replica does: run \
         {}; on the server (MariaDB 10.5+ also names the second one BINLOG MONITOR)",
        redact_url(url),
        grant(user)
    ))
}

/// Check the server and read what the log needs of it. `url` names it in messages.
pub async fn inspect(conn: &mut Conn, url: &str) -> Result<Source, LogError> {
    let server = redact_url(url);
    let source_error = |e: mysql_async::Error| LogError::Source(classify(e));
    let version: String = conn.query_first("SELECT VERSION()").await.map_err(source_error)?.unwrap_or_default();
    let Some(flavor) = Flavor::from_version(&version) else {
        return Err(LogError::Refused(format!(
            "{server} is TiDB: hoist log start reads the binlog of MySQL and MariaDB servers; use TiDB's br log start"
        )));
    };
    let row: Option<(u8, String, String, u32, String)> = conn
        .query_first(
            "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, @@server_id, CURRENT_USER()",
        )
        .await
        .map_err(source_error)?;
    let (log_bin, format, row_image, server_id, user) = row.unwrap_or_default();
    let user = quote_user(&user);
    if log_bin == 0 {
        return Err(LogError::Refused(format!(
            "{server} does not write a binary log (log_bin is OFF), and hoist log start reads it: add log_bin = binlog \
             (with binlog_format = ROW and binlog_row_image = FULL) under [mysqld] in the server's config and \
             restart the server; log_bin cannot be turned on while it runs"
        )));
    }
    if !format.eq_ignore_ascii_case("ROW") {
        return Err(LogError::Refused(format!(
            "{server} logs with binlog_format = {format}; hoist log start needs ROW, the row images a restore \
             replays exactly: run SET GLOBAL binlog_format = ROW; (sessions already connected keep {format} until \
             they reconnect: reconnect the applications that write) and add binlog_format = ROW under [mysqld] in \
             the server's config so that it stays after a restart"
        )));
    }
    if !row_image.eq_ignore_ascii_case("FULL") {
        return Err(LogError::Refused(format!(
            "{server} logs with binlog_row_image = {row_image}; hoist log start needs FULL (a restore finds a row \
             by its whole before-image): run SET GLOBAL binlog_row_image = FULL; (sessions already connected keep \
             theirs until they reconnect) and add binlog_row_image = FULL under [mysqld] in the server's config"
        )));
    }
    let compressed = match flavor {
        Flavor::MariaDb => ("log_bin_compress", "SELECT @@GLOBAL.log_bin_compress"),
        Flavor::MySql => ("binlog_transaction_compression", "SELECT @@GLOBAL.binlog_transaction_compression"),
    };
    // Older servers lack the variable: then nothing is compressed.
    if conn.query_first::<u8, _>(compressed.1).await.ok().flatten() == Some(1) {
        return Err(LogError::Refused(format!(
            "{server} compresses its binlog events ({} = ON), which hoist cannot read: run SET GLOBAL {} = OFF; \
             and set it OFF in the server's config",
            compressed.0, compressed.0
        )));
    }
    let position = match master_position(conn).await {
        Ok(Some(p)) => BinlogPos::new(p.file, p.pos),
        Ok(None) => {
            return Err(LogError::Refused(format!(
                "{server} reports no binlog position (SHOW MASTER STATUS is empty): the binary log is off; add \
                 log_bin = binlog under [mysqld] in its config and restart it"
            )))
        }
        Err(mysql_async::Error::Server(e)) if e.code == 1227 => {
            return Err(privilege_refusal(url, &user, "read the binlog position (SHOW MASTER STATUS)", &e.message));
        }
        Err(e) => return Err(source_error(e)),
    };
    let files: Vec<(String, u64)> = match conn.query("SHOW BINARY LOGS").await {
        Ok(rows) => rows
            .into_iter()
            .map(|r: mysql_async::Row| (r.get::<String, _>(0).unwrap_or_default(), r.get::<u64, _>(1).unwrap_or(0)))
            .collect(),
        Err(mysql_async::Error::Server(e)) if e.code == 1227 => {
            return Err(privilege_refusal(url, &user, "list the binlog files (SHOW BINARY LOGS)", &e.message));
        }
        Err(e) => return Err(source_error(e)),
    };
    let cluster_id = server_identity(conn).await.map_err(source_error)?;
    Ok(Source { flavor, cluster_id, server_id, user, position, files })
}

/// `CURRENT_USER()` (`user@host`) as a GRANT names it: `'user'@'host'`.
fn quote_user(current: &str) -> String {
    let (user, host) = current.rsplit_once('@').unwrap_or((current, "%"));
    format!("'{}'@'{}'", user.replace('\'', "''"), host.replace('\'', "''"))
}

/// Whether the server still has its binlog from `from`; when not, the refusal names the gap:
/// the file asked for and the first one the server has. `asked` says who asked (a flag, or
/// the log's end), `fix` what to do instead.
pub fn check_start(source: &Source, url: &str, from: &BinlogPos, asked: &str, fix: &str) -> Result<(), LogError> {
    let server = redact_url(url);
    let (Some((first, _)), Some((last, _))) = (source.files.first(), source.files.last()) else {
        return Err(LogError::Refused(format!("{server} lists no binlog files (SHOW BINARY LOGS): is log_bin on?")));
    };
    if let Some((_, size)) = source.files.iter().find(|(f, _)| *f == from.file) {
        if from.pos > *size {
            return Err(LogError::Refused(format!(
                "{asked} is past the end of {} on {server}, which holds {size} bytes; {fix}",
                from.file
            )));
        }
        return Ok(());
    }
    if compare_files(&from.file, first).is_lt()
        && crate::binlog::position::file_number(&from.file).0 == crate::binlog::position::file_number(first).0
    {
        return Err(LogError::Refused(format!(
            "{asked}, but {server} no longer has {}: its oldest binlog is {first} (SHOW BINARY LOGS), so the \
             transactions from {from} to {first}:4 are gone (purged); {fix}",
            from.file
        )));
    }
    Err(LogError::Refused(format!(
        "{asked}, but {server} has no binlog file {}: its files run from {first} to {last} (SHOW BINARY LOGS); {fix}",
        from.file
    )))
}

/// The replica `server_id` the log registers with: the one given, else a high number derived
/// from the log directory, the same on every run into it (so a rerun replaces a connection a
/// killed run left on the server, as a replica would) and different for another directory.
/// Never the source's own (nor 0, which the server refuses for a replica).
pub fn replica_id(given: Option<u32>, root: &Path, source_server_id: u32) -> Result<u32, LogError> {
    if let Some(id) = given {
        if id == 0 || id == source_server_id {
            return Err(LogError::Refused(format!(
                "--server-id {id}: {}; give a server_id no server or replica of this topology has, or leave \
                 --server-id out for one derived from --storage",
                if id == 0 { "0 is not a replica's server_id" } else { "that is the source's own server_id" }
            )));
        }
        return Ok(id);
    }
    let hash = xxhash_rust::xxh3::xxh3_64(root.as_os_str().as_encoded_bytes());
    let id = 3_000_000_000 + (hash % 1_000_000_000) as u32;
    Ok(if id == source_server_id { id + 1 } else { id })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(files: &[(&str, u64)]) -> Source {
        Source {
            flavor: Flavor::MariaDb,
            cluster_id: "c".into(),
            server_id: 1,
            user: "'u'@'%'".into(),
            position: BinlogPos::new(files.last().unwrap().0, files.last().unwrap().1),
            files: files.iter().map(|(f, s)| (f.to_string(), *s)).collect(),
        }
    }

    #[test]
    fn a_purged_start_names_the_gap() {
        let s = source(&[("binlog.000003", 900), ("binlog.000004", 400)]);
        let p = |t| BinlogPos::parse(t).unwrap();
        assert!(check_start(&s, "mysql://u:pw@h:1", &p("binlog.000003:4"), "x", "y").is_ok());
        let e = check_start(&s, "mysql://u:pw@h:1", &p("binlog.000001:4"), "--start-pos binlog.000001:4", "fix")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("binlog.000001") && e.contains("oldest binlog is binlog.000003") && e.contains("purged"),
            "{e}"
        );
        assert!(!e.contains("pw"), "no password: {e}");
        let e = check_start(&s, "mysql://h:1", &p("binlog.000004:500"), "--start-pos", "fix").unwrap_err().to_string();
        assert!(e.contains("past the end of binlog.000004"), "{e}");
        let e = check_start(&s, "mysql://h:1", &p("binlog.000009:4"), "--start-pos", "fix").unwrap_err().to_string();
        assert!(e.contains("from binlog.000003 to binlog.000004"), "{e}");
    }

    #[test]
    fn the_replica_id_is_stable_per_directory_and_never_the_sources() {
        let id = |given, dir: &str, source| replica_id(given, Path::new(dir), source).unwrap();
        let a = id(None, "/logs/a", 1);
        assert_eq!(a, id(None, "/logs/a", 1));
        assert_ne!(a, id(None, "/logs/b", 1));
        assert!(a >= 3_000_000_000);
        assert_ne!(id(None, "/logs/a", a), a);
        assert_eq!(id(Some(7), "/logs/a", 1), 7);
        assert!(replica_id(Some(1), Path::new("/logs/a"), 1).is_err_and(|e| e.to_string().contains("source's own")));
        assert!(replica_id(Some(0), Path::new("/logs/a"), 1).is_err());
        assert_eq!(quote_user("repl@10.0.%"), "'repl'@'10.0.%'");
    }
}
