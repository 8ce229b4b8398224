//! What a backup reads, asked of the server inside the snapshot: the tables the filter keeps,
//! their stored columns and the key their chunks are cut by, and the key ranges.
//!
//! A table whose first key column (primary key, else the first unique key of NOT NULL columns)
//! is an integer is cut into ranges of that column of about `chunk_size` bytes; any other table
//! is one chunk, read in key order when it has a key.

use hoist_schema::quote_mysql_ident as q;
use mysql_async::prelude::*;
use mysql_async::Conn;

use crate::data_type::TypeClass;
use crate::filter::TableFilter;
use crate::manifest::KeyRange;
use crate::row_checksum::{self, ChecksumColumns};
use crate::target::mysql::describe_table;
use crate::target::TableDescription;

/// Schemas a backup never includes: the server's own, and hoist's bookkeeping in a target.
const SKIPPED_SCHEMAS: &[&str] = &["hoist_meta", "hoist_checkpoint", "hoist_restore_checkpoint"];

/// Engines whose rows commit outside transactions: no snapshot covers them.
const NON_TRANSACTIONAL: &[&str] = &["myisam", "aria", "memory", "csv", "archive", "mrg_myisam", "merge"];

#[derive(Debug, Clone)]
pub struct TableInfo {
    pub database: String,
    pub name: String,
    pub engine: String,
    pub data_length: u64,
    pub create_time: Option<String>,
    /// Stored columns (name, DATA_TYPE): what is dumped and checksummed.
    pub columns: ChecksumColumns,
    /// Columns of the key rows are ordered by; empty for a keyless table.
    pub key: Vec<String>,
    /// The first key column is an integer, so ranges of it cut the table.
    pub integer_key: bool,
    /// The columns and key as the server describes them: what hoist hashes rows by.
    pub description: TableDescription,
}

impl TableInfo {
    pub fn transactional(&self) -> bool {
        !NON_TRANSACTIONAL.contains(&self.engine.to_ascii_lowercase().as_str())
    }
    pub fn label(&self) -> String {
        format!("{}.{}", q(&self.database), q(&self.name))
    }
}

#[derive(Debug, Clone, Default)]
pub struct ServerObjects {
    pub tables: Vec<TableInfo>,
    /// (database, view)
    pub views: Vec<(String, String)>,
}

/// The base tables and views the filter keeps, in name order.
pub async fn list(conn: &mut Conn, filter: &TableFilter) -> Result<ServerObjects, mysql_async::Error> {
    let rows: Vec<(String, String, String, String, u64, Option<String>)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, COALESCE(ENGINE, ''), COALESCE(DATA_LENGTH, 0), \
             CAST(CREATE_TIME AS CHAR) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') \
             ORDER BY TABLE_SCHEMA, TABLE_NAME",
        )
        .await?;
    let mut out = ServerObjects::default();
    for (database, name, kind, engine, data_length, create_time) in rows {
        if SKIPPED_SCHEMAS.contains(&database.as_str()) || !filter.matches(&database, &name) {
            continue;
        }
        match kind.as_str() {
            "VIEW" | "SYSTEM VIEW" => out.views.push((database, name)),
            "BASE TABLE" => {
                // Dropped since it was listed: nothing of it is in the snapshot.
                let Some(description) = describe_table(conn, &database, &name).await? else { continue };
                let columns: ChecksumColumns = description
                    .columns
                    .iter()
                    .filter(|c| !c.generated)
                    .map(|c| (c.name.clone(), c.data_type.clone()))
                    .collect();
                let key: Vec<String> =
                    description.key.iter().flatten().map(|&i| description.columns[i].name.clone()).collect();
                let integer_key = key.first().is_some_and(|first| {
                    description
                        .columns
                        .iter()
                        .any(|c| c.name == *first && TypeClass::of(&c.data_type) == TypeClass::Integer)
                });
                out.tables.push(TableInfo {
                    database,
                    name,
                    engine,
                    data_length,
                    create_time,
                    columns,
                    key,
                    integer_key,
                    description,
                })
            }
            // Sequences and temporary tables hold no rows of their own to back up.
            _ => {}
        }
    }
    Ok(out)
}

