//! What the page needs to know about a code host, as data: how it binds, what happens to the
//! token when the binding goes, what the dialogs ask for. The server's host registry fills it
//! in; components read it and never branch on which host it is.

use super::Provider;
use serde::{Deserialize, Serialize};

/// How a tenant binds a code host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BindMethod {
    /// Bound to the tenant's own cloud account; cannot be bound or unbound (DevCloud).
    Default,
    /// Authorize on the host's own page (OAuth 2.0 authorization code).
    OAuth,
    /// An instance address and a personal access token typed by the user.
    AccessToken,
}

/// What happens upstream to the token when the binding is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevocationPolicy {
    /// Always revoked at the host (GitHub: the app's grant).
    Automatic,
    /// Revoked when the user asks for it (GitLab: the personal access token).
    Optional,
    /// The host offers no API for it: the user revokes it in the host's settings.
    Manual,
    /// Nothing to revoke (DevCloud).
    NotApplicable,
}

/// One code host as the page sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostInfo {
    pub provider: Provider,
    pub bind: BindMethod,
    pub revocation: RevocationPolicy,
    /// Access-token hosts: the address the dialog starts with (`https://gitlab.com`); `None`
    /// where there is no public instance to assume (Gitea/Forgejo: the user types it).
    pub default_address: Option<String>,
    /// Access-token hosts: the scopes the token needs (named in the dialog).
    pub scopes: Vec<String>,
    /// Whether the bound account's repositories can be listed.
    pub repositories: bool,
}

impl HostInfo {
    /// Whether the page offers Bind / Unbind for this host at all.
    pub fn bindable(&self) -> bool {
        match self.bind {
            BindMethod::OAuth | BindMethod::AccessToken => true,
            BindMethod::Default => false,
        }
    }
}
