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

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bars on a terminal, log lines otherwise.
    Auto,
    Bars,
    Log,
    Quiet,
}

/// Below this much time a rate says more about timer noise than about the load.
const MIN_RATE_TIME: Duration = Duration::from_millis(500);

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

/// Bytes and rows of one bar (the total, or a table): what is done, what of that earlier runs
/// had done, and when this run began moving them.
#[derive(Default)]
struct Meter {
    total: u64,
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
    pub fn rate_and_eta(&self) -> (Option<f64>, Option<Duration>) {
        rate_and_eta(self.moved().0, self.total.saturating_sub(self.bytes), self.elapsed)
    }
    fn rate_text(&self) -> String {
        match self.rate_and_eta().0 {
            Some(rate) => format!("{:.1} MB/s", rate / 1e6),
            None => "- MB/s".into(),
        }
    }
    fn eta_text(&self) -> String {
        self.rate_and_eta().1.map_or_else(|| "-".into(), human_duration)
    }
}

impl Meter {
    fn new(total: u64) -> Meter {
        Meter { total, ..Default::default() }
    }
    fn read(&self) -> Reading {
        Reading {
            total: self.total,
            bytes: self.bytes.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
            bytes_before: self.bytes_before.load(Ordering::Relaxed),
            rows_before: self.rows_before.load(Ordering::Relaxed),
            elapsed: self.started.get().map(Instant::elapsed).unwrap_or_default(),
        }
    }
    fn add(&self, bytes: u64, rows: u64) {
        self.started.get_or_init(Instant::now);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }
    fn add_before(&self, bytes: u64, rows: u64) {
        self.bytes_before.fetch_add(bytes, Ordering::Relaxed);
        self.rows_before.fetch_add(rows, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.rows.fetch_add(rows, Ordering::Relaxed);
    }
}

/// A bar drawn from a meter: done and total in MB, this run's rate, the ETA at that rate
/// (indicatif's own byte and rate keys are MiB and count every position change as moved now).
fn bar_style(meter: &Arc<Meter>) -> ProgressStyle {
    let meter = meter.clone();
    ProgressStyle::with_template("{prefix:>24} [{bar:30}] {hoist} {msg}")
        .expect("valid template")
        .with_key("hoist", move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&bar_figures(&meter.read()));
        })
        .progress_chars("=> ")
}

/// The figures of a bar: `12.3/45.6 MB 2.0 MB/s ETA 17s`.
pub fn bar_figures(r: &Reading) -> String {
    format!("{}/{} MB {} ETA {}", mb(r.bytes), mb(r.total), r.rate_text(), r.eta_text())
}

/// Tables in a step after their data, by label: the log line names them.
type Steps = Arc<Mutex<BTreeMap<String, &'static str>>>;

/// Counters shared by the workers, and the display that reads them.
pub struct Progress {
    meter: Arc<Meter>,
    bars: Option<(MultiProgress, ProgressBar)>,
    log_every: Option<Duration>,
    steps: Steps,
}

/// One table's bar (or nothing when there are no bars).
pub struct TableProgress {
    label: String,
    meter: Arc<Meter>,
    bar: Option<ProgressBar>,
    steps: Steps,
}

impl TableProgress {
    /// This run begins work on the table: its rate counts from here.
    pub fn begin(&self) {
        self.meter.started.get_or_init(Instant::now);
    }
    /// Bytes and rows this run loaded.
    pub fn add(&self, bytes: u64, rows: u64) {
        self.meter.add(bytes, rows);
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
            bar.set_message(format!("{} rows", self.meter.rows.load(Ordering::Relaxed)));
        }
    }
    /// Bytes and rows that earlier runs loaded: done, but not moved by this run.
    pub fn add_before(&self, bytes: u64, rows: u64) {
        self.meter.add_before(bytes, rows);
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }
    pub fn reading(&self) -> Reading {
        self.meter.read()
    }
    /// The table's step after its data ("adding indexes", "verifying", "analyzing"): on its
    /// bar; without bars in a log line now, and in the periodic progress line while it lasts.
    /// (A log line under bars would tear them.)
    pub fn step(&self, step: &'static str) {
        self.steps.lock().unwrap_or_else(|p| p.into_inner()).insert(self.label.clone(), step);
        match &self.bar {
            Some(bar) => bar.set_message(format!("{} rows, {step}", self.meter.rows.load(Ordering::Relaxed))),
            None => tracing::info!("{}: {step}", self.label),
        }
    }
    pub fn finish(&self, result: &str) {
        self.steps.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.label);
        if let Some(bar) = &self.bar {
            bar.finish_with_message(format!("{} rows, {result}", self.meter.rows.load(Ordering::Relaxed)));
        }
    }
}

impl Progress {
    pub fn new(mode: ProgressMode, total_bytes: u64) -> Arc<Progress> {
        let meter = Arc::new(Meter::new(total_bytes));
        // The total's rate counts from the start of the data stage.
        meter.started.get_or_init(Instant::now);
        let bars = match mode {
            ProgressMode::Bars => true,
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            _ => false,
        };
        let bars = bars.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(4));
            let total = multi.add(ProgressBar::new(total_bytes));
            total.set_style(bar_style(&meter));
            total.set_prefix("total");
            (multi, total)
        });
        let log_every = (mode == ProgressMode::Log || (mode == ProgressMode::Auto && bars.is_none()))
            .then_some(Duration::from_secs(5));
        Arc::new(Progress { meter, bars, log_every, steps: Default::default() })
    }

    /// A table's bar; `label` names it in the log (`db`.`tbl`).
    pub fn table(&self, label: &str, total_bytes: u64) -> TableProgress {
        let meter = Arc::new(Meter::new(total_bytes));
        let bar = self.bars.as_ref().map(|(multi, _)| {
            let bar = multi.add(ProgressBar::new(total_bytes));
            bar.set_style(bar_style(&meter));
            let chars: Vec<char> = label.chars().collect();
            bar.set_prefix(chars[chars.len().saturating_sub(24)..].iter().collect::<String>());
            bar
        });
        TableProgress { label: label.to_string(), meter, bar, steps: self.steps.clone() }
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
            bar.set_message(format!("{} rows", self.meter.rows.load(Ordering::Relaxed)));
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
            let steps: Vec<(String, &'static str)> = self
                .steps
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|(label, step)| (label.clone(), *step))
                .collect();
            tracing::info!("{}", log_line(&self.reading(), &steps));
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
    let row_rate = match r.elapsed >= MIN_RATE_TIME && rows_moved > 0 {
        true => format!("{:.0}", rows_moved as f64 / secs),
        false => "-".into(),
    };
    let mut line = format!(
        "progress: {:.1}% ({} of {} MB), {} rows; this run: {} MB, {rows_moved} rows in {secs:.1}s, {}, {row_rate} \
         rows/s, ETA {}",
        r.percent(),
        mb(r.bytes),
        mb(r.total),
        r.rows,
        mb(moved),
        r.rate_text(),
        r.eta_text()
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
        assert_eq!(human_duration(eta.unwrap()), "15s");
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
    fn durations_read_as_a_person_writes_them() {
        assert_eq!(human_duration(S(0)), "0s");
        assert_eq!(human_duration(S(59)), "59s");
        assert_eq!(human_duration(S(185)), "3m05s");
        assert_eq!(human_duration(S(7620)), "2h07m");
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
