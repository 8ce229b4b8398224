//! One plain mysqldump file as `--source` (issue 9): sakila loaded into a private MariaDB by its
//! own script, dumped by `mariadb-dump --routines --triggers --events`, imported by hoist into
//! another server: every table equal (row count and CHECKSUM TABLE), views, triggers and
//! routines there. Also `--databases` and `--all-databases` output (events, a keyless table
//! with duplicate rows, TIMESTAMPs between servers in other time zones), a gzip'd file and an
//! object in S3, `kill -9` rounds whose reruns load every row once and never scan the file
//! again, a file cut short, and a file changed under loaded rows; `checkpoint dump` shows the scan.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use hoist_testkit::mariadb::{MariaDb, ServerOptions};

use crate::crash::{kills_wanted, seed, Proc, Rng};
use crate::sakila::{objects, sakila_server};
use crate::util::{assert_refused, hoist, import, remove_at_exit, table_sums, Run};

type Sums = BTreeMap<String, (String, String)>;
type Objects = (Vec<String>, Vec<String>, Vec<String>);

/// Sakila dumped by mariadb-dump into one file, with what its tables and objects were.
struct SakilaDump {
    file: PathBuf,
    sums: Sums,
    objects: Objects,
}

/// Made once per test process (on a server of its own, stopped once the file is written).
fn sakila_dump() -> &'static SakilaDump {
    static DUMP: OnceLock<SakilaDump> = OnceLock::new();
    DUMP.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("hoist-mysqldump-").tempdir().expect("temp dir").keep();
        remove_at_exit(dir.clone());
        let server = sakila_server();
        let file = dir.join("sakila.sql");
        server.mariadb_dump(&["--routines", "--triggers", "--events", "sakila"], &file);
        let dump = SakilaDump { file, sums: table_sums(&server, "sakila"), objects: objects(&server) };
        assert!(dump.sums.len() >= 16 && !dump.objects.0.is_empty(), "sakila loaded: {:?}", dump.sums);
        dump
    })
}

/// A gzip'd copy of `file` in `dir`, named as gzip names it.
fn gzip(file: &Path, dir: &Path) -> PathBuf {
    let to = dir.join(format!("{}.gz", file.file_name().unwrap().to_string_lossy()));
    let mut gz = flate2::write::GzEncoder::new(fs::File::create(&to).unwrap(), flate2::Compression::fast());
    std::io::copy(&mut fs::File::open(file).unwrap(), &mut gz).unwrap();
    gz.finish().unwrap();
    to
}

/// The tables hoist's progress markers still hold rows for in the target.
fn markers_left(server: &MariaDb) -> String {
    let exists = server.query_value(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'hoist_meta' AND TABLE_NAME = 'hoist_progress'",
    );
    match exists.as_deref() {
        Some("0") => "0".into(),
        _ => server.query_value("SELECT COUNT(*) FROM hoist_meta.hoist_progress").unwrap_or_default(),
    }
}

#[test]
fn sakila_dumped_by_mariadb_dump_loads_into_another_server() {
    let dump = sakila_dump();
    let target = MariaDb::start();
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip(&dump.file, dir.path());
    for file in [&dump.file, &gz] {
        target.exec("DROP DATABASE IF EXISTS sakila");
        let run = import(file, &target.url(), dir.path(), &[]);
        run.assert_ok();
        let text = run.text();
        assert_eq!(text.matches("ok, checksum matches").count(), dump.sums.len(), "{text}");
        assert_eq!(table_sums(&target, "sakila"), dump.sums, "{}: every table equals the original", file.display());
        assert_eq!(objects(&target), dump.objects, "{}: views, triggers and routines are there", file.display());
        assert!(!dir.path().join("checkpoint.db").exists(), "the checkpoint is removed after success");
    }
}

