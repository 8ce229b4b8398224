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
