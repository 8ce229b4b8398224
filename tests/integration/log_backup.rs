//! `hoist log start` / `hoist log status` against private MariaDB servers: the log killed with
//! `SIGKILL` at seeded moments under a writer, and a server restart under it, must hold every
//! transaction of the server's binlog in the range it covers exactly once (the same events,
//! read from both sides with hoist's binlog reader), in segments `mariadb-binlog` reads; and
//! each refusal names its fix. `HOIST_TEST_SEED=<seed>` replays a kill test's delays.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hoist_core::binlog::file::{Item, TransactionReader};
use hoist_core::binlog::index::LogIndex;
use hoist_core::binlog::position::BinlogPos;
use hoist_testkit::mariadb::MariaDb;

use crate::crash::{seed, Proc, Rng};
use crate::util::{assert_refused, hoist};

/// One upstream transaction, as either side holds it: where it ends upstream, its GTID, and
/// its events (type, upstream position, body).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Txn {
    end: BinlogPos,
    gtid: Option<String>,
    events: Vec<(u8, u32, Vec<u8>)>,
}

/// The transactions of a binlog file (a server's or a segment), up to `bytes` of it.
fn transactions_of(path: &Path, upstream_file: &str, bytes: Option<u64>) -> Vec<Txn> {
    let mut reader = TransactionReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    loop {
        let item = match reader.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) => panic!("{}: {:?}", path.display(), hoist_core::error::SourceError::from(e).to_string()),
        };
        if let Item::Transaction(t) = item {
            if bytes.is_some_and(|b| t.end > b) {
                break;
            }
            let events =
                t.events.iter().map(|e| (e.header.type_code, e.header.log_pos, e.event.data().to_vec())).collect();
            out.push(Txn { end: BinlogPos::new(upstream_file, t.end_pos), gtid: t.gtid, events });
        }
    }
    out
}

pub(crate) fn read_index(dir: &Path) -> Option<LogIndex> {
    let bytes = std::fs::read(dir.join("hoist-log.json")).ok()?;
    Some(serde_json::from_slice(&bytes).expect("the index is JSON"))
}

pub(crate) fn index_end(dir: &Path) -> Option<BinlogPos> {
    read_index(dir).and_then(|i| i.end())
}

pub(crate) fn master_status(server: &MariaDb) -> BinlogPos {
    let row = &server.query("SHOW MASTER STATUS")[0];
    let text = |i: usize| String::from_utf8(row[i].clone().unwrap()).unwrap();
    BinlogPos::new(text(0), text(1).parse().unwrap())
}

