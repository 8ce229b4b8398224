//! Passwords never appear in output: every URL or DSN hoist prints goes through here.

/// A URL with its password replaced by `xxxxx`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
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
    }
}
