//! `[lightning] max-error`: a dump with K rows the server refuses under a strict sql_mode
//! (out of range, too long, NULL into NOT NULL), spread over several files, chunks and batches.
//! Under `--max-error K` every other row is loaded exactly (count and CHECKSUM TABLE against an
//! oracle filled with the good rows by plain SQL) and the error table holds exactly the K rows,
//! each with its file, byte offset and text; under `--max-error K-1` the import fails naming the
//! limit and where the records are; and `kill -9` rounds end with the same rows and exactly K
//! records (none twice, none lost).

use std::fs;
use std::path::Path;
use std::time::Duration;

use hoist_testkit::mariadb::MariaDb;

use crate::crash::{kills_wanted, seed, Proc, Rng};
use crate::util::{hoist, import, table_sums};

const SCHEMA: &str =
    "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  `v` tinyint NOT NULL,\n  `s` varchar(8) DEFAULT NULL,\n  \
                      PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n";
const ROWS: u64 = 6000;
const PER_FILE: u64 = 3000;
const PER_STATEMENT: u64 = 100;

/// A refused row: its file, where its tuple starts, the tuple.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Bad {
    file: String,
    offset: u64,
    row: String,
}

/// The row `id` as a tuple; the bad ones the server refuses for a value.
fn tuple(id: u64) -> (String, bool) {
    match id {
        37 | 2999 => (format!("({id},300,'s{id}')"), true), // TINYINT out of range
        1200 | 1201 | 5500 => (format!("({id},{},'far too long')", id % 100), true), // VARCHAR(8) too long
        4000 | 5999 => (format!("({id},NULL,'s{id}')"), true), // NULL into NOT NULL
        _ => (format!("({id},{},'s{id}')", id % 100), false),
    }
}

/// Write the dump of database `db` in `dir`; fill `oracle` (on `server`) with its good rows by
/// plain SQL. The bad rows, by file and offset.
fn write_dump(dir: &Path, db: &str, server: &MariaDb, oracle: &str) -> Vec<Bad> {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(format!("{db}-schema-create.sql")), format!("CREATE DATABASE `{db}`;\n")).unwrap();
    fs::write(dir.join(format!("{db}.t-schema.sql")), SCHEMA).unwrap();
    server.exec(&format!("DROP DATABASE IF EXISTS `{oracle}`; CREATE DATABASE `{oracle}`"));
    server.exec(&format!("USE `{oracle}`; {SCHEMA}"));
    let mut bad = Vec::new();
    for file_no in 0..ROWS / PER_FILE {
        let name = format!("{db}.t.{file_no:03}.sql");
        let mut text = String::new();
        let first = file_no * PER_FILE + 1;
        for start in (first..first + PER_FILE).step_by(PER_STATEMENT as usize) {
            text.push_str("INSERT INTO `t` VALUES\n");
            let mut good = Vec::new();
            for id in start..start + PER_STATEMENT {
                let (row, refused) = tuple(id);
                if refused {
                    bad.push(Bad { file: name.clone(), offset: text.len() as u64, row: row.clone() });
                } else {
                    good.push(row.clone());
                }
                text.push_str(&row);
                text.push_str(if id + 1 == start + PER_STATEMENT { ";\n" } else { ",\n" });
            }
            server.exec(&format!("INSERT INTO `{oracle}`.`t` VALUES {}", good.join(",")));
        }
        fs::write(dir.join(&name), text).unwrap();
    }
    bad
}

/// The records of the task(s) for `db`.`t`, as the bad rows they name.
fn records(server: &MariaDb, schema: &str, db: &str) -> Vec<Bad> {
    let mut got: Vec<Bad> = server
        .query(&format!(
            "SELECT path, `offset`, row_data FROM `{schema}`.type_error_v2 WHERE table_name = '`{db}`.`t`'"
        ))
        .into_iter()
        .map(|r| {
            let text = |i: usize| String::from_utf8(r[i].clone().unwrap()).unwrap();
            Bad { file: text(0), offset: text(1).parse().unwrap(), row: text(2) }
        })
        .collect();
    got.sort();
    got
}

