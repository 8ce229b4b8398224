//! The MySQL-family writer: one connection per worker with the loading session settings, a
//! transaction per batch (rows + progress marker), LOAD DATA streamed from memory through a
//! one-stream infile handler, warnings turned into errors where INSERT would fail, chunk
//! claims by named lock, and the row-by-row replay that names a rejected row.

use std::sync::Arc;

use async_trait::async_trait;
use mysql_async::prelude::*;
use mysql_async::{Conn, LocalInfileError, Opts, OptsBuilder};

use super::mysql::{classify, MysqlTarget};
use super::{
    charset_set_by, record_table, ChunkProgress, EncodedBatch, EncodedRows, Marker, RowOutcome, Session, SkipRecord,
    TargetError, Writer,
};
use crate::config::ConflictStrategy;
use hoist_schema::quote_mysql_ident as q;

/// The one stream a writer's connection may send for LOCAL INFILE: the file name its LOAD DATA
/// statement names, and the data. A server asking for any other name (the known attack of a
/// malicious server) gets an error, and so does one asking when nothing was offered.
type InfileSlot = Arc<std::sync::Mutex<Option<(String, bytes::Bytes)>>>;

fn infile_handler(slot: InfileSlot) -> impl mysql_async::prelude::GlobalHandler {
    move |file_name: &[u8]| -> futures::future::BoxFuture<'static, Result<mysql_async::InfileData, LocalInfileError>> {
        let offered = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        let requested = String::from_utf8_lossy(file_name).into_owned();
        let answer = match offered {
            Some((name, data)) if name == requested => {
                Ok(Box::pin(futures::stream::once(async move { Ok(data) })) as mysql_async::InfileData)
            }
            offered => {
                let offered = offered.map_or("nothing".to_string(), |(name, _)| format!("{name:?}"));
                Err(LocalInfileError::OtherError(Box::new(std::io::Error::other(format!(
                    "the server asked for the local file {requested:?} where hoist offered {offered}; hoist \
                     refused and sent nothing of it (a server that asks for another file is broken or hostile: \
                     check that the target URL names the server you mean)"
                )))))
            }
        };
        Box::pin(async move { answer })
    }
}

pub(super) struct MysqlWriter {
    target: Arc<MysqlTarget>,
    conn: Option<Conn>,
    /// The dump session settings applied to `conn`.
    session: Option<Arc<Session>>,
    now: Option<f64>,
    infile: InfileSlot,
    /// Numbers the LOAD DATA streams of this writer.
    streams: u64,
    /// The chunk this writer claimed (a named lock held by its session).
    claimed: Option<(i64, i64)>,
}

