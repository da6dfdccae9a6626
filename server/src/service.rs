//! The code source service: what the server functions call. Takes the caller from the
//! identity middleware, validates input into typed values, talks to the code host, and reads
//! and writes the store. Internal failures are logged with their cause chain and reach the
//! user only as a request id.

use crate::config::Config;
use crate::crypto::Cipher;
use crate::health::Health;
use crate::host_calls::HostCalls;
use crate::hosts::oauth::{covers, Authorized};
use crate::hosts::CodeHost;
use crate::oauth_flow::OAuthFlows;
use crate::outbound::avatar;
use crate::outbound::policy::OutboundPolicy;
use crate::pending::Pending;
use crate::repositories::Repositories;
use crate::store::{aad, AuditEntry, AuditLog, BindingStore, PendingItem, Store};
use crate::util::now_secs;
use app::api::service::{Caller, CodeSourceService, TokenCheckInput};
use app::api::RepoPage;
use app::api::{ActivityAction, ActivityOutcome, ActivityPage, Branch};
use app::api::{ApiError, CodeSourceRow, HostError, PageData, PendingBinding, Provider, Viewer};
use std::sync::Arc;
use std::time::Duration;

pub struct CodeSources {
    repos: Arc<Repositories>,
    oauth: Arc<OAuthFlows>,
    /// Every call to a code host (`crate::host_calls`).
    calls: Arc<HostCalls>,
    health: Arc<Health>,
    health_interval: Option<Duration>,
    expiry_warning_days: i64,
    store: Arc<dyn BindingStore>,
    audit: Arc<dyn AuditLog>,
    cipher: Arc<Cipher>,
    pending: Pending,
    policy: OutboundPolicy,
    timeout: Duration,
    build_node_cidrs: Vec<String>,
    build_url: Option<String>,
    /// Our path prefix: avatar URLs handed to the page are under it.
    base_path: String,
    autobuild: Arc<crate::autobuild::AutoBuild>,
    /// What follows an unbind or a re-bind to another account (`crate::jobs`).
    cleanup: Arc<crate::jobs::Cleanup>,
    jobs: Arc<dyn crate::store::JobStore>,
    /// See `Config::stop_after_unbind_commit`.
    stop_after_unbind_commit: bool,
}

pub(crate) use crate::failures::{internal, store_failed};

mod activity;
mod autobuild;
mod avatars;
mod bind;
mod rebind;
mod repos;
mod rows;
mod unbind;

impl CodeSources {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: &Config,
        store: Arc<dyn Store>,
        cipher: Arc<Cipher>,
        oauth: Arc<OAuthFlows>,
        calls: Arc<HostCalls>,
        health: Arc<Health>,
        repos: Arc<Repositories>,
        autobuild: Arc<crate::autobuild::AutoBuild>,
        cleanup: Arc<crate::jobs::Cleanup>,
    ) -> Self {
        CodeSources {
            autobuild,
            cleanup,
            stop_after_unbind_commit: config.stop_after_unbind_commit,
            repos,
            oauth,
            calls,
            health,
            health_interval: config.health_interval,
            expiry_warning_days: config.expiry_warning_days,
            pending: Pending::new(store.clone(), config.pending_ttl),
            audit: store.clone(),
            jobs: store.clone(),
            store,
            cipher,
            policy: crate::hosts::outbound_policy(config),
            timeout: config.provider_timeout,
            build_url: config.build_url.clone(),
            base_path: config.base_path.clone(),
            build_node_cidrs: config
                .build_node_cidrs
                .iter()
                .map(|c| c.to_string())
                .collect(),
        }
    }

    fn host(&self, p: Provider) -> &dyn CodeHost {
        self.calls.host(p)
    }

    /// Keeps an OAuth authorization for the user's Confirm; returns the pending id.
    pub async fn add_authorized(
        &self,
        caller: &Caller,
        provider: Provider,
        a: Authorized,
        asked: &[&str],
    ) -> Result<app::api::PendingId, ApiError> {
        // A grant that cannot read repositories is refused, whatever the host (see
        // `OAuthSpec::repo_read_scopes`); only the other missing scopes are a warning.
        let needed: Vec<String> = self
            .oauth
            .repo_read_scopes(provider)
            .iter()
            .filter(|s| !covers(&a.scopes, s))
            .map(|s| s.to_string())
            .collect();
        if !needed.is_empty() {
            tracing::info!(request_id = %caller.request_id, provider = provider.as_str(), ?needed, "authorization refused: it cannot read repositories");
            return Err(ApiError::Host(HostError::MissingScopes { needed }));
        }
        let missing_scopes = asked
            .iter()
            .filter(|s| !covers(&a.scopes, s))
            .map(|s| s.to_string())
            .collect();
        let aad = aad(&caller.tenant, provider);
        let avatar = match avatar::client(&self.policy, self.timeout) {
            Ok(http) => {
                let host = self.host(provider);
                let url = a.account.avatar_url.as_deref().map(|u| host.avatar_url(u));
                self.fetch_avatar(caller, provider, &http, url.as_deref())
                    .await
            }
            Err(e) => {
                tracing::info!(request_id = %caller.request_id, error = %e, "no avatar: building the client failed");
                None
            }
        };
        let item = PendingItem {
            provider,
            avatar,
            account: a.account,
            address: None,
            ca_pem: None,
            scopes: a.scopes,
            scopes_unknown: false,
            expires_at: None,
            access_expires_at: a.expires_at,
            missing_scopes,
            token: self.cipher.seal(&a.access_token, &aad),
            refresh_token: a.refresh_token.as_ref().map(|r| self.cipher.seal(r, &aad)),
        };
        self.pending
            .insert(&caller.tenant, item)
            .await
            .map_err(|e| store_failed(caller, "keeping the authorization failed", &e))
    }
}