/// Check the log in `dir` against the server's own binlog files: every segment reads with
/// `mariadb-binlog`, and the segments hold exactly the server's transactions from the log's
/// start to its end, each once, with the same events. Returns how many.
pub(crate) fn assert_log_is_the_servers(server: &MariaDb, dir: &Path) -> usize {
    let index = read_index(dir).expect("an index");
    let mut held = Vec::new();
    for s in &index.segments {
        let path = dir.join(&s.name);
        let out = std::process::Command::new("mariadb-binlog").arg("--no-defaults").arg(&path).output().unwrap();
        assert!(out.status.success(), "mariadb-binlog {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        held.extend(transactions_of(&path, &s.server_file, Some(s.bytes)));
    }
    let first = index.segments.first().unwrap().start_pos();
    let last = index.end().unwrap();
    // Each segment continues the one before it (in its file, or after the file's end).
    let covering = index.cover(&first, Some(&last)).unwrap_or_else(|gap| panic!("{gap}: {index:#?}"));
    assert_eq!(covering.len(), index.segments.len(), "{index:#?}");
    let mut upstream = Vec::new();
    for row in server.query("SHOW BINARY LOGS") {
        let name = String::from_utf8(row[0].clone().unwrap()).unwrap();
        let all = transactions_of(&server.dir().join("data").join(&name), &name, None);
        upstream.extend(all.into_iter().filter(|t| t.end > first && t.end <= last));
    }
    let mut gtids: Vec<_> = held.iter().filter_map(|t| t.gtid.clone()).collect();
    gtids.sort();
    gtids.dedup();
    assert_eq!(gtids.len(), held.len(), "a GTID is held twice, or a transaction has none");
    if held != upstream {
        let at = held.iter().zip(&upstream).position(|(a, b)| a != b).unwrap_or(held.len().min(upstream.len()));
        panic!(
            "the log holds {} transactions, the server's binlog {} in {first} .. {last}; first difference at #{at}:\n\
             log:    {:?}\nserver: {:?}",
            held.len(),
            upstream.len(),
            held.get(at).map(|t| (&t.end, &t.gtid, t.events.len())),
            upstream.get(at).map(|t| (&t.end, &t.gtid, t.events.len()))
        );
    }
    held.len()
}

/// Poll until `cond` holds; false after `limit`.
pub(crate) fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

pub(crate) fn log_args(server: &MariaDb, dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> =
        ["log", "start", "--source", &server.url(), "--storage", dir.to_str().unwrap()].map(String::from).to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Stop a log run the normal way (SIGTERM) once it holds the server's whole binlog.
pub(crate) fn catch_up_and_stop(server: &MariaDb, dir: &Path, run: &mut Proc) {
    let target = master_status(server);
    assert!(
        wait_for(Duration::from_secs(60), || index_end(dir).as_ref() == Some(&target)),
        "the log did not reach the server's position {target} (it is at {:?}):\n{}",
        index_end(dir),
        run.tail()
    );
    run.signal(libc::SIGTERM);
    let status = run.wait_for(Duration::from_secs(30)).expect("log start ends after SIGTERM");
    assert!(status.success(), "SIGTERM is a log's normal end (exit 0):\n{}", run.tail());
    assert!(run.output().contains("log stopped:"), "{}", run.tail());
    assert_eq!(index_end(dir), Some(target), "the index's end is the server's position");
}

/// A writer's round `i`: small transactions of every kind, and now and then a big one, a
/// rolled-back one (which also wrote a MyISAM table, so the server logs it with ROLLBACK),
/// a DDL and a binlog rotation.
fn writer_round(i: usize) -> String {
    let mut sql = String::from("USE lw;\n");
    for j in 0..10 {
        let n = i * 10 + j;
        sql.push_str(&format!(
            "START TRANSACTION; INSERT INTO k (v) VALUES ('v{n}'); UPDATE k SET v = CONCAT(v, '+') WHERE id = {};\n\
             DELETE FROM k WHERE id = {}; INSERT INTO nk VALUES ({}, 'dup'), ({}, 'dup'); COMMIT;\n\
             DO SLEEP(0.01);\n",
            n / 2 + 1,
            n / 3 + 1,
            n % 7,
            n % 7
        ));
    }
    match i {
        3 => sql
            .push_str("START TRANSACTION; INSERT INTO big SELECT seq, REPEAT('b', 300) FROM seq_1_to_5000; COMMIT;\n"),
        6 => sql.push_str("FLUSH BINARY LOGS;\n"),
        8 => sql.push_str("ALTER TABLE k ADD COLUMN extra INT NULL;\n"),
        _ if i % 4 == 1 => sql.push_str(&format!(
            "START TRANSACTION; INSERT INTO k (v) VALUES ('gone{i}'); INSERT INTO m VALUES ({i}); ROLLBACK;\n"
        )),
        _ => {}
    }
    sql
}

/// Rounds of [`writer_round`] until `stop` (and at least `min` rounds); returns how many.
fn write_until(server: &MariaDb, min: usize, stop: &AtomicBool) -> usize {
    let mut i = 0;
    while i < min || !stop.load(Ordering::SeqCst) {
        server.client_sql(None, &writer_round(i));
        i += 1;
    }
    i
}

/// `runs` runs of `log start` (`spawn(run)`), each killed with SIGKILL a seeded moment (up to
/// `delay`) after the log's end (`end()`) moved past where the run found it, while the writer's
/// rounds go on. `during(run)` runs once the run made something durable. Asserts that every
/// kill landed in a run that had grown the log, while the writer wrote.
#[allow(clippy::too_many_arguments)]
pub(crate) fn kill_rounds(
    test: &str,
    seed: u64,
    server: &MariaDb,
    runs: usize,
    delay: Duration,
    mut spawn: impl FnMut(usize) -> Proc,
    end: impl Fn() -> Option<BinlogPos>,
    start: &BinlogPos,
    mut during: impl FnMut(usize),
) {
    let mut rng = Rng::new(seed);
    let stop_writer = AtomicBool::new(false);
    let (kills, rounds) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| write_until(server, 12, &stop_writer));
        // A failed assertion below must stop the writer, or the scope would wait for it forever.
        let _stop = StopOnDrop(&stop_writer);
        let mut kills = Vec::new();
        for run in 1..=runs {
            let before = end().unwrap_or_else(|| start.clone());
            let mut proc = spawn(run);
            // Kill only a run that made something durable of its own, while the writer writes.
            let wrote = wait_for(Duration::from_secs(30), || end().is_some_and(|e| e != before));
            assert!(wrote, "{test}: seed {seed}: run {run} wrote nothing within 30 s:\n{}", proc.tail());
            during(run);
            std::thread::sleep(rng.between(Duration::ZERO, delay));
            assert!(proc.wait_for(Duration::ZERO).is_none(), "{test}: run {run} ended by itself:\n{}", proc.tail());
            let writing = !writer.is_finished();
            proc.kill9();
            kills.push((before, end(), writing));
        }
        stop_writer.store(true, Ordering::SeqCst);
        (kills, writer.join().unwrap())
    });
    eprintln!(
        "{test}: seed {seed} (replay with HOIST_TEST_SEED={seed}): {} kills, writer rounds {rounds}",
        kills.len()
    );
    for (i, (before, after, writing)) in kills.iter().enumerate() {
        assert!(writing, "{test}: seed {seed}: kill {i} came after the writer had finished");
        assert_ne!(Some(before), after.as_ref(), "kill {i}: the log had grown in that run");
    }
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

