//! The checkpoint in a schema of a MySQL-family server (`[checkpoint] driver = "mysql"`), for
//! when the run's own disk is not the place to keep it, or several processes share one job.
//! Same tables and meaning as the SQLite store.

use async_trait::async_trait;
use hoist_schema::quote_mysql_ident as q;
use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, TxOpts};

use super::*;
use crate::redact::redact_url;

pub struct MysqlStore {
    opts: Opts,
    url: String,
    schema: String,
}

fn store_err(e: mysql_async::Error) -> CheckpointError {
    CheckpointError::mysql("mysql", &e)
}

/// Lightning's DSN (`user:pass@tcp(host:port)/db?params`) or a `mysql://` URL, as a URL.
/// The DSN is split as Go's MySQL driver does (`mysql_url::Dsn`); its database and params are
/// not used (the store has its own schema).
pub fn dsn_to_url(dsn: &str) -> Result<String, CheckpointError> {
    if dsn.starts_with("mysql://") {
        return Ok(dsn.to_string());
    }
    let bad = |why: &str| {
        CheckpointError::store(
            redact_malformed(dsn),
            format!(
                "{why}: a mysql checkpoint dsn looks like user:pass@tcp(host:port)/ or mysql://user:pass@host:port"
            ),
        )
    };
    let parsed = crate::mysql_url::Dsn::parse(dsn)
        .filter(|d| d.net == "tcp")
        .ok_or_else(|| bad("no tcp(host:port) after the last @"))?;
    let (host, port) = split_host_port(parsed.addr).ok_or_else(|| bad("the port is not a number"))?;
    crate::mysql_url::build(parsed.user.unwrap_or(""), parsed.password, host, port).map_err(|e| bad(&e))
}

/// A DSN too malformed for `Dsn::parse`: all before the last `@` after the user is taken for
/// the password.
fn redact_malformed(dsn: &str) -> String {
    match dsn.rsplit_once('@').and_then(|(auth, net)| Some((auth.split_once(':')?.0, net))) {
        Some((user, net)) => format!("{user}:xxxxx@{net}"),
        None => dsn.to_string(),
    }
}

/// `host:port`, `[v6]:port`, or a host alone (port 3306, as in Go's driver). None: a bad port.
fn split_host_port(addr: &str) -> Option<(&str, u16)> {
    match addr.rsplit_once(':') {
        Some((host, port)) if !addr.ends_with(']') => Some((host, port.parse().ok()?)),
        _ => Some((addr, 3306)),
    }
}

impl MysqlStore {
    /// Open the store (creating its schema and tables) on the server of `url`, reached with
    /// `tls`.
    pub async fn open(url: &str, schema: &str, tls: &crate::tls::Tls) -> Result<MysqlStore, CheckpointError> {
        let location = format!("{} schema {}", redact_url(url), q(schema));
        let (opts, mut conn) = crate::tls::connect(url, tls).await.map_err(|e| CheckpointError::Store {
            location,
            message: e.message,
            transient: e.transient,
        })?;
        let store = MysqlStore { opts, url: url.to_string(), schema: schema.to_string() };
        let s = q(schema);
        for ddl in [
            format!("CREATE DATABASE IF NOT EXISTS {s}"),
            format!(
                "CREATE TABLE IF NOT EXISTS {s}.task (task_id BIGINT PRIMARY KEY, source TEXT NOT NULL, \
                 target TEXT NOT NULL, target_identity TEXT NOT NULL, spec TEXT NOT NULL, \
                 created_ms BIGINT NOT NULL)"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {s}.`tables` (id BIGINT PRIMARY KEY, database_name VARCHAR(255) NOT NULL, \
                 table_name VARCHAR(255) NOT NULL, schema_file TEXT, state VARCHAR(32) NOT NULL, error_step VARCHAR(32), \
                 error_message TEXT, target_identity TEXT)"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {s}.chunks (id BIGINT PRIMARY KEY, table_id BIGINT NOT NULL, \
                 path TEXT NOT NULL, format VARCHAR(8) NOT NULL, compression VARCHAR(8) NOT NULL, \
                 start_offset BIGINT UNSIGNED NOT NULL, end_offset BIGINT UNSIGNED NOT NULL, position TEXT NULL, \
                 KEY (table_id))"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {s}.objects (id BIGINT AUTO_INCREMENT PRIMARY KEY, message TEXT NOT NULL)"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {s}.files (path VARCHAR(1024) NOT NULL, size BIGINT UNSIGNED NOT NULL, \
                 modified_ms BIGINT NOT NULL, PRIMARY KEY (path(255)))"
            ),
            format!("CREATE TABLE IF NOT EXISTS {s}.source_scan (document LONGTEXT NOT NULL)"),
        ] {
            conn.query_drop(ddl).await.map_err(store_err)?;
        }
        Ok(store)
    }

