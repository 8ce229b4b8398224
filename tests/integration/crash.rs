//! Crash tests. The real binary is killed with `SIGKILL` at seeded random moments of an import
//! (while it plans and creates the schema, while it loads data, during the post steps) and run
//! again until it succeeds; then every table must equal the source: row count and a checksum
//! over every row, the deferred indexes in place, no marker and no checkpoint left. Also: the
//! MariaDB server itself killed under a running import, and Ctrl-C / SIGTERM.
//!
//! The dump has five tables (one without any key, with duplicate rows), SQL files split into
//! several chunks at statement boundaries (`--max-region-size 64KiB`, small statements), and
//! gzip and zstd files (`blobs` and `texts`), which are one chunk each and resume by skipping.
//!
//! Every test prints its seed; `HOIST_CRASH_SEED=<seed>` replays the same kill delays (the
//! moments they hit still depend on timing). `HOIST_CRASH_KILLS=<n>` asks each kill test for
//! `n` kills instead of the CI default (15 per MariaDB test, 10 for SQLite).

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hoist_testkit::dump::{write_dump, Compression, Dataset, DumpSpec};
use hoist_testkit::mariadb::MariaDb;
use hoist_testkit::rows::{mysql_table_sum, sqlite_table_sum};

/// Rows of the biggest tables: a dump of about 7 MB, about a second of loading (debug build).
const ROWS: usize = 12_000;
/// Kills per round (a round: fresh target, kills, a final successful run, the check).
const KILLS_PER_ROUND: usize = 5;

// ------------------------------------------------------------------ seeds --

/// xorshift64*: a tiny seeded generator for the kill delays (also of other modules' kill tests).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        // splitmix the seed once so that small seeds give unrelated sequences; never 0.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n.max(1))) >> 64) as u64
    }
    /// Uniform in `lo..hi`.
    pub(crate) fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let (lo, hi) = (lo.as_micros() as u64, hi.as_micros() as u64);
        Duration::from_micros(lo + self.below(hi.saturating_sub(lo).max(1)))
    }
}

/// The test's seed (`HOIST_CRASH_SEED`, or `HOIST_TEST_SEED`, else the clock), printed so a
/// failure can be replayed.
pub(crate) fn seed(test: &str) -> u64 {
    let seed = match std::env::var("HOIST_CRASH_SEED").or_else(|_| std::env::var("HOIST_TEST_SEED")) {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("HOIST_CRASH_SEED={s:?} is not a number")),
        Err(_) => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock");
            (now.as_nanos() as u64) ^ u64::from(std::process::id()).rotate_left(32)
        }
    };
    eprintln!("{test}: seed {seed} (replay with HOIST_CRASH_SEED={seed})");
    seed
}

/// Kills a kill test delivers: `HOIST_CRASH_KILLS`, else the CI default.
pub(crate) fn kills_wanted(default: usize) -> usize {
    match std::env::var("HOIST_CRASH_KILLS") {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("HOIST_CRASH_KILLS={s:?} is not a number")),
        Err(_) => default,
    }
}

/// A scratch dir; kept (and named on stderr) when `HOIST_CRASH_KEEP` is set, to look at the
/// logs of every run after a failure.
pub(crate) fn scratch(what: &str) -> tempfile::TempDir {
    let keep = std::env::var_os("HOIST_CRASH_KEEP").is_some();
    let dir = tempfile::Builder::new()
        .prefix(&format!("hoist-crash-{what}-"))
        .disable_cleanup(keep)
        .tempdir()
        .expect("temp dir");
    if keep {
        eprintln!("keeping {}", dir.path().display());
    }
    dir
}

// ------------------------------------------------------------------- dump --

pub(crate) struct CrashDump {
    dir: PathBuf,
    src: PathBuf,
    pub(crate) data: Dataset,
    bytes: u64,
}

/// The dump every crash test loads (each into its own server or file), made once per test
/// process and removed at its exit: database `crash`, SQL in small statements over three files
/// per table, with `blobs` gzip-compressed and `texts` zstd-compressed (the same rows:
/// generation depends only on the seed and the row count).
pub(crate) fn crash_dump() -> &'static CrashDump {
    static DUMP: OnceLock<CrashDump> = OnceLock::new();
    DUMP.get_or_init(|| {
        let dump = make_crash_dump("crash");
        if std::env::var_os("HOIST_CRASH_KEEP").is_none() {
            DUMP_DIR.set(dump.dir.clone()).expect("the dump is made once");
            // SAFETY: registering a plain extern "C" fn.
            unsafe { libc::atexit(remove_dump_dir) };
        }
        dump
    })
}

static DUMP_DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_dump_dir() {
    if let Some(dir) = DUMP_DIR.get() {
        let _ = fs::remove_dir_all(dir);
    }
}

fn make_crash_dump(database: &str) -> CrashDump {
    let t = Instant::now();
    let dir = scratch("dump");
    let spec = |compression| DumpSpec {
        rows: ROWS,
        files_per_table: 3,
        statement_bytes: 2048,
        compression,
        ..DumpSpec::new(database)
    };
    let src = dir.path().join("dump");
    let data = write_dump(&spec(Compression::None), &src);
    for (table, compression) in [("blobs", Compression::Gzip), ("texts", Compression::Zstd)] {
        let other = dir.path().join(format!("dump{}", compression.suffix()));
        let packed = write_dump(&spec(compression), &other);
        for f in &data.table(table).data_files {
            fs::remove_file(f).expect("remove a plain data file");
        }
        for f in &packed.table(table).data_files {
            fs::rename(f, src.join(f.file_name().expect("file name"))).expect("move a compressed data file");
        }
        fs::remove_dir_all(&other).expect("remove the scratch dump");
    }
    let bytes =
        fs::read_dir(&src).expect("read the dump").map(|e| e.expect("entry").metadata().expect("stat").len()).sum();
    eprintln!("crash dump of {:.1} MB written in {:.1} s", bytes as f64 / 1e6, t.elapsed().as_secs_f64());
    // Removed at exit (see crash_dump), or kept for a look with HOIST_CRASH_KEEP.
    let dir = dir.keep();
    CrashDump { dir, src, data, bytes }
}

