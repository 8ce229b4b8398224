//! Where a MySQL-family server is, as text: `mysql://` URLs and Lightning's DSNs
//! (`user:pass@tcp(host:port)/db?params`). URLs are built by the `url` crate with the user and
//! password percent-encoded: pasted into a string, a password holding `/ # ? @ %` would be read
//! as part of the host, path or query, fail to connect, and be printed as if it were a host.

/// What is percent-encoded in a user or password: all but letters, digits and `-._~`, so that
/// `@ : / # ? %` in a password stay part of it, and names like `hoist_user` stay readable.
const USERINFO: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `mysql://user:password@host:port`, every part escaped as needed. Err: what cannot be set.
pub fn build(user: &str, password: Option<&str>, host: &str, port: u16) -> Result<String, String> {
    let mut url = url::Url::parse("mysql://localhost").expect("a valid URL");
    // An IPv6 address is bracketed in a URL (`[tidb] host = "::1"` is not).
    let bracketed = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
    url.set_host(Some(&bracketed)).map_err(|e| format!("host {host:?}: {e}"))?;
    url.set_port(Some(port)).map_err(|()| "the port cannot be set".to_string())?;
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, USERINFO).to_string();
    url.set_username(&encode(user)).map_err(|()| "the user cannot be set".to_string())?;
    url.set_password(password.filter(|p| !p.is_empty()).map(encode).as_deref())
        .map_err(|()| "the password cannot be set".to_string())?;
    Ok(url.to_string())
}

/// Lightning's DSN, split as Go's MySQL driver (which Lightning uses) reads it.
#[derive(Debug, PartialEq, Eq)]
pub struct Dsn<'a> {
    pub user: Option<&'a str>,
    pub password: Option<&'a str>,
    /// `tcp`, `unix`, ...
    pub net: &'a str,
    /// What the parentheses hold: `host:port` for tcp.
    pub addr: &'a str,
    /// All after the `)`: `/db?params`.
    pub rest: &'a str,
}

impl<'a> Dsn<'a> {
    /// The network part is the last `@net(...)`, so the password may hold `@ : / # ?`; the
    /// user ends at the first `:`. None: not a DSN (a file path, say).
    pub fn parse(dsn: &'a str) -> Option<Dsn<'a>> {
        let net_at = |at: usize| {
            let rest = &dsn[at..];
            let open = rest.find('(')?;
            let word = &rest[..open];
            (!word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase()) && rest[open..].contains(')'))
                .then_some((word, open))
        };
        let (auth, start) = match dsn.rmatch_indices('@').find(|(at, _)| net_at(at + 1).is_some()) {
            Some((at, _)) => (Some(&dsn[..at]), at + 1),
            None => (None, 0),
        };
        let (net, open) = net_at(start)?;
        let inner = &dsn[start + open + 1..];
        let close = inner.find(')')?;
        let (user, password) = match auth {
            Some(a) => a.split_once(':').map_or((Some(a), None), |(u, p)| (Some(u), Some(p))),
            None => (None, None),
        };
        Some(Dsn { user, password, net, addr: &inner[..close], rest: &inner[close + 1..] })
    }

    /// The DSN with its password as `xxxxx`.
    pub fn redacted(&self) -> String {
        let auth = match (self.user, self.password) {
            (Some(u), Some(_)) => format!("{u}:xxxxx@"),
            (Some(u), None) => format!("{u}@"),
            _ => String::new(),
        };
        format!("{auth}{}({}){}", self.net, self.addr, self.rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ODD: &str = "pa/ss#w?o@r%d-XYZZY";

    #[test]
    fn dsns_split_as_gos_driver_does() {
        let dsn = format!("u:{ODD}@tcp(db:4000)/x?charset=utf8mb4");
        assert_eq!(
            Dsn::parse(&dsn),
            Some(Dsn { user: Some("u"), password: Some(ODD), net: "tcp", addr: "db:4000", rest: "/x?charset=utf8mb4" })
        );
        assert_eq!(Dsn::parse(&dsn).unwrap().redacted(), "u:xxxxx@tcp(db:4000)/x?charset=utf8mb4");
        assert_eq!(Dsn::parse("root@unix(/run/my.sock)/").unwrap().redacted(), "root@unix(/run/my.sock)/");
        assert_eq!(Dsn::parse("tcp(h)/").unwrap().user, None);
        assert_eq!(Dsn::parse("/tmp/a:b@c.db"), None);
        assert_eq!(Dsn::parse("root:pw@db:3306"), None);
    }

    #[test]
    fn built_urls_keep_odd_passwords_whole() {
        let url = build("u", Some(ODD), "127.0.0.1", 3307).unwrap();
        assert_eq!(url, "mysql://u:pa%2Fss%23w%3Fo%40r%25d-XYZZY@127.0.0.1:3307");
        let opts = mysql_async::Opts::from_url(&url).unwrap();
        assert_eq!((opts.user(), opts.pass(), opts.tcp_port()), (Some("u"), Some(ODD), 3307));
        assert_eq!(build("root", Some(""), "db", 4000).unwrap(), "mysql://root@db:4000", "an empty password is none");
        assert_eq!(build("root", None, "::1", 4000).unwrap(), "mysql://root@[::1]:4000");
        assert!(build("root", None, "a b", 4000).is_err());
    }
}
