//! The log stage of `hoist restore point`: the upstream's transactions from the backup's
//! position to the restored point, applied to the target exactly once.
//!
//! Each target transaction holds one or more whole upstream transactions (consecutive ones
//! are folded together up to a size) and the log's marker: the position right after the last
//! of them ([`super::mark`]). A rerun claims the log unit (the writer waits until a killed
//! run's session is gone), reads the marker and goes on with the first transaction after it.
//! DDL commits on its own: it is bracketed by a "started" marker holding the schema's shape
//! before it, and a "done" marker; a rerun that finds "started" runs it only if the shape is
//! still the one before.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::changes::{changes, Change};
use super::mark::{decode, encode, LogMark, LOG_UNIT};
use super::point::RestoredPoint;
use super::statements::{push_rows, table_name, SESSION};
use crate::binlog::file::{Item, Outcome, ReadError, TransactionReader};
use crate::binlog::index::Segment;
use crate::binlog::position::{file_number, BinlogPos};
use crate::error::{ImportError, SourceError, TargetError};
use crate::filter::TableFilter;
use crate::import::LogStage;
use crate::jobspec::LogRange;
use crate::status::Status;
use crate::target::{EncodedBatch, EncodedRows, Marker, Session, TableDescription, Target, Writer};
use crate::utc::utc_text;

/// A segment of a log in object storage, in a temp file (removed when dropped).
async fn fetch(store: &crate::source::Source, name: &str) -> Result<tempfile::TempPath, ImportError> {
    let bytes = store.read_all(name).await?;
    let io = |e: std::io::Error| SourceError::io(format!("{}/{name}", store.location()), "", &e);
    let mut file = tempfile::NamedTempFile::new().map_err(io)?;
    std::io::Write::write_all(&mut file, &bytes).map_err(io)?;
    Ok(file.into_temp_path())
}

/// How many upstream transactions one target transaction folds at most (its size is bound
/// by the run's batch size).
const FOLD_TRANSACTIONS: u64 = 2000;

#[derive(Debug)]
pub struct LogReplay {
    pub dir: PathBuf,
    /// For a log in object storage: its store, which the segments are read from (each into a
    /// temp file, as a local segment is read).
    pub store: Option<crate::source::Source>,
    /// The log's files from the one holding `start` to the one holding the restored point.
    pub segments: Vec<Segment>,
    pub start: BinlogPos,
    pub point: RestoredPoint,
    pub filter: TableFilter,
    /// hoist's own schemas in the target: the shape of a DDL's effect leaves them out.
    pub own_schemas: Vec<String>,
    pub max_retries: u32,
    /// About how much SQL one target transaction carries before it commits.
    pub batch_bytes: usize,
    /// The job's model, where the replay says how far it is.
    pub status: Status,
}

#[async_trait]
impl LogStage for LogReplay {
    fn range(&self) -> LogRange {
        LogRange { start: self.start.to_string(), restored: self.point.describe() }
    }

    async fn begun(&self, target: &dyn Target, task_id: i64) -> Result<bool, ImportError> {
        Ok(target.read_markers(task_id).await?.contains_key(&LOG_UNIT))
    }

