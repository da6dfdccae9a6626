//! What kind of destination an IP address is, for the outbound policy: globally routable,
//! loopback, internal (not globally routable: private, shared, documentation, reserved, ...) or
//! never a destination (cloud metadata, link-local, unspecified, multicast, broadcast). An IPv6
//! address that carries an IPv4 address (mapped, compatible, SIIT, NAT64, 6to4, Teredo) is
//! what that IPv4 address is: that is where the packets end up.

use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The policy's view of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Globally routable: always allowed.
    Public,
    /// 127.0.0.0/8, `::1`: only with `CODESOURCE_ALLOW_LOOPBACK`.
    Loopback,
    /// Not globally routable: only when the operator's allow-list names it.
    Internal,
    /// Cloud metadata services, link-local (where they live), and what is no unicast peer:
    /// refused whatever the configuration says.
    Never,
}

const METADATA_V4: [Ipv4Addr; 2] = [
    Ipv4Addr::new(100, 100, 100, 200), // Alibaba Cloud
    Ipv4Addr::new(168, 63, 129, 16),   // Azure wireserver
];
const METADATA_V6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254), // AWS IMDS
    Ipv6Addr::new(0xfd20, 0xce, 0, 0, 0, 0, 0, 0x254),  // Google Cloud metadata
];

/// IPv4 ranges that are not globally reachable (IANA special-purpose registry), besides those
/// [`v4`] names on its own.
const INTERNAL_V4: [(Ipv4Addr, u8); 11] = [
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space (carrier-grade NAT)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation (TEST-NET-1)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // deprecated 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation (TEST-NET-2)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation (TEST-NET-3)
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved
];

/// Inside 2000::/3 (global unicast) but not globally reachable.
const INTERNAL_V6: [(Ipv6Addr, u8); 3] = [
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),     // documentation (RFC 9637)
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),     // IETF protocol assignments
];

/// The globally reachable parts of 2001::/23 (IANA special-purpose registry).
const GLOBAL_IN_2001_23: [(Ipv6Addr, u8); 5] = [
    (Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 1), 128), // port control protocol anycast
    (Ipv6Addr::new(0x2001, 1, 0, 0, 0, 0, 0, 2), 128), // TURN anycast
    (Ipv6Addr::new(0x2001, 3, 0, 0, 0, 0, 0, 0), 32),  // AMT
    (Ipv6Addr::new(0x2001, 4, 0x112, 0, 0, 0, 0, 0), 48), // AS112-v6
    (Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28), // ORCHIDv2
];

fn in_v4(ranges: &[(Ipv4Addr, u8)], ip: Ipv4Addr) -> bool {
    ranges
        .iter()
        .any(|&(net, len)| Ipv4Net::new(net, len).is_ok_and(|n| n.contains(&ip)))
}

fn in_v6(ranges: &[(Ipv6Addr, u8)], ip: Ipv6Addr) -> bool {
    ranges
        .iter()
        .any(|&(net, len)| Ipv6Net::new(net, len).is_ok_and(|n| n.contains(&ip)))
}

/// What an IPv4 address is.
pub fn v4(ip: Ipv4Addr) -> Destination {
    let [first, ..] = ip.octets();
    if first == 0 // "this network", 0.0.0.0 included: dials the local host on Linux
        || ip.is_link_local() // 169.254.0.0/16: every cloud's metadata service
        || METADATA_V4.contains(&ip)
        || ip.is_broadcast()
        || ip.is_multicast()
    {
        Destination::Never
    } else if ip.is_loopback() {
        Destination::Loopback
    } else if in_v4(&INTERNAL_V4, ip) {
        Destination::Internal
    } else {
        Destination::Public
    }
}

