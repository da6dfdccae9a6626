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
    /// The code source does not offer this (DevCloud has no repository listing here; an
    /// OAuth host has no token check).
    #[error("this code source does not offer that")]
    Unsupported,
    /// The checked account waited too long for Confirm (or was already used).
    #[error("the pending binding expired")]
    PendingExpired,
    #[error("the default binding cannot be changed")]
    DefaultBinding,
    /// Auto-build could not be turned on or off, and why.
    #[error("auto-build refused: {0:?}")]
    AutoBuild(super::HookRefusal),
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
    /// The store (database) cannot be reached right now; retry later. Usually nothing was
    /// written, but a write whose confirmation was lost (a deadline that fired after the
    /// commit) may have been: the user is told to look before retrying.
    #[error("storage is unavailable")]
    StorageUnavailable,
    /// Something failed on our side; the request id finds the cause in the server log.
    #[error("internal error (request {request_id})")]
    Internal { request_id: String },
    /// The request did not get a usable answer from our server (network, decoding).
    #[error("request failed: {0}")]
    Transport(String),
    /// A part of the page's code (a dialog, the activity table) could not be fetched: the
    /// network, or a page older than the server's files. Only the browser raises it.
    #[error("a part of the page could not be loaded")]
    PartNotLoaded,
}

/// A part of the page bundle (a dialog, the activity log) whose wasm file could not be fetched.
#[cfg(feature = "hydrate")]
impl From<leptos::wasm_split::SplitLoaderError> for ApiError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ApiError::PartNotLoaded
    }
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
    /// A repository id that no code host hands out (see `Repository::id`).
    RepoIdMalformed,
    /// The request body is not UTF-8 JSON (status 400). Our page never sends one: a stale or
    /// foreign client did.
    MalformedBody,
    /// The body is JSON, but its fields do not fit the server function: one is missing or has
    /// the wrong type, like `page: -1` (status 422).
    InvalidArguments,
    /// The body is not `application/json` (status 415). Refused before the server function
    /// runs: anything else is what a form on another site can send.
    UnsupportedContentType,
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
    /// The address answered, but not like the code host's API (a web server, another product,
    /// a path below the root, an answer that does not parse).
    UnexpectedAnswer,
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
    /// The token lacks scopes the host named (Gitea's "required scope(s): [read:repository]"),
    /// or an OAuth grant lacks the scopes that read repositories (Bitbucket `repository`,
    /// GitHub `repo`, Gitee `projects`): the fix is a token or a grant with `needed`, which the
    /// dialog says.
    MissingScopes {
        needed: Vec<String>,
    },
    RateLimited {
        retry_after_secs: Option<u64>,
    },
    /// The code host answered with an HTTP status that fits none of the other cases.
    Upstream {
        status: u16,
    },
    /// The access token expired and the code host could not refresh it just now (a 5xx, a
    /// timeout: worth retrying; the refresh token itself was not refused).
    RefreshUnavailable,
    /// The user declined on the code host's authorize page.
    OAuthDenied,
    /// The code host refused to exchange the authorization code (`bad_verification_code`,
    /// `incorrect_client_credentials`, `redirect_uri_mismatch`, `invalid_grant`, …).
    OAuthExchange {
        error: String,
    },
    /// The code host gave a token but the account could not be read with it.
    UserLookupFailed,
    /// The code host's answer was larger than we read (a code host's API never sends that
    /// much for what we ask); nothing more of it was read.
    AnswerTooLarge,
    /// This tenant already has as many calls to code hosts running as it may; none was free
    /// within the provider timeout. Ours, not the code host's: answered with 429.
    Busy,
}

impl ApiError {
    /// The HTTP status a server function answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            ApiError::Unauthenticated => 401,
            ApiError::CrossSite => 403,
            ApiError::Invalid(InputError::TooLarge) => 413,
            ApiError::Invalid(InputError::MalformedBody) => 400,
            ApiError::Invalid(InputError::UnsupportedContentType) => 415,
            ApiError::Invalid(_) => 422,
            ApiError::Host(h) => h.status_code(),
            ApiError::NotBound => 404,
            ApiError::Unsupported => 409,
            ApiError::PendingExpired => 410,
            ApiError::DefaultBinding => 409,
            ApiError::AutoBuild(r) => match r {
                super::HookRefusal::MissingScope { .. } | super::HookRefusal::NotAdmin => 403,
                super::HookRefusal::RepositoryNotFound
                | super::HookRefusal::NotEnabled
                | super::HookRefusal::RefNotFound => 404,
                super::HookRefusal::HookLimitReached | super::HookRefusal::Busy => 409,
                super::HookRefusal::InvalidFilters => 422,
            },
            ApiError::NotConfigured => 409,
            ApiError::OAuthState => 400,
            ApiError::NeedsReauthorization => 409,
            ApiError::AuthorizationWindowClosed | ApiError::PopupBlocked => 400,
            ApiError::StorageUnavailable => 503,
            ApiError::Internal { .. } | ApiError::Transport(_) | ApiError::PartNotLoaded => 500,
        }
    }
}

