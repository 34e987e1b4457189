//! Where webhooks may not go: loopback, private, link-local, cloud metadata
//! and other non-public addresses, unless the operator allows them. Checked
//! on the URL when an endpoint is created and on every address a name
//! resolves to when a delivery connects (the connection goes only to the
//! addresses checked, so a name that changes its answer cannot slip past).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why webhooks may not reach `ip`, or `None` for a public address.
pub fn refused(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let class = match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "a cloud metadata address",
        (0, ..) => "an unspecified address",
        (127, ..) => "a loopback address",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "a private address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) => "a reserved address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, ..) => "a multicast address",
        (240..=255, ..) => "a reserved address",
        _ => return None,
    };
    Some(class)
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // Addresses that carry an IPv4 address reach it: judge that one.
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        // IPv4-mapped, ::ffff:a.b.c.d
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => return refused_v4(embedded(hi, lo)),
        // NAT64, 64:ff9b::a.b.c.d
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => return refused_v4(embedded(hi, lo)),
        // 6to4, 2002:aabb:ccdd::
        [0x2002, hi, lo, ..] => return refused_v4(embedded(hi, lo)),
        // IPv4-compatible (deprecated), ::a.b.c.d
        [0, 0, 0, 0, 0, 0, _, _] => return Some("a reserved address"),
        _ => {}
    }
    let class = match s[0] {
        0xfd00 if s[1] == 0x0ec2 => "a cloud metadata address",
        0xfc00..=0xfdff => "a private (unique local) address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a reserved (site-local) address",
        0xff00..=0xffff => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        0x0100 if s[1..4] == [0, 0, 0] => "a reserved (discard) address",
        _ => return None,
    };
    Some(class)
}

/// Why webhooks may not go to host `host` of a URL as written, when that can
/// be told without asking DNS: an IP address literal, or a name that always
/// means this machine or the cloud's metadata service.
pub fn refused_host(host: &str) -> Option<&'static str> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return refused(ip);
    }
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return Some("a loopback address");
    }
    if name == "metadata.google.internal" || name == "metadata" {
        return Some("a cloud metadata address");
    }
    None
}

/// The error a refused name resolves to.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// A resolver that leaves out the addresses webhooks may not reach, and
/// fails when none is left.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver;

impl GuardedResolver {
    pub fn shared() -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut why = None;
            let allowed: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| match refused(a.ip()) {
                    Some(class) => {
                        why = Some(class);
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                let why = why.unwrap_or("no address");
                return Err(Box::new(Refused(format!(
                    "refused: {host} resolves to {why}, which webhooks may not reach"
                ))) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<&'static str> {
        refused(s.parse().unwrap())
    }

    #[test]
    fn public_addresses_are_reachable() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:82a::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }

    #[test]
    fn loopback_private_link_local_and_metadata_are_refused() {
        let cases = [
            ("127.0.0.1", "a loopback address"),
            ("127.255.255.254", "a loopback address"),
            ("::1", "a loopback address"),
            ("10.0.0.1", "a private address"),
            ("172.16.0.1", "a private address"),
            ("172.31.255.255", "a private address"),
            ("192.168.1.1", "a private address"),
            ("fd12:3456::1", "a private (unique local) address"),
            ("169.254.169.254", "a cloud metadata address"),
            ("fd00:ec2::254", "a cloud metadata address"),
            ("169.254.10.1", "a link-local address"),
            ("fe80::1", "a link-local address"),
            ("100.64.0.1", "a shared (carrier-grade NAT) address"),
            ("100.100.100.200", "a shared (carrier-grade NAT) address"),
            ("0.0.0.0", "an unspecified address"),
            ("::", "an unspecified address"),
            ("224.0.0.1", "a multicast address"),
            ("ff02::1", "a multicast address"),
            ("255.255.255.255", "a reserved address"),
            ("192.0.2.1", "a documentation address"),
            ("2001:db8::1", "a documentation address"),
            ("198.18.0.1", "a benchmarking address"),
        ];
        for (ip, why) in cases {
            assert_eq!(class(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_that_embed_an_ipv4_address_are_judged_by_it() {
        assert_eq!(class("::ffff:127.0.0.1"), Some("a loopback address"));
        assert_eq!(
            class("::ffff:169.254.169.254"),
            Some("a cloud metadata address")
        );
        assert_eq!(class("64:ff9b::a00:1"), Some("a private address"));
        assert_eq!(class("2002:c0a8:0101::1"), Some("a private address"));
        assert_eq!(class("2002:0808:0808::1"), None);
        assert_eq!(class("::127.0.0.1"), Some("a reserved address"));
    }

    #[test]
    fn hosts_are_judged_as_written_without_dns() {
        assert_eq!(refused_host("127.0.0.1"), Some("a loopback address"));
        assert_eq!(refused_host("[::1]"), Some("a loopback address"));
        assert_eq!(refused_host("LocalHost."), Some("a loopback address"));
        assert_eq!(refused_host("app.localhost"), Some("a loopback address"));
        assert_eq!(
            refused_host("metadata.google.internal"),
            Some("a cloud metadata address")
        );
        assert_eq!(refused_host("[fe80::1]"), Some("a link-local address"));
        assert_eq!(refused_host("hooks.example.com"), None);
        assert_eq!(refused_host("8.8.4.4"), None);
    }
}
