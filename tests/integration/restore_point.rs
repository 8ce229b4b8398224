//! `hoist restore point` against private MariaDB servers: a source takes a scripted workload
//! in two phases (DML of every kind, then DDL), `hoist backup` runs during phase 1, and the
//! restore to a point equals the oracle: the source's own binlog replayed by
//! `mariadb-binlog --stop-position` into a fresh server, table by table (count and checksum).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use hoist_testkit::mariadb::MariaDb;

use crate::util::{assert_refused, binlog_files_up_to, hoist, replay_binlog, table_sums, Run};

/// Databases the workload writes.
const DATABASES: [&str; 2] = ["pitr", "pitr_new"];

/// The seed: tables of every kind the issue names, before the backup.
fn seed_sql() -> String {
    let mut sql = String::from(
        "CREATE DATABASE pitr; USE pitr;\n\
         CREATE TABLE k (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(200) CHARACTER SET utf8mb4, n INT, KEY (n));\n\
         CREATE TABLE s (code VARCHAR(20) PRIMARY KEY, qty INT UNSIGNED, note TEXT);\n\
         CREATE TABLE nk (a INT, b VARCHAR(10));\n\
         CREATE TABLE types (id BIGINT UNSIGNED PRIMARY KEY, d DECIMAL(20,6), bits BIT(12), blob_v BLOB, \
           js JSON, f FLOAT, db DOUBLE, ts TIMESTAMP(3) NULL, dt DATETIME(6), tm TIME, e ENUM('x','y','z'), \
           st SET('a','b','c'), u8 VARCHAR(20) CHARACTER SET utf8mb4, ti TINYINT UNSIGNED);\n\
         CREATE TABLE gone (id INT PRIMARY KEY, v INT);\n\
         CREATE TABLE cut (id INT PRIMARY KEY, v INT);\n\
         CREATE TABLE old_name (id INT PRIMARY KEY, v INT);\n",
    );
    for i in 0..500 {
        sql.push_str(&format!("INSERT INTO k (v, n) VALUES ('seed{i}', {i});\n"));
    }
    sql.push_str(
        "INSERT INTO gone VALUES (1, 1), (2, 2); INSERT INTO cut VALUES (1, 1); INSERT INTO old_name VALUES (1, 1);\n",
    );
    sql
}

/// Phase 1: inserts, updates (also of keys), deletes, REPLACE, keyless duplicates, a big
/// transaction, rolled-back ones, values of every type.
fn phase1_sql(transactions: usize) -> String {
    let mut sql = String::from("USE pitr;\n");
    for i in 0..transactions {
        let end = if i % 10 == 9 { "ROLLBACK" } else { "COMMIT" };
        sql.push_str(&format!(
            "START TRANSACTION;\n\
             INSERT INTO k (v, n) VALUES ('w{i} \u{00e9}\u{4e2d}\u{1f600}', {i});\n\
             UPDATE k SET n = n + 1, v = CONCAT(v, '+') WHERE id = {};\n\
             DELETE FROM k WHERE id = {};\n\
             UPDATE k SET id = -1 - {i} WHERE id = {};\n\
             INSERT INTO nk VALUES ({}, 'dup'), ({}, 'dup'), ({}, 'DUP');\n\
             DELETE FROM nk WHERE a = {} AND b = 'dup' LIMIT 1;\n\
             UPDATE nk SET b = 'upd' WHERE a = {} LIMIT 1;\n\
             REPLACE INTO s VALUES ('c{}', {}, REPEAT('n', {}));\n\
             {end};\n",
            (i * 7) % 500 + 1,
            (i * 13) % 500 + 1,
            (i * 17) % 500 + 1,
            i % 50,
            i % 50,
            i % 50,
            (i + 25) % 50,
            (i + 10) % 50,
            i % 300,
            4_000_000_000u64 + i as u64,
            i % 200
        ));
        if i % 25 == 0 {
            sql.push_str(&format!(
                "INSERT INTO types VALUES ({id}, -12345678901234.{frac:06}, b'101010101010', 0x00ff{i:04x}, \
                 '{{\"k\": [1, \"\\\\u00e9\", {i}]}}', 0.1, 1e300, '2026-01-02 03:04:05.{ms:03}', \
                 '1000-01-01 00:00:00.000001', '-838:59:59', 'y', 'a,c', '\u{1f600}x', 255) \
                 ON DUPLICATE KEY UPDATE d = d + 1, ts = NULL, js = JSON_ARRAY({i}), st = '';\n",
                id = 18_446_744_073_709_551_000u64 + (i % 100) as u64,
                frac = i % 1_000_000,
                ms = i % 1000
            ));
        }
        if i == transactions / 2 {
            // One transaction of thousands of rows.
            sql.push_str("START TRANSACTION;\n");
            for j in 0..3000 {
                sql.push_str(&format!("INSERT INTO k (v, n) VALUES ('big{j}', {j});\n"));
            }
            sql.push_str("UPDATE k SET n = -n WHERE v LIKE 'big%';\nCOMMIT;\n");
        }
    }
    sql
}

