//! The command line. Every option of the config file can also be given as a flag; a flag wins.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use hoist_core::backup::BackupSettings;
use hoist_core::config::{
    ByteSize, CheckpointDriver, CheckpointSection, ConflictStrategy, FileConfig, PostLevel, PostStep,
};
use hoist_core::control::TableSelector;
use hoist_core::import::ImportSettings;
use hoist_core::jobspec::JobKind;
use hoist_core::log_backup::{LogSettings, Start};
use hoist_core::progress::ProgressMode;
use hoist_core::refusal::Locate;
use hoist_core::source::Compression;
use hoist_core::target::{TargetOptions, WriteMode};
use hoist_core::tls::{SslMode, Tls, TlsChoice};

/// Resumable bulk import of MySQL dumps (mydumper, Dumpling) into MySQL, MariaDB, TiDB or SQLite,
/// and consistent backups of MySQL and MariaDB servers with resumable restores.
#[derive(Debug, Parser)]
#[command(
    name = "hoist",
    version,
    about,
    after_help = "Exit codes: 0 all tables loaded; 1 some tables failed (see the summary); 2 the run could not \
                  start or had to stop (refused, target lost, bad options); 130 interrupted (Ctrl-C, SIGTERM, \
                  SIGHUP)."
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

impl Args {
    /// `--progress quiet`: the log shows warnings and errors only.
    pub fn quiet(&self) -> bool {
        let load = match &self.command {
            Command::Import(import) => &import.load,
            Command::Restore(RestoreArgs { action: RestoreAction::Full(full) }) => &full.load,
            Command::Restore(RestoreArgs { action: RestoreAction::Point(point) }) => &point.load,
            _ => return false,
        };
        matches!(load.progress, ProgressMode::Quiet)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load a dump directory into a target. Run the same command again to resume after a crash.
    Import(ImportArgs),
    /// Read or resolve the checkpoint of an import (the same config or flags locate it).
    Checkpoint(CheckpointArgs),
    /// tidb-lightning-ctl's spellings of `hoist checkpoint`, for Lightning users.
    Ctl(CtlArgs),
    /// Take a consistent snapshot of a MySQL or MariaDB server, as a dump with a manifest.
    Backup(BackupArgs),
    /// Restore a backup (`restore full`), or throw an unfinished restore away (`restore clean`).
    Restore(RestoreArgs),
    /// Keep a server's binlog continuously (`log start`), or tell what a log holds (`log status`).
    Log(LogArgs),
}

/// Where the target and the checkpoint are: shared by every command.
#[derive(Debug, clap::Args)]
pub struct Shared {
    /// mysql://user:pass@host:port or sqlite:///path/file.db. Config: [tidb] host/port/user/password.
    /// Without one, an embedded SQLite file ./hoist.db is used.
    #[arg(long, short = 't', global = true)]
    pub target: Option<String>,
    /// TOML config with TiDB Lightning's keys ([mydumper], [mydumper.csv], [tidb], [checkpoint], [conflict]).
    #[arg(long, short = 'c', global = true)]
    pub config: Option<PathBuf>,
    /// Checkpoint location: an SQLite file (default ./hoist-checkpoint.db), or for the mysql driver
    /// a DSN (user:pass@tcp(host:port)/ or mysql://...; default: the target). Config: [checkpoint] dsn.
    #[arg(long, global = true, value_name = "DSN")]
    pub checkpoint: Option<String>,
    /// Where the checkpoint is kept: sqlite (a file) or mysql (a schema on a server). Config: [checkpoint] driver.
    #[arg(long, global = true, value_parser = ["sqlite", "file", "mysql"])]
    pub checkpoint_driver: Option<String>,
    /// Schema of the mysql checkpoint driver. Config: [checkpoint] schema.
    #[arg(long, global = true)]
    pub checkpoint_schema: Option<String>,
    /// Schema in the target that holds hoist's progress markers.
    #[arg(long, global = true, default_value = "hoist_meta")]
    pub meta_schema: String,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// TLS for every MySQL connection of the command (target, checkpoint store, source).
#[derive(Debug, Clone, clap::Args)]
pub struct TlsArgs {
    /// disabled; preferred (TLS when the server offers it, certificate not checked: the default);
    /// required (TLS, certificate not checked); verify-ca (TLS, certificate signed by --ssl-ca, or
    /// by a CA of the system without it); verify-identity (also for the host of the URL; the
    /// default when --ssl-ca is given). Config: [tidb] tls.
    #[arg(long, global = true, value_name = "MODE")]
    pub ssl_mode: Option<SslMode>,
    /// The CA certificate(s), PEM, that sign the server's certificate. Config: [security] ca-path.
    #[arg(long, global = true, value_name = "FILE")]
    pub ssl_ca: Option<PathBuf>,
    /// Client certificate, PEM, for a server that asks for one (a user created REQUIRE X509);
    /// with --ssl-key. Config: [security] cert-path.
    #[arg(long, global = true, value_name = "FILE")]
    pub ssl_cert: Option<PathBuf>,
    /// The client certificate's private key, PEM. Config: [security] key-path.
    #[arg(long, global = true, value_name = "FILE")]
    pub ssl_key: Option<PathBuf>,
}

impl TlsArgs {
    /// These flags laid over what the config says (none: the flags alone).
    pub fn tls(&self, file: Option<&FileConfig>) -> anyhow::Result<Tls> {
        let config = match file {
            Some(f) => f.tls()?,
            None => TlsChoice::default(),
        };
        let flags = TlsChoice {
            mode: self.ssl_mode,
            ca: self.ssl_ca.clone(),
            cert: self.ssl_cert.clone(),
            key: self.ssl_key.clone(),
        };
        Tls::new(&config.over(flags)).map_err(anyhow::Error::msg)
    }
}

impl Shared {
    pub fn file_config(&self) -> anyhow::Result<FileConfig> {
        Ok(match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        })
    }

