//! Dumps and backups in an S3-compatible store (a private moto server, see
//! `hoist_testkit::s3`): imported exactly, a changed object refused after a killed run, clear
//! and quick refusals for bad credentials and a missing bucket with no secret in the output,
//! and `kill -9` rounds over S3 whose rerun is exact.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use hoist_testkit::dump::{write_dump, Compression, Dataset, DumpSpec, Format};
use hoist_testkit::mariadb::MariaDb;
use hoist_testkit::rows::{mysql_table_sum, sqlite_table_sum};
use hoist_testkit::s3::{S3Server, SECRET_KEY};

use crate::crash::{kill_after_markers, seed, sqlite_markers, Rng};
use crate::util::{dump, sqlite_url, Run};

/// `hoist args` with the server's credentials in the environment (and `extra_env`).
fn hoist_s3(server: &S3Server, args: &[&str], extra_env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hoist"));
    cmd.args(args).env("HOIST_LOG", "info");
    for (k, v) in server.env() {
        cmd.env(k, v);
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd
}

fn run(mut cmd: Command) -> Run {
    Run { output: cmd.output().expect("run hoist") }
}

fn import_args<'a>(url: &'a str, target: &'a str, cp: &'a str) -> Vec<&'a str> {
    vec!["import", "--source", url, "--target", target, "--checkpoint", cp, "--progress", "log"]
}

#[track_caller]
fn assert_no_secret(text: &str) {
    assert!(!text.contains(SECRET_KEY) && !text.contains("XYZZY"), "a secret key was printed:\n{text}");
}

fn assert_sqlite_equal(db: &Path, data: &Dataset) {
    for t in &data.tables {
        assert_eq!(sqlite_table_sum(db, &t.name, &t.columns), t.sum(), "table {}", t.name);
    }
}

#[test]
fn import_from_s3_into_mariadb() {
    let s3 = S3Server::start();
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = dump(dir.path(), "s3_gen", Format::Sql, Compression::None);
    // gzip CSV files beside them, in a second prefix: both decoders over S3.
    let (csv, csv_data) = dump(&dir.path().join("csv"), "s3_gen_csv", Format::Csv, Compression::Gzip);
    s3.create_bucket("dumps");
    s3.upload_dir("dumps", "nightly/sql", &src);
    s3.upload_dir("dumps", "nightly/csv", &csv);
    for (prefix, database, data) in [("nightly/sql", "s3_gen", &data), ("nightly/csv", "s3_gen_csv", &csv_data)] {
        let url = s3.url("dumps", prefix);
        let cp = dir.path().join(format!("{database}.db"));
        let meta = format!("{database}_meta");
        let target = server.url();
        let mut args = import_args(&url, &target, cp.to_str().unwrap());
        args.extend(["--meta-schema", &meta, "--defer-indexes-from", "0"]);
        let out = run(hoist_s3(&s3, &args, &[]));
        out.assert_ok();
        assert_no_secret(&out.text());
        for t in &data.tables {
            assert_eq!(mysql_table_sum(&target, database, &t.name, &t.columns), t.sum(), "table {}", t.name);
        }
    }
}

/// The URL's own parameters, keys included, work as the environment does, and the secret in
/// the URL is never printed.
#[test]
fn credentials_in_the_url_are_used_and_not_printed() {
    let s3 = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = dump(dir.path(), "s3_url", Format::Sql, Compression::Zstd);
    s3.create_bucket("flat");
    s3.upload_dir("flat", "", &src);
    let url = format!(
        "s3://flat?endpoint={}&region=us-east-1&force-path-style=true&access-key=AK&secret-access-key=url-XYZZY",
        s3.endpoint()
    );
    let db = dir.path().join("out.db");
    let cp = dir.path().join("cp.db");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hoist"));
    cmd.args(import_args(&url, &sqlite_url(&db), cp.to_str().unwrap())).env("HOIST_LOG", "info");
    for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_PROFILE"] {
        cmd.env_remove(k);
    }
    let out = run(cmd);
    out.assert_ok();
    assert_no_secret(&out.text());
    assert_sqlite_equal(&db, &data);
}

#[test]
fn bad_credentials_and_a_missing_bucket_are_refused_at_once() {
    let strict = S3Server::start_with_auth();
    let open = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(&dir.path().join("out.db"));
    let cp = dir.path().join("cp.db");
    let cases = [
        (&strict, strict.url("dumps", "x"), "access denied to the bucket dumps", "AWS_SECRET_ACCESS_KEY"),
        (
            &strict,
            format!("{}&access-key=AK&secret-access-key=url-XYZZY", strict.url("dumps", "x")),
            "access denied to the bucket dumps",
            "secret-access-key",
        ),
        (&open, open.url("no-such-bucket", "x"), "there is no bucket no-such-bucket", "check the bucket's name"),
    ];
    for (server, url, says, advice) in cases {
        let started = Instant::now();
        let out = run(hoist_s3(server, &import_args(&url, &db, cp.to_str().unwrap()), &[]));
        let took = started.elapsed();
        let text = out.text();
        assert_eq!(out.code(), Some(2), "a refusal exits 2:\n{text}");
        assert!(text.contains(says) && text.contains(advice), "{url}:\n{text}");
        assert!(took < Duration::from_secs(10), "{url}: refused after {took:?}, not at once:\n{text}");
        assert_no_secret(&text);
    }
}

