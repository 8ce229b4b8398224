//! The data path: N workers, each taking one chunk at a time. A blocking reader parses and
//! encodes; the worker's writer commits every batch with its marker, then reports progress to
//! the one task that saves it to the checkpoint store (coalesced, so it never stalls writes).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::lease::{Turn, Work};
use super::post::{finish_table, verify_file};
use super::skip::write_row_by_row;
use super::state::{adopt, backoff, fail_table, set_state_at_least, target_full, Shared, StepError, TableRun};
use crate::checkpoint::{CheckpointStore, ChunkProgress, ChunkRecord, TableState, Unit};
use crate::content_hash::ContentSum;
use crate::error::{CheckpointError, Classified, SourceError, TargetError};
use crate::reader::{read_chunk, ChunkJob, ReadBatch, ReadError};
use crate::target::{EncodedBatch, Marker, Writer};

/// Coalesces progress updates and saves them about once a second (DESIGN.md invariant 6). A
/// save that fails transiently is tried again at the next tick (the markers hold the progress
/// meanwhile); a permanent failure (a full disk, a read-only file) stops the run at once, since
/// the store could record nothing more, and is this loop's result.
pub(super) async fn save_progress_loop(
    store: Arc<dyn CheckpointStore>,
    mut rx: mpsc::UnboundedReceiver<(i64, ChunkProgress)>,
    stop: Arc<AtomicBool>,
) -> Result<(), CheckpointError> {
    let mut pending: HashMap<i64, ChunkProgress> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut open = true;
    while open {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some((id, p)) => { pending.insert(id, p); continue; }
                None => open = false,
            },
            _ = tick.tick() => {}
        }
        if pending.is_empty() {
            continue;
        }
        let updates: Vec<_> = pending.drain().collect();
        match store.save_progress(&updates).await {
            Ok(()) => {}
            Err(e) if e.is_transient() => {
                tracing::warn!("saving progress to the checkpoint failed (the target's markers still hold it): {e}");
                // Tried again at the next tick, unless a newer position came meanwhile.
                for (id, p) in updates {
                    pending.entry(id).or_insert(p);
                }
            }
            Err(e) => {
                stop.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
    }
    Ok(())
}