impl HostError {
    /// The status a server function answers with: 4xx when what the user gave was refused
    /// (our address policy, or the code host refusing the token, or the user declining), 5xx
    /// when the code host (or the way to it) failed.
    pub fn status_code(&self) -> u16 {
        match self {
            HostError::AddressForbidden
            | HostError::TokenInvalid
            | HostError::TokenExpired
            | HostError::TokenRevoked
            | HostError::InsufficientScope { .. }
            | HostError::MissingScopes { .. }
            | HostError::OAuthDenied => 422,
            // Ours: the tenant's calls to code hosts are all in use.
            HostError::Busy => 429,
            HostError::Timeout => 504,
            HostError::RefreshUnavailable => 503,
            HostError::DnsFailed
            | HostError::ConnectionRefused
            | HostError::Unreachable
            | HostError::Tls
            | HostError::UnexpectedAnswer
            | HostError::Redirected { .. }
            | HostError::RateLimited { .. }
            | HostError::Upstream { .. }
            | HostError::OAuthExchange { .. }
            | HostError::UserLookupFailed
            | HostError::AnswerTooLarge => 502,
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

    /// On the server, server_fn's own errors come from decoding the request (the arguments do
    /// not fit: a client error) or from its machinery (ours): neither answer carries server_fn's
    /// text, which names internals. In the browser they are what reaching the server did.
    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        {
            server_side(value)
        }
        #[cfg(not(feature = "ssr"))]
        {
            ApiError::Transport(value.to_string())
        }
    }
}

/// A server_fn error raised while serving a request, as the caller may see it.
#[cfg(feature = "ssr")]
fn server_side(value: leptos::server_fn::error::ServerFnErrorErr) -> ApiError {
    use leptos::server_fn::error::ServerFnErrorErr as E;
    match value {
        // Decoding the arguments. The server's request guard has already refused bodies that
        // are not JSON, so what is left is JSON of the wrong shape.
        // A typed id that was refused says which error it is (`IdRefused`).
        E::Deserialization(message) => ApiError::Invalid(
            super::IdRefused::in_message(&message).unwrap_or(InputError::InvalidArguments),
        ),
        E::Args(_) | E::MissingArg(_) => ApiError::Invalid(InputError::InvalidArguments),
        other => {
            let request_id = leptos::prelude::use_context::<http::request::Parts>()
                .and_then(|p| {
                    p.extensions
                        .get::<super::service::Caller>()
                        .map(|c| c.request_id.clone())
                })
                .unwrap_or_default();
            leptos::logging::error!("server function failed: {other}");
            ApiError::Internal { request_id }
        }
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

    #[test]
    fn malformed_requests_are_client_errors() {
        let status = |e: InputError| ApiError::Invalid(e).status_code();
        assert_eq!(status(InputError::MalformedBody), 400);
        assert_eq!(status(InputError::UnsupportedContentType), 415);
        assert_eq!(status(InputError::InvalidArguments), 422);
        assert_eq!(status(InputError::TooLarge), 413);
    }

    /// What server_fn reports about a request it could not decode reaches the caller as a
    /// client error, and none of its text does.
    #[cfg(feature = "ssr")]
    #[test]
    fn server_fn_errors_do_not_leak_their_text() {
        use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr as E};
        for e in [
            E::Deserialization("missing field `page` at line 1 column 2".into()),
            E::Args("invalid type".into()),
            E::MissingArg("page".into()),
        ] {
            assert_eq!(
                ApiError::from_server_fn_error(e),
                ApiError::Invalid(InputError::InvalidArguments)
            );
        }
        for e in [
            E::ServerError("boom".into()),
            E::Serialization("key must be a string".into()),
            E::Response("builder".into()),
        ] {
            let out = ApiError::from_server_fn_error(e);
            assert!(matches!(out, ApiError::Internal { .. }), "{out:?}");
            assert_eq!(out.status_code(), 500);
        }
    }
}
