//! One attempt at a cleanup job: the activity entry, then the hooks, then the revocation
//! (the hooks first: removing them needs the token the revocation ends). What is done is
//! saved; what failed for a reason that may pass (the host unreachable, a 5xx, the store) is
//! retried later; what the host refused is given up (a hook's registration stays orphaned).

use super::{backoff_ms, Cleanup, MAX_ATTEMPTS};
use crate::hosts::hooks::{HookError, HookHost, RepoRef};
use crate::hosts::Instance;
use crate::secret::SecretString;
use crate::store::{job_aad, CleanupJob, StoredRegistration};
use crate::util::now_millis;
use app::api::{HookLeft, HostError, Revocation};

/// What an attempt did (the unbind's answer).
#[derive(Debug, Default)]
pub struct Report {
    /// The revocation's outcome, if it was attempted.
    pub revocation: Option<Revocation>,
    /// Hooks still on the code host.
    pub hooks_left: Vec<HookLeft>,
}

/// Whether a host's failure may pass by itself (worth a retry).
fn transient(e: &HostError) -> bool {
    match e {
        HostError::DnsFailed
        | HostError::ConnectionRefused
        | HostError::Unreachable
        | HostError::Timeout
        | HostError::UnexpectedAnswer
        | HostError::RateLimited { .. }
        | HostError::RefreshUnavailable
        | HostError::Busy => true,
        HostError::Upstream { status } => *status >= 500 || *status == 429,
        HostError::AddressForbidden
        | HostError::Tls
        | HostError::Redirected { .. }
        | HostError::TokenInvalid
        | HostError::TokenExpired
        | HostError::TokenRevoked
        | HostError::InsufficientScope { .. }
        | HostError::MissingScopes { .. }
        | HostError::OAuthDenied
        | HostError::OAuthExchange { .. }
        | HostError::UserLookupFailed
        | HostError::AnswerTooLarge => false,
    }
}

/// What became of one step.
enum Step {
    Done,
    /// Try again later.
    Retry,
    /// Failed for good (logged).
    GiveUp,
}

impl Cleanup {
    /// Runs the job once (the caller holds its lease) and saves the outcome: finished, or due
    /// again after a backoff with what is left.
    pub async fn run(&self, mut job: CleanupJob) -> Report {
        let mut report = Report::default();
        let token = match &job.token {
            Some(sealed) => match self.cipher.open(sealed, &job_aad(&job.id)) {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::error!(job = %job.id, error = %e, "cannot decrypt a cleanup job's token");
                    None
                }
            },
            None => None,
        };
        let last_try = job.attempts + 1 >= MAX_ATTEMPTS;

        if let Some(entry) = job.activity.clone() {
            match self.store.append(entry).await {
                Ok(()) => job.activity = None,
                Err(e) => {
                    tracing::warn!(job = %job.id, error = %crate::util::chain(&e), "writing the unbind's activity entry failed; retried later")
                }
            }
        }

        let mut hooks_pending = false;
        if job.hooks {
            match self.remove_hooks(&job, token.as_ref(), &mut report).await {
                Step::Done | Step::GiveUp => job.hooks = false,
                Step::Retry if last_try => {
                    tracing::warn!(job = %job.id, tenant = %job.tenant, "giving up removing hooks; their registrations stay orphaned");
                    job.hooks = false;
                }
                Step::Retry => hooks_pending = true,
            }
        }

        // Not before the hooks are gone (or given up): their removal needs the token.
        if job.revoke && !hooks_pending {
            match self.revoke(&job, token.as_ref(), &mut report).await {
                Step::Done | Step::GiveUp => job.revoke = false,
                Step::Retry if last_try => {
                    tracing::warn!(job = %job.id, tenant = %job.tenant, "giving up revoking the token upstream");
                    job.revoke = false;
                }
                Step::Retry => {}
            }
        }