    async fn run(
        &self,
        target: Arc<dyn Target>,
        task_id: i64,
        stop: Arc<AtomicBool>,
    ) -> Result<Vec<String>, ImportError> {
        let mut writer = target.writer(None).await?;
        let mark = match writer.claim(task_id, LOG_UNIT).await? {
            Some(p) => LogMark::from_progress(&p),
            None => LogMark { pos: encode(&self.start), ..Default::default() },
        };
        let base = file_number(&self.start.file).0.to_string();
        if mark.done {
            return Ok(vec![format!(
                "the log was replayed already, up to {} ({} transactions)",
                decode(&base, mark.pos),
                mark.transactions
            )]);
        }
        if mark.pos > encode(&self.start) {
            tracing::info!(
                "resuming the log replay after {} ({} transactions applied)",
                decode(&base, mark.pos),
                mark.transactions
            );
        }
        let mut applier = Applier {
            target: target.clone(),
            writer,
            task_id,
            mark,
            session: Arc::new(Session { statements: vec![SESSION.to_string()] }),
            pending: Vec::new(),
            affected: Vec::new(),
            pending_rows: 0,
            folded: 0,
            tables: HashMap::new(),
            own_schemas: self.own_schemas.clone(),
            max_retries: self.max_retries,
            batch_bytes: self.batch_bytes,
            skipped_statements: 0,
        };
        let started = Instant::now();
        let mut meter = Meter::new(self.status.clone(), self.segments.iter().map(|s| s.bytes).sum());
        let mut gtid_reached = false;
        let mut reached_point = false;
        'segments: for seg in &self.segments {
            // A resume does not read again the files whose every transaction is applied.
            if encode(&seg.end_pos()) <= applier.mark.pos {
                meter.read(seg.bytes);
                continue;
            }
            let (path, _fetched) = match &self.store {
                None => (self.dir.join(&seg.name), None),
                Some(store) => {
                    let fetched = fetch(store, &seg.name).await?;
                    (fetched.to_path_buf(), Some(fetched))
                }
            };
            let mut reader = TransactionReader::open_prefix(&path, seg.bytes)?;
            let name = match &self.store {
                None => path.display().to_string(),
                Some(store) => format!("{}/{}", store.location(), seg.name),
            };
            loop {
                let item = match reader.next_item() {
                    Ok(Some(item)) => item,
                    Ok(None) => break,
                    // The index vouches for whole transactions up to `bytes` only.
                    Err(ReadError::Truncated { .. }) if reader.complete_end() >= seg.bytes => break,
                    Err(e) => return Err(SourceError::from(e).into()),
                };
                let Item::Transaction(txn) = item else { continue };
                let end = BinlogPos::new(&seg.server_file, txn.end_pos);
                meter.read(txn.end - txn.offset);
                if encode(&end) <= applier.mark.pos {
                    continue;
                }
                if !self.point.takes(&end, txn.time, gtid_reached) {
                    reached_point = true;
                    break 'segments;
                }
                if let RestoredPoint::Gtid(g) = &self.point {
                    gtid_reached |= txn.gtid.as_deref() == Some(&g.to_string());
                }
                if stop.load(Ordering::SeqCst) {
                    applier.flush(false).await?;
                    return Err(ImportError::Interrupted);
                }
                let pos = encode(&end);
                if txn.outcome == Outcome::Rollback {
                    applier.skip(pos);
                    continue;
                }
                let list = changes(&txn, &name)?;
                if txn.standalone {
                    match list.into_iter().next() {
                        Some(Change::Statement { database, sql }) => {
                            // Read once: which objects it names decides both whether it
                            // applies and which default database it runs in.
                            let ddl = hoist_schema::logged_ddl(&sql).ok();
                            if self.applies(&database, &sql, ddl.as_ref()) {
                                // CREATE DATABASE is logged with the new database as the default
                                // one, which does not exist yet; a statement about databases needs none.
                                let about_databases = ddl.is_some_and(|d| !d.databases.is_empty());
                                let default_db =
                                    (!database.is_empty() && !about_databases).then_some(database.as_str());
                                applier.statement(pos, default_db, &sql, &end).await?
                            } else {
                                applier.skipped_statements += 1;
                                applier.skip(pos);
                            }
                        }
                        _ => applier.skip(pos),
                    }
                } else {
                    applier.transaction(pos, &list, &self.filter, &end).await?;
                }
                meter.applied(&end, txn.time, &self.point, applier.mark.transactions);
            }
        }
        if matches!(self.point, RestoredPoint::Gtid(_)) && !gtid_reached {
            return Err(SourceError::Layout(format!(
                "the restored GTID {} is in no transaction of the log from {}; nothing after the snapshot's \
                 position was left out, but the point was not reached: check the GTID",
                self.point.describe(),
                self.start
            ))
            .into());
        }
        applier.mark.done = true;
        applier.flush(true).await?;
        let at = decode(&base, applier.mark.pos);
        let mut lines = vec![format!(
            "log replayed from {} to {at} ({}): {} transactions in {:.1} s{}",
            self.start,
            self.point.describe(),
            applier.mark.transactions,
            started.elapsed().as_secs_f64(),
            if reached_point { "" } else { ", the log's end" }
        )];
        if applier.skipped_statements > 0 {
            lines.push(format!(
                "{} statements of the log were left out: account management (CREATE USER, GRANT...) or tables \
                 outside --tables",
                applier.skipped_statements
            ));
        }
        Ok(lines)
    }
}

