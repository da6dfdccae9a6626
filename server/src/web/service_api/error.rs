//! The build service API's one error type. Every refusal is `{"error": code, "message": …}`
//! (plus a field of its own for a few codes) with the status that says what the caller can do:
//! 401/403 for the token, 400/422 for the request, 404/409 for the binding or the registration,
//! 502 for the code host, 503 with `Retry-After` when trying again helps. The codes are one
//! enum, [`ErrorCode`]; the OpenAPI document lists them from it, so a new code cannot be
//! answered without being documented. Internals stay in the log (the request's span carries
//! its id, which the answer's `X-Request-Id` repeats).

use crate::autobuild::AutoBuildError;
use crate::credentials::CredentialError;
use crate::hosts::hooks::HookError;
use crate::repositories::RepoError;
use app::api::{HostError, Provider, TenantId};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::borrow::Cow;

/// Every error code the API answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    InvalidTenant,
    UnknownProvider,
    InvalidParameter,
    InvalidBody,
    InvalidRef,
    InvalidFilters,
    NotBound,
    ReauthorizationRequired,
    RefreshUnavailable,
    StorageUnavailable,
    Busy,
    CodeHostError,
    AutoBuildUnsupported,
    AutoBuildOff,
    AutoBuildBusy,
    NotOrphaned,
    RefNotFound,
    MissingScope,
    NotRepositoryAdmin,
    RepositoryNotFound,
    HookLimitReached,
    Internal,
}

impl ErrorCode {
    /// All of them, in the order the OpenAPI document lists them (a test checks it is all).
    pub const ALL: [ErrorCode; 24] = [
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::InvalidTenant,
        ErrorCode::UnknownProvider,
        ErrorCode::InvalidParameter,
        ErrorCode::InvalidBody,
        ErrorCode::InvalidRef,
        ErrorCode::InvalidFilters,
        ErrorCode::NotBound,
        ErrorCode::ReauthorizationRequired,
        ErrorCode::RefreshUnavailable,
        ErrorCode::StorageUnavailable,
        ErrorCode::Busy,
        ErrorCode::CodeHostError,
        ErrorCode::AutoBuildUnsupported,
        ErrorCode::AutoBuildOff,
        ErrorCode::AutoBuildBusy,
        ErrorCode::NotOrphaned,
        ErrorCode::RefNotFound,
        ErrorCode::MissingScope,
        ErrorCode::NotRepositoryAdmin,
        ErrorCode::RepositoryNotFound,
        ErrorCode::HookLimitReached,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::InvalidTenant => "invalid_tenant",
            ErrorCode::UnknownProvider => "unknown_provider",
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::InvalidRef => "invalid_ref",
            ErrorCode::InvalidFilters => "invalid_filters",
            ErrorCode::NotBound => "not_bound",
            ErrorCode::ReauthorizationRequired => "reauthorization_required",
            ErrorCode::RefreshUnavailable => "refresh_unavailable",
            ErrorCode::StorageUnavailable => "storage_unavailable",
            ErrorCode::Busy => "busy",
            ErrorCode::CodeHostError => "code_host_error",
            ErrorCode::AutoBuildUnsupported => "auto_build_unsupported",
            ErrorCode::AutoBuildOff => "auto_build_off",
            ErrorCode::AutoBuildBusy => "auto_build_busy",
            ErrorCode::NotOrphaned => "not_orphaned",
            ErrorCode::RefNotFound => "ref_not_found",
            ErrorCode::MissingScope => "missing_scope",
            ErrorCode::NotRepositoryAdmin => "not_repository_admin",
            ErrorCode::RepositoryNotFound => "repository_not_found",
            ErrorCode::HookLimitReached => "hook_limit_reached",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::MissingScope | ErrorCode::NotRepositoryAdmin => {
                StatusCode::FORBIDDEN
            }
            ErrorCode::InvalidTenant | ErrorCode::InvalidParameter | ErrorCode::InvalidBody => {
                StatusCode::BAD_REQUEST
            }
            ErrorCode::InvalidRef | ErrorCode::InvalidFilters => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::UnknownProvider
            | ErrorCode::NotBound
            | ErrorCode::AutoBuildOff
            | ErrorCode::NotOrphaned
            | ErrorCode::RefNotFound
            | ErrorCode::RepositoryNotFound => StatusCode::NOT_FOUND,
            ErrorCode::ReauthorizationRequired
            | ErrorCode::AutoBuildUnsupported
            | ErrorCode::AutoBuildBusy
            | ErrorCode::HookLimitReached => StatusCode::CONFLICT,
            // The tenant's outbound calls are all in use (`outbound::limits`): retry soon.
            ErrorCode::Busy => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::CodeHostError => StatusCode::BAD_GATEWAY,
            ErrorCode::RefreshUnavailable | ErrorCode::StorageUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds to wait before trying again, where trying again helps.
    fn retry_after(self) -> Option<&'static str> {
        match self {
            ErrorCode::RefreshUnavailable => Some("30"),
            ErrorCode::StorageUnavailable => Some("5"),
            _ => None,
        }
    }
}

