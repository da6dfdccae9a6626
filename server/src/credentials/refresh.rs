//! Refreshing an expiring OAuth token under the binding's lease in the store: one refresh at
//! a time across replicas (refresh tokens rotate), the others wait for what it stored. A
//! refusal marks the binding as needing re-authorization; transient failures are retried.

use super::*;
use crate::providers::oauth::RefreshFailure;
use crate::util::now_millis;
use std::time::Instant;

/// How often a replica waiting for another one's refresh looks at the binding again.
const WAIT_STEP: Duration = Duration::from_millis(100);

/// Tries at the code host before giving up for this request.
const REFRESH_ATTEMPTS: u32 = 3;

impl Credentials {
    /// Refreshes `seen` (a binding whose token is about to expire) under the binding's lease,
    /// or waits for whoever holds it and returns what they stored.
    pub(super) async fn refresh(
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
        self.refresh_failed(&b, ActivityOutcome::Failed(last), request_id)
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
        self.refresh_failed(&b, ActivityOutcome::NeedsReauth(reason.clone()), request_id)
            .await;
        Err(CredentialError::NeedsReauthorization(reason))
    }
}
