//! `hoist backup` and `hoist restore full` against private MariaDB servers: what a user checks
//! is that the restored tables equal the source at the backup's instant (row count and
//! CHECKSUM TABLE of every table), and that each refusal says what differs and what to do.
//!
//! The oracle for "the state at the backup's position" is MariaDB's own tool: the source's
//! binlog replayed by `mariadb-binlog --stop-position` into a fresh server.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hoist_testkit::mariadb::MariaDb;

use crate::sakila::{objects, sakila_server};
use crate::util::{assert_refused, follow, hoist, import, replay_binlog, table_sums, Run};

/// The server restores go to (each test restores databases of its own name into it).
fn target_server() -> &'static MariaDb {
    static TARGET: OnceLock<MariaDb> = OnceLock::new();
    TARGET.get_or_init(MariaDb::start)
}

fn backup(source: &MariaDb, storage: &Path, extra: &[&str]) -> Run {
    let url = source.url();
    let mut args = vec!["backup", "--source", &url, "--storage", storage.to_str().unwrap()];
    args.extend_from_slice(extra);
    hoist(&args)
}

/// `restore full` with the checkpoint and markers in schemas named after `tag`.
fn restore_args(storage: &Path, target: &MariaDb, tag: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "restore",
        "full",
        "--storage",
        storage.to_str().unwrap(),
        "--target",
        &target.url(),
        "--checkpoint-schema",
        &format!("{tag}_cp"),
        "--meta-schema",
        &format!("{tag}_meta"),
        "--progress",
        "log",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn restore(storage: &Path, target: &MariaDb, tag: &str, extra: &[&str]) -> Run {
    let args = restore_args(storage, target, tag, extra);
    hoist(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn manifest(storage: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(storage.join("backupmeta.json")).expect("backupmeta.json")).expect("json")
}

/// A database `db` with a keyed table `t1` of `rows` rows and a keyless `t2` with duplicates.
fn small_database(server: &MariaDb, db: &str, rows: usize) {
    let mut sql = format!(
        "DROP DATABASE IF EXISTS `{db}`; CREATE DATABASE `{db}`; USE `{db}`;\n\
         CREATE TABLE t1 (id INT PRIMARY KEY, v VARCHAR(40), KEY (v));\n\
         CREATE TABLE t2 (a INT, b VARCHAR(10));\n"
    );
    for chunk in (0..rows).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|i| format!("({i}, 'value {i}')")).collect();
        sql.push_str(&format!("INSERT INTO t1 VALUES {};\n", values.join(",")));
    }
    sql.push_str("INSERT INTO t2 VALUES (1, 'dup'), (1, 'dup'), (2, NULL), (3, 'x');\n");
    // Fresh statistics, as after any ANALYZE: the backup sizes its chunks by them.
    sql.push_str("ANALYZE TABLE t1, t2;\n");
    server.client_sql(None, &sql);
}

