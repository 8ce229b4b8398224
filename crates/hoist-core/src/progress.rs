//! What a person watching the run sees: progress bars on a terminal (total, and one per table
//! being loaded), or a progress line every few seconds in a log.
//!
//! What they must be able to trust:
//! - The total is the whole plan. Bytes that earlier runs of the task loaded (a resume) are
//!   counted as done from the start, so the total reaches 100 % when the task is done.
//! - Rates are this run's bytes over this run's time: bytes done before the run began were not
//!   moved now, and counting them would show rates no disk has (and an ETA of 0 s). The ETA is
//!   what is left at that rate.
//! - A table in a step after its data (adding its deferred indexes, verifying, analyzing) says
//!   so on its bar and in the log, so that a long index build does not look like a hang.
//! - One unit everywhere, in bars, log lines and the summary: MB, 10^6 bytes.
//!
//! The counters are the job's model (`status.rs`), which the HTTP API reads too: this module
//! only draws them.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::status::{Meter, Reading, Status, TableStatus, Unit, DONE, FAILED};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bars on a terminal, log lines otherwise.
    Auto,
    Bars,
    Log,
    Quiet,
}

/// `bytes` in MB (10^6 bytes), one decimal.
pub fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

/// A duration as a person reads an ETA: 45s, 3m05s, 2h07m.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn rate_text(r: &Reading) -> String {
    match r.rate_and_eta().0 {
        Some(rate) => format!("{:.1} MB/s", rate / 1e6),
        None => "- MB/s".into(),
    }
}

fn eta_text(r: &Reading) -> String {
    r.rate_and_eta().1.map_or_else(|| "-".into(), human_duration)
}

/// A bar drawn from a meter: done and total in MB, this run's rate, the ETA at that rate
/// (indicatif's own byte and rate keys are MiB and count every position change as moved now).
fn bar_style(read: impl Fn() -> Reading + Clone + Send + Sync + 'static) -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>24} [{bar:30}] {hoist} {msg}")
        .expect("valid template")
        .with_key("hoist", move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&bar_figures(&read()));
        })
        .progress_chars("=> ")
}

/// The figures of a bar: `12.3/45.6 MB 2.0 MB/s ETA 17s`.
pub fn bar_figures(r: &Reading) -> String {
    format!("{}/{} MB {} ETA {}", mb(r.bytes), mb(r.total), rate_text(r), eta_text(r))
}

/// The display of a job's model ([`Status`]): bars, or the periodic log line.
pub struct Progress {
    status: Status,
    meter: Arc<Meter>,
    bars: Option<(MultiProgress, ProgressBar)>,
    log_every: Option<Duration>,
}

/// One table's bar (or nothing when there are no bars), over its entry in the model.
pub struct TableProgress {
    table: Arc<TableStatus>,
    bar: Option<ProgressBar>,
    status: Status,
}

impl TableProgress {
    /// This run begins work on the table: its rate counts from here.
    pub fn begin(&self) {
        self.table.begin();
    }
    /// Bytes and rows this run loaded.
    pub fn add(&self, bytes: u64, rows: u64) {
        self.table.meter.add(bytes, rows);
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
            bar.set_message(format!("{} rows", self.reading().rows));
        }
    }
    /// Bytes and rows that earlier runs loaded: done, but not moved by this run.
    pub fn add_before(&self, bytes: u64, rows: u64) {
        self.table.meter.add_before(bytes, rows);
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }
    pub fn reading(&self) -> Reading {
        self.table.meter.read()
    }
    /// The table's chunks, and how many of them earlier runs finished.
    pub fn set_units(&self, total: u64, done_before: u64) {
        self.table.set_units(total, done_before);
    }
    /// A worker loads one of the table's chunks.
    pub fn unit(&self) -> Unit {
        self.table.unit()
    }
    /// The table's step after its data ("adding indexes", "verifying", "analyzing"): on its
    /// bar; without bars in a log line now, and in the periodic progress line while it lasts.
    /// (A log line under bars would tear them.)
    pub fn step(&self, step: &'static str) {
        self.table.set_state(step);
        match &self.bar {
            Some(bar) => bar.set_message(format!("{} rows, {step}", self.reading().rows)),
            None => tracing::info!("{}: {step}", self.table.label),
        }
    }
    /// The table is done.
    pub fn finish(&self) {
        self.end(DONE);
    }
    /// The table stopped on this error.
    pub fn fail(&self, message: &str) {
        self.status.error(Some(&self.table.label), message);
        self.end(FAILED);
    }
    fn end(&self, state: &'static str) {
        self.table.set_state(state);
        if let Some(bar) = &self.bar {
            bar.finish_with_message(format!("{} rows, {state}", self.reading().rows));
        }
    }
}