/// A refusal: a code, a message for a person, and for a few codes one field more
/// (`reason`, `needed_scopes`, `host_error`).
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    message: Cow<'static, str>,
    extra: Option<(&'static str, Value)>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            code,
            message: message.into(),
            extra: None,
        }
    }

    fn with(mut self, key: &'static str, value: Value) -> Self {
        self.extra = Some((key, value));
        self
    }

    pub fn invalid_parameter(message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::new(ErrorCode::InvalidParameter, message)
    }

    fn internal() -> Self {
        ApiError::new(
            ErrorCode::Internal,
            "Internal error; the X-Request-Id of this answer finds it in our log.",
        )
    }

    /// The tenant id of a path is not one.
    fn invalid_tenant() -> Self {
        ApiError::new(ErrorCode::InvalidTenant, "The tenant id is not valid.")
    }

    /// The code source of a path is none of `accepted`.
    pub fn unknown_provider(accepted: impl Fn(Provider) -> bool) -> Self {
        let ids: Vec<&str> = Provider::ALL
            .into_iter()
            .filter(|p| accepted(*p))
            .map(Provider::as_str)
            .collect();
        ApiError::new(
            ErrorCode::UnknownProvider,
            format!("Unknown code source: use one of {}.", ids.join(", ")),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.code.as_str(), "message": self.message});
        if let Some((key, value)) = self.extra {
            body[key] = value;
        }
        let mut resp = (self.code.status(), Json(body)).into_response();
        let headers = resp.headers_mut();
        if self.code == ErrorCode::Unauthenticated {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"codesource\""),
            );
        }
        if let Some(secs) = self.code.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static(secs));
        }
        resp
    }
}

impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::NotBound => ApiError::new(
                ErrorCode::NotBound,
                "The tenant has not bound this code source.",
            ),
            CredentialError::NeedsReauthorization(reason) => ApiError::new(
                ErrorCode::ReauthorizationRequired,
                "The binding must be re-authorized by the tenant on the code source page.",
            )
            .with("reason", json!(reason)),
            CredentialError::RefreshUnavailable => ApiError::new(
                ErrorCode::RefreshUnavailable,
                "The code host could not refresh the token; try again shortly.",
            ),
            CredentialError::StorageUnavailable(e) => {
                tracing::warn!(error = %crate::util::chain(&e), "build service API: storage unavailable");
                ApiError::new(
                    ErrorCode::StorageUnavailable,
                    "Storage is unavailable right now. Try again shortly.",
                )
            }
            CredentialError::Internal(e) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    "build service API: internal error"
                );
                ApiError::internal()
            }
        }
    }
}

impl From<HostError> for ApiError {
    fn from(h: HostError) -> Self {
        match h {
            HostError::Busy => ApiError::new(
                ErrorCode::Busy,
                "Too many calls to code hosts are running for this tenant; retry in a moment.",
            ),
            h => {
                tracing::info!(outcome = ?h, "build service API: the code host failed");
                ApiError::new(
                    ErrorCode::CodeHostError,
                    "The code host did not answer as expected.",
                )
                .with("host_error", json!(h))
            }
        }
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Credential(e) => e.into(),
            RepoError::Host(h) => h.into(),
            RepoError::Unsupported => ApiError::new(
                ErrorCode::UnknownProvider,
                "This code source lists no repositories.",
            ),
            RepoError::Invalid(_) => {
                ApiError::invalid_parameter("The repository id is not one a listing handed out.")
            }
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        CredentialError::from(e).into()
    }
}

impl From<AutoBuildError> for ApiError {
    fn from(e: AutoBuildError) -> Self {
        use AutoBuildError as E;
        match e {
            E::Unsupported => ApiError::new(
                ErrorCode::AutoBuildUnsupported,
                "This code source has no webhook API here: auto-build is not available for it.",
            ),
            E::InvalidFilters(why) => ApiError::new(
                ErrorCode::InvalidFilters,
                format!("The branch and tag filters are not valid: {why}."),
            ),
            E::InvalidRepository => {
                ApiError::invalid_parameter("The repository id is not one a listing handed out.")
            }
            E::NotEnabled => ApiError::new(
                ErrorCode::AutoBuildOff,
                "Auto-build is not turned on for this repository.",
            ),
            E::RefNotFound => ApiError::new(
                ErrorCode::RefNotFound,
                "The repository has no such branch or tag.",
            ),
            E::Busy => ApiError::new(
                ErrorCode::AutoBuildBusy,
                "The registration is being checked or changed right now; retry in a moment.",
            ),
            E::Credential(e) => e.into(),
            E::Hook(HookError::MissingScope { needed }) => ApiError::new(
                ErrorCode::MissingScope,
                "The bound grant cannot manage the repository's webhooks. Re-authorize (OAuth \
                 hosts) or bind a token with the named scopes, or set the hook up by hand \
                 (`\"manual\": true`).",
            )
            .with("needed_scopes", json!(needed)),
            E::Hook(HookError::NotAdmin) => ApiError::new(
                ErrorCode::NotRepositoryAdmin,
                "The bound account may not manage this repository's webhooks (it needs admin or \
                 maintainer rights). Ask an administrator, or set the hook up by hand \
                 (`\"manual\": true`).",
            ),
            E::Hook(HookError::RepoNotFound) => ApiError::new(
                ErrorCode::RepositoryNotFound,
                "The code host does not show this repository to the bound account.",
            ),
            E::Hook(HookError::LimitReached) => ApiError::new(
                ErrorCode::HookLimitReached,
                "The repository has as many webhooks as the code host allows; remove one there \
                 and try again.",
            ),
            E::Hook(HookError::Host(h)) => h.into(),
            E::Store(e) => e.into(),
            E::Internal(e) => CredentialError::Internal(e).into(),
        }
    }
}

