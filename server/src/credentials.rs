//! Credentials for the build service: the token of a tenant's binding, valid for at least five
//! more minutes. Expiring OAuth tokens are refreshed first, one refresh at a time per binding
//! across all replicas (refresh tokens rotate, so two concurrent refreshes would kill each
//! other): whoever takes the binding's lease in the store refreshes, the others wait and read
//! the rotated token it stored. A replica that dies holding the lease blocks the binding only
//! until the lease runs out. The new pair is stored before it is handed out. A refresh the code
//! host refuses marks the binding as needing re-authorization. Every credential issued is
//! written to the audit log before it is handed out; one that cannot be recorded is not.

use crate::config::Config;
use crate::crypto::Cipher;
use crate::host_calls::HostCalls;
use crate::hosts::Instance;
use crate::store::{aad, AuditEntry, Store, StoreError, StoredBinding};
use crate::util::now_secs;
use app::api::{ActivityAction, ActivityOutcome, BindMethod, Provider, ReauthReason};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

mod refresh;

/// A credential must stay valid at least this long after it is handed out.
pub const MIN_VALIDITY_SECS: i64 = 300;

/// What the build service gets. `Debug` leaves the token out.
#[derive(Serialize)]
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

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("account", &self.account)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
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

#[derive(Clone)]
pub struct Credentials {
    store: Arc<dyn Store>,
    cipher: Arc<Cipher>,
    calls: Arc<HostCalls>,
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
        calls: Arc<HostCalls>,
    ) -> Self {
        Credentials {
            store,
            cipher,
            calls,
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
        let host = self.calls.host(provider);
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
        // On record before the token leaves: a credential the activity log cannot record is not
        // handed out (the build service is told to retry), so none is ever missing from it.
        let issued = entry(
            &b,
            ActivityAction::CredentialIssued,
            ActivityOutcome::Ok,
            request_id,
        );
        self.store.append(issued).await?;
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

    /// Records a failed refresh of `b`; a failure to record it is logged, and does not
    /// change what the caller is told.
    async fn refresh_failed(&self, b: &StoredBinding, outcome: ActivityOutcome, request_id: &str) {
        let e = entry(b, ActivityAction::RefreshFailed, outcome, request_id);
        if let Err(e) = self.store.append(e).await {
            tracing::error!(request_id, error = %crate::util::chain(&e), "writing the audit log failed");
        }
    }
}

/// An activity entry of the build service's, about binding `b`.
fn entry(
    b: &StoredBinding,
    action: ActivityAction,
    outcome: ActivityOutcome,
    request_id: &str,
) -> AuditEntry {
    AuditEntry {
        at: now_secs(),
        tenant: b.tenant.clone(),
        actor: "build-service".into(),
        actor_name: None,
        action,
        provider: Some(b.provider),
        account: Some(b.account.login.clone()),
        outcome,
        request_id: request_id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_leaves_the_token_out() {
        let c = Credential {
            provider: Provider::GitLab,
            base_url: "https://gitlab.com".into(),
            api_url: None,
            account: "alice".into(),
            access_token: Some("glpat-s3cr3t".into()),
            expires_at: None,
            git_username: None,
            ca_pem: None,
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cr3t") && shown.contains("alice"),
            "{shown}"
        );
    }
}
