//! `hoist log start --storage s3://...` against a private MariaDB and a private moto server:
//! killed with `SIGKILL` at seeded moments under a writer and restarted, the log in the bucket
//! holds exactly the server's transactions in its range (the oracle of `log_backup`); a second
//! writer on the same prefix is refused, and a writer whose lease another one took stops; a
//! restore point from a backup and a log both in S3 equals the source.
//! `HOIST_TEST_SEED=<seed>` replays the kill test's delays.

use std::path::Path;
use std::time::Duration;

use hoist_core::binlog::index::LogIndex;
use hoist_core::binlog::position::BinlogPos;
use hoist_testkit::mariadb::MariaDb;
use hoist_testkit::s3::S3Server;

use crate::crash::{seed, Proc};
use crate::log_backup::{assert_log_is_the_servers, kill_rounds, master_status, wait_for, writer_server};
use crate::util::{assert_refused, table_sums, Run};

const BUCKET: &str = "logs";
const PREFIX: &str = "db1";
/// The writer's tables but its MyISAM one, whose rows come from rolled-back transactions only.
const TABLES: [&str; 3] = ["lw.k", "lw.nk", "lw.big"];

fn index(s3: &S3Server) -> Option<LogIndex> {
    let bytes = s3.get(BUCKET, &format!("{PREFIX}/hoist-log.json"))?;
    Some(serde_json::from_slice(&bytes).expect("the index is JSON"))
}

fn index_end(s3: &S3Server) -> Option<BinlogPos> {
    index(s3).and_then(|i| i.end())
}

fn env(s3: &S3Server) -> Vec<(&'static str, String)> {
    s3.env()
}

fn spawn(s3: &S3Server, args: &[String], log: &Path) -> Proc {
    let env = env(s3);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Proc::spawn_with(args, log, &env)
}

fn hoist_s3(s3: &S3Server, args: &[&str]) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hoist"));
    cmd.args(args).env("HOIST_LOG", "info").env("NO_COLOR", "1");
    for (k, v) in env(s3) {
        cmd.env(k, v);
    }
    Run { output: cmd.output().expect("run hoist") }
}

