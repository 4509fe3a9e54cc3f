//! The addresses the verifier never contacts, as data: the entries of IANA's IPv4 and IPv6
//! Special-Purpose Address Registries that are not globally reachable, plus multicast, the
//! deprecated site-local block, and the cloud metadata services. An IPv6 address that carries an
//! IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) is judged by that IPv4 address too, so
//! no spelling of `127.0.0.1` or `169.254.169.254` gets through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// A cloud metadata service: refused even inside `allow_networks`.
    Metadata,
    /// Loopback, written directly (`127.0.0.0/8`, `::1`): allowed by `allow_insecure_loopback`.
    Loopback,
    /// Any other special-purpose block: the registry entry's name.
    Special(&'static str),
}

impl Refused {
    /// The reason as words for messages.
    pub fn text(self) -> &'static str {
        match self {
            Refused::Metadata => "a cloud metadata address",
            Refused::Loopback => "a loopback address",
            Refused::Special(name) => name,
        }
    }
}

/// Cloud metadata and platform endpoints, reachable from inside a VM and holding its credentials.
const METADATA: &[&str] = &[
    "169.254.169.254/32", // AWS, GCP, Azure, OpenStack, Oracle instance metadata
    "169.254.170.2/32",   // AWS ECS task metadata and credentials
    "169.254.169.253/32", // AWS VPC DNS resolver
    "100.100.100.200/32", // Alibaba Cloud metadata
    "168.63.129.16/32",   // Azure WireServer (a public address, so no block below covers it)
    "192.0.0.192/32",     // Oracle Cloud legacy metadata
    "fd00:ec2::254/128",  // AWS instance metadata over IPv6
    "fd00:ec2::23/128",   // AWS VPC DNS resolver over IPv6
];

/// IANA IPv4 Special-Purpose Address Registry, the entries that are not globally reachable (and
/// the whole of 192.0.0.0/24, whose few global anycast addresses no provider uses), plus
/// multicast from the IPv4 Multicast Address Space Registry.
const V4: &[(&str, &str)] = &[
    (
        "0.0.0.0/8",
        "\"this network\" (RFC 791), not a host address",
    ),
    ("10.0.0.0/8", "a private address (Private-Use, RFC 1918)"),
    (
        "100.64.0.0/10",
        "a private address (Shared Address Space, RFC 6598)",
    ),
    ("127.0.0.0/8", "a loopback address (Loopback, RFC 1122)"),
    (
        "169.254.0.0/16",
        "a link-local address (Link Local, RFC 3927)",
    ),
    ("172.16.0.0/12", "a private address (Private-Use, RFC 1918)"),
    (
        "192.0.0.0/24",
        "an IETF protocol address (IETF Protocol Assignments, RFC 6890)",
    ),
    (
        "192.0.2.0/24",
        "a documentation address (TEST-NET-1, RFC 5737)",
    ),
    (
        "192.88.99.0/24",
        "a retired relay address (Deprecated 6to4 Relay Anycast, RFC 7526)",
    ),
    (
        "192.168.0.0/16",
        "a private address (Private-Use, RFC 1918)",
    ),
    (
        "198.18.0.0/15",
        "a benchmarking address (Benchmarking, RFC 2544)",
    ),
    (
        "198.51.100.0/24",
        "a documentation address (TEST-NET-2, RFC 5737)",
    ),
    (
        "203.0.113.0/24",
        "a documentation address (TEST-NET-3, RFC 5737)",
    ),
    ("224.0.0.0/4", "a multicast address, not a host address"),
    ("240.0.0.0/4", "a reserved address (Reserved, RFC 1112)"),
    (
        "255.255.255.255/32",
        "the broadcast address (Limited Broadcast, RFC 8190)",
    ),
];

/// IANA IPv6 Special-Purpose Address Registry, the entries that are not globally reachable
/// (the IPv4-embedding ones are unwrapped instead, see [`embedded_v4`]), plus site-local from
/// the IPv6 Address Space Registry and multicast.
const V6: &[(&str, &str)] = &[
    ("::1/128", "a loopback address (Loopback Address, RFC 4291)"),
    (
        "::/128",
        "not a host address (Unspecified Address, RFC 4291)",
    ),
    (
        "64:ff9b:1::/48",
        "a local NAT64 address (IPv4-IPv6 Translat., RFC 8215)",
    ),
    (
        "100::/64",
        "a discard address (Discard-Only Address Block, RFC 6666)",
    ),
    (
        "100:0:0:1::/64",
        "a dummy address (Dummy IPv6 Prefix, RFC 9780)",
    ),
    (
        "2001::/23",
        "an IETF protocol address (IETF Protocol Assignments, RFC 2928)",
    ),
    (
        "2001:db8::/32",
        "a documentation address (Documentation, RFC 3849)",
    ),
    (
        "3fff::/20",
        "a documentation address (Documentation, RFC 9637)",
    ),
    (
        "5f00::/16",
        "a segment routing address (Segment Routing SIDs, RFC 9602)",
    ),
    ("fc00::/7", "a private address (Unique-Local, RFC 4193)"),
    (
        "fe80::/10",
        "a link-local address (Link-Local Unicast, RFC 4291)",
    ),
    ("fec0::/10", "a site-local address (deprecated, RFC 3879)"),
    ("ff00::/8", "a multicast address, not a host address"),
];

