//! `hoist log status`: what a log directory covers (positions, GTIDs, commit times), its
//! segments, and, given the server, how far behind it the log is. Reads only the index.

use std::fmt::Write;
use std::path::Path;

use super::{preflight, segments, LogError};
use crate::binlog::index::{LogIndex, Segment};
use crate::binlog::position::{compare_files, BinlogPos};
use crate::error::TargetError;
use crate::progress::mb;
use crate::redact::redact_url;
use crate::target::mysql::check_source_url;

/// The range a log covers, from its index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered {
    pub first: BinlogPos,
    pub last: BinlogPos,
    pub first_gtid: Option<String>,
    pub last_gtid: Option<String>,
    pub first_time: Option<u32>,
    pub last_time: Option<u32>,
    pub segments: usize,
    pub bytes: u64,
    pub transactions: u64,
}

pub fn covered(index: &LogIndex) -> Option<Covered> {
    let (first, last) = (index.segments.first()?, index.segments.last()?);
    let segs = &index.segments;
    Some(Covered {
        first: first.start_pos(),
        last: last.end_pos(),
        first_gtid: segs.iter().find_map(|s| s.first_gtid.clone()),
        last_gtid: segs.iter().rev().find_map(|s| s.last_gtid.clone()),
        first_time: segs.iter().find_map(|s| s.first_time),
        last_time: segs.iter().rev().find_map(|s| s.last_time),
        segments: segs.len(),
        bytes: segs.iter().map(|s| s.bytes).sum(),
        transactions: segs.iter().map(|s| s.transactions).sum(),
    })
}

impl std::fmt::Display for Covered {
    /// `binlog.000001:4 .. binlog.000003:1234 (GTIDs 0-1-1 .. 0-1-9, commits ... UTC .. ... UTC)`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} .. {}", self.first, self.last)?;
        let mut more = Vec::new();
        if let (Some(a), Some(b)) = (&self.first_gtid, &self.last_gtid) {
            more.push(format!("GTIDs {a} .. {b}"));
        }
        if let (Some(a), Some(b)) = (self.first_time, self.last_time) {
            more.push(format!("commits {} .. {}", utc(a), utc(b)));
        }
        if !more.is_empty() {
            write!(f, " ({})", more.join(", "))?;
        }
        Ok(())
    }
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(secs: u32) -> String {
    format!("{} UTC", crate::utc::utc_text(i64::from(secs)))
}

/// How far the log's end is behind the server's binlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behind {
    pub server: BinlogPos,
    pub bytes: u64,
    /// Binlog files the server has started since the one the log ends in.
    pub files: usize,
    /// The server's clock minus the log's last commit, when the log is behind; else 0.
    pub seconds: u64,
}

/// The server's binlog past `end`: bytes over its files (`SHOW BINARY LOGS`), up to `server`.
pub fn behind(end: &BinlogPos, server: &BinlogPos, files: &[(String, u64)], now: u64, last: Option<u32>) -> Behind {
    let mut bytes = 0;
    let mut count = 0;
    for (file, size) in files {
        let size = if *file == server.file { server.pos } else { *size };
        match compare_files(file, &end.file) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => bytes += size.saturating_sub(end.pos),
            std::cmp::Ordering::Greater => {
                bytes += size.saturating_sub(4);
                count += 1;
            }
        }
        if *file == server.file {
            break;
        }
    }
    let seconds = if bytes == 0 { 0 } else { last.map_or(0, |t| now.saturating_sub(t as u64)) };
    Behind { server: server.clone(), bytes, files: count, seconds }
}

/// Segments listed one per line without `all`: the first and the last ones around a count.
const TABLE_ENDS: usize = 5;

/// The report `hoist log status` prints; `all` lists every segment. With `source` (reached
/// with `tls`), how far behind it the log is.
pub async fn status(
    storage: &Path,
    source: Option<&str>,
    tls: &crate::tls::Tls,
    all: bool,
) -> Result<String, LogError> {
    let (index, storage) = match storage.to_string_lossy() {
        s3 if s3.starts_with("s3://") => {
            let refused = |e: crate::error::SourceError| LogError::Refused(e.to_string());
            let source = crate::source::Source::open(&s3).map_err(refused)?;
            (crate::binlog::index::read_stored_index(&source).await.map_err(refused)?, source.location().to_string())
        }
        _ => (segments::read_index(storage)?, storage.display().to_string()),
    };
    let Some(index) = index else {
        return Err(LogError::Refused(format!(
            "{storage} holds no log (no {}): give --storage the directory of hoist log start",
            crate::binlog::index::INDEX_FILE
        )));
    };
    let mut out = String::new();
    let _ = writeln!(out, "log {storage} of {}", index.cluster_id);
    let Some(c) = covered(&index) else {
        let _ = writeln!(out, "covers nothing yet");
        return Ok(out);
    };
    let _ = writeln!(out, "covers {} .. {}", c.first, c.last);
    if let (Some(a), Some(b)) = (&c.first_gtid, &c.last_gtid) {
        let _ = writeln!(out, "GTIDs {a} .. {b}");
    }
    if let (Some(a), Some(b)) = (c.first_time, c.last_time) {
        let _ = writeln!(out, "commits {} .. {}", utc(a), utc(b));
    }
    let _ = writeln!(out, "{} transactions in {} segments, {} MB", c.transactions, c.segments, mb(c.bytes));
    out.push_str(&table(&index.segments, all));
    if let Some(url) = source {
        out.push_str(&lag(&index, &c, url, tls).await?);
    }
    Ok(out)
}

