//! The testkit's own tests, against real MariaDB, mariadb client and mydumper.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hoist_testkit::dump::{self, ColType, Compression, Dataset, DumpSpec, Format, TableData};
use hoist_testkit::mariadb::{self, MariaDb};
use hoist_testkit::rows::{mysql_table_sum, sqlite_table_sum};

const TABLES: [&str; 5] = ["orders", "events", "blobs", "texts", "numbers"];

fn assert_sums(db: &MariaDb, database: &str, data: &Dataset) {
    for t in &data.tables {
        let got = mysql_table_sum(&db.url(), database, &t.name, &t.columns);
        assert_eq!(got, t.sum(), "{database}.{}: server vs generated", t.name);
        assert_eq!(got.count as usize, t.rows.len());
    }
}

fn load_schemas(db: &MariaDb, dir: &Path, data: &Dataset) {
    let name = &data.database;
    db.load_sql_file(&dir.join(format!("{name}-schema-create.sql")));
    for t in &data.tables {
        db.load_sql_file_into(name, &dir.join(format!("{name}.{}-schema.sql", t.name)));
    }
}

#[test]
fn sql_dump_loads_with_the_mariadb_client() {
    let db = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let data = dump::write_dump(&DumpSpec::new("tk_sql"), dir.path());
    assert_eq!(data.tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), TABLES);
    load_schemas(db, dir.path(), &data);
    for t in &data.tables {
        assert!(!t.data_files.is_empty());
        for f in &t.data_files {
            db.load_sql_file_into("tk_sql", f);
        }
    }
    assert_sums(db, "tk_sql", &data);

    // Spot checks of awkward values, byte for byte.
    let label = db.query("SELECT label FROM tk_sql.orders WHERE id = 16 * 7");
    assert_eq!(label[0][0].as_deref(), Some(&b"nul\0byte"[..]));
    let all_bytes = db.query("SELECT data FROM tk_sql.blobs WHERE id = 1");
    assert_eq!(all_bytes[0][0].as_ref().unwrap()[..256], (0..=255).collect::<Vec<u8>>()[..]);
    let extremes = db.query("SELECT big, unsigned_val FROM tk_sql.numbers WHERE id IN (1, 2) ORDER BY id");
    assert_eq!(extremes[0][0].as_deref(), Some(&b"-9223372036854775808"[..]));
    assert_eq!(extremes[0][1].as_deref(), Some(&b"4294967295"[..]));
    assert_eq!(extremes[1][0].as_deref(), Some(&b"9223372036854775807"[..]));

    // Negative control: the sum notices one missing row.
    db.exec("DELETE FROM tk_sql.events LIMIT 1");
    let t = data.table("events");
    assert_ne!(mysql_table_sum(&db.url(), "tk_sql", "events", &t.columns), t.sum());
}

#[test]
fn csv_dump_loads_with_load_data_local_infile() {
    let db = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let spec = DumpSpec {
        format: Format::Csv,
        compression: Compression::Zstd, // load_csv_file decompresses
        files_per_table: 3,
        ..DumpSpec::new("tk_csv")
    };
    let data = dump::write_dump(&spec, dir.path());
    load_schemas(db, dir.path(), &data);
    for t in &data.tables {
        assert!(!t.data_files.is_empty());
        for f in &t.data_files {
            assert!(f.to_string_lossy().ends_with(".csv.zst"), "{}", f.display());
            db.load_csv_file("tk_csv", &t.name, f);
        }
    }
    assert_sums(db, "tk_csv", &data);
}

#[test]
fn kill_and_restart_keep_committed_data() {
    let db = MariaDb::start();
    db.exec(
        "CREATE DATABASE tk_crash; CREATE TABLE tk_crash.t (id INT PRIMARY KEY, v VARCHAR(10));
         INSERT INTO tk_crash.t VALUES (1, 'a'), (2, 'b'), (3, NULL);",
    );
    let first = db.pid().unwrap();
    db.kill();
    assert_eq!(db.pid(), None);
    assert!(!Path::new(&format!("/proc/{first}")).exists() || is_zombie(first));
    assert!(std::net::TcpStream::connect(("127.0.0.1", db.port())).is_err());
    db.restart();
    assert_ne!(db.pid(), Some(first));
    let rows = db.query("SELECT id, v FROM tk_crash.t ORDER BY id");
    assert_eq!(
        rows,
        vec![
            vec![Some(b"1".to_vec()), Some(b"a".to_vec())],
            vec![Some(b"2".to_vec()), Some(b"b".to_vec())],
            vec![Some(b"3".to_vec()), None],
        ]
    );
    // A clean stop followed by a restart works as well.
    db.stop();
    db.restart();
    assert_eq!(db.query_value("SELECT COUNT(*) FROM tk_crash.t").as_deref(), Some("3"));
}