impl Progress {
    /// The display of `status`, whose job plans `total_bytes`.
    pub fn new(mode: ProgressMode, status: &Status, total_bytes: u64) -> Arc<Progress> {
        status.plan(total_bytes);
        let meter = status.total().clone();
        let bars = match mode {
            ProgressMode::Bars => true,
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            _ => false,
        };
        let bars = bars.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(4));
            let total = multi.add(ProgressBar::new(total_bytes));
            let read = meter.clone();
            total.set_style(bar_style(move || read.read()));
            total.set_prefix("total");
            (multi, total)
        });
        let log_every = (mode == ProgressMode::Log || (mode == ProgressMode::Auto && bars.is_none()))
            .then_some(Duration::from_secs(5));
        Arc::new(Progress { status: status.clone(), meter, bars, log_every })
    }

    /// A table's bar; `label` names it in the log (`db`.`tbl`).
    pub fn table(&self, label: &str, total_bytes: u64) -> TableProgress {
        let table = self.status.table(label, Some(total_bytes));
        let bar = self.bars.as_ref().map(|(multi, _)| {
            let bar = multi.add(ProgressBar::new(total_bytes));
            let read = table.clone();
            bar.set_style(bar_style(move || read.meter.read()));
            let chars: Vec<char> = label.chars().collect();
            bar.set_prefix(chars[chars.len().saturating_sub(24)..].iter().collect::<String>());
            bar
        });
        TableProgress { table, bar, status: self.status.clone() }
    }

    /// A table that earlier runs loaded in full (`units` chunks): done from the start, no bar.
    pub fn table_done_before(&self, label: &str, bytes: u64, rows: u64, units: u64) {
        let table = self.status.table(label, Some(bytes));
        table.meter.add_before(bytes, rows);
        table.set_units(units, units);
        table.set_state(DONE);
        self.add_before(bytes, rows);
    }

    /// A table that failed before its rows (in its schema step), with the error.
    pub fn table_failed(&self, label: &str, message: &str) {
        self.status.table(label, None).set_state(FAILED);
        self.status.error(Some(label), message);
    }

    /// Bytes and rows this run loaded.
    pub fn add(&self, bytes: u64, rows: u64) {
        self.meter.add(bytes, rows);
        self.show(bytes);
    }

    /// Bytes and rows that earlier runs loaded: done from the start, not moved by this run.
    pub fn add_before(&self, bytes: u64, rows: u64) {
        self.meter.add_before(bytes, rows);
        self.show(bytes);
    }

    fn show(&self, bytes: u64) {
        if let Some((_, bar)) = &self.bars {
            bar.inc(bytes);
            bar.set_message(format!("{} rows", self.reading().rows));
        }
    }

    pub fn reading(&self) -> Reading {
        self.meter.read()
    }

    /// Print a line now and then when there are no bars, and a last one when `done` is set.
    pub async fn log_loop(self: Arc<Self>, done: Arc<tokio::sync::Notify>) {
        let Some(every) = self.log_every else { return };
        loop {
            let last = tokio::select! {
                _ = done.notified() => true,
                _ = tokio::time::sleep(every) => false,
            };
            tracing::info!("{}", log_line(&self.reading(), &self.status.steps()));
            if last {
                return;
            }
        }
    }

    pub fn finish(&self) {
        if let Some((multi, bar)) = &self.bars {
            bar.finish();
            let _ = multi.clear();
        }
    }
}

/// The periodic progress line: the whole plan done so far, this run's share and rate, what
/// earlier runs had loaded, and the tables in a step after their data.
pub fn log_line(r: &Reading, steps: &[(String, &'static str)]) -> String {
    let (moved, rows_moved) = r.moved();
    let secs = r.elapsed.as_secs_f64();
    let row_rate = r.row_rate().map_or_else(|| "-".into(), |rate| format!("{rate:.0}"));
    let mut line = format!(
        "progress: {:.1}% ({} of {} MB), {} rows; this run: {} MB, {rows_moved} rows in {secs:.1}s, {}, {row_rate} \
         rows/s, ETA {}",
        r.percent(),
        mb(r.bytes),
        mb(r.total),
        r.rows,
        mb(moved),
        rate_text(r),
        eta_text(r)
    );
    if r.bytes_before > 0 || r.rows_before > 0 {
        line.push_str(&format!("; earlier runs: {} MB, {} rows", mb(r.bytes_before), r.rows_before));
    }
    for (label, step) in steps {
        line.push_str(&format!("; {label}: {step}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn durations_read_as_a_person_writes_them() {
        assert_eq!(human_duration(S(0)), "0s");
        assert_eq!(human_duration(S(59)), "59s");
        assert_eq!(human_duration(S(185)), "3m05s");
        assert_eq!(human_duration(S(7620)), "2h07m");
    }

    #[test]
    fn the_log_line_says_this_run_earlier_runs_and_steps_in_mb() {
        let r = Reading {
            total: 30_000_000,
            bytes: 30_000_000,
            rows: 3_000,
            bytes_before: 20_000_000,
            rows_before: 2_000,
            elapsed: S(5),
        };
        let line = log_line(&r, &[("`db`.`big`".into(), "adding indexes")]);
        assert_eq!(
            line,
            "progress: 100.0% (30.0 of 30.0 MB), 3000 rows; this run: 10.0 MB, 1000 rows in 5.0s, 2.0 MB/s, 200 \
             rows/s, ETA 0s; earlier runs: 20.0 MB, 2000 rows; `db`.`big`: adding indexes"
        );
        assert!(!line.contains("MiB"));
    }

    #[test]
    fn bars_show_mb_and_this_runs_rate() {
        // 905 MiB/s and ETA 0s was a resumed table's bar: its earlier bytes counted as moved now.
        let r = Reading {
            total: 2_000_000_000,
            bytes: 1_500_000_000,
            rows: 0,
            bytes_before: 1_470_000_000,
            rows_before: 0,
            elapsed: S(10),
        };
        assert_eq!(bar_figures(&r), "1500.0/2000.0 MB 3.0 MB/s ETA 2m47s");
        let fresh = Reading { bytes: 0, bytes_before: 0, elapsed: Duration::ZERO, ..r };
        assert_eq!(bar_figures(&fresh), "0.0/2000.0 MB - MB/s ETA -");
    }
}
