//! Row changes as SQL statements for the target.
//!
//! Inserts of one row event become one multi-row INSERT. An update or delete finds its row by
//! the table's key (primary, else unique over NOT NULL columns); deletes by a one-column key
//! go together in one `IN (...)`. A keyless table's row is found by its whole before-image,
//! compared byte for byte, `LIMIT 1`: of several equal rows one goes, so duplicates stay exact.
//!
//! Values are written from the row image as the server logged them: integers made unsigned
//! where the column is (the log does not say), TIMESTAMPs as epoch seconds (the session's
//! time zone is UTC), SET and BIT as their numbers, character strings with their character
//! set's introducer, binary strings in hex, floating point in exponent form that reads back to
//! the same value.

use mysql_common::constants::ColumnType;
use mysql_common::value::Value;

use super::changes::{RowChange, RowKind};
use crate::sql_literal::{push_hex, push_quoted};
use crate::target::{ColumnDescription, TableDescription};

/// The session the statements need: UTC for TIMESTAMPs given as epoch seconds, a zero in an
/// AUTO_INCREMENT column kept as zero, and no strictness the upstream did not apply (the
/// values are what the upstream stored).
pub const SESSION: &str =
    "SET SESSION time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0";

/// `db`.`table`
pub fn table_name(database: &str, table: &str) -> String {
    hoist_schema::qualified_mysql_name(database, table)
}

fn push_ident(out: &mut Vec<u8>, name: &str) {
    out.push(b'`');
    out.extend_from_slice(name.replace('`', "``").as_bytes());
    out.push(b'`');
}

/// Append the statements of one row event to `out`, each ended by `;\n`, and to `affected`
/// the rows each must affect.
pub fn push_rows(
    out: &mut Vec<u8>,
    affected: &mut Vec<u64>,
    table: &str,
    desc: &TableDescription,
    kind: RowKind,
    types: &[ColumnType],
    rows: &[RowChange],
) -> Result<(), String> {
    if types.len() != desc.columns.len() {
        return Err(format!(
            "{table}: the log's rows have {} columns, the target's table has {}: the target's table is not the \
             upstream's at this point of the log",
            types.len(),
            desc.columns.len()
        ));
    }
    let written: Vec<usize> = (0..desc.columns.len()).filter(|&i| !desc.columns[i].generated).collect();
    fn image<'r>(table: &str, r: &'r RowChange, after: bool) -> Result<&'r [Value], String> {
        let which = if after { &r.after } else { &r.before };
        let side = if after { "after" } else { "before" };
        which.as_deref().ok_or_else(|| format!("{table}: a row change without its {side} image"))
    }
    match kind {
        RowKind::Insert => {
            if rows.is_empty() {
                return Ok(());
            }
            out.extend_from_slice(b"INSERT INTO ");
            out.extend_from_slice(table.as_bytes());
            out.extend_from_slice(b" (");
            for (n, &i) in written.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                push_ident(out, &desc.columns[i].name);
            }
            out.extend_from_slice(b") VALUES ");
            for (r, row) in rows.iter().enumerate() {
                let values = image(table, row, true)?;
                out.extend_from_slice(if r > 0 { b",(" } else { b"(" });
                for (n, &i) in written.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    push_value(out, &values[i], types[i], &desc.columns[i], false)?;
                }
                out.push(b')');
            }
            out.extend_from_slice(b";\n");
            affected.push(rows.len() as u64);
        }
        RowKind::Update => {
            for row in rows {
                let (before, after) = (image(table, row, false)?, image(table, row, true)?);
                out.extend_from_slice(b"UPDATE ");
                out.extend_from_slice(table.as_bytes());
                out.extend_from_slice(b" SET ");
                for (n, &i) in written.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    push_ident(out, &desc.columns[i].name);
                    out.push(b'=');
                    push_value(out, &after[i], types[i], &desc.columns[i], false)?;
                }
                push_where(out, desc, types, before)?;
                affected.push(1);
            }
        }
        RowKind::Delete => match desc.key.as_deref() {
            Some([k]) if rows.len() > 1 => {
                out.extend_from_slice(b"DELETE FROM ");
                out.extend_from_slice(table.as_bytes());
                out.extend_from_slice(b" WHERE ");
                push_ident(out, &desc.columns[*k].name);
                out.extend_from_slice(b" IN (");
                for (r, row) in rows.iter().enumerate() {
                    if r > 0 {
                        out.push(b',');
                    }
                    push_value(out, &image(table, row, false)?[*k], types[*k], &desc.columns[*k], false)?;
                }
                out.extend_from_slice(b");\n");
                affected.push(rows.len() as u64);
            }
            _ => {
                for row in rows {
                    out.extend_from_slice(b"DELETE FROM ");
                    out.extend_from_slice(table.as_bytes());
                    push_where(out, desc, types, image(table, row, false)?)?;
                    affected.push(1);
                }
            }
        },
    }
    Ok(())
}

