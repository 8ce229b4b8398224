//! Each row's content hash, computed by hoist from the values it reads in the snapshot, with
//! the function an import's verification uses ([`crate::content_hash`]): the binary protocol's
//! values are handed to it in the form the server prints them. The server's own expression
//! ([`crate::row_checksum`]), read with each row, cost the source about as much CPU again as
//! the read itself; it stays for a table with a column whose printed form the hasher does not
//! know (FLOAT(M,D), MySQL's JSON).

use std::borrow::Cow;

use mysql_async::Value as Wire;

use super::values::{PrintedRow, ValueKind};
use crate::content_hash::{Scratch, SourceSession, TableHasher, Unpredictable};
use crate::rows::Value;
use crate::target::TableDescription;

/// The row hash of one table's rows as a backup reads them: its stored columns, in order.
pub struct RowHasher {
    hasher: TableHasher,
    /// Strings read with `SET NAMES binary` (bytes as stored), TIMESTAMP in UTC.
    session: SourceSession,
    /// For each value read, its column in the table (generated columns are not read).
    map: Vec<usize>,
    scratch: Scratch,
}

impl RowHasher {
    /// The hasher of a table, or why its rows are hashed by the server instead.
    pub fn new(table: &TableDescription) -> Result<RowHasher, String> {
        let hasher = TableHasher::new(table, Some(0));
        if let Some(why) = hasher.unknown_column() {
            return Err(why);
        }
        Ok(RowHasher {
            hasher,
            session: SourceSession { charset: "binary".into(), utc_offset: Some(0) },
            map: (0..table.columns.len()).filter(|&i| !table.columns[i].generated).collect(),
            scratch: Scratch::default(),
        })
    }

    /// The hash of a row of the stored columns' values (of `kinds`, printed in `printed`), as
    /// the server's expression gives it.
    pub fn hash(&mut self, row: &[Wire], kinds: &[ValueKind], printed: &PrintedRow) -> Result<u32, Unpredictable> {
        let values: Vec<Value> = row
            .iter()
            .zip(kinds)
            .enumerate()
            .map(|(i, (value, kind))| match (value, kind) {
                (Wire::NULL, _) => Value::Null,
                (Wire::Bytes(bytes), ValueKind::Number) => Value::Number(bytes),
                (Wire::Bytes(bytes), _) => Value::Binary(Cow::Borrowed(bytes)),
                (Wire::Date(..) | Wire::Time(..), _) => Value::Text(Cow::Borrowed(printed.get(i))),
                _ => Value::Number(printed.get(i)),
            })
            .collect();
        self.hasher.row_hash(&self.session, &self.map, &values, &mut self.scratch)
    }
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
        let kinds: Vec<ValueKind> =
            table.columns.iter().map(|c| super::super::values::kind_of(&c.data_type, &c.column_type)).collect();
        let mut printed = PrintedRow::default();
        printed.fill(row, &kinds);
        RowHasher::new(table).unwrap().hash(row, &kinds, &printed).unwrap()
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