/// Phase 2: DDL between DML: add and drop a column, create, rename, truncate and drop
/// tables, a new database.
fn phase2_sql() -> String {
    let mut sql = String::from("USE pitr;\n");
    sql.push_str("ALTER TABLE k ADD COLUMN extra VARCHAR(30) DEFAULT 'x';\n");
    sql.push_str("UPDATE k SET extra = CONCAT('e', id) WHERE id % 3 = 0;\n");
    sql.push_str("INSERT INTO k (v, n, extra) VALUES ('after-alter', 1, 'yes');\n");
    sql.push_str("CREATE TABLE fresh (id INT PRIMARY KEY, label VARCHAR(20));\n");
    sql.push_str("INSERT INTO fresh VALUES (1, 'one'), (2, 'two');\n");
    sql.push_str("RENAME TABLE old_name TO new_name;\n");
    sql.push_str("INSERT INTO new_name VALUES (2, 2);\n");
    sql.push_str("TRUNCATE TABLE cut;\nINSERT INTO cut VALUES (7, 7);\n");
    sql.push_str("DROP TABLE gone;\n");
    sql.push_str("ALTER TABLE s DROP COLUMN note;\n");
    sql.push_str("UPDATE s SET qty = qty + 1 WHERE code LIKE 'c1%';\n");
    sql.push_str("CREATE DATABASE pitr_new;\nCREATE TABLE pitr_new.t (id INT PRIMARY KEY, v TEXT);\n");
    sql.push_str("INSERT INTO pitr_new.t VALUES (1, 'new db');\n");
    sql.push_str("DELETE FROM nk WHERE a < 5;\n");
    sql
}

/// The source after the workload, with what each restore compares against.
struct Workload {
    source: MariaDb,
    backup: tempfile::TempDir,
    /// What `hoist log start` kept of the workload: run throughout, killed once in phase 1.
    segments: tempfile::TempDir,
    /// End of phase 1: position, commit time (epoch seconds), tables.
    phase1: (String, u64, u64, Sums),
    /// The GTID of phase 1's last transaction.
    gtid1: String,
    /// End of phase 2.
    phase2: (String, u64, Sums),
}

type Sums = Vec<(String, std::collections::BTreeMap<String, (String, String)>)>;

fn sums(server: &MariaDb) -> Sums {
    DATABASES.iter().map(|db| (db.to_string(), table_sums(server, db))).collect()
}

fn master_status(server: &MariaDb) -> (String, u64) {
    let row = &server.query("SHOW MASTER STATUS")[0];
    let file = String::from_utf8(row[0].clone().unwrap()).unwrap();
    let pos = String::from_utf8(row[1].clone().unwrap()).unwrap().parse().unwrap();
    (file, pos)
}

fn client(server: &MariaDb, script: &Path) -> std::process::Child {
    Command::new("mariadb")
        .args(["--no-defaults", "--protocol=TCP", "-h127.0.0.1", "-uroot", "--default-character-set=utf8mb4"])
        .arg(format!("-P{}", server.port()))
        .stdin(std::fs::File::open(script).unwrap())
        .spawn()
        .expect("mariadb client")
}

