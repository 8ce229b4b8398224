//! Reading binlog files: events with their offsets, grouped into transactions.
//!
//! One reader serves every file a log is made of: a server's binlog file, a copy that
//! `mysqlbinlog --raw` or mariadb-backup left, and the segments `hoist log start` writes
//! (valid binlog files too). A file's bytes are checked as they are read (magic, event sizes,
//! CRC32 checksums): a truncated or damaged file is an error naming the file and the offset,
//! never a panic. An event's `log_pos` is the upstream position right after it, so a
//! transaction's upstream end is known whatever file it was read from.
//!
//! Transactions: MariaDB opens each with a GTID event and ends it with an XID event (InnoDB)
//! or a `COMMIT` query (other engines); a GTID marked standalone holds one statement (DDL) and
//! no COMMIT. MySQL opens with a GTID (or anonymous GTID) event and `BEGIN`. A transaction that
//! a non-transactional table forced into the log and that ends with `ROLLBACK` is marked so.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use mysql_common::binlog::consts::{BinlogChecksumAlg, BinlogVersion, EventType};
use mysql_common::binlog::events::{Event, QueryEvent, RotateEvent};
use mysql_common::binlog::EventStreamReader;

use crate::error::{DataError, FilePosition, SourceError};

pub const MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];
pub const HEADER_LEN: usize = 19;

/// MariaDB's event types (mysql_common knows MySQL's only).
pub mod mariadb {
    pub const ANNOTATE_ROWS: u8 = 160;
    pub const BINLOG_CHECKPOINT: u8 = 161;
    pub const GTID: u8 = 162;
    pub const GTID_LIST: u8 = 163;
    pub const START_ENCRYPTION: u8 = 164;
    pub const QUERY_COMPRESSED: u8 = 165;
    /// Compressed row events run from here to 171.
    pub const ROWS_COMPRESSED_FIRST: u8 = 166;
    pub const ROWS_COMPRESSED_LAST: u8 = 171;
    /// GTID flags: one statement without BEGIN/COMMIT (DDL).
    pub const FL_STANDALONE: u8 = 1;
    pub const FL_GROUP_COMMIT_ID: u8 = 2;
    pub const FL_PREPARED_XA: u8 = 64;
    pub const FL_COMPLETED_XA: u8 = 128;
}

/// The fixed part of every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub timestamp: u32,
    pub type_code: u8,
    pub server_id: u32,
    pub size: u32,
    /// Upstream position right after this event (0 in some artificial events).
    pub log_pos: u32,
    pub flags: u16,
}

impl Header {
    pub fn parse(b: &[u8]) -> Header {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Header {
            timestamp: u32_at(0),
            type_code: b[4],
            server_id: u32_at(5),
            size: u32_at(9),
            log_pos: u32_at(13),
            flags: u16::from_le_bytes([b[17], b[18]]),
        }
    }
}

/// One event and where it is in its file.
pub struct ReadEvent {
    /// File offset of the event's first byte, and right after its last.
    pub offset: u64,
    pub end: u64,
    pub header: Header,
    pub event: Event,
}

/// A MariaDB GTID event's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MariaGtid {
    pub gtid: super::position::Gtid,
    pub flags: u8,
}

pub fn parse_mariadb_gtid(header: &Header, data: &[u8]) -> Option<MariaGtid> {
    if data.len() < 13 {
        return None;
    }
    let seq = u64::from_le_bytes(data[0..8].try_into().ok()?);
    let domain = u32::from_le_bytes(data[8..12].try_into().ok()?);
    Some(MariaGtid { gtid: super::position::Gtid { domain, server: header.server_id, seq }, flags: data[12] })
}

/// Events of one binlog file, read front to back.
pub struct EventReader<R> {
    name: String,
    input: R,
    offset: u64,
    len: u64,
    esr: EventStreamReader,
    checksum: bool,
    /// The server that wrote the file, from its format description.
    server_id: Option<u32>,
}

