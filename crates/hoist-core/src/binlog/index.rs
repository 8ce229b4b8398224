//! A log directory's index: which upstream range each file covers.
//!
//! `hoist log start` writes the index `hoist-log.json` beside its segments and rewrites it
//! (atomically) each time a segment grows durably; a directory of plain binlog files (a
//! server's, `mysqlbinlog --raw`'s, mariadb-backup's) is indexed by reading the files
//! ([`index_plain_files`]). Either way a restore sees the same [`LogIndex`],
//! and [`LogIndex::cover`] tells, before anything is written, whether the files hold every
//! transaction from one position to another.

use serde::{Deserialize, Serialize};

use std::path::Path;

use super::file::scan_file;
use super::position::{compare_files, BinlogPos};
use crate::error::SourceError;

/// The index file of a directory `hoist log start` writes.
pub const INDEX_FILE: &str = "hoist-log.json";
/// Bumped when a field changes meaning; a reader refuses a version it does not know.
pub const FORMAT_VERSION: u32 = 1;
/// Where a binlog file's first event starts (after the 4-byte magic).
pub const FIRST_EVENT: u64 = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogIndex {
    pub format_version: u32,
    /// The upstream server's identity, as a backup's manifest names it
    /// (`target::mysql::server_identity`). Empty for plain files (their server is not known).
    pub cluster_id: String,
    /// The files, in upstream order.
    pub segments: Vec<Segment>,
}

/// One file of the log: a valid binlog file holding whole transactions of one upstream file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// The file, relative to the log directory.
    pub name: String,
    /// The upstream binlog file its events come from.
    pub server_file: String,
    /// Upstream position from which the segment holds every transaction
    /// ([`FIRST_EVENT`] when it starts with the upstream file).
    pub start: u64,
    /// Upstream position right after its last complete transaction.
    pub end: u64,
    /// The upstream file that follows, when the segment ends with the upstream's rotate.
    pub rotated_to: Option<String>,
    /// Bytes of the segment file that hold `start..end` (a longer file was cut there).
    pub bytes: u64,
    pub transactions: u64,
    pub first_gtid: Option<String>,
    pub last_gtid: Option<String>,
    /// Commit times (seconds since the epoch) of its first and last transaction.
    pub first_time: Option<u32>,
    pub last_time: Option<u32>,
}

impl Segment {
    pub fn start_pos(&self) -> BinlogPos {
        BinlogPos::new(&self.server_file, self.start)
    }
    pub fn end_pos(&self) -> BinlogPos {
        BinlogPos::new(&self.server_file, self.end)
    }
}

/// Why the log cannot serve a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// Nothing in the log at or before `from`.
    StartsAfter { from: BinlogPos, first: BinlogPos },
    /// The log ends before `to`.
    EndsBefore { to: BinlogPos, last: BinlogPos },
    /// Transactions between `after` and `before` are in no file.
    Hole { after: BinlogPos, before: BinlogPos },
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gap::StartsAfter { from, first } => {
                write!(f, "the log starts at {first}, after {from}: the transactions between them are missing")
            }
            Gap::EndsBefore { to, last } => write!(f, "the log ends at {last}, before {to}"),
            Gap::Hole { after, before } => {
                write!(f, "the log has a gap: nothing covers the transactions between {after} and {before}")
            }
        }
    }
}

impl LogIndex {
    /// An index as `hoist log start` wrote it; `shown` names it in the error.
    pub fn parse(bytes: &[u8], shown: &str) -> Result<LogIndex, String> {
        let index: LogIndex =
            serde_json::from_slice(bytes).map_err(|e| format!("{shown}: not a log index hoist can read: {e}"))?;
        if index.format_version != FORMAT_VERSION {
            return Err(format!(
                "{shown}: log format version {} (this hoist reads version {FORMAT_VERSION}): use the hoist that wrote it",
                index.format_version
            ));
        }
        Ok(index)
    }

    /// The segments holding every transaction after `from` (up to `to`, when given), in order;
    /// or the gap that keeps the log from doing so.
    pub fn cover(&self, from: &BinlogPos, to: Option<&BinlogPos>) -> Result<Vec<&Segment>, Gap> {
        let first = self.segments.iter().position(|s| s.start_pos() <= *from && *from <= s.end_pos());
        // A position at the very end of a rotated file is also the start of the next one.
        let first = first.or_else(|| {
            self.segments
                .iter()
                .position(|s| s.start == FIRST_EVENT && from.file == s.server_file && from.pos <= FIRST_EVENT)
        });
        let Some(first) = first else {
            let head = self.segments.iter().find(|s| s.end_pos() > *from);
            return Err(match head {
                Some(s) => Gap::StartsAfter { from: from.clone(), first: s.start_pos() },
                None => Gap::EndsBefore {
                    to: to.cloned().unwrap_or_else(|| from.clone()),
                    last: self
                        .segments
                        .last()
                        .map(Segment::end_pos)
                        .unwrap_or_else(|| BinlogPos::new("(empty log)", 0)),
                },
            });
        };
        let mut chosen = vec![&self.segments[first]];
        for next in &self.segments[first + 1..] {
            let prev = *chosen.last().expect("one chosen");
            if to.is_some_and(|to| prev.end_pos() >= *to) {
                break;
            }
            let continues = (next.server_file == prev.server_file && next.start <= prev.end)
                || (prev.rotated_to.as_deref() == Some(&next.server_file) && next.start <= FIRST_EVENT);
            if !continues {
                if compare_files(&next.server_file, &prev.server_file).is_le() && next.end <= prev.end {
                    continue; // an older copy of what `prev` already holds
                }
                return Err(Gap::Hole { after: prev.end_pos(), before: next.start_pos() });
            }
            chosen.push(next);
        }
        let last = chosen.last().expect("one chosen").end_pos();
        if let Some(to) = to {
            if last < *to {
                return Err(Gap::EndsBefore { to: to.clone(), last });
            }
        }
        Ok(chosen)
    }