        if !job.revoke && !job.hooks {
            job.token = None;
        }
        let saved = if job.is_done() {
            self.store.finish_job(&job.id).await
        } else {
            job.attempts += 1;
            job.next_at_ms = now_millis().saturating_add(backoff_ms(job.attempts));
            self.store.save_job(&job).await
        };
        // Unsaved, the lease runs out and the job runs again from what was saved before:
        // steps may repeat (an activity entry twice), none is lost.
        if let Err(e) = saved {
            tracing::warn!(job = %job.id, error = %crate::util::chain(&e), "saving a cleanup job's progress failed");
        }
        report
    }

    async fn revoke(
        &self,
        job: &CleanupJob,
        token: Option<&SecretString>,
        report: &mut Report,
    ) -> Step {
        let Some(token) = token else {
            report.revocation = Some(Revocation::Failed);
            return Step::GiveUp;
        };
        let at = Instance {
            address: job.address.as_deref(),
            ca_pem: job.ca_pem.as_deref(),
        };
        let call = self.calls.host(job.provider).revoke(at, token);
        match self.calls.call(&job.tenant, job.provider, call).await {
            Ok(done) => {
                tracing::info!(job = %job.id, tenant = %job.tenant, provider = job.provider.as_str(), outcome = ?done, "token revoked upstream");
                report.revocation = Some(done);
                Step::Done
            }
            Err(e) => {
                tracing::warn!(job = %job.id, tenant = %job.tenant, provider = job.provider.as_str(), outcome = ?e, "revoking upstream failed");
                report.revocation = Some(Revocation::Failed);
                if transient(&e) {
                    Step::Retry
                } else {
                    Step::GiveUp
                }
            }
        }
    }

    /// Removes the hook of every registration of the job's account; a registration whose hook
    /// is gone goes too, one whose hook could not be removed is marked orphaned.
    async fn remove_hooks(
        &self,
        job: &CleanupJob,
        token: Option<&SecretString>,
        report: &mut Report,
    ) -> Step {
        let Some(hooks) = self.calls.hooks(job.provider) else {
            return Step::Done;
        };
        let hooks: &dyn HookHost = &hooks;
        let regs = match self
            .store
            .registrations(&job.tenant, Some(job.provider))
            .await
        {
            Ok(regs) => regs,
            Err(e) => {
                tracing::warn!(job = %job.id, error = %crate::util::chain(&e), "reading registrations failed; retried later");
                return Step::Retry;
            }
        };
        let at = Instance {
            address: job.address.as_deref(),
            ca_pem: job.ca_pem.as_deref(),
        };
        let mut outcome = Step::Done;
        // Within half the lease, so no other worker claims the job while this one still
        // works on it; and after a failure that may pass, the host is not asked again this
        // round (an unreachable host costs one timeout, not one per repository).
        let deadline = tokio::time::Instant::now() + self.lease / 2;
        let mut later: Option<HostError> = None;
        for reg in regs.into_iter().filter(|r| r.key.account == job.account) {
            let repo = RepoRef {
                stable_id: reg.key.repo_id.clone(),
                full_name: reg.full_name.clone(),
            };
            if later.is_none() && tokio::time::Instant::now() >= deadline {
                later = Some(HostError::Timeout);
            }
            let removed = match (token, &later) {
                (_, Some(e)) => Err(HookError::Host(e.clone())),
                (Some(token), None) => self.remove_hook(job, hooks, at, token, &repo, &reg).await,
                (None, None) => Err(HookError::Host(HostError::TokenInvalid)),
            };
            if let Err(HookError::Host(h)) = &removed {
                if transient(h) {
                    later = Some(h.clone());
                }
            }
            let step = match removed {
                Ok(()) | Err(HookError::RepoNotFound) => {
                    if let Err(e) = self.store.delete_registration(&reg.key).await {
                        tracing::warn!(job = %job.id, error = %crate::util::chain(&e), "removing a registration failed; retried later");
                        outcome = Step::Retry;
                    }
                    continue;
                }
                Err(HookError::Host(h)) if transient(&h) => Step::Retry,
                Err(e) => {
                    tracing::warn!(job = %job.id, tenant = %job.tenant, repo = %reg.full_name, error = %e, "the code host refused removing a hook");
                    Step::GiveUp
                }
            };
            if !reg.orphaned {
                let orphaned = StoredRegistration {
                    orphaned: true,
                    ..reg.clone()
                };
                if let Err(e) = self.store.replace_registration(&reg, &orphaned).await {
                    tracing::warn!(job = %job.id, error = %crate::util::chain(&e), "marking a registration orphaned failed");
                }
            }
            report.hooks_left.push(HookLeft {
                repository: reg.full_name.clone(),
                repository_id: reg.key.repo_id.clone(),
                settings_url: hooks.hooks_settings_url(at, &repo),
            });
            if matches!(step, Step::Retry) {
                outcome = Step::Retry;
            }
        }
        outcome
    }

    /// Our hook of `reg`: by its id, or (set up by hand) every hook with its URL.
    async fn remove_hook(
        &self,
        job: &CleanupJob,
        hooks: &dyn HookHost,
        at: Instance<'_>,
        token: &SecretString,
        repo: &RepoRef,
        reg: &StoredRegistration,
    ) -> Result<(), HookError> {
        let _slot = self
            .calls
            .slot(&job.tenant)
            .await
            .map_err(HookError::Host)?;
        if let Some(id) = &reg.hook_id {
            return hooks.delete_hook(at, token, repo, id).await;
        }
        let url = format!("{}/hooks/{}", self.webhook_base, reg.rid);
        for hook in hooks.list_hooks(at, token, repo).await? {
            if hook.url == url {
                hooks.delete_hook(at, token, repo, &hook.id).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_that_may_pass_are_retried() {
        for e in [
            HostError::Unreachable,
            HostError::Timeout,
            HostError::Upstream { status: 503 },
            HostError::Upstream { status: 429 },
            HostError::RateLimited {
                retry_after_secs: None,
            },
        ] {
            assert!(transient(&e), "{e:?}");
        }
        for e in [
            HostError::Upstream { status: 404 },
            HostError::TokenRevoked,
            HostError::InsufficientScope { scopes: vec![] },
            HostError::Tls,
        ] {
            assert!(!transient(&e), "{e:?}");
        }
    }
}
