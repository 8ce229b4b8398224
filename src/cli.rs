//! The command line. Every option of the config file can also be given as a flag; a flag wins.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use hoist_core::config::{ByteSize, ConflictStrategy, FileConfig};
use hoist_core::import::ImportSettings;
use hoist_core::progress::ProgressMode;

/// Resumable bulk import of MySQL dumps (mydumper, Dumpling) into MySQL, MariaDB, TiDB or SQLite.
#[derive(Debug, Parser)]
#[command(name = "hoist", version, about, long_about = None)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load a dump directory into a target. Run the same command again to resume after a crash.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Dump directory (mydumper or Dumpling layout). Config: [mydumper] data-source-dir.
    #[arg(long, short = 'd')]
    pub source: Option<String>,
    /// mysql://user:pass@host:port or sqlite:///path/file.db. Config: [tidb] host/port/user/password.
    /// Without one, an embedded SQLite file ./hoist.db is used.
    #[arg(long, short = 't')]
    pub target: Option<String>,
    /// TOML config with TiDB Lightning's keys ([mydumper], [mydumper.csv], [tidb], [checkpoint], [conflict]).
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Only these tables: `db.table` globs; `!` excludes; the last matching rule wins (repeatable).
    /// Config: [mydumper] filter.
    #[arg(long = "tables", value_name = "GLOB")]
    pub tables: Vec<String>,
    /// Do not create databases and tables: they must exist. Config: [mydumper] no-schema.
    #[arg(long)]
    pub no_schema: bool,
    /// Tables loading at once, in connections (default: the number of cores). Config: [lightning] region-concurrency.
    #[arg(long)]
    pub region_concurrency: Option<usize>,
    /// Size of one INSERT batch (one transaction), e.g. 1MiB.
    #[arg(long, default_value = "1MiB")]
    pub batch_size: ByteSize,
    /// Split files larger than this into chunks (SQL always, CSV with strict format). Config: [mydumper] max-region-size.
    #[arg(long)]
    pub max_region_size: Option<ByteSize>,
    /// CSV records never contain line breaks, so CSV files may be split. Config: [mydumper] strict-format.
    #[arg(long)]
    pub strict_format: bool,
    /// On a duplicate key: error (stop the table), replace or ignore. Config: [conflict] strategy.
    #[arg(long)]
    pub conflict: Option<ConflictStrategy>,
    /// sql_mode of the loading sessions. Config: [tidb] sql-mode.
    #[arg(long)]
    pub sql_mode: Option<String>,
    /// Do not write the loaded rows to the target's binary log (sets sql_log_bin = 0; needs SUPER or similar).
    #[arg(long)]
    pub disable_binlog: bool,
    /// Schema in the target that holds hoist's progress markers.
    #[arg(long, default_value = "hoist_meta")]
    pub meta_schema: String,
    /// Checkpoint file (SQLite). Config: [checkpoint] dsn. Default ./hoist-checkpoint.db.
    #[arg(long)]
    pub checkpoint: Option<String>,
    /// Turn checkpoints off: a crash then means starting over. Config: [checkpoint] enable = false.
    #[arg(long)]
    pub no_checkpoint: bool,
    /// Skip ANALYZE TABLE after each table. Config: [post-restore] analyze = "off".
    #[arg(long)]
    pub no_analyze: bool,
    /// Retries of a transient target error (lost connection, deadlock...) before the table fails.
    #[arg(long, default_value_t = 8)]
    pub max_retries: u32,
    /// Progress display: auto (bars on a terminal, else a log line every 5 s), bars, log or quiet.
    #[arg(long, default_value = "auto", value_parser = parse_progress)]
    pub progress: ProgressMode,
}

fn parse_progress(s: &str) -> Result<ProgressMode, String> {
    match s {
        "auto" => Ok(ProgressMode::Auto),
        "bars" => Ok(ProgressMode::Bars),
        "log" => Ok(ProgressMode::Log),
        "quiet" => Ok(ProgressMode::Quiet),
        _ => Err(format!(
            "unknown progress mode {s:?} (auto, bars, log, quiet)"
        )),
    }
}

/// Lightning's default `[tidb] sql-mode` is not strict, which lets bad values in silently.
/// hoist is strict by default; a config may still say otherwise.
const DEFAULT_SQL_MODE: &str = "STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION";

impl ImportArgs {
    pub fn has_target(&self) -> bool {
        self.target.is_some()
    }

    pub fn settings(&self) -> anyhow::Result<ImportSettings> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let source = self
            .source
            .clone()
            .or_else(|| file.mydumper.data_source_dir.clone())
            .context("no source: give --source DIR or [mydumper] data-source-dir in the config")?;
        let target = match (&self.target, &file.tidb.host) {
            (Some(t), _) => t.clone(),
            (None, Some(host)) => {
                let user = file.tidb.user.clone().unwrap_or_else(|| "root".into());
                let auth = match &file.tidb.password {
                    Some(p) if !p.is_empty() => format!("{user}:{p}"),
                    _ => user,
                };
                format!("mysql://{auth}@{host}:{}", file.tidb.port.unwrap_or(4000))
            }
            (None, None) => format!(
                "sqlite://{}",
                std::env::current_dir()?.join("hoist.db").display()
            ),
        };
        if !target.starts_with("mysql://") && !target.starts_with("sqlite://") {
            bail!("--target must be mysql://user:pass@host:port or sqlite:///path/file.db, not {target}");
        }
        let mut checkpoint = file.checkpoint.clone();
        if let Some(dsn) = &self.checkpoint {
            checkpoint.dsn = Some(dsn.clone());
        }
        if self.no_checkpoint {
            checkpoint.enable = false;
        }
        let filter = if self.tables.is_empty() {
            file.mydumper.filter.clone()
        } else {
            self.tables.clone()
        };
        let concurrency = self
            .region_concurrency
            .or(file.lightning.region_concurrency)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            });
        Ok(ImportSettings {
            source,
            target,
            filter,
            no_schema: self.no_schema || file.mydumper.no_schema,
            csv: file.mydumper.csv.clone(),
            batch_bytes: self.batch_size.0.max(1) as usize,
            concurrency,
            conflict: self
                .conflict
                .or(file.conflict_strategy())
                .unwrap_or_default(),
            sql_mode: self
                .sql_mode
                .clone()
                .or(file.tidb.sql_mode.clone())
                .unwrap_or_else(|| DEFAULT_SQL_MODE.into()),
            checkpoint,
            max_region_size: self
                .max_region_size
                .unwrap_or(file.mydumper.max_region_size)
                .0
                .max(1),
            strict_format: self.strict_format || file.mydumper.strict_format,
            meta_schema: self.meta_schema.clone(),
            analyze: !self.no_analyze && file.post_restore.analyze.is_none_or(|a| a.enabled()),
            disable_binlog: self.disable_binlog,
            max_retries: self.max_retries,
            progress: self.progress,
        })
    }
}