fn fresh(server: &MariaDb, db: &str, schema: &str) {
    server.exec(&format!("DROP DATABASE IF EXISTS `{db}`; DROP DATABASE IF EXISTS `{schema}`"));
}

#[test]
fn bad_rows_up_to_max_error_are_skipped_and_recorded() {
    let server = MariaDb::shared();
    let (db, schema) = ("maxerr_ok", "maxerr_ok_info");
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("dump");
    let bad = write_dump(&source, db, server, "maxerr_ok_oracle");
    let k = bad.len();
    let config = dir.path().join("hoist.toml");
    fs::write(&config, format!("[lightning]\ntask-info-schema-name = '{schema}'\n")).unwrap();
    let config = config.to_str().unwrap();
    let split = ["--max-region-size", "16KiB", "--batch-size", "4KiB", "--sql-mode", "STRICT_TRANS_TABLES"];

    fresh(server, db, schema);
    let limit = (k - 1).to_string();
    let work = tempfile::tempdir().unwrap();
    let mut args = vec!["--config", config, "--max-error", &limit];
    args.extend(split);
    let r = import(&source, &server.url(), work.path(), &args);
    assert!(!r.ok(), "{} bad rows under max-error {limit} must fail:\n{}", k, r.text());
    let text = r.text();
    assert!(text.contains(&format!("exceed [lightning] max-error = {limit}")), "{text}");
    assert!(text.contains(&format!("`{schema}`.`type_error_v2`")), "{text}");
    // `checkpoint show` names the limit (the table's error) and counts the records so far.
    let cp = work.path().join("checkpoint.db");
    let show = hoist(&[
        "checkpoint",
        "show",
        "--checkpoint",
        cp.to_str().unwrap(),
        "--target",
        &server.url(),
        "--config",
        config,
    ]);
    show.assert_ok();
    let recorded = server.query_value(&format!("SELECT COUNT(*) FROM `{schema}`.type_error_v2")).unwrap();
    assert_ne!(recorded, "0", "the batches before the one over the limit are in, with their records");
    let text = show.text();
    assert!(
        text.contains(&format!("rows skipped: {recorded} refused for their values (`{schema}`.`type_error_v2`)")),
        "{text}"
    );
    assert!(text.contains(&format!("exceed [lightning] max-error = {limit}")), "{text}");

    // Another copy of the dump: the failed task above stays recorded for the first one.
    fresh(server, db, schema);
    let copy = dir.path().join("copy");
    fs::create_dir_all(&copy).unwrap();
    for f in fs::read_dir(&source).unwrap() {
        let f = f.unwrap();
        fs::copy(f.path(), copy.join(f.file_name())).unwrap();
    }
    let source = copy;
    let limit = k.to_string();
    let work = tempfile::tempdir().unwrap();
    let mut args = vec!["--config", config, "--max-error", &limit];
    args.extend(split);
    let r = import(&source, &server.url(), work.path(), &args);
    r.assert_ok();
    assert!(r.text().contains(&format!("{k} rows refused for their values were skipped")), "{}", r.text());
    assert!(r.text().contains("checksum matches"), "the good rows are verified by content:\n{}", r.text());
    assert_eq!(table_sums(server, db), table_sums(server, "maxerr_ok_oracle"), "exactly the good rows");
    assert_eq!(records(server, schema, db), bad, "exactly the refused rows, each once, with file and offset");
    // The server's message, naming the column (LOAD DATA's words: truncated, out of range, NULL).
    let errors = server.query_value(&format!(
        "SELECT COUNT(*) FROM `{schema}`.type_error_v2 WHERE error LIKE 'ERROR 1%' \
         AND (error LIKE '%''v''%' OR error LIKE '%`v`%' OR error LIKE '%''s''%' OR error LIKE '%`s`%')"
    ));
    assert_eq!(errors, Some(k.to_string()), "each record keeps the server's message");
}

