//! Credentials for the build service: the token of a tenant's binding, valid for at least five
//! more minutes. Expiring OAuth tokens are refreshed first, one refresh at a time per binding
//! across all replicas (refresh tokens rotate, so two concurrent refreshes would kill each
//! other): whoever takes the binding's lease in the store refreshes, the others wait and read
//! the rotated token it stored. A replica that dies holding the lease blocks the binding only
//! until the lease runs out. The new pair is stored before it is handed out. A refresh the code
//! host refuses marks the binding as needing re-authorization. Every credential issued is
//! written to the audit log.

use crate::config::Config;
use crate::crypto::Cipher;
use crate::hosts::Instance;
use crate::oauth_flow::OAuthFlows;
use crate::providers::oauth::RefreshFailure;
use crate::store::{aad, AuditEntry, Store, StoreError, StoredBinding};
use crate::util::{now_millis, now_secs};
use app::api::{ActivityAction, ActivityOutcome, BindMethod, Provider, ReauthReason};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a replica waiting for another one's refresh looks at the binding again.
const WAIT_STEP: Duration = Duration::from_millis(100);

/// A credential must stay valid at least this long after it is handed out.
pub const MIN_VALIDITY_SECS: i64 = 300;
const REFRESH_ATTEMPTS: u32 = 3;

/// What the build service gets.
#[derive(Debug, Serialize)]
pub struct Credential {
    pub provider: Provider,
    pub base_url: String,
    pub api_url: Option<String>,
    pub account: String,
    /// `None` for DevCloud: the build service uses the tenant's cloud account.
    pub access_token: Option<String>,
    /// Unix seconds; `None` when the token does not expire (or we were not told).
    pub expires_at: Option<i64>,
    /// Username for git over HTTPS with the token as password.
    pub git_username: Option<String>,
    /// CA bundle (PEM) of a private GitLab.
    pub ca_pem: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("not bound")]
    NotBound,
    #[error("the binding needs re-authorization: {0:?}")]
    NeedsReauthorization(ReauthReason),
    #[error("the code host could not refresh the token right now")]
    RefreshUnavailable,
    #[error("the store is unavailable")]
    StorageUnavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for CredentialError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            CredentialError::StorageUnavailable(e)
        } else {
            CredentialError::Internal(e.into())
        }
    }
}

pub struct Credentials {
    store: Arc<dyn Store>,
    cipher: Arc<Cipher>,
    oauth: Arc<OAuthFlows>,
    /// How long a refresh lease lasts (see `Config::refresh_lease`).
    lease: Duration,
    backoff: Duration,
}

/// Whether the access token must be refreshed before it is handed out: when less than
/// `MIN_VALIDITY_SECS` remain, except for a token we got from a refresh that lives less than
/// twice that (a host with short-lived tokens): refreshing it again at once would only loop,
/// so it is handed out with its real expiry until half its life is gone.
fn needs_refresh(b: &StoredBinding) -> bool {
    let Some(expires) = b.access_expires_at else {
        return false;
    };
    let left = expires - now_secs();
    match b.refreshed_at.map(|at| expires - at) {
        Some(life) if life < 2 * MIN_VALIDITY_SECS => left < life / 2,
        _ => left < MIN_VALIDITY_SECS,
    }
}

impl Credentials {
    pub fn new(
        config: &Config,
        store: Arc<dyn Store>,
        cipher: Arc<Cipher>,
        oauth: Arc<OAuthFlows>,
    ) -> Self {
        Credentials {
            store,
            cipher,
            oauth,
            lease: config.refresh_lease,
            backoff: Duration::from_millis(200),
        }
    }

