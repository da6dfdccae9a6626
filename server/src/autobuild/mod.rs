//! Auto-build: a push to a bound repository becomes exactly one build event for the build
//! service. One path for every code host (the host-specific parts — hook API, signature,
//! payload — are each host's [`HookHost`](crate::hosts::hooks::HookHost)):
//!
//! - [`AutoBuild`] turns it on and off per repository: one webhook on the code host with a
//!   random secret of its own (sealed at rest), or manual setup when the grant cannot manage
//!   hooks; the registration is keyed by the host's stable repository id (see
//!   `docs/auto-build.md`).
//! - [`ingress`] receives deliveries: bounded, rate-limited, verified in constant time,
//!   filtered, de-duplicated and stored with their events in one write before the 2xx;
//!   [`confirm`] holds the pushes of hosts that do not sign the body until the host's API
//!   confirms them.
//! - [`feed`] hands events to the build service by cursor (long poll across replicas);
//!   [`push`] POSTs them to `CODESOURCE_BUILD_EVENTS_URL`, signed per Standard Webhooks.
//! - [`repair`] checks a registration at its code host and puts it right (a missing, disabled
//!   or duplicated hook, a renamed repository), on request and periodically ([`reconcile`]);
//!   [`manual`] builds a ref's latest commit; [`rotate`] gives hooks new secrets.

pub mod confirm;
pub mod feed;
pub mod filters;
pub mod ingress;
pub mod manual;
pub mod push;
mod rate;
pub mod reconcile;
pub mod repair;
pub mod rotate;

