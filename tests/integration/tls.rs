//! TLS against private MariaDB servers that have it, with certificates made by `openssl`
//! (`hoist_testkit::certs`): a server that takes TCP connections only over TLS
//! (`require_secure_transport = ON`) and users created REQUIRE SSL or REQUIRE X509, so that a
//! run that succeeds could only have connected with TLS; a server whose certificate is for
//! another host name; and the shared plain server. Import (with the checkpoint in the
//! target), `hoist checkpoint`, `hoist backup` and `hoist log start` / `status` each connect
//! with the flags, and the Lightning config's `[security]` / `[tidb] tls` too. Each refusal
//! says what happened and which flag to change, without the password, at once (no retries).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use hoist_core::binlog::position::BinlogPos;
use hoist_testkit::certs::Certs;
use hoist_testkit::dump::{Compression, Format};
use hoist_testkit::mariadb::{MariaDb, ServerOptions, ServerTls};

use crate::crash::Proc;
use crate::log_backup::{assert_log_is_the_servers, index_end, log_args, wait_for};
use crate::util::{assert_refused, dump, table_sums, Run};

/// The password of the test users: it must never be printed.
const PASSWORD: &str = "tls-pw-XYZZY";

/// A server that takes no plain TCP connection, and the certificates it was made with.
struct TlsServer {
    certs: &'static Certs,
    server: MariaDb,
}

impl TlsServer {
    /// `mysql://USER:PASSWORD@127.0.0.1:PORT`
    fn url(&self, user: &str) -> String {
        format!("mysql://{user}:{PASSWORD}@127.0.0.1:{}", self.server.port())
    }
}

fn certs() -> &'static Certs {
    static CERTS: OnceLock<Certs> = OnceLock::new();
    CERTS.get_or_init(Certs::generate)
}

/// Started on first use. Users: `hoist_tls` (REQUIRE SSL) and `hoist_x509` (REQUIRE X509),
/// both with every privilege.
fn tls_only() -> &'static TlsServer {
    static SERVER: OnceLock<TlsServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let certs = certs();
        let tls = ServerTls { ca: certs.ca(), cert: certs.server_cert(), key: certs.server_key() };
        let server =
            MariaDb::start_with(ServerOptions { tls: Some(tls), require_secure_transport: true, ..Default::default() });
        server.exec(&format!(
            "CREATE USER hoist_tls@'%' IDENTIFIED BY '{PASSWORD}' REQUIRE SSL; \
             GRANT ALL PRIVILEGES ON *.* TO hoist_tls@'%'; \
             CREATE USER hoist_x509@'%' IDENTIFIED BY '{PASSWORD}' REQUIRE X509; \
             GRANT ALL PRIVILEGES ON *.* TO hoist_x509@'%'"
        ));
        TlsServer { certs, server }
    })
}

/// The sample dump's database is `shop`: the tests that import it take turns.
static SHOP: Mutex<()> = Mutex::new(());

fn shop_turn(server: &MariaDb) -> MutexGuard<'static, ()> {
    let guard = SHOP.lock().unwrap_or_else(|p| p.into_inner());
    server.exec("DROP DATABASE IF EXISTS shop");
    guard
}

fn sample_dump() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/sample-dump")).to_path_buf()
}

/// The sample dump as the `mariadb` client and LOAD DATA load it, into `database`: what a
/// correct import of it holds.
fn sample_oracle(server: &MariaDb, database: &str) {
    static LOADED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if loaded.iter().any(|d| d == database) {
        return;
    }
    server.exec(&format!("CREATE DATABASE {database} DEFAULT CHARACTER SET utf8mb4"));
    let dir = sample_dump();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    for f in files.iter().filter(|f| name(f).ends_with("-schema.sql") && !name(f).ends_with("schema-create.sql")) {
        server.load_sql_file_into(database, f);
    }
    for f in files.iter().filter(|f| !name(f).contains("schema")) {
        let table = name(f).split('.').nth(1).unwrap().to_string();
        if name(f).ends_with(".csv") {
            server.load_csv_file(database, &table, f);
        } else {
            server.load_sql_file_into(database, f);
        }
    }
    loaded.push(database.to_string());
}

