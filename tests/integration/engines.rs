//! Tables of non-transactional engines (MyISAM, Aria, MEMORY): their rows commit outside the
//! progress marker's transaction. A keyed one is loaded with REPLACE and resumes at-least-once,
//! which the key keeps exact across `kill -9`; a keyless one is refused before any of its rows
//! is written, naming the option that accepts possible duplicates.

use std::path::Path;
use std::time::Duration;

use hoist_testkit::mariadb::MariaDb;

use crate::crash::{seed, Proc, Rng};
use crate::util::{hoist, table_sums};

/// A mydumper-style dump of one table: its schema file (with `engine`) and data files of
/// INSERT statements of 400 rows each, `rows` rows of about 200 bytes.
fn write_dump(dir: &Path, table: &str, columns: &str, engine: &str, rows: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("eng-schema-create.sql"), "CREATE DATABASE `eng`;\n").unwrap();
    std::fs::write(
        dir.join(format!("eng.{table}-schema.sql")),
        format!("CREATE TABLE `{table}` ({columns}) ENGINE={engine};\n"),
    )
    .unwrap();
    let mut sql = String::new();
    for i in 0..rows {
        sql.push_str(if i % 400 == 0 { "INSERT INTO `t` VALUES " } else { "," });
        sql.push_str(&format!("({i},'{}-{}')", "v".repeat(i % 180), i * 7));
        if i % 400 == 399 || i + 1 == rows {
            sql.push_str(";\n");
        }
    }
    let sql = sql.replace("INSERT INTO `t`", &format!("INSERT INTO `{table}`"));
    std::fs::write(dir.join(format!("eng.{table}.00000.sql")), sql).unwrap();
}

fn import_args(dump: &Path, target: &MariaDb, work: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["import", "--source"].map(String::from).to_vec();
    args.push(dump.display().to_string());
    args.extend(["--target".to_string(), target.url(), "--checkpoint".into()]);
    args.push(work.join("cp.db").display().to_string());
    args.extend(["--batch-size", "8KiB", "--progress", "log"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn a_keyed_myisam_table_killed_at_seeded_moments_ends_exact() {
    let work = tempfile::tempdir().unwrap();
    let dump = work.path().join("dump");
    write_dump(&dump, "keyed", "`id` INT PRIMARY KEY, `v` VARCHAR(250)", "MyISAM", 60_000);
    // The oracle: the same files through the mariadb client.
    let oracle = MariaDb::start();
    oracle.load_sql_file(&dump.join("eng-schema-create.sql"));
    for f in ["eng.keyed-schema.sql", "eng.keyed.00000.sql"] {
        oracle.load_sql_file_into("eng", &dump.join(f));
    }
    let want = table_sums(&oracle, "eng");

    let target = MariaDb::start();
    let args = import_args(&dump, &target, work.path(), &[]);
    let seed = seed("a_keyed_myisam_table_killed_at_seeded_moments_ends_exact");
    let mut rng = Rng::new(seed);
    let mut kills = 0;
    for k in 0..4 {
        let mut run = Proc::spawn(&args, &work.path().join(format!("run-{k}.log")));
        // Kill once rows are going in (the table exists and holds some), at a seeded moment.
        let rows = || {
            // TABLE_ROWS is exact for MyISAM, and asking for it does not fail before the table exists.
            target
                .query_value(
                    "SELECT COALESCE(SUM(TABLE_ROWS), 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'eng'",
                )
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let before = rows();
        while rows() <= before && run.wait_for(Duration::from_millis(10)).is_none() {}
        if run.wait_for(rng.between(Duration::from_millis(0), Duration::from_millis(400))).is_some() {
            break;
        }
        run.kill9();
        kills += 1;
        assert!(run.output().contains("REPLACE"), "the run says the table resumes with REPLACE:\n{}", run.tail());
    }
    eprintln!("a_keyed_myisam_table...: seed {seed}, {kills} kills");
    assert!(kills >= 2, "seed {seed}: only {kills} kills landed while rows went in");
    let last = hoist(&args.iter().map(String::as_str).collect::<Vec<_>>());
    last.assert_ok();
    assert_eq!(
        target.query_value("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA='eng'").unwrap(),
        "MyISAM"
    );
    assert_eq!(table_sums(&target, "eng"), want, "seed {seed}: count and CHECKSUM TABLE equal the oracle's");
}

#[test]
fn a_keyless_aria_table_is_refused_before_a_row_is_written_unless_accepted() {
    let work = tempfile::tempdir().unwrap();
    let dump = work.path().join("dump");
    write_dump(&dump, "nokey", "`id` INT, `v` VARCHAR(250)", "Aria", 2_000);
    let target = MariaDb::start();
    let args = import_args(&dump, &target, work.path(), &[]);
    let run = hoist(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(run.code(), Some(1), "the table fails alone:\n{}", run.text());
    let text = run.text();
    assert!(text.contains("Aria") && text.contains("--allow-keyless-non-transactional"), "{text}");
    assert_eq!(target.query_value("SELECT COUNT(*) FROM eng.nokey").unwrap(), "0", "nothing of it was written");

    // Accepted on a target of its own (this one records the refused import as unfinished).
    let target = MariaDb::start();
    let accepted = tempfile::tempdir().unwrap();
    let args = import_args(&dump, &target, accepted.path(), &["--allow-keyless-non-transactional"]);
    let run = hoist(&args.iter().map(String::as_str).collect::<Vec<_>>());
    run.assert_ok();
    assert_eq!(target.query_value("SELECT COUNT(*) FROM eng.nokey").unwrap(), "2000");
}