/// `--databases` and `--all-databases` output, from a server in one time zone into a server
/// in another: both databases equal (a TIMESTAMP is stored as the same instant, which only
/// holds if every chunk is read under the file's `SET TIME_ZONE='+00:00'`), with their views,
/// triggers, routines and events; the `mysql` schema of `--all-databases` is left as it is.
#[test]
fn databases_and_all_databases_output() {
    let zone = |tz: &str| ServerOptions { args: vec![format!("--default-time-zone={tz}")], ..Default::default() };
    let source = MariaDb::start_with(zone("-03:00"));
    source.client_sql(
        None,
        "CREATE DATABASE shop; CREATE DATABASE crm;
         CREATE TABLE shop.orders (id INT PRIMARY KEY, placed TIMESTAMP NULL, note VARCHAR(50), amount DECIMAL(8,2));
         INSERT INTO shop.orders VALUES (1, '2020-03-29 01:30:00', 'a;b', 1.5), (2, NULL, 'it''s \\\\ x', NULL),
                                        (3, '2037-12-31 20:00:00', 'DELIMITER ;;', 0.01);
         CREATE TABLE shop.log (a INT, b TEXT);
         INSERT INTO shop.log VALUES (1, 'x'), (1, 'x'), (2, NULL), (1, 'x');
         CREATE TABLE shop.audit (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT);
         CREATE TRIGGER shop.orders_audit AFTER INSERT ON shop.orders FOR EACH ROW INSERT INTO shop.audit (order_id) VALUES (NEW.id);
         CREATE VIEW shop.big_orders AS SELECT id, amount FROM shop.orders WHERE amount > 1;
         CREATE EVENT shop.purge ON SCHEDULE EVERY 1 DAY DO DELETE FROM shop.log WHERE a < 0;
         CREATE TABLE crm.people (id INT PRIMARY KEY, name VARCHAR(40) CHARACTER SET utf8mb4);
         INSERT INTO crm.people VALUES (1, 'Zoë'), (2, '鈴木');
         CREATE VIEW crm.v_people AS SELECT name FROM crm.people;
         CREATE FUNCTION crm.greet(n VARCHAR(40)) RETURNS VARCHAR(50) DETERMINISTIC RETURN CONCAT('hi ', n);
         DELIMITER ;;
         CREATE PROCEDURE crm.count_people(OUT n INT) BEGIN SELECT COUNT(*) INTO n FROM crm.people; END;;
         DELIMITER ;",
    );
    let what = |server: &MariaDb| {
        let list = |sql: &str| -> Vec<String> {
            server.query(sql).into_iter().map(|r| String::from_utf8(r[0].clone().unwrap()).unwrap()).collect()
        };
        (
            (table_sums(server, "shop"), table_sums(server, "crm")),
            list(
                "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.VIEWS \
                 WHERE TABLE_SCHEMA IN ('shop', 'crm') ORDER BY 1",
            ),
            list(
                "SELECT CONCAT(TRIGGER_SCHEMA, '.', TRIGGER_NAME) FROM information_schema.TRIGGERS \
                 WHERE TRIGGER_SCHEMA IN ('shop', 'crm') ORDER BY 1",
            ),
            list(
                "SELECT CONCAT(ROUTINE_SCHEMA, '.', ROUTINE_NAME) FROM information_schema.ROUTINES \
                 WHERE ROUTINE_SCHEMA IN ('shop', 'crm') ORDER BY 1",
            ),
            list("SELECT CONCAT(EVENT_SCHEMA, '.', EVENT_NAME, ' ', TIME_ZONE) FROM information_schema.EVENTS ORDER BY 1"),
            list("SELECT CONCAT(id, ' ', UNIX_TIMESTAMP(placed)) FROM shop.orders WHERE placed IS NOT NULL ORDER BY id"),
        )
    };
    let want = what(&source);
    assert_eq!(want.4, ["shop.purge -03:00"], "the event keeps the time zone it was created in");
    let target = MariaDb::start_with(zone("+05:30"));
    let accounts = |s: &MariaDb| s.query_value("SELECT COUNT(*) FROM mysql.global_priv");
    let accounts_before = accounts(&target);
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in [("databases", &["--databases", "shop", "crm"][..]), ("all", &["--all-databases"][..])] {
        let file = dir.path().join(format!("{name}.sql"));
        source.mariadb_dump(&[&["--routines", "--triggers", "--events"][..], args].concat(), &file);
        target.exec("DROP DATABASE IF EXISTS shop; DROP DATABASE IF EXISTS crm");
        let run = import(&file, &target.url(), dir.path(), &[]);
        run.assert_ok();
        let text = run.text();
        assert_eq!(what(&target), want, "{name}: the target equals the source:\n{text}");
        assert_eq!(text.matches("ok, checksum matches").count(), 4, "{text}");
        assert_eq!(target.query_value("SELECT COUNT(*) FROM shop.audit").as_deref(), Some("0"), "no trigger fired");
        assert_eq!(accounts(&target), accounts_before, "{name}: the target's accounts are its own");
        assert_eq!(
            text.contains("system schema `mysql` was left out"),
            name == "all",
            "{name}: the summary says that the dump's mysql schema was left out:\n{text}"
        );
    }
}