/// ` WHERE ... LIMIT 1;`: by the key, else by every stored column, byte for byte.
fn push_where(
    out: &mut Vec<u8>,
    desc: &TableDescription,
    types: &[ColumnType],
    before: &[Value],
) -> Result<(), String> {
    out.extend_from_slice(b" WHERE ");
    let keyed = desc.key.is_some();
    let columns: Vec<usize> = match &desc.key {
        Some(key) => key.clone(),
        None => (0..desc.columns.len()).filter(|&i| !desc.columns[i].generated).collect(),
    };
    for (n, &i) in columns.iter().enumerate() {
        if n > 0 {
            out.extend_from_slice(b" AND ");
        }
        push_ident(out, &desc.columns[i].name);
        out.extend_from_slice(if keyed { b"=" } else { b"<=>" });
        push_value(out, &before[i], types[i], &desc.columns[i], !keyed)?;
    }
    out.extend_from_slice(b" LIMIT 1;\n");
    Ok(())
}

/// One value as a literal for `col`. `exact`: for a comparison that must match bytes, not
/// the collation's idea of equal (a keyless table's duplicates differ only in case, say).
fn push_value(
    out: &mut Vec<u8>,
    v: &Value,
    ty: ColumnType,
    col: &ColumnDescription,
    exact: bool,
) -> Result<(), String> {
    use std::io::Write;
    match v {
        Value::NULL => out.extend_from_slice(b"NULL"),
        Value::Int(i) => {
            if ty == ColumnType::MYSQL_TYPE_TIMESTAMP {
                push_epoch(out, &i.to_string());
            } else if col.unsigned && *i < 0 {
                let bits = match col.data_type.as_str() {
                    "tinyint" => 8,
                    "smallint" => 16,
                    "mediumint" => 24,
                    "int" | "integer" => 32,
                    _ => 64,
                };
                let unsigned = if bits == 64 { *i as u64 } else { (*i as u64) & ((1u64 << bits) - 1) };
                write!(out, "{unsigned}").expect("writing to a Vec");
            } else {
                write!(out, "{i}").expect("writing to a Vec");
            }
        }
        Value::UInt(u) => write!(out, "{u}").expect("writing to a Vec"),
        Value::Float(f) => {
            if exact {
                write!(out, "CAST({f:e} AS FLOAT)").expect("writing to a Vec");
            } else {
                write!(out, "{f:e}").expect("writing to a Vec");
            }
        }
        Value::Double(d) => write!(out, "{d:e}").expect("writing to a Vec"),
        Value::Date(y, m, d, h, i, s, us) => {
            if col.data_type == "date" {
                write!(out, "'{y:04}-{m:02}-{d:02}'").expect("writing to a Vec");
            } else if *us > 0 {
                write!(out, "'{y:04}-{m:02}-{d:02} {h:02}:{i:02}:{s:02}.{us:06}'").expect("writing to a Vec");
            } else {
                write!(out, "'{y:04}-{m:02}-{d:02} {h:02}:{i:02}:{s:02}'").expect("writing to a Vec");
            }
        }
        Value::Time(neg, days, h, i, s, us) => {
            let sign = if *neg { "-" } else { "" };
            let hours = u64::from(*days) * 24 + u64::from(*h);
            if *us > 0 {
                write!(out, "'{sign}{hours:02}:{i:02}:{s:02}.{us:06}'").expect("writing to a Vec");
            } else {
                write!(out, "'{sign}{hours:02}:{i:02}:{s:02}'").expect("writing to a Vec");
            }
        }
        Value::Bytes(b) => match ty {
            ColumnType::MYSQL_TYPE_TIMESTAMP2 => push_epoch(
                out,
                std::str::from_utf8(b).map_err(|_| format!("column {}: a TIMESTAMP that is not a number", col.name))?,
            ),
            ColumnType::MYSQL_TYPE_NEWDECIMAL | ColumnType::MYSQL_TYPE_DECIMAL => {
                if !b.iter().all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'.')) {
                    return Err(format!("column {}: a DECIMAL that is not a number", col.name));
                }
                out.extend_from_slice(b);
            }
            // A SET is its members' bit mask, a BIT its bits, little- and big-endian.
            ColumnType::MYSQL_TYPE_SET => {
                let mask = b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
                write!(out, "{mask}").expect("writing to a Vec");
            }
            ColumnType::MYSQL_TYPE_BIT => {
                let bits = b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
                write!(out, "{bits}").expect("writing to a Vec");
            }
            ColumnType::MYSQL_TYPE_YEAR if b.iter().all(u8::is_ascii_digit) => out.extend_from_slice(b),
            _ => match &col.charset {
                Some(cs) if cs != "binary" && cs.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') => {
                    if exact {
                        out.extend_from_slice(b"BINARY ");
                    }
                    out.push(b'_');
                    out.extend_from_slice(cs.as_bytes());
                    push_quoted(out, b);
                }
                _ => push_hex(out, b),
            },
        },
    }
    Ok(())
}

