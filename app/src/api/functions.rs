//! Server functions: the page's HTTP API under `/api/…`. Each one is a public endpoint; the
//! server's middleware has already authenticated the caller and rejected cross-site requests,
//! so the bodies here only fetch the service and the caller from context and delegate.

use super::{
    ActivityPage, ApiError, AutoBuildEnabled, AutoBuildFilters, AutoBuildRepaired, AutoBuildView,
    Branch, BuildRef, CodeSourceRow, DeliveryView, ManualBuildDone, PageData, PendingBinding,
    PendingId, Provider, RepoId, RepoPage, SecretRotated, TokenInput, Unbound,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The table, the viewer and the settings the dialogs need.
#[server(endpoint = "code-sources/page", input = Json, client = super::client::WithCredentials)]
pub async fn load_page() -> Result<PageData, ApiError> {
    if let Some(prepared) = ssr::prepared_page() {
        return ssr::respond(prepared);
    }
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.page(&caller).await)
}

/// Checks an address and personal access token at an access-token host (GitLab, Gitea).
/// Nothing is stored: the result waits server-side for [`confirm_binding`] or
/// [`cancel_binding`].
#[server(endpoint = "code-sources/token/check", input = Json, client = super::client::WithCredentials)]
pub async fn check_token(
    provider: Provider,
    address: String,
    token: TokenInput,
    ca_pem: Option<String>,
) -> Result<PendingBinding, ApiError> {
    let (svc, caller) = ssr::context()?;
    let input = service::TokenCheckInput {
        provider,
        address,
        token,
        ca_pem,
    };
    ssr::respond(svc.check_token(&caller, input).await)
}

/// A checked or authorized account waiting for Confirm (after an OAuth redirect or popup).
#[server(endpoint = "code-sources/pending", input = Json, client = super::client::WithCredentials)]
pub async fn load_pending(pending_id: PendingId) -> Result<PendingBinding, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.pending(&caller, pending_id).await)
}

/// The newest authorized account for `provider` waiting for Confirm, if any: used when the
/// authorization window closed without reporting back (its opener link can be cut).
#[server(endpoint = "code-sources/latest-pending", input = Json, client = super::client::WithCredentials)]
pub async fn latest_pending(provider: Provider) -> Result<Option<PendingBinding>, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.latest_pending(&caller, provider).await)
}

/// Persists a checked binding (after the user saw the account and pressed Confirm).
#[server(endpoint = "code-sources/confirm", input = Json, client = super::client::WithCredentials)]
pub async fn confirm_binding(pending_id: PendingId) -> Result<CodeSourceRow, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.confirm(&caller, pending_id).await)
}

/// Discards a checked binding: the token is dropped, nothing was stored.
#[server(endpoint = "code-sources/cancel", input = Json, client = super::client::WithCredentials)]
pub async fn cancel_binding(pending_id: PendingId) -> Result<(), ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.cancel(&caller, pending_id).await)
}

/// Removes the binding of `provider` (`github`, `gitlab`, `gitee`). GitHub's grant is revoked
/// upstream as well; a GitLab token only when `revoke` is set. An upstream failure does not
/// stop the local unbind: the result says what happened, and which auto-build hooks could not
/// be removed from the code host (they are retried in the background).
#[server(endpoint = "code-sources/unbind", input = Json, client = super::client::WithCredentials)]
pub async fn unbind(
    provider: Provider,
    #[server(default)] revoke: bool,
) -> Result<Unbound, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.unbind(&caller, provider, revoke).await)
}

/// The bound account's repositories (20 a page), optionally filtered by `search`.
#[server(endpoint = "code-sources/repositories", input = Json, client = super::client::WithCredentials)]
pub async fn list_repositories(
    provider: Provider,
    search: String,
    page: u32,
) -> Result<RepoPage, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.repositories(&caller, provider, search, page).await)
}

/// The branches of one repository of the bound account.
#[server(endpoint = "code-sources/branches", input = Json, client = super::client::WithCredentials)]
pub async fn list_branches(provider: Provider, repo_id: RepoId) -> Result<Vec<Branch>, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.branches(&caller, provider, repo_id).await)
}

/// The bound account's repositories with auto-build on (one call when the repositories dialog
/// opens; the page matches them to the listing by [`AutoBuildView::repository`]).
#[server(endpoint = "code-sources/auto-build/list", input = Json, client = super::client::WithCredentials)]
pub async fn list_auto_builds(provider: Provider) -> Result<Vec<AutoBuildView>, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.auto_build_list(&caller, provider).await)
}

/// Turns auto-build on for `repo` (a listing's id), or changes its filters. With `manual` the
/// server registers nothing at the code host and answers what to paste there (once).
#[server(endpoint = "code-sources/auto-build/enable", input = Json, client = super::client::WithCredentials)]
pub async fn enable_auto_build(
    provider: Provider,
    repo: RepoId,
    filters: AutoBuildFilters,
    #[server(default)] manual: bool,
) -> Result<AutoBuildEnabled, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(
        svc.auto_build_enable(&caller, provider, repo, filters, manual)
            .await,
    )
}

