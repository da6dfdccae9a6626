//! Repositories and branches of a tenant's bound account, for the UI and the build service.
//! Uses the same usable-token path as credentials (refreshing first when needed), then the
//! host's [`RepoHost`](crate::hosts::RepoHost) within the tenant's outbound-call slots.

use crate::credentials::{CredentialError, Credentials};
use crate::host_calls::HostCalls;
use crate::hosts::{Instance, RepoHost, RepoId};
use app::api::{Branch, HostError, InputError, Provider, RepoPage};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("the code host answered: {0:?}")]
    Host(HostError),
    /// This code source has no repository listing (DevCloud).
    #[error("the code source lists no repositories")]
    Unsupported,
    #[error("invalid input: {0:?}")]
    Invalid(InputError),
}

/// The last page anyone may ask for (both APIs say so): page × page size stays far from
/// overflowing, and no account has that many repositories.
pub const MAX_PAGE: u32 = 10_000;

pub struct Repositories {
    pub credentials: Arc<Credentials>,
    pub calls: Arc<HostCalls>,
}

impl Repositories {
    /// Whether `provider`'s repositories can be listed at all.
    pub fn lists(&self, provider: Provider) -> bool {
        self.repo_host(provider).is_ok()
    }

    fn repo_host(&self, provider: Provider) -> Result<&dyn RepoHost, RepoError> {
        self.calls
            .host(provider)
            .repos()
            .ok_or(RepoError::Unsupported)
    }

    pub async fn list(
        &self,
        tenant: &str,
        provider: Provider,
        search: &str,
        page: u32,
        request_id: &str,
    ) -> Result<RepoPage, RepoError> {
        let repos = self.repo_host(provider)?;
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(RepoError::Invalid(InputError::InvalidArguments));
        }
        let search: String = search.chars().take(100).collect();
        // The token first (a refresh takes a slot of its own), then the listing in a slot.
        let (binding, token) = self
            .credentials
            .usable(tenant, provider, request_id)
            .await?;
        let listing = repos.repositories(Instance::of(&binding), &token, &search, page);
        self.calls
            .call(tenant, provider, listing)
            .await
            .map_err(RepoError::Host)
    }

    pub async fn branches(
        &self,
        tenant: &str,
        provider: Provider,
        repo: &RepoId,
        request_id: &str,
    ) -> Result<Vec<Branch>, RepoError> {
        let repos = self.repo_host(provider)?;
        let (binding, token) = self
            .credentials
            .usable(tenant, provider, request_id)
            .await?;
        let listing = repos.branches(Instance::of(&binding), &token, repo);
        self.calls
            .call(tenant, provider, listing)
            .await
            .map_err(RepoError::Host)
    }
}
