//! Order-independent row checksums.
//!
//! A row is a list of values, `None` for NULL and otherwise the bytes MariaDB
//! prints for the value in the text protocol (the *canonical* form). A row's
//! canonical encoding is, per value, a tag byte (0 NULL, 1 value), then for a
//! value its length as a little-endian u64 and its bytes. [`TableSum`] holds
//! the row count and the wrapping sum of a 64-bit hash of each encoded row, so
//! tables compare equal regardless of row order (tables without keys too), and
//! duplicate rows count as often as they occur.
//!
//! The readers convert what a target stores back into the canonical form by
//! the column's [`ColType`]: an SQLite REAL in a `DECIMAL(12,2)` column becomes
//! `"123.40"`, a DOUBLE becomes what MariaDB would print for it.

use std::path::Path;

use crate::dump::{ColType, ColumnSpec};
use crate::sync;

/// Row count and order-independent checksum of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TableSum {
    pub count: u64,
    pub checksum: u64,
}

impl TableSum {
    /// Add one row (canonical values).
    pub fn add(&mut self, row: &[Option<Vec<u8>>]) {
        self.count += 1;
        self.checksum = self.checksum.wrapping_add(row_hash(row));
    }
}

impl std::fmt::Display for TableSum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} rows, checksum {:016x}", self.count, self.checksum)
    }
}

/// Sum rows whose values are already canonical.
pub fn sum_rows(rows: impl IntoIterator<Item = Vec<Option<Vec<u8>>>>) -> TableSum {
    let mut sum = TableSum::default();
    for row in rows {
        sum.add(&row);
    }
    sum
}

/// 64-bit hash of a row's canonical encoding (FNV-1a, then a murmur3
/// finaliser so that the sum of hashes mixes well).
pub fn row_hash(row: &[Option<Vec<u8>>]) -> u64 {
    let mut h = Fnv::new();
    for value in row {
        match value {
            None => h.write(&[0]),
            Some(v) => {
                h.write(&[1]);
                h.write(&(v.len() as u64).to_le_bytes());
                h.write(v);
            }
        }
    }
    fmix64(h.0)
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// Read every row of `db`.`table` over the text protocol, canonicalise the
/// values by `columns` (read in that order, by name) and sum them.
/// Panics with the server's message on error.
pub fn mysql_table_sum(url: &str, db: &str, table: &str, columns: &[ColumnSpec]) -> TableSum {
    let sql = format!("SELECT {} FROM {}.{}", column_list(columns, '`'), quote(db, '`'), quote(table, '`'));
    let mut sum = TableSum::default();
    let result = sync::for_each_row(url, &sql, |row| {
        let row: Vec<_> = row.into_iter().zip(columns).map(|(v, c)| v.map(|v| canonical_text(&v, c.ty))).collect();
        sum.add(&row);
    });
    if let Err(e) = result {
        panic!("hoist-testkit: {sql} on {url} failed: {}", sync::describe(&e));
    }
    sum
}

/// Read every row of `table` from the SQLite file at `path`, convert the
/// values back to MariaDB's form by `columns`, and sum them.
pub fn sqlite_table_sum(path: &Path, table: &str, columns: &[ColumnSpec]) -> TableSum {
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("hoist-testkit: cannot open SQLite file {}: {e}", path.display()));
    let sql = format!("SELECT {} FROM {}", column_list(columns, '"'), quote(table, '"'));
    let fail = |e: rusqlite::Error| -> ! { panic!("hoist-testkit: {sql} on {} failed: {e}", path.display()) };
    let mut stmt = conn.prepare(&sql).unwrap_or_else(|e| fail(e));
    let mut rows = stmt.query([]).unwrap_or_else(|e| fail(e));
    let mut sum = TableSum::default();
    while let Some(row) = rows.next().unwrap_or_else(|e| fail(e)) {
        let mut values = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            let v = match row.get_ref(i).unwrap_or_else(|e| fail(e)) {
                ValueRef::Null => None,
                ValueRef::Integer(n) => Some(sqlite_integer(n, c.ty)),
                ValueRef::Real(f) => Some(sqlite_real(f, c.ty)),
                ValueRef::Text(t) => Some(canonical_text(t, c.ty)),
                ValueRef::Blob(b) => Some(b.to_vec()),
            };
            values.push(v);
        }
        sum.add(&values);
    }
    sum
}

fn quote(name: &str, q: char) -> String {
    let doubled: String = [q, q].iter().collect();
    format!("{q}{}{q}", name.replace(q, &doubled))
}

fn column_list(columns: &[ColumnSpec], q: char) -> String {
    assert!(!columns.is_empty(), "hoist-testkit: no columns given");
    columns.iter().map(|c| quote(&c.name, q)).collect::<Vec<_>>().join(",")
}

