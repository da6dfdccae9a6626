//! Secret rotation (issue #23): a registration gets a new random hook secret; the old one
//! becomes `previous_secret`, which the ingress still accepts until `previous_until_ms`
//! ([`ROTATION_GRACE_MS`]), so deliveries the host queued or retries with the old signature
//! are not lost. The host's hook is updated in place ([`HookHost::update_hook`]: same id, same
//! URL). A manual-setup registration has no hook of ours: the answer carries the new secret,
//! once, to paste into the host's settings.
//!
//! Order: the new record is stored first, then the host is updated; if the host refuses, the
//! record is put back (only if nothing else changed it), so the secret we verify with and the
//! one the host signs with never drift apart without the grace period covering it.
//!
//! [`HookHost::update_hook`]: crate::hosts::hooks::HookHost::update_hook

use super::{AutoBuild, AutoBuildError, SECRET_BYTES};
use crate::credentials::CredentialError;
use crate::hosts::hooks::{HookSpec, RepoRef};
use crate::hosts::Instance;
use crate::secret::SecretString;
use crate::store::{hook_aad, StoredRegistration};
use crate::util::now_millis;
use app::api::{ActivityAction, ActivityOutcome, AutoBuildView, ManualSetup, Provider};

/// How long the secret before a rotation still verifies deliveries: hosts retry failed
/// deliveries for hours (GitLab, Bitbucket) and users redeliver by hand from the host's
/// page, with the signature of the time; a day covers both without keeping a secret that may
/// have leaked valid for long.
pub const ROTATION_GRACE_MS: i64 = 24 * 60 * 60 * 1000;

/// What rotating one registration's secret produced.
#[derive(Debug)]
pub struct Rotated {
    pub view: AutoBuildView,
    /// Manual setup: the new secret to paste into the host (the only time it is shown).
    pub manual: Option<ManualSetup>,
}

/// One line of a tenant-wide rotation.
#[derive(Debug)]
pub struct RotationResult {
    pub provider: Provider,
    /// The listing's id of the repository.
    pub repository: String,
    pub full_name: String,
    /// `None`: rotated; else why not (answered with the code a single call answers).
    pub error: Option<AutoBuildError>,
    /// Manual setup: the new secret, shown once.
    pub manual_setup: Option<ManualSetup>,
}

impl AutoBuild {
    /// `POST …/auto-build/rotate-secret`.
    pub async fn rotate_secret(
        &self,
        actor: &super::Actor<'_>,
        provider: Provider,
        repo: &str,
    ) -> Result<Rotated, AutoBuildError> {
        let reg = self
            .find(actor.tenant, provider, repo)
            .await?
            .ok_or(AutoBuildError::NotEnabled)?;
        self.rotate_audited(actor, &reg).await
    }

    /// `POST /api/v1/tenants/{tenant}/auto-build/rotate-secrets`: every registration of the
    /// tenant's currently bound accounts, one after the other; each line says how it went.
    pub async fn rotate_all(
        &self,
        actor: &super::Actor<'_>,
    ) -> Result<Vec<RotationResult>, AutoBuildError> {
        let mut out = Vec::new();
        for reg in self.store.registrations(actor.tenant, None).await? {
            // Orphaned registrations (their account unbound, the hook waiting to be removed)
            // deliver nothing that is built: a new secret for them would only mislead.
            if !self.supports(reg.key.provider) || reg.orphaned {
                continue;
            }
            let result = self.rotate_audited(actor, &reg).await;
            let (error, manual_setup) = match result {
                Ok(r) => (None, r.manual),
                Err(e) => (Some(e), None),
            };
            out.push(RotationResult {
                provider: reg.key.provider,
                repository: reg.listing_id.clone(),
                full_name: reg.full_name.clone(),
                error,
                manual_setup,
            });
        }
        Ok(out)
    }

