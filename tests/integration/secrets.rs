//! A password never leaks (issue 10, point 4): not in what hoist prints, not in the files it
//! writes, not in what it stores on a server. The password holds `/ # ? @ %`, the characters
//! that break a URL pasted together by hand, and ends in a mark that survives
//! percent-encoding, so that no form of it (raw or escaped) goes unseen.

use std::path::{Path, PathBuf};

use hoist_testkit::mariadb::MariaDb;

use crate::util::{hoist, Run};

const PASSWORD: &str = "pa/ss#w?o@r%d-XYZZY";
/// What every form of the password holds: `XYZZY` is the same raw and percent-encoded.
const MARK: &str = "XYZZY";

/// One table that loads and one whose duplicate key is a table error, so that the run ends
/// with the `hoist checkpoint ...` commands that repeat the run's options.
fn dump(dir: &Path) -> PathBuf {
    let src = dir.join("dump");
    std::fs::create_dir(&src).unwrap();
    for (name, text) in [
        ("secretdb-schema-create.sql", "CREATE DATABASE `secretdb`;\n"),
        ("secretdb.good-schema.sql", "CREATE TABLE `good` (id INT PRIMARY KEY);\n"),
        ("secretdb.good.000000000.sql", "INSERT INTO `good` VALUES (1),(2);\n"),
        ("secretdb.bad-schema.sql", "CREATE TABLE `bad` (id INT PRIMARY KEY);\n"),
        ("secretdb.bad.000000000.sql", "INSERT INTO `bad` VALUES (1),(1);\n"),
    ] {
        std::fs::write(src.join(name), text).unwrap();
    }
    src
}

/// An import that loses its server after the tables are created, while it waits before its
/// first write (failpoint): the run stops, and says so without the password. The server is
/// then back and the checkpoint removed, for the next case.
fn lose_the_server_mid_run(server: &MariaDb, name: &str, way: &[String], src: &str) {
    server.exec("DROP DATABASE IF EXISTS secretdb");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args(["import", "--source", src, "--progress", "log", "--max-retries", "1"])
        .args(way)
        .env("HOIST_LOG", "warn")
        .env("HOIST_FAILPOINTS", "import.before-write=3s")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let created = "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'secretdb'";
    let start = std::time::Instant::now();
    while server.query_value(created).as_deref() != Some("2") {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "{name}: no tables after 20 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    server.stop();
    let run = Run { output: child.wait_with_output().unwrap() };
    assert!(!run.ok(), "{name}: the server was lost mid-run\n{}", run.text());
    assert!(run.text().contains("outlasted every retry"), "{name}: says what happened\n{}", run.text());
    assert_clean(&format!("{name}: server lost mid-run"), &run);
    server.restart();
    let mut args = vec!["checkpoint", "remove", "all"];
    args.extend(way.iter().map(String::as_str));
    let run = hoist(&args);
    run.assert_ok();
    assert_clean(&format!("{name}: checkpoint remove after the loss"), &run);
}

#[track_caller]
fn assert_clean(what: &str, run: &Run) {
    let text = run.text();
    assert!(!text.contains(MARK), "{what}: the password is printed:\n{text}");
}

/// Every file under `dir` but `except` (the config, which holds it by design), read as bytes.
fn assert_no_file_holds_it(dir: &Path, except: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_no_file_holds_it(&path, except);
        } else if path != except {
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.windows(MARK.len()).any(|w| w == MARK.as_bytes()), "{} holds the password", path.display());
        }
    }
}

/// Every row hoist keeps on the server (markers, a mysql checkpoint), read as text.
fn assert_no_row_holds_it(server: &MariaDb) {
    let tables = server.query(
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN \
         ('mysql', 'information_schema', 'performance_schema', 'sys', 'secretdb')",
    );
    assert!(!tables.is_empty(), "hoist keeps markers on the server");
    for row in tables {
        let [schema, table] = [&row[0], &row[1]].map(|v| String::from_utf8(v.clone().unwrap()).unwrap());
        for values in server.query(&format!("SELECT * FROM `{schema}`.`{table}`")) {
            for v in values.into_iter().flatten() {
                assert!(!String::from_utf8_lossy(&v).contains(MARK), "`{schema}`.`{table}` holds the password");
            }
        }
    }
}

