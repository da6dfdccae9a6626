//! Repair: one registration checked at its code host with the bound token, and put right
//! (issue #23). The repository is looked up by its stable id, so a rename or a transfer is
//! followed (the name is what most hosts' hook paths use) and a repository that no longer
//! exists under that id is marked gone. Then our hooks (those delivering to this
//! registration's URL) are listed: a missing one is created again with the registration's
//! secret, one the host disabled is replaced by a new one (hosts have no common "re-enable",
//! and a new hook starts with a clean failure count), and duplicates are removed, as are
//! strays: hooks at our ingress that no registration owns any more. What was found is stored
//! on the registration (`status`, `checked_at_ms`) and shown as its status.
//!
//! Two checks of one registration never run at once, on any replica: each holds the lease
//! `autobuild-repair/{rid}` ([`crate::store::Leases`]) while it talks to the host.

use super::{status_of, AutoBuild, AutoBuildError};
use crate::credentials::CredentialError;
use crate::hosts::hooks::{Hook, HookError, HookHost, HookSpec, RepoRef};
use crate::hosts::Instance;
use crate::store::{hook_aad, RegistrationKey, StoredRegistration};
use crate::util::now_millis;
use app::api::{AutoBuildStatus, AutoBuildView, HostError, Provider};

/// How long a check may hold its registration's lease: a handful of calls with the provider
/// timeout each; a replica that dies mid-check only delays the next one by this much.
const LEASE: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Attempts at storing what a check found over concurrent writes (deliveries touch the
/// record's `last_delivery_at`).
const STORE_ATTEMPTS: usize = 3;

/// What a check changed at the code host or in the record (a wire type: the page shows it).
pub use app::api::RepairChange;

/// The outcome of one check.
#[derive(Debug)]
pub struct Repair {
    /// What the check found before changing anything.
    pub found: Found,
    pub changes: Vec<RepairChange>,
    /// The registration as stored afterwards.
    pub registration: StoredRegistration,
}

/// What a check found at the code host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Everything in place.
    Fine,
    /// Manual setup: the hook is the user's, only the repository is checked.
    Manual,
    HookMissing,
    HookDisabled,
    NoPermission,
    Unreachable,
    RepositoryGone,
}

impl Found {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Found::Fine => "fine",
            Found::Manual => "manual",
            Found::HookMissing => "hook_missing",
            Found::HookDisabled => "hook_disabled",
            Found::NoPermission => "no_permission",
            Found::Unreachable => "unreachable",
            Found::RepositoryGone => "repository_gone",
        }
    }

    /// What a refusal of the host says about the registration; `None`: nothing (a rate
    /// limit says "later", not "broken").
    fn from_error(e: &HookError) -> Option<Found> {
        match e {
            HookError::MissingScope { .. } | HookError::NotAdmin => Some(Found::NoPermission),
            HookError::RepoNotFound => Some(Found::RepositoryGone),
            HookError::Host(HostError::RateLimited { .. }) => None,
            HookError::Host(h) if is_token_problem(h) => Some(Found::NoPermission),
            HookError::Host(_) => Some(Found::Unreachable),
            // Only creating a hook can hit the limit: the hook stays missing.
            HookError::LimitReached => Some(Found::HookMissing),
        }
    }
}

/// The host refused the token itself (the binding's health check will say so too).
fn is_token_problem(h: &HostError) -> bool {
    app::api::ReauthReason::from_host_error(h).is_some()
}

/// The status a registration shows after a check: what is wrong now (after the repairs).
fn status_after(found: Found, fixed: bool, manual: bool) -> AutoBuildStatus {
    match found {
        Found::Fine => AutoBuildStatus::Active,
        Found::Manual => AutoBuildStatus::ManualSetup,
        Found::HookMissing | Found::HookDisabled if fixed => AutoBuildStatus::Active,
        Found::HookMissing => AutoBuildStatus::HookMissing,
        Found::HookDisabled => AutoBuildStatus::HookDisabled,
        Found::NoPermission if manual => AutoBuildStatus::ManualSetup,
        Found::NoPermission => AutoBuildStatus::NoPermission,
        Found::Unreachable => AutoBuildStatus::HostUnreachable,
        Found::RepositoryGone => AutoBuildStatus::RepositoryGone,
    }
}

