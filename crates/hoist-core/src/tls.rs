//! TLS, and the one place connection options are built, for every MySQL connection hoist
//! makes: import and restore targets (and their writers), the MySQL checkpoint store, backup
//! and log sources (the replication connection too), and the `hoist checkpoint` controls.
//!
//! - [`Tls`]: the mode and files the flags (`--ssl-mode`, `--ssl-ca`, `--ssl-cert`,
//!   `--ssl-key`) or the config (`[tidb] tls`, `[security]`) give, read and checked once,
//!   before any connection.
//! - [`opts`]: a `mysql://` URL and a [`Tls`] as `mysql_async` options: TCP to the host
//!   named (never a local socket the driver might prefer), and TLS as the mode says.
//! - [`connect`]: the first connection to a server, which settles `preferred`: TLS if the
//!   server offers it, else plain. Later connections use the options it returns, so a run
//!   asks once, and its pools and workers connect the same way.
//!
//! The modes are the mysql client's. `preferred` and `required` encrypt without checking the
//! certificate; `verify-ca` checks its chain against `--ssl-ca` (or the system's CAs without
//! it); `verify-identity` also checks that it names the host of the URL. A certificate
//! that does not verify, or a server that does not offer TLS when it is required, is the
//! same on every try: permanent (`error_class.rs`), with a message that says which flag to
//! change (`advice`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql_async::{ClientIdentity, Conn, DriverError, Opts, OptsBuilder, SslOpts};
use openssl::pkcs12::Pkcs12;
use openssl::pkey::PKey;
use openssl::stack::Stack;
use openssl::x509::X509;

use crate::error::TargetError;
use crate::redact::redact_url;

/// `--ssl-mode`, as the mysql client spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    Disabled,
    /// TLS when the server offers it, certificate not checked; else plain.
    #[default]
    Preferred,
    /// TLS, certificate not checked.
    Required,
    /// TLS, certificate signed by the CA.
    VerifyCa,
    /// TLS, certificate signed by the CA and for the host connected to.
    VerifyIdentity,
}

impl std::str::FromStr for SslMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "disabled" => Ok(SslMode::Disabled),
            "preferred" => Ok(SslMode::Preferred),
            "required" => Ok(SslMode::Required),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-identity" => Ok(SslMode::VerifyIdentity),
            _ => Err(format!("unknown ssl mode {s:?} (disabled, preferred, required, verify-ca or verify-identity)")),
        }
    }
}

impl std::fmt::Display for SslMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SslMode::Disabled => "disabled",
            SslMode::Preferred => "preferred",
            SslMode::Required => "required",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyIdentity => "verify-identity",
        })
    }
}

/// What the flags or the config ask for, before the files are read. Each is `None` when
/// not given: the flags are laid over the config field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsChoice {
    pub mode: Option<SslMode>,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl TlsChoice {
    /// `other`'s fields where it has them, else these.
    pub fn over(self, other: TlsChoice) -> TlsChoice {
        TlsChoice {
            mode: other.mode.or(self.mode),
            ca: other.ca.or(self.ca),
            cert: other.cert.or(self.cert),
            key: other.key.or(self.key),
        }
    }
}

/// TLS settings with their files read and checked. The default is `preferred` with no files.
#[derive(Clone, Default)]
pub struct Tls {
    pub mode: SslMode,
    /// The CA certificates (as read from the file) that verify-ca and verify-identity trust,
    /// instead of the system's.
    ca: Option<Vec<u8>>,
    /// The client certificate and key, as the PKCS#12 archive the TLS library takes.
    identity: Option<Vec<u8>>,
}

/// Never the key.
impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("mode", &self.mode)
            .field("ca", &self.ca.is_some())
            .field("client_certificate", &self.identity.is_some())
            .finish()
    }
}

/// How the files are named in messages: the flag, and the config key that gives the same.
const CA: &str = "--ssl-ca ([security] ca-path)";
const CERT: &str = "--ssl-cert ([security] cert-path)";
const KEY: &str = "--ssl-key ([security] key-path)";

