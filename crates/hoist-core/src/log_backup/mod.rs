//! `hoist log start`: a continuous backup of a server's binlog, and `hoist log status`.
//!
//! hoist registers with the server as a replica (a `server_id` of its own) and writes the
//! events it streams into segments, valid binlog files that `mariadb-binlog` reads, with an
//! index of what each covers ([`segments`] has the layout and its invariants):
//!
//! ```text
//! preflight   server checks and refusals, where the log starts, whether the server still has it
//!   -> stream   replica connection; each event classified: artificial, heartbeat, of the file
//!   -> segments appended as received, grouped into transactions (binlog::file::Grouper);
//!               synced, then the index put, every 0.3 s while data comes
//! status      what a log directory covers, and how far behind its server it is
//! ```
//!
//! The checkpoint is the index's end: the upstream position after the last durable whole
//! transaction. Everything restarts from it: a lost connection or a server restart (the
//! transaction under way is cut, and the stream resumes from the end, with backoff), a
//! `kill -9` (the next run cuts the last segment back to it and removes what the index does
//! not name), a SIGTERM (what is whole is flushed first). So the log never misses a
//! transaction and never holds one twice. A log is bound to its server (`cluster_id`, as a
//! backup's manifest names it): another server, or a start that is not the log's, is refused.

pub mod lease;
mod preflight;
pub mod segments;
pub mod status;
mod stream;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use mysql_async::Opts;

use crate::binlog::index::LogIndex;
use crate::binlog::position::BinlogPos;
use crate::error::TargetError;
use crate::progress::mb;
use crate::redact::redact_url;
use crate::status::{JobState, LogProgress, Status};
use crate::target::mysql::{check_source_url, connect_source};
use preflight::Source;
use segments::Log;
use stream::{Incoming, StreamError};

/// Where a new log starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The server's current position.
    Current,
    Pos(BinlogPos),
    /// After this MariaDB GTID position (`gtid_binlog_pos`, as a backup's manifest records it).
    Gtid(String),
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `mysql://user:pass@host:port`
    pub source: String,
    pub storage: PathBuf,
    pub start: Start,
    /// The replica id to register with; default: derived from the storage directory.
    pub server_id: Option<u32>,
    /// A segment is closed once it holds this many bytes (at a transaction's end).
    pub segment_size: u64,
    /// In object storage, an open segment is closed (and put) after this long; default
    /// [`segments::DEFAULT_INTERVAL`]. It bounds what a `kill -9` loses from the store.
    pub segment_interval: Option<Duration>,
    /// For every connection to the source, the replication one too.
    pub tls: crate::tls::Tls,
    /// The job's progress model, which the caller may serve (`--status-addr`).
    pub status: Status,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    #[error("{0}")]
    Refused(String),
    #[error("source: {0}")]
    Source(TargetError),
    #[error("storage {location}: {message}")]
    Storage { location: String, message: String },
}

/// What a run did, and what the log covers after it.
#[derive(Debug, Clone)]
pub struct LogReport {
    pub storage: String,
    pub index: LogIndex,
    pub transactions: u64,
    pub bytes: u64,
    pub reconnects: u32,
    pub elapsed: Duration,
}

/// Flush what is whole at least this often while data comes: with the tick, the durable end
/// of the log trails the server by about half a second at most (an fsync and an index put,
/// a few times a second, cost little next to the stream).
const FLUSH_EVERY: Duration = Duration::from_millis(300);
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
const TICK: Duration = Duration::from_millis(200);
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(10);

