//! What a person watching the run sees: progress bars on a terminal (total, and one per table
//! being loaded: bytes, rows/s, ETA), or a progress line every few seconds in a log.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bars on a terminal, log lines otherwise.
    Auto,
    Bars,
    Log,
    Quiet,
}

/// Counters shared by the workers, and the display that reads them.
pub struct Progress {
    pub total_bytes: u64,
    pub bytes: AtomicU64,
    pub rows: AtomicU64,
    started: Instant,
    bars: Option<(MultiProgress, ProgressBar)>,
    log_every: Option<Duration>,
}

/// One table's bar (or nothing when there are no bars).
pub struct TableProgress {
    bar: Option<ProgressBar>,
    pub bytes: AtomicU64,
    pub rows: AtomicU64,
}

impl TableProgress {
    pub fn add(&self, bytes: u64, rows: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.rows.fetch_add(rows, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
            bar.set_message(format!("{} rows", self.rows.load(Ordering::Relaxed)));
        }
    }
    pub fn finish(&self, result: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(format!("{} rows, {result}", self.rows.load(Ordering::Relaxed)));
        }
    }
}

impl Progress {
    pub fn new(mode: ProgressMode, total_bytes: u64) -> Arc<Progress> {
        let bars = match mode {
            ProgressMode::Bars => true,
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            _ => false,
        };
        let bars = bars.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(4));
            let total = multi.add(ProgressBar::new(total_bytes));
            total.set_style(
                ProgressStyle::with_template(
                    "{prefix:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            total.set_prefix("total");
            (multi, total)
        });
        let log_every = (mode == ProgressMode::Log || (mode == ProgressMode::Auto && bars.is_none()))
            .then_some(Duration::from_secs(5));
        Arc::new(Progress {
            total_bytes,
            bytes: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            started: Instant::now(),
            bars,
            log_every,
        })
    }

    pub fn table(&self, label: &str, total_bytes: u64) -> TableProgress {
        let bar = self.bars.as_ref().map(|(multi, _)| {
            let bar = multi.add(ProgressBar::new(total_bytes));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.chars().rev().take(24).collect::<Vec<_>>().into_iter().rev().collect::<String>());
            bar
        });
        TableProgress { bar, bytes: AtomicU64::new(0), rows: AtomicU64::new(0) }
    }

    pub fn add(&self, bytes: u64, rows: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        let total_rows = self.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        if let Some((_, bar)) = &self.bars {
            bar.inc(bytes);
            bar.set_message(format!("{total_rows} rows"));
        }
    }

    /// Print a line now and then when there are no bars. Ends when `done` is set.
    pub async fn log_loop(self: Arc<Self>, done: Arc<tokio::sync::Notify>) {
        let Some(every) = self.log_every else { return };
        loop {
            tokio::select! {
                _ = done.notified() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let bytes = self.bytes.load(Ordering::Relaxed);
            let rows = self.rows.load(Ordering::Relaxed);
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            let rate = bytes as f64 / secs;
            let pct = if self.total_bytes > 0 { 100.0 * bytes as f64 / self.total_bytes as f64 } else { 100.0 };
            let eta = if rate > 0.0 && self.total_bytes > bytes {
                format!("{:.0}s", (self.total_bytes - bytes) as f64 / rate)
            } else {
                "-".into()
            };
            tracing::info!(
                "progress: {pct:.1}% ({:.1} of {:.1} MB), {rows} rows, {:.1} MB/s, {:.0} rows/s, ETA {eta}",
                bytes as f64 / 1e6,
                self.total_bytes as f64 / 1e6,
                rate / 1e6,
                rows as f64 / secs
            );
        }
    }

    pub fn finish(&self) {
        if let Some((multi, bar)) = &self.bars {
            bar.finish();
            let _ = multi.clear();
        }
    }
}
