//! The state of a running import that its stages share: the tables being loaded, the chunk
//! queue, the stores, and the steps every stage takes (retries, table states, failures).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::job::{ImportSettings, Verification};
use super::lease::Leases;
use crate::checkpoint::{
    CheckpointStore, ChunkProgress, ChunkRecord, TableError, TableRecord, TableState, TableStatus,
};
use crate::content_hash::{ContentSum, TableHasher};
use crate::error::{CheckpointError, Classified, TargetError};
use crate::progress::{Progress, TableProgress};
use crate::reader::CsvSettings;
use crate::source::Source;
use crate::target::{TableTarget, Target};

/// Whether the table whose chunks these are gets its secondary indexes after its data: only
/// tables of at least `from` bytes gain from it; for a small table the extra ALTER costs more
/// than the index costs during the load.
pub(super) fn defers_indexes(chunks: &[ChunkRecord], from: u64) -> bool {
    let bytes = chunks.iter().map(|c| if c.end == crate::checkpoint::TO_END { u64::MAX } else { c.end - c.start });
    bytes.fold(0u64, u64::saturating_add) >= from
}

/// A table being loaded in this run.
pub(super) struct TableRun {
    pub(super) record: Mutex<TableRecord>,
    pub(super) target: Arc<TableTarget>,
    pub(super) create_sql: Option<String>,
    /// Its secondary indexes are added after the data (see [`defers_indexes`]).
    pub(super) defer_indexes: bool,
    pub(super) chunks_left: AtomicUsize,
    pub(super) failed: AtomicBool,
    /// Rows the target holds from this table's chunks, per the markers.
    pub(super) rows_loaded: AtomicU64,
    pub(super) progress: TableProgress,
    /// Time this run's workers spent on the table (its chunks and post steps, summed over the
    /// workers, in microseconds): the summary's time is the table's own work, where the span
    /// from its first chunk to its last would be the whole run's for tables loaded side by side.
    pub(super) busy_micros: AtomicU64,
    pub(super) index_time: Mutex<Duration>,
    /// Per data file, its chunks this run still loads: a restore checks a file's key range
    /// against the manifest once they are all in.
    pub(super) files_left: Mutex<HashMap<String, usize>>,
    /// Files whose key range was checked in this run.
    pub(super) files_verified: AtomicUsize,
    /// Each chunk's content sum as its last commit recorded it (a marker's checksum).
    pub(super) chunk_sums: Mutex<HashMap<i64, u64>>,
    /// Why some row's content could not be hashed, when a reader of this run said so.
    pub(super) unpredictable: Mutex<Option<String>>,
    /// Hashes the table's source rows for the content check (None: not checked that way).
    pub(super) hasher: Option<Arc<TableHasher>>,
    /// The table's key when it is one integer column: a large table's check is split on it.
    pub(super) split_key: Option<String>,
    /// What this run's check after the rows found.
    pub(super) verification: Mutex<Option<Verification>>,
    /// The rows the table held before the task loaded into it (`schema_step::rows_before`);
    /// None when it was empty.
    pub(super) rows_before: Option<u64>,
}

impl TableRun {
    /// A worker starts on the table (a chunk or its post steps); [`Self::end`] adds the time.
    pub(super) fn begin(&self) -> Instant {
        self.progress.begin();
        Instant::now()
    }

