//! The default checkpoint store: an SQLite file beside the run. It needs no server and puts no
//! load on the target. A plan is written with `synchronous = FULL`, so that once saved it
//! survives a power loss too (a lost plan next to committed target rows would mean loading them
//! twice); later updates use NORMAL: in WAL mode they survive a crash of hoist, and losing the
//! last few to a power cut only means they are redone (the target's markers win on resume).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};

use super::*;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS task (
    task_id INTEGER PRIMARY KEY, source TEXT NOT NULL, target TEXT NOT NULL,
    target_identity TEXT NOT NULL, spec TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tables (
    id INTEGER PRIMARY KEY, database_name TEXT NOT NULL, table_name TEXT NOT NULL,
    schema_file TEXT, state TEXT NOT NULL, error_step TEXT, error_message TEXT,
    target_identity TEXT);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, table_id INTEGER NOT NULL, path TEXT NOT NULL, format TEXT NOT NULL,
    compression TEXT NOT NULL, start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL,
    position TEXT);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, modified_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS objects (message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source_scan (document TEXT NOT NULL);
";

pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
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
        Ok(SqliteStore { path: path.to_path_buf(), conn: Mutex::new(conn) })
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
                "INSERT INTO task VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![t.task_id, t.source, t.target, t.target_identity, t.spec, t.created_ms],
            )?;
            {
                let mut st = tx.prepare("INSERT INTO tables VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
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
                let mut st = tx.prepare("INSERT INTO chunks VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
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
                let mut st = tx.prepare("INSERT INTO files VALUES (?1, ?2, ?3)")?;
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
            c.execute(
                "UPDATE tables SET state = ?2, error_step = ?3, error_message = ?4 WHERE id = ?1",
                params![table_id, state.as_str(), error.map(|e| &e.step), error.map(|e| &e.message)],
            )
            .map(drop)
        })
    }

    async fn set_table_identity(&self, table_id: i64, identity: Option<&str>) -> Result<(), CheckpointError> {
        self.with(|c| {
            c.execute("UPDATE tables SET target_identity = ?2 WHERE id = ?1", params![table_id, identity]).map(drop)
        })
    }

    async fn save_progress(&self, updates: &[(i64, ChunkProgress)]) -> Result<(), CheckpointError> {
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare("UPDATE chunks SET position = ?2 WHERE id = ?1")?;
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
        for suffix in ["", "-wal", "-shm"] {
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
}