impl LogReplay {
    /// Whether a logged statement concerns what this restore restores. Account management is
    /// never replayed: a restore brings data and schema, not the upstream's users.
    fn applies(&self, database: &str, sql: &str, ddl: Option<&hoist_schema::LoggedDdl>) -> bool {
        let Some(ddl) = ddl else { return true };
        if !ddl.tables.is_empty() {
            return ddl.tables.iter().any(|t| {
                let db = t.database.as_deref().unwrap_or(database);
                !self.own_schemas.iter().any(|s| s.eq_ignore_ascii_case(db)) && self.filter.matches(db, &t.name)
            });
        }
        if !ddl.databases.is_empty() {
            return ddl.databases.iter().any(|d| self.filter.matches_database(d));
        }
        let head = sql.split_whitespace().take(2).collect::<Vec<_>>().join(" ").to_ascii_uppercase();
        let accounts = [
            "GRANT",
            "REVOKE",
            "CREATE USER",
            "DROP USER",
            "ALTER USER",
            "RENAME USER",
            "SET PASSWORD",
            "CREATE ROLE",
            "DROP ROLE",
        ];
        !accounts.iter().any(|a| head.starts_with(a))
    }
}

/// The target side: folds transactions, commits them with the marker, runs DDL.
struct Applier {
    target: Arc<dyn Target>,
    writer: Box<dyn Writer>,
    task_id: i64,
    /// The marker as it will be after the pending statements commit.
    mark: LogMark,
    session: Arc<Session>,
    pending: Vec<u8>,
    /// The rows each pending statement must affect.
    affected: Vec<u64>,
    pending_rows: u64,
    folded: u64,
    tables: HashMap<(String, String), Arc<TableDescription>>,
    own_schemas: Vec<String>,
    max_retries: u32,
    batch_bytes: usize,
    skipped_statements: u64,
}

impl Applier {
    /// A transaction that changes nothing here: only the position moves.
    fn skip(&mut self, pos: u64) {
        self.mark.pos = pos;
        self.mark.transactions += 1;
    }

    async fn transaction(
        &mut self,
        pos: u64,
        list: &[Change],
        filter: &TableFilter,
        at: &BinlogPos,
    ) -> Result<(), ImportError> {
        for change in list {
            match change {
                Change::Rows { database, table, kind, types, rows } => {
                    if !filter.matches(database, table)
                        || self.own_schemas.iter().any(|s| s.eq_ignore_ascii_case(database))
                    {
                        continue;
                    }
                    let desc = self.describe(database, table, at).await?;
                    push_rows(
                        &mut self.pending,
                        &mut self.affected,
                        &table_name(database, table),
                        &desc,
                        *kind,
                        types,
                        rows,
                    )
                    .map_err(|e| SourceError::Layout(format!("the log at {at}: {e}")))?;
                    self.pending_rows += rows.len() as u64;
                }
                // A statement inside a transaction (SAVEPOINT...) runs in it.
                Change::Statement { sql, .. } => {
                    self.pending.extend_from_slice(sql.as_bytes());
                    self.pending.extend_from_slice(b";\n");
                    self.affected.push(0);
                    self.pending_rows += 1;
                }
            }
        }
        self.mark.pos = pos;
        self.mark.transactions += 1;
        self.folded += 1;
        if self.pending.len() >= self.batch_bytes || self.folded >= FOLD_TRANSACTIONS {
            self.flush(false).await?;
        }
        Ok(())
    }

    async fn describe(
        &mut self,
        database: &str,
        table: &str,
        at: &BinlogPos,
    ) -> Result<Arc<TableDescription>, ImportError> {
        let key = (database.to_string(), table.to_string());
        if let Some(d) = self.tables.get(&key) {
            return Ok(d.clone());
        }
        let desc = self.target.describe_table(database, table).await?.ok_or_else(|| {
            SourceError::Layout(format!(
                "the log at {at} changes {}, which the target does not have: was it left out of the restore, or \
                 dropped in the target?",
                table_name(database, table)
            ))
        })?;
        let desc = Arc::new(desc);
        self.tables.insert(key, desc.clone());
        Ok(desc)
    }

    /// Commit the pending statements with the marker (also when there are none: the position
    /// moved). Retries a lost connection: the claim is taken again and the marker read, so a
    /// COMMIT that landed before the loss is not sent twice.
    async fn flush(&mut self, force: bool) -> Result<(), ImportError> {
        if self.pending.is_empty() && self.folded == 0 && !force && !self.mark.done {
            return Ok(());
        }
        let marker = Marker { task_id: self.task_id, chunk_id: LOG_UNIT, progress: self.mark.to_progress() };
        let batches = match self.pending.is_empty() {
            true => Vec::new(),
            false => vec![EncodedBatch {
                rows: EncodedRows::Changes {
                    sql: std::mem::take(&mut self.pending),
                    affected: std::mem::take(&mut self.affected),
                },
                row_count: self.pending_rows.max(1),
                session: self.session.clone(),
                count_replaced: false,
            }],
        };
        self.write(&batches, &marker).await?;
        self.pending_rows = 0;
        self.folded = 0;
        crate::failpoint::pause("restore-point.committed").await;
        Ok(())
    }

