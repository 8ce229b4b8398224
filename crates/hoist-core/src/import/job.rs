//! What an import job is given (its settings, after config and flags were merged) and what it
//! reports. `hoist restore full` is an import with [`RestoreSettings`].

use std::collections::HashMap;
use std::time::Duration;

use crate::charset::{DataCharset, SchemaCharset};
use crate::config::{CheckpointSection, ConflictStrategy, CsvSection, RouteRule};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::error::ImportError;
use crate::jobspec::{CharsetSpec, CsvSpec, JobKind, JobSpec, LogRange, RoutesSpec, Upstream, SPEC_VERSION};
use crate::plan::PlanSettings;
use crate::progress::ProgressMode;
use crate::refusal;
use crate::target::Target;
use crate::target::TargetOptions;

/// Everything `hoist import` needs, after config file and flags were merged.
#[derive(Debug, Clone)]
pub struct ImportSettings {
    pub source: String,
    pub target: String,
    pub filter: Vec<String>,
    /// `[[routes]]`, and whether their patterns match with case (`[mydumper] case-sensitive`).
    pub routes: Vec<RouteRule>,
    pub case_sensitive: bool,
    pub no_schema: bool,
    pub csv: CsvSection,
    /// `[mydumper] character-set`: how schema files are decoded.
    pub schema_charset: SchemaCharset,
    /// `[mydumper] data-character-set` and `data-invalid-char-replace`: how data files are.
    pub data_charset: DataCharset,
    pub batch_bytes: usize,
    pub concurrency: usize,
    pub conflict: ConflictStrategy,
    /// Rows the server refuses that may be skipped, and where they are recorded. Not part of
    /// the spec: a rerun may raise a limit the last run went over, as Lightning allows.
    pub tolerance: crate::config::Tolerance,
    pub sql_mode: String,
    pub checkpoint: CheckpointSection,
    pub max_region_size: u64,
    pub strict_format: bool,
    /// Tables of at least this many bytes get their secondary indexes after their data.
    pub defer_indexes_from: u64,
    pub meta_schema: String,
    pub analyze: bool,
    /// What a table whose content differs from the source's does: required stops it,
    /// optional warns, off skips the check (and the row count).
    pub checksum: crate::config::PostLevel,
    pub disable_binlog: bool,
    pub max_retries: u32,
    pub write_mode: crate::target::WriteMode,
    pub progress: ProgressMode,
    /// The command-line options that locate this run's target and checkpoint (password
    /// redacted), appended to the `hoist checkpoint ...` commands that messages suggest.
    pub locate: refusal::Locate,
    pub kind: JobKind,
    /// Views, triggers and routines without their DEFINER: created by the loading user. Not
    /// part of the spec: a rerun may add it after those objects failed for want of rights.
    pub skip_definer: bool,
    /// Load keyless tables of non-transactional engines, whose rows may be loaded twice after a
    /// crash (not part of the spec: it decides nothing of the plan).
    pub allow_keyless_non_transactional: bool,
    /// Set for `hoist restore full`.
    pub restore: Option<RestoreSettings>,
    /// For every MySQL connection of the job: the target's and the checkpoint store's. Not
    /// part of the spec: it decides how hoist reaches the servers, not what it writes.
    pub tls: crate::tls::Tls,
    /// The job's progress model, which the caller may serve (`--status-addr`).
    pub status: crate::status::Status,
}

impl ImportSettings {
    pub fn target_options(&self) -> TargetOptions {
        TargetOptions {
            meta_schema: self.meta_schema.clone(),
            sql_mode: self.sql_mode.clone(),
            disable_binlog: self.disable_binlog,
            write_mode: self.write_mode,
            tls: self.tls.clone(),
        }
    }

    pub(super) fn plan_settings(&self) -> PlanSettings {
        PlanSettings {
            max_region_size: self.max_region_size,
            strict_format: self.strict_format,
            data_charset: self.data_charset.clone(),
            schema_charset: self.schema_charset,
        }
    }

    /// What shapes this job's plan and rows, as recorded in the checkpoint.
    pub fn spec(&self) -> JobSpec {
        let c = &self.csv;
        JobSpec {
            version: SPEC_VERSION,
            kind: self.kind,
            filter: self.filter.clone(),
            no_schema: self.no_schema,
            max_region_size: self.max_region_size,
            strict_format: self.strict_format,
            csv: CsvSpec {
                separator: c.separator.clone(),
                delimiter: c.delimiter.clone(),
                terminator: c.terminator.clone(),
                header: c.header,
                header_schema_match: c.header_schema_match,
                null: c.null.0.clone(),
                backslash_escape: c.backslash_escape,
                trim_last_separator: c.trim_last_separator,
                not_null: c.not_null,
            },
            charset: CharsetSpec { schema: self.schema_charset.name().into(), data: self.data_charset.name().into() },
            upstream: self.restore.as_ref().map(|r| r.upstream.clone()),
            log: self.restore.as_ref().and_then(|r| r.log.as_ref()).map(|l| l.range()),
            routes: (!self.routes.is_empty())
                .then(|| RoutesSpec { case_sensitive: self.case_sensitive, rules: self.routes.clone() }),
        }
    }