// ------------------------------------------------------------- kill -9 --

/// A dump of several chunks per file (`--max-region-size 64KiB`): a resumed chunk starts
/// mid-object, read from its byte with a ranged GET.
fn big_dump(dir: &Path, database: &str) -> (std::path::PathBuf, Dataset) {
    let src = dir.join("dump");
    let spec = DumpSpec { rows: 8_000, files_per_table: 2, statement_bytes: 2048, ..DumpSpec::new(database) };
    let data = write_dump(&spec, &src);
    (src, data)
}

struct Killable {
    s3: S3Server,
    url: String,
    db: std::path::PathBuf,
    cp: std::path::PathBuf,
    log: std::path::PathBuf,
}

impl Killable {
    fn new(dir: &Path, src: &Path) -> Killable {
        let s3 = S3Server::start();
        s3.create_bucket("dumps");
        s3.upload_dir("dumps", "d", src);
        let url = s3.url("dumps", "d");
        Killable { s3, url, db: dir.join("out.db"), cp: dir.join("cp.db"), log: dir.join("hoist.log") }
    }

    fn command(&self, env: &[(&str, &str)]) -> Command {
        let target = sqlite_url(&self.db);
        let mut args = import_args(&self.url, &target, self.cp.to_str().unwrap());
        args.extend(["--max-region-size", "64KiB", "--batch-size", "16KiB"]);
        hoist_s3(&self.s3, &args, env)
    }

    fn spawn(&self) -> Child {
        let log = std::fs::File::create(&self.log).unwrap();
        self.command(&[("HOIST_FAILPOINTS", "import.batch-committed=30ms")])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn hoist")
    }

    fn markers(&self) -> u64 {
        sqlite_markers(&self.db)
    }

    /// Start a run and `kill -9` it once `n` chunks have markers and `extra` passed; false if
    /// it ended first.
    fn kill_after(&self, n: u64, extra: Duration) -> bool {
        kill_after_markers(self.spawn(), || self.markers(), n, extra)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

#[test]
fn kill9_over_s3_then_the_rerun_is_exact() {
    let test = "kill9_over_s3_then_the_rerun_is_exact";
    let mut rng = Rng::new(seed(test));
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = big_dump(dir.path(), "s3_crash");
    let k = Killable::new(dir.path(), &src);
    let mut kills = 0;
    for round in 0..4 {
        let n = 1 + rng.below(4) + k.markers();
        let extra = rng.between(Duration::ZERO, Duration::from_millis(150));
        if k.kill_after(n, extra) {
            kills += 1;
            eprintln!("{test}: round {round}: killed after {n} markers + {} ms", extra.as_millis());
        } else {
            eprintln!("{test}: round {round}: the run ended first:\n{}", k.log());
            break;
        }
    }
    assert!(kills > 0, "{test}: no run was killed:\n{}", k.log());
    let out = run(k.command(&[]));
    out.assert_ok();
    assert_no_secret(&out.text());
    assert_no_secret(&k.log());
    assert_sqlite_equal(&k.db, &data);
}

#[test]
fn an_object_changed_after_a_killed_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = big_dump(dir.path(), "s3_changed");
    let k = Killable::new(dir.path(), &src);
    assert!(k.kill_after(2, Duration::ZERO), "the run ended before the kill:\n{}", k.log());
    // Every data file changes, so one under rows already loaded is among them.
    let changed = dir.path().join("changed");
    std::fs::create_dir_all(&changed).unwrap();
    for t in &data.tables {
        for f in &t.data_files {
            let name = f.file_name().unwrap().to_str().unwrap();
            let mut bytes = std::fs::read(f).unwrap();
            bytes.extend_from_slice(b"-- changed\n");
            std::fs::write(changed.join(name), &bytes).unwrap();
            k.s3.put("dumps", &format!("d/{name}"), &changed.join(name));
        }
    }
    let out = run(k.command(&[]));
    crate::util::assert_refused(&out, &["the source changed since the checkpoint was recorded", "was modified"]);
    assert_no_secret(&out.text());
}

// ------------------------------------------------------------- restore --

/// A backup copied to S3 restores from there as from its directory; without its manifest it
/// is refused as incomplete.
#[test]
fn restore_full_from_s3() {
    let source = MariaDb::shared();
    let mut sql = String::from(
        "DROP DATABASE IF EXISTS s3_bk; CREATE DATABASE s3_bk; USE s3_bk;\n\
         CREATE TABLE t1 (id INT PRIMARY KEY, v VARCHAR(40), KEY (v));\n\
         CREATE TABLE t2 (a INT, b VARCHAR(10));\n\
         INSERT INTO t2 VALUES (1, 'dup'), (1, 'dup'), (2, NULL);\n",
    );
    for chunk in (0..3000).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|i| format!("({i}, 'value {i}')")).collect();
        sql.push_str(&format!("INSERT INTO t1 VALUES {};\nANALYZE TABLE t1;\n", values.join(",")));
    }
    source.client_sql(None, &sql);
    let before = crate::util::table_sums(source, "s3_bk");
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("backup");
    let url = source.url();
    crate::util::hoist(&[
        "backup",
        "--source",
        &url,
        "--storage",
        storage.to_str().unwrap(),
        "--tables",
        "s3_bk.*",
        "--compress",
        "zstd",
    ])
    .assert_ok();

    let s3 = S3Server::start();
    s3.create_bucket("backups");
    s3.upload_dir("backups", "full/1", &storage);
    let target = MariaDb::start();
    let target_url = target.url();
    let restore = |prefix: &str| {
        let from = s3.url("backups", prefix);
        run(hoist_s3(&s3, &["restore", "full", "--storage", &from, "--target", &target_url, "--progress", "log"], &[]))
    };
    let out = restore("full/1");
    out.assert_ok();
    assert_no_secret(&out.text());
    assert_eq!(crate::util::table_sums(&target, "s3_bk"), before, "every table equals the source");

    // The same files without the manifest: an interrupted backup.
    std::fs::remove_file(storage.join("backupmeta.json")).unwrap();
    s3.upload_dir("backups", "full/2", &storage);
    crate::util::assert_refused(&restore("full/2"), &["s3://backups/full/2 is incomplete", "backupmeta.json"]);
}

