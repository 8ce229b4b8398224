//! A generated dump with known rows (a keyless table, BLOBs with every byte value, a secondary
//! index, 4-byte UTF-8, NULLs, dates, decimals) in SQL and CSV form, plain, gzip and zstd,
//! loaded into SQLite and into a private MariaDB; every table must equal the source.

use hoist_testkit::dump::{Compression, Format};
use hoist_testkit::mariadb::MariaDb;
use hoist_testkit::rows::{mysql_table_sum, sqlite_table_sum};

use crate::util::{dump, import, sqlite_url};

fn into_sqlite(format: Format, compression: Compression) {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = dump(dir.path(), "gen", format, compression);
    let db = dir.path().join("out.db");
    import(&src, &sqlite_url(&db), dir.path(), &["--defer-indexes-from", "0"]).assert_ok();
    for t in &data.tables {
        assert_eq!(sqlite_table_sum(&db, &t.name, &t.columns), t.sum(), "table {}", t.name);
    }
    assert!(!dir.path().join("checkpoint.db").exists(), "the checkpoint is removed after success");
}

fn into_mariadb(database: &str, format: Format, compression: Compression) {
    into_mariadb_with(database, format, compression, &[]);
}

/// Both write paths (LOAD DATA, the default where exact, and INSERT) must give the same rows.
fn into_mariadb_with(database: &str, format: Format, compression: Compression, extra: &[&str]) {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = dump(dir.path(), database, format, compression);
    // Tests share the server: each keeps its markers in its own meta schema.
    let meta = format!("{database}_meta");
    let mut args = vec!["--meta-schema", meta.as_str(), "--defer-indexes-from", "0"];
    args.extend_from_slice(extra);
    import(&src, &server.url(), dir.path(), &args).assert_ok();
    for t in &data.tables {
        assert_eq!(mysql_table_sum(&server.url(), database, &t.name, &t.columns), t.sum(), "table {}", t.name);
    }
    let markers = server.query_value(&format!("SELECT COUNT(*) FROM {meta}.hoist_progress"));
    assert_eq!(markers.as_deref(), Some("0"), "markers are cleaned up after success");
}

#[test]
fn sql_into_sqlite() {
    into_sqlite(Format::Sql, Compression::None);
}

#[test]
fn csv_into_sqlite() {
    into_sqlite(Format::Csv, Compression::None);
}

#[test]
fn gzip_sql_into_sqlite() {
    into_sqlite(Format::Sql, Compression::Gzip);
}

#[test]
fn zstd_csv_into_sqlite() {
    into_sqlite(Format::Csv, Compression::Zstd);
}

#[test]
fn sql_into_mariadb() {
    into_mariadb("gen_sql", Format::Sql, Compression::None);
}

#[test]
fn csv_into_mariadb() {
    into_mariadb("gen_csv", Format::Csv, Compression::None);
}

#[test]
fn gzip_csv_into_mariadb() {
    into_mariadb("gen_csv_gz", Format::Csv, Compression::Gzip);
}

#[test]
fn zstd_sql_into_mariadb() {
    into_mariadb("gen_sql_zst", Format::Sql, Compression::Zstd);
}

/// Snappy's framing format, as Lightning reads `.snappy` files.
#[test]
fn snappy_sql_into_mariadb() {
    into_mariadb("gen_sql_snappy", Format::Sql, Compression::Snappy);
}

#[test]
fn snappy_csv_into_sqlite() {
    into_sqlite(Format::Csv, Compression::Snappy);
}

#[test]
fn sql_into_mariadb_with_insert() {
    into_mariadb_with("gen_sql_ins", Format::Sql, Compression::None, &["--write-mode", "insert"]);
}

#[test]
fn csv_into_mariadb_with_insert() {
    into_mariadb_with("gen_csv_ins", Format::Csv, Compression::None, &["--write-mode", "insert"]);
}

#[test]
fn sql_into_mariadb_with_load_data() {
    into_mariadb_with("gen_sql_ld", Format::Sql, Compression::Gzip, &["--write-mode", "load-data"]);
}

