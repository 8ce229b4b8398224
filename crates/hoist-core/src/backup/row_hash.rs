//! Each row's content hash, computed by hoist from the values it reads in the snapshot, with
//! the function an import's verification uses ([`crate::content_hash`]): the binary protocol's
//! values are handed to it in the form the server prints them. The server's own expression
//! ([`crate::row_checksum`]), read with each row, cost the source about as much CPU again as
//! the read itself; it stays for a table with a column whose printed form the hasher does not
//! know (FLOAT(M,D), MySQL's JSON).

use std::borrow::Cow;
use std::io::Write as _;

use mysql_async::Value as Wire;

use crate::content_hash::{Scratch, SourceSession, TableHasher, Unpredictable};
use crate::data_type::TypeClass;
use crate::rows::Value;
use crate::target::TableDescription;

/// How a stored column's wire values become the hasher's.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// DECIMAL and the other numbers the server sends as text; integers and floats come as
    /// numbers whatever the column.
    Number,
    /// Strings, binary strings, BIT, ENUM, SET, spatial values: bytes as stored (the session
    /// reads them with `SET NAMES binary`).
    Bytes,
    Date,
    /// DATETIME and TIMESTAMP (the session's time zone is UTC) with their fractional digits.
    DateTime(usize),
    Time(usize),
}

/// The row hash of one table's rows as a backup reads them: its stored columns, in order.
pub struct RowHasher {
    hasher: TableHasher,
    session: SourceSession,
    /// For each value read, its column in the table (generated columns are not read).
    map: Vec<usize>,
    shapes: Vec<Shape>,
    /// The printed forms of this row's numbers, dates and times, and where each is in it.
    printed: Vec<u8>,
    spans: Vec<(usize, usize)>,
    scratch: Scratch,
}

impl RowHasher {
    /// The hasher of a table, or why its rows are hashed by the server instead.
    pub fn new(table: &TableDescription) -> Result<RowHasher, String> {
        let hasher = TableHasher::new(table, Some(0));
        if let Some(why) = hasher.unknown_column() {
            return Err(why);
        }
        let stored: Vec<usize> = (0..table.columns.len()).filter(|&i| !table.columns[i].generated).collect();
        let shapes = stored.iter().map(|&i| shape_of(&table.columns[i].data_type, &table.columns[i].column_type));
        Ok(RowHasher {
            hasher,
            session: SourceSession { charset: "binary".into(), utc_offset: Some(0) },
            shapes: shapes.collect(),
            map: stored,
            printed: Vec::new(),
            spans: Vec::new(),
            scratch: Scratch::default(),
        })
    }

    /// The hash of a row of the stored columns' values, as the server's expression gives it.
    pub fn hash(&mut self, row: &[Wire]) -> Result<u32, Unpredictable> {
        self.printed.clear();
        self.spans.clear();
        for (value, shape) in row.iter().zip(&self.shapes) {
            let start = self.printed.len();
            print(&mut self.printed, *shape, value);
            self.spans.push((start, self.printed.len()));
        }
        let values: Vec<Value> = row
            .iter()
            .zip(&self.shapes)
            .zip(&self.spans)
            .map(|((value, shape), &(a, b))| {
                let printed = &self.printed[a..b];
                match (value, shape) {
                    (Wire::NULL, _) => Value::Null,
                    (Wire::Bytes(bytes), Shape::Bytes) => Value::Binary(Cow::Borrowed(bytes)),
                    (Wire::Bytes(bytes), _) => Value::Number(bytes),
                    (Wire::Date(..) | Wire::Time(..), _) => Value::Text(Cow::Borrowed(printed)),
                    _ => Value::Number(printed),
                }
            })
            .collect();
        self.hasher.row_hash(&self.session, &self.map, &values, &mut self.scratch)
    }
}

fn shape_of(data_type: &str, column_type: &str) -> Shape {
    let fsp = || column_type.split_once('(').and_then(|(_, r)| r.trim_end_matches(')').parse().ok()).unwrap_or(0);
    match TypeClass::of(data_type) {
        TypeClass::Date => Shape::Date,
        TypeClass::DateTime => Shape::DateTime(fsp()),
        TypeClass::Time => Shape::Time(fsp()),
        t if t.is_numeric() => Shape::Number,
        _ => Shape::Bytes,
    }
}

