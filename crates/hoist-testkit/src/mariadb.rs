//! Private MariaDB servers for tests.
//!
//! Each [`MariaDb`] owns a temp dir (`hoist-mariadb-*` under the system temp
//! dir) holding its datadir, socket, pid file, tmpdir and logs, and a
//! `mariadbd` listening on 127.0.0.1 on a free port. Tests can [`kill`] it
//! (`SIGKILL`, a crash) and [`restart`] it on the same datadir and port.
//!
//! # Lifetime
//!
//! A server must never outlive the test process, even when that process is
//! killed or when the server sits in a `static` that is never dropped
//! ([`MariaDb::shared`]). So every `mariadbd` is started with
//! `prctl(PR_SET_PDEATHSIG, SIGKILL)`. That signal fires when the *thread*
//! that forked the child ends, and test threads end all the time, so every
//! `mariadbd` is forked by one spawner thread of this crate that never ends.
//!
//! The shared server's temp dir is removed by an `atexit` handler. Dirs left by
//! processes that died without cleaning up (SIGKILL, `mem::forget`) are removed
//! by the next [`MariaDb::start`]: each dir records its owner's pid and start
//! time in `owner`.
//!
//! [`kill`]: MariaDb::kill
//! [`restart`]: MariaDb::restart

use std::fs::{self, File};
use std::io::{self, Read};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::sync;

const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(120);
pub(crate) const DIR_PREFIX: &str = "hoist-mariadb-";

/// A private MariaDB server; see the [module docs](self).
pub struct MariaDb {
    dir: TempDir,
    port: u16,
    child: Mutex<Option<Child>>,
    options: ServerOptions,
}

/// What [`MariaDb::start_with`] sets up beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// TLS (`ssl-ca`, `ssl-cert`, `ssl-key`); see [`crate::certs`].
    pub tls: Option<ServerTls>,
    /// `require_secure_transport = ON`: TCP connections without TLS are refused.
    pub require_secure_transport: bool,
    /// Keep the datadir in this empty directory (a small mount of the test's, say) instead of
    /// the temp dir: `data` in the temp dir links to it. The binary log then stays in the temp
    /// dir, off it: on a full disk MariaDB waits for binlog space instead of failing the
    /// statement, and a test of a full data disk wants the error.
    pub datadir: Option<PathBuf>,
    /// More `mariadbd` options, e.g. `--max-connections=10`.
    pub args: Vec<String>,
}