impl AutoBuild {
    /// `POST …/auto-build/repair`: checks the registration now and puts it right. The answer
    /// is the registration with its new status, what was found and what changed; a hook the
    /// host refuses to create (its hook limit) is that typed error, with the status stored.
    pub async fn repair(
        &self,
        actor: &super::Actor<'_>,
        provider: Provider,
        repo: &str,
    ) -> Result<(AutoBuildView, Repair), AutoBuildError> {
        let reg = self
            .find(actor.tenant, provider, repo)
            .await?
            .ok_or(AutoBuildError::NotEnabled)?;
        let result = self.check_leased(&reg, actor.request_id, &|_| true).await;
        let outcome = match &result {
            Ok((r, None)) if status_of(&r.registration).is_healthy() => {
                app::api::ActivityOutcome::Ok
            }
            Ok((_, Some(e))) => app::api::ActivityOutcome::Failed(Some(super::hook_host_error(e))),
            Ok(_) => app::api::ActivityOutcome::Failed(None),
            Err(AutoBuildError::Hook(e)) => {
                app::api::ActivityOutcome::Failed(Some(super::hook_host_error(e)))
            }
            Err(_) => app::api::ActivityOutcome::Failed(None),
        };
        self.audit(
            actor,
            provider,
            &reg.key.account,
            app::api::ActivityAction::AutoBuildRepaired,
            outcome,
        )
        .await;
        match result? {
            // The hook limit stops a repair: the caller is told, typed (the status is stored).
            (_, Some(HookError::LimitReached)) => Err(HookError::LimitReached.into()),
            (r, _) => Ok((self.view(&r.registration), r)),
        }
    }

