//! `CODESOURCE_OUTBOUND_ALLOW`: the operator's allow-list for user-given addresses that are not
//! globally routable. By default the outbound policy (`outbound::policy`) refuses every such
//! address, so a tenant cannot use the service to map its internal network; a private GitLab or
//! Gitea reached through the build nodes' whitelist is opted in here, by CIDR or by host name.
//! Only the parsed list lives here; what it may open (never loopback, link-local or metadata
//! addresses) is the policy's.

use anyhow::bail;
use ipnet::IpNet;
use std::net::IpAddr;

/// CIDRs and host names whose non-public addresses the outbound policy lets through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboundAllow {
    nets: Vec<IpNet>,
    /// Lower case, punycode (as a URL's host), no trailing dot.
    names: Vec<String>,
}

impl OutboundAllow {
    /// Parses the list's entries: a CIDR (`10.20.0.0/16`), a single address, or a host name
    /// (`gitlab.corp.example`). Anything else stops the start, naming the entry.
    pub fn parse(items: &[String]) -> anyhow::Result<Self> {
        let mut allow = OutboundAllow::default();
        for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            allow.add(item)?;
        }
        Ok(allow)
    }

    fn add(&mut self, item: &str) -> anyhow::Result<()> {
        if let Ok(net) = item.parse::<IpNet>() {
            self.nets.push(net.trunc());
            return Ok(());
        }
        if let Ok(ip) = item.parse::<IpAddr>() {
            self.nets.push(IpNet::from(ip));
            return Ok(());
        }
        match url::Host::parse(item) {
            Ok(url::Host::Domain(name)) if is_plain_name(&name) => {
                self.names.push(normalise(&name));
                Ok(())
            }
            // `url` also reads the legacy IPv4 spellings (`10.1`, `0x0a000001`).
            Ok(url::Host::Ipv4(v4)) => {
                self.nets.push(IpNet::from(IpAddr::V4(v4)));
                Ok(())
            }
            _ => bail!(
                "CODESOURCE_OUTBOUND_ALLOW: {item:?} is neither a CIDR (10.20.0.0/16), an address \
                 nor a host name (gitlab.corp.example)"
            ),
        }
    }

    /// Allows the host of an address the operator configured (a host's default instance).
    pub fn with_host_of(mut self, address: &str) -> Self {
        match url::Url::parse(address)
            .ok()
            .and_then(|u| u.host().map(|h| h.to_owned()))
        {
            Some(url::Host::Domain(name)) => self.names.push(normalise(&name)),
            Some(url::Host::Ipv4(v4)) => self.nets.push(IpNet::from(IpAddr::V4(v4))),
            Some(url::Host::Ipv6(v6)) => self.nets.push(IpNet::from(IpAddr::V6(v6))),
            None => {}
        }
        self
    }

    /// Whether a CIDR on the list contains `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// Whether `name` (as resolved: any case, maybe a trailing dot) is on the list.
    pub fn has_name(&self, name: &str) -> bool {
        let name = normalise(name);
        self.names.contains(&name)
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty() && self.names.is_empty()
    }
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A DNS name: labels of letters, digits, `-` and `_` (no wildcards, no paths).
fn is_plain_name(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> anyhow::Result<OutboundAllow> {
        OutboundAllow::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn reads_cidrs_addresses_and_names() {
        let a = list(&[
            " 10.20.1.7/16 ",
            "fd12:3456::/48",
            "192.168.5.5",
            "GitLab.Corp.Example.",
        ])
        .unwrap();
        assert!(a.contains("10.20.255.1".parse().unwrap()));
        assert!(!a.contains("10.21.0.1".parse().unwrap()));
        assert!(a.contains("fd12:3456::99".parse().unwrap()));
        assert!(a.contains("192.168.5.5".parse().unwrap()));
        assert!(!a.contains("192.168.5.6".parse().unwrap()));
        assert!(a.has_name("gitlab.corp.example"));
        assert!(a.has_name("GITLAB.corp.example."));
        assert!(!a.has_name("corp.example"), "only the name itself");
        assert!(!a.has_name("x.gitlab.corp.example"), "not its subdomains");
        assert!(list(&["", " "]).unwrap().is_empty());
    }

    #[test]
    fn refuses_what_is_not_an_entry() {
        for bad in [
            "10.0.0.0/33",
            "*.corp",
            "gitlab.corp/x",
            "http://gitlab",
            "a..b",
            "[::1",
        ] {
            let err = list(&[bad]).unwrap_err().to_string();
            assert!(err.contains("CODESOURCE_OUTBOUND_ALLOW"), "{bad}: {err}");
        }
    }

    #[test]
    fn takes_the_host_of_a_configured_address() {
        let a = OutboundAllow::default()
            .with_host_of("https://GitLab.Corp:8443/gitlab")
            .with_host_of("http://10.1.2.3")
            .with_host_of("not a url");
        assert!(a.has_name("gitlab.corp"));
        assert!(a.contains("10.1.2.3".parse().unwrap()));
        assert!(!a.contains("10.1.2.4".parse().unwrap()));
    }
}