    pub async fn credential(
        &self,
        tenant: &str,
        provider: Provider,
        request_id: &str,
    ) -> Result<Credential, CredentialError> {
        let host = self.oauth.hosts().get(provider);
        match host.info().bind {
            // Nothing stored: the build service uses the tenant's cloud account.
            BindMethod::Default => {
                let shape = host.credential(Instance::default(), tenant);
                return Ok(Credential {
                    provider,
                    base_url: shape.base_url,
                    api_url: shape.api_url,
                    account: tenant.to_string(),
                    access_token: None,
                    expires_at: None,
                    git_username: shape.git_username,
                    ca_pem: None,
                });
            }
            BindMethod::OAuth | BindMethod::AccessToken => {}
        }
        let (b, token) = self.usable(tenant, provider, request_id).await?;
        let shape = host.credential(Instance::of(&b), &b.account.login);
        self.audit(
            tenant,
            ActivityAction::CredentialIssued,
            provider,
            &b.account.login,
            ActivityOutcome::Ok,
            request_id,
        )
        .await;
        Ok(Credential {
            provider,
            base_url: shape.base_url,
            api_url: shape.api_url,
            account: b.account.login.clone(),
            access_token: Some(token.expose().to_string()),
            expires_at: b.access_expires_at,
            git_username: shape.git_username,
            ca_pem: b.ca_pem.clone(),
        })
    }

    /// The binding and its token, refreshed first when it would expire within five minutes.
    pub async fn usable(
        &self,
        tenant: &str,
        provider: Provider,
        request_id: &str,
    ) -> Result<(StoredBinding, crate::secret::SecretString), CredentialError> {
        let mut b = self.load(tenant, provider).await?;
        if let Some(reason) = &b.reauth_reason {
            return Err(CredentialError::NeedsReauthorization(reason.clone()));
        }
        if needs_refresh(&b) {
            b = self.refresh(&b, request_id).await?;
        }
        let token = self
            .cipher
            .open(&b.token, &aad(tenant, provider))
            .map_err(|e| CredentialError::Internal(e.into()))?;
        Ok((b, token))
    }

