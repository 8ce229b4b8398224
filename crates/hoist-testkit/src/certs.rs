//! Certificates for TLS tests, made with the `openssl` command in a temp dir.
//!
//! [`Certs::generate`] makes a CA, a server certificate it signs (SAN `IP:127.0.0.1,
//! DNS:localhost`), a second server certificate for a host no test connects to (SAN
//! `DNS:db.invalid`), a client certificate, and a second CA that signed none of them. Keys are
//! RSA 2048, unencrypted PEM; everything is valid for ten years from now. The dir is named
//! like a server's and records its owner, so that one left by a killed test process (or by
//! a `static` that is never dropped) is removed by the next [`MariaDb::start`].
//!
//! [`MariaDb::start`]: crate::mariadb::MariaDb::start

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// The files of [`Certs::generate`]; removed with it.
pub struct Certs {
    dir: TempDir,
}

impl Certs {
    pub fn generate() -> Certs {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}certs-", crate::mariadb::DIR_PREFIX))
            .tempdir()
            .expect("hoist-testkit: temp dir for certs");
        let d = dir.path();
        fs::write(d.join("owner"), crate::mariadb::owner_tag(std::process::id()))
            .expect("hoist-testkit: cannot write the owner file");
        ca(d, "ca", "hoist test CA");
        ca(d, "other-ca", "an unrelated CA");
        signed(
            d,
            "server",
            "hoist test server",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
        );
        signed(d, "misnamed", "db.invalid", "subjectAltName=DNS:db.invalid\nextendedKeyUsage=serverAuth");
        signed(d, "client", "hoist test client", "extendedKeyUsage=clientAuth");
        Certs { dir }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA that signed the server, misnamed and client certificates.
    pub fn ca(&self) -> PathBuf {
        self.file("ca.pem")
    }

    /// A CA that signed none of them.
    pub fn other_ca(&self) -> PathBuf {
        self.file("other-ca.pem")
    }

    /// For 127.0.0.1 and localhost.
    pub fn server_cert(&self) -> PathBuf {
        self.file("server-cert.pem")
    }

    pub fn server_key(&self) -> PathBuf {
        self.file("server-key.pem")
    }

    /// Signed by [`ca`](Self::ca), for `db.invalid` only: the chain verifies, the host does not.
    pub fn misnamed_cert(&self) -> PathBuf {
        self.file("misnamed-cert.pem")
    }

    pub fn misnamed_key(&self) -> PathBuf {
        self.file("misnamed-key.pem")
    }

    pub fn client_cert(&self) -> PathBuf {
        self.file("client-cert.pem")
    }

    pub fn client_key(&self) -> PathBuf {
        self.file("client-key.pem")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// `NAME.pem` and `NAME-key.pem`: a self-signed CA.
fn ca(dir: &Path, name: &str, cn: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            &format!("/CN={cn}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &format!("{name}-key.pem"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// `NAME-cert.pem` and `NAME-key.pem`, signed by `ca.pem`, with these extensions.
fn signed(dir: &Path, name: &str, cn: &str, extensions: &str) {
    let ext = format!("{name}.ext");
    fs::write(dir.join(&ext), format!("basicConstraints=CA:FALSE\n{extensions}\n")).expect("hoist-testkit: ext file");
    let (key, csr, cert) = (format!("{name}-key.pem"), format!("{name}.csr"), format!("{name}-cert.pem"));
    let subject = format!("/CN={cn}");
    openssl(dir, &["req", "-newkey", "rsa:2048", "-nodes", "-subj", &subject, "-keyout", &key, "-out", &csr]);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "3650",
            "-sha256",
            "-extfile",
            &ext,
            "-out",
            &cert,
        ],
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("hoist-testkit: cannot run openssl (apt-get install openssl)");
    assert!(
        out.status.success(),
        "hoist-testkit: openssl {} failed ({}):\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
