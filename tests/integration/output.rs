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
