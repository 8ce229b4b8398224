//! What the binary prints for a person to read: log lines in files and pipes, `--progress
//! quiet`, the plan line without checkpoints, and a rerun after success.

use std::path::Path;
use std::process::Command;

use hoist_testkit::dump::{Compression, Format};

use crate::util::{dump, import, sqlite_url, Run};

/// `hoist import` of `src` into an SQLite file in `dir`, with HOIST_LOG as given (None: unset)
/// and stderr a pipe, as under cron or `2>log`.
fn import_logged(dir: &Path, src: &Path, log: Option<&str>, extra: &[&str]) -> Run {
    let (target, cp) = (sqlite_url(&dir.join("out.db")), dir.join("checkpoint.db"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hoist"));
    cmd.args(["import", "--source", src.to_str().unwrap(), "--target", &target, "--checkpoint"])
        .arg(&cp)
        .args(extra)
        .env_remove("HOIST_LOG")
        .env_remove("NO_COLOR");
    if let Some(log) = log {
        cmd.env("HOIST_LOG", log);
    }
    Run { output: cmd.output().expect("run hoist") }
}

fn stderr(run: &Run) -> String {
    String::from_utf8_lossy(&run.output.stderr).into_owned()
}

#[test]
fn logs_in_a_pipe_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = dump(dir.path(), "out_ansi", Format::Sql, Compression::None);
    let run = import_logged(dir.path(), &src, Some("info"), &["--progress", "log"]);
    run.assert_ok();
    let log = stderr(&run);
    assert!(log.contains("INFO"), "{log}");
    assert!(!log.contains('\x1b'), "no ANSI escape codes outside a terminal:\n{log:?}");
}

#[test]
fn quiet_logs_warnings_and_errors_only_unless_hoist_log_says_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = dump(dir.path(), "out_quiet", Format::Sql, Compression::None);
    let run = import_logged(dir.path(), &src, None, &["--progress", "quiet"]);
    run.assert_ok();
    assert!(!stderr(&run).contains("INFO"), "quiet prints no INFO lines:\n{}", stderr(&run));
    std::fs::remove_file(dir.path().join("out.db")).unwrap();
    let run = import_logged(dir.path(), &src, Some("info"), &["--progress", "quiet"]);
    run.assert_ok();
    assert!(stderr(&run).contains("INFO"), "HOIST_LOG wins:\n{}", stderr(&run));
}

#[test]
fn without_checkpoints_the_plan_line_says_none_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = dump(dir.path(), "out_nocp", Format::Sql, Compression::None);
    let run = import_logged(dir.path(), &src, Some("info"), &["--progress", "log", "--no-checkpoint"]);
    run.assert_ok();
    let log = stderr(&run);
    assert!(log.contains("no checkpoint kept"), "{log}");
    assert!(!log.contains("saved the checkpoint"), "{log}");
    // With checkpoints, the line says where it is.
    std::fs::remove_file(dir.path().join("out.db")).unwrap();
    let run = import_logged(dir.path(), &src, Some("info"), &["--progress", "log"]);
    run.assert_ok();
    let cp = dir.path().join("checkpoint.db").display().to_string();
    assert!(stderr(&run).contains(&format!("saved the checkpoint in {cp}")), "{}", stderr(&run));
}

#[test]
fn a_rerun_after_success_prints_no_empty_table() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = dump(dir.path(), "out_rerun", Format::Sql, Compression::None);
    let target = sqlite_url(&dir.path().join("out.db"));
    let first = import(&src, &target, dir.path(), &[]);
    first.assert_ok();
    let header = |run: &Run| run.text().lines().any(|l| l.starts_with("table ") && l.ends_with("result"));
    assert!(header(&first), "{}", first.text());
    let again = import(&src, &target, dir.path(), &[]);
    again.assert_ok();
    assert!(again.text().contains("nothing to do"), "{}", again.text());
    assert!(!header(&again), "no header without rows under it:\n{}", again.text());
}

/// A dump `dir/dump` of database `prog` by hand: tables `a` and `b`, `rows` rows each, with a
/// secondary index on `v`.
fn two_table_dump(dir: &Path, rows: u32) -> std::path::PathBuf {
    let out = dir.join("dump");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("prog-schema-create.sql"), "CREATE DATABASE `prog`;\n").unwrap();
    for t in ["a", "b"] {
        std::fs::write(
            out.join(format!("prog.{t}-schema.sql")),
            format!("CREATE TABLE `{t}` (`id` INT NOT NULL, `v` VARCHAR(100), PRIMARY KEY (`id`), KEY `v` (`v`));\n"),
        )
        .unwrap();
        let mut data = String::new();
        for first in (1..=rows).step_by(50) {
            let values: Vec<String> =
                (first..(first + 50).min(rows + 1)).map(|i| format!("({i},'row {i} of table {t}, padded')")).collect();
            data.push_str(&format!("INSERT INTO `{t}` VALUES {};\n", values.join(",")));
        }
        std::fs::write(out.join(format!("prog.{t}.00000.sql")), data).unwrap();
    }
    out
}

/// The last `progress:` line of a log.
fn last_progress_line(log: &str) -> String {
    log.lines().rfind(|l| l.contains("progress: ")).unwrap_or_else(|| panic!("no progress line:\n{log}")).to_string()
}

