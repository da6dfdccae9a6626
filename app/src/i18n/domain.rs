//! Texts of the domain's typed codes (re-authorization reasons, activity actions and outcomes)
//! and the texts only some code hosts have, looked up by host so that components need not
//! branch on which host they show.

use super::{error_text, fill, Locale, Msg};
use crate::api::{
    ActivityAction, ActivityOutcome, ApiError, AutoBuildStatus, DeliveryOutcome, Provider,
    ReauthReason, RepairChange, MANUAL_BUILD_EVENT,
};

/// Why a binding needs re-authorization, in words.
pub fn reason_text(locale: Locale, reason: &ReauthReason) -> String {
    let msg = match reason {
        ReauthReason::TokenInvalid => Msg::ReasonTokenInvalid,
        ReauthReason::TokenExpired => Msg::ReasonTokenExpired,
        ReauthReason::TokenRevoked => Msg::ReasonTokenRevoked,
        ReauthReason::InsufficientScope => Msg::ReasonScope,
        ReauthReason::CannotRefresh => Msg::ReasonCannotRefresh,
        ReauthReason::RefreshRefused(code) => {
            return fill(Msg::ReasonRefreshRefused.text(locale), &[code]);
        }
    };
    msg.text(locale).to_string()
}

/// What an activity-log line records, in words.
pub fn action_text(locale: Locale, action: ActivityAction) -> &'static str {
    match action {
        ActivityAction::Bind => Msg::ActionBind,
        ActivityAction::Unbind => Msg::ActionUnbind,
        ActivityAction::Reauthorize => Msg::ActionReauthorize,
        ActivityAction::CredentialIssued => Msg::ActionCredential,
        ActivityAction::RefreshFailed => Msg::ActionRefreshFailed,
        ActivityAction::AutoBuildEnabled => Msg::ActionAutoBuildOn,
        ActivityAction::AutoBuildDisabled => Msg::ActionAutoBuildOff,
        ActivityAction::AutoBuildRepaired => Msg::ActionAutoBuildRepaired,
        ActivityAction::AutoBuildManualBuild => Msg::ActionAutoBuildManualBuild,
        ActivityAction::AutoBuildSecretRotated => Msg::ActionAutoBuildSecretRotated,
    }
    .text(locale)
}

/// How a webhook delivery ended, in words.
pub fn delivery_outcome_text(locale: Locale, outcome: DeliveryOutcome) -> &'static str {
    match outcome {
        DeliveryOutcome::Built => Msg::DeliveryBuilt,
        DeliveryOutcome::Duplicate => Msg::DeliveryDuplicate,
        DeliveryOutcome::Ignored => Msg::DeliveryIgnored,
        DeliveryOutcome::Refused => Msg::DeliveryRefused,
        DeliveryOutcome::HostError => Msg::DeliveryHostError,
    }
    .text(locale)
}

/// A delivery's event: the code host's own name (`push`, `Push Hook`), or ours for a manual
/// build, in words.
pub fn delivery_event_text(locale: Locale, event: &str) -> String {
    if event == MANUAL_BUILD_EVENT {
        Msg::EventManualBuild.text(locale).to_string()
    } else {
        event.to_string()
    }
}

/// Where a repository's auto-build stands, in a word or two.
pub fn autobuild_status_text(locale: Locale, status: AutoBuildStatus) -> &'static str {
    match status {
        AutoBuildStatus::Active => Msg::AutoBuildStatusActive,
        AutoBuildStatus::ManualSetup => Msg::AutoBuildManualBadge,
        AutoBuildStatus::HookMissing => Msg::AutoBuildStatusHookMissing,
        AutoBuildStatus::HookDisabled => Msg::AutoBuildStatusHookDisabled,
        AutoBuildStatus::NoPermission => Msg::AutoBuildStatusNoPermission,
        AutoBuildStatus::HostUnreachable => Msg::AutoBuildStatusUnreachable,
        AutoBuildStatus::RepositoryGone => Msg::AutoBuildStatusGone,
    }
    .text(locale)
}

/// What a status means and what fixes it, with `{}` for the code host; `None` when nothing
/// needs doing.
pub fn autobuild_status_help(status: AutoBuildStatus) -> Option<Msg> {
    match status {
        AutoBuildStatus::Active | AutoBuildStatus::ManualSetup => None,
        AutoBuildStatus::HookMissing => Some(Msg::AutoBuildHelpHookMissing),
        AutoBuildStatus::HookDisabled => Some(Msg::AutoBuildHelpHookDisabled),
        AutoBuildStatus::NoPermission => Some(Msg::AutoBuildHelpNoPermission),
        AutoBuildStatus::HostUnreachable => Some(Msg::AutoBuildHelpUnreachable),
        AutoBuildStatus::RepositoryGone => Some(Msg::AutoBuildHelpGone),
    }
}

/// What a repair changed, in words; `full_name` is the repository's name after it.
pub fn repair_change_text(locale: Locale, change: RepairChange, full_name: &str) -> String {
    let msg = match change {
        RepairChange::HookCreated => Msg::RepairHookCreated,
        RepairChange::DisabledHookReplaced => Msg::RepairDisabledHookReplaced,
        RepairChange::DuplicateRemoved => Msg::RepairDuplicateRemoved,
        RepairChange::StrayRemoved => Msg::RepairStrayRemoved,
        RepairChange::Renamed => {
            return fill(Msg::RepairRenamed.text(locale), &[full_name]);
        }
    };
    msg.text(locale).to_string()
}

