//! The SSRF guard for outbound webhooks: an endpoint URL may not reach this machine, the private
//! network or a cloud metadata service. A URL is checked when it is saved (a clear refusal), and
//! every address a name resolves to is checked again when a delivery connects — by the HTTP
//! client's own resolver, so a name that resolves to a public address when saved and to
//! 127.0.0.1 later (DNS rebinding) is still refused. Redirects are never followed.
//! `MAVERICK_WEBHOOK_ALLOW_PRIVATE=1` lifts the guard (tests, receivers on the same network).

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::Url;

use crate::platform::error::{Error, Result};

/// Why an address is refused, or `None` when it is public.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("the unspecified address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a private (unique local) address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if v6.segments()[..6] == [0, 0, 0, 0, 0, 0] {
                // IPv4-compatible (deprecated) ::a.b.c.d
                forbidden_v4(Ipv4Addr::from(((v6.segments()[6] as u32) << 16) | v6.segments()[7] as u32))
            } else if first == 0x64 && v6.segments()[1] == 0xff9b {
                // NAT64 (64:ff9b::/96) wraps an IPv4 address.
                forbidden_v4(Ipv4Addr::from(((v6.segments()[6] as u32) << 16) | v6.segments()[7] as u32))
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private network address")
    } else if ip.is_link_local() {
        Some("a link-local address (cloud metadata lives there)")
    } else if ip.is_unspecified() || a == 0 {
        Some("the unspecified network")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a carrier-grade NAT address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else if a == 192 && b == 0 && ip.octets()[2] == 0 {
        Some("an IETF protocol address")
    } else if a == 198 && (18..20).contains(&b) {
        Some("a benchmarking address")
    } else {
        None
    }
}

/// Checks an endpoint URL as typed: http(s), a host, no credentials in it, and — when the host is
/// an address, or a name that resolves now — nothing private. Returns the normalised URL.
pub async fn check_url(raw: &str, allow_private: bool) -> Result<String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err(Error::invalid("The URL is longer than 2,000 characters."));
    }
    let url = Url::parse(raw).map_err(|e| Error::invalid(format!("{raw:?} is not a URL ({e}); use e.g. https://n8n.example.com/webhook/maverick.")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Error::invalid("The URL must start with https:// (or http://)."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid("Put no user name or password in the URL: use the endpoint's header (e.g. n8n's Header Auth) instead."));
    }
    let Some(host) = url.host_str() else {
        return Err(Error::invalid("The URL has no host."));
    };
    if !allow_private {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
            return Err(Error::invalid("Webhooks cannot be sent to localhost."));
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            // A name that does not resolve yet is accepted; each delivery checks again.
            Err(_) => tokio::net::lookup_host((host, port)).await.map(|a| a.collect()).unwrap_or_default(),
        };
        for a in addrs {
            if let Some(why) = forbidden(a.ip()) {
                return Err(Error::invalid(format!("Webhooks cannot be sent to {host}: it is {why}.")));
            }
        }
    }
    Ok(url.to_string())
}

/// The delivery client's resolver: resolves as usual, then keeps only public addresses (all of
/// them when private ones are allowed).
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| allow_private || forbidden(a.ip()).is_none()).collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves only to private addresses (refused: SSRF guard)").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client deliveries go through: guarded resolver, no redirects, the timeout, no proxy
/// from the environment (a proxy would resolve names where the guard can't see).
pub fn client(allow_private: bool, timeout: std::time::Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(std::time::Duration::from_secs(10)))
        .no_proxy()
        .pool_max_idle_per_host(8)
        .user_agent("Maverick-Webhooks/1")
        .build()
        .map_err(|e| Error::Internal(format!("cannot build the webhook client: {e}")))
}

/// A literal address in a URL skips the resolver, so deliveries check it here.
pub fn literal_host_forbidden(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => IpAddr::V6(Ipv6Addr::LOCALHOST),
        url::Host::Domain(_) => return None,
    };
    forbidden(ip).map(|why| format!("{ip} is {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_refused() {
        for bad in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "::1", "fd00:ec2::254",
            "fe80::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "::7f00:1", "255.255.255.255", "224.0.0.1",
        ] {
            assert!(forbidden(bad.parse().unwrap()).is_some(), "{bad} must be refused");
        }
        for good in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "1.1.1.1"] {
            assert_eq!(forbidden(good.parse().unwrap()), None, "{good} is public");
        }
    }

    #[tokio::test]
    async fn urls_are_checked_when_saved() {
        for (url, says) in [
            ("ftp://example.com/x", "https://"),
            ("https://user:pw@example.com/x", "no user name"),
            ("http://127.0.0.1:8080/hook", "loopback"),
            ("http://[::1]/hook", "loopback"),
            ("http://169.254.169.254/latest/meta-data", "link-local"),
            ("http://localhost:5678/webhook", "localhost"),
            ("http://10.0.0.5/hook", "private"),
            ("not a url", "not a URL"),
        ] {
            let err = check_url(url, false).await.unwrap_err().to_string();
            assert!(err.contains(says), "{url}: {err}");
        }
        assert!(check_url("https://93.184.216.34/hook", false).await.is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook", true).await.is_ok(), "allowed when private addresses are allowed");
        assert_eq!(literal_host_forbidden("http://[::ffff:7f00:1]/x").is_some(), true);
        assert_eq!(literal_host_forbidden("https://example.com/x"), None);
    }
}