    pub(super) fn end(&self, began: Instant) {
        self.busy_micros.fetch_add(began.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    /// Time this run's workers spent on the table so far.
    pub(super) fn elapsed(&self) -> Duration {
        Duration::from_micros(self.busy_micros.load(Ordering::Relaxed))
    }

    /// Record a chunk's content sum as committed.
    pub(super) fn set_chunk_sum(&self, chunk_id: i64, sum: u64) {
        self.chunk_sums.lock().unwrap_or_else(|p| p.into_inner()).insert(chunk_id, sum);
    }

    /// The table's content: the sum of its chunks'.
    pub(super) fn content(&self) -> ContentSum {
        let sums = self.chunk_sums.lock().unwrap_or_else(|p| p.into_inner());
        sums.values().fold(ContentSum::default(), |mut total, &s| {
            total.add(ContentSum(s));
            total
        })
    }

    pub(super) fn label(&self) -> String {
        let r = self.record.lock().unwrap_or_else(|p| p.into_inner());
        hoist_schema::qualified_mysql_name(&r.database, &r.name)
    }
}

/// Why a table's step did not finish.
#[derive(Debug)]
pub(super) enum StepError {
    /// Recorded in the checkpoint: the table stops until `hoist checkpoint` resolves it.
    Table(String),
    /// A transient failure (target, source or checkpoint store) outlasted the retries: the
    /// run stops and records nothing, so the same command resumes it.
    Transient(String),
    /// A permanent failure that is no table's: the checkpoint store refuses (full disk,
    /// read-only or corrupt file). Not retried; the run stops and records nothing, since the
    /// store is what would record it.
    Halt(String),
    /// The run is stopping (Ctrl-C, or another table's transient failure).
    Stopped,
}

impl From<TargetError> for StepError {
    fn from(e: TargetError) -> Self {
        if e.disk_full() {
            target_full("", &e)
        } else if e.transient {
            StepError::Transient(e.message)
        } else {
            StepError::Table(e.message)
        }
    }
}

/// The target's disk is full (`what`: where it happened, ending in ": "): not the table's fault
/// and not worth retrying; the run stops, records nothing, and says to make room.
pub(super) fn target_full(what: &str, e: &TargetError) -> StepError {
    StepError::Halt(format!(
        "{what}the target's disk is full ({}): free space on the server's disk (or grow it)",
        e.message
    ))
}

impl From<CheckpointError> for StepError {
    // The store's error names it ("checkpoint store <location>: ...").
    fn from(e: CheckpointError) -> Self {
        match e.is_transient() {
            true => StepError::Transient(e.to_string()),
            false => StepError::Halt(e.to_string()),
        }
    }
}

/// Run a target or checkpoint operation, retrying transient errors with backoff up to `max`
/// times.
pub(super) async fn retrying<T, E, F, Fut>(max: u32, mut op: F) -> Result<T, E>
where
    E: Classified + std::fmt::Display + Sync,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Err(e) if e.is_transient() && attempt < max => {
                attempt += 1;
                backoff(attempt, &e).await;
            }
            other => return other,
        }
    }
}

pub(super) async fn backoff(attempt: u32, e: &(dyn std::fmt::Display + Sync)) {
    let delay = crate::error_class::backoff_delay(attempt);
    tracing::warn!("transient error, retry {attempt} in {delay:?}: {e}");
    tokio::time::sleep(delay).await;
}

