//! Refreshing an expiring OAuth token under the binding's lease in the store: one refresh at
//! a time across replicas (refresh tokens rotate), the others wait for what it stored. A
//! refusal marks the binding as needing re-authorization; transient failures are retried.
//!
//! The refresh runs in a task of its own, so a build service that hangs up cannot cut it off
//! between the host rotating the refresh token and the new pair being stored. What it stores
//! is written only onto the grant it refreshed (see `store_onto`): a binding unbound or bound
//! anew meanwhile is never overwritten with the old grant's tokens.

use super::*;
use crate::host_calls::CallOutcome;
use crate::hosts::oauth::RefreshFailure;
use std::time::Instant;

/// How often a replica waiting for another one's refresh looks at the binding again.
const WAIT_STEP: Duration = Duration::from_millis(100);

/// Tries at the code host before giving up for this request.
const REFRESH_ATTEMPTS: u32 = 3;

/// Writes of a refresh's outcome that may meet a concurrent change of the same grant (a health
/// check's marks, a key rotation's re-sealing) before giving up.
const STORE_TRIES: u32 = 5;

/// The refresh lease of one binding, as one holder has it.
struct Lease {
    name: String,
    holder: String,
}

impl Lease {
    /// Takes the lease for `lease_for`, or extends it if this holder has it; whether it did.
    async fn take(&self, store: &dyn Store, lease_for: Duration) -> Result<bool, StoreError> {
        store.try_lease(&self.name, &self.holder, lease_for).await
    }
}

/// What became of a write onto a binding.
enum Stored {
    /// Written; the row as it is now.
    Written(StoredBinding),
    /// The binding holds another grant now (bound anew, or refreshed by someone else): that
    /// row, untouched.
    Superseded(StoredBinding),
}

