//! Gitee: an OAuth app (no PKCE; the client secret in the form body, and a `User-Agent` on
//! every call or Gitee refuses it), `GET /api/v5/user`, repositories from
//! `/api/v5/user/repos` (searched upstream with `q`; the `total_count` header says when there
//! are more), GitHub-shaped answers. Gitee has no revocation API; git user is the login.
//! Webhooks: `hooks`.

mod hooks;

use super::github_style::{self, GitHubStyleRepo, NamedBranch};
use super::hooks::HookHost;
use super::{CodeHost, CredentialShape, Instance, Outbound, RepoHost, RepoId, PER_PAGE};
use crate::config::HostConfig;
use crate::hosts::oauth::{github_style_user, AuthType, OAuthProvider, OAuthSpec};
use crate::outbound::http::{self, Auth};
use crate::secret::SecretString;
use crate::util::query_encode;
use app::api::{Branch, HostError, HostInfo, Provider, RepoPage, RevocationPolicy};

pub const OAUTH: OAuthSpec = OAuthSpec {
    provider: Provider::Gitee,
    authorize_path: "/oauth/authorize",
    token_path: "/oauth/token",
    user_path: "/api/v5/user",
    api_headers: &[],
    scopes: &["user_info", "projects"],
    repo_read_scopes: &["projects"],
    send_scopes: true,
    pkce: false,
    client_auth: AuthType::RequestBody,
    authorize_extra: &[],
    parse_user: github_style_user,
};

pub struct Gitee {
    web: String,
    app: Option<OAuthProvider>,
}

impl Gitee {
    pub fn new(c: &HostConfig, redirect: &str, out: Outbound) -> anyhow::Result<Self> {
        let web = c.url_or("https://gitee.com");
        // The API lives on the web host (`/api/v5`).
        let app = super::oauth_app(&OAUTH, c.app.as_ref(), &web, &web, redirect, out)?;
        Ok(Gitee { web, app })
    }

    fn app(&self) -> Result<&OAuthProvider, HostError> {
        super::required(self.app.as_ref())
    }

    fn api(&self) -> String {
        format!("{}/api/v5", self.web)
    }
}

#[async_trait::async_trait]
impl CodeHost for Gitee {
    fn provider(&self) -> Provider {
        Provider::Gitee
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

    fn credential(&self, _at: Instance<'_>, account: &str) -> CredentialShape {
        CredentialShape {
            base_url: self.web.clone(),
            api_url: Some(self.api()),
            git_username: Some(account.to_string()),
        }
    }
}

#[async_trait::async_trait]
impl RepoHost for Gitee {
    async fn repositories(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        search: &str,
        page: u32,
    ) -> Result<RepoPage, HostError> {
        let url = format!(
            "{}/user/repos?per_page={PER_PAGE}&page={page}&sort=updated&q={}",
            self.api(),
            query_encode(search)
        );
        let answer = http::get(self.app()?.http(), &url, Auth::Bearer(token))
            .await?
            .ok()?;
        let more = answer
            .header("total_count")
            .and_then(|t| t.trim().parse::<u32>().ok())
            .is_some_and(|total| page * PER_PAGE < total);
        let repos: Vec<GitHubStyleRepo> = answer.json()?;
        let items = repos
            .into_iter()
            .filter_map(GitHubStyleRepo::into_repository)
            .collect();
        Ok(super::repo_page(items, page, more))
    }

    async fn branches(
        &self,
        _at: Instance<'_>,
        token: &SecretString,
        repo: &RepoId,
    ) -> Result<Vec<Branch>, HostError> {
        let url = format!(
            "{}/repos/{}/branches?per_page=100",
            self.api(),
            repo.as_str()
        );
        let branches: Vec<NamedBranch> = http::get(self.app()?.http(), &url, Auth::Bearer(token))
            .await?
            .ok()?
            .json()?;
        Ok(github_style::mark_default(branches, None))
    }
}
