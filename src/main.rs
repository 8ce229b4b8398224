//! The `hoist` binary: parse flags and config, build the settings, call the engine, print the
//! result and choose the exit code. No SQL and no parsing here.

mod cli;
mod summary;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Parser;
use hoist_core::status::{JobState, Kind, Status};
use hoist_core::status_http::StatusListener;

/// Exit codes: 0 every table loaded; 1 some tables failed (the summary says which);
/// 2 the run could not start or had to stop (a refusal, a lost target, bad options);
/// 130 interrupted by Ctrl-C, SIGTERM or SIGHUP.
const EXIT_TABLES_FAILED: u8 = 1;
const EXIT_RUN_ERROR: u8 = 2;
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    // Readers run on many short-lived blocking threads; glibc would give them up to 8 malloc
    // arenas per core, each keeping freed buffers, so peak memory would creep up with the
    // number of chunks instead of staying flat.
    // SAFETY: called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    let args = cli::Args::parse();
    init_logging(args.quiet());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUN_ERROR)
        }
    };
    // The status API still answers here: tests read a finished job's numbers at this pause.
    runtime.block_on(hoist_core::failpoint::pause("status.finished"));
    code
}

/// Log lines on stderr. `--progress quiet` means warnings and errors only; HOIST_LOG (an
/// EnvFilter: `info`, `hoist_core=debug`...) says otherwise when set.
fn init_logging(quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("HOIST_LOG").unwrap_or_else(|_| default.into()))
        .with_writer(std::io::stderr)
        .with_ansi(colour_logs(terminal, std::env::var_os("NO_COLOR")))
        .with_target(false)
        .init();
}

/// Colour codes only where a person reads them: in a file or a pipe they are noise that
/// breaks grep. NO_COLOR set to anything but empty turns them off (https://no-color.org).
fn colour_logs(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

async fn run(args: cli::Args) -> anyhow::Result<ExitCode> {
    match args.command {
        cli::Command::Import(import) => {
            let file = import.shared.file_config()?;
            let mut settings = import.settings(&file)?;
            // Neither --target nor [tidb]: the embedded default, said out loud.
            if !import.has_target() && settings.target.starts_with("sqlite://") {
                eprintln!(
                    "no --target given: loading into the embedded SQLite file {}",
                    settings.target.trim_start_matches("sqlite://")
                );
            }
            settings.status = served(Kind::Import, import.load.status.addr(Some(&file)))?;
            let (status, stop) = (settings.status.clone(), stop_flag());
            loaded(&status, hoist_core::import::run(settings, stop).await)
        }
        cli::Command::Restore(restore) => match restore.action {
            cli::RestoreAction::Full(full) => {
                let file = full.shared.file_config()?;
                let mut settings = full.settings(&file)?;
                settings.status = served(Kind::RestoreFull, full.load.status.addr(Some(&file)))?;
                let status = settings.status.clone();
                loaded(&status, hoist_core::restore::full(settings, stop_flag()).await)
            }
            cli::RestoreAction::Point(args) => {
                let file = args.shared.file_config()?;
                let (mut settings, point) = args.settings(&file)?;
                settings.status = served(Kind::RestorePoint, args.load.status.addr(Some(&file)))?;
                let status = settings.status.clone();
                loaded(&status, hoist_core::restore_point::run(settings, point, stop_flag()).await)
            }
            cli::RestoreAction::Clean(clean) => {
                let (target, checkpoint, options) = clean.settings()?;
                for line in hoist_core::restore::clean(Some(&target), &checkpoint, &options).await? {
                    println!("{line}");
                }
                Ok(ExitCode::SUCCESS)
            }
        },
        cli::Command::Backup(backup) => {
            let mut settings = backup.settings()?;
            settings.status = served(Kind::Backup, backup.status.addr(None))?;
            let status = settings.status.clone();
            match hoist_core::backup::run(settings, stop_flag()).await {
                Ok(report) => {
                    status.set_state(JobState::Done);
                    summary::print_backup(&report);
                    Ok(ExitCode::SUCCESS)
                }
                Err(hoist_core::backup::BackupError::Interrupted) => {
                    status.set_state(JobState::Interrupted);
                    eprintln!("{}", hoist_core::backup::BackupError::Interrupted);
                    Ok(ExitCode::from(EXIT_INTERRUPTED))
                }
                Err(e) => Err(failed(&status, e)),
            }
        }
        cli::Command::Log(log) => match log.action {
            // SIGTERM or Ctrl-C is how a log ends: what is whole is flushed, and the exit is 0.
            cli::LogAction::Start(start) => {
                let mut settings = start.settings()?;
                settings.status = served(Kind::Log, start.status.addr(None))?;
                let status = settings.status.clone();
                let report =
                    hoist_core::log_backup::run(settings, stop_flag()).await.map_err(|e| failed(&status, e))?;
                status.set_state(JobState::Done);
                summary::print_log(&report);
                Ok(ExitCode::SUCCESS)
            }
            cli::LogAction::Status(status) => {
                let source = status.source.as_deref();
                let tls = status.tls.tls(None)?;
                print!(
                    "{}",
                    hoist_core::log_backup::status::status(&status.storage, source, &tls, status.verbose).await?
                );
                Ok(ExitCode::SUCCESS)
            }
        },
        cli::Command::Checkpoint(args) => checkpoint(&args.shared, args.action).await,
        cli::Command::Ctl(args) => checkpoint(&args.shared, args.action()).await,
    }
}

/// A flag that Ctrl-C, SIGTERM or SIGHUP sets.
fn stop_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    tokio::spawn(stop_on_signal(stop.clone()));
    stop
}