/// Why reading stopped short of the file's end.
#[derive(Debug)]
pub enum ReadError {
    /// The file ends inside an event (a file still being written, or cut short).
    Truncated { file: String, offset: u64 },
    /// The bytes are not what a binlog holds there.
    Damaged(SourceError),
}

impl From<ReadError> for SourceError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Truncated { file, offset } => damaged(
                &file,
                offset,
                "the file ends inside an event (truncated: copied while being written, or cut short)",
            ),
            ReadError::Damaged(e) => e,
        }
    }
}

fn damaged(file: &str, offset: u64, message: impl Into<String>) -> SourceError {
    SourceError::Data(DataError {
        position: FilePosition { file: file.to_string(), offset, line: None },
        message: message.into(),
    })
}

impl EventReader<BufReader<File>> {
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        Self::open_prefix(path, u64::MAX)
    }

    /// The first `bytes` of the file only: what an index vouches for.
    pub fn open_prefix(path: &Path, bytes: u64) -> Result<Self, SourceError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| SourceError::io(name.clone(), "", &e))?;
        let len = file.metadata().map_err(|e| SourceError::io(name.clone(), "", &e))?.len();
        EventReader::new(name, BufReader::with_capacity(1 << 20, file), len.min(bytes))
    }
}

impl<R: Read> EventReader<R> {
    /// A reader of `len` bytes of `input`, which must start with the binlog magic.
    pub fn new(name: String, mut input: R, len: u64) -> Result<Self, SourceError> {
        let mut magic = [0u8; 4];
        if len < 4 || input.read_exact(&mut magic).is_err() || magic != MAGIC {
            return Err(damaged(&name, 0, "not a binlog file (it does not start with the binlog magic \\xfebin)"));
        }
        Ok(EventReader {
            name,
            input,
            offset: 4,
            len,
            esr: EventStreamReader::new(BinlogVersion::Version4),
            checksum: false,
            server_id: None,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Offset of the next event.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next event, or None at the end of the file.
    pub fn next_event(&mut self) -> Result<Option<ReadEvent>, ReadError> {
        let left = self.len - self.offset;
        if left == 0 {
            return Ok(None);
        }
        let truncated = || ReadError::Truncated { file: self.name.clone(), offset: self.offset };
        if left < HEADER_LEN as u64 {
            return Err(truncated());
        }
        let mut bytes = vec![0u8; HEADER_LEN];
        self.input.read_exact(&mut bytes).map_err(|_| truncated())?;
        let header = Header::parse(&bytes);
        // Before the size is trusted: garbage after the magic is damage, not a short file.
        self.check_type(&header)?;
        let size = header.size as u64;
        if size < HEADER_LEN as u64 {
            return Err(ReadError::Damaged(damaged(
                &self.name,
                self.offset,
                format!("an event of {size} bytes, shorter than its header: this is not a binlog event"),
            )));
        }
        if size > left {
            return Err(truncated());
        }
        bytes.resize(size as usize, 0);
        self.input.read_exact(&mut bytes[HEADER_LEN..]).map_err(|_| truncated())?;
        let event = self.esr.read(&bytes[..]).map_err(|e| self.bad(format!("unreadable event: {e}")))?;
        let event = event.ok_or_else(truncated)?;
        if header.type_code == EventType::FORMAT_DESCRIPTION_EVENT as u8 {
            self.server_id = Some(header.server_id);
            self.checksum =
                matches!(event.footer().get_checksum_alg(), Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32)));
        }
        if self.checksum || header.type_code == EventType::FORMAT_DESCRIPTION_EVENT as u8 {
            if let (Some(stored), Ok(Some(alg))) = (event.checksum(), event.footer().get_checksum_alg()) {
                if alg == BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32
                    && u32::from_le_bytes(stored) != event.calc_checksum(alg)
                {
                    return Err(self.bad("the event's CRC32 checksum does not match its bytes (the file is damaged)"));
                }
            }
        }
        let offset = self.offset;
        self.offset += size;
        Ok(Some(ReadEvent { offset, end: self.offset, header, event }))
    }

    fn bad(&self, message: impl Into<String>) -> ReadError {
        ReadError::Damaged(damaged(&self.name, self.offset, message))
    }

    /// Events hoist cannot read are refused by name, before their bytes are misread.
    fn check_type(&self, header: &Header) -> Result<(), ReadError> {
        let t = header.type_code;
        if let Some(why) = unreadable_type(t) {
            return Err(self.bad(why));
        }
        if self.offset == 4 && t != EventType::FORMAT_DESCRIPTION_EVENT as u8 {
            return Err(self.bad(format!(
                "the file's first event is not a format description; this is not a binlog v4 file (event type {t}): \
                 hoist cannot read it"
            )));
        }
        Ok(())
    }
}

/// Why hoist cannot read events of this type, for the types it refuses (wherever the events
/// come from: a file, or a server's replication stream).
pub fn unreadable_type(t: u8) -> Option<String> {
    let what = match t {
        mariadb::START_ENCRYPTION => "the binlog is encrypted (encrypt_binlog=ON)",
        mariadb::QUERY_COMPRESSED | mariadb::ROWS_COMPRESSED_FIRST..=mariadb::ROWS_COMPRESSED_LAST => {
            "a compressed event (log_bin_compress=ON); turn log_bin_compress off on the server"
        }
        t if t == EventType::TRANSACTION_PAYLOAD_EVENT as u8 => {
            "a compressed transaction (binlog_transaction_compression=ON)"
        }
        _ => return None,
    };
    Some(format!("{what} (event type {t}): hoist cannot read it"))
}

/// How an upstream transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Commit,
    /// Logged because it touched a non-transactional table, then rolled back.
    Rollback,
}