fn spawn(args: &[String], log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args(args)
        .env("HOIST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
        .spawn()
        .expect("run hoist")
}

/// Poll `cond` every 10 ms until it holds (true) or `child` ends (false).
fn wait_while_running(child: &mut Child, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("neither the condition nor the end of the run came within 120 s");
}

fn count(server: &MariaDb, sql: &str) -> u64 {
    server.query_value(sql).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn table_exists(server: &MariaDb, db: &str, table: &str) -> bool {
    count(
        server,
        &format!(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}' AND TABLE_NAME = '{table}'"
        ),
    ) == 1
}

// ------------------------------------------------- consistency under writes --

/// Transactions that insert, update (also keys), delete and REPLACE across three tables, one
/// of them keyless with duplicate rows; every tenth is rolled back.
fn writer_script(transactions: usize) -> String {
    let mut sql = String::from("USE w;\n");
    for i in 0..transactions {
        let end = if i % 10 == 9 { "ROLLBACK" } else { "COMMIT" };
        sql.push_str(&format!(
            "START TRANSACTION;\n\
             INSERT INTO k (v, n) VALUES ('w{i}', {i});\n\
             UPDATE k SET n = n + 1, v = CONCAT(v, '+') WHERE id = {};\n\
             DELETE FROM k WHERE id = {};\n\
             UPDATE k SET id = -1 - {i} WHERE id = {};\n\
             INSERT INTO nk VALUES ({}, 'dup'), ({}, 'dup');\n\
             DELETE FROM nk WHERE a = {} LIMIT 1;\n\
             REPLACE INTO s VALUES ('c{}', {i}, REPEAT('n', {}));\n\
             {end};\n",
            (i * 7) % 2000 + 1,
            (i * 13) % 2000 + 1,
            (i * 17) % 2000 + 1,
            i % 50,
            i % 50,
            (i + 25) % 50,
            i % 300,
            i % 200
        ));
    }
    sql
}

#[test]
fn a_backup_under_writes_restores_the_state_at_its_position() {
    let source = MariaDb::start();
    let mut seed = String::from(
        "CREATE DATABASE w; USE w;\n\
         CREATE TABLE k (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(400), n INT, KEY (n));\n\
         CREATE TABLE s (code VARCHAR(20) PRIMARY KEY, qty INT, note TEXT);\n\
         CREATE TABLE nk (a INT, b VARCHAR(10));\n",
    );
    for i in 0..2000 {
        seed.push_str(&format!("INSERT INTO k (v, n) VALUES ('{}', {i});\n", "x".repeat(i % 300)));
    }
    seed.push_str("ANALYZE TABLE k;\n");
    source.client_sql(None, &seed);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("writer.sql");
    std::fs::write(&script, writer_script(20_000)).unwrap();
    let mut writer = Command::new("mariadb")
        .args(["--no-defaults", "--protocol=TCP", "-h127.0.0.1", "-uroot"])
        .arg(format!("-P{}", source.port()))
        .stdin(std::fs::File::open(&script).unwrap())
        .spawn()
        .expect("mariadb client");
    assert!(
        wait_while_running(&mut writer, || count(&source, "SELECT COUNT(*) FROM w.nk") >= 200),
        "the writer ended before it had written anything"
    );
    let storage = dir.path().join("backup");
    let run = backup(&source, &storage, &["--tables", "w.*", "--chunk-size", "16KiB", "--threads", "3"]);
    run.assert_ok();
    assert!(
        writer.try_wait().unwrap().is_none(),
        "the writer finished before the backup did, so the backup did not run under writes; make the script longer"
    );
    assert!(writer.wait().unwrap().success(), "the writer failed");
    let meta = manifest(&storage);
    let position = &meta["position"];
    let (file, pos) = (position["file"].as_str().unwrap(), position["pos"].as_u64().unwrap());
    let k = meta["tables"].as_array().unwrap().iter().find(|t| t["name"] == "k").unwrap();
    assert!(k["chunks"].as_array().unwrap().len() >= 3, "k was cut into key ranges: {k}");
    assert!(run.text().contains("writers were blocked for"), "{}", run.text());

    let oracle = MariaDb::start();
    replay_binlog(&source, file, pos, &oracle);
    let at_position = table_sums(&oracle, "w");
    assert_ne!(at_position, table_sums(&source, "w"), "the source changed after the snapshot");
    let seeded = at_position["k"].0.parse::<u64>().unwrap();
    assert!(seeded > 2000, "rows were written between the seed and the snapshot: {at_position:?}");

    let target = target_server();
    restore(&storage, target, "w", &[]).assert_ok();
    assert_eq!(table_sums(target, "w"), at_position, "the restore equals the source at the backup's position");
}

// ------------------------------------------------------------------ sakila --

#[test]
fn sakila_backup_restores_and_loads_with_import() {
    let source = sakila_server();
    let before = table_sums(&source, "sakila");
    let objects_before = objects(&source);
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("backup");
    backup(&source, &storage, &["--chunk-size", "64KiB", "--compress", "zstd"]).assert_ok();

    let target = MariaDb::start();
    restore(&storage, &target, "sakila", &[]).assert_ok();
    assert_eq!(table_sums(&target, "sakila"), before, "every table equals the source");
    assert_eq!(objects(&target), objects_before, "views, triggers and routines are restored");
    let rerun = restore(&storage, &target, "sakila", &[]);
    rerun.assert_ok();
    assert!(rerun.text().contains("imported into this target already"), "{}", rerun.text());

    // The same backup is a dump that `hoist import` loads.
    target.exec("DROP DATABASE sakila");
    import(&storage, &target.url(), dir.path(), &[]).assert_ok();
    assert_eq!(table_sums(&target, "sakila"), before, "hoist import of the backup equals the source");
    assert_eq!(objects(&target), objects_before);
}

// ------------------------------------------------------------------- types --

#[test]
fn every_type_round_trips() {
    let source = MariaDb::shared();
    let blob: String = (0..=255u8).map(|b| format!("{b:02x}")).collect::<String>().repeat(3);
    source.client_sql(
        None,
        &format!(
            "SET SESSION sql_mode = '';\n\
             DROP DATABASE IF EXISTS bk_types; CREATE DATABASE bk_types; USE bk_types;\n\
             CREATE TABLE t (\n\
               id INT PRIMARY KEY, b LONGBLOB, vb VARBINARY(300), bn BINARY(4),\n\
               u VARCHAR(50) CHARACTER SET utf8mb4, l1 VARCHAR(20) CHARACTER SET latin1, tx TEXT,\n\
               d65 DECIMAL(65,30), f FLOAT, dbl DOUBLE, ti TINYINT, bi BIGINT, ubi BIGINT UNSIGNED,\n\
               bt BIT(13), j JSON, e ENUM('a','b','c'), st SET('x','y','z'), g GEOMETRY, pt POINT,\n\
               dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL DEFAULT NULL, tm TIME(2), yr YEAR,\n\
               gen_v INT AS (id * 2) VIRTUAL, gen_s VARCHAR(60) AS (CONCAT(u, '!')) STORED,\n\
               inv INT INVISIBLE DEFAULT 7);\n\
             INSERT INTO t (id, b, vb, bn, u, l1, tx, d65, f, dbl, ti, bi, ubi, bt, j, e, st, g, pt, dt, dtm, ts, tm, yr, inv) VALUES\n\
             (1, 0x{blob}, 0x00ff27275c0a, 0x00000001, 'snow ☃ and 🦀 crab', 'caf\u{e9}', 'a\\\\b\\'c\\n\\0end',\n\
              '99999999999999999999999999999999999.999999999999999999999999999999', 3.4028235e38, 1.7976931348623157e308,\n\
              127, 9223372036854775807, 18446744073709551615, b'1010101010101', '{{\"k\": [1, 2.5, \"x\"], \"u\": \"\\\\u00e9\"}}',\n\
              'b', 'x,z', ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 0))'), POINT(1.5, -2.25),\n\
              '2026-12-01', '2026-12-01 23:59:59.999999', '2038-01-19 03:14:07.499', '-838:59:59.00', 2155, 42),\n\
             (2, '', '', 0x00000000, '', '', '', '-99999999999999999999999999999999999.999999999999999999999999999999',\n\
              -1.17549435e-38, 4.9e-324, -128, -9223372036854775808, 0, b'0', '[]', 'a', '', POINT(0, 0), POINT(0, 0),\n\
              '0000-00-00', '0000-00-00 00:00:00', '1970-01-01 00:00:01.000', '00:00:00.01', 1901, -1),\n\
             (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,\n\
              NULL, NULL, NULL, NULL, NULL, NULL),\n\
             (4, 'NULL', 'N', 'null', 'NULL', '\\\\N', '\\\\N', 0.1, 0.1, 0.1, 0, 0, 1, b'1', 'null', 'c', 'x,y,z',\n\
              NULL, NULL, '2000-02-29', '1000-01-01 00:00:00', NULL, '12:34:56', 0, NULL);\n\
             CREATE TABLE t2 (id INT PRIMARY KEY, f FLOAT(7,2), d DOUBLE(9,3));\n\
             INSERT INTO t2 VALUES (1, 12345.67, 123456.789), (2, -0.5, NULL), (3, NULL, 0.001);\n"
        ),
    );
    // Every column as bytes a person would compare: hex for binary and spatial, doubles in full.
    let select = "SELECT id, HEX(b), HEX(vb), HEX(bn), HEX(u), HEX(l1), HEX(tx), d65, CAST(f AS DOUBLE), \
                  HEX(CAST(dbl AS BINARY)), ti, bi, ubi, HEX(bt), j, e, st, HEX(g), HEX(pt), dt, dtm, ts, tm, yr, \
                  gen_v, gen_s, inv FROM bk_types.t ORDER BY id";
    let utc = |server: &MariaDb| server.client_sql(None, &format!("SET time_zone = '+00:00'; {select};"));
    let want = utc(source);
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("backup");
    backup(source, &storage, &["--tables", "bk_types.*"]).assert_ok();
    let target = target_server();
    // hoist hashed every row of `t` as it read it (the server hashed `t2`'s, whose FLOAT(M,D)
    // prints as the server chooses), and the target's server agrees with each hash.
    let tables = manifest(&storage)["tables"].clone();
    let names: Vec<&str> = tables.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["t", "t2"]);
    assert!(tables.as_array().unwrap().iter().all(|t| t["checksum"].is_u64()), "{tables}");
    let restored = restore(&storage, target, "bk_types", &[]);
    restored.assert_ok();
    assert!(restored.text().contains("ok, checksum matches"), "{}", restored.text());
    assert_eq!(utc(target), want, "every value of every type is back");
    assert_eq!(table_sums(target, "bk_types"), table_sums(source, "bk_types"));
    let data = String::from_utf8_lossy(&std::fs::read(storage.join("bk_types.t.000000001.sql")).unwrap()).into_owned();
    assert!(!data.contains("gen_v") && data.contains("`inv`"), "generated columns are not dumped, invisible ones are");
}

