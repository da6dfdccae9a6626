//! The outbound policy: every range that is not globally routable, every IPv6 form that carries
//! an IPv4 address, the allow-list, and the resolver.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn strict() -> OutboundPolicy {
    OutboundPolicy::public_only(false)
}

fn lax() -> OutboundPolicy {
    OutboundPolicy::public_only(true)
}

fn allowing(items: &[&str]) -> OutboundPolicy {
    let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    OutboundPolicy::new(false, OutboundAllow::parse(&items).unwrap())
}

/// One address per range that is not globally routable (loopback has its own test).
const INTERNAL: &[&str] = &[
    "10.0.0.5",
    "10.255.255.1",
    "172.16.3.4",
    "172.31.255.254",
    "192.168.1.10",
    "100.64.0.1",      // shared (CGNAT)
    "100.127.255.254", // shared (CGNAT)
    "192.0.0.8",       // IETF protocol assignments
    "192.0.2.1",       // documentation
    "198.51.100.7",    // documentation
    "203.0.113.9",     // documentation
    "198.18.0.1",      // benchmarking
    "198.19.255.254",  // benchmarking
    "192.88.99.1",     // 6to4 relay anycast
    "240.0.0.1",       // reserved
    "255.255.255.254", // reserved
    "fc00::1",         // unique local
    "fd12:3456::1",    // unique local
    "fec0::1",         // site-local
    "100::1",          // discard-only
    "2001:db8::1",     // documentation
    "3fff::1",         // documentation
    "2001:2::1",       // benchmarking
    "2001:10::1",      // ORCHID
    "5f00::1",         // SRv6
    "4000::1",         // not global unicast
];

/// Never a destination, whatever the configuration says.
const NEVER: &[&str] = &[
    "169.254.169.254",
    "169.254.0.1",
    "100.100.100.200",
    "168.63.129.16",
    "fd00:ec2::254",
    "fd20:ce::254",
    "fe80::1",
    "febf::1",
    "0.0.0.0",
    "0.1.2.3",
    "::",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "ff02::1",
];

const PUBLIC: &[&str] = &[
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "198.20.0.1",
    "192.0.3.1",
    "9.255.255.255",
    "11.0.0.1",
    "2606:4700::1111",
    "2001:4860:4860::8888",
    "2001:3::1",
    "2001:20::1",
];

#[test]
fn refuses_every_internal_range_by_default() {
    for s in INTERNAL {
        assert!(strict().check(ip(s)).is_err(), "{s} must be refused");
        assert!(lax().check(ip(s)).is_err(), "{s} is no loopback");
        assert!(
            strict().check_resolved("gitlab.example", ip(s)).is_err(),
            "{s} must be refused when a name resolves to it"
        );
    }
}

#[test]
fn refuses_metadata_and_non_unicast_even_when_allowed() {
    let everything = OutboundPolicy::new(
        true,
        OutboundAllow::parse(&[
            "0.0.0.0/0".into(),
            "::/0".into(),
            "169.254.169.254".into(),
            "metadata.google.internal".into(),
        ])
        .unwrap(),
    );
    for s in NEVER {
        assert!(strict().check(ip(s)).is_err(), "{s} must be refused");
        assert!(everything.check(ip(s)).is_err(), "{s} is never allowed");
        assert!(
            everything
                .check_resolved("metadata.google.internal", ip(s))
                .is_err(),
            "{s} is never allowed, even by name"
        );
    }
}

#[test]
fn allows_public_addresses() {
    for s in PUBLIC {
        assert!(strict().check(ip(s)).is_ok(), "{s} must be allowed");
        assert!(strict().check_resolved("gitlab.com", ip(s)).is_ok(), "{s}");
    }
}

#[test]
fn loopback_only_when_allowed() {
    for s in ["127.0.0.1", "127.5.5.5", "::1"] {
        assert!(strict().check(ip(s)).is_err(), "{s}");
        assert!(lax().check(ip(s)).is_ok(), "{s}");
        // The allow-list does not open loopback: that is CODESOURCE_ALLOW_LOOPBACK's.
        let listed = allowing(&["127.0.0.0/8", "::1", "localhost"]);
        assert!(listed.check(ip(s)).is_err(), "{s}");
        assert!(listed.check_resolved("localhost", ip(s)).is_err(), "{s}");
    }
}

#[test]
fn a_cidr_on_the_list_opens_its_addresses_only() {
    let p = allowing(&["10.0.0.0/8", "fd12:3456::/32"]);
    for s in ["10.255.255.1", "10.0.0.5", "fd12:3456::1"] {
        assert!(p.check(ip(s)).is_ok(), "{s}");
        assert!(p.check_resolved("anything.example", ip(s)).is_ok(), "{s}");
    }
    for s in ["192.168.1.1", "172.16.0.1", "fd12:3457::1", "100.64.0.1"] {
        assert!(p.check(ip(s)).is_err(), "{s}");
    }
}

