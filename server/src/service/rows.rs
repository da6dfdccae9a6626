//! A row of the table, as the page sees it: the host's `HostInfo`, the binding's status (bound,
//! expiring soon, needs re-authorization) and account; and a pending item's view.

use super::avatars::shown_account;
use super::CodeSources;
use crate::store::{PendingItem, StoredBinding};
use crate::util::now_secs;
use app::api::service::Caller;
use app::api::{Account, BindMethod, CodeSourceRow, PendingBinding, Provider, RowStatus};

impl CodeSources {
    /// A checked or authorized account as the confirm dialog shows it (never its tokens).
    pub(super) fn pending_view(
        &self,
        id: &app::api::PendingId,
        item: &PendingItem,
    ) -> PendingBinding {
        let avatar_url = self.pending_avatar_url(id, item.avatar.as_ref());
        PendingBinding {
            id: id.clone(),
            provider: item.provider,
            bind: self.host(item.provider).info().bind,
            account: shown_account(&item.account, avatar_url),
            address: item.address.clone(),
            scopes: item.scopes.clone(),
            expires_at: item.expires_at.clone(),
            scopes_unknown: item.scopes_unknown,
            missing_scopes: item.missing_scopes.clone(),
        }
    }

    pub(super) fn row(
        &self,
        caller: &Caller,
        p: Provider,
        stored: Option<&StoredBinding>,
    ) -> CodeSourceRow {
        let host = self.host(p);
        let info = host.info();
        if let BindMethod::Default = info.bind {
            return CodeSourceRow {
                provider: p,
                host: info,
                status: RowStatus::Bound,
                account: Some(Account {
                    login: caller.tenant.to_string(),
                    name: Some(caller.user_name.clone()),
                    avatar_url: None,
                    web_url: None,
                }),
                address: None,
                bound_at: None,
                is_default: true,
                token_expires_at: None,
                reason: None,
                last_checked_at: None,
            };
        }
        match stored {
            Some(b) => CodeSourceRow {
                provider: p,
                host: info,
                status: self.status(b),
                reason: b.reauth_reason.clone(),
                last_checked_at: b.last_checked_at,
                account: Some(shown_account(
                    &b.account,
                    self.avatar_url(p, b.avatar.as_ref()),
                )),
                address: b.address.clone(),
                bound_at: Some(b.bound_at),
                is_default: false,
                token_expires_at: b.token_expires_at.clone(),
            },
            None => CodeSourceRow {
                provider: p,
                host: info,
                status: if host.configured() {
                    RowStatus::Unbound
                } else {
                    RowStatus::NotConfigured
                },
                account: None,
                address: None,
                bound_at: None,
                is_default: false,
                token_expires_at: None,
                reason: None,
                last_checked_at: None,
            },
        }
    }

    fn status(&self, b: &StoredBinding) -> RowStatus {
        let today = now_secs().div_euclid(86_400);
        let expiring = b
            .token_expires_at
            .as_deref()
            .and_then(app::format::days_from_date)
            .is_some_and(|d| d - today <= self.expiry_warning_days);
        match (&b.reauth_reason, expiring) {
            (Some(_), _) => RowStatus::NeedsReauth,
            (None, true) => RowStatus::ExpiringSoon,
            (None, false) => RowStatus::Bound,
        }
    }
}