/// `hoist backup --storage s3://...` writes objects, the manifest last, after removing what a
/// killed run left; the restore from them equals the source, and a second backup into the same
/// prefix is refused.
#[test]
fn backup_to_s3_and_restore_from_it() {
    let source = MariaDb::shared();
    let mut sql = String::from(
        "DROP DATABASE IF EXISTS s3_bk2; CREATE DATABASE s3_bk2; USE s3_bk2;\n\
         CREATE TABLE t1 (id INT PRIMARY KEY, v VARCHAR(40));\n\
         CREATE TABLE t2 (a INT, b BLOB);\n\
         INSERT INTO t2 VALUES (1, 'dup'), (1, 'dup'), (2, NULL), (3, x'00ff27');\n",
    );
    for chunk in (0..4000).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|i| format!("({i}, 'value {i}')")).collect();
        sql.push_str(&format!("INSERT INTO t1 VALUES {};\n", values.join(",")));
    }
    sql.push_str("ANALYZE TABLE t1;\n");
    source.client_sql(None, &sql);
    let before = crate::util::table_sums(source, "s3_bk2");

    let s3 = S3Server::start();
    s3.create_bucket("backups");
    let storage = format!("{}&secret-access-key=url-XYZZY", s3.url("backups", "shop/2026-12-02"));
    let url = source.url();
    let backup = || {
        run(hoist_s3(
            &s3,
            &["backup", "--source", &url, "--storage", &storage, "--tables", "s3_bk2.*", "--chunk-size", "16KiB"],
            &[],
        ))
    };
    // What a killed run leaves: its in-progress marker and a chunk of another snapshot.
    let left = tempfile::tempdir().unwrap();
    std::fs::write(left.path().join("hoist-backup-in-progress.json"), b"{}").unwrap();
    std::fs::write(left.path().join("s3_bk2.t9.000000007.sql"), b"INSERT INTO t9 VALUES (1);\n").unwrap();
    s3.upload_dir("backups", "shop/2026-12-02", left.path());
    let out = backup();
    out.assert_ok();
    assert_no_secret(&out.text());
    assert!(out.text().contains("an interrupted backup was found"), "{}", out.text());
    let keys = s3.list("backups", "shop/2026-12-02/");
    assert!(!keys.iter().any(|k| k.contains("t9")), "the killed run's chunk is removed: {keys:?}");
    assert!(keys.iter().any(|k| k.ends_with("/backupmeta.json")), "{keys:?}");
    assert!(keys.iter().filter(|k| k.contains("s3_bk2.t1.")).count() > 1, "t1 in several chunks: {keys:?}");
    assert!(!keys.iter().any(|k| k.ends_with(".partial") || k.contains("in-progress")), "{keys:?}");

    let again = backup();
    crate::util::assert_refused(&again, &["s3://backups/shop/2026-12-02 already holds a complete backup"]);
    assert_no_secret(&again.text());

    let target = MariaDb::start();
    let target_url = target.url();
    let out = run(hoist_s3(&s3, &["restore", "full", "--storage", &storage, "--target", &target_url], &[]));
    out.assert_ok();
    assert_no_secret(&out.text());
    assert_eq!(crate::util::table_sums(&target, "s3_bk2"), before, "every table equals the source");
}
