//! The one error type that crosses the wire. Every variant is safe to show: no internal detail,
//! no secret, only what happened and (through `i18n::error_text`) what the user can do about it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// No valid console identity (missing, expired or badly signed).
    #[error("not signed in")]
    Unauthenticated,
    /// A state-changing request that did not come from our own page.
    #[error("cross-site request refused")]
    CrossSite,
    #[error("invalid input: {0:?}")]
    Invalid(InputError),
    #[error("code host check failed: {0:?}")]
    Host(HostError),
    #[error("nothing is bound for this code source")]
    NotBound,
    /// The checked account waited too long for Confirm (or was already used).
    #[error("the pending binding expired")]
    PendingExpired,
    #[error("the default binding cannot be changed")]
    DefaultBinding,
    #[error("this code source is not configured by the operator")]
    NotConfigured,
    /// An OAuth callback whose `state` is missing, unknown, expired, already used, or belongs
    /// to another browser, tenant or code host.
    #[error("the authorization does not belong to this session")]
    OAuthState,
    /// The code host's window was closed before the authorization finished (browser only).
    #[error("the authorization window was closed")]
    AuthorizationWindowClosed,
    /// The browser refused to open the code host's window and the page cannot go there itself
    /// (the widget inside a host page; browser only).
    #[error("the authorization window was blocked")]
    PopupBlocked,
    /// The binding's token no longer works; the row offers Re-authorize.
    #[error("the binding needs re-authorization")]
    NeedsReauthorization,
    /// The store (database) cannot be reached right now; nothing was changed, retry later.
    #[error("storage is unavailable")]
    StorageUnavailable,
    /// Something failed on our side; the request id finds the cause in the server log.
    #[error("internal error (request {request_id})")]
    Internal { request_id: String },
    /// The request did not get a usable answer from our server (network, decoding).
    #[error("request failed: {0}")]
    Transport(String),
}

/// Inputs that fail validation before anything is sent anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputError {
    AddressMalformed,
    AddressScheme,
    TokenEmpty,
    TokenMalformed,
    CaInvalid,
    TooLarge,
    UnknownProvider,
    UnknownLocale,
}

/// What a code host (or the way to it) answered when we checked a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostError {
    /// The address points at a forbidden network (cloud metadata, loopback).
    AddressForbidden,
    DnsFailed,
    ConnectionRefused,
    Unreachable,
    Timeout,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// The host answered, but not like a GitLab API.
    NotGitLab,
    /// The host redirected elsewhere; we do not follow redirects with a token.
    Redirected {
        location: Option<String>,
    },
    TokenInvalid,
    TokenExpired,
    TokenRevoked,
    /// The token cannot read repositories (or the account). `scopes` is what it has.
    InsufficientScope {
        scopes: Vec<String>,
    },
    RateLimited {
        retry_after_secs: Option<u64>,
    },
    /// Any other unexpected status from the host.
    Upstream {
        status: u16,
    },
    /// The user declined on the code host's authorize page.
    OAuthDenied,
    /// The code host refused to exchange the authorization code (`bad_verification_code`,
    /// `incorrect_client_credentials`, `redirect_uri_mismatch`, `invalid_grant`, …).
    OAuthExchange {
        error: String,
    },
    /// The code host gave a token but the account could not be read with it.
    UserLookupFailed,
}

impl ApiError {
    /// The HTTP status a server function answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            ApiError::Unauthenticated => 401,
            ApiError::CrossSite => 403,
            ApiError::Invalid(InputError::TooLarge) => 413,
            ApiError::Invalid(_) => 422,
            ApiError::Host(_) => 502,
            ApiError::NotBound => 404,
            ApiError::PendingExpired => 410,
            ApiError::DefaultBinding => 409,
            ApiError::NotConfigured => 409,
            ApiError::OAuthState => 400,
            ApiError::NeedsReauthorization => 409,
            ApiError::AuthorizationWindowClosed | ApiError::PopupBlocked => 400,
            ApiError::StorageUnavailable => 503,
            ApiError::Internal { .. } | ApiError::Transport(_) => 500,
        }
    }
}

impl From<HostError> for ApiError {
    fn from(e: HostError) -> Self {
        ApiError::Host(e)
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        ApiError::Invalid(e)
    }
}

impl leptos::server_fn::error::FromServerFnError for ApiError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        ApiError::Transport(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_as_json() {
        let errs = [
            ApiError::Host(HostError::InsufficientScope {
                scopes: vec!["read_registry".into()],
            }),
            ApiError::Invalid(InputError::AddressMalformed),
            ApiError::Internal {
                request_id: "abc".into(),
            },
        ];
        for e in errs {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), e);
        }
    }
}