impl Credentials {
    /// Refreshes `seen` (a binding whose token is about to expire) under the binding's lease,
    /// or waits for whoever holds it and returns what they stored.
    pub(super) async fn refresh(
        &self,
        seen: &StoredBinding,
        request_id: &str,
    ) -> Result<StoredBinding, CredentialError> {
        let (tenant, provider) = (seen.tenant.as_str(), seen.provider);
        let lease = Lease {
            name: format!("refresh/{tenant}/{}", provider.as_str()),
            holder: format!(
                "{request_id}/{}",
                crate::util::hex(&rand::random::<[u8; 8]>())
            ),
        };
        // A dead holder's lease runs out after `lease`; waiting twice that means trouble.
        let give_up = Instant::now() + self.lease * 2;
        loop {
            if lease.take(self.store.as_ref(), self.lease).await? {
                let (this, seen) = (self.clone(), seen.clone());
                let request_id = request_id.to_string();
                let task = tokio::spawn(async move {
                    let result = this.refresh_holding(&seen, &request_id, &lease).await;
                    let released = this.store.release_lease(&lease.name, &lease.holder).await;
                    if let Err(e) = released {
                        // It runs out by itself.
                        tracing::warn!(request_id, error = %e, "releasing the refresh lease failed");
                    }
                    result
                });
                return task
                    .await
                    .map_err(|e| CredentialError::Internal(e.into()))?;
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
        lease: &Lease,
    ) -> Result<StoredBinding, CredentialError> {
        let (tenant, provider) = (seen.tenant.as_str(), seen.provider);
        // Re-read under the lease: the previous holder may have refreshed already.
        let b = self.load(tenant, provider).await?;
        if let Some(reason) = &b.reauth_reason {
            return Err(CredentialError::NeedsReauthorization(reason.clone()));
        }
        if b.token != seen.token || !needs_refresh(&b) {
            return Ok(b);
        }
        let aad = aad(tenant, provider);
        let (Some(sealed), Some(app)) = (&b.refresh_token, self.calls.host(provider).oauth())
        else {
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
            // A lease that ran out during the tries before (each may wait for the host) may be
            // another replica's now, refreshing with the same refresh token: leave it to that one.
            if attempt > 0 && !self.renew(lease).await? {
                tracing::warn!(
                    request_id,
                    tenant,
                    provider = provider.as_str(),
                    "the refresh lease ran out"
                );
                return Err(CredentialError::RefreshUnavailable);
            }
            let result = self
                .calls
                .call(tenant, provider, app.refresh(&refresh_token))
                .await;
            let outcome = match &result {
                Ok(_) => "ok",
                Err(e) => e.outcome(),
            };
            crate::metrics::metrics().refresh(outcome);
            match result {
                Ok(r) => {
                    // Stored before use: the old refresh token is already dead upstream.
                    let refreshed = |row: &mut StoredBinding| {
                        row.token = self.cipher.seal(&r.access_token, &aad);
                        if let Some(rt) = &r.refresh_token {
                            row.refresh_token = Some(self.cipher.seal(rt, &aad));
                        }
                        row.access_expires_at = r.expires_at;
                        row.refreshed_at = Some(now_secs());
                    };
                    return match self.store_onto(&b, refreshed).await? {
                        Stored::Written(row) => {
                            tracing::info!(
                                request_id,
                                tenant,
                                provider = provider.as_str(),
                                outcome = "refreshed",
                                "access token refreshed"
                            );
                            usable_row(row)
                        }
                        Stored::Superseded(row) => {
                            tracing::warn!(request_id, tenant, provider = provider.as_str(), "the binding changed during the refresh; its new token was not stored");
                            usable_row(row)
                        }
                    };
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
        b: StoredBinding,
        reason: ReauthReason,
        request_id: &str,
    ) -> Result<StoredBinding, CredentialError> {
        let marked = |row: &mut StoredBinding| row.reauth_reason = Some(reason.clone());
        let b = match self.store_onto(&b, marked).await? {
            Stored::Written(row) => row,
            // The refusal was about a grant the binding no longer holds.
            Stored::Superseded(row) => return usable_row(row),
        };
        tracing::warn!(request_id, tenant = %b.tenant, provider = b.provider.as_str(), reason = %reason.code(), outcome = "needs_reauthorization", "binding needs re-authorization");
        self.refresh_failed(&b, ActivityOutcome::NeedsReauth(reason.clone()), request_id)
            .await;
        Err(CredentialError::NeedsReauthorization(reason))
    }

    /// Extends the lease while its holder still has it; whether it did.
    async fn renew(&self, lease: &Lease) -> Result<bool, CredentialError> {
        Ok(lease.take(self.store.as_ref(), self.lease).await?)
    }

    /// Writes `apply(row)` over the binding only while it holds the grant `loaded` held (the
    /// same tokens), so that a refresh never brings back a binding unbound meanwhile, nor
    /// overwrites one bound anew. A row changed in other ways (a health check's marks, key
    /// rotation's re-sealing) gets `apply` on its current state.
    async fn store_onto(
        &self,
        loaded: &StoredBinding,
        apply: impl Fn(&mut StoredBinding),
    ) -> Result<Stored, CredentialError> {
        let mut current = loaded.clone();
        for _ in 0..STORE_TRIES {
            let mut next = current.clone();
            apply(&mut next);
            if self.store.replace(&current, &next).await? {
                return Ok(Stored::Written(next));
            }
            current = match self.store.get(&loaded.tenant, loaded.provider).await? {
                None => return Err(CredentialError::NotBound),
                Some(now) if self.same_grant(loaded, &now) => now,
                Some(now) => return Ok(Stored::Superseded(now)),
            };
        }
        Err(StoreError::Unavailable("the binding kept changing during a refresh".into()).into())
    }

    /// Whether two records of a binding hold the same tokens (however sealed).
    fn same_grant(&self, a: &StoredBinding, b: &StoredBinding) -> bool {
        let aad = aad(&a.tenant, a.provider);
        let same = |x: &crate::crypto::Sealed, y: &crate::crypto::Sealed| match (
            self.cipher.open(x, &aad),
            self.cipher.open(y, &aad),
        ) {
            (Ok(x), Ok(y)) => x.expose() == y.expose(),
            _ => false,
        };
        let refresh = match (&a.refresh_token, &b.refresh_token) {
            (None, None) => true,
            (Some(x), Some(y)) => same(x, y),
            _ => false,
        };
        refresh && same(&a.token, &b.token)
    }
}

/// The row, unless it needs re-authorization.
fn usable_row(row: StoredBinding) -> Result<StoredBinding, CredentialError> {
    match &row.reauth_reason {
        Some(reason) => Err(CredentialError::NeedsReauthorization(reason.clone())),
        None => Ok(row),
    }
}

#[cfg(test)]
mod clock_skew;
