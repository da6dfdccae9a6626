//! The tenant's activity log as the page shows it.

use super::{store_failed, CodeSources};
use app::api::service::Caller;
use app::api::{ActivityEntry, ActivityPage, ApiError};

impl CodeSources {
    /// A page of the tenant's activity log, newest first, 20 entries.
    pub(super) async fn activity_page(
        &self,
        caller: &Caller,
        before: Option<String>,
    ) -> Result<ActivityPage, ApiError> {
        if before.as_ref().is_some_and(|b| b.len() > 512) {
            return Err(ApiError::Invalid(app::api::InputError::InvalidArguments));
        }
        let (entries, next) = self
            .audit
            .page(&caller.tenant, before, 20)
            .await
            .map_err(|e| store_failed(caller, "reading the activity log failed", &e))?;
        let entries = entries
            .into_iter()
            .map(|e| ActivityEntry {
                at: e.at,
                actor: e.actor,
                actor_name: e.actor_name,
                action: e.action,
                provider: e.provider,
                account: e.account,
                outcome: e.outcome,
            })
            .collect();
        Ok(ActivityPage { entries, next })
    }
}
