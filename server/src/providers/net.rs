//! Outbound network policy for user-given addresses. Private ranges are allowed (a private
//! GitLab is the point); cloud metadata endpoints never are; loopback only when configured.
//! The check runs on the addresses we actually connect to: the resolver below filters DNS
//! answers before reqwest dials, IP literals are checked before the request, and redirects are
//! never followed. So DNS rebinding and redirects cannot reach a forbidden address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

#[derive(Clone, Copy, Debug)]
pub struct OutboundPolicy {
    pub allow_loopback: bool,
}

/// Why an address was refused (found again in reqwest's error chain).
#[derive(Debug, thiserror::Error)]
#[error("address {0} is not allowed by the outbound policy")]
pub struct Forbidden(pub IpAddr);

/// The name did not resolve.
#[derive(Debug, thiserror::Error)]
#[error("host name could not be resolved")]
pub struct DnsFailure;

const METADATA_V4: [Ipv4Addr; 2] = [
    Ipv4Addr::new(100, 100, 100, 200), // Alibaba Cloud
    Ipv4Addr::new(168, 63, 129, 16),   // Azure wireserver
];
const METADATA_V6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254), // AWS IMDS
    Ipv6Addr::new(0xfd20, 0xce, 0, 0, 0, 0, 0, 0x254),  // Google Cloud metadata
];

impl OutboundPolicy {
    pub fn check(&self, ip: IpAddr) -> Result<(), Forbidden> {
        let v4 = match ip {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(v6) => embedded_v4(&v6),
        };
        let refused = match (ip, v4) {
            (_, Some(v4)) => {
                v4.is_link_local() // 169.254.0.0/16: every cloud's metadata service
                    || METADATA_V4.contains(&v4)
                    || v4.is_unspecified()
                    || v4.is_broadcast()
                    || v4.is_multicast()
                    || (v4.is_loopback() && !self.allow_loopback)
            }
            (IpAddr::V6(v6), None) => {
                METADATA_V6.contains(&v6)
                    || is_v6_link_local(&v6)
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (v6.is_loopback() && !self.allow_loopback)
            }
            (IpAddr::V4(_), None) => unreachable!("an IPv4 address always has its IPv4 form"),
        };
        if refused {
            Err(Forbidden(ip))
        } else {
            Ok(())
        }
    }
}

/// The IPv4 host an IPv6 address reaches, for the forms that carry one: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated but still routed by some
/// stacks), NAT64 (`64:ff9b::/96` and the local-use `64:ff9b:1::/48`, RFC 8215) and 6to4
/// (`2002:aabb:ccdd::/48`).
fn embedded_v4(v6: &Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(mapped) = v6.to_ipv4_mapped() {
        return Some(mapped);
    }
    // Matched on the segments: this runs for every address we connect to.
    let o = v6.octets();
    let last = Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    match v6.segments() {
        [0, 0, 0, 0, 0, 0, ..] if !v6.is_unspecified() && !v6.is_loopback() => last,
        [0x64, 0xff9b, 0, 0, 0, 0, ..] | [0x64, 0xff9b, 1, ..] => last,
        [0x2002, ..] => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
        _ => None,
    }
}

fn is_v6_link_local(v6: &Ipv6Addr) -> bool {
    (v6.segments()[0] & 0xffc0) == 0xfe80
}

/// A reqwest resolver that drops forbidden addresses from DNS answers.
pub struct PolicyResolver {
    pub policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Box::new(DnsFailure) as Box<dyn std::error::Error + Send + Sync>)?
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(DnsFailure) as _);
            }
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| policy.check(a.ip()).is_ok())
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(Forbidden(addrs[0].ip())) as _);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

pub fn resolver(policy: OutboundPolicy) -> Arc<PolicyResolver> {
    Arc::new(PolicyResolver { policy })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_metadata_in_every_form() {
        let p = OutboundPolicy {
            allow_loopback: true,
        };
        for s in [
            "169.254.169.254",
            "169.254.0.1",
            "100.100.100.200",
            "168.63.129.16",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "::ffff:100.100.100.200",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a9fe:a9fe",
            "::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "fd20:ce::254",
            "fe80::1",
            "0.0.0.0",
            "::",
            "224.0.0.1",
        ] {
            assert!(p.check(ip(s)).is_err(), "{s} must be refused");
        }
    }

    #[test]
    fn allows_private_and_public_ranges() {
        let p = OutboundPolicy {
            allow_loopback: false,
        };
        for s in [
            "10.0.0.5",
            "172.16.3.4",
            "192.168.1.10",
            "100.64.0.1",
            "8.8.8.8",
            "fd12::1",
            "2001:db8::1",
            "2002:a00:5::1",
            "64:ff9b::808:808",
        ] {
            assert!(p.check(ip(s)).is_ok(), "{s} must be allowed");
        }
    }

    #[test]
    fn loopback_only_when_allowed() {
        let strict = OutboundPolicy {
            allow_loopback: false,
        };
        let lax = OutboundPolicy {
            allow_loopback: true,
        };
        for s in [
            "127.0.0.1",
            "127.5.5.5",
            "::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "2002:7f00:1::",
        ] {
            assert!(strict.check(ip(s)).is_err(), "{s}");
            assert!(lax.check(ip(s)).is_ok(), "{s}");
        }
    }

    #[tokio::test]
    async fn resolver_filters_forbidden_answers() {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        let r = PolicyResolver {
            policy: OutboundPolicy {
                allow_loopback: false,
            },
        };
        // `localhost` resolves to loopback only, which this policy forbids.
        let err = r
            .resolve(reqwest::dns::Name::from_str("localhost").unwrap())
            .await
            .err()
            .unwrap();
        assert!(err.downcast_ref::<Forbidden>().is_some());
        let r = PolicyResolver {
            policy: OutboundPolicy {
                allow_loopback: true,
            },
        };
        let addrs: Vec<_> = r
            .resolve(reqwest::dns::Name::from_str("localhost").unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
