//! "Build the latest commit" (issue #23): the head of a branch or tag, read from the code host
//! with the bound token, becomes a build event marked `manual: true`. It goes through the same
//! store write as a delivery ([`crate::store::AutoBuildStore::record_delivery`], with a log
//! entry whose event is `manual`), so its id is the delivery's ([`build_event_id`]): a manual
//! build and a push of the same ref at the same commit are one event, whichever came first.
//! The registration's filters do not apply: a manual build is asked for by name.

use super::{AutoBuild, AutoBuildError};
use crate::credentials::CredentialError;
use crate::hosts::hooks::{RefKind, RepoRef};
use crate::hosts::Instance;
use crate::store::{
    build_event_id, BuildEvent, DeliveryLogEntry, DeliveryOutcome, EventRepository, RefType,
};
use crate::util::now_millis;
use app::api::{ActivityAction, ActivityOutcome, Provider};

/// The log entry's event name for a manual build (the page translates it).
pub const MANUAL_EVENT: &str = app::api::MANUAL_BUILD_EVENT;

/// Longest branch or tag name accepted (git allows more, hosts' UIs far less).
pub const MAX_REF_NAME: usize = 255;

/// What a manual build produced.
#[derive(Debug)]
pub struct ManualBuild {
    pub event: BuildEvent,
    /// The event already existed (a delivery or an earlier manual build of that commit).
    pub duplicate: bool,
    /// The event's feed cursor, when it is new.
    pub seq: Option<u64>,
}

/// Whether `name` can be a branch or tag name (`git check-ref-format`'s gist: no control
/// characters, spaces or `..`, not starting with `-` or `/`).
pub fn valid_ref_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_REF_NAME
        && !name.starts_with(['-', '/'])
        && !name.ends_with(['/', '.'])
        && !name.contains("..")
        && !name.contains("//")
        && !name
            .chars()
            .any(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
}

impl AutoBuild {
    /// Emits a build event for the head of `kind`/`name` now. [`AutoBuildError::RefNotFound`]
    /// when the repository has no such ref.
    pub async fn build_latest(
        &self,
        actor: &super::Actor<'_>,
        provider: Provider,
        repo: &str,
        kind: RefKind,
        name: &str,
    ) -> Result<ManualBuild, AutoBuildError> {
        let reg = self
            .find(actor.tenant, provider, repo)
            .await?
            .ok_or(AutoBuildError::NotEnabled)?;
        let result = self.build_registration(actor, &reg, kind, name).await;
        let outcome = match &result {
            Ok(_) => ActivityOutcome::Ok,
            Err(AutoBuildError::Hook(e)) => {
                ActivityOutcome::Failed(Some(super::hook_host_error(e)))
            }
            Err(_) => ActivityOutcome::Failed(None),
        };
        self.audit(
            actor,
            provider,
            &reg.key.account,
            ActivityAction::AutoBuildManualBuild,
            outcome,
        )
        .await;
        result
    }

    async fn build_registration(
        &self,
        actor: &super::Actor<'_>,
        reg: &crate::store::StoredRegistration,
        kind: RefKind,
        name: &str,
    ) -> Result<ManualBuild, AutoBuildError> {
        let hooks = self.hook_host(reg.key.provider)?;
        let hooks: &dyn crate::hosts::hooks::HookHost = &hooks;
        let (binding, token) = self
            .credentials
            .usable(actor.tenant, reg.key.provider, actor.request_id)
            .await?;
        if binding.account.login != reg.key.account {
            return Err(CredentialError::NotBound.into());
        }
        let repo = RepoRef {
            stable_id: reg.key.repo_id.clone(),
            full_name: reg.full_name.clone(),
        };
        let head = {
            let _slot = self.slot(actor.tenant).await?;
            hooks
                .ref_head(Instance::of(&binding), &token, &repo, kind, name)
                .await?
        };
        let commit = head.ok_or(AutoBuildError::RefNotFound)?;
        let now = now_millis();
        let git_ref = kind.full_ref(name);
        let event = BuildEvent {
            id: build_event_id(&reg.key, &git_ref, &commit),
            tenant: reg.key.tenant.clone(),
            provider: reg.key.provider,
            account: reg.key.account.clone(),
            repository: EventRepository {
                id: reg.key.repo_id.clone(),
                full_name: reg.full_name.clone(),
                clone_url: reg.clone_url.clone(),
            },
            git_ref: git_ref.clone(),
            ref_type: match kind {
                RefKind::Branch => RefType::Branch,
                RefKind::Tag => RefType::Tag,
            },
            ref_name: name.to_string(),
            commit: commit.clone(),
            before: None,
            pusher: None,
            delivery_id: None,
            received_at: now,
            manual: true,
        };
        let entry = DeliveryLogEntry {
            rid: reg.rid.clone(),
            tenant: reg.key.tenant.clone(),
            at_ms: now,
            // No delivery id: only the event id de-duplicates.
            delivery_id: None,
            event: MANUAL_EVENT.into(),
            git_ref: Some(git_ref),
            commit: Some(commit),
            outcome: DeliveryOutcome::Built,
        };
        let recorded = self
            .store
            .record_delivery(&entry, std::slice::from_ref(&event), self.push.is_some())
            .await?;
        let seq = recorded.emitted.last().copied();
        if let Some(last) = seq {
            self.feed.advance(last);
            if let Some(p) = &self.push {
                p.wake();
            }
            crate::metrics::metrics().events_emitted(reg.key.provider.as_str(), 1);
        }
        Ok(ManualBuild {
            event,
            duplicate: seq.is_none(),
            seq,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names_are_checked() {
        for ok in ["main", "release/1.x", "v1.0", "feature/a-b_c"] {
            assert!(valid_ref_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-x",
            "/main",
            "main/",
            "a..b",
            "a b",
            "a\nb",
            "x.",
            "a//b",
            "a~1",
            &"x".repeat(MAX_REF_NAME + 1),
        ] {
            assert!(!valid_ref_name(bad), "{bad:?}");
        }
    }
}