    async fn load(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<StoredBinding, CredentialError> {
        self.store
            .get(tenant, provider)
            .await?
            .ok_or(CredentialError::NotBound)
    }

    /// Refreshes `seen` (a binding whose token is about to expire) under the binding's lease,
    /// or waits for whoever holds it and returns what they stored.
    async fn refresh(
        &self,
        seen: &StoredBinding,
        request_id: &str,
    ) -> Result<StoredBinding, CredentialError> {
        let (tenant, provider) = (seen.tenant.as_str(), seen.provider);
        let name = format!("refresh/{tenant}/{}", provider.as_str());
        let holder = format!(
            "{request_id}/{}",
            crate::util::hex(&rand::random::<[u8; 8]>())
        );
        // A dead holder's lease runs out after `lease`; waiting twice that means trouble.
        let give_up = Instant::now() + self.lease * 2;
        loop {
            let now = now_millis();
            let until = now + self.lease.as_millis() as i64;
            if self.store.try_lease(&name, &holder, now, until).await? {
                let result = self.refresh_holding(seen, request_id).await;
                if let Err(e) = self.store.release_lease(&name, &holder).await {
                    // It runs out by itself.
                    tracing::warn!(request_id, error = %e, "releasing the refresh lease failed");
                }
                return result;
            }
            tokio::time::sleep(WAIT_STEP).await;
            let b = self.load(tenant, provider).await?;
            if let Some(reason) = &b.reauth_reason {
                return Err(CredentialError::NeedsReauthorization(reason.clone()));
            }
            // Another replica (or request) stored a new token: use it, even if the host issues
            // tokens shorter-lived than our promise (refreshing again would only loop).
            if b.token != seen.token || !needs_refresh(&b) {
                return Ok(b);
            }
            if Instant::now() > give_up {
                tracing::warn!(
                    request_id,
                    tenant,
                    provider = provider.as_str(),
                    "gave up waiting for another refresh"
                );
                return Err(CredentialError::RefreshUnavailable);
            }
        }
    }

    /// The refresh itself, with the lease held.
    async fn refresh_holding(
        &self,
        seen: &StoredBinding,
        request_id: &str,
    ) -> Result<StoredBinding, CredentialError> {
        let (tenant, provider) = (seen.tenant.as_str(), seen.provider);
        // Re-read under the lease: the previous holder may have refreshed already.
        let mut b = self.load(tenant, provider).await?;
        if let Some(reason) = &b.reauth_reason {
            return Err(CredentialError::NeedsReauthorization(reason.clone()));
        }
        if b.token != seen.token || !needs_refresh(&b) {
            return Ok(b);
        }
        let aad = aad(tenant, provider);
        let (Some(sealed), Some(app)) = (&b.refresh_token, self.oauth.app(provider)) else {
            return self
                .mark_reauth(b, ReauthReason::CannotRefresh, request_id)
                .await;
        };
        let refresh_token = self
            .cipher
            .open(sealed, &aad)
            .map_err(|e| CredentialError::Internal(e.into()))?;
        let mut last = None;
        for attempt in 0..REFRESH_ATTEMPTS {
            let started = std::time::Instant::now();
            let result = match self.oauth.limits().acquire(tenant).await {
                Ok(_slot) => app.refresh(&refresh_token).await,
                Err(busy) => Err(RefreshFailure::Transient(busy)),
            };
            let outcome = match &result {
                Ok(_) => "ok",
                Err(RefreshFailure::Permanent(_)) => "refused",
                Err(RefreshFailure::Transient(_)) => "error",
            };
            crate::metrics::metrics().provider_call(provider.as_str(), outcome, started.elapsed());
            crate::metrics::metrics().refresh(outcome);
            match result {
                Ok(r) => {
                    b.token = self.cipher.seal(&r.access_token, &aad);
                    if let Some(rt) = &r.refresh_token {
                        b.refresh_token = Some(self.cipher.seal(rt, &aad));
                    }
                    b.access_expires_at = r.expires_at;
                    b.refreshed_at = Some(now_secs());
                    // Stored before use: the old refresh token is already dead upstream.
                    self.store.put(&b).await?;
                    tracing::info!(
                        request_id,
                        tenant,
                        provider = provider.as_str(),
                        outcome = "refreshed",
                        "access token refreshed"
                    );
                    return Ok(b);
                }
                Err(RefreshFailure::Permanent(code)) => {
                    let reason = ReauthReason::RefreshRefused(code);
                    return self.mark_reauth(b, reason, request_id).await;
                }
                // The tenant's outbound calls were all in use for a whole timeout: do not wait
                // again while holding the refresh lease.
                Err(RefreshFailure::Transient(e @ app::api::HostError::Busy)) => {
                    last = Some(e);
                    break;
                }
                Err(RefreshFailure::Transient(e)) => {
                    tracing::warn!(request_id, tenant, provider = provider.as_str(), attempt, error = ?e, "refresh failed, retrying");
                    last = Some(e);
                    tokio::time::sleep(self.backoff * 2u32.pow(attempt)).await;
                }
            }
        }
        self.audit(
            tenant,
            ActivityAction::RefreshFailed,
            provider,
            &b.account.login,
            ActivityOutcome::Failed(last),
            request_id,
        )
        .await;
        Err(CredentialError::RefreshUnavailable)
    }

    async fn mark_reauth(
        &self,
        mut b: StoredBinding,
        reason: ReauthReason,
        request_id: &str,
    ) -> Result<StoredBinding, CredentialError> {
        b.reauth_reason = Some(reason.clone());
        self.store.put(&b).await?;
        tracing::warn!(request_id, tenant = %b.tenant, provider = b.provider.as_str(), reason = %reason.code(), outcome = "needs_reauthorization", "binding needs re-authorization");
        self.audit(
            &b.tenant,
            ActivityAction::RefreshFailed,
            b.provider,
            &b.account.login,
            ActivityOutcome::NeedsReauth(reason.clone()),
            request_id,
        )
        .await;
        Err(CredentialError::NeedsReauthorization(reason))
    }

    async fn audit(
        &self,
        tenant: &str,
        action: ActivityAction,
        provider: Provider,
        account: &str,
        outcome: ActivityOutcome,
        request_id: &str,
    ) {
        let entry = AuditEntry {
            at: now_secs(),
            tenant: tenant.to_string(),
            actor: "build-service".into(),
            actor_name: None,
            action,
            provider: Some(provider),
            account: Some(account.to_string()),
            outcome,
            request_id: request_id.to_string(),
        };
        if let Err(e) = self.store.append(entry).await {
            tracing::error!(request_id, error = %e, "writing the audit log failed");
        }
    }
}
