//! The work that must follow an unbind, or a re-bind to another account, carried out until it
//! is done: the activity entry, removing our auto-build hooks from the code host (every
//! registration of the old account), revoking the old token upstream. The job is written in
//! the same store write as the binding's removal (`JobStore::unbind_with_job`), so neither a
//! crash nor a store failure after that commit loses it. The request that unbinds runs it
//! first (it holds the job's lease from the start) and answers with what happened; whatever
//! could not be done then is retried by a worker every replica runs, with backoff, one
//! attempt at a time per job (the store's lease).
//!
//! Hooks that cannot be removed leave their registration `orphaned`: kept, and retried, until
//! a later attempt removes the hook or the tenant dismisses it ([`Cleanup::dismiss`]).

mod run;

use crate::crypto::Cipher;
use crate::host_calls::HostCalls;
use crate::store::{
    aad, job_aad, AuditEntry, CleanupJob, Store, StoreError, StoredBinding, StoredRegistration,
    RECORD_VERSION,
};
use crate::util::now_millis;
use app::api::Provider;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub use run::Report;

/// Jobs claimed per round.
const BATCH: usize = 8;
/// With nothing to do, look again this often (other replicas' jobs, due retries).
const IDLE: Duration = Duration::from_secs(2);
/// The first retry's delay; doubling up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: i64 = 2_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// After this many attempts a job gives up what it could not do (logged; the registrations
/// stay orphaned for the tenant to dismiss) and its token goes: about two days of retries.
const MAX_ATTEMPTS: u32 = 60;

/// Delay before attempt `attempts + 1`.
fn backoff_ms(attempts: u32) -> i64 {
    FIRST_BACKOFF_MS
        .checked_shl(attempts.saturating_sub(1).min(20))
        .unwrap_or(i64::MAX)
        .min(MAX_BACKOFF_MS)
}

/// What follows the removal of a binding.
pub struct Steps {
    /// Revoke the old token upstream.
    pub revoke: bool,
    /// The activity entry to append.
    pub activity: Option<AuditEntry>,
    /// Remove the old account's auto-build hooks.
    pub hooks: bool,
}

pub struct Cleanup {
    store: Arc<dyn Store>,
    cipher: Arc<Cipher>,
    /// Calls to code hosts share the tenant's slots with every other call.
    calls: Arc<HostCalls>,
    /// Hooks deliver to `{webhook_base}/hooks/{rid}` (finding hooks set up by hand).
    webhook_base: String,
    /// How long one attempt holds a job; longer than an attempt's calls take.
    lease: Duration,
    wake: Notify,
}

impl Cleanup {
    pub fn new(
        store: Arc<dyn Store>,
        cipher: Arc<Cipher>,
        calls: Arc<HostCalls>,
        webhook_base: String,
        lease: Duration,
    ) -> Arc<Cleanup> {
        Arc::new(Cleanup {
            store,
            cipher,
            calls,
            webhook_base: webhook_base.trim_end_matches('/').to_string(),
            lease,
            wake: Notify::new(),
        })
    }

    /// The lease a new job is written with: the writer runs it first.
    pub fn lease_until(&self, now_ms: i64) -> i64 {
        now_ms.saturating_add(self.lease.as_millis() as i64)
    }

    /// The job that follows removing (or replacing) `old`: its token re-sealed for the job.
    /// A token that cannot be opened leaves nothing to revoke or remove hooks with (logged).
    pub fn job_for(&self, old: &StoredBinding, steps: Steps) -> CleanupJob {
        let id = crate::util::hex(&rand::random::<[u8; 16]>());
        let token = (steps.revoke || steps.hooks)
            .then(|| self.cipher.open(&old.token, &aad(&old.tenant, old.provider)))
            .and_then(|opened| match opened {
                Ok(t) => Some(self.cipher.seal(&t, &job_aad(&id))),
                Err(e) => {
                    tracing::error!(tenant = %old.tenant, provider = old.provider.as_str(), error = %e, "cannot decrypt the removed binding's token: nothing to revoke or remove hooks with");
                    None
                }
            });
        let now = now_millis();
        CleanupJob {
            v: RECORD_VERSION,
            id,
            tenant: old.tenant.clone(),
            provider: old.provider,
            account: old.account.login.clone(),
            address: old.address.clone(),
            ca_pem: old.ca_pem.clone(),
            revoke: steps.revoke,
            activity: steps.activity,
            hooks: steps.hooks,
            token,
            attempts: 0,
            next_at_ms: now,
            created_at_ms: now,
        }
    }

    /// A job was written that this replica will not run now: let the worker look.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The worker: claims due jobs and runs them, forever.
    pub fn spawn(self: Arc<Self>) {
        tokio::spawn(async move {
            loop {
                let now = now_millis();
                let claimed = self
                    .store
                    .claim_jobs(now, self.lease_until(now), BATCH)
                    .await;
                let jobs = match claimed {
                    Ok(jobs) => jobs,
                    Err(e) => {
                        tracing::warn!(error = %crate::util::chain(&e), "claiming cleanup jobs failed");
                        Vec::new()
                    }
                };
                let idle = jobs.is_empty();
                for job in jobs {
                    self.run(job).await;
                }
                if idle {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(IDLE) => {}
                    }
                }
            }
        });
    }
}

impl Cleanup {
    /// The tenant gives up on an orphaned registration of `provider` (`repo`: the stable id or
    /// the listing's id): it goes without touching the code host. `None`: no orphaned one.
    pub async fn dismiss(
        &self,
        tenant: &str,
        provider: Provider,
        repo: &str,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let found = self
            .store
            .registrations(tenant, Some(provider))
            .await?
            .into_iter()
            .find(|r| r.orphaned && (r.key.repo_id == repo || r.listing_id == repo));
        let Some(reg) = found else {
            return Ok(None);
        };
        self.store.delete_registration(&reg.key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_two_seconds_to_an_hour() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert_eq!(backoff_ms(5), 32_000);
        assert_eq!(backoff_ms(40), MAX_BACKOFF_MS);
    }
}
