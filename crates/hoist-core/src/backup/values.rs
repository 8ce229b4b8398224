//! Values read from the server (binary protocol) written back as SQL literals that give the
//! same value when a dump is loaded: integers and DECIMAL as digits, FLOAT and DOUBLE with the
//! shortest digits that read back as the same number (ryu), BIT and spatial values as hex, strings
//! and binary data (BLOB, BINARY) as quoted bytes, which the files' SET NAMES binary keeps as
//! they are (half the size of hex, which mydumper's output showed),
//! dates and times as the server prints them (TIMESTAMP in UTC: the files say TIME_ZONE UTC).

use mysql_async::Value;

use crate::data_type::{type_width, TypeClass};
use crate::sql_literal::{push_hex, push_quoted};

/// How a column's values are written, from information_schema's DATA_TYPE and COLUMN_TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Number,
    Text,
    Binary,
    Date,
    /// DATETIME and TIMESTAMP, with the column's fractional digits.
    DateTime(usize),
    Time(usize),
}

pub fn kind_of(data_type: &str, column_type: &str) -> ValueKind {
    let fsp = || type_width(column_type).unwrap_or(0);
    match TypeClass::of(data_type) {
        t if t.is_numeric() => ValueKind::Number,
        // BIT takes a number or bits, not a string; spatial values are the server's own format.
        TypeClass::Bit | TypeClass::Spatial => ValueKind::Binary,
        TypeClass::Date => ValueKind::Date,
        TypeClass::DateTime => ValueKind::DateTime(fsp()),
        TypeClass::Time => ValueKind::Time(fsp()),
        _ => ValueKind::Text,
    }
}