    /// The command that throws this job's checkpoint away, for refusals to suggest (the
    /// options of [`ImportSettings::locate`] follow it).
    pub fn start_over_command(&self) -> &'static str {
        match self.kind {
            JobKind::Import => "hoist checkpoint remove all --drop-tables",
            JobKind::RestoreFull | JobKind::RestorePoint => "hoist restore clean",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedFile {
    pub key: Option<crate::manifest::KeyRange>,
    pub rows: u64,
    pub checksum: Option<u64>,
}

/// What a restore adds to an import: the backup it is bound to, and what each table must
/// hold when it is done (rows and content checksum, from the backup's manifest).
#[derive(Debug, Clone)]
pub struct RestoreSettings {
    pub upstream: Upstream,
    pub expected: HashMap<(String, String), ExpectedTable>,
    /// For `restore point`: the log replayed once every table of the snapshot is in.
    pub log: Option<Arc<dyn LogStage>>,
}

/// A stage of the job after the tables' rows are in and before views, triggers and routines
/// are created (a trigger must not fire again for the rows a log already holds): the log
/// replay of a point-in-time restore. Its progress commits with its changes in the target.
#[async_trait::async_trait]
pub trait LogStage: Send + Sync + std::fmt::Debug {
    /// What the job spec records of it: a rerun with another range is refused.
    fn range(&self) -> LogRange;
    /// Whether a run of task `task_id` began the stage: the tables are then final (the log may
    /// have altered, dropped or created them), and the table steps do not look at them again.
    async fn begun(&self, target: &dyn Target, task_id: i64) -> Result<bool, ImportError>;
    /// Replay the log; returns lines for the summary.
    async fn run(
        &self,
        target: Arc<dyn Target>,
        task_id: i64,
        stop: Arc<AtomicBool>,
    ) -> Result<Vec<String>, ImportError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedTable {
    /// Each data file by its path: the key range its rows are in, and what that range holds.
    /// A range is verified as soon as its file is loaded, while other chunks still load.
    pub files: HashMap<String, ExpectedFile>,
    pub rows: u64,
    /// None when the backup has no checksums: only the count is verified.
    pub checksum: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct TableReport {
    pub database: String,
    pub name: String,
    /// Rows the table holds from the dump: loaded by this run and by earlier ones.
    pub rows: u64,
    /// Of those, the rows earlier runs of the task had loaded.
    pub rows_before: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    pub index_time: Duration,
    /// None when the table is done; else what went wrong.
    pub error: Option<String>,
    /// What this run's check after the table's rows found; None when it ran in an earlier run
    /// or not at all.
    pub verification: Option<Verification>,
}

/// What the check after a table's rows found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The rows and a checksum over every row are the source's.
    Content,
    /// The row count is the source's; the content was not compared, for this reason.
    CountOnly(String),
    /// The row count is the source's: the target has no row checksum (SQLite).
    Counted,
    /// The target differs from the source (a warning under `checksum = optional`).
    Differs(String),
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub target: String,
    pub checkpoint: Option<String>,
    pub tables: Vec<TableReport>,
    /// Views, triggers and routines that could not be created.
    pub object_errors: Vec<String>,
    pub notes: Vec<String>,
    pub elapsed: Duration,
    /// How other processes shared the job; None when this process met none.
    pub shared: Option<Sharing>,
}

/// How a run shared its job with other hoist processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Some rows counted as loaded before this run were loaded by other processes meanwhile.
    WithOthers,
    /// Another process finished the job while this one was learning that the last units were
    /// done: the tables count only the rows this process loaded.
    FinishedElsewhere,
}

impl ImportReport {
    /// Rows loaded by this run, and by earlier runs of the task.
    pub fn rows_by_run(&self) -> (u64, u64) {
        let before: u64 = self.tables.iter().map(|t| t.rows_before).sum();
        let all: u64 = self.tables.iter().map(|t| t.rows).sum();
        (all.saturating_sub(before), before)
    }

    pub fn success(&self) -> bool {
        self.tables.iter().all(|t| t.error.is_none()) && self.object_errors.is_empty()
    }
}
