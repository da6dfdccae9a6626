//! Bitbucket Cloud: an OAuth 2.0 consumer (authorization code; the client authenticates with
//! HTTP Basic; the consumer's permissions are the scopes, named back in the token answer's
//! `scopes`), 2-hour access tokens with refresh, `GET /2.0/user`, repositories with
//! `role=member` (BBQL `q` search, `next` links), branches under `refs/branches`, git user
//! `x-token-auth`. Bitbucket has no API to revoke a consumer's token: the user removes the
//! authorization under Personal settings → App authorizations.
//! Webhooks: `hooks`.
//! Docs: developer.atlassian.com/cloud/bitbucket/oauth-2/ and /rest/api-group-repositories/.

mod hooks;

use super::github_style::{self, NamedBranch};
use super::hooks::HookHost;
use super::{CodeHost, CredentialShape, Instance, Outbound, RepoHost, RepoId, PER_PAGE};
use crate::config::HostConfig;
use crate::hosts::oauth::{account, AuthType, OAuthProvider, OAuthSpec};
use crate::outbound::http::{self, Auth};
use crate::secret::SecretString;
use crate::util::query_encode;
use app::api::{Account, Branch, HostError, HostInfo, Provider, RepoPage};
use app::api::{Repository, RevocationPolicy};
use serde::Deserialize;

pub const OAUTH: OAuthSpec = OAuthSpec {
    provider: Provider::Bitbucket,
    authorize_path: "/site/oauth2/authorize",
    token_path: "/site/oauth2/access_token",
    user_path: "/2.0/user",
    api_headers: &[],
    scopes: &["account", "repository"],
    repo_read_scopes: &["repository"],
    // The consumer's permissions are the scopes; the authorize URL takes none.
    send_scopes: false,
    pkce: false,
    client_auth: AuthType::BasicAuth,
    authorize_extra: &[],
    parse_user,
};

#[derive(Deserialize, Default)]
struct Href {
    #[serde(default)]
    href: Option<String>,
}

#[derive(Deserialize, Default)]
struct Links {
    #[serde(default)]
    avatar: Href,
    #[serde(default)]
    html: Href,
}

#[derive(Deserialize)]
struct User {
    username: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    links: Links,
}

fn parse_user(body: &[u8]) -> Option<Account> {
    let u: User = serde_json::from_slice(body).ok()?;
    Some(account(
        &u.username,
        u.display_name.as_deref(),
        u.links.avatar.href,
        u.links.html.href,
    ))
}

pub struct Bitbucket {
    web: String,
    api: String,
    app: Option<OAuthProvider>,
}

impl Bitbucket {
    pub fn new(c: &HostConfig, redirect: &str, out: Outbound) -> anyhow::Result<Self> {
        let web = c.url_or("https://bitbucket.org");
        let api = c.api_url_or("https://api.bitbucket.org");
        let app = super::oauth_app(&OAUTH, c.app.as_ref(), &web, &api, redirect, out)?;
        Ok(Bitbucket { web, api, app })
    }

    fn app(&self) -> Result<&OAuthProvider, HostError> {
        super::required(self.app.as_ref())
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        token: &SecretString,
    ) -> Result<T, HostError> {
        http::get(self.app()?.http(), url, Auth::Bearer(token))
            .await?
            .ok()?
            .json()
    }
}

#[async_trait::async_trait]
impl CodeHost for Bitbucket {
    fn provider(&self) -> Provider {
        Provider::Bitbucket
    }

    fn info(&self) -> HostInfo {
        super::oauth_info(&OAUTH, RevocationPolicy::Manual)
    }

    fn oauth(&self) -> Option<&OAuthProvider> {
        self.app.as_ref()
    }

    fn repos(&self) -> Option<&dyn RepoHost> {
        Some(self)
    }

    fn hooks(&self) -> Option<&dyn HookHost> {
        Some(self)
    }

    fn credential(&self, _at: Instance<'_>, _account: &str) -> CredentialShape {
        CredentialShape {
            base_url: self.web.clone(),
            api_url: Some(format!("{}/2.0", self.api)),
            git_username: Some("x-token-auth".into()),
        }
    }
}

#[derive(Deserialize)]
struct MainBranch {
    name: String,
}

#[derive(Deserialize)]
struct Repo {
    /// `{…}`; always sent, a listing without it still lists.
    #[serde(default)]
    uuid: Option<String>,
    full_name: String,
    #[serde(default)]
    is_private: bool,
    #[serde(default)]
    links: Links,
    #[serde(default)]
    mainbranch: Option<MainBranch>,
}

/// One page of a Bitbucket collection.
#[derive(Deserialize)]
struct Paged<T> {
    values: Vec<T>,
    #[serde(default)]
    next: Option<String>,
}

#[async_trait::async_trait]
impl RepoHost for Bitbucket {
    async fn repositories(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        search: &str,
        page: u32,
    ) -> Result<RepoPage, HostError> {
        let mut url = format!(
            "{}/2.0/repositories?role=member&pagelen={PER_PAGE}&page={page}&sort=-updated_on",
            self.api
        );
        if !search.is_empty() {
            // BBQL: a quoted string, its quotes and backslashes escaped.
            let quoted = search.replace('\\', "\\\\").replace('"', "\\\"");
            url.push_str(&format!(
                "&q={}",
                query_encode(&format!("name ~ \"{quoted}\""))
            ));
        }
        let paged: Paged<Repo> = self.get(&url, token).await?;
        let items = paged
            .values
            .into_iter()
            .filter_map(|r| {
                Some(Repository {
                    id: super::listed_id(&r.full_name)?,
                    stable_id: r.uuid.unwrap_or_default(),
                    private: r.is_private,
                    web_url: r
                        .links
                        .html
                        .href
                        .filter(|u| app::api::safe_http_url(u).is_some()),
                    default_branch: r.mainbranch.map(|b| b.name),
                    full_name: r.full_name,
                })
            })
            .collect();
        Ok(super::repo_page(items, page, paged.next.is_some()))
    }

    async fn branches(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoId,
    ) -> Result<Vec<Branch>, HostError> {
        let base = format!("{}/2.0/repositories/{}", self.api, repo.as_str());
        let about: Repo = self.get(&base, token).await?;
        let url = format!("{base}/refs/branches?pagelen=100");
        let branches: Paged<NamedBranch> = self.get(&url, token).await?;
        let default = about.mainbranch.map(|b| b.name);
        Ok(github_style::mark_default(
            branches.values,
            default.as_deref(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape documented for `GET /2.0/user`.
    #[test]
    fn reads_the_documented_user() {
        let body = br#"{"type":"user","username":"ada","display_name":"Ada L","account_id":"557058:x",
            "links":{"avatar":{"href":"https://avatar-management.example/ada.png"},"html":{"href":"https://bitbucket.org/ada/"}}}"#;
        let a = parse_user(body).unwrap();
        assert_eq!(a.login, "ada");
        assert_eq!(a.name.as_deref(), Some("Ada L"));
        assert_eq!(a.web_url.as_deref(), Some("https://bitbucket.org/ada/"));
        assert!(parse_user(br#"{"type":"error"}"#).is_none());
    }
}
