//! Outbound network policy for user-given addresses (a tenant's GitLab or Gitea, avatars named
//! by a host's answer). Only globally routable addresses are allowed by default: otherwise any
//! tenant could use the service to map its internal network (which addresses answer, on which
//! ports, with what). Addresses that are not globally routable ([`ranges`]) are refused before
//! any connection, all with the same answer whatever listens there, unless the operator's
//! allow-list (`CODESOURCE_OUTBOUND_ALLOW`: CIDRs, or host names whose private addresses are
//! then allowed for that name only) opens them; loopback only with `CODESOURCE_ALLOW_LOOPBACK`;
//! cloud metadata and link-local addresses never. IPv6 forms that carry an IPv4 address are
//! judged by that address.
//!
//! The check runs on the addresses we actually connect to: the resolver below filters DNS
//! answers before reqwest dials, IP literals are checked before the request, and redirects are
//! never followed. So DNS rebinding and redirects cannot reach a forbidden address.

mod ranges;

use crate::config::{Config, OutboundAllow};
use ranges::Destination;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// What user-given addresses may reach. Cheap to clone (the allow-list is shared).
#[derive(Clone, Debug, Default)]
pub struct OutboundPolicy {
    allow_loopback: bool,
    allow: Arc<OutboundAllow>,
}

/// Why an address was refused (found again in reqwest's error chain).
#[derive(Debug, thiserror::Error)]
#[error("address {0} is not allowed by the outbound policy")]
pub struct Forbidden(pub IpAddr);

/// The name did not resolve.
#[derive(Debug, thiserror::Error)]
#[error("host name could not be resolved")]
pub struct DnsFailure;

impl OutboundPolicy {
    pub fn new(allow_loopback: bool, allow: OutboundAllow) -> Self {
        OutboundPolicy {
            allow_loopback,
            allow: Arc::new(allow),
        }
    }

    /// Globally routable addresses only (plus loopback if asked).
    pub fn public_only(allow_loopback: bool) -> Self {
        Self::new(allow_loopback, OutboundAllow::default())
    }

    /// The operator's policy: `CODESOURCE_ALLOW_LOOPBACK` and `CODESOURCE_OUTBOUND_ALLOW`. The
    /// code hosts add the instances the operator configured (`crate::hosts::outbound_policy`).
    pub fn from_config(config: &Config) -> Self {
        Self::new(config.allow_loopback, config.outbound_allow.clone())
    }

    /// This policy, also allowing the host of `address` by name, as if it were on the list.
    pub fn allowing_host_of(self, address: &str) -> Self {
        let allow = self.allow.as_ref().clone().with_host_of(address);
        Self::new(self.allow_loopback, allow)
    }

    /// Checks an IP literal (no name to look up on the allow-list).
    pub fn check(&self, ip: IpAddr) -> Result<(), Forbidden> {
        self.check_for(None, ip)
    }

    /// Checks an address `name` resolved to: a name on the allow-list opens its own
    /// internal addresses.
    pub fn check_resolved(&self, name: &str, ip: IpAddr) -> Result<(), Forbidden> {
        self.check_for(Some(name), ip)
    }

    fn check_for(&self, name: Option<&str>, ip: IpAddr) -> Result<(), Forbidden> {
        let named = name.is_some_and(|n| self.allow.has_name(n));
        let allowed = ranges::destinations(ip)
            .into_iter()
            .all(|(reached, what)| match what {
                Destination::Public => true,
                Destination::Loopback => self.allow_loopback,
                Destination::Internal => named || self.allow.contains(reached),
                Destination::Never => false,
            });
        if allowed {
            Ok(())
        } else {
            Err(Forbidden(ip))
        }
    }
}

/// A reqwest resolver that drops forbidden addresses from DNS answers.
pub struct PolicyResolver {
    pub policy: OutboundPolicy,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
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
                .filter(|a| policy.check_resolved(&host, a.ip()).is_ok())
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
mod tests;
