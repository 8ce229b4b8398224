//! Passwords never appear in output: every URL or DSN hoist prints goes through here.

/// A URL, or Lightning's DSN `user:pass@tcp(host:port)/`, with its password replaced by
/// `xxxxx`; anything else (a file path) as it is. The URL is read by the `url` crate. One it
/// cannot read, or whose query or fragment holds an `@` (an unescaped password that the parser
/// took for a path or query), is cut by hand at its last `@`: it may leak no part of a password.
pub fn redact_url(url: &str) -> String {
    if url.starts_with("s3://") {
        return redact_s3(url);
    }
    if let Some(dsn) = crate::mysql_url::Dsn::parse(url).filter(|_| !url.contains("://")) {
        return dsn.redacted();
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match url::Url::parse(url) {
        Ok(mut parsed)
            if !parsed.query().unwrap_or("").contains('@') && !parsed.fragment().unwrap_or("").contains('@') =>
        {
            // Without a password, as given: serialising would escape a path's spaces, and a
            // suggested `--target sqlite:///a%20b.db` would name another file.
            if parsed.password().is_none() {
                return url.to_string();
            }
            parsed.set_password(Some("xxxxx")).expect("a URL with a password takes another");
            parsed.to_string()
        }
        _ => match rest.rsplit_once('@') {
            Some((auth, host)) => {
                let user = auth.split_once(':').map_or(auth, |(user, _)| user);
                format!("{scheme}://{user}:xxxxx@{host}")
            }
            None => url.to_string(),
        },
    }
}

/// An `s3://` URL with every parameter's value replaced by `xxxxx` but those known to be
/// harmless (endpoint, region, path style, provider): the keys and tokens, and whatever an
/// unknown or misspelt parameter holds. Cut by hand, so that a value the URL parser would
/// refuse is hidden too; the bucket and prefix are kept.
fn redact_s3(url: &str) -> String {
    const SHOWN: &[&str] = &["endpoint", "region", "force-path-style", "provider"];
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => return url.to_string(),
    };
    let params: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if SHOWN.contains(&key) && !value.contains('@') => pair.to_string(),
            Some((key, _)) => format!("{key}=xxxxx"),
            // A flag, or the tail of a raw secret that held an `&`.
            None if SHOWN.contains(&pair) => pair.to_string(),
            None => "xxxxx".to_string(),
        })
        .collect();
    format!("{base}?{}", params.join("&"))
}

/// Whether a MySQL URL carries a password (in a recorded, redacted URL: `xxxxx`, which cannot
/// be used to connect). SQLite URLs never do.
pub fn has_password(url: &str) -> bool {
    url.strip_prefix("mysql://").and_then(|rest| rest.rsplit_once('@')).is_some_and(|(auth, _)| auth.contains(':'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn recorded_passwords_are_seen() {
        assert!(super::has_password("mysql://root:xxxxx@db:3306"));
        assert!(super::has_password("mysql://root:s3cret@db:3306"));
        assert!(!super::has_password("mysql://root@db:3306"));
        assert!(!super::has_password("sqlite:///tmp/a:b@c.db"));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact_url("mysql://root:s3cret@db:3306/x"), "mysql://root:xxxxx@db:3306/x");
        assert_eq!(super::redact_url("mysql://root@db:3306"), "mysql://root@db:3306");
        assert_eq!(super::redact_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
        assert_eq!(super::redact_url("sqlite:///tmp/a b/ü.db"), "sqlite:///tmp/a b/ü.db", "not escaped");
        assert_eq!(super::redact_url("root:s3@c:r/t@tcp(db:4000)/"), "root:xxxxx@tcp(db:4000)/");
        assert_eq!(super::redact_url("/tmp/a:b@c.db"), "/tmp/a:b@c.db", "a file path is not a DSN");
        assert_eq!(super::redact_url("u:p@unix(/run/my.sock)/"), "u:xxxxx@unix(/run/my.sock)/");
    }

    #[test]
    fn s3_secrets_are_redacted() {
        for (url, shown) in [
            ("s3://b/p", "s3://b/p"),
            (
                "s3://b/p?endpoint=http://127.0.0.1:9000&region=us-east-1&force-path-style=true&provider=minio",
                "s3://b/p?endpoint=http://127.0.0.1:9000&region=us-east-1&force-path-style=true&provider=minio",
            ),
            ("s3://b/p?access-key=AKIA&secret-access-key=XYZZY", "s3://b/p?access-key=xxxxx&secret-access-key=xxxxx"),
            ("s3://b/p?session-token=XYZZY&region=r", "s3://b/p?session-token=xxxxx&region=r"),
            ("s3://b/p?secret_access_key=XYZZY", "s3://b/p?secret_access_key=xxxxx"),
            ("s3://b?secret-access-key=a/b#c?d@XYZZY", "s3://b?secret-access-key=xxxxx"),
            ("s3://b?endpoint=http://u:XYZZY@host", "s3://b?endpoint=xxxxx"),
            (
                "s3://b?secret-access-key=ab&XYZZY&force-path-style",
                "s3://b?secret-access-key=xxxxx&xxxxx&force-path-style",
            ),
        ] {
            assert_eq!(super::redact_url(url), shown, "{url}");
        }
    }

    /// `pa/ss#w?o@r%d-XYZZY`, escaped as a URL must be, or pasted in raw as users do.
    #[test]
    fn odd_passwords_are_redacted_whole() {
        for url in [
            "mysql://u:pa%2Fss%23w%3Fo%40r%25d-XYZZY@127.0.0.1:3307",
            "mysql://u:pa/ss#w?o@r%d-XYZZY@127.0.0.1:3307",
            "mysql://u:3307?x=pa@r%d-XYZZY@127.0.0.1:3307",
            "u:pa/ss#w?o@r%d-XYZZY@tcp(127.0.0.1:3307)/",
        ] {
            let shown = super::redact_url(url);
            assert!(
                !shown.contains("XYZZY") && !shown.contains("pa") && shown.contains("u:xxxxx@"),
                "{url} -> {shown}"
            );
            assert!(shown.contains("127.0.0.1"), "{url} -> {shown}");
        }
    }
}
