//! The one model of a running job: what it is, where it stands, and its counters. Every job
//! (import, restore full and point, backup, log start) writes into it; the progress bars and
//! log lines (`progress.rs`, the log jobs' lines) and the HTTP API (`status_http.rs`) read it,
//! so what a person sees on the terminal and what a monitor scrapes are the same numbers.
//!
//! - Bytes and rows are atomics added on the data path (a relaxed add per batch). A job's
//!   total and each table's are separate meters: a worker adds to both.
//! - Bytes and rows that earlier runs of a resumed job loaded count as done from the start,
//!   and apart (`*_before`), so that rates are this run's alone (see `progress.rs`).
//! - Units are the job's pieces of work (an import or restore chunk, a backup chunk): each
//!   table holds its own and the job's total is their sum, counted as they change.
//! - The states, errors and a log job's position sit behind mutexes written a few times a
//!   second at most. [`Status::snapshot`] reads everything at once for the API.
//!
//! Nothing here knows how it is shown. Passwords never enter: a job is named by its redacted
//! location, and errors are the messages the job prints.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Which command runs the job (DESIGN.md's job kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    #[default]
    Import,
    RestoreFull,
    RestorePoint,
    Backup,
    Log,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Import => "import",
            Kind::RestoreFull => "restore-full",
            Kind::RestorePoint => "restore-point",
            Kind::Backup => "backup",
            Kind::Log => "log",
        }
    }
}

/// Where the job stands, in the order a job goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum JobState {
    /// Reading the source and the checkpoint, checking the target.
    #[default]
    Starting,
    /// Making the plan (import, restore) or opening the snapshot (backup).
    Planning,
    /// Rows are moving: loading (import, restore) or being written into files (backup).
    Writing,
    /// A point-in-time restore applies the log.
    Replaying,
    /// `log start` receives the server's binlog.
    Streaming,
    /// `log start` lost the server and tries again.
    Reconnecting,
    /// Finished: every table is in (or, for a log, it stopped as asked).
    Done,
    /// Finished with failed tables, or stopped by an error.
    Failed,
    /// Stopped by a signal; the same command resumes.
    Interrupted,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Starting => "starting",
            JobState::Planning => "planning",
            JobState::Writing => "writing",
            JobState::Replaying => "replaying",
            JobState::Streaming => "streaming",
            JobState::Reconnecting => "reconnecting",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Interrupted => "interrupted",
        }
    }
}

/// Bytes and rows of the job or of one table: what is done, what of that earlier runs had
/// done, and when this run began moving them.
#[derive(Debug, Default)]
pub struct Meter {
    total: AtomicU64,
    bytes: AtomicU64,
    rows: AtomicU64,
    bytes_before: AtomicU64,
    rows_before: AtomicU64,
    started: OnceLock<Instant>,
}

/// What a meter says at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub total: u64,
    pub bytes: u64,
    pub rows: u64,
    pub bytes_before: u64,
    pub rows_before: u64,
    pub elapsed: Duration,
}

/// Below this much time a rate says more about timer noise than about the load.
pub const MIN_RATE_TIME: Duration = Duration::from_millis(500);

/// Bytes per second moved by this run and the time the rest takes at that rate. `moved` are
/// the bytes this run loaded in `elapsed`; `left` those still to load. No rate (and no ETA)
/// before anything moved or before the run has run long enough to have one.
pub fn rate_and_eta(moved: u64, left: u64, elapsed: Duration) -> (Option<f64>, Option<Duration>) {
    if left == 0 {
        let rate = (moved > 0 && elapsed >= MIN_RATE_TIME).then(|| moved as f64 / elapsed.as_secs_f64());
        return (rate, Some(Duration::ZERO));
    }
    if moved == 0 || elapsed < MIN_RATE_TIME {
        return (None, None);
    }
    let rate = moved as f64 / elapsed.as_secs_f64();
    (Some(rate), Some(Duration::from_secs_f64(left as f64 / rate)))
}

impl Reading {
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            100.0 * self.bytes.min(self.total) as f64 / self.total as f64
        }
    }
    /// Bytes and rows this run loaded.
    pub fn moved(&self) -> (u64, u64) {
        (self.bytes.saturating_sub(self.bytes_before), self.rows.saturating_sub(self.rows_before))
    }
    /// This run's bytes per second, and the time the rest takes at that rate.
    pub fn rate_and_eta(&self) -> (Option<f64>, Option<Duration>) {
        rate_and_eta(self.moved().0, self.total.saturating_sub(self.bytes), self.elapsed)
    }
    /// This run's rows per second.
    pub fn row_rate(&self) -> Option<f64> {
        let rows = self.moved().1;
        (self.elapsed >= MIN_RATE_TIME && rows > 0).then(|| rows as f64 / self.elapsed.as_secs_f64())
    }
}

