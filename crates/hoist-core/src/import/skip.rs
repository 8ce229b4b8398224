//! `[lightning] max-error` and `[conflict] threshold`, as Lightning's logical backend defines
//! them: rows the server refuses for a value (its "type errors": truncation, out of range, bad
//! dates, NULL into NOT NULL under a strict sql_mode) and, under `replace` / `ignore`, rows
//! whose key another row holds (its "conflicts") are let pass up to a limit per kind; one more
//! fails the table. A source row hoist cannot parse is never let pass.
//!
//! A batch the server refuses is written again row by row ([`write_row_by_row`]): the rows it
//! refuses are left out (under `replace`, a row that replaced others is kept and counted), and
//! each is recorded in the target's error tables (`type_error_v2`, `conflict_records` in the
//! schema `[lightning] task-info-schema-name`, Lightning's layout) with its file, byte offset,
//! text and the server's message, IN THE TRANSACTION of the batch's other rows and its marker.
//! So a kill never records a row twice or loses one, and the records are the count: a run starts
//! from what the tables hold for its task, earlier runs' rows included. The marker's row count
//! and checksum leave the skipped rows out, so the verification compares the rows that are in.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::job::ImportSettings;
use super::state::{backoff, Shared, TableRun};
use super::workers::{moved_on, rejected_rows};
use crate::checkpoint::{ChunkProgress, ChunkRecord};
use crate::config::Tolerance;
use crate::content_hash::ContentSum;
use crate::error::TargetError;
use crate::error_class::{mysql_row_fault, RowFault};
use crate::reader::ReadBatch;
use crate::target::{record_table, Marker, RowOutcome, SkipRecord, Target, Writer};

/// A recorded row's text (as the file has it) is cut to this many bytes (the column is a TEXT).
const ROW_TEXT_BYTES: usize = 16 << 10;

/// The limits of a run and the rows recorded against them so far.
pub(super) struct Skips {
    tolerance: Tolerance,
    /// The conflicts allowed; None when they are not counted.
    conflict_limit: Option<u64>,
    task_id: i64,
    /// Recorded for the task so far (earlier runs' included), per kind.
    types: AtomicU64,
    conflicts: AtomicU64,
    /// What earlier runs had recorded.
    earlier: (u64, u64),
}