/// One upstream transaction: its events between the GTID (or BEGIN) and the commit.
pub struct Transaction {
    pub gtid: Option<String>,
    /// File offsets: the first event (its GTID), and right after the last.
    pub offset: u64,
    pub end: u64,
    /// Upstream position right after the transaction.
    pub end_pos: u64,
    /// The latest event time in it: when it committed, to the second.
    pub time: u32,
    /// One statement without BEGIN/COMMIT (DDL).
    pub standalone: bool,
    pub outcome: Outcome,
    /// The events that carry its changes: queries, table maps, row events, variables.
    pub events: Vec<ReadEvent>,
}

/// What a file holds, read as a sequence of transactions.
pub enum Item {
    Transaction(Transaction),
    /// The upstream continues in `next` (the file's last event).
    Rotate {
        next: String,
        end_pos: u64,
    },
}

/// Transactions of one file, in order.
pub struct TransactionReader<R> {
    events: EventReader<R>,
    grouper: Grouper,
}

impl TransactionReader<BufReader<File>> {
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        Ok(TransactionReader::new(EventReader::open(path)?))
    }

    pub fn open_prefix(path: &Path, bytes: u64) -> Result<Self, SourceError> {
        Ok(TransactionReader::new(EventReader::open_prefix(path, bytes)?))
    }
}

impl<R: Read> TransactionReader<R> {
    pub fn new(events: EventReader<R>) -> Self {
        let grouper = Grouper::new(events.name().to_string(), 4, 0, true);
        TransactionReader { events, grouper }
    }

    /// File offset right after the last whole transaction (or rotate) read.
    pub fn complete_end(&self) -> u64 {
        self.grouper.complete_end()
    }

    /// Upstream position right after the last whole transaction read (0 before the first).
    pub fn complete_pos(&self) -> u64 {
        self.grouper.complete_pos()
    }

    pub fn name(&self) -> &str {
        self.events.name()
    }

    /// The next item, or None at the end of the file. A file that ends inside a transaction
    /// (still being written) ends with `Err(Truncated)`, pointing at where the transaction
    /// began: [`Self::complete_end`] is where the whole ones end.
    pub fn next_item(&mut self) -> Result<Option<Item>, ReadError> {
        loop {
            let open = self.grouper.open_offset();
            let ev = match self.events.next_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => {
                    return match open {
                        None => Ok(None),
                        Some(offset) => Err(ReadError::Truncated { file: self.events.name().to_string(), offset }),
                    }
                }
                Err(ReadError::Truncated { file, offset }) => {
                    return Err(ReadError::Truncated { file, offset: open.unwrap_or(offset) })
                }
                Err(e) => return Err(e),
            };
            if let Some(item) = self.grouper.push(ev)? {
                return Ok(Some(item));
            }
        }
    }
}

