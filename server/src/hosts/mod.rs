//! One model of a code host. Each host is a module with a type implementing [`CodeHost`]: how
//! it binds (an [`oauth::OAuthSpec`], or address + personal access token), its endpoints and
//! the headers its API wants, how a token is checked, refreshed and revoked, its repositories
//! and branches, its webhooks ([`hooks::HookHost`]), the shape of the credential the build
//! service gets, and the [`HostInfo`] the page reads instead of branching on the host. Every
//! call goes through the one HTTP helper in `crate::outbound::http`; nothing else here opens
//! a connection. [`Hosts::from_config`] is the registry: one line per host, an exhaustive
//! match, so a host added to `Provider` does not compile until it is registered.
//!
//! Adding a host touches exactly these (the compiler points at each `match`):
//! - its module here, `<host>.rs` (and `<host>/hooks.rs` for auto-build), with its `pub mod`
//!   line below, its line in [`Hosts::from_config`] and its arm in [`outbound_policy`]
//!   (whether it takes a user-given address);
//! - `app/src/api/ids.rs`: its `Provider` variant, in `Provider::ALL`, `as_str`, `glyph`,
//!   `display_name`;
//! - `app/src/i18n/domain.rs`: its `host_texts`, with the strings they name in `app/src/i18n.rs`;
//! - `style/main.css`: its badge colour (`.icon-<host>`);
//! - `server/src/autobuild/mod.rs`: its events in `manual_events`;
//! - `server/fake-hosts`: its fake, for the tests.
//!
//! Its settings (`CODESOURCE_<HOST>_URL` …, `[hosts.<host>]`) come from `Provider::ALL`
//! (`config/hosts.rs`) and need nothing.

pub mod bitbucket;
pub mod devcloud;
pub mod gitea;
pub mod gitee;
pub mod github;
mod github_style;
pub mod gitlab;
pub mod hooks;
pub mod oauth;

pub use app::api::RepoId;

use crate::config::{Config, OAuthApp};
use crate::outbound::address::HostAddress;
use crate::outbound::instance::{parse_ca, InstanceClient};
use crate::outbound::policy::OutboundPolicy;
use crate::secret::SecretString;
use crate::store::StoredBinding;
use app::api::Revocation;
use app::api::{BindMethod, Branch, HostError, HostInfo, Provider, RepoPage};
use oauth::{OAuthProvider, OAuthSpec};
use std::sync::Arc;
use std::time::Duration;

/// Where a binding lives: the configured instance (OAuth hosts), or the address and CA the
/// user gave (access-token hosts).
#[derive(Clone, Copy, Debug, Default)]
pub struct Instance<'a> {
    pub address: Option<&'a str>,
    pub ca_pem: Option<&'a str>,
}

impl<'a> Instance<'a> {
    pub fn of(b: &'a StoredBinding) -> Self {
        Instance {
            address: b.address.as_deref(),
            ca_pem: b.ca_pem.as_deref(),
        }
    }
}

/// How the build service uses a token at a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialShape {
    /// Where repositories are cloned from.
    pub base_url: String,
    pub api_url: Option<String>,
    /// The user name for git over HTTPS, the token being the password.
    pub git_username: Option<String>,
}

/// What checking a personal access token found.
#[derive(Debug, Clone)]
pub struct TokenCheck {
    pub account: app::api::Account,
    pub scopes: Vec<String>,
    pub scopes_unknown: bool,
    /// `YYYY-MM-DD`.
    pub expires_at: Option<String>,
}

/// What every host gets to reach the network with.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub policy: OutboundPolicy,
    pub timeout: Duration,
}

impl Outbound {
    /// A client for a user-given instance (policy-checked, the user's CA), and its address.
    pub fn instance(&self, at: Instance<'_>) -> Result<(HostAddress, InstanceClient), HostError> {
        let address = HostAddress::parse(at.address.unwrap_or(""))
            .map_err(|_| HostError::UnexpectedAnswer)?;
        // Stored CAs were checked when the binding was made.
        let ca = parse_ca(at.ca_pem).unwrap_or_default();
        let client = InstanceClient::new(&self.policy, self.timeout, ca)
            .map_err(|_| HostError::Unreachable)?;
        client.check_literal(&address)?;
        Ok((address, client))
    }
}

