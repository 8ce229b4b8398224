//! The status API (`--status-addr`, issue 11): each job is run as a user runs it and watched
//! as a monitor watches it, with a real HTTP client (reqwest), while it runs and once it is
//! done (the `status.finished` failpoint keeps the process, and so the API, up for a moment
//! after the summary). What a user checks:
//! - mid-run, the API says the job is under way, part done;
//! - at the end, its counts are the summary's (rows and MB per table, tables, chunks);
//! - `/metrics` is read by the Prometheus project's own OpenMetrics parser (Python's
//!   `prometheus_client`, which `.ci/run` installs), and its numbers are the JSON's;
//! - no response holds the password of a URL the job was given.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hoist_testkit::dump::{Compression, Format};
use hoist_testkit::mariadb::MariaDb;
use serde_json::Value;

use crate::util::sqlite_url;

const PASSWORD: &str = "st/at#u?s@p%w-XYZZY";
/// What every form of the password holds (raw and percent-encoded alike).
const MARK: &str = "XYZZY";
/// Pauses that stretch a run to seconds, and keep the API up after the summary.
const FINISHED: &str = "status.finished=6s";

/// A user with the password on `server`, and a URL that names it (escaped, as URLs must be).
fn user_url(server: &MariaDb) -> String {
    server.exec(&format!(
        "CREATE USER IF NOT EXISTS 'watched'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
         GRANT ALL ON *.* TO 'watched'@'127.0.0.1'"
    ));
    hoist_core::mysql_url::build("watched", Some(PASSWORD), "127.0.0.1", server.port()).unwrap()
}

/// A running `hoist` with `--status-addr 127.0.0.1:0`, its output collected as it comes.
struct Watched {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    base: String,
}

fn collect(from: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let into = text.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { return };
            let mut text = into.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    text
}

impl Watched {
    fn spawn(args: &[String], failpoints: &str) -> Watched {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hoist"))
            .args(args)
            .args(["--status-addr", "127.0.0.1:0"])
            .env("HOIST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("HOIST_FAILPOINTS", failpoints)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hoist");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        let mut watched = Watched { child, stdout, stderr, base: String::new() };
        let line = watched.wait_for_output(false, "status: listening on http://", Duration::from_secs(60));
        let at = &line[line.find("http://").unwrap()..];
        watched.base = at.split_whitespace().next().unwrap().to_string();
        watched
    }

    fn text(&self) -> String {
        format!("{}{}", self.stdout.lock().unwrap(), self.stderr.lock().unwrap())
    }