/// `kill -9` at seeded moments of the import of the plain file (chunks cut at 64 KiB) and of
/// its gzip'd copy (a chunk per table, resumed by decompressing up to its position): the run
/// that finally succeeds leaves every table equal to the source (a row loaded twice would
/// change its count and checksum), no marker and no checkpoint. A rerun finds the file's scan
/// in the checkpoint and does not scan the file again.
#[test]
fn kill9_resumes_without_loading_a_row_twice_or_scanning_again() {
    let test = "mysqldump_kill9";
    let seed = seed(test);
    let mut rng = Rng::new(seed);
    let dump = sakila_dump();
    let target = MariaDb::start();
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip(&dump.file, dir.path());
    let kills = kills_wanted(10);
    let mut runs = 0;
    let mut clean = None;
    // A clean run of the plain file first: how long a whole run takes, for the kill delays.
    for (round, file) in [&dump.file, &dump.file, &gz].into_iter().enumerate() {
        let cp = dir.path().join(format!("checkpoint-{round}.db"));
        let fresh = || {
            target.exec("DROP DATABASE IF EXISTS sakila; DROP DATABASE IF EXISTS hoist_meta");
            let _ = fs::remove_file(&cp);
        };
        fresh();
        let args: Vec<String> = [
            "import",
            "--source",
            file.to_str().unwrap(),
            "--target",
            &target.url(),
            "--checkpoint",
            cp.to_str().unwrap(),
            "--max-region-size",
            "64KiB",
            "--batch-size",
            "16KiB",
            "--region-concurrency",
            "4",
        ]
        .map(String::from)
        .to_vec();
        let planned = || -> Option<i64> {
            let c = rusqlite::Connection::open_with_flags(&cp, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
            c.query_row("SELECT COUNT(*) FROM chunks", [], |r| r.get(0)).ok().filter(|&n| n > 0)
        };
        let mut delivered = 0;
        let mut chunks = None;
        // Estimated work left, so that later kills still land before the run ends.
        let mut left = clean.unwrap_or_default();
        // A round whose run outran its first kill (a loaded machine's clean run is no good
        // measure of the next) starts again from nothing with shorter delays.
        let mut outrun = 0;
        loop {
            runs += 1;
            let had_plan = planned().is_some();
            let mut p = Proc::spawn(&args, &dir.path().join(format!("run-{runs}.log")));
            let kill_at =
                clean.filter(|_| delivered < kills / 2).map(|_: Duration| rng.between(left / 10, left.mul_f64(0.8)));
            let status = p.wait_for(kill_at.unwrap_or(Duration::from_secs(300)));
            let log = p.output();
            if had_plan {
                assert!(!log.contains("scanning"), "seed {seed}: run {runs} scanned the file again:\n{log}");
            }
            match (status, kill_at) {
                (None, Some(delay)) => {
                    p.kill9();
                    delivered += 1;
                    chunks = chunks.or_else(planned);
                    left = left.saturating_sub(delay.mul_f64(0.7)).max(clean.unwrap_or_default() / 4);
                }
                (Some(s), Some(_)) if s.success() && delivered == 0 && outrun < 5 => {
                    outrun += 1;
                    eprintln!("{test}: seed {seed}: run {runs} ended before its kill; round {round} starts again");
                    left = p.elapsed().min(left) / 2;
                    fresh();
                }
                (Some(s), _) if s.success() => {
                    clean = clean.or(Some(p.elapsed()));
                    break;
                }
                (other, _) => {
                    panic!("seed {seed}: run {runs} ended with {other:?} instead of success or a kill:\n{log}")
                }
            }
        }
        assert!(round == 0 || delivered > 0, "seed {seed}: no kill landed before the run ended");
        assert_eq!(table_sums(&target, "sakila"), dump.sums, "seed {seed}: {} after {delivered} kills", file.display());
        assert_eq!(objects(&target), dump.objects, "seed {seed}: views, triggers and routines");
        assert_eq!(markers_left(&target), "0", "seed {seed}: no progress marker left after success");
        assert!(!cp.exists(), "seed {seed}: the checkpoint is removed after success");
        if let Some(n) = chunks {
            let tables = dump.sums.len() as i64;
            match file == &gz {
                false => assert!(n > tables, "the plain file's runs are cut at 64 KiB: {n} chunks"),
                true => assert_eq!(n, tables, "a compressed file has one chunk per table"),
            }
        }
        eprintln!("{test}: seed {seed}: {} with {delivered} kills, {chunks:?} chunks", file.display());
    }
}

/// A file cut short, between two statements or inside a row, plain or gzip'd: refused before
/// anything is written (exit 2), naming the file, the line and the byte; no checkpoint is left.
#[test]
fn a_file_cut_short_is_refused_with_its_name_and_byte() {
    let dump = sakila_dump();
    let target = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let whole = fs::read(&dump.file).unwrap();
    let text = String::from_utf8_lossy(&whole);
    let after_a_statement = text.match_indices("UNLOCK TABLES;\n").nth(4).map(|(i, s)| i + s.len()).unwrap();
    let plain = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        path
    };
    let between = plain("between.sql", &whole[..after_a_statement]);
    let lines = whole[..after_a_statement].iter().filter(|&&b| b == b'\n').count() + 1;
    let in_a_row = plain("in-a-row.sql", &whole[..whole.len() / 2]);
    let gz = gzip(&dump.file, dir.path());
    let packed = fs::read(&gz).unwrap();
    let gz_cut = plain("cut.sql.gz", &packed[..packed.len() / 2]);
    let cases: [(&Path, Vec<String>); 3] = [
        (&between, vec![format!("between.sql:{lines} (byte {after_a_statement})"), "-- Dump completed".into()]),
        (&in_a_row, vec!["in-a-row.sql:".into(), "(byte ".into()]),
        (&gz_cut, vec!["cut.sql.gz:".into(), "(byte ".into(), "truncated or corrupt".into()]),
    ];
    for (file, says) in cases {
        // A filter that no table matches: nothing is written into the shared server, whatever happens.
        let run: Run = import(file, &target.url(), dir.path(), &["--tables", "sakila_cut_never.*"]);
        let says: Vec<&str> = says.iter().map(String::as_str).collect();
        assert_refused(&run, &says);
        assert!(!dir.path().join("checkpoint.db").exists(), "{}: no checkpoint is left", file.display());
    }
}