/// The server's certificate and key, and the CA whose client certificates it accepts.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl MariaDb {
    /// Initialise a new datadir and start `mariadbd` on a free port; waits
    /// until it answers `SELECT 1` (panics after 60 s with its error log).
    pub fn start() -> MariaDb {
        MariaDb::start_with(ServerOptions::default())
    }

    /// [`start`](Self::start) with TLS or other [`ServerOptions`]. The testkit's own
    /// connections to it ([`exec`](Self::exec), [`query`](Self::query), the `mariadb` client)
    /// use TLS when it has TLS, without checking its certificate.
    pub fn start_with(options: ServerOptions) -> MariaDb {
        reap_stale_dirs();
        let dir = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir()
            .expect("hoist-testkit: cannot create a temp dir for MariaDB");
        fs::write(dir.path().join("owner"), owner_tag(std::process::id()))
            .expect("hoist-testkit: cannot write the owner file");
        fs::create_dir(dir.path().join("tmp")).expect("hoist-testkit: cannot create tmpdir");
        if let Some(datadir) = &options.datadir {
            std::os::unix::fs::symlink(datadir, dir.path().join("data"))
                .expect("hoist-testkit: cannot link the datadir into the temp dir");
            fs::create_dir(dir.path().join("binlog")).expect("hoist-testkit: cannot create the binlog dir");
        }
        install_db(dir.path());
        // A free port can be taken between our probe and mariadbd's bind.
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            match launch(dir.path(), port, &options) {
                Ok(child) => return MariaDb { dir, port, child: Mutex::new(Some(child)), options },
                Err(Launch::PortInUse(log)) => last_err = log,
                Err(Launch::Failed(msg)) => panic!("{msg}"),
            }
        }
        panic!("hoist-testkit: mariadbd found no free port after 5 tries:\n{last_err}");
    }

    /// One server shared by all tests of a test binary, started on first use.
    /// Tests using it must use their own database names, and must not kill it.
    pub fn shared() -> &'static MariaDb {
        static SHARED: OnceLock<MariaDb> = OnceLock::new();
        SHARED.get_or_init(|| {
            let db = MariaDb::start();
            SHARED_DIR.set(db.dir.path().to_path_buf()).expect("shared server started twice");
            // SAFETY: registering a plain extern "C" fn.
            unsafe { libc::atexit(remove_shared_dir) };
            db
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `mysql://root@127.0.0.1:PORT` (root has no password).
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }

    /// The URL the testkit's own connections use: [`url`](Self::url), with mysql_async's TLS
    /// parameters (TLS, certificate not checked) for a server with TLS. For the testkit's
    /// helpers that take a URL ([`crate::rows::mysql_table_sum`]); hoist takes [`url`](Self::url)
    /// and its own TLS flags.
    pub fn client_url(&self) -> String {
        client_url(self.port, &self.options)
    }

    /// `mysql://root@127.0.0.1:PORT/DATABASE`.
    pub fn url_db(&self, database: &str) -> String {
        format!("{}/{}", self.url(), database)
    }

    /// The temp dir holding datadir (`data/`), logs and socket.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Pid of the running `mariadbd`, `None` after [`kill`](Self::kill) or
    /// [`stop`](Self::stop).
    pub fn pid(&self) -> Option<u32> {
        self.child().as_ref().map(Child::id)
    }

    /// `SIGKILL` the server and wait for it to exit (simulates a crash).
    /// Does nothing if it is not running.
    pub fn kill(&self) {
        if let Some(mut child) = self.child().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Clean shutdown (`SIGTERM`, wait up to 120 s, then `SIGKILL`).
    pub fn stop(&self) {
        let Some(mut child) = self.child().take() else {
            return;
        };
        // SAFETY: plain kill(2) on our own child, which has not been reaped.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Start `mariadbd` again on the same datadir and port and wait until it
    /// is ready. A running server is stopped cleanly first.
    pub fn restart(&self) {
        self.stop();
        match launch(self.dir.path(), self.port, &self.options) {
            Ok(child) => *self.child() = Some(child),
            Err(Launch::PortInUse(log)) => {
                panic!("hoist-testkit: cannot restart mariadbd, port {} is taken:\n{log}", self.port)
            }
            Err(Launch::Failed(msg)) => panic!("{msg}"),
        }
    }

    /// Run statements (several allowed, `;`-separated); panics with the
    /// server's message on error.
    pub fn exec(&self, sql: &str) {
        if let Err(e) = sync::exec(&self.client_url(), sql) {
            panic!("hoist-testkit: exec failed: {}\nSQL: {}", sync::describe(&e), clip(sql));
        }
    }

    /// Rows of every result set of `sql`, values as the server prints them
    /// (text protocol); `None` is NULL.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<Vec<u8>>>> {
        let mut rows = Vec::new();
        if let Err(e) = sync::for_each_row(&self.client_url(), sql, |r| rows.push(r)) {
            panic!("hoist-testkit: query failed: {}\nSQL: {}", sync::describe(&e), clip(sql));
        }
        rows
    }

    /// The single value of a one-row, one-column query, as text.
    pub fn query_value(&self, sql: &str) -> Option<String> {
        let rows = self.query(sql);
        assert!(rows.len() == 1 && rows[0].len() == 1, "hoist-testkit: expected one value from {sql}, got {rows:?}");
        rows[0][0].as_ref().map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// Pipe a file through the `mariadb` client (no default database).
    /// `.gz` and `.zst` files are decompressed first.
    pub fn load_sql_file(&self, path: &Path) {
        self.client(None, &[], Input::File(path));
    }

    /// Like [`load_sql_file`](Self::load_sql_file) with `database` as the
    /// client's default database (dump data files hold no `USE`).
    pub fn load_sql_file_into(&self, database: &str, path: &Path) {
        self.client(Some(database), &[], Input::File(path));
    }

    /// Run SQL text through the `mariadb` client; returns its stdout
    /// (tab-separated, `--batch`). Panics with stderr on failure.
    pub fn client_sql(&self, database: Option<&str>, sql: &str) -> String {
        self.client(database, &[], Input::Text(sql))
    }

    /// `LOAD DATA LOCAL INFILE` through the `mariadb` client with Dumpling's
    /// CSV defaults (see [`crate::dump`]); `.gz`/`.zst` are decompressed first.
    pub fn load_csv_file(&self, database: &str, table: &str, path: &Path) {
        let plain = self.plain_copy(path);
        let file = plain.as_deref().unwrap_or(path);
        let sql = format!(
            "LOAD DATA LOCAL INFILE '{}' INTO TABLE `{}` CHARACTER SET binary \
             FIELDS TERMINATED BY ',' ENCLOSED BY '\"' ESCAPED BY '\\\\' \
             LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES;\nSHOW WARNINGS;\n",
            file.display().to_string().replace('\\', "\\\\").replace('\'', "\\'"),
            table.replace('`', "``"),
        );
        let out = self.client(Some(database), &["--local-infile=1"], Input::Text(&sql));
        if let Some(p) = plain {
            let _ = fs::remove_file(p);
        }
        assert!(
            out.trim().is_empty(),
            "hoist-testkit: LOAD DATA of {} into {database}.{table} gave warnings:\n{}",
            path.display(),
            clip(&out)
        );
    }

    /// Run Debian's mydumper 0.10 on `database` into `out_dir` with triggers,
    /// routines and events (views are dumped by default).
    pub fn mydumper(&self, database: &str, out_dir: &Path) {
        self.mydumper_with_args(database, out_dir, &[]);
    }

    /// [`mydumper`](Self::mydumper) with extra flags, e.g. `["-r", "1000"]`
    /// (chunked `db.tbl.00000.sql` files) or `["-c"]` (gzip every file).
    pub fn mydumper_with_args(&self, database: &str, out_dir: &Path, extra: &[&str]) {
        fs::create_dir_all(out_dir).expect("hoist-testkit: cannot create the mydumper out dir");
        // An empty defaults file keeps /etc/mysql out of it.
        let cnf = self.dir.path().join("mydumper.cnf");
        fs::write(&cnf, "[mydumper]\n").expect("hoist-testkit: cannot write mydumper.cnf");
        let out = Command::new(bin("mydumper"))
            .arg(format!("--defaults-file={}", cnf.display()))
            .args(["-h", "127.0.0.1", "-P", &self.port.to_string(), "-u", "root"])
            .args(["-B", database, "-o"])
            .arg(out_dir)
            .args(["--triggers", "--routines", "--events", "--threads", "2"])
            .args(["--verbose", "1"])
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .expect("hoist-testkit: cannot run mydumper (apt-get install mydumper)");
        assert!(
            out.status.success(),
            "hoist-testkit: mydumper failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Run `mariadb-dump` with `args` (its options and databases, e.g. `["--routines",
    /// "sakila"]`) into the one file `out`, as a user dumps a server.
    pub fn mariadb_dump(&self, args: &[&str], out: &Path) {
        let file = File::create(out).expect("hoist-testkit: cannot create the dump file");
        let mut cmd = Command::new(bin("mariadb-dump"));
        cmd.args(["--no-defaults", "--protocol=TCP", "-h127.0.0.1"]).arg(format!("-P{}", self.port)).arg("-uroot");
        if self.options.tls.is_some() {
            cmd.arg("--ssl");
        }
        let run = cmd
            .args(args)
            .stdin(Stdio::null())
            .stdout(file)
            .output()
            .expect("hoist-testkit: cannot run mariadb-dump (apt-get install mariadb-client)");
        assert!(
            run.status.success(),
            "hoist-testkit: mariadb-dump {args:?} failed ({}):\n{}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        );
    }

    /// The last `lines` lines of the server's error log.
    pub fn error_log_tail(&self, lines: usize) -> String {
        log_tail(self.dir.path(), lines)
    }

    fn child(&self) -> MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn client(&self, database: Option<&str>, extra: &[&str], input: Input<'_>) -> String {
        let mut cmd = Command::new(bin("mariadb"));
        cmd.args(["--no-defaults", "--protocol=TCP", "-h127.0.0.1"])
            .arg(format!("-P{}", self.port))
            .args(["-uroot", "--batch", "--binary-mode", "--default-character-set=utf8mb4", "--max-allowed-packet=1G"])
            .args(extra);
        if self.options.tls.is_some() {
            cmd.arg("--ssl");
        }
        if let Some(db) = database {
            cmd.arg(db);
        }
        // A scratch file to remove afterwards.
        let scratch = match input {
            Input::File(path) => {
                let plain = self.plain_copy(path);
                let file = plain.as_deref().unwrap_or(path);
                cmd.stdin(open(file));
                plain
            }
            Input::Text(sql) => {
                let path = self.scratch_file("client", "sql");
                fs::write(&path, sql).expect("hoist-testkit: cannot write a scratch file");
                cmd.stdin(open(&path));
                Some(path)
            }
        };
        let out = cmd.output().expect("hoist-testkit: cannot run the mariadb client (apt-get install mariadb-client)");
        if let Some(p) = scratch {
            let _ = fs::remove_file(p);
        }
        let what = match input {
            Input::File(p) => p.display().to_string(),
            Input::Text(sql) => clip(sql),
        };
        assert!(
            out.status.success(),
            "hoist-testkit: mariadb client failed on {what}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// For a compressed file, a decompressed copy in the server's temp dir.
    fn plain_copy(&self, path: &Path) -> Option<PathBuf> {
        let name = path.file_name()?.to_string_lossy().into_owned();
        let reader: Box<dyn Read> = if name.ends_with(".gz") {
            Box::new(flate2::read::MultiGzDecoder::new(open(path)))
        } else if name.ends_with(".zst") {
            Box::new(zstd::Decoder::new(open(path)).expect("zstd decoder"))
        } else {
            return None;
        };
        let out = self.scratch_file("plain", "dat");
        let mut w = File::create(&out).expect("hoist-testkit: cannot create a scratch file");
        io::copy(&mut { reader }, &mut w)
            .unwrap_or_else(|e| panic!("hoist-testkit: cannot decompress {}: {e}", path.display()));
        Some(out)
    }

    fn scratch_file(&self, stem: &str, ext: &str) -> PathBuf {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.dir.path().join("tmp").join(format!("{stem}-{n}.{ext}"))
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.kill();
    }
}

impl std::fmt::Debug for MariaDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MariaDb")
            .field("dir", &self.dir.path())
            .field("port", &self.port)
            .field("pid", &self.pid())
            .finish()
    }
}

enum Input<'a> {
    File(&'a Path),
    Text(&'a str),
}

enum Launch {
    /// mariadbd could not bind the port; carries the log tail.
    PortInUse(String),
    Failed(String),
}

fn open(path: &Path) -> File {
    File::open(path).unwrap_or_else(|e| panic!("hoist-testkit: cannot open {}: {e}", path.display()))
}

fn clip(s: &str) -> String {
    if s.len() <= 2000 {
        return s.to_string();
    }
    let mut end = 2000;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &s[..end], s.len())
}

fn bin(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(name)
}

fn install_db(dir: &Path) {
    let out = Command::new(bin("mariadb-install-db"))
        .arg("--no-defaults")
        .arg(format!("--datadir={}", dir.join("data").display()))
        // Bootstrap temp tables go to tmpdir; keep them out of the shared /tmp.
        .arg(format!("--tmpdir={}", dir.join("tmp").display()))
        .args(["--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"])
        .stdin(Stdio::null())
        .output()
        .expect("hoist-testkit: cannot run mariadb-install-db (apt-get install mariadb-server)");
    assert!(
        out.status.success(),
        "hoist-testkit: mariadb-install-db failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("hoist-testkit: cannot find a free port")
        .port()
}

fn server_args(dir: &Path, port: u16, options: &ServerOptions) -> Vec<String> {
    let p = |name: &str| dir.join(name).display().to_string();
    let binlog = match options.datadir {
        Some(_) => dir.join("binlog").join("binlog"),
        None => dir.join("data").join("binlog"),
    };
    let mut args: Vec<String> = vec![
        "--no-defaults".into(),
        "--user=root".into(),
        format!("--datadir={}", p("data")),
        format!("--socket={}", p("mariadbd.sock")),
        format!("--port={port}"),
        "--bind-address=127.0.0.1".into(),
        format!("--pid-file={}", p("mariadbd.pid")),
        format!("--log-error={}", p("error.log")),
        format!("--tmpdir={}", p("tmp")),
        format!("--log-bin={}", binlog.display()),
        "--binlog-format=ROW".into(),
        "--server-id=1".into(),
        "--innodb-buffer-pool-size=256M".into(),
        "--local-infile=1".into(),
        "--max-allowed-packet=256M".into(),
        "--skip-name-resolve".into(),
        "--character-set-server=utf8mb4".into(),
        "--collation-server=utf8mb4_general_ci".into(),
    ];
    if let Some(tls) = &options.tls {
        args.push(format!("--ssl-ca={}", tls.ca.display()));
        args.push(format!("--ssl-cert={}", tls.cert.display()));
        args.push(format!("--ssl-key={}", tls.key.display()));
    }
    if options.require_secure_transport {
        args.push("--require-secure-transport=ON".into());
    }
    args.extend(options.args.iter().cloned());
    args
}

/// `mysql://root@127.0.0.1:PORT`, with TLS (not verified) for a server with TLS.
fn client_url(port: u16, options: &ServerOptions) -> String {
    let tls = if options.tls.is_some() { "?require_ssl=true&verify_ca=false&verify_identity=false" } else { "" };
    format!("mysql://root@127.0.0.1:{port}{tls}")
}

/// Start mariadbd and wait until it answers on `port`.
fn launch(dir: &Path, port: u16, options: &ServerOptions) -> Result<Child, Launch> {
    let log = dir.join("error.log");
    let log_start = fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let stdout = File::options()
        .create(true)
        .append(true)
        .open(dir.join("stdout.log"))
        .expect("hoist-testkit: cannot open stdout.log");
    let mut cmd = Command::new(bin("mariadbd"));
    cmd.args(server_args(dir, port, options))
        .stdin(Stdio::null())
        .stdout(stdout.try_clone().expect("dup stdout.log"))
        .stderr(stdout);
    let mut child = spawn_tied(cmd)
        .unwrap_or_else(|e| panic!("hoist-testkit: cannot start mariadbd: {e} (apt-get install mariadb-server)"));

    let url = client_url(port, options);
    let socket = dir.join("mariadbd.sock").display().to_string();
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let new_log = fs::read(&log)
                .map(|b| String::from_utf8_lossy(&b[(log_start as usize).min(b.len())..]).into_owned())
                .unwrap_or_default();
            if new_log.contains("Address already in use") {
                return Err(Launch::PortInUse(new_log));
            }
            return Err(Launch::Failed(format!(
                "hoist-testkit: mariadbd exited during start-up ({status}); log tail ({}):\n{}",
                log.display(),
                log_tail(dir, 30)
            )));
        }
        // Make sure it is our server that answers, not someone else's on a reused port.
        let mut answer = None;
        if sync::for_each_row(&url, "SELECT @@socket", |r| answer = r.into_iter().next()).is_ok()
            && answer.flatten().as_deref() == Some(socket.as_bytes())
        {
            return Ok(child);
        }
        if started.elapsed() > START_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Launch::Failed(format!(
                "hoist-testkit: mariadbd did not answer on 127.0.0.1:{port} within {}s; log tail ({}):\n{}",
                START_TIMEOUT.as_secs(),
                log.display(),
                log_tail(dir, 30)
            )));
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn log_tail(dir: &Path, lines: usize) -> String {
    let text = fs::read(dir.join("error.log"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("(no error log: {e})"));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------- spawning --

struct SpawnRequest {
    cmd: Command,
    reply: mpsc::Sender<io::Result<Child>>,
}

/// Spawn `cmd` from the never-ending spawner thread with
/// `PR_SET_PDEATHSIG = SIGKILL`, so the child dies with this process.
pub(crate) fn spawn_tied(mut cmd: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        thread::Builder::new()
            .name("hoist-testkit-spawner".into())
            .spawn(move || {
                // Never returns: the sender lives in a static.
                for req in rx {
                    let mut cmd = req.cmd;
                    let _ = req.reply.send(cmd.spawn());
                }
            })
            .expect("hoist-testkit: cannot start the spawner thread");
        tx
    });
    let parent = std::process::id();
    // SAFETY: only async-signal-safe calls (prctl, getppid) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() as u32 != parent {
                return Err(io::Error::other("parent died during spawn"));
            }
            Ok(())
        });
    }
    let (reply, answer) = mpsc::channel();
    spawner.send(SpawnRequest { cmd, reply }).expect("hoist-testkit: spawner thread is gone");
    answer.recv().expect("hoist-testkit: spawner thread dropped the request")
}

// ----------------------------------------------------------------- cleanup --

static SHARED_DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_shared_dir() {
    // The server gets SIGKILL from PDEATHSIG anyway; kill it first here so that
    // it does not write into the dir while it is being removed.
    if let Some(dir) = SHARED_DIR.get() {
        if let Some(pid) = server_pid(dir) {
            // SAFETY: kill(2) on the pid our own server wrote, checked in server_pid.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            wait_gone(pid);
        }
        let _ = fs::remove_dir_all(dir);
    }
}

/// `pid start-time` of a process, to recognise it later despite pid reuse.
pub(crate) fn owner_tag(pid: u32) -> String {
    format!("{pid} {}", proc_start_time(pid).unwrap_or_default())
}

fn proc_start_time(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22; fields after the parenthesised command name start at 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19).map(str::to_string)
}