/// Groups events into transactions as they come, one event at a time: what
/// [`TransactionReader`] does with a file's events, and what `hoist log start` does with the
/// events a server streams (which arrive one by one and may stop anywhere).
pub struct Grouper {
    /// Named in errors: the file (or stream) the events come from.
    name: String,
    open: Option<Open>,
    /// Keep each transaction's change events (a replay needs them; a writer that has the
    /// bytes on disk already does not, and a huge transaction would sit in memory).
    keep_events: bool,
    complete: u64,
    complete_pos: u64,
}

struct Open {
    txn: Transaction,
    /// MySQL: a GTID is followed by BEGIN (DML) or by the statement itself (DDL); the next
    /// event decides.
    undecided: bool,
}

impl Grouper {
    /// A grouper whose events start at file offset `offset`, where whole items end at
    /// upstream position `pos` (0 when not known).
    pub fn new(name: String, offset: u64, pos: u64, keep_events: bool) -> Grouper {
        Grouper { name, open: None, keep_events, complete: offset, complete_pos: pos }
    }

    /// File offset right after the last whole item.
    pub fn complete_end(&self) -> u64 {
        self.complete
    }

    /// Upstream position right after the last whole item (0 before the first).
    pub fn complete_pos(&self) -> u64 {
        self.complete_pos
    }

    /// Where the transaction under way began, if one is.
    pub fn open_offset(&self) -> Option<u64> {
        self.open.as_ref().map(|o| o.txn.offset)
    }