fn log_args(server: &MariaDb, url: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> =
        ["log", "start", "--source", &server.url(), "--storage", url].map(String::from).to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// SIGTERM once the log in S3 holds the server's whole binlog: the open segment is put.
fn catch_up_and_stop(server: &MariaDb, s3: &S3Server, run: &mut Proc) {
    let target = master_status(server);
    assert!(
        wait_for(Duration::from_secs(60), || index_end(s3).as_ref() == Some(&target)),
        "the log did not reach the server's position {target} (it is at {:?}):\n{}",
        index_end(s3),
        run.tail()
    );
    run.signal(libc::SIGTERM);
    let status = run.wait_for(Duration::from_secs(30)).expect("log start ends after SIGTERM");
    assert!(status.success(), "SIGTERM is a log's normal end (exit 0):\n{}", run.tail());
    assert_eq!(index_end(s3), Some(target));
}

#[test]
fn log_to_s3_killed_at_seeded_moments_holds_every_transaction_once_and_restores() {
    let test = "log_to_s3_killed_at_seeded_moments";
    let seed = seed(test);
    let s3 = S3Server::start();
    s3.create_bucket(BUCKET);
    s3.create_bucket("backups");
    let server = &writer_server();
    let work = tempfile::tempdir().unwrap();
    let url = s3.url(BUCKET, PREFIX);
    let start = master_status(server);
    // A segment is put every second (or 256 KiB): a kill loses at most the open one.
    let args = log_args(
        server,
        &url,
        &["--start-pos", &start.to_string(), "--segment-size", "256KiB", "--segment-interval", "1"],
    );
    let backup = s3.url("backups", "lw");
    let server_url = server.url();
    let run_log = |run: usize| spawn(&s3, &args, &work.path().join(format!("run{run}.log")));
    // The backup is taken while the first run logs, so the log covers its position on.
    let take_backup = |run: usize| {
        if run == 1 {
            let mut args = vec!["backup", "--source", &server_url, "--storage", &backup];
            args.extend(TABLES.iter().flat_map(|t| ["--tables", t]));
            hoist_s3(&s3, &args).assert_ok();
        }
    };
    let delay = Duration::from_millis(1500);
    kill_rounds(test, seed, server, 3, delay, run_log, || index_end(&s3), &start, take_backup);
    let mut last = spawn(&s3, &args, &work.path().join("last.log"));
    catch_up_and_stop(server, &s3, &mut last);
    let keys = s3.list(BUCKET, &format!("{PREFIX}/"));
    assert!(!keys.iter().any(|k| k.ends_with("hoist-log.lock")), "a clean stop lets the lease go: {keys:?}");

    // The bucket's log, read back with the local oracle: exactly the server's transactions.
    let copy = work.path().join("copy");
    s3.download_dir(BUCKET, PREFIX, &copy);
    let n = assert_log_is_the_servers(server, &copy);
    assert!(n > 100, "the writer's transactions are in the log: {n}");
    let index = index(&s3).unwrap();
    assert!(index.segments.iter().any(|s| s.rotated_to.is_some()), "a rotation happened: {index:?}");
    // Each killed run grew the index (kill_rounds checks it), so it closed a segment at least,
    // and the last run closed one at its stop: four at the least, whatever the timing.
    assert!(index.segments.len() >= 4, "segments closed by time and size: {}", index.segments.len());

    let status = hoist_s3(&s3, &["log", "status", "--storage", &url]);
    status.assert_ok();
    let end = index.end().unwrap();
    assert!(status.text().contains(&format!("covers {start} .. {end}")), "{}", status.text());
    assert!(status.text().contains("log s3://logs/db1 of"), "{}", status.text());

    // A restore point from the S3 backup and the S3 log, to the log's end: the source.
    let target = MariaDb::start();
    let pos = end.to_string();
    let target_url = target.url();
    let mut args = vec!["restore", "point", "--full-backup-storage", &backup, "--storage", &url];
    args.extend(["--target", &target_url, "--restored-pos", &pos]);
    args.extend(TABLES.iter().flat_map(|t| ["--tables", t]));
    let out = hoist_s3(&s3, &args);
    out.assert_ok();
    assert!(out.text().contains("the log in s3://logs/db1 covers"), "{}", out.text());
    let mut want = table_sums(server, "lw");
    want.remove("m");
    assert_eq!(table_sums(&target, "lw"), want, "restore point from S3 equals the source");
}

#[test]
fn a_second_writer_on_the_prefix_is_refused_and_a_writer_whose_lease_is_taken_stops() {
    let s3 = S3Server::start();
    s3.create_bucket(BUCKET);
    let server = MariaDb::start();
    server.exec("CREATE DATABASE w; CREATE TABLE w.t (a INT)");
    let work = tempfile::tempdir().unwrap();
    let url = s3.url(BUCKET, PREFIX);
    let start = master_status(&server).to_string();
    let args = log_args(&server, &url, &["--segment-interval", "1", "--start-pos", &start]);
    let mut first = spawn(&s3, &args, &work.path().join("first.log"));
    server.exec("INSERT INTO w.t VALUES (1)");
    assert!(wait_for(Duration::from_secs(30), || index_end(&s3).is_some()), "{}", first.tail());

    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let second = hoist_s3(&s3, &argv);
    let pid = format!("pid {}", first.pid());
    assert_refused(&second, &["s3://logs/db1 is in use by another hoist log start", &pid, "another prefix"]);
    assert!(first.wait_for(Duration::ZERO).is_none(), "the first writer goes on:\n{}", first.tail());

    // Another host takes the lease over (as after the first one hung past its TTL): the
    // first writer's next renewal fails its If-Match, and it stops, putting nothing at its stop.
    let lease = work.path().join("lease.json");
    std::fs::write(&lease, br#"{"host": "elsewhere", "pid": 1, "started": "2026-12-02 00:00:00"}"#).unwrap();
    s3.put(BUCKET, &format!("{PREFIX}/hoist-log.lock"), &lease);
    server.exec("INSERT INTO w.t VALUES (2)");
    let status = first.wait_for(Duration::from_secs(30)).expect("the writer whose lease was taken stops");
    assert_eq!(status.code(), Some(2), "{}", first.tail());
    let out = first.output();
    assert!(out.contains("s3://logs/db1") && out.contains("pid 1 on elsewhere") && out.contains("took over"), "{out}");
    assert!(!out.contains("log stopped:"), "it did not stop as a clean stop does:\n{out}");
    let copy = work.path().join("copy");
    s3.download_dir(BUCKET, PREFIX, &copy);
    assert!(assert_log_is_the_servers(&server, &copy) >= 1, "what it put is a whole log");
}