fn owner_alive(dir: &Path) -> bool {
    let Ok(tag) = fs::read_to_string(dir.join("owner")) else {
        return true; // being created right now, or not ours: leave it
    };
    let Some(pid) = tag.split(' ').next().and_then(|p| p.parse::<u32>().ok()) else {
        return true;
    };
    owner_tag(pid) == tag
}

/// Pid of the live mariadbd serving `dir`, if any.
fn server_pid(dir: &Path) -> Option<libc::pid_t> {
    let pid: libc::pid_t = fs::read_to_string(dir.join("mariadbd.pid")).ok()?.trim().parse().ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let want = format!("--datadir={}", dir.join("data").display());
    cmdline.split(|&b| b == 0).any(|arg| arg == want.as_bytes()).then_some(pid)
}

fn wait_gone(pid: libc::pid_t) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return,
            // A zombie holds no files any more.
            Ok(stat) if stat.rsplit(") ").next().is_some_and(|s| s.starts_with('Z')) => return,
            Ok(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Remove the temp dirs (and kill the servers) of test processes that died
/// without cleaning up. [`MariaDb::start`] calls it.
pub fn reap_stale_dirs() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_ours = entry.file_name().to_string_lossy().starts_with(DIR_PREFIX);
        if !is_ours || !path.is_dir() || owner_alive(&path) {
            continue;
        }
        if let Some(pid) = server_pid(&path) {
            // SAFETY: kill(2) on a mariadbd whose command line names this dir.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            wait_gone(pid);
        }
        let _ = fs::remove_dir_all(&path);
    }
}
