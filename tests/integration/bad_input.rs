//! Bad input stops only its table; the error names the file, the line and the byte offset;
//! the other tables load; the summary lists the failure and the exit code is non-zero.

use std::io::Write;
use std::path::Path;

use hoist_testkit::mariadb::MariaDb;

use crate::util::{assert_refused, import, sqlite_url};

const GOOD_SCHEMA: &str = "CREATE TABLE `good` (`id` int NOT NULL, `v` varchar(20), PRIMARY KEY (`id`));\n";
const GOOD_DATA: &str = "INSERT INTO `good` VALUES (1,'one'),(2,'two'),(3,'three');\n";
const BAD_SCHEMA: &str = "CREATE TABLE `bad` (`id` int NOT NULL, `v` varchar(5), PRIMARY KEY (`id`));\n";

/// A dump of database `bi` with a good table and a table whose data file is `bad_name` holding `bad_bytes`.
fn dump_with(dir: &Path, bad_name: &str, bad_bytes: &[u8]) -> std::path::PathBuf {
    let src = dir.join("dump");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("bi-schema-create.sql"), "CREATE DATABASE `bi`;\n").unwrap();
    std::fs::write(src.join("bi.good-schema.sql"), GOOD_SCHEMA).unwrap();
    std::fs::write(src.join("bi.good.00000.sql"), GOOD_DATA).unwrap();
    std::fs::write(src.join("bi.bad-schema.sql"), BAD_SCHEMA).unwrap();
    std::fs::write(src.join(bad_name), bad_bytes).unwrap();
    src
}