impl CodeSources {
    /// Records a user's action in the tenant's activity log (never a token).
    async fn record(
        &self,
        caller: &Caller,
        action: ActivityAction,
        provider: Provider,
        account: &str,
    ) {
        let entry = activity_entry(caller, action, provider, account);
        if let Err(e) = self.audit.append(entry).await {
            tracing::error!(request_id = %caller.request_id, error = %e, "writing the audit log failed");
        }
    }
}

/// A user's action as the activity log keeps it.
fn activity_entry(
    caller: &Caller,
    action: ActivityAction,
    provider: Provider,
    account: &str,
) -> AuditEntry {
    AuditEntry {
        at: now_secs(),
        tenant: caller.tenant.to_string(),
        actor: caller.user_id.clone(),
        // The name as the identity gave it then (the id itself when it had none).
        actor_name: Some(caller.user_name.trim())
            .filter(|n| !n.is_empty() && *n != caller.user_id)
            .map(str::to_string),
        action,
        provider: Some(provider),
        account: Some(account.to_string()),
        outcome: ActivityOutcome::Ok,
        request_id: caller.request_id.clone(),
    }
}

#[async_trait::async_trait]
impl CodeSourceService for CodeSources {
    async fn page(&self, caller: &Caller) -> Result<PageData, ApiError> {
        let stored = self
            .store
            .list(&caller.tenant)
            .await
            .map_err(|e| store_failed(caller, "listing bindings failed", &e))?;
        // A stale last check: look again in the background; the next load shows the result.
        if let Some(every) = self.health_interval {
            let stale = now_secs() - every.as_secs() as i64;
            if stored
                .iter()
                .any(|b| b.reauth_reason.is_none() && b.last_checked_at.is_none_or(|t| t < stale))
            {
                self.health.spawn_for_tenant(&caller.tenant);
            }
        }
        let rows = Provider::ALL
            .into_iter()
            .map(|p| self.row(caller, p, stored.iter().find(|b| b.provider == p)))
            .collect();
        Ok(PageData {
            viewer: Viewer {
                user_name: caller.user_name.clone(),
                tenant: caller.tenant.clone(),
                local_mode: caller.local_mode,
            },
            rows,
            build_node_cidrs: self.build_node_cidrs.clone(),
            build_url: self.build_url.clone(),
        })
    }

    async fn check_token(
        &self,
        caller: &Caller,
        input: TokenCheckInput,
    ) -> Result<PendingBinding, ApiError> {
        self.check_token_now(caller, input).await
    }

