//! Values read from the server (binary protocol) written back as SQL literals that give the
//! same value when a dump is loaded: integers and DECIMAL as digits, FLOAT and DOUBLE with the
//! shortest digits that read back as the same number, BIT and spatial values as hex, strings
//! and binary data (BLOB, BINARY) as quoted bytes, which the files' SET NAMES binary keeps as
//! they are (half the size of hex, which mydumper's output showed),
//! dates and times as the server prints them (TIMESTAMP in UTC: the files say TIME_ZONE UTC).

use std::io::Write;

use mysql_async::Value;

use crate::data_type::TypeClass;
use crate::sql_literal::{push_hex, push_quoted};

/// How a column's values are written, from information_schema's DATA_TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Number,
    Text,
    Binary,
    Date,
    DateTime,
    Time,
}

pub fn kind_of(data_type: &str) -> ValueKind {
    match TypeClass::of(data_type) {
        t if t.is_numeric() => ValueKind::Number,
        // BIT takes a number or bits, not a string; spatial values are the server's own format.
        TypeClass::Bit | TypeClass::Spatial => ValueKind::Binary,
        TypeClass::Date => ValueKind::Date,
        TypeClass::DateTime => ValueKind::DateTime,
        TypeClass::Time => ValueKind::Time,
        _ => ValueKind::Text,
    }
}

/// Append `value` as a literal of a column of `kind`.
pub fn push_value(out: &mut Vec<u8>, kind: ValueKind, value: &Value) {
    match value {
        Value::NULL => out.extend_from_slice(b"NULL"),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        // `{:e}` prints the shortest digits that parse back to the same f64. A FLOAT goes
        // through its exact f64: the server parses a literal as a DOUBLE and refuses one above
        // FLOAT's range, which f32's own shortest digits (3.4028235e38 for the largest) may be.
        Value::Float(f) => {
            let _ = write!(out, "{:e}", f64::from(*f));
        }
        Value::Double(d) => {
            let _ = write!(out, "{d:e}");
        }
        Value::Bytes(bytes) => match kind {
            ValueKind::Number => out.extend_from_slice(bytes),
            ValueKind::Binary => push_hex(out, bytes),
            _ => push_quoted(out, bytes),
        },
        Value::Date(y, m, d, h, i, s, us) => {
            let _ = match kind {
                ValueKind::Date => write!(out, "'{y:04}-{m:02}-{d:02}'"),
                _ if *us > 0 => write!(out, "'{y:04}-{m:02}-{d:02} {h:02}:{i:02}:{s:02}.{us:06}'"),
                _ => write!(out, "'{y:04}-{m:02}-{d:02} {h:02}:{i:02}:{s:02}'"),
            };
        }
        Value::Time(negative, days, h, i, s, us) => {
            let sign = if *negative { "-" } else { "" };
            let hours = u64::from(*days) * 24 + u64::from(*h);
            let _ = if *us > 0 {
                write!(out, "'{sign}{hours:02}:{i:02}:{s:02}.{us:06}'")
            } else {
                write!(out, "'{sign}{hours:02}:{i:02}:{s:02}'")
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(kind: ValueKind, v: Value) -> String {
        let mut out = Vec::new();
        push_value(&mut out, kind, &v);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn each_value_is_written_as_a_literal_that_reads_back_the_same() {
        use ValueKind::*;
        assert_eq!(lit(Number, Value::NULL), "NULL");
        assert_eq!(lit(Number, Value::Int(-9223372036854775808)), "-9223372036854775808");
        assert_eq!(lit(Number, Value::UInt(18446744073709551615)), "18446744073709551615");
        assert_eq!(lit(Number, Value::Float(f32::MAX)), "3.4028234663852886e38");
        assert_eq!(lit(Number, Value::Float(0.5)), "5e-1");
        assert_eq!(lit(Number, Value::Double(f64::MAX)), "1.7976931348623157e308");
        assert_eq!(lit(Number, Value::Double(0.1)), "1e-1");
        assert_eq!(lit(Number, Value::Bytes(b"-12.500".to_vec())), "-12.500");
        assert_eq!(lit(Binary, Value::Bytes(vec![0, 255])), "0x00ff");
        assert_eq!(lit(Binary, Value::Bytes(vec![])), "''");
        assert_eq!(lit(Text, Value::Bytes(b"it's \\ \0".to_vec())), "'it\\'s \\\\ \\0'");
        assert_eq!(lit(Date, Value::Date(0, 0, 0, 0, 0, 0, 0)), "'0000-00-00'");
        assert_eq!(lit(DateTime, Value::Date(2026, 12, 1, 23, 5, 9, 0)), "'2026-12-01 23:05:09'");
        assert_eq!(lit(DateTime, Value::Date(2026, 12, 1, 23, 5, 9, 120)), "'2026-12-01 23:05:09.000120'");
        assert_eq!(lit(Time, Value::Time(true, 34, 22, 59, 59, 0)), "'-838:59:59'");
        assert_eq!(lit(Time, Value::Time(false, 0, 1, 2, 3, 500000)), "'01:02:03.500000'");
    }

    #[test]
    fn kinds_follow_the_data_type() {
        assert_eq!(kind_of("DECIMAL"), ValueKind::Number);
        assert_eq!(kind_of("bit"), ValueKind::Binary);
        assert_eq!(kind_of("longblob"), ValueKind::Text);
        assert_eq!(kind_of("point"), ValueKind::Binary);
        assert_eq!(kind_of("json"), ValueKind::Text);
        assert_eq!(kind_of("enum"), ValueKind::Text);
        assert_eq!(kind_of("timestamp"), ValueKind::DateTime);
    }
}
