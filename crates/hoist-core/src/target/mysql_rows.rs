//! How rows become bytes for the MySQL family: a multi-row INSERT (SQL tuples the parser
//! validated pass through unchanged) or a LOAD DATA stream (tab-separated, with the escapes
//! its statement declares). Both record where each row ends, so a rejected batch can be
//! replayed row by row to name the row.

use hoist_schema::quote_mysql_ident as q;

use super::{BatchEncoder, ColumnClass, EncodeError, EncodedRows, TableTarget};
use crate::config::ConflictStrategy;
use crate::rows::{Row, Value};
use crate::sql_literal::{push_hex, push_quoted};

/// Whether LOAD DATA gives exactly the rows INSERT would for these columns: it cannot fill a
/// BIT column from text, and spatial values are safer as INSERT literals.
pub fn load_data_fits(table: &TableTarget, columns: &[usize]) -> bool {
    columns.iter().all(|&i| !matches!(table.columns[i].class, ColumnClass::Bit | ColumnClass::Spatial))
}

/// `(`a`,`b`)`
fn column_list(table: &TableTarget, columns: &[usize]) -> String {
    let names: Vec<String> = columns.iter().map(|&i| q(&table.columns[i].name)).collect();
    format!("({})", names.join(","))
}

pub struct InsertEncoder {
    buf: Vec<u8>,
    prefix_len: usize,
    rows: u64,
    row_ends: Vec<usize>,
}

impl InsertEncoder {
    pub fn new(table: &TableTarget, columns: &[usize]) -> InsertEncoder {
        let verb = match table.conflict {
            ConflictStrategy::Error => "INSERT INTO",
            ConflictStrategy::Replace => "REPLACE INTO",
            ConflictStrategy::Ignore => "INSERT IGNORE INTO",
        };
        let names: Vec<String> = columns.iter().map(|&i| q(&table.columns[i].name)).collect();
        let prefix = format!("{verb} {}.{} ({}) VALUES ", q(&table.database), q(&table.name), names.join(","));
        let mut buf = Vec::with_capacity(prefix.len() + (1 << 20) + (64 << 10));
        buf.extend_from_slice(prefix.as_bytes());
        InsertEncoder { prefix_len: prefix.len(), buf, rows: 0, row_ends: Vec::new() }
    }
}

impl BatchEncoder for InsertEncoder {
    fn push(&mut self, row: &Row<'_>) -> Result<(), EncodeError> {
        if self.rows > 0 {
            self.buf.push(b',');
        }
        match row.sql {
            Some(raw) => self.buf.extend_from_slice(raw),
            None => {
                self.buf.push(b'(');
                for (i, value) in row.values.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b',');
                    }
                    match value {
                        Value::Null => self.buf.extend_from_slice(b"NULL"),
                        Value::Number(text) => self.buf.extend_from_slice(text),
                        Value::UInt(n) => self.buf.extend_from_slice(n.to_string().as_bytes()),
                        Value::Text(v) => push_quoted(&mut self.buf, v),
                        Value::Binary(v) => push_hex(&mut self.buf, v),
                    }
                }
                self.buf.push(b')');
            }
        }
        self.rows += 1;
        self.row_ends.push(self.buf.len());
        Ok(())
    }

    fn bytes(&self) -> usize {
        self.buf.len() - self.prefix_len
    }

    fn rows(&self) -> u64 {
        self.rows
    }

    fn take(&mut self) -> EncodedRows {
        let mut next = Vec::with_capacity(self.buf.capacity());
        next.extend_from_slice(&self.buf[..self.prefix_len]);
        self.rows = 0;
        EncodedRows::Statement {
            sql: std::mem::replace(&mut self.buf, next),
            prefix: self.prefix_len,
            row_ends: std::mem::take(&mut self.row_ends),
        }
    }
}

/// Rows as a LOAD DATA stream: fields separated by TAB, rows by LF, `\` escapes TAB, LF, CR,
/// NUL and itself, and `\N` is NULL.
pub struct LoadDataEncoder {
    buf: Vec<u8>,
    rows: u64,
    row_ends: Vec<usize>,
    /// Per field: the target column's class.
    classes: Vec<ColumnClass>,
    table: String,
    columns: String,
    conflict: ConflictStrategy,
}