/// A TIMESTAMP from its epoch seconds (`secs` or `secs.micros`); zero is the zero date.
fn push_epoch(out: &mut Vec<u8>, secs: &str) {
    if secs == "0" {
        out.extend_from_slice(b"'0000-00-00 00:00:00'");
    } else {
        out.extend_from_slice(b"FROM_UNIXTIME(");
        out.extend_from_slice(secs.as_bytes());
        out.push(b')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, data_type: &str, unsigned: bool, charset: Option<&str>) -> ColumnDescription {
        ColumnDescription {
            name: name.into(),
            data_type: data_type.into(),
            column_type: data_type.into(),
            unsigned,
            charset: charset.map(Into::into),
            generated: false,
        }
    }

    fn text(out: &[u8]) -> String {
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn keyed_and_keyless_rows_become_statements() {
        let keyed = TableDescription {
            columns: vec![col("id", "int", true, None), col("v", "varchar", false, Some("utf8mb4"))],
            key: Some(vec![0]),
        };
        let types = [ColumnType::MYSQL_TYPE_LONG, ColumnType::MYSQL_TYPE_VARCHAR];
        let row = |id: i64, v: &str| vec![Value::Int(id), Value::Bytes(v.as_bytes().to_vec())];
        let mut out = Vec::new();
        let mut affected = Vec::new();
        let inserts = [
            RowChange { before: None, after: Some(row(-1, "a'b")) },
            RowChange { before: None, after: Some(row(2, "")) },
        ];
        push_rows(&mut out, &mut affected, "`d`.`t`", &keyed, RowKind::Insert, &types, &inserts).unwrap();
        assert_eq!(text(&out), "INSERT INTO `d`.`t` (`id`,`v`) VALUES (4294967295,_utf8mb4'a\\'b'),(2,_utf8mb4'');\n");
        out.clear();
        let update = [RowChange { before: Some(row(1, "x")), after: Some(row(5, "y")) }];
        push_rows(&mut out, &mut affected, "`d`.`t`", &keyed, RowKind::Update, &types, &update).unwrap();
        assert_eq!(text(&out), "UPDATE `d`.`t` SET `id`=5,`v`=_utf8mb4'y' WHERE `id`=1 LIMIT 1;\n");
        out.clear();
        let deletes = [
            RowChange { before: Some(row(1, "x")), after: None },
            RowChange { before: Some(row(3, "z")), after: None },
        ];
        push_rows(&mut out, &mut affected, "`d`.`t`", &keyed, RowKind::Delete, &types, &deletes).unwrap();
        assert_eq!(text(&out), "DELETE FROM `d`.`t` WHERE `id` IN (1,3);\n");
        out.clear();
        let keyless = TableDescription { key: None, ..keyed };
        push_rows(&mut out, &mut affected, "`d`.`t`", &keyless, RowKind::Delete, &types, &deletes[..1]).unwrap();
        assert_eq!(text(&out), "DELETE FROM `d`.`t` WHERE `id`<=>1 AND `v`<=>BINARY _utf8mb4'x' LIMIT 1;\n");
        assert_eq!(affected, [2, 1, 2, 1], "what each statement must affect");
    }

    #[test]
    fn values_keep_their_meaning() {
        let mut out = Vec::new();
        let c = |t: &str| col("c", t, false, None);
        push_value(
            &mut out,
            &Value::Bytes(b"1700000000.250000".to_vec()),
            ColumnType::MYSQL_TYPE_TIMESTAMP2,
            &c("timestamp"),
            false,
        )
        .unwrap();
        out.push(b' ');
        push_value(&mut out, &Value::Bytes(b"0".to_vec()), ColumnType::MYSQL_TYPE_TIMESTAMP2, &c("timestamp"), false)
            .unwrap();
        out.push(b' ');
        push_value(&mut out, &Value::Bytes(vec![5, 0]), ColumnType::MYSQL_TYPE_SET, &c("set"), false).unwrap();
        out.push(b' ');
        push_value(&mut out, &Value::Bytes(vec![1, 2]), ColumnType::MYSQL_TYPE_BIT, &c("bit"), false).unwrap();
        out.push(b' ');
        push_value(&mut out, &Value::Bytes(vec![0, 0xff]), ColumnType::MYSQL_TYPE_BLOB, &c("blob"), false).unwrap();
        out.push(b' ');
        push_value(&mut out, &Value::Double(0.1), ColumnType::MYSQL_TYPE_DOUBLE, &c("double"), false).unwrap();
        out.push(b' ');
        push_value(&mut out, &Value::Float(0.1), ColumnType::MYSQL_TYPE_FLOAT, &c("float"), true).unwrap();
        out.push(b' ');
        push_value(&mut out, &Value::Date(2026, 12, 1, 0, 0, 0, 0), ColumnType::MYSQL_TYPE_DATE, &c("date"), false)
            .unwrap();
        out.push(b' ');
        push_value(&mut out, &Value::Time(true, 1, 2, 3, 4, 5), ColumnType::MYSQL_TYPE_TIME2, &c("time"), false)
            .unwrap();
        out.push(b' ');
        push_value(&mut out, &Value::Int(-1), ColumnType::MYSQL_TYPE_LONGLONG, &col("c", "bigint", true, None), false)
            .unwrap();
        assert_eq!(
            text(&out),
            "FROM_UNIXTIME(1700000000.250000) '0000-00-00 00:00:00' 5 258 0x00ff 1e-1 CAST(1e-1 AS FLOAT) '2026-12-01' \
             '-26:03:04.000005' 18446744073709551615"
        );
    }
}