/// Run until `stop` is set: the normal end of a log, which then reports what it covers.
pub async fn run(settings: LogSettings, stop: Arc<AtomicBool>) -> Result<LogReport, LogError> {
    let started = Instant::now();
    let url = settings.source.as_str();
    check_source_url(url).map_err(LogError::Refused)?;
    let (opts, conn) = crate::tls::connect(url, &settings.tls).await.map_err(|e| source_error(url, e))?;
    let source = inspect_on(conn, url).await?;
    let mut log = Log::open(&settings.storage, settings.segment_size, settings.segment_interval)?;
    settings.status.set_job(redact_url(&log.root().display().to_string()));
    let server_id = preflight::replica_id(settings.server_id, log.root(), source.server_id)?;
    let start = choose_start(&settings, &source, &log, &opts, server_id).await?;
    // Registered and streaming before the directory is touched: a refusal (no REPLICATION
    // SLAVE, a position the server will not stream from) leaves it as it was.
    let opened = stream::open(&opts, server_id, &start).await;
    let mut opened = Some(opened.map_err(|e| match stream_refusal(e, url, &source.user, &start) {
        Ended::Lost(m) => LogError::Source(TargetError { code: None, message: m, transient: true }),
        Ended::Fatal(e) => e,
    })?);
    for note in log.recover(&source.cluster_id)? {
        tracing::info!("{note}");
    }
    tracing::info!(
        "log of {} ({}) into {}, from {start}, as replica server_id {server_id}",
        redact_url(url),
        source.cluster_id,
        log.root().display()
    );
    let mut watch = Watch::new(settings.status.clone());
    let mut attempt = 0u32;
    let mut reconnects = 0;
    while !stop.load(Ordering::SeqCst) {
        let from = log.next_pos().unwrap_or_else(|| start.clone());
        let result = session(
            &mut log,
            &opts,
            url,
            server_id,
            &from,
            &source.user,
            opened.take(),
            &stop,
            &mut watch,
            &mut attempt,
        )
        .await;
        match result {
            Ok(()) => break,
            Err(Ended::Lost(why)) => {
                log.drop_partial()?;
                log.flush()?;
                attempt += 1;
                reconnects += 1;
                settings.status.set_state(JobState::Reconnecting);
                settings.status.log(|l| l.reconnects = reconnects);
                let wait = backoff(attempt);
                let at = log.next_pos().unwrap_or_else(|| start.clone());
                tracing::warn!(
                    "lost the source ({why}); reconnecting from {at} in {:.1} s (attempt {attempt})",
                    wait.as_secs_f64()
                );
                let until = Instant::now() + wait;
                while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                    tokio::time::sleep(TICK).await;
                    log.tick()?;
                }
            }
            Err(Ended::Fatal(e)) => {
                log.close()?;
                return Err(e);
            }
        }
    }
    log.close()?;
    // What close made durable, in the model before the summary.
    watch.update(&log);
    Ok(LogReport {
        storage: log.root().display().to_string(),
        index: log.index().clone(),
        transactions: log.stats().transactions,
        bytes: log.stats().bytes,
        reconnects,
        elapsed: started.elapsed(),
    })
}

/// Why a session ended, when not by `stop`.
enum Ended {
    /// Reconnect and continue from the log's end.
    Lost(String),
    Fatal(LogError),
}

impl From<LogError> for Ended {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Source(t) if t.transient => Ended::Lost(t.message),
            e => Ended::Fatal(e),
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    BACKOFF_FIRST.saturating_mul(1 << attempt.saturating_sub(1).min(8)).min(BACKOFF_CAP)
}

/// Connect, check the server, and disconnect.
async fn inspect(opts: &Opts, url: &str) -> Result<Source, LogError> {
    let conn = connect_source(opts).await.map_err(|e| source_error(url, e))?;
    inspect_on(conn, url).await
}

/// Check the server on this connection, and disconnect.
async fn inspect_on(mut conn: mysql_async::Conn, url: &str) -> Result<Source, LogError> {
    let source = preflight::inspect(&mut conn, url).await;
    let _ = conn.disconnect().await;
    source
}

/// A connection to the source failed: the error, with the source's URL in front.
fn source_error(url: &str, e: TargetError) -> LogError {
    LogError::Source(TargetError { message: format!("{}: {}", redact_url(url), e.message), ..e })
}