/// A code host.
#[async_trait::async_trait]
pub trait CodeHost: Send + Sync {
    fn provider(&self) -> Provider;

    /// What the page needs to know, as data.
    fn info(&self) -> HostInfo;

    /// Whether the operator has set it up (an OAuth host needs a registered app).
    fn configured(&self) -> bool {
        match self.info().bind {
            BindMethod::OAuth => self.oauth().is_some(),
            BindMethod::AccessToken | BindMethod::Default => true,
        }
    }

    /// OAuth hosts: the configured app (authorize, exchange, refresh).
    fn oauth(&self) -> Option<&OAuthProvider> {
        None
    }

    /// Access-token hosts: checks an address and a token (the Bind dialog).
    fn access_token(&self) -> Option<&dyn AccessTokenHost> {
        None
    }

    /// Hosts whose repositories can be listed.
    fn repos(&self) -> Option<&dyn RepoHost> {
        None
    }

    /// Hosts whose repositories can get a webhook (auto-build).
    fn hooks(&self) -> Option<&dyn hooks::HookHost> {
        None
    }

    /// Whether a stored token still works (the health check). OAuth hosts: the account lookup
    /// with their app; the others say how.
    async fn validate(&self, _at: Instance<'_>, token: &SecretString) -> Result<(), HostError> {
        required(self.oauth())?.validate(token).await
    }

    /// Revokes a removed binding's token upstream. Hosts without an API for it say
    /// [`Revocation::Manual`] without calling anything.
    async fn revoke(
        &self,
        _at: Instance<'_>,
        _token: &SecretString,
    ) -> Result<Revocation, HostError> {
        Ok(Revocation::Manual)
    }

    /// The URL to fetch the account's avatar from, given the one the host named (a host whose
    /// avatar service scales on request asks for the size a row shows).
    fn avatar_url(&self, url: &str) -> String {
        url.to_string()
    }

    /// The credential's shape for a binding at `at` of `account`.
    fn credential(&self, at: Instance<'_>, account: &str) -> CredentialShape;
}

/// Binding by address and personal access token.
#[async_trait::async_trait]
pub trait AccessTokenHost: Send + Sync {
    async fn check(
        &self,
        client: &InstanceClient,
        address: &HostAddress,
        token: &SecretString,
    ) -> Result<TokenCheck, HostError>;
}

/// Repositories and branches of the bound account.
#[async_trait::async_trait]
pub trait RepoHost: Send + Sync {
    async fn repositories(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        search: &str,
        page: u32,
    ) -> Result<RepoPage, HostError>;