impl Skips {
    /// The run's limits, counting what the target holds for the task; None when no row may be
    /// skipped (then nothing is created in the target).
    pub(super) async fn open(
        settings: &ImportSettings,
        target: &dyn Target,
        task_id: i64,
    ) -> Result<Option<Arc<Skips>>, TargetError> {
        let tolerance = settings.tolerance.clone();
        if !tolerance.skips(settings.conflict) {
            return Ok(None);
        }
        let (types, conflicts) = match target.prepare_error_tables(&tolerance.schema, task_id).await {
            Ok(counts) => counts,
            // Only Lightning's default threshold, on a target that cannot record (SQLite, or a
            // user without rights on the schema): `replace` and `ignore` work as without it. A
            // limit asked for is refused there.
            Err(e) if !e.transient && tolerance.max_type_errors == 0 && tolerance.conflict_threshold.is_none() => {
                tracing::warn!("conflicts are not counted ([conflict] threshold): {}", e.message);
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        Ok(Some(Arc::new(Skips {
            conflict_limit: tolerance.conflicts(settings.conflict),
            tolerance,
            task_id,
            types: AtomicU64::new(types),
            conflicts: AtomicU64::new(conflicts),
            earlier: (types, conflicts),
        })))
    }

    /// Whether conflicts are counted: then a REPLACE that replaced rows, or a duplicate under
    /// `ignore` (written as a plain INSERT, as Lightning does), sends the batch row by row.
    pub(super) fn counts_conflicts(&self) -> bool {
        self.conflict_limit.is_some()
    }

    /// The kind of a refusal a limit may let pass.
    fn fault(&self, e: &TargetError) -> Option<RowFault> {
        match mysql_row_fault(e.code?)? {
            RowFault::Type => (self.tolerance.max_type_errors > 0).then_some(RowFault::Type),
            RowFault::Conflict => self.counts_conflicts().then_some(RowFault::Conflict),
        }
    }

    /// Whether a batch the server refused with `e` is worth writing row by row.
    pub(super) fn may_skip(&self, e: &TargetError) -> bool {
        !e.transient && self.fault(e).is_some()
    }

    /// Count `types` and `conflicts` more rows; refused (nothing counted) when a limit would be
    /// passed, with which one.
    fn reserve(&self, types: u64, conflicts: u64) -> Result<(), (RowFault, u64)> {
        let had = self.types.fetch_add(types, Ordering::SeqCst);
        if types > 0 && had + types > self.tolerance.max_type_errors {
            self.types.fetch_sub(types, Ordering::SeqCst);
            return Err((RowFault::Type, had + types));
        }
        let had = self.conflicts.fetch_add(conflicts, Ordering::SeqCst);
        if conflicts > 0 && had + conflicts > self.conflict_limit.unwrap_or(0) {
            self.conflicts.fetch_sub(conflicts, Ordering::SeqCst);
            self.types.fetch_sub(types, Ordering::SeqCst);
            return Err((RowFault::Conflict, had + conflicts));
        }
        Ok(())
    }

    fn release(&self, (types, conflicts): (u64, u64)) {
        self.types.fetch_sub(types, Ordering::SeqCst);
        self.conflicts.fetch_sub(conflicts, Ordering::SeqCst);
    }

    fn table(&self, fault: RowFault) -> String {
        format!("`{}`.`{}` (task_id = {})", self.tolerance.schema, record_table(fault), self.task_id)
    }

    /// Why a table stops: which limit, how many rows it would take, where the records are.
    fn over_limit(&self, fault: RowFault, count: u64) -> String {
        match fault {
            RowFault::Type => format!(
                "{count} rows refused for their values exceed [lightning] max-error = {}; the {} skipped so far \
                 are recorded in {}",
                self.tolerance.max_type_errors,
                self.types.load(Ordering::SeqCst),
                self.table(fault)
            ),
            // Lightning's words, which its users search their logs for.
            RowFault::Conflict => format!(
                "The number of conflict errors exceeds the threshold configured by `conflict.threshold`: '{}' \
                 ({count} conflicts); the {} counted so far are recorded in {}",
                self.conflict_limit.unwrap_or(0),
                self.conflicts.load(Ordering::SeqCst),
                self.table(fault)
            ),
        }
    }

    /// The summary's line, when rows were recorded (by this run or earlier ones).
    pub(super) fn summary(&self) -> Option<String> {
        let (types, conflicts) = (self.types.load(Ordering::SeqCst), self.conflicts.load(Ordering::SeqCst));
        if types + conflicts == 0 {
            return None;
        }
        let earlier = match self.earlier {
            (0, 0) => String::new(),
            (t, c) => format!(" ({t} and {c} of them by earlier runs)"),
        };
        Some(format!(
            "{types} rows refused for their values were skipped and {conflicts} conflicts counted{earlier}; they are \
             recorded in {} and {}",
            self.table(RowFault::Type),
            self.table(RowFault::Conflict)
        ))
    }
}

/// What a batch written row by row committed, and what it left out of the reader's position.
pub(super) struct Written {
    pub(super) progress: ChunkProgress,
    pub(super) skipped_rows: u64,
    pub(super) skipped_sum: ContentSum,
}

/// Write a batch the server refused row by row, with the marker `marker` (the reader's position
/// after the batch, less what earlier batches of the chunk left out): the rows the limits let
/// pass are left out and recorded, in one transaction with the other rows and the marker. A
/// broken connection is retried as `write_with_retry` does: the marker says whether the COMMIT
/// landed.
#[allow(clippy::too_many_arguments)]
pub(super) async fn write_row_by_row(
    shared: &Shared,
    skips: &Skips,
    run: &TableRun,
    chunk: &ChunkRecord,
    writer: &mut Option<Box<dyn Writer>>,
    batch: &ReadBatch,
    from: ChunkProgress,
    marker: &Marker,
) -> Result<Written, TargetError> {
    let at_end = |p: &ChunkProgress| {
        let want = &marker.progress;
        (p.offset, p.stmt_start, p.done) == (want.offset, want.stmt_start, want.done)
    };
    // Counted for a COMMIT whose outcome a lost connection hid.
    let mut pending: Option<(u64, u64)> = None;
    let mut attempt = 0u32;
    loop {
        let result: Result<Written, TargetError> = async {
            if writer.is_none() {
                let mut w = shared.target.writer(Some(shared.now)).await?;
                let committed = match shared.markers {
                    true => w.claim(marker.task_id, marker.chunk_id).await?,
                    false => None,
                };
                *writer = Some(w);
                match committed {
                    Some(c) if at_end(&c) => {
                        // It landed: what it left out is the difference to the reader's position.
                        let mut skipped_sum = ContentSum(marker.progress.checksum);
                        skipped_sum.remove(ContentSum(c.checksum));
                        pending = None;
                        return Ok(Written { progress: c, skipped_rows: marker.progress.rows - c.rows, skipped_sum });
                    }
                    Some(c) if c != from => return Err(moved_on(marker.chunk_id)),
                    _ => {}
                }
            }
            if let Some(counted) = pending.take() {
                skips.release(counted);
            }
            let w = writer.as_mut().expect("set above");
            let outcomes = w.replay(&batch.batch, false).await?;
            let mut records = Vec::new();
            let (mut types, mut conflicts, mut skipped_rows) = (0, 0, 0);
            let mut skipped_sum = ContentSum::default();
            for (i, outcome) in outcomes.into_iter().enumerate() {
                let (fault, error, kept) = match outcome {
                    RowOutcome::Stored => continue,
                    RowOutcome::Replaced(_) if !skips.counts_conflicts() => continue,
                    RowOutcome::Replaced(n) => {
                        let error = format!("REPLACE deleted {n} earlier row(s) with a key of this row, which is kept");
                        (RowFault::Conflict, error, true)
                    }
                    RowOutcome::Refused(e) => match skips.fault(&e) {
                        Some(fault) => (fault, e.message, false),
                        None => {
                            w.abandon().await;
                            let why = rejected_rows(shared, chunk, &batch.row_offsets, Some(i), &e).await;
                            return Err(TargetError::permanent(why));
                        }
                    },
                };
                match fault {
                    RowFault::Type => types += 1,
                    RowFault::Conflict => conflicts += 1,
                }
                if !kept {
                    skipped_rows += 1;
                    skipped_sum.add_row(batch.row_hashes.get(i).copied().unwrap_or(0));
                }
                let offset = batch.row_offsets.get(i).copied().unwrap_or(chunk.start);
                let end = batch.row_ends.get(i).copied().unwrap_or(offset);
                let (source, ch, handle) = (shared.source.clone(), chunk.clone(), tokio::runtime::Handle::current());
                let row = tokio::task::spawn_blocking(move || {
                    crate::reader::source_text(&source, &handle, &ch, offset, end, ROW_TEXT_BYTES)
                })
                .await
                .unwrap_or_default();
                let row = String::from_utf8_lossy(&row).into_owned();
                records.push(SkipRecord { fault, table: run.label(), path: chunk.path.clone(), offset, error, row });
            }
            if let Err((fault, count)) = skips.reserve(types, conflicts) {
                w.abandon().await;
                let first = records.iter().position(|r| r.fault == fault).unwrap_or(0);
                let r = &records[first];
                let position = crate::error::FilePosition { file: r.path.clone(), offset: r.offset, line: None };
                return Err(TargetError::permanent(format!(
                    "{}; over it at {position}: {}",
                    skips.over_limit(fault, count),
                    r.error
                )));
            }
            let mut progress = marker.progress;
            progress.rows -= skipped_rows;
            let mut sum = ContentSum(progress.checksum);
            sum.remove(skipped_sum);
            progress.checksum = sum.0;
            let marker = Marker { progress, ..*marker };
            let committed =
                w.commit_replayed(skips.task_id, &skips.tolerance.schema, &records, shared.markers.then_some(&marker));
            if let Err(e) = committed.await {
                pending = Some((types, conflicts));
                return Err(e);
            }
            Ok(Written { progress, skipped_rows, skipped_sum })
        }
        .await;
        match result {
            Ok(written) => return Ok(written),
            Err(e) if e.transient && attempt < shared.settings.max_retries && !shared.stop.load(Ordering::SeqCst) => {
                *writer = None;
                attempt += 1;
                backoff(attempt, &e).await;
            }
            Err(e) => {
                if let Some(counted) = pending.take() {
                    skips.release(counted);
                }
                return Err(e);
            }
        }
    }
}
