//! How rows become bytes for the MySQL family: a multi-row INSERT (SQL tuples the parser
//! validated pass through unchanged) or a LOAD DATA stream (tab-separated, with the escapes
//! its statement declares). Both record where each row ends, so a rejected batch can be
//! replayed row by row to name the row.

use hoist_parse::sql::{decode_literal, LiteralKind, Value};
use hoist_schema::quote_mysql_ident as q;

use super::{BatchEncoder, ColumnClass, EncodeError, EncodedRows, SourceRow, TableTarget};
use crate::config::ConflictStrategy;
use crate::sql_literal::push_quoted;

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
    fn push(&mut self, row: &SourceRow<'_>) -> Result<(), EncodeError> {
        if self.rows > 0 {
            self.buf.push(b',');
        }
        match row {
            SourceRow::Sql { raw, .. } => self.buf.extend_from_slice(raw),
            SourceRow::Csv(record) => {
                self.buf.push(b'(');
                for (i, field) in record.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b',');
                    }
                    match field {
                        None => self.buf.extend_from_slice(b"NULL"),
                        Some(v) => push_quoted(&mut self.buf, v),
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

    fn field(
        &mut self,
        literal: &[u8],
        kind: LiteralKind,
        class: ColumnClass,
        options: hoist_parse::sql::SqlOptions,
    ) -> Result<(), EncodeError> {
        if kind == LiteralKind::String && !options.no_backslash_escapes {
            if let Some(content) = verbatim_string_content(literal) {
                push_escaped_with(&mut self.buf, content, true);
                return Ok(());
            }
        }
        match decode_literal(literal, kind, options) {
            Value::Null => self.buf.extend_from_slice(b"\\N"),
            Value::Number(text) => self.buf.extend_from_slice(text),
            Value::UInt(n) => self.buf.extend_from_slice(n.to_string().as_bytes()),
            // A hex literal in a numeric column is a number, as in an INSERT.
            Value::Bytes(bytes) if kind == LiteralKind::Hex && class == ColumnClass::Numeric => {
                if bytes.len() > 8 {
                    return Err(EncodeError::NeedsInsert);
                }
                let n = bytes.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
                self.buf.extend_from_slice(n.to_string().as_bytes());
            }
            // A hex literal is a binary string: INSERT stores its bytes in a text column
            // unconverted, which a stream in the dump's character set cannot say.
            Value::Bytes(_) if kind == LiteralKind::Hex && class == ColumnClass::Text => {
                return Err(EncodeError::NeedsInsert)
            }
            Value::Bytes(bytes) => push_escaped(&mut self.buf, &bytes),
        }
        Ok(())
    }
}

/// Escape a field for `FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'`:
/// TAB, LF, CR, NUL and (unless `keep_backslashes`) the backslash. Most values hold none of
/// them, so the scan jumps from one candidate to the next with memchr.
fn push_escaped_with(out: &mut Vec<u8>, mut value: &[u8], keep_backslashes: bool) {
    loop {
        let control = memchr::memchr3(b'\t', b'\n', b'\r', value);
        let other = if keep_backslashes { memchr::memchr(0, value) } else { memchr::memchr2(b'\\', 0, value) };
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

fn push_escaped(out: &mut Vec<u8>, value: &[u8]) {
    push_escaped_with(out, value, false)
}

/// The content of a plain SQL string literal when it can go into the stream as written: its
/// backslash escapes (`\n`, `\t`, `\'`, `\\`, ...) mean the same to LOAD DATA, so only raw
/// TAB, LF, CR and NUL need escaping. Not when the content holds its quote (doubled, `''`), or
/// `\N` (a NULL to LOAD DATA), `\%` or `\_` (which keep their backslash in SQL).
fn verbatim_string_content(literal: &[u8]) -> Option<&[u8]> {
    let quote = *literal.first()?;
    if quote != b'\'' && quote != b'"' || literal.len() < 2 || literal.last() != Some(&quote) {
        return None;
    }
    let content = &literal[1..literal.len() - 1];
    let mut rest = content;
    while let Some(i) = memchr::memchr2(b'\\', quote, rest) {
        if rest[i] == quote {
            return None; // a doubled quote
        }
        match rest.get(i + 1) {
            Some(b'N' | b'%' | b'_') | None => return None,
            Some(_) => rest = &rest[i + 2..],
        }
    }
    Some(content)
}

impl BatchEncoder for LoadDataEncoder {
    fn push(&mut self, row: &SourceRow<'_>) -> Result<(), EncodeError> {
        match row {
            SourceRow::Sql { raw, fields, options } => {
                let start = self.buf.len();
                for (i, lit) in fields.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b'\t');
                    }
                    let text = raw
                        .get(lit.start..lit.end)
                        .ok_or_else(|| EncodeError::Invalid("literal outside its row".into()))?;
                    let class = self.classes.get(i).copied().unwrap_or(ColumnClass::Text);
                    if let Err(e) = self.field(text, lit.kind, class, *options) {
                        self.buf.truncate(start);
                        return Err(e);
                    }
                }
            }
            SourceRow::Csv(record) => {
                for (i, field) in record.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b'\t');
                    }
                    match field {
                        None => self.buf.extend_from_slice(b"\\N"),
                        Some(v) => push_escaped(&mut self.buf, v),
                    }
                }
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
    fn sql_strings_pass_through_when_their_escapes_mean_the_same() {
        // (literal, what LOAD DATA receives); the decode path gives the same field value.
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"'plain'", Some(b"plain")),
            (b"'it\\'s \\n \\\\ \\0'", Some(b"it\\'s \\n \\\\ \\0")),
            (b"\"dq \\\" x\"", Some(b"dq \\\" x")),
            (b"'raw\ttab'", Some(b"raw\ttab")),
            (b"'it''s'", None),
            (b"'\\N'", None),
            (b"'50\\%'", None),
            (b"'a\\_b'", None),
            (b"_binary'x'", None),
            (b"0x41", None),
        ];
        for (literal, want) in cases {
            assert_eq!(verbatim_string_content(literal), *want, "{}", String::from_utf8_lossy(literal));
        }
        let mut out = Vec::new();
        push_escaped_with(&mut out, b"raw\ttab \\n kept", true);
        assert_eq!(out, b"raw\\ttab \\n kept");
    }

    #[test]
    fn load_data_fields_are_escaped_exactly() {
        let mut out = Vec::new();
        push_escaped(&mut out, b"tab\there\\N new\nline\r\0end  ");
        assert_eq!(out, b"tab\\there\\\\N new\\nline\\r\\0end  ");
    }
}