/// Where this run streams from: a new log's start, or the end of the one in the directory,
/// which a given start must agree with (the same command run again names the log's first
/// start; a start anywhere else would leave a gap or hold transactions twice).
async fn choose_start(
    settings: &LogSettings,
    source: &Source,
    log: &Log,
    opts: &Opts,
    server_id: u32,
) -> Result<BinlogPos, LogError> {
    let url = settings.source.as_str();
    let index = log.index();
    if !index.cluster_id.is_empty() && index.cluster_id != source.cluster_id {
        return Err(LogError::Refused(format!(
            "{} holds the log of the server {} ({}), and {} is the server {}: a log directory holds one server's \
             binlog; give --storage a new directory for this server",
            log.root().display(),
            index.cluster_id,
            segments::SEGMENTS_DIR,
            redact_url(url),
            source.cluster_id
        )));
    }
    let given = match &settings.start {
        Start::Current => None,
        Start::Pos(p) => Some((p.clone(), format!("--start-pos {p}"))),
        Start::Gtid(g) => {
            if source.flavor != crate::backup::Flavor::MariaDb {
                return Err(LogError::Refused(
                    "--start-gtid takes a MariaDB GTID position; on MySQL give --start-pos FILE:POS".into(),
                ));
            }
            let pos = stream::resolve_gtid(opts, server_id, g).await.map_err(|e| match e {
                StreamError::Server(e) => LogError::Refused(format!(
                    "{} cannot stream from the GTID position {g}: {}; give a GTID position the server still has \
                     in its binlog (SELECT @@gtid_binlog_pos, or a backup's position.gtid), or --start-pos",
                    redact_url(url),
                    e.message
                )),
                StreamError::Lost(m) | StreamError::Unreadable(m) => {
                    LogError::Source(TargetError { code: None, message: m, transient: false })
                }
            })?;
            Some((pos, format!("--start-gtid {g}")))
        }
    };
    let Some(end) = log.next_pos() else {
        let from = given.as_ref().map(|(p, _)| p.clone()).unwrap_or_else(|| source.position.clone());
        let asked = given.map(|(_, a)| a).unwrap_or_else(|| format!("the current position {from}"));
        let fix = format!(
            "give a position the server has, or leave --start-pos out to start at its current position ({})",
            source.position
        );
        preflight::check_start(source, url, &from, &asked, &fix)?;
        return Ok(from);
    };
    let first = index.segments.first().expect("a log with an end has a segment").start_pos();
    if let Some((pos, asked)) = given {
        if pos != end && pos != first {
            return Err(LogError::Refused(format!(
                "{asked} does not continue the log in {}, which covers {first} .. {end} (hoist-log.json): \
                 run the command without it to continue the log, or give --storage a new directory to start \
                 another log at {pos}",
                log.root().display()
            )));
        }
    }
    let asked = format!("the log in {} continues at {end}", log.root().display());
    let fix = "this log cannot continue without a gap: give --storage a new directory to start a new log (and \
               take a new backup, since a restore needs the log from the backup's position on)";
    preflight::check_start(source, url, &end, &asked, fix)?;
    Ok(end)
}

/// What a stream's end means: a lost connection to retry, or a refusal worded for a person.
fn stream_refusal(e: StreamError, url: &str, user: &str, from: &BinlogPos) -> Ended {
    match e {
        StreamError::Lost(m) => Ended::Lost(m),
        StreamError::Server(e) if matches!(e.code, Some(1045 | 1227)) => Ended::Fatal(preflight::privilege_refusal(
            url,
            user,
            "register as a replica and read the binlog (REPLICATION SLAVE)",
            &e.message,
        )),
        StreamError::Server(e) => Ended::Fatal(LogError::Refused(format!(
            "{} refused to stream its binlog from {from}: {}",
            redact_url(url),
            e.message
        ))),
        StreamError::Unreadable(m) => Ended::Fatal(LogError::Refused(format!("{}: {m}", redact_url(url)))),
    }
}