/// The job's model, served on `addr` when one is given. The address is bound here, before
/// the job starts: a taken port stops the command before anything is done.
fn served(kind: Kind, addr: Option<String>) -> anyhow::Result<Status> {
    let status = Status::new(kind);
    if let Some(addr) = addr {
        let listener = StatusListener::bind(&addr)?;
        let local = listener.local_addr()?;
        listener.serve(status.clone())?;
        eprintln!("{}", hoist_core::status_http::listening_line(local));
    }
    Ok(status)
}

/// The job stopped on `e`: so the model says, and the command ends with it.
fn failed(status: &Status, e: impl Into<anyhow::Error>) -> anyhow::Error {
    let e = e.into();
    status.error(None, &format!("{e:#}"));
    status.set_state(JobState::Failed);
    e
}

/// The summary and exit code of a run that loads rows (import, restore full and point); the
/// model's last state, set before the summary is printed.
fn loaded(
    status: &Status,
    result: Result<hoist_core::import::ImportReport, hoist_core::error::ImportError>,
) -> anyhow::Result<ExitCode> {
    match result {
        Ok(report) => {
            status.set_state(if report.success() { JobState::Done } else { JobState::Failed });
            summary::print(&report);
            Ok(if report.success() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_TABLES_FAILED) })
        }
        Err(hoist_core::error::ImportError::Interrupted) => {
            status.set_state(JobState::Interrupted);
            eprintln!("interrupted; run the same command to resume");
            Ok(ExitCode::from(EXIT_INTERRUPTED))
        }
        Err(e) => Err(failed(status, e)),
    }
}

/// `hoist checkpoint ...`: print what was done, one line per table.
async fn checkpoint(shared: &cli::Shared, action: cli::CheckpointAction) -> anyhow::Result<ExitCode> {
    use hoist_core::control;
    let file = shared.file_config()?;
    let target_url = shared.target_url(&file)?;
    let options = shared.target_options(&file)?;
    let store = hoist_core::checkpoint::open(&shared.checkpoint_section(&file), &target_url, &options.tls).await?;
    // Without a target of its own, a control acts on the one the checkpoint records, not on
    // the import's default ./hoist.db.
    let given = shared.given_target_url(&file)?;
    let target = control::TargetArg { given: given.as_deref(), options: &options };
    let lines = match action {
        cli::CheckpointAction::Show => {
            print!("{}", control::show(store.as_ref(), &target, &file.tolerance().schema).await?);
            return Ok(ExitCode::SUCCESS);
        }
        cli::CheckpointAction::ErrorIgnore { table } => control::error_ignore(store.as_ref(), &target, &table).await?,
        cli::CheckpointAction::ErrorDestroy { table } => {
            control::error_destroy(store.as_ref(), &target, &table).await?
        }
        cli::CheckpointAction::Remove { table, drop_tables } => {
            control::remove(store.as_ref(), &target, &table, drop_tables).await?
        }
        cli::CheckpointAction::Dump { dir } => {
            control::dump(store.as_ref(), &dir).await?.iter().map(|p| format!("wrote {}", p.display())).collect()
        }
    };
    for line in lines {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, SIGTERM or SIGHUP: let the in-flight batches finish, then stop. SIGHUP is what a
/// dropped ssh session sends: it deserves the same clean stop and resume message, not death.
async fn stop_on_signal(stop: Arc<AtomicBool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hangup.recv() => {}
    }
    eprintln!("stopping: finishing the batches in flight...");
    stop.store(true, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    #[test]
    fn logs_are_coloured_only_on_a_terminal_without_no_color() {
        assert!(super::colour_logs(true, None));
        assert!(super::colour_logs(true, Some("".into())), "an empty NO_COLOR does not count");
        assert!(!super::colour_logs(true, Some("1".into())));
        assert!(!super::colour_logs(false, None), "a file or a pipe gets no colour codes");
    }
}
