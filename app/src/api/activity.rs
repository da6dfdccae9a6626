//! Domain codes that cross the wire and the store as short strings, typed on both sides:
//! why a binding needs re-authorization, and what an activity-log line records. Their text
//! lives in `i18n`; the string forms are the stored ones (older records parse unchanged).

use super::HostError;
use serde::{Deserialize, Serialize};

/// Why a binding needs re-authorization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum ReauthReason {
    TokenInvalid,
    TokenExpired,
    TokenRevoked,
    InsufficientScope,
    /// The access token expired and there is no way to refresh it.
    CannotRefresh,
    /// The code host refused the refresh token, with its OAuth error code.
    RefreshRefused(String),
}

impl ReauthReason {
    /// The stored code: `token_invalid`, …, `refresh_refused:<code>`.
    pub fn code(&self) -> String {
        match self {
            ReauthReason::TokenInvalid => "token_invalid".into(),
            ReauthReason::TokenExpired => "token_expired".into(),
            ReauthReason::TokenRevoked => "token_revoked".into(),
            ReauthReason::InsufficientScope => "insufficient_scope".into(),
            ReauthReason::CannotRefresh => "cannot_refresh".into(),
            ReauthReason::RefreshRefused(c) => format!("refresh_refused:{c}"),
        }
    }

    /// Parses a stored code; `None` when it is not one.
    pub fn parse(code: &str) -> Option<ReauthReason> {
        Some(match code {
            "token_invalid" => ReauthReason::TokenInvalid,
            "token_expired" => ReauthReason::TokenExpired,
            "token_revoked" => ReauthReason::TokenRevoked,
            "insufficient_scope" => ReauthReason::InsufficientScope,
            "cannot_refresh" => ReauthReason::CannotRefresh,
            other => ReauthReason::RefreshRefused(other.strip_prefix("refresh_refused:")?.into()),
        })
    }

    /// What a host's answer about a token means for the binding; `None` when it says nothing
    /// about the token (a rate limit, a timeout, a 5xx).
    pub fn from_host_error(e: &HostError) -> Option<ReauthReason> {
        match e {
            HostError::TokenInvalid => Some(ReauthReason::TokenInvalid),
            HostError::TokenExpired => Some(ReauthReason::TokenExpired),
            HostError::TokenRevoked => Some(ReauthReason::TokenRevoked),
            HostError::InsufficientScope { .. } | HostError::MissingScopes { .. } => {
                Some(ReauthReason::InsufficientScope)
            }
            HostError::AddressForbidden
            | HostError::DnsFailed
            | HostError::ConnectionRefused
            | HostError::Unreachable
            | HostError::Timeout
            | HostError::Tls
            | HostError::UnexpectedAnswer
            | HostError::Redirected { .. }
            | HostError::RateLimited { .. }
            | HostError::Upstream { .. }
            | HostError::OAuthDenied
            | HostError::OAuthExchange { .. }
            | HostError::UserLookupFailed
            | HostError::AnswerTooLarge
            | HostError::RefreshUnavailable
            | HostError::Busy => None,
        }
    }
}

impl From<ReauthReason> for String {
    fn from(r: ReauthReason) -> String {
        r.code()
    }
}

impl From<String> for ReauthReason {
    /// Unknown codes (none were ever written) read as a refusal with that text.
    fn from(s: String) -> ReauthReason {
        ReauthReason::parse(&s).unwrap_or(ReauthReason::RefreshRefused(s))
    }
}

/// What an activity-log line records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityAction {
    Bind,
    Reauthorize,
    Unbind,
    CredentialIssued,
    RefreshFailed,
    /// Auto-build turned on (or its filters changed) for a repository.
    AutoBuildEnabled,
    AutoBuildDisabled,
    /// A repository's hook was checked and repaired on request.
    AutoBuildRepaired,
    /// A build of a ref's latest commit was asked for.
    AutoBuildManualBuild,
    /// A registration's hook secret was rotated.
    AutoBuildSecretRotated,
}

impl ActivityAction {
    pub const ALL: [ActivityAction; 10] = [
        ActivityAction::Bind,
        ActivityAction::Reauthorize,
        ActivityAction::Unbind,
        ActivityAction::CredentialIssued,
        ActivityAction::RefreshFailed,
        ActivityAction::AutoBuildEnabled,
        ActivityAction::AutoBuildDisabled,
        ActivityAction::AutoBuildRepaired,
        ActivityAction::AutoBuildManualBuild,
        ActivityAction::AutoBuildSecretRotated,
    ];
}

/// How an action ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum ActivityOutcome {
    Ok,
    /// The binding now needs re-authorization, for this reason.
    NeedsReauth(ReauthReason),
    /// The code host could not be used (the binding is unchanged); what it answered, when
    /// known (older entries kept only a text).
    Failed(Option<HostError>),
}

impl From<ActivityOutcome> for String {
    fn from(o: ActivityOutcome) -> String {
        match o {
            ActivityOutcome::Ok => "ok".into(),
            ActivityOutcome::NeedsReauth(r) => r.code(),
            ActivityOutcome::Failed(None) => "failed".into(),
            ActivityOutcome::Failed(Some(e)) => {
                format!("failed:{}", serde_json::to_string(&e).unwrap_or_default())
            }
        }
    }
}

impl From<String> for ActivityOutcome {
    fn from(s: String) -> ActivityOutcome {
        if s == "ok" {
            return ActivityOutcome::Ok;
        }
        if let Some(r) = ReauthReason::parse(&s) {
            return ActivityOutcome::NeedsReauth(r);
        }
        let error = s
            .strip_prefix("failed:")
            .and_then(|json| super::codec::from_json(json).ok());
        ActivityOutcome::Failed(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_codes_round_trip() {
        for r in [
            ReauthReason::TokenInvalid,
            ReauthReason::TokenExpired,
            ReauthReason::TokenRevoked,
            ReauthReason::InsufficientScope,
            ReauthReason::CannotRefresh,
            ReauthReason::RefreshRefused("invalid_grant".into()),
        ] {
            assert_eq!(ReauthReason::parse(&r.code()), Some(r.clone()));
            let o = ActivityOutcome::NeedsReauth(r);
            assert_eq!(ActivityOutcome::from(String::from(o.clone())), o);
        }
        let failed = ActivityOutcome::Failed(Some(HostError::Timeout));
        assert_eq!(ActivityOutcome::from(String::from(failed.clone())), failed);
    }

    /// Entries written before outcomes were typed held a Rust `Debug` text of the error.
    #[test]
    fn older_outcome_texts_read_as_failures() {
        assert_eq!(
            ActivityOutcome::from("Some(Upstream { status: 503 })".to_string()),
            ActivityOutcome::Failed(None)
        );
        assert_eq!(ActivityOutcome::from("ok".to_string()), ActivityOutcome::Ok);
        let json: ActivityAction = serde_json::from_str("\"credential_issued\"").unwrap();
        assert_eq!(json, ActivityAction::CredentialIssued);
    }
}