/// What an IPv6 address that carries no IPv4 address is.
fn v6_own(ip: Ipv6Addr) -> Destination {
    let first = ip.segments()[0];
    if ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xffc0) == 0xfe80 // link-local
        || METADATA_V6.contains(&ip)
    {
        Destination::Never
    } else if ip.is_loopback() {
        Destination::Loopback
    } else if (first & 0xe000) != 0x2000 {
        // Outside global unicast (2000::/3): unique local fc00::/7, site-local fec0::/10,
        // discard-only 100::/64, SRv6 5f00::/16, and what IANA has not assigned.
        Destination::Internal
    } else if in_v6(&INTERNAL_V6, ip) && !in_v6(&GLOBAL_IN_2001_23, ip) {
        Destination::Internal
    } else {
        Destination::Public
    }
}

/// The IPv4 addresses an IPv6 address stands for, when it is one of the forms that carry
/// them; `None` for a plain IPv6 address.
///
/// - IPv4-mapped `::ffff:a.b.c.d` (`::ffff:0:0/96`) and IPv4-compatible `::a.b.c.d` (`::/96`,
///   deprecated but still routed by some stacks);
/// - IPv4-translated (SIIT, RFC 7915) `::ffff:0:a.b.c.d` (`::ffff:0:0:0/96`);
/// - NAT64 with the well-known prefix `64:ff9b::/96` (last 32 bits); with the local-use prefix
///   `64:ff9b:1::/48` (RFC 8215) the translator's prefix length is not known here, so every
///   RFC 6052 layout that fits in it (/48, /56, /64, /96) is read, and all must pass. A
///   candidate in 0.0.0.0/8 is the zero padding of another layout (and no translator forwards
///   there), so it is skipped; nothing left is 0.0.0.0, never allowed;
/// - 6to4 `2002:aabb:ccdd::/48` (bits 16..48);
/// - Teredo `2001:0:SSSS:SSSS:…:CCCC:CCCC` (RFC 4380): the server (bits 32..64) and the client
///   (the last 32 bits, inverted); both are judged.
pub fn embedded_v4(ip: &Ipv6Addr) -> Option<Vec<Ipv4Addr>> {
    let o = ip.octets();
    let at = |i: [usize; 4]| Ipv4Addr::new(o[i[0]], o[i[1]], o[i[2]], o[i[3]]);
    let last = at([12, 13, 14, 15]);
    match ip.segments() {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(vec![last]),
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(vec![last]),
        [0, 0, 0, 0, 0, 0, _, _] if !ip.is_unspecified() && !ip.is_loopback() => Some(vec![last]),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(vec![last]),
        [0x64, 0xff9b, 1, _, _, _, _, _] => {
            let layouts = [
                at([6, 7, 9, 10]),   // /48
                at([7, 9, 10, 11]),  // /56
                at([9, 10, 11, 12]), // /64
                last,                // /96
            ];
            let candidates: Vec<Ipv4Addr> = layouts
                .into_iter()
                .filter(|v4| v4.octets()[0] != 0)
                .collect();
            if candidates.is_empty() {
                Some(vec![Ipv4Addr::UNSPECIFIED])
            } else {
                Some(candidates)
            }
        }
        [0x2002, _, _, _, _, _, _, _] => Some(vec![at([2, 3, 4, 5])]),
        [0x2001, 0, _, _, _, _, _, _] => {
            let client = Ipv4Addr::from(!u32::from(last));
            Some(vec![at([4, 5, 6, 7]), client])
        }
        _ => None,
    }
}

/// Every address a connection to `ip` reaches, with what it is: `ip` itself, or the IPv4
/// addresses it carries.
pub fn destinations(ip: IpAddr) -> Vec<(IpAddr, Destination)> {
    match ip {
        IpAddr::V4(a) => vec![(ip, v4(a))],
        IpAddr::V6(a) => match embedded_v4(&a) {
            Some(inner) => inner.into_iter().map(|b| (IpAddr::V4(b), v4(b))).collect(),
            None => vec![(ip, v6_own(a))],
        },
    }
}
