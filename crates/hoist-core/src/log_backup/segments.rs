//! The log directory on disk: segment files and the index that says how much of them counts.
//!
//! ```text
//! LOGDIR/hoist-log.json                 LogIndex (binlog::index), rewritten atomically
//! LOGDIR/segments/<file>-<start>.bin    binlog files: magic, the upstream's format
//!                                       description, then whole events as the server sent them
//! LOGDIR/hoist-log.lock                 held (flock) by the one `log start` writing here
//! ```
//!
//! In object storage (`s3://bucket/prefix`) the layout is the same, but an object has no
//! append: the open segment is spooled to a local temp file and put whole (`If-None-Match: *`)
//! when it is closed, by size, by `--segment-interval`, at the upstream's rotate or at a
//! clean stop. The index names closed segments only, and is put (`If-Match` on the version
//! read at start) after the segment objects it names exist. So "durable" on S3 is "in a closed
//! segment": a `kill -9` loses the open segment's spool, and the next run streams those
//! transactions again from the server, from the index's end. One writer holds the lease
//! object ([`super::lease`]) instead of the lock file.
//!
//! Invariants:
//! - A segment holds events of one upstream file. Each event is written as received, so its
//!   header's `log_pos` is its upstream position and the file reads with any binlog reader.
//! - The index only lists what is durable: a segment's bytes are fsynced before the index that
//!   counts them is put, and a new segment file (and its directory entry) before the index that
//!   names it. A segment's `bytes`/`end` move only to the end of a whole item (a transaction,
//!   or an event outside any, such as a binlog checkpoint), as [`Grouper`] finds them.
//! - Bytes past a segment's `bytes` are a transaction under way, or were written by a run that
//!   was killed before it indexed them. Recovery ([`Log::recover`]) cuts the last segment back
//!   to `bytes` and removes segment files the index does not name; the log then continues from
//!   its end, so nothing is missing and nothing is held twice.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mysql_common::binlog::events::Event;

use super::lease::Lease;
use super::LogError;
use crate::binlog::file::{scan_file, FileScan, Grouper, Header, Item, ReadEvent, MAGIC};
use crate::binlog::index::{LogIndex, Segment, FIRST_EVENT, FORMAT_VERSION, INDEX_FILE};
use crate::binlog::position::BinlogPos;
use crate::storage::{Storage, PARTIAL_SUFFIX};
use object_store::UpdateVersion;

pub const SEGMENTS_DIR: &str = "segments";
pub const LOCK_FILE: &str = super::lease::LEASE_FILE;

/// A segment's name: the upstream file it holds, then the position it starts at, zero-padded
/// so that a directory listing sorts like the upstream.
pub fn segment_name(server_file: &str, start: u64) -> String {
    format!("{server_file}-{start:010}.bin")
}

/// Read a log directory's index; None when there is none yet.
pub fn read_index(root: &Path) -> Result<Option<LogIndex>, LogError> {
    let path = root.join(INDEX_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(storage(&path, e)),
    };
    LogIndex::parse(&bytes, &path.display().to_string()).map(Some).map_err(LogError::Refused)
}

/// Cut a segment file back to `bytes` (what its index entry counts) and check that what is
/// left is whole: it reads to its end without a half transaction, holding the transactions
/// the index records. Returns how many bytes were cut.
pub fn cut_back(path: &Path, segment: &Segment) -> Result<u64, LogError> {
    let len = std::fs::metadata(path).map_err(|e| storage(path, e))?.len();
    if len < segment.bytes {
        return Err(LogError::Refused(format!(
            "{}: {len} bytes, fewer than the {} its index entry counts: the file was cut or replaced outside \
             hoist, and the log cannot continue from it; move {} away and start a new log",
            path.display(),
            segment.bytes,
            path.parent().and_then(Path::parent).unwrap_or(path).display()
        )));
    }
    if len > segment.bytes {
        let file = File::options().write(true).open(path).map_err(|e| storage(path, e))?;
        file.set_len(segment.bytes).map_err(|e| storage(path, e))?;
        file.sync_all().map_err(|e| storage(path, e))?;
    }
    let scan: FileScan = scan_file(path).map_err(|e| LogError::Refused(format!("the log is damaged: {e}")))?;
    if scan.incomplete_tail || scan.transactions != segment.transactions || scan.last_gtid != segment.last_gtid {
        return Err(LogError::Refused(format!(
            "{}: its first {} bytes hold {} transactions (last GTID {:?}), while its index entry says {} (last GTID \
             {:?}): the log is damaged; move it away and start a new log",
            path.display(),
            segment.bytes,
            scan.transactions,
            scan.last_gtid,
            segment.transactions,
            segment.last_gtid
        )));
    }
    Ok(len - segment.bytes)
}