// ---------------------------------------------------------------- refusals --

#[test]
fn an_incomplete_backup_is_refused() {
    let source = MariaDb::shared();
    small_database(source, "bk_incomplete", 50);
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("backup");
    backup(source, &storage, &["--tables", "bk_incomplete.*"]).assert_ok();
    std::fs::remove_file(storage.join("backupmeta.json")).unwrap();
    let run = restore(&storage, target_server(), "bk_incomplete", &[]);
    assert_refused(&run, &["is incomplete", "backupmeta.json", "run hoist backup again"]);
    assert!(!table_exists(target_server(), "bk_incomplete", "t1"), "nothing was written");
    // The same directory holds files hoist did not write: a new backup there is refused too.
    let again = backup(source, &storage, &["--tables", "bk_incomplete.*"]);
    assert_refused(&again, &["is not empty and holds no backup of hoist's"]);
}

#[test]
fn a_table_holding_rows_is_refused_by_name() {
    let source = MariaDb::shared();
    small_database(source, "bk_full", 50);
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("backup");
    backup(source, &storage, &["--tables", "bk_full.*"]).assert_ok();
    let target = target_server();
    target.exec("DROP DATABASE IF EXISTS bk_full; CREATE DATABASE bk_full; CREATE TABLE bk_full.t2 (a INT, b VARCHAR(10)); INSERT INTO bk_full.t2 VALUES (9, 'mine')");
    let run = restore(&storage, target, "bk_full", &[]);
    assert_refused(&run, &["already hold rows", "`bk_full`.`t2` (1 rows)"]);
    assert_eq!(count(target, "SELECT COUNT(*) FROM bk_full.t2 WHERE b = 'mine'"), 1, "the user's row is untouched");
    assert!(!table_exists(target, "bk_full", "t1"), "nothing was restored");
}

