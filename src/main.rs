//! The `hoist` binary: parse flags and config, build the settings, call the engine, print the
//! result and choose the exit code. No SQL and no parsing here.

mod cli;
mod summary;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOIST_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: cli::Args) -> anyhow::Result<ExitCode> {
    match args.command {
        cli::Command::Import(import) => {
            let settings = import.settings()?;
            let stop = Arc::new(AtomicBool::new(false));
            tokio::spawn(stop_on_signal(stop.clone()));
            if !import.has_target() {
                eprintln!(
                    "no --target given: loading into the embedded SQLite file {}",
                    settings.target.trim_start_matches("sqlite://")
                );
            }
            match hoist_core::import::run(settings, stop).await {
                Ok(report) => {
                    summary::print(&report);
                    Ok(if report.success() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    })
                }
                Err(hoist_core::error::ImportError::Interrupted) => {
                    eprintln!("interrupted; run the same command to resume");
                    Ok(ExitCode::from(130))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// Ctrl-C or SIGTERM: let the in-flight batches finish, then stop.
async fn stop_on_signal(stop: Arc<AtomicBool>) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("stopping: finishing the batches in flight...");
    stop.store(true, Ordering::SeqCst);
}
