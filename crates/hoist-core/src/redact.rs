//! Passwords never appear in output: every URL or DSN hoist prints goes through here.

/// A URL, or Lightning's DSN `user:pass@tcp(host:port)/`, with its password replaced by
/// `xxxxx`. A DSN's password ends at its last `@`, as in Go's MySQL driver.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_dsn(url);
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(p) => p,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:xxxxx@{host}"),
        None => url.to_string(),
    }
}

fn redact_dsn(dsn: &str) -> String {
    match dsn.rsplit_once('@') {
        Some((auth, net)) if net.starts_with("tcp(") => match auth.split_once(':') {
            Some((user, _)) => format!("{user}:xxxxx@{net}"),
            None => dsn.to_string(),
        },
        _ => dsn.to_string(),
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
        assert_eq!(super::redact_url("root:s3@c:r/t@tcp(db:4000)/"), "root:xxxxx@tcp(db:4000)/");
        assert_eq!(super::redact_url("/tmp/a:b@c.db"), "/tmp/a:b@c.db", "a file path is not a DSN");
    }
}
