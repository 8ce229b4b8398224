//! The checkpoint's refusals and its controls (`hoist checkpoint ...`, `hoist ctl ...`): each
//! asserts the message a user reads and the state that results.

use std::path::{Path, PathBuf};

use hoist_testkit::dump::{Compression, Format};
use hoist_testkit::mariadb::MariaDb;
use hoist_testkit::rows::mysql_table_sum;

use crate::util::{assert_refused, dump, follow, hoist, hoist_in, import, sqlite_url, Run};

const BAD_ROWS: &str = "INSERT INTO `bad` VALUES (1,'a'),\n(2,'b' oops),(3,'c');\n";
const FIXED_ROWS: &str = "INSERT INTO `bad` VALUES (1,'a'),\n(2,'b'),(3,'c');\n";

/// Database `db`: `good` (two files, 3 rows), `other` (1 row) and `bad`, whose file has a malformed row.
fn failing_dump(dir: &Path, db: &str) -> PathBuf {
    let src = dir.join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let w = |name: &str, text: &str| std::fs::write(src.join(name.replace("DB", db)), text).unwrap();
    w("DB-schema-create.sql", "CREATE DATABASE `DB`;\n");
    w("DB.good-schema.sql", "CREATE TABLE `good` (`id` int NOT NULL, `v` varchar(20), PRIMARY KEY (`id`));\n");
    w("DB.good.00000.sql", "INSERT INTO `good` VALUES (1,'one'),(2,'two');\n");
    w("DB.good.00001.sql", "INSERT INTO `good` VALUES (3,'three');\n");
    w("DB.other-schema.sql", "CREATE TABLE `other` (`k` varchar(10));\n");
    w("DB.other.00000.sql", "INSERT INTO `other` VALUES ('x');\n");
    w("DB.bad-schema.sql", "CREATE TABLE `bad` (`id` int NOT NULL, `v` varchar(5), PRIMARY KEY (`id`));\n");
    w("DB.bad.00000.sql", BAD_ROWS);
    src
}

struct Case {
    dir: tempfile::TempDir,
    src: PathBuf,
    target: String,
}

impl Case {
    /// A failing dump imported once into SQLite: `bad` is in error, the rest loaded.
    fn sqlite() -> Case {
        let dir = tempfile::tempdir().unwrap();
        let src = failing_dump(dir.path(), "cpt");
        let target = sqlite_url(&dir.path().join("out.db"));
        let case = Case { dir, src, target };
        assert_eq!(case.import(&[]).code(), Some(1));
        case
    }
    /// As [`Case::sqlite`], with `bad` reset by error-destroy: a checkpoint with no error, some
    /// tables done, one not started.
    fn without_errors() -> Case {
        let case = Case::sqlite();
        case.control(&["checkpoint", "error-destroy", "all"]).assert_ok();
        case
    }
    fn checkpoint(&self) -> String {
        self.dir.path().join("checkpoint.db").display().to_string()
    }
    fn import(&self, extra: &[&str]) -> Run {
        import(&self.src, &self.target, self.dir.path(), extra)
    }
    /// `hoist checkpoint ARGS` with this case's target and checkpoint.
    fn control(&self, args: &[&str]) -> Run {
        let cp = self.checkpoint();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--target", &self.target, "--checkpoint", &cp]);
        hoist(&all)
    }
    fn count(&self, table: &str) -> i64 {
        let path = self.target.trim_start_matches("sqlite://");
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |r| r.get(0)).unwrap()
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.src.join(name), text).unwrap();
    }
}

#[test]
fn a_table_in_error_blocks_the_rerun_with_the_exact_commands() {
    let case = Case::sqlite();
    let cp = case.checkpoint();
    let run = case.import(&[]);
    let destroy = format!("hoist checkpoint error-destroy '`cpt`.`bad`' --target {} --checkpoint {cp}", case.target);
    let ignore = format!("hoist checkpoint error-ignore '`cpt`.`bad`' --target {} --checkpoint {cp}", case.target);
    assert_refused(&run, &["records errors in 1 table", "cpt.bad.00000.sql:2 (byte 41)", &destroy, &ignore]);
    assert_eq!(case.count("good"), 3, "nothing was written by the refused run");
}