/// `kill -9` at seeded moments of an import that skips rows: the rerun leaves exactly the good
/// rows and exactly K records, whatever the kills interrupted.
#[test]
fn kill9_never_records_a_skipped_row_twice_or_loses_one() {
    let test = "max_error_kill9";
    let seed = seed(test);
    let mut rng = Rng::new(seed);
    let server = MariaDb::shared();
    let (db, schema) = ("maxerr_kill", "maxerr_kill_info");
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("dump");
    let bad = write_dump(&source, db, server, "maxerr_kill_oracle");
    let config = dir.path().join("hoist.toml");
    fs::write(&config, format!("[lightning]\nmax-error = {}\ntask-info-schema-name = '{schema}'\n", bad.len()))
        .unwrap();
    let cp = dir.path().join("checkpoint.db");
    let args: Vec<String> = [
        "import",
        "--source",
        source.to_str().unwrap(),
        "--target",
        &server.url(),
        "--config",
        config.to_str().unwrap(),
        "--checkpoint",
        cp.to_str().unwrap(),
        "--max-region-size",
        "16KiB",
        "--batch-size",
        "4KiB",
        "--sql-mode",
        "STRICT_TRANS_TABLES",
        "--region-concurrency",
        "3",
    ]
    .map(String::from)
    .to_vec();
    let reset = || {
        fresh(server, db, schema);
        let _ = fs::remove_file(&cp);
    };
    // A clean run first: how long a run takes, for the kill delays.
    reset();
    let mut clean = Proc::spawn(&args, &dir.path().join("clean.log"));
    assert!(clean.wait_for(Duration::from_secs(300)).is_some_and(|s| s.success()), "{}", clean.tail());
    let took = clean.elapsed();
    let kills = kills_wanted(6);
    let (mut delivered, mut runs, mut partial) = (0, 0, 0);
    while delivered < kills {
        reset();
        let mut in_round = 0;
        loop {
            runs += 1;
            let mut p = Proc::spawn(&args, &dir.path().join(format!("run-{runs}.log")));
            let kill_at = (in_round < 2).then(|| rng.between(took / 10, took.mul_f64(0.9)));
            match (p.wait_for(kill_at.unwrap_or(Duration::from_secs(300))), kill_at) {
                (None, Some(_)) => {
                    p.kill9();
                    delivered += 1;
                    in_round += 1;
                    // Killed with some of the rows recorded: the rerun must count those.
                    let recorded = server
                        .query_value(&format!("SELECT COUNT(*) FROM `{schema}`.type_error_v2"))
                        .and_then(|n| n.parse::<usize>().ok())
                        .unwrap_or(0);
                    partial += usize::from((1..bad.len()).contains(&recorded));
                }
                (Some(s), _) if s.success() => break,
                (other, _) => panic!("seed {seed}: run {runs} ended with {other:?}:\n{}", p.tail()),
            }
        }
        assert_eq!(
            table_sums(server, db),
            table_sums(server, "maxerr_kill_oracle"),
            "seed {seed}: exactly the good rows"
        );
        assert_eq!(records(server, schema, db), bad, "seed {seed}: each refused row recorded once");
        eprintln!("{test}: seed {seed}: a round with {in_round} kills");
    }
    assert!(delivered >= kills, "seed {seed}: {delivered} kills landed");
    assert!(partial > 0, "seed {seed}: no kill landed between the first record and the last");
    eprintln!("{test}: seed {seed}: {delivered} kills, {partial} with some of the rows recorded");
}

/// SQLite stores what it is given, so it cannot skip rows: a limit asked for is refused before
/// anything is written; Lightning's default conflict threshold alone leaves `ignore` as it was.
#[test]
fn sqlite_refuses_a_limit_and_ignores_duplicates_without_one() {
    let source = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/lightning"))
        .join("lightning_config_max_error/data");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let url = crate::util::sqlite_url(&db);
    let r = import(&source, &url, dir.path(), &["--max-error", "3"]);
    assert!(!r.ok(), "{}", r.text());
    assert!(r.text().contains("that needs a MySQL-family target"), "{}", r.text());
    let work = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    import(&source, &crate::util::sqlite_url(&db), work.path(), &["--conflict", "ignore"]).assert_ok();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let kept: String = conn
        .query_row("SELECT group_concat(val1, ',') FROM (SELECT val1 FROM testtbl ORDER BY id)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, "aaa01,aaa01,aaa02,aaa02,aaa05,aaa06,aaa07,aaa08,aaa09,aaa10", "the first row per id");
}