pub(super) struct Shared {
    pub(super) settings: ImportSettings,
    pub(super) source: Source,
    pub(super) target: Arc<dyn Target>,
    pub(super) store: Arc<dyn CheckpointStore>,
    /// How this process shares the job's work with others (`lease.rs`).
    pub(super) leases: Arc<Leases>,
    pub(super) task_id: i64,
    pub(super) queue: Mutex<VecDeque<(ChunkRecord, ChunkProgress)>>,
    /// Each chunk's length in the source: a finished chunk counts as all of it on the bars.
    pub(super) chunk_bytes: HashMap<i64, u64>,
    pub(super) tables: HashMap<i64, Arc<TableRun>>,
    pub(super) csv: Arc<CsvSettings>,
    pub(super) progress: Arc<Progress>,
    pub(super) progress_tx: mpsc::UnboundedSender<(i64, ChunkProgress)>,
    pub(super) stop: Arc<AtomicBool>,
    /// Why the run stopped early: a transient failure that outlasted its retries, or a halt.
    pub(super) abort: Mutex<Option<StepError>>,
    pub(super) markers: bool,
    /// The task's creation time, the loading sessions' "now".
    pub(super) now: f64,
    /// Workers loading a chunk now, each on a connection of its own ([`Shared::loading`]), and
    /// the most at once.
    pub(super) loading: AtomicUsize,
    pub(super) most_loading: AtomicUsize,
    /// How many workers may load at once: unbounded until the server refuses a connection,
    /// then one fewer than were loading (`workers.rs`).
    pub(super) writer_cap: AtomicUsize,
    /// The connection limit the server refused a worker at, and its message (the first time).
    pub(super) refused: Mutex<Option<(&'static str, String)>>,
    /// Post steps of tables whose rows are in, running beside the workers.
    pub(super) posts: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// The limits on rows the server refuses, when some may be skipped (`skip.rs`).
    pub(super) skips: Option<Arc<super::skip::Skips>>,
}

/// A worker loading a chunk, counted in [`Shared::loading`] until dropped.
pub(super) struct Loading<'a>(&'a AtomicUsize);

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    /// Count this worker as loading (it holds a connection) until the guard is dropped.
    pub(super) fn loading(&self) -> Loading<'_> {
        let now = self.loading.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_loading.fetch_max(now, Ordering::SeqCst);
        Loading(&self.loading)
    }

    /// The server refused a worker's connection at `limit`: said once, as a warning (the run
    /// goes on, on the connections it gets) and in the summary.
    pub(super) fn note_refused(&self, limit: &'static str, e: &TargetError) {
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        if refused.is_none() {
            tracing::warn!(
                "the server refused a connection ({}): its {limit} allows fewer connections than \
                 --region-concurrency {} asks for; loading on fewer, and keeping one for hoist's other statements",
                e.message,
                self.settings.concurrency.max(1)
            );
            *refused = Some((limit, e.message.clone()));
        }
    }

    /// For the summary: the run loaded on fewer connections than asked, and why.
    pub(super) fn refused_note(&self) -> Option<String> {
        let refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        let (limit, message) = refused.as_ref()?;
        Some(format!(
            "the server refused connections at its {limit} ({message}): rows were loaded on at most {} connections \
             at once of the {} that --region-concurrency asks for; raise {limit} on the server, or lower \
             --region-concurrency",
            self.most_loading.load(Ordering::SeqCst),
            self.settings.concurrency.max(1)
        ))
    }

    /// Stop every worker (`why`: `Transient` or `Halt`); nothing is recorded as an error.
    pub(super) fn abort(&self, why: StepError) {
        let mut abort = self.abort.lock().unwrap_or_else(|p| p.into_inner());
        if abort.is_none() {
            if let StepError::Transient(reason) | StepError::Halt(reason) = &why {
                tracing::error!("{reason}");
            }
            *abort = Some(why);
        }
        self.stop.store(true, Ordering::SeqCst);
    }
}

pub(super) async fn set_state_at_least(shared: &Shared, run: &TableRun, state: TableState) {
    if !advance_state(run, state) {
        return;
    }
    let id = run.record.lock().unwrap_or_else(|p| p.into_inner()).id;
    if let Err(e) = shared.store.set_table_state(id, state, None).await {
        store_failed(shared, "saving table state to the checkpoint failed", e);
    }
}

/// Move the table's state on in this run only, for a step that had nothing to do: the next
/// state recorded covers it, and a rerun after a crash in between finds nothing to redo in it.
/// (With thousands of small tables, a store write per empty step added up.) Whether it moved.
pub(super) fn advance_state(run: &TableRun, state: TableState) -> bool {
    let mut r = run.record.lock().unwrap_or_else(|p| p.into_inner());
    let moved = r.state < state;
    r.state = r.state.max(state);
    moved
}