/// The segment being appended to.
struct Current {
    /// Its file; in object storage its object's location (the bytes are in a spool file).
    path: PathBuf,
    out: BufWriter<File>,
    /// File offset where the next event goes.
    written: u64,
    grouper: Grouper,
    opened: Instant,
}

/// Where the segments go.
enum Sink {
    /// A local directory: segments appended in place and synced; one writer by `flock`.
    Local { segments: PathBuf, _lock: File },
    /// An object store: segments spooled, put whole when closed.
    Objects(Objects),
    /// After a clean stop in an object store: the lease let go.
    Closed,
}

struct Objects {
    lease: Lease,
    /// The index's version as this run read or last put it (None: there was none).
    index_version: Option<UpdateVersion>,
    /// How many of the index's segments are objects; the last one is open otherwise.
    closed: usize,
    /// Segments closed since the index was last put.
    unindexed: bool,
    /// An open segment older than this is closed at its next whole transaction.
    interval: Duration,
}

/// The default `--segment-interval` in object storage: the most a `kill -9` loses (and the
/// next run reads again from the server), against one object per minute at least.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// Where the stream is before its events reach a segment: a new segment starts here once the
/// server has sent something after its format description (a bad start position is refused
/// right after it, and must leave no segment behind).
struct Pending {
    file: String,
    pos: u64,
}

/// What this run has appended, for progress lines and the summary.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub transactions: u64,
    pub bytes: u64,
    /// Commit time of the last transaction appended.
    pub last_time: Option<u32>,
}

pub struct Log {
    dir: Storage,
    root: PathBuf,
    sink: Sink,
    index: LogIndex,
    segment_size: u64,
    current: Option<Current>,
    pending: Option<Pending>,
    /// The format description of the upstream file the stream is in; every segment of that
    /// file starts with it.
    format: Option<Vec<u8>>,
    /// Complete items appended since the last flush, and since when.
    dirty: Option<Instant>,
    stats: RunStats,
}