/// Global anycast services inside 2001::/23 that the registry marks globally reachable, and
/// Teredo (2001::/32), which is judged by the IPv4 addresses it carries.
const V6_GLOBAL_IN_2001: &[&str] = &[
    "2001::/32",
    "2001:1::1/128",
    "2001:1::2/128",
    "2001:1::3/128",
    "2001:3::/32",
    "2001:4:112::/48",
    "2001:20::/28",
    "2001:30::/28",
];

fn net(cidr: &str) -> Option<ipnet::IpNet> {
    cidr.parse().ok()
}

fn in_any(ip: IpAddr, list: &[&str]) -> bool {
    list.iter().filter_map(|c| net(c)).any(|n| n.contains(&ip))
}

/// The IPv4 addresses an IPv6 address carries: IPv4-mapped `::ffff:0:0/96`, IPv4-translated
/// `::ffff:0:0:0/96`, IPv4-compatible `::/96`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16` and
/// Teredo `2001::/32` (its server, and its client stored inverted).
pub fn embedded_v4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo]
        | [0, 0, 0, 0, 0xffff, 0, hi, lo]
        | [0, 0, 0, 0, 0, 0, hi, lo]
        | [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => vec![v4(hi, lo)],
        [0x2002, hi, lo, ..] => vec![v4(hi, lo)],
        [0x2001, 0, server_hi, server_lo, _, _, hi, lo] => {
            vec![v4(server_hi, server_lo), v4(!hi, !lo)]
        }
        _ => Vec::new(),
    }
}

fn listed(ip: IpAddr) -> Option<&'static str> {
    let list = match ip {
        IpAddr::V4(_) => V4,
        IpAddr::V6(_) => V6,
    };
    let hit = list
        .iter()
        .find(|(cidr, _)| net(cidr).is_some_and(|n| n.contains(&ip)))
        .map(|(_, why)| *why)?;
    if matches!(ip, IpAddr::V6(_)) && in_any(ip, V6_GLOBAL_IN_2001) {
        return None;
    }
    Some(hit)
}

/// Why `ip` may not be contacted, or `None` when it is an ordinary global address.
pub fn refused(ip: IpAddr) -> Option<Refused> {
    let inner: Vec<IpAddr> = match ip {
        IpAddr::V6(v6) => embedded_v4(v6).into_iter().map(IpAddr::V4).collect(),
        IpAddr::V4(_) => Vec::new(),
    };
    if std::iter::once(ip)
        .chain(inner.iter().copied())
        .any(|a| in_any(a, METADATA))
    {
        return Some(Refused::Metadata);
    }
    if ip.is_loopback() {
        return Some(Refused::Loopback);
    }
    if let Some(why) = listed(ip) {
        return Some(Refused::Special(why));
    }
    // A carried IPv4 address is never "loopback" for the loopback test setting: NAT64 or 6to4
    // of 127.0.0.1 does not lead to this machine.
    inner.into_iter().find_map(|v4| {
        listed(v4).map(|why| {
            Refused::Special(if v4.is_loopback() {
                "a loopback address inside an IPv6 address"
            } else {
                why
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(ip: &str) -> Option<Refused> {
        refused(ip.parse().unwrap())
    }

    #[test]
    fn every_entry_parses() {
        for (cidr, _) in V4.iter().chain(V6) {
            assert!(net(cidr).is_some(), "{cidr}");
        }
        for cidr in METADATA.iter().chain(V6_GLOBAL_IN_2001) {
            assert!(net(cidr).is_some(), "{cidr}");
        }
    }

    #[test]
    fn ordinary_addresses_pass() {
        for ip in [
            "140.82.112.3",
            "8.8.8.8",
            "2606:4700::6810:84e5",
            "2001:4860::8888",
        ] {
            assert_eq!(why(ip), None, "{ip}");
        }
    }

    #[test]
    fn the_review_s_forms_are_refused() {
        for ip in [
            "::127.0.0.1",
            "::10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:0:10.1.2.3",
            "64:ff9b::127.0.0.1",
            "64:ff9b::192.168.1.1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "fec0::1",
            "192.0.0.1",
            "192.0.0.170",
            "198.18.0.1",
            "198.19.255.254",
            "240.0.0.1",
            "255.255.255.255",
            "100.64.0.1",
            "0.1.2.3",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "2001:2::1",
        ] {
            assert!(why(ip).is_some(), "{ip} allowed");
        }
        // Teredo: server 65.54.227.120, client 127.0.0.1 stored inverted (0x80ff:0xfffe).
        assert!(why("2001:0:4136:e378:8000:63bf:80ff:fffe").is_some());
        // A Teredo address whose server and client are public passes.
        assert_eq!(why("2001:0:4136:e378:8000:63bf:f7f7:f7f7"), None);
    }

    #[test]
    fn metadata_in_any_spelling_is_metadata() {
        for ip in [
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "::169.254.169.254",
            "64:ff9b::169.254.169.254",
            "2002:a9fe:a9fe::1",
            "fd00:ec2::254",
            "100.100.100.200",
            "168.63.129.16",
        ] {
            assert_eq!(why(ip), Some(Refused::Metadata), "{ip}");
        }
    }

    #[test]
    fn only_direct_loopback_is_loopback() {
        assert_eq!(why("127.0.0.1"), Some(Refused::Loopback));
        assert_eq!(why("::1"), Some(Refused::Loopback));
        assert!(matches!(why("::127.0.0.1"), Some(Refused::Special(_))));
        assert!(matches!(why("::ffff:127.0.0.1"), Some(Refused::Special(_))));
        assert!(matches!(why("64:ff9b::7f00:1"), Some(Refused::Special(_))));
    }
}
