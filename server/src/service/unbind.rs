//! Unbinding: the local binding goes first, whatever happens upstream. Its follow-up — the
//! activity entry, removing the account's auto-build hooks, revoking the token where the
//! host's revocation policy says so — is a cleanup job written in the same store write
//! (`crate::jobs`): this request runs it first and answers with what happened; what could not
//! be done now (the host unreachable, the store failing after the commit) is retried by the
//! worker until done.

use super::{activity_entry, store_failed, CodeSources};
use crate::jobs::Steps;
use crate::store::StoredBinding;
use crate::util::now_millis;
use app::api::service::Caller;
use app::api::{ActivityAction, ApiError, Provider, Revocation, RevocationPolicy, Unbound};

/// Times the binding may change under an unbind (a health check's claim, a refresh) before
/// it gives up: each round re-reads it.
const MAX_ROUNDS: usize = 8;

impl CodeSources {
    pub(super) async fn unbind_now(
        &self,
        caller: &Caller,
        provider: Provider,
        revoke: bool,
    ) -> Result<Unbound, ApiError> {
        let policy = self.host(provider).info().revocation;
        let revoke = match policy {
            RevocationPolicy::NotApplicable => return Err(ApiError::DefaultBinding),
            RevocationPolicy::Automatic => true,
            RevocationPolicy::Optional => revoke,
            RevocationPolicy::Manual => false,
        };
        let (old, job) = self.remove_with_job(caller, provider, revoke).await?;
        tracing::info!(request_id = %caller.request_id, tenant = %caller.tenant, provider = provider.as_str(),
            account = %old.account.login, outcome = "unbound", "binding deleted");
        if self.stop_after_unbind_commit {
            return Err(ApiError::StorageUnavailable);
        }
        let report = self.cleanup.run(job).await;
        let revocation = match policy {
            RevocationPolicy::Optional if !revoke => Revocation::NotRequested,
            RevocationPolicy::Manual | RevocationPolicy::NotApplicable => Revocation::Manual,
            // Not attempted yet (it waits for the hooks): the worker keeps trying.
            RevocationPolicy::Automatic | RevocationPolicy::Optional => {
                report.revocation.unwrap_or(Revocation::Failed)
            }
        };
        Ok(Unbound {
            revocation,
            hooks_left: report.hooks_left,
        })
    }

    /// Deletes the binding and writes its cleanup job in one store write (leased to us).
    async fn remove_with_job(
        &self,
        caller: &Caller,
        provider: Provider,
        revoke: bool,
    ) -> Result<(StoredBinding, crate::store::CleanupJob), ApiError> {
        for _ in 0..MAX_ROUNDS {
            let old = self
                .store
                .get(&caller.tenant, provider)
                .await
                .map_err(|e| store_failed(caller, "reading the binding failed", &e))?
                .ok_or(ApiError::NotBound)?;
            let job = self.cleanup.job_for(
                &old,
                Steps {
                    revoke,
                    activity: Some(activity_entry(
                        caller,
                        ActivityAction::Unbind,
                        provider,
                        &old.account.login,
                    )),
                    hooks: true,
                },
            );
            let lease_until = self.cleanup.lease_until(now_millis());
            let done = self
                .jobs
                .unbind_with_job(&old, &job, lease_until)
                .await
                .map_err(|e| store_failed(caller, "deleting the binding failed", &e))?;
            if done {
                return Ok((old, job));
            }
        }
        tracing::warn!(request_id = %caller.request_id, tenant = %caller.tenant, provider = provider.as_str(), "the binding kept changing under the unbind");
        Err(ApiError::StorageUnavailable)
    }
}
