//! The default checkpoint store: an SQLite file beside the run. It needs no server and puts no
//! load on the target. A plan is written with `synchronous = FULL`, so that once saved it
//! survives a power loss too (a lost plan next to committed target rows would mean loading them
//! twice); later updates use NORMAL: in WAL mode they survive a crash of hoist, and losing the
//! last few to a power cut only means they are redone (the target's markers win on resume).
//!
//! One process at a time: the first to join a job holds an exclusive lock on `FILE.lock`
//! beside the file for as long as it runs, and another one is refused, naming it (several
//! processes share a job through the MySQL store). Leases work as in the MySQL store, with this
//! host's clock; the owners present are those that joined through this store.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};

use super::*;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS task (
    task_id INTEGER PRIMARY KEY, source TEXT NOT NULL, target TEXT NOT NULL,
    target_identity TEXT NOT NULL, spec TEXT NOT NULL, created_ms INTEGER NOT NULL,
    lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS tables (
    id INTEGER PRIMARY KEY, database_name TEXT NOT NULL, table_name TEXT NOT NULL,
    schema_file TEXT, state TEXT NOT NULL, error_step TEXT, error_message TEXT,
    target_identity TEXT, lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, table_id INTEGER NOT NULL, path TEXT NOT NULL, format TEXT NOT NULL,
    compression TEXT NOT NULL, start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL,
    position TEXT, lease_owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, modified_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS objects (message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source_scan (document TEXT NOT NULL);
";

pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// `FILE.lock`, locked while an owner of this process is in the job.
    lock: Mutex<Option<File>>,
    /// The owners that joined through this store.
    present: Mutex<HashSet<String>>,
}

fn bad(what: &str) -> CheckpointError {
    CheckpointError::store("sqlite", format!("unreadable checkpoint: {what}"))
}

/// SQLite stores signed 64-bit integers; u64 values round-trip through the same bits.
fn to_i64(v: u64) -> i64 {
    v as i64
}
fn to_u64(v: i64) -> u64 {
    v as u64
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, CheckpointError> {
        let err = |e: rusqlite::Error| CheckpointError::sqlite(path.display().to_string(), &e);
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        add_lease_columns(&conn).map_err(err)?;
        // Room for every statement a run repeats (leases, states, progress) to stay prepared.
        conn.set_prepared_statement_cache_capacity(32);
        Ok(SqliteStore {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            lock: Mutex::new(None),
            present: Mutex::new(HashSet::new()),
        })
    }

    fn lock_path(&self) -> PathBuf {
        PathBuf::from(format!("{}.lock", self.path.display()))
    }

    /// Lock `FILE.lock` for this process (it then holds this process's id), or refuse, naming
    /// the process that holds it.
    fn lock_file(&self) -> Result<File, CheckpointError> {
        let path = self.lock_path();
        let failed = |e: std::io::Error| CheckpointError::store(path.display().to_string(), e.to_string());
        let mut file =
            File::options().create(true).truncate(false).read(true).write(true).open(&path).map_err(failed)?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => "another hoist process".to_string(),
                pid => format!("another hoist process (pid {pid})"),
            };
            return Err(CheckpointError::Refused(format!(
                "{holder} runs this job with the checkpoint {}: an SQLite checkpoint serves one process at a time. \
                 Wait for it to end, or let several processes share the job with a checkpoint on a MySQL-family \
                 server (--checkpoint-driver mysql)",
                self.path.display()
            )));
        }
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| write!(file, "{}", std::process::id()))
            .map_err(failed)?;
        Ok(file)
    }

    /// The lease on `unit` for `owner`, in one transaction (see [`CheckpointStore::lease`]).
    fn lease_in(
        c: &mut Connection,
        unit: Unit,
        owner: &str,
        expiry: Duration,
        present: &HashSet<String>,
    ) -> rusqlite::Result<Lease> {
        let (table, key, id) = unit_row(unit, 1);
        let now = now_ms();
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (holder, until): (Option<String>, i64) = tx
            .prepare_cached(&format!("SELECT lease_owner, lease_until FROM {table} WHERE {key}"))?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let left = until - now;
        let here = holder.as_ref().is_none_or(|h| present.contains(h));
        if !may_take(holder.as_deref(), left, owner, here) {
            let owner = holder.unwrap_or_default();
            return Ok(Lease::Held { owner, expires_in: Duration::from_millis(left.max(0) as u64) });
        }
        let (table, key, id) = unit_row(unit, 3);
        tx.prepare_cached(&format!("UPDATE {table} SET lease_owner = ?1, lease_until = ?2 WHERE {key}"))?
            .execute(params![owner, now.saturating_add(expiry_ms(expiry)), id])?;
        let table = unit_table(&tx, unit)?;
        tx.commit()?;
        Ok(Lease::Taken { table, previous: holder.filter(|h| h != owner) })
    }

    /// Whether the checkpoint file at `path` holds task `task_id`, read without creating or
    /// changing anything.
    pub fn holds_task(path: &Path, task_id: i64) -> bool {
        let Ok(conn) = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
            return false;
        };
        let found: rusqlite::Result<Option<i64>> =
            conn.query_row("SELECT task_id FROM task WHERE task_id = ?1", [task_id], |r| r.get(0)).optional();
        matches!(found, Ok(Some(_)))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, CheckpointError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|e| CheckpointError::sqlite(self.path.display().to_string(), &e))
    }
}