/// Import into SQLite; assert the failure names `file`, `line` and `byte`, and `good` loaded.
#[track_caller]
fn assert_fails_at(bad_name: &str, bad_bytes: &[u8], line: u64, byte: u64, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let src = dump_with(dir.path(), bad_name, bad_bytes);
    let db = dir.path().join("out.db");
    let run = import(&src, &sqlite_url(&db), dir.path(), &[]);
    let text = run.text();
    assert_eq!(run.code(), Some(1), "exit code 1 expected:\n{text}");
    let place = format!("{bad_name}:{line} (byte {byte})");
    assert!(text.contains(&place), "message should name {place:?}:\n{text}");
    assert!(text.contains(what), "message should say {what:?}:\n{text}");
    assert!(text.contains("FAILED"), "the summary lists the failure:\n{text}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let good: i64 = conn.query_row("SELECT COUNT(*) FROM good", [], |r| r.get(0)).unwrap();
    assert_eq!(good, 3, "the other table is loaded");
}

#[test]
fn malformed_row() {
    let data = b"INSERT INTO `bad` VALUES (1,'a'),\n(2,'b' garbage),(3,'c');\n";
    // `garbage` starts at byte 41, on line 2.
    assert_fails_at("bi.bad.00000.sql", data, 2, 41, "garbage");
}

#[test]
fn unterminated_string() {
    let data = b"INSERT INTO `bad` VALUES (1,'a'),\n(2,'never closed);\n";
    assert_fails_at("bi.bad.00000.sql", data, 2, 37, "unterminated");
}

#[test]
fn wrong_column_count() {
    let data = b"INSERT INTO `bad` VALUES (1,'a'),\n(2,'b','extra');\n";
    assert_fails_at("bi.bad.00000.sql", data, 2, 34, "3 values but 2 columns");
}

#[test]
fn wrong_column_count_in_csv() {
    let data = b"\"id\",\"v\"\n1,\"a\"\n2,\"b\",\"extra\"\n";
    assert_fails_at("bi.bad.00000.csv", data, 3, 15, "3 values but 2 columns");
}

#[test]
fn truncated_gzip_file() {
    let mut plain = Vec::new();
    plain.extend_from_slice(b"INSERT INTO `bad` VALUES ");
    for i in 0..20_000 {
        if i > 0 {
            plain.push(b',');
        }
        write!(plain, "({i},'v{}')", i % 1000).unwrap();
    }
    plain.extend_from_slice(b";\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let mut bytes = gz.finish().unwrap();
    bytes.truncate(bytes.len() / 2);
    let dir = tempfile::tempdir().unwrap();
    let src = dump_with(dir.path(), "bi.bad.00000.sql.gz", &bytes);
    let db = dir.path().join("out.db");
    let run = import(&src, &sqlite_url(&db), dir.path(), &[]);
    let text = run.text();
    assert_eq!(run.code(), Some(1), "{text}");
    assert!(text.contains("bi.bad.00000.sql.gz:1 (byte "), "names the file, line and offset:\n{text}");
    assert!(text.contains("truncated or corrupt"), "{text}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let good: i64 = conn.query_row("SELECT COUNT(*) FROM good", [], |r| r.get(0)).unwrap();
    assert_eq!(good, 3);
}

#[test]
fn value_rejected_by_the_server() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    // `bad`.`v` is varchar(5): the third row's value is too long in strict mode.
    let data = b"INSERT INTO `bad` VALUES (1,'a'),\n(2,'b'),\n(3,'much too long');\n";
    let src = dump_with(dir.path(), "bi.bad.00000.sql", data);
    std::fs::rename(src.join("bi-schema-create.sql"), src.join("bi_srv-schema-create.sql")).unwrap();
    for f in ["good-schema.sql", "good.00000.sql", "bad-schema.sql", "bad.00000.sql"] {
        std::fs::rename(src.join(format!("bi.{f}")), src.join(format!("bi_srv.{f}"))).unwrap();
    }
    let run = import(&src, &server.url(), dir.path(), &[]);
    let text = run.text();
    assert_eq!(run.code(), Some(1), "{text}");
    assert!(text.contains("bi_srv.bad.00000.sql:3 (byte 43)"), "names the rejected row:\n{text}");
    // INSERT says "Data too long", LOAD DATA "Data truncated": the server's own reason either way.
    assert!(text.contains("for column 'v'"), "gives the server's reason:\n{text}");
    assert_eq!(server.query_value("SELECT COUNT(*) FROM bi_srv.good").as_deref(), Some("3"));
    assert_eq!(
        server.query_value("SELECT COUNT(*) FROM bi_srv.bad").as_deref(),
        Some("0"),
        "the failed batch rolled back"
    );
}

#[test]
fn data_file_without_schema_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = dump_with(dir.path(), "bi.bad.00000.sql", b"INSERT INTO `bad` VALUES (1,'a');\n");
    std::fs::write(src.join("bi.orphan.00000.sql"), "INSERT INTO `orphan` VALUES (1);\n").unwrap();
    let db = dir.path().join("out.db");
    let run = import(&src, &sqlite_url(&db), dir.path(), &[]);
    let text = run.text();
    assert_eq!(run.code(), Some(1), "{text}");
    assert!(text.contains("bi.orphan.00000.sql") && text.contains("does not exist in the target"), "{text}");
}

/// Regression (issue 12): SQLite has no databases, so `a`.`t` and `b`.`T` (SQLite ignores the
/// case of names) were loaded into one table `t` of the file, and view `b`.`u` replaced table
/// `a`.`u` with its rows. Such a dump is refused before anything is written, with both names
/// and the `--tables` that resolves it.
#[test]
fn two_databases_with_one_table_name_are_refused_for_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    for (file, text) in [
        ("a-schema-create.sql", "CREATE DATABASE `a`;\n"),
        ("a.t-schema.sql", "CREATE TABLE `t` (`id` int NOT NULL, PRIMARY KEY (`id`));\n"),
        ("a.t.00000.sql", "INSERT INTO `t` VALUES (1);\n"),
        ("a.u-schema.sql", "CREATE TABLE `u` (`id` int NOT NULL);\n"),
        ("a.u.00000.sql", "INSERT INTO `u` VALUES (1),(2);\n"),
        ("b-schema-create.sql", "CREATE DATABASE `b`;\n"),
        ("b.T-schema.sql", "CREATE TABLE `T` (`id` int NOT NULL, PRIMARY KEY (`id`));\n"),
        ("b.T.00000.sql", "INSERT INTO `T` VALUES (2);\n"),
        ("b.u-schema-view.sql", "CREATE VIEW `u` AS SELECT 1 AS `id`;\n"),
    ] {
        std::fs::write(src.join(file), text).unwrap();
    }
    let db = dir.path().join("out.db");
    let run = import(&src, &sqlite_url(&db), dir.path(), &[]);
    assert_refused(
        &run,
        &[
            "table `a`.`t` and table `b`.`T`",
            "table `a`.`u` and view `b`.`u`",
            "Nothing was written",
            "--tables '!b.T'",
        ],
    );
    assert!(!db.exists(), "the SQLite file was not even created");
    assert!(!dir.path().join("checkpoint.db").exists(), "no checkpoint either");

    // The way out the message gives.
    let run = import(&src, &sqlite_url(&db), dir.path(), &["--tables", "!b.T", "--tables", "!b.u"]);
    run.assert_ok();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
    let u: i64 = conn.query_row("SELECT count(*) FROM u", [], |r| r.get(0)).unwrap();
    assert_eq!((rows, u), (1, 2), "only database a's rows");
}

/// Values that would be SQL if hoist quoted them for the wrong escaping mode, and bytes that
/// are escapes in one mode and plain in the other.
const HOSTILE: [&str; 6] =
    ["\\'),(99,(SELECT @@version)),(100,'", "back\\slash", "it's", "tab\there\\t", "\\\\", "end\\"];