    async fn rotate_audited(
        &self,
        actor: &super::Actor<'_>,
        reg: &StoredRegistration,
    ) -> Result<Rotated, AutoBuildError> {
        let result = self.rotate(actor, reg).await;
        let outcome = match &result {
            Ok(_) => ActivityOutcome::Ok,
            Err(AutoBuildError::Hook(e)) => {
                ActivityOutcome::Failed(Some(super::hook_host_error(e)))
            }
            Err(_) => ActivityOutcome::Failed(None),
        };
        self.audit(
            actor,
            reg.key.provider,
            &reg.key.account,
            ActivityAction::AutoBuildSecretRotated,
            outcome,
        )
        .await;
        result
    }

    async fn rotate(
        &self,
        actor: &super::Actor<'_>,
        reg: &StoredRegistration,
    ) -> Result<Rotated, AutoBuildError> {
        let hooks = self.hook_host(reg.key.provider)?;
        let hooks: &dyn crate::hosts::hooks::HookHost = &hooks;
        // The token first: a rotation the host cannot take changes nothing.
        let bound = match &reg.hook_id {
            Some(_) => {
                let (binding, token) = self
                    .credentials
                    .usable(actor.tenant, reg.key.provider, actor.request_id)
                    .await?;
                if binding.account.login != reg.key.account {
                    return Err(CredentialError::NotBound.into());
                }
                Some((binding, token))
            }
            None => None,
        };
        let secret = SecretString::new(super::random_b64(SECRET_BYTES));
        let now = now_millis();
        let rotated = StoredRegistration {
            secret: self.cipher.seal(&secret, &hook_aad(&reg.rid)),
            previous_secret: Some(reg.secret.clone()),
            previous_until_ms: Some(now + ROTATION_GRACE_MS),
            ..reg.clone()
        };
        if !self.store.replace_registration(reg, &rotated).await? {
            // Changed meanwhile (a delivery, a repair): the caller may simply try again.
            return Err(AutoBuildError::Busy);
        }
        let url = self.webhook_url(&reg.rid);
        let repo = RepoRef {
            stable_id: reg.key.repo_id.clone(),
            full_name: reg.full_name.clone(),
        };
        if let (Some(hook_id), Some((binding, token))) = (&reg.hook_id, &bound) {
            let updated = {
                let _slot = self.slot(actor.tenant).await?;
                hooks
                    .update_hook(
                        Instance::of(binding),
                        token,
                        &repo,
                        hook_id,
                        HookSpec {
                            url: &url,
                            secret: &secret,
                        },
                    )
                    .await
            };
            if let Err(e) = updated {
                // Back to the old secret, unless the record moved on (then the grace period
                // still covers the host's old secret).
                let current = self.store.registration(&reg.key).await?;
                if let Some(current) = current.filter(|c| c.secret == rotated.secret) {
                    let back = StoredRegistration {
                        secret: reg.secret.clone(),
                        previous_secret: reg.previous_secret.clone(),
                        previous_until_ms: reg.previous_until_ms,
                        ..current.clone()
                    };
                    if let Err(undo) = self.store.replace_registration(&current, &back).await {
                        tracing::warn!(request_id = actor.request_id, error = %crate::util::chain(&undo), "rotation: restoring the old secret failed");
                    }
                }
                return Err(e.into());
            }
        }
        let stored = self.store.registration(&reg.key).await?.unwrap_or(rotated);
        let manual = reg.hook_id.is_none().then(|| ManualSetup {
            payload_url: url,
            secret: secret.expose().to_string(),
            content_type: "application/json".into(),
            events: super::manual_events(reg.key.provider)
                .iter()
                .map(|s| s.to_string())
                .collect(),
            settings_url: hooks.hooks_settings_url(
                bound
                    .as_ref()
                    .map(|(b, _)| Instance::of(b))
                    .unwrap_or(Instance {
                        address: None,
                        ca_pem: None,
                    }),
                &repo,
            ),
        });
        Ok(Rotated {
            view: self.view(&stored),
            manual,
        })
    }
}
