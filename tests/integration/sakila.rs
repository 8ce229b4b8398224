//! A dump that nobody here wrote: the Sakila database (triggers, views, routines, FULLTEXT and
//! SPATIAL indexes, GEOMETRY, BLOBs, ENUM/SET) loaded into MariaDB by its own script, dumped by
//! Debian's mydumper, dropped, and imported by hoist. Every table must match the original.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use hoist_testkit::mariadb::MariaDb;

use crate::util::{import, sqlite_url, table_sums};

fn corpus() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/sakila"))
}

pub fn objects(server: &MariaDb) -> (Vec<String>, Vec<String>, Vec<String>) {
    let col = |sql: &str| -> Vec<String> {
        server.query(sql).into_iter().map(|r| String::from_utf8(r[0].clone().unwrap()).unwrap()).collect()
    };
    (
        col("SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'sakila' ORDER BY 1"),
        col("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'sakila' ORDER BY 1"),
        col("SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'sakila' ORDER BY 1"),
    )
}

/// A private server holding sakila, loaded by its own script.
pub fn sakila_server() -> MariaDb {
    let server = MariaDb::start();
    server.load_sql_file(&corpus().join("sakila-mv-schema.sql"));
    server.load_sql_file(&corpus().join("sakila-mv-data.sql"));
    server
}

#[test]
fn mydumper_dump_of_sakila_matches_the_original() {
    let server = sakila_server();
    let before = table_sums(&server, "sakila");
    let objects_before = objects(&server);
    assert!(before.len() >= 16, "sakila loaded: {before:?}");
    // As mydumper's users dump: plain, compressed (-c compresses the schema files too), in
    // chunks of rows (-r) or of file size, and both.
    let variants: [&[&str]; 4] = [&[], &["-c"], &["-r", "1000"], &["-c", "--chunk-filesize", "1"]];
    for extra in variants {
        let dir = tempfile::tempdir().unwrap();
        let dump = dir.path().join("dump");
        server.mydumper_with_args("sakila", &dump, extra);
        if extra.contains(&"-c") {
            assert!(dump.join("sakila.actor-schema.sql.gz").exists(), "mydumper {extra:?} compresses schema files");
        }
        server.exec("DROP DATABASE sakila");
        let run = import(&dump, &server.url(), dir.path(), &[]);
        run.assert_ok();
        assert_eq!(table_sums(&server, "sakila"), before, "mydumper {extra:?}: every table equals the original");
        assert_eq!(objects(&server), objects_before, "mydumper {extra:?}: views, triggers and routines are back");
    }
}

/// Sakila as Debian's mydumper dumps it, made once per test process (on a server of its own,
/// stopped once the dump is written) and removed at its exit.
fn sakila_dump() -> &'static Path {
    static DUMP: OnceLock<PathBuf> = OnceLock::new();
    DUMP.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("hoist-sakila-dump-").tempdir().expect("temp dir").keep();
        let server = sakila_server();
        server.mydumper("sakila", &dir.join("dump"));
        DUMP_DIR.set(dir.clone()).expect("the dump is made once");
        // SAFETY: registering a plain extern "C" fn.
        unsafe { libc::atexit(remove_dump_dir) };
        dir
    })
}

static DUMP_DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_dump_dir() {
    if let Some(dir) = DUMP_DIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The system's `sqlite3` shell (Debian 12: 3.40) on `file`: its stdout, or a panic with its stderr.
fn system_sqlite3(file: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(file)
        .arg(sql)
        .output()
        .expect("run the system sqlite3 (apt-get install -y sqlite3)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && out.stderr.is_empty(), "sqlite3 {} {sql:?} failed:\n{text}", file.display());
    String::from_utf8(out.stdout).unwrap()
}

/// Regression (issue 12): the actor_info view's `GROUP_CONCAT(... ORDER BY ...)` (SQLite 3.44)
/// was written into the file, and every older SQLite, Debian 12's `sqlite3` and Python's module
/// among them, refused the whole file as a "malformed database schema", while hoist (which
/// bundles a newer SQLite) said all was well. Now the file opens there, passes the integrity
/// check, and every view in it can be read; the view that needs 3.44 is left out by name.
#[test]
fn sakila_in_sqlite_opens_in_the_system_sqlite3_and_in_python() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sakila.db");
    let run = import(&sakila_dump().join("dump"), &sqlite_url(&file), dir.path(), &[]);
    run.assert_ok();

    let checked = system_sqlite3(&file, "SELECT count(*) FROM sqlite_master; PRAGMA integrity_check;");
    assert!(checked.ends_with("\nok\n"), "{checked}");
    let views: Vec<String> = system_sqlite3(&file, "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        views,
        [
            "customer_list",
            "film_list",
            "nicer_but_slower_film_list",
            "sales_by_film_category",
            "sales_by_store",
            "staff_list"
        ]
    );
    for view in &views {
        let rows = system_sqlite3(&file, &format!("SELECT count(*) FROM \"{view}\""));
        assert!(rows.trim().parse::<u64>().unwrap() > 0, "{view}: {rows}");
    }
    // Every row of every view, read with the values MySQL gives: IF, CONCAT and LENGTH rewritten.
    let first = system_sqlite3(&file, "SELECT notes, name FROM customer_list WHERE \"ID\" = 1");
    assert_eq!(first, "active|MARY SMITH\n");
    let actors = system_sqlite3(&file, "SELECT actors FROM nicer_but_slower_film_list WHERE \"FID\" = 1");
    assert!(actors.contains("Penelope Guiness"), "{actors}");

    let script = r#"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
views = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")]
for v in views:
    c.execute('SELECT * FROM "%s"' % v.replace('"', '""')).fetchall()
print(sqlite3.sqlite_version, len(views))
"#;
    let out = Command::new("python3").arg("-c").arg(script).arg(&file).output().expect("run python3");
    assert!(
        out.status.success(),
        "python3's sqlite3 module on {}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).trim_end().ends_with(" 6"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = run.text();
    assert!(
        text.contains("actor_info (GROUP_CONCAT(... ORDER BY ...) needs SQLite 3.44)"),
        "the view left out is named, with why:\n{text}"
    );
}

/// Regression (issue 12): each statement of sakila's trigger and routine files was a note of
/// its own, SET statements included: about 130 lines. Now there is one per kind and database.
#[test]
fn sakila_in_sqlite_notes_one_line_per_kind_of_object_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sakila.db");
    let run = import(&sakila_dump().join("dump"), &sqlite_url(&file), dir.path(), &[]);
    run.assert_ok();
    let text = run.text();
    let notes: Vec<&str> = text.lines().filter(|l| l.starts_with("note: ")).collect();
    assert_eq!(
        notes,
        [
            "note: `sakila`: 1 view not created in SQLite, which must read the file from version 3.31 on: actor_info \
             (GROUP_CONCAT(... ORDER BY ...) needs SQLite 3.44)",
            "note: `sakila`: 6 routines not created in SQLite (MySQL-only code): film_in_stock, film_not_in_stock, \
             get_customer_balance, inventory_held_by_customer, inventory_in_stock, rewards_report",
            "note: `sakila`: 6 triggers not created in SQLite (MySQL-only code): customer_create_date, del_film, \
             ins_film, payment_date, rental_date, upd_film",
        ],
        "{text}"
    );
}