pub(crate) fn writer_server() -> MariaDb {
    let server = MariaDb::start();
    server.exec(
        "CREATE DATABASE lw; CREATE TABLE lw.k (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT); \
         CREATE TABLE lw.nk (a INT, b TEXT); CREATE TABLE lw.big (id INT PRIMARY KEY, pad TEXT); \
         CREATE TABLE lw.m (a INT) ENGINE=MyISAM",
    );
    server
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("hoist-log-").tempdir().unwrap()
}

#[test]
fn log_start_killed_at_seeded_moments_holds_every_event_of_the_binlog_once() {
    let test = "log_start_killed_at_seeded_moments";
    let seed = seed(test);
    let server = &writer_server();
    let work = scratch();
    let dir = work.path().join("log");
    let start = master_status(server);
    // The same command every time, with --start-pos: a rerun continues the log it began.
    let args = log_args(server, &dir, &["--start-pos", &start.to_string(), "--segment-size", "256KiB"]);
    let spawn = |run: usize| Proc::spawn(&args, &work.path().join(format!("run{run}.log")));
    kill_rounds(test, seed, server, 4, Duration::from_millis(900), spawn, || index_end(&dir), &start, |_| {});

    let mut last = Proc::spawn(&args, &work.path().join("last.log"));
    catch_up_and_stop(server, &dir, &mut last);
    let n = assert_log_is_the_servers(server, &dir);
    assert!(n > 100, "the writer's transactions are in the log: {n}");
    let index = read_index(&dir).unwrap();
    assert!(index.segments.iter().any(|s| s.rotated_to.is_some()), "a rotation happened: {index:?}");
    assert!(
        index.segments.iter().any(|s| s.bytes > 1_000_000),
        "the 5000-row transaction is in one segment: {index:?}"
    );

    // What log status says of it, with and without the server.
    let status = hoist(&["log", "status", "--storage", dir.to_str().unwrap(), "--source", &server.url()]);
    status.assert_ok();
    let text = status.text();
    let end = index.end().unwrap().to_string();
    for says in [format!("covers {start} .. {end}"), "GTIDs 0-1-".into(), " UTC".into(), "0 bytes, 0 files, 0 s".into()]
    {
        assert!(text.contains(&says), "log status should say {says:?}:\n{text}");
    }
    assert!(text.contains(&index.segments[0].name), "a line per segment:\n{text}");
    let status = hoist(&["log", "status", "--storage", dir.to_str().unwrap()]);
    status.assert_ok();
    assert!(status.text().contains(&format!("covers {start} .. {end}")), "{}", status.text());
}

#[test]
fn log_start_reconnects_across_a_server_restart_and_holds_every_transaction_once() {
    let server = &writer_server();
    let work = scratch();
    let dir = work.path().join("log");
    let mut run = Proc::spawn(&log_args(server, &dir, &[]), &work.path().join("run.log"));
    assert!(wait_for(Duration::from_secs(20), || index_end(&dir).is_some()), "{}", run.tail());
    server.client_sql(None, &writer_round(0));
    server.client_sql(None, &writer_round(3));
    server.restart();
    server.client_sql(None, &writer_round(1));
    server.client_sql(None, &writer_round(5));
    catch_up_and_stop(server, &dir, &mut run);
    let out = run.output();
    assert!(out.contains("lost the source") && out.contains("reconnected"), "{out}");
    // The file the server closed at its shutdown ends with a stop event, not a rotate: its
    // segment still names the file that follows.
    let index = read_index(&dir).unwrap();
    assert!(index.segments.iter().any(|s| s.rotated_to.is_some()), "{index:#?}");
    assert!(assert_log_is_the_servers(server, &dir) >= 20);
}