    /// The target URL: the flag, else `[tidb]`, else the embedded SQLite file.
    pub fn target_url(&self, file: &FileConfig) -> anyhow::Result<String> {
        match self.given_target_url(file)? {
            Some(target) => Ok(target),
            None => Ok(format!("sqlite://{}", std::env::current_dir()?.join("hoist.db").display())),
        }
    }

    /// The target the flag or `[tidb]` names, if any.
    pub fn given_target_url(&self, file: &FileConfig) -> anyhow::Result<Option<String>> {
        let target = match (&self.target, &file.tidb.host) {
            (Some(t), _) => t.clone(),
            (None, Some(host)) => {
                let user = file.tidb.user.as_deref().unwrap_or("root");
                let port = file.tidb.port.unwrap_or(4000);
                hoist_core::mysql_url::build(user, file.tidb.password.as_deref(), host, port)
                    .map_err(|e| anyhow::anyhow!("config [tidb]: {e}"))?
            }
            (None, None) => return Ok(None),
        };
        if !target.starts_with("mysql://") && !target.starts_with("sqlite://") {
            bail!("--target must be mysql://user:pass@host:port or sqlite:///path/file.db, not {target}");
        }
        Ok(Some(target))
    }

    pub fn checkpoint_section(&self, file: &FileConfig) -> CheckpointSection {
        let mut checkpoint = file.checkpoint.clone();
        if let Some(dsn) = &self.checkpoint {
            checkpoint.dsn = Some(dsn.clone());
        }
        match self.checkpoint_driver.as_deref() {
            Some("mysql") => checkpoint.driver = CheckpointDriver::Mysql,
            Some(_) => checkpoint.driver = CheckpointDriver::Sqlite,
            None => {}
        }
        if let Some(schema) = &self.checkpoint_schema {
            checkpoint.schema = schema.clone();
        }
        checkpoint
    }

    /// These options as they must be repeated on another hoist command (password redacted),
    /// with or without the target.
    pub fn locate(&self, with_target: bool) -> String {
        let mut out = String::new();
        let mut push = |flag: &str, value: &str| {
            let needs_quotes = value.contains(|c: char| !(c.is_ascii_alphanumeric() || "/._-:@=".contains(c)));
            if needs_quotes {
                out.push_str(&format!(" {flag} '{}'", value.replace('\'', "'\\''")));
            } else {
                out.push_str(&format!(" {flag} {value}"));
            }
        };
        if let Some(c) = &self.config {
            push("--config", &c.display().to_string());
        }
        if let Some(t) = self.target.as_ref().filter(|_| with_target) {
            push("--target", &hoist_core::redact::redact_url(t));
        }
        if let Some(c) = &self.checkpoint {
            push("--checkpoint", &hoist_core::redact::redact_url(c));
        }
        if let Some(d) = &self.checkpoint_driver {
            push("--checkpoint-driver", d);
        }
        if let Some(s) = &self.checkpoint_schema {
            push("--checkpoint-schema", s);
        }
        if self.meta_schema != "hoist_meta" {
            push("--meta-schema", &self.meta_schema);
        }
        if let Some(m) = self.tls.ssl_mode {
            push("--ssl-mode", &m.to_string());
        }
        for (flag, path) in
            [("--ssl-ca", &self.tls.ssl_ca), ("--ssl-cert", &self.tls.ssl_cert), ("--ssl-key", &self.tls.ssl_key)]
        {
            if let Some(p) = path {
                push(flag, &p.display().to_string());
            }
        }
        out
    }

