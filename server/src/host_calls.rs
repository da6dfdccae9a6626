//! The one owner of calls to code hosts: the registry and the per-tenant limits, built once in
//! [`crate::build`] and passed to every service that reaches a host. [`HostCalls::call`] is the
//! way a call is made on a tenant's behalf: it holds one of the tenant's slots (so a tenant
//! cannot tie up the process, see [`crate::outbound::limits`]), times the call, and records
//! it in the `codesource_provider_call_seconds` metric, whatever the call is (a token check, an
//! OAuth completion, a refresh, a listing, a revocation, an avatar).

use crate::config::Config;
use crate::hosts::oauth::RefreshFailure;
use crate::hosts::{CodeHost, Hosts};
use crate::outbound::limits::{Slot, TenantLimits, PER_TENANT};
use app::api::{HostError, Provider};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

pub struct HostCalls {
    hosts: Arc<Hosts>,
    limits: TenantLimits,
}

/// How a failed call is labelled in the metric.
pub trait CallOutcome {
    fn outcome(&self) -> &'static str;
}

impl CallOutcome for HostError {
    fn outcome(&self) -> &'static str {
        "error"
    }
}

impl CallOutcome for RefreshFailure {
    /// A refresh token the host refused is the host's answer, not a failed call.
    fn outcome(&self) -> &'static str {
        match self {
            RefreshFailure::Permanent(_) => "refused",
            RefreshFailure::Transient(_) => "error",
        }
    }
}

impl CallOutcome for crate::outbound::avatar::AvatarError {
    fn outcome(&self) -> &'static str {
        "error"
    }
}

impl HostCalls {
    pub fn new(config: &Config, hosts: Arc<Hosts>) -> Self {
        HostCalls {
            hosts,
            limits: TenantLimits::new(PER_TENANT, config.provider_timeout),
        }
    }

    /// The registry of code hosts.
    pub fn hosts(&self) -> &Arc<Hosts> {
        &self.hosts
    }

    pub fn host(&self, p: Provider) -> &dyn CodeHost {
        self.hosts.get(p)
    }

    /// Runs `call` to `provider` for `tenant` holding one of the tenant's slots, and records
    /// it: its outcome (`ok`, or the error's [`CallOutcome`]; no free slot is an `error`) and
    /// how long it took, the wait for a slot included.
    pub async fn call<T, E>(
        &self,
        tenant: &str,
        provider: Provider,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E>
    where
        E: From<HostError> + CallOutcome,
    {
        let started = Instant::now();
        let result = match self.limits.acquire(tenant).await {
            Ok(_slot) => call.await,
            Err(busy) => Err(E::from(busy)),
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.outcome(),
        };
        crate::metrics::metrics().provider_call(provider.as_str(), outcome, started.elapsed());
        result
    }

    /// One of the tenant's slots held over a sequence of calls that belong together
    /// (auto-build's hook calls), which are not recorded one by one.
    pub async fn slot(&self, tenant: &str) -> Result<Slot, HostError> {
        self.limits.acquire(tenant).await
    }
}