#[test]
fn server_outlives_the_thread_that_started_it() {
    let db = std::thread::spawn(MariaDb::start).join().unwrap();
    // PR_SET_PDEATHSIG would have fired when that thread ended if it had
    // forked mariadbd itself.
    std::thread::sleep(Duration::from_millis(500));
    let pid = db.pid().unwrap();
    assert!(Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid));
    assert_eq!(db.query_value("SELECT 1").as_deref(), Some("1"));
    // And restarting from yet another short-lived thread.
    std::thread::scope(|s| {
        s.spawn(|| db.kill());
    });
    std::thread::scope(|s| {
        s.spawn(|| db.restart());
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(db.query_value("SELECT 2").as_deref(), Some("2"));
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(") ").next().is_some_and(|r| r.starts_with('Z')))
        .unwrap_or(true)
}

const CHILD_ENV: &str = "HOIST_TESTKIT_DIE_CHILD";

#[test]
fn server_dies_with_the_test_process() {
    if std::env::var_os(CHILD_ENV).is_some() {
        // Child: start a server that is never dropped, report it, die hard.
        let db = MariaDb::start();
        println!("CHILD pid={} dir={}", db.pid().unwrap(), db.dir().display());
        std::io::stdout().flush().unwrap();
        std::mem::forget(db);
        // SAFETY: plain kill(2) on ourselves.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        unreachable!();
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "server_dies_with_the_test_process", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("CHILD ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("child said:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    let mut pid = 0u32;
    let mut dir = PathBuf::new();
    for kv in line.split(' ') {
        match kv.split_once('=') {
            Some(("pid", v)) => pid = v.parse().unwrap(),
            Some(("dir", v)) => dir = PathBuf::from(v),
            _ => {}
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) {
        assert!(Instant::now() < deadline, "mariadbd {pid} outlived its test process");
        std::thread::sleep(Duration::from_millis(50));
    }
    // (A concurrent test process may already have reaped the dir.)
    mariadb::reap_stale_dirs();
    assert!(!dir.exists(), "stale dir {} was not reaped", dir.display());
}

fn read_plain(path: &Path) -> Vec<u8> {
    let name = path.to_string_lossy();
    let file = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    if name.ends_with(".gz") {
        flate2::read::GzDecoder::new(file).read_to_end(&mut out).unwrap();
    } else if name.ends_with(".zst") {
        zstd::Decoder::new(file).unwrap().read_to_end(&mut out).unwrap();
    } else {
        std::io::BufReader::new(file).read_to_end(&mut out).unwrap();
    }
    out
}

#[test]
fn compressed_files_decompress_to_the_plain_bytes() {
    for format in [Format::Sql, Format::Csv] {
        let spec =
            |compression| DumpSpec { format, compression, rows: 300, files_per_table: 3, ..DumpSpec::new("tk_cmp") };
        let plain_dir = tempfile::tempdir().unwrap();
        let plain = dump::write_dump(&spec(Compression::None), plain_dir.path());
        for (compression, suffix) in [(Compression::Gzip, ".gz"), (Compression::Zstd, ".zst")] {
            let dir = tempfile::tempdir().unwrap();
            let packed = dump::write_dump(&spec(compression), dir.path());
            for (p, c) in plain.tables.iter().zip(&packed.tables) {
                assert_eq!(p.data_files.len(), c.data_files.len());
                for (pf, cf) in p.data_files.iter().zip(&c.data_files) {
                    let want = format!("{}{suffix}", pf.file_name().unwrap().to_string_lossy());
                    assert_eq!(cf.file_name().unwrap().to_string_lossy(), want);
                    assert_eq!(read_plain(cf), std::fs::read(pf).unwrap(), "{}", cf.display());
                }
            }
            // Schema files and metadata are never compressed.
            let names = |d: &Path| {
                let mut v: Vec<_> = std::fs::read_dir(d)
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with("-schema.sql") || n.ends_with("-schema-create.sql") || n == "metadata")
                    .collect();
                v.sort();
                v
            };
            assert_eq!(names(dir.path()), names(plain_dir.path()));
            assert_eq!(names(dir.path()).len(), 7);
        }
    }
}

#[test]
fn data_file_layout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dump::write_dump(&DumpSpec { rows: 8, files_per_table: 4, ..DumpSpec::new("tk_layout") }, dir.path());
    // blobs has 2 rows, so 2 files; the others 4.
    let counts: Vec<_> = data.tables.iter().map(|t| t.data_files.len()).collect();
    assert_eq!(counts, [4, 4, 2, 4, 4]);
    let first = std::fs::read(dir.path().join("tk_layout.orders.00000.sql")).unwrap();
    assert!(first.starts_with(b"/*!40101 SET NAMES binary*/;\n"));
    assert!(std::str::from_utf8(&first).unwrap().contains("INSERT INTO `orders` VALUES\n(1,"));
    let schema = std::fs::read_to_string(dir.path().join("tk_layout.orders-schema.sql")).unwrap();
    assert!(schema.starts_with("/*!40101 SET NAMES binary*/;\n"));
    assert!(dir.path().join("tk_layout.numbers.00003.sql").exists());
    assert!(dir.path().join("metadata").exists());

    // Empty tables still get one (header-only) data file each.
    let empty_dir = tempfile::tempdir().unwrap();
    let empty =
        dump::write_dump(&DumpSpec { rows: 0, format: Format::Csv, ..DumpSpec::new("tk_empty") }, empty_dir.path());
    for t in &empty.tables {
        assert_eq!(t.data_files.len(), 1);
        assert!(t.rows.is_empty());
    }
    let csv = std::fs::read(empty_dir.path().join("tk_empty.orders.00000.csv")).unwrap();
    assert_eq!(csv, b"\"id\",\"customer_id\",\"amount\",\"label\",\"created_at\",\"note\"\r\n");

    // Statement size is respected (a statement holds at least one row).
    let small_dir = tempfile::tempdir().unwrap();
    let small = dump::write_dump(
        &DumpSpec { rows: 200, statement_bytes: 2048, files_per_table: 1, ..DumpSpec::new("tk_small") },
        small_dir.path(),
    );
    let text = std::fs::read(&small.table("orders").data_files[0]).unwrap();
    let stmts: Vec<_> = text.split(|&b| b == b';').collect();
    assert!(stmts.len() > 10);
    let inserts = text.windows(11).filter(|w| w == b"INSERT INTO").count();
    assert!(inserts > 10 && inserts < 200, "{inserts}");
}

fn sqlite_type(ty: ColType) -> &'static str {
    match ty {
        ColType::Int => "INTEGER",
        ColType::Decimal { .. } => "NUMERIC",
        ColType::Double => "REAL",
        ColType::Text | ColType::DateTime | ColType::Date => "TEXT",
        ColType::Binary => "BLOB",
    }
}