#[test]
fn fix_the_file_then_error_destroy_loads_the_table_again() {
    let case = Case::sqlite();
    case.write("cpt.bad.00000.sql", FIXED_ROWS);
    let run = case.control(&["checkpoint", "error-destroy", "`cpt`.`bad`"]);
    run.assert_ok();
    assert!(run.text().contains("`cpt`.`bad`: dropped in the target"), "{}", run.text());
    case.import(&[]).assert_ok();
    assert_eq!((case.count("good"), case.count("other"), case.count("bad")), (3, 1, 3));
}

#[test]
fn error_destroy_leaves_tables_without_errors_alone() {
    let case = Case::sqlite();
    let run = case.control(&["checkpoint", "error-destroy", "all"]);
    run.assert_ok();
    let text = run.text();
    // What was done, and one line for the rest: not a line for each table left alone.
    assert_eq!(text.lines().collect::<Vec<_>>().len(), 2, "{text}");
    assert!(text.contains("`cpt`.`bad`: dropped in the target"), "{text}");
    assert!(text.contains("2 table(s) not in error: left alone"), "{text}");
    assert!(!text.contains("`cpt`.`good`"), "{text}");
    assert_eq!(case.count("good"), 3);
    // A table named is named back.
    let run = case.control(&["ctl", "--checkpoint-error-destroy=`cpt`.`good`"]);
    run.assert_ok();
    assert_eq!(run.text().trim(), "`cpt`.`good`: not in error; left alone");
}

#[test]
fn a_plain_db_dot_table_name_is_accepted_by_the_controls() {
    let case = Case::sqlite();
    case.write("cpt.bad.00000.sql", FIXED_ROWS);
    let run = case.control(&["checkpoint", "error-destroy", "cpt.bad"]);
    run.assert_ok();
    assert!(run.text().contains("`cpt`.`bad`: dropped in the target"), "{}", run.text());
    case.import(&[]).assert_ok();
    assert_eq!(case.count("bad"), 3);
}

#[test]
fn lightning_ctl_spelling_does_the_same() {
    let case = Case::sqlite();
    case.write("cpt.bad.00000.sql", FIXED_ROWS);
    case.control(&["ctl", "--checkpoint-error-destroy=`cpt`.`bad`"]).assert_ok();
    case.import(&[]).assert_ok();
    assert_eq!(case.count("bad"), 3);
}

#[test]
fn unknown_table_names_list_the_known_ones() {
    let case = Case::sqlite();
    let run = case.control(&["checkpoint", "error-ignore", "`cpt`.`Bad`"]);
    assert_refused(&run, &["no table `cpt`.`Bad`", "case-sensitive", "`cpt`.`bad`", "`cpt`.`good`", "`cpt`.`other`"]);
    let run = case.control(&["checkpoint", "remove", "cpt.bad.x"]);
    assert_refused(&run, &["write `db`.`table` (with the backquotes; db.table without them"]);
}

#[test]
fn show_gives_state_progress_and_error_of_each_table() {
    let case = Case::sqlite();
    let run = case.control(&["checkpoint", "show"]);
    run.assert_ok();
    let text = run.text();
    let line =
        |t: &str| text.lines().find(|l| l.starts_with(t)).unwrap_or_else(|| panic!("{t} in:\n{text}")).to_string();
    let good = line("`cpt`.`good`");
    assert!(good.contains("done") && good.contains("2/2") && good.contains(" 3 "), "{good}");
    let bad = line("`cpt`.`bad`");
    assert!(bad.contains("writing") && bad.contains("0/1") && bad.contains("oops"), "{bad}");
}

