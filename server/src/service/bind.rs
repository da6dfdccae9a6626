//! Binding: checking an address and token at an access-token host, and storing what the user
//! confirmed (a checked or authorized account waiting as a pending item).

use super::{internal, store_failed, CodeSources};
use crate::outbound::address::HostAddress;
use crate::outbound::instance::{self, InstanceClient};
use crate::store::{aad, PendingItem, StoredAvatar, StoredBinding, RECORD_VERSION};
use crate::util::now_secs;
use app::api::service::{Caller, TokenCheckInput};
use app::api::{ActivityAction, ApiError, CodeSourceRow, PendingBinding};

impl CodeSources {
    pub(super) async fn check_token_now(
        &self,
        caller: &Caller,
        input: TokenCheckInput,
    ) -> Result<PendingBinding, ApiError> {
        let provider = input.provider;
        let host = self
            .host(provider)
            .access_token()
            .ok_or(ApiError::Unsupported)?;
        let address = HostAddress::parse(&input.address)?;
        let token = instance::parse_token(input.token.expose())?;
        // Fully validated: building the client cannot fail on the CA (a failure here is ours).
        let ca = instance::parse_ca(input.ca_pem.as_deref())?;
        let client = InstanceClient::new(&self.policy, self.timeout, ca)
            .map_err(|e| internal(caller, "building the code host client failed", &e))?;
        let outcome = self
            .calls
            .call(
                &caller.tenant,
                provider,
                host.check(&client, &address, &token),
            )
            .await;
        match &outcome {
            Ok(c) => {
                tracing::info!(request_id = %caller.request_id, tenant = %caller.tenant, provider = provider.as_str(),
                address = %address.as_str(), account = %c.account.login, outcome = "checked", "token checked")
            }
            Err(e) => {
                tracing::info!(request_id = %caller.request_id, tenant = %caller.tenant, provider = provider.as_str(),
                address = %address.as_str(), outcome = ?e, "token check failed")
            }
        }
        let check = outcome?;
        let avatar = self
            .fetch_avatar(
                caller,
                provider,
                client.http(),
                check.account.avatar_url.as_deref(),
            )
            .await;
        let item = PendingItem {
            provider,
            avatar,
            account: check.account,
            address: Some(address.as_str().to_string()),
            ca_pem: input.ca_pem.filter(|c| !c.trim().is_empty()),
            scopes: check.scopes,
            scopes_unknown: check.scopes_unknown,
            expires_at: check.expires_at,
            access_expires_at: None,
            missing_scopes: vec![],
            token: self.cipher.seal(&token, &aad(&caller.tenant, provider)),
            refresh_token: None,
        };
        // What the dialog shows (the tokens in it are sealed, and never leave).
        let shown = item.clone();
        let id = self
            .pending
            .insert(&caller.tenant, item)
            .await
            .map_err(|e| store_failed(caller, "keeping the checked account failed", &e))?;
        Ok(self.pending_view(&id, &shown))
    }

    pub(super) async fn confirm_now(
        &self,
        caller: &Caller,
        pending_id: app::api::PendingId,
    ) -> Result<CodeSourceRow, ApiError> {
        let item = self
            .pending
            .take(&caller.tenant, &pending_id)
            .await
            .map_err(|e| store_failed(caller, "taking the pending binding failed", &e))?
            .ok_or(ApiError::PendingExpired)?;
        let binding = StoredBinding {
            v: RECORD_VERSION,
            tenant: caller.tenant.to_string(),
            provider: item.provider,
            // Sealed at check time for exactly this row (tenant, provider).
            token: item.token,
            refresh_token: item.refresh_token,
            reauth_reason: None,
            last_checked_at: Some(now_secs()),
            check_claimed_until: None,
            access_expires_at: item.access_expires_at,
            refreshed_at: None,
            account: item.account,
            address: item.address,
            ca_pem: item.ca_pem,
            scopes: item.scopes,
            token_expires_at: item.expires_at,
            bound_at: now_secs(),
            bound_by: caller.user_id.clone(),
            avatar: item.avatar.as_ref().map(StoredAvatar::reference),
        };
        // Re-authorizing replaces a binding; the activity log says which it was.
        let replaced = self
            .put_binding(&binding, item.avatar.as_ref())
            .await
            .map_err(|e| store_failed(caller, "storing the binding failed", &e))?;
        tracing::info!(request_id = %caller.request_id, tenant = %caller.tenant, provider = binding.provider.as_str(),
            account = %binding.account.login, outcome = "bound", "binding stored");
        self.record(
            caller,
            if replaced {
                ActivityAction::Reauthorize
            } else {
                ActivityAction::Bind
            },
            binding.provider,
            &binding.account.login,
        )
        .await;
        Ok(self.row(caller, binding.provider, Some(&binding)))
    }
}