/// What MariaDB prints for a DOUBLE: the shortest digits that read back as
/// the same value, in plain notation for 1e-15 <= |x| < 1e15 and as `1.5e15`
/// / `1e-16` outside (checked against MariaDB 10.11).
pub fn format_double(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 {
        "0".to_string()
    } else if (1e-15..1e15).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// `value` (an integer count of 10^-scale units) as MariaDB prints a
/// DECIMAL(_, scale).
pub fn format_decimal_units(units: i128, scale: u8) -> String {
    let scale = u32::from(scale);
    let sign = if units < 0 { "-" } else { "" };
    let a = units.unsigned_abs();
    if scale == 0 {
        return format!("{sign}{a}");
    }
    let p = 10u128.pow(scale);
    format!("{sign}{}.{:0w$}", a / p, a % p, w = scale as usize)
}

fn sqlite_integer(n: i64, ty: ColType) -> Vec<u8> {
    match ty {
        ColType::Decimal { scale } => format_decimal_units(i128::from(n) * 10i128.pow(u32::from(scale)), scale),
        ColType::Double => format_double(n as f64),
        _ => n.to_string(),
    }
    .into_bytes()
}

fn sqlite_real(f: f64, ty: ColType) -> Vec<u8> {
    match ty {
        ColType::Decimal { scale } => {
            let s = format!("{f:.prec$}", prec = usize::from(scale));
            // -0.004 rounds to "-0.00"; MariaDB has no negative zero.
            if s.starts_with('-') && s.bytes().all(|b| matches!(b, b'-' | b'0' | b'.')) {
                s[1..].to_string()
            } else {
                s
            }
        }
        ColType::Int if f.fract() == 0.0 && f.abs() < 1e19 => format!("{f:.0}"),
        _ => format_double(f),
    }
    .into_bytes()
}

/// Canonicalise a value read as text (text protocol, or SQLite TEXT) by type.
pub fn canonical_text(v: &[u8], ty: ColType) -> Vec<u8> {
    let Ok(s) = std::str::from_utf8(v) else {
        return v.to_vec();
    };
    let t = s.trim();
    let canon = match ty {
        ColType::Int => t.parse::<i128>().ok().map(|n| n.to_string()),
        ColType::Double => t.parse::<f64>().ok().map(format_double),
        ColType::Decimal { scale } => canonical_decimal(t, scale),
        _ => None,
    };
    canon.map(String::into_bytes).unwrap_or_else(|| v.to_vec())
}

/// Decimal text with exactly `scale` digits after the point; `None` if it is
/// not a plain decimal or has more digits than `scale` (left as read).
fn canonical_decimal(t: &str, scale: u8) -> Option<String> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > usize::from(scale)
    {
        return None;
    }
    let digits = format!("{int}{frac:0<w$}", w = usize::from(scale));
    let units: i128 = digits.parse().ok()?;
    Some(format_decimal_units(if neg { -units } else { units }, scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_printing_matches_mariadb() {
        // Pairs observed from MariaDB 10.11 for DOUBLE columns.
        for (x, want) in [
            (1048575.9990234375, "1048575.9990234375"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e15, "1e15"),
            (1e14, "100000000000000"),
            (1.234567890123456e15, "1.234567890123456e15"),
            (0.00001, "0.00001"),
            (1e-15, "0.000000000000001"),
            (1e-16, "1e-16"),
            (-0.75, "-0.75"),
            (1073741823.0 + 1023.0 / 1024.0, "1073741823.9990234"),
            (1.25e15, "1.25e15"),
            (-1e15, "-1e15"),
            (1.7976931348623157e308, "1.7976931348623157e308"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (0.0, "0"),
            (-0.0, "0"),
        ] {
            assert_eq!(format_double(x), want, "{x:e}");
        }
    }

    #[test]
    fn decimals() {
        assert_eq!(canonical_decimal("123.4", 2).unwrap(), "123.40");
        assert_eq!(canonical_decimal("-0.5", 2).unwrap(), "-0.50");
        assert_eq!(canonical_decimal("-0", 2).unwrap(), "0.00");
        assert_eq!(canonical_decimal("007", 0).unwrap(), "7");
        assert_eq!(canonical_decimal("1.234", 2), None);
        assert_eq!(sqlite_real(-0.001, ColType::Decimal { scale: 2 }), b"0.00");
        assert_eq!(sqlite_real(123.4, ColType::Decimal { scale: 2 }), b"123.40");
        assert_eq!(sqlite_integer(-5, ColType::Decimal { scale: 6 }), b"-5.000000");
        assert_eq!(sqlite_integer(7, ColType::Decimal { scale: 0 }), b"7");
    }

    #[test]
    fn sum_is_order_independent_and_counts_duplicates() {
        let a = vec![Some(b"1".to_vec()), None];
        let b = vec![Some(b"2".to_vec()), Some(Vec::new())];
        let s1 = sum_rows([a.clone(), b.clone(), a.clone()]);
        let s2 = sum_rows([a.clone(), a.clone(), b.clone()]);
        assert_eq!(s1, s2);
        assert_ne!(s1, sum_rows([a.clone(), b.clone(), b.clone()]));
        // NULL and '' differ; value boundaries matter.
        assert_ne!(row_hash(&[None]), row_hash(&[Some(Vec::new())]));
        assert_ne!(
            row_hash(&[Some(b"ab".to_vec()), Some(b"c".to_vec())]),
            row_hash(&[Some(b"a".to_vec()), Some(b"bc".to_vec())])
        );
    }
}