/// The `{tenant}` of a path.
pub struct Tenant(pub TenantId);

/// The `{tenant}` and `{provider}` of a path: any known code source (each route then checks
/// what it needs of it: a listing, a hook API).
pub struct Source {
    pub tenant: TenantId,
    pub provider: Provider,
}

fn path_param<'a>(params: &'a RawPathParams, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
}

async fn params<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<RawPathParams, ApiError> {
    RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::invalid_parameter("The path could not be read."))
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = params(parts, state).await?;
        path_param(&params, "tenant")
            .and_then(TenantId::parse)
            .map(Tenant)
            .ok_or_else(ApiError::invalid_tenant)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = params(parts, state).await?;
        let tenant = path_param(&params, "tenant")
            .and_then(TenantId::parse)
            .ok_or_else(ApiError::invalid_tenant)?;
        let provider = path_param(&params, "provider")
            .and_then(Provider::parse)
            .ok_or_else(|| ApiError::unknown_provider(|_| true))?;
        Ok(Source { tenant, provider })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ALL` is every code: a new variant fails to compile here until it is listed.
    #[test]
    fn all_lists_every_code_once() {
        for code in ErrorCode::ALL {
            match code {
                ErrorCode::Unauthenticated
                | ErrorCode::Forbidden
                | ErrorCode::InvalidTenant
                | ErrorCode::UnknownProvider
                | ErrorCode::InvalidParameter
                | ErrorCode::InvalidBody
                | ErrorCode::InvalidRef
                | ErrorCode::InvalidFilters
                | ErrorCode::NotBound
                | ErrorCode::ReauthorizationRequired
                | ErrorCode::RefreshUnavailable
                | ErrorCode::StorageUnavailable
                | ErrorCode::Busy
                | ErrorCode::CodeHostError
                | ErrorCode::AutoBuildUnsupported
                | ErrorCode::AutoBuildOff
                | ErrorCode::AutoBuildBusy
                | ErrorCode::NotOrphaned
                | ErrorCode::RefNotFound
                | ErrorCode::MissingScope
                | ErrorCode::NotRepositoryAdmin
                | ErrorCode::RepositoryNotFound
                | ErrorCode::HookLimitReached
                | ErrorCode::Internal => {}
            }
        }
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len(), "each code once");
    }

    /// The API document's table of codes (docs/api.md, "Errors") names each with its status.
    #[test]
    fn the_docs_list_every_code_with_its_status() {
        let docs = include_str!("../../../../docs/api.md");
        for code in ErrorCode::ALL {
            let row = format!("| {} | `{}` |", code.status().as_u16(), code.as_str());
            assert!(docs.contains(&row), "docs/api.md has no row {row}");
        }
    }

    #[test]
    fn client_mistakes_are_4xx_and_only_internal_is_500() {
        for code in ErrorCode::ALL {
            let s = code.status();
            assert!(s.is_client_error() || s.is_server_error(), "{code:?}");
            assert_eq!(
                s == StatusCode::INTERNAL_SERVER_ERROR,
                code == ErrorCode::Internal
            );
        }
    }

    #[tokio::test]
    async fn answers_carry_code_message_and_their_headers() {
        let resp = ApiError::new(ErrorCode::Unauthenticated, "no").into_response();
        assert_eq!(resp.status(), 401);
        assert!(resp.headers().contains_key(header::WWW_AUTHENTICATE));
        let resp: Response = ApiError::from(CredentialError::RefreshUnavailable).into_response();
        assert_eq!(resp.headers()[header::RETRY_AFTER], "30");
        let resp = ApiError::from(AutoBuildError::Hook(HookError::MissingScope {
            needed: vec!["admin:repo_hook".into()],
        }))
        .into_response();
        assert_eq!(resp.status(), 403);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"], "missing_scope");
        assert_eq!(v["needed_scopes"], json!(["admin:repo_hook"]));
    }
}