    async fn pending(
        &self,
        caller: &Caller,
        id: app::api::PendingId,
    ) -> Result<PendingBinding, ApiError> {
        let item = self
            .pending
            .peek(&caller.tenant, &id)
            .await
            .map_err(|e| store_failed(caller, "reading the pending binding failed", &e))?;
        item.map(|item| self.pending_view(&id, &item))
            .ok_or(ApiError::PendingExpired)
    }

    async fn latest_pending(
        &self,
        caller: &Caller,
        provider: Provider,
    ) -> Result<Option<PendingBinding>, ApiError> {
        let latest = self
            .pending
            .latest(&caller.tenant, provider)
            .await
            .map_err(|e| store_failed(caller, "reading the pending binding failed", &e))?;
        Ok(latest.map(|(id, item)| self.pending_view(&id, &item)))
    }

    async fn confirm(
        &self,
        caller: &Caller,
        pending_id: app::api::PendingId,
    ) -> Result<CodeSourceRow, ApiError> {
        self.confirm_now(caller, pending_id).await
    }

    async fn activity(
        &self,
        caller: &Caller,
        before: Option<String>,
    ) -> Result<ActivityPage, ApiError> {
        self.activity_page(caller, before).await
    }

    async fn repositories(
        &self,
        caller: &Caller,
        provider: Provider,
        search: String,
        page: u32,
    ) -> Result<RepoPage, ApiError> {
        let r = self
            .repos
            .list(&caller.tenant, provider, &search, page, &caller.request_id)
            .await;
        r.map_err(|e| repos::repo_error(caller, e))
    }

    async fn branches(
        &self,
        caller: &Caller,
        provider: Provider,
        repo_id: app::api::RepoId,
    ) -> Result<Vec<Branch>, ApiError> {
        let r = self
            .repos
            .branches(&caller.tenant, provider, &repo_id, &caller.request_id)
            .await;
        r.map_err(|e| repos::repo_error(caller, e))
    }

    async fn cancel(
        &self,
        caller: &Caller,
        pending_id: app::api::PendingId,
    ) -> Result<(), ApiError> {
        // Unknown or already-used ids are fine: the result is the same, nothing pending.
        self.pending
            .take(&caller.tenant, &pending_id)
            .await
            .map_err(|e| store_failed(caller, "cancelling the pending binding failed", &e))?;
        Ok(())
    }

    async fn unbind(
        &self,
        caller: &Caller,
        provider: Provider,
        revoke: bool,
    ) -> Result<app::api::Unbound, ApiError> {
        self.unbind_now(caller, provider, revoke).await
    }

    async fn auto_build_list(
        &self,
        caller: &Caller,
        provider: Provider,
    ) -> Result<Vec<app::api::AutoBuildView>, ApiError> {
        self.auto_build_list_now(caller, provider).await
    }

    async fn auto_build_enable(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: app::api::RepoId,
        filters: app::api::AutoBuildFilters,
        manual: bool,
    ) -> Result<app::api::AutoBuildEnabled, ApiError> {
        self.auto_build_enable_now(caller, provider, repo, filters, manual)
            .await
    }

    async fn auto_build_disable(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: app::api::RepoId,
    ) -> Result<(), ApiError> {
        self.auto_build_disable_now(caller, provider, repo).await
    }

    async fn auto_build_deliveries(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: app::api::RepoId,
    ) -> Result<Vec<app::api::DeliveryView>, ApiError> {
        self.auto_build_deliveries_now(caller, provider, repo).await
    }

    async fn auto_build_repair(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: app::api::RepoId,
    ) -> Result<app::api::AutoBuildRepaired, ApiError> {
        self.auto_build_repair_now(caller, provider, repo).await
    }

    async fn auto_build_build(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: app::api::RepoId,
        git_ref: app::api::BuildRef,
    ) -> Result<app::api::ManualBuildDone, ApiError> {
        self.auto_build_build_now(caller, provider, repo, git_ref)
            .await
    }

    async fn auto_build_rotate_secret(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: app::api::RepoId,
    ) -> Result<app::api::SecretRotated, ApiError> {
        self.auto_build_rotate_secret_now(caller, provider, repo)
            .await
    }
}