/// The imported `shop` holds the sample dump's rows, table by table.
#[track_caller]
fn assert_shop_is_the_sample(server: &MariaDb) {
    sample_oracle(server, "shop_oracle");
    let imported = table_sums(server, "shop");
    assert_eq!(imported.len(), 3, "{imported:?}");
    assert_eq!(imported, table_sums(server, "shop_oracle"));
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `hoist import` of `dir` into `target` with its checkpoint in `cp`, and `extra` flags.
fn import_into(dir: &Path, target: &str, cp: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["import", "--source", path(dir), "--target", target, "--checkpoint", path(cp)];
    args.extend_from_slice(extra);
    run(&args)
}

/// `hoist ARGS`, killed if it runs for a minute: a `log start` that should have been refused
/// would otherwise stream until stopped, and the test would hang instead of failing.
fn run(args: &[&str]) -> Run {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args(args)
        .env("HOIST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run hoist");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait for hoist").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("hoist's output");
            panic!("hoist {args:?} still ran after 60 s:\n{}", Run { output }.text());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run { output: child.wait_with_output().expect("hoist's output") }
}

/// A refusal (exit 2) that says each of `says`, never the password, and comes at once: a TLS
/// failure is the same on every try, so it is not retried.
#[track_caller]
fn assert_refused_at_once(started: Instant, run: &Run, says: &[&str]) {
    assert_refused(run, says);
    let text = run.text();
    assert!(!text.contains(PASSWORD) && !text.contains("XYZZY"), "the password is printed:\n{text}");
    assert!(started.elapsed() < Duration::from_secs(20), "retried for {:?}:\n{text}", started.elapsed());
}

#[test]
fn verify_identity_imports_the_sample_dump_with_its_checkpoint_in_the_target() {
    let s = tls_only();
    let _turn = shop_turn(&s.server);
    let target = s.url("hoist_tls");
    let ca = s.certs.ca();
    let tls = ["--ssl-mode", "verify-identity", "--ssl-ca", path(&ca)];
    let source = sample_dump();
    // The checkpoint is kept, for `hoist checkpoint show` to read it.
    let work = tempfile::tempdir().unwrap();
    let keep = work.path().join("keep.toml");
    std::fs::write(&keep, "[checkpoint]\nkeep-after-success = \"origin\"\n").unwrap();
    let mut args = vec!["import", "--config", path(&keep), "--source", path(&source), "--target", &target];
    args.extend(["--progress", "log"]);
    args.extend(["--checkpoint-driver", "mysql", "--checkpoint-schema", "tls_cp", "--meta-schema", "tls_meta_verify"]);
    args.extend(tls);
    let imported = run(&args);
    imported.assert_ok();
    assert!(!imported.text().contains(PASSWORD), "{}", imported.text());
    assert_shop_is_the_sample(&s.server);

    // The controls reach the checkpoint store (in the target) the same way...
    let mut show = vec!["checkpoint", "show", "--target", &target, "--checkpoint-driver", "mysql"];
    show.extend(["--checkpoint-schema", "tls_cp"]);
    let mut with_tls = show.clone();
    with_tls.extend(tls);
    let shown = run(&with_tls);
    shown.assert_ok();
    assert!(shown.text().contains("`shop`.`orders`"), "{}", shown.text());
    // ... and, told not to use TLS, are refused with what to do.
    show.extend(["--ssl-mode", "disabled"]);
    let started = Instant::now();
    assert_refused_at_once(
        started,
        &run(&show),
        &["checkpoint store mysql://hoist_tls:xxxxx@127.0.0.1", "ERROR 1045", "not disabled"],
    );
}

#[test]
fn the_default_mode_uses_tls_when_the_server_offers_it() {
    let s = tls_only();
    let _turn = shop_turn(&s.server);
    let work = tempfile::tempdir().unwrap();
    let cp = work.path().join("cp.db");
    let target = s.url("hoist_tls");
    // No TLS flag: preferred. The server takes no plain connection, and the user none either.
    let imported = import_into(&sample_dump(), &target, &cp, &["--meta-schema", "tls_meta_default"]);
    imported.assert_ok();
    assert_shop_is_the_sample(&s.server);
}

#[test]
fn a_ca_that_did_not_sign_the_servers_certificate_is_refused_with_what_to_do() {
    let s = tls_only();
    let work = tempfile::tempdir().unwrap();
    let (dir, _) = dump(work.path(), "tls_wrong_ca", Format::Sql, Compression::None);
    let other = s.certs.other_ca();
    let target = s.url("hoist_tls");
    let cp = work.path().join("cp.db");
    for mode in ["verify-ca", "verify-identity"] {
        let started = Instant::now();
        let refused = import_into(&dir, &target, &cp, &["--ssl-mode", mode, "--ssl-ca", path(&other)]);
        assert_refused_at_once(
            started,
            &refused,
            &[
                &format!("cannot connect to the MySQL server at 127.0.0.1:{}", s.server.port()),
                "TLS handshake failed: certificate verify failed (self-signed certificate in certificate chain)",
                "the server's certificate is not signed by the CA given: give the CA that signed it with --ssl-ca",
                "or encrypt without checking the certificate with --ssl-mode required",
            ],
        );
    }
    assert_eq!(
        s.server.query_value("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'tls_wrong_ca'"),
        Some("0".into())
    );
}

#[test]
fn disabled_against_a_server_that_requires_tls_is_refused_with_what_to_do() {
    let s = tls_only();
    let work = tempfile::tempdir().unwrap();
    let (dir, _) = dump(work.path(), "tls_disabled", Format::Sql, Compression::None);
    let cp = work.path().join("cp.db");
    for user in ["root", "hoist_tls"] {
        let target = format!("mysql://{user}:{PASSWORD}@127.0.0.1:{}", s.server.port());
        let started = Instant::now();
        let refused = import_into(&dir, &target, &cp, &["--ssl-mode", "disabled"]);
        assert_refused_at_once(
            started,
            &refused,
            &[
                "ERROR 1045",
                "the server offers TLS and may accept this user only over it",
                "require_secure_transport",
                "connect with --ssl-mode preferred, required, verify-ca or verify-identity, not disabled",
            ],
        );
    }
}

#[test]
fn required_against_a_server_without_tls_is_refused_and_preferred_connects_plain() {
    let server = MariaDb::shared();
    server.exec("DROP DATABASE IF EXISTS tls_plain");
    let work = tempfile::tempdir().unwrap();
    let (dir, data) = dump(work.path(), "tls_plain", Format::Sql, Compression::None);
    let cp = work.path().join("cp.db");
    let target = format!("mysql://root@127.0.0.1:{}", server.port());
    let import = |mode: &str| import_into(&dir, &target, &cp, &["--ssl-mode", mode]);
    for mode in ["required", "verify-ca", "verify-identity"] {
        let started = Instant::now();
        assert_refused_at_once(
            started,
            &import(mode),
            &["the server does not offer TLS", "connect with --ssl-mode preferred (TLS when offered) or disabled"],
        );
    }
    import("preferred").assert_ok();
    for t in &data.tables {
        let sum = hoist_testkit::rows::mysql_table_sum(&server.client_url(), "tls_plain", &t.name, &t.columns);
        assert_eq!(sum, t.sum(), "{}", t.name);
    }
}

#[test]
fn verify_ca_checks_the_chain_and_verify_identity_the_host_too() {
    let certs = certs();
    let tls = ServerTls { ca: certs.ca(), cert: certs.misnamed_cert(), key: certs.misnamed_key() };
    let server =
        MariaDb::start_with(ServerOptions { tls: Some(tls), require_secure_transport: true, ..Default::default() });
    let work = tempfile::tempdir().unwrap();
    let (dir, data) = dump(work.path(), "tls_names", Format::Csv, Compression::None);
    let cp = work.path().join("cp.db");
    let import = |mode: &str| {
        let ca = certs.ca();
        import_into(&dir, &server.url(), &cp, &["--ssl-mode", mode, "--ssl-ca", path(&ca)])
    };
    // The certificate is for db.invalid, signed by the CA.
    let started = Instant::now();
    assert_refused_at_once(
        started,
        &import("verify-identity"),
        &[
            "TLS handshake failed: certificate verify failed (IP address mismatch)",
            "the server's certificate is not for 127.0.0.1, the host hoist connects to",
            "check the CA alone with --ssl-mode verify-ca",
        ],
    );
    import("verify-ca").assert_ok();
    for t in &data.tables {
        let sum = hoist_testkit::rows::mysql_table_sum(&server.client_url(), "tls_names", &t.name, &t.columns);
        assert_eq!(sum, t.sum(), "{}", t.name);
    }
}

#[test]
fn a_client_certificate_is_sent_to_a_user_created_require_x509() {
    let s = tls_only();
    let work = tempfile::tempdir().unwrap();
    let (dir, data) = dump(work.path(), "tls_x509", Format::Sql, Compression::Gzip);
    let cp = work.path().join("cp.db");
    let target = s.url("hoist_x509");
    let ca = s.certs.ca();
    let mut args = vec!["import", "--source", path(&dir), "--target", &target, "--checkpoint", path(&cp)];
    args.extend(["--ssl-mode", "verify-identity", "--ssl-ca", path(&ca)]);
    let started = Instant::now();
    assert_refused_at_once(
        started,
        &run(&args),
        &["ERROR 1045", "a user created REQUIRE X509 also needs --ssl-cert and --ssl-key"],
    );
    let (cert, key) = (s.certs.client_cert(), s.certs.client_key());
    args.extend(["--ssl-cert", path(&cert), "--ssl-key", path(&key)]);
    run(&args).assert_ok();
    for t in &data.tables {
        let sum = hoist_testkit::rows::mysql_table_sum(&s.server.client_url(), "tls_x509", &t.name, &t.columns);
        assert_eq!(sum, t.sum(), "{}", t.name);
    }
}

#[test]
fn the_lightning_config_security_ca_path_and_tidb_tls_cluster() {
    let s = tls_only();
    let _turn = shop_turn(&s.server);
    let work = tempfile::tempdir().unwrap();
    let config = |tls: &str, ca: &Path| {
        let file = work.path().join("tidb-lightning.toml");
        let text = format!(
            "[mydumper]\ndata-source-dir = {:?}\n[tidb]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"hoist_tls\"\n\
             password = \"{PASSWORD}\"\n{tls}\n[security]\nca-path = {:?}\n[checkpoint]\ndriver = \"file\"\n\
             dsn = {:?}\n",
            path(&sample_dump()),
            s.server.port(),
            path(ca),
            path(&work.path().join("cp.db")),
        );
        std::fs::write(&file, text).unwrap();
        file
    };
    let import = |config: &Path| run(&["import", "--config", path(config), "--meta-schema", "tls_meta_lightning"]);
    // `tls = ""` with a ca-path verifies, as Lightning's "cluster": the wrong CA is refused.
    let started = Instant::now();
    assert_refused_at_once(
        started,
        &import(&config("tls = \"\"", &s.certs.other_ca())),
        &["the server's certificate is not signed by the CA given: give the CA that signed it with --ssl-ca ([security] ca-path)"],
    );
    // "cluster" needs a CA.
    let no_ca = work.path().join("no-ca.toml");
    let text = format!(
        "[mydumper]\ndata-source-dir = {:?}\n[tidb]\nhost = \"127.0.0.1\"\ntls = \"cluster\"\n",
        path(&sample_dump())
    );
    std::fs::write(&no_ca, text).unwrap();
    assert_refused(&import(&no_ca), &["[tidb] tls = \"cluster\"", "[security] ca-path"]);

    import(&config("tls = \"cluster\"", &s.certs.ca())).assert_ok();
    assert_shop_is_the_sample(&s.server);
}

#[test]
fn backup_reads_a_server_over_tls() {
    let s = tls_only();
    s.server.exec(
        "CREATE DATABASE tls_backup; CREATE TABLE tls_backup.t (id INT PRIMARY KEY, v VARCHAR(40)); \
         INSERT INTO tls_backup.t SELECT seq, CONCAT('row ', seq) FROM tls_backup.seq_1_to_2000",
    );
    let work = tempfile::tempdir().unwrap();
    let storage = work.path().join("backup");
    let source = s.url("hoist_tls");
    let (ca, other) = (s.certs.ca(), s.certs.other_ca());
    let backup = |ca: &Path, storage: &Path| {
        run(&[
            "backup",
            "--source",
            &source,
            "--storage",
            path(storage),
            "--tables",
            "tls_backup.*",
            "--ssl-mode",
            "verify-identity",
            "--ssl-ca",
            path(ca),
        ])
    };
    let started = Instant::now();
    assert_refused_at_once(
        started,
        &backup(&other, &work.path().join("refused")),
        &["source: cannot connect to the MySQL server at 127.0.0.1", "certificate verify failed (self-signed certificate in certificate chain); the server's certificate is not signed by the CA given"],
    );
    backup(&ca, &storage).assert_ok();
    // Its content, restored into the plain server, is the TLS server's.
    let plain = MariaDb::shared();
    plain.exec("DROP DATABASE IF EXISTS tls_backup");
    let plain_url = plain.url();
    let mut args = vec!["restore", "full", "--storage", path(&storage), "--target", &plain_url];
    args.extend(["--checkpoint-schema", "tls_restore_cp", "--meta-schema", "tls_restore_meta", "--progress", "log"]);
    let restored = run(&args);
    restored.assert_ok();
    assert_eq!(table_sums(plain, "tls_backup"), table_sums(&s.server, "tls_backup"));
}

#[test]
fn log_start_and_status_stream_a_server_over_tls() {
    let s = tls_only();
    s.server.exec("CREATE DATABASE tls_log; CREATE TABLE tls_log.t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)");
    let work = tempfile::tempdir().unwrap();
    let storage = work.path().join("log");
    let (ca, other) = (s.certs.ca(), s.certs.other_ca());
    let source = s.url("hoist_tls");
    let tls = |ca: &Path| ["--ssl-mode".to_string(), "verify-identity".into(), "--ssl-ca".into(), path(ca).into()];
    let log_args = |dir: &Path, ca: &Path| {
        let extra = tls(ca);
        log_args(&s.server, dir, &extra.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let with_source = |mut args: Vec<String>| {
        let at = args.iter().position(|a| a == "--source").unwrap() + 1;
        args[at] = source.clone();
        args
    };

    let refused_dir = work.path().join("refused");
    let args = with_source(log_args(&refused_dir, &other));
    let started = Instant::now();
    let refused = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_refused_at_once(started, &refused, &["mysql://hoist_tls:xxxxx@127.0.0.1", "certificate verify failed (self-signed certificate in certificate chain); the server's certificate is not signed by the CA given"]);

    // From the position before the inserts; other tests write to the server meanwhile.
    let start = master_status(&s.server);
    let mut args = with_source(log_args(&storage, &ca));
    args.extend(["--start-pos".to_string(), start.to_string()]);
    let mut log = Proc::spawn(&args, &work.path().join("run.log"));
    for i in 0..20 {
        s.server.exec(&format!("INSERT INTO tls_log.t (v) VALUES ('over tls {i}')"));
    }
    let written = master_status(&s.server);
    assert!(
        wait_for(Duration::from_secs(60), || index_end(&storage).is_some_and(|end| end >= written)),
        "the log did not reach {written}:\n{}",
        log.tail()
    );
    log.signal(libc::SIGTERM);
    let status = log.wait_for(Duration::from_secs(30)).expect("log start ends after SIGTERM");
    assert!(status.success(), "SIGTERM is a log's normal end (exit 0):\n{}", log.tail());
    assert!(!log.output().contains(PASSWORD), "{}", log.output());
    assert!(assert_log_is_the_servers(&s.server, &storage) >= 20);

    let status = |ca: &Path| {
        let mut args = vec!["log".to_string(), "status".into(), "--storage".into(), path(&storage).into()];
        args.extend(["--source".into(), source.clone()]);
        args.extend(tls(ca));
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let shown = status(&ca);
    shown.assert_ok();
    assert!(shown.text().contains("behind mysql://hoist_tls:xxxxx@127.0.0.1"), "{}", shown.text());
    let started = Instant::now();
    assert_refused_at_once(started, &status(&other), &["certificate verify failed (self-signed certificate in certificate chain); the server's certificate is not signed by the CA given"]);
}

fn master_status(server: &MariaDb) -> BinlogPos {
    let row = &server.query("SHOW MASTER STATUS")[0];
    let text = |i: usize| String::from_utf8(row[i].clone().unwrap()).unwrap();
    BinlogPos::new(text(0), text(1).parse().unwrap())
}
