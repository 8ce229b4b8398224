//! The SQLite target: every table of the dump in one file, under its own table name. MySQL DDL
//! is translated by `hoist-schema`. Rows are bound as parameters and the file's column
//! affinities turn number text into numbers. The markers table lives in the same file,
//! because a commit that spans ATTACHed files is not atomic in WAL mode.
//!
//! SQLite has one writer at a time: the workers parse in parallel and take turns to write.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::rows::Value;
use async_trait::async_trait;
use hoist_schema::{quote_sqlite_ident as q, SqliteView};
use rusqlite::{params, Connection, OptionalExtension};

use super::*;

pub struct SqliteTarget {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

fn err(e: rusqlite::Error) -> TargetError {
    let transient = crate::error_class::sqlite_is_transient(&e);
    TargetError { code: None, message: e.to_string(), transient }
}

impl SqliteTarget {
    pub fn open(path: &Path, _options: &TargetOptions) -> Result<SqliteTarget, TargetError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| TargetError::permanent(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;
             PRAGMA foreign_keys = OFF;
             CREATE TABLE IF NOT EXISTS hoist_progress (task_id INTEGER NOT NULL, chunk_id INTEGER NOT NULL,
                 pos INTEGER NOT NULL, stmt_start INTEGER, rows_loaded INTEGER NOT NULL, checksum INTEGER NOT NULL,
                 done INTEGER NOT NULL, PRIMARY KEY (task_id, chunk_id));
             CREATE TABLE IF NOT EXISTS hoist_identity (id TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS hoist_finished (fingerprint TEXT PRIMARY KEY, task_id INTEGER NOT NULL,
                 finished_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
             CREATE TABLE IF NOT EXISTS hoist_tasks (fingerprint TEXT PRIMARY KEY, task_id INTEGER NOT NULL,
                 checkpoint TEXT NOT NULL, started_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);",
        )
        .map_err(err)?;
        Ok(SqliteTarget { path: path.to_path_buf(), conn: Arc::new(Mutex::new(conn)) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T, TargetError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        tokio::task::block_in_place(|| f(&mut conn)).map_err(err)
    }

    /// The identity [`Target::identity`] would give the file at `path`, read without writing
    /// anything: None when it is not a hoist target (no file, or no identity in it). A
    /// checkpoint control checks a file with it before opening it, so that pointing one at the
    /// wrong file neither creates that file nor adds hoist's tables to it.
    pub fn identity_at(path: &Path) -> Result<Option<String>, TargetError> {
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
        let has_table: bool = conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'hoist_identity'",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if !has_table {
            return Ok(None);
        }
        let id: Option<String> =
            conn.query_row("SELECT id FROM hoist_identity", [], |r| r.get(0)).optional().map_err(err)?;
        Ok(id.map(|id| format!("sqlite:{id}")))
    }
}

/// hoist's own tables in the file: the markers and the task records.
const OWN_TABLES: [&str; 4] = ["hoist_progress", "hoist_identity", "hoist_finished", "hoist_tasks"];

/// Why the dump's tables and views cannot share one SQLite file, or None. SQLite has no
/// databases: every table lands under its own name, compared ignoring ASCII case, so `a`.`t`
/// and `b`.`t` would be loaded into one table (and a view would replace a table). Checked
/// before the file is opened, so that a refused run writes nothing.
pub fn name_collisions(catalog: &crate::catalog::Catalog) -> Option<String> {
    let names = catalog
        .tables
        .iter()
        .map(|t| ("table", &t.database, &t.name))
        .chain(catalog.views.iter().map(|v| ("view", &v.database, &v.name)));
    let mut by_name: std::collections::BTreeMap<String, Vec<(&str, &str, &str)>> = Default::default();
    for (kind, db, name) in names {
        by_name.entry(name.to_ascii_lowercase()).or_default().push((kind, db, name));
    }
    let show = |objects: &[(&str, &str, &str)]| -> String {
        let shown: Vec<String> = objects
            .iter()
            .map(|(kind, db, name)| format!("{kind} {}", hoist_schema::qualified_mysql_name(db, name)))
            .collect();
        shown.join(" and ")
    };
    let mut problems = Vec::new();
    let mut exclude = None;
    for (lower, objects) in &by_name {
        if objects.len() > 1 {
            problems.push(show(objects));
            exclude.get_or_insert(objects[1]);
        }
        if OWN_TABLES.contains(&lower.as_str()) {
            problems.push(format!("{} (the name of one of hoist's own tables in the file)", show(objects)));
            exclude.get_or_insert(objects[0]);
        }
    }
    let (_, db, name) = exclude?;
    Some(format!(
        "in an SQLite file, which holds the tables of every database under their own names (ignoring case), these \
         would be one table: {}. Nothing was written. Leave one of each out with --tables (e.g. --tables '!{db}.{name}'), \
         or import each database into its own file with --tables '{db}.*'",
        problems.join("; ")
    ))
}

#[async_trait]
impl Target for SqliteTarget {
    fn describe(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    async fn identity(&self) -> Result<String, TargetError> {
        self.with(|c| {
            let id: Option<String> = c.query_row("SELECT id FROM hoist_identity", [], |r| r.get(0)).optional()?;
            match id {
                Some(id) => Ok(format!("sqlite:{id}")),
                None => {
                    let id = format!("{:016x}", rand::random::<u64>());
                    c.execute("INSERT INTO hoist_identity VALUES (?1)", [&id])?;
                    Ok(format!("sqlite:{id}"))
                }
            }
        })
    }

    async fn prepare_markers(&self) -> Result<(), TargetError> {
        Ok(())
    }

    async fn read_markers(&self, task_id: i64) -> Result<HashMap<i64, ChunkProgress>, TargetError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT chunk_id, pos, stmt_start, rows_loaded, checksum, done FROM hoist_progress WHERE task_id = ?1",
            )?;
            let rows = st.query_map([task_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    ChunkProgress {
                        offset: r.get::<_, i64>(1)? as u64,
                        stmt_start: r.get::<_, Option<i64>>(2)?.map(|v| v as u64),
                        rows: r.get::<_, i64>(3)? as u64,
                        checksum: r.get::<_, i64>(4)? as u64,
                        done: r.get(5)?,
                    },
                ))
            })?;
            rows.collect()
        })
    }

    async fn record_finished(&self, task_id: i64, fingerprint: &str) -> Result<(), TargetError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM hoist_progress WHERE task_id = ?1", [task_id])?;
            tx.execute("DELETE FROM hoist_tasks WHERE task_id = ?1", [task_id])?;
            tx.execute(
                "INSERT OR REPLACE INTO hoist_finished (fingerprint, task_id) VALUES (?1, ?2)",
                params![fingerprint, task_id],
            )?;
            tx.commit()
        })
    }

    async fn finished(&self, fingerprint: &str) -> Result<Option<(i64, String)>, TargetError> {
        self.with(|c| {
            c.query_row("SELECT task_id, finished_at FROM hoist_finished WHERE fingerprint = ?1", [fingerprint], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
        })
    }

    async fn record_task(&self, task_id: i64, fingerprint: &str, checkpoint: &str) -> Result<(), TargetError> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO hoist_tasks (fingerprint, task_id, checkpoint) VALUES (?1, ?2, ?3)",
                params![fingerprint, task_id, checkpoint],
            )
            .map(drop)
        })
    }

    async fn unfinished(&self, fingerprint: &str) -> Result<Option<UnfinishedTask>, TargetError> {
        self.with(|c| {
            c.query_row(
                "SELECT task_id, checkpoint, started_at FROM hoist_tasks WHERE fingerprint = ?1",
                [fingerprint],
                |r| Ok(UnfinishedTask { task_id: r.get(0)?, checkpoint: r.get(1)?, started: r.get(2)? }),
            )
            .optional()
        })
    }

    async fn clear_markers(&self, task_id: i64, chunk_ids: Option<&[i64]>) -> Result<(), TargetError> {
        self.with(|c| match chunk_ids {
            None => {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM hoist_progress WHERE task_id = ?1", [task_id])?;
                tx.execute("DELETE FROM hoist_tasks WHERE task_id = ?1", [task_id])?;
                tx.commit()
            }
            Some(ids) => {
                let tx = c.transaction()?;
                for id in ids {
                    tx.execute("DELETE FROM hoist_progress WHERE task_id = ?1 AND chunk_id = ?2", [task_id, *id])?;
                }
                tx.commit()
            }
        })
    }

    async fn create_database(&self, _database: &str, _create_sql: Option<&str>) -> Result<(), TargetError> {
        Ok(())
    }

    async fn create_table(&self, database: &str, name: &str, create_sql: &str, defer: bool) -> Result<(), TargetError> {
        let ddl = hoist_schema::sqlite_table_ddl(create_sql, name)
            .map_err(|e| TargetError::permanent(format!("schema of `{database}`.`{name}`: {e}")))?;
        for note in &ddl.notes {
            tracing::warn!("`{database}`.`{name}`: {note}");
        }
        self.with(|c| {
            c.execute_batch(&ddl.create)?;
            if !defer {
                ddl.indexes.iter().try_for_each(|s| c.execute_batch(s))?;
            }
            Ok(())
        })
    }

    fn deferred_indexes(&self, name: &str, create_sql: &str, defer: bool) -> Result<Vec<String>, TargetError> {
        if !defer {
            return Ok(Vec::new());
        }
        hoist_schema::sqlite_table_ddl(create_sql, name)
            .map(|ddl| ddl.indexes)
            .map_err(|e| TargetError::permanent(format!("schema of `{name}`: {e}")))
    }

    async fn existing_tables(
        &self,
        tables: &[(String, String)],
    ) -> Result<std::collections::HashSet<(String, String)>, TargetError> {
        let names: std::collections::HashSet<String> = self.with(|c| {
            let mut st = c.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")?;
            let names = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            Ok(names)
        })?;
        Ok(tables.iter().filter(|(_, n)| names.contains(n)).cloned().collect())
    }

    async fn table_facts(&self, database: &str, name: &str) -> Result<Option<TableFacts>, TargetError> {
        let columns = self.with(|c| {
            // table_xinfo also lists generated columns (hidden = 2 or 3).
            let mut st = c.prepare("SELECT name, type, hidden FROM pragma_table_xinfo(?1) ORDER BY cid")?;
            let cols = st
                .query_map([name], |r| {
                    let ty: String = r.get(1)?;
                    let hidden: i64 = r.get(2)?;
                    let ty = ty.to_ascii_uppercase();
                    Ok(TargetColumn {
                        name: r.get(0)?,
                        class: if ty.contains("BLOB") || ty.is_empty() {
                            ColumnClass::Binary
                        } else {
                            ColumnClass::Text
                        },
                        generated: hidden >= 2,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((!cols.is_empty()).then_some(cols))
        })?;
        let Some(columns) = columns else { return Ok(None) };
        let identity = self.table_identity(database, name).await?;
        Ok(Some(TableFacts { columns, identity, non_transactional_engine: None, description: None }))
    }

    async fn table_identity(&self, _database: &str, name: &str) -> Result<Option<String>, TargetError> {
        self.with(|c| {
            c.query_row("SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?1", [name], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map(|p| p.map(|p| format!("rootpage:{p}")))
        })
    }

    async fn row_count(&self, _database: &str, name: &str) -> Result<u64, TargetError> {
        self.with(|c| c.query_row(&format!("SELECT COUNT(*) FROM {}", q(name)), [], |r| r.get::<_, i64>(0)))
            .map(|n| n as u64)
    }

    async fn content_checksum(
        &self,
        _database: &str,
        _name: &str,
        _range: Option<&crate::manifest::KeyRange>,
    ) -> Result<(u64, u64), TargetError> {
        Err(TargetError::permanent("SQLite has no content checksum that matches a MySQL server's"))
    }

    async fn drop_table(&self, _database: &str, name: &str) -> Result<(), TargetError> {
        self.with(|c| c.execute_batch(&format!("DROP TABLE IF EXISTS {}", q(name))))
    }

    async fn run_statements(&self, _database: &str, statements: &[String]) -> Result<(), TargetError> {
        self.with(|c| statements.iter().try_for_each(|s| c.execute_batch(s)))
    }

    async fn analyze(&self, _database: &str, name: &str) -> Result<(), TargetError> {
        self.with(|c| c.execute_batch(&format!("ANALYZE {}", q(name))))
    }

    async fn create_view(&self, database: &str, name: &str, create_sql: &str) -> Result<Option<String>, TargetError> {
        let ddl = match hoist_schema::sqlite_view_ddl(create_sql, name) {
            Ok(SqliteView::Create(ddl)) => ddl,
            Ok(SqliteView::LeftOut(reason)) => return Ok(Some(reason)),
            Err(e) => return Err(TargetError::permanent(format!("view `{database}`.`{name}`: {e}"))),
        };
        // SQLite creates a view that names a missing table, column or function, and fails each
        // use of it: a view is kept only when a SELECT from it compiles, so that every view in
        // the file can be read (one that needs another view is tried again after it).
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute_batch(&format!("DROP TABLE IF EXISTS {}", q(name)))?;
            tx.execute_batch(&ddl)?;
            tx.prepare(&format!("SELECT * FROM {} LIMIT 0", q(name)))?;
            tx.commit()
        })
        .map(|()| None)
    }

    async fn run_post_ddl(
        &self,
        _database: &str,
        statements: &[String],
    ) -> Result<Vec<(&'static str, String)>, TargetError> {
        // Triggers and routines are MySQL code; SQLite cannot run them.
        Ok(statements.iter().filter_map(|s| crate::ddl_file::created_object(s)).collect())
    }

    fn encoder(&self, table: &TableTarget, columns: &[usize], _insert: bool) -> Box<dyn BatchEncoder> {
        let verb = match table.conflict {
            crate::config::ConflictStrategy::Error => "INSERT",
            crate::config::ConflictStrategy::Replace => "INSERT OR REPLACE",
            crate::config::ConflictStrategy::Ignore => "INSERT OR IGNORE",
        };
        let names: Vec<String> = columns.iter().map(|&i| q(&table.columns[i].name)).collect();
        let marks = vec!["?"; columns.len()].join(",");
        let insert = if columns.is_empty() {
            format!("{verb} INTO {} DEFAULT VALUES", q(&table.name))
        } else {
            format!("{verb} INTO {} ({}) VALUES ({marks})", q(&table.name), names.join(","))
        };
        let binary = columns.iter().map(|&i| table.columns[i].class == ColumnClass::Binary).collect();
        Box::new(SqliteEncoder {
            rows: ParamRows { insert, width: columns.len(), ..Default::default() },
            binary,
            count: 0,
        })
    }

    async fn writer(&self, _now: Option<f64>) -> Result<Box<dyn Writer>, TargetError> {
        Ok(Box::new(SqliteWriter { conn: self.conn.clone() }))
    }
}

struct SqliteEncoder {
    rows: ParamRows,
    /// Per field: the column holds bytes.
    binary: Vec<bool>,
    count: u64,
}

impl SqliteEncoder {
    fn push_bytes(&mut self, bytes: &[u8], binary: bool) {
        let start = self.rows.data.len();
        self.rows.data.extend_from_slice(bytes);
        let end = self.rows.data.len();
        let text = !binary && std::str::from_utf8(bytes).is_ok();
        self.rows.values.push(if text { Param::Text(start, end) } else { Param::Blob(start, end) });
    }
}

impl BatchEncoder for SqliteEncoder {
    fn push(&mut self, row: &Row<'_>) -> Result<(), EncodeError> {
        for (i, value) in row.values.iter().enumerate() {
            match value {
                Value::Null => self.rows.values.push(Param::Null),
                Value::UInt(v) => self.rows.values.push(match i64::try_from(*v) {
                    Ok(v) => Param::Int(v),
                    Err(_) => Param::Real(*v as f64),
                }),
                // Number text: the column's affinity makes it an INTEGER, REAL or NUMERIC.
                Value::Number(n) => self.push_bytes(n, false),
                Value::Text(b) | Value::Binary(b) => self.push_bytes(b, self.binary.get(i).copied().unwrap_or(false)),
            }
        }
        self.count += 1;
        Ok(())
    }

    fn bytes(&self) -> usize {
        self.rows.data.len() + self.rows.values.len() * 8
    }

    fn rows(&self) -> u64 {
        self.count
    }

    fn take(&mut self) -> EncodedRows {
        self.count = 0;
        let next = ParamRows { insert: self.rows.insert.clone(), width: self.rows.width, ..Default::default() };
        EncodedRows::Params(std::mem::replace(&mut self.rows, next))
    }
}

/// A failed write, with the batch row that caused it when one did.
struct Failure {
    row: Option<usize>,
    error: rusqlite::Error,
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Self {
        Failure { row: None, error }
    }
}

struct SqliteWriter {
    conn: Arc<Mutex<Connection>>,
}

fn bind(st: &mut rusqlite::Statement<'_>, rows: &ParamRows, values: &[Param]) -> rusqlite::Result<()> {
    use rusqlite::types::ValueRef;
    for (i, v) in values.iter().enumerate() {
        let value = match *v {
            Param::Null => ValueRef::Null,
            Param::Int(n) => ValueRef::Integer(n),
            Param::Real(f) => ValueRef::Real(f),
            Param::Text(s, e) => ValueRef::Text(&rows.data[s..e]),
            Param::Blob(s, e) => ValueRef::Blob(&rows.data[s..e]),
        };
        st.raw_bind_parameter(i + 1, rusqlite::types::ToSqlOutput::Borrowed(value))?;
    }
    st.raw_execute().map(drop)
}

#[async_trait]
impl Writer for SqliteWriter {
    /// One process holds the file's writes; a killed one's transaction is rolled back when
    /// the file is opened again, so the committed marker is final.
    async fn claim(&mut self, task_id: i64, chunk_id: i64) -> Result<Option<ChunkProgress>, TargetError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        tokio::task::block_in_place(|| {
            conn.query_row(
                "SELECT pos, stmt_start, rows_loaded, checksum, done FROM hoist_progress \
                 WHERE task_id = ?1 AND chunk_id = ?2",
                [task_id, chunk_id],
                |r| {
                    Ok(ChunkProgress {
                        offset: r.get::<_, i64>(0)? as u64,
                        stmt_start: r.get::<_, Option<i64>>(1)?.map(|v| v as u64),
                        rows: r.get::<_, i64>(2)? as u64,
                        checksum: r.get::<_, i64>(3)? as u64,
                        done: r.get(4)?,
                    })
                },
            )
            .optional()
        })
        .map_err(err)
    }

    async fn release(&mut self) {}

    async fn write(&mut self, batches: &[EncodedBatch], marker: Option<&Marker>) -> Result<(), TargetError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        tokio::task::block_in_place(|| -> Result<(), Failure> {
            let tx = conn.transaction()?;
            // Rows are counted across the batches, as one statement would count them.
            let mut before = 0;
            for batch in batches {
                let EncodedRows::Params(rows) = &batch.rows else { continue };
                if batch.row_count > 0 {
                    let mut st = tx.prepare_cached(&rows.insert)?;
                    if rows.width == 0 {
                        // `INSERT ... DEFAULT VALUES`: one row of defaults per source row `()`.
                        for _ in 0..batch.row_count {
                            st.raw_execute()?;
                        }
                    } else {
                        for (i, values) in rows.values.chunks(rows.width).enumerate() {
                            bind(&mut st, rows, values).map_err(|error| Failure { row: Some(before + i), error })?;
                        }
                    }
                }
                before += batch.row_count as usize;
            }
            let Some(marker) = marker else { return Ok(tx.commit()?) };
            let p = &marker.progress;
            tx.execute(
                "INSERT OR REPLACE INTO hoist_progress VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    marker.task_id,
                    marker.chunk_id,
                    p.offset as i64,
                    p.stmt_start.map(|v| v as i64),
                    p.rows as i64,
                    p.checksum as i64,
                    p.done
                ],
            )?;
            Ok(tx.commit()?)
        })
        .map_err(|f| {
            // Name the row as MySQL does ("at row N", counted in the batch).
            let mut e = err(f.error);
            if let Some(i) = f.row {
                e.message = format!("{} at row {}", e.message, i + 1);
            }
            e
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::{Catalog, CatalogTable};

    fn catalog(tables: &[(&str, &str)]) -> Catalog {
        let tables = tables
            .iter()
            .map(|(db, name)| CatalogTable {
                database: db.to_string(),
                name: name.to_string(),
                schema_file: None,
                data_files: Vec::new(),
                sources: Vec::new(),
            })
            .collect();
        Catalog { tables, ..Default::default() }
    }

    #[test]
    fn tables_that_would_share_a_name_in_one_file_are_named() {
        assert_eq!(super::name_collisions(&catalog(&[("a", "t"), ("b", "u"), ("a", "u2")])), None);
        let m = super::name_collisions(&catalog(&[("a", "t"), ("b", "t"), ("c", "T"), ("a", "x")])).unwrap();
        assert!(m.contains("table `a`.`t` and table `b`.`t` and table `c`.`T`"), "{m}");
        assert!(m.contains("--tables '!b.t'"), "{m}");
        // A table of the dump named like the markers would be mixed with them.
        let m = super::name_collisions(&catalog(&[("a", "HOIST_progress")])).unwrap();
        assert!(m.contains("table `a`.`HOIST_progress` (the name of one of hoist's own tables"), "{m}");
    }
}