/// A checkpoint write that failed outside a retry loop: a transient failure only lags the
/// store (the markers hold the progress, and the next write catches up); a permanent one (a
/// full disk, a read-only file) stops the run, which could record nothing more.
fn store_failed(shared: &Shared, what: &str, e: CheckpointError) {
    match e.is_transient() {
        true => tracing::warn!("{what}: {e}"),
        false => shared.abort(e.into()),
    }
}

/// The table as the store has it when this process takes a lease on one of its units: another
/// process sharing the job may have moved its steps on (taken up here), or failed it. Returns
/// true when it failed: this run then leaves it too, as failed, writing nothing of it.
pub(super) fn adopt(run: &TableRun, status: Option<TableStatus>) -> bool {
    let Some(status) = status else { return false };
    let label = run.label();
    let mut r = run.record.lock().unwrap_or_else(|p| p.into_inner());
    r.state = r.state.max(status.state);
    let Some(error) = status.error else { return false };
    if !run.failed.swap(true, Ordering::SeqCst) {
        tracing::error!("{label}: {} (recorded by another process sharing the job)", error.message);
        run.progress.fail(&error.message);
    }
    r.error = Some(error);
    true
}

pub(super) async fn fail_table(shared: &Shared, run: &TableRun, message: String) {
    if run.failed.swap(true, Ordering::SeqCst) {
        return;
    }
    let (id, state) = {
        let mut r = run.record.lock().unwrap_or_else(|p| p.into_inner());
        r.error = Some(TableError { step: r.state.as_str().into(), message: message.clone() });
        (r.id, r.state)
    };
    tracing::error!("{}: {message}", run.label());
    run.progress.fail(&message);
    let error = run.record.lock().unwrap_or_else(|p| p.into_inner()).error.clone();
    if let Err(e) = shared.store.set_table_state(id, state, error.as_ref()).await {
        store_failed(shared, "saving the table's error to the checkpoint failed", e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How each layer's error ends a step: recorded as the table's, stopping the run to be
    /// resumed, or stopping it at once.
    #[test]
    fn step_errors_by_class() {
        let sqlite = |code| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        let class = |e: StepError| match e {
            StepError::Table(_) => "table",
            StepError::Transient(_) => "transient",
            StepError::Halt(_) => "halt",
            StepError::Stopped => "stopped",
        };
        let cases: Vec<(&str, StepError, &str)> = vec![
            (
                "target: duplicate key",
                TargetError { code: Some(1062), message: "dup".into(), transient: false }.into(),
                "table",
            ),
            (
                "target: deadlock",
                TargetError { code: Some(1213), message: "deadlock".into(), transient: true }.into(),
                "transient",
            ),
            (
                "checkpoint: busy file",
                CheckpointError::sqlite("cp.db", &sqlite(rusqlite::ffi::SQLITE_BUSY)).into(),
                "transient",
            ),
            (
                "checkpoint: disk full",
                CheckpointError::sqlite("cp.db", &sqlite(rusqlite::ffi::SQLITE_FULL)).into(),
                "halt",
            ),
            (
                "checkpoint: corrupt",
                CheckpointError::sqlite("cp.db", &sqlite(rusqlite::ffi::SQLITE_CORRUPT)).into(),
                "halt",
            ),
            ("checkpoint: unreadable row", CheckpointError::store("cp.db", "unreadable checkpoint").into(), "halt"),
            ("checkpoint: refusal", CheckpointError::Refused("no".into()).into(), "halt"),
            (
                "target: the table is full (disk full)",
                TargetError { code: Some(1114), message: "ERROR 1114: The table 't' is full".into(), transient: false }
                    .into(),
                "halt",
            ),
            (
                "target: too many connections",
                TargetError { code: Some(1040), message: "ERROR 1040: Too many connections".into(), transient: true }
                    .into(),
                "transient",
            ),
        ];
        for (name, e, want) in cases {
            assert_eq!(class(e), want, "{name}");
        }
    }
}