    async fn conn(&self) -> Result<Conn, CheckpointError> {
        Conn::new(self.opts.clone()).await.map_err(|e| CheckpointError::Store {
            location: self.location(),
            message: crate::target::mysql::connect_failure(&self.opts, &e),
            transient: crate::error_class::mysql_is_transient(&e),
        })
    }

    fn t(&self, table: &str) -> String {
        format!("{}.{}", q(&self.schema), q(table))
    }
}

#[async_trait]
impl CheckpointStore for MysqlStore {
    fn location(&self) -> String {
        format!("{} schema {}", redact_url(&self.url), q(&self.schema))
    }

    async fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let mut c = self.conn().await?;
        let task: Option<(i64, String, String, String, String, i64)> = c
            .query_first(format!(
                "SELECT task_id, source, target, target_identity, spec, created_ms FROM {}",
                self.t("task")
            ))
            .await
            .map_err(store_err)?;
        let Some((task_id, source, target, target_identity, spec, created_ms)) = task else {
            return Ok(None);
        };
        let tables: Vec<(i64, String, String, Option<String>, String, Option<String>, Option<String>, Option<String>)> =
            c.query(format!(
                "SELECT id, database_name, table_name, schema_file, state, error_step, error_message, target_identity \
                 FROM {} ORDER BY id",
                self.t("tables")
            ))
            .await
            .map_err(store_err)?;
        let chunk_rows: Vec<mysql_async::Row> = c
            .query(format!(
                "SELECT id, table_id, path, format, compression, start_offset, end_offset, position FROM {} ORDER BY id",
                self.t("chunks")
            ))
            .await
            .map_err(store_err)?;
        let files: Vec<(String, u64, i64)> = c
            .query(format!("SELECT path, size, modified_ms FROM {} ORDER BY path", self.t("files")))
            .await
            .map_err(store_err)?;
        let scan: Option<String> =
            c.query_first(format!("SELECT document FROM {}", self.t("source_scan"))).await.map_err(store_err)?;
        let bad = |what: &str| CheckpointError::store("mysql", format!("unreadable checkpoint: {what}"));
        let tables = tables
            .into_iter()
            .map(|row| TableRecord::from_row(row).map_err(|state| bad(&state)))
            .collect::<Result<Vec<_>, CheckpointError>>()?;
        let mut chunks = Vec::with_capacity(chunk_rows.len());
        for mut r in chunk_rows {
            let mut take = |i: usize| r.take::<mysql_async::Value, usize>(i).unwrap_or(mysql_async::Value::NULL);
            let (id, table_id, path, format, compression) = (take(0), take(1), take(2), take(3), take(4));
            let (start, end, position) = (take(5), take(6), take(7));
            let conv = |v: mysql_async::Value| mysql_async::from_value_opt::<u64>(v).map_err(|e| bad(&e.to_string()));
            let text =
                |v: mysql_async::Value| mysql_async::from_value_opt::<String>(v).map_err(|e| bad(&e.to_string()));
            let format = text(format)?;
            let compression = text(compression)?;
            let start = conv(start)?;
            let position = mysql_async::from_value_opt::<Option<String>>(position).map_err(|e| bad(&e.to_string()))?;
            chunks.push(ChunkRecord {
                id: conv(id)? as i64,
                table_id: conv(table_id)? as i64,
                path: text(path)?,
                format: DataFormat::parse(&format).ok_or_else(|| bad(&format))?,
                compression: Compression::parse(&compression).ok_or_else(|| bad(&compression))?,
                start,
                end: conv(end)?,
                progress: ChunkProgress::from_position(position.as_deref(), start).map_err(|e| bad(&e))?,
            });
        }
        let files = files.into_iter().map(|(path, size, modified_ms)| FileRecord { path, size, modified_ms }).collect();
        Ok(Some(Checkpoint {
            task: TaskRecord { task_id, source, target, target_identity, spec, created_ms },
            tables,
            chunks,
            files,
            scan,
        }))
    }

    async fn create(&self, cp: &Checkpoint) -> Result<(), CheckpointError> {
        let mut c = self.conn().await?;
        let mut tx = c.start_transaction(TxOpts::default()).await.map_err(store_err)?;
        for t in ["task", "tables", "chunks", "files", "source_scan"] {
            tx.query_drop(format!("DELETE FROM {}", self.t(t))).await.map_err(store_err)?;
        }
        if let Some(scan) = &cp.scan {
            tx.exec_drop(format!("INSERT INTO {} VALUES (?)", self.t("source_scan")), (scan,))
                .await
                .map_err(store_err)?;
        }
        let t = &cp.task;
        tx.exec_drop(
            format!("INSERT INTO {} VALUES (?, ?, ?, ?, ?, ?)", self.t("task")),
            (t.task_id, &t.source, &t.target, &t.target_identity, &t.spec, t.created_ms),
        )
        .await
        .map_err(store_err)?;
        tx.exec_batch(
            format!("INSERT INTO {} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self.t("tables")),
            cp.tables.iter().map(|t| {
                (
                    t.id,
                    t.database.clone(),
                    t.name.clone(),
                    t.schema_file.clone(),
                    t.state.as_str(),
                    t.error.as_ref().map(|e| e.step.clone()),
                    t.error.as_ref().map(|e| e.message.clone()),
                    t.target_identity.clone(),
                )
            }),
        )
        .await
        .map_err(store_err)?;
        tx.exec_batch(
            format!("INSERT INTO {} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self.t("chunks")),
            cp.chunks.iter().map(|ch| {
                mysql_async::Params::Positional(vec![
                    ch.id.into(),
                    ch.table_id.into(),
                    ch.path.clone().into(),
                    ch.format.as_str().into(),
                    ch.compression.as_str().into(),
                    ch.start.into(),
                    ch.end.into(),
                    ch.progress.to_position().into(),
                ])
            }),
        )
        .await
        .map_err(store_err)?;
        tx.exec_batch(
            format!("INSERT INTO {} VALUES (?, ?, ?)", self.t("files")),
            cp.files.iter().map(|f| (f.path.clone(), f.size, f.modified_ms)),
        )
        .await
        .map_err(store_err)?;
        tx.commit().await.map_err(store_err)
    }

    async fn set_table_state(
        &self,
        table_id: i64,
        state: TableState,
        error: Option<&TableError>,
    ) -> Result<(), CheckpointError> {
        self.conn()
            .await?
            .exec_drop(
                format!("UPDATE {} SET state = ?, error_step = ?, error_message = ? WHERE id = ?", self.t("tables")),
                (state.as_str(), error.map(|e| e.step.clone()), error.map(|e| e.message.clone()), table_id),
            )
            .await
            .map_err(store_err)
    }

    async fn set_object_errors(&self, errors: &[String]) -> Result<(), CheckpointError> {
        let mut c = self.conn().await?;
        let mut tx = c.start_transaction(TxOpts::default()).await.map_err(store_err)?;
        tx.query_drop(format!("DELETE FROM {}", self.t("objects"))).await.map_err(store_err)?;
        tx.exec_batch(format!("INSERT INTO {} (message) VALUES (?)", self.t("objects")), errors.iter().map(|e| (e,)))
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)
    }

    async fn object_errors(&self) -> Result<Vec<String>, CheckpointError> {
        let mut c = self.conn().await?;
        c.query(format!("SELECT message FROM {} ORDER BY id", self.t("objects"))).await.map_err(store_err)
    }

    async fn set_table_identity(&self, table_id: i64, identity: Option<&str>) -> Result<(), CheckpointError> {
        self.conn()
            .await?
            .exec_drop(
                format!("UPDATE {} SET target_identity = ? WHERE id = ?", self.t("tables")),
                (identity, table_id),
            )
            .await
            .map_err(store_err)
    }

    async fn save_progress(&self, updates: &[(i64, ChunkProgress)]) -> Result<(), CheckpointError> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut c = self.conn().await?;
        let mut tx = c.start_transaction(TxOpts::default()).await.map_err(store_err)?;
        tx.exec_batch(
            format!("UPDATE {} SET position = ? WHERE id = ?", self.t("chunks")),
            updates.iter().map(|(id, p)| (p.to_position(), *id)),
        )
        .await
        .map_err(store_err)?;
        tx.commit().await.map_err(store_err)
    }

    async fn reset_table(&self, table_id: i64) -> Result<(), CheckpointError> {
        let mut c = self.conn().await?;
        let mut tx = c.start_transaction(TxOpts::default()).await.map_err(store_err)?;
        tx.exec_drop(
            format!(
                "UPDATE {} SET state = 'pending', error_step = NULL, error_message = NULL, target_identity = NULL WHERE id = ?",
                self.t("tables")
            ),
            (table_id,),
        )
        .await
        .map_err(store_err)?;
        tx.exec_drop(format!("UPDATE {} SET position = NULL WHERE table_id = ?", self.t("chunks")), (table_id,))
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(store_err)
    }

    async fn remove_table(&self, table_id: i64) -> Result<(), CheckpointError> {
        let mut c = self.conn().await?;
        let mut tx = c.start_transaction(TxOpts::default()).await.map_err(store_err)?;
        tx.exec_drop(format!("DELETE FROM {} WHERE table_id = ?", self.t("chunks")), (table_id,))
            .await
            .map_err(store_err)?;
        tx.exec_drop(format!("DELETE FROM {} WHERE id = ?", self.t("tables")), (table_id,)).await.map_err(store_err)?;
        tx.commit().await.map_err(store_err)
    }

    async fn discard(&self) -> Result<(), CheckpointError> {
        self.conn().await?.query_drop(format!("DROP DATABASE IF EXISTS {}", q(&self.schema))).await.map_err(store_err)
    }

    async fn archive(&self, task_id: i64) -> Result<String, CheckpointError> {
        let to = format!("{}_{task_id}", self.schema);
        let mut c = self.conn().await?;
        c.query_drop(format!("CREATE DATABASE IF NOT EXISTS {}", q(&to))).await.map_err(store_err)?;
        let renames: Vec<String> = ["task", "tables", "chunks", "files", "objects", "source_scan"]
            .iter()
            .map(|t| format!("{} TO {}.{}", self.t(t), q(&to), q(t)))
            .collect();
        c.query_drop(format!("RENAME TABLE {}", renames.join(", "))).await.map_err(store_err)?;
        c.query_drop(format!("DROP DATABASE IF EXISTS {}", q(&self.schema))).await.map_err(store_err)?;
        Ok(format!("{} schema {}", redact_url(&self.url), q(&to)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The user and password mysql_async reads from the URL.
    fn credentials(url: &str) -> (String, Option<String>, String, u16) {
        let opts = Opts::from_url(url).unwrap();
        (opts.user().unwrap_or("").into(), opts.pass().map(String::from), opts.ip_or_hostname().into(), opts.tcp_port())
    }

    #[test]
    fn lightning_dsn_passwords_end_at_the_last_at_sign() {
        for password in ["p#a:s/s@w", "a@b@c", "x)y%41?z", "semi;colon space", "pässwörd"] {
            let dsn = format!("hoist_user:{password}@tcp(db.example:4000)/schema?charset=utf8mb4");
            let url = dsn_to_url(&dsn).unwrap();
            assert_eq!(
                credentials(&url),
                ("hoist_user".into(), Some(password.into()), "db.example".into(), 4000),
                "{dsn} -> {url}"
            );
            let shown = redact_url(&url);
            assert_eq!(shown, "mysql://hoist_user:xxxxx@db.example:4000", "{url}");
        }
        assert_eq!(dsn_to_url("root:pw@tcp(127.0.0.1:4000)/").unwrap(), "mysql://root:pw@127.0.0.1:4000");
        assert_eq!(credentials(&dsn_to_url("root@tcp(h)/").unwrap()), ("root".into(), None, "h".into(), 3306));
        assert_eq!(credentials(&dsn_to_url("u:p@tcp([::1]:3307)/").unwrap()).3, 3307);
    }

    #[test]
    fn a_bad_dsn_is_refused_without_its_password() {
        for dsn in ["root:s3cret@db:3306", "root:s3cret@tcp(db:port)/", "nonsense"] {
            let message = dsn_to_url(dsn).unwrap_err().to_string();
            assert!(!message.contains("s3cret"), "{message}");
            assert!(message.contains("user:pass@tcp(host:port)/"), "{message}");
        }
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_server_and_what_to_check() {
        let port = crate::target::mysql::tests::closed_port();
        let url = dsn_to_url(&format!("root:s3cret@tcp(127.0.0.1:{port})/")).unwrap();
        let Err(e) = MysqlStore::open(&url, "hoist_cp", &Default::default()).await else {
            panic!("nothing listens on {port}")
        };
        let m = e.to_string();
        assert!(
            m.starts_with(&format!("checkpoint store mysql://root:xxxxx@127.0.0.1:{port} schema `hoist_cp`")),
            "{m}"
        );
        assert!(
            m.contains(&format!("cannot connect to the MySQL server at 127.0.0.1:{port}: Connection refused")),
            "{m}"
        );
        assert!(m.contains("check that the server is running"), "{m}");
        assert!(!m.contains("Input/output error") && !m.contains("s3cret"), "{m}");
    }
}