pub(super) async fn worker(shared: Arc<Shared>) {
    let mut writer: Option<Box<dyn Writer>> = None;
    // Times in a row this worker gave its chunk back because the server refused a connection.
    let mut refused = 0u32;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        // Work another process held comes first once it is due to be tried again (a table's
        // post steps wait for its last chunk), then the queue, then the work still waiting.
        let next = || shared.queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front().map(Work::from);
        let work = match shared.leases.due().or_else(next) {
            Some(work) => work,
            None => match shared.leases.next_waiting().await {
                Some(work) => work,
                None => return,
            },
        };
        let (chunk, resume) = match work {
            Work::Chunk(chunk, resume) => (chunk, resume),
            Work::Post(table) => {
                if let Some(run) = shared.tables.get(&table) {
                    start_post_steps(&shared, run, &mut writer).await;
                }
                continue;
            }
        };
        let Some(run) = shared.tables.get(&chunk.table_id).cloned() else {
            continue;
        };
        if run.failed.load(Ordering::SeqCst) {
            continue;
        }
        // After the server refused a connection, at most `writer_cap` workers load at once.
        if writer.is_none() && shared.loading.load(Ordering::SeqCst) >= shared.writer_cap.load(Ordering::SeqCst) {
            shared.queue.lock().unwrap_or_else(|p| p.into_inner()).push_front((chunk, resume));
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        // Loaded under its lease, which another process sharing the job may hold.
        let lease = match shared.leases.take(Work::Chunk(chunk.clone(), resume)).await {
            Ok(Turn::Ours(lease, table)) => {
                if adopt(&run, table) {
                    continue;
                }
                lease
            }
            Ok(Turn::Theirs) => continue,
            Err(e) => {
                shared.abort(e.into());
                continue;
            }
        };
        let resume = match claim(&shared, &mut writer, &chunk, resume).await {
            Ok(fresh) => {
                // A killed run's last commit may have landed after the markers were read.
                let (had, has) = (resume.rows, fresh.rows);
                run.rows_loaded.fetch_add(has.wrapping_sub(had), Ordering::SeqCst);
                run.set_chunk_sum(chunk.id, fresh.checksum);
                // That commit is an earlier run's work, not this run's.
                let (bytes, rows) = (fresh.offset.saturating_sub(resume.offset), has.saturating_sub(had));
                run.progress.add_before(bytes, rows);
                shared.progress.add_before(bytes, rows);
                refused = 0;
                fresh
            }
            Err(Claim::Refused(limit, e)) => {
                // Other workers load on the connections the server allows: give the chunk back
                // for one of them (or for this worker, later), and load on one fewer than they
                // are, so that one stays for hoist's other statements (post steps, metadata).
                tracing::debug!("giving chunk {} back: {limit}: {}", chunk.id, e.message);
                let others = shared.loading.load(Ordering::SeqCst);
                shared.writer_cap.fetch_min(others.saturating_sub(1).max(1), Ordering::SeqCst);
                shared.queue.lock().unwrap_or_else(|p| p.into_inner()).push_front((chunk, resume));
                refused += 1;
                tokio::time::sleep(crate::error_class::backoff_delay(refused)).await;
                continue;
            }
            // The run is stopping: the failure of a retry cut short is not why.
            Err(Claim::Failed(e)) if e.transient && shared.stop.load(Ordering::SeqCst) => continue,
            Err(Claim::Failed(e)) => {
                match StepError::from(e) {
                    StepError::Table(message) => fail_table(&shared, &run, message).await,
                    StepError::Stopped => {}
                    why => shared.abort(why),
                }
                continue;
            }
        };
        let loading = shared.loading();
        let unit = run.progress.unit();
        let loaded = if resume.done {
            Ok(())
        } else {
            // Not before: the chunk may be one another process finished, in a table whose post
            // steps it has moved on.
            set_state_at_least(&shared, &run, TableState::Writing).await;
            let began = run.begin();
            let loaded = load_chunk(&shared, &run, &chunk, resume, &mut writer).await;
            run.end(began);
            loaded
        };
        if let Some(w) = writer.as_mut() {
            w.release().await;
        }
        let loaded = match loaded {
            Ok(()) => verify_file(&shared, &run, &chunk.path).await,
            other => other,
        };
        match loaded {
            Ok(()) => {
                unit.done();
                if run.chunks_left.fetch_sub(1, Ordering::SeqCst) == 1 {
                    drop(loading);
                    drop(lease);
                    start_post_steps(&shared, &run, &mut writer).await;
                }
            }
            Err(StepError::Stopped) => shared.leases.wait_if_lost(&chunk, resume),
            Err(StepError::Table(message)) => fail_table(&shared, &run, message).await,
            Err(why) => shared.abort(why),
        }
        // Under a cap, a connection is held only while loading, so that the one given up here
        // goes to the worker whose turn it is (or to a post step), and the cap holds.
        if shared.writer_cap.load(Ordering::SeqCst) != usize::MAX {
            writer = None;
        }
    }
}

/// A table's post steps, once its last chunk is in (or, for one another process held, once it
/// is free).
async fn start_post_steps(shared: &Arc<Shared>, run: &Arc<TableRun>, writer: &mut Option<Box<dyn Writer>>) {
    if shared.writer_cap.load(Ordering::SeqCst) == usize::MAX {
        // On a task of their own, so that this worker loads the next table while the server
        // builds this one's indexes.
        let (post_shared, run) = (shared.clone(), run.clone());
        let post = tokio::spawn(async move { finish_table(&post_shared, &run).await });
        shared.posts.lock().unwrap_or_else(|p| p.into_inner()).push(post);
    } else {
        // The server allows few connections: this one goes first, so that the post steps (on
        // the target's own connections) have one.
        *writer = None;
        finish_table(shared, run).await;
    }
}

