//! A private S3-compatible server: `moto`'s (`pip install 'moto[server]'`), on a free port,
//! its output in a temp dir, killed on drop and with this process (as the MariaDB servers
//! are, see [`crate::mariadb`]). Buckets and objects are made with `boto3`, which moto brings.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The credentials the tests give hoist; moto takes any unless started with [`S3Server::start_with_auth`].
pub const ACCESS_KEY: &str = "AKIAHOISTTEST";
pub const SECRET_KEY: &str = "hoist-test-secret-XYZZY";

pub struct S3Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl S3Server {
    /// A server that takes any credentials.
    pub fn start() -> S3Server {
        S3Server::spawn(false)
    }

    /// A server that checks signatures against its own (empty) IAM: every key is unknown.
    pub fn start_with_auth() -> S3Server {
        S3Server::spawn(true)
    }

    fn spawn(auth: bool) -> S3Server {
        let dir = tempfile::Builder::new().prefix("hoist-moto-").tempdir().expect("hoist-testkit: temp dir");
        let port = crate::mariadb::free_port();
        let log = std::fs::File::create(dir.path().join("moto.log")).expect("hoist-testkit: moto log");
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("hoist-testkit: moto log"))
            .stderr(log);
        if auth {
            cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
        }
        let child = crate::mariadb::spawn_tied(cmd)
            .unwrap_or_else(|e| panic!("hoist-testkit: cannot start moto ({e}); pip install 'moto[server]'"));
        let mut server = S3Server { child, port, dir };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "hoist-testkit: moto exited ({status}); pip install 'moto[server]'\n{}",
                    std::fs::read_to_string(self.dir.path().join("moto.log")).unwrap_or_default()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("hoist-testkit: moto did not listen on {} within 60 s", self.port);
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `s3://bucket/prefix` with the endpoint and path style; credentials come from [`Self::env`].
    pub fn url(&self, bucket: &str, prefix: &str) -> String {
        format!("s3://{bucket}/{prefix}?endpoint={}&force-path-style=true", self.endpoint())
    }

    /// The environment hoist reads its credentials and region from.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
        ]
    }

    pub fn create_bucket(&self, bucket: &str) {
        self.boto("s3.create_bucket(Bucket=a[0])", &[bucket]);
    }

    /// Every file under `dir` as `prefix/relative/path`.
    pub fn upload_dir(&self, bucket: &str, prefix: &str, dir: &Path) {
        self.boto(
            "import os\n\
             for root, _, files in os.walk(a[2]):\n\
             \x20   for f in files:\n\
             \x20       p = os.path.join(root, f)\n\
             \x20       key = (a[1] + '/' + os.path.relpath(p, a[2])).lstrip('/')\n\
             \x20       s3.upload_file(p, a[0], key)",
            &[bucket, prefix, &dir.display().to_string()],
        );
    }

    /// Put one object (to change a file of an uploaded dump).
    pub fn put(&self, bucket: &str, key: &str, body: &Path) {
        self.boto("s3.upload_file(a[2], a[0], a[1])", &[bucket, key, &body.display().to_string()]);
    }

    /// An object's content; None when there is none.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let out = self.boto(
            "try:\n\
             \x20   print(s3.get_object(Bucket=a[0], Key=a[1])['Body'].read().hex())\n\
             except s3.exceptions.NoSuchKey:\n\
             \x20   print('-')",
            &[bucket, key],
        );
        match out.trim() {
            "-" => None,
            hex => Some((0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()),
        }
    }

    /// Every object under `prefix/` into `dir`, by its key's path below the prefix.
    pub fn download_dir(&self, bucket: &str, prefix: &str, dir: &Path) {
        self.boto(
            "import os\n\
             pg = s3.get_paginator('list_objects_v2')\n\
             for page in pg.paginate(Bucket=a[0], Prefix=a[1] + '/'):\n\
             \x20   for o in page.get('Contents', []):\n\
             \x20       p = os.path.join(a[2], o['Key'][len(a[1]) + 1:])\n\
             \x20       os.makedirs(os.path.dirname(p), exist_ok=True)\n\
             \x20       s3.download_file(a[0], o['Key'], p)",
            &[bucket, prefix, &dir.display().to_string()],
        );
    }

    /// The keys under `prefix`.
    pub fn list(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let out = self.boto(
            "pg = s3.get_paginator('list_objects_v2')\n\
             for page in pg.paginate(Bucket=a[0], Prefix=a[1]):\n\
             \x20   for o in page.get('Contents', []):\n\
             \x20       print(o['Key'])",
            &[bucket, prefix],
        );
        out.lines().map(str::to_string).collect()
    }

    /// Runs `script` with `s3` a boto3 client of this server and `a` the arguments.
    fn boto(&self, script: &str, args: &[&str]) -> String {
        let program = format!(
            "import sys, boto3\n\
             a = sys.argv[1:]\n\
             s3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', \
             aws_access_key_id='{ACCESS_KEY}', aws_secret_access_key='{SECRET_KEY}')\n\
             {script}\n",
            self.endpoint()
        );
        let out = Command::new("python3")
            .arg("-c")
            .arg(program)
            .args(args)
            .output()
            .expect("hoist-testkit: cannot run python3 for boto3");
        assert!(out.status.success(), "hoist-testkit: boto3 failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