#[test]
fn dump_writes_csv_files_with_headers() {
    let case = Case::sqlite();
    let out = case.dir.path().join("cpdump");
    let run = case.control(&["checkpoint", "dump", out.to_str().unwrap()]);
    run.assert_ok();
    let tables = std::fs::read_to_string(out.join("tables.csv")).unwrap();
    assert!(tables.starts_with("id,database,table,schema_file,state,error_state,error,target_identity\n"), "{tables}");
    assert!(tables.lines().any(|l| l.contains(",cpt,bad,") && l.contains("writing") && l.contains("oops")), "{tables}");
    let chunks = std::fs::read_to_string(out.join("chunks.csv")).unwrap();
    assert_eq!(chunks.lines().count(), 1 + 4, "header and one line per chunk:\n{chunks}");
    assert!(std::fs::read_to_string(out.join("task.csv")).unwrap().starts_with("task_id,source,target,"));
    assert!(out.join("files.csv").exists());
}

#[test]
fn error_ignore_goes_on_from_where_the_table_stopped() {
    // The server rejects a value; the user widens the column, clears the error and resumes.
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let src = failing_dump(dir.path(), "cpt_ignore");
    std::fs::write(src.join("cpt_ignore.bad.00000.sql"), "INSERT INTO `bad` VALUES (1,'a'),(2,'much too long');\n")
        .unwrap();
    let meta = ["--meta-schema", "cpt_ignore_meta"];
    assert_eq!(import(&src, &server.url(), dir.path(), &meta).code(), Some(1));
    server.exec("ALTER TABLE cpt_ignore.bad MODIFY v varchar(50)");
    let cp = dir.path().join("checkpoint.db").display().to_string();
    let url = server.url();
    let run = hoist(&["checkpoint", "error-ignore", "`cpt_ignore`.`bad`", "--target", &url, "--checkpoint", &cp]);
    run.assert_ok();
    assert!(run.text().contains("error cleared; the next run goes on from state writing"), "{}", run.text());
    // It advises what exists: no switch that hoist does not have.
    assert!(run.text().contains("use error-destroy instead"), "{}", run.text());
    assert!(!run.text().contains("verification on"), "{}", run.text());
    import(&src, &server.url(), dir.path(), &meta).assert_ok();
    assert_eq!(server.query_value("SELECT COUNT(*) FROM cpt_ignore.bad").as_deref(), Some("2"));
    assert_eq!(server.query_value("SELECT v FROM cpt_ignore.bad WHERE id = 2").as_deref(), Some("much too long"));
}

#[test]
fn remove_forgets_a_table_and_the_next_run_loads_it_from_its_start() {
    let case = Case::sqlite();
    case.write("cpt.bad.00000.sql", FIXED_ROWS);
    let run = case.control(&["checkpoint", "remove", "`cpt`.`bad`"]);
    run.assert_ok();
    assert!(run.text().contains("`cpt`.`bad`: removed from the checkpoint"), "{}", run.text());
    case.import(&[]).assert_ok();
    assert_eq!((case.count("good"), case.count("bad")), (3, 3));
}

#[test]
fn remove_all_then_a_new_run_refuses_tables_that_hold_rows() {
    let case = Case::sqlite();
    case.control(&["checkpoint", "remove", "all"]).assert_ok();
    assert!(!Path::new(&case.checkpoint()).exists(), "the checkpoint file is gone");
    let run = case.import(&[]);
    assert_refused(&run, &["already hold rows", "`cpt`.`good` (3 rows)", "`cpt`.`other` (1 rows)"]);
}

#[test]
fn a_changed_file_under_loaded_rows_is_refused_and_the_advice_loads_it_again() {
    let case = Case::without_errors();
    case.write("cpt.bad.00000.sql", FIXED_ROWS);
    case.write("cpt.good.00001.sql", "INSERT INTO `good` VALUES (3,'three'),(4,'four');\n");
    let run = case.import(&[]);
    let command = "hoist checkpoint remove '`cpt`.`good`' --drop-tables";
    assert_refused(&run, &["cpt.good.00001.sql was modified", "under rows of `cpt`.`good`", command]);
    follow(&run.text(), command).assert_ok();
    case.import(&[]).assert_ok();
    assert_eq!((case.count("good"), case.count("other"), case.count("bad")), (4, 1, 3));
}

