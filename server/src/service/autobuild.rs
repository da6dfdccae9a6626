//! The console's side of auto-build: the server functions' calls, with the caller from the
//! identity middleware, and what a refusal tells the user.

use super::{internal, store_failed, CodeSources};
use crate::autobuild::manual::valid_ref_name;
use crate::autobuild::{Actor, AutoBuildError};
use crate::hosts::hooks::{HookError, RefKind};
use crate::store::DeliveryLogEntry;
use app::api::service::Caller;
use app::api::{
    ApiError, AutoBuildEnabled, AutoBuildFilters, AutoBuildRepaired, AutoBuildView, BuildRef,
    DeliveryView, HookRefusal, ManualBuildDone, Provider, RepoId, SecretRotated,
};

impl CodeSources {
    fn actor<'a>(caller: &'a Caller) -> Actor<'a> {
        Actor {
            tenant: &caller.tenant,
            id: &caller.user_id,
            name: Some(&caller.user_name),
            request_id: &caller.request_id,
        }
    }

    pub(super) async fn auto_build_list_now(
        &self,
        caller: &Caller,
        provider: Provider,
    ) -> Result<Vec<AutoBuildView>, ApiError> {
        self.autobuild
            .list(&caller.tenant, provider)
            .await
            .map_err(|e| autobuild_error(caller, e))
    }

    pub(super) async fn auto_build_enable_now(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: RepoId,
        filters: AutoBuildFilters,
        manual: bool,
    ) -> Result<AutoBuildEnabled, ApiError> {
        let done = self
            .autobuild
            .enable(
                &Self::actor(caller),
                provider,
                repo.as_str(),
                &filters,
                manual,
            )
            .await
            .map_err(|e| autobuild_error(caller, e))?;
        Ok(AutoBuildEnabled {
            view: done.view,
            manual: done.manual,
        })
    }

    pub(super) async fn auto_build_disable_now(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: RepoId,
    ) -> Result<(), ApiError> {
        self.autobuild
            .disable(&Self::actor(caller), provider, repo.as_str())
            .await
            .map_err(|e| autobuild_error(caller, e))
    }

    pub(super) async fn auto_build_deliveries_now(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: RepoId,
    ) -> Result<Vec<DeliveryView>, ApiError> {
        let list = self
            .autobuild
            .deliveries(&caller.tenant, provider, repo.as_str())
            .await
            .map_err(|e| autobuild_error(caller, e))?;
        Ok(list.into_iter().map(delivery_view).collect())
    }

    // Repair, manual builds and rotation call the operations the build service API calls
    // (`web/service_api/autobuild_ops.rs`), so both ways in are authorized by the caller's
    // tenant, logged and counted the same; only the actor differs (the console user).

    pub(super) async fn auto_build_repair_now(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: RepoId,
    ) -> Result<AutoBuildRepaired, ApiError> {
        let (view, repair) = self
            .autobuild
            .repair(&Self::actor(caller), provider, repo.as_str())
            .await
            .map_err(|e| autobuild_error(caller, e))?;
        Ok(AutoBuildRepaired {
            view,
            changes: repair.changes,
        })
    }

    pub(super) async fn auto_build_build_now(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: RepoId,
        git_ref: BuildRef,
    ) -> Result<ManualBuildDone, ApiError> {
        let (kind, name) = match &git_ref {
            BuildRef::Branch(name) => (RefKind::Branch, name.trim()),
            BuildRef::Tag(name) => (RefKind::Tag, name.trim()),
        };
        // A name git refuses names no branch or tag: the answer a missing one gets.
        if !valid_ref_name(name) {
            return Err(ApiError::AutoBuild(HookRefusal::RefNotFound));
        }
        let done = self
            .autobuild
            .build_latest(&Self::actor(caller), provider, repo.as_str(), kind, name)
            .await
            .map_err(|e| autobuild_error(caller, e))?;
        Ok(ManualBuildDone {
            git_ref: done.event.git_ref,
            commit: done.event.commit,
            duplicate: done.duplicate,
        })
    }

    pub(super) async fn auto_build_rotate_secret_now(
        &self,
        caller: &Caller,
        provider: Provider,
        repo: RepoId,
    ) -> Result<SecretRotated, ApiError> {
        let done = self
            .autobuild
            .rotate_secret(&Self::actor(caller), provider, repo.as_str())
            .await
            .map_err(|e| autobuild_error(caller, e))?;
        Ok(SecretRotated {
            view: done.view,
            manual: done.manual,
        })
    }
}

fn delivery_view(d: DeliveryLogEntry) -> DeliveryView {
    DeliveryView {
        at_ms: d.at_ms,
        delivery_id: d.delivery_id,
        event: d.event,
        git_ref: d.git_ref,
        commit: d.commit,
        outcome: d.outcome,
    }
}

/// What a refused auto-build call tells the user.
fn autobuild_error(caller: &Caller, e: AutoBuildError) -> ApiError {
    match e {
        AutoBuildError::Unsupported => ApiError::Unsupported,
        AutoBuildError::InvalidFilters(_) => ApiError::AutoBuild(HookRefusal::InvalidFilters),
        AutoBuildError::InvalidRepository => {
            ApiError::Invalid(app::api::InputError::RepoIdMalformed)
        }
        AutoBuildError::NotEnabled => ApiError::AutoBuild(HookRefusal::NotEnabled),
        AutoBuildError::RefNotFound => ApiError::AutoBuild(HookRefusal::RefNotFound),
        AutoBuildError::Busy => ApiError::AutoBuild(HookRefusal::Busy),
        AutoBuildError::Hook(h) => match h {
            HookError::MissingScope { needed } => {
                ApiError::AutoBuild(HookRefusal::MissingScope { needed })
            }
            HookError::NotAdmin => ApiError::AutoBuild(HookRefusal::NotAdmin),
            HookError::RepoNotFound => ApiError::AutoBuild(HookRefusal::RepositoryNotFound),
            HookError::LimitReached => ApiError::AutoBuild(HookRefusal::HookLimitReached),
            HookError::Host(h) => ApiError::Host(h),
        },
        AutoBuildError::Credential(c) => {
            super::repos::repo_error(caller, crate::repositories::RepoError::Credential(c))
        }
        AutoBuildError::Store(e) => store_failed(caller, "auto-build: the store failed", &e),
        AutoBuildError::Internal(e) => internal(caller, "auto-build failed", e.as_ref()),
    }
}