#[test]
fn a_name_on_the_list_opens_its_own_addresses_only() {
    let p = allowing(&["GitLab.Corp.Example"]);
    for s in ["192.168.1.1", "10.0.0.5", "fd12::1", "100.64.0.1"] {
        assert!(
            p.check_resolved("gitlab.corp.example", ip(s)).is_ok(),
            "{s}"
        );
        assert!(
            p.check_resolved("gitlab.corp.example.", ip(s)).is_ok(),
            "{s}"
        );
        assert!(
            p.check_resolved("other.corp.example", ip(s)).is_err(),
            "{s}"
        );
        assert!(
            p.check_resolved("x.gitlab.corp.example", ip(s)).is_err(),
            "{s}"
        );
        assert!(p.check(ip(s)).is_err(), "{s}: an IP literal is no name");
    }
    for s in ["127.0.0.1", "169.254.169.254", "fe80::1"] {
        assert!(
            p.check_resolved("gitlab.corp.example", ip(s)).is_err(),
            "{s}"
        );
    }
}

/// The IPv6 forms that carry an IPv4 address, each built around `v4`.
fn forms(v4: Ipv4Addr) -> Vec<(&'static str, Ipv6Addr)> {
    let [a, b, c, d] = v4.octets();
    let hi = u16::from_be_bytes([a, b]);
    let lo = u16::from_be_bytes([c, d]);
    let [nhi, nlo] = [!hi, !lo];
    // 8.8.4.4, a public Teredo server / client for the other half.
    let (phi, plo) = (0x0808, 0x0404);
    vec![
        ("mapped", v4.to_ipv6_mapped()),
        ("compatible", Ipv6Addr::new(0, 0, 0, 0, 0, 0, hi, lo)),
        ("SIIT", Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, hi, lo)),
        ("NAT64", Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo)),
        (
            "NAT64 local /96",
            Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, hi, lo),
        ),
        (
            "NAT64 local /48",
            Ipv6Addr::from([0, 0x64, 0xff, 0x9b, 0, 1, a, b, 0, c, d, 0, 0, 0, 0, 0]),
        ),
        (
            "NAT64 local /64",
            Ipv6Addr::from([0, 0x64, 0xff, 0x9b, 0, 1, 0, 0, 0, a, b, c, d, 0, 0, 0]),
        ),
        ("6to4", Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1)),
        (
            "Teredo server",
            Ipv6Addr::new(0x2001, 0, hi, lo, 0, 0, !phi, !plo),
        ),
        (
            "Teredo client",
            Ipv6Addr::new(0x2001, 0, phi, plo, 0, 0, nhi, nlo),
        ),
    ]
}

#[test]
fn ipv6_forms_are_judged_by_the_ipv4_they_carry() {
    let loopback = Ipv4Addr::new(127, 0, 0, 1);
    let private = Ipv4Addr::new(10, 1, 2, 3);
    let metadata = Ipv4Addr::new(169, 254, 169, 254);
    let public = Ipv4Addr::new(8, 8, 8, 8);
    let allow_private =
        OutboundPolicy::new(true, OutboundAllow::parse(&["10.0.0.0/8".into()]).unwrap());
    for (form, a) in forms(loopback) {
        let a = IpAddr::V6(a);
        assert!(strict().check(a).is_err(), "{form} {a}: loopback");
        assert!(lax().check(a).is_ok(), "{form} {a}: loopback allowed");
    }
    for (form, a) in forms(private) {
        let a = IpAddr::V6(a);
        assert!(strict().check(a).is_err(), "{form} {a}: private");
        assert!(lax().check(a).is_err(), "{form} {a}: private");
        assert!(allow_private.check(a).is_ok(), "{form} {a}: allow-listed");
    }
    for (form, a) in forms(metadata) {
        let a = IpAddr::V6(a);
        assert!(strict().check(a).is_err(), "{form} {a}: metadata");
        assert!(allow_private.check(a).is_err(), "{form} {a}: metadata");
    }
    for (form, a) in forms(public) {
        let a = IpAddr::V6(a);
        assert!(strict().check(a).is_ok(), "{form} {a}: public");
    }
}

#[test]
fn the_reported_forms() {
    // The address of the report: SIIT loopback, dialled before the fix.
    assert!(strict().check(ip("::ffff:0:7f00:1")).is_err());
    assert!(strict().check(ip("::ffff:0:a9fe:a9fe")).is_err());
    assert!(strict().check(ip("::ffff:0:a00:1")).is_err());
    // A local-use NAT64 address whose /48 layout is the metadata service, padded so that the
    // /96 layout reads a public address.
    let padded = Ipv6Addr::from([
        0, 0x64, 0xff, 0x9b, 0, 1, 169, 254, 0, 169, 254, 0, 8, 8, 8, 8,
    ]);
    assert!(strict().check(IpAddr::V6(padded)).is_err());
    // The prefix alone carries nothing to reach.
    assert!(strict().check(ip("64:ff9b:1::")).is_err());
}

#[tokio::test]
async fn resolver_filters_forbidden_answers() {
    use reqwest::dns::Resolve;
    use std::str::FromStr;
    let r = PolicyResolver { policy: strict() };
    // `localhost` resolves to loopback only, which this policy forbids.
    let err = r
        .resolve(reqwest::dns::Name::from_str("localhost").unwrap())
        .await
        .err()
        .unwrap();
    assert!(err.downcast_ref::<Forbidden>().is_some());
    let r = PolicyResolver { policy: lax() };
    let addrs: Vec<_> = r
        .resolve(reqwest::dns::Name::from_str("localhost").unwrap())
        .await
        .unwrap()
        .collect();
    assert!(addrs.iter().all(|a| a.ip().is_loopback()));
}