    /// The first line of stdout (or stderr) that holds `needle`, waiting for it.
    fn wait_for_output(&mut self, stdout: bool, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let text = if stdout { &self.stdout } else { &self.stderr }.lock().unwrap().clone();
            if let Some(line) = text.lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            assert!(Instant::now() < deadline, "no {needle:?} within {limit:?}:\n{}", self.text());
            assert!(self.child.try_wait().unwrap().is_none(), "hoist ended without {needle:?}:\n{}", self.text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A GET with a real HTTP client: status code, content type and body. No answer holds
    /// the password, in any form.
    fn get(&self, path: &str) -> (u16, String, String) {
        let url = format!("{}{path}", self.base);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (code, headers, body) = runtime.block_on(async {
            let response = reqwest::get(&url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
            let code = response.status().as_u16();
            let headers = response.headers().clone();
            (code, headers, response.text().await.unwrap())
        });
        let header_text = format!("{headers:?}");
        assert!(
            !header_text.contains(MARK) && !body.contains(MARK),
            "GET {path} holds the password:\n{header_text}\n{body}"
        );
        let content_type = headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        (code, content_type.unwrap_or_default().to_string(), body)
    }

    fn status(&self) -> Value {
        let (code, content_type, body) = self.get("/status");
        assert_eq!((code, content_type.as_str()), (200, "application/json"), "{body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("/status is not JSON ({e}):\n{body}"))
    }

    fn metrics(&self) -> Metrics {
        let (code, content_type, body) = self.get("/metrics");
        assert_eq!(code, 200, "{body}");
        assert!(content_type.starts_with("application/openmetrics-text; version=1.0.0"), "{content_type}");
        Metrics::parse(&body)
    }

    /// Poll `/status` until `cond` holds of it, and return it; the job must still be running.
    fn status_when(&mut self, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.status();
            if cond(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "no {what} within 60 s: {s:#}\n{}", self.text());
            assert!(self.child.try_wait().unwrap().is_none(), "the job ended before {what}: {s:#}\n{}", self.text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait(mut self) -> (ExitStatus, String) {
        let status = self.child.wait().unwrap();
        // The readers end at EOF, just after the exit.
        std::thread::sleep(Duration::from_millis(100));
        let text = self.text();
        (status, text)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The samples of `/metrics`, as the OpenMetrics parser of the Prometheus project reads them.
struct Metrics(Vec<(String, BTreeMap<String, String>, f64)>);

const PARSE: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        print(json.dumps([family.type, s.name, s.labels, s.value]))
"#;

impl Metrics {
    fn parse(text: &str) -> Metrics {
        let mut python = Command::new("python3")
            .args(["-c", PARSE])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 (with prometheus_client: pip install prometheus-client)");
        std::io::Write::write_all(&mut python.stdin.take().unwrap(), text.as_bytes()).unwrap();
        let out = python.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "the OpenMetrics parser refused /metrics: {said}\n{text}");
        let samples = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|line| {
                let (_, name, labels, value): (String, String, BTreeMap<String, String>, f64) =
                    serde_json::from_str(line).unwrap();
                (name, labels, value)
            })
            .collect();
        Metrics(samples)
    }

    /// The value of the sample `name` whose labels include `labels`; panics unless one.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<f64> = self
            .0
            .iter()
            .filter(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
            .map(|(_, _, v)| *v)
            .collect();
        assert_eq!(found.len(), 1, "{name}{labels:?} in {:#?}", self.0);
        found[0]
    }

    /// Per table, the value of `name`.
    fn by_table(&self, name: &str) -> BTreeMap<String, f64> {
        self.0.iter().filter(|(n, _, _)| n == name).map(|(_, l, v)| (l["table"].clone(), *v)).collect()
    }
}

/// The tables of a summary: name -> (rows, MB as printed).
fn summary_tables(stdout: &str) -> BTreeMap<String, (u64, String)> {
    stdout
        .lines()
        .filter(|l| l.starts_with('`'))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words[0].to_string(), (words[1].parse().unwrap(), words[2].to_string()))
        })
        .collect()
}

fn mb(bytes: &Value) -> String {
    format!("{:.1}", bytes.as_u64().unwrap() as f64 / 1e6)
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// The JSON and the metrics of a finished job against its summary: the same rows and MB per
/// table, and the same number of tables in each state.
fn assert_final_counts_are_the_summarys(s: &Value, m: &Metrics, stdout: &str, failed: u64) {
    let summary = summary_tables(stdout);
    let by_table: BTreeMap<String, (u64, String)> = s["by_table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap().to_string(), (u(&t["rows"]), mb(&t["bytes"]))))
        .collect();
    assert_eq!(by_table, summary, "per table, /status: {s:#}\nsummary:\n{stdout}");
    let rows: u64 = summary.values().map(|(rows, _)| rows).sum();
    assert_eq!(u(&s["rows"]["done"]), rows, "{s:#}");
    let tables = &s["tables"];
    let ok = summary.len() as u64 - failed;
    assert_eq!([u(&tables["total"]), u(&tables["done"]), u(&tables["failed"])], [summary.len() as u64, ok, failed]);
    assert_eq!([u(&tables["pending"]), u(&tables["running"]), u(&s["units"]["running"])], [0, 0, 0], "{s:#}");
    assert_eq!(s["errors"].as_array().unwrap().len() as u64, failed, "{s:#}");

    let job = s["job"].as_str().unwrap();
    let metric_rows = m.by_table("hoist_rows_total");
    assert_eq!(metric_rows.len(), summary.len());
    for (table, (rows, _)) in &summary {
        assert_eq!(metric_rows[table], *rows as f64, "{table}");
    }
    let bytes = m.by_table("hoist_bytes_total");
    for t in s["by_table"].as_array().unwrap() {
        assert_eq!(bytes[t["table"].as_str().unwrap()], u(&t["bytes"]) as f64, "{t}");
    }
    let state = s["state"].as_str().unwrap();
    let kind = s["kind"].as_str().unwrap();
    assert_eq!(m.value("hoist_job_info", &[("job", job), ("kind", kind), ("state", state)]), 1.0);
    assert_eq!(m.value("hoist_tables", &[("state", "done")]), ok as f64);
    assert_eq!(m.value("hoist_tables", &[("state", "failed")]), failed as f64);
    assert_eq!(m.value("hoist_units", &[("state", "done")]), u(&s["units"]["done"]) as f64);
    assert_eq!(m.value("hoist_errors_total", &[]), failed as f64);
}

/// Mid-run: rows moving, not all done; the metrics parse and agree that work is under way.
fn assert_mid_run(w: &mut Watched, kind: &str) -> u64 {
    let s = w.status_when("rows moving", |s| {
        s["state"] == "writing" && u(&s["rows"]["done"]) > 0 && u(&s["units"]["done"]) < u(&s["units"]["total"])
    });
    assert_eq!(s["kind"], kind, "{s:#}");
    let m = w.metrics();
    let rows: f64 = m.by_table("hoist_rows_total").values().sum();
    assert!(rows > 0.0, "{:#?}", m.0);
    assert!(m.value("hoist_units", &[("state", "pending")]) + m.value("hoist_units", &[("state", "running")]) > 0.0);
    assert_eq!(w.get("/nothing-here").0, 404);
    u(&s["rows"]["done"])
}

/// A job run to its end under the API: looked at mid-run ([`assert_mid_run`]), then read once
/// its summary says `end`.
struct Ended {
    mid_rows: u64,
    status: Value,
    metrics: Metrics,
    exit: ExitStatus,
    text: String,
}

fn run_to_the_end(args: &[String], failpoint: &str, kind: &str, end: &str) -> Ended {
    let mut w = Watched::spawn(args, &format!("{failpoint},{FINISHED}"));
    let mid_rows = assert_mid_run(&mut w, kind);
    w.wait_for_output(true, end, Duration::from_secs(120));
    let (status, metrics) = (w.status(), w.metrics());
    let (exit, text) = w.wait();
    Ended { mid_rows, status, metrics, exit, text }
}

impl Ended {
    /// A success: exit 0, `done`, and the counts of the summary.
    fn assert_done(&self) {
        assert!(self.exit.success(), "{}", self.text);
        assert_eq!(self.status["state"], "done", "{:#}", self.status);
        assert_final_counts_are_the_summarys(&self.status, &self.metrics, &self.text, 0);
    }
}

fn words(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn import_args(src: &Path, target: &str, work: &Path) -> Vec<String> {
    let (src, cp) = (src.to_str().unwrap(), work.join("checkpoint.db"));
    let args = words(&["import", "--source", src, "--target", target, "--checkpoint", cp.to_str().unwrap()]);
    [args, words(&["--progress", "log", "--batch-size", "16KiB", "--region-concurrency", "2"])].concat()
}

#[test]
fn an_import_into_sqlite_is_watched_mid_run_and_ends_with_the_summarys_counts() {
    let work = tempfile::tempdir().unwrap();
    let (src, data) = crate::util::dump(work.path(), "status_sqlite", Format::Sql, Compression::None);
    let db = work.path().join("target.db");
    let args = import_args(&src, &sqlite_url(&db), work.path());
    let run = run_to_the_end(&args, "import.batch-committed=40ms", "import", "all tables ok");
    run.assert_done();
    let s = &run.status;
    assert_eq!(s["job"], src.canonicalize().unwrap().display().to_string());
    assert_eq!(u(&s["rows"]["done"]), data.total_rows() as u64);
    assert!(run.mid_rows < data.total_rows() as u64, "the first look was mid-run: {}", run.mid_rows);
    assert_eq!(s["bytes"]["done"], s["bytes"]["total"], "{s:#}");
    assert_eq!(s["units"]["done"], s["units"]["total"], "{s:#}");
    assert_eq!(s["eta_seconds"].as_f64(), Some(0.0), "{s:#}");
    for t in &data.tables {
        assert_eq!(hoist_testkit::rows::sqlite_table_sum(&db, &t.name, &t.columns), t.sum(), "{}", t.name);
    }
}

#[test]
fn an_import_into_mariadb_with_a_failed_table_is_watched_without_its_password() {
    let server = MariaDb::shared();
    server.exec("DROP DATABASE IF EXISTS status_mariadb");
    let url = user_url(server);
    let work = tempfile::tempdir().unwrap();
    let (src, data) = crate::util::dump(work.path(), "status_mariadb", Format::Sql, Compression::None);
    // A table whose rows break its key: a table error, which the API lists.
    std::fs::write(src.join("status_mariadb.dup-schema.sql"), "CREATE TABLE `dup` (id INT PRIMARY KEY);\n").unwrap();
    std::fs::write(src.join("status_mariadb.dup.000000000.sql"), "INSERT INTO `dup` VALUES (1),(1);\n").unwrap();
    let mut args = import_args(&src, &url, work.path());
    args.extend(["--meta-schema", "status_mariadb_meta"].map(String::from));
    let run = run_to_the_end(&args, "import.batch-committed=40ms", "import", "1 table(s) failed");
    let s = &run.status;
    assert_eq!(run.exit.code(), Some(1), "{}", run.text);
    assert!(!run.text.contains(MARK), "{}", run.text);
    assert_eq!(s["state"], "failed", "{s:#}");
    assert_final_counts_are_the_summarys(s, &run.metrics, &run.text, 1);
    assert_eq!(s["errors"][0]["table"], "`status_mariadb`.`dup`", "{s:#}");
    assert!(s["errors"][0]["message"].as_str().unwrap().contains("Duplicate entry"), "{s:#}");
    let client = server.url();
    for t in &data.tables {
        let sum = hoist_testkit::rows::mysql_table_sum(&client, "status_mariadb", &t.name, &t.columns);
        assert_eq!(sum, t.sum(), "{}", t.name);
    }
}

/// A source database of one keyed table big enough for many chunks, and a small keyless one.
fn backup_source(server: &MariaDb, db: &str) {
    let mut sql = format!(
        "DROP DATABASE IF EXISTS `{db}`; CREATE DATABASE `{db}`; USE `{db}`;\n\
         CREATE TABLE k (id INT PRIMARY KEY, v VARCHAR(60));\nCREATE TABLE nk (a INT, b VARCHAR(10));\n"
    );
    for chunk in (0..40_000).collect::<Vec<_>>().chunks(2000) {
        let values: Vec<String> = chunk.iter().map(|i| format!("({i}, 'a value of row {i}')")).collect();
        sql.push_str(&format!("INSERT INTO k VALUES {};\n", values.join(",")));
    }
    sql.push_str("INSERT INTO nk VALUES (1, 'dup'), (1, 'dup'), (2, NULL);\nANALYZE TABLE k, nk;\n");
    server.client_sql(None, &sql);
}

#[test]
fn a_backup_and_its_restore_full_are_watched_and_end_with_the_summarys_counts() {
    let source = MariaDb::shared();
    backup_source(source, "status_backup");
    let work = tempfile::tempdir().unwrap();
    let storage = work.path().join("backup");
    let (url, to) = (user_url(source), storage.to_str().unwrap());
    let args = words(&["backup", "--source", &url, "--storage", to, "--tables", "status_backup.*"]);
    let args = [args, words(&["--chunk-size", "64KiB", "--threads", "1"])].concat();
    let run = run_to_the_end(&args, "backup.chunk-written=100ms", "backup", "backed up 2 tables");
    run.assert_done();
    let s = &run.status;
    // Each table's bytes are those of its files, as the manifest lists them.
    let manifest: Value = serde_json::from_slice(&std::fs::read(storage.join("backupmeta.json")).unwrap()).unwrap();
    let mut chunks = 0;
    for (t, meta) in s["by_table"].as_array().unwrap().iter().zip(manifest["tables"].as_array().unwrap()) {
        let files: u64 = meta["chunks"].as_array().unwrap().iter().map(|c| u(&c["bytes"])).sum();
        assert_eq!((u(&t["bytes"]), u(&t["rows"])), (files, u(&meta["rows"])), "{t}");
        chunks += meta["chunks"].as_array().unwrap().len() as u64;
    }
    assert!(chunks > 4, "many chunks: {chunks}");
    assert_eq!([u(&s["units"]["done"]), u(&s["units"]["total"])], [chunks, chunks], "{s:#}");
    assert_eq!(s["bytes"]["total"], Value::Null, "a backup does not know its size ahead");

    let target = MariaDb::start();
    let args = words(&["restore", "full", "--storage", to, "--target", &user_url(&target), "--progress", "log"]);
    let args = [args, words(&["--batch-size", "16KiB", "--region-concurrency", "2"])].concat();
    let run = run_to_the_end(&args, "import.batch-committed=40ms", "restore-full", "all tables ok");
    run.assert_done();
    let s = &run.status;
    let rows: u64 = manifest["tables"].as_array().unwrap().iter().map(|t| u(&t["rows"])).sum();
    assert_eq!((u(&s["rows"]["done"]), u(&s["rows"]["total"])), (rows, rows), "the manifest's rows: {s:#}");
    assert!(run.mid_rows < rows, "the first look was mid-run: {}", run.mid_rows);
    assert_eq!(crate::util::table_sums(&target, "status_backup"), crate::util::table_sums(source, "status_backup"));
}

fn master_status(server: &MariaDb) -> String {
    let row = &server.query("SHOW MASTER STATUS")[0];
    let text = |i: usize| String::from_utf8(row[i].clone().unwrap()).unwrap();
    format!("{}:{}", text(0), text(1))
}

#[test]
fn log_start_is_watched_at_its_position_and_lag() {
    let server = MariaDb::start();
    let url = user_url(&server);
    server.exec("CREATE DATABASE sl; CREATE TABLE sl.t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("log");
    let args = words(&["log", "start", "--source", &url, "--storage", dir.to_str().unwrap()]);
    let mut w = Watched::spawn(&args, FINISHED);
    w.status_when("streaming", |s| s["state"] == "streaming");
    for i in 0..20 {
        server.exec(&format!("INSERT INTO sl.t (v) VALUES ('row {i}')"));
    }
    let at = master_status(&server);
    // The log's durable end reaches the server's, and once the server has nothing newer to
    // send (a heartbeat), the log is caught up: no lag.
    let s = w.status_when("the server's position, caught up", |s| {
        s["log"]["position"] == at.as_str() && s["log"]["caught_up"] == true
    });
    assert_eq!(s["kind"], "log", "{s:#}");
    assert_eq!(u(&s["log"]["lag_seconds"]), 0, "{s:#}");
    assert_eq!(u(&s["log"]["transactions"]), 20, "the 20 inserts: {s:#}");
    assert!(s["log"]["last_commit"].as_u64().is_some() && s["log"]["gtid"].as_str().is_some(), "{s:#}");
    let m = w.metrics();
    assert_eq!(m.value("hoist_log_lag_seconds", &[]), 0.0);
    assert_eq!(m.value("hoist_log_transactions_total", &[]), 20.0);
    assert_eq!(m.value("hoist_log_last_commit_timestamp_seconds", &[]), s["log"]["last_commit"].as_f64().unwrap());

    // SIGTERM, a log's normal end: the summary and the API's last word agree.
    // SAFETY: kill(2) on our own child, which has not been reaped yet.
    assert_eq!(unsafe { libc::kill(w.child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let line = w.wait_for_output(true, "log stopped:", Duration::from_secs(30));
    let s = w.status();
    let (exit, text) = w.wait();
    assert!(exit.success(), "{text}");
    assert_eq!(s["state"], "done", "{s:#}");
    let added = format!("this run added {} transactions", u(&s["log"]["transactions"]));
    assert!(line.contains(&added), "{added:?} in {line:?}");
    let index = crate::log_backup::index_end(&dir).unwrap().to_string();
    assert_eq!((s["log"]["position"].as_str(), index.as_str()), (Some(at.as_str()), at.as_str()));
}

/// A port in use is refused before the job starts, from the flag and from the config alike,
/// and nothing is written.
#[test]
fn a_taken_status_port_is_refused_before_anything_is_done() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let work = tempfile::tempdir().unwrap();
    let (src, _) = crate::util::dump(work.path(), "status_taken", Format::Sql, Compression::None);
    let db = work.path().join("target.db");
    let config = work.path().join("hoist.toml");
    std::fs::write(&config, format!("[lightning]\nstatus-addr = {addr:?}\n")).unwrap();
    let args = import_args(&src, &sqlite_url(&db), work.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for extra in [["--status-addr", addr.as_str()], ["--config", config.to_str().unwrap()]] {
        let run = crate::util::hoist(&[args.as_slice(), extra.as_slice()].concat());
        crate::util::assert_refused(&run, &[&format!("cannot serve the status API on {addr}"), "another port"]);
        assert!(!db.exists() && !work.path().join("checkpoint.db").exists(), "{extra:?}: nothing is written");
    }
}