#[test]
fn log_start_refuses_what_it_cannot_keep_and_names_the_fix() {
    let server = MariaDb::start();
    let work = scratch();
    let dir = |name: &str| work.path().join(name).to_str().unwrap().to_string();
    let start = |url: &str, storage: &str, extra: &[&str]| {
        let mut args = vec!["log", "start", "--source", url, "--storage", storage];
        args.extend_from_slice(extra);
        hoist(&args)
    };
    let url = server.url();

    server.exec("SET GLOBAL binlog_format = STATEMENT");
    let run = start(&url, &dir("a"), &[]);
    assert_refused(&run, &["binlog_format = STATEMENT", "SET GLOBAL binlog_format = ROW", "under [mysqld]"]);
    server.exec("SET GLOBAL binlog_format = ROW; SET GLOBAL binlog_row_image = MINIMAL");
    assert_refused(&start(&url, &dir("a"), &[]), &["binlog_row_image = MINIMAL", "SET GLOBAL binlog_row_image = FULL"]);
    server.exec("SET GLOBAL binlog_row_image = FULL");

    server.exec("CREATE USER nr@'%' IDENTIFIED BY 'secret-pw'; GRANT REPLICATION CLIENT ON *.* TO nr@'%'");
    server.exec("CREATE USER none@'%' IDENTIFIED BY 'secret-pw'");
    let grant = |user: &str| format!("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'%'");
    for user in ["nr", "none"] {
        let url = format!("mysql://{user}:secret-pw@127.0.0.1:{}", server.port());
        let run = start(&url, &dir(user), &[]);
        assert_refused(&run, &[&grant(user)]);
        assert!(!run.text().contains("secret-pw"), "no password in:\n{}", run.text());
        assert!(read_index(Path::new(&dir(user))).is_none(), "a refused start writes no log");
    }

    server.exec("CREATE DATABASE r; CREATE TABLE r.t (a INT); INSERT INTO r.t VALUES (1)");
    server.exec("FLUSH BINARY LOGS; INSERT INTO r.t VALUES (2); FLUSH BINARY LOGS");
    let third = master_status(&server).file;
    server.exec(&format!("PURGE BINARY LOGS TO '{third}'"));
    // (The server keeps a file its storage engines still need for crash recovery.)
    let oldest = String::from_utf8(server.query("SHOW BINARY LOGS")[0][0].clone().unwrap()).unwrap();
    assert_ne!(oldest, "binlog.000001", "PURGE BINARY LOGS removed the first file");
    let run = start(&url, &dir("p"), &["--start-pos", "binlog.000001:4"]);
    assert_refused(&run, &["binlog.000001", &format!("its oldest binlog is {oldest}"), "purged"]);

    // A start by GTID (as a backup's manifest records it): the log begins right after it, and
    // the same command continues it. A GTID the server purged is refused.
    server.exec("INSERT INTO r.t VALUES (10)");
    let gtid = server.query_value("SELECT @@gtid_binlog_pos").unwrap();
    server.exec("INSERT INTO r.t VALUES (11)");
    let g = work.path().join("g");
    for (round, insert) in [(1, "INSERT INTO r.t VALUES (12)"), (2, "DELETE FROM r.t WHERE a = 12")] {
        let mut run =
            Proc::spawn(&log_args(&server, &g, &["--start-gtid", &gtid]), &work.path().join(format!("g{round}.log")));
        assert!(wait_for(Duration::from_secs(20), || index_end(&g).is_some()), "{}", run.tail());
        server.exec(insert);
        catch_up_and_stop(&server, &g, &mut run);
        assert_eq!(assert_log_is_the_servers(&server, &g), round + 1, "from the GTID on: the insert of 11, then ours");
    }
    let first = transactions_of(&g.join(&read_index(&g).unwrap().segments[0].name), "", None);
    assert_ne!(first[0].gtid.as_deref(), Some(gtid.as_str()), "the GTID given is before the log");
    assert_refused(&start(&url, &dir("g2"), &["--start-gtid", "0-1-1"]), &["0-1-1", "purged"]);

    // A log of this server, then another server into the same directory, and a start that is
    // not the log's.
    let log = dir("mine");
    let mut run = Proc::spawn(&log_args(&server, Path::new(&log), &[]), &work.path().join("mine.log"));
    server.exec("INSERT INTO r.t VALUES (3)");
    catch_up_and_stop(&server, Path::new(&log), &mut run);
    let other = MariaDb::start();
    let run = start(&other.url(), &log, &[]);
    let ours = read_index(Path::new(&log)).unwrap().cluster_id;
    assert_refused(&run, &[&ours, "mariadb:", "a log directory holds one server's binlog", "new directory"]);
    let run = start(&url, &log, &["--start-pos", &format!("{third}:4")]);
    assert_refused(&run, &["does not continue the log", "run the command without it"]);
}
