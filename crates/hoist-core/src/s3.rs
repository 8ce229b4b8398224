//! `s3://bucket/prefix` locations: where an S3-compatible store is built.
//!
//! The URL takes BR's and Lightning's parameters (`endpoint`, `region`, `force-path-style`,
//! `access-key`, `secret-access-key`, `session-token`, `provider`); what the URL leaves out
//! comes from the environment as the AWS tools read it (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` / `AWS_DEFAULT_REGION`,
//! `AWS_ENDPOINT_URL`, via `AmazonS3Builder::from_env`). Requests are path-style unless
//! `force-path-style=false`, as in BR, and an `http://` endpoint is allowed. The URL is never
//! printed as given: [`S3Url::location`] has no parameters, and `redact::redact_url` hides the
//! secret ones wherever a URL is shown.

use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::{BackoffConfig, RetryConfig};

/// The URL parameters whose values are secret.
pub const SECRET_PARAMS: &[&str] = &["access-key", "secret-access-key", "session-token"];

/// Parameters BR takes that only matter to writes hoist does not do yet, or to AWS features
/// it does not reach: refused by name rather than silently dropped.
const UNSUPPORTED_PARAMS: &[&str] =
    &["storage-class", "sse", "sse-kms-key-id", "acl", "role-arn", "external-id", "use-accelerate-endpoint"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub path_style: bool,
    pub access_key: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
}

impl S3Url {
    /// Read `s3://bucket/prefix?params`; the error names what is wrong (never a secret).
    pub fn parse(url: &str) -> Result<S3Url, String> {
        let shown = crate::redact::redact_url(url);
        let parsed = url::Url::parse(url).map_err(|e| format!("{shown} is not an S3 URL (s3://bucket/prefix): {e}"))?;
        if parsed.scheme() != "s3" {
            return Err(format!("{shown} is not an S3 URL (s3://bucket/prefix)"));
        }
        let bucket = parsed.host_str().unwrap_or("").to_string();
        if bucket.is_empty() {
            return Err(format!("{shown} names no bucket: write s3://bucket/prefix"));
        }
        let prefix = percent_encoding::percent_decode_str(parsed.path())
            .decode_utf8()
            .map_err(|_| format!("{shown}: the prefix is not UTF-8"))?
            .trim_matches('/')
            .to_string();
        let mut out = S3Url {
            bucket,
            prefix,
            endpoint: None,
            region: None,
            path_style: true,
            access_key: None,
            secret_access_key: None,
            session_token: None,
        };
        for (key, value) in parsed.query_pairs() {
            let value = value.into_owned();
            match key.as_ref() {
                "endpoint" => out.endpoint = Some(value),
                "region" => out.region = Some(value),
                "force-path-style" => {
                    out.path_style = match value.as_str() {
                        "true" | "1" | "" => true,
                        "false" | "0" => false,
                        _ => return Err(format!("{shown}: force-path-style is true or false, not {value}")),
                    }
                }
                "access-key" => out.access_key = Some(value),
                "secret-access-key" => out.secret_access_key = Some(value),
                "session-token" => out.session_token = Some(value),
                // BR's hint of which S3-compatible service it is; the protocol is the same.
                "provider" => {}
                k if UNSUPPORTED_PARAMS.contains(&k) => {
                    return Err(format!("{shown}: the S3 parameter {k} is not supported yet"));
                }
                k => {
                    return Err(format!(
                        "{shown}: unknown S3 parameter {k} (known: endpoint, region, force-path-style, access-key, \
                         secret-access-key, session-token, provider)"
                    ))
                }
            }
        }
        Ok(out)
    }

    /// The location as hoist records and prints it: bucket and prefix, nothing secret.
    pub fn location(&self) -> String {
        match self.prefix.as_str() {
            "" => format!("s3://{}", self.bucket),
            p => format!("s3://{}/{p}", self.bucket),
        }
    }

    /// The store for the bucket (the prefix is the caller's to apply).
    pub fn build(&self) -> Result<(AmazonS3, Option<String>), String> {
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&self.bucket);
        if let Some(r) = &self.region {
            b = b.with_region(r);
        }
        if let Some(k) = &self.access_key {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &self.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        if let Some(t) = &self.session_token {
            b = b.with_token(t);
        }
        let endpoint = self.endpoint.clone().or_else(|| b.get_config_value(&AmazonS3ConfigKey::Endpoint));
        if let Some(e) = &endpoint {
            let e = e.trim_end_matches('/');
            if e.starts_with("http://") {
                b = b.with_allow_http(true);
            }
            if self.path_style {
                b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
            } else {
                // object_store's virtual-hosted endpoint names the bucket; BR's names the service.
                let (scheme, host) = e.split_once("://").unwrap_or(("https", e));
                b = b
                    .with_endpoint(format!("{scheme}://{}.{host}", self.bucket))
                    .with_virtual_hosted_style_request(true);
            }
        } else if !self.path_style {
            b = b.with_virtual_hosted_style_request(true);
        }
        // The client's own retries cover a blip; hoist's retry loops (with their backoff and
        // their message) cover the rest. Its default of 10 tries over 3 minutes would leave a
        // wrong endpoint silent for minutes before anyone is told.
        b = b.with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(20),
        });
        let store = b.build().map_err(|e| format!("{}: cannot use the S3 store: {e}", self.location()))?;
        Ok((store, endpoint))
    }
}

#[cfg(test)]
mod tests {
    use super::S3Url;

    #[test]
    fn urls_are_read() {
        let u = S3Url::parse(
            "s3://bkt/some/prefix/?endpoint=http://127.0.0.1:9000&region=eu-west-1&force-path-style=true\
             &access-key=AK&secret-access-key=SK%2Fx&session-token=T&provider=minio",
        )
        .unwrap();
        assert_eq!(u.bucket, "bkt");
        assert_eq!(u.prefix, "some/prefix");
        assert_eq!(u.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(u.region.as_deref(), Some("eu-west-1"));
        assert!(u.path_style);
        assert_eq!(u.secret_access_key.as_deref(), Some("SK/x"));
        assert_eq!(u.location(), "s3://bkt/some/prefix");
        let root = S3Url::parse("s3://bkt?force-path-style=false").unwrap();
        assert_eq!((root.prefix.as_str(), root.path_style, root.location().as_str()), ("", false, "s3://bkt"));
    }

    #[test]
    fn bad_urls_are_refused_without_their_secrets() {
        for (url, says) in [
            ("s3:///prefix", "names no bucket"),
            ("s3://b/p?force-path-style=maybe&secret-access-key=XYZZY", "force-path-style"),
            ("s3://b/p?sse=aws:kms&secret-access-key=XYZZY", "sse is not supported yet"),
            ("s3://b/p?secret=XYZZY&secret-access-key=XYZZY", "unknown S3 parameter secret"),
        ] {
            let e = S3Url::parse(url).unwrap_err();
            assert!(e.contains(says), "{url}: {e}");
            assert!(!e.contains("XYZZY"), "{url}: {e}");
        }
    }
}
