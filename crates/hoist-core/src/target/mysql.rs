//! The MySQL-family target (MySQL, MariaDB, TiDB) through `mysql_async`.
//!
//! Each writer owns one connection for its whole life, so the session settings (no foreign-key
//! checks; unique checks stay on, see `mysql_writer.rs`; sql_mode, the dump's character set) are
//! set once, not per batch. A batch is
//! `BEGIN; INSERT ... VALUES (...),(...); upsert marker; COMMIT`. SQL tuples that the parser
//! validated pass through as raw bytes; CSV fields are quoted and escaped.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use hoist_schema::quote_mysql_ident as q;
use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, OptsBuilder};

use super::mysql_rows::{load_data_fits, InsertEncoder, LoadDataEncoder};
use super::mysql_writer::MysqlWriter;
use super::*;

pub struct MysqlTarget {
    pub(super) opts: Opts,
    /// Connections for metadata and DDL, reused: with thousands of tables, a connection per
    /// call would dominate. Writers keep connections of their own.
    pool: mysql_async::Pool,
    url: String,
    pub(super) options: TargetOptions,
    /// The server accepts LOAD DATA LOCAL INFILE.
    local_infile: bool,
    /// The server is TiDB (it has table ids in information_schema.TABLES).
    tidb: bool,
}

/// A driver error as the target's error: the server's code and message, or the driver's
/// words, with the class `error_class::mysql_is_transient` gives it.
pub fn classify(e: mysql_async::Error) -> TargetError {
    let transient = crate::error_class::mysql_is_transient(&e);
    match &e {
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) if crate::error_class::is_packet_too_large(io) => {
            TargetError { code: None, message: PACKET_TOO_LARGE.to_string(), transient }
        }
        mysql_async::Error::Server(s) if s.code == 1153 => {
            TargetError { code: Some(1153), message: PACKET_TOO_LARGE.to_string(), transient }
        }
        mysql_async::Error::Server(s) => {
            TargetError { code: Some(s.code), message: format!("ERROR {}: {}", s.code, s.message), transient }
        }
        // The handler's own words say which file the server asked for and why it was refused.
        mysql_async::Error::Driver(mysql_async::DriverError::LocalInfile(_)) => {
            TargetError { code: None, message: format!("LOAD DATA LOCAL INFILE: {}", cause(&e)), transient }
        }
        _ => TargetError { code: None, message: e.to_string(), transient },
    }
}

/// What to do about a statement larger than the server accepts.
const PACKET_TOO_LARGE: &str = "a statement of this batch is larger than the server's max_allowed_packet: raise it \
     (SET GLOBAL max_allowed_packet = 1073741824, and in the server's configuration), or send smaller batches \
     with --batch-size (a single row larger than the limit needs the server's limit raised)";

/// Why a connection could not be made, for a person: the server's address, the cause without
/// the driver's wrapping ("Input/output error: Input/output error: ..."), and what to check.
/// Nothing of the password: the caller names the URL through `redact_url`.
pub(crate) fn connect_failure(opts: &Opts, e: &mysql_async::Error) -> String {
    let (what, check) = crate::tls::failure(opts, e).unwrap_or_else(|| {
        let check = match e {
            mysql_async::Error::Server(s) if s.code == 1045 => {
                let x509 = if opts.ssl_opts().is_some_and(|s| s.client_identity().is_none()) {
                    " (a user created REQUIRE X509 also needs --ssl-cert and --ssl-key)"
                } else {
                    ""
                };
                format!("check the user and the password, and from which hosts that user may connect{x509}")
            }
            mysql_async::Error::Server(s) if s.code == 1049 => "check the database named in the URL".into(),
            mysql_async::Error::Server(_) => "the server's message above says why".into(),
            mysql_async::Error::Io(_) => "check that the server is running and listening on that host and port, \
                                          and that no firewall is in between"
                .into(),
            _ => "check the URL and the server's settings".into(),
        };
        (cause(e), check)
    });
    format!("cannot connect to the MySQL server at {}:{}: {what}; {check}", opts.ip_or_hostname(), opts.tcp_port())
}

/// A server hoist reads (`--source` of a backup or a log) is named by a `mysql://` URL.
/// Its first connection is `tls::connect`'s, which gives the options of the later ones.
pub fn check_source_url(url: &str) -> Result<(), String> {
    if url.starts_with("mysql://") {
        Ok(())
    } else {
        Err(format!("--source must be mysql://user:pass@host:port, not {}", redact_url(url)))
    }
}

/// A later connection to a source server, with the options `tls::connect` gave; a failure
/// says which server and what to check.
pub async fn connect_source(opts: &Opts) -> Result<Conn, TargetError> {
    Conn::new(opts.clone()).await.map_err(|e| {
        let message = connect_failure(opts, &e);
        TargetError { message, ..classify(e) }
    })
}