/// A checkpoint made by a hoist without leases gets their columns.
fn add_lease_columns(c: &Connection) -> rusqlite::Result<()> {
    for table in ["task", "tables", "chunks"] {
        let has: i64 = c.query_row(
            &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = 'lease_owner'"),
            [],
            |r| r.get(0),
        )?;
        if has == 0 {
            c.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN lease_owner TEXT; \
                 ALTER TABLE {table} ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;"
            ))?;
        }
    }
    Ok(())
}

/// The row that holds a unit's lease, as (table, condition).
/// The unit's row: its table, the condition that finds it with its key as parameter `?n`,
/// and the key. The statements' texts stay the same from unit to unit, so SQLite's prepared
/// statements are reused (`prepare_cached`): thousands of small tables take a lease each.
fn unit_row(unit: Unit, n: usize) -> (&'static str, String, i64) {
    match unit {
        Unit::Chunk(id) => ("chunks", format!("id = ?{n}"), id),
        Unit::Post(id) => ("tables", format!("id = ?{n}"), id),
        Unit::End => ("task", format!("?{n} = 0"), 0),
    }
}

/// The unit's table as the store has it now.
fn unit_table(c: &Connection, unit: Unit) -> rusqlite::Result<Option<TableStatus>> {
    let (sql, id) = match unit {
        Unit::Chunk(id) => (
            "SELECT t.state, t.error_step, t.error_message FROM tables t JOIN chunks c ON c.table_id = t.id \
             WHERE c.id = ?1",
            id,
        ),
        Unit::Post(id) => ("SELECT state, error_step, error_message FROM tables WHERE id = ?1", id),
        Unit::End => return Ok(None),
    };
    let row: Option<(String, Option<String>, Option<String>)> =
        c.prepare_cached(sql)?.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
    Ok(row.and_then(|(state, step, message)| {
        Some(TableStatus {
            state: TableState::parse(&state)?,
            error: message.map(|message| TableError { step: step.unwrap_or_default(), message }),
        })
    }))
}

