//! Faults of the world around an import (issue 10, point 11): the target's disk fills, the
//! checkpoint's disk fills, the server refuses connections, a data file changes under the run.
//! Each either goes on or stops with a message that says what happened and what to do; the
//! checkpoint stays consistent; and the run after the fix is exact: every table holds the
//! source's rows (count and a checksum over every row).
//!
//! The disks are small tmpfs mounts the tests make (`mount` needs root, as CI runs: without it
//! a test fails and says so, it does not skip).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hoist_testkit::dump::{write_dump, ColType, ColumnSpec, Dataset, DumpSpec};
use hoist_testkit::mariadb::{MariaDb, ServerOptions};
use hoist_testkit::rows::{mysql_table_sum, sum_rows};

use crate::crash::Proc;
use crate::util::{import, Run};

const MIB: u64 = 1 << 20;

// ----------------------------------------------------------------- mounts --

/// A tmpfs mounted on a directory for one test, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, bytes: u64) -> Tmpfs {
        fs::create_dir_all(dir).expect("create the mount point");
        mount(&["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs", path_str(dir)]);
        Tmpfs { dir: dir.to_path_buf() }
    }

    /// Grow or shrink it (not below what it holds).
    fn resize(&self, bytes: u64) {
        mount(&["-o", &format!("remount,size={bytes}"), path_str(&self.dir)]);
    }

    /// Bytes in use and bytes free.
    fn usage(&self) -> (u64, u64) {
        let path = std::ffi::CString::new(path_str(&self.dir)).unwrap();
        // SAFETY: statvfs(3) with a valid C string and a zeroed out-struct.
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::statvfs(path.as_ptr(), &mut s) }, 0, "statvfs {}", self.dir.display());
        let block = s.f_frsize;
        ((s.f_blocks - s.f_bfree) * block, s.f_bavail * block)
    }

    /// Write a file until the disk is full.
    fn fill(&self) {
        use std::io::Write;
        let mut f = fs::File::create(self.dir.join("filler")).expect("create the filler");
        for size in [64 << 10, 4 << 10, 1] {
            let block = vec![b'x'; size];
            while f.write_all(&block).is_ok() {}
        }
        let _ = f.sync_all();
        assert_eq!(self.usage().1, 0, "the disk is full");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount").arg(&self.dir).status().is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

fn mount(args: &[&str]) {
    let out = Command::new("mount").args(args).output().expect("run mount");
    assert!(
        out.status.success(),
        "mount {} failed: {}\nthe fault tests mount small tmpfs disks: run them as root (CAP_SYS_ADMIN), as CI does",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

// ------------------------------------------------------------------ checks --

/// Every table of `data` holds exactly the source's rows.
#[track_caller]
fn assert_exact(server: &MariaDb, data: &Dataset) {
    for t in &data.tables {
        let got = mysql_table_sum(&server.url(), &data.database, &t.name, &t.columns);
        assert_eq!(got, t.sum(), "`{}`.`{}` holds exactly the source's rows", data.database, t.name);
    }
}

#[track_caller]
fn assert_says(run: &Run, code: i32, says: &[&str]) {
    let text = run.text();
    assert_eq!(run.code(), Some(code), "exit code {code}:\n{text}");
    for s in says {
        assert!(text.contains(s), "the message should say {s:?}:\n{text}");
    }
    assert!(!text.contains("panicked"), "no panic:\n{text}");
}

/// The run a background `hoist` made, as [`Run`].
fn finished(mut p: Proc, timeout: Duration) -> Run {
    let status = p.wait_for(timeout).unwrap_or_else(|| panic!("hoist did not stop in {timeout:?}:\n{}", p.tail()));
    let text = p.output();
    Run { output: std::process::Output { status, stdout: text.into_bytes(), stderr: Vec::new() } }
}

/// Wait until `done` holds (polled), at most `timeout`.
#[track_caller]
fn wait_until(what: &str, timeout: Duration, p: &Proc, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "{what}: not within {timeout:?}\n{}", p.tail());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Rows in the target's tables of `data` so far (those created yet).
fn rows_in(server: &MariaDb, data: &Dataset) -> u64 {
    let db = &data.database;
    let created =
        server.query(&format!("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}'"));
    created
        .into_iter()
        .map(|row| String::from_utf8(row[0].clone().unwrap()).unwrap())
        .filter(|name| data.tables.iter().any(|t| &t.name == name))
        .map(|name| {
            server.query_value(&format!("SELECT COUNT(*) FROM `{db}`.`{name}`")).unwrap().parse::<u64>().unwrap()
        })
        .sum()
}

fn args(src: &Path, target: &str, checkpoint: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["import", "--source", path_str(src), "--target", target, "--checkpoint"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(checkpoint.display().to_string());
    args.extend(["--progress", "log"].iter().map(|s| s.to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn spec(database: &str, rows: usize, files_per_table: usize) -> DumpSpec {
    DumpSpec { rows, files_per_table, statement_bytes: 4096, ..DumpSpec::new(database) }
}

// ------------------------------------------------------------------ faults --

/// Tables `t0`, `t1` of `database` (an int key, an indexed int, a varchar of 60 to 160 bytes),
/// each in two files of 50,000 rows: 27 MB of SQL, 40 MB in InnoDB.
fn big_tables_dump(dir: &Path, database: &str) -> (PathBuf, Dataset) {
    let src = dir.join("dump");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join(format!("{database}-schema-create.sql")), format!("CREATE DATABASE `{database}`;\n")).unwrap();
    let mut rng = crate::crash::Rng::new(7);
    let columns = vec![
        ColumnSpec { name: "id".into(), ty: ColType::Int },
        ColumnSpec { name: "k".into(), ty: ColType::Int },
        ColumnSpec { name: "v".into(), ty: ColType::Text },
    ];
    let mut tables = Vec::new();
    for t in ["t0", "t1"] {
        fs::write(
            src.join(format!("{database}.{t}-schema.sql")),
            format!("CREATE TABLE `{t}` (`id` int NOT NULL, `k` int, `v` varchar(200), PRIMARY KEY (`id`), KEY `k` (`k`));\n"),
        )
        .unwrap();
        let mut rows = Vec::new();
        let mut files = Vec::new();
        for f in 0..2u64 {
            let mut sql = String::new();
            let start = rows.len();
            for id in f * 50_000..(f + 1) * 50_000 {
                let (k, pad) = (rng.below(1_000_000), rng.below(100) as usize + 50);
                rows.push(vec![
                    Some(id.to_string().into_bytes()),
                    Some(k.to_string().into_bytes()),
                    Some(format!("value {id} of {t} {}", "y".repeat(pad)).into_bytes()),
                ]);
            }
            for part in rows[start..].chunks(30) {
                let tuples: Vec<String> = part
                    .iter()
                    .map(|r| {
                        let [id, k, v] = [0, 1, 2].map(|i| String::from_utf8(r[i].clone().unwrap()).unwrap());
                        format!("({id},{k},'{v}')")
                    })
                    .collect();
                sql.push_str(&format!("INSERT INTO `{t}` VALUES {};\n", tuples.join(",")));
            }
            let file = src.join(format!("{database}.{t}.{f:05}.sql"));
            fs::write(&file, sql).unwrap();
            files.push(file);
        }
        tables.push(hoist_testkit::dump::TableData {
            name: t.into(),
            create_sql: String::new(),
            columns: columns.clone(),
            rows,
            data_files: files,
        });
    }
    (src, Dataset { database: database.into(), tables })
}

/// A server whose datadir is a tmpfs of its own with `free` bytes left (the binary log is on
/// another disk: on a full one, MariaDB waits for space instead of failing).
fn server_on_small_disk(work: &Path, free: u64) -> (Tmpfs, MariaDb) {
    let disk = Tmpfs::mount(&work.join("datadir"), 512 * MIB);
    let server = MariaDb::start_with(ServerOptions { datadir: Some(disk.dir.clone()), ..Default::default() });
    disk.resize(disk.usage().0 + free);
    (disk, server)
}

/// The target's datadir disk has 16 MB left for a dump of 40 MB in InnoDB. MariaDB 10.11
/// answers ERROR 1114 "The table 'x' is full" (its error log: InnoDB could not extend the
/// table's file, error 28). hoist stops at once with the table, the full disk and what to do,
/// records no table error, and the run after the disk has grown is exact.
#[test]
fn the_targets_disk_fills() {
    let work = tempfile::tempdir().unwrap();
    let (disk, server) = server_on_small_disk(work.path(), 16 * MIB);
    let (src, data) = big_tables_dump(work.path(), "fault_disk");
    let url = server.url();

    let run = import(&src, &url, work.path(), &["--batch-size", "64KiB"]);
    assert_says(
        &run,
        2,
        &[
            "`fault_disk`.`t",
            ": writing fault_disk.t",
            "the target's disk is full (ERROR 1114: The table 't",
            "is full): free space",
        ],
    );
    assert!(run.text().contains("run the same command to resume"), "says what to do next:\n{}", run.text());
    assert!(!run.text().contains("FAILED"), "no table is blamed:\n{}", run.text());
    let log = server.error_log_tail(200);
    assert!(log.contains("failed with error 28"), "MariaDB could not grow a file (ENOSPC):\n{log}");
    assert!(!log.contains("[FATAL]"), "MariaDB answered and went on:\n{log}");
    assert!(rows_in(&server, &data) > 0, "some rows were in before the disk filled");

    disk.resize(disk.usage().0 + 512 * MIB);
    let again = import(&src, &url, work.path(), &["--batch-size", "64KiB"]);
    again.assert_ok();
    assert!(again.text().contains("by earlier runs"), "the rerun resumed:\n{}", again.text());
    assert_exact(&server, &data);
}

/// The target's datadir disk fills while its tables are small (4 MB left for 7 MB of SQL over
/// five tables): InnoDB then finds no free extent even to roll the failed statement back, and
/// mariadbd aborts ("[FATAL] InnoDB: Error (Out of disk space) in rollback"; its source says
/// "easiest to crash the database and restart with more file space"). hoist sees a lost server
/// (or, from a statement that rolled back in time, ERROR 1114) and stops, recording nothing;
/// with the disk grown and the server restarted (crash recovery), the same command is exact.
#[test]
fn the_targets_disk_fills_and_mariadb_aborts() {
    let work = tempfile::tempdir().unwrap();
    let (disk, server) = server_on_small_disk(work.path(), 4 * MIB);
    let src = work.path().join("dump");
    let data = write_dump(&spec("fault_abort", 12_000, 2), &src);
    let url = server.url();

    let run = import(&src, &url, work.path(), &["--batch-size", "64KiB", "--max-retries", "2"]);
    assert_says(&run, 2, &["run the same command to resume"]);
    assert!(!run.text().contains("FAILED"), "no table is blamed:\n{}", run.text());
    // Mostly mariadbd aborts; when the failed statement rolled back in time (a loaded machine
    // makes that likelier) the run stopped at its ERROR 1114 instead. Either way nothing is blamed.
    let log = server.error_log_tail(300);
    let aborted = log.contains("[FATAL] InnoDB: Error (Out of disk space) in rollback");
    assert!(
        aborted || run.text().contains("the target's disk is full"),
        "mariadbd aborted or said so:\n{log}\n{}",
        run.text()
    );

    disk.resize(disk.usage().0 + 512 * MIB);
    server.restart();
    let again = import(&src, &url, work.path(), &["--batch-size", "64KiB"]);
    again.assert_ok();
    assert_exact(&server, &data);
}

/// The SQLite checkpoint is on a disk that fills while rows load (another program's file takes
/// the rest). The next save of progress gets SQLITE_FULL: hoist stops at once, naming the
/// checkpoint file and its full disk; once the disk has grown, the same command resumes and the
/// target is exact.
#[test]
fn the_checkpoints_disk_fills() {
    let server = MariaDb::shared();
    let work = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(&work.path().join("cp"), 2 * MIB);
    let checkpoint = disk.dir.join("checkpoint.db");
    let src = work.path().join("dump");
    let data = write_dump(&spec("fault_cp", 6_000, 2), &src);
    let url = server.url();
    let args = args(&src, &url, &checkpoint, &["--batch-size", "16KiB", "--region-concurrency", "2"]);

    // Batches slowed down, so that the disk fills while rows load.
    let p =
        Proc::spawn_with(&args, &work.path().join("run1.log"), &[("HOIST_FAILPOINTS", "import.batch-committed=50ms")]);
    wait_until("rows loading", Duration::from_secs(30), &p, || rows_in(server, &data) > 0);
    disk.fill();
    let run = finished(p, Duration::from_secs(30));
    assert_says(&run, 2, &[path_str(&checkpoint), "the disk that holds this file is full", "free space on it"]);
    assert!(run.text().contains("run the same command to resume"), "says what to do next:\n{}", run.text());
    assert!(rows_in(server, &data) < data.total_rows() as u64, "it stopped before the end:\n{}", run.text());

    disk.resize(64 * MIB);
    let again = Proc::spawn_with(&args, &work.path().join("run2.log"), &[]);
    let again = finished(again, Duration::from_secs(60));
    again.assert_ok();
    assert!(again.text().contains("by earlier runs"), "the rerun resumed:\n{}", again.text());
    assert_exact(server, &data);
}

/// `Aborted_connects`: connections the server refused (also after authentication, which
/// `Connection_errors_max_connections` does not count) or that failed to log in.
fn aborted_connects(server: &MariaDb) -> u64 {
    let rows = server.query("SHOW GLOBAL STATUS LIKE 'Aborted_connects'");
    String::from_utf8(rows[0][1].clone().unwrap()).unwrap().parse().unwrap()
}

/// The server allows fewer connections than `--region-concurrency` asks for: an account's
/// MAX_USER_CONNECTIONS (ERROR 1226), then the server's max_connections (ERROR 1040). The
/// refused workers give their chunks back and try again later; the run finishes on the
/// connections the server allows, and says so. (A first try with `max_connections = 2` saw no
/// refusal: MariaDB raises it to its minimum, 10; root's SUPER gets a connection beyond it; and
/// a worker connects only once it has a chunk. So: an account without SUPER, and more chunks
/// and workers than the limit.)
#[test]
fn connections_refused_at_the_servers_limit() {
    let server = MariaDb::start();
    // Slow batches: each chunk holds its connection long enough for the others to be refused.
    for (case, limit, user, concurrency, batch, pause) in [
        ("MAX_USER_CONNECTIONS 2", "max_user_connections", "capped", "4", "16KiB", "import.batch-committed=20ms"),
        ("max_connections = 10", "max_connections", "plain", "16", "4KiB", "import.batch-committed=50ms"),
    ] {
        let database = format!("fault_{user}");
        let grant = match user {
            "capped" => "WITH MAX_USER_CONNECTIONS 2",
            _ => "",
        };
        server.exec(&format!(
            "CREATE USER '{user}'@'127.0.0.1'; GRANT ALL ON `{database}`.* TO '{user}'@'127.0.0.1' {grant}; \
             GRANT ALL ON `hoist_meta`.* TO '{user}'@'127.0.0.1'"
        ));
        if user == "plain" {
            server.exec("SET GLOBAL max_connections = 10");
        }
        let work = tempfile::tempdir().unwrap();
        let src = work.path().join("dump");
        // Enough chunks for every worker: five tables of four files.
        let data = write_dump(&spec(&database, 3_000, 4), &src);
        let url = format!("mysql://{user}@127.0.0.1:{}", server.port());
        let refused_before = aborted_connects(&server);
        let args =
            args(&src, &url, &work.path().join("cp.db"), &["--batch-size", batch, "--region-concurrency", concurrency]);
        let p = Proc::spawn_with(&args, &work.path().join("run.log"), &[("HOIST_FAILPOINTS", pause)]);
        let run = finished(p, Duration::from_secs(50));
        run.assert_ok();
        let text = run.text();
        assert!(aborted_connects(&server) > refused_before, "{case}: the server refused connections:\n{text}");
        let refusal = match limit {
            "max_user_connections" => "ERROR 1226: User 'capped' has exceeded the 'max_user_connections' resource",
            _ => "ERROR 1040: Too many connections",
        };
        assert!(text.contains(refusal), "{case}: says what the server answered:\n{text}");
        let note = format!("note: the server refused connections at its {limit}");
        assert!(text.contains(&note), "{case}: the summary says the run had fewer connections:\n{text}");
        assert!(text.contains(&format!("raise {limit} on the server, or lower --region-concurrency")), "{text}");
        assert!(!text.contains("FAILED"), "{case}: no table failed:\n{text}");
        assert_exact(&server, &data);
    }
}

/// One table in one file of 45,000 rows (2.9 MB), in statements of 200 rows.
fn one_file_dump(dir: &Path, database: &str) -> (PathBuf, PathBuf, Dataset) {
    let src = dir.join("dump");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join(format!("{database}-schema-create.sql")), format!("CREATE DATABASE `{database}`;\n")).unwrap();
    fs::write(
        src.join(format!("{database}.t-schema.sql")),
        "CREATE TABLE `t` (`id` int NOT NULL, `v` varchar(100), PRIMARY KEY (`id`));\n",
    )
    .unwrap();
    let rows: Vec<(u32, String)> =
        (0..45_000).map(|k| (k, format!("value {k} of the table that is cut short"))).collect();
    let mut sql = String::new();
    for part in rows.chunks(200) {
        let tuples: Vec<String> = part.iter().map(|(k, v)| format!("({k},'{v}')")).collect();
        sql.push_str(&format!("INSERT INTO `t` VALUES {};\n", tuples.join(",")));
    }
    let file = src.join(format!("{database}.t.00000.sql"));
    fs::write(&file, sql).unwrap();
    let columns =
        vec![ColumnSpec { name: "id".into(), ty: ColType::Int }, ColumnSpec { name: "v".into(), ty: ColType::Text }];
    let values =
        rows.iter().map(|(k, v)| vec![Some(k.to_string().into_bytes()), Some(v.clone().into_bytes())]).collect();
    let table = hoist_testkit::dump::TableData {
        name: "t".into(),
        create_sql: String::new(),
        columns,
        rows: values,
        data_files: vec![file.clone()],
    };
    (src, file, Dataset { database: database.into(), tables: vec![table] })
}

/// A data file cut short while hoist reads it, at a statement boundary. (Before: the reader
/// took the new end for the file's, and the run ended "all tables ok" with half the rows; cut
/// inside a statement, the table failed with a parse error.) hoist stops, naming the file and
/// saying it changed during the run; a rerun with the file as it is now is refused, naming it;
/// with the file put back as it was, the rerun resumes and is exact.
#[test]
fn a_data_file_cut_short_during_the_run() {
    let server = MariaDb::shared();
    let work = tempfile::tempdir().unwrap();
    let (src, file, data) = one_file_dump(work.path(), "fault_cut");
    let original = fs::read(&file).unwrap();
    let modified = fs::metadata(&file).unwrap().modified().unwrap();
    // A statement boundary past the reader's first 1 MiB window, which it reads at once.
    let cut = original.iter().skip(1_500_000).position(|&b| b == b'\n').unwrap() + 1_500_001;
    let url = server.url();
    let args = args(&src, &url, &work.path().join("cp.db"), &["--batch-size", "64KiB"]);

    let p =
        Proc::spawn_with(&args, &work.path().join("run1.log"), &[("HOIST_FAILPOINTS", "import.batch-committed=100ms")]);
    wait_until("rows loading", Duration::from_secs(30), &p, || rows_in(server, &data) > 0);
    fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(cut as u64).unwrap();
    let run = finished(p, Duration::from_secs(30));
    let changed = format!("fault_cut.t.00000.sql changed during the run (size {} -> {cut} bytes", original.len());
    assert_says(
        &run,
        2,
        &["`fault_cut`.`t`", &changed, "Put the file back as it was", "run the same command to resume"],
    );
    assert!(!run.text().contains("FAILED"), "no table error is recorded:\n{}", run.text());
    let loaded = rows_in(server, &data);
    assert!(loaded > 0 && loaded < 45_000, "stopped part way: {loaded} rows");
    assert_eq!(
        mysql_table_sum(&url, "fault_cut", "t", &data.tables[0].columns),
        sum_rows(data.tables[0].rows[..loaded as usize].iter().cloned()),
        "the rows loaded are the first ones of the file as it was, once each"
    );

    let refused = crate::util::hoist(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_says(&refused, 2, &["fault_cut.t.00000.sql was modified", "restore the file as it was"]);

    fs::write(&file, &original).unwrap();
    fs::File::options().write(true).open(&file).unwrap().set_modified(modified).unwrap();
    let again = crate::util::hoist(&args.iter().map(String::as_str).collect::<Vec<_>>());
    again.assert_ok();
    assert!(again.text().contains("by earlier runs"), "the rerun resumed:\n{}", again.text());
    assert_exact(server, &data);
}
