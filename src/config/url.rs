//! Base URLs: `https://` always, `http://` only for loopback hosts (the emulator, a local S3).

use url::{Host, Url};

use super::ConfigError;

/// Parses a base URL for `key`, refusing plain HTTP to anything but loopback.
pub(crate) fn parse_base_url(key: &str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text.trim()).map_err(|e| {
        ConfigError::new(key, format!("expected an https:// URL, got {text:?} ({e})"))
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        _ => {
            return Err(ConfigError::new(
                key,
                format!("expected an https:// URL (http:// only for loopback hosts), got {text:?}"),
            ))
        }
    }
    if url.host().is_none() {
        return Err(ConfigError::new(
            key,
            format!("expected a URL with a host, got {text:?}"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Never echo a URL that embeds credentials.
        return Err(ConfigError::new(
            key,
            "expected a URL without user:password",
        ));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        for ok in [
            "https://login.salesforce.com",
            "https://acme.my.salesforce.com/",
            "http://127.0.0.1:8080",
            "http://localhost:1234",
            "http://[::1]:9000",
        ] {
            assert!(parse_base_url("login_url", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused() {
        assert_eq!(
            parse_base_url("login_url", "http://login.salesforce.com").unwrap_err().to_string(),
            "login_url: expected an https:// URL (http:// only for loopback hosts), got \"http://login.salesforce.com\""
        );
        assert!(parse_base_url("login_url", "ftp://x").is_err());
        assert!(parse_base_url("login_url", "login.salesforce.com").is_err());
    }

    #[test]
    fn urls_with_credentials_are_refused_without_echoing_them() {
        let err = parse_base_url("s3_endpoint", "https://user:hunter2@example.com").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