/// A restore of `storage` into `db` on the target that stops with a table error: the target's
/// `t2` is made empty with a column type that the backup's rows do not fit.
fn unfinished_restore(storage: &Path, db: &str) -> Run {
    let target = target_server();
    target.exec(&format!(
        "DROP DATABASE IF EXISTS `{db}`; DROP DATABASE IF EXISTS `{db}_cp`; DROP DATABASE IF EXISTS `{db}_meta`; \
         CREATE DATABASE `{db}`; CREATE TABLE `{db}`.t2 (a INT, b INT)"
    ));
    let run = restore(storage, target, db, &[]);
    assert_eq!(run.code(), Some(1), "t2 fails, t1 is restored:\n{}", run.text());
    run
}

#[test]
fn another_backup_is_refused_and_clean_leads_to_a_restore_of_it() {
    let source = MariaDb::shared();
    small_database(source, "bk_other", 300);
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    backup(source, &first, &["--tables", "bk_other.*"]).assert_ok();
    source.exec("INSERT INTO bk_other.t1 VALUES (100000, 'later')");
    let second = dir.path().join("second");
    backup(source, &second, &["--tables", "bk_other.*"]).assert_ok();
    let (ts1, ts2) = (manifest(&first)["backup_ts"].clone(), manifest(&second)["backup_ts"].clone());
    assert_ne!(ts1, ts2);

    unfinished_restore(&first, "bk_other");
    let target = target_server();
    let run = restore(&second, target, "bk_other", &[]);
    assert_refused(
        &run,
        &[
            "belongs to another backup",
            "upstream.backup_ts",
            ts1.as_str().unwrap(),
            ts2.as_str().unwrap(),
            "hoist restore clean",
        ],
    );
    assert!(!run.text().contains("error-destroy"), "the backup is the problem, not the table errors:\n{}", run.text());

    // The command the refusal gives, then the restore it was refused: it finishes, exact.
    let text = run.text();
    let cleaned = follow(&text, "hoist restore clean");
    cleaned.assert_ok();
    assert!(cleaned.text().contains("`bk_other`.`t1`: dropped"), "{}", cleaned.text());
    restore(&second, target, "bk_other", &[]).assert_ok();
    assert_eq!(table_sums(target, "bk_other"), table_sums(source, "bk_other"));
}

