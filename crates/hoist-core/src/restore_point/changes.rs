//! An upstream transaction as the changes it made: rows written, updated and deleted per
//! table (from its row events and their table maps), and statements (DDL).

use std::collections::HashMap;

use mysql_common::binlog::consts::EventType;
use mysql_common::binlog::events::{EventData, RowsEventData, TableMapEvent};
use mysql_common::binlog::value::BinlogValue;
use mysql_common::constants::ColumnType;
use mysql_common::value::Value;

use crate::binlog::file::{ReadEvent, Transaction};
use crate::error::{DataError, FilePosition, SourceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Insert,
    Update,
    Delete,
}

/// One change of a transaction, in the order the upstream made it.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The rows of one row event: each an image of every column, in the table's order.
    Rows { database: String, table: String, kind: RowKind, types: Vec<ColumnType>, rows: Vec<RowChange> },
    /// A statement as logged (DDL), run with `database` as the default database.
    Statement { database: String, sql: String },
}

/// Before and after images: an insert has `after` only, a delete `before` only.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    pub before: Option<Vec<Value>>,
    pub after: Option<Vec<Value>>,
}

/// The changes of `txn`, read from `file`.
pub fn changes(txn: &Transaction, file: &str) -> Result<Vec<Change>, SourceError> {
    let mut maps: HashMap<u64, TableMapEvent<'static>> = HashMap::new();
    let mut out = Vec::new();
    for ev in &txn.events {
        let bad = |message: String| {
            SourceError::Data(DataError {
                position: FilePosition { file: file.to_string(), offset: ev.offset, line: None },
                message,
            })
        };
        let data = ev.event.read_data().map_err(|e| bad(format!("unreadable event: {e}")))?;
        match data {
            Some(EventData::TableMapEvent(tme)) => {
                maps.insert(tme.table_id(), tme.into_owned());
            }
            Some(EventData::RowsEvent(rows)) => {
                let tme = maps.get(&rows.table_id()).ok_or_else(|| {
                    bad(format!("a row event for table id {} without its table map", rows.table_id()))
                })?;
                out.push(row_change(ev, &rows, tme).map_err(bad)?);
            }
            Some(EventData::QueryEvent(q)) => {
                out.push(Change::Statement { database: q.schema().into_owned(), sql: q.query().into_owned() })
            }
            // Variables of statement-based logging: nothing to replay from rows.
            _ => {}
        }
    }
    Ok(out)
}

fn row_change(ev: &ReadEvent, rows: &RowsEventData<'_>, tme: &TableMapEvent<'_>) -> Result<Change, String> {
    let t = ev.header.type_code;
    let kind = if t == EventType::WRITE_ROWS_EVENT as u8 || t == EventType::WRITE_ROWS_EVENT_V1 as u8 {
        RowKind::Insert
    } else if t == EventType::DELETE_ROWS_EVENT as u8 || t == EventType::DELETE_ROWS_EVENT_V1 as u8 {
        RowKind::Delete
    } else if t == EventType::UPDATE_ROWS_EVENT as u8 || t == EventType::UPDATE_ROWS_EVENT_V1 as u8 {
        RowKind::Update
    } else {
        return Err(format!("a row event of type {t} (a partial JSON update): set binlog_row_value_options=''"));
    };
    let width = tme.columns_count() as usize;
    let types: Vec<ColumnType> = (0..width)
        .map(|i| {
            tme.get_column_type(i).ok().flatten().ok_or_else(|| format!("column {i} has no type in the table map"))
        })
        .collect::<Result<_, _>>()?;
    let database = tme.database_name().into_owned();
    let table = tme.table_name().into_owned();
    let image = |row: Option<mysql_common::binlog::row::BinlogRow>| -> Result<Option<Vec<Value>>, String> {
        let Some(row) = row else { return Ok(None) };
        if row.len() != width {
            return Err(format!(
                "a row image of `{database}`.`{table}` holds {} of its {width} columns: the upstream must log whole \
                 rows (binlog_row_image=FULL)",
                row.len()
            ));
        }
        row.unwrap()
            .into_iter()
            .map(|v| match v {
                BinlogValue::Value(v) => Ok(v),
                BinlogValue::Jsonb(j) => serde_json::Value::try_from(j)
                    .map(|json| Value::Bytes(json.to_string().into_bytes()))
                    .map_err(|e| format!("a JSON value of `{database}`.`{table}` that cannot be read: {e}")),
                BinlogValue::JsonDiff(_) => Err("a partial JSON update: set binlog_row_value_options=''".to_string()),
            })
            .collect::<Result<Vec<Value>, String>>()
            .map(Some)
    };
    let mut out = Vec::new();
    for row in rows.rows(tme) {
        let (before, after) = row.map_err(|e| format!("a row of `{database}`.`{table}` that cannot be read: {e}"))?;
        out.push(RowChange { before: image(before)?, after: image(after)? });
    }
    Ok(Change::Rows { database, table, kind, types, rows: out })
}
