//! GitLab (gitlab.com or self-managed, by address): a personal access token checked with
//! `GET /api/v4/user` and `/personal_access_tokens/self` (see `token`), revoked on
//! request, projects the account is a member of (searched upstream, `Link` pagination), git
//! user `oauth2`. Webhooks: `hooks`.

mod hooks;
mod token;

use super::hooks::HookHost;
use super::{AccessTokenHost, CodeHost, CredentialShape, Instance, Outbound, RepoHost, RepoId};
use super::{TokenCheck, PER_PAGE};
use crate::config::HostConfig;
use crate::outbound::address::HostAddress;
use crate::outbound::http::{self, Auth};
use crate::outbound::instance::InstanceClient;
use crate::secret::SecretString;
use crate::util::query_encode;
use app::api::{BindMethod, Branch, HostError, HostInfo, Provider, RepoPage, Repository};
use app::api::{Revocation, RevocationPolicy};
use serde::Deserialize;
use token as api;

pub struct GitLab {
    default_address: String,
    out: Outbound,
}

impl GitLab {
    pub fn new(c: &HostConfig, out: Outbound) -> Self {
        GitLab {
            default_address: c.url_or("https://gitlab.com"),
            out,
        }
    }
}

#[async_trait::async_trait]
impl CodeHost for GitLab {
    fn provider(&self) -> Provider {
        Provider::GitLab
    }

    fn info(&self) -> HostInfo {
        HostInfo {
            provider: Provider::GitLab,
            bind: BindMethod::AccessToken,
            revocation: RevocationPolicy::Optional,
            default_address: Some(self.default_address.clone()),
            scopes: vec!["read_repository".into(), "read_api".into()],
            repositories: true,
        }
    }

    fn access_token(&self) -> Option<&dyn AccessTokenHost> {
        Some(self)
    }

    fn repos(&self) -> Option<&dyn RepoHost> {
        Some(self)
    }

    fn hooks(&self) -> Option<&dyn HookHost> {
        Some(self)
    }

    async fn validate(&self, at: Instance<'_>, token: &SecretString) -> Result<(), HostError> {
        super::validate_token(&self.out, self, at, token).await
    }

    /// `DELETE /personal_access_tokens/self`: the token stops working everywhere.
    async fn revoke(
        &self,
        at: Instance<'_>,
        token: &SecretString,
    ) -> Result<Revocation, HostError> {
        let (address, client) = self.out.instance(at)?;
        api::GitLab(&client).revoke(&address, token).await?;
        Ok(Revocation::Revoked)
    }

    fn credential(&self, at: Instance<'_>, _account: &str) -> CredentialShape {
        let base = at.address.unwrap_or_default().to_string();
        CredentialShape {
            api_url: Some(format!("{base}/api/v4")),
            base_url: base,
            git_username: Some("oauth2".into()),
        }
    }
}

#[async_trait::async_trait]
impl AccessTokenHost for GitLab {
    async fn check(
        &self,
        client: &InstanceClient,
        address: &HostAddress,
        token: &SecretString,
    ) -> Result<TokenCheck, HostError> {
        api::GitLab(client).check(address, token).await
    }
}

#[derive(Deserialize)]
struct Project {
    id: u64,
    path_with_namespace: String,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    web_url: Option<String>,
    #[serde(default)]
    default_branch: Option<String>,
}

#[derive(Deserialize)]
struct GitLabBranch {
    name: String,
    #[serde(default)]
    default: bool,
}

#[async_trait::async_trait]
impl RepoHost for GitLab {
    async fn repositories(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        search: &str,
        page: u32,
    ) -> Result<RepoPage, HostError> {
        let (address, client) = self.out.instance(at)?;
        let url = address.api(&format!(
            "/projects?membership=true&simple=true&per_page={PER_PAGE}&page={page}&search={}",
            query_encode(search)
        ));
        let answer = http::get(client.http(), &url, Auth::PrivateToken(token))
            .await?
            .ok()?;
        let projects: Vec<Project> = answer.json()?;
        let items = projects
            .into_iter()
            .filter_map(|p| {
                Some(Repository {
                    // Branches are asked for by project id.
                    id: super::listed_id(&p.id.to_string())?,
                    stable_id: p.id.to_string(),
                    private: p.visibility.as_deref() != Some("public"),
                    web_url: p.web_url.filter(|u| app::api::safe_http_url(u).is_some()),
                    default_branch: p.default_branch,
                    full_name: p.path_with_namespace,
                })
            })
            .collect();
        Ok(super::repo_page(items, page, answer.has_next_link()))
    }

    async fn branches(
        &self,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoId,
    ) -> Result<Vec<Branch>, HostError> {
        let (address, client) = self.out.instance(at)?;
        let url = address.api(&format!(
            "/projects/{}/repository/branches?per_page=100",
            query_encode(repo.as_str())
        ));
        let branches: Vec<GitLabBranch> = http::get(client.http(), &url, Auth::PrivateToken(token))
            .await?
            .ok()?
            .json()?;
        Ok(branches
            .into_iter()
            .map(|b| Branch {
                name: b.name,
                default: b.default,
            })
            .collect())
    }
}