use crate::credentials::{CredentialError, Credentials};
use crate::crypto::Cipher;
use crate::host_calls::HostCalls;
use crate::hosts::hooks::{Hook, HookError, HookHost, HookSpec, RepoRef};
use crate::hosts::{Instance, RepoId};
use crate::secret::SecretString;
use crate::store::{hook_aad, AuditEntry, RegistrationKey, Store, StoreError, StoredRegistration};
use crate::util::{now_millis, now_secs};
use app::api::{
    ActivityAction, ActivityOutcome, AutoBuildFilters, AutoBuildStatus, AutoBuildView, HostError,
    ManualSetup, Provider,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use filters::Filters;
use rand::RngCore;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum AutoBuildError {
    /// The code source has no hook API here (DevCloud).
    #[error("auto-build is not available for this code source")]
    Unsupported,
    #[error("invalid filters: {0}")]
    InvalidFilters(&'static str),
    #[error("the repository id is not one a listing hands out")]
    InvalidRepository,
    #[error("auto-build is off for this repository")]
    NotEnabled,
    /// A manual build of a branch or tag the repository does not have.
    #[error("no such branch or tag")]
    RefNotFound,
    /// Another repair of the registration is running (here or on another replica).
    #[error("a repair of this registration is already running")]
    Busy,
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error("the code host refused managing hooks")]
    Hook(#[from] HookError),
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Who turns auto-build on or off (recorded in the activity log).
pub struct Actor<'a> {
    pub tenant: &'a str,
    /// The console user's id, or `build-service`.
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub request_id: &'a str,
}

/// What turning auto-build on produced.
pub struct Enabled {
    pub view: AutoBuildView,
    /// Manual setup: what to paste into the code host (the only time the secret is shown).
    pub manual: Option<ManualSetup>,
}

pub struct AutoBuild {
    store: Arc<dyn Store>,
    cipher: Arc<Cipher>,
    credentials: Arc<Credentials>,
    calls: Arc<HostCalls>,
    /// `CODESOURCE_WEBHOOK_URL` (or the public URL) with the base path: hooks deliver to
    /// `{webhook_base}/hooks/{rid}`.
    webhook_base: String,
    feed: Arc<feed::Feed>,
    /// Whether events also go to the push outbox (`CODESOURCE_BUILD_EVENTS_URL` is set).
    push: Option<Arc<push::Pusher>>,
    rate: rate::RateLimit,
}

/// Length of a hook secret and of a registration id, in random bytes.
const SECRET_BYTES: usize = 32;
const RID_BYTES: usize = 16;
/// How long the hook being replaced by a re-enable may still sign with the old secret.
const REPLACE_GRACE: std::time::Duration = std::time::Duration::from_secs(600);
/// Deliveries a repository's log shows.
const MAX_DELIVERIES_SHOWN: usize = 50;

/// Registration ids are [`RID_BYTES`] random bytes in unpadded base64url: anything else is
/// not ours.
pub fn plausible_rid(rid: &str) -> bool {
    rid.len() == 22
        && rid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn random_b64(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    B64URL.encode(b)
}

impl AutoBuild {
    pub fn new(
        store: Arc<dyn Store>,
        cipher: Arc<Cipher>,
        credentials: Arc<Credentials>,
        calls: Arc<HostCalls>,
        webhook_base: String,
        feed: Arc<feed::Feed>,
        push: Option<Arc<push::Pusher>>,
    ) -> Self {
        AutoBuild {
            store,
            cipher,
            credentials,
            calls,
            webhook_base: webhook_base.trim_end_matches('/').to_string(),
            feed,
            push,
            rate: rate::RateLimit::default(),
        }
    }

    /// The newest deliveries of a repository with auto-build, newest first.
    pub async fn deliveries(
        &self,
        tenant: &str,
        provider: Provider,
        repo: &str,
    ) -> Result<Vec<crate::store::DeliveryLogEntry>, AutoBuildError> {
        let reg = self
            .find(tenant, provider, repo)
            .await?
            .ok_or(AutoBuildError::NotEnabled)?;
        Ok(self
            .store
            .deliveries(&reg.rid, MAX_DELIVERIES_SHOWN)
            .await?)
    }

    /// Events waiting in the push outbox (metrics).
    pub async fn outbox_counts(&self) -> Result<crate::store::OutboxCounts, StoreError> {
        if self.push.is_none() {
            return Ok(Default::default());
        }
        self.store.outbox_counts().await
    }

    /// Pushes held until their code host confirms them (metrics).
    pub async fn held_push_count(&self) -> Result<u64, StoreError> {
        self.store.held_push_count().await
    }

    pub fn feed(&self) -> &Arc<feed::Feed> {
        &self.feed
    }

    /// Whether `provider` can auto-build at all.
    pub fn supports(&self, provider: Provider) -> bool {
        self.calls.host(provider).hooks().is_some()
    }

    /// The provider's webhooks, each call recorded (`HostCalls::hooks`).
    fn hook_host(
        &self,
        provider: Provider,
    ) -> Result<crate::host_calls::RecordedHooks<'_>, AutoBuildError> {
        self.calls
            .hooks(provider)
            .ok_or(AutoBuildError::Unsupported)
    }

    pub fn webhook_url(&self, rid: &str) -> String {
        format!("{}/hooks/{rid}", self.webhook_base)
    }

    fn view(&self, r: &StoredRegistration) -> AutoBuildView {
        AutoBuildView {
            repository: r.listing_id.clone(),
            repository_id: r.key.repo_id.clone(),
            full_name: r.full_name.clone(),
            status: status_of(r),
            fix: status_of(r).fix(),
            checked_at: r.checked_at_ms,
            branches: r.branches.clone(),
            tags: r.tags.clone(),
            webhook_url: self.webhook_url(&r.rid),
            created_at: r.created_at,
            last_delivery_at: r.last_delivery_at,
        }
    }

    /// The registration of `repo` (the listing's id, or the host's stable id) under the
    /// tenant's bound account, if auto-build is on.
    async fn find(
        &self,
        tenant: &str,
        provider: Provider,
        repo: &str,
    ) -> Result<Option<StoredRegistration>, AutoBuildError> {
        self.hook_host(provider)?;
        let Some(binding) = self.store.get(tenant, provider).await? else {
            return Err(CredentialError::NotBound.into());
        };
        Ok(self
            .store
            .registrations(tenant, Some(provider))
            .await?
            .into_iter()
            .find(|r| {
                r.key.account == binding.account.login
                    && (r.listing_id == repo || r.key.repo_id == repo)
            }))
    }

    /// The tenant's registrations of `provider` (the repositories view marks them).
    pub async fn list(
        &self,
        tenant: &str,
        provider: Provider,
    ) -> Result<Vec<AutoBuildView>, AutoBuildError> {
        self.hook_host(provider)?;
        Ok(self
            .store
            .registrations(tenant, Some(provider))
            .await?
            .iter()
            .map(|r| self.view(r))
            .collect())
    }

    pub async fn get(
        &self,
        tenant: &str,
        provider: Provider,
        repo: &str,
    ) -> Result<AutoBuildView, AutoBuildError> {
        self.find(tenant, provider, repo)
            .await?
            .map(|r| self.view(&r))
            .ok_or(AutoBuildError::NotEnabled)
    }

    /// Turns auto-build on (or changes its filters): registers one hook with a new secret,
    /// removing any hook of this registration left on the repository first, so turning it on
    /// twice never leaves two. `manual`: register nothing on the host; the answer carries what
    /// to paste into its settings. A refusal leaves nothing registered or stored.
    pub async fn enable(
        &self,
        actor: &Actor<'_>,
        provider: Provider,
        repo: &str,
        filters: &AutoBuildFilters,
        manual: bool,
    ) -> Result<Enabled, AutoBuildError> {
        let hooks = self.hook_host(provider)?;
        let hooks: &dyn HookHost = &hooks;
        let filters = Filters::parse(filters)?;
        let listing_id = RepoId::parse(repo).map_err(|_| AutoBuildError::InvalidRepository)?;
        let (binding, token) = self
            .credentials
            .usable(actor.tenant, provider, actor.request_id)
            .await?;
        let at = Instance::of(&binding);
        let result = self
            .register(
                actor,
                provider,
                hooks,
                at,
                &token,
                &binding.account.login,
                &listing_id,
                &filters,
                manual,
            )
            .await;
        let outcome = match &result {
            Ok(_) => ActivityOutcome::Ok,
            Err(AutoBuildError::Hook(e)) => ActivityOutcome::Failed(Some(hook_host_error(e))),
            Err(_) => ActivityOutcome::Failed(None),
        };
        self.audit(
            actor,
            provider,
            &binding.account.login,
            ActivityAction::AutoBuildEnabled,
            outcome,
        )
        .await;
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn register(
        &self,
        actor: &Actor<'_>,
        provider: Provider,
        hooks: &dyn HookHost,
        at: Instance<'_>,
        token: &SecretString,
        account: &str,
        listing_id: &RepoId,
        filters: &Filters,
        manual: bool,
    ) -> Result<Enabled, AutoBuildError> {
        let (repo, clone_url) = {
            let _slot = self.slot(actor.tenant).await?;
            hooks.repository(at, token, listing_id).await?
        };
        let key = RegistrationKey {
            tenant: actor.tenant.to_string(),
            provider,
            account: account.to_string(),
            repo_id: repo.stable_id.clone(),
        };
        let existing = self.store.registration(&key).await?;
        // The same URL on re-enabling: a hook the host still has for it is found and replaced.
        let rid = existing
            .as_ref()
            .map(|r| r.rid.clone())
            .unwrap_or_else(|| random_b64(RID_BYTES));
        let url = self.webhook_url(&rid);
        let secret = SecretString::new(random_b64(SECRET_BYTES));
        let mut record = StoredRegistration {
            v: crate::store::RECORD_VERSION,
            rid: rid.clone(),
            key,
            full_name: repo.full_name.clone(),
            listing_id: listing_id.as_str().to_string(),
            clone_url,
            branches: filters.branches().to_vec(),
            tags: filters.tags().to_vec(),
            hook_id: existing.as_ref().and_then(|r| r.hook_id.clone()),
            secret: self.cipher.seal(&secret, &hook_aad(&rid)),
            // The hook being replaced signs with the old secret until it is gone.
            previous_secret: existing.as_ref().map(|r| r.secret.clone()),
            previous_until_ms: existing
                .as_ref()
                .map(|_| now_millis() + REPLACE_GRACE.as_millis() as i64),
            created_at: now_secs(),
            created_by: actor.id.to_string(),
            last_delivery_at: existing.as_ref().and_then(|r| r.last_delivery_at),
            // Just made: what it is now, until a check says otherwise.
            status: None,
            checked_at_ms: None,
            orphaned: false,
        };
        // Stored before the hook exists: GitHub pings a new hook at once, and the ping must
        // find its registration. Undone below if the host refuses.
        self.store.put_registration(&record).await?;
        if !manual {
            match self
                .replace_hook(actor.tenant, hooks, at, token, &repo, &url, &secret)
                .await
            {
                Ok(hook) => record.hook_id = Some(hook.id),
                Err(e) => {
                    self.undo(existing.as_ref(), &record).await;
                    return Err(e);
                }
            }
        } else {
            // Switching to manual setup: the hook we registered goes, or it would keep
            // delivering with a secret nobody has any more.
            if record.hook_id.take().is_some() {
                let _slot = self.slot(actor.tenant).await?;
                if let Err(e) = remove_ours(hooks, at, token, &repo, &url).await {
                    self.undo(existing.as_ref(), &record).await;
                    return Err(e);
                }
            }
        }
        if let Err(e) = self.store.put_registration(&record).await {
            // Nothing half-registered: the hook we just made goes again.
            if let Some(id) = &record.hook_id {
                let _slot = self.slot(actor.tenant).await;
                if let Err(undo) = hooks.delete_hook(at, token, &repo, id).await {
                    tracing::warn!(request_id = actor.request_id, error = %undo, "removing a hook after the store failed also failed");
                }
            }
            self.undo(existing.as_ref(), &record).await;
            return Err(e.into());
        }
        let manual = manual.then(|| ManualSetup {
            payload_url: url,
            secret: secret.expose().to_string(),
            content_type: "application/json".into(),
            events: manual_events(provider)
                .iter()
                .map(|s| s.to_string())
                .collect(),
            settings_url: hooks.hooks_settings_url(at, &repo),
        });
        Ok(Enabled {
            view: self.view(&record),
            manual,
        })
    }

    /// Puts back what was stored before a failed enable: the earlier registration, or none.
    async fn undo(&self, existing: Option<&StoredRegistration>, attempted: &StoredRegistration) {
        let restored = match existing {
            Some(old) => self.store.put_registration(old).await.map(|_| ()),
            None => self
                .store
                .delete_registration(&attempted.key)
                .await
                .map(|_| ()),
        };
        if let Err(e) = restored {
            tracing::warn!(rid = %attempted.rid, error = %crate::util::chain(&e), "auto-build: undoing a failed enable failed");
        }
    }

    /// Removes our hooks with `url` from the repository, then creates one.
    #[allow(clippy::too_many_arguments)]
    async fn replace_hook(
        &self,
        tenant: &str,
        hooks: &dyn HookHost,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        url: &str,
        secret: &SecretString,
    ) -> Result<Hook, AutoBuildError> {
        let _slot = self.slot(tenant).await?;
        remove_ours(hooks, at, token, repo, url).await?;
        Ok(hooks
            .create_hook(at, token, repo, HookSpec { url, secret })
            .await?)
    }

    /// Turns auto-build off: our hook is removed from the code host, then the registration.
    /// A hook the host no longer has is fine; one the host refuses to remove keeps the
    /// registration, so the call can be repeated (nothing is left behind unknown).
    pub async fn disable(
        &self,
        actor: &Actor<'_>,
        provider: Provider,
        repo: &str,
    ) -> Result<(), AutoBuildError> {
        let hooks = self.hook_host(provider)?;
        let hooks: &dyn HookHost = &hooks;
        let reg = self
            .find(actor.tenant, provider, repo)
            .await?
            .ok_or(AutoBuildError::NotEnabled)?;
        let result = async {
            if let Some(hook_id) = &reg.hook_id {
                let (binding, token) = self
                    .credentials
                    .usable(actor.tenant, provider, actor.request_id)
                    .await?;
                let repo_ref = RepoRef {
                    stable_id: reg.key.repo_id.clone(),
                    full_name: reg.full_name.clone(),
                };
                let _slot = self.slot(actor.tenant).await?;
                match hooks
                    .delete_hook(Instance::of(&binding), &token, &repo_ref, hook_id)
                    .await
                {
                    Ok(()) | Err(HookError::RepoNotFound) => {}
                    Err(e) => return Err(AutoBuildError::Hook(e)),
                }
            }
            self.store.delete_registration(&reg.key).await?;
            Ok(())
        }
        .await;
        let outcome = match &result {
            Ok(()) => ActivityOutcome::Ok,
            Err(AutoBuildError::Hook(e)) => ActivityOutcome::Failed(Some(hook_host_error(e))),
            Err(_) => ActivityOutcome::Failed(None),
        };
        self.audit(
            actor,
            provider,
            &reg.key.account,
            ActivityAction::AutoBuildDisabled,
            outcome,
        )
        .await;
        result
    }

    /// One of the tenant's outbound-call slots (shared with every other call to a code host).
    async fn slot(&self, tenant: &str) -> Result<crate::outbound::limits::Slot, AutoBuildError> {
        self.calls
            .slot(tenant)
            .await
            .map_err(|e| AutoBuildError::Hook(HookError::Host(e)))
    }

    async fn audit(
        &self,
        actor: &Actor<'_>,
        provider: Provider,
        account: &str,
        action: ActivityAction,
        outcome: ActivityOutcome,
    ) {
        let entry = AuditEntry {
            at: now_secs(),
            tenant: actor.tenant.to_string(),
            actor: actor.id.to_string(),
            actor_name: actor.name.map(str::to_string),
            action,
            provider: Some(provider),
            account: Some(account.to_string()),
            outcome,
            request_id: actor.request_id.to_string(),
        };
        if let Err(e) = self.store.append(entry).await {
            tracing::error!(request_id = actor.request_id, error = %crate::util::chain(&e), "writing the activity log failed");
        }
    }
}

/// Deletes every hook of this registration from the repository: the one at `url`, and one
/// left at an earlier webhook address (`CODESOURCE_WEBHOOK_URL` changed) with the same
/// registration id, which no other registration can have.
async fn remove_ours(
    hooks: &dyn HookHost,
    at: Instance<'_>,
    token: &SecretString,
    repo: &RepoRef,
    url: &str,
) -> Result<(), AutoBuildError> {
    let rid_path = url.rfind("/hooks/").map(|i| &url[i..]).unwrap_or(url);
    for old in hooks.list_hooks(at, token, repo).await? {
        if old.url == url || old.url.ends_with(rid_path) {
            hooks.delete_hook(at, token, repo, &old.id).await?;
        }
    }
    Ok(())
}

/// Where a registration stands: what the last check found, else what turning it on made.
fn status_of(r: &StoredRegistration) -> AutoBuildStatus {
    r.status.unwrap_or(if r.hook_id.is_some() {
        AutoBuildStatus::Active
    } else {
        AutoBuildStatus::ManualSetup
    })
}

/// What a hook refusal means for the activity log's outcome.
fn hook_host_error(e: &HookError) -> HostError {
    match e {
        HookError::MissingScope { needed } => HostError::InsufficientScope {
            scopes: needed.clone(),
        },
        HookError::NotAdmin => HostError::InsufficientScope { scopes: Vec::new() },
        HookError::RepoNotFound => HostError::Upstream { status: 404 },
        HookError::LimitReached => HostError::Upstream { status: 422 },
        HookError::Host(h) => h.clone(),
    }
}

/// The events to tick when adding the hook by hand, in each host's own words.
fn manual_events(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::GitHub => &["Just the push event (push)"],
        Provider::GitLab => &["Push events", "Tag push events"],
        Provider::Gitee => &["Push", "Tag Push"],
        Provider::Bitbucket => &["Repository: Push"],
        Provider::Gitea => &["Push", "Create"],
        Provider::DevCloud => &[],
    }
}