/// The error's own words: the server's message, or the innermost error of a chain.
fn cause(e: &mysql_async::Error) -> String {
    if let mysql_async::Error::Server(s) = e {
        return format!("ERROR {}: {}", s.code, s.message);
    }
    let mut innermost: &dyn std::error::Error = e;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    innermost.to_string()
}

impl MysqlTarget {
    pub async fn connect(url: &str, options: &TargetOptions) -> Result<MysqlTarget, TargetError> {
        if options.sql_mode.split(',').any(|m| m.trim().eq_ignore_ascii_case("NO_BACKSLASH_ESCAPES")) {
            tracing::warn!(
                "sql_mode NO_BACKSLASH_ESCAPES is left out of the loading sessions: it changes only how the server \
                 reads SQL text, and hoist writes its statements with backslash escapes (a dump file that sets it \
                 still has it for its own rows)"
            );
        }
        // Fail early, naming the server and what to check, when it cannot be reached.
        let (opts, mut conn) = crate::tls::connect(url, &options.tls)
            .await
            .map_err(|e| TargetError { message: format!("{}: {}", redact_url(url), e.message), ..e })?;
        // Up to 4 connections stay idle for a few seconds: without a TTL the pool closes every
        // connection it gets back, and an import of 2,000 small tables opened 14,000 of them
        // (seven per table: its metadata, post steps and checks). None is kept for long, so a
        // server that allows few connections gets them back for the writers soon.
        let pool_opts = mysql_async::PoolOpts::default()
            .with_constraints(mysql_async::PoolConstraints::new(0, 4).expect("0 <= 4"))
            .with_inactive_connection_ttl(std::time::Duration::from_secs(5))
            .with_ttl_check_interval(std::time::Duration::from_secs(1));
        // Sessions are not reset when they come back to the pool (a reset, the setup command
        // again and every statement prepared again cost about six round trips per table):
        // hoist's own metadata statements change nothing that the next user would see but the
        // default database. Those that run the dump's statements or change the session ask
        // for a reset (`Conn::reset_connection`).
        let pool_opts = pool_opts.with_reset_connection(false);
        let pool = mysql_async::Pool::new(
            OptsBuilder::from_opts(opts.clone()).pool_opts(pool_opts).setup(vec!["SET NAMES utf8mb4".to_string()]),
        );
        let mut target = MysqlTarget {
            opts,
            pool,
            url: url.to_string(),
            options: options.clone(),
            local_infile: false,
            tidb: false,
        };
        let local_infile: Option<u8> = conn.query_first("SELECT @@local_infile").await.ok().flatten();
        target.local_infile = local_infile == Some(1);
        let version: Option<String> = conn.query_first("SELECT VERSION()").await.ok().flatten();
        target.tidb = version.is_some_and(|v| v.contains("TiDB"));
        let _ = conn.disconnect().await;
        if options.write_mode == WriteMode::LoadData && !target.local_infile {
            return Err(TargetError::permanent(format!(
                "{}: the server does not accept LOAD DATA LOCAL INFILE (local_infile is OFF); \
                 use --write-mode insert, or SET GLOBAL local_infile = 1",
                redact_url(url)
            )));
        }
        Ok(target)
    }

    /// A pooled connection speaking utf8mb4; its session is as hoist's statements left it (no
    /// reset unless the last user asked for one), its default database maybe another's.
    async fn conn(&self) -> Result<Conn, TargetError> {
        self.pool.get_conn().await.map_err(classify)
    }

    /// The information_schema.TABLES column that identifies a table (see `table_identity`),
    /// and the prefix its value is recorded with.
    fn identity_column(&self) -> (&'static str, &'static str) {
        if self.tidb {
            ("TIDB_TABLE_ID", "id")
        } else {
            ("CREATE_TIME", "created")
        }
    }

    pub(super) fn markers_table(&self) -> String {
        format!("{}.`hoist_progress`", q(&self.options.meta_schema))
    }

    fn finished_table(&self) -> String {
        format!("{}.`hoist_finished`", q(&self.options.meta_schema))
    }

    fn tasks_table(&self) -> String {
        format!("{}.`hoist_tasks`", q(&self.options.meta_schema))
    }

