//! Settings of an import, read from TOML with TiDB Lightning's keys so that a Lightning user's
//! file works unchanged. Before the structs below read it, `config_keys` sorts every key: read
//! here, accepted with a note (Lightning's own machinery), or refused (not implemented, or
//! unknown). The binary lays command-line flags over what the file says.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::charset::{DataCharset, SchemaCharset};
use crate::error::ConfigError;

/// The whole TOML file. Every section is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct FileConfig {
    pub mydumper: MydumperSection,
    pub tidb: TidbSection,
    pub lightning: LightningSection,
    pub conflict: ConflictSection,
    pub checkpoint: CheckpointSection,
    pub tikv_importer: TikvImporterSection,
    pub post_restore: PostRestoreSection,
    pub security: SecuritySection,
    pub routes: Vec<RouteRule>,
}

/// One `[[routes]]` rule, TiDB Lightning's table router (`crate::route` says how they match):
/// the tables whose database matches `schema-pattern` (and whose name matches `table-pattern`,
/// when given) load into `target-schema`.`target-table` (an empty target table keeps the name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RouteRule {
    pub schema_pattern: String,
    pub table_pattern: String,
    pub target_schema: String,
    pub target_table: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct MydumperSection {
    pub data_source_dir: Option<String>,
    pub filter: Vec<String>,
    /// Whether `[[routes]]` patterns match names with their case (Lightning's default: not).
    pub case_sensitive: bool,
    pub no_schema: bool,
    pub strict_format: bool,
    pub max_region_size: ByteSize,
    /// How schema files are decoded (`auto`: UTF-8, else GB18030).
    pub character_set: String,
    /// How data files are decoded (`binary`: their bytes as they are).
    pub data_character_set: String,
    /// What replaces bytes invalid in `data_character_set`; none: they are an error.
    pub data_invalid_char_replace: Option<String>,
    pub csv: CsvSection,
}

impl Default for MydumperSection {
    fn default() -> Self {
        MydumperSection {
            data_source_dir: None,
            filter: Vec::new(),
            case_sensitive: false,
            no_schema: false,
            strict_format: false,
            max_region_size: ByteSize(256 << 20),
            character_set: "auto".into(),
            data_character_set: "binary".into(),
            data_invalid_char_replace: None,
            csv: CsvSection::default(),
        }
    }
}