#[test]
fn changed_settings_are_refused_and_the_advice_starts_over() {
    let case = Case::without_errors();
    case.write("cpt.bad.00000.sql", FIXED_ROWS);
    let run = case.import(&["--max-region-size", "1KiB"]);
    let command = "hoist checkpoint remove all --drop-tables";
    assert_refused(&run, &["settings that shape the plan changed", command]);
    let removed = follow(&run.text(), command);
    removed.assert_ok();
    assert!(removed.text().contains("`cpt`.`good`: dropped in the target"), "{}", removed.text());
    case.import(&["--max-region-size", "1KiB"]).assert_ok();
    assert_eq!((case.count("good"), case.count("other"), case.count("bad")), (3, 1, 3));
}

#[test]
fn an_added_file_is_refused_and_named() {
    let case = Case::without_errors();
    case.write("cpt.good.00002.sql", "INSERT INTO `good` VALUES (9,'nine');\n");
    assert_refused(&case.import(&[]), &["cpt.good.00002.sql was added"]);
}

#[test]
fn a_removed_file_is_refused_and_named() {
    let case = Case::without_errors();
    std::fs::remove_file(case.src.join("cpt.other.00000.sql")).unwrap();
    assert_refused(&case.import(&[]), &["cpt.other.00000.sql was removed"]);
}

#[test]
fn another_target_is_refused() {
    let case = Case::without_errors();
    let other = sqlite_url(&case.dir.path().join("elsewhere.db"));
    let run = import(&case.src, &other, case.dir.path(), &[]);
    assert_refused(&run, &["recorded against another target", &case.target]);
}

#[test]
fn another_target_is_refused_before_any_advice_about_table_errors() {
    // error-destroy, suggested against the wrong target, would drop a table of another import.
    let case = Case::sqlite();
    let other = sqlite_url(&case.dir.path().join("elsewhere.db"));
    let run = import(&case.src, &other, case.dir.path(), &[]);
    let remove = format!("hoist checkpoint remove all --target {} --checkpoint {}", case.target, case.checkpoint());
    assert_refused(&run, &["recorded against another target", &remove]);
    assert!(!run.text().contains("error-destroy"), "no advice to drop tables:\n{}", run.text());
}

/// A checkpoint control run against `target` instead of the case's own.
fn control_at(case: &Case, target: &str, args: &[&str]) -> Run {
    let cp = case.checkpoint();
    let mut all = args.to_vec();
    all.extend(["--target", target, "--checkpoint", &cp]);
    hoist(&all)
}

#[test]
fn error_destroy_against_another_server_refuses_and_drops_nothing() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let src = failing_dump(dir.path(), "cpt_elsewhere");
    let meta = ["--meta-schema", "cpt_elsewhere_meta"];
    assert_eq!(import(&src, &server.url(), dir.path(), &meta).code(), Some(1));
    // Another server has a table of the same name, with a row, and no hoist_meta at all.
    let other = MariaDb::start();
    other.exec("CREATE DATABASE cpt_elsewhere; CREATE TABLE cpt_elsewhere.bad (id int, v varchar(5)); INSERT INTO cpt_elsewhere.bad VALUES (7, 'mine')");
    let cp = dir.path().join("checkpoint.db").display().to_string();
    let url = other.url();
    let run = hoist(&[
        "checkpoint",
        "error-destroy",
        "`cpt_elsewhere`.`bad`",
        "-t",
        &url,
        "--checkpoint",
        &cp,
        meta[0],
        meta[1],
    ]);
    assert_refused(
        &run,
        &["belongs to the import into", &server.url(), &url, "is another target", "nothing was changed"],
    );
    assert_eq!(other.query_value("SELECT v FROM cpt_elsewhere.bad WHERE id = 7").as_deref(), Some("mine"));
    let show = hoist(&["checkpoint", "show", "--checkpoint", &cp]);
    assert!(show.text().contains("oops"), "the error is still recorded:\n{}", show.text());
}