impl Tls {
    /// Read and check the files. Without a mode, a CA means verify-identity (as Lightning's
    /// `[tidb] tls = ""` with a `[security] ca-path` does), else preferred. Err: a file that
    /// cannot be read or holds no certificate (or key), a key that is not the certificate's.
    pub fn new(choice: &TlsChoice) -> Result<Tls, String> {
        let mode =
            choice.mode.unwrap_or(if choice.ca.is_some() { SslMode::VerifyIdentity } else { SslMode::Preferred });
        let mut tls = Tls { mode, ca: None, identity: None };
        let verify = matches!(mode, SslMode::VerifyCa | SslMode::VerifyIdentity);
        if let Some(path) = &choice.ca {
            let pem = read(CA, path)?;
            certificates(CA, path, &pem)?;
            if verify {
                tls.ca = Some(pem);
            } else {
                tracing::warn!(
                    "--ssl-ca is not used under --ssl-mode {mode}, which does not check the server's certificate: \
                     use --ssl-mode verify-ca or verify-identity to check it"
                );
            }
        }
        match (&choice.cert, &choice.key) {
            (None, None) => {}
            (Some(_), None) => return Err(format!("{CERT} needs {KEY}, the certificate's private key")),
            (None, Some(_)) => return Err(format!("{KEY} needs {CERT}, the certificate it belongs to")),
            (Some(_), Some(_)) if mode == SslMode::Disabled => {
                tracing::warn!("--ssl-cert and --ssl-key are not used under --ssl-mode disabled")
            }
            (Some(cert), Some(key)) => tls.identity = Some(identity(cert, key)?),
        }
        Ok(tls)
    }

    /// The driver's TLS options for this mode; None: plain.
    fn ssl_opts(&self) -> Option<SslOpts> {
        let identity = self.identity.clone().map(|der| ClientIdentity::new(der.into()));
        let base = SslOpts::default().with_client_identity(identity);
        let verified = |base: SslOpts| match &self.ca {
            Some(ca) => base.with_root_certs(vec![ca.clone().into()]).with_disable_built_in_roots(true),
            None => base,
        };
        match self.mode {
            SslMode::Disabled => None,
            SslMode::Preferred | SslMode::Required => {
                Some(base.with_danger_accept_invalid_certs(true).with_danger_skip_domain_validation(true))
            }
            SslMode::VerifyCa => Some(verified(base).with_danger_skip_domain_validation(true)),
            SslMode::VerifyIdentity => Some(verified(base)),
        }
    }
}

fn read(what: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))
}

/// The certificates of a PEM file (or one DER certificate), at least one.
fn certificates(what: &str, path: &Path, bytes: &[u8]) -> Result<Vec<X509>, String> {
    let certs = X509::stack_from_pem(bytes).ok().filter(|c| !c.is_empty());
    certs
        .or_else(|| X509::from_der(bytes).ok().map(|c| vec![c]))
        .ok_or_else(|| format!("{what} {}: no certificate in it (PEM or DER expected)", path.display()))
}

/// The client certificate (its chain may follow it in the file) and its key as a PKCS#12
/// archive without a password, which is what `mysql_async` takes with native-tls.
fn identity(cert_path: &Path, key_path: &Path) -> Result<Vec<u8>, String> {
    let mut chain = certificates(CERT, cert_path, &read(CERT, cert_path)?)?.into_iter();
    let cert = chain.next().expect("at least one certificate");
    let key = PKey::private_key_from_pem(&read(KEY, key_path)?)
        .map_err(|_| format!("{KEY} {}: no private key in it (PEM expected)", key_path.display()))?;
    let matches = cert.public_key().map(|public| public.public_eq(&key)).unwrap_or(false);
    if !matches {
        return Err(format!(
            "{KEY} {} is not the key of {CERT} {}: give the key the certificate was made for",
            key_path.display(),
            cert_path.display()
        ));
    }
    let mut cas = Stack::new().map_err(|e| e.to_string())?;
    for c in chain {
        cas.push(c).map_err(|e| e.to_string())?;
    }
    let archive = Pkcs12::builder()
        .name("hoist")
        .pkey(&key)
        .cert(&cert)
        .ca(cas)
        .build2("")
        .and_then(|p| p.to_der())
        .map_err(|e| format!("{CERT} and {KEY}: {e}"))?;
    Ok(archive)
}