impl Meter {
    pub fn new(total: u64) -> Meter {
        Meter { total: AtomicU64::new(total), ..Default::default() }
    }
    pub fn read(&self) -> Reading {
        Reading {
            total: self.total.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
            bytes_before: self.bytes_before.load(Ordering::Relaxed),
            rows_before: self.rows_before.load(Ordering::Relaxed),
            elapsed: self.started.get().map(Instant::elapsed).unwrap_or_default(),
        }
    }
    /// This run begins moving bytes: its rate counts from here.
    pub fn begin(&self) {
        self.started.get_or_init(Instant::now);
    }
    /// Bytes and rows this run moved.
    pub fn add(&self, bytes: u64, rows: u64) {
        self.begin();
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }
    /// Bytes and rows earlier runs moved: done, but not by this run.
    pub fn add_before(&self, bytes: u64, rows: u64) {
        self.bytes_before.fetch_add(bytes, Ordering::Relaxed);
        self.rows_before.fetch_add(rows, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }
}

/// Units of work: how many the job has, how many are done, how many being worked on now.
#[derive(Debug, Default)]
struct Units {
    total: AtomicU64,
    done: AtomicU64,
    running: AtomicU64,
}

/// One table of the job: its meter, its units and its state.
#[derive(Debug)]
pub struct TableStatus {
    pub label: String,
    pub meter: Meter,
    /// Whether `meter`'s total is known (a backup learns a table's size only as it writes).
    sized: bool,
    units_total: AtomicU64,
    units_done: AtomicU64,
    job_units: Arc<Units>,
    state: Mutex<&'static str>,
}

/// A table's state when nothing was done to it yet.
pub const PENDING: &str = "pending";
/// Its rows are moving (import: loading; backup: being read).
pub const WRITING: &str = "writing";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";

impl TableStatus {
    /// The table's units (chunks): how many, and how many earlier runs finished.
    pub fn set_units(&self, total: u64, done_before: u64) {
        self.units_total.fetch_add(total, Ordering::Relaxed);
        self.units_done.fetch_add(done_before, Ordering::Relaxed);
        self.job_units.total.fetch_add(total, Ordering::Relaxed);
        self.job_units.done.fetch_add(done_before, Ordering::Relaxed);
    }
    /// A worker takes one of the table's units; done or not, it stops running when dropped.
    pub fn unit(self: &Arc<Self>) -> Unit {
        self.job_units.running.fetch_add(1, Ordering::Relaxed);
        Unit { table: self.clone() }
    }
    /// `pending`, `writing`, a step after the data (`adding indexes`...), `done` or `failed`.
    pub fn set_state(&self, state: &'static str) {
        *lock(&self.state) = state;
    }
    pub fn state(&self) -> &'static str {
        *lock(&self.state)
    }
    /// The table is worked on: `writing`, unless it is past that.
    pub fn begin(&self) {
        self.meter.begin();
        let mut state = lock(&self.state);
        if *state == PENDING {
            *state = WRITING;
        }
    }
}

/// A unit being worked on.
#[derive(Debug)]
pub struct Unit {
    table: Arc<TableStatus>,
}

impl Unit {
    /// The unit is finished; true when it was the table's last.
    pub fn done(self) -> bool {
        let t = &self.table;
        t.job_units.done.fetch_add(1, Ordering::Relaxed);
        t.units_done.fetch_add(1, Ordering::Relaxed) + 1 >= t.units_total.load(Ordering::Relaxed)
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        self.table.job_units.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where a log job stands upstream: `log start`'s durable end, or the position a
/// point-in-time restore has applied.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LogProgress {
    /// The upstream binlog position after the last transaction (FILE:POS).
    pub position: Option<String>,
    /// The GTID of that transaction (MariaDB).
    pub gtid: Option<String>,
    /// Its commit time upstream, in seconds since the epoch.
    pub last_commit: Option<u32>,
    /// The server has sent nothing newer (`log start` only).
    pub caught_up: bool,
    /// How far the log trails its server, in seconds: 0 when caught up (`log start` only).
    pub lag_seconds: Option<u64>,
    /// Transactions this run took in.
    pub transactions: u64,
    /// Bytes of binlog this run took in (`log start`: written; restore point: read).
    pub bytes: u64,
    /// Bytes of log a restore point reads in all.
    pub bytes_total: Option<u64>,
    /// Times `log start` lost the server and connected again.
    pub reconnects: u32,
}

/// A job error, as the job reported it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobError {
    /// The table it stopped, if it is a table's.
    pub table: Option<String>,
    pub message: String,
}

