//! The instance URL the emulator hands out, and the host names its certificate must cover.
//!
//! Salesforce's token reply carries `instance_url`, and clients send every API call there. The
//! emulator's is its own address: `--advertise-url` when given (clients reach it through a name
//! or a mapped port), else the listen address. A wildcard listen address (`0.0.0.0`, `::`) is
//! no address a client can connect to or a certificate can name, so the emulator then
//! advertises a concrete address of this host instead: the one its default route leaves from
//! (in a container on Docker's default bridge, the container's bridge address), else one its
//! host name resolves to, else `127.0.0.1`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};

use url::Url;

/// Why an `--advertise-url` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AdvertiseError {
    #[error("--advertise-url {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("--advertise-url {url:?}: expected a URL such as {scheme}://host:port: {source}")]
    Parse {
        url: String,
        scheme: String,
        #[source]
        source: url::ParseError,
    },
}

/// The base URL to hand out: `advertise_url` (checked, without a trailing `/`), or
/// `{scheme}://{host}:{port}` for the listen address made concrete.
pub fn base_url(
    advertise_url: Option<&str>,
    scheme: &str,
    listen: SocketAddr,
) -> Result<String, AdvertiseError> {
    if let Some(text) = advertise_url {
        let invalid = |reason: &str| AdvertiseError::Url {
            url: text.to_string(),
            reason: reason.to_string(),
        };
        let url = Url::parse(text).map_err(|source| AdvertiseError::Parse {
            url: text.to_string(),
            scheme: scheme.to_string(),
            source,
        })?;
        if url.scheme() != scheme {
            return Err(invalid(&format!(
                "expected a {scheme}:// URL (the emulator serves {scheme})"
            )));
        }
        if url.host_str().is_none() {
            return Err(invalid("expected a URL with a host"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "expected only scheme, host and port (Salesforce's instance URLs have no path)",
            ));
        }
        return Ok(url.as_str().trim_end_matches('/').to_string());
    }
    let concrete = SocketAddr::new(concrete_host(listen.ip()), listen.port());
    Ok(format!("{scheme}://{concrete}"))
}

/// `ip` itself, unless it is a wildcard: then an address of this host clients can reach.
pub fn concrete_host(ip: IpAddr) -> IpAddr {
    if !ip.is_unspecified() {
        return ip;
    }
    default_route_address()
        .or_else(host_name_address)
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The local address of the default route: connecting a UDP socket sends nothing, it only
/// picks the route (192.0.2.1 is TEST-NET-1, never a real host).
fn default_route_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

/// A non-loopback IPv4 address this host's name resolves to (a container without a default
/// route, e.g. on an `--internal` network, still has its address in `/etc/hosts`).
fn host_name_address() -> Option<IpAddr> {
    let name = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    (name, 0)
        .to_socket_addrs()
        .ok()?
        .map(|a| a.ip())
        .find(|ip| ip.is_ipv4() && !ip.is_loopback() && !ip.is_unspecified())
}

/// The certificate's subject alternative names: `localhost`, `127.0.0.1`, the advertised host
/// and the extra `--tls-names`, each once, in that order.
pub fn certificate_names(base_url: &str, extra: &[String]) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let advertised = Url::parse(base_url).ok().and_then(|u| {
        u.host().map(|h| match h {
            url::Host::Ipv6(ip) => ip.to_string(),
            other => other.to_string(),
        })
    });
    for name in advertised.into_iter().chain(extra.iter().cloned()) {
        let name = name.trim().to_string();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_concrete_listen_address_is_advertised_as_is() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            base_url(None, "http", listen).unwrap(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn a_wildcard_listen_address_is_never_advertised() {
        for listen in ["0.0.0.0:8443", "[::]:8443"] {
            let url = base_url(None, "https", listen.parse().unwrap()).unwrap();
            assert!(
                url.starts_with("https://") && url.ends_with(":8443"),
                "{url}"
            );
            assert!(
                !url.contains("0.0.0.0") && !url.contains("[::]"),
                "{listen} advertised as {url}"
            );
        }
    }

    #[test]
    fn advertise_url_wins_and_is_checked() {
        let listen: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(
            base_url(Some("https://emulator.internal:8443/"), "https", listen).unwrap(),
            "https://emulator.internal:8443"
        );
        let wrong_scheme = base_url(Some("http://emulator:8080"), "https", listen)
            .unwrap_err()
            .to_string();
        assert_eq!(
            wrong_scheme,
            "--advertise-url \"http://emulator:8080\": expected a https:// URL (the emulator serves https)"
        );
        assert!(base_url(Some("emulator:8080"), "http", listen).is_err());
        assert!(base_url(Some("http://emulator:8080/services"), "http", listen).is_err());
    }

    #[test]
    fn certificate_names_cover_the_advertised_host_and_extras_once() {
        let names = certificate_names(
            "https://172.17.0.2:8080",
            &["emulator".into(), "172.17.0.2".into(), " ".into()],
        );
        assert_eq!(
            names,
            vec!["localhost", "127.0.0.1", "172.17.0.2", "emulator"]
        );
        let v6 = certificate_names("https://[::1]:8080", &[]);
        assert_eq!(v6, vec!["localhost", "127.0.0.1", "::1"]);
    }
}