/// Connection options for a `mysql://` URL: the one place they are built. Err (redacted): a
/// URL the driver cannot read, or one that sets TLS itself (`?require_ssl=...`), which the
/// flags do.
pub fn opts(url: &str, tls: &Tls) -> Result<Opts, String> {
    let in_url = ["require_ssl", "verify_ca", "verify_identity", "built_in_roots"];
    if let Ok(parsed) = url::Url::parse(url) {
        if let Some((key, _)) = parsed.query_pairs().find(|(k, _)| in_url.contains(&k.as_ref())) {
            return Err(format!(
                "{}: TLS is not set in the URL ({key}): use --ssl-mode, --ssl-ca, --ssl-cert and --ssl-key \
                 (config: [tidb] tls, [security])",
                redact_url(url)
            ));
        }
    }
    let opts = Opts::from_url(url).map_err(|e| format!("{}: {e}", redact_url(url)))?;
    Ok(OptsBuilder::from_opts(opts).prefer_socket(false).ssl_opts(tls.ssl_opts()).into())
}

/// The first connection to the server of `url`, and the options every later connection to
/// it uses: under `preferred`, plain ones if the server offers no TLS. Err: as
/// `connect_failure` words it (without the URL), classified as `error_class` says.
pub async fn connect(url: &str, tls: &Tls) -> Result<(Opts, Conn), TargetError> {
    let opts = opts(url, tls).map_err(TargetError::permanent)?;
    let (opts, result) = match Conn::new(opts.clone()).await {
        Err(mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer)) if tls.mode == SslMode::Preferred => {
            tracing::debug!("the server offers no TLS: plain connections");
            let plain: Opts = OptsBuilder::from_opts(opts).ssl_opts(None).into();
            let result = Conn::new(plain.clone()).await;
            (plain, result)
        }
        result => (opts, result),
    };
    match result {
        Ok(conn) => Ok((opts, conn)),
        Err(e) => {
            let mut message = crate::target::mysql::connect_failure(&opts, &e);
            if refused_without_tls(&opts, &e) && server_offers_tls(&opts).await == Some(true) {
                message.push_str(REFUSED_WITHOUT_TLS);
            }
            Err(TargetError { message, ..crate::target::mysql::classify(e) })
        }
    }
}

/// MariaDB refuses a plain connection to a server with `require_secure_transport` as it
/// refuses a wrong password (1045), and so does any server for a user created REQUIRE SSL.
const REFUSED_WITHOUT_TLS: &str = "; the server offers TLS and may accept this user only over it \
     (require_secure_transport = ON, or a user created REQUIRE SSL or X509): connect with --ssl-mode preferred, \
     required, verify-ca or verify-identity, not disabled";

fn refused_without_tls(opts: &Opts, e: &mysql_async::Error) -> bool {
    opts.ssl_opts().is_none() && matches!(e, mysql_async::Error::Server(s) if s.code == 1045)
}

/// Whether the server's greeting (the first packet it sends, before any login) has the
/// CLIENT_SSL capability. None: it could not be read within a second or two.
async fn server_offers_tls(opts: &Opts) -> Option<bool> {
    use tokio::io::AsyncReadExt;
    const CLIENT_SSL: u16 = 0x0800;
    let read = async {
        let mut stream = tokio::net::TcpStream::connect((opts.ip_or_hostname(), opts.tcp_port())).await.ok()?;
        let mut header = [0u8; 4];
        stream.read_exact(&mut header).await.ok()?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        let mut payload = vec![0u8; len.min(1 << 16)];
        stream.read_exact(&mut payload).await.ok()?;
        greeting_capabilities(&payload).map(|caps| caps & CLIENT_SSL != 0)
    };
    tokio::time::timeout(Duration::from_secs(2), read).await.ok().flatten()
}

/// The lower capability flags of a protocol-10 greeting: version 10, the server's version
/// (NUL-terminated), the connection id (4), 8 bytes of the scramble and a filler, then them.
fn greeting_capabilities(payload: &[u8]) -> Option<u16> {
    let (&protocol, rest) = payload.split_first()?;
    if protocol != 10 {
        return None;
    }
    let nul = rest.iter().position(|&b| b == 0)?;
    let at = 1 + nul + 1 + 4 + 8 + 1;
    Some(u16::from_le_bytes([*payload.get(at)?, *payload.get(at + 1)?]))
}