#[test]
fn a_backup_of_another_upstream_is_refused() {
    let source = MariaDb::shared();
    small_database(source, "bk_upstream", 100);
    let other = MariaDb::start();
    small_database(&other, "bk_upstream", 100);
    let dir = tempfile::tempdir().unwrap();
    let (mine, theirs) = (dir.path().join("mine"), dir.path().join("theirs"));
    backup(source, &mine, &["--tables", "bk_upstream.*"]).assert_ok();
    backup(&other, &theirs, &["--tables", "bk_upstream.*"]).assert_ok();
    let (id1, id2) = (manifest(&mine)["cluster_id"].clone(), manifest(&theirs)["cluster_id"].clone());
    assert_ne!(id1, id2, "two servers have two identities");
    unfinished_restore(&mine, "bk_upstream");
    let run = restore(&theirs, target_server(), "bk_upstream", &[]);
    assert_refused(
        &run,
        &["belongs to another backup", "upstream.cluster_id", id1.as_str().unwrap(), id2.as_str().unwrap()],
    );
}

#[test]
fn a_table_dropped_and_recreated_between_runs_is_restored_again() {
    let source = MariaDb::shared();
    small_database(source, "bk_recreate", 30_000);
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("backup");
    backup(source, &storage, &["--tables", "bk_recreate.*", "--chunk-size", "64KiB"]).assert_ok();
    let target = target_server();
    target.exec("DROP DATABASE IF EXISTS bk_recreate; DROP DATABASE IF EXISTS bk_recreate_cp; DROP DATABASE IF EXISTS bk_recreate_meta");
    let args = restore_args(&storage, target, "bk_recreate", &["--batch-size", "4KiB", "--region-concurrency", "1"]);
    let mut run = spawn(&args, &dir.path().join("killed.log"));
    let loading = wait_while_running(&mut run, || {
        table_exists(target, "bk_recreate", "t1") && count(target, "SELECT COUNT(*) FROM bk_recreate.t1") > 0
    });
    run.kill().unwrap();
    run.wait().unwrap();
    assert!(loading, "the restore finished before it could be killed while loading");
    let partial = count(target, "SELECT COUNT(*) FROM bk_recreate.t1");
    assert!(partial > 0 && partial < 30_000, "killed mid-table: {partial} rows");
    // MariaDB tells tables apart by creation time, to the second.
    std::thread::sleep(Duration::from_millis(1100));
    target.exec("DROP TABLE bk_recreate.t1; CREATE TABLE bk_recreate.t1 (id INT PRIMARY KEY, v VARCHAR(40), KEY (v))");
    let rerun = restore(&storage, target, "bk_recreate", &[]);
    rerun.assert_ok();
    assert_eq!(table_sums(target, "bk_recreate"), table_sums(source, "bk_recreate"), "t1 restored again, whole");
}