#[test]
fn error_destroy_leaves_a_table_created_again_by_someone_else() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let src = failing_dump(dir.path(), "cpt_recreated");
    let meta = ["--meta-schema", "cpt_recreated_meta"];
    assert_eq!(import(&src, &server.url(), dir.path(), &meta).code(), Some(1));
    // MariaDB tells tables apart by creation time, to the second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    server.exec("DROP TABLE cpt_recreated.bad; CREATE TABLE cpt_recreated.bad (id int, v varchar(5)); INSERT INTO cpt_recreated.bad VALUES (7, 'mine')");
    let cp = dir.path().join("checkpoint.db").display().to_string();
    let url = server.url();
    let run = hoist(&["checkpoint", "error-destroy", "all", "-t", &url, "--checkpoint", &cp, meta[0], meta[1]]);
    assert_refused(&run, &["`cpt_recreated`.`bad`", "is not the table the import created", "nothing was dropped"]);
    assert_eq!(server.query_value("SELECT v FROM cpt_recreated.bad WHERE id = 7").as_deref(), Some("mine"));
}

#[test]
fn error_ignore_and_remove_against_another_target_refuse() {
    let case = Case::sqlite();
    let other = Case::sqlite();
    for args in [
        &["checkpoint", "error-ignore", "`cpt`.`bad`"][..],
        &["checkpoint", "remove", "`cpt`.`bad`"],
        &["checkpoint", "remove", "all"],
        &["checkpoint", "error-destroy", "all"],
    ] {
        let run = control_at(&case, &other.target, args);
        assert_refused(&run, &["belongs to the import into", &case.target, &other.target, "is another target"]);
    }
    // An SQLite file that is no hoist target is refused too, and left as it was.
    let plain = case.dir.path().join("plain.db");
    rusqlite::Connection::open(&plain)
        .unwrap()
        .execute_batch("CREATE TABLE bad (id int); INSERT INTO bad VALUES (1)")
        .unwrap();
    let run = control_at(&case, &sqlite_url(&plain), &["checkpoint", "remove", "all"]);
    assert_refused(&run, &["not a hoist target"]);
    let tables: i64 = rusqlite::Connection::open(&plain)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "no hoist tables were added to it");
    // A mistyped file is no reason to forget the checkpoint either.
    let typo = sqlite_url(&case.dir.path().join("ot.db"));
    assert_refused(&control_at(&case, &typo, &["checkpoint", "remove", "all"]), &["cannot reach the target"]);
    assert!(!case.dir.path().join("ot.db").exists(), "it was not created");
    // The checkpoint is as it was: the error still blocks the import.
    assert_refused(&case.import(&[]), &["records errors in 1 table"]);
}

#[test]
fn a_control_without_a_target_acts_on_the_recorded_one() {
    let case = Case::sqlite();
    case.write("cpt.bad.00000.sql", FIXED_ROWS);
    let cwd = tempfile::tempdir().unwrap();
    let cp = case.checkpoint();
    let run = hoist_in(cwd.path(), &["checkpoint", "error-destroy", "`cpt`.`bad`", "--checkpoint", &cp]);
    run.assert_ok();
    assert!(run.text().contains(&format!("`cpt`.`bad`: dropped in the target {}", case.target)), "{}", run.text());
    assert!(!cwd.path().join("hoist.db").exists(), "no ./hoist.db was made");
    let conn = rusqlite::Connection::open(case.target.trim_start_matches("sqlite://")).unwrap();
    let left: i64 = conn.query_row("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'bad'", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0, "the table was dropped in the recorded target");
    case.import(&[]).assert_ok();
    assert_eq!(case.count("bad"), 3);
}

#[test]
fn changed_plan_settings_are_refused() {
    let case = Case::without_errors();
    let run = case.import(&["--max-region-size", "1KiB"]);
    assert_refused(&run, &["settings that shape the plan changed", "max_region_size: recorded 268435456, given 1024"]);
    let run = case.import(&["--tables", "cpt.good"]);
    assert_refused(&run, &["settings that shape the plan changed", "filter: recorded [], given [\"cpt.good\"]"]);
}