    /// Whether the meta schema has this table: a server hoist never wrote to has none, and
    /// the tasks table is missing where an older hoist made the meta schema.
    async fn meta_table_exists(&self, conn: &mut Conn, name: &str) -> Result<bool, TargetError> {
        let n: Option<u64> = conn
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (&self.options.meta_schema, name),
            )
            .await
            .map_err(classify)?;
        Ok(n == Some(1))
    }

    /// Run hoist's own statements in order on one connection.
    async fn run(&self, database: Option<&str>, statements: &[String]) -> Result<(), TargetError> {
        self.run_tolerant(database, statements, false).await
    }

    /// Run statements in order on one connection (a file's SET statements apply to what
    /// follows). With `from_dump`, they are the dump's: "already exists" errors are skipped
    /// (post-data DDL runs again after a crash), and the session is reset when it goes back to
    /// the pool, so that the files' SETs (sql_mode, character sets) reach no other statement.
    async fn run_tolerant(
        &self,
        database: Option<&str>,
        statements: &[String],
        from_dump: bool,
    ) -> Result<(), TargetError> {
        let mut conn = self.conn().await?;
        conn.reset_connection(from_dump);
        let mut setup = String::from("SET SESSION foreign_key_checks = 0");
        if let Some(db) = database {
            setup = format!("USE {}; {setup}", q(db));
        }
        if !from_dump {
            // hoist's own statements go with the setup, in one round trip.
            let all: Vec<&str> = std::iter::once(setup.as_str()).chain(statements.iter().map(String::as_str)).collect();
            return conn.query_drop(all.join(";\n")).await.map_err(classify);
        }
        conn.query_drop(setup).await.map_err(classify)?;
        for s in statements {
            match conn.query_drop(s.as_str()).await.map_err(classify) {
                Err(e) if from_dump && already_exists(&e) => {}
                other => other?,
            }
        }
        Ok(())
    }
}

/// The server's identity: `mysql:<server_uuid>`; MariaDB has no server_uuid, so
/// `mariadb:<hostname>:<datadir>:<server_id>`, which tells apart every server on a host and
/// stays the same across restarts. A checkpoint is bound to it, and a backup names its upstream by it.
pub async fn server_identity(conn: &mut Conn) -> Result<String, mysql_async::Error> {
    let uuid: Option<String> = conn.query_first("SELECT @@server_uuid").await.ok().flatten();
    if let Some(u) = uuid {
        return Ok(format!("mysql:{u}"));
    }
    let row: Option<(String, String, u64)> = conn.query_first("SELECT @@hostname, @@datadir, @@server_id").await?;
    let (host, datadir, id) = row.unwrap_or_default();
    Ok(format!("mariadb:{host}:{datadir}:{id}"))
}

/// The class of a column from information_schema's DATA_TYPE.
fn column_class(data_type: &str) -> ColumnClass {
    use crate::data_type::TypeClass;
    match TypeClass::of(data_type) {
        TypeClass::Bit => ColumnClass::Bit,
        TypeClass::Binary => ColumnClass::Binary,
        TypeClass::Spatial => ColumnClass::Spatial,
        t if t.is_numeric() => ColumnClass::Numeric,
        _ => ColumnClass::Text,
    }
}

/// A user with rights on the dumped schemas only is refused on hoist's own: say which schema
/// that is, what it holds, and how to grant it or pick another.
fn meta_schema_denied(e: TargetError, schema: &str) -> TargetError {
    // 1044: access denied to a database; 1142: to a table.
    if !matches!(e.code, Some(1044 | 1142)) {
        return e;
    }
    TargetError {
        message: format!(
            "{}\nhoist keeps its progress markers in the schema {} of the target, in the same transactions as the \
             rows: grant the user CREATE, SELECT, INSERT, UPDATE and DELETE on {}.*, or name a schema it may \
             write with --meta-schema",
            e.message,
            q(schema),
            q(schema)
        ),
        ..e
    }
}

/// Codes that mean "this already exists": post-data DDL is run again after a crash.
fn already_exists(e: &TargetError) -> bool {
    matches!(e.code, Some(1050 | 1061 | 1304 | 1359 | 1537 | 1826))
}

#[async_trait]
impl Target for MysqlTarget {
    fn describe(&self) -> String {
        redact_url(&self.url)
    }

    async fn identity(&self) -> Result<String, TargetError> {
        let mut conn = self.conn().await?;
        server_identity(&mut conn).await.map_err(classify)
    }

    async fn prepare_markers(&self) -> Result<(), TargetError> {
        self.run(
            None,
            &[
                format!("CREATE DATABASE IF NOT EXISTS {}", q(&self.options.meta_schema)),
                format!(
                    "CREATE TABLE IF NOT EXISTS {} (task_id BIGINT NOT NULL, chunk_id BIGINT NOT NULL, \
                     pos BIGINT UNSIGNED NOT NULL, stmt_start BIGINT UNSIGNED NULL, rows_loaded BIGINT UNSIGNED NOT NULL, \
                     checksum BIGINT UNSIGNED NOT NULL, done TINYINT NOT NULL, \
                     updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3), \
                     PRIMARY KEY (task_id, chunk_id)) ENGINE=InnoDB",
                    self.markers_table()
                ),
                format!(
                    "CREATE TABLE IF NOT EXISTS {} (fingerprint CHAR(64) NOT NULL PRIMARY KEY, task_id BIGINT NOT NULL, \
                     finished_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB",
                    self.finished_table()
                ),
                format!(
                    "CREATE TABLE IF NOT EXISTS {} (fingerprint CHAR(64) NOT NULL PRIMARY KEY, task_id BIGINT NOT NULL, \
                     checkpoint TEXT NOT NULL, started_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB",
                    self.tasks_table()
                ),
            ],
        )
        .await
        .map_err(|e| meta_schema_denied(e, &self.options.meta_schema))
    }