#[test]
fn secondary_index_is_added_after_the_data() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = dump(dir.path(), "gen_idx", Format::Sql, Compression::None);
    let run = import(&src, &server.url(), dir.path(), &["--defer-indexes-from", "0"]);
    run.assert_ok();
    let idx = server.query_value(
        "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'gen_idx' \
         AND TABLE_NAME = 'orders' AND INDEX_NAME = 'idx_customer_created'",
    );
    assert_eq!(idx.as_deref(), Some("2"), "both columns of the deferred index exist");
    assert!(run.text().contains("`gen_idx`.`orders`"), "the summary lists the table:\n{}", run.text());
}

#[test]
fn small_regions_split_files_into_many_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = dump(dir.path(), "gen", Format::Sql, Compression::None);
    let db = dir.path().join("out.db");
    import(&src, &sqlite_url(&db), dir.path(), &["--max-region-size", "8KiB", "--batch-size", "4KiB"]).assert_ok();
    for t in &data.tables {
        assert_eq!(sqlite_table_sum(&db, &t.name, &t.columns), t.sum(), "table {}", t.name);
    }
}

#[test]
fn strict_format_csv_is_split_at_line_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = dump(dir.path(), "gen", Format::Csv, Compression::None);
    let db = dir.path().join("out.db");
    let run = import(
        &src,
        &sqlite_url(&db),
        dir.path(),
        &["--strict-format", "--max-region-size", "8KiB", "--batch-size", "4KiB", "--no-analyze"],
    );
    run.assert_ok();
    for t in &data.tables {
        assert_eq!(sqlite_table_sum(&db, &t.name, &t.columns), t.sum(), "table {}", t.name);
    }
}

#[test]
fn filter_takes_only_the_named_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = dump(dir.path(), "gen", Format::Sql, Compression::None);
    let db = dir.path().join("out.db");
    import(&src, &sqlite_url(&db), dir.path(), &["--tables", "gen.orders", "--tables", "gen.blob*"]).assert_ok();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'hoist_%' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names.sort();
    assert_eq!(names, ["blobs", "orders"]);
    let orders = data.table("orders");
    assert_eq!(sqlite_table_sum(&db, "orders", &orders.columns), orders.sum());
}

/// The summary's time column is each table's own, not the whole run's for every table.
#[test]
fn the_summary_times_each_table_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dump");
    std::fs::create_dir_all(&out).unwrap();
    let spec = hoist_testkit::dump::DumpSpec { rows: 30_000, ..hoist_testkit::dump::DumpSpec::new("timed") };
    hoist_testkit::dump::write_dump(&spec, &out);
    std::fs::write(out.join("timed.tiny-schema.sql"), "CREATE TABLE `tiny` (`id` INT PRIMARY KEY);\n").unwrap();
    std::fs::write(out.join("timed.tiny.00000.sql"), "INSERT INTO `tiny` VALUES (1);\n").unwrap();
    let db = dir.path().join("out.db");
    let run = import(&out, &sqlite_url(&db), dir.path(), &["--region-concurrency", "1"]);
    run.assert_ok();
    let text = run.text();
    // The first word of the form `1.5s` (punctuation after it aside).
    let seconds = |line: &str| -> f64 {
        let time = line.split_whitespace().find_map(|w| w.trim_end_matches([';', ',']).strip_suffix('s')?.parse().ok());
        time.unwrap_or_else(|| panic!("no time in {line:?}"))
    };
    let total = text.lines().find(|l| l.contains(" rows into ")).map(|l| {
        let at = l.find(" in ").unwrap();
        seconds(&l[at + 4..])
    });
    let total = total.unwrap_or_else(|| panic!("no total line:\n{text}"));
    assert!(total >= 0.5, "the run is too short to tell the tables' times apart ({total} s):\n{text}");
    let tiny = text.lines().find(|l| l.starts_with("`timed`.`tiny`")).unwrap_or_else(|| panic!("{text}"));
    assert!(seconds(tiny) < total / 2.0, "the tiny table's time is its own, not the run's:\n{text}");
}