/// A file changed after a killed run loaded some of its tables is refused, naming it; put back
/// as it was, the same command resumes and the tables equal the source.
#[test]
fn a_file_changed_under_loaded_rows_is_refused_until_put_back() {
    let dump = sakila_dump();
    let target = MariaDb::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sakila.sql");
    fs::copy(&dump.file, &file).unwrap();
    let cp = dir.path().join("checkpoint.db");
    let args: Vec<String> = ["import", "--source", file.to_str().unwrap(), "--target", &target.url()]
        .into_iter()
        .chain(["--checkpoint", cp.to_str().unwrap()])
        .map(String::from)
        .collect();
    // Held before its post steps: some tables are loaded.
    let mut p =
        Proc::spawn_with(&args, &dir.path().join("run-1.log"), &[("HOIST_FAILPOINTS", "import.post-steps=30s")]);
    while !p.output().contains("failpoint import.post-steps") {
        assert!(p.wait_for(Duration::from_millis(20)).is_none(), "the run ended first:\n{}", p.output());
    }
    p.kill9();
    // The scan is part of the checkpoint, for a person to read too.
    let shown = dir.path().join("shown");
    hoist(&["checkpoint", "dump", shown.to_str().unwrap(), "--checkpoint", cp.to_str().unwrap()]).assert_ok();
    let scan: serde_json::Value = serde_json::from_slice(&fs::read(shown.join("source_scan.json")).unwrap()).unwrap();
    assert_eq!(scan["tables"].as_array().map(Vec::len), Some(dump.sums.len()), "{scan}");
    let modified = fs::metadata(&file).unwrap().modified().unwrap();
    let f = fs::OpenOptions::new().append(true).open(&file).unwrap();
    f.set_modified(modified + Duration::from_secs(60)).unwrap();
    drop(f);
    let run = import(&file, &target.url(), dir.path(), &[]);
    assert_refused(&run, &["sakila.sql was modified", "already loaded", "hoist checkpoint remove "]);
    fs::File::options().write(true).open(&file).unwrap().set_modified(modified).unwrap();
    let run = import(&file, &target.url(), dir.path(), &[]);
    run.assert_ok();
    assert_eq!(table_sums(&target, "sakila"), dump.sums, "{}", run.text());
    assert_eq!(objects(&target), dump.objects);
}

/// The gzip'd file as one object in S3 (`s3://bucket/path/sakila.sql.gz`).
#[test]
fn a_gzipped_dump_in_s3_loads() {
    let dump = sakila_dump();
    let s3 = hoist_testkit::s3::S3Server::start();
    let target = MariaDb::start();
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip(&dump.file, dir.path());
    s3.create_bucket("dumps");
    s3.put("dumps", "nightly/sakila.sql.gz", &gz);
    let url = s3.url("dumps", "nightly/sakila.sql.gz");
    let cp = dir.path().join("checkpoint.db");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hoist"));
    cmd.args(["import", "--source", &url, "--target", &target.url(), "--checkpoint", cp.to_str().unwrap()])
        .env("HOIST_LOG", "warn");
    for (k, v) in s3.env() {
        cmd.env(k, v);
    }
    let run = Run { output: cmd.output().expect("run hoist") };
    run.assert_ok();
    assert_eq!(table_sums(&target, "sakila"), dump.sums, "{}", run.text());
    assert_eq!(objects(&target), dump.objects);
}