fn workload() -> &'static Workload {
    static W: OnceLock<Workload> = OnceLock::new();
    W.get_or_init(|| {
        let source = MariaDb::start();
        source.client_sql(None, &seed_sql());
        let dir = tempfile::tempdir().unwrap();
        let segments = tempfile::tempdir().unwrap();
        let log_dir = segments.path().join("log");
        let (file0, pos0) = master_status(&source);
        let log_args = crate::log_backup::log_args(&source, &log_dir, &["--start-pos", &format!("{file0}:{pos0}")]);
        let mut log = crate::crash::Proc::spawn(&log_args, &dir.path().join("log-1.log"));
        let script = dir.path().join("phase1.sql");
        std::fs::write(&script, phase1_sql(3000)).unwrap();
        let mut writer = client(&source, &script);
        // The backup runs while phase 1 writes.
        while source.query_value("SELECT COUNT(*) FROM pitr.nk").unwrap().parse::<u64>().unwrap() < 100 {
            std::thread::sleep(Duration::from_millis(20));
        }
        // log start is killed while phase 1 writes, and the same command goes on.
        assert!(
            crate::log_backup::wait_for(Duration::from_secs(30), || crate::log_backup::index_end(&log_dir).is_some()),
            "log start wrote nothing:\n{}",
            log.tail()
        );
        log.kill9();
        let mut log = crate::crash::Proc::spawn(&log_args, &dir.path().join("log-2.log"));
        let backup = tempfile::tempdir().unwrap();
        let url = source.url();
        hoist(&["backup", "--source", &url, "--storage", backup.path().to_str().unwrap(), "--tables", "pitr*.*"])
            .assert_ok();
        assert!(writer.try_wait().unwrap().is_none(), "phase 1 ended before the backup did: lengthen it");
        assert!(writer.wait().unwrap().success(), "phase 1 failed");
        let (file1, pos1) = master_status(&source);
        let time1: u64 = source.query_value("SELECT UNIX_TIMESTAMP()").unwrap().parse().unwrap();
        let sums1 = sums(&source);
        let gtid1 = source.query_value("SELECT @@gtid_binlog_pos").unwrap();
        // Phase 2 starts in a later second, so that a time tells the phases apart.
        while source.query_value("SELECT UNIX_TIMESTAMP()").unwrap().parse::<u64>().unwrap() <= time1 {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Phase 2 goes to the next binlog file: a log can then miss one of them.
        source.exec("FLUSH BINARY LOGS");
        let script = dir.path().join("phase2.sql");
        std::fs::write(&script, phase2_sql()).unwrap();
        assert!(client(&source, &script).wait().unwrap().success(), "phase 2 failed");
        let (file2, pos2) = master_status(&source);
        assert_ne!(file1, file2, "phase 2 is in a binlog file of its own");
        let sums2 = sums(&source);
        crate::log_backup::catch_up_and_stop(&source, &log_dir, &mut log);
        crate::log_backup::assert_log_is_the_servers(&source, &log_dir);
        Workload { source, backup, segments, phase1: (file1, pos1, time1, sums1), gtid1, phase2: (file2, pos2, sums2) }
    })
}

/// The source's binlog up to `pos` of `file` replayed by MariaDB's own tools into a fresh server.
fn oracle(source: &MariaDb, file: &str, pos: u64) -> MariaDb {
    let oracle = MariaDb::start();
    replay_binlog(source, file, pos, &oracle);
    oracle
}

/// The log `hoist log start` kept.
fn segments(w: &Workload) -> PathBuf {
    w.segments.path().join("log")
}

/// The log as a DBA keeps it: the source's binlog files copied into a directory.
fn plain_log(source: &MariaDb) -> PathBuf {
    static LOG: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = LOG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        for row in source.query("SHOW BINARY LOGS") {
            let name = String::from_utf8(row[0].clone().unwrap()).unwrap();
            std::fs::copy(source.dir().join("data").join(&name), dir.path().join(&name)).unwrap();
        }
        dir
    });
    dir.path().to_path_buf()
}

