//! The server's side: a replica connection that streams the binlog, and what each event it
//! sends means for the log.
//!
//! A dump begins with an artificial rotate naming the file and position, then that file's
//! format description; MariaDB adds a heartbeat when nothing happens for a period (asked for
//! below). None of those artificial events is in the server's file, so none goes into a
//! segment. MariaDB sends its own GTID events only to a replica that says it understands them
//! (`@mariadb_slave_capability = 4`, GTID capability); an older capability gets them replaced
//! by `BEGIN` queries and the GTIDs are lost. At that capability the server leaves out
//! Annotate_rows events (the statement text) unless the dump request asks for them, which
//! mysql_async cannot: segments hold every other event, each with its upstream position.

use std::time::Duration;

use futures::StreamExt;
use mysql_async::prelude::*;
use mysql_async::{BinlogStream, BinlogStreamRequest, Opts};
use mysql_common::binlog::consts::{BinlogChecksumAlg, BinlogVersion, EventType};
use mysql_common::binlog::events::Event;

use crate::binlog::file::{mariadb, unreadable_type, Header};
use crate::binlog::position::BinlogPos;
use crate::error::TargetError;
use crate::target::mysql::{classify, connect_source};

/// How often an idle server sends a heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// Silence for this long (no event, no heartbeat) means the connection is lost, even when TCP
/// has not noticed yet.
pub const SILENCE: Duration = Duration::from_secs(15);

/// `LOG_EVENT_ARTIFICIAL_F`: made up by the dump thread, not in the file.
const ARTIFICIAL: u16 = 0x20;
/// MySQL 8's second heartbeat format.
const HEARTBEAT_V2: u8 = 41;

/// One event of the stream, as the log takes it.
pub enum Incoming {
    /// The stream is at `file:pos`: a dump's start, or the next file.
    At { file: String, pos: u64 },
    /// The format description of the file the stream is in, serialised as received.
    Format(Vec<u8>),
    /// Nothing new: the server's binlog ends at `pos` of the file the stream is in.
    Heartbeat { pos: u64 },
    /// An event of the server's file, serialised as received (its checksum checked).
    Event(Vec<u8>, Event),
    /// Artificial, and of no use here (MariaDB's GTID list when a dump starts by GTID).
    Skip,
}

/// What the stream's event is. Errors are what no retry fixes: an event hoist cannot read.
pub fn classify_event(event: Event) -> Result<Incoming, StreamError> {
    let h = event.header();
    let t = h.event_type_raw();
    let (flags, timestamp, log_pos) = (h.flags_raw(), h.timestamp(), h.log_pos());
    if t == EventType::ROTATE_EVENT as u8 && (flags & ARTIFICIAL != 0 || (timestamp == 0 && log_pos == 0)) {
        return Ok(rotate_target(&event));
    }
    if t == EventType::HEARTBEAT_EVENT as u8 || t == HEARTBEAT_V2 {
        return Ok(Incoming::Heartbeat { pos: log_pos as u64 });
    }
    if flags & ARTIFICIAL != 0 && t != EventType::FORMAT_DESCRIPTION_EVENT as u8 {
        return Ok(Incoming::Skip);
    }
    if let Some(why) = unreadable_type(t) {
        return Err(StreamError::Unreadable(format!("the server sent {why}")));
    }
    if let (Some(stored), Ok(Some(alg))) = (event.checksum(), event.footer().get_checksum_alg()) {
        if alg == BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32 && u32::from_le_bytes(stored) != event.calc_checksum(alg)
        {
            return Err(StreamError::Lost(format!(
                "an event (type {t}, ending at {log_pos}) arrived with a wrong CRC32 checksum"
            )));
        }
    }
    let mut bytes = Vec::with_capacity(h.event_size() as usize);
    event.write(BinlogVersion::Version4, &mut bytes).map_err(|e| StreamError::Unreadable(e.to_string()))?;
    if bytes.len() != h.event_size() as usize || Header::parse(&bytes).log_pos != log_pos {
        return Err(StreamError::Unreadable(format!(
            "an event (type {t}, ending at {log_pos}) of {} bytes does not write back as the {} it arrived as",
            bytes.len(),
            h.event_size()
        )));
    }
    if t == EventType::FORMAT_DESCRIPTION_EVENT as u8 {
        return Ok(Incoming::Format(bytes));
    }
    Ok(Incoming::Event(bytes, event))
}