    pub fn end(&self) -> Option<BinlogPos> {
        self.segments.last().map(Segment::end_pos)
    }
}

/// The index of a log `hoist log start` wrote to object storage (`s3://...`, read through
/// [`crate::source::Source`]); None when there is none.
pub async fn read_stored_index(source: &crate::source::Source) -> Result<Option<LogIndex>, SourceError> {
    let Some(bytes) = source.read_if_exists(INDEX_FILE).await? else {
        return Ok(None);
    };
    let shown = format!("{}/{INDEX_FILE}", source.location());
    LogIndex::parse(&bytes, &shown).map(Some).map_err(SourceError::Layout)
}

/// Index a directory of plain binlog files (every file that starts with the binlog magic; a
/// server's `.index` and other files are passed over). A file of a server other than the
/// first file's, or a file that ends inside a transaction while later files follow, is an
/// error naming it.
pub fn index_plain_files(dir: &Path) -> Result<LogIndex, SourceError> {
    let storage = |e: std::io::Error| SourceError::io(dir.display().to_string(), "", &e);
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(storage)? {
        let entry = entry.map_err(storage)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.file_type().map_err(storage)?.is_file() {
            continue;
        }
        let mut magic = [0u8; 4];
        let is_binlog =
            std::fs::File::open(entry.path()).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
                && magic == super::file::MAGIC;
        if is_binlog {
            names.push(name);
        }
    }
    names.sort_by(|a, b| compare_files(a, b));
    let mut segments: Vec<Segment> = Vec::new();
    let mut server: Option<(u32, String)> = None;
    for (i, name) in names.iter().enumerate() {
        let scan = scan_file(&dir.join(name))?;
        if let (Some((first, first_name)), Some(id)) = (&server, scan.server_id) {
            if *first != id {
                return Err(SourceError::Layout(format!(
                    "{}: written by the server with server_id {id}, while {first_name} was written by server_id {first}: \
                     a log directory holds the binlog of one server; move the other server's files elsewhere",
                    dir.join(name).display()
                )));
            }
        }
        if server.is_none() {
            server = scan.server_id.map(|id| (id, name.clone()));
        }
        if scan.incomplete_tail && i + 1 < names.len() {
            return Err(SourceError::Layout(format!(
                "{}: the file ends inside a transaction at byte {}, yet later files follow: it was cut short \
                 (copy it again from the server)",
                dir.join(name).display(),
                scan.complete_end
            )));
        }
        segments.push(Segment {
            name: name.clone(),
            server_file: name.clone(),
            start: FIRST_EVENT,
            // A file holding no transaction yet covers its start only.
            end: scan.end_pos.max(FIRST_EVENT),
            rotated_to: scan.rotated_to,
            bytes: scan.complete_end,
            transactions: scan.transactions,
            first_gtid: scan.first_gtid,
            last_gtid: scan.last_gtid,
            first_time: scan.first_time,
            last_time: scan.last_time,
        });
    }
    Ok(LogIndex {
        format_version: FORMAT_VERSION,
        cluster_id: server.map(|(id, _)| format!("server_id:{id}")).unwrap_or_default(),
        segments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(file: &str, start: u64, end: u64, rotated_to: Option<&str>) -> Segment {
        Segment {
            name: format!("{file}-{start}"),
            server_file: file.into(),
            start,
            end,
            rotated_to: rotated_to.map(Into::into),
            bytes: end - start,
            transactions: 1,
            first_gtid: None,
            last_gtid: None,
            first_time: None,
            last_time: None,
        }
    }

    fn index(segments: Vec<Segment>) -> LogIndex {
        LogIndex { format_version: FORMAT_VERSION, cluster_id: String::new(), segments }
    }

    #[test]
    fn a_range_across_segments_and_rotations_is_covered() {
        let log = index(vec![
            seg("b.000001", 4, 500, None),
            seg("b.000001", 500, 900, Some("b.000002")),
            seg("b.000002", 4, 300, None),
        ]);
        let p = |s| BinlogPos::parse(s).unwrap();
        let got = log.cover(&p("b.000001:600"), Some(&p("b.000002:200"))).unwrap();
        assert_eq!(got.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["b.000001-500", "b.000002-4"]);
        assert_eq!(log.cover(&p("b.000001:900"), None).unwrap().len(), 2, "the end of a rotated file");
        assert_eq!(
            log.cover(&p("b.000001:100"), Some(&p("b.000002:400"))).unwrap_err(),
            Gap::EndsBefore { to: p("b.000002:400"), last: p("b.000002:300") }
        );
    }

    #[test]
    fn a_servers_binlog_files_are_indexed_up_to_its_position() {
        let server = hoist_testkit::MariaDb::start();
        server.exec("CREATE DATABASE ix");
        server.exec("CREATE TABLE ix.t (id INT PRIMARY KEY, v TEXT)");
        server.exec("INSERT INTO ix.t VALUES (1, 'a'), (2, 'b')");
        server.exec("FLUSH BINARY LOGS");
        server.exec("UPDATE ix.t SET v = 'c' WHERE id = 1");
        server.exec("START TRANSACTION; DELETE FROM ix.t WHERE id = 2; COMMIT");
        let status = server.query("SHOW MASTER STATUS");
        let file = String::from_utf8(status[0][0].clone().unwrap()).unwrap();
        let pos: u64 = String::from_utf8(status[0][1].clone().unwrap()).unwrap().parse().unwrap();
        let log = index_plain_files(&server.dir().join("data")).unwrap();
        assert_eq!(log.end(), Some(BinlogPos::new(&file, pos)), "{log:?}");
        let first = &log.segments[0];
        assert_eq!(first.rotated_to.as_deref(), Some(file.as_str()), "{log:?}");
        let last = log.segments.last().unwrap();
        assert_eq!(last.transactions, 2, "the update and the delete: {log:?}");
        assert!(last.first_gtid.as_deref().unwrap().starts_with("0-1-"), "{log:?}");
        let covered = log.cover(&BinlogPos::new(&first.server_file, 4), Some(&BinlogPos::new(&file, pos))).unwrap();
        assert_eq!(covered.len(), log.segments.len());
    }

    #[test]
    fn damaged_and_cut_files_are_errors_naming_the_byte_never_panics() {
        let server = hoist_testkit::MariaDb::start();
        server.exec("CREATE DATABASE dmg");
        server.exec("CREATE TABLE dmg.t (id INT PRIMARY KEY, v TEXT)");
        for i in 0..20 {
            server.exec(&format!("INSERT INTO dmg.t VALUES ({i}, REPEAT('x', {i} * 10))"));
        }
        let file = String::from_utf8(server.query("SHOW MASTER STATUS")[0][0].clone().unwrap()).unwrap();
        let bytes = std::fs::read(server.dir().join("data").join(&file)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(&file);
        let whole = {
            std::fs::write(&path, &bytes).unwrap();
            scan_file(&path).unwrap()
        };
        assert_eq!(whole.transactions, 22, "{whole:?}");
        // A flipped byte inside an event fails its CRC32, named by file and byte.
        let mut flipped = bytes.clone();
        let at = bytes.len() - 40;
        flipped[at] ^= 0x55;
        std::fs::write(&path, &flipped).unwrap();
        let e = scan_file(&path).unwrap_err().to_string();
        assert!(e.contains(&file) && e.contains("(byte ") && e.contains("checksum"), "{e}");
        // Cut at every offset: whole transactions up to the cut, the rest an incomplete tail.
        for cut in (5..bytes.len()).step_by(7) {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            match scan_file(&path) {
                Ok(scan) => {
                    assert!(scan.complete_end as usize <= cut && scan.transactions <= whole.transactions, "cut {cut}");
                    assert!(scan.incomplete_tail || scan.complete_end as usize == cut, "cut {cut}: {scan:?}");
                }
                Err(e) => panic!("a cut file is an incomplete tail, not damage (cut at {cut}): {e}"),
            }
        }
        // Not a binlog at all.
        std::fs::write(&path, b"\xfebin but then nothing a server writes").unwrap();
        let e = scan_file(&path).unwrap_err().to_string();
        assert!(e.contains("(byte 4)"), "{e}");
    }

    #[test]
    fn holes_and_late_starts_are_named() {
        let p = |s| BinlogPos::parse(s).unwrap();
        let log = index(vec![seg("b.000001", 4, 500, None), seg("b.000001", 700, 900, None)]);
        assert_eq!(
            log.cover(&p("b.000001:100"), Some(&p("b.000001:800"))).unwrap_err(),
            Gap::Hole { after: p("b.000001:500"), before: p("b.000001:700") }
        );
        let log = index(vec![seg("b.000003", 4, 500, None)]);
        let gap = log.cover(&p("b.000002:100"), None).unwrap_err();
        assert_eq!(gap, Gap::StartsAfter { from: p("b.000002:100"), first: p("b.000003:4") });
        assert!(gap.to_string().contains("b.000003:4"), "{gap}");
    }
}