impl LoadDataEncoder {
    pub fn new(table: &TableTarget, columns: &[usize]) -> LoadDataEncoder {
        LoadDataEncoder {
            // Capacity that is never written costs no memory: the pages stay untouched.
            buf: Vec::with_capacity((1 << 20) + (64 << 10)),
            rows: 0,
            row_ends: Vec::new(),
            classes: columns.iter().map(|&i| table.columns[i].class).collect(),
            table: format!("{}.{}", q(&table.database), q(&table.name)),
            columns: column_list(table, columns),
            conflict: table.conflict,
        }
    }

    fn field(&mut self, value: &Value<'_>, class: ColumnClass) -> Result<(), EncodeError> {
        match value {
            Value::Null => self.buf.extend_from_slice(b"\\N"),
            Value::Number(text) => self.buf.extend_from_slice(text),
            Value::UInt(n) => self.buf.extend_from_slice(n.to_string().as_bytes()),
            // A binary string in a numeric column is a number, as in an INSERT.
            Value::Binary(bytes) if class == ColumnClass::Numeric => {
                if bytes.len() > 8 {
                    return Err(EncodeError::NeedsInsert);
                }
                let n = bytes.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
                self.buf.extend_from_slice(n.to_string().as_bytes());
            }
            // INSERT stores a binary string's bytes in a text column unconverted, which a
            // stream in the dump's character set cannot say.
            Value::Binary(_) if class == ColumnClass::Text => return Err(EncodeError::NeedsInsert),
            Value::Text(bytes) | Value::Binary(bytes) => push_escaped(&mut self.buf, bytes),
        }
        Ok(())
    }
}

/// Escape a field for `FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'`:
/// TAB, LF, CR, NUL and the backslash. Most values hold none of them, so the scan jumps from
/// one candidate to the next with memchr.
fn push_escaped(out: &mut Vec<u8>, mut value: &[u8]) {
    loop {
        let control = memchr::memchr3(b'\t', b'\n', b'\r', value);
        let other = memchr::memchr2(b'\\', 0, value);
        let next = match (control, other) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                out.extend_from_slice(value);
                return;
            }
        };
        out.extend_from_slice(&value[..next]);
        out.extend_from_slice(match value[next] {
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            0 => b"\\0",
            _ => b"\\\\",
        });
        value = &value[next + 1..];
    }
}

impl BatchEncoder for LoadDataEncoder {
    fn push(&mut self, row: &Row<'_>) -> Result<(), EncodeError> {
        let start = self.buf.len();
        for (i, value) in row.values.iter().enumerate() {
            if i > 0 {
                self.buf.push(b'\t');
            }
            let class = self.classes.get(i).copied().unwrap_or(ColumnClass::Text);
            if let Err(e) = self.field(value, class) {
                self.buf.truncate(start);
                return Err(e);
            }
        }
        self.buf.push(b'\n');
        self.rows += 1;
        self.row_ends.push(self.buf.len());
        Ok(())
    }

    fn bytes(&self) -> usize {
        self.buf.len()
    }

    fn rows(&self) -> u64 {
        self.rows
    }

    fn take(&mut self) -> EncodedRows {
        self.rows = 0;
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity((1 << 20) + (64 << 10)));
        EncodedRows::LoadData {
            data: data.into(),
            row_ends: std::mem::take(&mut self.row_ends),
            table: self.table.clone(),
            columns: self.columns.clone(),
            conflict: self.conflict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_values_are_quoted_exactly() {
        let mut out = Vec::new();
        push_quoted(&mut out, b"a'b\\c\0d\ne\rf\x1ag\"h");
        assert_eq!(out, b"'a\\'b\\\\c\\0d\\ne\\rf\\Zg\"h'");
    }

    #[test]
    fn load_data_fields_are_escaped_exactly() {
        let mut out = Vec::new();
        push_escaped(&mut out, b"tab\there\\N new\nline\r\0end  ");
        assert_eq!(out, b"tab\\there\\\\N new\\nline\\r\\0end  ");
    }
}