    /// Take the next event; returns the item it completes, if any.
    pub fn push(&mut self, ev: ReadEvent) -> Result<Option<Item>, ReadError> {
        let h = ev.header;
        let t = h.type_code;
        if let Some(open) = self.open.as_mut() {
            let txn = &mut open.txn;
            txn.time = txn.time.max(h.timestamp);
            if open.undecided {
                if t != EventType::QUERY_EVENT as u8 {
                    return Err(unreadable_msg(&self.name, &ev, "a GTID event not followed by BEGIN or a statement"));
                }
                let q = ev.event.read_event::<QueryEvent>().map_err(|e| unreadable(&self.name, &ev, e))?;
                if q.query_raw().trim_ascii().eq_ignore_ascii_case(b"BEGIN") {
                    open.undecided = false;
                    txn.standalone = false;
                    return Ok(None);
                }
                return Ok(Some(self.finish(ev, Outcome::Commit, true)));
            }
            if t == EventType::XID_EVENT as u8 {
                return Ok(Some(self.finish(ev, Outcome::Commit, false)));
            }
            if t == EventType::QUERY_EVENT as u8 {
                let q = ev.event.read_event::<QueryEvent>().map_err(|e| unreadable(&self.name, &ev, e))?;
                let sql = q.query_raw().trim_ascii();
                if !txn.standalone && sql.eq_ignore_ascii_case(b"COMMIT") {
                    return Ok(Some(self.finish(ev, Outcome::Commit, false)));
                }
                if !txn.standalone && sql.eq_ignore_ascii_case(b"ROLLBACK") {
                    return Ok(Some(self.finish(ev, Outcome::Rollback, false)));
                }
                if sql.eq_ignore_ascii_case(b"BEGIN") {
                    return Ok(None);
                }
                if txn.standalone {
                    return Ok(Some(self.finish(ev, Outcome::Commit, true)));
                }
                if self.keep_events {
                    txn.events.push(ev);
                }
                return Ok(None);
            }
            if is_change(t) {
                if self.keep_events {
                    txn.events.push(ev);
                }
            } else if is_start(t) {
                return Err(ReadError::Damaged(damaged(
                    &self.name,
                    ev.offset,
                    "a new transaction begins before the one at this file's earlier offset ended",
                )));
            }
            return Ok(None);
        }
        if t == EventType::ROTATE_EVENT as u8 {
            let r = ev.event.read_event::<RotateEvent>().map_err(|e| unreadable(&self.name, &ev, e))?;
            if h.timestamp == 0 && h.log_pos == 0 {
                return Ok(None); // the artificial rotate a server sends first on a dump connection
            }
            self.complete = ev.end;
            // The upstream position, not the file offset: in a segment the two differ.
            let end_pos = if h.log_pos != 0 { h.log_pos as u64 } else { ev.offset + h.size as u64 };
            return Ok(Some(Item::Rotate { next: r.name().into_owned(), end_pos }));
        }
        let begins = if t == mariadb::GTID {
            let g = parse_mariadb_gtid(&h, ev.event.data())
                .ok_or_else(|| unreadable_msg(&self.name, &ev, "short GTID event"))?;
            if g.flags & (mariadb::FL_PREPARED_XA | mariadb::FL_COMPLETED_XA) != 0 {
                return Err(unreadable_msg(
                    &self.name,
                    &ev,
                    "an XA transaction (XA PREPARE/COMMIT): hoist does not replay XA yet",
                ));
            }
            Some((Some(g.gtid.to_string()), g.flags & mariadb::FL_STANDALONE != 0, false))
        } else if t == EventType::GTID_EVENT as u8 || t == EventType::ANONYMOUS_GTID_EVENT as u8 {
            // MySQL: a DDL has no BEGIN; the next query tells.
            Some((None, true, true))
        } else if t == EventType::QUERY_EVENT as u8 {
            let q = ev.event.read_event::<QueryEvent>().map_err(|e| unreadable(&self.name, &ev, e))?;
            if q.query_raw().trim_ascii().eq_ignore_ascii_case(b"BEGIN") {
                Some((None, false, false))
            } else {
                // A statement outside any transaction: DDL of a server without GTIDs.
                let txn = Transaction {
                    gtid: None,
                    offset: ev.offset,
                    end: ev.end,
                    end_pos: h.log_pos as u64,
                    time: h.timestamp,
                    standalone: true,
                    outcome: Outcome::Commit,
                    events: Vec::new(),
                };
                self.open = Some(Open { txn, undecided: false });
                return Ok(Some(self.finish(ev, Outcome::Commit, true)));
            }
        } else {
            None
        };
        if let Some((gtid, standalone, undecided)) = begins {
            let txn = Transaction {
                gtid,
                offset: ev.offset,
                end: ev.end,
                end_pos: h.log_pos as u64,
                time: h.timestamp,
                standalone,
                outcome: Outcome::Commit,
                events: Vec::new(),
            };
            self.open = Some(Open { txn, undecided });
            return Ok(None);
        }
        // Anything else between transactions (format description, GTID list, binlog
        // checkpoint, heartbeat, stop, previous GTIDs) carries no change.
        if t != EventType::FORMAT_DESCRIPTION_EVENT as u8 {
            self.complete = ev.end;
            if h.log_pos != 0 {
                self.complete_pos = h.log_pos as u64;
            }
        }
        Ok(None)
    }

    /// The open transaction ends with `last`; `keep` says whether `last` is one of its
    /// changes (a standalone statement) rather than its COMMIT.
    fn finish(&mut self, last: ReadEvent, outcome: Outcome, keep: bool) -> Item {
        let mut txn = self.open.take().expect("a transaction is open").txn;
        txn.end = last.end;
        txn.end_pos = last.header.log_pos as u64;
        txn.outcome = outcome;
        txn.time = txn.time.max(last.header.timestamp);
        if keep && self.keep_events {
            txn.events.push(last);
        }
        self.complete = txn.end;
        self.complete_pos = txn.end_pos;
        Item::Transaction(txn)
    }
}

fn unreadable(name: &str, ev: &ReadEvent, e: std::io::Error) -> ReadError {
    unreadable_msg(name, ev, &format!("unreadable event: {e}"))
}

