//! The restored point of `hoist restore point`: a time, a position or a GTID, and which
//! upstream transactions it takes in.
//!
//! - `--restored-ts '2026-12-01 20:00:00+00:00'`: every transaction committed at or before that
//!   second. The offset may be `+08:00`, `+0800` or `Z`; without one the local time zone is meant.
//! - `--restored-pos FILE:POS`: every transaction that ends at or before that position.
//! - `--restored-gtid D-S-N`: every transaction up to and including that one.

use crate::binlog::position::{BinlogPos, Gtid};
use crate::utc::{days_from_civil, utc_text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoredPoint {
    /// Seconds since the epoch, and the text as given.
    Time {
        epoch: i64,
        given: String,
    },
    Position(BinlogPos),
    Gtid(Gtid),
}

impl RestoredPoint {
    /// What the job spec records: a rerun must give the same point.
    pub fn describe(&self) -> String {
        match self {
            RestoredPoint::Time { epoch, .. } => format!("ts {} UTC", utc_text(*epoch)),
            RestoredPoint::Position(p) => format!("pos {p}"),
            RestoredPoint::Gtid(g) => format!("gtid {g}"),
        }
    }

    /// Whether a transaction (its end position and commit time) is taken in; `gtid_reached`:
    /// the restored GTID's transaction was applied already. The log is read in order, so the
    /// first transaction not taken in ends the replay.
    pub fn takes(&self, end: &BinlogPos, time: u32, gtid_reached: bool) -> bool {
        match self {
            RestoredPoint::Time { epoch, .. } => i64::from(time) <= *epoch,
            RestoredPoint::Position(p) => end <= p,
            RestoredPoint::Gtid(_) => !gtid_reached,
        }
    }
}

/// Parse `--restored-ts`.
pub fn parse_time(text: &str) -> Result<RestoredPoint, String> {
    let bad = || {
        format!(
            "{text:?} is not a time: expected 'YYYY-MM-DD HH:MM:SS' with an optional offset (+08:00, +0800, Z); \
             without one the local time zone is meant"
        )
    };
    let t = text.trim();
    if t.len() < 19 {
        return Err(bad());
    }
    let (stamp, zone) = t.split_at(19);
    let b = stamp.as_bytes();
    let shape_ok = b[4] == b'-' && b[7] == b'-' && (b[10] == b' ' || b[10] == b'T') && b[13] == b':' && b[16] == b':';
    if !shape_ok {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| stamp[r].parse::<i64>().map_err(|_| bad());
    let (y, mo, d, h, mi, s) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    let zone = zone.trim();
    let epoch = if zone.is_empty() {
        local_epoch(y, mo, d, h, mi, s).ok_or_else(bad)?
    } else {
        let offset = parse_offset(zone).ok_or_else(bad)?;
        days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset
    };
    Ok(RestoredPoint::Time { epoch, given: text.to_string() })
}

/// `+08:00`, `+0800`, `-05`, `Z` as seconds east of UTC.
fn parse_offset(zone: &str) -> Option<i64> {
    if zone.eq_ignore_ascii_case("z") || zone.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// The local time zone's reading of a wall-clock time, by the C library's rules.
fn local_epoch(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    // SAFETY: mktime reads and normalises the tm we own; all-zero is a valid tm.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_year = (y - 1900) as i32;
    tm.tm_mon = (mo - 1) as i32;
    tm.tm_mday = d as i32;
    tm.tm_hour = h as i32;
    tm.tm_min = mi as i32;
    tm.tm_sec = s as i32;
    tm.tm_isdst = -1;
    let t = unsafe { libc::mktime(&mut tm) };
    (t != -1).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(text: &str) -> i64 {
        match parse_time(text).unwrap() {
            RestoredPoint::Time { epoch, .. } => epoch,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn times_with_offsets_read_as_utc_seconds() {
        assert_eq!(epoch("1970-01-01 00:00:00+00:00"), 0);
        assert_eq!(epoch("2026-12-01 20:00:00+00:00"), 1_796_155_200);
        assert_eq!(epoch("2026-12-02 04:00:00+08:00"), 1_796_155_200);
        assert_eq!(epoch("2026-12-02 04:00:00+0800"), 1_796_155_200);
        assert_eq!(epoch("2026-12-01T15:00:00-05:00"), 1_796_155_200);
        assert_eq!(epoch("2026-12-01 20:00:00Z"), 1_796_155_200);
    }

    #[test]
    fn a_time_without_offset_is_local() {
        // The test process's zone is whatever TZ says; mktime and the offset form must agree for UTC.
        // mktime reads TZ again on each call.
        std::env::set_var("TZ", "UTC");
        assert_eq!(epoch("2026-12-01 20:00:00"), 1_796_155_200);
    }

    #[test]
    fn bad_times_are_refused_with_the_expected_form() {
        for bad in ["2026-12-01", "2026-13-01 00:00:00", "2026-12-01 20:00:00+8", "yesterday at noon"] {
            let e = parse_time(bad).unwrap_err();
            assert!(e.contains("YYYY-MM-DD HH:MM:SS"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_point_takes_transactions_up_to_it() {
        let p = RestoredPoint::Position(BinlogPos::parse("b.000002:500").unwrap());
        assert!(p.takes(&BinlogPos::parse("b.000002:500").unwrap(), 0, false));
        assert!(!p.takes(&BinlogPos::parse("b.000002:501").unwrap(), 0, false));
        assert!(p.takes(&BinlogPos::parse("b.000001:900").unwrap(), 0, false));
        let t = parse_time("1970-01-01 00:00:10Z").unwrap();
        assert!(t.takes(&BinlogPos::new("b.1", 4), 10, false));
        assert!(!t.takes(&BinlogPos::new("b.1", 4), 11, false));
    }
}