/// Each way of giving the password: in a URL (escaped, as URLs must be), in Lightning's DSN for
/// a mysql checkpoint (raw, as Lightning takes it), in the config's `[tidb] password` (raw)
/// with `[checkpoint] dsn` a DSN. hoist reads no password from the environment. Through each:
/// a table error, the refusal of a rerun, `checkpoint show`, `checkpoint dump`, `checkpoint
/// remove`, and a lost server: in the middle of a run, and stopped before one.
#[test]
fn a_password_with_url_characters_never_leaks() {
    let server = MariaDb::start();
    server
        .exec(&format!("CREATE USER 'u'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON *.* TO 'u'@'127.0.0.1'"));
    let work = tempfile::tempdir().unwrap();
    let src = dump(work.path());
    let port = server.port();
    let escaped = "pa%2Fss%23w%3Fo%40r%25d-XYZZY";
    let url = format!("mysql://u:{escaped}@127.0.0.1:{port}");
    let dsn = format!("u:{PASSWORD}@tcp(127.0.0.1:{port})/");
    let config = work.path().join("tidb-lightning.toml");
    std::fs::write(
        &config,
        format!(
            "[tidb]\nhost = '127.0.0.1'\nport = {port}\nuser = 'u'\npassword = '{PASSWORD}'\n\
             [checkpoint]\ndriver = 'mysql'\nschema = 'cp_config'\ndsn = '{dsn}'\n"
        ),
    )
    .unwrap();
    let sqlite_cp = work.path().join("cp.db");
    let ways: [(&str, Vec<String>); 3] = [
        ("url", vec!["--target".into(), url.clone(), "--checkpoint".into(), sqlite_cp.display().to_string()]),
        (
            "dsn",
            ["--target", &url, "--checkpoint-driver", "mysql", "--checkpoint", &dsn, "--checkpoint-schema", "cp_dsn"]
                .map(String::from)
                .to_vec(),
        ),
        ("config", vec!["--config".into(), config.display().to_string()]),
    ];
    let with = |first: &[&str], way: &[String]| {
        let mut args: Vec<&str> = first.to_vec();
        args.extend(way.iter().map(String::as_str));
        hoist(&args)
    };
    let src = src.to_str().unwrap();
    for (name, way) in &ways {
        server.exec("DROP DATABASE IF EXISTS secretdb");
        let import = ["import", "--source", src, "--progress", "log"];
        let run = with(&import, way);
        assert_eq!(run.code(), Some(1), "{name}: a table error\n{}", run.text());
        assert_clean(&format!("{name}: table error"), &run);
        let run = with(&import, way);
        assert_eq!(run.code(), Some(2), "{name}: the rerun is refused\n{}", run.text());
        assert!(run.text().contains("hoist checkpoint"), "{name}: the next step is named\n{}", run.text());
        assert_clean(&format!("{name}: refusal"), &run);
        let run = with(&["checkpoint", "show"], way);
        run.assert_ok();
        assert!(run.text().contains("bad"), "{name}: {}", run.text());
        assert_clean(&format!("{name}: checkpoint show"), &run);
        let out = work.path().join(format!("dump-{name}"));
        let run = with(&["checkpoint", "dump", out.to_str().unwrap()], way);
        run.assert_ok();
        assert_clean(&format!("{name}: checkpoint dump"), &run);
        // Out of the way of the next way's run, which would find this one unfinished.
        let run = with(&["checkpoint", "remove", "all"], way);
        run.assert_ok();
        assert_clean(&format!("{name}: checkpoint remove"), &run);
    }
    assert_no_row_holds_it(&server);
    for (name, way) in &ways {
        lose_the_server_mid_run(&server, name, way, src);
    }
    server.stop();
    for (name, way) in &ways {
        let run = with(&["import", "--source", src, "--progress", "log"], way);
        assert_eq!(run.code(), Some(2), "{name}: the server is gone\n{}", run.text());
        assert!(run.text().contains(&format!("127.0.0.1:{port}")), "{name}: the server is named\n{}", run.text());
        assert_clean(&format!("{name}: lost server"), &run);
    }
    assert_no_file_holds_it(work.path(), &config);
}
