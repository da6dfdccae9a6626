//! The one owner of calls to code hosts: the registry and the per-tenant limits, built once in
//! [`crate::build`] and passed to every service that reaches a host. [`HostCalls::call`] is the
//! way a call is made on a tenant's behalf: it holds one of the tenant's slots (so a tenant
//! cannot tie up the process, see [`crate::outbound::limits`]), times the call, and records
//! it in the `codesource_provider_call_seconds` metric, whatever the call is (a token check, an
//! OAuth completion, a refresh, a listing, a revocation, an avatar). Auto-build's webhook calls
//! come in sequences that hold one slot together ([`HostCalls::slot`]); each of them is timed
//! and recorded through [`HostCalls::hooks`].

use crate::config::Config;
use crate::hosts::hooks::{
    Delivery, DeliveryRequest, Hook, HookError, HookHost, HookSpec, ParseError, RefKind, RepoRef,
};
use crate::hosts::oauth::RefreshFailure;
use crate::hosts::{CodeHost, Hosts, Instance, RepoId};
use crate::outbound::limits::{Slot, TenantLimits, PER_TENANT};
use crate::secret::SecretString;
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
        timed(provider, async {
            let _slot = self.limits.acquire(tenant).await.map_err(E::from)?;
            call.await
        })
        .await
    }

    /// One of the tenant's slots held over a sequence of calls that belong together
    /// (auto-build's hook calls, each recorded through [`HostCalls::hooks`]).
    pub async fn slot(&self, tenant: &str) -> Result<Slot, HostError> {
        self.limits.acquire(tenant).await
    }
}

impl CallOutcome for HookError {
    fn outcome(&self) -> &'static str {
        match self {
            // The host answered, and refused: its answer, not a failed call.
            HookError::MissingScope { .. }
            | HookError::NotAdmin
            | HookError::RepoNotFound
            | HookError::LimitReached => "refused",
            HookError::Host(_) => "error",
        }
    }
}

/// Times `call` to `provider` and records it, without taking a tenant's slot: for calls inside
/// a sequence that already holds one ([`HostCalls::slot`]), and for the background health
/// check, which has a process-wide limit of its own instead (`crate::health`).
pub async fn timed<T, E: CallOutcome>(
    provider: Provider,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = call.await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.outcome(),
    };
    crate::metrics::metrics().provider_call(provider.as_str(), outcome, started.elapsed());
    result
}

impl HostCalls {
    /// `provider`'s webhooks, each call to the host timed and recorded like [`HostCalls::call`]
    /// (auto-build holds the tenant's slot over a sequence of them: [`HostCalls::slot`]).
    pub fn hooks(&self, provider: Provider) -> Option<RecordedHooks<'_>> {
        let inner = self.hosts.get(provider).hooks()?;
        Some(RecordedHooks { inner, provider })
    }
}

/// A host's [`HookHost`] whose calls to the host are recorded (`HostCalls::hooks`).
pub struct RecordedHooks<'a> {
    inner: &'a dyn HookHost,
    provider: Provider,
}

#[async_trait::async_trait]
impl HookHost for RecordedHooks<'_> {
    fn hook_scopes(&self) -> &'static [&'static str] {
        self.inner.hook_scopes()
    }

    fn signs_body(&self) -> bool {
        self.inner.signs_body()
    }

    async fn repository(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        id: &RepoId,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        timed(self.provider, self.inner.repository(at, token, id)).await
    }

    async fn create_hook(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        spec: HookSpec<'_>,
    ) -> Result<Hook, HookError> {
        timed(self.provider, self.inner.create_hook(at, token, repo, spec)).await
    }

    async fn list_hooks(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<Vec<Hook>, HookError> {
        timed(self.provider, self.inner.list_hooks(at, token, repo)).await
    }

    async fn update_hook(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
        spec: HookSpec<'_>,
    ) -> Result<Hook, HookError> {
        let call = self.inner.update_hook(at, token, repo, hook_id, spec);
        timed(self.provider, call).await
    }

    async fn repository_by_id(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
    ) -> Result<(RepoRef, Option<String>), HookError> {
        timed(self.provider, self.inner.repository_by_id(at, token, repo)).await
    }

    async fn delete_hook(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        hook_id: &str,
    ) -> Result<(), HookError> {
        timed(
            self.provider,
            self.inner.delete_hook(at, token, repo, hook_id),
        )
        .await
    }

    fn verify(&self, req: &DeliveryRequest<'_>, secret: &SecretString, now_ms: i64) -> bool {
        self.inner.verify(req, secret, now_ms)
    }

    fn parse(&self, req: &DeliveryRequest<'_>) -> Result<Delivery, ParseError> {
        self.inner.parse(req)
    }

    async fn ref_head(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        kind: RefKind,
        name: &str,
    ) -> Result<Option<String>, HookError> {
        let call = self.inner.ref_head(at, token, repo, kind, name);
        timed(self.provider, call).await
    }

    fn hooks_settings_url(&self, at: Instance<'_>, repo: &RepoRef) -> Option<String> {
        self.inner.hooks_settings_url(at, repo)
    }
}