fn restore_point(target: &MariaDb, log: &Path, point: &[&str], extra: &[&str]) -> Run {
    let args = restore_point_args(target, log, point, extra);
    hoist(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn restores_to_the_end_of_phase_one_by_position_time_and_gtid() {
    let w = workload();
    let (file1, pos1, time1, sums1) = &w.phase1;
    let oracle = oracle(&w.source, file1, *pos1);
    assert_eq!(&sums(&oracle), sums1, "the oracle equals the source's state at the end of phase 1");
    let log = segments(w);

    let by_pos = MariaDb::start();
    let pos = format!("{file1}:{pos1}");
    let run = restore_point(&by_pos, &log, &["--restored-pos", &pos], &[]);
    run.assert_ok();
    assert!(run.text().contains("log replayed from"), "{}", run.text());
    assert_eq!(&sums(&by_pos), sums1, "restore point by position equals the oracle");

    // The same instant as a time in another zone: +08:00.
    let by_time = MariaDb::start();
    let local = w
        .source
        .query_value(&format!("SELECT CONVERT_TZ(FROM_UNIXTIME({time1}), @@session.time_zone, '+08:00')"))
        .unwrap();
    let ts = format!("{local}+08:00");
    restore_point(&by_time, &log, &["--restored-ts", &ts], &[]).assert_ok();
    assert_eq!(&sums(&by_time), sums1, "restore point by time equals the oracle");

    let by_gtid = MariaDb::start();
    restore_point(&by_gtid, &log, &["--restored-gtid", &w.gtid1], &[]).assert_ok();
    assert_eq!(&sums(&by_gtid), sums1, "restore point by GTID equals the oracle");

    // Run again: finished, nothing written.
    let again = restore_point(&by_pos, &log, &["--restored-pos", &pos], &[]);
    again.assert_ok();
    assert!(again.text().contains("already"), "{}", again.text());
    assert_eq!(&sums(&by_pos), sums1);
}

#[test]
fn restores_through_ddl_to_the_end_of_phase_two() {
    let w = workload();
    let (file2, pos2, sums2) = &w.phase2;
    let oracle = oracle(&w.source, file2, *pos2);
    assert_eq!(&sums(&oracle), sums2, "the oracle equals the source at the end of phase 2");
    let pos = format!("{file2}:{pos2}");
    // From log start's segments, and from the plain binlog files: the same log either way.
    for log in [segments(w), plain_log(&w.source)] {
        let target = MariaDb::start();
        restore_point(&target, &log, &["--restored-pos", &pos], &[]).assert_ok();
        assert_eq!(&sums(&target), sums2, "restore point through the DDL from {} equals the oracle", log.display());
    }

    // --tables applies to the log as to the snapshot: the new database's statements and rows
    // are left out, and so is every change of the tables not taken.
    let filtered = MariaDb::start();
    let run = restore_point(
        &filtered,
        &plain_log(&w.source),
        &["--restored-pos", &pos],
        &["--tables", "pitr.k", "--tables", "pitr.fresh"],
    );
    run.assert_ok();
    let want: std::collections::BTreeMap<_, _> =
        sums2[0].1.iter().filter(|(t, _)| *t == "k" || *t == "fresh").map(|(t, v)| (t.clone(), v.clone())).collect();
    assert_eq!(table_sums(&filtered, "pitr"), want, "only the tables taken, each equal to the oracle's");
    assert_eq!(
        filtered
            .query_value("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'pitr_new'")
            .unwrap(),
        "0",
        "the new database is outside --tables"
    );
    assert!(run.text().contains("were left out"), "{}", run.text());
}

#[test]
fn another_backup_is_refused_naming_both() {
    let w = workload();
    let (file1, pos1, ..) = &w.phase1;
    let target = MariaDb::start();
    let log = plain_log(&w.source);
    kill_in_first_ddl(&target, &log);
    // A second backup of the same source: another backup_ts.
    let second = tempfile::tempdir().unwrap();
    let url = w.source.url();
    hoist(&["backup", "--source", &url, "--storage", second.path().to_str().unwrap(), "--tables", "pitr*.*"])
        .assert_ok();
    let mut args = restore_point_args(&target, &log, &["--restored-pos", &format!("{file1}:{pos1}")], &[]);
    let at = args.iter().position(|a| a == "--full-backup-storage").unwrap();
    args[at + 1] = second.path().display().to_string();
    let run = hoist(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_refused(&run, &["another backup", "recorded", "given", "hoist restore clean"]);
}

/// The arguments of [`restore_point`].
fn restore_point_args(target: &MariaDb, log: &Path, point: &[&str], extra: &[&str]) -> Vec<String> {
    let w = workload();
    let mut args: Vec<String> = ["restore", "point", "--full-backup-storage"].map(String::from).to_vec();
    args.push(w.backup.path().display().to_string());
    args.extend(["--storage".to_string(), log.display().to_string(), "--target".into(), target.url()]);
    args.extend(["--progress", "log"].map(String::from));
    args.extend(point.iter().chain(extra).map(|s| s.to_string()));
    args
}

/// Whether the log stage's marker in `target` says a DDL statement was begun.
fn ddl_begun(target: &MariaDb) -> bool {
    target
        .query_value(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'hoist_meta' AND TABLE_NAME = 'hoist_progress'",
        )
        .is_some_and(|n| n == "1")
        && target
            .query_value("SELECT COUNT(*) FROM hoist_meta.hoist_progress WHERE chunk_id = -1 AND stmt_start IS NOT NULL")
            .is_some_and(|n| n != "0")
}

/// A restore to the end of phase 2 killed while its first DDL statement runs.
fn kill_in_first_ddl(target: &MariaDb, log: &Path) {
    let (file2, pos2, _) = &workload().phase2;
    let args = restore_point_args(target, log, &["--restored-pos", &format!("{file2}:{pos2}")], &[]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args(&args)
        .env("HOIST_LOG", "warn")
        .env("HOIST_FAILPOINTS", "restore-point.ddl-started=60s")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !ddl_begun(target) {
        assert!(child.try_wait().unwrap().is_none(), "the restore ended before its first DDL statement");
        assert!(started.elapsed() < Duration::from_secs(120), "no DDL statement begun after 120 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn another_restored_point_is_refused_naming_both_and_clean_leads_to_it() {
    let w = workload();
    let (file1, pos1, _, sums1) = &w.phase1;
    let (file2, pos2, _) = &w.phase2;
    let target = MariaDb::start();
    let log = plain_log(&w.source);
    kill_in_first_ddl(&target, &log);
    let first = format!("{file2}:{pos2}");
    let other = format!("{file1}:{pos1}");
    let run = restore_point(&target, &log, &["--restored-pos", &other], &[]);
    assert_refused(&run, &[&first, &other, "hoist restore clean"]);
    let clean = crate::util::follow(&run.text(), "hoist restore clean");
    clean.assert_ok();
    // What the killed run's log stage created is not the restore's own: clean leaves it.
    for db in DATABASES {
        target.exec(&format!("DROP DATABASE IF EXISTS {db}"));
    }
    restore_point(&target, &log, &["--restored-pos", &other], &[]).assert_ok();
    assert_eq!(&sums(&target), sums1);
}

#[test]
fn a_log_that_does_not_reach_the_point_is_refused_before_anything_is_written() {
    let w = workload();
    let (file2, pos2, _) = &w.phase2;
    let target = MariaDb::start();
    let beyond = format!("{file2}:{}", pos2 + 1_000_000);
    let run = restore_point(&target, &plain_log(&w.source), &["--restored-pos", &beyond], &[]);
    assert_refused(&run, &["the log ends at", &beyond, "nothing was written"]);
    assert_eq!(
        target.query_value("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'pitr%'").unwrap(),
        "0"
    );

    // A log without the file the backup's position is in: a gap at the start.
    let (file1, ..) = &w.phase1;
    let partial = tempfile::tempdir().unwrap();
    std::fs::copy(plain_log(&w.source).join(file2), partial.path().join(file2)).unwrap();
    let run = restore_point(&target, partial.path(), &["--restored-pos", &format!("{file2}:{pos2}")], &[]);
    assert_refused(&run, &["the log starts at", &format!("{file2}:4"), "missing"]);
    // A log that ends with phase 1 cannot reach the end of phase 2.
    let first_only = tempfile::tempdir().unwrap();
    for path in binlog_files_up_to(&w.source, file1) {
        let name = path.file_name().unwrap();
        std::fs::copy(plain_log(&w.source).join(name), first_only.path().join(name)).unwrap();
    }
    let run = restore_point(&target, first_only.path(), &["--restored-pos", &format!("{file2}:{pos2}")], &[]);
    assert_refused(&run, &["the log ends at", "nothing was written"]);
}

// ------------------------------------------------------------------ kills --

/// Where a killed run stood, from the marker in the target and the run's last failpoint.
fn phase_after_kill(target: &MariaDb, output: &str) -> &'static str {
    let has_meta = target
        .query_value(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'hoist_meta' AND TABLE_NAME = 'hoist_progress'",
        )
        .is_some_and(|n| n == "1");
    let log_marker = has_meta
        && target
            .query_value("SELECT COUNT(*) FROM hoist_meta.hoist_progress WHERE chunk_id = -1")
            .is_some_and(|n| n != "0");
    if !log_marker {
        return "snapshot";
    }
    if !ddl_begun(target) {
        return "log";
    }
    match output.lines().rev().find_map(|l| l.split("failpoint ").nth(1)) {
        Some(f) if f.starts_with("restore-point.ddl-ran") => "ddl-ran",
        _ => "ddl-started",
    }
}

/// `kill -9` of `restore point` at seeded moments: in the snapshot phase, in the log phase,
/// and inside DDL statements (before and after the statement ran, between its markers).
/// After the kills one run finishes, and the target equals the source at the end of phase 2.
#[test]
fn kill9_restore_point() {
    let w = workload();
    let (file2, pos2, sums2) = &w.phase2;
    let seed = crate::crash::seed("kill9_restore_point");
    let mut rng = crate::crash::Rng::new(seed);
    let kills = crate::crash::kills_wanted(15);
    let target = MariaDb::start();
    let log = plain_log(&w.source);
    let work = tempfile::tempdir().unwrap();
    // Small target transactions and short pauses keep the log phase long enough to be hit,
    // and a DDL's markers apart long enough to kill between them.
    let args =
        restore_point_args(&target, &log, &["--restored-pos", &format!("{file2}:{pos2}")], &["--batch-size", "16KiB"]);
    let failpoints = "restore-point.ddl-started=400ms,restore-point.ddl-ran=400ms,restore-point.committed=15ms";
    let env = [("HOIST_FAILPOINTS", failpoints)];
    let mut phases: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut history = Vec::new();
    for k in 0..kills {
        let run_log = work.path().join(format!("run-{k}.log"));
        let mut proc = crate::crash::Proc::spawn_with(&args, &run_log, &env);
        // The first kills go early (the snapshot), then into the log, then into DDL statements.
        let wanted = match k {
            0..=2 => "snapshot",
            _ if k % 2 == 1 => "log",
            _ => "ddl",
        };
        let started = std::time::Instant::now();
        let delay = match wanted {
            "snapshot" => rng.between(Duration::from_millis(30), Duration::from_millis(250)),
            _ => {
                // Wait until this run reaches the stage (its failpoint says so), then a
                // seeded moment inside it: for a DDL, its two pauses cover both windows.
                let sign = if wanted == "ddl" {
                    "failpoint restore-point.ddl-started"
                } else {
                    "failpoint restore-point.committed"
                };
                while !proc.output().contains(sign) && proc.wait_for(Duration::from_millis(10)).is_none() {}
                started.elapsed()
                    + match wanted {
                        "ddl" => rng.between(Duration::ZERO, Duration::from_millis(800)),
                        _ => rng.between(Duration::ZERO, Duration::from_millis(300)),
                    }
            }
        };
        if proc.wait_for(delay.saturating_sub(started.elapsed())).is_some() {
            history.push(format!("run {k}: finished before its kill ({wanted}, {} ms)", delay.as_millis()));
            break;
        }
        proc.kill9();
        let phase = phase_after_kill(&target, &proc.output());
        *phases.entry(phase).or_default() += 1;
        history.push(format!("run {k}: aimed at {wanted}, killed at {} ms in {phase}", delay.as_millis()));
    }
    eprintln!("kill9_restore_point: seed {seed}; kills: {phases:?}\n  {}", history.join("\n  "));
    let last = restore_point(&target, &log, &["--restored-pos", &format!("{file2}:{pos2}")], &[]);
    last.assert_ok();
    assert_eq!(
        &sums(&target),
        sums2,
        "seed {seed}: after the kills the target equals the source at the end of phase 2"
    );
    let killed: usize = phases.values().sum();
    assert!(killed >= kills, "seed {seed}: only {killed} of {kills} kills landed:\n  {}", history.join("\n  "));
    for phase in ["snapshot", "log", "ddl-started", "ddl-ran"] {
        assert!(
            phases.get(phase).is_some_and(|&n| n > 0),
            "seed {seed}: no kill in {phase}: {phases:?}\n  {}",
            history.join("\n  ")
        );
    }
}

#[test]
fn a_target_changed_under_the_log_stops_the_replay_naming_the_statement() {
    let w = workload();
    let (file2, pos2, _) = &w.phase2;
    let target = MariaDb::start();
    let log = plain_log(&w.source);
    kill_in_first_ddl(&target, &log);
    // Phase 2 updates every k row whose id is a multiple of 3 after its first DDL: take one away.
    let id = target.query_value("SELECT MIN(id) FROM pitr.k WHERE id % 3 = 0 AND id > 0").unwrap();
    target.exec(&format!("DELETE FROM pitr.k WHERE id = {id}"));
    let run = restore_point(&target, &log, &["--restored-pos", &format!("{file2}:{pos2}")], &[]);
    let text = run.text();
    assert!(!run.ok(), "{}", run.text());
    assert!(
        text.contains("affected") && text.contains("not the upstream's copy") && text.contains("UPDATE `pitr`.`k`"),
        "{text}"
    );
}