#[test]
fn a_dropped_and_recreated_table_is_loaded_again() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = dump(dir.path(), "cpt_recreate", Format::Sql, Compression::None);
    let config = dir.path().join("hoist.toml");
    std::fs::write(&config, "[checkpoint]\nkeep-after-success = \"origin\"\n").unwrap();
    let extra = ["--config", config.to_str().unwrap(), "--meta-schema", "cpt_recreate_meta"];
    import(&src, &server.url(), dir.path(), &extra).assert_ok();
    let orders = data.table("orders");
    // MariaDB tells tables apart by creation time, to the second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    server.exec(&format!("DROP TABLE cpt_recreate.orders; USE cpt_recreate; {}", orders.create_sql));
    let run = import(&src, &server.url(), dir.path(), &extra);
    run.assert_ok();
    assert!(run.text().contains("importing it again from its start"), "a warning says so:\n{}", run.text());
    for t in &data.tables {
        assert_eq!(mysql_table_sum(&server.url(), "cpt_recreate", &t.name, &t.columns), t.sum(), "table {}", t.name);
    }
}

#[test]
fn keep_after_success_rename_keeps_a_copy_under_the_task_id() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = dump(dir.path(), "gen", Format::Sql, Compression::None);
    let config = dir.path().join("hoist.toml");
    std::fs::write(&config, "[checkpoint]\nkeep-after-success = \"rename\"\n").unwrap();
    let db = dir.path().join("out.db");
    import(&src, &sqlite_url(&db), dir.path(), &["--config", config.to_str().unwrap()]).assert_ok();
    assert!(!dir.path().join("checkpoint.db").exists());
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("checkpoint.db.") && n.ends_with(".done"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
}

#[test]
fn the_mysql_checkpoint_driver_keeps_the_checkpoint_on_the_server() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let src = failing_dump(dir.path(), "cpt_driver");
    let url = server.url();
    let flags =
        ["--checkpoint-driver", "mysql", "--checkpoint-schema", "cpt_driver_cp", "--meta-schema", "cpt_driver_m"];
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--target", &url]);
        all.extend(flags);
        hoist(&all)
    };
    let src_s = src.to_str().unwrap();
    assert_eq!(run(&["import", "--source", src_s, "--progress", "quiet"]).code(), Some(1));
    assert_eq!(
        server.query_value("SELECT state FROM cpt_driver_cp.`tables` WHERE table_name = 'bad'").as_deref(),
        Some("writing")
    );
    let show = run(&["checkpoint", "show"]);
    show.assert_ok();
    assert!(show.text().contains("`cpt_driver`.`bad`") && show.text().contains("oops"), "{}", show.text());
    std::fs::write(src.join("cpt_driver.bad.00000.sql"), FIXED_ROWS).unwrap();
    run(&["checkpoint", "error-destroy", "`cpt_driver`.`bad`"]).assert_ok();
    run(&["import", "--source", src_s, "--progress", "quiet"]).assert_ok();
    assert_eq!(server.query_value("SELECT COUNT(*) FROM cpt_driver.bad").as_deref(), Some("3"));
    assert_eq!(
        server
            .query_value("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'cpt_driver_cp'")
            .as_deref(),
        Some("0"),
        "removed after success"
    );
}

#[test]
fn running_a_finished_import_again_says_so_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = dump(dir.path(), "gen", Format::Sql, Compression::None);
    let db = dir.path().join("out.db");
    import(&src, &sqlite_url(&db), dir.path(), &[]).assert_ok();
    // The checkpoint is gone after success (as after a kill right at the end); the target knows.
    let run = import(&src, &sqlite_url(&db), dir.path(), &[]);
    run.assert_ok();
    assert!(run.text().contains("imported into this target already"), "{}", run.text());
    assert!(!dir.path().join("checkpoint.db").exists(), "no empty checkpoint is left behind");
    let orders = data.table("orders");
    assert_eq!(hoist_testkit::rows::sqlite_table_sum(&db, "orders", &orders.columns), orders.sum());
    // Another dump (a file changed) into the same full tables is still refused.
    std::fs::write(
        src.join("gen.orders.99999.sql"),
        "INSERT INTO `orders` VALUES (1,1,1.00,'x','2020-01-01 00:00:00','n');\n",
    )
    .unwrap();
    assert_refused(&import(&src, &sqlite_url(&db), dir.path(), &[]), &["already hold rows"]);
}