/// Key ranges of about `chunk_size` bytes each, from the table's extent in this snapshot.
pub async fn ranges(
    conn: &mut Conn,
    table: &TableInfo,
    chunk_size: u64,
) -> Result<Vec<Option<KeyRange>>, mysql_async::Error> {
    let pieces = table.data_length.div_ceil(chunk_size.max(1)).clamp(1, 100_000);
    if !table.integer_key || pieces < 2 {
        return Ok(vec![None]);
    }
    let column = &table.key[0];
    let extent: Option<(Option<String>, Option<String>)> = conn
        .query_first(format!(
            "SELECT CAST(MIN({0}) AS CHAR), CAST(MAX({0}) AS CHAR) FROM {1}",
            q(column),
            table.label()
        ))
        .await?;
    let parse = |v: Option<String>| v.and_then(|s| s.parse::<i128>().ok());
    let (Some(min), Some(max)) = extent.map(|(a, b)| (parse(a), parse(b))).unwrap_or_default() else {
        return Ok(vec![None]);
    };
    let width = ((max - min + 1) / pieces as i128).max(1);
    let mut out = Vec::new();
    let mut from = None;
    let mut at = min + width;
    while at <= max {
        out.push(Some(KeyRange { column: column.clone(), from, to: Some(at) }));
        from = Some(at);
        at += width;
    }
    out.push(Some(KeyRange { column: column.clone(), from, to: None }));
    Ok(out)
}

/// The SELECT of one chunk: the stored columns and (with `checksum`) each row's checksum, in
/// key order.
pub fn chunk_query(table: &TableInfo, range: Option<&KeyRange>, checksum: bool) -> String {
    let mut columns: Vec<String> = table.columns.iter().map(|(c, _)| q(c)).collect();
    if checksum {
        columns.push(row_checksum::row_hash_sql(&table.columns));
    }
    let mut sql = format!("SELECT {} FROM {}", columns.join(", "), table.label());
    if let Some(r) = range {
        sql.push_str(&r.where_sql());
    }
    if !table.key.is_empty() {
        let key: Vec<String> = table.key.iter().map(|c| q(c)).collect();
        sql.push_str(&format!(" ORDER BY {}", key.join(", ")));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TableInfo {
        TableInfo {
            database: "d".into(),
            name: "t".into(),
            engine: "InnoDB".into(),
            data_length: 0,
            create_time: None,
            columns: vec![("id".into(), "int".into()), ("v".into(), "varchar".into())],
            key: vec!["id".into()],
            integer_key: true,
            description: TableDescription { columns: Vec::new(), key: None },
        }
    }

    #[test]
    fn a_chunk_reads_its_key_range_in_key_order() {
        let range = KeyRange { column: "id".into(), from: Some(10), to: Some(20) };
        let sql = chunk_query(&table(), Some(&range), true);
        assert!(sql.starts_with("SELECT `id`, `v`, CRC32("), "{sql}");
        assert!(sql.ends_with(" FROM `d`.`t` WHERE `id` >= 10 AND `id` < 20 ORDER BY `id`"), "{sql}");
        let open = KeyRange { column: "id".into(), from: None, to: Some(5) };
        assert!(chunk_query(&table(), Some(&open), true).ends_with("WHERE `id` < 5 ORDER BY `id`"));
        let mut keyless = table();
        keyless.key.clear();
        assert!(chunk_query(&keyless, None, false).ends_with("SELECT `id`, `v` FROM `d`.`t`"));
    }

    #[test]
    fn engines_without_transactions_are_told_apart() {
        let mut t = table();
        assert!(t.transactional());
        t.engine = "Aria".into();
        assert!(!t.transactional());
    }
}
