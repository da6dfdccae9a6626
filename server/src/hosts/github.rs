//! GitHub (and GitHub Enterprise Server): an OAuth app with PKCE, `GET /user` (granted scopes
//! in `X-OAuth-Scopes`), revocation of the app's grant, repositories from `/user/repos`
//! (`Link` pagination; it cannot search, so a page is filtered here), git user
//! `x-access-token`. Its webhooks are in `hooks`.

pub(super) mod hooks;

use super::hooks::HookHost;
use super::{CodeHost, CredentialShape, Instance, Outbound, RepoHost, RepoId, PER_PAGE};
use crate::config::{HostConfig, OAuthApp};
use crate::hosts::oauth::{github_style_user, AuthType, OAuthProvider, OAuthSpec};
use crate::outbound::http::{self, Auth};
use crate::outbound::instance::classify;
use crate::secret::SecretString;
use app::api::{Branch, HostError, HostInfo, Provider, RepoPage, Repository};
use app::api::{Revocation, RevocationPolicy};
use reqwest::header;
use serde::Deserialize;

pub const OAUTH: OAuthSpec = OAuthSpec {
    provider: Provider::GitHub,
    authorize_path: "/login/oauth/authorize",
    token_path: "/login/oauth/access_token",
    user_path: "/user",
    // GitHub has no read-only scope for private repositories.
    scopes: &["repo", "read:user"],
    repo_read_scopes: &["repo"],
    send_scopes: true,
    pkce: true,
    client_auth: AuthType::RequestBody,
    // Let the user pick which GitHub account to authorize.
    authorize_extra: &[("prompt", "select_account")],
    parse_user: github_style_user,
};

pub struct GitHub {
    web: String,
    api: String,
    app: Option<OAuthProvider>,
}

/// The OAuth app of a host, when the operator registered one.
pub(super) fn app(
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

impl GitHub {
    pub fn new(c: &HostConfig, redirect: &str, out: Outbound) -> anyhow::Result<Self> {
        let web = c.url_or("https://github.com");
        let api = c.api_url_or("https://api.github.com");
        let app = app(&OAUTH, c.app.as_ref(), &web, &api, redirect, out)?;
        Ok(GitHub { web, api, app })
    }

    fn app(&self) -> Result<&OAuthProvider, HostError> {
        super::required(self.app.as_ref())
    }
}

#[async_trait::async_trait]
impl CodeHost for GitHub {
    fn provider(&self) -> Provider {
        Provider::GitHub
    }

    fn info(&self) -> HostInfo {
        super::oauth_info(&OAUTH, RevocationPolicy::Automatic)
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

    /// `DELETE /applications/{client_id}/grant` (Basic auth with the app's credentials)
    /// removes our app's authorization and every token of it.
    async fn revoke(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
    ) -> Result<Revocation, HostError> {
        let app = self.app()?;
        let (id, secret) = app.client_credentials();
        let resp = app
            .http()
            .delete(format!("{}/applications/{id}/grant", self.api))
            .basic_auth(id, Some(secret.expose()))
            .header(header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .json(&serde_json::json!({ "access_token": token.expose() }))
            .send()
            .await
            .map_err(|e| classify(&e))?;
        match resp.status().as_u16() {
            200 | 204 => Ok(Revocation::Revoked),
            status => Err(HostError::Upstream { status }),
        }
    }

    /// GitHub's avatar service scales on request (`s`): ask for what a row shows (2× its
    /// 24 px, with room), not the 460 px original.
    fn avatar_url(&self, url: &str) -> String {
        match url::Url::parse(url) {
            Ok(mut u)
                if u.host_str() == Some("avatars.githubusercontent.com")
                    && !u.query_pairs().any(|(k, _)| k == "s") =>
            {
                u.query_pairs_mut().append_pair("s", "96");
                u.to_string()
            }
            _ => url.to_string(),
        }
    }

    fn credential(&self, _at: Instance<'_>, _account: &str) -> CredentialShape {
        CredentialShape {
            base_url: self.web.clone(),
            api_url: Some(self.api.clone()),
            git_username: Some("x-access-token".into()),
        }
    }
}

/// A repository as GitHub describes it (Gitee and Gitea copy the shape).
#[derive(Deserialize)]
pub(super) struct GitHubStyleRepo {
    /// Every one of the three sends it; a listing without it still lists.
    #[serde(default)]
    id: Option<u64>,
    full_name: String,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    default_branch: Option<String>,
}

impl GitHubStyleRepo {
    /// The id passed back for branches is `owner/name`.
    pub(super) fn into_repository(self) -> Repository {
        Repository {
            id: self.full_name.clone(),
            stable_id: self.id.map(|id| id.to_string()).unwrap_or_default(),
            private: self.private,
            web_url: self
                .html_url
                .filter(|u| app::format::safe_http_url(u).is_some()),
            default_branch: self.default_branch,
            full_name: self.full_name,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct NamedBranch {
    pub(super) name: String,
}

/// Keeps the repositories whose name contains `search` (for APIs that cannot search).
pub(super) fn filter(items: &mut Vec<Repository>, search: &str) {
    if !search.is_empty() {
        let s = search.to_lowercase();
        items.retain(|r| r.full_name.to_lowercase().contains(&s));
    }
}

#[async_trait::async_trait]
impl RepoHost for GitHub {
    async fn repositories(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        search: &str,
        page: u32,
    ) -> Result<RepoPage, HostError> {
        let url = format!(
            "{}/user/repos?per_page={PER_PAGE}&page={page}&sort=updated",
            self.api
        );
        let answer = http::get(self.app()?.http(), &url, Auth::Bearer(token))
            .await?
            .ok()?;
        let repos: Vec<GitHubStyleRepo> = answer.json()?;
        let mut items: Vec<Repository> = repos
            .into_iter()
            .map(GitHubStyleRepo::into_repository)
            .collect();
        filter(&mut items, search);
        Ok(super::repo_page(items, page, answer.has_next_link()))
    }

    async fn branches(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoId,
    ) -> Result<Vec<Branch>, HostError> {
        // The listing already showed the default branch; this is the list to pick from.
        let url = format!("{}/repos/{}/branches?per_page=100", self.api, repo.as_str());
        let branches: Vec<NamedBranch> = http::get(self.app()?.http(), &url, Auth::Bearer(token))
            .await?
            .ok()?
            .json()?;
        Ok(mark_default(branches, None))
    }
}

/// Branches with the repository's default one marked.
pub(super) fn mark_default(branches: Vec<NamedBranch>, default: Option<&str>) -> Vec<Branch> {
    branches
        .into_iter()
        .map(|b| Branch {
            default: Some(b.name.as_str()) == default,
            name: b.name,
        })
        .collect()
}