/// `hoist import` of `src` into `target` from `cwd`, with the default checkpoint
/// (./hoist-checkpoint.db, relative to `cwd`).
fn import_from(cwd: &Path, src: &Path, target: &str, extra: &[&str]) -> Run {
    let mut args = vec!["import", "--source", src.to_str().unwrap(), "--target", target, "--progress", "quiet"];
    args.extend_from_slice(extra);
    hoist_in(cwd, &args)
}

/// An interrupted import (a table error, then a kill's state: no error, tables unfinished) run
/// again from another directory is told where its checkpoint is, not that the tables hold rows.
fn run_from_another_directory_finds_the_checkpoint(db: &str, target: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let src = failing_dump(dir.path(), db);
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    assert_eq!(import_from(&first, &src, target, extra).code(), Some(1));
    let cp = first.join("hoist-checkpoint.db").display().to_string();
    let told = [
        "an unfinished import of this dump exists (task ",
        &format!("its checkpoint is at {cp}: run from {} or pass --checkpoint {cp}", first.display()),
    ];
    assert_refused(&import_from(&second, &src, target, extra), &told);
    assert!(!second.join("hoist-checkpoint.db").exists(), "no empty checkpoint is left behind");
    // With the checkpoint named, the run is the task's own again: its table error shows.
    let named = [extra, &["--checkpoint", &cp]].concat();
    assert_refused(&import_from(&second, &src, target, &named), &["records errors in 1 table"]);
    // As a kill leaves it: no error, a table not loaded yet (its file is as it was: a fixed
    // file would make it another dump).
    let destroy = [&["checkpoint", "error-destroy", "all", "--target", target][..], extra].concat();
    hoist_in(&first, &destroy).assert_ok();
    assert_refused(&import_from(&second, &src, target, extra), &told);
    std::fs::write(src.join(format!("{db}.bad.00000.sql")), FIXED_ROWS).unwrap();
    import_from(&first, &src, target, extra).assert_ok();
    // Finished: from anywhere, the target says so.
    let again = import_from(&second, &src, target, extra);
    again.assert_ok();
    assert!(again.text().contains("imported into this target already"), "{}", again.text());
}

#[test]
fn a_run_from_another_directory_is_told_where_the_checkpoint_is_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    run_from_another_directory_finds_the_checkpoint("cpt_cwd", &sqlite_url(&dir.path().join("out.db")), &[]);
}

#[test]
fn a_run_from_another_directory_is_told_where_the_checkpoint_is_mariadb() {
    let server = MariaDb::shared();
    run_from_another_directory_finds_the_checkpoint("cpt_cwd_m", &server.url(), &["--meta-schema", "cpt_cwd_m_meta"]);
}

#[test]
fn a_checkpoint_removed_since_is_not_sent_for() {
    for by_hand in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let src = failing_dump(dir.path(), "cpt_gone");
        let target = sqlite_url(&dir.path().join("out.db"));
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        std::fs::create_dir_all(&first).unwrap();
        std::fs::create_dir_all(&second).unwrap();
        assert_eq!(import_from(&first, &src, &target, &[]).code(), Some(1));
        if by_hand {
            std::fs::remove_file(first.join("hoist-checkpoint.db")).unwrap();
        } else {
            hoist_in(&first, &["checkpoint", "remove", "all"]).assert_ok();
        }
        let run = import_from(&second, &src, &target, &[]);
        assert_refused(&run, &["already hold rows"]);
        assert!(!run.text().contains("unfinished import"), "{}", run.text());
    }
}