#[test]
fn a_changed_data_file_fails_verification() {
    let source = MariaDb::shared();
    small_database(source, "bk_verify", 100);
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("backup");
    // Small chunks: t1 comes in several files, each checked by its key range as it comes in.
    backup(source, &storage, &["--tables", "bk_verify.*", "--chunk-size", "2KiB"]).assert_ok();
    let t1 = manifest(&storage)["tables"].as_array().unwrap().iter().find(|t| t["name"] == "t1").unwrap().clone();
    assert!(t1["chunks"].as_array().unwrap().len() > 2, "t1 in key ranges: {t1}");
    // Same row count, one value changed: a count alone would not notice.
    let file = std::fs::read_dir(&storage)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read_to_string(p).unwrap_or_default().contains("(42,'value 42')"))
        .expect("the file with row 42");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, original.replace("(42,'value 42')", "(42,'value 4X')")).unwrap();
    let target = target_server();
    target.exec("DROP DATABASE IF EXISTS bk_verify");
    let run = restore(&storage, target, "bk_verify", &[]);
    assert_eq!(run.code(), Some(1), "{}", run.text());
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(run.text().contains("verification failed") && run.text().contains("checksum"), "{}", run.text());
    assert!(
        run.text().contains(&format!("the rows of {name}")),
        "the range of the changed file is named:\n{}",
        run.text()
    );

    // What the next run says to do, followed after the file is fixed, ends in an exact restore.
    std::fs::write(&file, &original).unwrap();
    let refused = restore(&storage, target, "bk_verify", &[]);
    assert_refused(&refused, &["verification failed", "hoist checkpoint error-destroy '`bk_verify`.`t1`'"]);
    follow(&refused.text(), "hoist checkpoint error-destroy").assert_ok();
    restore(&storage, target, "bk_verify", &[]).assert_ok();
    assert_eq!(table_sums(target, "bk_verify"), table_sums(source, "bk_verify"));
}

#[test]
fn a_killed_backup_is_taken_again_as_a_new_snapshot() {
    let source = MariaDb::shared();
    small_database(source, "bk_killed", 200_000);
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("backup");
    let args: Vec<String> = ["backup", "--source", &source.url(), "--storage", storage.to_str().unwrap()]
        .into_iter()
        .chain(["--tables", "bk_killed.*", "--chunk-size", "16KiB", "--threads", "1", "--statement-size", "4KiB"])
        .map(String::from)
        .collect();
    let mut run = spawn(&args, &dir.path().join("killed.log"));
    let files = || {
        let names =
            std::fs::read_dir(&storage).map(|d| d.filter_map(Result::ok).collect::<Vec<_>>()).unwrap_or_default();
        names
            .iter()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".t1.0") && n.ends_with(".partial"))
            .count()
    };
    // Killed while it writes a data file of t1.
    let mid = wait_while_running(&mut run, || files() >= 1);
    run.kill().unwrap();
    run.wait().unwrap();
    assert!(mid, "the backup finished before it could be killed");
    assert!(!storage.join("backupmeta.json").exists(), "a killed backup has no manifest");
    let again = backup(source, &storage, &args[5..].iter().map(String::as_str).collect::<Vec<_>>());
    again.assert_ok();
    assert!(again.text().contains("an interrupted backup was found"), "{}", again.text());
    let target = target_server();
    target.exec("DROP DATABASE IF EXISTS bk_killed");
    restore(&storage, target, "bk_killed", &[]).assert_ok();
    assert_eq!(table_sums(target, "bk_killed"), table_sums(source, "bk_killed"));
}

#[test]
fn a_snappy_backup_restores() {
    let source = MariaDb::shared();
    small_database(source, "bk_snappy", 500);
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("backup");
    backup(source, &storage, &["--tables", "bk_snappy.*", "--compress", "snappy"]).assert_ok();
    let files: Vec<String> =
        std::fs::read_dir(&storage).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(files.iter().any(|f| f.ends_with(".sql.snappy")), "data files are snappy-framed: {files:?}");
    let target = target_server();
    target.exec("DROP DATABASE IF EXISTS bk_snappy");
    restore(&storage, target, "bk_snappy", &[]).assert_ok();
    assert_eq!(table_sums(target, "bk_snappy"), table_sums(source, "bk_snappy"));
}

/// The manifest has no checksums: the restore checks the target against the rows it read
/// from the backup's files, as an import does.
#[test]
fn a_backup_without_checksums_is_verified_against_its_files() {
    let source = MariaDb::shared();
    small_database(source, "bk_nosum", 500);
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("backup");
    backup(source, &storage, &["--tables", "bk_nosum.*", "--no-checksum"]).assert_ok();
    let meta = manifest(&storage);
    assert!(meta["tables"].as_array().unwrap().iter().all(|t| t["checksum"].is_null()), "{meta}");
    let target = target_server();
    target.exec("DROP DATABASE IF EXISTS bk_nosum");
    let run = restore(&storage, target, "bk_nosum", &[]);
    run.assert_ok();
    assert!(run.text().contains("ok, checksum matches") && !run.text().contains("rows counted"), "{}", run.text());
    assert_eq!(table_sums(target, "bk_nosum"), table_sums(source, "bk_nosum"));
}