/// A resume: the first run loads `a` and part of `b` (a trigger in the target stops `b` at row
/// 1500), the user drops the trigger and clears the error, and the next run loads the rest. Its
/// total counts the whole plan with the earlier run's share done from the start (so it ends at
/// 100 %), its rates are this run's, and its summary sets this run's rows against this run's
/// time, apart from the earlier run's.
#[test]
fn a_resumed_run_reports_its_own_rows_and_counts_earlier_ones_as_done() {
    let dir = tempfile::tempdir().unwrap();
    let src = two_table_dump(dir.path(), 2000);
    let total_mb = (std::fs::metadata(src.join("prog.a.00000.sql")).unwrap().len()
        + std::fs::metadata(src.join("prog.b.00000.sql")).unwrap().len()) as f64
        / 1e6;
    let db = dir.path().join("out.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE b (id INTEGER NOT NULL PRIMARY KEY, v TEXT);
         CREATE TRIGGER halt BEFORE INSERT ON b WHEN NEW.id = 1500 BEGIN SELECT RAISE(ABORT, 'not yet'); END;",
    )
    .unwrap();
    let small = ["--progress", "log", "--batch-size", "4KiB", "--region-concurrency", "1"];
    let first = import_logged(dir.path(), &src, Some("info"), &small);
    assert_eq!(first.code(), Some(1), "b fails at row 1500:\n{}", first.text());
    let loaded_b = c.query_row("SELECT COUNT(*) FROM b", [], |r| r.get::<_, i64>(0)).unwrap() as u64;
    assert!(loaded_b > 0 && loaded_b < 1500, "b's first batches are in ({loaded_b} rows)");
    c.execute_batch("DROP TRIGGER halt").unwrap();
    let (target, cp) = (sqlite_url(&db), dir.path().join("checkpoint.db"));
    let cp = cp.to_str().unwrap();
    crate::util::hoist(&["checkpoint", "error-ignore", "`prog`.`b`", "--target", &target, "--checkpoint", cp])
        .assert_ok();

    let second = import_logged(dir.path(), &src, Some("info"), &small);
    second.assert_ok();
    let (out, log) = (String::from_utf8_lossy(&second.output.stdout).into_owned(), stderr(&second));
    let earlier = 2000 + loaded_b;
    let this = 4000 - earlier;
    let summary = out.lines().last().unwrap_or_default();
    assert!(
        summary.contains(&format!("{this} rows loaded by this run in "))
            && summary.contains(&format!(", {earlier} by earlier runs")),
        "the summary sets this run's rows apart from the earlier run's:\n{out}"
    );
    // The last progress line: the whole plan, done; this run's bytes only in its rate.
    let line = last_progress_line(&log);
    assert!(line.contains(&format!("progress: 100.0% ({total_mb:.1} of {total_mb:.1} MB), 4000 rows")), "{line}");
    assert!(line.contains("rows; this run: ") && line.contains(&format!(" {this} rows in ")), "{line}");
    assert!(line.contains("earlier runs: ") && line.contains(&format!(" MB, {earlier} rows")), "{line}");
    let this_mb: f64 = line.split("this run: ").nth(1).and_then(|s| s.split(' ').next()?.parse().ok()).unwrap();
    assert!(this_mb < total_mb / 2.0, "this run moved less than half of the dump:\n{line}");
    assert!(!log.contains("MiB") && !out.contains("MiB"), "one unit, MB:\n{log}\n{out}");
}

/// A table's steps after its data are named in the log, so that a long index build does not
/// look like a hang.
#[test]
fn log_lines_name_each_tables_step_after_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let src = two_table_dump(dir.path(), 1000);
    let run = import_logged(dir.path(), &src, Some("info"), &["--progress", "log", "--defer-indexes-from", "1"]);
    run.assert_ok();
    let log = stderr(&run);
    for step in ["adding indexes", "verifying", "analyzing"] {
        for t in ["a", "b"] {
            assert!(log.contains(&format!("`prog`.`{t}`: {step}")), "{t}: {step}:\n{log}");
        }
    }
    // In this order for each table.
    let at = |s: &str| log.find(&format!("`prog`.`a`: {s}")).unwrap();
    assert!(at("adding indexes") < at("verifying") && at("verifying") < at("analyzing"), "{log}");
    assert!(last_progress_line(&log).contains("progress: 100.0%"), "{log}");
}

/// ANALYZE is a round trip per table: a table of a few rows is left to the server's own
/// statistics, one of a thousand rows or more is analyzed.
#[test]
fn only_tables_of_a_thousand_rows_or_more_are_analyzed() {
    let dir = tempfile::tempdir().unwrap();
    let src = two_table_dump(dir.path(), 1000);
    // Table `a` loses all but 999 of its rows: one fewer than the threshold.
    let a = src.join("prog.a.00000.sql");
    let text = std::fs::read_to_string(&a).unwrap();
    let kept: Vec<&str> = text.lines().take(20).collect();
    let last = kept.last().unwrap().replace(",(1000,'row 1000 of table a, padded')", "");
    std::fs::write(&a, format!("{}\n{last}\n", kept[..19].join("\n"))).unwrap();
    import_logged(dir.path(), &src, None, &["--defer-indexes-from", "1"]).assert_ok();
    let conn = rusqlite::Connection::open(dir.path().join("out.db")).unwrap();
    let rows = |t: &str| conn.query_row(&format!("SELECT COUNT(*) FROM `{t}`"), [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!((rows("a"), rows("b")), (999, 1000));
    let analyzed: Vec<String> = conn
        .prepare("SELECT DISTINCT tbl FROM sqlite_stat1 ORDER BY tbl")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(analyzed, ["b"]);
}