    async fn read_markers(&self, task_id: i64) -> Result<HashMap<i64, ChunkProgress>, TargetError> {
        let mut conn = self.conn().await?;
        let rows: Vec<(i64, u64, Option<u64>, u64, u64, u8)> = conn
            .exec(
                format!(
                    "SELECT chunk_id, pos, stmt_start, rows_loaded, checksum, done FROM {} WHERE task_id = ?",
                    self.markers_table()
                ),
                (task_id,),
            )
            .await
            .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(id, offset, stmt_start, rows, checksum, done)| {
                (id, ChunkProgress { offset, stmt_start, rows, checksum, done: done != 0 })
            })
            .collect())
    }

    async fn record_finished(&self, task_id: i64, fingerprint: &str) -> Result<(), TargetError> {
        let mut conn = self.conn().await?;
        let mut tx = conn.start_transaction(mysql_async::TxOpts::default()).await.map_err(classify)?;
        tx.exec_drop(format!("DELETE FROM {} WHERE task_id = ?", self.markers_table()), (task_id,))
            .await
            .map_err(classify)?;
        tx.exec_drop(format!("DELETE FROM {} WHERE task_id = ?", self.tasks_table()), (task_id,))
            .await
            .map_err(classify)?;
        tx.exec_drop(
            format!("REPLACE INTO {} (fingerprint, task_id) VALUES (?, ?)", self.finished_table()),
            (fingerprint, task_id),
        )
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn finished(&self, fingerprint: &str) -> Result<Option<(i64, String)>, TargetError> {
        let mut conn = self.conn().await?;
        if !self.meta_table_exists(&mut conn, "hoist_finished").await? {
            return Ok(None);
        }
        conn.exec_first(
            format!("SELECT task_id, CAST(finished_at AS CHAR) FROM {} WHERE fingerprint = ?", self.finished_table()),
            (fingerprint,),
        )
        .await
        .map_err(classify)
    }

    async fn record_task(&self, task_id: i64, fingerprint: &str, checkpoint: &str) -> Result<(), TargetError> {
        let mut conn = self.conn().await?;
        conn.exec_drop(
            format!("REPLACE INTO {} (fingerprint, task_id, checkpoint) VALUES (?, ?, ?)", self.tasks_table()),
            (fingerprint, task_id, checkpoint),
        )
        .await
        .map_err(classify)
    }

    async fn unfinished(&self, fingerprint: &str) -> Result<Option<UnfinishedTask>, TargetError> {
        let mut conn = self.conn().await?;
        if !self.meta_table_exists(&mut conn, "hoist_tasks").await? {
            return Ok(None);
        }
        let row: Option<(i64, String, String)> = conn
            .exec_first(
                format!(
                    "SELECT task_id, checkpoint, CAST(started_at AS CHAR) FROM {} WHERE fingerprint = ?",
                    self.tasks_table()
                ),
                (fingerprint,),
            )
            .await
            .map_err(classify)?;
        Ok(row.map(|(task_id, checkpoint, started)| UnfinishedTask { task_id, checkpoint, started }))
    }

    async fn clear_markers(&self, task_id: i64, chunk_ids: Option<&[i64]>) -> Result<(), TargetError> {
        let mut sql = format!("DELETE FROM {} WHERE task_id = {task_id}", self.markers_table());
        let Some(ids) = chunk_ids else {
            let forget = format!("DELETE FROM {} WHERE task_id = {task_id}", self.tasks_table());
            return self.run(None, &[sql, forget]).await;
        };
        if ids.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        sql.push_str(&format!(" AND chunk_id IN ({})", list.join(",")));
        self.run(None, &[sql]).await
    }

    async fn create_database(&self, database: &str, create_sql: Option<&str>) -> Result<(), TargetError> {
        // The database name comes from the file name (as Lightning does); the dump's statement
        // only contributes its options (character set).
        let options = create_sql.and_then(database_options).unwrap_or_default();
        self.run(None, &[format!("CREATE DATABASE IF NOT EXISTS {}{options}", q(database))]).await
    }

    async fn create_table(&self, database: &str, name: &str, create_sql: &str, defer: bool) -> Result<(), TargetError> {
        let ddl = hoist_schema::mysql_table_ddl(create_sql, name, defer)
            .map_err(|e| TargetError::permanent(format!("schema of `{database}`.`{name}`: {e}")))?;
        self.run(Some(database), &[ddl.create]).await
    }

    fn deferred_indexes(&self, name: &str, create_sql: &str, defer: bool) -> Result<Vec<String>, TargetError> {
        hoist_schema::mysql_table_ddl(create_sql, name, defer)
            .map(|ddl| ddl.add_indexes)
            .map_err(|e| TargetError::permanent(format!("schema of `{name}`: {e}")))
    }

    async fn existing_tables(
        &self,
        tables: &[(String, String)],
    ) -> Result<std::collections::HashSet<(String, String)>, TargetError> {
        let databases: std::collections::BTreeSet<&str> = tables.iter().map(|(d, _)| d.as_str()).collect();
        let mut found = std::collections::HashSet::new();
        let mut conn = self.conn().await?;
        for db in databases {
            let names: Vec<String> = conn
                .exec("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", (db,))
                .await
                .map_err(classify)?;
            found.extend(names.into_iter().map(|n| (db.to_string(), n)));
        }
        found.retain(|t| tables.contains(t));
        Ok(found)
    }

    async fn table_facts(&self, database: &str, name: &str) -> Result<Option<TableFacts>, TargetError> {
        let mut conn = self.conn().await?;
        let Some(description) = describe_table(&mut conn, database, name).await.map_err(classify)? else {
            return Ok(None);
        };
        let (column, kind) = self.identity_column();
        // information_schema.ENGINES says which engines have transactions, also for engines
        // hoist has never heard of.
        let row: Option<(Option<String>, Option<String>, Option<String>)> = conn
            .exec_first(
                format!(
                    "SELECT CAST(t.{column} AS CHAR), t.ENGINE, e.TRANSACTIONS FROM information_schema.TABLES t \
                     LEFT JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE \
                     WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?"
                ),
                (database, name),
            )
            .await
            .map_err(classify)?;
        let identity = row.as_ref().map(|(v, ..)| format!("{kind}:{}", v.as_deref().unwrap_or_default()));
        let non_transactional_engine =
            row.and_then(|(_, engine, tx)| engine.filter(|_| tx.as_deref().is_some_and(|t| t != "YES")));
        let columns = description
            .columns
            .iter()
            .map(|c| TargetColumn { name: c.name.clone(), class: column_class(&c.data_type), generated: c.generated })
            .collect();
        Ok(Some(TableFacts { columns, identity, non_transactional_engine, description: Some(description) }))
    }

    /// TiDB's table id where the server has one; else the creation time, which is as close
    /// as MySQL and MariaDB get without reading InnoDB's dictionary view (a full scan of every
    /// table per query: seconds per thousand tables). Its one-second resolution means a table
    /// dropped and created again within the same second as hoist recorded it looks unchanged.
    async fn table_identity(&self, database: &str, name: &str) -> Result<Option<String>, TargetError> {
        let (column, kind) = self.identity_column();
        let value: Option<(Option<String>,)> = self
            .conn()
            .await?
            .exec_first(
                format!(
                    "SELECT CAST({column} AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?"
                ),
                (database, name),
            )
            .await
            .map_err(classify)?;
        Ok(value.map(|(v,)| format!("{kind}:{}", v.unwrap_or_default())))
    }

    async fn row_count(&self, database: &str, name: &str) -> Result<u64, TargetError> {
        let mut conn = self.conn().await?;
        let n: Option<u64> =
            conn.query_first(format!("SELECT COUNT(*) FROM {}.{}", q(database), q(name))).await.map_err(classify)?;
        Ok(n.unwrap_or(0))
    }

    async fn prepare_error_tables(&self, schema: &str, task_id: i64) -> Result<(u64, u64), TargetError> {
        use crate::error_class::RowFault;
        // Lightning's layout (`lightning_task_info.type_error_v2`, `conflict_records`), so that its
        // users' queries work; `offset` is where the row starts in the file.
        let mut statements = vec![format!("CREATE DATABASE IF NOT EXISTS {}", q(schema))];
        for fault in [RowFault::Type, RowFault::Conflict] {
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {}.{} (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
                 task_id BIGINT NOT NULL, create_time DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), \
                 table_name VARCHAR(1024) NOT NULL, path VARCHAR(2048) NOT NULL, `offset` BIGINT NOT NULL, \
                 error TEXT NOT NULL, row_data TEXT NOT NULL, KEY (task_id, table_name(255))) \
                 ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
                q(schema),
                q(record_table(fault))
            ));
        }
        self.run(None, &statements).await?;
        Ok(self.error_counts(schema, task_id).await?.unwrap_or_default())
    }

    async fn error_counts(&self, schema: &str, task_id: i64) -> Result<Option<(u64, u64)>, TargetError> {
        use crate::error_class::RowFault;
        let mut conn = self.conn().await?;
        let mut counts = [0u64; 2];
        for (n, fault) in counts.iter_mut().zip([RowFault::Type, RowFault::Conflict]) {
            let sql = format!("SELECT COUNT(*) FROM {}.{} WHERE task_id = ?", q(schema), q(record_table(fault)));
            match conn.exec_first::<u64, _, _>(sql, (task_id,)).await.map_err(classify) {
                Ok(count) => *n = count.unwrap_or(0),
                // No such schema or table: nothing was ever recorded there.
                Err(e) if matches!(e.code, Some(1146 | 1049)) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Ok(Some((counts[0], counts[1])))
    }

    async fn clear_error_records(&self, schema: &str, task_id: i64, table: &str) -> Result<(), TargetError> {
        use crate::error_class::RowFault;
        let mut conn = self.conn().await?;
        for fault in [RowFault::Type, RowFault::Conflict] {
            let sql =
                format!("DELETE FROM {}.{} WHERE task_id = ? AND table_name = ?", q(schema), q(record_table(fault)));
            match conn.exec_drop(sql, (task_id, table)).await.map_err(classify) {
                // No such table: nothing was ever recorded there.
                Err(e) if e.code == Some(1146) || e.code == Some(1049) => {}
                other => other?,
            }
        }
        Ok(())
    }

    fn checksums_content(&self) -> bool {
        true
    }

    async fn session_utc_offset(&self) -> Result<Option<i64>, TargetError> {
        let zone: Option<(String, String)> =
            self.conn().await?.query_first("SELECT @@session.time_zone, @@system_time_zone").await.map_err(classify)?;
        Ok(zone.and_then(|(zone, system)| match zone.as_str() {
            // The system's zone by its abbreviation: only UTC's has no daylight saving.
            "SYSTEM" => matches!(system.as_str(), "UTC" | "GMT" | "Etc/UTC").then_some(0),
            _ => crate::utc::parse_offset(&zone),
        }))
    }

    async fn content_checksum(
        &self,
        database: &str,
        name: &str,
        range: Option<&crate::manifest::KeyRange>,
    ) -> Result<(u64, u64), TargetError> {
        let mut conn = self.conn().await?;
        // After an error on the way the session may be left in UTC: the pool resets it.
        conn.reset_connection(true);
        let found = crate::row_checksum::table_checksum(&mut conn, database, name, range).await.map_err(classify)?;
        conn.reset_connection(false);
        Ok(found)
    }

    async fn key_bounds(&self, database: &str, name: &str, column: &str) -> Result<Option<(i128, i128)>, TargetError> {
        let c = q(column);
        let sql = format!("SELECT CAST(MIN({c}) AS CHAR), CAST(MAX({c}) AS CHAR) FROM {}.{}", q(database), q(name));
        let row: Option<(Option<String>, Option<String>)> =
            self.conn().await?.query_first(sql).await.map_err(classify)?;
        let parse = |v: Option<String>| v.and_then(|v| v.parse::<i128>().ok());
        Ok(row.and_then(|(low, high)| Some((parse(low)?, parse(high)?))))
    }

    async fn drop_table(&self, database: &str, name: &str) -> Result<(), TargetError> {
        self.run(None, &[format!("DROP TABLE IF EXISTS {}.{}", q(database), q(name))]).await
    }

    async fn describe_table(&self, database: &str, name: &str) -> Result<Option<TableDescription>, TargetError> {
        describe_table(&mut self.conn().await?, database, name).await.map_err(classify)
    }

    async fn schema_shape(&self, skip: &[&str]) -> Result<u64, TargetError> {
        let mut conn = self.conn().await?;
        let mut excluded = vec!["mysql", "information_schema", "performance_schema", "sys"];
        excluded.extend_from_slice(skip);
        let list = excluded
            .iter()
            .map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(", ");
        let mut text = String::new();
        for sql in [
            format!("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ({list}) ORDER BY 1"),
            format!(
                "SELECT CONCAT_WS('\t', TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, COALESCE(ENGINE, '')) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA NOT IN ({list}) ORDER BY TABLE_SCHEMA, TABLE_NAME"
            ),
            format!(
                "SELECT CONCAT_WS('\t', TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, \
                 COALESCE(COLUMN_DEFAULT, '~'), EXTRA) FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA NOT IN ({list}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
            ),
            format!(
                "SELECT CONCAT_WS('\t', TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE) \
                 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA NOT IN ({list}) \
                 ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
            ),
        ] {
            let rows: Vec<String> = conn.query(sql).await.map_err(classify)?;
            for r in rows {
                text.push_str(&r);
                text.push('\n');
            }
            text.push('\u{1}');
        }
        Ok(xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
    }

    async fn run_logged(&self, database: Option<&str>, sql: &str) -> Result<(), TargetError> {
        let mut conn = self.conn().await?;
        let setup = match database {
            Some(db) if !db.is_empty() => format!("USE {}; SET SESSION foreign_key_checks = 0", q(db)),
            _ => "SET SESSION foreign_key_checks = 0".to_string(),
        };
        conn.query_drop(setup).await.map_err(classify)?;
        let result = conn.query_drop(sql).await.map_err(classify);
        // The default database stays with the pooled connection otherwise; a dropped one
        // would fail the next user's statements.
        let _ = conn.reset().await;
        result
    }

    async fn run_statements(&self, database: &str, statements: &[String]) -> Result<(), TargetError> {
        self.run_tolerant(Some(database), statements, true).await
    }

    async fn analyze(&self, database: &str, name: &str) -> Result<(), TargetError> {
        self.run(None, &[format!("ANALYZE TABLE {}.{}", q(database), q(name))]).await
    }

    async fn create_view(&self, database: &str, name: &str, create_sql: &str) -> Result<Option<String>, TargetError> {
        let ddl = hoist_schema::mysql_view_ddl(create_sql, name)
            .map_err(|e| TargetError::permanent(format!("view `{database}`.`{name}`: {e}")))?;
        let mut conn = self.conn().await?;
        let kind: Option<String> = conn
            .exec_first(
                "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (database, name),
            )
            .await
            .map_err(classify)?;
        let mut statements = Vec::new();
        if kind.as_deref() == Some("BASE TABLE") {
            // Dumpling's placeholder table for the view.
            statements.push(format!("DROP TABLE {}", q(name)));
        }
        statements.push(ddl);
        self.run(Some(database), &statements).await.map(|()| None)
    }

    async fn run_post_ddl(
        &self,
        database: &str,
        statements: &[String],
    ) -> Result<Vec<(&'static str, String)>, TargetError> {
        self.run_statements(database, statements).await?;
        Ok(Vec::new())
    }

    fn encoder(&self, table: &TableTarget, columns: &[usize], insert: bool) -> Box<dyn BatchEncoder> {
        let load = !insert
            && match self.options.write_mode {
                WriteMode::Insert => false,
                WriteMode::LoadData => true,
                WriteMode::Auto => self.local_infile && load_data_fits(table, columns),
            };
        // `()` (a row of defaults) has no LOAD DATA form.
        if load && !columns.is_empty() {
            Box::new(LoadDataEncoder::new(table, columns))
        } else {
            Box::new(InsertEncoder::new(table, columns))
        }
    }

    async fn writer(&self, now: Option<f64>) -> Result<Box<dyn Writer>, TargetError> {
        Ok(Box::new(MysqlWriter::new(self.clone_handle(), now)))
    }
}

impl MysqlTarget {
    fn clone_handle(&self) -> Arc<MysqlTarget> {
        Arc::new(MysqlTarget {
            opts: self.opts.clone(),
            pool: self.pool.clone(),
            url: self.url.clone(),
            options: self.options.clone(),
            local_infile: self.local_infile,
            tidb: self.tidb,
        })
    }
}

/// `CHARACTER SET x COLLATE y` taken from a dump's CREATE DATABASE: the text after the
/// database name (which itself may contain any word, such as "charsets"), version comments
/// unwrapped, kept only if it is plain words.
fn database_options(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    let keyword = ["database", "schema"].iter().filter_map(|k| lower.find(k).map(|i| i + k.len())).min()?;
    let mut rest = sql[keyword..].trim_start();
    if rest.to_ascii_lowercase().starts_with("if not exists") {
        rest = rest["if not exists".len()..].trim_start();
    }
    // Skip the name: backquoted (a doubled backquote inside) or bare.
    let after_name = if let Some(quoted) = rest.strip_prefix('`') {
        let mut chars = quoted.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '`' {
                if chars.peek().map(|&(_, c)| c) == Some('`') {
                    chars.next();
                } else {
                    end = Some(i + 1);
                    break;
                }
            }
        }
        &quoted[end?..]
    } else {
        rest.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_' || c == '$')
    };
    // Only the character set and collation are taken; any other words are not hoist's business.
    let text = after_name.replace("*/", " ").replace('=', " = ");
    let words: Vec<&str> = text.split_whitespace().filter(|w| !w.starts_with("/*")).collect();
    let value_after = |i: usize| -> Option<&str> {
        let v = if words.get(i) == Some(&"=") { words.get(i + 1) } else { words.get(i) }?;
        let v = v.trim_end_matches(';');
        v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_').then_some(v)
    };
    let (mut charset, mut collate) = (None, None);
    for (i, w) in words.iter().enumerate() {
        let w = w.to_ascii_lowercase();
        if w == "charset" || (w == "set" && i > 0 && words[i - 1].eq_ignore_ascii_case("character")) {
            charset = value_after(i + 1);
        } else if w == "collate" {
            collate = value_after(i + 1);
        }
    }
    let mut options = String::new();
    if let Some(c) = charset {
        options.push_str(&format!(" CHARACTER SET {c}"));
    }
    if let Some(c) = collate {
        options.push_str(&format!(" COLLATE {c}"));
    }
    (!options.is_empty()).then_some(options)
}

/// A table's columns and the key that finds a row, as information_schema describes them (a
/// restore's target and a backup's source alike); None when the table does not exist.
pub async fn describe_table(
    conn: &mut Conn,
    database: &str,
    name: &str,
) -> Result<Option<TableDescription>, mysql_async::Error> {
    let rows: Vec<(String, String, String, Option<String>, String, String)> = conn
        .exec(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME, COALESCE(EXTRA, ''), IS_NULLABLE \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (database, name),
        )
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let not_null: Vec<String> =
        rows.iter().filter(|r| r.5.eq_ignore_ascii_case("NO")).map(|r| r.0.to_ascii_lowercase()).collect();
    let columns: Vec<ColumnDescription> = rows
        .into_iter()
        .map(|(name, data_type, column_type, charset, extra, _)| {
            let extra = extra.to_ascii_lowercase();
            ColumnDescription {
                name,
                data_type: data_type.to_ascii_lowercase(),
                unsigned: column_type.to_ascii_lowercase().contains("unsigned"),
                column_type,
                charset,
                generated: extra.contains("generated") || extra.contains("virtual") || extra.contains("stored"),
            }
        })
        .collect();
    // Indexes in the server's order: PRIMARY first, then the others by name.
    let parts: Vec<(String, String, u8, Option<u64>)> = conn
        .exec(
            "SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, SUB_PART FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
            (database, name),
        )
        .await?;
    let mut indexes: Vec<(String, bool, Vec<String>)> = Vec::new();
    for (index, column, non_unique, sub_part) in parts {
        if indexes.last().is_none_or(|(n, ..)| *n != index) {
            indexes.push((index.clone(), non_unique == 0, Vec::new()));
        }
        let last = indexes.last_mut().expect("pushed");
        // A prefix of a column does not find a row by itself.
        last.1 &= sub_part.is_none();
        last.2.push(column.to_ascii_lowercase());
    }
    let position = |c: &str| columns.iter().position(|d| d.name.eq_ignore_ascii_case(c));
    let key = indexes
        .iter()
        .find(|(index, unique, cols)| *unique && (index == "PRIMARY" || cols.iter().all(|c| not_null.contains(c))))
        .and_then(|(_, _, cols)| cols.iter().map(|c| position(c)).collect::<Option<Vec<usize>>>());
    Ok(Some(TableDescription { columns, key }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A local port that nothing listens on.
    pub(crate) fn closed_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_server_and_what_to_check() {
        let port = closed_port();
        let options = TargetOptions {
            meta_schema: "hoist_meta".into(),
            sql_mode: String::new(),
            disable_binlog: false,
            write_mode: WriteMode::Insert,
            tls: Default::default(),
        };
        let url = format!("mysql://root:s3cret@127.0.0.1:{port}");
        let Err(e) = MysqlTarget::connect(&url, &options).await else { panic!("nothing listens on {port}") };
        let m = e.message;
        assert!(m.starts_with(&format!("mysql://root:xxxxx@127.0.0.1:{port}: ")), "{m}");
        assert!(
            m.contains(&format!("cannot connect to the MySQL server at 127.0.0.1:{port}: Connection refused")),
            "{m}"
        );
        assert!(m.contains("check that the server is running and listening on that host and port"), "{m}");
        assert!(!m.contains("Input/output error") && !m.contains("s3cret"), "{m}");
        assert!(e.transient, "a server that is not up yet may be up on the next try");
    }

    #[test]
    fn database_options_from_dump() {
        assert_eq!(
            database_options("CREATE DATABASE `x` /*!40100 DEFAULT CHARACTER SET utf8mb4 */").as_deref(),
            Some(" CHARACTER SET utf8mb4")
        );
        assert_eq!(database_options("CREATE DATABASE `x`"), None);
        assert_eq!(database_options("create database charsets;"), None, "a name is not an option");
        assert_eq!(
            database_options("CREATE DATABASE IF NOT EXISTS `a``charset` CHARSET latin1").as_deref(),
            Some(" CHARACTER SET latin1")
        );
        assert_eq!(database_options("CREATE DATABASE `perm` IF NOT EXISTS;"), None);
        assert_eq!(
            database_options("CREATE DATABASE `d` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin */")
                .as_deref(),
            Some(" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        );
        assert_eq!(
            database_options("CREATE DATABASE x CHARSET utf8; DROP TABLE y").as_deref(),
            Some(" CHARACTER SET utf8")
        );
    }
}
