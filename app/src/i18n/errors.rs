//! What went wrong and what the user can do about it: the two sentences shown for each
//! [`ApiError`], in the current locale.

use super::{fill, Locale, Msg};
use crate::api::{ApiError, HookRefusal, HostError, InputError};

/// What went wrong and what to do, for an error shown to the user. `host` names the code host
/// the request went to (network failures say which one).
pub fn error_text(locale: Locale, err: &ApiError, host: &str) -> (String, String) {
    use Msg::*;
    // Some texts name the host twice.
    let pair = |a: Msg, b: Msg| {
        let names = [host, host];
        (fill(a.text(locale), &names), fill(b.text(locale), &names))
    };
    match err {
        ApiError::Unauthenticated => pair(ErrUnauthenticated, ErrUnauthenticatedHint),
        ApiError::CrossSite => pair(ErrCrossSite, ErrCrossSiteHint),
        ApiError::Invalid(e) => match e {
            InputError::AddressMalformed => pair(ErrAddressMalformed, ErrAddressMalformedHint),
            InputError::AddressScheme => pair(ErrAddressScheme, ErrAddressSchemeHint),
            InputError::TokenEmpty => pair(ErrTokenEmpty, ErrTokenEmptyHint),
            InputError::TokenMalformed => pair(ErrTokenMalformed, ErrTokenMalformedHint),
            InputError::CaInvalid => pair(ErrCaInvalid, ErrCaInvalidHint),
            InputError::TooLarge => pair(ErrTooLarge, ErrTooLargeHint),
            InputError::UnknownProvider => pair(ErrUnknownProvider, ErrNotBoundHint),
            InputError::UnknownLocale => pair(ErrUnknownLocale, ErrNotBoundHint),
            InputError::RepoIdMalformed => pair(ErrRepoIdMalformed, ErrOutdatedPageHint),
            InputError::MalformedBody => pair(ErrMalformedRequest, ErrOutdatedPageHint),
            InputError::InvalidArguments => pair(ErrInvalidArguments, ErrOutdatedPageHint),
            InputError::UnsupportedContentType => {
                pair(ErrUnsupportedContentType, ErrOutdatedPageHint)
            }
        },
        ApiError::Host(h) => match h {
            HostError::AddressForbidden => pair(ErrAddressForbidden, ErrAddressForbiddenHint),
            HostError::DnsFailed => pair(ErrDns, ErrDnsHint),
            HostError::ConnectionRefused => pair(ErrRefused, ErrRefusedHint),
            HostError::Unreachable => pair(ErrUnreachable, ErrUnreachableHint),
            HostError::Timeout => pair(ErrTimeout, ErrTimeoutHint),
            HostError::Tls => pair(ErrTls, ErrTlsHint),
            HostError::UnexpectedAnswer => pair(ErrUnexpectedAnswer, ErrUnexpectedAnswerHint),
            HostError::Redirected { .. } => pair(ErrRedirected, ErrRedirectedHint),
            HostError::TokenInvalid => pair(ErrTokenInvalid, ErrTokenInvalidHint),
            HostError::TokenExpired => pair(ErrTokenExpired, ErrTokenExpiredHint),
            HostError::TokenRevoked => pair(ErrTokenRevoked, ErrTokenRevokedHint),
            HostError::InsufficientScope { scopes } => {
                let mut hint = ErrScopeHint.text(locale).to_string();
                if !scopes.is_empty() {
                    hint.push(' ');
                    hint.push_str(&fill(ErrScopeHas.text(locale), &[&scopes.join(", ")]));
                }
                (ErrScope.text(locale).to_string(), hint)
            }
            HostError::MissingScopes { needed } => (
                ErrScope.text(locale).to_string(),
                fill(ErrScopeNeeded.text(locale), &[&needed.join(", ")]),
            ),
            HostError::RateLimited { retry_after_secs } => {
                let hint = match retry_after_secs {
                    Some(s) => fill(ErrRetryAfter.text(locale), &[&s.to_string()]),
                    None => ErrRateLimitedHint.text(locale).to_string(),
                };
                (fill(ErrRateLimited.text(locale), &[host]), hint)
            }
            HostError::OAuthDenied => pair(ErrOAuthDenied, ErrOAuthDeniedHint),
            HostError::OAuthExchange { error } => (
                fill(ErrOAuthExchange.text(locale), &[error]),
                ErrOAuthExchangeHint.text(locale).to_string(),
            ),
            HostError::UserLookupFailed => pair(ErrUserLookup, ErrUserLookupHint),
            HostError::AnswerTooLarge => pair(ErrAnswerTooLarge, ErrAnswerTooLargeHint),
            HostError::Busy => pair(ErrBusy, ErrRateLimitedHint),
            HostError::RefreshUnavailable => pair(ErrRefreshUnavailable, ErrRateLimitedHint),
            HostError::Upstream { status } => (
                fill(ErrUpstream.text(locale), &[host, &status.to_string()]),
                fill(ErrUpstreamHint.text(locale), &[host]),
            ),
        },
        ApiError::NotBound => pair(ErrNotBound, ErrNotBoundHint),
        ApiError::Unsupported => pair(ErrUnsupported, ErrOutdatedPageHint),
        ApiError::PendingExpired => pair(ErrPendingExpired, ErrPendingExpiredHint),
        ApiError::DefaultBinding => pair(ErrDefaultBinding, ErrNotBoundHint),
        ApiError::AutoBuild(r) => match r {
            HookRefusal::MissingScope { needed } => (
                fill(ErrHookScope.text(locale), &[host, &needed.join(", ")]),
                ErrHookScopeHint.text(locale).to_string(),
            ),
            HookRefusal::NotAdmin => pair(ErrHookNotAdmin, ErrHookNotAdminHint),
            HookRefusal::RepositoryNotFound => pair(ErrHookRepoNotFound, ErrOutdatedPageHint),
            HookRefusal::HookLimitReached => pair(ErrHookLimit, ErrHookLimitHint),
            HookRefusal::InvalidFilters => pair(ErrHookFilters, ErrHookFiltersHint),
            HookRefusal::NotEnabled => pair(ErrHookOff, ErrOutdatedPageHint),
            HookRefusal::RefNotFound => pair(ErrHookRefNotFound, ErrOutdatedPageHint),
            HookRefusal::Busy => pair(ErrHookBusy, ErrHookBusyHint),
        },
        ApiError::NotConfigured => pair(ErrNotConfigured, NotConfiguredHint),
        ApiError::OAuthState => pair(ErrOAuthState, ErrOAuthStateHint),
        ApiError::NeedsReauthorization => pair(StatusNeedsReauth, ErrNeedsReauthHint),
        ApiError::AuthorizationWindowClosed => pair(ErrWindowClosed, ErrWindowClosedHint),
        ApiError::PopupBlocked => pair(ErrPopupBlocked, ErrPopupBlockedHint),
        ApiError::Internal { request_id } => (
            ErrInternal.text(locale).to_string(),
            fill(ErrInternalHint.text(locale), &[request_id]),
        ),
        ApiError::Transport(_) => pair(ErrTransport, ErrTransportHint),
        ApiError::PartNotLoaded => pair(ErrTransport, ErrOutdatedPageHint),
        ApiError::StorageUnavailable => pair(ErrStorageUnavailable, ErrStorageUnavailableHint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scopes_are_named_in_both_languages() {
        let e = ApiError::Host(HostError::MissingScopes {
            needed: vec!["read:repository".into()],
        });
        for locale in [Locale::En, Locale::Zh] {
            let (_, hint) = error_text(locale, &e, "Gitea");
            assert!(hint.contains("read:repository"), "{locale:?}: {hint}");
        }
    }

    #[test]
    fn missing_scopes_say_how_to_fix_an_oauth_grant_too() {
        // The same refusal comes from an OAuth callback (Bitbucket consumer without
        // `repository`): the hint must cover authorizing again and the consumer's permissions.
        let e = ApiError::Host(HostError::MissingScopes {
            needed: vec!["repository".into()],
        });
        let (_, en) = error_text(Locale::En, &e, "Bitbucket");
        assert!(
            en.contains("authorize again") && en.contains("OAuth consumer"),
            "{en}"
        );
        let (_, zh) = error_text(Locale::Zh, &e, "Bitbucket");
        assert!(
            zh.contains("重新授权") && zh.contains("OAuth consumer"),
            "{zh}"
        );
    }

    #[test]
    fn a_part_that_did_not_load_suggests_a_reload() {
        // The same words whichever part it was (a dialog's toast, the activity log's box).
        assert_eq!(
            error_text(Locale::En, &ApiError::PartNotLoaded, ""),
            (
                "The console server could not be reached.".to_string(),
                "Reload the page (it may be out of date) and try again.".to_string()
            )
        );
    }

    #[test]
    fn network_errors_name_the_code_host() {
        let timeout = ApiError::Host(HostError::Timeout);
        assert_eq!(
            error_text(Locale::En, &timeout, "GitHub").0,
            "GitHub did not answer in time."
        );
        assert_eq!(
            error_text(Locale::Zh, &timeout, "Gitee").0,
            "Gitee 响应超时。"
        );
        let upstream = ApiError::Host(HostError::Upstream { status: 503 });
        let (title, hint) = error_text(Locale::En, &upstream, "GitLab");
        assert_eq!(
            title,
            "GitLab answered with an unexpected error (HTTP 503)."
        );
        assert!(hint.contains("check the GitLab server"), "{hint}");
        let limited = ApiError::Host(HostError::RateLimited {
            retry_after_secs: Some(30),
        });
        assert_eq!(
            error_text(Locale::En, &limited, "GitHub"),
            (
                "GitHub is limiting requests right now.".to_string(),
                "Try again in 30 seconds.".to_string()
            )
        );
    }

    #[test]
    fn resource_limits_have_their_own_messages() {
        let large = ApiError::Host(HostError::AnswerTooLarge);
        assert_eq!(
            error_text(Locale::En, &large, "GitLab").0,
            "The code host's answer was too large."
        );
        assert_eq!(
            error_text(Locale::Zh, &large, "GitLab").0,
            "代码托管平台的响应过大。"
        );
        let busy = ApiError::Host(HostError::Busy);
        assert_eq!(busy.status_code(), 429);
        assert!(!error_text(Locale::Zh, &busy, "GitLab").0.is_empty());
    }
}
