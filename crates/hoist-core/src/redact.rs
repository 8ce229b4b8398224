//! Passwords never appear in output: every URL or DSN hoist prints goes through here.

/// A URL, or Lightning's DSN `user:pass@tcp(host:port)/`, with its password replaced by
/// `xxxxx`; anything else (a file path) as it is. The URL is read by the `url` crate. One it
/// cannot read, or whose query or fragment holds an `@` (an unescaped password that the parser
/// took for a path or query), is cut by hand at its last `@`: it may leak no part of a password.
pub fn redact_url(url: &str) -> String {
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