impl Log {
    /// Open (creating it if missing) and lock a log directory, and read its index. Nothing is
    /// changed yet: a refusal after this leaves the directory as it was.
    /// `interval`: in object storage, close the open segment after this long (default
    /// [`DEFAULT_INTERVAL`]); a local segment is durable as it grows and is not closed by time.
    pub fn open(root: &Path, segment_size: u64, interval: Option<Duration>) -> Result<Log, LogError> {
        let shown = crate::redact::redact_url(&root.to_string_lossy());
        let dir = Storage::create(root).map_err(|e| LogError::Storage { location: shown, message: e.to_string() })?;
        let root = PathBuf::from(dir.location());
        let ours = |n: &str| {
            n == INDEX_FILE || n == format!("{INDEX_FILE}{PARTIAL_SUFFIX}") || n == SEGMENTS_DIR || n == LOCK_FILE
        };
        let names = dir.list().map_err(|e| storage(&root, e))?;
        if let Some(other) = names.iter().find(|n| !ours(n)) {
            return Err(LogError::Refused(format!(
                "{} holds files that are not a log of hoist's (e.g. {other}); give --storage an empty or new \
                 directory, or one that hoist log start wrote",
                root.display()
            )));
        }
        let (sink, index) = if dir.is_object_store() {
            // The lease first: the index read after it is the one this run continues.
            let lease = Lease::claim(&dir)?;
            let found = dir.read_versioned(INDEX_FILE).map_err(|e| storage(&root, e))?;
            let shown = format!("{}/{INDEX_FILE}", root.display());
            let index =
                found.as_ref().map(|f| LogIndex::parse(&f.bytes, &shown)).transpose().map_err(LogError::Refused)?;
            let closed = index.as_ref().map_or(0, |i| i.segments.len());
            let objects = Objects {
                lease,
                index_version: found.map(|f| f.version),
                closed,
                unindexed: false,
                interval: interval.unwrap_or(DEFAULT_INTERVAL).max(Duration::from_secs(1)),
            };
            (Sink::Objects(objects), index)
        } else {
            (Sink::Local { segments: root.join(SEGMENTS_DIR), _lock: lock_dir(&root)? }, read_index(&root)?)
        };
        let index = index.unwrap_or(LogIndex {
            format_version: FORMAT_VERSION,
            cluster_id: String::new(),
            segments: Vec::new(),
        });
        Ok(Log {
            sink,
            dir,
            root,
            index,
            segment_size: segment_size.max(1),
            current: None,
            pending: None,
            format: None,
            dirty: None,
            stats: RunStats::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn index(&self) -> &LogIndex {
        &self.index
    }

    pub fn stats(&self) -> &RunStats {
        &self.stats
    }

    /// Make the directory continue from its last durable point, bound to `cluster_id`: the last
    /// segment cut back to what the index counts, segment files the index does not name (a
    /// killed run's) removed. Returns what was done, for the log.
    pub fn recover(&mut self, cluster_id: &str) -> Result<Vec<String>, LogError> {
        if self.index.cluster_id.is_empty() {
            self.index.cluster_id = cluster_id.to_string();
        }
        // An object store's index names closed segments only: nothing to cut back. An object a
        // killed run put but did not index is replaced when this run closes that segment.
        let Sink::Local { segments, .. } = &self.sink else {
            return Ok(Vec::new());
        };
        let segments = segments.clone();
        let mut notes = Vec::new();
        std::fs::create_dir_all(&segments).map_err(|e| storage(&segments, e))?;
        self.dir.remove(&format!("{INDEX_FILE}{PARTIAL_SUFFIX}")).map_err(|e| storage(&self.root, e))?;
        let mut stray = Vec::new();
        for entry in std::fs::read_dir(&segments).map_err(|e| storage(&segments, e))? {
            let name = entry.map_err(|e| storage(&segments, e))?.file_name().to_string_lossy().into_owned();
            if !self.index.segments.iter().any(|s| s.name == format!("{SEGMENTS_DIR}/{name}")) {
                stray.push(name);
            }
        }
        if self.index.segments.is_empty() && stray.len() > 1 {
            return Err(LogError::Refused(format!(
                "{} holds {} segment files but no {INDEX_FILE}: this is not a log hoist can continue (a killed \
                 first run leaves one at most); move the directory away and start a new log",
                segments.display(),
                stray.len()
            )));
        }
        for name in stray {
            std::fs::remove_file(segments.join(&name)).map_err(|e| storage(&segments, e))?;
            notes.push(format!("removed {SEGMENTS_DIR}/{name}: a killed run wrote it after the last durable point"));
        }
        for s in &self.index.segments {
            let path = self.root.join(&s.name);
            let len = std::fs::metadata(&path).map_err(|e| storage(&path, e))?.len();
            if len < s.bytes {
                return Err(LogError::Refused(format!(
                    "{}: {len} bytes, fewer than the {} the index counts: the log is damaged; move it away and start \
                     a new log",
                    path.display(),
                    s.bytes
                )));
            }
        }
        if let Some(last) = self.index.segments.last().cloned() {
            let path = self.root.join(&last.name);
            let cut = cut_back(&path, &last)?;
            if cut > 0 {
                notes.push(format!(
                    "cut {} back by {cut} bytes to its last whole transaction ({})",
                    last.name,
                    last.end_pos()
                ));
            }
            if last.rotated_to.is_none() {
                self.current = Some(open_current(&path, &last)?);
            }
        }
        Ok(notes)
    }

    /// Where the log continues upstream: after its last whole item (or at the start of the next
    /// file when its last segment ended with the upstream's rotate). None for an empty log.
    pub fn next_pos(&self) -> Option<BinlogPos> {
        self.index.segments.last().map(|s| match &s.rotated_to {
            Some(next) => BinlogPos::new(next, FIRST_EVENT),
            None => s.end_pos(),
        })
    }

    /// The stream is at `file:pos` (the server's artificial rotate, sent when a dump starts and
    /// when it moves to the next file). A move to another file that the last segment's file
    /// did not announce with a rotate (it ended with a stop event, or the server crashed) ends
    /// that segment here: the next file follows it.
    pub fn at(&mut self, file: &str, pos: u64) -> Result<(), LogError> {
        // The segment the log continues: the open one, or (after a close by size or time, or
        // in an object store after a restart) the last one, unless the upstream rotated.
        let open = self.last_segment().filter(|s| s.rotated_to.is_none()).map(|s| (s.server_file.clone(), s.end));
        match open {
            Some((open_file, end)) if open_file == file => {
                if end != pos {
                    return Err(LogError::Refused(format!(
                        "the server streams from {file}:{pos}, but the log continues at {file}:{end}"
                    )));
                }
                if self.current.is_some() {
                    return Ok(());
                }
            }
            Some(_) => {
                if pos != FIRST_EVENT {
                    let from = self.next_pos().map(|p| p.to_string()).unwrap_or_default();
                    return Err(LogError::Refused(format!(
                        "the server streams from {file}:{pos}, but the log continues at {from}"
                    )));
                }
                self.drop_partial()?;
                if let Some(s) = self.index.segments.last_mut() {
                    s.rotated_to = Some(file.to_string());
                }
                if let Sink::Objects(o) = &mut self.sink {
                    // A closed segment's `rotated_to` is the index's to say.
                    o.unindexed |= self.current.is_none();
                }
                self.end_segment()?;
            }
            None => {}
        }
        self.format = None;
        self.pending = Some(Pending { file: file.to_string(), pos });
        Ok(())
    }

    /// The format description of the file the stream is in (re-serialised as received).
    pub fn format_description(&mut self, bytes: Vec<u8>) {
        self.format = Some(bytes);
    }

    /// The server sent a heartbeat: the start position is good, so a pending segment may begin.
    pub fn heartbeat(&mut self) -> Result<(), LogError> {
        if self.pending.is_some() {
            self.begin_segment()?;
        }
        Ok(())
    }

    /// An event of the upstream file, as received: appended to the current segment. A whole
    /// transaction moves the segment's end; a rotate ends the segment.
    pub fn event(&mut self, bytes: &[u8], event: Event) -> Result<(), LogError> {
        if self.pending.is_some() {
            self.begin_segment()?;
        }
        let header = Header::parse(bytes);
        let Some(cur) = self.current.as_mut() else {
            return Err(LogError::Refused(format!(
                "the server sent an event (type {}, position {}) before naming its binlog file",
                header.type_code, header.log_pos
            )));
        };
        let offset = cur.written;
        cur.out.write_all(bytes).map_err(|e| storage(&cur.path, e))?;
        cur.written += bytes.len() as u64;
        self.stats.bytes += bytes.len() as u64;
        let ev = ReadEvent { offset, end: cur.written, header, event };
        let item =
            cur.grouper.push(ev).map_err(|e| LogError::Refused(crate::error::SourceError::from(e).to_string()))?;
        let (complete, complete_pos) = (cur.grouper.complete_end(), cur.grouper.complete_pos());
        let seg = self.index.segments.last_mut().expect("a current segment is indexed");
        if complete != seg.bytes {
            self.dirty.get_or_insert_with(Instant::now);
        }
        seg.bytes = complete;
        if complete_pos != 0 {
            seg.end = seg.end.max(complete_pos);
        }
        match item {
            Some(Item::Transaction(t)) => {
                seg.transactions += 1;
                if seg.first_time.is_none() {
                    seg.first_time = Some(t.time);
                    seg.first_gtid = t.gtid.clone();
                }
                seg.last_gtid = t.gtid.or(seg.last_gtid.take());
                seg.last_time = Some(t.time);
                self.stats.transactions += 1;
                self.stats.last_time = Some(t.time);
                if seg.bytes >= self.segment_size || self.interval_passed() {
                    self.roll()?;
                }
            }
            Some(Item::Rotate { next, .. }) => {
                seg.rotated_to = Some(next);
                self.end_segment()?;
            }
            None => {}
        }
        Ok(())
    }

    /// Called a few times a second: in an object store, the lease renewed and an open segment
    /// older than the interval closed (when no transaction is under way in it).
    pub fn tick(&mut self) -> Result<(), LogError> {
        if let Sink::Objects(o) = &mut self.sink {
            o.lease.renew_if_due()?;
        }
        let whole = self.current.as_ref().is_some_and(|c| c.written == c.grouper.complete_end());
        if whole && self.interval_passed() {
            self.roll()?;
        }
        Ok(())
    }

    /// In an object store: the open segment holds something and is older than the interval.
    fn interval_passed(&self) -> bool {
        let Sink::Objects(o) = &self.sink else { return false };
        let holds = self.last_segment().is_some_and(|s| s.end > s.start);
        holds && self.current.as_ref().is_some_and(|c| c.opened.elapsed() >= o.interval)
    }

    /// Close the open segment at its end; the next event starts a new one of the same file.
    fn roll(&mut self) -> Result<(), LogError> {
        let seg = self.last_segment().expect("a current segment is indexed");
        let pending = Pending { file: seg.server_file.clone(), pos: seg.end };
        self.end_segment()?;
        self.pending = Some(pending);
        Ok(())
    }

    /// When the oldest item not yet durable was appended.
    pub fn dirty_since(&self) -> Option<Instant> {
        self.dirty
    }

    /// Make what is whole durable. Locally: the segment's bytes synced, then the index put.
    /// In an object store only closed segments are durable: the index is put when one was
    /// closed since it was last put. (A log with no segment yet has no index: a start refused
    /// before any stream leaves none.)
    pub fn flush(&mut self) -> Result<(), LogError> {
        self.dirty = None;
        match &mut self.sink {
            Sink::Local { .. } => {
                if self.index.segments.is_empty() {
                    return Ok(());
                }
                if let Some(cur) = self.current.as_mut() {
                    cur.out.flush().map_err(|e| storage(&cur.path, e))?;
                    cur.out.get_ref().sync_data().map_err(|e| storage(&cur.path, e))?;
                }
                let json = serde_json::to_vec_pretty(&self.index).expect("an index serialises");
                self.dir.put(INDEX_FILE, &json).map_err(|e| storage(&self.root, e))
            }
            Sink::Objects(o) => {
                if !o.unindexed {
                    return Ok(());
                }
                let closed = LogIndex { segments: self.index.segments[..o.closed].to_vec(), ..self.index.clone() };
                let json = serde_json::to_vec_pretty(&closed).expect("an index serialises");
                let put = self.dir.put_if(INDEX_FILE, json, o.index_version.as_ref());
                match put.map_err(|e| storage(&self.root, e))? {
                    Some(v) => {
                        o.index_version = Some(v);
                        o.unindexed = false;
                        Ok(())
                    }
                    None => Err(super::lease::taken(&self.dir, &format!("and changed {INDEX_FILE}"))),
                }
            }
            Sink::Closed => Ok(()),
        }
    }

    /// End the open segment (an object store puts it whole, or forgets it when it holds no
    /// transaction), and make the log durable up to it.
    fn end_segment(&mut self) -> Result<(), LogError> {
        if let (Sink::Objects(o), Some(cur)) = (&mut self.sink, self.current.take()) {
            let seg = self.index.segments.last().expect("a current segment is indexed").clone();
            if seg.end == seg.start && seg.rotated_to.is_none() {
                // Nothing to keep: a later run starts a segment of the same name here.
                self.index.segments.pop();
            } else {
                let bytes = spooled(cur, seg.bytes)?;
                put_segment(&self.dir, o, &seg.name, bytes)?;
                o.closed = self.index.segments.len();
                o.unindexed = true;
            }
        }
        self.current = None;
        self.flush()
    }

    /// Forget the transaction under way (the connection that brought it is gone): its bytes
    /// are cut from the segment, and the next stream sends it again whole.
    pub fn drop_partial(&mut self) -> Result<(), LogError> {
        self.pending = None;
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        let complete = cur.grouper.complete_end();
        if cur.written != complete {
            cur.out.flush().map_err(|e| storage(&cur.path, e))?;
            let file = cur.out.get_mut();
            file.set_len(complete).map_err(|e| storage(&cur.path, e))?;
            file.seek(SeekFrom::Start(complete)).map_err(|e| storage(&cur.path, e))?;
            cur.written = complete;
        }
        let name = cur.path.display().to_string();
        cur.grouper = Grouper::new(name, complete, cur.grouper.complete_pos(), false);
        Ok(())
    }

    /// Stop: drop what is not whole, make the rest durable (an object store's open segment is
    /// put, and the lease let go).
    pub fn close(&mut self) -> Result<(), LogError> {
        self.drop_partial()?;
        if let Sink::Objects(o) = &mut self.sink {
            // A writer that lost the log to another one puts nothing more.
            o.lease.renew()?;
            self.end_segment()?;
            let released = std::mem::replace(&mut self.sink, Sink::Closed);
            if let Sink::Objects(o) = released {
                o.lease.release()?;
            }
            return Ok(());
        }
        self.flush()
    }

    fn last_segment(&self) -> Option<&Segment> {
        self.index.segments.last()
    }

    /// Start the pending segment: magic and format description (locally synced with its
    /// directory entry; in an object store, in a spool file), then named in the index.
    fn begin_segment(&mut self) -> Result<(), LogError> {
        let Some(Pending { file, pos }) = self.pending.take() else {
            return Ok(());
        };
        let Some(format) = self.format.clone() else {
            return Err(LogError::Refused(format!(
                "the server sent events of {file} without its format description first"
            )));
        };
        let base = segment_name(&file, pos);
        let name = format!("{SEGMENTS_DIR}/{base}");
        if self.index.segments.iter().any(|s| s.name == name) {
            return Err(LogError::Refused(format!(
                "{name} is in the index already: the log would hold {file}:{pos} twice"
            )));
        }
        let (path, out) = match &self.sink {
            Sink::Local { segments, .. } => {
                std::fs::create_dir_all(segments).map_err(|e| storage(segments, e))?;
                let path = segments.join(&base);
                (path.clone(), File::create(&path).map_err(|e| storage(&path, e))?)
            }
            _ => {
                let path = self.root.join(&name);
                (path.clone(), tempfile::tempfile().map_err(|e| storage(&path, e))?)
            }
        };
        let mut out = BufWriter::with_capacity(1 << 20, out);
        out.write_all(&MAGIC).and_then(|_| out.write_all(&format)).map_err(|e| storage(&path, e))?;
        if let Sink::Local { segments, .. } = &self.sink {
            out.flush().map_err(|e| storage(&path, e))?;
            out.get_ref().sync_data().map_err(|e| storage(&path, e))?;
            File::open(segments).and_then(|d| d.sync_all()).map_err(|e| storage(segments, e))?;
        }
        let header_len = (MAGIC.len() + format.len()) as u64;
        self.index.segments.push(Segment {
            name,
            server_file: file,
            start: pos,
            end: pos,
            rotated_to: None,
            bytes: header_len,
            transactions: 0,
            first_gtid: None,
            last_gtid: None,
            first_time: None,
            last_time: None,
        });
        let grouper = Grouper::new(path.display().to_string(), header_len, pos, false);
        self.current = Some(Current { path, out, written: header_len, grouper, opened: Instant::now() });
        self.flush()
    }
}

/// Lock a local log directory for this run (`flock` on its lock file), or refuse.
fn lock_dir(root: &Path) -> Result<File, LogError> {
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(LOCK_FILE))
        .map_err(|e| storage(root, e))?;
    // SAFETY: flock on a descriptor this function owns.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(LogError::Refused(format!(
            "{} is in use by another hoist log start (it holds {LOCK_FILE}): one log directory takes one \
             writer; stop the other one, or give --storage another directory",
            root.display()
        )));
    }
    Ok(lock)
}

