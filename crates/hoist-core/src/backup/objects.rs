//! The schema of a backup, as the server prints it (`SHOW CREATE ...`), in files named as
//! mydumper and Dumpling name them, so that `hoist import` loads a backup like any dump:
//! `db-schema-create.sql`, `db.tbl-schema.sql`, `db.v-schema-view.sql`,
//! `db.tbl-schema-triggers.sql`, and `db-schema-post.sql` for routines and events.
//!
//! Triggers, routines and events are created with the sql_mode and character set they were
//! defined under, as mysqldump does, each between `DELIMITER ;;` lines.

use hoist_schema::quote_mysql_ident as q;
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};

/// Header of every file: values and names are bytes as the server stores them.
pub const FILE_HEADER: &str = "/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n";

/// A file of the backup: its name and content.
pub struct SchemaFile {
    pub name: String,
    pub text: Vec<u8>,
}

fn text(row: &Row, column: &str) -> String {
    row.get_opt::<Vec<u8>, _>(column)
        .and_then(|v| v.ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

pub async fn database(conn: &mut Conn, db: &str) -> Result<SchemaFile, mysql_async::Error> {
    let row: Option<Row> = conn.query_first(format!("SHOW CREATE DATABASE {}", q(db))).await?;
    let ddl = row.map(|r| text(&r, "Create Database")).unwrap_or_default();
    Ok(SchemaFile { name: format!("{db}-schema-create.sql"), text: format!("{FILE_HEADER}{ddl};\n").into_bytes() })
}

/// The table's file and its CREATE TABLE.
pub async fn table(conn: &mut Conn, db: &str, name: &str) -> Result<(SchemaFile, String), mysql_async::Error> {
    let row: Option<Row> = conn.query_first(format!("SHOW CREATE TABLE {}.{}", q(db), q(name))).await?;
    let ddl = row.map(|r| text(&r, "Create Table")).unwrap_or_default();
    let file =
        SchemaFile { name: format!("{db}.{name}-schema.sql"), text: format!("{FILE_HEADER}{ddl};\n").into_bytes() };
    Ok((file, ddl))
}

pub async fn view(conn: &mut Conn, db: &str, name: &str) -> Result<SchemaFile, mysql_async::Error> {
    let row: Option<Row> = conn.query_first(format!("SHOW CREATE VIEW {}.{}", q(db), q(name))).await?;
    let (ddl, charset) = row.map(|r| (text(&r, "Create View"), text(&r, "character_set_client"))).unwrap_or_default();
    let header = format!("/*!40101 SET NAMES {}*/;\n", if charset.is_empty() { "utf8mb4" } else { &charset });
    Ok(SchemaFile { name: format!("{db}.{name}-schema-view.sql"), text: format!("{header}{ddl};\n").into_bytes() })
}

/// The triggers of one table, in firing order; None when it has none.
pub async fn triggers(conn: &mut Conn, db: &str, table: &str) -> Result<Option<SchemaFile>, mysql_async::Error> {
    let names: Vec<String> = conn
        .exec(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND EVENT_OBJECT_TABLE = ? \
             ORDER BY ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER",
            (db, table),
        )
        .await?;
    if names.is_empty() {
        return Ok(None);
    }
    let mut out = String::from(FILE_HEADER);
    for name in names {
        let row: Option<Row> = conn.query_first(format!("SHOW CREATE TRIGGER {}.{}", q(db), q(&name))).await?;
        if let Some(r) = row {
            push_stored(&mut out, &r, "SQL Original Statement");
        }
    }
    Ok(Some(SchemaFile { name: format!("{db}.{table}-schema-triggers.sql"), text: out.into_bytes() }))
}

/// Procedures, functions and events of a database; None when it has none.
pub async fn routines(conn: &mut Conn, db: &str) -> Result<Option<SchemaFile>, mysql_async::Error> {
    let mut objects: Vec<(String, String)> = conn
        .exec(
            "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? \
             ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
            (db,),
        )
        .await?;
    let events: Vec<String> = conn
        .exec("SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME", (db,))
        .await?;
    objects.extend(events.into_iter().map(|e| ("EVENT".to_string(), e)));
    if objects.is_empty() {
        return Ok(None);
    }
    let mut out = String::from(FILE_HEADER);
    for (kind, name) in objects {
        let (show, column) = match kind.as_str() {
            "FUNCTION" => ("FUNCTION", "Create Function"),
            "EVENT" => ("EVENT", "Create Event"),
            // PACKAGE and PACKAGE BODY (MariaDB's Oracle mode) are left to the dump tools.
            "PROCEDURE" => ("PROCEDURE", "Create Procedure"),
            _ => continue,
        };
        let row: Option<Row> = conn.query_first(format!("SHOW CREATE {show} {}.{}", q(db), q(&name))).await?;
        if let Some(r) = row {
            push_stored(&mut out, &r, column);
        }
    }
    Ok(Some(SchemaFile { name: format!("{db}-schema-post.sql"), text: out.into_bytes() }))
}

/// A stored program with the sql_mode and character set it was created under.
fn push_stored(out: &mut String, row: &Row, column: &str) {
    let ddl = text(row, column);
    if ddl.is_empty() {
        // The user may not see the body (no SHOW_ROUTINE / SUPER): nothing to restore from.
        return;
    }
    let charset = text(row, "character_set_client");
    let sql_mode = text(row, "sql_mode");
    out.push_str(&format!(
        "/*!40101 SET NAMES {}*/;\nSET SESSION sql_mode = '{}';\nDELIMITER ;;\n{ddl};;\nDELIMITER ;\n",
        if charset.is_empty() { "utf8mb4" } else { &charset },
        sql_mode.replace('\'', "''")
    ));
}