/// One row's values as text, each printed once for both the file and the row hash: integers
/// as digits, FLOAT and DOUBLE with the shortest digits that read back as the same number (a
/// FLOAT through its exact f64: the server parses a literal as a DOUBLE and refuses one above
/// FLOAT's range, which f32's own shortest digits, 3.4028235e38 for the largest, may be),
/// dates and times as the server prints them at the column's precision. Values the server
/// sends as bytes (strings, DECIMAL) are used where they are and print nothing here.
#[derive(Debug, Default)]
pub struct PrintedRow {
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl PrintedRow {
    pub fn fill(&mut self, row: &[Value], kinds: &[ValueKind]) {
        self.text.clear();
        self.ends.clear();
        for (value, kind) in row.iter().zip(kinds) {
            print(&mut self.text, *kind, value);
            self.ends.push(self.text.len());
        }
    }

    /// The printed text of value `i`.
    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

fn print(out: &mut Vec<u8>, kind: ValueKind, value: &Value) {
    match (value, kind) {
        (Value::Int(i), _) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        (Value::UInt(u), _) => out.extend_from_slice(itoa::Buffer::new().format(*u).as_bytes()),
        (Value::Float(f), _) => out.extend_from_slice(ryu::Buffer::new().format(f64::from(*f)).as_bytes()),
        (Value::Double(d), _) => out.extend_from_slice(ryu::Buffer::new().format(*d).as_bytes()),
        (Value::Date(y, m, d, h, i, s, us), kind) => {
            digits(out, u32::from(*y), 4);
            out.push(b'-');
            digits(out, u32::from(*m), 2);
            out.push(b'-');
            digits(out, u32::from(*d), 2);
            if let ValueKind::DateTime(fsp) = kind {
                out.push(b' ');
                clock(out, u32::from(*h), *i, *s, *us, fsp);
            }
        }
        (Value::Time(negative, days, h, i, s, us), kind) => {
            if *negative {
                out.push(b'-');
            }
            let fsp = if let ValueKind::Time(fsp) = kind { fsp } else { 6 };
            clock(out, days * 24 + u32::from(*h), *i, *s, *us, fsp);
        }
        (Value::NULL | Value::Bytes(_), _) => {}
    }
}

/// `hh:mm:ss` and `.` with `fsp` digits of the microseconds (all six if the value holds more
/// than the column's precision, which the server never sends).
fn clock(out: &mut Vec<u8>, hours: u32, minutes: u8, seconds: u8, micros: u32, fsp: usize) {
    digits(out, hours, 2);
    out.push(b':');
    digits(out, u32::from(minutes), 2);
    out.push(b':');
    digits(out, u32::from(seconds), 2);
    let fsp = fsp.min(6);
    let fsp = if micros.is_multiple_of(10u32.pow(6 - fsp as u32)) { fsp } else { 6 };
    if fsp > 0 {
        out.push(b'.');
        digits(out, micros / 10u32.pow(6 - fsp as u32), fsp);
    }
}

/// `n` in decimal, zero-padded to at least `width` digits.
fn digits(out: &mut Vec<u8>, n: u32, width: usize) {
    let mut buf = itoa::Buffer::new();
    let text = buf.format(n);
    out.extend(std::iter::repeat_n(b'0', width.saturating_sub(text.len())));
    out.extend_from_slice(text.as_bytes());
}

/// Append `value` as a literal of a column of `kind`, given its [`PrintedRow`] text.
pub fn push_value(out: &mut Vec<u8>, kind: ValueKind, value: &Value, printed: &[u8]) {
    match value {
        Value::NULL => out.extend_from_slice(b"NULL"),
        Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Double(_) => out.extend_from_slice(printed),
        Value::Bytes(bytes) => match kind {
            ValueKind::Number => out.extend_from_slice(bytes),
            ValueKind::Binary => push_hex(out, bytes),
            _ => push_quoted(out, bytes),
        },
        Value::Date(..) | Value::Time(..) => {
            out.push(b'\'');
            out.extend_from_slice(printed);
            out.push(b'\'');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(kind: ValueKind, v: Value) -> String {
        let mut printed = PrintedRow::default();
        printed.fill(std::slice::from_ref(&v), &[kind]);
        let mut out = Vec::new();
        push_value(&mut out, kind, &v, printed.get(0));
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn each_value_is_written_as_a_literal_that_reads_back_the_same() {
        use ValueKind::*;
        assert_eq!(lit(Number, Value::NULL), "NULL");
        assert_eq!(lit(Number, Value::Int(-9223372036854775808)), "-9223372036854775808");
        assert_eq!(lit(Number, Value::UInt(18446744073709551615)), "18446744073709551615");
        assert_eq!(lit(Number, Value::Float(f32::MAX)), "3.4028234663852886e38");
        assert_eq!(lit(Number, Value::Float(0.5)), "0.5");
        assert_eq!(lit(Number, Value::Double(f64::MAX)), "1.7976931348623157e308");
        assert_eq!(lit(Number, Value::Double(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(lit(Number, Value::Double(5e-324)), "5e-324");
        assert_eq!(lit(Number, Value::Bytes(b"-12.500".to_vec())), "-12.500");
        assert_eq!(lit(Binary, Value::Bytes(vec![0, 255])), "0x00ff");
        assert_eq!(lit(Binary, Value::Bytes(vec![])), "''");
        assert_eq!(lit(Text, Value::Bytes(b"it's \\ \0".to_vec())), "'it\\'s \\\\ \\0'");
        assert_eq!(lit(Date, Value::Date(0, 0, 0, 0, 0, 0, 0)), "'0000-00-00'");
        assert_eq!(lit(DateTime(0), Value::Date(2026, 12, 1, 23, 5, 9, 0)), "'2026-12-01 23:05:09'");
        assert_eq!(lit(DateTime(6), Value::Date(2026, 12, 1, 23, 5, 9, 120)), "'2026-12-01 23:05:09.000120'");
        assert_eq!(lit(DateTime(3), Value::Date(2026, 12, 1, 23, 5, 9, 120_000)), "'2026-12-01 23:05:09.120'");
        assert_eq!(lit(DateTime(2), Value::Date(2026, 12, 1, 0, 0, 0, 0)), "'2026-12-01 00:00:00.00'");
        // More digits than the column holds (never sent): none is lost.
        assert_eq!(lit(DateTime(0), Value::Date(2026, 12, 1, 0, 0, 0, 5)), "'2026-12-01 00:00:00.000005'");
        assert_eq!(lit(Time(0), Value::Time(true, 34, 22, 59, 59, 0)), "'-838:59:59'");
        assert_eq!(lit(Time(6), Value::Time(false, 0, 1, 2, 3, 500000)), "'01:02:03.500000'");
        assert_eq!(lit(Time(2), Value::Time(false, 0, 1, 2, 3, 500000)), "'01:02:03.50'");
    }

    #[test]
    fn kinds_follow_the_data_type() {
        assert_eq!(kind_of("DECIMAL", "decimal(5,2)"), ValueKind::Number);
        assert_eq!(kind_of("bit", "bit(3)"), ValueKind::Binary);
        assert_eq!(kind_of("longblob", "longblob"), ValueKind::Text);
        assert_eq!(kind_of("point", "point"), ValueKind::Binary);
        assert_eq!(kind_of("json", "longtext"), ValueKind::Text);
        assert_eq!(kind_of("enum", "enum('a')"), ValueKind::Text);
        assert_eq!(kind_of("timestamp", "timestamp(3)"), ValueKind::DateTime(3));
        assert_eq!(kind_of("datetime", "datetime"), ValueKind::DateTime(0));
        assert_eq!(kind_of("time", "time(2)"), ValueKind::Time(2));
    }
}