    async fn branches(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoId,
    ) -> Result<Vec<Branch>, HostError>;
}

/// Repositories per page in listings.
pub const PER_PAGE: u32 = 20;

/// A page of a listing; `more` when the host said there is a next one.
fn repo_page(items: Vec<app::api::Repository>, page: u32, more: bool) -> RepoPage {
    RepoPage {
        items,
        page,
        next_page: more.then_some(page + 1),
    }
}

/// A listed repository's id, or `None` for one our [`RepoId`] cannot carry (a name outside its
/// characters): such a repository is left out of the listing, since neither its branches nor
/// auto-build could be asked for by that id.
fn listed_id(id: &str) -> Option<RepoId> {
    let parsed = RepoId::parse(id).ok();
    if parsed.is_none() {
        tracing::warn!(
            id,
            "a code host listed a repository id we do not accept; left out"
        );
    }
    parsed
}

/// An OAuth host's app. A binding exists only where one was configured; if the operator has
/// removed it since, the host cannot be used.
fn required(app: Option<&OAuthProvider>) -> Result<&OAuthProvider, HostError> {
    app.ok_or(HostError::Unreachable)
}

/// The OAuth app of a host, when the operator registered one.
fn oauth_app(
    spec: &'static OAuthSpec,
    app: Option<&OAuthApp>,
    web: &str,
    api: &str,
    redirect: &str,
    out: Outbound,
) -> anyhow::Result<Option<OAuthProvider>> {
    app.map(|a| {
        OAuthProvider::new(
            spec,
            web,
            api,
            &a.client_id,
            &a.client_secret,
            redirect,
            out.timeout,
        )
    })
    .transpose()
}

/// What the page learns about an OAuth host (all three list repositories): its spec's provider
/// and scopes, and what revoking a binding can do there.
fn oauth_info(spec: &OAuthSpec, revocation: app::api::RevocationPolicy) -> HostInfo {
    HostInfo {
        provider: spec.provider,
        bind: BindMethod::OAuth,
        revocation,
        default_address: None,
        scopes: spec.scopes.iter().map(|s| s.to_string()).collect(),
        repositories: true,
    }
}

/// The health check of an access-token host: its bind-time check at the stored address.
async fn validate_token(
    out: &Outbound,
    host: &dyn AccessTokenHost,
    at: Instance<'_>,
    token: &SecretString,
) -> Result<(), HostError> {
    let (address, client) = out.instance(at)?;
    host.check(&client, &address, token).await.map(|_| ())
}

/// The operator's outbound policy, also allowing the default instances the operator configured
/// for the hosts that take a user-given address (a GitLab or Gitea URL set in the
/// configuration is the operator's own choice, as if it were on the allow-list).
pub fn outbound_policy(config: &Config) -> OutboundPolicy {
    let mut policy = OutboundPolicy::from_config(config);
    for p in Provider::ALL {
        match p {
            Provider::GitLab | Provider::Gitea => {
                if let Some(url) = &config.hosts.get(p).url {
                    policy = policy.allowing_host_of(url);
                }
            }
            // OAuth hosts are called through their own clients, not through this policy.
            Provider::GitHub | Provider::Gitee | Provider::Bitbucket | Provider::DevCloud => {}
        }
    }
    policy
}

/// The registry: every host, configured from the operator's settings.
pub struct Hosts {
    /// In `Provider::ALL` order.
    hosts: Vec<Arc<dyn CodeHost>>,
}

/// Redirect URI registered at the code host for `provider`.
pub fn callback_url(public_base: &str, provider: Provider) -> String {
    format!(
        "{}/oauth/{}/callback",
        public_base.trim_end_matches('/'),
        provider.as_str()
    )
}

impl Hosts {
    /// `public_base` is our external URL with the base path (OAuth redirect URIs).
    pub fn from_config(config: &Config, public_base: &str) -> anyhow::Result<Hosts> {
        let out = Outbound {
            policy: outbound_policy(config),
            timeout: config.provider_timeout,
        };
        let mut hosts: Vec<Arc<dyn CodeHost>> = Vec::new();
        for p in Provider::ALL {
            let c = config.hosts.get(p);
            let redirect = callback_url(public_base, p);
            let host: Arc<dyn CodeHost> = match p {
                Provider::DevCloud => Arc::new(devcloud::DevCloud::new(c)),
                Provider::GitHub => Arc::new(github::GitHub::new(c, &redirect, out.clone())?),
                Provider::GitLab => Arc::new(gitlab::GitLab::new(c, out.clone())),
                Provider::Gitee => Arc::new(gitee::Gitee::new(c, &redirect, out.clone())?),
                Provider::Bitbucket => {
                    Arc::new(bitbucket::Bitbucket::new(c, &redirect, out.clone())?)
                }
                Provider::Gitea => Arc::new(gitea::Gitea::new(c, out.clone())),
            };
            hosts.push(host);
        }
        Ok(Hosts { hosts })
    }

    pub fn get(&self, p: Provider) -> &dyn CodeHost {
        let i = Provider::ALL
            .iter()
            .position(|q| *q == p)
            .expect("every provider is in Provider::ALL");
        self.hosts[i].as_ref()
    }

    /// Every host, in table order.
    pub fn all(&self) -> impl Iterator<Item = &dyn CodeHost> {
        self.hosts.iter().map(|h| h.as_ref())
    }
}

#[cfg(test)]
mod tests;