async fn load_chunk(
    shared: &Shared,
    run: &Arc<TableRun>,
    chunk: &ChunkRecord,
    resume: ChunkProgress,
    writer: &mut Option<Box<dyn Writer>>,
) -> Result<(), StepError> {
    let (tx, mut rx) = mpsc::channel::<ReadBatch>(2);
    let job = ChunkJob {
        chunk: chunk.clone(),
        table: run.target.clone(),
        resume,
        csv: shared.csv.clone(),
        charset: shared.settings.data_charset.clone(),
        batch_bytes: shared.settings.batch_bytes,
        retries: shared.settings.max_retries,
        hasher: run.hasher.clone(),
        count_replaced: skips_of(shared, run).is_some_and(|s| s.counts_conflicts())
            && run.target.conflict == crate::config::ConflictStrategy::Replace,
    };
    let source = shared.source.clone();
    let target = shared.target.clone();
    let handle = tokio::runtime::Handle::current();
    let reader_stop = Arc::new(AtomicBool::new(false));
    let stop_flag = reader_stop.clone();
    let reader =
        tokio::task::spawn_blocking(move || read_chunk(&source, &handle, &job, target.as_ref(), &tx, &stop_flag));
    let mut outcome = Ok(());
    // Bytes of this chunk on the bars so far. The last batch may end short of the chunk's
    // end (a final newline): it counts up to the end, so that a table done is at 100 %.
    // (Never less than the batch: offsets in a compressed file are uncompressed bytes.)
    let mut counted = resume.offset.saturating_sub(chunk.start);
    let full = shared.chunk_bytes.get(&chunk.id).copied().unwrap_or(0);
    // The chunk's position as committed: where the next batch starts.
    let mut committed = resume;
    // What this run's batches of the chunk left out (rows refused under a limit): the reader's
    // positions count them, the markers do not.
    let (mut less_rows, mut less_sum) = (0u64, ContentSum::default());
    while let Some(batch) = rx.recv().await {
        let lost = shared.leases.lost(Unit::Chunk(chunk.id));
        if shared.stop.load(Ordering::SeqCst) || run.failed.load(Ordering::SeqCst) || lost {
            outcome = Err(StepError::Stopped);
            break;
        }
        let mut progress = batch.progress;
        progress.rows -= less_rows;
        let mut sum = ContentSum(progress.checksum);
        sum.remove(less_sum);
        progress.checksum = sum.0;
        let marker = Marker { task_id: shared.task_id, chunk_id: chunk.id, progress };
        let mut rows = batch.batch.row_count;
        let written = match write_with_retry(shared, writer, &batch.batch, committed, &marker).await {
            Ok(()) => Ok(progress),
            Err(e) if skips_of(shared, run).is_some_and(|s| s.may_skip(&e)) => {
                let skips = skips_of(shared, run).expect("checked above");
                match write_row_by_row(shared, skips, run, chunk, writer, &batch, committed, &marker).await {
                    Ok(w) => {
                        (less_rows, rows) = (less_rows + w.skipped_rows, rows - w.skipped_rows);
                        less_sum.add(w.skipped_sum);
                        Ok(w.progress)
                    }
                    // The row by row write named the row it could not let pass.
                    Err(e) if !e.transient && !e.disk_full() => {
                        outcome = Err(StepError::Table(e.message));
                        break;
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        match written {
            Ok(p) => committed = p,
            Err(e) if e.transient && shared.stop.load(Ordering::SeqCst) => {
                outcome = Err(StepError::Stopped);
                break;
            }
            Err(e) if e.disk_full() => {
                outcome = Err(target_full(&format!("{}: writing {}: ", run.label(), chunk.path), &e));
                break;
            }
            Err(e) if e.transient => {
                outcome = Err(StepError::Transient(format!("writing {}: {}", chunk.path, e.message)));
                break;
            }
            Err(e) => {
                // The server may not say which row it refused: replay the rows to find it. An
                // error without a server code is not about a row (a refused LOCAL INFILE
                // request): replaying would only ask the same server again.
                let refused_rows = e.code.is_some() && !e.message.contains(" at row ");
                let named = match (refused_rows, writer.as_mut()) {
                    (true, Some(w)) => w.find_rejected_row(&batch.batch).await,
                    _ => None,
                };
                let (row, e) = match named {
                    Some((i, found)) => (Some(i), found),
                    None => (None, e),
                };
                outcome = Err(StepError::Table(rejected_rows(shared, chunk, &batch.row_offsets, row, &e).await));
                break;
            }
        }
        let _ = shared.progress_tx.send((chunk.id, committed));
        let bytes = match committed.done {
            true => batch.bytes.max(full.saturating_sub(counted)),
            false => batch.bytes,
        };
        counted += bytes;
        run.progress.add(bytes, rows);
        run.rows_loaded.fetch_add(rows, Ordering::SeqCst);
        run.set_chunk_sum(chunk.id, committed.checksum);
        if let Some(why) = batch.unpredictable {
            run.unpredictable.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(why);
        }
        shared.progress.add(bytes, rows);
    }
    reader_stop.store(true, Ordering::SeqCst);
    drop(rx);
    let read =
        reader.await.unwrap_or_else(|e| Err(ReadError::Source(SourceError::Layout(format!("reader failed: {e}")))));
    outcome?;
    match read {
        Ok(()) => Ok(()),
        Err(ReadError::Stopped) => Err(StepError::Stopped),
        // Not the table's fault, and reading on would load another file's rows: stop the run.
        // What was loaded is the listed file's; with the file put back as it was, the same
        // command resumes (a rerun with the file as it is now is refused, naming it).
        Err(ReadError::Source(SourceError::Changed(changed))) => Err(StepError::Halt(format!(
            "{}: {changed}. hoist stopped before loading any of its new bytes: the rows loaded so far are \
             the file's as it was listed. Put the file back as it was (the same bytes and modification time)",
            run.label()
        ))),
        // Opening or reading the file failed on the medium: not the table's fault.
        Err(ReadError::Source(e)) if e.is_transient() => {
            Err(StepError::Transient(format!("reading {}: {e}", chunk.path)))
        }
        Err(e) => Err(StepError::Table(e.to_string())),
    }
}

/// The limits on refused rows, for a table whose rows commit with the marker: the rows of a
/// non-transactional one stay when its batch fails, so writing them again row by row would
/// count them as conflicts with themselves (its first refused row stops it).
fn skips_of<'a>(shared: &'a Shared, run: &TableRun) -> Option<&'a super::skip::Skips> {
    shared.skips.as_deref().filter(|_| run.target.transactional)
}

/// Why a worker did not get its chunk.
enum Claim {
    /// The server refused the connection at this limit while other workers load: this one
    /// gives the chunk back, waits and tries again (`Shared::note_refused` said so once).
    Refused(&'static str, TargetError),
    Failed(TargetError),
}

/// Claim the chunk on this worker's writer and return its committed position (the startup
/// one when checkpoints are off: then there are no markers).
///
/// A connection refused at the server's connection limit is retried with backoff while no
/// other worker loads (other clients may be holding the connections: they may go). While
/// others load, it means the server allows fewer connections than `--region-concurrency`
/// asks for: the worker steps back and the run goes on with the connections it has. Through
/// every retry with none loading, the run stops and says which limit to raise.
async fn claim(
    shared: &Shared,
    writer: &mut Option<Box<dyn Writer>>,
    chunk: &ChunkRecord,
    resume: ChunkProgress,
) -> Result<ChunkProgress, Claim> {
    if !shared.markers {
        return Ok(resume);
    }
    let retries = shared.settings.max_retries;
    let mut attempt = 0;
    loop {
        let result = async {
            if writer.is_none() {
                *writer = Some(shared.target.writer(Some(shared.now)).await?);
            }
            writer.as_mut().expect("set above").claim(shared.task_id, chunk.id).await
        }
        .await;
        match result {
            Ok(progress) => return Ok(progress.unwrap_or(ChunkProgress { offset: chunk.start, ..Default::default() })),
            Err(e) => {
                let limit = e.connection_limit();
                if e.transient {
                    *writer = None;
                }
                if let Some(limit) = limit {
                    shared.note_refused(limit, &e);
                }
                match limit {
                    Some(limit) if shared.loading.load(Ordering::SeqCst) > 0 => return Err(Claim::Refused(limit, e)),
                    _ if e.transient && attempt < retries && !shared.stop.load(Ordering::SeqCst) => {
                        attempt += 1;
                        backoff(attempt, &e).await;
                    }
                    Some(limit) => return Err(Claim::Failed(connections_refused(shared, limit, e))),
                    None => return Err(Claim::Failed(e)),
                }
            }
        }
    }
}

/// The error of a connection the server refused at `limit` through every retry, with no
/// worker loading: what to change.
fn connections_refused(shared: &Shared, limit: &str, e: TargetError) -> TargetError {
    let threads = shared.settings.concurrency.max(1);
    TargetError {
        message: format!(
            "the server refused every connection for loading rows through {} retries: {} (its {limit} is \
             reached, by other sessions or by this run's own: {threads} for --region-concurrency plus up to 4 \
             for its other statements). Lower --region-concurrency, or raise {limit} on the server",
            shared.settings.max_retries, e.message
        ),
        ..e
    }
}

/// A message for rows the target refused, naming the file position of the row when the server
/// says which (MySQL: "... at row N", N counted in the statement), else of the batch's first row.
pub(super) async fn rejected_rows(
    shared: &Shared,
    chunk: &ChunkRecord,
    row_offsets: &[u64],
    row: Option<usize>,
    e: &TargetError,
) -> String {
    let row = row
        .or_else(|| {
            e.message
                .rsplit_once(" at row ")
                .and_then(|(_, n)| n.trim().parse::<usize>().ok())
                .and_then(|n| n.checked_sub(1))
        })
        .filter(|&i| i < row_offsets.len());
    let (offset, which) = match row {
        Some(i) => (row_offsets[i], "the target rejected this row"),
        None => {
            let which = match e.code {
                Some(_) => "the target rejected the batch of rows starting here",
                None => "writing the batch of rows starting here failed",
            };
            (row_offsets.first().copied().unwrap_or(chunk.start), which)
        }
    };
    let (source, ch, charset) = (shared.source.clone(), chunk.clone(), shared.settings.data_charset.clone());
    let handle = tokio::runtime::Handle::current();
    let (line, near) =
        tokio::task::spawn_blocking(move || crate::reader::locate(&source, &handle, &ch, &charset, offset))
            .await
            .unwrap_or_default();
    let position = crate::error::FilePosition { file: chunk.path.clone(), offset, line };
    format!("{position}: {which} ({near:?}): {}", e.message)
}

/// Write one batch, which starts at `from`, retrying transient errors with backoff. After a
/// broken connection the commit may or may not have happened: a new session claims the chunk
/// (so the broken one is gone from the server) and reads its marker, so a batch is never
/// loaded twice. A marker that is neither where the batch starts nor where it ends was moved by
/// another session, of a process that took the chunk over: the batch is not written.
async fn write_with_retry(
    shared: &Shared,
    writer: &mut Option<Box<dyn Writer>>,
    batch: &EncodedBatch,
    from: ChunkProgress,
    marker: &Marker,
) -> Result<(), TargetError> {
    // Tests stop the server here, to lose it in the middle of a run.
    crate::failpoint::pause("import.before-write").await;
    let mut attempt = 0u32;
    loop {
        let result = async {
            if writer.is_none() {
                let mut w = shared.target.writer(Some(shared.now)).await?;
                if shared.markers {
                    let committed = w.claim(marker.task_id, marker.chunk_id).await?;
                    *writer = Some(w);
                    if committed == Some(marker.progress) {
                        return Ok(());
                    }
                    if committed.is_some_and(|c| c != from) {
                        return Err(moved_on(marker.chunk_id));
                    }
                } else {
                    *writer = Some(w);
                }
            }
            let w = writer.as_mut().expect("set above");
            w.write(std::slice::from_ref(batch), shared.markers.then_some(marker)).await
        }
        .await;
        match result {
            Ok(()) => {
                crate::failpoint::pause("import.batch-committed").await;
                return Ok(());
            }
            // Once the run is stopping (another worker's failure, Ctrl-C), a retry only delays it.
            Err(e) if e.transient && attempt < shared.settings.max_retries && !shared.stop.load(Ordering::SeqCst) => {
                *writer = None;
                attempt += 1;
                backoff(attempt, &e).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// A reconnected writer found the chunk's marker neither where its batch starts nor where it
/// ends: another process's session took the chunk over.
pub(super) fn moved_on(chunk_id: i64) -> TargetError {
    TargetError {
        code: None,
        message: format!(
            "chunk {chunk_id} moved on under another session while this one reconnected (another process took it \
             over); nothing more of it was written here"
        ),
        transient: true,
    }
}
