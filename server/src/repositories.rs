//! Repositories and branches of a tenant's bound account, for the UI and the build service.
//! Uses the same usable-token path as credentials (refreshing first when needed).

use crate::credentials::{CredentialError, Credentials};
use crate::oauth_flow::OAuthFlows;
use crate::providers::address::HostAddress;
use crate::providers::gitlab::{self, GitLabClient};
use crate::providers::net::OutboundPolicy;
use crate::providers::repos::RepoSource;
use app::api::{Branch, HostError, Provider, RepoPage};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("the code host answered: {0:?}")]
    Host(HostError),
}

pub struct Repositories {
    pub credentials: Arc<Credentials>,
    pub oauth: Arc<OAuthFlows>,
    pub policy: OutboundPolicy,
    pub timeout: Duration,
    pub gitee_url: String,
}

impl Repositories {
    pub async fn list(
        &self,
        tenant: &str,
        provider: Provider,
        search: &str,
        page: u32,
        request_id: &str,
    ) -> Result<RepoPage, RepoError> {
        // The token first (a refresh takes a slot of its own), then the listing in a slot.
        let source = self.source(tenant, provider, request_id).await?;
        self.oauth
            .limits()
            .run(tenant, source.repositories(search, page))
            .await
            .map_err(RepoError::Host)
    }

    pub async fn branches(
        &self,
        tenant: &str,
        provider: Provider,
        repo_id: &str,
        request_id: &str,
    ) -> Result<Vec<Branch>, RepoError> {
        let source = self.source(tenant, provider, request_id).await?;
        self.oauth
            .limits()
            .run(tenant, source.branches(repo_id))
            .await
            .map_err(RepoError::Host)
    }

    /// The binding's usable token with a client and API base for its code host.
    async fn source(
        &self,
        tenant: &str,
        provider: Provider,
        request_id: &str,
    ) -> Result<RepoSource, RepoError> {
        let (binding, token) = self
            .credentials
            .usable(tenant, provider, request_id)
            .await?;
        let (http, api) = self.client(
            provider,
            binding.address.as_deref(),
            binding.ca_pem.as_deref(),
        )?;
        Ok(RepoSource {
            provider,
            api,
            http,
            token,
        })
    }

    fn client(
        &self,
        provider: Provider,
        address: Option<&str>,
        ca: Option<&str>,
    ) -> Result<(reqwest::Client, String), RepoError> {
        match provider {
            Provider::GitLab => {
                let base = HostAddress::parse(address.unwrap_or(""))
                    .map_err(|_| RepoError::Host(HostError::NotGitLab))?;
                if let Some(ip) = gitlab::literal_ip(&base) {
                    self.policy
                        .check(ip)
                        .map_err(|_| RepoError::Host(HostError::AddressForbidden))?;
                }
                let ca = gitlab::parse_ca(ca).unwrap_or_default();
                let c = GitLabClient::new(self.policy, self.timeout, ca)
                    .map_err(|_| RepoError::Host(HostError::Unreachable))?;
                Ok((c.http().clone(), base.api("")))
            }
            Provider::GitHub | Provider::Gitee => {
                let app = self
                    .oauth
                    .app(provider)
                    .ok_or(RepoError::Host(HostError::Upstream { status: 501 }))?;
                let api = if provider == Provider::Gitee {
                    format!("{}/api/v5", self.gitee_url)
                } else {
                    app.api_base().to_string()
                };
                Ok((app.http().clone(), api))
            }
            Provider::DevCloud => Err(RepoError::Host(HostError::Upstream { status: 501 })),
        }
    }
}