// ---------------------------------------------------------------- targets --

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Driver {
    /// `--checkpoint FILE` (the SQLite store).
    File,
    /// `--checkpoint-driver mysql --checkpoint-schema S` on the target server.
    Mysql,
}

/// Phases of [`Setup::phase`] that say nothing of the killed run's progress by themselves.
const NO_CHECKPOINT: &str = "none (no checkpoint: not created yet, or removed after success)";
const NO_PLAN: &str = "empty (a checkpoint without a plan: not planned yet, or emptied after success)";

/// One target and checkpoint configuration, made fresh for every round.
pub(crate) struct Setup<'a> {
    pub(crate) test: &'static str,
    dump: &'a CrashDump,
    work: PathBuf,
    server: Option<&'a MariaDb>,
    driver: Driver,
    meta: String,
    pub(crate) cp_schema: String,
    round: usize,
    run_no: usize,
    /// Indexes of every table after a clean run: what each round must end with.
    indexes: Option<Vec<String>>,
    /// More flags for every run.
    pub(crate) extra: Vec<String>,
    /// Set for `restore full` of this backup instead of `import` of the dump.
    pub(crate) restore_from: Option<PathBuf>,
    /// Environment of every run (failpoints that keep a run long enough for its case).
    pub(crate) env: Vec<(&'static str, &'static str)>,
}

impl<'a> Setup<'a> {
    pub(crate) fn new(
        test: &'static str,
        dump: &'a CrashDump,
        work: &Path,
        server: Option<&'a MariaDb>,
        driver: Driver,
    ) -> Self {
        fs::create_dir_all(work).expect("create the work dir");
        Setup {
            test,
            dump,
            work: work.to_path_buf(),
            server,
            driver,
            meta: format!("{}_meta", dump.data.database),
            cp_schema: format!("{}_cp", dump.data.database),
            round: 0,
            run_no: 0,
            indexes: None,
            extra: Vec::new(),
            restore_from: None,
            env: Vec::new(),
        }
    }

    fn db(&self) -> &str {
        &self.dump.data.database
    }

    fn sqlite_target(&self) -> PathBuf {
        self.work.join(format!("target-{}.db", self.round))
    }

    pub(crate) fn checkpoint_file(&self) -> PathBuf {
        self.work.join(format!("checkpoint-{}.db", self.round))
    }

    fn target_url(&self) -> String {
        match self.server {
            Some(s) => s.url(),
            None => format!("sqlite://{}", self.sqlite_target().display()),
        }
    }

    fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = match &self.restore_from {
            Some(backup) => {
                vec!["restore".into(), "full".into(), "--storage".into(), backup.display().to_string()]
            }
            None => vec![
                "import".into(),
                "--source".into(),
                self.dump.src.display().to_string(),
                "--max-region-size".into(),
                "64KiB".into(),
            ],
        };
        args.extend([
            "--target".into(),
            self.target_url(),
            "--progress".into(),
            "quiet".into(),
            "--batch-size".into(),
            "16KiB".into(),
            "--region-concurrency".into(),
            "4".into(),
            "--meta-schema".into(),
            self.meta.clone(),
        ]);
        match self.driver {
            Driver::File => args.extend(["--checkpoint".into(), self.checkpoint_file().display().to_string()]),
            Driver::Mysql => args.extend([
                "--checkpoint-driver".into(),
                "mysql".into(),
                "--checkpoint-schema".into(),
                self.cp_schema.clone(),
            ]),
        }
        args.extend(self.extra.iter().cloned());
        args
    }

    /// The next round: an empty target, no checkpoint.
    pub(crate) fn fresh(&mut self) {
        self.round += 1;
        if let Some(s) = self.server {
            s.exec(&format!(
                "DROP DATABASE IF EXISTS `{}`; DROP DATABASE IF EXISTS `{}`; DROP DATABASE IF EXISTS `{}`",
                self.db(),
                self.meta,
                self.cp_schema
            ));
        }
    }

    /// Start hoist with this setup, output into a log file of its own.
    pub(crate) fn spawn(&mut self) -> Proc {
        self.run_no += 1;
        let log = self.work.join(format!("run-{:03}.log", self.run_no));
        Proc::spawn_with(&self.args(), &log, &self.env)
    }

    /// Where the checkpoint says the tables stand, e.g. `data (writing 3, pending 2)`.
    pub(crate) fn phase(&self) -> String {
        let states: Vec<(String, i64)> = match self.driver {
            Driver::File => {
                let path = self.checkpoint_file();
                if !path.exists() {
                    return NO_CHECKPOINT.into();
                }
                let read = || -> rusqlite::Result<Vec<(String, i64)>> {
                    let c = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
                    let mut st = c.prepare("SELECT state, COUNT(*) FROM tables GROUP BY state")?;
                    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect();
                    rows
                };
                match read() {
                    Ok(s) => s,
                    // Killed while it created the file.
                    Err(e) if e.to_string().contains("no such table") => return NO_PLAN.into(),
                    Err(e) => return format!("unknown ({e})"),
                }
            }
            Driver::Mysql => {
                let s = self.server.expect("the mysql driver needs a server");
                if !maria_table_exists(s, &self.cp_schema, "tables") {
                    return NO_CHECKPOINT.into();
                }
                s.query(&format!("SELECT state, COUNT(*) FROM `{}`.`tables` GROUP BY state", self.cp_schema))
                    .into_iter()
                    .map(|r| (text(&r[0]), text(&r[1]).parse().unwrap_or(0)))
                    .collect()
            }
        };
        if states.is_empty() {
            return NO_PLAN.into();
        }
        let has = |s: &[&str]| states.iter().any(|(st, _)| s.contains(&st.as_str()));
        // The most advanced step under way in some table (the store may lag a little).
        let phase = if has(&["written", "indexes_added", "verified", "analyzed"]) {
            "post"
        } else if has(&["writing"]) {
            "data"
        } else if has(&["pending", "schema_created"]) {
            if has(&["done"]) {
                "data"
            } else {
                "schema"
            }
        } else {
            "end"
        };
        let detail: Vec<String> = states.iter().map(|(s, n)| format!("{s} {n}")).collect();
        format!("{phase} ({})", detail.join(", "))
    }

    /// Chunks per data file in the recorded plan, when there is one.
    fn chunks_per_file(&self) -> Option<Vec<(String, i64)>> {
        let sql = "SELECT path, COUNT(*) FROM chunks GROUP BY path ORDER BY path";
        let rows: Vec<(String, i64)> = match self.driver {
            Driver::File => {
                let c = rusqlite::Connection::open_with_flags(
                    self.checkpoint_file(),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .ok()?;
                let mut st = c.prepare(sql).ok()?;
                let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).ok()?.collect::<Result<_, _>>().ok()?;
                rows
            }
            Driver::Mysql => {
                let s = self.server?;
                if !maria_table_exists(s, &self.cp_schema, "chunks") {
                    return None;
                }
                s.query(&sql.replace("FROM chunks", &format!("FROM `{}`.chunks", self.cp_schema)))
                    .into_iter()
                    .map(|r| (text(&r[0]), text(&r[1]).parse().unwrap_or(0)))
                    .collect()
            }
        };
        (!rows.is_empty()).then_some(rows)
    }

    fn checkpoint_gone(&self) -> bool {
        match self.driver {
            Driver::File => !self.checkpoint_file().exists(),
            Driver::Mysql => {
                let s = self.server.expect("server");
                let n = s.query_value(&format!(
                    "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{}'",
                    self.cp_schema
                ));
                n.as_deref() == Some("0")
            }
        }
    }

    /// Tables of the checkpoint that carry an error.
    fn checkpoint_errors(&self) -> Vec<String> {
        match self.driver {
            Driver::File => {
                let path = self.checkpoint_file();
                if !path.exists() {
                    return Vec::new();
                }
                let c = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .expect("open the checkpoint");
                let mut st = c
                    .prepare("SELECT table_name || ': ' || error_message FROM tables WHERE error_message IS NOT NULL")
                    .expect("query the checkpoint");
                let rows = st.query_map([], |r| r.get(0)).expect("query").collect::<Result<_, _>>().expect("rows");
                rows
            }
            Driver::Mysql => {
                let s = self.server.expect("server");
                if !maria_table_exists(s, &self.cp_schema, "tables") {
                    return Vec::new();
                }
                s.query(&format!(
                    "SELECT CONCAT(table_name, ': ', error_message) FROM `{}`.`tables` WHERE error_message IS NOT NULL",
                    self.cp_schema
                ))
                .into_iter()
                .map(|r| text(&r[0]))
                .collect()
            }
        }
    }

    fn current_indexes(&self) -> Vec<String> {
        match self.server {
            Some(s) => s
                .query(&format!(
                    "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS \
                     WHERE TABLE_SCHEMA = '{}' ORDER BY 1, 2, 3",
                    self.db()
                ))
                .into_iter()
                .map(|r| r.iter().map(text).collect::<Vec<_>>().join(" "))
                .collect(),
            None => {
                let c = rusqlite::Connection::open_with_flags(
                    self.sqlite_target(),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .expect("open the target");
                let mut st = c
                    .prepare(
                        "SELECT tbl_name || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_schema \
                         WHERE type = 'index' AND tbl_name NOT LIKE 'hoist_%' ORDER BY tbl_name, name",
                    )
                    .expect("query the target");
                let rows = st.query_map([], |r| r.get(0)).expect("query").collect::<Result<_, _>>().expect("rows");
                rows
            }
        }
    }

    fn markers_left(&self) -> u64 {
        match self.server {
            Some(s) => {
                if !maria_table_exists(s, &self.meta, "hoist_progress") {
                    return 0;
                }
                let n = s.query_value(&format!("SELECT COUNT(*) FROM `{}`.hoist_progress", self.meta));
                n.and_then(|n| n.parse().ok()).expect("COUNT(*) of the markers is a number")
            }
            None => {
                let c = rusqlite::Connection::open_with_flags(
                    self.sqlite_target(),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .expect("open the target");
                // A query that fails is a failed check, not "no markers left".
                c.query_row("SELECT COUNT(*) FROM hoist_progress", [], |r| r.get::<_, i64>(0))
                    .expect("count the markers left in the SQLite target") as u64
            }
        }
    }

    /// Every table equals the source: row count and a checksum over every row.
    fn check_data(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        for t in &self.dump.data.tables {
            let got = match self.server {
                Some(s) => mysql_table_sum(&s.url(), self.db(), &t.name, &t.columns),
                None => sqlite_table_sum(&self.sqlite_target(), &t.name, &t.columns),
            };
            let want = t.sum();
            if got != want {
                problems.push(format!("table `{}`: expected {want}, got {got}", t.name));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// The data check, and: the indexes are those of a clean run, and nothing is left of the
    /// checkpoint. Returns what differs.
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut problems: Vec<String> = self.check_data().err().into_iter().collect();
        let indexes = self.current_indexes();
        if let Some(want) = &self.indexes {
            if &indexes != want {
                problems.push(format!("indexes differ from a clean run:\n  expected {want:?}\n  got      {indexes:?}"));
            }
        }
        let markers = self.markers_left();
        if markers != 0 {
            problems.push(format!("{markers} progress markers left in the target after success"));
        }
        if !self.checkpoint_gone() {
            problems.push("the checkpoint was not removed after success".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// A clean import into a fresh target: the reference duration and indexes.
    pub(crate) fn calibrate(&mut self) -> Duration {
        self.fresh();
        let before = self.server.map(write_statements);
        let mut p = self.spawn();
        let status = p.wait_for(Duration::from_secs(300));
        let took = p.started.elapsed();
        assert!(status.is_some_and(|s| s.success()), "{}: the clean run failed ({status:?}):\n{}", self.test, p.tail());
        if let Err(e) = self.check() {
            panic!("{}: a clean run (no kill) does not load the dump exactly:\n{e}\n{}", self.test, p.tail());
        }
        let indexes = self.current_indexes();
        assert!(
            indexes.iter().any(|i| i.starts_with("orders ") && i.contains("idx_customer_created")),
            "{}: the clean run did not add the deferred index orders.idx_customer_created: {indexes:?}",
            self.test
        );
        self.indexes = Some(indexes);
        let how = match (self.server, before) {
            (Some(s), Some((load0, insert0))) => {
                let (load, insert) = write_statements(s);
                let (load, insert) = (load - load0, insert - insert0);
                // The path the flags ask for is the one the server saw: `--write-mode insert`
                // sends no LOAD DATA, and auto sends LOAD DATA for the rows it can carry exactly.
                if self.extra.iter().any(|a| a == "insert") {
                    assert!(
                        load == 0 && insert > 0,
                        "{}: --write-mode insert sent {load} LOAD DATA and {insert} INSERT",
                        self.test
                    );
                } else {
                    assert!(
                        load > 0,
                        "{}: the auto write path sent no LOAD DATA ({insert} INSERT statements)",
                        self.test
                    );
                }
                format!(" ({load} LOAD DATA and {insert} INSERT statements)")
            }
            _ => String::new(),
        };
        eprintln!(
            "{}: clean run {:.2} s for {} rows, {:.1} MB{how}; flags {:?}",
            self.test,
            took.as_secs_f64(),
            self.dump.data.total_rows(),
            self.dump.bytes as f64 / 1e6,
            self.extra
        );
        took
    }
}

/// A MariaDB server of the test's own (kill tests must not disturb, or be disturbed by, others).
pub(crate) fn private_server(test: &str) -> MariaDb {
    let t = Instant::now();
    let server = MariaDb::start();
    eprintln!("{test}: private MariaDB started in {:.1} s", t.elapsed().as_secs_f64());
    server
}

/// The server's counts of LOAD DATA and INSERT statements so far: which write path ran.
fn write_statements(server: &MariaDb) -> (u64, u64) {
    let count = |name: &str| -> u64 {
        server
            .query(&format!("SHOW GLOBAL STATUS LIKE '{name}'"))
            .first()
            .and_then(|r| text(&r[1]).parse().ok())
            .unwrap_or(0)
    };
    (count("Com_load"), count("Com_insert"))
}

pub(crate) fn text(v: &Option<Vec<u8>>) -> String {
    v.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_else(|| "NULL".into())
}

pub(crate) fn maria_table_exists(server: &MariaDb, schema: &str, table: &str) -> bool {
    server
        .query_value(&format!(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{schema}' AND TABLE_NAME = '{table}'"
        ))
        .as_deref()
        != Some("0")
}

// -------------------------------------------------------------- processes --

/// A running `hoist`, killed if dropped while running (a failing test leaves nothing behind).
pub(crate) struct Proc {
    child: Child,
    started: Instant,
    log: PathBuf,
    status: Option<ExitStatus>,
}

impl Proc {
    pub(crate) fn spawn(args: &[String], log: &Path) -> Proc {
        Proc::spawn_with(args, log, &[])
    }

    /// With these environment variables too (failpoints, say).
    pub(crate) fn spawn_with(args: &[String], log: &Path, env: &[(&str, &str)]) -> Proc {
        let out = File::create(log).expect("create the run log");
        let err = out.try_clone().expect("dup the run log");
        let child = Command::new(env!("CARGO_BIN_EXE_hoist"))
            .args(args)
            .envs(env.iter().copied())
            .env("HOIST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start hoist");
        Proc { child, started: Instant::now(), log: log.to_path_buf(), status: None }
    }

    pub(crate) fn pid(&self) -> libc::pid_t {
        self.child.id() as libc::pid_t
    }

    /// Wait until it exits or `limit` after its start has passed (then None, still running).
    fn wait_until(&mut self, limit: Duration) -> Option<ExitStatus> {
        loop {
            if let Some(s) = self.child.try_wait().expect("wait for hoist") {
                self.status = Some(s);
                return Some(s);
            }
            let elapsed = self.started.elapsed();
            if elapsed >= limit {
                return None;
            }
            std::thread::sleep((limit - elapsed).min(Duration::from_millis(2)));
        }
    }

    /// Wait at most `timeout` from now.
    pub(crate) fn wait_for(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let limit = self.started.elapsed() + timeout;
        self.wait_until(limit)
    }

    pub(crate) fn kill9(&mut self) {
        let _ = self.child.kill();
        self.status = self.child.wait().ok();
    }

    pub(crate) fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child, which has not been reaped yet.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({}, {sig}) failed", self.pid());
    }

    /// Time since it was started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub(crate) fn output(&self) -> String {
        fs::read(&self.log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }

    /// The end of the run's output, for messages.
    pub(crate) fn tail(&self) -> String {
        tail_of(&self.log, 6000)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn tail_of(path: &Path, bytes: u64) -> String {
    let Ok(mut f) = File::open(path) else { return format!("(no log {})", path.display()) };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let from = len.saturating_sub(bytes);
    let _ = f.seek(SeekFrom::Start(from));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let cut = if from > 0 { "...\n" } else { "" };
    format!("--- {} ---\n{cut}{}", path.display(), String::from_utf8_lossy(&buf))
}

pub(crate) fn describe(status: Option<ExitStatus>) -> String {
    match status {
        None => "still running".into(),
        Some(s) => match s.code() {
            Some(c) => format!("exit code {c}"),
            None => format!("{s}"),
        },
    }
}

/// Wait until `markers()` reaches `n` and `extra` more passed, then `kill -9` the run; false if
/// it ended first (or got nowhere in two minutes).
pub(crate) fn kill_after_markers(mut child: Child, markers: impl Fn() -> u64, n: u64, extra: Duration) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while markers() < n {
        if child.try_wait().expect("wait for hoist").is_some() || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(extra);
    let ended = child.try_wait().expect("wait for hoist").is_some();
    let _ = child.kill();
    let _ = child.wait();
    !ended
}

/// Chunks with a progress marker in an SQLite target (0 before the target exists).
pub(crate) fn sqlite_markers(db: &Path) -> u64 {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM hoist_progress", [], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .unwrap_or(0)
}

// ------------------------------------------------------------ kill rounds --

/// What a kill test did, for its summary and its failure messages.
#[derive(Default)]
struct Record {
    kills: usize,
    /// Every kill: (round, delay after spawn, phase the checkpoint shows after it).
    log: Vec<(usize, Duration, String)>,
    phases: std::collections::BTreeMap<String, usize>,
    /// Chunks per data file of a plan seen after a kill.
    plan: Option<Vec<(String, i64)>>,
}

impl Record {
    fn delays(&self) -> String {
        let d: Vec<String> = self.log.iter().map(|(r, d, _)| format!("r{r}:{}ms", d.as_millis())).collect();
        d.join(" ")
    }
}

/// Kill tests: a clean run to calibrate, then rounds of `KILLS_PER_ROUND` kills each until
/// `kills` kills were delivered. Each round ends with a run that exits 0 and the check.
fn kill_test(setup: &mut Setup<'_>, seed: u64, kills: usize) {
    let mut rng = Rng::new(seed);
    let clean = setup.calibrate();
    let mut record = Record::default();
    let started = Instant::now();
    let mut rounds = 0;
    while record.kills < kills {
        rounds += 1;
        assert!(
            rounds <= kills.max(4) * 3,
            "{}: seed {seed}: only {} of {kills} kills landed in {} rounds: the runs end before the kills",
            setup.test,
            record.kills,
            rounds - 1
        );
        let want = KILLS_PER_ROUND.min(kills - record.kills);
        if let Err(e) = kill_round(setup, &mut rng, clean, want, &mut record) {
            panic!(
                "{}: seed {seed} (replay with HOIST_CRASH_SEED={seed}), round {}: {e}\nkill delays so far: {}\nphases: {:?}",
                setup.test,
                setup.round,
                record.delays(),
                record.log.iter().map(|(r, d, p)| format!("r{r} {}ms {p}", d.as_millis())).collect::<Vec<_>>()
            );
        }
    }
    eprintln!(
        "{}: seed {seed}: {} kills in {rounds} rounds, {:.1} s; phases at the kills (from the checkpoint): {:?}\n  delays: {}",
        setup.test,
        record.kills,
        started.elapsed().as_secs_f64(),
        record.phases,
        record.delays()
    );
    // The random kills land mostly in the data phase: one kill aimed at each of the two short
    // phases around it (a failpoint holds the run there) makes sure every phase is killed.
    for (phase, failpoint, pause) in [
        ("schema", "import.schema-step", "import.schema-step=400ms"),
        ("post", "import.post-steps", "import.post-steps=400ms"),
    ] {
        aimed_kill(setup, seed, phase, failpoint, pause, &mut record);
    }
    for phase in ["schema", "data", "post"] {
        assert!(
            record.phases.get(phase).is_some_and(|&n| n > 0),
            "{}: seed {seed}: no kill landed in the {phase} phase: {:?}",
            setup.test,
            record.phases
        );
    }
    let plan = record.plan.as_ref();
    if setup.restore_from.is_some() {
        // A backup's tables come in several files each (key ranges): those are the chunks.
        let plan = plan.expect("a plan was seen after a kill");
        let tables = setup.dump.data.tables.len();
        assert!(plan.len() > 2 * tables, "{}: the backup's tables were not cut into ranges: {plan:?}", setup.test);
    } else {
        let plan = plan.unwrap_or_else(|| panic!("{}: seed {seed}: no kill left a plan to look at", setup.test));
        let split: Vec<_> = plan.iter().filter(|(_, n)| *n > 1).collect();
        let compressed: Vec<_> = plan.iter().filter(|(p, _)| p.ends_with(".gz") || p.ends_with(".zst")).collect();
        eprintln!(
            "{}: the plan has {} chunks over {} files; split files: {split:?}",
            setup.test,
            plan.iter().map(|(_, n)| n).sum::<i64>(),
            plan.len()
        );
        assert!(!split.is_empty(), "{}: no data file was split into chunks: {plan:?}", setup.test);
        assert!(compressed.len() == 6, "{}: expected 3 gzip and 3 zstd files in the plan: {plan:?}", setup.test);
    }
}

/// A fresh round whose one kill lands in `phase`: the run pauses at `failpoint` (reached in
/// that phase only), and is killed there; then the same command finishes, and the check runs.
fn aimed_kill(
    setup: &mut Setup<'_>,
    seed: u64,
    phase: &str,
    failpoint: &str,
    pause: &'static str,
    record: &mut Record,
) {
    setup.fresh();
    let saved = std::mem::replace(&mut setup.env, vec![("HOIST_FAILPOINTS", pause)]);
    let mut p = setup.spawn();
    let sign = format!("failpoint {failpoint}");
    while !p.output().contains(&sign) && p.wait_for(Duration::from_millis(5)).is_none() {}
    assert!(p.status.is_none(), "{}: seed {seed}: the run ended before {failpoint}:\n{}", setup.test, p.tail());
    let delay = p.started.elapsed();
    p.kill9();
    setup.env = saved;
    let seen = setup.phase();
    let name = seen.split(' ').next().unwrap_or("?").to_string();
    assert_eq!(name, phase, "{}: seed {seed}: killed at {failpoint}, the checkpoint says {seen}", setup.test);
    *record.phases.entry(name).or_default() += 1;
    record.log.push((setup.round, delay, seen));
    record.kills += 1;
    rerun_to_success(setup, seed, &format!("after a kill at {failpoint}"));
}

/// One round: fresh target, up to `kills` kills, runs until one exits 0, then the check.
fn kill_round(
    setup: &mut Setup<'_>,
    rng: &mut Rng,
    clean: Duration,
    kills: usize,
    record: &mut Record,
) -> Result<(), String> {
    setup.fresh();
    let round = setup.round;
    let mut delivered = 0;
    // Estimated work left, so that later kills still land before the run ends.
    let mut left = clean;
    let mut busy = Duration::ZERO;
    let mut runs = 0;
    let mut history: Vec<String> = Vec::new();
    let mut last_killed = false;
    let mut prev_tail = String::new();
    loop {
        runs += 1;
        let kill_at = (delivered < kills).then(|| {
            // Early kills hit the start-up, the plan and (in a round's first run) the schema
            // creation; the others spread over what is estimated to be left of the run.
            let early = if runs == 1 { 2 } else { 4 };
            if rng.below(early) == 0 {
                rng.between(Duration::ZERO, clean / 4)
            } else {
                rng.between(Duration::ZERO, left)
            }
        });
        let mut p = setup.spawn();
        let status = match kill_at {
            Some(delay) => p.wait_until(delay),
            None => p.wait_for(clean * 10 + Duration::from_secs(120)),
        };
        match (status, kill_at) {
            (None, Some(delay)) => {
                p.kill9();
                busy += p.started.elapsed();
                delivered += 1;
                record.kills += 1;
                let phase = setup.phase();
                let name = phase.split(' ').next().unwrap_or("?").to_string();
                *record.phases.entry(name).or_default() += 1;
                record.log.push((round, delay, phase.clone()));
                if record.plan.is_none() {
                    record.plan = setup.chunks_per_file();
                }
                history.push(format!("run {runs}: killed at {} ms, checkpoint: {phase}", delay.as_millis()));
                prev_tail = format!("(the killed run before it:)\n{}\n", tail_of(&p.log, 3000));
                left = left.saturating_sub(delay.mul_f64(0.7)).max(clean / 4);
                last_killed = true;
                continue;
            }
            (None, None) => {
                p.kill9();
                return Err(format!(
                    "a run without a kill did not finish within {:?} (hang?)\n{}\n{}",
                    clean * 10 + Duration::from_secs(120),
                    history.join("\n"),
                    p.tail()
                ));
            }
            (Some(s), _) => {
                busy += p.started.elapsed();
                if s.success() {
                    history.push(format!("run {runs}: exit 0 after {} ms", p.started.elapsed().as_millis()));
                    break;
                }
                let out = p.output();
                let mut note = String::new();
                if last_killed && out.contains("A finished import is not run twice") {
                    // The kill came after the import had finished and removed its checkpoint: the
                    // rerun refuses instead of saying that there is nothing left to do.
                    note = format!(
                        "\nNOTE: the previous run was killed after it had removed its checkpoint (the import was \
                         finished); the rerun refuses instead of reporting success. Data check: {}",
                        match setup.check_data() {
                            Ok(()) => "every table equals the source".to_string(),
                            Err(e) => e,
                        }
                    );
                }
                return Err(format!(
                    "run {runs} after {} kill(s) ended with {} instead of success or a kill{note}\n{}\n{}{}",
                    delivered,
                    describe(Some(s)),
                    history.join("\n"),
                    prev_tail,
                    p.tail()
                ));
            }
        }
    }
    if let Err(e) = setup.check() {
        return Err(format!(
            "the target differs from the source after {delivered} kill(s):\n{e}\n{}",
            history.join("\n")
        ));
    }
    eprintln!(
        "{}: round {round}: {delivered} kills, {runs} runs; time spent in all runs {:.2} s = {:.2}x a clean run \
         (work redone after kills, as time)",
        setup.test,
        busy.as_secs_f64(),
        busy.as_secs_f64() / clean.as_secs_f64()
    );
    Ok(())
}

#[test]
fn kill9_mariadb_sqlite_checkpoint() {
    let test = "kill9_mariadb_sqlite_checkpoint";
    let seed = seed(test);
    let server = private_server(test);
    let dump = crash_dump();
    let work = scratch("work");
    let mut setup = Setup::new(test, dump, work.path(), Some(&server), Driver::File);
    kill_test(&mut setup, seed, kills_wanted(15));
}

#[test]
fn kill9_mariadb_mysql_checkpoint() {
    let test = "kill9_mariadb_mysql_checkpoint";
    let seed = seed(test);
    let server = private_server(test);
    let dump = crash_dump();
    let work = scratch("work");
    let mut setup = Setup::new(test, dump, work.path(), Some(&server), Driver::Mysql);
    // The other MariaDB kill test takes the default write path (LOAD DATA where exact).
    setup.extra = vec!["--write-mode".into(), "insert".into()];
    kill_test(&mut setup, seed, kills_wanted(15));
}

#[test]
fn kill9_sqlite_target() {
    let test = "kill9_sqlite_target";
    let seed = seed(test);
    let dump = crash_dump();
    let work = scratch("work");
    let mut setup = Setup::new(test, dump, work.path(), None, Driver::File);
    kill_test(&mut setup, seed, kills_wanted(10));
}

/// `restore full` killed at seeded moments: the crash dump is loaded into a source server,
/// backed up in key ranges of 64 KiB, and restored into a server of its own until a run
/// succeeds; every table must then equal the dump, and nothing of the checkpoint stay.
#[test]
fn kill9_restore_full() {
    let test = "kill9_restore_full";
    let seed = seed(test);
    let dump = crash_dump();
    let work = scratch("work");
    let backup = backup_of(test, dump, work.path());
    let target = private_server(test);
    let mut setup = Setup::new(test, dump, work.path(), Some(&target), Driver::Mysql);
    setup.restore_from = Some(backup);
    kill_test(&mut setup, seed, kills_wanted(15));
}

/// A backup of the crash dump, in key ranges of 64 KiB, in `work`/backup: the dump loaded into
/// a server of the test's own, analyzed (the ranges come from its statistics), backed up.
pub(crate) fn backup_of(test: &str, dump: &CrashDump, work: &Path) -> PathBuf {
    let source = private_server(test);
    let load = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args([
            "import",
            "--source",
            dump.src.to_str().expect("utf-8"),
            "--target",
            &source.url(),
            "--progress",
            "quiet",
        ])
        .arg("--checkpoint")
        .arg(work.join("load.db"))
        .output()
        .expect("run hoist import");
    assert!(load.status.success(), "loading the source: {}", String::from_utf8_lossy(&load.stderr));
    let tables: Vec<String> =
        dump.data.tables.iter().map(|t| format!("`{}`.`{}`", dump.data.database, t.name)).collect();
    source.exec(&format!("ANALYZE TABLE {}", tables.join(", ")));
    let backup = work.join("backup");
    let out = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args(["backup", "--source", &source.url(), "--storage", backup.to_str().expect("utf-8")])
        .args(["--chunk-size", "64KiB", "--statement-size", "16KiB"])
        .output()
        .expect("run hoist backup");
    assert!(out.status.success(), "the backup: {}", String::from_utf8_lossy(&out.stderr));
    backup
}

// ------------------------------------------------ server killed, Ctrl-C --

/// Wait until the target holds at least `n` progress markers (data is being loaded), or the
/// run ends. Returns false if the run ended first.
fn wait_for_markers(setup: &Setup<'_>, p: &mut Proc, n: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if p.wait_for(Duration::ZERO).is_some() {
            return false;
        }
        let markers = match setup.server {
            Some(s) => {
                if maria_table_exists(s, &setup.meta, "hoist_progress") {
                    s.query_value(&format!("SELECT COUNT(*) FROM `{}`.hoist_progress", setup.meta))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0)
                } else {
                    0
                }
            }
            None => {
                rusqlite::Connection::open_with_flags(setup.sqlite_target(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .and_then(|c| c.query_row("SELECT COUNT(*) FROM hoist_progress", [], |r| r.get::<_, i64>(0)))
                    .map(|n| n as u64)
                    .unwrap_or(0)
            }
        };
        if markers >= n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{}: no {n} progress markers within 120 s:\n{}", setup.test, p.tail());
}

/// One more run, which must exit 0 (nothing may be refused); then the check.
fn rerun_to_success(setup: &mut Setup<'_>, seed: u64, context: &str) {
    let mut p = setup.spawn();
    let status = p.wait_for(Duration::from_secs(300));
    assert!(
        status.is_some_and(|s| s.success()),
        "{}: seed {seed}: {context}: the rerun ended with {}:\n{}",
        setup.test,
        describe(status),
        p.tail()
    );
    if let Err(e) = setup.check() {
        panic!("{}: seed {seed}: {context}: the target differs from the source:\n{e}\n{}", setup.test, p.tail());
    }
}

/// The MariaDB server dies under an import (`SIGKILL`) and comes back. hoist must either retry
/// through the outage or give up as a run error that says to run the same command again, with
/// no table error recorded; the rerun then completes with exact data. Three cases: the server
/// stays down until hoist gives up (checkpoint in a file, then on the dead server itself), and
/// a restart after a seeded delay that hoist may or may not retry through.
#[test]
fn mariadb_server_killed_mid_import() {
    let test = "mariadb_server_killed_mid_import";
    let seed = seed(test);
    let mut rng = Rng::new(seed);
    let server = private_server(test);
    let dump = crash_dump();
    let work = scratch("work");
    let random_driver = if rng.below(2) == 0 { Driver::File } else { Driver::Mysql };
    for (case, (driver, stay_down)) in
        [(Driver::File, true), (Driver::Mysql, true), (random_driver, false)].into_iter().enumerate()
    {
        let dir = work.path().join(format!("case{case}-{driver:?}"));
        let mut setup = Setup::new(test, dump, &dir, Some(&server), driver);
        setup.extra = vec!["--max-retries".into(), "2".into()];
        // Each batch waits after its commit: the import outlasts the moment the server is killed.
        setup.env = vec![("HOIST_FAILPOINTS", "import.batch-committed=30ms")];
        setup.fresh();
        let markers = 1 + rng.below(8);
        let extra = rng.between(Duration::ZERO, Duration::from_millis(200));
        let down_for = rng.between(Duration::ZERO, Duration::from_millis(2500));
        let context = format!(
            "{driver:?} checkpoint: server killed {} ms after {markers} markers, restarted {}",
            extra.as_millis(),
            if stay_down { "once hoist had exited".to_string() } else { format!("after {} ms", down_for.as_millis()) }
        );
        eprintln!("{test}: {context}");
        let mut p = setup.spawn();
        let running = wait_for_markers(&setup, &mut p, markers) && {
            std::thread::sleep(extra);
            p.wait_for(Duration::ZERO).is_none()
        };
        assert!(
            running,
            "{test}: seed {seed}: {context}: the import ended before the server was killed, so the case tested \
             nothing (each batch pauses 30 ms after its commit: is the failpoint still there?):\n{}",
            p.tail()
        );
        server.kill();
        let killed_at = p.started.elapsed();
        let early = if stay_down {
            let status = p.wait_for(Duration::from_secs(120));
            if status.is_none() {
                let out = p.tail();
                p.kill9();
                server.restart();
                panic!(
                    "{test}: seed {seed}: {context}: hoist did not give up within 120 s with the server down \
                     and --max-retries 2 (hang?):\n{out}"
                );
            }
            status
        } else {
            std::thread::sleep(down_for);
            p.wait_for(Duration::ZERO)
        };
        server.restart();
        let status = p.wait_for(Duration::from_secs(120));
        let out = p.output();
        match status {
            None => panic!(
                "{test}: seed {seed}: {context}: hoist neither finished nor gave up within 120 s after the \
                 server came back (hang?):\n{}",
                p.tail()
            ),
            Some(s) if s.success() => {
                assert!(
                    !stay_down,
                    "{test}: seed {seed}: {context}: hoist succeeded without its server:\n{}",
                    p.tail()
                );
                eprintln!("{test}: {context}: hoist retried through the outage and finished");
                if let Err(e) = setup.check() {
                    panic!("{test}: seed {seed}: {context}: the target differs from the source:\n{e}\n{}", p.tail());
                }
                continue;
            }
            Some(s) => {
                eprintln!(
                    "{test}: {context}: hoist gave up {} ({}) {:.2} s after the kill",
                    if early.is_some() { "while the server was down" } else { "after the restart" },
                    describe(Some(s)),
                    (p.started.elapsed() - killed_at).as_secs_f64()
                );
                let errors = setup.checkpoint_errors();
                assert!(
                    errors.is_empty(),
                    "{test}: seed {seed}: {context}: the checkpoint records table errors for a lost server: \
                     {errors:?}\n{}",
                    p.tail()
                );
                assert!(
                    out.contains("run the same command"),
                    "{test}: seed {seed}: {context}: the message must tell to run the same command again:\n{}",
                    p.tail()
                );
                assert!(
                    !out.contains("error-destroy") && !out.contains("error-ignore") && !out.contains("FAILED"),
                    "{test}: seed {seed}: {context}: a lost server must not be reported as a table failure:\n{}",
                    p.tail()
                );
                // Checked last, so that the checks above report first.
                assert!(
                    !matches!(s.code(), Some(0 | 1 | 130) | None),
                    "{test}: seed {seed}: {context}: a lost server is a run error, which must exit with a code \
                     other than 1 (table failures) and 130 (interrupted); got {}:\n{}",
                    describe(Some(s)),
                    p.tail()
                );
            }
        }
        rerun_to_success(&mut setup, seed, &context);
    }
}

/// Ctrl-C (SIGINT) once data flows, then SIGTERM during the rerun: each run must exit within
/// 5 s with code 130 and say how to resume; a last run completes with exact data. Against an
/// SQLite file and against MariaDB.
#[test]
fn interrupt_exits_130_and_resumes() {
    let test = "interrupt_exits_130_and_resumes";
    let seed = seed(test);
    let mut rng = Rng::new(seed);
    let server = private_server(test);
    let dump = crash_dump();
    let work = scratch("work");
    for target in [None, Some(&server)] {
        let label = if target.is_some() { "MariaDB" } else { "SQLite" };
        let mut setup = Setup::new(test, dump, &work.path().join(label), target, Driver::File);
        // Each batch waits after its commit, so that a run is still going when its signal comes.
        setup.env = vec![("HOIST_FAILPOINTS", "import.batch-committed=30ms")];
        setup.fresh();
        // Ctrl-C once data flows, then SIGTERM on the rerun, then a run to the end.
        for (sig, name) in [(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")] {
            let markers = 1 + rng.below(8);
            let extra = rng.between(Duration::ZERO, Duration::from_millis(200));
            let context = format!("{label}: {name} {} ms after {markers} markers", extra.as_millis());
            let mut p = setup.spawn();
            let running = wait_for_markers(&setup, &mut p, markers) && {
                std::thread::sleep(extra);
                p.wait_for(Duration::ZERO).is_none()
            };
            assert!(
                running,
                "{test}: seed {seed}: {context}: the run finished before the signal, so the case tested nothing:\n{}",
                p.tail()
            );
            p.signal(sig);
            let sent = Instant::now();
            let status = p.wait_for(Duration::from_secs(5));
            let took = sent.elapsed();
            if status.is_none() {
                let (pid, out) = (p.pid(), p.tail());
                p.kill9();
                panic!("{test}: seed {seed}: {context}: hoist (pid {pid}) still runs 5 s after {name}:\n{out}");
            }
            let out = p.output();
            eprintln!("{test}: {context}: exited after {} ms with {}", took.as_millis(), describe(status));
            assert_eq!(
                status.and_then(|s| s.code()),
                Some(130),
                "{test}: seed {seed}: {context}: exit code 130 expected:\n{}",
                p.tail()
            );
            assert!(
                out.contains("interrupted; run the same command to resume"),
                "{test}: seed {seed}: {context}: the message must say how to resume:\n{}",
                p.tail()
            );
        }
        if !setup.checkpoint_gone() {
            rerun_to_success(&mut setup, seed, &format!("{label}: after SIGINT and SIGTERM"));
        }
    }
}

/// SIGHUP (the ssh session dropped) stops a run as SIGTERM does: the batches in flight finish,
/// the exit code is 130 with the resume message, and the same command completes the import.
#[test]
fn hangup_stops_like_sigterm_and_resumes() {
    let test = "hangup_stops_like_sigterm_and_resumes";
    let work = scratch("work");
    let mut setup = Setup::new(test, crash_dump(), work.path(), None, Driver::File);
    setup.env = vec![("HOIST_FAILPOINTS", "import.batch-committed=30ms")];
    setup.fresh();
    let mut p = setup.spawn();
    if !wait_for_markers(&setup, &mut p, 1) {
        panic!("{test}: the run ended before any batch was in:\n{}", p.tail());
    }
    p.signal(libc::SIGHUP);
    let status = p.wait_for(Duration::from_secs(5));
    if status.is_none() {
        p.kill9();
        panic!("{test}: hoist still runs 5 s after SIGHUP:\n{}", p.tail());
    }
    // The signal came after the first batch of a run of seconds: it must be what ended it.
    assert_eq!(status.and_then(|s| s.code()), Some(130), "{test}: exit code 130 expected:\n{}", p.tail());
    assert!(p.output().contains("interrupted; run the same command to resume"), "{test}:\n{}", p.tail());
    rerun_to_success(&mut setup, 0, "after SIGHUP");
}
