//! The seam between server functions and the server: a trait object the server provides in
//! context. Only compiled with `ssr`, so the wasm bundle never contains it.

use super::{
    ActivityPage, ApiError, AutoBuildEnabled, AutoBuildFilters, AutoBuildRepaired, AutoBuildView,
    Branch, BuildRef, CodeSourceRow, DeliveryView, ManualBuildDone, PageData, PendingBinding,
    Provider, RepoPage, SecretRotated, TenantId, TokenInput, Unbound,
};
use std::sync::Arc;

/// The authenticated caller, put into the request's extensions by the server's identity
/// middleware. Server functions take the tenant from here, never from their arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub user_name: String,
    pub tenant: TenantId,
    pub local_mode: bool,
    /// Correlates the user's error message with the server log.
    pub request_id: String,
}

/// Raw access-token bind input, as typed; the server parses it into validated types.
#[derive(Clone, Debug)]
pub struct TokenCheckInput {
    pub provider: Provider,
    pub address: String,
    pub token: TokenInput,
    pub ca_pem: Option<String>,
}

#[async_trait::async_trait]
pub trait CodeSourceService: Send + Sync + 'static {
    async fn page(&self, caller: &Caller) -> Result<PageData, ApiError>;
    async fn check_token(
        &self,
        caller: &Caller,
        input: TokenCheckInput,
    ) -> Result<PendingBinding, ApiError>;
    /// A checked or authorized account waiting for Confirm (not consumed).
    async fn pending(
        &self,
        caller: &Caller,
        id: super::PendingId,
    ) -> Result<PendingBinding, ApiError>;
    /// The newest one for `provider`, if any (when a popup could not report back).
    async fn latest_pending(
        &self,
        caller: &Caller,
        provider: Provider,
    ) -> Result<Option<PendingBinding>, ApiError>;
    async fn confirm(
        &self,
        caller: &Caller,
        pending_id: super::PendingId,
    ) -> Result<CodeSourceRow, ApiError>;
    /// The tenant's activity log, newest first.
    async fn activity(
        &self,
        caller: &Caller,
        before: Option<String>,
    ) -> Result<ActivityPage, ApiError>;
    async fn repositories(
        &self,
        caller: &Caller,
        provider: Provider,
        search: String,
        page: u32,
    ) -> Result<RepoPage, ApiError>;
    async fn branches(
        &self,
        caller: &Caller,
        provider: Provider,
        repo_id: super::RepoId,
    ) -> Result<Vec<Branch>, ApiError>;
    async fn cancel(&self, caller: &Caller, pending_id: super::PendingId) -> Result<(), ApiError>;
    async fn unbind(
        &self,
        caller: &Caller,
        provider: Provider,
        revoke: bool,
    ) -> Result<Unbound, ApiError>;
    /// The repositories of the bound account with auto-build on.
    async fn auto_build_list(
        &self,
        caller: &Caller,
        provider: Provider,
    ) -> Result<Vec<AutoBuildView>, ApiError>;
    /// Turns auto-build on for `repo` (a listing's id), or changes its filters.
    async fn auto_build_enable(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: super::RepoId,
        filters: AutoBuildFilters,
        manual: bool,
    ) -> Result<AutoBuildEnabled, ApiError>;
    async fn auto_build_disable(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: super::RepoId,
    ) -> Result<(), ApiError>;
    /// The repository's last deliveries, newest first.
    async fn auto_build_deliveries(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: super::RepoId,
    ) -> Result<Vec<DeliveryView>, ApiError>;
    /// Checks the registration at the code host now and puts it right.
    async fn auto_build_repair(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: super::RepoId,
    ) -> Result<AutoBuildRepaired, ApiError>;
    /// Emits a build event for the head of a branch or tag.
    async fn auto_build_build(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: super::RepoId,
        git_ref: BuildRef,
    ) -> Result<ManualBuildDone, ApiError>;
    /// Gives the registration's hook a new secret.
    async fn auto_build_rotate_secret(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: super::RepoId,
    ) -> Result<SecretRotated, ApiError>;
}

/// What the server provides in context.
pub type Services = Arc<dyn CodeSourceService>;

/// The table's data, already loaded by the server for this page request (its page cache keys
/// on it), or why it could not be: the render shows exactly this instead of loading it a second
/// time (a store that is down would otherwise make the viewer wait for it twice). Only the
/// server's own middleware puts it into a request's extensions.
#[derive(Clone, Debug)]
pub struct PreparedPage(pub Result<PageData, ApiError>);

/// Who may frame the page: provided in context so the page's CSP can say so.
#[derive(Clone, Debug)]
pub struct FramePolicy {
    /// The CSP `frame-ancestors` source list, e.g. `'self' https://console.example.com`.
    pub frame_ancestors: String,
    /// Whether any other origin is allowed (then no `X-Frame-Options`).
    pub allow_cross_origin: bool,
    /// The exact console origins among them (not wildcards): the page talks to its parent only
    /// at these.
    pub message_origins: Vec<String>,
}

/// The attributes of cookies the app sets (path under the base; `SameSite=None; Secure` when
/// the page is embedded cross-site over https, where `Lax` cookies would not be sent).
#[derive(Clone, Debug)]
pub struct CookieAttributes(pub String);
