//! Where a transaction stands in the upstream's binlog.
//!
//! A position is the server's own: the binlog file's name and the byte offset in it (an event
//! header's `log_pos` is the offset right after that event). Files are ordered by the number
//! the server gives them (`binlog.000009` < `binlog.000010`, also past six digits).

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BinlogPos {
    pub file: String,
    pub pos: u64,
}

impl BinlogPos {
    pub fn new(file: impl Into<String>, pos: u64) -> BinlogPos {
        BinlogPos { file: file.into(), pos }
    }

    /// `FILE:POS`, as `--start-pos` and `--restored-pos` take it.
    pub fn parse(text: &str) -> Result<BinlogPos, String> {
        let (file, pos) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("{text:?} is not a binlog position: expected FILE:POS, e.g. binlog.000003:1234"))?;
        let pos = pos.parse().map_err(|_| format!("{text:?}: the position after ':' must be a number of bytes"))?;
        if file.is_empty() {
            return Err(format!("{text:?}: the binlog file name is missing before ':'"));
        }
        Ok(BinlogPos { file: file.to_string(), pos })
    }
}

impl fmt::Display for BinlogPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)
    }
}

/// The file's base name and its number: `binlog.000012` -> ("binlog", 12).
pub fn file_number(file: &str) -> (&str, u64) {
    match file.rsplit_once('.') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (base, n.parse().unwrap_or(u64::MAX))
        }
        _ => (file, 0),
    }
}

/// Comparing files by their numbers.
pub fn compare_files(a: &str, b: &str) -> Ordering {
    let (base_a, n_a) = file_number(a);
    let (base_b, n_b) = file_number(b);
    base_a.cmp(base_b).then(n_a.cmp(&n_b))
}

impl PartialOrd for BinlogPos {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BinlogPos {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_files(&self.file, &other.file).then(self.pos.cmp(&other.pos))
    }
}

/// A MariaDB GTID: `domain-server-sequence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Gtid {
    pub domain: u32,
    pub server: u32,
    pub seq: u64,
}

impl Gtid {
    pub fn parse(text: &str) -> Result<Gtid, String> {
        let bad = || format!("{text:?} is not a MariaDB GTID (domain-server-sequence, e.g. 0-1-42)");
        let mut parts = text.trim().splitn(3, '-');
        let mut next = || parts.next().ok_or_else(bad);
        let domain = next()?.parse().map_err(|_| bad())?;
        let server = next()?.parse().map_err(|_| bad())?;
        let seq = next()?.parse().map_err(|_| bad())?;
        Ok(Gtid { domain, server, seq })
    }
}

impl fmt::Display for Gtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server, self.seq)
    }
}

/// A MariaDB GTID position (`gtid_binlog_pos`, `BINLOG_GTID_POS`): the last GTID of each
/// replication domain, comma-separated. Empty when nothing was logged yet.
pub fn parse_gtid_set(text: &str) -> Result<Vec<Gtid>, String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Gtid::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_by_file_number_then_offset() {
        let p = |s| BinlogPos::parse(s).unwrap();
        assert!(p("binlog.000009:900") < p("binlog.000010:4"));
        assert!(p("binlog.999999:4") < p("binlog.1000000:4"));
        assert!(p("binlog.000010:4") < p("binlog.000010:5"));
        assert_eq!(p("a.b.000001:7"), BinlogPos::new("a.b.000001", 7));
        assert!(BinlogPos::parse("binlog.000001").is_err());
        assert!(BinlogPos::parse("binlog.000001:x").is_err());
        assert!(BinlogPos::parse(":4").is_err());
    }

    #[test]
    fn gtids_read_as_mariadb_writes_them() {
        assert_eq!(Gtid::parse("0-1-42").unwrap(), Gtid { domain: 0, server: 1, seq: 42 });
        assert_eq!(Gtid::parse("0-1-42").unwrap().to_string(), "0-1-42");
        assert!(Gtid::parse("0-1").is_err());
        assert_eq!(parse_gtid_set("0-1-5, 2-1-9").unwrap().len(), 2);
        assert!(parse_gtid_set("").unwrap().is_empty());
    }
}