/// The artificial rotate's file and position. Sent before the format description, it may end
/// with a CRC32 the reader could not know to cut: a name never ends in the checksum of the rest.
fn rotate_target(event: &Event) -> Incoming {
    let data = event.data();
    let pos = data.get(..8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))).unwrap_or(4);
    let mut name = data.get(8..).unwrap_or_default();
    if name.len() > 4 {
        let (rest, crc) = name.split_at(name.len() - 4);
        let h = event.header();
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&h.timestamp().to_le_bytes());
        hasher.update(&[h.event_type_raw()]);
        hasher.update(&h.server_id().to_le_bytes());
        hasher.update(&h.event_size().to_le_bytes());
        hasher.update(&h.log_pos().to_le_bytes());
        hasher.update(&h.flags_raw().to_le_bytes());
        hasher.update(&data[..8]);
        hasher.update(rest);
        if hasher.finalize() == u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            name = rest;
        }
    }
    Incoming::At { file: String::from_utf8_lossy(name).into_owned(), pos }
}

/// Why a stream stopped.
#[derive(Debug)]
pub enum StreamError {
    /// The connection is gone (or not to be trusted): reconnect and continue.
    Lost(String),
    /// The server refused (a purged or bad position, a privilege): no retry helps.
    Server(TargetError),
    /// An event hoist cannot keep.
    Unreadable(String),
}

impl From<mysql_async::Error> for StreamError {
    fn from(e: mysql_async::Error) -> Self {
        let e = classify(e);
        if e.transient {
            StreamError::Lost(e.message)
        } else {
            StreamError::Server(e)
        }
    }
}

/// Register as a replica with `server_id` and ask for the binlog from `from`.
pub async fn open(opts: &Opts, server_id: u32, from: &BinlogPos) -> Result<BinlogStream, StreamError> {
    let mut conn = connect_source(opts).await.map_err(|e| match e.transient {
        true => StreamError::Lost(e.message.clone()),
        false => StreamError::Server(e),
    })?;
    replica_session(&mut conn).await?;
    let request = BinlogStreamRequest::new(server_id).with_filename(from.file.as_bytes()).with_pos(from.pos);
    Ok(conn.get_binlog_stream(request).await?)
}

/// What a replica tells the server before the dump: MariaDB's GTID capability, and heartbeats
/// while idle (nanoseconds). Both are user variables, harmless on MySQL, which reads the
/// second too.
async fn replica_session(conn: &mut mysql_async::Conn) -> Result<(), mysql_async::Error> {
    conn.query_drop(format!("SET @mariadb_slave_capability = 4, @master_heartbeat_period = {}", HEARTBEAT.as_nanos()))
        .await
}

/// The position right after MariaDB's GTID state `gtid` (a `gtid_binlog_pos`: the last GTID of
/// each domain), found the way a GTID replica connects: the server looks the state up in its
/// binlog (`@slave_connect_state`, strict, so a GTID it never logged is an error, not a skip)
/// and streams from there. The first artificial GTID list, GTID event or heartbeat says where.
pub async fn resolve_gtid(opts: &Opts, server_id: u32, gtid: &str) -> Result<BinlogPos, StreamError> {
    let mut conn = connect_source(opts).await.map_err(StreamError::Server)?;
    replica_session(&mut conn).await?;
    conn.exec_drop("SET @slave_connect_state = ?, @slave_gtid_strict_mode = 1", (gtid,)).await?;
    let mut stream = conn.get_binlog_stream(BinlogStreamRequest::new(server_id).with_pos(4u64)).await?;
    let mut file = None;
    loop {
        let next = tokio::time::timeout(SILENCE, stream.next()).await;
        let event = match next {
            Ok(Some(event)) => event?,
            Ok(None) => return Err(StreamError::Lost("the server ended the stream".into())),
            Err(_) => return Err(StreamError::Lost(format!("nothing from the server for {} s", SILENCE.as_secs()))),
        };
        let h = event.header();
        let t = h.event_type_raw();
        let at = |pos: u64, file: &Option<String>| file.as_ref().map(|f| BinlogPos::new(f, pos));
        let found = match t {
            t if t == mariadb::GTID_LIST && h.flags_raw() & ARTIFICIAL != 0 => at(h.log_pos() as u64, &file),
            t if t == mariadb::GTID => at((h.log_pos() - h.event_size()) as u64, &file),
            _ => match classify_event(event)? {
                Incoming::At { file: f, .. } => {
                    file = Some(f);
                    None
                }
                Incoming::Heartbeat { pos } => at(pos, &file),
                _ => None,
            },
        };
        if let Some(pos) = found {
            let _ = stream.close().await;
            return Ok(pos);
        }
    }
}
