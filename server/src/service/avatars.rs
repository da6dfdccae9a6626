//! Avatars: fetched at check time through the outbound policy (see `outbound::avatar`), kept
//! with the pending item and then apart from the binding (which holds only a reference, so
//! page loads and credential calls never read the image), and handed to the page only as our
//! own URL.

use super::CodeSources;
use crate::outbound::avatar;
use crate::store::{AvatarRef, StoreError, StoredAvatar};
use app::api::service::Caller;
use app::api::{Account, Provider};

/// The account as the page sees it: `avatar_url` is our own URL for the avatar we keep, or
/// `None`; never the host's.
pub(super) fn shown_account(account: &Account, avatar_url: Option<String>) -> Account {
    Account {
        avatar_url,
        ..account.clone()
    }
}

impl CodeSources {
    /// Where a bound row's avatar is served (under our base path), versioned by its content.
    pub(super) fn avatar_url(&self, p: Provider, a: Option<&AvatarRef>) -> Option<String> {
        a.map(|a| {
            format!(
                "{}/avatars/{}?v={}",
                self.base_path,
                p.as_str(),
                a.version()
            )
        })
    }

    /// Where a pending account's avatar is served (the confirm dialog).
    pub(super) fn pending_avatar_url(
        &self,
        id: &app::api::PendingId,
        a: Option<&StoredAvatar>,
    ) -> Option<String> {
        a.map(|a| format!("{}/avatars/pending/{id}?v={}", self.base_path, a.version()))
    }

    /// Fetches an account's avatar through the outbound policy, holding one of the tenant's
    /// outbound slots. Any failure: no avatar (logged), never an error.
    pub(super) async fn fetch_avatar(
        &self,
        caller: &Caller,
        provider: Provider,
        http: &reqwest::Client,
        url: Option<&str>,
    ) -> Option<StoredAvatar> {
        let url = url.filter(|u| !u.is_empty())?;
        let fetch = avatar::fetch(http, &self.policy, url);
        match self.calls.call(&caller.tenant, provider, fetch).await {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::info!(request_id = %caller.request_id, tenant = %caller.tenant, provider = provider.as_str(),
                    reason = %e, outcome = "no_avatar", "avatar not fetched");
                None
            }
        }
    }

    /// The avatar kept for `tenant`'s binding to `provider` (read apart from the binding).
    pub async fn avatar(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Option<StoredAvatar>, StoreError> {
        self.store.avatar(tenant, provider).await
    }

    /// The avatar of `tenant`'s pending account `id` (another tenant's id: none).
    pub async fn pending_avatar(
        &self,
        tenant: &str,
        id: &app::api::PendingId,
    ) -> Result<Option<StoredAvatar>, StoreError> {
        Ok(self.pending.peek(tenant, id).await?.and_then(|i| i.avatar))
    }
}