/// The sql_mode of loading sessions: the user's, without NO_BACKSLASH_ESCAPES. That mode only
/// changes how the server reads SQL text, and hoist writes its own statements with backslash
/// escapes (a dump that sets the mode gets it for its own rows, which pass through as written).
/// Kept, it made the data of a CSV value with `\'` into SQL.
pub(super) fn loading_sql_mode(user: &str) -> String {
    user.split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty() && !m.eq_ignore_ascii_case("NO_BACKSLASH_ESCAPES"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The named lock that says a session works on a chunk (GET_LOCK names are at most 64 chars).
fn chunk_lock(task_id: i64, chunk_id: i64) -> String {
    format!("hoist:{task_id:x}:{chunk_id}")
}

/// How long a claim waits for a killed run's session to be gone from the server.
const CLAIM_WAIT_SECONDS: u32 = 60;

/// The character set a LOAD DATA must declare to read bytes as the INSERT path would: the
/// dump's `SET NAMES` (mydumper: binary), else the connection's utf8mb4.
fn load_charset(session: &Session) -> String {
    session.statements.iter().rev().find_map(|s| charset_set_by(s)).unwrap_or_else(|| "utf8mb4".into())
}

impl MysqlWriter {
    pub(super) fn new(target: Arc<MysqlTarget>, now: Option<f64>) -> MysqlWriter {
        MysqlWriter { target, conn: None, session: None, now, infile: Arc::default(), streams: 0, claimed: None }
    }

    /// The settings every loading session starts from. A dump's SET statements (a batch's
    /// [`Session`]) go on top of them, so a writer goes back to these before another session's.
    fn base_session(&self) -> String {
        let o = &self.target.options;
        // unique_checks stays on: with it off, MariaDB's bulk insert into an empty table
        // drops a whole INSERT IGNORE batch on one duplicate and hides which row it was.
        // time_zone = DEFAULT: the server's, which a dump that sets none is read in (and
        // its rows hashed in: Target::session_utc_offset), not an earlier dump's.
        let mut set = format!(
            "SET NAMES utf8mb4, SESSION foreign_key_checks = 0, time_zone = DEFAULT, sql_mode = '{}'",
            loading_sql_mode(&o.sql_mode).replace('\'', "''")
        );
        if o.disable_binlog {
            set.push_str(", sql_log_bin = 0");
        }
        if let Some(now) = self.now {
            set.push_str(&format!(", timestamp = {now:.6}"));
        }
        set
    }

    async fn ready(&mut self, session: &Arc<Session>) -> Result<&mut Conn, TargetError> {
        if self.conn.is_none() {
            // Found rows, not changed ones: an UPDATE of a log that sets the values a row has
            // still matched it (see EncodedRows::Changes).
            let opts: Opts = OptsBuilder::from_opts(self.target.opts.clone())
                .local_infile_handler(Some(infile_handler(self.infile.clone())))
                .client_found_rows(true)
                .into();
            let mut conn = Conn::new(opts).await.map_err(classify)?;
            conn.query_drop(self.base_session()).await.map_err(classify)?;
            // A new session holds no lock: take the claimed chunk's again before writing.
            if let Some((task_id, chunk_id)) = self.claimed {
                lock_chunk(&mut conn, task_id, chunk_id).await?;
            }
            self.conn = Some(conn);
            self.session = None;
        }
        if self.session.as_ref() != Some(session) {
            // What the previous session's SET statements changed (a dump's NO_BACKSLASH_ESCAPES,
            // its time zone...) must not leak into this one's batches.
            let reset = self.session.as_ref().is_some_and(|s| !s.statements.is_empty()).then(|| self.base_session());
            let conn = self.conn.as_mut().expect("connected above");
            if let Some(base) = reset {
                conn.query_drop(base).await.map_err(classify)?;
            }
            for s in &session.statements {
                conn.query_drop(s.as_str()).await.map_err(classify)?;
            }
            self.session = Some(session.clone());
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// Send rows: the INSERT statement, or a LOAD DATA with its stream; the rows affected.
    /// LOCAL turns errors into warnings, so a warning fails the batch where INSERT would have
    /// failed.
    async fn send_rows(&mut self, rows: &EncodedRows, session: &Arc<Session>) -> Result<u64, TargetError> {
        match rows {
            EncodedRows::Statement { sql, .. } => {
                let conn = self.ready(session).await?;
                conn.query_drop(sql.as_slice()).await.map_err(classify)?;
                Ok(conn.affected_rows())
            }
            EncodedRows::LoadData { data, table, columns, conflict, .. } => {
                self.streams += 1;
                let name = format!("hoist-stream-{}", self.streams);
                let verb = match conflict {
                    ConflictStrategy::Error => "",
                    ConflictStrategy::Replace => "REPLACE ",
                    ConflictStrategy::Ignore => "IGNORE ",
                };
                let statement = format!(
                    // Hex literals: they mean the same with and without NO_BACKSLASH_ESCAPES.
                    "LOAD DATA LOCAL INFILE '{name}' {verb}INTO TABLE {table} CHARACTER SET {} \
                     FIELDS TERMINATED BY X'09' ESCAPED BY X'5c' LINES TERMINATED BY X'0a' {columns}",
                    load_charset(session)
                );
                *self.infile.lock().unwrap_or_else(|p| p.into_inner()) = Some((name, data.clone()));
                let conn = self.ready(session).await?;
                let result = conn.query_drop(statement).await.map_err(classify);
                self.infile.lock().unwrap_or_else(|p| p.into_inner()).take();
                result?;
                let conn = self.conn.as_mut().expect("ready above");
                let affected = conn.affected_rows();
                if conn.get_warnings() > 0 {
                    let warnings: Vec<(String, u16, String)> =
                        conn.query("SHOW WARNINGS LIMIT 20").await.map_err(classify)?;
                    // What INSERT would do: a duplicate fails unless the strategy allows it, and
                    // a value the server adjusts fails only in a strict sql_mode.
                    let strict = self.target.options.sql_mode.to_ascii_uppercase().contains("STRICT_");
                    let allowed = |code: u16| if code == 1062 { *conflict != ConflictStrategy::Error } else { !strict };
                    if let Some((_, code, message)) = warnings.into_iter().find(|(_, code, _)| !allowed(*code)) {
                        return Err(TargetError {
                            code: Some(code),
                            message: format!("ERROR {code}: {message}"),
                            transient: false,
                        });
                    }
                }
                Ok(affected)
            }
            EncodedRows::Changes { sql, affected } => {
                let conn = self.ready(session).await?;
                let mut result = conn.query_iter(sql.as_slice()).await.map_err(classify)?;
                for (i, &want) in affected.iter().enumerate() {
                    let got = result.affected_rows();
                    if got != want {
                        // Row changes are one statement a line (their literals escape newlines).
                        let statement = String::from_utf8_lossy(sql.split(|&b| b == b'\n').nth(i).unwrap_or_default());
                        let statement: String = statement.chars().take(300).collect();
                        let _ = result.drop_result().await;
                        return Err(TargetError::permanent(format!(
                            "the log's change affected {got} rows in the target where the upstream's affected {want}: \
                             the target is not the upstream's copy at this point of the log (was it written to \
                             while the restore ran?)\n  statement: {statement}"
                        )));
                    }
                    result.collect::<mysql_async::Row>().await.map_err(classify)?;
                }
                result.drop_result().await.map_err(classify)?;
                Ok(affected.iter().sum())
            }
            EncodedRows::Params(_) => Err(TargetError::permanent("internal: parameter rows sent to a MySQL target")),
        }
    }

    async fn transaction(&mut self, batches: &[EncodedBatch], marker: Option<&Marker>) -> Result<(), TargetError> {
        let first = batches.first().map(|b| b.session.clone()).unwrap_or_default();
        self.ready(&first).await?.query_drop("BEGIN").await.map_err(classify)?;
        for batch in batches.iter().filter(|b| b.row_count > 0) {
            let affected = self.send_rows(&batch.rows, &batch.session).await?;
            // REPLACE counts a row it stored after deleting one with its key twice.
            if batch.count_replaced && replaces(&batch.rows) && affected > batch.row_count {
                return Err(TargetError {
                    code: Some(1062),
                    message: format!(
                        "ERROR 1062: {} rows of the batch replaced rows with the same key",
                        affected - batch.row_count
                    ),
                    transient: false,
                });
            }
        }
        self.commit_with_marker(marker).await
    }

    /// Write the marker (if any) in the open transaction and commit it.
    async fn commit_with_marker(&mut self, marker: Option<&Marker>) -> Result<(), TargetError> {
        let markers = self.target.markers_table();
        let conn = self.conn.as_mut().expect("a transaction is open");
        if let Some(marker) = marker {
            let p = &marker.progress;
            conn.exec_drop(
                format!(
                    "INSERT INTO {markers} (task_id, chunk_id, pos, stmt_start, rows_loaded, checksum, done) \
                     VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE pos = VALUES(pos), \
                     stmt_start = VALUES(stmt_start), rows_loaded = VALUES(rows_loaded), \
                     checksum = VALUES(checksum), done = VALUES(done)"
                ),
                (marker.task_id, marker.chunk_id, p.offset, p.stmt_start, p.rows, p.checksum, p.done as u8),
            )
            .await
            .map_err(classify)?;
        }
        conn.query_drop("COMMIT").await.map_err(classify)
    }

    async fn replay_rows(&mut self, batch: &EncodedBatch, first_refusal: bool) -> Result<Vec<RowOutcome>, TargetError> {
        let singles: Vec<EncodedRows> = match &batch.rows {
            EncodedRows::Statement { sql, prefix, row_ends } => {
                let mut start = *prefix;
                row_ends
                    .iter()
                    .map(|&end| {
                        let mut one = sql[..*prefix].to_vec();
                        one.extend_from_slice(&sql[start..end]);
                        start = end + 1;
                        EncodedRows::Statement { sql: one, prefix: *prefix, row_ends: vec![] }
                    })
                    .collect()
            }
            EncodedRows::LoadData { data, row_ends, table, columns, conflict } => {
                let mut start = 0;
                row_ends
                    .iter()
                    .map(|&end| {
                        let one = data.slice(start..end);
                        start = end;
                        EncodedRows::LoadData {
                            data: one,
                            row_ends: vec![],
                            table: table.clone(),
                            columns: columns.clone(),
                            conflict: *conflict,
                        }
                    })
                    .collect()
            }
            EncodedRows::Params(_) | EncodedRows::Changes { .. } => {
                return Err(TargetError::permanent("internal: these rows cannot be written one at a time"))
            }
        };
        // LOCAL makes a refusal a warning and keeps the adjusted row: a savepoint takes it back.
        let load_data = matches!(batch.rows, EncodedRows::LoadData { .. });
        let replace = replaces(&batch.rows);
        self.ready(&batch.session).await?.query_drop("BEGIN").await.map_err(classify)?;
        let mut outcomes = Vec::with_capacity(singles.len());
        for rows in &singles {
            if load_data {
                self.conn.as_mut().expect("ready above").query_drop("SAVEPOINT hoist_row").await.map_err(classify)?;
            }
            match self.send_rows(rows, &batch.session).await {
                Ok(affected) if replace && affected > 1 => outcomes.push(RowOutcome::Replaced(affected - 1)),
                Ok(_) => outcomes.push(RowOutcome::Stored),
                Err(e) if e.transient => return Err(e),
                Err(e) => {
                    if load_data {
                        let conn = self.conn.as_mut().expect("ready above");
                        conn.query_drop("ROLLBACK TO SAVEPOINT hoist_row").await.map_err(classify)?;
                    }
                    outcomes.push(RowOutcome::Refused(e));
                    if first_refusal {
                        break;
                    }
                }
            }
        }
        Ok(outcomes)
    }

    async fn record_skipped(&mut self, task_id: i64, schema: &str, records: &[SkipRecord]) -> Result<(), TargetError> {
        let conn = self.conn.as_mut().expect("a transaction is open");
        for r in records {
            // The row's text may be in any character set the dump's session declared: the bytes
            // are sent as they are and read as UTF-8 (hoist made them valid UTF-8).
            let sql = format!(
                "INSERT INTO {}.{} (task_id, table_name, path, `offset`, error, row_data) VALUES (?, \
                 CONVERT(CAST(? AS BINARY) USING utf8mb4), CONVERT(CAST(? AS BINARY) USING utf8mb4), ?, \
                 CONVERT(CAST(? AS BINARY) USING utf8mb4), CONVERT(CAST(? AS BINARY) USING utf8mb4))",
                q(schema),
                q(record_table(r.fault))
            );
            let params =
                (task_id, r.table.as_bytes(), r.path.as_bytes(), r.offset, r.error.as_bytes(), r.row.as_bytes());
            conn.exec_drop(sql, params).await.map_err(classify)?;
        }
        Ok(())
    }
}

/// Whether the rows are written with REPLACE.
fn replaces(rows: &EncodedRows) -> bool {
    match rows {
        EncodedRows::Statement { sql, .. } => sql.starts_with(b"REPLACE"),
        EncodedRows::LoadData { conflict, .. } => *conflict == ConflictStrategy::Replace,
        _ => false,
    }
}

async fn lock_chunk(conn: &mut Conn, task_id: i64, chunk_id: i64) -> Result<(), TargetError> {
    let got: Option<Option<i64>> = conn
        .exec_first("SELECT GET_LOCK(?, ?)", (chunk_lock(task_id, chunk_id), CLAIM_WAIT_SECONDS))
        .await
        .map_err(classify)?;
    match got.flatten() {
        Some(1) => Ok(()),
        _ => Err(TargetError {
            code: None,
            message: format!(
                "chunk {chunk_id} is still being written by another session (a previous run's, or another hoist \
                 process) after {CLAIM_WAIT_SECONDS} s"
            ),
            transient: true,
        }),
    }
}

#[async_trait]
impl Writer for MysqlWriter {
    async fn claim(&mut self, task_id: i64, chunk_id: i64) -> Result<Option<ChunkProgress>, TargetError> {
        self.release().await;
        self.claimed = Some((task_id, chunk_id));
        let markers = self.target.markers_table();
        // (Re)connecting takes the lock; on a live session take it here.
        let fresh = self.conn.is_none();
        // Under the session the last chunk's file set (its SET NAMES, time zone, escapes),
        // which the lock and the marker do not depend on: the next chunk, most often of a file
        // with the same SETs, then needs no statements to set them again.
        let session = self.session.clone().unwrap_or_default();
        let conn = self.ready(&session).await?;
        if !fresh {
            lock_chunk(conn, task_id, chunk_id).await?;
        }
        let row: Option<(u64, Option<u64>, u64, u64, u8)> = conn
            .exec_first(
                format!(
                    "SELECT pos, stmt_start, rows_loaded, checksum, done FROM {markers} WHERE task_id = ? AND chunk_id = ?"
                ),
                (task_id, chunk_id),
            )
            .await
            .map_err(classify)?;
        Ok(row.map(|(offset, stmt_start, rows, checksum, done)| ChunkProgress {
            offset,
            stmt_start,
            rows,
            checksum,
            done: done != 0,
        }))
    }

    async fn release(&mut self) {
        if let (Some((task_id, chunk_id)), Some(conn)) = (self.claimed.take(), self.conn.as_mut()) {
            let _ = conn.exec_drop("DO RELEASE_LOCK(?)", (chunk_lock(task_id, chunk_id),)).await;
        }
    }

    async fn write(&mut self, batches: &[EncodedBatch], marker: Option<&Marker>) -> Result<(), TargetError> {
        let result = self.transaction(batches, marker).await;
        if result.is_err() {
            self.reset().await;
        }
        result
    }

    async fn replay(&mut self, batch: &EncodedBatch, first_refusal: bool) -> Result<Vec<RowOutcome>, TargetError> {
        let outcomes = self.replay_rows(batch, first_refusal).await;
        if outcomes.is_err() {
            self.reset().await;
        }
        outcomes
    }

    async fn commit_replayed(
        &mut self,
        task_id: i64,
        schema: &str,
        records: &[SkipRecord],
        marker: Option<&Marker>,
    ) -> Result<(), TargetError> {
        let result = async {
            self.record_skipped(task_id, schema, records).await?;
            self.commit_with_marker(marker).await
        }
        .await;
        if result.is_err() {
            self.reset().await;
        }
        result
    }

    async fn abandon(&mut self) {
        self.reset().await;
    }
}

impl MysqlWriter {
    /// After an error the transaction is gone with it (or with the connection): start clean.
    async fn reset(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = conn.query_drop("ROLLBACK").await;
            let _ = conn.disconnect().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_infile_handler_sends_only_the_offered_stream() {
        use futures::StreamExt;
        use mysql_async::prelude::GlobalHandler;
        let slot: InfileSlot = Arc::default();
        let handler = infile_handler(slot.clone());
        assert!(handler.handle(b"/etc/passwd").await.is_err(), "nothing offered: refused");
        *slot.lock().unwrap() = Some(("hoist-stream-1".into(), bytes::Bytes::from_static(b"1\ta\n")));
        assert!(handler.handle(b"/etc/passwd").await.is_err(), "another name: refused");
        *slot.lock().unwrap() = Some(("hoist-stream-2".into(), bytes::Bytes::from_static(b"1\ta\n")));
        let mut stream = handler.handle(b"hoist-stream-2").await.expect("the offered stream");
        assert_eq!(stream.next().await.unwrap().unwrap(), &b"1\ta\n"[..]);
        assert!(handler.handle(b"hoist-stream-2").await.is_err(), "offered once only");
    }
}