/// Turns auto-build off for `repo`: the hook is removed at the code host where we added it.
#[server(endpoint = "code-sources/auto-build/disable", input = Json, client = super::client::WithCredentials)]
pub async fn disable_auto_build(provider: Provider, repo: RepoId) -> Result<(), ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.auto_build_disable(&caller, provider, repo).await)
}

/// The last deliveries the code host sent for `repo`, newest first.
#[server(endpoint = "code-sources/auto-build/deliveries", input = Json, client = super::client::WithCredentials)]
pub async fn list_auto_build_deliveries(
    provider: Provider,
    repo: RepoId,
) -> Result<Vec<DeliveryView>, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.auto_build_deliveries(&caller, provider, repo).await)
}

/// Checks `repo`'s webhook at the code host now and puts it right (a missing or disabled hook,
/// duplicates, a rename), as the periodic reconcile does; answers the registration afterwards
/// and what was changed.
#[server(endpoint = "code-sources/auto-build/repair", input = Json, client = super::client::WithCredentials)]
pub async fn repair_auto_build(
    provider: Provider,
    repo: RepoId,
) -> Result<AutoBuildRepaired, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.auto_build_repair(&caller, provider, repo).await)
}

/// Builds the latest commit of a branch or tag of `repo` now (its head, read from the code
/// host): one build event marked manual, the same event a push of that commit makes.
#[server(endpoint = "code-sources/auto-build/build", input = Json, client = super::client::WithCredentials)]
pub async fn build_latest_commit(
    provider: Provider,
    repo: RepoId,
    git_ref: BuildRef,
) -> Result<ManualBuildDone, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.auto_build_build(&caller, provider, repo, git_ref).await)
}

/// Gives `repo`'s webhook a new secret (same hook, same URL; the old secret is still accepted
/// for a grace period). For a hook set up by hand, answers the new secret, this once.
#[server(endpoint = "code-sources/auto-build/rotate-secret", input = Json, client = super::client::WithCredentials)]
pub async fn rotate_auto_build_secret(
    provider: Provider,
    repo: RepoId,
) -> Result<SecretRotated, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.auto_build_rotate_secret(&caller, provider, repo).await)
}

/// The tenant's activity log, newest first, a page at a time.
#[server(endpoint = "code-sources/activity", input = Json, client = super::client::WithCredentials)]
pub async fn load_activity(before: Option<String>) -> Result<ActivityPage, ApiError> {
    let (svc, caller) = ssr::context()?;
    ssr::respond(svc.activity(&caller, before).await)
}

/// Remembers the chosen language in an HttpOnly cookie, so the next server render uses it.
#[server(endpoint = "preferences/locale", input = Json, client = super::client::WithCredentials)]
pub async fn set_locale(tag: String) -> Result<(), ApiError> {
    let locale = crate::locale::Locale::from_tag(&tag)
        .ok_or(ApiError::Invalid(super::InputError::UnknownLocale));
    let locale = ssr::respond(locale)?;
    let attributes = use_context::<service::CookieAttributes>()
        .map(|a| a.0)
        .unwrap_or_else(|| "Path=/; SameSite=Lax".into());
    ssr::set_cookie(&format!(
        "{}={}; Max-Age=31536000; HttpOnly; {attributes}",
        crate::locale::LOCALE_COOKIE,
        locale.tag()
    ));
    Ok(())
}

#[cfg(feature = "ssr")]
use super::service;

#[cfg(feature = "ssr")]
mod ssr {
    use super::super::service::{Caller, Services};
    use super::ApiError;
    use leptos::prelude::*;

    /// The service and the authenticated caller of this request.
    pub fn context() -> Result<(Services, Caller), ApiError> {
        let services = use_context::<Services>().ok_or_else(|| missing("Services"))?;
        let parts = use_context::<http::request::Parts>().ok_or_else(|| missing("Parts"))?;
        // The identity middleware puts the caller into the request; without it there is no
        // authenticated caller, whatever the arguments say.
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Unauthenticated)?;
        Ok((services, caller))
    }

    /// The data the server loaded for this page render, if it did (`PreparedPage`).
    pub fn prepared_page() -> Option<Result<super::PageData, ApiError>> {
        use_context::<http::request::Parts>()?
            .extensions
            .get::<super::super::service::PreparedPage>()
            .map(|p| p.0.clone())
    }

    fn missing(what: &str) -> ApiError {
        leptos::logging::error!("server function context is missing {what}");
        ApiError::Internal {
            request_id: String::new(),
        }
    }

    /// Gives an error its HTTP status (server functions would otherwise answer 500 to all).
    pub fn respond<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
        if let Err(e) = &result {
            if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
                if let Ok(status) = http::StatusCode::from_u16(e.status_code()) {
                    opts.set_status(status);
                }
            }
        }
        result
    }

    pub fn set_cookie(cookie: &str) {
        if let (Some(opts), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(cookie),
        ) {
            opts.append_header(http::header::SET_COOKIE, value);
        }
    }
}