fn unreadable_msg(name: &str, ev: &ReadEvent, message: &str) -> ReadError {
    ReadError::Damaged(damaged(name, ev.offset, message))
}

/// Event types that start a transaction.
fn is_start(t: u8) -> bool {
    t == mariadb::GTID || t == EventType::GTID_EVENT as u8 || t == EventType::ANONYMOUS_GTID_EVENT as u8
}

/// Event types that carry a transaction's changes or what its statements need.
fn is_change(t: u8) -> bool {
    use EventType::*;
    [
        TABLE_MAP_EVENT,
        WRITE_ROWS_EVENT_V1,
        UPDATE_ROWS_EVENT_V1,
        DELETE_ROWS_EVENT_V1,
        WRITE_ROWS_EVENT,
        UPDATE_ROWS_EVENT,
        DELETE_ROWS_EVENT,
        PARTIAL_UPDATE_ROWS_EVENT,
        INTVAR_EVENT,
        RAND_EVENT,
        USER_VAR_EVENT,
    ]
    .iter()
    .any(|k| *k as u8 == t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_a_binlog_are_refused_with_the_offset() {
        let e = EventReader::new("x.bin".into(), &b"hello"[..], 5).err().unwrap();
        assert!(e.to_string().contains("x.bin (byte 0)"), "{e}");
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&[0u8; 10]);
        let mut r = EventReader::new("y.bin".into(), &data[..], data.len() as u64).unwrap();
        match r.next_event() {
            Err(ReadError::Truncated { file, offset }) => assert_eq!((file.as_str(), offset), ("y.bin", 4)),
            _ => panic!("a short tail is a truncation"),
        }
        let mut data = MAGIC.to_vec();
        let mut header = [0u8; HEADER_LEN];
        header[4] = 15;
        header[9] = 5; // size 5 < header
        data.extend_from_slice(&header);
        let mut r = EventReader::new("z.bin".into(), &data[..], data.len() as u64).unwrap();
        match r.next_event() {
            Err(ReadError::Damaged(e)) => assert!(e.to_string().contains("z.bin (byte 4)"), "{e}"),
            _ => panic!("an impossible size is damage"),
        }
    }
}

/// What a whole file holds, read once: what an index records of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileScan {
    /// File offset right after the last whole transaction (or the rotate that ends the file).
    pub complete_end: u64,
    /// Upstream position right after the last whole transaction (0 when it holds none).
    pub end_pos: u64,
    /// The file goes on past `complete_end` with a transaction it does not hold whole.
    pub incomplete_tail: bool,
    pub transactions: u64,
    pub first_gtid: Option<String>,
    pub last_gtid: Option<String>,
    pub first_time: Option<u32>,
    pub last_time: Option<u32>,
    pub rotated_to: Option<String>,
    /// The server that wrote the file (its format description's server_id).
    pub server_id: Option<u32>,
}

/// Read a file through, as far as it holds whole transactions.
pub fn scan_file(path: &Path) -> Result<FileScan, SourceError> {
    let mut reader = TransactionReader::open(path)?;
    let mut scan = FileScan::default();
    loop {
        match reader.next_item() {
            Ok(Some(Item::Transaction(t))) => {
                scan.transactions += 1;
                if scan.first_gtid.is_none() {
                    scan.first_gtid = t.gtid.clone();
                    scan.first_time = Some(t.time);
                }
                scan.last_gtid = t.gtid.or(scan.last_gtid.take());
                scan.last_time = Some(t.time);
            }
            Ok(Some(Item::Rotate { next, .. })) => scan.rotated_to = Some(next),
            Ok(None) => break,
            Err(ReadError::Truncated { .. }) => {
                scan.incomplete_tail = true;
                break;
            }
            Err(ReadError::Damaged(e)) => return Err(e),
        }
    }
    scan.complete_end = reader.complete_end();
    scan.end_pos = reader.complete_pos();
    scan.server_id = reader.events.server_id;
    Ok(scan)
}