#[test]
fn a_user_without_rights_on_the_meta_schema_is_told_which_and_what_to_do() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = dump(dir.path(), "cpt_rights", Format::Sql, Compression::None);
    server.exec(
        "DROP USER IF EXISTS 'cpt_rights'@'127.0.0.1'; CREATE USER 'cpt_rights'@'127.0.0.1' IDENTIFIED BY 'pw'; \
         GRANT ALL ON cpt_rights.* TO 'cpt_rights'@'127.0.0.1'",
    );
    let target = format!("mysql://cpt_rights:pw@127.0.0.1:{}", server.port());
    let run = import(&src, &target, dir.path(), &["--meta-schema", "cpt_rights_meta"]);
    assert_eq!(run.code(), Some(2), "{}", run.text());
    for says in ["`cpt_rights_meta`", "progress markers", "grant the user", "--meta-schema"] {
        assert!(run.text().to_lowercase().contains(&says.to_lowercase()), "the message says {says:?}:\n{}", run.text());
    }
    assert!(!run.text().contains(":pw@"), "no password in the output:\n{}", run.text());
}

#[test]
fn a_view_of_another_definer_fails_alone_and_skip_definer_creates_it() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    let w = |name: &str, text: &str| std::fs::write(src.join(name), text).unwrap();
    w("cpt_def-schema-create.sql", "CREATE DATABASE `cpt_def`;\n");
    w("cpt_def.t-schema.sql", "CREATE TABLE `t` (`id` int NOT NULL PRIMARY KEY);\n");
    w("cpt_def.t.00000.sql", "INSERT INTO `t` VALUES (1),(2);\n");
    w(
        "cpt_def.v-schema-view.sql",
        "CREATE ALGORITHM=UNDEFINED DEFINER=`someone`@`%` SQL SECURITY DEFINER VIEW `v` AS SELECT `id` FROM `t`;\n",
    );
    server.exec(
        "DROP DATABASE IF EXISTS cpt_def; DROP USER IF EXISTS 'cpt_def'@'127.0.0.1'; \
         CREATE USER 'cpt_def'@'127.0.0.1' IDENTIFIED BY 'pw'; GRANT ALL ON cpt_def.* TO 'cpt_def'@'127.0.0.1'; \
         GRANT ALL ON cpt_def_meta.* TO 'cpt_def'@'127.0.0.1'",
    );
    let target = format!("mysql://cpt_def:pw@127.0.0.1:{}", server.port());
    let meta = ["--meta-schema", "cpt_def_meta"];
    let run = import(&src, &target, dir.path(), &meta);
    assert_eq!(run.code(), Some(1), "{}", run.text());
    let text = run.text();
    assert!(text.contains("view `cpt_def`.`v`"), "the view is named:\n{text}");
    assert!(text.contains("only the objects above failed") && text.contains("--skip-definer"), "{text}");
    assert!(!text.contains("resolve each failed table"), "no table failed:\n{text}");
    let cp = dir.path().join("checkpoint.db").display().to_string();
    let show = hoist(&["checkpoint", "show", "--checkpoint", &cp]);
    assert!(show.text().contains("could not create") && show.text().contains("`cpt_def`.`v`"), "{}", show.text());
    let again = import(&src, &target, dir.path(), &[meta[0], meta[1], "--skip-definer"]);
    again.assert_ok();
    assert_eq!(server.query_value("SELECT COUNT(*) FROM cpt_def.v").as_deref(), Some("2"));
}

#[test]
fn a_table_that_holds_rows_is_refused_and_the_advice_skips_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = failing_dump(dir.path(), "cpt");
    std::fs::write(src.join("cpt.bad.00000.sql"), FIXED_ROWS).unwrap();
    let db = dir.path().join("out.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE \"other\" (k TEXT); INSERT INTO \"other\" VALUES ('mine');").unwrap();
    drop(conn);
    let target = sqlite_url(&db);
    let run = import(&src, &target, dir.path(), &[]);
    let skip = "--tables '!`cpt`.`other`'";
    assert_refused(&run, &["`cpt`.`other` (1 rows)", skip]);
    import(&src, &target, dir.path(), &["--tables", "!`cpt`.`other`"]).assert_ok();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |t: &str| conn.query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!((count("good"), count("bad"), count("other")), (3, 3, 1), "the others loaded, the user's row stays");
}