/// The first `bytes` of a spooled segment.
fn spooled(cur: Current, bytes: u64) -> Result<Vec<u8>, LogError> {
    let mut file = cur.out.into_inner().map_err(|e| storage(&cur.path, e.into_error()))?;
    file.rewind().map_err(|e| storage(&cur.path, e))?;
    let mut out = Vec::with_capacity(bytes as usize);
    file.take(bytes).read_to_end(&mut out).map_err(|e| storage(&cur.path, e))?;
    Ok(out)
}

/// Put a closed segment's object, only if there is none. One there already is not in the
/// index this run holds the lease of: a killed run (or a writer that lost the lease) put it
/// and never indexed it. It is replaced once the lease is renewed, so the log is still ours.
fn put_segment(dir: &Storage, o: &mut Objects, name: &str, bytes: Vec<u8>) -> Result<(), LogError> {
    let at = |e| LogError::Storage { location: format!("{}/{name}", dir.location()), message: format!("{e}") };
    if dir.put_if(name, bytes.clone(), None).map_err(at)?.is_some() {
        return Ok(());
    }
    o.lease.renew()?;
    tracing::info!("replacing {name}: a killed run put it after the last durable point");
    dir.remove(name).map_err(at)?;
    match dir.put_if(name, bytes, None).map_err(at)? {
        Some(_) => Ok(()),
        None => Err(super::lease::taken(dir, &format!("and put {name}"))),
    }
}