#[derive(Debug, Default)]
struct About {
    kind: Kind,
    job: String,
    state: JobState,
    errors: Vec<JobError>,
}

#[derive(Debug)]
struct Model {
    created: Instant,
    created_unix: f64,
    about: Mutex<About>,
    total: Arc<Meter>,
    /// Whether the job's total bytes are known (the plan's); a backup's are not.
    sized: std::sync::atomic::AtomicBool,
    /// Rows the job will hold when done, where known (a restore's manifest says).
    rows_total: Mutex<Option<u64>>,
    units: Arc<Units>,
    tables: Mutex<Vec<Arc<TableStatus>>>,
    log: Mutex<Option<LogProgress>>,
}

/// A handle on the model; clones share it.
#[derive(Debug, Clone)]
pub struct Status(Arc<Model>);

impl Default for Status {
    fn default() -> Status {
        Status::new(Kind::default())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Status {
    /// The model of a job of this kind, about to start.
    pub fn new(kind: Kind) -> Status {
        let created_unix = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        Status(Arc::new(Model {
            created: Instant::now(),
            created_unix,
            about: Mutex::new(About { kind, ..Default::default() }),
            total: Default::default(),
            sized: Default::default(),
            rows_total: Default::default(),
            units: Default::default(),
            tables: Default::default(),
            log: Default::default(),
        }))
    }

    /// The job's name: the redacted location of the data it reads (import, restore) or
    /// writes (backup, log).
    pub fn set_job(&self, job: String) {
        lock(&self.0.about).job = job;
    }

    pub fn set_state(&self, state: JobState) {
        lock(&self.0.about).state = state;
    }

    pub fn state(&self) -> JobState {
        lock(&self.0.about).state
    }

    /// An error the job met: a table's (`table`) or the job's.
    pub fn error(&self, table: Option<&str>, message: &str) {
        let error = JobError { table: table.map(str::to_string), message: message.to_string() };
        lock(&self.0.about).errors.push(error);
    }

    /// The job's planned bytes; its rate counts from here.
    pub fn plan(&self, total_bytes: u64) {
        self.0.total.total.store(total_bytes, Ordering::Relaxed);
        self.0.sized.store(true, Ordering::Relaxed);
        self.0.total.begin();
    }

    pub fn set_rows_total(&self, rows: u64) {
        *lock(&self.0.rows_total) = Some(rows);
    }

    /// The job's own meter (all its tables together).
    pub fn total(&self) -> &Arc<Meter> {
        &self.0.total
    }

    /// A table of the job, `pending`, with its planned bytes if known.
    pub fn table(&self, label: &str, total_bytes: Option<u64>) -> Arc<TableStatus> {
        let table = Arc::new(TableStatus {
            label: label.to_string(),
            meter: Meter::new(total_bytes.unwrap_or(0)),
            sized: total_bytes.is_some(),
            units_total: AtomicU64::new(0),
            units_done: AtomicU64::new(0),
            job_units: self.0.units.clone(),
            state: Mutex::new(PENDING),
        });
        lock(&self.0.tables).push(table.clone());
        table
    }

    /// Tables in a step after their data, with the step: for the progress line.
    pub fn steps(&self) -> Vec<(String, &'static str)> {
        let tables = lock(&self.0.tables);
        tables
            .iter()
            .filter_map(|t| {
                let state = t.state();
                (![PENDING, WRITING, DONE, FAILED].contains(&state)).then(|| (t.label.clone(), state))
            })
            .collect()
    }

    /// Change what the log job says of its position.
    pub fn log(&self, change: impl FnOnce(&mut LogProgress)) {
        change(lock(&self.0.log).get_or_insert_with(Default::default));
    }

    pub fn log_progress(&self) -> Option<LogProgress> {
        lock(&self.0.log).clone()
    }

    /// Everything at this moment, for the API.
    pub fn snapshot(&self) -> Snapshot {
        let about = lock(&self.0.about);
        let total = self.0.total.read();
        let sized = self.0.sized.load(Ordering::Relaxed);
        let units = &self.0.units;
        let (units_total, units_done, running) = (
            units.total.load(Ordering::Relaxed),
            units.done.load(Ordering::Relaxed),
            units.running.load(Ordering::Relaxed),
        );
        let by_table: Vec<TableSnapshot> = lock(&self.0.tables)
            .iter()
            .map(|t| {
                let r = t.meter.read();
                TableSnapshot {
                    table: t.label.clone(),
                    state: t.state(),
                    bytes: r.bytes,
                    bytes_total: t.sized.then_some(r.total),
                    rows: r.rows,
                    units_done: t.units_done.load(Ordering::Relaxed),
                    units_total: t.units_total.load(Ordering::Relaxed),
                }
            })
            .collect();
        let count = |states: &[&str]| by_table.iter().filter(|t| states.contains(&t.state)).count() as u64;
        let (pending, done, failed) = (count(&[PENDING]), count(&[DONE]), count(&[FAILED]));
        let tables = TableCounts {
            total: by_table.len() as u64,
            pending,
            running: by_table.len() as u64 - pending - done - failed,
            done,
            failed,
        };
        let units = UnitCounts {
            total: units_total,
            pending: units_total.saturating_sub(units_done + running),
            running,
            done: units_done,
        };
        let (rate, eta) = total.rate_and_eta();
        let eta = match sized {
            true => eta,
            false => eta_by_units(&units, self.0.created.elapsed()),
        };
        Snapshot {
            job: about.job.clone(),
            kind: about.kind,
            state: about.state,
            started_at: iso_utc(self.0.created_unix),
            elapsed_seconds: self.0.created.elapsed().as_secs_f64(),
            tables,
            units,
            bytes: Amount { done: total.bytes, total: sized.then_some(total.total), earlier_runs: total.bytes_before },
            rows: Amount { done: total.rows, total: *lock(&self.0.rows_total), earlier_runs: total.rows_before },
            rate: Rate { bytes_per_second: rate, rows_per_second: total.row_rate() },
            eta_seconds: eta.map(|d| d.as_secs_f64()),
            errors: about.errors.clone(),
            log: lock(&self.0.log).clone(),
            by_table,
        }
    }

    /// When the job began (this process), in seconds since the epoch.
    pub fn started_unix(&self) -> f64 {
        self.0.created_unix
    }
}

/// Without planned bytes (a backup), the units' pace: what is left at the rate units were
/// done so far. Nothing before the first is done.
fn eta_by_units(units: &UnitCounts, elapsed: Duration) -> Option<Duration> {
    if units.total == 0 || units.done == 0 {
        return None;
    }
    let left = units.total - units.done.min(units.total);
    Some(elapsed.mul_f64(left as f64 / units.done as f64))
}

/// `2024-05-01T10:00:00Z`.
fn iso_utc(unix: f64) -> String {
    format!("{}Z", crate::utc::utc_text(unix as i64).replacen(' ', "T", 1))
}

/// The job at one moment: what `GET /status` answers (the README lists its fields).
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub job: String,
    pub kind: Kind,
    pub state: JobState,
    pub started_at: String,
    pub elapsed_seconds: f64,
    pub tables: TableCounts,
    pub units: UnitCounts,
    pub bytes: Amount,
    pub rows: Amount,
    pub rate: Rate,
    pub eta_seconds: Option<f64>,
    pub errors: Vec<JobError>,
    pub log: Option<LogProgress>,
    pub by_table: Vec<TableSnapshot>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TableCounts {
    pub total: u64,
    pub pending: u64,
    /// Being loaded or read, or in a step after the data.
    pub running: u64,
    pub done: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UnitCounts {
    pub total: u64,
    pub pending: u64,
    pub running: u64,
    pub done: u64,
}

/// Done (earlier runs' share included) and the total when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Amount {
    pub done: u64,
    pub total: Option<u64>,
    pub earlier_runs: u64,
}

/// This run's pace (what earlier runs did is not counted).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub bytes_per_second: Option<f64>,
    pub rows_per_second: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableSnapshot {
    pub table: String,
    pub state: &'static str,
    pub bytes: u64,
    pub bytes_total: Option<u64>,
    pub rows: u64,
    pub units_done: u64,
    pub units_total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_rate_counts_only_this_runs_bytes() {
        // A resume: 4.6 GB were loaded by earlier runs, this run moved 100 MB in 10 s and
        // 150 MB are left. The rate is 10 MB/s and the ETA 15 s, not 470 MB/s and 0 s.
        let r = Reading {
            total: 4_850_000_000,
            bytes: 4_700_000_000,
            rows: 7_000,
            bytes_before: 4_600_000_000,
            rows_before: 6_000,
            elapsed: S(10),
        };
        let (rate, eta) = r.rate_and_eta();
        assert_eq!(rate, Some(10e6));
        assert_eq!(eta, Some(S(15)));
        assert_eq!(r.moved(), (100_000_000, 1_000));
        assert_eq!(r.row_rate(), Some(100.0));
    }

    #[test]
    fn rate_and_eta_edges() {
        // Nothing moved yet, or too early to tell: no rate, no ETA (not "ETA 0s").
        assert_eq!(rate_and_eta(0, 100, S(30)), (None, None));
        assert_eq!(rate_and_eta(100, 100, Duration::from_millis(10)), (None, None));
        // All done: ETA 0, whatever the rate.
        assert_eq!(rate_and_eta(0, 0, S(3)), (None, Some(Duration::ZERO)));
        assert_eq!(rate_and_eta(50, 0, S(5)), (Some(10.0), Some(Duration::ZERO)));
        // 1 MB/s with 90 MB left: a minute and a half.
        assert_eq!(rate_and_eta(30_000_000, 90_000_000, S(30)), (Some(1e6), Some(S(90))));
    }

    #[test]
    fn a_resumed_meter_starts_with_what_earlier_runs_did() {
        let m = Meter::new(1_000);
        m.add_before(600, 6);
        let r = m.read();
        assert_eq!((r.bytes, r.moved()), (600, (0, 0)));
        assert_eq!(r.percent(), 60.0);
        m.add(400, 4);
        let r = m.read();
        assert_eq!((r.percent(), r.moved(), r.rows), (100.0, (400, 4), 10));
    }

    #[test]
    fn a_snapshot_counts_tables_and_units_by_state() {
        let status = Status::new(Kind::Import);
        status.set_job("/dump".into());
        status.plan(300);
        let a = status.table("`db`.`a`", Some(100));
        let b = status.table("`db`.`b`", Some(200));
        let c = status.table("`db`.`c`", Some(0));
        a.set_units(2, 1);
        b.set_units(3, 0);
        a.meter.add_before(50, 5);
        status.total().add_before(50, 5);
        let unit = b.unit();
        b.begin();
        let s = status.snapshot();
        assert_eq!(s.units, UnitCounts { total: 5, pending: 3, running: 1, done: 1 });
        assert_eq!(s.tables, TableCounts { total: 3, pending: 2, running: 1, done: 0, failed: 0 });
        assert!(!unit.done(), "b has two units more");
        c.set_state(FAILED);
        a.set_state("adding indexes");
        let s = status.snapshot();
        assert_eq!(s.units, UnitCounts { total: 5, pending: 3, running: 0, done: 2 });
        assert_eq!(s.tables, TableCounts { total: 3, pending: 0, running: 2, done: 0, failed: 1 });
        assert_eq!(status.steps(), [("`db`.`a`".to_string(), "adding indexes")]);
        assert_eq!(s.bytes, Amount { done: 50, total: Some(300), earlier_runs: 50 });
        assert_eq!(s.by_table[0].units_done, 1);
    }

    #[test]
    fn a_job_without_planned_bytes_estimates_by_units() {
        let units = UnitCounts { total: 10, pending: 6, running: 0, done: 4 };
        assert_eq!(eta_by_units(&units, Duration::from_secs(8)), Some(Duration::from_secs(12)));
        let none_done = UnitCounts { done: 0, pending: 10, ..units };
        assert_eq!(eta_by_units(&none_done, Duration::from_secs(8)), None);
        let status = Status::new(Kind::Backup);
        status.table("t", None).set_units(1, 0);
        let s = status.snapshot();
        assert_eq!((s.bytes.total, s.eta_seconds, s.by_table[0].bytes_total), (None, None, None));
    }

    #[test]
    fn the_start_time_reads_as_iso_8601() {
        assert_eq!(iso_utc(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_714_557_600.5), "2024-05-01T10:00:00Z");
    }
}
