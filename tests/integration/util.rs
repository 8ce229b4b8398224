//! Running the `hoist` binary and checking its results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use hoist_testkit::dump::{Compression, Dataset, DumpSpec, Format};
use hoist_testkit::mariadb::MariaDb;

pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.output.status.success()
    }
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    /// stdout and stderr together, as a person would see them.
    pub fn text(&self) -> String {
        format!("{}{}", String::from_utf8_lossy(&self.output.stdout), String::from_utf8_lossy(&self.output.stderr))
    }
    #[track_caller]
    pub fn assert_ok(&self) {
        assert!(self.ok(), "hoist failed ({:?}):\n{}", self.code(), self.text());
    }
}

/// A refusal: exit code 2, and a message that says each of `says`.
#[track_caller]
pub fn assert_refused(run: &Run, says: &[&str]) {
    let text = run.text();
    assert_eq!(run.code(), Some(2), "a refusal exits with 2:\n{text}");
    for s in says {
        assert!(text.contains(s), "the message should say {s:?}:\n{text}");
    }
}

/// The `hoist ...` command a message suggests, on the line that holds `start`, run as given.
pub fn follow(text: &str, start: &str) -> Run {
    let line = text.lines().find(|l| l.contains(start)).unwrap_or_else(|| panic!("no {start:?} in:\n{text}"));
    let command = &line[line.find(start).unwrap() + "hoist ".len()..];
    let words: Vec<String> = command.split_whitespace().map(|w| w.trim_matches('\'').to_string()).collect();
    hoist(&words.iter().map(String::as_str).collect::<Vec<_>>())
}

pub fn hoist(args: &[&str]) -> Run {
    let output =
        Command::new(env!("CARGO_BIN_EXE_hoist")).args(args).env("HOIST_LOG", "warn").output().expect("run hoist");
    Run { output }
}

/// [`hoist`] run from `cwd`, where relative defaults (./hoist.db, ./hoist-checkpoint.db) land.
pub fn hoist_in(cwd: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args(args)
        .current_dir(cwd)
        .env("HOIST_LOG", "warn")
        .output()
        .expect("run hoist");
    Run { output }
}

/// `hoist import` from `source` into `target`, with the checkpoint in `work`.
pub fn import(source: &Path, target: &str, work: &Path, extra: &[&str]) -> Run {
    let cp = work.join("checkpoint.db");
    let mut args = vec![
        "import",
        "--source",
        source.to_str().expect("utf-8 path"),
        "--target",
        target,
        "--checkpoint",
        cp.to_str().expect("utf-8 path"),
        "--progress",
        "log",
    ];
    args.extend_from_slice(extra);
    hoist(&args)
}

/// A generated dump in `dir/dump` with the given form.
pub fn dump(dir: &Path, database: &str, format: Format, compression: Compression) -> (PathBuf, Dataset) {
    let out = dir.join("dump");
    std::fs::create_dir_all(&out).expect("mkdir");
    let spec = DumpSpec { format, compression, ..DumpSpec::new(database) };
    let data = hoist_testkit::dump::write_dump(&spec, &out);
    (out, data)
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// Row count and CHECKSUM TABLE of every base table of `database`: what a DBA compares.
pub fn table_sums(server: &MariaDb, database: &str) -> BTreeMap<String, (String, String)> {
    let tables = server.query(&format!(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{database}' AND TABLE_TYPE = 'BASE TABLE'"
    ));
    tables
        .into_iter()
        .map(|row| {
            let name = String::from_utf8(row[0].clone().unwrap()).unwrap();
            let count = server.query_value(&format!("SELECT COUNT(*) FROM `{database}`.`{name}`")).unwrap();
            let sum = server.query(&format!("CHECKSUM TABLE `{database}`.`{name}`"))[0][1].clone().unwrap();
            (name, (count, String::from_utf8(sum).unwrap()))
        })
        .collect()
}

/// The source's binlog files, oldest first, up to `last`.
pub fn binlog_files_up_to(source: &MariaDb, last: &str) -> Vec<PathBuf> {
    let names: Vec<String> = source
        .query("SHOW BINARY LOGS")
        .into_iter()
        .map(|r| String::from_utf8(r[0].clone().unwrap()).unwrap())
        .collect();
    let upto = names.iter().position(|n| n == last).expect("the binlog file is on the server");
    names[..=upto].iter().map(|n| source.dir().join("data").join(n)).collect()
}

/// Replay the source's binlog up to `pos` of `file` into `oracle`, with MariaDB's own tools.
pub fn replay_binlog(source: &MariaDb, file: &str, pos: u64, oracle: &MariaDb) {
    let files = binlog_files_up_to(source, file);
    let mut binlog = Command::new("mariadb-binlog")
        .arg("--no-defaults")
        .arg(format!("--stop-position={pos}"))
        .args(&files)
        .stdout(Stdio::piped())
        .spawn()
        .expect("mariadb-binlog (apt-get install mariadb-client)");
    let status = Command::new("mariadb")
        .args(["--no-defaults", "--protocol=TCP", "-h127.0.0.1", "-uroot", "--binary-mode"])
        .arg(format!("-P{}", oracle.port()))
        .stdin(binlog.stdout.take().expect("piped"))
        .status()
        .expect("mariadb client");
    assert!(binlog.wait().unwrap().success(), "mariadb-binlog failed");
    assert!(status.success(), "replaying the binlog into the oracle failed");
}

/// Remove `dir` when the test process exits: for what is made once per process and shared by
/// its tests (a static is never dropped).
pub fn remove_at_exit(dir: PathBuf) {
    static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    extern "C" fn remove_all() {
        for dir in DIRS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    let mut dirs = DIRS.lock().unwrap_or_else(|p| p.into_inner());
    if dirs.is_empty() {
        // SAFETY: registering a plain extern "C" fn.
        unsafe { libc::atexit(remove_all) };
    }
    dirs.push(dir);
}