/// With NO_BACKSLASH_ESCAPES in --sql-mode, CSV values containing backslashes and quotes load
/// as themselves on both write paths, and an SQL file that sets the mode itself keeps its own
/// meaning beside them (the writer's session goes back to hoist's settings between the two).
#[test]
fn no_backslash_escapes_in_sql_mode_turns_no_value_into_sql() {
    let server = MariaDb::shared();
    for mode in ["insert", "load-data", "auto"] {
        let db = format!("nbe_{}", mode.replace('-', "_"));
        let work = tempfile::tempdir().unwrap();
        let dump = work.path().join("dump");
        std::fs::create_dir_all(&dump).unwrap();
        std::fs::write(dump.join(format!("{db}-schema-create.sql")), format!("CREATE DATABASE `{db}`;\n")).unwrap();
        for t in ["c", "s"] {
            std::fs::write(
                dump.join(format!("{db}.{t}-schema.sql")),
                format!("CREATE TABLE `{t}` (`id` INT PRIMARY KEY, `v` VARCHAR(100));\n"),
            )
            .unwrap();
        }
        let mut csv = String::from("id,v\n");
        for (i, v) in HOSTILE.iter().enumerate() {
            csv.push_str(&format!("{i},\"{}\"\n", v.replace('\\', "\\\\").replace('"', "\"\"")));
        }
        std::fs::write(dump.join(format!("{db}.c.00000.csv")), csv).unwrap();
        // An SQL file in NO_BACKSLASH_ESCAPES: a backslash is a plain byte, a quote doubles.
        let mut sql = String::from("/*!40101 SET SQL_MODE='NO_BACKSLASH_ESCAPES' */;\nINSERT INTO `s` VALUES ");
        let tuples: Vec<String> =
            HOSTILE.iter().enumerate().map(|(i, v)| format!("({i},'{}')", v.replace('\'', "''"))).collect();
        sql.push_str(&tuples.join(","));
        sql.push_str(";\n");
        std::fs::write(dump.join(format!("{db}.s.00000.sql")), sql).unwrap();
        let run = crate::util::import(
            &dump,
            &server.url(),
            work.path(),
            &[
                "--sql-mode",
                "NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES",
                "--write-mode",
                mode,
                "--region-concurrency",
                "1",
            ],
        );
        run.assert_ok();
        for t in ["c", "s"] {
            let got: Vec<Vec<u8>> = server
                .query(&format!("SELECT v FROM `{db}`.`{t}` ORDER BY id"))
                .into_iter()
                .map(|r| r[0].clone().unwrap())
                .collect();
            let want: Vec<Vec<u8>> = HOSTILE.iter().map(|v| v.as_bytes().to_vec()).collect();
            assert_eq!(got, want, "{mode}: table {t} holds the values as written");
            assert_eq!(server.query_value(&format!("SELECT COUNT(*) FROM `{db}`.`{t}`")).unwrap(), "6");
        }
    }
}

/// A row larger than the server's max_allowed_packet: not a lost connection to retry, but a
/// table error that says which limit to raise; after raising it, the checkpoint's own advice
/// leads to an exact table.
#[test]
fn a_row_over_max_allowed_packet_says_which_limit_to_raise() {
    let server = MariaDb::start();
    server.exec("SET GLOBAL max_allowed_packet = 1048576");
    let work = tempfile::tempdir().unwrap();
    let dump = work.path().join("dump");
    std::fs::create_dir_all(&dump).unwrap();
    std::fs::write(dump.join("map-schema-create.sql"), "CREATE DATABASE `map`;\n").unwrap();
    std::fs::write(dump.join("map.t-schema.sql"), "CREATE TABLE `t` (`id` INT PRIMARY KEY, `v` LONGTEXT);\n").unwrap();
    let big = "x".repeat(3 << 20);
    std::fs::write(
        dump.join("map.t.00000.sql"),
        format!("INSERT INTO `t` VALUES (1,'small'),(2,'{big}'),(3,'end');\n"),
    )
    .unwrap();
    let url = server.url();
    let run = crate::util::import(&dump, &url, work.path(), &["--max-retries", "2"]);
    assert_eq!(run.code(), Some(1), "a table error, not a lost target:\n{}", run.text());
    let text = run.text();
    assert!(text.contains("max_allowed_packet") && text.contains("SET GLOBAL max_allowed_packet"), "{text}");
    assert!(!text.contains("retry"), "nothing to retry:\n{text}");

    server.exec("SET GLOBAL max_allowed_packet = 67108864");
    let again = crate::util::import(&dump, &url, work.path(), &[]);
    assert_eq!(again.code(), Some(2), "the recorded error blocks the rerun until resolved:\n{}", again.text());
    crate::util::follow(&again.text(), "hoist checkpoint error-ignore").assert_ok();
    crate::util::import(&dump, &url, work.path(), &[]).assert_ok();
    assert_eq!(server.query_value("SELECT COUNT(*) FROM map.t").unwrap(), "3");
    assert_eq!(server.query_value("SELECT LENGTH(v) FROM map.t WHERE id = 2").unwrap(), (3 << 20).to_string());
}