fn sqlite_insert(conn: &rusqlite::Connection, t: &TableData) {
    use rusqlite::types::Value;
    let cols: Vec<String> = t.columns.iter().map(|c| format!("\"{}\" {}", c.name, sqlite_type(c.ty))).collect();
    conn.execute_batch(&format!("CREATE TABLE \"{}\" ({})", t.name, cols.join(", "))).unwrap();
    let marks = vec!["?"; t.columns.len()].join(",");
    let mut stmt = conn.prepare(&format!("INSERT INTO \"{}\" VALUES ({marks})", t.name)).unwrap();
    for (i, row) in t.rows.iter().enumerate() {
        let values: Vec<Value> = row
            .iter()
            .zip(&t.columns)
            .map(|(v, c)| {
                let Some(v) = v else { return Value::Null };
                let text = || String::from_utf8(v.clone()).unwrap();
                match c.ty {
                    ColType::Int => Value::Integer(text().parse().unwrap()),
                    ColType::Double => Value::Real(text().parse().unwrap()),
                    // Both ways an importer may bind a decimal.
                    ColType::Decimal { .. } if i % 2 == 0 => Value::Text(text()),
                    ColType::Decimal { .. } => Value::Real(text().parse().unwrap()),
                    ColType::Text | ColType::DateTime | ColType::Date => Value::Text(text()),
                    ColType::Binary => Value::Blob(v.clone()),
                }
            })
            .collect();
        stmt.execute(rusqlite::params_from_iter(values)).unwrap();
    }
}