/// One line per segment (without `all`, the first and last few of a long log).
fn table(segments: &[Segment], all: bool) -> String {
    let skip = if all || segments.len() <= 2 * TABLE_ENDS + 1 { 0..0 } else { TABLE_ENDS..segments.len() - TABLE_ENDS };
    let rows: Vec<[String; 5]> = segments
        .iter()
        .enumerate()
        .filter(|(i, _)| !skip.contains(i) || *i == skip.start)
        .map(|(i, s)| {
            if skip.contains(&i) {
                let more = format!("... {} more (-v lists every segment)", skip.len());
                return [more, String::new(), String::new(), String::new(), String::new()];
            }
            let range = match &s.rotated_to {
                Some(next) => format!("{} .. {} -> {next}", s.start_pos(), s.end),
                None => format!("{} .. {}", s.start_pos(), s.end),
            };
            [s.name.clone(), range, s.transactions.to_string(), mb(s.bytes), s.last_time.map(utc).unwrap_or_default()]
        })
        .collect();
    let head = ["segment", "upstream range", "transactions", "MB", "last commit"];
    let mut width = head.map(str::len);
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(head.map(String::from)).chain(rows) {
        let line: Vec<String> = r.iter().zip(width).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "  {}", line.join("  ").trim_end());
    }
    out
}

async fn lag(index: &LogIndex, c: &Covered, url: &str, tls: &crate::tls::Tls) -> Result<String, LogError> {
    check_source_url(url).map_err(LogError::Refused)?;
    let (_, mut conn) = crate::tls::connect(url, tls)
        .await
        .map_err(|e| LogError::Source(TargetError { message: format!("{}: {}", redact_url(url), e.message), ..e }))?;
    let source = preflight::inspect(&mut conn, url).await?;
    let now: Option<u64> = mysql_async::prelude::Queryable::query_first(&mut conn, "SELECT UNIX_TIMESTAMP()")
        .await
        .map_err(|e| LogError::Source(crate::target::mysql::classify(e)))?;
    let _ = conn.disconnect().await;
    if source.cluster_id != index.cluster_id {
        return Ok(format!(
            "{} is the server {}, not this log's ({}): no lag to tell\n",
            redact_url(url),
            source.cluster_id,
            index.cluster_id
        ));
    }
    let end = match &index.segments.last().and_then(|s| s.rotated_to.clone()) {
        Some(next) => BinlogPos::new(next, 4),
        None => c.last.clone(),
    };
    let b = behind(&end, &source.position, &source.files, now.unwrap_or(0), c.last_time);
    Ok(format!("behind {} (at {}): {} bytes, {} files, {} s\n", redact_url(url), b.server, b.bytes, b.files, b.seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_log_lists_its_first_and_last_segments() {
        let seg = |i: u64| Segment {
            name: format!("segments/b.000001-{i:010}.bin"),
            server_file: "b.000001".into(),
            start: i * 100 + 4,
            end: i * 100 + 104,
            rotated_to: None,
            bytes: 100,
            transactions: 1,
            first_gtid: None,
            last_gtid: None,
            first_time: None,
            last_time: None,
        };
        let segments: Vec<Segment> = (0..30).map(seg).collect();
        let short = table(&segments, false);
        assert_eq!(short.lines().count(), 1 + 2 * TABLE_ENDS + 1, "{short}");
        assert!(short.contains("... 20 more (-v lists every segment)"), "{short}");
        assert!(short.contains(&segments[29].name) && short.contains(&segments[0].name), "{short}");
        assert_eq!(table(&segments, true).lines().count(), 31);
        assert_eq!(table(&segments[..11], false).lines().count(), 12);
    }

    #[test]
    fn times_print_as_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_169_805), "2026-12-02 00:03:25 UTC");
    }

    #[test]
    fn lag_counts_the_bytes_of_every_file_after_the_logs_end() {
        let p = |s| BinlogPos::parse(s).unwrap();
        let files = vec![("b.000001".to_string(), 1000), ("b.000002".to_string(), 500), ("b.000003".to_string(), 300)];
        let b = behind(&p("b.000001:900"), &p("b.000003:300"), &files, 100, Some(90));
        assert_eq!((b.bytes, b.files, b.seconds), (100 + 496 + 296, 2, 10));
        let b = behind(&p("b.000003:300"), &p("b.000003:300"), &files, 100, Some(90));
        assert_eq!((b.bytes, b.files, b.seconds), (0, 0, 0));
    }
}