    /// Checks under the registration's lease. `Ok((_, Some(e)))`: stored, and `e` is the
    /// refusal that decided the status.
    /// The registration is read again once the lease is held; `still_wanted` may decline it
    /// then (a periodic pass: another replica has just checked it), as [`AutoBuildError::Busy`].
    pub(super) async fn check_leased(
        &self,
        reg: &StoredRegistration,
        request_id: &str,
        still_wanted: &(dyn Fn(&StoredRegistration) -> bool + Sync),
    ) -> Result<(Repair, Option<HookError>), AutoBuildError> {
        let name = format!("autobuild-repair/{}", reg.rid);
        let holder = super::random_b64(12);
        if !self.store.try_lease(&name, &holder, LEASE).await? {
            return Err(AutoBuildError::Busy);
        }
        let result = match self.store.registration(&reg.key).await {
            Ok(Some(now)) if now.rid == reg.rid && still_wanted(&now) => {
                self.check(&now, request_id).await
            }
            Ok(Some(now)) if now.rid == reg.rid => Err(AutoBuildError::Busy),
            Ok(_) => Err(AutoBuildError::NotEnabled),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = self.store.release_lease(&name, &holder).await {
            tracing::info!(rid = %reg.rid, error = %crate::util::chain(&e), "repair: releasing the lease failed (it expires)");
        }
        result
    }

    /// One check, without the lease. A rate limit, a token that cannot be used or a store
    /// failure is an error (nothing stored); any other refusal is a verdict, stored.
    async fn check(
        &self,
        reg: &StoredRegistration,
        request_id: &str,
    ) -> Result<(Repair, Option<HookError>), AutoBuildError> {
        let provider = reg.key.provider;
        let hooks = self.hook_host(provider)?;
        let hooks: &dyn HookHost = &hooks;
        let (binding, token) = self
            .credentials
            .usable(&reg.key.tenant, provider, request_id)
            .await?;
        if binding.account.login != reg.key.account {
            // Another account is bound now: its token cannot speak for this registration.
            return Err(CredentialError::NotBound.into());
        }
        let at = Instance::of(&binding);
        let mut work = Work {
            repo: RepoRef {
                stable_id: reg.key.repo_id.clone(),
                full_name: reg.full_name.clone(),
            },
            clone_url: reg.clone_url.clone(),
            hook_id: reg.hook_id.clone(),
            changes: Vec::new(),
        };
        let verdict = {
            let _slot = self.slot(&reg.key.tenant).await?;
            self.inspect(reg, hooks, at, &token, &mut work).await
        };
        let (found, fixed, refusal) = match verdict {
            Ok((found, fixed)) => (found, fixed, None),
            Err(e) => match Found::from_error(&e) {
                Some(found) => (found, false, Some(e)),
                None => return Err(e.into()),
            },
        };
        crate::metrics::metrics().reconciled(provider.as_str(), found.label());
        let status = status_after(found, fixed, reg.hook_id.is_none());
        let stored = self.store_check(&reg.key, &reg.rid, &work, status).await?;
        Ok((
            Repair {
                found,
                changes: work.changes,
                registration: stored,
            },
            refusal,
        ))
    }

    /// Looks at the host and repairs what it can; `(found, fixed)`.
    async fn inspect(
        &self,
        reg: &StoredRegistration,
        hooks: &dyn HookHost,
        at: Instance<'_>,
        token: &crate::secret::SecretString,
        work: &mut Work,
    ) -> Result<(Found, bool), HookError> {
        let (now, clone_url) = hooks.repository_by_id(at, token, &work.repo).await?;
        if now.stable_id != work.repo.stable_id {
            // An id lookup that answers another repository: not the one registered.
            return Ok((Found::RepositoryGone, false));
        }
        if now.full_name != work.repo.full_name {
            work.changes.push(RepairChange::Renamed);
            work.repo.full_name = now.full_name;
        }
        if clone_url.is_some() {
            work.clone_url = clone_url;
        }
        if reg.hook_id.is_none() {
            return Ok((Found::Manual, false));
        }
        let url = self.webhook_url(&reg.rid);
        let mut ours: Vec<Hook> = Vec::new();
        for hook in hooks.list_hooks(at, token, &work.repo).await? {
            if hook.url == url {
                ours.push(hook);
            } else if self.is_stray(&reg.rid, &hook.url).await {
                hooks.delete_hook(at, token, &work.repo, &hook.id).await?;
                work.changes.push(RepairChange::StrayRemoved);
            }
        }
        let keep = ours
            .iter()
            .filter(|h| h.active)
            .max_by_key(|h| Some(&h.id) == reg.hook_id.as_ref())
            .cloned();
        let found = match (&keep, ours.is_empty()) {
            (Some(_), _) => Found::Fine,
            (None, true) => Found::HookMissing,
            (None, false) => Found::HookDisabled,
        };
        for extra in ours
            .iter()
            .filter(|h| Some(&h.id) != keep.as_ref().map(|k| &k.id))
        {
            hooks.delete_hook(at, token, &work.repo, &extra.id).await?;
            if extra.active {
                work.changes.push(RepairChange::DuplicateRemoved);
            }
        }
        if let Some(k) = keep {
            work.hook_id = Some(k.id);
            return Ok((found, false));
        }
        let secret = self
            .cipher
            .open(&reg.secret, &hook_aad(&reg.rid))
            .map_err(|_| HookError::Host(HostError::UnexpectedAnswer))?;
        let created = hooks
            .create_hook(
                at,
                token,
                &work.repo,
                HookSpec {
                    url: &url,
                    secret: &secret,
                },
            )
            .await?;
        work.hook_id = Some(created.id);
        work.changes.push(match found {
            Found::HookDisabled => RepairChange::DisabledHookReplaced,
            _ => RepairChange::HookCreated,
        });
        Ok((found, true))
    }

    /// Whether a hook at `hook_url` (not this registration's URL) points at our ingress on
    /// behalf of no registration: this one's at an earlier webhook address
    /// (`CODESOURCE_WEBHOOK_URL` changed), or a registration id that no longer exists (turned
    /// off or dismissed while the host kept the hook). Its deliveries can only be refused, and
    /// it counts towards the host's hook limit. A hook of another registration (another
    /// tenant's, or another repository's) is not one; when the store cannot say, it is kept.
    async fn is_stray(&self, rid: &str, hook_url: &str) -> bool {
        let Some((base, other)) = hook_url.rsplit_once("/hooks/") else {
            return false;
        };
        if other == rid {
            return true;
        }
        if base != self.webhook_base || !super::plausible_rid(other) {
            return false;
        }
        match self.store.registration_by_rid(other).await {
            Ok(found) => found.is_none(),
            Err(e) => {
                tracing::info!(error = %crate::util::chain(&e), "repair: could not tell whether a hook at our ingress is a stray; kept");
                false
            }
        }
    }

    /// Writes what a check found over the record as it is now (a delivery may have touched
    /// it meanwhile); a registration turned off or replaced meanwhile is left alone.
    async fn store_check(
        &self,
        key: &RegistrationKey,
        rid: &str,
        work: &Work,
        status: AutoBuildStatus,
    ) -> Result<StoredRegistration, AutoBuildError> {
        for _ in 0..STORE_ATTEMPTS {
            let Some(current) = self.store.registration(key).await? else {
                return Err(AutoBuildError::NotEnabled);
            };
            if current.rid != rid {
                return Err(AutoBuildError::NotEnabled);
            }
            let mut next = current.clone();
            if next.listing_id == next.full_name {
                // Hosts whose listings name repositories by their full name.
                next.listing_id = work.repo.full_name.clone();
            }
            next.full_name = work.repo.full_name.clone();
            next.clone_url = work.clone_url.clone();
            if next.hook_id.is_some() {
                next.hook_id = work.hook_id.clone();
            }
            next.status = Some(status);
            next.checked_at_ms = Some(now_millis());
            if self.store.replace_registration(&current, &next).await? {
                return Ok(next);
            }
        }
        Err(AutoBuildError::Busy)
    }
}

/// What a check learnt so far.
struct Work {
    repo: RepoRef,
    clone_url: Option<String>,
    hook_id: Option<String>,
    changes: Vec<RepairChange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_become_statuses_and_rate_limits_none() {
        let missing = HookError::MissingScope {
            needed: vec!["api".into()],
        };
        assert_eq!(Found::from_error(&missing), Some(Found::NoPermission));
        assert_eq!(
            Found::from_error(&HookError::NotAdmin),
            Some(Found::NoPermission)
        );
        assert_eq!(
            Found::from_error(&HookError::RepoNotFound),
            Some(Found::RepositoryGone)
        );
        assert_eq!(
            Found::from_error(&HookError::Host(HostError::Timeout)),
            Some(Found::Unreachable)
        );
        assert_eq!(
            Found::from_error(&HookError::Host(HostError::TokenRevoked)),
            Some(Found::NoPermission)
        );
        assert_eq!(
            Found::from_error(&HookError::Host(HostError::RateLimited {
                retry_after_secs: Some(5)
            })),
            None
        );
    }

    #[test]
    fn a_repaired_hook_is_active_and_an_unrepaired_one_says_why() {
        assert_eq!(
            status_after(Found::HookMissing, true, false),
            AutoBuildStatus::Active
        );
        assert_eq!(
            status_after(Found::HookDisabled, false, false),
            AutoBuildStatus::HookDisabled
        );
        assert_eq!(
            status_after(Found::HookMissing, false, false),
            AutoBuildStatus::HookMissing
        );
        assert_eq!(
            status_after(Found::NoPermission, false, true),
            AutoBuildStatus::ManualSetup,
            "a manual setup needs no hook permission"
        );
        assert_eq!(
            status_after(Found::RepositoryGone, false, false),
            AutoBuildStatus::RepositoryGone
        );
    }
}
