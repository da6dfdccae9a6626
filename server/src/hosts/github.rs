//! GitHub (and GitHub Enterprise Server): an OAuth app with PKCE, `GET /user` (granted scopes
//! in `X-OAuth-Scopes`), revocation of the app's grant, repositories from `/user/repos`
//! (`Link` pagination; it cannot search, so a page is filtered here), git user
//! `x-access-token`. Its webhooks are in `hooks`.

pub(super) mod hooks;

use super::github_style::{mark_default, GitHubStyleRepo, NamedBranch};
use super::hooks::HookHost;
use super::{CodeHost, CredentialShape, Instance, Outbound, RepoHost, RepoId, PER_PAGE};
use crate::config::HostConfig;
use crate::hosts::oauth::{github_style_user, AuthType, OAuthProvider, OAuthSpec};
use crate::outbound::http::{self, Auth};
use crate::secret::SecretString;
use app::api::{Branch, HostError, HostInfo, Provider, RepoPage, Repository};
use app::api::{Revocation, RevocationPolicy};
use reqwest::Method;

/// What GitHub's REST API asks every call to send: its media type and the API version the
/// answers are read as.
const API_HEADERS: &[(&str, &str)] = &[
    ("accept", "application/vnd.github+json"),
    ("x-github-api-version", "2022-11-28"),
];

pub const OAUTH: OAuthSpec = OAuthSpec {
    provider: Provider::GitHub,
    authorize_path: "/login/oauth/authorize",
    token_path: "/login/oauth/access_token",
    user_path: "/user",
    api_headers: API_HEADERS,
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

impl GitHub {
    pub fn new(c: &HostConfig, redirect: &str, out: Outbound) -> anyhow::Result<Self> {
        let web = c.url_or("https://github.com");
        let api = c.api_url_or("https://api.github.com");
        let app = super::oauth_app(&OAUTH, c.app.as_ref(), &web, &api, redirect, out)?;
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
        let url = format!("{}/applications/{id}/grant", self.api);
        let body = serde_json::json!({ "access_token": token.expose() });
        let answer = http::send_with(
            app.http(),
            Method::DELETE,
            &url,
            Auth::Basic(id, secret),
            API_HEADERS,
            Some(&body),
        )
        .await?;
        match answer.status {
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
            .filter_map(GitHubStyleRepo::into_repository)
            .collect();
        super::github_style::filter(&mut items, search);
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