#[async_trait]
impl CheckpointStore for SqliteStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    async fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let (task, tables, chunks, files, scan) = self.with(|c| {
            let task = c
                .query_row("SELECT task_id, source, target, target_identity, spec, created_ms FROM task", [], |r| {
                    Ok(TaskRecord {
                        task_id: r.get(0)?,
                        source: r.get(1)?,
                        target: r.get(2)?,
                        target_identity: r.get(3)?,
                        spec: r.get(4)?,
                        created_ms: r.get(5)?,
                    })
                })
                .optional()?;
            let mut st = c.prepare(
                "SELECT id, database_name, table_name, schema_file, state, error_step, error_message, \
                 target_identity FROM tables ORDER BY id",
            )?;
            let tables = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut st = c.prepare(
                "SELECT id, table_id, path, format, compression, start_offset, end_offset, position \
                 FROM chunks ORDER BY id",
            )?;
            let chunks = st
                .query_map([], |r| {
                    Ok((
                        (r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?),
                        (r.get::<_, String>(3)?, r.get::<_, String>(4)?),
                        (r.get::<_, i64>(5)?, r.get::<_, i64>(6)?, r.get::<_, Option<String>>(7)?),
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut st = c.prepare("SELECT path, size, modified_ms FROM files ORDER BY path")?;
            let files = st
                .query_map([], |r| Ok(FileRecord { path: r.get(0)?, size: to_u64(r.get(1)?), modified_ms: r.get(2)? }))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let scan = c.query_row("SELECT document FROM source_scan", [], |r| r.get(0)).optional()?;
            Ok((task, tables, chunks, files, scan))
        })?;
        let Some(task) = task else { return Ok(None) };
        let tables = tables
            .into_iter()
            .map(|row| TableRecord::from_row(row).map_err(|state| bad(&state)))
            .collect::<Result<Vec<_>, CheckpointError>>()?;
        let chunks = chunks
            .into_iter()
            .map(|((id, table_id, path), (format, compression), (start, end, position))| {
                Ok(ChunkRecord {
                    id,
                    table_id,
                    path,
                    format: DataFormat::parse(&format).ok_or_else(|| bad(&format))?,
                    compression: Compression::parse(&compression).ok_or_else(|| bad(&compression))?,
                    start: to_u64(start),
                    end: to_u64(end),
                    progress: ChunkProgress::from_position(position.as_deref(), to_u64(start)).map_err(|e| bad(&e))?,
                })
            })
            .collect::<Result<Vec<_>, CheckpointError>>()?;
        Ok(Some(Checkpoint { task, tables, chunks, files, scan }))
    }

    async fn create(&self, cp: &Checkpoint) -> Result<(), CheckpointError> {
        self.with(|c| {
            c.execute_batch("PRAGMA synchronous = FULL")?;
            let tx = c.transaction()?;
            tx.execute_batch(
                "DELETE FROM task; DELETE FROM tables; DELETE FROM chunks; DELETE FROM files; DELETE FROM objects; \
                 DELETE FROM source_scan;",
            )?;
            if let Some(scan) = &cp.scan {
                tx.execute("INSERT INTO source_scan VALUES (?1)", [scan])?;
            }
            let t = &cp.task;
            tx.execute(
                "INSERT INTO task (task_id, source, target, target_identity, spec, created_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![t.task_id, t.source, t.target, t.target_identity, t.spec, t.created_ms],
            )?;
            {
                let mut st = tx.prepare(
                    "INSERT INTO tables (id, database_name, table_name, schema_file, state, error_step, \
                     error_message, target_identity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for t in &cp.tables {
                    st.execute(params![
                        t.id,
                        t.database,
                        t.name,
                        t.schema_file,
                        t.state.as_str(),
                        t.error.as_ref().map(|e| &e.step),
                        t.error.as_ref().map(|e| &e.message),
                        t.target_identity
                    ])?;
                }
                let mut st = tx.prepare(
                    "INSERT INTO chunks (id, table_id, path, format, compression, start_offset, end_offset, \
                     position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for ch in &cp.chunks {
                    st.execute(params![
                        ch.id,
                        ch.table_id,
                        ch.path,
                        ch.format.as_str(),
                        ch.compression.as_str(),
                        to_i64(ch.start),
                        to_i64(ch.end),
                        ch.progress.to_position()
                    ])?;
                }
                let mut st = tx.prepare("INSERT INTO files (path, size, modified_ms) VALUES (?1, ?2, ?3)")?;
                for f in &cp.files {
                    st.execute(params![f.path, to_i64(f.size), f.modified_ms])?;
                }
            }
            tx.commit()?;
            c.execute_batch("PRAGMA synchronous = NORMAL")
        })
    }

    async fn set_table_state(
        &self,
        table_id: i64,
        state: TableState,
        error: Option<&TableError>,
    ) -> Result<(), CheckpointError> {
        self.with(|c| {
            c.prepare_cached("UPDATE tables SET state = ?2, error_step = ?3, error_message = ?4 WHERE id = ?1")?
                .execute(params![table_id, state.as_str(), error.map(|e| &e.step), error.map(|e| &e.message)])
                .map(drop)
        })
    }

    async fn set_table_identity(&self, table_id: i64, identity: Option<&str>) -> Result<(), CheckpointError> {
        self.with(|c| {
            c.prepare_cached("UPDATE tables SET target_identity = ?2 WHERE id = ?1")?
                .execute(params![table_id, identity])
                .map(drop)
        })
    }

    async fn save_progress(&self, updates: &[(i64, ChunkProgress)]) -> Result<(), CheckpointError> {
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached("UPDATE chunks SET position = ?2 WHERE id = ?1")?;
                for (id, p) in updates {
                    st.execute(params![id, p.to_position()])?;
                }
            }
            tx.commit()
        })
    }

    async fn set_object_errors(&self, errors: &[String]) -> Result<(), CheckpointError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM objects", [])?;
            for e in errors {
                tx.execute("INSERT INTO objects VALUES (?1)", [e])?;
            }
            tx.commit()
        })
    }

    async fn object_errors(&self) -> Result<Vec<String>, CheckpointError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT message FROM objects ORDER BY rowid")?;
            let rows = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>();
            rows
        })
    }

    async fn reset_table(&self, table_id: i64) -> Result<(), CheckpointError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE tables SET state = 'pending', error_step = NULL, error_message = NULL, \
                 target_identity = NULL WHERE id = ?1",
                [table_id],
            )?;
            tx.execute("UPDATE chunks SET position = NULL WHERE table_id = ?1", [table_id])?;
            tx.commit()
        })
    }

    async fn remove_table(&self, table_id: i64) -> Result<(), CheckpointError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM chunks WHERE table_id = ?1", [table_id])?;
            tx.execute("DELETE FROM tables WHERE id = ?1", [table_id])?;
            tx.commit()
        })
    }

    async fn discard(&self) -> Result<(), CheckpointError> {
        self.with(|c| {
            c.execute_batch(
                "DELETE FROM task; DELETE FROM tables; DELETE FROM chunks; DELETE FROM files; DELETE FROM objects; \
                 DELETE FROM source_scan;",
            )
        })?;
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
        Ok(())
    }

    async fn archive(&self, task_id: i64) -> Result<String, CheckpointError> {
        // A consistent copy of the whole file, WAL included; then the usual place is freed.
        let to = format!("{}.{task_id}.done", self.path.display());
        let _ = std::fs::remove_file(&to);
        self.with(|c| c.execute("VACUUM INTO ?1", [&to]).map(drop))?;
        self.discard().await?;
        Ok(to)
    }

    async fn join(&self, owner: &str) -> Result<(), CheckpointError> {
        let mut lock = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if lock.is_none() {
            *lock = Some(self.lock_file()?);
        }
        self.present.lock().unwrap_or_else(|p| p.into_inner()).insert(owner.to_string());
        Ok(())
    }

    async fn leave(&self, owner: &str) {
        let mut present = self.present.lock().unwrap_or_else(|p| p.into_inner());
        present.remove(owner);
        if present.is_empty() {
            self.lock.lock().unwrap_or_else(|p| p.into_inner()).take();
        }
    }

    /// The file's lock, taken when the owner joined, already keeps every other process out.
    async fn begin_setup(&self, _owner: &str, _wait: Duration) -> Result<bool, CheckpointError> {
        Ok(true)
    }

    async fn end_setup(&self, _owner: &str) {}

    async fn lease(&self, unit: Unit, owner: &str, expiry: Duration) -> Result<Lease, CheckpointError> {
        let present = self.present.lock().unwrap_or_else(|p| p.into_inner()).clone();
        self.with(|c| Self::lease_in(c, unit, owner, expiry, &present))
    }

    async fn renew(&self, units: &[Unit], owner: &str, expiry: Duration) -> Result<Vec<Unit>, CheckpointError> {
        let until = now_ms().saturating_add(expiry_ms(expiry));
        self.with(|c| {
            let tx = c.transaction()?;
            let mut lost = Vec::new();
            for &unit in units {
                let (table, key, id) = unit_row(unit, 3);
                let sql = format!("UPDATE {table} SET lease_until = ?1 WHERE {key} AND lease_owner = ?2");
                if tx.prepare_cached(&sql)?.execute(params![until, owner, id])? == 0 {
                    lost.push(unit);
                }
            }
            tx.commit()?;
            Ok(lost)
        })
    }

    async fn release(&self, unit: Unit, owner: &str) -> Result<(), CheckpointError> {
        let (table, key, id) = unit_row(unit, 2);
        let sql = format!("UPDATE {table} SET lease_owner = NULL, lease_until = 0 WHERE {key} AND lease_owner = ?1");
        self.with(|c| c.prepare_cached(&sql)?.execute(params![owner, id]).map(drop))
    }
}