/// How an activity ended, in words; `host` names the code host.
pub fn outcome_text(locale: Locale, outcome: &ActivityOutcome, host: &str) -> String {
    match outcome {
        ActivityOutcome::Ok => Msg::OutcomeOk.text(locale).to_string(),
        ActivityOutcome::NeedsReauth(r) => fill(
            Msg::OutcomeNeedsReauth.text(locale),
            &[&reason_text(locale, r)],
        ),
        ActivityOutcome::Failed(Some(e)) => error_text(locale, &ApiError::Host(e.clone()), host).0,
        ActivityOutcome::Failed(None) => Msg::OutcomeFailed.text(locale).to_string(),
    }
}

/// The texts only some hosts have, by host: what the OAuth dialog says it asks for, what the
/// unbind dialog says about revoking where the host has no API for it, and the access-token
/// dialog's help for the address and the token.
#[derive(Clone, Copy, Default)]
pub struct HostTexts {
    pub oauth_scopes: Option<Msg>,
    pub manual_revoke: Option<Msg>,
    pub address_help: Option<Msg>,
    pub token_help: Option<Msg>,
}

pub fn host_texts(p: Provider) -> HostTexts {
    match p {
        Provider::DevCloud => HostTexts::default(),
        Provider::GitHub => HostTexts {
            oauth_scopes: Some(Msg::OAuthScopesGitHub),
            ..HostTexts::default()
        },
        Provider::GitLab => HostTexts {
            address_help: Some(Msg::AddressHelpGitLab),
            token_help: Some(Msg::TokenHelpGitLab),
            ..HostTexts::default()
        },
        Provider::Gitee => HostTexts {
            oauth_scopes: Some(Msg::OAuthScopesGitee),
            manual_revoke: Some(Msg::ManualRevokeGitee),
            ..HostTexts::default()
        },
        Provider::Bitbucket => HostTexts {
            oauth_scopes: Some(Msg::OAuthScopesBitbucket),
            manual_revoke: Some(Msg::ManualRevokeBitbucket),
            ..HostTexts::default()
        },
        Provider::Gitea => HostTexts {
            manual_revoke: Some(Msg::ManualRevokeGitea),
            address_help: Some(Msg::AddressHelpGitea),
            token_help: Some(Msg::TokenHelpGitea),
            ..HostTexts::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::HostError;

    #[test]
    fn typed_codes_have_text_in_both_languages() {
        for l in [Locale::En, Locale::Zh] {
            for a in ActivityAction::ALL {
                assert!(!action_text(l, a).is_empty());
            }
            let refused = ReauthReason::RefreshRefused("invalid_grant".into());
            assert!(reason_text(l, &refused).contains("invalid_grant"));
            let failed = ActivityOutcome::Failed(Some(HostError::Timeout));
            assert!(outcome_text(l, &failed, "Bitbucket").contains("Bitbucket"));
            assert_ne!(
                outcome_text(l, &ActivityOutcome::Failed(None), "x"),
                "Failed(None)",
                "never a Rust debug string"
            );
        }
    }

    #[test]
    fn every_delivery_outcome_says_something_of_its_own() {
        use DeliveryOutcome::*;
        for l in [Locale::En, Locale::Zh] {
            let texts: Vec<_> = [Built, Duplicate, Ignored, Refused, HostError]
                .into_iter()
                .map(|o| delivery_outcome_text(l, o))
                .collect();
            let unique: std::collections::HashSet<_> = texts.iter().collect();
            assert_eq!(unique.len(), texts.len(), "{texts:?}");
        }
        assert_eq!(delivery_outcome_text(Locale::En, Built), "Built");
    }

    /// Each status says something of its own, and explains itself exactly when pushes are not
    /// building; a manual build's event reads as such, a host's own event name as it is.
    #[test]
    fn auto_build_statuses_and_changes_are_told_apart() {
        use AutoBuildStatus::*;
        let all = [
            Active,
            ManualSetup,
            HookMissing,
            HookDisabled,
            NoPermission,
            HostUnreachable,
            RepositoryGone,
        ];
        for l in [Locale::En, Locale::Zh] {
            let texts: std::collections::HashSet<_> =
                all.iter().map(|s| autobuild_status_text(l, *s)).collect();
            assert_eq!(texts.len(), all.len(), "{texts:?}");
            assert_eq!(delivery_event_text(l, "Push Hook"), "Push Hook");
            assert_ne!(
                delivery_event_text(l, MANUAL_BUILD_EVENT),
                MANUAL_BUILD_EVENT
            );
            assert!(repair_change_text(l, RepairChange::Renamed, "o/new").contains("o/new"));
        }
        for s in all {
            assert_eq!(autobuild_status_help(s).is_some(), !s.is_healthy(), "{s:?}");
        }
    }

    /// Every host has the texts its kind of binding needs.
    #[test]
    fn hosts_have_their_texts() {
        for p in Provider::ALL {
            let t = host_texts(p);
            assert_eq!(t.address_help.is_some(), t.token_help.is_some(), "{p:?}");
            assert!(
                !(t.oauth_scopes.is_some() && t.token_help.is_some()),
                "{p:?} binds one way"
            );
        }
        assert!(host_texts(Provider::Bitbucket).manual_revoke.is_some());
        assert!(host_texts(Provider::Gitea).token_help.is_some());
    }
}