/// Numbers as digits (floats with the shortest digits that read back the same: the hasher
/// prints them as the server does), dates and times as the server prints them at the
/// column's precision. Bytes are used where they are, so print nothing.
fn print(out: &mut Vec<u8>, shape: Shape, value: &Wire) {
    let _ = match (value, shape) {
        (Wire::Int(i), _) => write!(out, "{i}"),
        (Wire::UInt(u), _) => write!(out, "{u}"),
        (Wire::Float(f), _) => write!(out, "{:e}", f64::from(*f)),
        (Wire::Double(d), _) => write!(out, "{d:e}"),
        (Wire::Date(y, m, d, ..), Shape::Date) => write!(out, "{y:04}-{m:02}-{d:02}"),
        (Wire::Date(y, m, d, h, i, s, us), shape) => {
            let fsp = if let Shape::DateTime(fsp) = shape { fsp } else { 0 };
            let _ = write!(out, "{y:04}-{m:02}-{d:02} {h:02}:{i:02}:{s:02}");
            fraction(out, *us, fsp)
        }
        (Wire::Time(negative, days, h, i, s, us), shape) => {
            let fsp = if let Shape::Time(fsp) = shape { fsp } else { 0 };
            let hours = u64::from(*days) * 24 + u64::from(*h);
            let _ = write!(out, "{}{hours:02}:{i:02}:{s:02}", if *negative { "-" } else { "" });
            fraction(out, *us, fsp)
        }
        (Wire::NULL | Wire::Bytes(_), _) => Ok(()),
    };
}

/// `.` and the first `fsp` of the six digits of `micros`, as a column of that precision prints.
fn fraction(out: &mut Vec<u8>, micros: u32, fsp: usize) -> std::io::Result<()> {
    if fsp == 0 {
        return Ok(());
    }
    let digits = format!("{micros:06}");
    write!(out, ".{}", &digits[..fsp.min(6)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::ColumnDescription;

    fn table(columns: &[(&str, &str)]) -> TableDescription {
        let columns = columns
            .iter()
            .map(|(data_type, column_type)| ColumnDescription {
                name: format!("c_{data_type}"),
                data_type: data_type.to_string(),
                column_type: column_type.to_string(),
                unsigned: false,
                charset: matches!(*data_type, "varchar" | "char" | "enum").then(|| "utf8mb4".into()),
                generated: false,
            })
            .collect();
        TableDescription { columns, key: None }
    }

    fn hash(table: &TableDescription, row: &[Wire]) -> u32 {
        RowHasher::new(table).unwrap().hash(row).unwrap()
    }

    #[test]
    fn wire_values_hash_as_the_server_prints_them() {
        let t = table(&[
            ("int", "int(11)"),
            ("decimal", "decimal(6,2)"),
            ("double", "double"),
            ("float", "float"),
            ("varchar", "varchar(10)"),
            ("datetime", "datetime(3)"),
            ("time", "time(2)"),
            ("date", "date"),
            ("year", "year(4)"),
            ("enum", "enum('a','Bc')"),
        ]);
        let row = [
            Wire::Int(-7),
            Wire::Bytes(b"12.50".to_vec()),
            Wire::Double(0.1 + 0.2),
            Wire::Float(0.5),
            Wire::Bytes("é,x".as_bytes().to_vec()),
            Wire::Date(2026, 12, 1, 23, 5, 9, 120_000),
            Wire::Time(true, 1, 2, 3, 4, 500_000),
            Wire::Date(2026, 1, 2, 0, 0, 0, 0),
            Wire::Int(0),
            Wire::Bytes(b"Bc".to_vec()),
        ];
        let printed =
            "-7,12.50,0.30000000000000004,0.5,4:é,x,2026-12-01 23:05:09.120,-26:03:04.50,2026-01-02,0000,2:Bc";
        assert_eq!(hash(&t, &row), crc32fast::hash(printed.as_bytes()));
        let nulls = vec![Wire::NULL; 10];
        assert_eq!(hash(&t, &nulls), crc32fast::hash(b"N,N,N,N,N,N,N,N,N,N"));
    }

    #[test]
    fn a_column_the_rules_do_not_know_leaves_the_hash_to_the_server() {
        let why = RowHasher::new(&table(&[("int", "int"), ("float", "float(7,2)")])).err().unwrap();
        assert!(why.contains("c_float"), "{why}");
    }
}
