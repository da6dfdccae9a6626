//! Unbinding: the local binding goes first, whatever happens upstream; then the token is
//! revoked where the host's revocation policy says so.

use super::{store_failed, CodeSources};
use crate::hosts::Instance;
use crate::store::{aad, StoredBinding};
use app::api::service::Caller;
use app::api::{ActivityAction, ApiError, Provider, Revocation, RevocationPolicy};

impl CodeSources {
    /// Revokes a removed binding's token at its code host; failures are logged and reported.
    async fn revoke_upstream(&self, caller: &Caller, old: &StoredBinding) -> Revocation {
        let token = match self
            .cipher
            .open(&old.token, &aad(&caller.tenant, old.provider))
        {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(request_id = %caller.request_id, error = %e, "cannot decrypt the token to revoke");
                return Revocation::Failed;
            }
        };
        let revoke = self.host(old.provider).revoke(Instance::of(old), &token);
        let result = self.oauth.limits().run(&caller.tenant, revoke).await;
        match result {
            Ok(done) => {
                tracing::info!(request_id = %caller.request_id, tenant = %caller.tenant, provider = old.provider.as_str(), outcome = ?done, "token revoked upstream");
                done
            }
            Err(e) => {
                tracing::warn!(request_id = %caller.request_id, tenant = %caller.tenant, provider = old.provider.as_str(), outcome = ?e, "revoking upstream failed");
                Revocation::Failed
            }
        }
    }
}

impl CodeSources {
    pub(super) async fn unbind_now(
        &self,
        caller: &Caller,
        provider: Provider,
        revoke: bool,
    ) -> Result<Revocation, ApiError> {
        let policy = self.host(provider).info().revocation;
        if let RevocationPolicy::NotApplicable = policy {
            return Err(ApiError::DefaultBinding);
        }
        let old = self
            .store
            .delete(&caller.tenant, provider)
            .await
            .map_err(|e| store_failed(caller, "deleting the binding failed", &e))?;
        let Some(old) = old else {
            return Err(ApiError::NotBound);
        };
        tracing::info!(request_id = %caller.request_id, tenant = %caller.tenant, provider = provider.as_str(),
            account = %old.account.login, outcome = "unbound", "binding deleted");
        self.record(caller, ActivityAction::Unbind, provider, &old.account.login)
            .await;
        // The local binding is gone whatever happens upstream.
        let revocation = match policy {
            RevocationPolicy::Automatic => self.revoke_upstream(caller, &old).await,
            RevocationPolicy::Optional if revoke => self.revoke_upstream(caller, &old).await,
            RevocationPolicy::Optional => Revocation::NotRequested,
            RevocationPolicy::Manual | RevocationPolicy::NotApplicable => Revocation::Manual,
        };
        Ok(revocation)
    }
}