/// A TLS failure of a connection, for `connect_failure`: what happened, and what to do.
/// None: not a TLS failure.
pub(crate) fn failure(opts: &Opts, e: &mysql_async::Error) -> Option<(String, String)> {
    match e {
        mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer) => Some((
            "the server does not offer TLS (its have_ssl is not YES)".into(),
            "give the server a certificate (ssl-cert, ssl-key), or connect with --ssl-mode preferred (TLS when \
             offered) or disabled"
                .into(),
        )),
        // MySQL's refusal of a plain connection under require_secure_transport.
        mysql_async::Error::Server(s) if s.code == 3159 => Some((
            format!("ERROR {}: {}", s.code, s.message),
            "the server accepts only TLS connections (require_secure_transport = ON): connect with --ssl-mode \
             preferred, required, verify-ca or verify-identity, not disabled"
                .into(),
        )),
        mysql_async::Error::Io(mysql_async::IoError::Tls(t)) => {
            let what = handshake_failure(t);
            let host = opts.ip_or_hostname();
            let check = if what.contains("hostname mismatch") || what.contains("IP address mismatch") {
                format!(
                    "the server's certificate is not for {host}, the host hoist connects to: connect by a name or \
                     address the certificate holds, or check the CA alone with --ssl-mode verify-ca"
                )
            } else if what.contains("certificate verify failed") {
                let given = opts.ssl_opts().is_some_and(|s| !s.root_certs().is_empty());
                let (signer, fix) = if given {
                    ("the CA given", "give the CA that signed it")
                } else {
                    ("a CA the system trusts (no --ssl-ca given)", "give the CA that signed it")
                };
                format!(
                    "the server's certificate is not signed by {signer}: {fix} with {CA}, or encrypt without \
                     checking the certificate with --ssl-mode required"
                )
            } else {
                "check the server's TLS settings and --ssl-cert / --ssl-key, or connect with --ssl-mode disabled".into()
            };
            Some((what, check))
        }
        _ => None,
    }
}