    pub fn target_options(&self, file: &FileConfig) -> anyhow::Result<TargetOptions> {
        Ok(TargetOptions {
            meta_schema: self.meta_schema.clone(),
            sql_mode: DEFAULT_SQL_MODE.into(),
            disable_binlog: false,
            write_mode: WriteMode::Insert,
            tls: self.tls.tls(Some(file))?,
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckpointArgs {
    #[command(subcommand)]
    pub action: CheckpointAction,
    #[command(flatten)]
    pub shared: Shared,
}

#[derive(Debug, Subcommand)]
pub enum CheckpointAction {
    /// Each table's state, error and progress (chunks done/total, rows, bytes).
    Show,
    /// For tables in error: drop the table in the target and load it again from its start.
    ErrorDestroy {
        /// `db`.`table` (backquoted, case-sensitive), db.table when neither name holds a dot or backquote, or all
        table: TableSelector,
    },
    /// For tables in error: clear the error and go on from where they stopped.
    ErrorIgnore {
        /// `db`.`table` (backquoted, case-sensitive), db.table when neither name holds a dot or backquote, or all
        table: TableSelector,
    },
    /// Forget tables whatever their state (all: the whole checkpoint). The next run loads them from
    /// the start, into empty tables only: --drop-tables drops the tables the import wrote into first.
    Remove {
        /// `db`.`table` (backquoted, case-sensitive), db.table when neither name holds a dot or backquote, or all
        table: TableSelector,
        /// Drop in the target each table the import created or loaded into (still the one it recorded).
        #[arg(long)]
        drop_tables: bool,
    },
    /// Write the checkpoint as CSV files (task, tables, chunks, files) into DIR, passwords redacted.
    Dump { dir: PathBuf },
}

#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct CtlActions {
    /// Same as `hoist checkpoint error-destroy TABLE`.
    #[arg(long, value_name = "TABLE")]
    pub checkpoint_error_destroy: Option<TableSelector>,
    /// Same as `hoist checkpoint error-ignore TABLE`.
    #[arg(long, value_name = "TABLE")]
    pub checkpoint_error_ignore: Option<TableSelector>,
    /// Same as `hoist checkpoint remove TABLE`.
    #[arg(long, value_name = "TABLE")]
    pub checkpoint_remove: Option<TableSelector>,
    /// Same as `hoist checkpoint dump DIR`.
    #[arg(long, value_name = "DIR")]
    pub checkpoint_dump: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CtlArgs {
    #[command(flatten)]
    pub actions: CtlActions,
    #[command(flatten)]
    pub shared: Shared,
}

impl CtlArgs {
    /// The `hoist checkpoint` action this spelling means.
    pub fn action(&self) -> CheckpointAction {
        let a = &self.actions;
        if let Some(t) = &a.checkpoint_error_destroy {
            CheckpointAction::ErrorDestroy { table: t.clone() }
        } else if let Some(t) = &a.checkpoint_error_ignore {
            CheckpointAction::ErrorIgnore { table: t.clone() }
        } else if let Some(t) = &a.checkpoint_remove {
            CheckpointAction::Remove { table: t.clone(), drop_tables: false }
        } else {
            CheckpointAction::Dump { dir: a.checkpoint_dump.clone().unwrap_or_default() }
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Dump directory (mydumper or Dumpling layout), or one mysqldump file (.sql, .sql.gz,
    /// .sql.zst); local or s3://. Config: [mydumper] data-source-dir.
    #[arg(long, short = 'd')]
    pub source: Option<String>,
    #[command(flatten)]
    pub shared: Shared,
    /// Only these tables: `db.table` globs; `!` excludes; the last matching rule wins (repeatable).
    /// Exclusions alone mean all tables but those. Config: [mydumper] filter.
    #[arg(long = "tables", value_name = "GLOB")]
    pub tables: Vec<String>,
    /// Do not create databases and tables: they must exist. Config: [mydumper] no-schema.
    #[arg(long)]
    pub no_schema: bool,
    /// Split files larger than this into chunks (SQL always, CSV with strict format, Parquet at row groups). Config: [mydumper] max-region-size.
    #[arg(long)]
    pub max_region_size: Option<ByteSize>,
    /// CSV records never contain line breaks, so CSV files may be split. Config: [mydumper] strict-format.
    #[arg(long)]
    pub strict_format: bool,
    /// Character set of schema files: auto (UTF-8, else GB18030), utf8mb4, gb18030, gbk,
    /// latin1 or binary. Config: [mydumper] character-set.
    #[arg(long, value_name = "CHARSET")]
    pub character_set: Option<String>,
    /// Character set of data files, decoded to UTF-8 before they are parsed: binary (the bytes
    /// as they are; the default), utf8mb4, gb18030, gbk or latin1. Config: [mydumper] data-character-set.
    #[arg(long, value_name = "CHARSET")]
    pub data_character_set: Option<String>,
    /// What replaces bytes invalid in the data character set (else they stop their table).
    /// Config: [mydumper] data-invalid-char-replace.
    #[arg(long, value_name = "TEXT")]
    pub data_invalid_char_replace: Option<String>,
    /// On a duplicate key: error (stop the table), replace or ignore. Config: [conflict] strategy.
    #[arg(long)]
    pub conflict: Option<ConflictStrategy>,
    /// Skip up to N rows the server refuses for their values (strict sql_mode), recording each in
    /// the target; one more fails the import. Config: [lightning] max-error.
    #[arg(long, value_name = "N")]
    pub max_error: Option<u64>,
    /// Under --conflict replace or ignore: conflicts counted and recorded before the import fails
    /// (default 10000; 0 counts none). Config: [conflict] threshold.
    #[arg(long, value_name = "N")]
    pub conflict_threshold: Option<u64>,
    /// Turn checkpoints off: a crash then means starting over. Config: [checkpoint] enable = false.
    #[arg(long)]
    pub no_checkpoint: bool,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// How rows are loaded: shared by `import` and `restore full`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Chunks loading at once, one connection each (default: the number of cores plus 2, since a
    /// worker mostly waits for the server to commit). Config: [lightning] region-concurrency.
    #[arg(long)]
    pub region_concurrency: Option<usize>,
    /// Size of one INSERT batch (one transaction), e.g. 1MiB.
    #[arg(long, default_value = "1MiB")]
    pub batch_size: ByteSize,
    /// Tables of at least this size get their secondary (and FULLTEXT) indexes in one ALTER after
    /// their data; smaller ones are created with them (the extra ALTER would cost more).
    #[arg(long, default_value = "16MiB")]
    pub defer_indexes_from: ByteSize,
    /// sql_mode of the loading sessions. Config: [tidb] sql-mode.
    #[arg(long)]
    pub sql_mode: Option<String>,
    /// Do not write the loaded rows to the target's binary log (sets sql_log_bin = 0; needs SUPER or similar).
    #[arg(long)]
    pub disable_binlog: bool,
    /// Skip ANALYZE TABLE after each table. Config: [post-restore] analyze = "off".
    #[arg(long)]
    pub no_analyze: bool,
    /// After each table: compare the rows and a checksum over every row of the target with
    /// the source's. required: a difference stops the table; optional: it is a warning; off:
    /// no check. Config: [post-restore] checksum.
    #[arg(long)]
    pub checksum: Option<PostLevel>,
    /// How rows reach a MySQL-family server: load-data (LOAD DATA LOCAL INFILE, streamed from
    /// memory), insert (multi-row INSERT), or auto: load-data where it gives exactly the rows
    /// INSERT would (not for BIT or spatial columns, and only when the server allows it).
    #[arg(long, default_value = "auto")]
    pub write_mode: WriteMode,
    /// Retries of a transient error (lost connection, deadlock, busy checkpoint file, a source
    /// read that failed on the network...) before the run stops; the same command resumes.
    #[arg(long, default_value_t = 8)]
    pub max_retries: u32,
    /// When several processes share the job (the mysql checkpoint driver): seconds a process's
    /// claim on a chunk or step lasts unless it renews it, so how long the others wait before
    /// they take over the work of one that hangs or lost its host (a killed one's is taken at
    /// once). Default 30. Config: [checkpoint] lease-expiry.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub lease_expiry: Option<u64>,
    /// Progress display: auto (bars on a terminal, else a log line every 5 s), bars, log or quiet
    /// (no progress, and only warnings and errors logged unless HOIST_LOG says otherwise).
    #[arg(long, default_value = "auto", value_parser = parse_progress)]
    pub progress: ProgressMode,
    /// Create views, triggers and routines without their DEFINER clause, as the loading user
    /// (for a user that may not create objects for another one).
    #[arg(long)]
    pub skip_definer: bool,
    /// Load keyless tables of non-transactional engines (MyISAM, Aria, MEMORY) anyway. Their rows
    /// commit outside the progress marker's transaction, so after a crash the batches in flight
    /// may be loaded twice (keyed ones are safe: they are re-sent with REPLACE).
    #[arg(long)]
    pub allow_keyless_non_transactional: bool,
    #[command(flatten)]
    pub status: StatusArgs,
}

/// The status API: shared by every job.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Serve the job's progress over HTTP on HOST:PORT (port 0: any free one, printed at the
    /// start): GET /status (JSON) and GET /metrics (Prometheus). Config of import and restore:
    /// [lightning] status-addr.
    #[arg(long, value_name = "HOST:PORT")]
    pub status_addr: Option<String>,
}

impl StatusArgs {
    /// The flag, else the config's `[lightning] status-addr` (`""`, Lightning's default, is none).
    pub fn addr(&self, file: Option<&FileConfig>) -> Option<String> {
        let config = file.and_then(|f| f.lightning.status_addr.clone());
        self.status_addr.clone().or(config).filter(|a| !a.is_empty())
    }
}

/// `hoist backup`: a consistent snapshot of a server into a directory.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The server to back up: mysql://user:pass@host:port
    #[arg(long, short = 's')]
    pub source: String,
    /// Directory to write the backup into (created if missing; must be empty or hold an interrupted backup).
    #[arg(long)]
    pub storage: PathBuf,
    /// Only these tables: `db.table` globs; `!` excludes; the last matching rule wins (repeatable).
    #[arg(long = "tables", value_name = "GLOB")]
    pub tables: Vec<String>,
    /// Worker connections, all in one snapshot (default: the number of cores; the server does
    /// most of the work, so more connections than cores only take turns).
    #[arg(long)]
    pub threads: Option<usize>,
    /// About how much table data one chunk (one data file) holds; tables are cut by ranges of their key.
    #[arg(long, default_value = "64MiB")]
    pub chunk_size: ByteSize,
    /// Size of one INSERT statement in the data files.
    #[arg(long, default_value = "1MiB")]
    pub statement_size: ByteSize,
    /// Compression of the data files: none, gzip, zstd or snappy (framed).
    #[arg(long, default_value = "none", value_parser = parse_compression)]
    pub compress: Compression,
    /// Do not read each row's checksum (the server's work grows by about half with it); a
    /// restore then verifies row counts only.
    #[arg(long)]
    pub no_checksum: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub status: StatusArgs,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    #[command(subcommand)]
    pub action: RestoreAction,
}

#[derive(Debug, Subcommand)]
pub enum RestoreAction {
    /// Restore a backup of `hoist backup` into a server. Run the same command again to resume.
    Full(RestoreFullArgs),
    /// Restore a backup, then the upstream's log up to a time, position or GTID (point-in-time
    /// recovery). Run the same command again to resume.
    Point(RestorePointArgs),
    /// Throw an unfinished restore away: the tables it wrote into, and its checkpoint.
    Clean(RestoreCleanArgs),
}

#[derive(Debug, clap::Args)]
pub struct RestoreFullArgs {
    /// The backup directory (with its backupmeta.json).
    #[arg(long)]
    pub storage: PathBuf,
    #[command(flatten)]
    pub shared: Shared,
    /// Only these tables: `db.table` globs; `!` excludes; the last matching rule wins (repeatable).
    #[arg(long = "tables", value_name = "GLOB")]
    pub tables: Vec<String>,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("restored").required(true).args(["restored_ts", "restored_pos", "restored_gtid"])))]
pub struct RestorePointArgs {
    /// The backup directory of `hoist backup` (with its backupmeta.json).
    #[arg(long)]
    pub full_backup_storage: PathBuf,
    /// The log: a directory of `hoist log start`, or one holding the upstream's binlog files
    /// (a datadir's, `mysqlbinlog --raw`'s, mariadb-backup's).
    #[arg(long)]
    pub storage: PathBuf,
    /// Every transaction committed at or before this second: 'YYYY-MM-DD HH:MM:SS[+08:00|+0800|Z]'
    /// (without an offset, the local time zone).
    #[arg(long, value_name = "TIME")]
    pub restored_ts: Option<String>,
    /// Every transaction that ends at or before this position: FILE:POS.
    #[arg(long, value_name = "FILE:POS")]
    pub restored_pos: Option<String>,
    /// Every transaction up to and including this MariaDB GTID: DOMAIN-SERVER-SEQ.
    #[arg(long, value_name = "GTID")]
    pub restored_gtid: Option<String>,
    #[command(flatten)]
    pub shared: Shared,
    /// Only these tables, in the snapshot and in the log: `db.table` globs; `!` excludes (repeatable).
    #[arg(long = "tables", value_name = "GLOB")]
    pub tables: Vec<String>,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, clap::Args)]
pub struct RestoreCleanArgs {
    #[command(flatten)]
    pub shared: Shared,
}

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    #[command(subcommand)]
    pub action: LogAction,
}

#[derive(Debug, Subcommand)]
pub enum LogAction {
    /// Stream a server's binlog into segments (binlog files) until SIGTERM or Ctrl-C, its normal
    /// end (exit 0). Run the same command again after a crash: the log continues with no gap and
    /// no overlap.
    Start(LogStartArgs),
    /// What a log directory covers (positions, GTIDs, commit times) and its segments; with
    /// --source, how far behind the server it is.
    Status(LogStatusArgs),
}

#[derive(Debug, clap::Args)]
pub struct LogStartArgs {
    /// The server whose binlog to keep: mysql://user:pass@host:port (the user needs REPLICATION SLAVE
    /// and REPLICATION CLIENT).
    #[arg(long, short = 's')]
    pub source: String,
    /// The log directory (created if missing): hoist-log.json and segments/; or an
    /// s3://bucket/prefix?endpoint=... in object storage.
    #[arg(long)]
    pub storage: PathBuf,
    /// Start a new log at this binlog position (FILE:POS, e.g. a backup's position); default: the
    /// server's current position.
    #[arg(long, value_name = "FILE:POS", conflicts_with = "start_gtid")]
    pub start_pos: Option<String>,
    /// Start a new log after this MariaDB GTID position (e.g. 0-1-42, as @@gtid_binlog_pos or a
    /// backup's position.gtid gives it).
    #[arg(long, value_name = "GTID")]
    pub start_gtid: Option<String>,
    /// The server_id hoist registers with as a replica (default: a number derived from --storage,
    /// the same on every run); it must differ from every server and replica of the topology.
    #[arg(long)]
    pub server_id: Option<u32>,
    /// A segment is closed (at a transaction's end) once it holds this much.
    #[arg(long, default_value = "64MiB")]
    pub segment_size: ByteSize,
    /// In object storage (s3://), the open segment is closed and put after this many seconds
    /// (at a transaction's end): what a kill -9 loses, to be streamed again from the server.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = clap::value_parser!(u64).range(1..))]
    pub segment_interval: u64,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub status: StatusArgs,
}

impl LogStartArgs {
    pub fn settings(&self) -> anyhow::Result<LogSettings> {
        let start = match (&self.start_pos, &self.start_gtid) {
            (Some(p), _) => Start::Pos(hoist_core::binlog::position::BinlogPos::parse(p).map_err(anyhow::Error::msg)?),
            (None, Some(g)) => {
                hoist_core::binlog::position::parse_gtid_set(g).map_err(anyhow::Error::msg)?;
                Start::Gtid(g.trim().to_string())
            }
            (None, None) => Start::Current,
        };
        Ok(LogSettings {
            source: self.source.clone(),
            storage: self.storage.clone(),
            start,
            server_id: self.server_id,
            segment_size: self.segment_size.0.max(1),
            segment_interval: Some(std::time::Duration::from_secs(self.segment_interval)),
            tls: self.tls.tls(None)?,
            status: Default::default(),
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct LogStatusArgs {
    /// The log directory of `hoist log start`.
    #[arg(long)]
    pub storage: PathBuf,
    /// The log's server: also tell how far behind it the log is.
    #[arg(long, short = 's')]
    pub source: Option<String>,
    /// List every segment (a long log shows its first and last few).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

fn parse_compression(s: &str) -> Result<Compression, String> {
    match s {
        "none" => Ok(Compression::None),
        "gzip" | "gz" => Ok(Compression::Gzip),
        "zstd" | "zst" => Ok(Compression::Zstd),
        "snappy" => Ok(Compression::Snappy),
        _ => Err(format!("unknown compression {s:?} (none, gzip, zstd, snappy)")),
    }
}

fn parse_progress(s: &str) -> Result<ProgressMode, String> {
    match s {
        "auto" => Ok(ProgressMode::Auto),
        "bars" => Ok(ProgressMode::Bars),
        "log" => Ok(ProgressMode::Log),
        "quiet" => Ok(ProgressMode::Quiet),
        _ => Err(format!("unknown progress mode {s:?} (auto, bars, log, quiet)")),
    }
}

/// Lightning's default `[tidb] sql-mode` is not strict, which lets bad values in silently.
/// hoist is strict by default; a config may still say otherwise.
const DEFAULT_SQL_MODE: &str = "STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION";

impl ImportArgs {
    pub fn has_target(&self) -> bool {
        self.shared.target.is_some()
    }

    /// The settings, with `file` the config (`Shared::file_config`).
    pub fn settings(&self, file: &FileConfig) -> anyhow::Result<ImportSettings> {
        let source = self
            .source
            .clone()
            .or_else(|| file.mydumper.data_source_dir.clone())
            .context("no source: give --source DIR or [mydumper] data-source-dir in the config")?;
        let mut checkpoint = self.shared.checkpoint_section(file);
        if self.no_checkpoint {
            checkpoint.enable = false;
        }
        let filter = if self.tables.is_empty() { file.mydumper.filter.clone() } else { self.tables.clone() };
        let locate = Locate { all: self.shared.locate(true), without_target: self.shared.locate(false) };
        let mut settings = self.load.settings(&self.shared, file, source, filter, checkpoint, locate)?;
        settings.no_schema = self.no_schema || file.mydumper.no_schema;
        settings.csv = file.mydumper.csv.clone();
        settings.conflict = self.conflict.or(file.conflict_strategy()).unwrap_or_default();
        settings.tolerance = file.tolerance();
        if let Some(n) = self.max_error {
            settings.tolerance.max_type_errors = n;
        }
        if let Some(n) = self.conflict_threshold {
            settings.tolerance.conflict_threshold = Some(n);
        }
        if file.conflict.max_record_rows.is_some() {
            tracing::warn!(
                "[conflict] max-record-rows is taken to be the threshold, as Lightning 8.1 and later do: every \
                 conflict counted is recorded"
            );
        }
        settings.max_region_size = self.max_region_size.unwrap_or(file.mydumper.max_region_size).0.max(1);
        settings.strict_format = self.strict_format || file.mydumper.strict_format;
        settings.routes = file.routes.clone();
        settings.case_sensitive = file.mydumper.case_sensitive;
        (settings.schema_charset, settings.data_charset) = file.mydumper.charsets(
            self.character_set.as_deref(),
            self.data_character_set.as_deref(),
            self.data_invalid_char_replace.as_deref(),
        )?;
        Ok(settings)
    }
}

/// A restore loads each table under its upstream name: `[[routes]]` are for `hoist import`.
fn refuse_routes(file: &FileConfig) -> anyhow::Result<()> {
    if !file.routes.is_empty() {
        bail!("[[routes]] apply to hoist import only; a restore loads each table under its own name");
    }
    Ok(())
}

impl RestoreFullArgs {
    /// The import of the backup; `hoist_core::restore::full` binds it to the backup.
    pub fn settings(&self, file: &FileConfig) -> anyhow::Result<ImportSettings> {
        let mut checkpoint = self.shared.checkpoint_section(file);
        restore_checkpoint(&self.shared, &mut checkpoint);
        let source = self.storage.display().to_string();
        let locate = restore_locate(&self.shared);
        refuse_routes(file)?;
        self.load.settings(&self.shared, file, source, self.tables.clone(), checkpoint, locate)
    }
}

impl RestorePointArgs {
    pub fn settings(
        &self,
        file: &FileConfig,
    ) -> anyhow::Result<(ImportSettings, hoist_core::restore_point::PointSettings)> {
        use hoist_core::binlog::position::{BinlogPos, Gtid};
        use hoist_core::restore_point::point::{parse_time, RestoredPoint};
        let mut checkpoint = self.shared.checkpoint_section(file);
        restore_checkpoint(&self.shared, &mut checkpoint);
        let source = self.full_backup_storage.display().to_string();
        let locate = restore_locate(&self.shared);
        refuse_routes(file)?;
        let settings = self.load.settings(&self.shared, file, source, self.tables.clone(), checkpoint, locate)?;
        let point = match (&self.restored_ts, &self.restored_pos, &self.restored_gtid) {
            (Some(ts), _, _) => parse_time(ts).map_err(anyhow::Error::msg)?,
            (_, Some(pos), _) => RestoredPoint::Position(BinlogPos::parse(pos).map_err(anyhow::Error::msg)?),
            (_, _, Some(gtid)) => RestoredPoint::Gtid(Gtid::parse(gtid).map_err(anyhow::Error::msg)?),
            _ => bail!("give the restored point: --restored-ts, --restored-pos or --restored-gtid"),
        };
        Ok((settings, hoist_core::restore_point::PointSettings { log: self.storage.clone(), point }))
    }
}

impl RestoreCleanArgs {
    /// The restore's target, its checkpoint, and how to reach them.
    pub fn settings(&self) -> anyhow::Result<(String, CheckpointSection, TargetOptions)> {
        let file = self.shared.file_config()?;
        let mut checkpoint = self.shared.checkpoint_section(&file);
        restore_checkpoint(&self.shared, &mut checkpoint);
        let target = self.shared.given_target_url(&file)?.context(
            "restore clean needs the restore's target (its checkpoint lives there): --target mysql://user:pass@host:port",
        )?;
        Ok((target, checkpoint, self.shared.target_options(&file)?))
    }
}

/// A restore keeps its checkpoint in the target, in a schema of its own, unless told otherwise.
fn restore_checkpoint(shared: &Shared, checkpoint: &mut CheckpointSection) {
    if shared.checkpoint_driver.is_none() {
        checkpoint.driver = CheckpointDriver::Mysql;
    }
    if shared.checkpoint_schema.is_none() {
        checkpoint.schema = hoist_core::restore::DEFAULT_CHECKPOINT_SCHEMA.into();
    }
}

/// The options that find a restore's checkpoint again, for `hoist restore clean` and
/// `hoist checkpoint ...`, which otherwise default to an import's.
fn restore_locate(shared: &Shared) -> Locate {
    let mut defaults = String::new();
    if shared.checkpoint_driver.is_none() {
        defaults.push_str(" --checkpoint-driver mysql");
    }
    if shared.checkpoint_schema.is_none() {
        defaults.push_str(&format!(" --checkpoint-schema {}", hoist_core::restore::DEFAULT_CHECKPOINT_SCHEMA));
    }
    Locate { all: shared.locate(true) + &defaults, without_target: shared.locate(false) + &defaults }
}

impl LoadArgs {
    fn settings(
        &self,
        shared: &Shared,
        file: &FileConfig,
        source: String,
        filter: Vec<String>,
        mut checkpoint: CheckpointSection,
        locate: Locate,
    ) -> anyhow::Result<ImportSettings> {
        if let Some(seconds) = self.lease_expiry {
            checkpoint.lease_expiry = seconds;
        }
        let concurrency = self
            .region_concurrency
            .or(file.lightning.region_concurrency)
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) + 2);
        Ok(ImportSettings {
            source,
            target: shared.target_url(file)?,
            filter,
            routes: Vec::new(),
            case_sensitive: false,
            no_schema: false,
            csv: Default::default(),
            schema_charset: Default::default(),
            data_charset: Default::default(),
            batch_bytes: self.batch_size.0.max(1) as usize,
            concurrency,
            conflict: ConflictStrategy::default(),
            tolerance: Default::default(),
            sql_mode: self.sql_mode.clone().or(file.tidb.sql_mode.clone()).unwrap_or_else(|| DEFAULT_SQL_MODE.into()),
            checkpoint,
            max_region_size: file.mydumper.max_region_size.0.max(1),
            strict_format: false,
            defer_indexes_from: self.defer_indexes_from.0,
            meta_schema: shared.meta_schema.clone(),
            analyze: !self.no_analyze && file.post_restore.analyze.is_none_or(|a| a.enabled()),
            checksum: self.checksum.or(file.post_restore.checksum.map(PostStep::level)).unwrap_or(PostLevel::Required),
            disable_binlog: self.disable_binlog,
            max_retries: self.max_retries,
            write_mode: self.write_mode,
            progress: self.progress,
            locate,
            kind: JobKind::Import,
            skip_definer: self.skip_definer,
            allow_keyless_non_transactional: self.allow_keyless_non_transactional,
            restore: None,
            tls: shared.tls.tls(Some(file))?,
            status: Default::default(),
        })
    }
}

impl BackupArgs {
    pub fn settings(&self) -> anyhow::Result<BackupSettings> {
        Ok(BackupSettings {
            source: self.source.clone(),
            storage: self.storage.clone(),
            filter: self.tables.clone(),
            threads: self
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
                .max(1),
            chunk_size: self.chunk_size.0.max(1),
            statement_size: self.statement_size.0.max(1024) as usize,
            compression: self.compress,
            checksum: !self.no_checksum,
            tls: self.tls.tls(None)?,
            status: Default::default(),
        })
    }
}