/// One connection's stream (`opened`, or a new one), until `stop` (Ok), a lost connection or
/// a refusal.
#[allow(clippy::too_many_arguments)]
async fn session(
    log: &mut Log,
    opts: &Opts,
    url: &str,
    server_id: u32,
    from: &BinlogPos,
    user: &str,
    opened: Option<mysql_async::BinlogStream>,
    stop: &AtomicBool,
    watch: &mut Watch,
    attempt: &mut u32,
) -> Result<(), Ended> {
    let refused = |e: StreamError| stream_refusal(e, url, user, from);
    let mut events = match opened {
        Some(events) => events,
        None => {
            // A reconnect may reach a restarted server, or another one on the same address.
            let source = inspect(opts, url).await?;
            if source.cluster_id != log.index().cluster_id {
                return Err(Ended::Fatal(LogError::Refused(format!(
                    "{} is now the server {}, while the log is of {}: stopped, so that one log holds one server",
                    redact_url(url),
                    source.cluster_id,
                    log.index().cluster_id
                ))));
            }
            let asked = format!("the log continues at {from}");
            let fix = "this log cannot continue without a gap: give --storage a new directory to start a new log";
            preflight::check_start(&source, url, from, &asked, fix)?;
            let events = stream::open(opts, server_id, from).await.map_err(refused)?;
            tracing::info!("reconnected to {}; streaming from {from}", redact_url(url));
            events
        }
    };
    watch.status.set_state(JobState::Streaming);
    let mut tick = tokio::time::interval(TICK);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            next = events.next() => {
                let event = match next {
                    None => return Err(Ended::Lost("the server ended the binlog stream".into())),
                    Some(Err(e)) => return Err(refused(StreamError::from(e))),
                    Some(Ok(event)) => event,
                };
                last_heard = Instant::now();
                *attempt = 0;
                match stream::classify_event(event).map_err(refused)? {
                    Incoming::At { file, pos } => log.at(&file, pos)?,
                    Incoming::Format(bytes) => log.format_description(bytes),
                    Incoming::Heartbeat { .. } => {
                        log.heartbeat()?;
                        watch.caught_up = true;
                    }
                    Incoming::Event(bytes, event) => {
                        log.event(&bytes, event)?;
                        watch.caught_up = false;
                    }
                    Incoming::Skip => {}
                }
            }
            _ = tick.tick() => {
                if stop.load(Ordering::SeqCst) {
                    let _ = events.close().await;
                    return Ok(());
                }
                if last_heard.elapsed() > stream::SILENCE {
                    return Err(Ended::Lost(format!(
                        "nothing from the server for {} s, not even a heartbeat",
                        stream::SILENCE.as_secs()
                    )));
                }
                log.tick()?;
                watch.update(log);
            }
        }
        if log.dirty_since().is_some_and(|t| t.elapsed() >= FLUSH_EVERY) {
            log.flush()?;
        }
    }
}

/// The log's place in the job's model, kept current every tick, and the progress line every
/// few seconds, read from it.
struct Watch {
    status: Status,
    last: Instant,
    /// The server said it has nothing newer (a heartbeat came after the last event).
    caught_up: bool,
}

impl Watch {
    fn new(status: Status) -> Watch {
        Watch { status, last: Instant::now(), caught_up: false }
    }

    fn update(&mut self, log: &Log) {
        let stats = log.stats();
        let segments = &log.index().segments;
        let last_commit = segments.iter().rev().find_map(|s| s.last_time);
        let lag = match self.caught_up {
            true => Some(0),
            false => last_commit.map(|t| now_secs().saturating_sub(u64::from(t))),
        };
        self.status.log(|l| {
            l.position = log.next_pos().map(|p| p.to_string());
            l.gtid = segments.iter().rev().find_map(|s| s.last_gtid.clone());
            l.last_commit = last_commit;
            l.caught_up = self.caught_up;
            l.lag_seconds = lag;
            l.transactions = stats.transactions;
            l.bytes = stats.bytes;
        });
        if self.last.elapsed() >= PROGRESS_EVERY {
            self.last = Instant::now();
            tracing::info!("{}", log_line(&self.status.log_progress().unwrap_or_default()));
        }
    }
}

/// `log: 12 transactions, 0.1 MB this run; at binlog.000001:1234 (GTID 0-1-12); caught up`
fn log_line(l: &LogProgress) -> String {
    let lag = match (l.caught_up, l.lag_seconds) {
        (true, _) => "caught up".to_string(),
        (false, Some(s)) => format!("{s} s behind"),
        (false, None) => "behind".to_string(),
    };
    format!(
        "log: {} transactions, {} MB this run; at {}{}; {lag}",
        l.transactions,
        mb(l.bytes),
        l.position.as_deref().unwrap_or("(nothing yet)"),
        l.gtid.as_ref().map(|g| format!(" (GTID {g})")).unwrap_or_default()
    )
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b: Vec<u64> = (1..=8).map(|a| super::backoff(a).as_millis() as u64).collect();
        assert_eq!(b, [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
    }

    #[test]
    fn the_log_line_says_where_the_log_is_and_how_far_behind() {
        let mut l = LogProgress {
            position: Some("binlog.000002:1234".into()),
            gtid: Some("0-1-12".into()),
            lag_seconds: Some(3),
            transactions: 12,
            bytes: 150_000,
            ..Default::default()
        };
        assert_eq!(
            log_line(&l),
            "log: 12 transactions, 0.1 MB this run; at binlog.000002:1234 (GTID 0-1-12); 3 s behind"
        );
        l.caught_up = true;
        assert!(log_line(&l).ends_with("; caught up"));
        let empty = LogProgress::default();
        assert_eq!(log_line(&empty), "log: 0 transactions, 0.0 MB this run; at (nothing yet); behind");
    }
}