/// "TLS handshake failed: REASON (VERIFY RESULT)" from the TLS library's error, whose text is
/// OpenSSL's `error:CODE:LIB:FUNCTION:REASON:FILE:LINE:` and the certificate check's result
/// in parentheses.
fn handshake_failure(e: &dyn std::error::Error) -> String {
    let mut messages = vec![e.to_string()];
    let mut next = e.source();
    while let Some(inner) = next {
        messages.push(inner.to_string());
        next = inner.source();
    }
    // The outermost of OpenSSL's texts is the one with the check's result.
    let text = match messages.iter().find(|m| m.starts_with("error:")) {
        Some(m) => m.clone(),
        None => messages.pop().expect("one message"),
    };
    let (errors, result) = match text.strip_suffix(')').and_then(|t| t.rsplit_once(" (")) {
        Some((errors, result)) => (errors, Some(result)),
        None => (text.as_str(), None),
    };
    let reasons: Vec<&str> =
        errors.split("error:").filter_map(|one| one.split(':').nth(3)).filter(|r| !r.is_empty()).collect();
    let reason = if reasons.is_empty() { errors.to_string() } else { reasons.join(", ") };
    match result {
        Some(r) => format!("TLS handshake failed: {reason} ({r})"),
        None => format!("TLS handshake failed: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_the_mysql_clients() {
        for (text, mode) in [
            ("disabled", SslMode::Disabled),
            ("preferred", SslMode::Preferred),
            ("REQUIRED", SslMode::Required),
            ("verify-ca", SslMode::VerifyCa),
            ("VERIFY_IDENTITY", SslMode::VerifyIdentity),
        ] {
            assert_eq!(text.parse::<SslMode>(), Ok(mode), "{text}");
            assert_eq!(mode.to_string().parse::<SslMode>(), Ok(mode));
        }
        assert!("verify-full".parse::<SslMode>().unwrap_err().contains("verify-identity"));
    }

    #[test]
    fn a_ca_alone_means_verify_identity() {
        assert_eq!(Tls::new(&TlsChoice::default()).unwrap().mode, SslMode::Preferred);
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, self_signed_pem()).unwrap();
        let tls = Tls::new(&TlsChoice { ca: Some(ca.clone()), ..Default::default() }).unwrap();
        assert_eq!(tls.mode, SslMode::VerifyIdentity);
        assert!(tls.ca.is_some());
        let required = Tls::new(&TlsChoice { mode: Some(SslMode::Required), ca: Some(ca), ..Default::default() });
        assert!(required.unwrap().ca.is_none(), "not checked under required");
    }

    #[test]
    fn bad_files_are_refused_by_flag() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let missing = dir.path().join("missing.pem");
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, self_signed_pem()).unwrap();
        let choice = |ca: Option<&Path>, cert: Option<&Path>, key: Option<&Path>| TlsChoice {
            mode: None,
            ca: ca.map(Path::to_path_buf),
            cert: cert.map(Path::to_path_buf),
            key: key.map(Path::to_path_buf),
        };
        for (c, expected) in [
            (choice(Some(&junk), None, None), "--ssl-ca ([security] ca-path) "),
            (choice(Some(&missing), None, None), "No such file"),
            (choice(None, Some(&cert), None), "--ssl-cert ([security] cert-path) needs --ssl-key"),
            (choice(None, None, Some(&cert)), "--ssl-key ([security] key-path) needs --ssl-cert"),
            (choice(None, Some(&cert), Some(&junk)), "no private key in it"),
            (choice(None, Some(&junk), Some(&junk)), "no certificate in it"),
        ] {
            let e = Tls::new(&c).unwrap_err();
            assert!(e.contains(expected), "{c:?}: {e}");
        }
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, self_signed_pem()).unwrap();
        let other = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        std::fs::write(&key, other.private_key_to_pem_pkcs8().unwrap()).unwrap();
        let e = Tls::new(&TlsChoice { cert: Some(cert), key: Some(key), ..Default::default() }).unwrap_err();
        assert!(e.contains("is not the key of --ssl-cert"), "{e}");
    }

    #[test]
    fn tls_in_the_url_is_refused_without_its_password() {
        let e = opts("mysql://u:s3cret@db:3306/?require_ssl=true", &Tls::default()).unwrap_err();
        assert!(e.contains("--ssl-mode") && e.contains("require_ssl") && !e.contains("s3cret"), "{e}");
        let plain = opts("mysql://u:s3cret@db:3306", &Tls { mode: SslMode::Disabled, ..Default::default() }).unwrap();
        assert!(plain.ssl_opts().is_none() && !plain.prefer_socket());
        let verified = opts("mysql://u@db:3306", &Tls { mode: SslMode::VerifyIdentity, ..Default::default() }).unwrap();
        let ssl = verified.ssl_opts().unwrap();
        assert!(!ssl.accept_invalid_certs() && !ssl.skip_domain_validation() && !ssl.disable_built_in_roots());
        let ca = opts("mysql://u@db:3306", &Tls { mode: SslMode::VerifyCa, ..Default::default() }).unwrap();
        assert!(ca.ssl_opts().unwrap().skip_domain_validation() && !ca.ssl_opts().unwrap().accept_invalid_certs());
        let required = opts("mysql://u@db:3306", &Tls { mode: SslMode::Required, ..Default::default() }).unwrap();
        assert!(required.ssl_opts().unwrap().accept_invalid_certs());
    }

    #[test]
    fn handshake_failures_are_told_by_their_reason() {
        #[derive(Debug)]
        struct E(&'static str);
        impl std::fmt::Display for E {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {}
        let openssl = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:\
                       ../ssl/statem/statem_clnt.c:1889: (unable to get local issuer certificate)";
        assert_eq!(
            handshake_failure(&E(openssl)),
            "TLS handshake failed: certificate verify failed (unable to get local issuer certificate)"
        );
        assert_eq!(handshake_failure(&E("unexpected EOF")), "TLS handshake failed: unexpected EOF");
    }

    #[test]
    fn the_greeting_says_whether_the_server_offers_tls() {
        // Protocol 10, "10.11.6-MariaDB\0", thread id, 8 scramble bytes, filler, capabilities.
        let mut greeting = vec![10];
        greeting.extend_from_slice(b"10.11.6-MariaDB\0");
        greeting.extend_from_slice(&[7, 0, 0, 0]);
        greeting.extend_from_slice(b"abcdefgh\0");
        greeting.extend_from_slice(&0xfffeu16.to_le_bytes());
        assert_eq!(greeting_capabilities(&greeting), Some(0xfffe));
        assert_eq!(greeting_capabilities(&greeting[..greeting.len() - 1]), None, "cut short");
        assert_eq!(greeting_capabilities(&[9, 0]), None, "protocol 9");
    }

    fn self_signed_pem() -> Vec<u8> {
        let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "test").unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap()).unwrap();
        b.sign(&key, openssl::hash::MessageDigest::sha256()).unwrap();
        b.build().to_pem().unwrap()
    }
}