    async fn write(&mut self, batches: &[EncodedBatch], marker: &Marker) -> Result<(), ImportError> {
        let mut attempt = 0;
        loop {
            match self.writer.write(batches, Some(marker)).await {
                Ok(()) => return Ok(()),
                Err(e) if e.transient && attempt < self.max_retries => {
                    attempt += 1;
                    tracing::warn!("the log replay's write failed ({e}); retrying ({attempt}/{})", self.max_retries);
                    tokio::time::sleep(Duration::from_millis(200 << attempt.min(6))).await;
                    // Did the COMMIT land before the connection went? The marker says.
                    match self.writer.claim(self.task_id, LOG_UNIT).await {
                        Ok(Some(p)) if p == marker.progress => return Ok(()),
                        Ok(_) => {}
                        Err(e) if e.transient => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(with_position(e, marker).into()),
            }
        }
    }

    /// A standalone statement (DDL): started marker, the statement, done marker.
    async fn statement(
        &mut self,
        pos: u64,
        database: Option<&str>,
        sql: &str,
        at: &BinlogPos,
    ) -> Result<(), ImportError> {
        self.flush(false).await?;
        let skip: Vec<&str> = self.own_schemas.iter().map(String::as_str).collect();
        let shape = self.target.schema_shape(&skip).await?;
        let resumed = self.mark.ddl.filter(|(end, _)| *end == pos);
        let run = match resumed {
            // A run killed inside this statement: it ran if the schema changed since.
            Some((_, before)) => {
                let ran = shape != before;
                tracing::info!(
                    "the statement ending at {at} was begun by an earlier run; {}",
                    if ran {
                        "it ran (the schema changed), so it is not run again"
                    } else {
                        "it did not run: running it"
                    }
                );
                !ran
            }
            None => {
                self.mark.ddl = Some((pos, shape));
                self.flush(true).await?;
                true
            }
        };
        if run {
            crate::failpoint::pause("restore-point.ddl-started").await;
            self.target.run_logged(database, sql).await.map_err(|e| TargetError {
                message: format!(
                    "the log's statement ending at {at} failed: {}\n  statement: {}",
                    e.message,
                    short(sql)
                ),
                ..e
            })?;
            crate::failpoint::pause("restore-point.ddl-ran").await;
        }
        self.tables.clear();
        self.mark.ddl = None;
        self.mark.pos = pos;
        self.mark.transactions += 1;
        self.flush(true).await
    }
}

fn with_position(e: TargetError, marker: &Marker) -> TargetError {
    TargetError {
        message: format!(
            "{} (applying the log's transactions before upstream offset {} of file number {}; the target \
             rolled them back, and the rerun starts with them)",
            e.message,
            marker.progress.offset & 0xffff_ffff,
            marker.progress.offset >> 32
        ),
        ..e
    }
}

fn short(sql: &str) -> String {
    let one_line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &one_line[..i]),
        None => one_line,
    }
}

/// Progress of the replay, in the job's model: the log's bytes read, the position applied;
/// a log line every 5 s, read from the model.
struct Meter {
    status: Status,
    started: Instant,
    last: Instant,
}

impl Meter {
    fn new(status: Status, total: u64) -> Meter {
        status.log(|l| l.bytes_total = Some(total));
        Meter { status, started: Instant::now(), last: Instant::now() }
    }

    fn read(&mut self, bytes: u64) {
        self.status.log(|l| l.bytes += bytes);
    }

    fn applied(&mut self, end: &BinlogPos, upstream_time: u32, point: &RestoredPoint, transactions: u64) {
        self.status.log(|l| {
            l.position = Some(end.to_string());
            l.last_commit = Some(upstream_time);
            l.transactions = transactions;
        });
        if self.last.elapsed() < Duration::from_secs(5) {
            return;
        }
        self.last = Instant::now();
        let l = self.status.log_progress().unwrap_or_default();
        let total = l.bytes_total.unwrap_or_default();
        let secs = self.started.elapsed().as_secs_f64();
        let rate = l.bytes as f64 / secs.max(0.001);
        let eta = (total.saturating_sub(l.bytes)) as f64 / rate.max(1.0);
        tracing::info!(
            "log: {transactions} transactions, {:.1} of {:.1} MB read ({:.1} MB/s), upstream time {} UTC, to {}; ETA {:.0} s",
            l.bytes as f64 / 1e6,
            total as f64 / 1e6,
            rate / 1e6,
            utc_text(i64::from(upstream_time)),
            point.describe(),
            eta
        );
    }
}