#[test]
fn sqlite_sums_match_the_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("target.sqlite");
    let data = dump::generate(&DumpSpec::new("tk_sqlite"));
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        for t in &data.tables {
            sqlite_insert(&tx, t);
        }
        tx.commit().unwrap();
    }
    for t in &data.tables {
        assert_eq!(sqlite_table_sum(&path, &t.name, &t.columns), t.sum(), "sqlite {}", t.name);
    }
    // Negative control.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE numbers SET amount = amount + 0.000001 WHERE id = 5", [])
        .unwrap();
    let t = data.table("numbers");
    assert_ne!(sqlite_table_sum(&path, "numbers", &t.columns), t.sum());
}

#[test]
fn mydumper_dumps_tables_views_triggers_and_routines() {
    let db = MariaDb::shared();
    let src_dir = tempfile::tempdir().unwrap();
    let data = dump::write_dump(&DumpSpec { rows: 200, ..DumpSpec::new("tk_myd_src") }, src_dir.path());
    load_schemas(db, src_dir.path(), &data);
    for t in &data.tables {
        for f in &t.data_files {
            db.load_sql_file_into("tk_myd_src", f);
        }
    }
    db.exec(
        "CREATE VIEW tk_myd_src.big_orders AS SELECT id, amount FROM tk_myd_src.orders WHERE amount > 1000;
         CREATE TRIGGER tk_myd_src.orders_bi BEFORE INSERT ON tk_myd_src.orders FOR EACH ROW SET NEW.label = TRIM(NEW.label);
         CREATE PROCEDURE tk_myd_src.count_orders(OUT n INT) BEGIN SELECT COUNT(*) INTO n FROM orders; END",
    );
    let out = tempfile::tempdir().unwrap();
    db.mydumper("tk_myd_src", out.path());
    let mut files: Vec<String> =
        std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    for want in [
        "metadata",
        "tk_myd_src-schema-create.sql",
        "tk_myd_src-schema-post.sql",
        "tk_myd_src.big_orders-schema-view.sql",
        "tk_myd_src.big_orders-schema.sql",
        "tk_myd_src.orders-schema-triggers.sql",
        "tk_myd_src.orders-schema.sql",
        "tk_myd_src.orders.sql",
        "tk_myd_src.events.sql",
        "tk_myd_src.blobs.sql",
    ] {
        assert!(files.iter().any(|f| f == want), "{want} missing from {files:?}");
    }
    // mydumper's own data files load back to the same rows.
    db.exec("CREATE DATABASE tk_myd_dst");
    for t in &data.tables {
        db.load_sql_file_into("tk_myd_dst", &out.path().join(format!("tk_myd_src.{}-schema.sql", t.name)));
        db.load_sql_file_into("tk_myd_dst", &out.path().join(format!("tk_myd_src.{}.sql", t.name)));
    }
    assert_sums(db, "tk_myd_dst", &data);
}

#[test]
fn errors_carry_the_server_message_and_async_callers_work() {
    let db = MariaDb::shared();
    let err = std::panic::catch_unwind(|| db.exec("SELECT 1; SELEC 2")).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("server error 1064") && msg.contains("SELEC 2"), "{msg}");
    // Usable from inside a tokio runtime (e.g. a #[tokio::test]).
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let v = rt.block_on(async { db.query_value("SELECT 'ok'") });
    assert_eq!(v.as_deref(), Some("ok"));
    let rows = rt.block_on(async { db.query("SELECT NULL, '' UNION ALL SELECT 'a', 'b'; SELECT 3") });
    assert_eq!(
        rows,
        vec![vec![None, Some(Vec::new())], vec![Some(b"a".to_vec()), Some(b"b".to_vec())], vec![Some(b"3".to_vec())],]
    );
}
