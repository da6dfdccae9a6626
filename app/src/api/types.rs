//! Wire types shared by the browser and the server. Nothing here may hold a stored secret:
//! the only token-bearing type is [`TokenInput`], which carries a token *from* the browser once.

use super::{
    ActivityAction, ActivityOutcome, BindMethod, HostInfo, Provider, ReauthReason, TenantId,
};
use serde::{Deserialize, Serialize};

/// An account on a code host as the host described it. Every field is untrusted input from the
/// host: the UI renders it as text and only uses URLs that pass [`crate::api::safe_http_url`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub login: String,
    pub name: Option<String>,
    /// Stored: the host's avatar URL. Sent to the page: our own URL for the avatar the server
    /// fetched and keeps (`<base>/avatars/…`, see `Site::own_url`), or `None`; never the host's.
    pub avatar_url: Option<String>,
    pub web_url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowStatus {
    Bound,
    Unbound,
    /// The operator has not set this host up yet (e.g. no OAuth app registered).
    NotConfigured,
    /// Bound, but the token expires within the warning period.
    ExpiringSoon,
    /// Bound, but the token no longer works (revoked, expired, refresh refused).
    NeedsReauth,
}

/// One row of the code source table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeSourceRow {
    pub provider: Provider,
    /// How this host binds and unbinds (the components read this, not the provider).
    pub host: HostInfo,
    pub status: RowStatus,
    pub account: Option<Account>,
    /// Base address of the code host (shown for access-token hosts, which can be private).
    pub address: Option<String>,
    /// Unix seconds.
    pub bound_at: Option<i64>,
    /// The DevCloud row: bound to the tenant's own cloud account, cannot be unbound.
    pub is_default: bool,
    /// Personal access token expiry (`YYYY-MM-DD`), when the host told us.
    pub token_expires_at: Option<String>,
    /// Why the binding needs re-authorization.
    pub reason: Option<ReauthReason>,
    /// When the token was last checked at the code host (Unix seconds).
    pub last_checked_at: Option<i64>,
}

/// Who is looking at the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_name: String,
    pub tenant: TenantId,
    /// No console identity key configured: a single local tenant, for development.
    pub local_mode: bool,
}

/// Everything the code source page needs in one round trip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageData {
    pub viewer: Viewer,
    pub rows: Vec<CodeSourceRow>,
    /// CIDRs of the build nodes, for the private instance whitelist hint.
    pub build_node_cidrs: Vec<String>,
    /// The console's page for building images from a bound source (a console path such as
    /// `/console/builds/new`, or an https URL), when the operator configured one.
    pub build_url: Option<String>,
}

/// A repository the bound account can read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    /// What to pass back for branches and auto-build (GitLab: the project id; others:
    /// `owner/name`).
    pub id: super::RepoId,
    /// The host's own id of the repository, which survives a rename or transfer (GitHub,
    /// Gitea, Gitee: the numeric `id`; GitLab: the project id; Bitbucket: the `uuid`).
    #[serde(default)]
    pub stable_id: String,
    pub full_name: String,
    pub private: bool,
    pub web_url: Option<String>,
    pub default_branch: Option<String>,
}

/// A page of repositories.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoPage {
    pub items: Vec<Repository>,
    pub page: u32,
    /// The next page number, if there is one.
    pub next_page: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub name: String,
    pub default: bool,
}

/// One line of the tenant's activity log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// Unix seconds.
    pub at: i64,
    /// User id, or `build-service`.
    pub actor: String,
    /// The user's display name when the action was taken (older entries and the build
    /// service: none; show `actor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    pub action: ActivityAction,
    pub provider: Option<Provider>,
    pub account: Option<String>,
    pub outcome: ActivityOutcome,
}

/// A page of activity, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    /// Pass back to get the next (older) page.
    pub next: Option<String>,
}

/// What happened upstream when a binding was removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Revocation {
    /// The code host revoked the token (GitHub grant, GitLab token on request).
    Revoked,
    /// The user chose to keep the token alive upstream (GitLab).
    NotRequested,
    /// The code host offers no revocation API (Gitee, Bitbucket, Gitea): the user revokes it
    /// there.
    Manual,
    /// Revoking failed; the local binding is gone anyway. The user revokes it there.
    Failed,
}

/// What unbinding did: the token's revocation upstream, and the auto-build hooks that could
/// not be removed from the code host (yet: they are retried; the user may remove them by hand).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unbound {
    pub revocation: Revocation,
    #[serde(default)]
    pub hooks_left: Vec<HookLeft>,
}

/// An auto-build hook left on a repository after its binding went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookLeft {
    /// The repository's full name as last seen.
    pub repository: String,
    /// The host's stable repository id (what dismissing it takes).
    pub repository_id: String,
    /// The repository's webhook settings page, to remove it by hand.
    pub settings_url: Option<String>,
}

/// A token typed by the user, on its single trip from the browser to the server.
/// `Debug` is redacted so that logging request arguments can never print it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenInput(String);

impl TokenInput {
    pub fn new(value: impl Into<String>) -> Self {
        TokenInput(value.into())
    }

    /// The raw value; only the server's token parser should call this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TokenInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenInput(<redacted>)")
    }
}

/// The result of checking credentials, waiting for the user's Confirm. The token stays on the
/// server; `id` names it for a short while.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBinding {
    pub id: super::PendingId,
    pub provider: Provider,
    /// How it was bound (the confirm dialog shows a token's expiry for access tokens).
    pub bind: BindMethod,
    pub account: Account,
    pub address: Option<String>,
    pub scopes: Vec<String>,
    /// `YYYY-MM-DD`, or `None` for a token without expiry (or when the host did not say).
    pub expires_at: Option<String>,
    /// The host could not tell us the token's scopes (older GitLab).
    pub scopes_unknown: bool,
    /// Scopes we asked for that the user did not grant (OAuth); the UI warns about them.
    pub missing_scopes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_input_debug_is_redacted() {
        let t = TokenInput::new("glpat-secret-value");
        assert!(!format!("{t:?}").contains("secret"));
    }
}