impl MydumperSection {
    /// `character-set`, `data-character-set` and `data-invalid-char-replace`, each given or
    /// from the file.
    pub fn charsets(
        &self,
        schema: Option<&str>,
        data: Option<&str>,
        replace: Option<&str>,
    ) -> Result<(SchemaCharset, DataCharset), ConfigError> {
        let schema = SchemaCharset::parse(schema.unwrap_or(&self.character_set)).map_err(ConfigError::Invalid)?;
        let replace = replace.or(self.data_invalid_char_replace.as_deref());
        let data =
            DataCharset::parse(data.unwrap_or(&self.data_character_set), replace).map_err(ConfigError::Invalid)?;
        Ok((schema, data))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct CsvSection {
    pub separator: String,
    pub delimiter: String,
    pub terminator: String,
    pub header: bool,
    pub header_schema_match: bool,
    pub null: NullTokens,
    pub backslash_escape: bool,
    pub trim_last_separator: bool,
    pub not_null: bool,
}

impl Default for CsvSection {
    fn default() -> Self {
        CsvSection {
            separator: ",".into(),
            delimiter: "\"".into(),
            terminator: String::new(),
            header: true,
            header_schema_match: true,
            null: NullTokens(vec![r"\N".into()]),
            backslash_escape: true,
            trim_last_separator: false,
            not_null: false,
        }
    }
}

/// Lightning takes `null = '\N'`; newer versions also take a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "OneOrMany")]
pub struct NullTokens(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrMany> for NullTokens {
    fn from(v: OneOrMany) -> Self {
        match v {
            OneOrMany::One(s) => NullTokens(vec![s]),
            OneOrMany::Many(v) => NullTokens(v),
        }
    }
}

impl CsvSection {
    pub fn options(&self) -> Result<hoist_parse::csv::CsvOptions, ConfigError> {
        if self.separator.is_empty() {
            return Err(ConfigError::Invalid("[mydumper.csv] separator must not be empty".into()));
        }
        Ok(hoist_parse::csv::CsvOptions {
            separator: self.separator.as_bytes().to_vec(),
            delimiter: self.delimiter.as_bytes().to_vec(),
            terminator: (!self.terminator.is_empty()).then(|| self.terminator.as_bytes().to_vec()),
            null: self.null.0.iter().map(|s| s.as_bytes().to_vec()).collect(),
            backslash_escape: self.backslash_escape,
            trim_last_separator: self.trim_last_separator,
            not_null: self.not_null,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct TidbSection {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub sql_mode: Option<String>,
    /// Lightning's `""`, `"false"`, `"preferred"`, `"skip-verify"` or `"cluster"`; see
    /// [`FileConfig::tls`].
    pub tls: Option<String>,
    /// Lightning's files for the SQL connections; when present, instead of `[security]`.
    pub security: Option<SecuritySection>,
}

/// Lightning's TLS files (`[security]`, `[tidb.security]`). Empty is unset.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct SecuritySection {
    pub ca_path: String,
    pub cert_path: String,
    pub key_path: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct LightningSection {
    pub region_concurrency: Option<usize>,
    /// Where the status API listens (`--status-addr`); Lightning's `:8289` is every interface.
    pub status_addr: Option<String>,
    /// Rows the server refuses for their values that are skipped (and recorded) before the
    /// import fails: Lightning's type errors. 0, its default, skips none.
    pub max_error: Option<u64>,
    /// The schema of the tables that record skipped rows and conflicts (Lightning's name).
    pub task_info_schema_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ConflictSection {
    /// `""` is Lightning's documented default (its sample file says `strategy = ""`): no
    /// strategy given, which its logical mode takes as "error". So is it here.
    #[serde(deserialize_with = "empty_is_unset")]
    pub strategy: Option<ConflictStrategy>,
    /// Conflicts counted under `replace` / `ignore` before the import fails; unset is
    /// Lightning's default (10000), 0 counts none.
    pub threshold: Option<u64>,
    /// Lightning 8.1 and later take it as the threshold and ignore the value; so does hoist.
    pub max_record_rows: Option<i64>,
}

fn empty_is_unset<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<ConflictStrategy>, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// Lightning's older spelling of the conflict strategy.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct TikvImporterSection {
    pub on_duplicate: Option<ConflictStrategy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PostRestoreSection {
    pub analyze: Option<PostStep>,
    pub checksum: Option<PostStep>,
}

/// Lightning accepts booleans or "required" / "optional" / "off".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum PostStep {
    Bool(bool),
    Level(PostLevel),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostLevel {
    Required,
    Optional,
    Off,
}

impl PostStep {
    pub fn enabled(self) -> bool {
        self.level() != PostLevel::Off
    }

    /// `true` is "required", `false` "off".
    pub fn level(self) -> PostLevel {
        match self {
            PostStep::Bool(true) => PostLevel::Required,
            PostStep::Bool(false) => PostLevel::Off,
            PostStep::Level(level) => level,
        }
    }
}

impl std::str::FromStr for PostLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "required" => Ok(PostLevel::Required),
            "optional" => Ok(PostLevel::Optional),
            "off" => Ok(PostLevel::Off),
            _ => Err(format!("unknown level {s:?} (required, optional or off)")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictStrategy {
    /// A duplicate key stops the table with an error.
    #[default]
    Error,
    /// A later row replaces an earlier one with the same key.
    Replace,
    /// A row whose key exists is skipped.
    Ignore,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct CheckpointSection {
    pub enable: bool,
    pub driver: CheckpointDriver,
    pub dsn: Option<String>,
    pub schema: String,
    pub keep_after_success: KeepAfterSuccess,
    /// Seconds a lease of a process sharing the job lasts unless renewed (hoist's own key): how
    /// long the others wait before they take the work of a process that hangs or lost its host.
    pub lease_expiry: u64,
}

impl Default for CheckpointSection {
    fn default() -> Self {
        CheckpointSection {
            enable: true,
            driver: CheckpointDriver::Sqlite,
            dsn: None,
            schema: "hoist_checkpoint".into(),
            keep_after_success: KeepAfterSuccess::Remove,
            lease_expiry: 30,
        }
    }
}

impl CheckpointSection {
    /// [`CheckpointSection::lease_expiry`], at least a second.
    pub fn lease_expiry(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.lease_expiry.max(1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckpointDriver {
    /// Embedded SQLite file; Lightning's `file` driver maps here.
    #[default]
    #[serde(alias = "file")]
    Sqlite,
    Mysql,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase", from = "KeepSetting")]
pub enum KeepAfterSuccess {
    #[default]
    Remove,
    Rename,
    Origin,
}

/// Lightning also takes a boolean: true keeps (renamed), false removes.
#[derive(Deserialize)]
#[serde(untagged)]
enum KeepSetting {
    Bool(bool),
    Named(KeepNamed),
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum KeepNamed {
    Remove,
    Rename,
    Origin,
}

impl From<KeepSetting> for KeepAfterSuccess {
    fn from(v: KeepSetting) -> Self {
        match v {
            KeepSetting::Bool(true) | KeepSetting::Named(KeepNamed::Rename) => KeepAfterSuccess::Rename,
            KeepSetting::Bool(false) | KeepSetting::Named(KeepNamed::Remove) => KeepAfterSuccess::Remove,
            KeepSetting::Named(KeepNamed::Origin) => KeepAfterSuccess::Origin,
        }
    }
}

impl std::str::FromStr for ConflictStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Ok(ConflictStrategy::Error),
            "replace" => Ok(ConflictStrategy::Replace),
            "ignore" => Ok(ConflictStrategy::Ignore),
            _ => Err(format!("unknown conflict strategy {s:?} (error, replace or ignore)")),
        }
    }
}

/// A size given as a number of bytes or as text such as "256MiB" or "64KB".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(ByteSize(n)),
            Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let num: f64 = num.parse().map_err(|_| format!("not a size: {s:?}"))?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            "t" | "tb" | "tib" => 1 << 40,
            other => return Err(format!("unknown size unit {other:?} in {s:?}")),
        };
        Ok(ByteSize((num * mult as f64) as u64))
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read { path: path.display().to_string(), source: e })?;
        let parse_error = |message: String| ConfigError::Parse { path: path.display().to_string(), message };
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| parse_error(e.to_string()))?;
        for note in crate::config_keys::check(&doc).map_err(parse_error)? {
            tracing::warn!("{}: {note}", path.display());
        }
        doc.try_into().map_err(|e: toml::de::Error| parse_error(e.to_string()))
    }

    /// TLS as Lightning reads `[tidb] tls` and the files of `[tidb.security]` (else
    /// `[security]`): `"false"` is disabled, `"preferred"` preferred, `"skip-verify"` required
    /// (encrypted, not verified), `"cluster"` verify-identity with the CA (which it needs);
    /// `""` or no key is verify-identity when there is a CA, as in Lightning, and else hoist's
    /// default, preferred (Lightning's is plain; preferred reaches every server plain does).
    pub fn tls(&self) -> Result<crate::tls::TlsChoice, ConfigError> {
        use crate::tls::SslMode;
        let files = self.tidb.security.as_ref().unwrap_or(&self.security);
        let path = |p: &str| (!p.is_empty()).then(|| std::path::PathBuf::from(p));
        let mut choice = crate::tls::TlsChoice {
            mode: None,
            ca: path(&files.ca_path),
            cert: path(&files.cert_path),
            key: path(&files.key_path),
        };
        choice.mode = match self.tidb.tls.as_deref().unwrap_or("") {
            "" => None,
            // As Lightning does, "false" drops the files too.
            "false" => return Ok(crate::tls::TlsChoice { mode: Some(SslMode::Disabled), ..Default::default() }),
            "preferred" => Some(SslMode::Preferred),
            "skip-verify" => Some(SslMode::Required),
            "cluster" if choice.ca.is_none() => {
                return Err(ConfigError::Invalid(
                    "[tidb] tls = \"cluster\" verifies the server with the CA of [security] ca-path, and none is \
                     given: set ca-path, or tls = \"skip-verify\" to encrypt without verifying"
                        .into(),
                ))
            }
            "cluster" => Some(SslMode::VerifyIdentity),
            other => {
                return Err(ConfigError::Invalid(format!(
                    "[tidb] tls = {other:?} is not one of \"\", \"false\", \"preferred\", \"skip-verify\", \"cluster\""
                )))
            }
        };
        Ok(choice)
    }

    /// The conflict strategy from `[conflict]`, else from Lightning's older `[tikv-importer] on-duplicate`.
    pub fn conflict_strategy(&self) -> Option<ConflictStrategy> {
        self.conflict.strategy.or(self.tikv_importer.on_duplicate)
    }

    /// What `[lightning] max-error`, `task-info-schema-name` and `[conflict] threshold` say;
    /// flags go on top (the binary's `settings`).
    pub fn tolerance(&self) -> Tolerance {
        let mut t = Tolerance::default();
        if let Some(n) = self.lightning.max_error {
            t.max_type_errors = n;
        }
        if let Some(schema) = self.lightning.task_info_schema_name.as_ref().filter(|s| !s.is_empty()) {
            t.schema = schema.clone();
        }
        t.conflict_threshold = self.conflict.threshold;
        t
    }
}

/// How many rows the server refuses may be skipped, and where they are recorded
/// (`import/skip.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tolerance {
    /// Rows refused for a value: skipped and recorded up to this many, then the import fails.
    pub max_type_errors: u64,
    /// Under `replace` / `ignore`: rows whose key another row holds, counted and recorded up to
    /// this many. None: Lightning's default, [`DEFAULT_CONFLICT_THRESHOLD`]; 0 counts none.
    pub conflict_threshold: Option<u64>,
    /// The schema of `type_error_v2` and `conflict_records` in the target.
    pub schema: String,
}

/// Lightning's `[conflict] threshold` when none is given.
pub const DEFAULT_CONFLICT_THRESHOLD: u64 = 10_000;

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance { max_type_errors: 0, conflict_threshold: None, schema: "lightning_task_info".into() }
    }
}

impl Tolerance {
    /// The conflicts allowed under `strategy`: None when they are not counted (`error` stops at
    /// the first; a threshold of 0 counts none, as Lightning's INSERT IGNORE does).
    pub fn conflicts(&self, strategy: ConflictStrategy) -> Option<u64> {
        let threshold = self.conflict_threshold.unwrap_or(DEFAULT_CONFLICT_THRESHOLD);
        (strategy != ConflictStrategy::Error && threshold > 0).then_some(threshold)
    }

    /// Whether any refused row may be skipped under `strategy`.
    pub fn skips(&self, strategy: ConflictStrategy) -> bool {
        self.max_type_errors > 0 || self.conflicts(strategy).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_lightning_file() {
        let cfg: FileConfig = toml::from_str(
            r#"
[lightning]
region-concurrency = 4
[tikv-importer]
backend = "tidb"
on-duplicate = "replace"
[mydumper]
data-source-dir = "/data"
filter = ['*.*', '!mysql.*']
max-region-size = "64KiB"
[mydumper.csv]
separator = '|+|'
null = '\N'
header = false
[checkpoint]
driver = "file"
dsn = "/tmp/cp.db"
keep-after-success = "origin"
[post-restore]
analyze = "off"
checksum = "optional"
"#,
        )
        .unwrap();
        assert_eq!(cfg.lightning.region_concurrency, Some(4));
        assert_eq!(cfg.conflict_strategy(), Some(ConflictStrategy::Replace));
        assert_eq!(cfg.mydumper.max_region_size, ByteSize(64 << 10));
        assert_eq!(cfg.mydumper.csv.separator, "|+|");
        assert!(!cfg.mydumper.csv.header);
        assert_eq!(cfg.checkpoint.driver, CheckpointDriver::Sqlite);
        assert_eq!(cfg.checkpoint.keep_after_success, KeepAfterSuccess::Origin);
        assert!(!cfg.post_restore.analyze.unwrap().enabled());
        assert_eq!(cfg.post_restore.checksum.unwrap().level(), PostLevel::Optional);
    }

    #[test]
    fn keep_after_success_takes_lightning_booleans() {
        let keep = |v: &str| toml::from_str::<FileConfig>(&format!("[checkpoint]\nkeep-after-success = {v}")).unwrap();
        assert_eq!(keep("true").checkpoint.keep_after_success, KeepAfterSuccess::Rename);
        assert_eq!(keep("false").checkpoint.keep_after_success, KeepAfterSuccess::Remove);
        assert_eq!(keep("\"origin\"").checkpoint.keep_after_success, KeepAfterSuccess::Origin);
    }

    /// Lightning's limits: max-error 0 skips nothing; the conflict threshold is 10000 when
    /// unset, counts only under replace / ignore, and 0 counts none.
    #[test]
    fn limits_on_refused_rows() {
        let t = FileConfig::default().tolerance();
        assert_eq!((t.max_type_errors, t.schema.as_str()), (0, "lightning_task_info"));
        assert!(!t.skips(ConflictStrategy::Error), "the defaults skip nothing");
        assert_eq!(t.conflicts(ConflictStrategy::Replace), Some(DEFAULT_CONFLICT_THRESHOLD));
        let cfg: FileConfig = toml::from_str(
            "[lightning]\nmax-error = 20\ntask-info-schema-name = 'info'\n[conflict]\nthreshold = 4\nmax-record-rows = 1\n",
        )
        .unwrap();
        let t = cfg.tolerance();
        assert_eq!((t.max_type_errors, t.schema.as_str()), (20, "info"));
        assert_eq!(t.conflicts(ConflictStrategy::Ignore), Some(4));
        assert_eq!(t.conflicts(ConflictStrategy::Error), None, "error stops at the first duplicate");
        assert!(t.skips(ConflictStrategy::Error), "type errors are skipped under any strategy");
        let none: FileConfig = toml::from_str("[conflict]\nthreshold = 0\n").unwrap();
        assert_eq!(none.tolerance().conflicts(ConflictStrategy::Ignore), None, "0 counts none (INSERT IGNORE)");
    }

    #[test]
    fn an_empty_conflict_strategy_is_lightnings_default() {
        let cfg: FileConfig = toml::from_str("[conflict]\nstrategy = \"\"\n").unwrap();
        assert_eq!(cfg.conflict_strategy(), None, "unset: hoist's default, error");
        // Unset, the older spelling still counts, as when the key is left out.
        let cfg: FileConfig =
            toml::from_str("[conflict]\nstrategy = ''\n[tikv-importer]\non-duplicate = 'ignore'").unwrap();
        assert_eq!(cfg.conflict_strategy(), Some(ConflictStrategy::Ignore));
        let cfg: FileConfig = toml::from_str("[conflict]\nstrategy = 'replace'").unwrap();
        assert_eq!(cfg.conflict_strategy(), Some(ConflictStrategy::Replace));
        let bad = toml::from_str::<FileConfig>("[conflict]\nstrategy = 'merge'").unwrap_err().to_string();
        assert!(bad.contains("unknown conflict strategy \"merge\""), "{bad}");
    }

    /// The sample `tidb-lightning.toml` of Lightning's documentation (tests/fixtures) loads.
    #[test]
    fn the_documentations_sample_config_loads() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tidb-lightning.toml"));
        let cfg = FileConfig::load(path).unwrap();
        assert_eq!(cfg.conflict_strategy(), None);
        assert_eq!(cfg.tidb.port, Some(4000));
        assert_eq!(cfg.checkpoint.driver, CheckpointDriver::Sqlite);
        assert!(cfg.post_restore.analyze.unwrap().enabled());
        assert_eq!(cfg.post_restore.checksum.map(PostStep::level), Some(PostLevel::Required));
        assert_eq!(cfg.mydumper.filter.len(), 7);
        // Its Lightning-only keys are accepted with a note each; the ones hoist does not
        // implement are set to the values that mean what hoist does (max-error = 0, ...).
        let doc = toml::from_str::<toml::Table>(&std::fs::read_to_string(path).unwrap()).unwrap();
        let notes = crate::config_keys::check(&doc).unwrap();
        for key in ["[lightning] level", "[tikv-importer] backend", "[tidb] pd-addr", "[cron] switch-mode"] {
            assert_eq!(
                notes.iter().filter(|n| n.starts_with(&format!("{key} has no effect here"))).count(),
                1,
                "{key}"
            );
        }
        // (`[mydumper] case-sensitive` is read: it decides how `[[routes]]` match.)
        assert_eq!(notes.len(), 24, "{notes:#?}");
        // Its character sets are Lightning's defaults: schema files auto, data files binary.
        let (schema, data) = cfg.mydumper.charsets(None, None, None).unwrap();
        assert_eq!((schema, data.charset, data.replacement.as_deref()), (SchemaCharset::Auto, None, Some("\u{FFFD}")));
        // The status API is hoist's too: read, not noted.
        assert_eq!(cfg.lightning.status_addr.as_deref(), Some(":8289"));
    }

    #[test]
    fn tls_is_read_as_lightning_reads_it() {
        use crate::tls::SslMode;
        let tls = |text: &str| toml::from_str::<FileConfig>(text).unwrap().tls();
        let mode = |text: &str| tls(text).unwrap().mode;
        assert_eq!(tls("").unwrap(), crate::tls::TlsChoice::default(), "nothing given: hoist's default");
        assert_eq!(mode("[tidb]\ntls = ''"), None);
        assert_eq!(mode("[tidb]\ntls = 'false'\n[security]\nca-path = '/ca.pem'"), Some(SslMode::Disabled));
        assert_eq!(mode("[tidb]\ntls = 'preferred'"), Some(SslMode::Preferred));
        assert_eq!(mode("[tidb]\ntls = 'skip-verify'"), Some(SslMode::Required));
        let cluster =
            tls("[tidb]\ntls = 'cluster'\n[security]\nca-path = '/ca.pem'\ncert-path = '/c.pem'\nkey-path = '/k.pem'");
        let cluster = cluster.unwrap();
        assert_eq!(cluster.mode, Some(SslMode::VerifyIdentity));
        assert_eq!(cluster.ca.as_deref(), Some(Path::new("/ca.pem")));
        assert_eq!(
            (cluster.cert.as_deref(), cluster.key.as_deref()),
            (Some(Path::new("/c.pem")), Some(Path::new("/k.pem")))
        );
        // [tidb.security] replaces [security] whole: its empty ca-path means no CA.
        let own = tls("[security]\nca-path = '/ca.pem'\n[tidb.security]\nca-path = ''\n").unwrap();
        assert_eq!((own.mode, own.ca), (None, None));
        let own = tls("[security]\nca-path = '/a.pem'\n[tidb.security]\nca-path = '/b.pem'\n").unwrap();
        assert_eq!(own.ca.as_deref(), Some(Path::new("/b.pem")));
        let e = tls("[tidb]\ntls = 'cluster'").unwrap_err().to_string();
        assert!(e.contains("[security] ca-path") && e.contains("skip-verify"), "{e}");
        let e = tls("[tidb]\ntls = 'true'").unwrap_err().to_string();
        assert!(e.contains("\"cluster\""), "{e}");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!("256MiB".parse::<ByteSize>().unwrap(), ByteSize(256 << 20));
        assert_eq!("1.5k".parse::<ByteSize>().unwrap(), ByteSize(1536));
        assert_eq!("100".parse::<ByteSize>().unwrap(), ByteSize(100));
        assert!("12 parsecs".parse::<ByteSize>().is_err());
    }
}