/// The last segment, opened to append after its whole items.
fn open_current(path: &Path, segment: &Segment) -> Result<Current, LogError> {
    let mut file = File::options().write(true).open(path).map_err(|e| storage(path, e))?;
    file.seek(SeekFrom::Start(segment.bytes)).map_err(|e| storage(path, e))?;
    Ok(Current {
        path: path.to_path_buf(),
        out: BufWriter::with_capacity(1 << 20, file),
        written: segment.bytes,
        grouper: Grouper::new(path.display().to_string(), segment.bytes, segment.end, false),
        opened: Instant::now(),
    })
}

fn storage(path: &Path, e: io::Error) -> LogError {
    LogError::Storage { location: path.display().to_string(), message: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::file::{EventReader, TransactionReader};
    use mysql_common::binlog::consts::{BinlogVersion, EventType};

    #[test]
    fn segment_names_say_the_upstream_file_and_sort_in_its_order() {
        assert_eq!(segment_name("binlog.000003", 4), "binlog.000003-0000000004.bin");
        let mut names = vec![
            segment_name("binlog.000010", 4),
            segment_name("binlog.000009", 123_456),
            segment_name("binlog.000009", 4),
        ];
        names.sort();
        assert_eq!(
            names,
            ["binlog.000009-0000000004.bin", "binlog.000009-0000123456.bin", "binlog.000010-0000000004.bin"]
        );
    }

    #[test]
    fn a_first_run_killed_before_its_index_leaves_nothing_that_counts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(SEGMENTS_DIR)).unwrap();
        std::fs::write(dir.path().join(SEGMENTS_DIR).join(segment_name("b.000001", 4)), b"\xfebin...").unwrap();
        let mut log = Log::open(dir.path(), 1 << 20, None).unwrap();
        let notes = log.recover("test:1").unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(std::fs::read_dir(dir.path().join(SEGMENTS_DIR)).unwrap().count(), 0);
        assert_eq!(log.next_pos(), None, "an empty log starts where it is told");
        log.close().unwrap();
        assert!(read_index(dir.path()).unwrap().is_none(), "no index without a segment");
        drop(log);

        std::fs::write(dir.path().join(SEGMENTS_DIR).join("a.bin"), b"").unwrap();
        std::fs::write(dir.path().join(SEGMENTS_DIR).join("b.bin"), b"").unwrap();
        let mut log = Log::open(dir.path(), 1 << 20, None).unwrap();
        assert!(log.recover("test:1").is_err(), "two unindexed segments are not a killed first run");
        std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
        drop(log);
        assert!(Log::open(dir.path(), 1 << 20, None).is_err_and(|e| e.to_string().contains("notes.txt")));
    }

    /// Feed a server's binlog file to the log as a replication stream would bring it, up to
    /// (not including) the event at file offset `stop`.
    fn feed(log: &mut Log, path: &Path, stop: Option<u64>) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        log.at(&name, FIRST_EVENT).unwrap();
        let mut events = EventReader::open(path).unwrap();
        while let Some(ev) = events.next_event().unwrap() {
            if stop.is_some_and(|s| ev.offset >= s) {
                return;
            }
            let mut bytes = Vec::new();
            ev.event.write(BinlogVersion::Version4, &mut bytes).unwrap();
            if ev.header.type_code == EventType::FORMAT_DESCRIPTION_EVENT as u8 {
                log.format_description(bytes);
            } else {
                log.event(&bytes, ev.event).unwrap();
            }
        }
    }

    /// GTIDs and upstream ends of every transaction in a file.
    fn transactions(path: &Path) -> Vec<(Option<String>, u64)> {
        let mut reader = TransactionReader::open(path).unwrap();
        let mut out = Vec::new();
        while let Some(item) = reader.next_item().unwrap() {
            if let Item::Transaction(t) = item {
                out.push((t.gtid, t.end_pos));
            }
        }
        out
    }

    #[test]
    fn segments_hold_the_servers_transactions_and_a_killed_run_is_cut_back() {
        let server = hoist_testkit::MariaDb::start();
        server.exec("CREATE DATABASE seg; CREATE TABLE seg.t (id INT PRIMARY KEY, v TEXT)");
        for i in 0..20 {
            server.exec(&format!("INSERT INTO seg.t VALUES ({i}, REPEAT('x', 100))"));
        }
        server.exec("FLUSH BINARY LOGS");
        server.exec("START TRANSACTION; UPDATE seg.t SET v = 'y'; DELETE FROM seg.t WHERE id < 5; COMMIT");
        server.exec("INSERT INTO seg.t VALUES (100, 'z')");
        let data = server.dir().join("data");
        let first = data.join("binlog.000001");
        let second = data.join("binlog.000002");
        let upstream: Vec<_> = [&first, &second].iter().flat_map(|p| transactions(p)).collect();

        // The whole binlog, with segments of ~1 kB so that files are cut in several.
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), 1000, None).unwrap();
        log.recover("test:1").unwrap();
        feed(&mut log, &first, None);
        feed(&mut log, &second, None);
        log.close().unwrap();
        let index = read_index(dir.path()).unwrap().unwrap();
        assert!(index.segments.len() > 3, "{index:#?}");
        assert_eq!(index.segments.iter().filter(|s| s.rotated_to.is_some()).count(), 1, "{index:#?}");
        let end = BinlogPos::new("binlog.000002", std::fs::metadata(&second).unwrap().len());
        let covered = index.cover(&BinlogPos::new("binlog.000001", 4), Some(&end)).unwrap();
        assert_eq!(covered.len(), index.segments.len());
        let mut held = Vec::new();
        for s in &index.segments {
            let path = dir.path().join(&s.name);
            let scan = scan_file(&path).unwrap();
            assert_eq!((scan.complete_end, scan.transactions), (s.bytes, s.transactions), "{s:?}");
            held.extend(transactions(&path));
            let out = std::process::Command::new("mariadb-binlog").arg(&path).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        assert_eq!(held, upstream, "every transaction once, in order");
        assert_eq!(index.end(), Some(end));

        // A run killed inside the UPDATE/DELETE transaction of the second file, and a segment
        // file a killed run made but never indexed.
        let in_txn = {
            let mut reader = TransactionReader::open(&second).unwrap();
            loop {
                if let Some(Item::Transaction(t)) = reader.next_item().unwrap() {
                    break t.offset + 60;
                }
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), 1 << 20, None).unwrap();
        log.recover("test:1").unwrap();
        feed(&mut log, &first, None);
        feed(&mut log, &second, Some(in_txn));
        log.flush().unwrap();
        drop(log);
        let last = read_index(dir.path()).unwrap().unwrap().segments.last().unwrap().clone();
        let path = dir.path().join(&last.name);
        assert!(std::fs::metadata(&path).unwrap().len() > last.bytes, "a half transaction is on disk");
        std::fs::write(dir.path().join(SEGMENTS_DIR).join("binlog.000002-0000009999.bin"), b"\xfebin").unwrap();

        let mut log = Log::open(dir.path(), 1 << 20, None).unwrap();
        let notes = log.recover("test:1").unwrap();
        assert!(notes.iter().any(|n| n.contains("cut") && n.contains(&last.name)), "{notes:?}");
        assert!(notes.iter().any(|n| n.contains("removed segments/binlog.000002-0000009999.bin")), "{notes:?}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), last.bytes);
        assert_eq!(log.next_pos(), Some(last.end_pos()));
        // The stream resumes where the log ends; the rest of the file follows.
        log.at("binlog.000002", last.end).unwrap();
        let mut events = EventReader::open(&second).unwrap();
        while let Some(ev) = events.next_event().unwrap() {
            if ev.header.log_pos as u64 > last.end {
                let mut bytes = Vec::new();
                ev.event.write(BinlogVersion::Version4, &mut bytes).unwrap();
                log.event(&bytes, ev.event).unwrap();
            }
        }
        log.close().unwrap();
        let index = read_index(dir.path()).unwrap().unwrap();
        let held: Vec<_> = index.segments.iter().flat_map(|s| transactions(&dir.path().join(&s.name))).collect();
        assert_eq!(held, upstream, "nothing lost, nothing twice");

        let other = Log::open(dir.path(), 1 << 20, None);
        assert!(other.is_err_and(|e| e.to_string().contains("in use by another hoist log start")), "one writer");
    }
}
